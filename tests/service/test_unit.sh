#!/bin/sh
# conf/certmapd.service: its sandbox keeps systemd's exposure score at 2.0
# or lower, and a configuration that does not load stops a start or a
# reload before certmapd sees it (ExecStartPre, and ExecReload before the
# SIGHUP). The score needs systemd-analyze with --offline (systemd 252).
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"

unit="$srcdir/conf/certmapd.service"

# ------------------------------------------------- exposure score
if ! command -v systemd-analyze >/dev/null 2>&1 ||
	! systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
	echo "systemd-analyze security --offline is not available: score not checked"
else
	# Run where the unit's ExecStart binaries are not looked for.
	out=$(cd "${TMPDIR:-/tmp}" && systemd-analyze security --offline=true --no-pager "$unit" 2>&1)
	score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for certmapd.service: \([0-9.]*\) .*/\1/p')
	echo "exposure: $score"
	if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
		ok "systemd-analyze security: exposure $score <= 2.0"
	else
		ko "systemd-analyze security: exposure '$score' > 2.0"
		printf '%s\n' "$out" | grep '✗'
	fi
	# What the daemon needs stays allowed: NSS daemons and journald over
	# AF_UNIX, LDAP over IP, SIGHUP, switching to service.user.
	expect_out "other address families refused" "✓ RestrictAddressFamilies=~AF_PACKET"
	families=$(sed -n 's/^RestrictAddressFamilies=//p' "$unit")
	for f in AF_UNIX AF_INET AF_INET6; do
		case " $families " in
		*" $f "*) ok "$f allowed" ;;
		*) ko "$f not allowed: $families" ;;
		esac
	done
	out=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")
	expect_out "CAP_SETUID and CAP_SETGID kept for the switch" "CAP_SETUID CAP_SETGID"
fi

# ------------------------------------------------- the configuration check
pre=$(sed -n 's/^ExecStartPre=//p' "$unit")
if [ "$pre" = "/usr/sbin/certmapctl check-config" ]; then ok "ExecStartPre checks the config"; else ko "ExecStartPre: '$pre'"; fi
reload=$(sed -n 's/^ExecReload=//p' "$unit")
want=$(printf '%s\n%s' "/usr/sbin/certmapctl check-config" '/bin/kill -HUP $MAINPID')
if [ "$reload" = "$want" ]; then ok "ExecReload checks the config, then sends SIGHUP"; else ko "ExecReload: '$reload'"; fi
# systemd runs the ExecReload lines in order and stops at the first that
# fails: check-config must fail on a configuration certmapd cannot load.
tmp=$(mktemp -d "$builddir/tests/tmp-unit.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
printf 'verify = { ca_file = "%s"; };\nrules = ( { name = "x"; priority = ; } );\n' "$certs/ca.pem" > "$tmp/broken.conf"
expect_exit "check-config fails on a broken config" 2 ctl check-config --config "$tmp/broken.conf"
finish
