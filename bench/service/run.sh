#!/bin/sh
# certmapd performance: a raw Unix-socket echo of the same request and reply
# sizes (the floor) against certmapd's cached and uncached Map round trips,
# pinned to one CPU and unpinned; throughput with 1, 2 and 64 clients; RSS
# idle and after BENCH_N (default 1,000,000) requests.
# Usage: run.sh BUILDDIR SRCDIR   (make bench-service passes both)
set -u
builddir=${1:?builddir}; srcdir=${2:?srcdir}
certs="$builddir/tests/certs/out"
secs=${BENCH_SECONDS:-1}
n=${BENCH_N:-1000000}
client="$builddir/bench/service/bench_client"
tmp=$(mktemp -d /tmp/certmap-bench.XXXXXX)
pids=
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 1' INT TERM

printf 'alice:x:1000:1000:Alice:/home/alice:/bin/sh\n' > "$tmp/passwd"
printf 'alice:x:1000:\ndev:x:2000:alice\n' > "$tmp/group"
NSS_WRAPPER_PASSWD="$tmp/passwd"; NSS_WRAPPER_GROUP="$tmp/group"
export NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
conf() { # file socket ttl
	cat > "$1" <<EOC
verify = { ca_file = "$certs/ca.pem"; };
domains = ( { name = "local"; type = "local"; } );
rules = ( { name = "upn"; priority = 10; match = "<EKU>clientAuth";
  map = "LOCAL:{subject_principal.short_name}"; domains = ["local"]; } );
service = { socket = "$2"; user = "root"; allowed_uids = [$(id -u)]; timeout = 60; cache_ttl = $3; };
EOC
}
conf "$tmp/cached.conf" "$tmp/cached.sock" 300
conf "$tmp/uncached.conf" "$tmp/uncached.sock" 0
printf '{"method":"org.certmap.Mapper.Map","parameters":{"certificate":"%s"}}\0' \
	"$(base64 -w0 "$certs/alice.der")" > "$tmp/req"

start() { # name, command...
	name=$1; shift
	"$@" > "$tmp/$name.log" 2>&1 &
	pids="$pids $!"
	eval "pid_$name=$!"
}
wait_sock() { i=0; while [ ! -S "$1" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done; }
start cached sh "$srcdir/tests/lib/nsswrap.sh" "$builddir/certmapd" -f -c "$tmp/cached.conf"
start uncached sh "$srcdir/tests/lib/nsswrap.sh" "$builddir/certmapd" -f -c "$tmp/uncached.conf"
wait_sock "$tmp/cached.sock"; wait_sock "$tmp/uncached.sock"
# The floor answers with a reply of certmapd's size.
sh "$srcdir/tests/lib/nsswrap.sh" "$builddir/tests/service/svc_client" raw "$tmp/cached.sock" < "$tmp/req" \
	| head -c -1 > "$tmp/reply"; printf '\0' >> "$tmp/reply"
start echo "$client" echo "$tmp/echo.sock" "$tmp/reply"
wait_sock "$tmp/echo.sock"
echo "request $(wc -c < "$tmp/req") bytes, reply $(wc -c < "$tmp/reply") bytes, $(nproc) CPUs"

rss() { awk '/VmRSS/ { print $2 " kB" }' "/proc/$(pgrep -P "$1" certmapd || echo "$1")/status"; }
daemon_pid() { pgrep -P "$1" certmapd || echo "$1"; }
echo "certmapd RSS idle: $(rss "$pid_cached")"

pin() { for p in "$@"; do taskset -a -p -c 0 "$p" > /dev/null; done; }
unpin() { all=$(seq -s, 0 $(($(nproc) - 1))); for p in "$@"; do taskset -a -p -c "$all" "$p" > /dev/null; done; }
servers="$(daemon_pid "$pid_cached") $(daemon_pid "$pid_uncached") $pid_echo"

measure() { # label, socket, clients, taskset prefix
	printf '%-34s ' "$1"
	$4 "$client" run "$2" "$tmp/req" "$3" "$secs"
}
echo "--- round trip, 1 client, pinned to CPU 0 (client and service)"
pin $servers
"$client" count "$tmp/cached.sock" "$tmp/req" 1000 # warm the cache
measure "floor (raw echo)" "$tmp/echo.sock" 1 "taskset -c 0"
measure "certmapd Map, cached" "$tmp/cached.sock" 1 "taskset -c 0"
measure "certmapd Map, uncached" "$tmp/uncached.sock" 1 "taskset -c 0"
unpin $servers
echo "--- round trip, 1 client, unpinned"
measure "floor (raw echo)" "$tmp/echo.sock" 1 ""
measure "certmapd Map, cached" "$tmp/cached.sock" 1 ""
measure "certmapd Map, uncached" "$tmp/uncached.sock" 1 ""
echo "--- throughput, unpinned"
for c in 1 2 64; do
	measure "floor (raw echo), $c clients" "$tmp/echo.sock" "$c" ""
	measure "certmapd cached, $c clients" "$tmp/cached.sock" "$c" ""
done
measure "certmapd uncached, 2 clients" "$tmp/uncached.sock" 2 ""
echo "--- memory"
echo "certmapd RSS before $n requests: $(rss "$pid_cached")"
"$client" count "$tmp/cached.sock" "$tmp/req" "$n"
echo "certmapd RSS after $n cached requests: $(rss "$pid_cached")"
"$client" count "$tmp/uncached.sock" "$tmp/req" 100000
echo "certmapd (uncached) RSS after 100000 uncached requests: $(rss "$pid_uncached")"
