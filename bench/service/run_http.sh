#!/bin/sh
# certmapd's HTTP listener: a cached GET /auth on the HTTP Unix socket
# against a cached varlink Map on the same certmapd (1 client, both pinned
# to CPU 0, best of 3), and nginx with auth_request to certmapd (cached)
# against nginx with auth_request to a location returning 204, same wrk,
# same concurrency. Prints "ratio NAME VALUE" lines.
#
# The nginx comparison is like for like: one nginx (1 worker), the same
# wrk (2 threads, BENCH_CONNECTIONS connections, default 16), the same
# request with the certificate in X-Client-Cert, both paths behind
# auth_request to an upstream application on a loopback port; only the
# auth subrequest differs (an internal location's 204, or certmapd over
# its Unix socket as conf/http/nginx.conf does it: kept-alive upstream
# connections, HEAD). Each pair of runs (the 204, then certmapd) gives a
# ratio; the median of BENCH_PAIRS (5) pairs counts. Each pair also shows
# nginx asking an upstream that only says 204 the same way: what nginx's
# own proxying costs, the ceiling for any auth server asked over HTTP.
# Usage: run_http.sh BUILDDIR SRCDIR   (make bench-http passes both)
set -u
builddir=${1:?builddir}; srcdir=${2:?srcdir}
certs="$builddir/tests/certs/out"
secs=${BENCH_SECONDS:-1}
mkdir -p "$builddir/tests"
tmp=$(mktemp -d "$builddir/tests/tmp-bench-http.XXXXXX")
chmod 755 "$tmp"
. "$srcdir/tests/http/nginxlib.sh"
pid=
cleanup() { ngx_stop; [ -z "$pid" ] || { kill "$pid"; wait "$pid"; } 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 1' INT TERM

. "$srcdir/bench/service/benchlib.sh"
bench_accounts "$tmp" 'nobody:x:65534:65534::/:/bin/sh'
bench_conf "$tmp/certmap.conf" "socket = \"$tmp/sock\"; user = \"root\"; allowed_uids = [0, $(id -u), 65534];
  timeout = 60; cache_ttl = 300; max_connections = 512; max_connections_per_uid = 512;
  http = { socket = \"$tmp/http.sock\"; cert_format = \"nginx\"; };"
bench_certmapd "$tmp/certmap.conf" "$tmp/log"

# The certificate as nginx's $ssl_client_escaped_cert.
esc=$(sed -e 's/%/%25/g; s/+/%2B/g; s#/#%2F#g; s/=/%3D/g; s/ /%20/g' "$certs/alice.pem" | awk '{printf "%s%%0A", $0}')
printf '{"method":"org.certmap.Mapper.Map","parameters":{"certificate":"%s"}}\0' \
	"$(base64 -w0 "$certs/alice.der")" > "$tmp/vreq"
printf 'GET /auth HTTP/1.1\r\nHost: certmapd\r\nX-Client-Cert: %s\r\n\r\n' "$esc" > "$tmp/hreq"
"$builddir/bench/service/bench_http" load "$tmp/http.sock" "$tmp/hreq" 1 10 "X-Certmap-User: alice" \
	|| { echo "FAIL: /auth does not map alice"; cat "$tmp/log"; exit 1; }
"$builddir/bench/service/bench_client" count "$tmp/sock" "$tmp/vreq" 1000

echo "== HTTP /auth vs varlink Map, cached, 1 client, pinned to CPU 0, best of 3 (µs)"
taskset -a -p -c 0 "$daemon" > /dev/null
best() { sort -n | head -1; }
rtt() { sed -n 's/.*mean_rtt_us=\([0-9.]*\).*/\1/p'; }
h=; v=
for r in 1 2 3; do
	h="$h $(taskset -c 0 "$builddir/bench/service/bench_http" run "$tmp/http.sock" "$tmp/hreq" 1 "$secs" | rtt)"
	v="$v $(taskset -c 0 "$builddir/bench/service/bench_client" run "$tmp/sock" "$tmp/vreq" 1 "$secs" | rtt)"
done
taskset -a -p -c "0-$(($(nproc) - 1))" "$daemon" > /dev/null
h=$(echo $h | tr ' ' '\n' | best); v=$(echo $v | tr ' ' '\n' | best)
echo "http /auth cached: $h µs, varlink Map cached: $v µs"
echo "ratio http_auth_cached_vs_varlink $(echo "scale=2; $h / $v" | bc)"

echo "== nginx auth_request: certmapd (cached) vs a location returning 204"
if ! ngx_usable; then exit 0; fi
if ! command -v wrk > /dev/null; then echo "SKIP: wrk is not installed (Debian wrk)"; exit 0; fi
port=$(( ($$ % 20000) + 30000 )); up=$((port + 1)); noop=$((port + 2))
# Plain HTTP (wrk sends no client certificate): the certificate comes in
# the client's X-Client-Cert header, sent on both paths.
NGX_ACCESS_LOG=off NGX_ERROR_LEVEL=warn NGX_CONNECTIONS=1024 ngx_write_conf "	server {
		listen 127.0.0.1:$port;
$(ngx_locations "$tmp/http.sock" "$up" '$http_x_client_cert')
		location /base {
			auth_request /noop-auth;
			proxy_pass http://127.0.0.1:$up;
		}
		location = /noop-auth {
			internal;
			return 204;
		}
		# The same auth subrequest to an upstream that only says 204 (a
		# server of this nginx, kept-alive): what nginx's proxying alone
		# costs, the ceiling for any auth server it asks over HTTP.
		location /proxied {
			auth_request /proxied-auth;
			proxy_pass http://127.0.0.1:$up;
		}
		location = /proxied-auth {
			internal;
			proxy_pass http://noop/;
			proxy_method HEAD;
			proxy_http_version 1.1;
			proxy_set_header Connection \"\";
			proxy_pass_request_body off;
			proxy_set_header Content-Length \"\";
		}
	}" "$(ngx_upstream "$tmp/http.sock")" "$(ngx_app "$up")" \
	"	upstream noop { server 127.0.0.1:$noop; keepalive 16; }
	server { listen 127.0.0.1:$noop; access_log off; location / { return 204; } }"
ngx_start "http://127.0.0.1:$port/base" || exit 1
c=${BENCH_CONNECTIONS:-16}
wrkrun() { # URL: requests/s, or 0 when an answer was not 2xx
	o=$(wrk -t 2 -c "$c" -d "${BENCH_WRK_SECONDS:-3}s" -H "X-Client-Cert: $esc" "$1")
	if printf '%s\n' "$o" | grep -q "Non-2xx"; then echo 0; return; fi
	printf '%s\n' "$o" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p'
}
out=$(curl -s -H "X-Client-Cert: $esc" "http://127.0.0.1:$port/")
[ "$out" = "app: user=[alice] groups=[alice,dev]" ] || { echo "FAIL: nginx does not map alice: $out"; exit 1; }
# Pairs run back to back share the machine's load (which varies a lot on
# a shared machine): each pair gives a ratio, and the median of the pairs'
# ratios counts.
pairs=${BENCH_PAIRS:-5}; r=0; ratios=
while [ $r -lt "$pairs" ]; do
	b=$(wrkrun "http://127.0.0.1:$port/base")
	m=$(wrkrun "http://127.0.0.1:$port/")
	p=$(wrkrun "http://127.0.0.1:$port/proxied")
	q=$(echo "scale=3; $m / $b" | bc)
	echo "pair $((r + 1)): nginx + 204 auth: $b req/s, nginx + certmapd: $m req/s, $q" \
		"(nginx + proxied 204 auth: $p req/s, $(echo "scale=3; $p / $b" | bc))"
	ratios="$ratios $q"; r=$((r + 1))
done
echo "($c connections; the median of $pairs pairs)"
echo "ratio nginx_auth_vs_204 $(echo $ratios | tr ' ' '\n' | sort -n | sed -n "$(( (pairs + 1) / 2 ))p")"
