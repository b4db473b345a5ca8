#!/bin/sh
# HAProxy in front of certmapd, end to end: Debian's HAProxy (with Lua)
# runs conf/http/certmap-auth.lua, which sends %[ssl_c_der,base64] to
# certmapd's TCP listener; refusals are answered by certmapd's denial page
# through a backend on its HTTP Unix socket. Everything started here is
# stopped by its PID.
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"
. "$srcdir/tests/http/httplib.sh"

HAPROXY=${HAPROXY:-$(command -v haproxy || echo /usr/sbin/haproxy)}
if [ ! -x "$HAPROXY" ]; then
	echo "SKIP: haproxy is not installed (Debian haproxy)"
	exit 77
fi
if ! "$HAPROXY" -vv 2>&1 | grep -q -- '+LUA'; then
	echo "SKIP: this haproxy has no Lua"
	exit 77
fi

hdir="$tmp/haproxy"
mkdir -p "$hdir"
ha_pid=
cleanup_more() {
	if [ -n "$ha_pid" ]; then
		kill -USR1 "$ha_pid" 2>/dev/null # soft stop
		kill -TERM "$ha_pid" 2>/dev/null
		wait "$ha_pid" 2>/dev/null
		ha_pid=
	fi
}

port=$(free_port) || { ko "a free port"; finish; exit 1; }
up=$(free_port) || { ko "a second free port"; finish; exit 1; }
cport=$(free_port) || { ko "a third free port"; finish; exit 1; }

conf="$tmp/certmap.conf"
write_config "$conf" "http = { socket = \"$hsock\"; listen = \"127.0.0.1:$cport\"; cert_format = \"base64-der\"; };"
if start_daemon "$conf"; then ok "certmapd starts"; else ko "certmapd starts"; cat "$tmp/log"; finish; exit 1; fi

cat "$certs/serverauth.pem" "$certs/serverauth.key" > "$hdir/server.pem"
chmod 600 "$hdir/server.pem"
# conf/http/haproxy.cfg, with this test's paths and ports (and the
# application as a second frontend that says what reached it).
cat > "$hdir/haproxy.cfg" <<EOC
global
	setenv CERTMAPD_PORT $cport
	lua-load $srcdir/conf/http/certmap-auth.lua
defaults
	mode http
	timeout connect 5s
	timeout client 10s
	timeout server 10s
frontend app
	bind 127.0.0.1:$port ssl crt $hdir/server.pem verify optional ca-file $certs/ca.pem crt-ignore-err all ca-ignore-err all
	http-request del-header X-Certmap-User
	http-request del-header X-Certmap-Groups
	http-request set-var(txn.certmap_cert) ssl_c_der,base64
	http-request lua.certmap-auth
	http-request set-header X-Certmap-User %[var(txn.certmap_user)] if { var(txn.certmap_status) -m str 200 }
	http-request set-header X-Certmap-Groups %[var(txn.certmap_groups)] if { var(txn.certmap_status) -m str 200 }
	use_backend certmap_denied if !{ var(txn.certmap_status) -m str 200 }
	default_backend application
backend certmap_denied
	http-request set-path /denied
	http-request set-header X-Certmap-Reason %[var(txn.certmap_reason)]
	server certmapd $hsock
backend application
	server app 127.0.0.1:$up
frontend application
	bind 127.0.0.1:$up
	http-request return status 200 content-type text/plain lf-string "app: user=[%[req.fhdr(X-Certmap-User)]] groups=[%[req.fhdr(X-Certmap-Groups)]]"
EOC
"$HAPROXY" -db -f "$hdir/haproxy.cfg" > "$hdir/log" 2>&1 &
ha_pid=$!
i=0
while [ $i -lt 100 ]; do
	rc=0
	curl -sk -o /dev/null --max-time 1 "https://127.0.0.1:$port/" || rc=$?
	[ "$rc" -eq 0 ] && break
	kill -0 "$ha_pid" 2>/dev/null || break
	sleep 0.1; i=$((i + 1))
done
if [ "$rc" -eq 0 ]; then ok "haproxy starts"; else ko "haproxy starts (curl $rc)"; tail -20 "$hdir/log"; finish; exit 1; fi

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
site forged alice -H "X-Certmap-User: root"
expect_out "a forged X-Certmap-User is replaced" "app: user=[alice]"
site unmapped multirdn
expect_code "an unmapped certificate: 403" 403
expect_out "an unmapped certificate: certmapd's page" "No account here belongs to your certificate."
site expired expired
expect_out "an expired certificate: the reason in words" "Your certificate has expired."
site untrusted untrusted
expect_out "an untrusted certificate: the reason in words" "not from an authority this site trusts"
site none -
expect_out "no certificate: the page" "Your browser did not send a certificate."
expect_no_out "no certificate never reaches the application" "app:"
site forged-none - -H "X-Certmap-User: root"
expect_no_out "no certificate and a forged X-Certmap-User never reach the application" "app:"

was=$ha_pid
cleanup_more
if ! kill -0 "$was" 2>/dev/null; then ok "haproxy stopped"; else ko "haproxy stopped"; fi
finish
