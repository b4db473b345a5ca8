#!/bin/sh
# Who may connect to certmapd, and what the log says about those who may not:
# - a flood of refused connections writes a bounded number of log lines and
#   one "suppressed N" summary with the exact count;
# - the refusal line names the settings to change;
# - service.allowed_gids admits a peer by a supplementary group, as
#   `usermod -aG certmapc web` would give it (root only: setpriv).
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"

. "$srcdir/tests/service/svclib.sh"
svc_setup ops-peers
SVC_FRESH=1
SVC_LIMITS="timeout = 5; cache_ttl = 60; cache_size = 100;"
svc_passwd 'alice:x:1000:1000:Alice:/home/alice:/bin/sh' 'web:x:4100:4100::/:/bin/sh' 'root:x:0:0:root:/root:/bin/sh'
svc_group 'alice:x:1000:' 'web:x:4100:' 'certmapc:x:3000:web' 'root:x:0:'

# ------------------------------------------------- a flood of refused peers
# This test's own uid is not allowed: every connection is refused.
me=$(id -u)
other=$((me == 54321 ? 54322 : 54321))
SVC_UIDS=$other
write_config "$tmp/refuse.conf" "allowed_gids = [];"
require_daemon "daemon starts" "$tmp/refuse.conf"
printf '{"method":"org.varlink.service.GetInfo"}\0' > "$tmp/req"
n=300
i=0
while [ $i -lt $n ]; do
	"$CLIENT" raw "$sock" < "$tmp/req" > "$tmp/raw.out" 2>&1
	i=$((i + 1))
done
out=$(cat "$tmp/raw.out")
expect_out "the peer is told it is refused" '"error":"org.certmap.Mapper.PermissionDenied"'
stop_daemon
lines=$(grep -c "refused a connection from uid $me" "$tmp/log")
if [ "$lines" -ge 1 ] && [ "$lines" -le 10 ]; then
	ok "$n refused connections give $lines log lines"
else
	ko "$n refused connections give $lines log lines (want 1 to 10)"
fi
out=$(grep "refused a connection from uid $me" "$tmp/log" | head -1)
expect_out "the refusal names the settings to change" \
	"add it to service.allowed_uids or a group in service.allowed_gids"
expect_no_out "no function names in the log" "accept_one"
out=$(grep "suppressed" "$tmp/log")
expect_out "one summary with the exact count" \
	"suppressed $((n - lines)) more refused connections from uid $me"
total=$(wc -l < "$tmp/log")
if [ "$total" -le 20 ]; then ok "the whole log stays short ($total lines)"; else ko "the whole log stays short ($total lines)"; head -30 "$tmp/log"; fi

# ------------------------------------------------- supplementary groups
if [ "$me" -eq 0 ] && command -v setpriv >/dev/null 2>&1; then
	SVC_UIDS=0
	write_config "$tmp/groups.conf" "allowed_gids = [3000];"
	if start_daemon "$tmp/groups.conf"; then ok "daemon starts (allowed_gids = [3000])"; else ko "daemon starts"; cat "$tmp/log"; fi
	# setpriv runs under nss_wrapper, so --init-groups takes web's groups
	# from the test's group file, as a login of web would.
	expect_exit "web, member of certmapc (3000) by the group file, is allowed" 0 \
		sh "$srcdir/tests/lib/nsswrap.sh" setpriv --reuid=4100 --regid=4100 --init-groups \
		"$CLIENT" map "$sock" "$certs/alice.pem"
	expect_out "and gets its answer" '"user":"alice"'
	expect_exit "web with 3000 as one of several groups is allowed" 0 \
		setpriv --reuid=4100 --regid=4100 --groups=100,3000,4100 "$CLIENT" map "$sock" "$certs/alice.pem"
	expect_exit "web without its supplementary groups is refused" 3 \
		setpriv --reuid=4100 --regid=4100 --clear-groups "$CLIENT" map "$sock" "$certs/alice.pem"
	expect_exit "primary group 3000 is allowed as before" 0 \
		setpriv --reuid=4200 --regid=3000 --clear-groups "$CLIENT" map "$sock" "$certs/alice.pem"
	expect_exit "other groups only: refused" 3 \
		setpriv --reuid=4200 --regid=4200 --groups=100,2999,3001 "$CLIENT" map "$sock" "$certs/alice.pem"
	stop_daemon
	out=$(cat "$tmp/log")
	expect_out "the refused uid is logged with the settings to change" \
		"refused a connection from uid 4100 (gid 4100"
else
	echo "SKIP: supplementary groups need root and setpriv"
fi

finish
