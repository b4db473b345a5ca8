#!/bin/sh
# nginx in front of certmapd, end to end: nginx (Debian nginx-light) with
# its own prefix, configuration and logs on a free loopback port asks for
# a client certificate (ssl_verify_client optional_no_ca), sends
# $ssl_client_escaped_cert to certmapd's HTTP Unix socket with
# auth_request, passes X-Certmap-User/Groups to an upstream with
# auth_request_set, and routes 401/403 (and its own 495/496) to certmapd's
# denial page. curl --cert checks each case; everything started here is
# stopped by its PID.
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"
. "$srcdir/tests/http/httplib.sh"

. "$srcdir/tests/http/nginxlib.sh"
ngx_usable || exit 77
cleanup_more() { ngx_stop; }

ngx_test_site || { finish; exit 1; }

# site NAME CERT [curl args]: GET / with CERT's key pair (or none: "-").
site() {
	name=$1; cert=$2; shift 2
	set -- -sk --max-time 10 -w '\n%{http_code}' "$@"
	if [ "$cert" != "-" ]; then set -- "$@" --cert "$certs/$cert.pem" --key "$certs/$cert.key"; fi
	out=$(curl "$@" "https://127.0.0.1:$port/" 2>&1) || true
	code=$(printf '%s\n' "$out" | tail -1)
}
expect_code() { if [ "$code" = "$2" ]; then ok "$1"; else ko "$1 (HTTP $code, want $2)"; printf '%s\n' "$out" | head -5; fi; }

site alice alice
expect_code "a mapped certificate reaches the application" 200
expect_out "the application gets the user and groups" "app: user=[alice] groups=[alice,dev]"

site forged alice -H "X-Certmap-User: root" -H "X-Certmap-Groups: wheel"
expect_out "a forged X-Certmap-User is overwritten" "app: user=[alice] groups=[alice,dev]"
expect_no_out "a forged X-Certmap-User never reaches the application" "root"

site unmapped multirdn
expect_code "an unmapped certificate: 403" 403
expect_out "an unmapped certificate: the denial page" "No account here belongs to your certificate."
expect_out "the denial page links to the contact" 'href="mailto:help@example.com"'
expect_no_out "an unmapped certificate never reaches the application" "app:"

site untrusted untrusted
expect_code "an untrusted certificate: 403" 403
expect_out "an untrusted certificate: the reason in words" "not from an authority this site trusts"

site expired expired
# nginx refuses it itself (its 495, which it sends as 400) before auth_request.
case $code in 400 | 403) ok "an expired certificate is refused (HTTP $code)" ;; *) ko "an expired certificate is refused (HTTP $code)" ;; esac
expect_out "an expired certificate: the reason in words, with the date" "Your certificate has expired. It expired on 1 January 2021."

site none -
expect_code "no certificate: 401" 401
expect_out "no certificate: the denial page" "Your browser did not send a certificate."
expect_no_out "no certificate never reaches the application" "app:"

site forged-cert - -H "X-Client-Cert: $(b64der alice)"
expect_code "no certificate but a forged X-Client-Cert: 401" 401
expect_no_out "a forged X-Client-Cert never reaches the application" "app:"

if wait_grep 'decision mapped user="alice"' "$tmp/log"; then ok "certmapd logged the decision"; else ko "certmapd logged the decision"; fi

was=$ngx_pid
ngx_stop
if ! kill -0 "$was" 2>/dev/null && [ ! -e "$ngx/nginx.pid" ]; then ok "nginx stopped"; else ko "nginx stopped"; fi
finish
