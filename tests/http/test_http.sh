#!/bin/sh
# certmapd's HTTP forward-auth listener (service.http), end to end with
# curl: /auth in every certificate header format, its answers (200, 401,
# 403 with the reason, 400, 503), the peer check on the Unix socket, the
# TCP listener and its bearer token, /healthz, /metrics (promtool when
# installed), /denied, slow clients and oversized headers cut off while
# others are served, and a reload.
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"
. "$srcdir/tests/http/httplib.sh"

conf="$tmp/certmap.conf"
alice=$(b64der alice)

# ------------------------------------------------- base64 DER (Caddy, HAProxy)
write_config "$conf" "http = { socket = \"$hsock\"; cert_format = \"base64-der\"; user_header = \"X-Certmap-Request-User\"; contact_url = \"https://help.example/cert?a=1&b=<2>\"; };"
if start_daemon "$conf"; then ok "certmapd starts with service.http"; else ko "certmapd starts with service.http"; cat "$tmp/log"; finish; exit 1; fi
# The HTTP threads' lines reach the log in batches, 2 ms or so late.
expect_out_log() {
	eol_i=0
	while ! grep -qF -- "$2" "$tmp/log" && [ $eol_i -lt 100 ]; do sleep 0.05; eol_i=$((eol_i + 1)); done
	if grep -qF -- "$2" "$tmp/log"; then ok "$1"; else ko "$1 (no '$2' in the log)"; tail -5 "$tmp/log"; fi
}
# Counts lines once those of the requests before are out.
log_count() { sleep 0.1; grep -c -- "$1" "$tmp/log"; }
expect_out_log "the log says where HTTP listens" "HTTP forward-auth listening on $hsock"

hget /auth -H "X-Client-Cert: $alice"
expect_status "mapped: 200" 200
expect_header "mapped: user" "X-Certmap-User: alice"
expect_header "mapped: groups, comma-separated" "X-Certmap-Groups: alice,dev"
expect_header "mapped: uid" "X-Certmap-Uid: 1000"
expect_header "mapped: rule" "X-Certmap-Rule: upn"
expect_header "mapped: domain" "X-Certmap-Domain: local"
hget /auth -H "X-Client-Cert: $alice"
expect_header "mapped again (cached): same user" "X-Certmap-User: alice"

hget /auth -H "X-Client-Cert: $(b64der multirdn)"
expect_status "no account: 403" 403
expect_header "no account: reason" "X-Certmap-Reason: no_account"
expect_no_header "no account: no user header" "X-Certmap-User"
out=$body
expect_out "no account: the body is the denial page (Caddy shows it)" "No account here belongs to your certificate."
expect_no_out "no account: the page names no account" "carol"
hget /auth -H "X-Client-Cert: $(b64der expired)"
expect_header "expired: reason" "X-Certmap-Reason: expired"
hget /auth -H "X-Client-Cert: $(b64der untrusted)"
expect_status "untrusted: 403" 403
expect_header "untrusted: reason" "X-Certmap-Reason: untrusted"

hget /auth
expect_status "no certificate header: 401" 401
hget /auth -H "X-Client-Cert;"
expect_status "an empty certificate header (no certificate): 401" 401

decisions=$(log_count " decision ")
hget /auth -H "X-Client-Cert: ${alice}!"
expect_status "an undecodable header: 400" 400
hget /auth -H "X-Client-Cert: $alice" -H "X-Client-Cert: $alice"
expect_status "the certificate header twice: 400" 400
if [ "$(log_count " decision ")" -eq "$decisions" ]; then ok "a 400 never maps"; else ko "a 400 never maps"; fi
expect_out_log "the log says why a header did not decode" "the X-Client-Cert header does not decode: the base64 value is truncated"

hget /auth -H "X-Client-Cert: $alice" -H "X-Certmap-Request-User: alice"
expect_status "requested user, a candidate: 200" 200
hget /auth -H "X-Client-Cert: $alice" -H "X-Certmap-Request-User: nobody"
expect_status "requested user, not a candidate: 403" 403
expect_header "requested user, not a candidate: reason" "X-Certmap-Reason: not_candidate"

# An oversized header is cut off; the service goes on.
big=$(head -c 300000 /dev/zero | tr '\0' 'A')
printf 'X-Client-Cert: %s\r\n' "$big" > "$tmp/bighdr"
hget /auth -H @"$tmp/bighdr"
got=$(printf '%s\n' "$hdr" | head -1 | cut -d' ' -f2)
case $got in 4*) ok "a 300 KB header is refused (HTTP $got)" ;; "") ok "a 300 KB header is cut off (curl $rc)" ;; *) ko "a 300 KB header is refused (HTTP $got)" ;; esac
hget /auth -H "X-Client-Cert: $alice"
expect_status "after an oversized header, others are served" 200

hget /auth -X POST -H "X-Client-Cert: $alice"
expect_status "POST: 405" 405
hget /auth/some/path -H "X-Client-Cert: $alice"
expect_status "/auth/... (Envoy ext_authz) is /auth" 200
hget /nope
expect_status "unknown path: 404" 404
hget /healthz
expect_status "/healthz: 200" 200

# ------------------------------------------------- /denied
hget "/denied?reason=expired" -H "X-Client-Cert: $(b64der expired)"
expect_status "/denied: 403" 403
expect_header "/denied: HTML" "Content-Type: text/html; charset=utf-8"
out=$body
expect_out "/denied: the reason in words, with the date" "Your certificate has expired. It expired on 1 January 2021."
expect_out "/denied: the contact URL, escaped" 'href="https://help.example/cert?a=1&amp;b=&lt;2&gt;"'
expect_no_out "/denied: no script" "<script"
hget "/denied?reason=expired" -H "X-Client-Cert: $(b64der expired)" -H "Accept-Language: de-DE,de;q=0.9,en;q=0.8"
out=$body
expect_out "/denied in German (Accept-Language)" "Ihr Zertifikat ist abgelaufen. Es ist am 1. Januar 2021 abgelaufen."
expect_out "/denied in German: html lang" '<html lang="de">'
expect_header "/denied in German: Content-Language" "Content-Language: de"
hget "/denied?reason=no_account" -H "Accept-Language: es, fr;q=0.2, de;q=0.1"
out=$body
expect_out "/denied in French, the best q the page has" "Aucun compte ne correspond ici à votre certificat."
hget "/denied?reason=no_account" -H "Accept-Language: de;q=0, es"
out=$body
expect_out "/denied: q=0 and unknown languages give English" "No account here belongs to your certificate."
hget "/denied?reason=%3Cscript%3Ealert(1)%3C/script%3E"
out=$body
expect_out "/denied: an unknown reason gets the general words" "You could not be signed in with your certificate."
expect_no_out "/denied: the request is never echoed" "alert(1)"
hget /denied -H "X-Certmap-Reason: ambiguous"
out=$body
expect_out "/denied: the reason from X-Certmap-Reason" "names several accounts"
hget /denied -H "X-Certmap-Verify: FAILED:certificate has expired"
out=$body
expect_out "/denied: nginx's verify result" "Your certificate has expired."
hget /denied -H "X-Certmap-Verify: NONE"
out=$body
expect_out "/denied: no certificate" "did not send a certificate"

# ------------------------------------------------- /metrics
hget /metrics
expect_status "/metrics: 200" 200
out=$body
expect_out "/metrics: decisions by verdict" 'certmapd_decisions_total{verdict="mapped"} 2'
expect_out "/metrics: cache hits (alice three times, /auth/... once)" "certmapd_cache_hits_total 3"
expect_out "/metrics: the histogram's count" "certmapd_request_duration_seconds_count"
expect_out "/metrics: cache size (alice twice with a requested user)" "certmapd_cache_entries 6"
expect_out "/metrics: the backend of each domain" 'certmapd_backend_up{domain="local",type="local"} 1'
if command -v promtool >/dev/null 2>&1; then
	if lint=$(promtool check metrics < "$tmp/body" 2>&1); then ok "promtool check metrics"; else ko "promtool check metrics"; printf '%s\n' "$lint" | head; fi
else
	echo "SKIP: promtool check metrics (Debian package prometheus is not installed)"
fi

# Bytes that decode to PEM text are still a certificate to judge, not a bad header.
hget /auth -H "X-Client-Cert: $(printf '%s' '-----BEGIN CERTIFICATE-----' | openssl base64 -A)"
expect_status "base64 of PEM-looking bytes: 403" 403
expect_header "base64 of PEM-looking bytes: reason" "X-Certmap-Reason: invalid_certificate"

# ------------------------------------------------- slow clients
# Slow clients (slowloris: headers trickled a byte at a time, which
# libmicrohttpd's idle timeout never ends) are cut off once
# service.timeout (5 s here) has passed; others are served meanwhile.
bench_http="$CERTMAP_BUILDDIR/bench/service/bench_http"
"$bench_http" slow "$hsock" 4 30 > "$tmp/slow.out" 2>&1 &
slow_pid=$!
sleep 1
hget /auth -H "X-Client-Cert: $alice"
expect_status "while slow clients trickle their headers, others are served" 200
if "$bench_http" big "$hsock" 3 300000 > "$tmp/big.out" 2>&1; then
	ok "while slow clients wait, oversized headers are refused ($(cat "$tmp/big.out"))"
else
	ko "while slow clients wait, oversized headers are refused"; cat "$tmp/big.out"
fi
if wait "$slow_pid"; then ok "slow clients are cut off ($(cat "$tmp/slow.out"))"; else ko "slow clients are cut off"; cat "$tmp/slow.out"; fi
expect_out_log "the log says slow clients were cut off" "did not send a request's headers within service.timeout"
hget /auth -H "X-Client-Cert: $alice"
expect_status "after the slow clients, others are served" 200

# ------------------------------------------------- reload: the new header name is used
write_config "$conf" "http = { socket = \"$hsock\"; cert_format = \"base64-der\"; cert_header = \"X-Other-Cert\"; };"
kill -HUP "$pid"
wait_grep "reload" "$tmp/log" || true
sleep 0.3
hget /auth -H "X-Other-Cert: $alice"
expect_status "after a reload, cert_header is the new one" 200
hget /auth -H "X-Client-Cert: $alice"
expect_status "after a reload, the old header is no certificate" 401
stop_daemon
if [ ! -e "$hsock" ]; then ok "the HTTP socket is removed at stop"; else ko "the HTTP socket is removed at stop"; fi

# ------------------------------------------------- every format, through the daemon
pem_escaped() { "${OPENSSL:-openssl}" x509 -in "$certs/$1.pem" | od -An -v -tx1 | tr -d ' \n' | sed 's/\(..\)/%\1/g'; }
inter=$(b64der inter-ca)
for f in rfc9440 nginx traefik envoy; do
	write_config "$conf" "http = { socket = \"$hsock\"; cert_format = \"$f\"; };"
	start_daemon "$conf" || { ko "start with cert_format $f"; continue; }
	case $f in
	rfc9440) hget /auth -H "Client-Cert: :$alice:" -H "Client-Cert-Chain: :$inter:" ;;
	nginx) hget /auth -H "X-Client-Cert: $(pem_escaped alice)" ;;
	traefik) hget /auth -H "X-Forwarded-Tls-Client-Cert: $alice,$inter" ;;
	envoy) hget /auth -H "X-Forwarded-Client-Cert: By=spiffe://a;Hash=ab;Cert=\"$(pem_escaped alice)\";Subject=\"CN=Alice,O=Example\";URI=" ;;
	esac
	expect_header "cert_format $f: mapped" "X-Certmap-User: alice"
	stop_daemon
done

# ------------------------------------------------- the proxy's verify result
write_config "$conf" "http = { socket = \"$hsock\"; cert_format = \"base64-der\"; verify_header = \"X-SSL-Verify\"; };"
start_daemon "$conf" || ko "start with verify_header"
hget /auth -H "X-Client-Cert: $alice"
expect_status "verify_header missing: 403" 403
expect_header "verify_header missing: reason untrusted" "X-Certmap-Reason: untrusted"
hget /auth -H "X-Client-Cert: $alice" -H "X-SSL-Verify: FAILED:unable to get issuer certificate"
expect_status "verify_header FAILED: 403" 403
hget /auth -H "X-Client-Cert: $alice" -H "X-SSL-Verify: SUCCESS"
expect_status "verify_header SUCCESS: 200" 200
stop_daemon

# ------------------------------------------------- a peer that is not allowed
SVC_UIDS=4242
write_config "$conf" "http = { socket = \"$hsock\"; cert_format = \"base64-der\"; };"
SVC_UIDS="0, $(id -u)"
start_daemon "$conf" || ko "start with allowed_uids = [4242]"
hget /auth -H "X-Client-Cert: $alice"
if [ "$rc" -ne 0 ] && [ -z "$hdr" ]; then ok "a peer not in allowed_uids gets no answer"; else ko "a peer not in allowed_uids gets no answer (curl $rc)"; printf '%s\n' "$hdr" | head -3; fi
expect_out_log "the refusal names the settings" "HTTP: refused a connection from uid $(id -u)"
if [ "$(log_count " decision ")" -eq 0 ]; then ok "a refused peer never maps"; else ko "a refused peer never maps"; fi
stop_daemon

# ------------------------------------------------- TCP: loopback, token
port=$(free_port) || { ko "a free port"; finish; exit 1; }
write_config "$conf" "http = { listen = \"127.0.0.1:$port\"; cert_format = \"base64-der\"; };"
start_daemon "$conf" || ko "start with listen on loopback"
out=$(curl -s --max-time 5 -H "X-Client-Cert: $alice" -D - -o /dev/null "http://127.0.0.1:$port/auth" | tr -d '\r')
expect_out "listen on 127.0.0.1 without a token: mapped" "X-Certmap-User: alice"
stop_daemon
write_config "$conf" "http = { listen = \"0.0.0.0:$port\"; cert_format = \"base64-der\"; };"
if start_daemon "$conf"; then ko "a non-loopback listen without token_file is refused"; else ok "a non-loopback listen without token_file is refused"; fi
expect_out_log "the error names token_file" "set token_file too"
stop_daemon
printf 'Zm9vYmFyYmF6cXV4cXV1eA\n' > "$tmp/token"
chmod 600 "$tmp/token"
write_config "$conf" "http = { listen = \"127.0.0.1:$port\"; token_file = \"$tmp/token\"; cert_format = \"base64-der\"; };"
start_daemon "$conf" || ko "start with token_file"
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -H "X-Client-Cert: $alice" "http://127.0.0.1:$port/auth")
if [ "$code" = 401 ]; then ok "token_file: no token, 401"; else ko "token_file: no token, 401 (got $code)"; fi
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer Zm9vYmFyYmF6cXV4cXV1eB" -H "X-Client-Cert: $alice" "http://127.0.0.1:$port/auth")
if [ "$code" = 401 ]; then ok "token_file: a wrong token, 401"; else ko "token_file: a wrong token, 401 (got $code)"; fi
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer Zm9vYmFyYmF6cXV4cXV1eA" -H "X-Client-Cert: $alice" "http://127.0.0.1:$port/auth")
if [ "$code" = 200 ]; then ok "token_file: the token, 200"; else ko "token_file: the token, 200 (got $code)"; fi
stop_daemon


# ------------------------------------------------- certificate-only identities, RFC 4681 hint bytes
# A domain of type certificate (no accounts): multi-ou.pem (UPN mallory,
# who has no account) falls through to it; its groups come from O/OU only
# through group_map (OU=Three is not listed). multisan.pem carries the
# UPNs erin@ and erin2@EXAMPLE.COM: two accounts, which only a hint
# (hint_data_header, the raw UserMappingDataList in base64) can choose.
printf 'erin:x:1002:1002::/home/erin:/bin/sh\nerin2:x:1003:1003::/home/erin2:/bin/sh\n' >> "$tmp/passwd"
SVC_DOMAINS='{ name = "local"; type = "local"; },
  { name = "apps"; type = "certificate";
    group_from = [ "{subject_dn_component.O}", "{subject_dn_component.OU}" ];
    group_map = ( { value = "Example"; group = "example"; }, { value = "One"; group = "team-one"; },
                  { value = "Two"; group = "team-two"; } ); }'
SVC_RULES='  { name = "upn"; priority = 10; map = "LOCAL:{subject_nt_principal.short_name}"; domains = ["local"]; },
  { name = "cn"; priority = 20; match = "<SUBJECT>.*OU=One"; map = "LOCAL:{subject_dn_component.CN}";
    domains = ["apps"]; }'
write_config "$conf" "http = { socket = \"$hsock\"; cert_format = \"base64-der\"; hint_data_header = \"X-Certmap-Hint-Data\"; };"
start_daemon "$conf" || { ko "start with a certificate domain and hint_data_header"; cat "$tmp/log"; }
hget /auth -H "X-Client-Cert: $(b64der multi-ou)"
expect_status "certificate-only: 200" 200
expect_header "certificate-only: user from the rule" "X-Certmap-User: mallory"
expect_header "certificate-only: groups through group_map only" "X-Certmap-Groups: example,team-one,team-two"
expect_header "certificate-only: domain" "X-Certmap-Domain: apps"
expect_no_header "certificate-only: no X-Certmap-Uid" "X-Certmap-Uid"
hget /auth -H "X-Client-Cert: $(b64der multi-ou)" -H "X-Certmap-Hint-Data: $(ctl hint encode --upn mallory@EXAMPLE.COM | perl -ne 'chomp; print pack("H*", $_)' | base64 -w0)"
expect_header "certificate-only with a hint naming it: mapped" "X-Certmap-User: mallory"
hget /auth -H "X-Client-Cert: $alice"
expect_header "an account in the same configuration still has its uid" "X-Certmap-Uid: 1000"
# The same over varlink: Map answers without uid, gid and home.
printf '{"method":"org.certmap.Mapper.Map","parameters":{"certificate":"%s"}}\0' "$(b64der multi-ou)" > "$tmp/req"
out=$(sh "$srcdir/tests/lib/nsswrap.sh" "$builddir/tests/service/svc_client" raw "$sock" < "$tmp/req" 2>&1)
expect_out "varlink Map: certificate-only identity mapped" '"verdict":"mapped","user":"mallory","groups":["example","team-one","team-two"],"rule":"cn","domain":"apps"'
expect_no_out "varlink Map: no uid" '"uid"'
expect_no_out "varlink Map: no home" '"home"'

unhex() { perl -ne 'chomp; print pack("H*", $_)'; }
hintb64() { ctl hint encode "$@" | unhex | base64 -w0; }
erin=$(b64der multisan)
hget /auth -H "X-Client-Cert: $erin"
expect_status "two accounts, no hint: 403" 403
expect_header "two accounts, no hint: ambiguous" "X-Certmap-Reason: ambiguous"
hget /auth -H "X-Client-Cert: $erin" -H "X-Certmap-Hint-Data: $(hintb64 --upn erin2@EXAMPLE.COM)"
expect_status "hint bytes naming erin2: 200" 200
expect_header "hint bytes naming erin2: mapped erin2" "X-Certmap-User: erin2"
expect_no_header "an account without named groups: no X-Certmap-Groups" "X-Certmap-Groups"
hget /auth -H "X-Client-Cert: $erin" -H "X-Certmap-Hint-Data: $(hintb64 --upn erin@EXAMPLE.COM --domain local)"
expect_header "hint bytes naming erin (and the domain): mapped erin" "X-Certmap-User: erin"
hget /auth -H "X-Client-Cert: $erin" -H "X-Certmap-Hint-Data: $(hintb64 --upn alice@EXAMPLE.COM)"
expect_header "hint bytes naming another account: not_candidate" "X-Certmap-Reason: not_candidate"
bad=$( (ctl hint encode --upn erin2@EXAMPLE.COM; echo 00) | tr -d '\n' | unhex | base64 -w0)
hget /auth -H "X-Client-Cert: $erin" -H "X-Certmap-Hint-Data: $bad"
expect_status "a malformed UserMappingDataList: 403" 403
expect_header "a malformed UserMappingDataList: hint_invalid" "X-Certmap-Reason: hint_invalid"
expect_no_header "a malformed UserMappingDataList never maps" "X-Certmap-User"
hget /auth -H "X-Client-Cert: $erin" -H "X-Certmap-Hint-Data: not base64!"
expect_status "hint bytes that are not base64: 400" 400
stop_daemon


# ------------------------------------------------- a backend down: 503 and certmapd_backend_up 0
dead=$(free_port) || dead=1
SVC_DOMAINS="{ name = \"local\"; type = \"local\"; },
  { name = \"dir\"; type = \"ldap\"; uri = [\"ldap://127.0.0.1:$dead\"]; base = \"dc=example,dc=com\"; }"
SVC_RULES='  { name = "upn"; priority = 10; match = "<EKU>clientAuth";
    map = "LDAP:(uid={subject_principal.short_name})"; domains = ["dir"]; }'
SVC_LIMITS="timeout = 5;"
write_config "$conf" "http = { socket = \"$hsock\"; cert_format = \"base64-der\"; };"
if start_daemon "$conf"; then
	hget /metrics
	out=$body
	expect_out "/metrics: an ldap domain is up before its first lookup" 'certmapd_backend_up{domain="dir",type="ldap"} 1'
	hget /auth -H "X-Client-Cert: $alice"
	expect_status "the directory does not answer: 503" 503
	expect_header "the directory does not answer: Retry-After" "Retry-After: 5"
	hget /metrics
	out=$body
	expect_out "/metrics: the ldap domain that did not answer is down" 'certmapd_backend_up{domain="dir",type="ldap"} 0'
	expect_out "/metrics: the local domain is up" 'certmapd_backend_up{domain="local",type="local"} 1'
	if command -v promtool >/dev/null 2>&1; then
		if lint=$(promtool check metrics < "$tmp/body" 2>&1); then ok "promtool check metrics (a backend down)"; else ko "promtool check metrics (a backend down)"; printf '%s\n' "$lint" | head; fi
	fi
	stop_daemon
else
	ko "certmapd starts with an ldap domain"; tail -5 "$tmp/log"
fi

finish
