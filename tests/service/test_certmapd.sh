#!/bin/sh
# certmapd end to end: the real daemon on a temporary socket, nss_wrapper
# accounts, the suite's certificates; answers compared with certmapctl test.
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"
. "$srcdir/tests/service/svclib.sh"
svc_setup svc
tls_pid=
cleanup_more() { [ -z "$tls_pid" ] || kill "$tls_pid" 2>/dev/null; }
svc_passwd 'alice:x:1000:1000:Alice:/home/alice:/bin/sh' 'bob:x:1001:1001:Bob:/home/bob:/bin/sh' \
	'erin:x:1002:1002::/home/erin:/bin/sh' 'erin2:x:1003:1003::/home/erin2:/bin/sh' \
	'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534::/:/bin/sh'
svc_group 'alice:x:1000:' 'bob:x:1001:' 'erin:x:1002:' 'erin2:x:1003:' 'dev:x:2000:alice' 'nogroup:x:65534:'
write_config "$tmp/certmap.conf" ""
flat() { printf '%s' "$1" | tr -d ' \n\t'; }

require_daemon "daemon starts" "$tmp/certmap.conf"

# --- answers match certmapctl test (verdict, fields, trace, exit code)
for c in alice expired untrusted root multirdn multisan; do
	ref=$(ctl test --json --config "$tmp/certmap.conf" "$certs/$c.pem" 2>&1) && wrc=0 || wrc=$?
	got=$(client map "$sock" "$certs/$c.pem" 2>&1) && grc=0 || grc=$?
	if [ "$(flat "$ref")" = "$(flat "$got")" ] && [ "$wrc" -eq "$grc" ]; then
		ok "Map $c matches certmapctl test (exit $grc)"
	else
		ko "Map $c matches certmapctl test"; echo "test ($wrc): $ref"; echo "service ($grc): $got"
	fi
done
expect_exit "alice mapped" 0 client map "$sock" "$certs/alice.pem"
expect_out "alice user" '"user":"alice"'
expect_out "alice groups" '"groups":["alice","dev"]'
expect_exit "DER certificate" 0 client map "$sock" "$certs/alice.der"
expect_exit "requested user bob refused" 1 client map "$sock" "$certs/alice.pem" bob
expect_out "not_candidate" '"reason":"not_candidate"'
expect_exit "multisan ambiguous" 1 client map "$sock" "$certs/multisan.pem"
expect_out "ambiguous verdict" '"verdict":"ambiguous"'
printf 'not a certificate' > "$tmp/garbage.pem"
expect_exit "garbage certificate is exit 2" 2 client map "$sock" "$tmp/garbage.pem"
expect_out "invalid_certificate" '"reason":"invalid_certificate"'
if "$CERTMAPCTL" query --help >/dev/null 2>&1; then
	ref=$(ctl test --json --config "$tmp/certmap.conf" "$certs/alice.pem")
	expect_exit "certmapctl query maps alice" 0 ctl query --json --socket "$sock" "$certs/alice.pem"
	if [ "$(flat "$ref")" = "$(flat "$out")" ]; then ok "query JSON = test JSON"; else ko "query JSON = test JSON"; echo "$ref"; echo "$out"; fi
	expect_exit "certmapctl query expired" 1 ctl query --json --socket "$sock" "$certs/expired.pem"
	expect_exit "certmapctl query, no service" 3 ctl query --socket "$tmp/nosock" "$certs/alice.pem"
	expect_exit "certmapctl stats" 0 ctl stats --json --socket "$sock"
	expect_out "stats requests" '"requests"'
else
	echo "SKIP: certmapctl query not built in yet"
fi

# --- varlink service interface
printf '{"method":"org.varlink.service.GetInfo"}\0' > "$tmp/req"
expect_exit "GetInfo" 0 client raw "$sock" < "$tmp/req"
expect_out "GetInfo interfaces" '"interfaces":["org.varlink.service","org.certmap.Mapper"]'
printf '{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"org.certmap.Mapper"}}\0' > "$tmp/req"
expect_exit "GetInterfaceDescription" 0 client raw "$sock" < "$tmp/req"
expect_out "IDL names the interface" 'interface org.certmap.Mapper'

# --- bad requests get an error and the service keeps serving
check_error() { # name, expected error, request file
	expect_exit "$1 answered" 0 client raw "$sock" < "$3"
	expect_out "$1 -> $2" "\"error\":\"$2\""
	expect_exit "$1: still serving" 0 client map "$sock" "$certs/alice.pem"
}
head -c 300000 /dev/zero | tr '\0' 'a' > "$tmp/big"; printf '\0' >> "$tmp/big"
check_error "oversized" org.certmap.Mapper.TooLarge "$tmp/big"
printf '{"method":"org.certmap.Mapper.Map","parameters":{"certif' > "$tmp/trunc"
check_error "truncated" org.varlink.service.InvalidParameter "$tmp/trunc"
# Bytes and the end of the stream in one wake-up: a short read must not
# hide the end (with edge-triggered events, no second one would come).
i=0; late=0
while [ $i -lt 50 ]; do
	client raw "$sock" < "$tmp/trunc" >/dev/null 2>&1 || late=$((late + 1))
	i=$((i + 1))
done
if [ $late -eq 0 ]; then ok "50 truncated requests in a row answered at once"; else ko "truncated requests answered: $late of 50 were not"; fi

# A client that never stops sending must not take its event set from the
# others: with one set (--loops 1), another client is answered at once.
stop_daemon
require_daemon "daemon with one event set" "$tmp/certmap.conf" --loops 1
client flood "$sock" 3 > "$tmp/flood.out" 2>&1 &
fpid=$!
sleep 0.5
late=$(late_getinfo "$sock" 10)
if [ $late -eq 0 ]; then ok "beside a flooding client, GetInfo answered within a second, 10 of 10"; else ko "beside a flooding client, $late of 10 GetInfo calls late"; fi
# Its frames keep arriving whole: 3 s of them are no timeout (2 s).
if wait "$fpid"; then ok "the flooding client was read, and never cut off"; else ko "the flooding client was read, and never cut off"; cat "$tmp/flood.out"; fi
stop_daemon
require_daemon "daemon restarts" "$tmp/certmap.conf"
printf 'hello world\0' > "$tmp/nonjson"
check_error "non-JSON" org.varlink.service.InvalidParameter "$tmp/nonjson"
printf '{"method":"org.certmap.Mapper.Unmap","parameters":{}}\0' > "$tmp/wrong"
check_error "wrong method" org.varlink.service.MethodNotFound "$tmp/wrong"
printf '{"method":"com.example.Other.Call"}\0' > "$tmp/iface"
check_error "wrong interface" org.varlink.service.InterfaceNotFound "$tmp/iface"
printf '\001\377\376\000\033[0m\x80\x81{\0' > "$tmp/binary"
check_error "binary garbage" org.varlink.service.InvalidParameter "$tmp/binary"
printf '{"method":"org.certmap.Mapper.Map","parameters":{}} {}\0' > "$tmp/trailing"
check_error "trailing bytes" org.varlink.service.InvalidParameter "$tmp/trailing"
printf '{"method":"org.certmap.Mapper.Map","parameters":{"certificate":"@@@"}}\0' > "$tmp/badb64"
check_error "bad base64" org.varlink.service.InvalidParameter "$tmp/badb64"
b64=$(openssl base64 -A < "$certs/alice.der")
printf '{"method":"org.certmap.Mapper.Map","parameters":{"certificate":"%s-----not base64 {}"}}\0' "$b64" > "$tmp/b64tail"
check_error "base64 with trailing garbage" org.varlink.service.InvalidParameter "$tmp/b64tail"
printf '{"method":"org.certmap.Mapper.Map","parameters":{"user":"alice"}}\0' > "$tmp/nocert"
check_error "missing certificate" org.varlink.service.InvalidParameter "$tmp/nocert"
printf '{"method":"org.certmap.Mapper.GetStats","oneway":true}\0{"method":"org.certmap.Mapper.GetStats"}\0' > "$tmp/oneway"
expect_exit "oneway gets no reply, the next call does" 0 client raw "$sock" < "$tmp/oneway"
expect_out "reply to the second call" '"requests":'

# --- a stalled client does not block others and is dropped after the timeout
client stall "$sock" 6 & stall=$!
sleep 0.3
t0=$(date +%s%N)
expect_exit "served while a client stalls" 0 client map "$sock" "$certs/alice.pem"
t1=$(date +%s%N)
if [ $(( (t1 - t0) / 1000000 )) -lt 1000 ]; then ok "no wait behind the stalled client"; else ko "waited $(( (t1 - t0) / 1000000 )) ms"; fi
if wait "$stall"; then ok "stalled client dropped after the timeout"; else ko "stalled client not dropped"; fi
# A byte every half second does not restart the timeout (2 s): the request
# must arrive whole in time.
t0=$(date +%s%N)
if client stall "$sock" 8 500; then
	t1=$(date +%s%N)
	ms=$(( (t1 - t0) / 1000000 ))
	if [ "$ms" -lt 4000 ]; then ok "trickled request dropped after the timeout ($ms ms)"; else ko "trickled request dropped after $ms ms"; fi
else
	ko "a request trickled a byte at a time is never dropped"
fi

# --- peers not in allowed_uids are refused
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1; then
	expect_exit "uid 65534 refused" 3 setpriv --reuid=65534 --regid=65534 --clear-groups \
		sh "$srcdir/tests/lib/nsswrap.sh" "$CLIENT" map "$sock" "$certs/alice.pem"
	expect_out "permission denied" "Permission denied"
	expect_exit "uid 65534 refused (raw)" 0 setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$CLIENT" raw "$sock" < "$tmp/req"
	expect_out "PermissionDenied error" '"error":"org.certmap.Mapper.PermissionDenied"'
else
	echo "SKIP: peer credential checks need root"
fi

# --- 64 concurrent clients, many requests each
expect_exit "64 clients x 200 requests" 0 client stress "$sock" "$certs/alice.pem" alice 64 200
expect_out "all answers right" "0 of 12800 answers wrong"

# --- reloads: a broken file keeps the old configuration
cp "$tmp/certmap.conf" "$tmp/good.conf"
printf 'rules = ( { name = "x"; match = "<BROKEN"; } );\n' > "$tmp/certmap.conf"
kill -HUP "$pid"; sleep 0.5
expect_exit "broken SIGHUP: still mapping" 0 client map "$sock" "$certs/alice.pem"
if wait_grep "keeping the running configuration" "$tmp/log"; then ok "broken reload logged"; else ko "broken reload logged"; fi
expect_exit "Reload method with a broken file" 1 client reload "$sock"
cp "$tmp/good.conf" "$tmp/certmap.conf"
sed -i 's/LOCAL:{subject_principal.short_name}/LOCAL:bob/' "$tmp/certmap.conf"
kill -HUP "$pid"; sleep 0.5
expect_exit "good SIGHUP: new rules apply (cache flushed)" 1 client map "$sock" "$certs/alice.pem" alice
expect_exit "new rule maps to bob" 0 client map "$sock" "$certs/alice.pem"
expect_out "bob" '"user":"bob"'
cp "$tmp/good.conf" "$tmp/certmap.conf"
expect_exit "Reload method" 0 client reload "$sock"
expect_exit "stats" 0 client stats "$sock"
expect_out "reloads counted" '"reloads":2'
expect_out "hits counted" '"hits":'
if wait_grep 'decision mapped user="alice" rule="upn" domain="local" cert_sha256=' "$tmp/log"; then ok "decision logged"; else ko "decision logged"; fi

# --- a reload that drops a peer's uid ends its open connection's service
printf '{"method":"org.certmap.Mapper.GetStats"}\0' > "$tmp/stats-req"
rm -f "$tmp/go"
client pause "$sock" "$tmp/go" < "$tmp/stats-req" > "$tmp/pause.out" 2>&1 &
pause_pid=$!
sleep 0.5
cp "$tmp/certmap.conf" "$tmp/keep.conf"
sed -i "s/allowed_uids = \[0, $(id -u)\];/allowed_uids = [54321];/" "$tmp/certmap.conf"
kill -HUP "$pid"; sleep 0.5
touch "$tmp/go"
wait "$pause_pid"
out=$(cat "$tmp/pause.out")
expect_out "first call answered" '"requests":'
expect_out "after the reload the same connection is refused" '"error":"org.certmap.Mapper.PermissionDenied"'
cp "$tmp/keep.conf" "$tmp/certmap.conf"
kill -HUP "$pid"; sleep 0.5
expect_exit "allowed again after the next reload" 0 client map "$sock" "$certs/alice.pem"

# --- the TLS server example of doc/examples: a real handshake, then certmapd
port=0
for try in 1 2 3 4 5; do
	port=$(random_port)
	sh "$srcdir/tests/lib/nsswrap.sh" "$builddir/doc/examples/tls-server" "$port" \
		"$certs/serverauth.pem" "$certs/serverauth.key" "$certs/ca.pem" "$sock" > "$tmp/tls.log" 2>&1 &
	tls_pid=$!
	# Listening (state 0A in /proc/net/tcp) or gone: a slow, sanitized start
	# must not be mistaken for a taken port.
	hexport=$(printf ':%04X 00000000:0000 0A' "$port")
	i=0
	while kill -0 "$tls_pid" 2>/dev/null && ! grep -q "$hexport" /proc/net/tcp && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	kill -0 "$tls_pid" 2>/dev/null && break
	tls_pid=
done
if [ -n "$tls_pid" ]; then
	out=$(openssl s_client -connect "127.0.0.1:$port" -cert "$certs/alice.pem" -key "$certs/alice.key" \
		-CAfile "$certs/ca.pem" -quiet < /dev/null 2>/dev/null)
	expect_out "TLS example maps the client certificate" "user alice uid 1000 groups alice,dev"
	out=$(openssl s_client -connect "127.0.0.1:$port" -cert "$certs/root.pem" -key "$certs/root.key" \
		-CAfile "$certs/ca.pem" -quiet < /dev/null 2>/dev/null)
	expect_out "TLS example refuses uid 0" "denied: uid_refused"
	[ "$fail" -eq 0 ] || head -30 "$tmp/tls.log"
	kill "$tls_pid" 2>/dev/null
	wait "$tls_pid" 2>/dev/null
	tls_pid=
else
	ko "TLS example starts"; cat "$tmp/tls.log"
fi

# --- clean stop
kill -TERM "$pid"
if wait "$pid"; then ok "SIGTERM exit 0"; else ko "SIGTERM exit status"; fi
pid=
if [ ! -e "$sock" ]; then ok "socket removed"; else ko "socket removed"; fi

# --- start-up errors
if [ "$(id -u)" -eq 0 ]; then
	write_config "$tmp/nouser.conf" ""
	sed -i 's/user = "root"/user = "certmap-no-such-user"/' "$tmp/nouser.conf"
	expect_exit "missing service.user is a start-up error" 1 sh "$srcdir/tests/lib/nsswrap.sh" "$CERTMAPD" -f -c "$tmp/nouser.conf"
	expect_out "says which user" "certmap-no-such-user does not exist"
fi
expect_exit "broken config at start" 1 "$CERTMAPD" -f -c "$tmp/nonexistent.conf"

# --- under systemd, standard error is the journal (JOURNAL_STREAM names
# it): --foreground must not copy the lines there a second time
: > "$tmp/stderr"
"$CERTMAPD" -f -c "$tmp/nonexistent.conf" 2> "$tmp/stderr"
if grep -q "cannot load" "$tmp/stderr"; then ok "-f copies lines to stderr"; else ko "-f copies lines to stderr"; fi
: > "$tmp/stderr"
JOURNAL_STREAM=$(stat -c '%d:%i' "$tmp/stderr") "$CERTMAPD" -f -c "$tmp/nonexistent.conf" 2> "$tmp/stderr"
if [ ! -s "$tmp/stderr" ]; then ok "no copy when stderr is the journal"; else ko "no copy when stderr is the journal"; cat "$tmp/stderr"; fi
: > "$tmp/stderr"
JOURNAL_STREAM=1:2 "$CERTMAPD" -f -c "$tmp/nonexistent.conf" 2> "$tmp/stderr"
if grep -q "cannot load" "$tmp/stderr"; then ok "another JOURNAL_STREAM: copied"; else ko "another JOURNAL_STREAM: copied"; fi

finish
