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

CERTMAPD="$builddir/certmapd"
CLIENT="$builddir/tests/service/svc_client"
mkdir -p "$builddir/tests"
tmp=$(mktemp -d "$builddir/tests/tmp-ops-root.XXXXXX")
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

printf 'alice:x:1000:1000:Alice:/home/alice:/bin/sh\nsvc:x:4300:4300::/:/bin/sh\nroot:x:0:0:root:/root:/bin/sh\n' > "$tmp/passwd"
printf 'alice:x:1000:\nsvc:x:4300:\nroot:x:0:\n' > "$tmp/group"
chmod 644 "$tmp/passwd" "$tmp/group"
NSS_WRAPPER_PASSWD="$tmp/passwd"; NSS_WRAPPER_GROUP="$tmp/group"
export NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP

write_config() { # $1: file, $2: socket, $3: CA file
	cat > "$1" <<EOC
verify = { ca_file = "$3"; };
domains = ( { name = "local"; type = "local"; } );
rules = (
  { name = "upn"; priority = 10; match = "<EKU>clientAuth";
    map = "LOCAL:{subject_principal.short_name}"; domains = ["local"]; }
);
service = { socket = "$2"; user = "svc"; allowed_uids = [0];
  timeout = 5; cache_ttl = 60; cache_size = 100; };
EOC
}

start_daemon() { # $1: config, $2: socket
	: > "$tmp/log"
	sh "$srcdir/tests/lib/nsswrap.sh" "$CERTMAPD" --foreground --config "$1" >> "$tmp/log" 2>&1 &
	pid=$!
	i=0
	while ! grep -q " serving " "$tmp/log" && [ $i -lt 50 ] && kill -0 "$pid" 2>/dev/null; do
		sleep 0.1; i=$((i + 1))
	done
	grep -q " serving " "$tmp/log" && [ -S "$2" ]
}
client() { sh "$srcdir/tests/lib/nsswrap.sh" "$CLIENT" "$@"; }

# ------------------------------------------------- the socket goes at stop
sock="$tmp/run/socket"
write_config "$tmp/certmap.conf" "$sock" "$certs/ca.pem"
chmod 644 "$tmp/certmap.conf"
if start_daemon "$tmp/certmap.conf" "$sock"; then ok "daemon starts as root"; else ko "daemon starts as root"; cat "$tmp/log"; finish; exit 1; fi
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
if start_daemon "$tmp/certmap.conf" "$sock"; then ok "second start"; else ko "second start"; cat "$tmp/log"; fi
stop_daemon
if [ ! -e "$sock" ]; then ok "removed again"; else ko "removed again"; fi

# A directory that is root's and not certmapd's: said at start.
write_config "$tmp/rootdir.conf" "$tmp/rootdir.sock" "$certs/ca.pem"
chmod 644 "$tmp/rootdir.conf"
if start_daemon "$tmp/rootdir.conf" "$tmp/rootdir.sock"; then ok "starts with the socket in root's directory"; else ko "starts in root's directory"; cat "$tmp/log"; fi
stop_daemon
out=$(cat "$tmp/log")
expect_out "start-up says the socket will stay" "$tmp/rootdir.sock will stay after certmapd stops"

# ------------------------------------------------- files service.user cannot read
mkdir "$tmp/private"
chmod 700 "$tmp/private"
cp "$certs/ca.pem" "$tmp/private/ca.pem"
chmod 644 "$tmp/private/ca.pem"
write_config "$tmp/secret.conf" "$sock" "$tmp/private/ca.pem"
chmod 600 "$tmp/secret.conf"
if start_daemon "$tmp/secret.conf" "$sock"; then ok "starts with files only root can read"; else ko "starts with unreadable files"; cat "$tmp/log"; fi
out=$(cat "$tmp/log")
expect_out "warns about the configuration, by name" \
	"service.user svc (uid 4300) cannot read $tmp/secret.conf (not readable: mode 0600, owner 0, group 0)"
expect_out "gives the fix" "chgrp svc $tmp/secret.conf && chmod g+r $tmp/secret.conf"
expect_out "warns about the CA file in a private directory" \
	"service.user svc (uid 4300) cannot read $tmp/private/ca.pem (the directory $tmp/private is not searchable: mode 0700"
expect_out "and points at the directories" "g+x on each directory above it that svc cannot search"
# The warning is right: a reload as svc fails.
kill -HUP "$pid"; sleep 0.5
out=$(cat "$tmp/log")
expect_out "the reload indeed fails" "keeping the running configuration"
stop_daemon

finish
