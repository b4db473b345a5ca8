#!/bin/sh
# The Debian packages, end to end (make check-deb; not part of make check):
# build them from a clean copy of the tree, check them with lintian, install
# them into a throwaway Debian 12 root made by mmdebstrap, map the sample
# certificate with the installed certmapctl, start the installed certmapd
# as its unit does (the unit's ExecStartPre, ExecStart and ExecReload
# lines, run by hand with the socket passed by systemd-socket-activate:
# systemd cannot run in a chroot), query it, reload it (with a good and a
# broken configuration), stop it, then remove and purge the packages and
# check that nothing is left behind.
#
# Needs root, dpkg-buildpackage (with the build dependencies in
# debian/control) and mmdebstrap; skips (77) without them. The root is
# built once from CERTMAP_DEB_MIRROR (default http://deb.debian.org/debian)
# and cached as a tarball in CERTMAP_DEB_CACHE (default
# ~/.cache/certmap-deb). The package build skips the test suite
# (DEB_BUILD_OPTIONS=nocheck) unless CERTMAP_DEB_CHECK=1: make check runs it.
# $debs and $pkgs are lists of words (package names, mktemp paths).
# shellcheck disable=SC2086
set -u

srcdir=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
suite=bookworm
mirror=${CERTMAP_DEB_MIRROR:-http://deb.debian.org/debian}
cache=${CERTMAP_DEB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/certmap-deb}
version=$(dpkg-parsechangelog -l "$srcdir/debian/changelog" -S Version 2>/dev/null || echo 0)
pkgs="libcertmap0 libcertmap-dev certmap libpam-certmap"

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: installing packages into a chroot needs root"
	exit 77
fi
for tool in dpkg-buildpackage mmdebstrap git; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool is not installed (apt-get install devscripts mmdebstrap)"
		exit 77
	fi
done

if ! git -C "$srcdir" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	echo "SKIP: $srcdir is not a git checkout (the build copies what git tracks)"
	exit 77
fi

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "PASS: $1"; }
ko() { fail=$((fail + 1)); echo "FAIL: $1"; }
# check NAME CMD... : CMD must succeed.
check() {
	name=$1; shift
	if out=$("$@" 2>&1); then ok "$name"; else ko "$name"; printf '%s\n' "$out" | tail -20; fi
}
# check_not NAME CMD... : CMD must fail.
check_not() {
	name=$1; shift
	if out=$("$@" 2>&1); then ko "$name (succeeded)"; printf '%s\n' "$out" | tail -20; else ok "$name"; fi
}
has() { printf '%s\n' "$out" | grep -qF -- "$1"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/certmap-deb.XXXXXX")
root="$work/root"
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	if mountpoint -q "$root/proc" 2>/dev/null; then
		umount "$root/proc"
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
in_root() { chroot "$root" "$@"; }
t0=$(date +%s)

# ------------------------------------------------------------ build
# A copy of what git tracks (and new files it would track), so that the
# build starts from a clean tree and writes its ../*.deb into $work.
mkdir "$work/src"
(cd "$srcdir" && git ls-files -z --cached --others --exclude-standard |
	tar cf - --null --no-recursion -T -) | tar xf - -C "$work/src" || exit 1
build_opts=nocheck
[ "${CERTMAP_DEB_CHECK:-0}" = 1 ] && build_opts=
if (cd "$work/src" && DEB_BUILD_OPTIONS=$build_opts dpkg-buildpackage -us -uc -b) \
	> "$work/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b"
else
	ko "dpkg-buildpackage -us -uc -b"
	tail -40 "$work/build.log"
	exit 1
fi
echo "built in $(($(date +%s) - t0)) s"
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
debs=
for p in $pkgs; do
	debs="$debs $work/${p}_${version}_$arch.deb"
done

if command -v lintian >/dev/null 2>&1; then
	# No error and no warning (debian/README.source lists the info tags kept).
	check "lintian: no errors, no warnings" \
		lintian --fail-on error,warning -I --pedantic "$work/certmap_${version}_$arch.changes"
	printf '%s\n' "$out" | grep -v '^running with root' | sed 's/^/  lintian: /'
else
	echo "lintian not installed: not run"
fi

# ------------------------------------------------------------ the root
# The packages' dependencies (first alternative of each) are in the
# cached root, so that dpkg alone installs and removes certmap's packages
# and the root can be compared before and after.
deps=$(for d in $debs; do dpkg-deb -f "$d" Depends; done | tr ',' '\n' |
	sed -e 's/|.*//' -e 's/(.*)//' -e 's/[[:space:]]//g' | sort -u |
	awk -v own=" $pkgs " '$0 != "" && index(own, " " $0 " ") == 0' | paste -sd, -)
key=$(printf '%s %s %s\n' "$suite" "$mirror" "$deps" | sha256sum | cut -c1-16)
tarball="$cache/root-$suite-$key.tar"
# (mmdebstrap writes a tarball only to a name ending in .tar.)
partial="$cache/partial-$suite-$key.tar"
if [ ! -f "$tarball" ]; then
	mkdir -p "$cache"
	echo "making the root ($deps) from $mirror"
	if mmdebstrap --variant=minbase --mode=root --include="$deps" \
		"$suite" "$partial" "$mirror" > "$work/mmdebstrap.log" 2>&1; then
		rm -f "$cache/root-$suite-"*.tar
		mv "$partial" "$tarball"
	else
		ko "mmdebstrap"
		tail -30 "$work/mmdebstrap.log"
		rm -rf "$partial"
		exit 1
	fi
fi
mkdir "$root"
tar -xf "$tarball" -C "$root" || exit 1
echo "root ready at $(($(date +%s) - t0)) s"

# The sample's user and group, made before the snapshot: the test's, not
# the packages'.
in_root groupadd -g 1001 developers
in_root useradd -u 1000 -U -G developers -M -d /nonexistent -s /usr/sbin/nologin alice

# Everything but package-manager state, logs, caches and /tmp: path, type,
# mode, owner, and the content of regular files. (/etc/passwd- and its
# like are the shadow tools' own backups of the account files, which are
# compared themselves.)
snapshot() {
	(cd "$root" && find . -xdev \
		\( -path ./proc -o -path ./tmp -o -path ./var/lib/dpkg -o -path ./var/log \
		-o -path ./var/cache -o -path ./var/lib/apt -o -path ./var/lib/pam \
		-o -path ./etc/passwd- -o -path ./etc/group- -o -path ./etc/shadow- \
		-o -path ./etc/gshadow- -o -path ./etc/subuid- -o -path ./etc/subgid- \) -prune \
		-o -printf '%p %y %m %u %g\n' | sort > "$1.list"
	 find . -xdev \( -path ./proc -o -path ./tmp -o -path ./var/lib/dpkg \
		-o -path ./var/log -o -path ./var/cache -o -path ./var/lib/apt \
		-o -path ./var/lib/pam -o -name '*-' \) -prune -o -type f -print0 |
		sort -z | xargs -0 sha256sum) > "$1.sums"
}
snapshot "$work/before"

# ------------------------------------------------------------ install
mkdir -p "$root/tmp/debs"
cp $debs "$root/tmp/debs/"
# As on a real system (systemd-tmpfiles refuses to run without /proc).
mount -t proc proc "$root/proc"
check "dpkg -i" in_root sh -c 'dpkg -i /tmp/debs/*.deb'
check "certmapd account created, no login" \
	sh -c "in_root() { chroot '$root' \"\$@\"; }; in_root getent passwd certmapd | grep -q ':/usr/sbin/nologin\$'"
check "runtime directory created" test -d "$root/run/certmapd"
check "certmapd.socket enabled" test -L "$root/etc/systemd/system/sockets.target.wants/certmapd.socket"
check_not "certmapd.service not enabled" test -e "$root/etc/systemd/system/multi-user.target.wants/certmapd.service"
check "conffile" grep -qx /etc/certmap/certmap.conf "$root/var/lib/dpkg/info/certmap.conffiles"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
check "PAM module in the multiarch security directory" test -f "$root/usr/lib/$multiarch/security/pam_certmap.so"
check_not "PAM profile not enabled by default" grep -q pam_certmap "$root/etc/pam.d/common-auth"
check "pkg-config file" grep -q '^Libs: .*-lcertmap' "$root/usr/lib/$multiarch/pkgconfig/libcertmap.pc"
# The default configuration cannot serve before its CA file exists.
check_not "default config without its CA file" in_root certmapctl check-config

# ------------------------------------------------------------ map
cp "$srcdir/conf/sample/ca.pem" "$root/etc/certmap/ca.pem"
cp "$srcdir/conf/sample/alice.pem" "$root/tmp/alice.pem"
check "default config with the sample CA" in_root certmapctl check-config
check "certmapctl test maps the sample" in_root certmapctl test --json /tmp/alice.pem
if has '"user": "alice"'; then ok "certmapctl test: alice"; else ko "certmapctl test: alice"; fi

# ------------------------------------------------------------ certmapd
# The unit's own command lines, in order, as systemd runs them (a leading
# "-"/"+"/"!"/"@" prefix dropped), with the socket passed as
# certmapd.socket passes it (systemd-socket-activate: LISTEN_FDS).
unit="$root/lib/systemd/system/certmapd.service"
unit_lines() { sed -n "s/^$1=[-+!@]*//p" "$unit"; }
# run_lines SETTING: each line in the root, with $MAINPID; like systemd,
# stops at the first line that fails, and fails then.
run_lines() {
	lines=$(unit_lines "$1" | sed "s/\$MAINPID/${pid:-0}/g")
	while read -r line; do
		[ -z "$line" ] && continue
		in_root sh -c "$line" || return 1
	done <<EOL
$lines
EOL
}
check "ExecStartPre" run_lines ExecStartPre
start=$(unit_lines ExecStart)
case $start in
/usr/sbin/certmapd*) ;;
*) ko "ExecStart is certmapd: $start"; exit 1 ;;
esac
# shellcheck disable=SC2086 # the unit's words
: > "$work/certmapd.log"
chroot "$root" systemd-socket-activate -l /run/certmapd/socket $start >> "$work/certmapd.log" 2>&1 &
pid=$!
# systemd-socket-activate starts certmapd at the first connection, as
# systemd does: the query below starts it.
i=0
while ! grep -q '^Listening on' "$work/certmapd.log" && [ $i -lt 100 ] && kill -0 "$pid" 2>/dev/null; do
	sleep 0.1; i=$((i + 1))
done
check "certmapctl query maps the sample (starts certmapd)" in_root certmapctl query --json /tmp/alice.pem
if has '"user": "alice"'; then ok "certmapctl query: alice"; else ko "certmapctl query: alice"; fi
if grep -q ' serving ' "$work/certmapd.log"; then
	ok "certmapd serves the activated socket"
else
	ko "certmapd serves the activated socket"
	sed 's/^/  certmapd: /' "$work/certmapd.log"
fi
check "certmapd runs as certmapd" sh -c "grep '^Uid:' /proc/$pid/status | grep -qw $(in_root id -u certmapd)"
check "certmapd holds no capabilities" sh -c "grep -q '^CapEff:[[:space:]]*0*\$' /proc/$pid/status && grep -q '^CapPrm:[[:space:]]*0*\$' /proc/$pid/status"
check "ExecReload" run_lines ExecReload
sleep 0.5
check "certmapd reloaded" grep -q 'configuration /etc/certmap/certmap.conf reloaded' "$work/certmapd.log"
check "certmapd alive after reload" kill -0 "$pid"
check "certmapctl query after reload" in_root certmapctl query --json /tmp/alice.pem
# A broken configuration: the reload fails before certmapd is signalled,
# and certmapd goes on serving with the configuration it has.
cp "$root/etc/certmap/certmap.conf" "$work/certmap.conf.saved"
echo 'rules = ( {' >> "$root/etc/certmap/certmap.conf"
check_not "ExecReload with a broken config fails" run_lines ExecReload
sleep 0.5
check "certmapd was not signalled" test "$(grep -c 'reloaded\|keeping the running' "$work/certmapd.log")" -eq 1
check "certmapd alive after the refused reload" kill -0 "$pid"
check "certmapctl query after the refused reload" in_root certmapctl query --json /tmp/alice.pem
check_not "ExecStartPre with a broken config fails (no restart)" run_lines ExecStartPre
cat "$work/certmap.conf.saved" > "$root/etc/certmap/certmap.conf"
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
# certmapd.socket's RemoveOnStop=yes, done by hand as well.
rm -f "$root/run/certmapd/socket"
if [ "$rc" -eq 0 ]; then ok "certmapd stops cleanly"; else ko "certmapd stops cleanly (exit $rc)"; fi

# ------------------------------------------------------------ PAM profile
check "pam-auth-update --enable certmap" in_root pam-auth-update --enable certmap
check "PAM profile enabled" grep -q 'pam_certmap.so socket=/run/certmapd/socket' "$root/etc/pam.d/common-auth"

# ------------------------------------------------------------ remove, purge
rm -f "$root/etc/certmap/ca.pem" "$root/tmp/alice.pem"
check "dpkg -r" in_root dpkg -r $pkgs
check_not "PAM profile gone from common-auth" grep -q pam_certmap "$root/etc/pam.d/common-auth"
check "conffile kept on remove" test -f "$root/etc/certmap/certmap.conf"
check "account kept on remove" in_root getent passwd certmapd
check "dpkg -P" in_root dpkg -P $pkgs
umount "$root/proc"
rm -rf "$root/tmp/debs"
snapshot "$work/after"
if diff -u "$work/before.list" "$work/after.list" && diff -u "$work/before.sums" "$work/after.sums"; then
	ok "purge leaves the root as it was"
else
	ko "purge leaves the root as it was"
fi
check_not "no certmapd account after purge" in_root getent passwd certmapd
check_not "no certmapd group after purge" in_root getent group certmapd

echo "took $(($(date +%s) - t0)) s"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
