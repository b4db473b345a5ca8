#!/bin/sh
# Caddy in front of certmapd, end to end: Debian's Caddy (2.6) with its own
# configuration, storage and logs on a free loopback port asks for a
# client certificate (client_auth mode request), forward_auth to
# certmapd's HTTP Unix socket with the DER in base64, copy_headers to the
# application. Caddy before 2.11.2 lets a client's own copy of a copied
# header through (GHSA-7r4p-vjf4-gxv4), so conf/http/Caddyfile deletes
# every X-Certmap-* request header first: this test proves a forged one
# never reaches the application. Everything started here is stopped by
# its PID.
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"
. "$srcdir/tests/http/httplib.sh"

CADDY=${CADDY:-$(command -v caddy || echo /usr/bin/caddy)}
if [ ! -x "$CADDY" ]; then
	echo "SKIP: caddy is not installed (Debian caddy)"
	exit 77
fi

cdir="$tmp/caddy"
mkdir -p "$cdir/data" "$cdir/config"
caddy_pid=
cleanup_more() {
	if [ -n "$caddy_pid" ]; then
		kill -TERM "$caddy_pid" 2>/dev/null
		wait "$caddy_pid" 2>/dev/null
		caddy_pid=
	fi
}

port=$(free_port) || { ko "a free port"; finish; exit 1; }
up=$(free_port) || { ko "a second free port"; finish; exit 1; }
[ "$up" != "$port" ] || up=$((port + 1))

conf="$tmp/certmap.conf"
write_config "$conf" "http = { socket = \"$hsock\"; cert_format = \"base64-der\"; };"
if start_daemon "$conf"; then ok "certmapd starts"; else ko "certmapd starts"; cat "$tmp/log"; finish; exit 1; fi

# conf/http/Caddyfile, with this test's paths and ports.
cat > "$cdir/Caddyfile" <<EOC
{
	admin off
	auto_https off
	storage file_system $cdir/data
	log {
		output file $cdir/caddy.log
	}
}
https://app.test:$port {
	tls $certs/serverauth.pem $certs/serverauth.key {
		client_auth {
			mode request
		}
	}
	# route: in Caddy's own directive order request_header runs after
	# forward_auth, and would delete the copied headers too.
	route {
		request_header -X-Certmap-User
		request_header -X-Certmap-Groups
		request_header -X-Certmap-Uid
		request_header -X-Certmap-Rule
		request_header -X-Certmap-Domain
		forward_auth unix/$hsock {
			uri /auth
			header_up X-Client-Cert {http.request.tls.client.certificate_der_base64}
			copy_headers X-Certmap-User X-Certmap-Groups
		}
		reverse_proxy 127.0.0.1:$up
	}
}
http://:$up {
	respond "app: user=[{header.X-Certmap-User}] groups=[{header.X-Certmap-Groups}] domain=[{header.X-Certmap-Domain}]"
}
EOC
XDG_DATA_HOME="$cdir/data" XDG_CONFIG_HOME="$cdir/config" HOME="$cdir" \
	"$CADDY" run --adapter caddyfile --config "$cdir/Caddyfile" > "$cdir/stdout" 2>&1 &
caddy_pid=$!
i=0
while [ $i -lt 100 ]; do
	rc=0
	curl -sk -o /dev/null --max-time 1 --resolve "app.test:$port:127.0.0.1" "https://app.test:$port/" || rc=$?
	[ "$rc" -eq 0 ] && break
	kill -0 "$caddy_pid" 2>/dev/null || break
	sleep 0.1; i=$((i + 1))
done
if [ "$rc" -eq 0 ]; then ok "caddy starts"; else ko "caddy starts (curl $rc)"; tail -20 "$cdir/stdout"; finish; exit 1; fi

site() {
	name=$1; cert=$2; shift 2
	set -- -sk --max-time 10 -w '\n%{http_code}' --resolve "app.test:$port:127.0.0.1" "$@"
	if [ "$cert" != "-" ]; then set -- "$@" --cert "$certs/$cert.pem" --key "$certs/$cert.key"; fi
	out=$(curl "$@" "https://app.test:$port/" 2>&1) || true
	code=$(printf '%s\n' "$out" | tail -1)
}
expect_code() { if [ "$code" = "$2" ]; then ok "$1"; else ko "$1 (HTTP $code, want $2)"; printf '%s\n' "$out" | head -5; fi; }

site alice alice
expect_code "a mapped certificate reaches the application" 200
expect_out "the application gets the user and groups" "app: user=[alice] groups=[alice,dev]"

site forged alice -H "X-Certmap-User: root" -H "X-Certmap-Domain: forged"
expect_out "a forged X-Certmap-User is replaced" "user=[alice]"
expect_out "a forged X-Certmap-Domain (not copied) is deleted" "domain=[]"
expect_no_out "nothing forged reaches the application" "root"

site unmapped multirdn
expect_code "an unmapped certificate: 403" 403
expect_out "an unmapped certificate: certmapd's page" "No account here belongs to your certificate."
expect_no_out "an unmapped certificate never reaches the application" "app:"

site untrusted untrusted
expect_code "an untrusted certificate: 403" 403
expect_out "an untrusted certificate: the reason in words" "not from an authority this site trusts"

site expired expired
expect_code "an expired certificate: 403" 403
expect_out "an expired certificate: the reason and the date" "It expired on 1 January 2021."

site none -
expect_code "no certificate: 401" 401
expect_out "no certificate: the page" "Your browser did not send a certificate."

site forged-cert - -H "X-Client-Cert: $(b64der alice)"
expect_code "no certificate but a forged X-Client-Cert: 401" 401
expect_no_out "a forged X-Client-Cert never reaches the application" "app:"

was=$caddy_pid
cleanup_more
if ! kill -0 "$was" 2>/dev/null; then ok "caddy stopped"; else ko "caddy stopped"; fi
finish
