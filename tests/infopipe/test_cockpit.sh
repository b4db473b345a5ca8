#!/bin/sh
# Cockpit's certificate login against certmapd's InfoPipe face, with the
# real programs (Debian 12: cockpit-ws and cockpit-bridge 287): cockpit-tls
# asks for a client certificate, a cockpit-ws instance for that
# certificate runs cockpit-session, which asks org.freedesktop.sssd.infopipe
# (certmapd) who the certificate is, runs the "cockpit" PAM account and
# session stacks and starts cockpit-bridge as that user.
#
# Hermetic, as root: the test runs in private mount, network and cgroup
# namespaces. /run is a tmpfs there (its own system bus socket
# /run/dbus/system_bus_socket, which cockpit-session uses with a cleared
# environment, and /run/cockpit), and /etc/passwd, group, shadow,
# nsswitch.conf and pam.d/cockpit are bind-mounted copies. systemd's part
# (cockpit.service, the https-factory socket, the per-certificate
# cockpit-wsinstance-https@<sha256> socket and service) is played by
# cockpit_factory.sh behind systemd-socket-activate: it starts the
# instance in the cgroup
#   system.slice/system-cockpithttps.slice/cockpit-wsinstance-https@<sha256>.service
# of the test's cgroup namespace, because cockpit-session compares the
# "0::" line of its /proc/self/cgroup with the one cockpit-tls wrote at
# the top of the certificate file (that is how it knows the certificate
# is its instance's). Needs root, cockpit-ws, cockpit-bridge, dbus-daemon,
# systemd-socket-activate, unshare and a writable cgroup2 hierarchy;
# skips (77) and says what is missing otherwise.
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"
LIBEXEC=/usr/lib/cockpit
skip() { echo "SKIP: $*"; exit 77; }

if [ "${1:-}" != --in-namespace ]; then
	# ------------------------------------------------------------ outside: checks, cgroup
	[ "$(id -u)" -eq 0 ] || skip "needs root (namespaces, cockpit-session is setuid root)"
	for t in "$LIBEXEC/cockpit-tls" "$LIBEXEC/cockpit-ws" "$LIBEXEC/cockpit-session"; do
		[ -x "$t" ] || skip "$t missing (apt-get install cockpit-ws cockpit-bridge)"
	done
	for t in cockpit-bridge dbus-daemon busctl systemd-socket-activate unshare setpriv curl ip openssl; do
		command -v "$t" > /dev/null 2>&1 || skip "$t is not installed"
	done
	grep -q '^#define HAVE_SYSTEMD 1' "$builddir/config.h" ||
		skip "certmapd was built without libsystemd (no D-Bus face)"
	getent passwd cockpit-ws > /dev/null && getent passwd cockpit-wsinstance > /dev/null ||
		skip "the users cockpit-ws and cockpit-wsinstance are missing (cockpit-ws's postinst makes them)"
	# cockpit-session reads the first line of /proc/self/cgroup that starts
	# with "0::" (the cgroup2 hierarchy) or "1:name=systemd:"; the latter,
	# listed before "0::", would be the v1 path, which this test does not set.
	grep -q '^1:name=systemd:' /proc/self/cgroup &&
		skip "name=systemd is cgroup v1 hierarchy 1 here: cockpit-session would read its path, which this test does not set up"
	cg_mnt=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
	[ -n "$cg_mnt" ] || skip "no cgroup2 hierarchy is mounted"
	cg_self=$(sed -n 's/^0:://p' /proc/self/cgroup)
	CG=$cg_mnt${cg_self%/}/certmap-cockpit-$$
	mkdir "$CG" 2> /dev/null || skip "cannot make a cgroup under $cg_mnt${cg_self%/} (read-only cgroup2?)"
	unshare --mount --net --cgroup true 2> /dev/null || { rmdir "$CG"; skip "unshare --mount --net --cgroup fails here"; }

	# Everything the test starts lives in $CG: at the end its processes are
	# these and only these.
	cg_kill() {
		for p in $(find "$CG" -name cgroup.procs -exec cat {} + 2> /dev/null); do
			kill -KILL "$p" 2> /dev/null
		done
	}
	cg_remove() {
		i=0
		while [ -d "$CG" ] && [ $i -lt 50 ]; do
			cg_kill
			find "$CG" -depth -type d -exec rmdir {} + 2> /dev/null
			[ -d "$CG" ] && sleep 0.1
			i=$((i + 1))
		done
	}
	trap 'cg_remove' EXIT
	trap 'exit 1' INT TERM HUP
	export CG
	sh -c 'echo $$ > "$CG/cgroup.procs" && exec unshare --mount --net --cgroup --propagation private -- sh "$0" --in-namespace' "$0"
	exit $?
fi

# ---------------------------------------------------------------- inside the namespaces
# The cgroup namespace's root is $CG: /proc/self/cgroup says "0::/" here.
ip link set lo up
ws_uid=$(id -u cockpit-ws) ws_gid=$(id -g cockpit-ws)
wsi_uid=$(id -u cockpit-wsinstance) wsi_gid=$(id -g cockpit-wsinstance)
mount -t tmpfs -o mode=755 tmpfs /run
T=/run/certmap-test
mkdir -p $T/home/alice $T/home/bob /run/dbus /run/cockpit/wsinstance /run/cockpit/tls/server $T/xdg/cockpit
chown 1000:1000 $T/home/alice
chown 1001:1001 $T/home/bob
. "$srcdir/tests/service/svclib.sh"
. "$srcdir/tests/infopipe/ifplib.sh"
# certmapd's socket, configuration and log in $tmp.
svc_setup cockpit
cleanup_more() { ifp_bus_stop; }
# Keeps the logs for a failing run in the build tree.
keep_logs() {
	mkdir -p "$builddir/tests/cockpit-logs"
	rm -rf "$builddir/tests/cockpit-logs"; mkdir -p "$builddir/tests/cockpit-logs"
	cp $T/*.log $T/*.log.* "$builddir/tests/cockpit-logs/" 2> /dev/null
	cp "$tmp/log" "$builddir/tests/cockpit-logs/certmapd.log"
}

# ---------------------------------------------------------------- accounts, PAM
{
	printf 'root:x:0:0:root:/root:/bin/sh\n'
	printf 'cockpit-ws:x:%s:%s::/nonexisting:/usr/sbin/nologin\n' "$ws_uid" "$ws_gid"
	printf 'cockpit-wsinstance:x:%s:%s::/nonexisting:/usr/sbin/nologin\n' "$wsi_uid" "$wsi_gid"
	printf 'alice:x:1000:1000:Alice Liddell:%s/home/alice:/bin/sh\n' $T
	printf 'bob:x:1001:1001:Bob:%s/home/bob:/bin/sh\n' $T
	printf 'erin:x:1002:1002::/nonexistent:/bin/sh\nerin2:x:1003:1003::/nonexistent:/bin/sh\n'
	printf 'carol:x:1004:1004::/nonexistent:/bin/sh\n'
	printf 'nobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n'
} > $T/passwd
{
	printf 'root:x:0:\ncockpit-ws:x:%s:\ncockpit-wsinstance:x:%s:\n' "$ws_gid" "$wsi_gid"
	printf 'alice:x:1000:\nbob:x:1001:\nerin:x:1002:\nerin2:x:1003:\ncarol:x:1004:\ndev:x:2000:alice\nnogroup:x:65534:\n'
} > $T/group
printf 'root:*:19000:0:99999:7:::\nalice:*:19000:0:99999:7:::\nbob:*:19000:0:99999:7:::\ncarol:*:19000:0:99999:7:::\n' > $T/shadow
printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' > $T/nsswitch.conf
# cockpit-session runs the "cockpit" service's account and session stacks
# for a certificate login (no auth stack: the certificate is the proof).
printf 'auth required pam_unix.so\naccount required pam_unix.so\nsession required pam_unix.so\n' > $T/pam-cockpit
chmod 640 $T/shadow
for f in passwd group shadow nsswitch.conf; do mount --bind $T/$f /etc/$f; done
mount --bind $T/pam-cockpit /etc/pam.d/cockpit
NSS_WRAPPER_PASSWD=$T/passwd NSS_WRAPPER_GROUP=$T/group
export NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP

# ---------------------------------------------------------------- the system bus
ifp_bus_conf $T/bus.conf /run/dbus/system_bus_socket
ifp_bus_start $T/bus.conf /run/dbus/system_bus_socket $T/bus.log
unset DBUS_SYSTEM_BUS_ADDRESS
if [ -S /run/dbus/system_bus_socket ]; then ok "private system bus at /run/dbus/system_bus_socket"; else
	ko "private system bus"; cat $T/bus.log; keep_logs; finish; exit 1
fi

# ---------------------------------------------------------------- certmapd
conf=$tmp/certmap.conf
SVC_LIMITS=
SVC_UIDS=0
write_config "$conf" "infopipe = true;"
if ifp_start "$conf"; then ok "certmapd owns $IFP"; else
	ko "certmapd on the bus"; cat "$tmp/log"; keep_logs; finish; exit 1
fi

# ---------------------------------------------------------------- cockpit
printf '[WebService]\nClientCertAuthentication = yes\nLoginTitle = certmap test\n' > $T/xdg/cockpit/cockpit.conf
cp "$certs/serverauth.pem" /run/cockpit/tls/server/cert
cp "$certs/serverauth.key" /run/cockpit/tls/server/key
chown -R "$ws_uid:$ws_gid" /run/cockpit/tls
chmod 700 /run/cockpit/tls
# The factory (systemd's cockpit-wsinstance-https-factory.socket): root,
# one cockpit_factory.sh per connection on its standard input and output.
(umask 077; exec systemd-socket-activate --accept --inetd -l /run/cockpit/wsinstance/https-factory.sock \
	-E CG_HOST="$CG" -E WSI_UID="$wsi_uid" -E WSI_GID="$wsi_gid" -E WS_UID="$ws_uid" \
	-E XDG_CONFIG_DIRS=$T/xdg -E FACTORY_LOG=$T/factory.log -E G_MESSAGES_DEBUG=all \
	sh "$srcdir/tests/infopipe/cockpit_factory.sh") 2>> $T/factory.log &
i=0
while [ ! -S /run/cockpit/wsinstance/https-factory.sock ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
chown "$ws_uid:$ws_gid" /run/cockpit/wsinstance/https-factory.sock
port=9090
setpriv --reuid="$ws_uid" --regid="$ws_gid" --clear-groups -- env -i PATH=/usr/bin:/bin \
	RUNTIME_DIRECTORY=/run/cockpit/tls XDG_CONFIG_DIRS=$T/xdg \
	"$LIBEXEC/cockpit-tls" --port=$port --idle-timeout=0 >> $T/cockpit-tls.log 2>&1 &
i=0
while ! curl -sk -o /dev/null https://127.0.0.1:$port/ 2> /dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ $i -lt 100 ]; then ok "cockpit-tls listens"; else ko "cockpit-tls listens"; cat $T/cockpit-tls.log; fi

# login NAME CERT: GET /cockpit/login with the client certificate; the
# status in $status, the headers in $T/headers.
login() {
	status=$(curl -sSk --max-time 20 --cert "$certs/$2.pem" --key "$certs/$2.key" \
		-D $T/headers -o $T/body -w '%{http_code}' "https://127.0.0.1:$port/cockpit/login" 2>&1)
	out=$(cat $T/headers $T/body 2> /dev/null)
}
# The processes of one certificate's instance cgroup (its ws, cockpit-session,
# and what they start).
# cockpit-tls names an instance by the SHA-256 of the certificate's DER.
fingerprint() { openssl x509 -in "$certs/$1.pem" -outform DER | sha256sum | cut -d' ' -f1; }
instance_pids() { # $1: certificate name
	fp=$(fingerprint "$1")
	cat "$CG/system.slice/system-cockpithttps.slice/cockpit-wsinstance-https@$fp.service/cgroup.procs" 2> /dev/null
}
# Whether a cockpit-bridge runs as uid $2 in certificate $1's instance.
bridge_as() {
	for p in $(instance_pids "$1"); do
		if [ "$(cat /proc/$p/comm 2> /dev/null)" = cockpit-bridge ] &&
			[ "$(awk '/^Uid:/ { print $2 }' /proc/$p/status 2> /dev/null)" = "$2" ]; then
			return 0
		fi
	done
	return 1
}

# --- a mapped certificate logs in
login alice alice
if [ "$status" = 200 ]; then ok "alice's certificate: HTTP 200"; else ko "alice's certificate: HTTP 200 (got $status)"; printf '%s\n' "$out" | head -20; fi
expect_out "a session cookie" "Set-Cookie: cockpit="
expect_out "the login answer carries a CSRF token" '"csrf-token"'
i=0
while ! bridge_as alice 1000 && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if bridge_as alice 1000; then ok "cockpit-bridge runs as alice (uid 1000)"; else ko "cockpit-bridge runs as alice"; fi
if wait_grep 'decision mapped.*user="alice"' "$tmp/log"; then ok "certmapd decided for cockpit-session"; else ko "certmapd decided for cockpit-session"; fi

# --- a certificate certmap does not map: 401, no bridge
login ec384 ec384
if [ "$status" = 401 ]; then ok "unmapped certificate (no account): HTTP 401"; else ko "unmapped certificate: HTTP 401 (got $status)"; fi
expect_no_out "unmapped: no session cookie" "Set-Cookie: cockpit="
if wait_grep 'decision refused.*no_account' "$tmp/log"; then ok "certmapd refused it (no_account)"; else ko "certmapd refused it (no_account)"; fi
bridge=
for p in $(instance_pids ec384); do
	[ "$(cat /proc/$p/comm 2> /dev/null)" = cockpit-bridge ] && bridge=$p
done
if [ -z "$bridge" ]; then ok "unmapped: no cockpit-bridge"; else ko "unmapped: no cockpit-bridge (pid $bridge)"; fi

# --- an untrusted certificate (alice's subject, another CA): 401
login untrusted untrusted
if [ "$status" = 401 ]; then ok "untrusted certificate: HTTP 401"; else ko "untrusted certificate: HTTP 401 (got $status)"; fi
if wait_grep 'decision refused.*untrusted' "$tmp/log"; then ok "certmapd refused it (untrusted)"; else ko "certmapd refused it (untrusted)"; fi

# --- several accounts for one certificate: FindByValidCertificate refuses
# (ambiguous), so Cockpit does not pick one
login erin multisan
if [ "$status" = 401 ]; then ok "ambiguous certificate: HTTP 401"; else ko "ambiguous certificate: HTTP 401 (got $status)"; fi
if wait_grep 'decision ambiguous' "$tmp/log"; then ok "certmapd found it ambiguous"; else ko "certmapd found it ambiguous"; fi

# --- the stand-in matters: an instance outside its unit's cgroup (here
# elsewhere/system.slice/...) is refused by cockpit-session itself, although
# certmapd would map the certificate (carol)
printf %s "$(fingerprint multirdn)" | CG_HOST="$CG/elsewhere" WSI_UID=$wsi_uid WSI_GID=$wsi_gid \
	WS_UID=$ws_uid XDG_CONFIG_DIRS=$T/xdg FACTORY_LOG=$T/elsewhere.log G_MESSAGES_DEBUG=all \
	sh "$srcdir/tests/infopipe/cockpit_factory.sh" > /dev/null
call "certmapd maps carol's certificate" 0 "$IFP_ROOT/Users" $IFP.Users FindByValidCertificate s "$(pem multirdn)"
expect_out "carol's User object" 'o "/org/freedesktop/sssd/infopipe/Users/local/1004"'
login carol multirdn
if [ "$status" = 401 ]; then ok "instance in another cgroup: HTTP 401"; else ko "instance in another cgroup: HTTP 401 (got $status)"; fi
if grep -q "only meant to be used from another cgroup" $T/elsewhere.log.*; then
	ok "cockpit-session refused the certificate of another cgroup"
else
	ko "cockpit-session refused the certificate of another cgroup"
fi

# --- cockpit-session (root) not among allowed_uids: refused, 401
stop_daemon
SVC_UIDS=33
write_config "$conf" "infopipe = true;"
if ifp_start "$conf"; then ok "certmapd restarted with allowed_uids = [33]"; else ko "certmapd restarted"; fi
login bob bob-ec
if [ "$status" = 401 ]; then ok "caller uid 0 not allowed: HTTP 401"; else ko "caller uid 0 not allowed: HTTP 401 (got $status)"; fi
if wait_grep "refused a D-Bus call from uid 0" "$tmp/log"; then ok "certmapd refused cockpit-session's call (uid 0)"; else ko "certmapd refused cockpit-session's call"; fi
if bridge_as bob-ec 1001; then ko "refused caller: no bridge for bob"; else ok "refused caller: no bridge for bob"; fi

stop_daemon
[ "$fail" -eq 0 ] || keep_logs
finish
