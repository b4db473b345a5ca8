#!/bin/sh
# certmapd performance: a raw Unix-socket echo of the same request and reply
# sizes (the floor) against certmapd's cached and uncached Map round trips,
# pinned to one CPU and unpinned; throughput with 1, 2 and 64 clients; RSS
# idle and after BENCH_N (default 1,000,000) requests. First contact:
# BENCH_LEAVES (default 2000) certificates never seen, signed by the test CA
# at bench time, against d2i_X509 + X509_verify_cert of the same ones
# in-process; a certificate seen before with a new requested user each time
# (an answer-cache miss). Ends with the machine-readable `ratio NAME VALUE`
# lines of issue 16.
# Decision records go to certmapd's standard error, a file (certmapd -f).
# With BENCH_LOG=journal (root and unshare), they go to journald's socket
# as under systemd: the bench runs in a private mount namespace with a
# tmpfs on /run and tests/lib/logsink, a journald stand-in, at
# /run/systemd/journal/socket. That costs certmapd several microseconds
# more per record (a datagram and the receiver's wake-up): the ratios of
# issue 16 are taken with the file.
# Usage: run.sh BUILDDIR SRCDIR   (make bench-service passes both)
set -u
builddir=${1:?builddir}; srcdir=${2:?srcdir}
if [ "${BENCH_LOG:-}" = journal ] && [ "${CERTMAP_BENCH_NS:-}" != 1 ]; then
	if [ "$(id -u)" -ne 0 ] || ! unshare -m --propagation private true 2>/dev/null; then
		echo "BENCH_LOG=journal needs root and unshare -m" >&2
		exit 2
	fi
	CERTMAP_BENCH_NS=1 exec unshare -m --propagation private sh "$0" "$@"
fi
certs="$builddir/tests/certs/out"
secs=${BENCH_SECONDS:-1}
n=${BENCH_N:-1000000}
client="$builddir/bench/service/bench_client"
first="$builddir/bench/service/bench_first"
leaves=${BENCH_LEAVES:-2000}
tmp=$(mktemp -d /tmp/certmap-bench.XXXXXX)
pids=
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 1' INT TERM

sink_pid=
# start_sink OUT: the journald stand-in, writing what arrives to OUT.
start_sink() {
	[ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null && wait "$sink_pid" 2>/dev/null
	: > "$tmp/sink.ready"
	"$builddir/tests/lib/logsink" "$1" /run/systemd/journal/socket "$tmp/syslog" \
		> "$tmp/sink.ready" 2>&1 &
	sink_pid=$!
	pids="$pids $sink_pid"
	i=0; while ! grep -q ready "$tmp/sink.ready" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}
if [ "${CERTMAP_BENCH_NS:-}" = 1 ]; then
	mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/journal
	start_sink "$tmp/journal"
	echo "decision records: to a journald stand-in (tests/lib/logsink) in a private /run"
else
	echo "decision records: to certmapd's standard error, a file (BENCH_LOG=journal: to a journald stand-in)"
fi
. "$srcdir/bench/service/benchlib.sh"
bench_accounts "$tmp"
conf() { # file socket ttl
	bench_conf "$1" "socket = \"$2\"; user = \"root\"; allowed_uids = [$(id -u)]; timeout = 60; cache_ttl = $3;"
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
if [ -n "$sink_pid" ]; then
	# The records are there; from now on the stand-in writes them to
	# /dev/null (over a million of them would fill a disk).
	echo "records at the stand-in: $(grep -c '^CERTMAP_USER=alice' "$tmp/journal")"
	start_sink /dev/null
fi
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
	$4 "$client" run "$2" "$tmp/req" "$3" "$secs" | tee "$tmp/last"
}
# field NAME: the value of NAME=... in the last measurement
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" "$tmp/last"; }
ratio() { awk -v a="$2" -v b="$3" 'BEGIN { printf "ratio %s %.3f\n", ARGV[1], a / b }' "$1" >> "$tmp/ratios"; }
: > "$tmp/ratios"
echo "--- first contact ($leaves certificates never seen) and repeated certificates, pinned to CPU 0"
"$first" gen "$certs/ca.pem" "$certs/ca.key" "$leaves" "$tmp"
"$first" users "$certs/alice.der" 20000 "$tmp/users.req"
pin $servers
# best ROUNDS LABEL COMMAND...: the least mean_rtt_us of ROUNDS runs.
best() {
	b_rounds=$1; b_label=$2; shift 2
	printf '%-34s ' "$b_label"
	for b_i in $(seq "$b_rounds"); do "$@"; done | tee "$tmp/runs" | tr '\n' ' '
	sed -n 's/.*mean_rtt_us=\([0-9.]*\).*/\1/p' "$tmp/runs" | sort -n | head -1 > "$tmp/best"
	echo "-> best $(cat "$tmp/best")"
}
taskset -c 0 "$first" first "$tmp/cached.sock" "$certs/ca.pem" "$tmp/leaves.der" "$tmp/leaves.req" 4 \
	| tee "$tmp/last"
ratio first_contact_vs_openssl "$(field first_contact_us)" "$(field openssl_us)"
"$client" count "$tmp/cached.sock" "$tmp/req" 10 # alice is known
best 3 "floor (raw echo)" taskset -c 0 "$client" run "$tmp/echo.sock" "$tmp/req" 1 "$secs"
echo_us=$(cat "$tmp/best")
printf '%-34s ' "certmapd Map, same cert, new user"
taskset -c 0 "$first" send "$tmp/cached.sock" "$tmp/users.req" 4 | tee "$tmp/last"
ratio same_cert_new_request_vs_echo "$(field mean_rtt_us)" "$echo_us"
unpin $servers
echo "--- round trip, 1 client, pinned to CPU 0 (client and service)"
pin $servers
"$client" count "$tmp/cached.sock" "$tmp/req" 1000 # warm the cache
# Echo and cached in turns, the best of each: a busy moment decides nothing.
: > "$tmp/echo.runs"; : > "$tmp/cached.runs"
for i in 1 2 3; do
	measure "floor (raw echo)" "$tmp/echo.sock" 1 "taskset -c 0"
	field mean_rtt_us >> "$tmp/echo.runs"
	measure "certmapd Map, cached" "$tmp/cached.sock" 1 "taskset -c 0"
	field mean_rtt_us >> "$tmp/cached.runs"
done
ratio cached_vs_echo "$(sort -n "$tmp/cached.runs" | head -1)" "$(sort -n "$tmp/echo.runs" | head -1)"
measure "certmapd Map, uncached" "$tmp/uncached.sock" 1 "taskset -c 0"
unpin $servers
echo "--- round trip, 1 client, unpinned"
measure "floor (raw echo)" "$tmp/echo.sock" 1 ""
measure "certmapd Map, cached" "$tmp/cached.sock" 1 ""
measure "certmapd Map, uncached" "$tmp/uncached.sock" 1 ""
echo "--- throughput, unpinned"
for c in 1 64; do
	measure "floor (raw echo), $c clients" "$tmp/echo.sock" "$c" ""
	measure "certmapd cached, $c clients" "$tmp/cached.sock" "$c" ""
done
: > "$tmp/echo.runs"; : > "$tmp/cached.runs"
for i in 1 2 3; do
	measure "floor (raw echo), 2 clients" "$tmp/echo.sock" 2 ""
	field rps >> "$tmp/echo.runs"
	measure "certmapd cached, 2 clients" "$tmp/cached.sock" 2 ""
	field rps >> "$tmp/cached.runs"
done
ratio two_clients_vs_echo "$(sort -n "$tmp/cached.runs" | tail -1)" "$(sort -n "$tmp/echo.runs" | tail -1)"
measure "certmapd uncached, 2 clients" "$tmp/uncached.sock" 2 ""
echo "--- memory"
rss_before=$(rss "$pid_cached")
echo "certmapd RSS before $n requests: $rss_before"
"$client" count "$tmp/cached.sock" "$tmp/req" "$n"
rss_after=$(rss "$pid_cached")
echo "certmapd RSS after $n cached requests: $rss_after"
echo "ratio rss_growth_mib $(awk -v a="${rss_after% kB}" -v b="${rss_before% kB}" 'BEGIN { printf "%.3f", (a - b) / 1024 }')" >> "$tmp/ratios"
"$client" count "$tmp/uncached.sock" "$tmp/req" 20000
echo "certmapd (uncached) RSS after 20000 uncached requests: $(rss "$pid_uncached")"
cat "$tmp/ratios"
