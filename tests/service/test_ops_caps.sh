#!/bin/sh
# certmapd started as root (as certmapd.service starts it) keeps nothing of
# root once it serves: its real, effective, saved and file-system ids are
# service.user's, its supplementary groups are service.user's, it holds no
# capability in any set, and so it cannot write its configuration. The
# credentials are read from the running process (/proc/PID/status) and a
# process given exactly those credentials (setpriv) tries the write.
# Needs root and setpriv; skips otherwise.
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: starting certmapd as root needs root"
	exit 77
fi
if ! command -v setpriv >/dev/null 2>&1; then
	echo "SKIP: setpriv (util-linux) is not installed"
	exit 77
fi

. "$srcdir/tests/service/svclib.sh"
svc_setup ops-caps
SVC_USER=svc
SVC_UIDS=0
SVC_LIMITS=
svc_passwd 'alice:x:1000:1000:Alice:/home/alice:/bin/sh' 'svc:x:4300:4300::/:/bin/sh' 'root:x:0:0:root:/root:/bin/sh'
svc_group 'alice:x:1000:' 'svc:x:4300:' 'svcextra:x:4301:svc' 'root:x:0:'

sock="$tmp/run/socket"
write_config "$tmp/certmap.conf"
# Root's file, readable by all (so reloads work), writable by root alone.
chmod 644 "$tmp/certmap.conf"
require_daemon "certmapd starts as root" "$tmp/certmap.conf"
expect_exit "it answers" 0 sh "$srcdir/tests/lib/nsswrap.sh" "$CLIENT" map "$sock" "$certs/alice.pem"

status=$(cat "/proc/$pid/status")
field() { printf '%s\n' "$status" | sed -n "s/^$1:[[:space:]]*//p" | tr -s ' \t' ' ' | sed 's/ $//'; }
out=$(field Uid)
if [ "$out" = "4300 4300 4300 4300" ]; then ok "Uid: real, effective, saved, fs are service.user's"; else ko "Uid: '$out'"; fi
out=$(field Gid)
if [ "$out" = "4300 4300 4300 4300" ]; then ok "Gid: service.user's primary group"; else ko "Gid: '$out'"; fi
groups=$(field Groups)
if [ "$groups" = "4301" ] || [ "$groups" = "4300 4301" ]; then ok "Groups: service.user's ($groups), none of root's"; else ko "Groups: '$groups'"; fi
for set in CapInh CapPrm CapEff CapAmb; do
	out=$(field $set)
	if [ "$out" = "0000000000000000" ]; then ok "$set is empty"; else ko "$set is $out"; fi
done

# A process with exactly those credentials and no capability cannot
# write the configuration, nor replace it in its directory.
as_daemon() {
	setpriv --reuid=4300 --regid=4300 --groups="$(printf '%s' "$groups" | tr ' ' ,)" \
		--inh-caps=-all --bounding-set=-all "$@"
}
sum=$(cksum < "$tmp/certmap.conf")
# (sh exits 2 when it cannot open a redirection.)
expect_exit "with certmapd's credentials: append to the config" 2 \
	as_daemon sh -c "echo 'x' >> '$tmp/certmap.conf'"
expect_out "refused by the kernel" "Permission denied"
expect_exit "with certmapd's credentials: create a file beside it" 2 \
	as_daemon sh -c "echo 'x' > '$tmp/new.conf'"
expect_out "refused by the kernel" "Permission denied"
expect_exit "with certmapd's credentials: the config is still readable (reload)" 0 \
	as_daemon cat "$tmp/certmap.conf"
if [ "$(cksum < "$tmp/certmap.conf")" = "$sum" ]; then ok "the config is unchanged"; else ko "the config changed"; fi
# The same writes with service.user's ids but root's capabilities
# (CAP_DAC_OVERRIDE) succeed: the refusal above comes from the dropped
# capabilities, which is what the /proc check is about.
cp "$tmp/certmap.conf" "$tmp/copy.conf"
expect_exit "control: with CAP_DAC_OVERRIDE the write succeeds" 0 \
	setpriv --reuid=4300 --regid=4300 --clear-groups --inh-caps=+dac_override \
	--ambient-caps=+dac_override sh -c "echo '# x' >> '$tmp/copy.conf'"

kill -TERM "$pid"
if wait "$pid"; then ok "SIGTERM: exit 0"; else ko "SIGTERM: exit status"; fi
pid=
finish
