#!/bin/sh
# Who may connect to certmapd, and what the log says about those who may not:
# - a flood of refused connections writes a bounded number of log lines and
#   one "suppressed N" summary with the exact count;
# - the refusal line names the settings to change;
# - service.allowed_gids admits a peer by a supplementary group, as
#   `usermod -aG certmapc web` would give it (root only: setpriv).
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"

CERTMAPD="$builddir/certmapd"
CLIENT="$builddir/tests/service/svc_client"
mkdir -p "$builddir/tests"
tmp=$(mktemp -d "$builddir/tests/tmp-ops-peers.XXXXXX")
chmod 755 "$tmp"
pid=
stop_daemon() {
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		pid=
	fi
}
trap 'stop_daemon; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

printf 'alice:x:1000:1000:Alice:/home/alice:/bin/sh\nweb:x:4100:4100::/:/bin/sh\nroot:x:0:0:root:/root:/bin/sh\n' > "$tmp/passwd"
printf 'alice:x:1000:\nweb:x:4100:\ncertmapc:x:3000:web\nroot:x:0:\n' > "$tmp/group"
NSS_WRAPPER_PASSWD="$tmp/passwd"; NSS_WRAPPER_GROUP="$tmp/group"
export NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
sock="$tmp/sock"

write_config() { # $1: file, $2: allowed_uids, $3: allowed_gids
	cat > "$1" <<EOC
verify = { ca_file = "$certs/ca.pem"; };
domains = ( { name = "local"; type = "local"; } );
rules = (
  { name = "upn"; priority = 10; match = "<EKU>clientAuth";
    map = "LOCAL:{subject_principal.short_name}"; domains = ["local"]; }
);
service = { socket = "$sock"; user = "root"; allowed_uids = [$2]; allowed_gids = [$3];
  timeout = 5; cache_ttl = 60; cache_size = 100; };
EOC
}

start_daemon() { # $1: config
	rm -f "$sock"
	: > "$tmp/log"
	sh "$srcdir/tests/lib/nsswrap.sh" "$CERTMAPD" --foreground --config "$1" >> "$tmp/log" 2>&1 &
	pid=$!
	i=0
	while ! grep -q " serving " "$tmp/log" && [ $i -lt 50 ] && kill -0 "$pid" 2>/dev/null; do
		sleep 0.1; i=$((i + 1))
	done
	grep -q " serving " "$tmp/log" && [ -S "$sock" ]
}
client() { sh "$srcdir/tests/lib/nsswrap.sh" "$CLIENT" "$@"; }

# ------------------------------------------------- a flood of refused peers
# This test's own uid is not allowed: every connection is refused.
me=$(id -u)
other=$((me == 54321 ? 54322 : 54321))
write_config "$tmp/refuse.conf" "$other" ""
if start_daemon "$tmp/refuse.conf"; then ok "daemon starts"; else ko "daemon starts"; cat "$tmp/log"; finish; exit 1; fi
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
	write_config "$tmp/groups.conf" "0" "3000"
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
