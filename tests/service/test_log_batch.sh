#!/bin/sh
# certmapd's event loops write the records of cached answers to standard
# error in batches (service/log.c): one write() for many lines, a few
# milliseconds late at most. This checks what an administrator reading
# `certmapd -f`'s output relies on:
# - 2000 cached answers on one connection give 2000 records, each a whole
#   line, in the order of the requests (three certificates in an irregular
#   pattern), with far fewer write() calls than records;
# - a record of a service that goes idle right after is written within a
#   second;
# - stopping writes what is held.
# (tests/service/test_log.c checks the rules one by one: due time, full
# buffer, warnings not held back, other threads at once.)
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"

. "$srcdir/tests/service/svclib.sh"
if [ -S /run/systemd/journal/socket ]; then
	# Decision records go to journald then, not to standard error.
	echo "SKIP: journald listens on this machine"
	exit 77
fi
svc_setup log-batch
SVC_FRESH=1
SVC_LIMITS="timeout = 30; cache_ttl = 300; cache_size = 100;"
SVC_RULES='  { name = "any"; priority = 10; match = "<SUBJECT>.*"; map = "LOCAL:alice"; domains = ["local"]; }'
write_config "$tmp/certmap.conf"
require_daemon "daemon starts" "$tmp/certmap.conf" --loops 2

frame() { printf '{"method":"org.certmap.Mapper.Map","parameters":{"certificate":"%s"}}\0' "$1"; }
set -- alice bob-ec ec384
for c in "$@"; do
	"${OPENSSL:-openssl}" x509 -in "$certs/$c.pem" -outform DER > "$tmp/$c.der"
	sha256sum < "$tmp/$c.der" | cut -d' ' -f1 > "$tmp/$c.sha"
	base64 -w0 < "$tmp/$c.der" > "$tmp/$c.b64"
	frame "$(cat "$tmp/$c.b64")" > "$tmp/$c.req"
	# The first answer for each is computed (a worker writes its record):
	# the 2000 below, the same frames, all come from the cache, on a loop.
	expect_exit "$c maps (into the cache)" 0 "$CLIENT" raw "$sock" < "$tmp/$c.req"
	expect_out "$c: mapped" '"user":"alice"'
done
b0=$(cat "$tmp/alice.b64"); b1=$(cat "$tmp/bob-ec.b64"); b2=$(cat "$tmp/ec384.b64")
s0=$(cat "$tmp/alice.sha"); s1=$(cat "$tmp/bob-ec.sha"); s2=$(cat "$tmp/ec384.sha")

# 2000 requests, the same frames; the certificate of request i follows
# no period a reordering could hide behind.
n=2000
: > "$tmp/req"; : > "$tmp/want"
i=1
while [ $i -le $n ]; do
	k=$(( (i * i + i / 7) % 3 ))
	eval "b=\$b$k; s=\$s$k"
	frame "$b" >> "$tmp/req"
	echo "$s" >> "$tmp/want"
	i=$((i + 1))
done

# write() calls of the whole process (every thread), when the kernel counts them.
syscw() { sed -n 's/^syscw: //p' "/proc/$pid/io" 2>/dev/null; }
w0=$(syscw)
# Round trips on one connection, as a busy TLS server asks.
"$builddir/bench/service/bench_first" send "$sock" "$tmp/req" 1 > "$tmp/send.out" 2>&1 &
spid=$!
if wait "$spid"; then ok "$n cached requests on one connection"; else ko "$n cached requests on one connection"; cat "$tmp/send.out"; fi
w1=$(syscw)

# A record as certmapd -f writes it: certmapd[PID]: decision ... time_us=N.
record='^certmapd\[[0-9]*\]: decision mapped user="alice" rule="any" domain="local" cert_sha256=[0-9a-f]\{64\} subject="[^"]*" issuer="[^"]*" peer_uid=[0-9]* peer_pid='$spid' cached=yes time_us=[0-9]*$'
wait_grep_count() { # PATTERN FILE COUNT: until FILE has COUNT lines that match, 5 s at most
	wc_i=0
	while [ "$(grep -c -- "$1" "$2")" -lt "$3" ] && [ $wc_i -lt 100 ]; do
		sleep 0.05; wc_i=$((wc_i + 1))
	done
}
wait_grep_count "peer_pid=$spid cached=yes" "$tmp/log" $n
lines=$(grep -c "peer_pid=$spid cached=yes" "$tmp/log")
whole=$(grep -c -- "$record" "$tmp/log")
if [ "$lines" -eq $n ] && [ "$whole" -eq $n ]; then
	ok "$n records of cached answers, each a whole line"
else
	ko "$n records of cached answers, each a whole line ($lines records, $whole whole)"
	grep "peer_pid=$spid cached=yes" "$tmp/log" | grep -v -- "$record" | head -5
fi
# A line cut in two would leave a piece without the "certmapd[PID]: " start.
if grep -v '^certmapd\[[0-9]*\]: ' "$tmp/log" | grep -q .; then
	ko "every line of the log starts with certmapd[PID]"
	grep -v '^certmapd\[[0-9]*\]: ' "$tmp/log" | head -5
else
	ok "every line of the log starts with certmapd[PID]"
fi
grep "peer_pid=$spid cached=yes" "$tmp/log" | sed 's/.* cert_sha256=\([0-9a-f]*\) .*/\1/' > "$tmp/got"
if cmp -s "$tmp/want" "$tmp/got"; then
	ok "the records are in the order of the requests"
else
	ko "the records are in the order of the requests"
	diff "$tmp/want" "$tmp/got" | head -10
fi
if [ -n "$w0" ] && [ -n "$w1" ]; then
	# Without batching each record is a write() of its own.
	writes=$((w1 - w0))
	if [ "$writes" -lt $((n / 4)) ]; then
		ok "$n records in $writes write() calls"
	else
		ko "$n records in $writes write() calls (want fewer than $((n / 4)))"
	fi
else
	echo "SKIP: /proc/$pid/io has no syscw: write() calls not counted"
fi

# ------------------------------------------------- an idle service
# One of the frames above (a cached answer), from a client whose pid is
# the record's peer_pid.
map_pid() { "$CLIENT" raw "$sock" < "$tmp/$1.req" > /dev/null & }
# One cached answer, then nothing: its record must not wait for more.
map_pid bob-ec
cpid=$!
wait "$cpid"
if wait_grep "peer_pid=$cpid cached=yes" "$tmp/log" 1; then
	ok "an idle service writes the record within a second"
else
	ko "an idle service writes the record within a second"
	tail -3 "$tmp/log"
fi

# ------------------------------------------------- stopping
# SIGTERM right after an answer: the loop writes what it holds as it stops.
map_pid ec384
cpid=$!
wait "$cpid"
stop_daemon
if grep -q "peer_pid=$cpid cached=yes" "$tmp/log"; then
	ok "a record made just before the stop is written"
else
	ko "a record made just before the stop is written"
fi
finish
