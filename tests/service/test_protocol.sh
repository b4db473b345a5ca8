#!/bin/sh
# certmapd's wire protocol, frame by frame: varlink conformance (null and
# absent parameters, method looked up first, error parameter shapes, the
# connection kept open after bad parameters) and strict decoding (RFC 8259
# JSON in valid UTF-8, no NUL in any string). Every reply is checked to be
# strict JSON in valid UTF-8 by tests/service/frames.
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"
. "$srcdir/tests/service/svclib.sh"
svc_setup svc

# More rules, so that traces and messages carry certificate text.
write_config "$tmp/certmap.conf" ""
sed -i 's|^rules = (|rules = (\n  { name = "cn"; priority = 20; match = "<SUBJECT>.*"; map = "LOCAL:{subject_dn_component.cn}"; domains = ["local"]; },\n  { name = "mail"; priority = 30; match = "<SAN:rfc822Name>.*"; map = "LOCAL:{subject_rfc822_name.short_name}"; domains = ["local"]; },|' "$tmp/certmap.conf"
require_daemon "daemon starts" "$tmp/certmap.conf"

b64=$(openssl base64 -A < "$certs/alice.der")
mapbody() { # $1: the parameters after "certificate"
	printf '{"method":"org.certmap.Mapper.Map","parameters":{"certificate":"%s"%s}}' "$b64" "$1"
}
map() { mapbody "$1"; printf '\0'; }
info='{"method":"org.varlink.service.GetInfo"}'

# --- null and absent parameters are the empty object
printf '{"method":"org.varlink.service.GetInfo","parameters":null}\0' > "$tmp/req"; frames "parameters null"
expect_out "GetInfo with parameters null answers" '"interfaces":["org.varlink.service","org.certmap.Mapper"]'
expect_out "... and keeps the connection" OPEN
printf '{"method":"org.certmap.Mapper.GetStats","parameters":null}\0' > "$tmp/req"; frames "GetStats null"
expect_out "GetStats with parameters null answers" '"requests":'
printf '%s\0' "$info" > "$tmp/req"; frames "parameters absent"
expect_out "GetInfo without parameters answers" '"vendor":"certmap"'

# --- the method is looked up first; errors name what they are about
printf '{"method":"org.certmap.Mapper.Nope","parameters":null}\0' > "$tmp/req"; frames "unknown method, null"
expect_out "unknown method -> MethodNotFound(method)" '{"error":"org.varlink.service.MethodNotFound","parameters":{"method":"org.certmap.Mapper.Nope"'
expect_out "... connection open" OPEN
printf '{"method":"org.certmap.Mapper.Nope","parameters":5,"frob":1}\0' > "$tmp/req"; frames "unknown method, bad envelope"
expect_out "unknown method wins over a bad envelope" '"error":"org.varlink.service.MethodNotFound"'
printf '{"method":"com.example.Other.Call"}\0' > "$tmp/req"; frames "unknown interface"
expect_out "unknown interface -> InterfaceNotFound(interface)" '{"error":"org.varlink.service.InterfaceNotFound","parameters":{"interface":"com.example.Other"'
expect_out "... connection open" OPEN
printf '{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"com.example.Other"}}\0' > "$tmp/req"; frames "describe unknown"
expect_out "GetInterfaceDescription(unknown) -> InterfaceNotFound(interface)" '"interface":"com.example.Other"'
printf '{"method":"nodot"}\0' > "$tmp/req"; frames "method without interface"
expect_out "a method name without a dot -> InvalidParameter(method)" '{"error":"org.varlink.service.InvalidParameter","parameters":{"parameter":"method"'

# --- bad parameters of a well-formed request: InvalidParameter naming it, connection open
check_param() { # name, parameter named, request
	printf '%s\0%s\0' "$3" "$info" > "$tmp/req"; frames "$1"
	expect_out "$1 -> InvalidParameter($2)" "{\"error\":\"org.varlink.service.InvalidParameter\",\"parameters\":{\"parameter\":\"$2\""
	expect_out "$1: the next call on the connection is answered" '"vendor":"certmap"'
	expect_out "$1: connection open" OPEN
}
check_param "unknown Map parameter" colour "$(mapbody ',"colour":"red"')"
check_param "wrong type" certificate '{"method":"org.certmap.Mapper.Map","parameters":{"certificate":5}}'
check_param "wrong type of user" user "$(mapbody ',"user":["alice"]')"
check_param "parameters not an object" parameters '{"method":"org.varlink.service.GetInfo","parameters":[1]}'
check_param "unknown envelope field" frob '{"method":"org.varlink.service.GetInfo","frob":1}'
check_param "oneway not a boolean" oneway '{"method":"org.varlink.service.GetInfo","oneway":"yes"}'
check_param "upgrade" upgrade '{"method":"org.varlink.service.GetInfo","upgrade":true}'
check_param "GetInfo with a parameter" x '{"method":"org.varlink.service.GetInfo","parameters":{"x":1}}'
check_param "GetStats with a parameter" x '{"method":"org.certmap.Mapper.GetStats","parameters":{"x":null}}'
check_param "describe: wrong type" interface '{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":1}}'
check_param "describe: extra" y '{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"org.certmap.Mapper","y":1}}'
check_param "missing certificate" certificate '{"method":"org.certmap.Mapper.Map","parameters":{"user":"alice"}}'

# --- pipelining: replies in order, all on one connection
{ map ''; printf '%s\0' "$info"; map ',"user":"bob"'; printf '{"method":"org.certmap.Mapper.GetStats"}\0'; } > "$tmp/req"; frames "pipelined"
if [ "$(printf '%s\n' "$out" | sed -n '1s/.*"verdict":"\([a-z]*\)".*/\1/p;2s/.*"vendor":"\(certmap\)".*/\1/p;3s/.*"reason":"\([a-z_]*\)".*/\1/p;4s/.*"\(requests\)".*/\1/p' | tr '\n' ' ')" = "mapped certmap not_candidate requests " ]; then
	ok "four pipelined calls answered in order"
else
	ko "four pipelined calls answered in order"; printf '%s\n' "$out"
fi

# --- many small frames in one read: served one after the other, not by
# recursion (oneway calls write nothing, so nothing makes the loop wait)
i=0; : > "$tmp/req"
while [ $i -lt 15 ]; do
	for k in 0 1 2 3 4 5 6 7 8 9; do
		printf '{"method":"org.varlink.service.GetInfo","oneway":true}\0{"method":"a.B","oneway":true}\0{"method":"org.varlink.service.GetInfo","oneway":true}\0{"method":"org.varlink.service.GetInfo","oneway":true}\0{"method":"org.certmap.Mapper.GetStats","oneway":true}\0'
		printf '{"method":"org.varlink.service.GetInfo","oneway":true}\0{"method":"a.B","oneway":true}\0{"method":"org.varlink.service.GetInfo","oneway":true}\0{"method":"org.varlink.service.GetInfo","oneway":true}\0{"method":"org.certmap.Mapper.GetStats","oneway":true}\0'
	done
	i=$((i + 1))
done >> "$tmp/req"
for k in 1 2 3 4; do cat "$tmp/req"; done > "$tmp/req2"
printf '%s\0' "$info" >> "$tmp/req2"
mv "$tmp/req2" "$tmp/req"
# (a long quiet window: an ASan build on a busy machine takes a while)
FRAMES_QUIET_MS=3000; frames "6000 oneway calls, then one"; FRAMES_QUIET_MS=
expect_out "only the last call answered" '"vendor":"certmap"'
if [ "$(printf '%s\n' "$out" | grep -c '^{')" -eq 1 ]; then ok "no reply to the oneway calls"; else ko "replies to oneway calls"; fi
kill -0 "$pid" 2>/dev/null && ok "certmapd still runs" || ko "certmapd died"

# --- strict JSON: what a lenient parser accepts is a malformed frame (error, then close)
check_malformed() { # name, frame (without its NUL)
	printf '%s\0%s\0' "$2" "$info" > "$tmp/req"; frames "$1"
	expect_out "$1 -> InvalidParameter" '"error":"org.varlink.service.InvalidParameter"'
	expect_no_out "$1: nothing answered" '"vendor"'
	expect_no_out "$1: no description" '"description"'
	expect_out "$1: connection closed" CLOSED
}
check_malformed "comment" '{"method":"org.varlink.service.GetInfo" /* hi */}'
check_malformed "line comment" '{"method":"org.varlink.service.GetInfo"} // hi'
check_malformed "single quotes" "{'method':'org.varlink.service.GetInfo'}"
check_malformed "NUL escape in a value" '{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"org.certmap.Mapper\u0000zz"}}'
check_malformed "NUL escape in the method" '{"method":"org.varlink.service.GetInfo\u0000zz"}'
check_malformed "NUL escape in a key" "$(mapbody ',"user\u0000x":"alice"')"
check_malformed "NUL escape in a key that would read as certificate" '{"method":"org.certmap.Mapper.Map","parameters":{"certificate\u0000zz":"'"$b64"'"}}'
check_malformed "lone high surrogate" "$(mapbody ',"user":"a\ud800"')"
check_malformed "lone low surrogate" "$(mapbody ',"user":"\udc00"')"
check_malformed "NaN" "$(mapbody ',"trace":NaN')"
check_malformed "raw tab in a string" "$(mapbody ',"user":"a	b"')"
check_malformed "trailing comma" '{"method":"org.varlink.service.GetInfo",}'

# --- invalid UTF-8 is refused, never echoed (the frames check fails on raw bytes)
check_bytes() { # name, bytes (printf octal escapes) placed in "user"
	{ printf '{"method":"org.certmap.Mapper.Map","parameters":{"certificate":"%s","user":"x' "$b64"; printf "$2"; printf '"}}\0%s\0' "$info"; } > "$tmp/req"; frames "$1"
	expect_out "$1 -> InvalidParameter" '"error":"org.varlink.service.InvalidParameter"'
	expect_no_out "$1: no verdict" '"verdict"'
	expect_out "$1: connection closed" CLOSED
}
check_bytes "user with 0xFF" '\377\376'
check_bytes "user with a truncated sequence" '\303'
check_bytes "user with an overlong slash" '\300\257'
check_bytes "user with an encoded surrogate" '\355\240\200'
check_bytes "user above U+10FFFF" '\364\220\200\200'
{ printf '{"method":"org.certmap.Mapper.Map","parameters":{"certificate":"%s","user":"J' "$b64"; printf '\303\274rgen\\ud83d\\ude00"}}\0'; } > "$tmp/req"; frames "valid UTF-8 user"
expect_out "valid UTF-8 in user is answered (refused, not an error)" '"reason":"not_candidate"'
expect_out "... and its name comes back intact" 'Jürgen😀'
expect_out "... connection open" OPEN

# --- every Map reply over the suite's certificates, traced, is strict JSON in UTF-8
bad=0; n=0
for pem in "$certs"/*.pem; do
	d=$(openssl x509 -in "$pem" -outform DER 2>/dev/null | openssl base64 -A) || continue
	[ -n "$d" ] || continue
	n=$((n + 1))
	if ! printf '{"method":"org.certmap.Mapper.Map","parameters":{"certificate":"%s","trace":true}}\0' "$d" |
		"$FRAMES" "$sock" > "$tmp/one" 2>&1; then
		bad=$((bad + 1)); echo "$pem:"; head -c 600 "$tmp/one"; echo
	fi
done
if [ "$bad" -eq 0 ] && [ "$n" -gt 20 ]; then ok "$n traced Map replies are strict JSON in UTF-8"; else ko "$bad of $n traced Map replies invalid"; fi

stop_daemon
finish
