#!/bin/sh
# certmapd out of file descriptors (issue 14, item 12): started under a low
# `ulimit -n` and given more connections than descriptors, it must not spin
# on the readable listener, must not flood the log, and must serve a
# client that waited once connections close.
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"
. "$srcdir/tests/service/svclib.sh"
svc_setup svc
HOLD="$builddir/tests/service/hold"

# A long timeout, so that only the test frees descriptors.
write_config "$tmp/certmap.conf" "max_connections_per_uid = 1000;"
sed -i 's/timeout = 2;/timeout = 60;/' "$tmp/certmap.conf"
LIMIT=48
if svc_launch sh -c 'ulimit -n "$1" && shift && exec "$@"' limit "$LIMIT" \
	sh "$srcdir/tests/lib/nsswrap.sh" "$CERTMAPD" --foreground --config "$tmp/certmap.conf" \
	--loops 2 --workers 1; then ok "daemon starts with ulimit -n $LIMIT"; else ko "daemon starts"; cat "$tmp/log"; finish; exit 1; fi
expect_exit "served before the flood" 0 client map "$sock" "$certs/alice.pem"

cpu_ticks() { # utime + stime of certmapd
	awk '{ print $14 + $15 }' "/proc/$pid/stat"
}
log_lines() { grep -c -i 'descriptor\|accept' "$tmp/log"; }

# Three times more connections than descriptors.
"$HOLD" "$sock" $((LIMIT * 3)) "$tmp/go" > "$tmp/hold.out" 2>&1 &
hold_pid=$!
sleep 1.5
if kill -0 "$pid" 2>/dev/null; then ok "alive while out of descriptors"; else ko "alive while out of descriptors"; fi
t0=$(cpu_ticks)
sleep 2
t1=$(cpu_ticks)
hz=$(getconf CLK_TCK)
# A spinning loop burns the whole 2 s (200 ticks at 100 Hz); allow a tenth.
if [ $((t1 - t0)) -le $((hz / 5)) ]; then
	ok "no spin: $((t1 - t0)) ticks of CPU in 2 s at the limit"
else
	ko "spinning: $((t1 - t0)) ticks of CPU in 2 s at the limit (CLK_TCK $hz)"
fi
n=$(log_lines)
if [ "$n" -ge 1 ] && [ "$n" -le 3 ]; then ok "the shortage is logged, rate-limited ($n lines)"; else ko "log lines about descriptors: $n"; tail -5 "$tmp/log"; fi

# A client that connects now waits in the backlog. It is served once the
# held connections close, or, if a loop looks at the listener again while
# it is still out of descriptors (it does after 1 s, and the release of
# the held connections may take longer on a busy machine), answered
# TooManyConnections at once. Either way it gets an answer long before its
# 30 s timeout: it never hangs.
late_t0=$(date +%s)
SVC_CLIENT_TIMEOUT_MS=30000 client map "$sock" "$certs/alice.pem" > "$tmp/late.out" 2>&1 &
late=$!
sleep 0.5
touch "$tmp/go"
wait "$hold_pid"
if wait "$late"; then
	ok "a waiting client is served once connections close"
elif [ $(($(date +%s) - late_t0)) -lt 20 ]; then
	ok "a waiting client is answered (refused while still at the limit), never left hanging"
else
	ko "a waiting client is left hanging"; cat "$tmp/late.out"
fi
expect_exit "served after the flood" 0 client map "$sock" "$certs/alice.pem"
expect_out "mapped" '"user":"alice"'
expect_exit "stats after the flood" 0 client stats "$sock"
n=$(log_lines)
if [ "$n" -le 3 ]; then ok "the whole episode took $n log lines"; else ko "the whole episode took $n log lines"; fi

stop_daemon
finish
