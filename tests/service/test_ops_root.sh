#!/bin/sh
# certmapd started by hand as root, switching to service.user (an
# nss_wrapper account):
# - a clean stop removes the socket, in the directory certmapd created;
# - start-up warns, naming the file and the fix, when service.user will not
#   be able to re-read a file on reload (the configuration, a CA file in a
#   private directory); no warning when it can.
# Needs root; skips otherwise.
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: starting certmapd as root needs root"
	exit 77
fi

. "$srcdir/tests/service/svclib.sh"
svc_setup ops-root
SVC_FRESH=1
SVC_USER=svc
SVC_UIDS=0
SVC_LIMITS="timeout = 5; cache_ttl = 60; cache_size = 100;"
svc_passwd 'alice:x:1000:1000:Alice:/home/alice:/bin/sh' 'svc:x:4300:4300::/:/bin/sh' 'root:x:0:0:root:/root:/bin/sh'
svc_group 'alice:x:1000:' 'svc:x:4300:' 'root:x:0:'

# ------------------------------------------------- the socket goes at stop
sock="$tmp/run/socket"
write_config "$tmp/certmap.conf"
chmod 644 "$tmp/certmap.conf"
require_daemon "daemon starts as root" "$tmp/certmap.conf"
expect_exit "mapped" 0 client map "$sock" "$certs/alice.pem"
uid=$(ps -o uid= -p "$pid" | tr -d ' ')
if [ "$uid" = 4300 ]; then ok "runs as service.user (uid 4300)"; else ko "runs as service.user (uid '$uid')"; fi
out=$(stat -c '%u %a' "$tmp/run")
expect_out "the socket directory it made belongs to service.user" "4300 755"
out=$(cat "$tmp/log")
expect_no_out "no readability warning for readable files" "cannot read"
expect_no_out "no warning that the socket will stay" "will stay after certmapd stops"
kill -TERM "$pid"
if wait "$pid"; then ok "SIGTERM: exit 0"; else ko "SIGTERM: exit status"; fi
pid=
if [ ! -e "$sock" ]; then ok "the socket is removed after the switch to service.user"; else ko "the socket is removed"; fi
out=$(cat "$tmp/log")
expect_no_out "no 'cannot remove' in the log" "cannot remove"
# A second start finds the directory (now svc's) and stops as cleanly.
if start_daemon "$tmp/certmap.conf"; then ok "second start"; else ko "second start"; cat "$tmp/log"; fi
stop_daemon
if [ ! -e "$sock" ]; then ok "removed again"; else ko "removed again"; fi

# A directory that is root's and not certmapd's: said at start.
sock="$tmp/rootdir.sock"
write_config "$tmp/rootdir.conf"
chmod 644 "$tmp/rootdir.conf"
if start_daemon "$tmp/rootdir.conf"; then ok "starts with the socket in root's directory"; else ko "starts in root's directory"; cat "$tmp/log"; fi
stop_daemon
out=$(cat "$tmp/log")
expect_out "start-up says the socket will stay" "$tmp/rootdir.sock will stay after certmapd stops"

# ------------------------------------------------- files service.user cannot read
mkdir "$tmp/private"
chmod 700 "$tmp/private"
cp "$certs/ca.pem" "$tmp/private/ca.pem"
chmod 644 "$tmp/private/ca.pem"
sock="$tmp/run/socket"
SVC_CA="$tmp/private/ca.pem"
write_config "$tmp/secret.conf"
chmod 600 "$tmp/secret.conf"
if start_daemon "$tmp/secret.conf"; then ok "starts with files only root can read"; else ko "starts with unreadable files"; cat "$tmp/log"; fi
out=$(cat "$tmp/log")
expect_out "warns about the configuration, by name" \
	"service.user svc (uid 4300) cannot read $tmp/secret.conf (not readable: mode 0600, owner 0, group 0)"
expect_out "gives the fix" "chgrp svc $tmp/secret.conf && chmod g+r $tmp/secret.conf"
expect_out "warns about the CA file in a private directory" \
	"service.user svc (uid 4300) cannot read $tmp/private/ca.pem (the directory $tmp/private is not searchable: mode 0700"
expect_out "and points at the directories" "g+x on each directory above it that svc cannot search"
# The warning is right: a reload as svc fails.
kill -HUP "$pid"
wait_grep "keeping the running configuration" "$tmp/log"
out=$(cat "$tmp/log")
expect_out "the reload indeed fails" "keeping the running configuration"
stop_daemon

finish
