#!/bin/sh
# Who may answer on certmapd's socket (certmap_client(3), pam_certmap(8)):
# a stand-in certmapd that maps everyone to bob listens as another uid
# (nobody); pam_certmap.so through the real libpam refuses its answer
# unless server_user= names that account. Needs root to run the stand-in
# as nobody: skipped otherwise (the option's syntax is checked anyway).
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"

MODULE="$builddir/.libs/pam_certmap.so"
DRIVER="$builddir/tests/pam/pam_driver"
STUB="$builddir/tests/pam/stub_certmapd"
mkdir -p "$builddir/tests"
tmp=$(mktemp -d "$builddir/tests/tmp-peer.XXXXXX")
# Unix socket paths are short (108 bytes): keep the socket in /tmp.
sockdir=$(mktemp -d "${TMPDIR:-/tmp}/cmpeer.XXXXXX")
stub_pid=
cleanup() {
	[ -n "$stub_pid" ] && kill "$stub_pid" 2>/dev/null && wait "$stub_pid" 2>/dev/null
	rm -rf "$tmp" "$sockdir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

printf 'alice:x:1000:1000:Alice:/home/alice:/bin/sh\nbob:x:1001:1001:Bob:/home/bob:/bin/sh\nroot:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n' > "$tmp/passwd"
printf 'alice:x:1000:\nbob:x:1001:\nnogroup:x:65534:\n' > "$tmp/group"
NSS_WRAPPER_PASSWD="$tmp/passwd"; NSS_WRAPPER_GROUP="$tmp/group"
export NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP

pamd="$tmp/pam.d"
mkdir "$pamd"
service() {
	name=$1; shift
	echo "auth required $MODULE $*" > "$pamd/$name"
}
service plain "socket=$sockdir/sock timeout=2"
service byname "socket=$sockdir/sock timeout=2 server_user=nobody"
service byuid "socket=$sockdir/sock timeout=2 server_user=65534"
service other "socket=$sockdir/sock timeout=2 server_user=bob"
service badname "socket=$sockdir/sock server_user=-x"
service unknown "socket=$sockdir/sock server_user=no-such-user"
echo "auth required pam_deny.so" > "$pamd/other"

pam_run() {
	svc=$1; shift
	out=$(sh "$srcdir/tests/lib/nsswrap.sh" "$DRIVER" -d "$pamd" -s "$svc" "$@" 2>&1) || true
}
expect_line() {
	if printf '%s\n' "$out" | grep -qxF -- "$2"; then ok "$1"; else ko "$1 (no line '$2')"; printf '%s\n' "$out" | head -20; fi
}
C="SSL_CLIENT_CERT"

pam_run badname -f "$C=$certs/alice.pem" auth
expect_line "server_user=-x is a bad value" "auth: PAM_SERVICE_ERR"

if [ "$(id -u)" -ne 0 ] || ! command -v setpriv > /dev/null; then
	echo "SKIP: a listener of another uid needs root and setpriv"
	finish
	exit $?
fi

chmod 777 "$sockdir"
setpriv --reuid=65534 --regid=65534 --clear-groups "$STUB" "$sockdir/sock" mapped-other > "$tmp/stub.log" 2>&1 &
stub_pid=$!
i=0
while [ ! -S "$sockdir/sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if [ -S "$sockdir/sock" ]; then ok "stand-in listens as nobody"; else ko "stand-in listens as nobody"; cat "$tmp/stub.log"; fi

pam_run plain -f "$C=$certs/alice.pem" auth
expect_line "untrusted listener: denied" "auth: PAM_AUTH_ERR"
expect_line "untrusted listener: PAM_USER untouched" "PAM_USER=(unset)"
pam_run other -f "$C=$certs/alice.pem" auth
expect_line "server_user=bob does not trust nobody" "auth: PAM_AUTH_ERR"
pam_run unknown -f "$C=$certs/alice.pem" auth
expect_line "server_user naming no account: not PAM_SUCCESS" "auth: PAM_AUTH_ERR"
pam_run byname -f "$C=$certs/alice.pem" auth
expect_line "server_user=nobody trusts it" "auth: PAM_SUCCESS"
expect_line "its answer is used" "PAM_USER=bob"
pam_run byuid -f "$C=$certs/alice.pem" auth
expect_line "server_user=65534 trusts it" "auth: PAM_SUCCESS"

# certmapctl: the same check, its own exit status.
expect_exit "certmapctl: untrusted listener, exit 6" 6 ctl query --socket "$sockdir/sock" "$certs/alice.pem"
expect_exit "certmapctl --service-user 65534" 0 ctl query --service-user 65534 --socket "$sockdir/sock" "$certs/alice.pem"

finish
