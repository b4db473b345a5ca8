#!/bin/sh
# Load on certmapd's HTTP listener (make load-http; never run by make check):
# LOAD_CLIENTS (64) kept-alive clients send LOAD_REQUESTS (1 000 000) GET
# /auth in all over the HTTP Unix socket, a mapped, an unmapped and an
# expired certificate in turn, and every answer is checked (status and
# header): there must be 0 wrong answers. certmapd's RSS is printed after
# a warm-up and after the load, and must stay flat (at most 10% + 4 MiB
# more). Meanwhile slow clients (slowloris: headers trickled a byte at a
# time) and oversized headers (300 KB) come in: each must be cut off
# (after service.timeout, 5 s here; a 4xx) while the others' requests are
# still answered.
# Usage: load_http.sh BUILDDIR SRCDIR   (make load-http passes both)
set -u
builddir=${1:?builddir}; srcdir=${2:?srcdir}
certs="$builddir/tests/certs/out"
clients=${LOAD_CLIENTS:-64}; requests=${LOAD_REQUESTS:-1000000}
bench="$builddir/bench/service/bench_http"
mkdir -p "$builddir/tests"
tmp=$(mktemp -d "$builddir/tests/tmp-load-http.XXXXXX")
pid=
cleanup() { [ -z "$pid" ] || { kill "$pid"; wait "$pid"; } 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 1' INT TERM

. "$srcdir/bench/service/benchlib.sh"
bench_accounts "$tmp"
bench_conf "$tmp/certmap.conf" "socket = \"$tmp/sock\"; user = \"root\"; allowed_uids = [0, $(id -u)];
  timeout = 5; cache_ttl = 300; max_connections = 512; max_connections_per_uid = 512;
  http = { socket = \"$tmp/http.sock\"; cert_format = \"base64-der\"; };"
# The audit lines (one per answer) go to a file nobody reads.
bench_certmapd "$tmp/certmap.conf" "$tmp/log"

req() { # NAME CERT: a request file with CERT's DER, base64
	printf 'GET /auth HTTP/1.1\r\nHost: certmapd\r\nX-Client-Cert: %s\r\n\r\n' \
		"$(openssl x509 -in "$certs/$2.pem" -outform DER | base64 -w0)" > "$tmp/$1"
}
req mapped alice; req unmapped multirdn; req expired expired
set -- "$tmp/mapped" "$clients" "X-Certmap-User: alice" \
	"$tmp/unmapped" "403 X-Certmap-Reason: no_account" "$tmp/expired" "403 X-Certmap-Reason: expired"
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$daemon/status"; }

echo "== warm-up: 50 000 requests"
"$bench" load "$tmp/http.sock" "$1" "$2" 50000 "$3" "$4" "$5" "$6" "$7" || { tail "$tmp/log"; exit 1; }
before=$(rss)
echo "== $requests requests, $clients clients; meanwhile 16 slow clients and 20 oversized headers"
"$bench" slow "$tmp/http.sock" 16 60 > "$tmp/slow.out" 2>&1 &
slow=$!
( sleep 2; "$bench" big "$tmp/http.sock" 20 300000 ) > "$tmp/big.out" 2>&1 &
big=$!
fail=0
"$bench" load "$tmp/http.sock" "$1" "$2" "$requests" "$3" "$4" "$5" "$6" "$7" || fail=1
if wait "$slow"; then echo "slow clients cut off: $(cat "$tmp/slow.out")"; else echo "FAIL: slow clients: $(cat "$tmp/slow.out")"; fail=1; fi
if wait "$big"; then echo "oversized headers refused: $(cat "$tmp/big.out")"; else echo "FAIL: oversized headers: $(cat "$tmp/big.out")"; fail=1; fi
after=$(rss)
echo "certmapd RSS: $before kB before, $after kB after"
if [ "$after" -gt $((before + before / 10 + 4096)) ]; then
	echo "FAIL: the RSS grew by more than 10% + 4 MiB"; fail=1
fi
[ "$fail" -eq 0 ] && echo "PASS: load-http"
exit "$fail"
