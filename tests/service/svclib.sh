# Set-up shared by the tests that run certmapd (sourced after
# tests/lib/shlib.sh; defines functions only). A test calls svc_setup NAME
# first; that gives it $tmp (removed at exit), $sock, $tmp/log, default
# nss_wrapper accounts and a trap that stops certmapd.
#
#   svc_setup NAME           $tmp = $builddir/tests/tmp-NAME.XXXXXX
#   svc_passwd LINE...       replace the nss_wrapper passwd file
#   svc_group LINE...        replace the nss_wrapper group file
#   svc_erin_accounts        erin, erin2 (multisan.pem's) and alice only
#   write_config FILE [SERVICE-EXTRA [VERIFY-EXTRA]]
#                            a configuration; the SVC_* knobs below shape it
#   start_daemon CONFIG [OPTIONS...]
#   svc_launch CMD...        certmapd started by CMD (a wrapper around it)
#   require_daemon NAME CONFIG [OPTIONS...]   start, or fail the whole test
#   stop_daemon, client ARGS... (svc_client under nss_wrapper),
#   svc_wait PID CMD...      until CMD succeeds, PID exits, or 10 s pass
#   frames NAME              raw frames of $tmp/req, checked strict JSON
#   cleanup_more             a test redefines it to stop its own servers
#
# Knobs (set after svc_setup, before the function that reads them):
#   SVC_USER (root), SVC_UIDS ("0, <this uid>"), SVC_CA ($certs/ca.pem),
#   SVC_LIMITS ("timeout = 2; cache_ttl = 60; cache_size = 100;"),
#   SVC_DOMAINS (the domains list's entries: one local domain "local"),
#   SVC_RULES (one rule "upn": EKU clientAuth, subject_principal),
#   SVC_FRESH=1 (every start begins with an empty log and no socket file),
#   SVC_STRICT_STOP=1 (stop_daemon fails the test unless certmapd exits 0
#   or 1, as after a sanitizer's report), KEEP_TMP=1 (keep $tmp).
CERTMAPD=${CERTMAPD:-$builddir/certmapd}   # a test can be run against another build
CLIENT="$builddir/tests/service/svc_client"
FRAMES="$builddir/tests/service/frames"

svc_setup() { # $1: a name for the temporary directory
	mkdir -p "$builddir/tests"
	tmp=$(mktemp -d "$builddir/tests/tmp-$1.XXXXXX")
	chmod 755 "$tmp"
	sock="$tmp/sock"
	pid=
	: > "$tmp/log"
	trap 'cleanup_more; stop_daemon; [ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"' EXIT
	trap 'exit 1' INT TERM HUP
	SVC_USER=root
	SVC_UIDS="0, $(id -u)"
	SVC_CA="$certs/ca.pem"
	SVC_LIMITS="timeout = 2; cache_ttl = 60; cache_size = 100;"
	SVC_DOMAINS='{ name = "local"; type = "local"; }'
	SVC_RULES='  { name = "upn"; priority = 10; match = "<EKU>clientAuth";
    map = "LOCAL:{subject_principal.short_name}"; domains = ["local"]; }'
	svc_passwd 'alice:x:1000:1000:Alice:/home/alice:/bin/sh' 'bob:x:1001:1001:Bob:/home/bob:/bin/sh' \
		'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534::/:/bin/sh'
	svc_group 'alice:x:1000:' 'bob:x:1001:' 'dev:x:2000:alice' 'nogroup:x:65534:'
	NSS_WRAPPER_PASSWD="$tmp/passwd"; NSS_WRAPPER_GROUP="$tmp/group"
	export NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
}
cleanup_more() { :; }

# Readable by all: certmapd may read them after it drops root.
svc_passwd() { printf '%s\n' "$@" > "$tmp/passwd"; chmod 644 "$tmp/passwd"; }
svc_group() { printf '%s\n' "$@" > "$tmp/group"; chmod 644 "$tmp/group"; }
# erin and erin2, the two accounts of multisan.pem's UPNs, and alice.
svc_erin_accounts() {
	svc_passwd 'erin:x:1002:1002::/home/erin:/bin/sh' 'erin2:x:1003:1003::/home/erin2:/bin/sh' \
		'alice:x:1000:1000::/home/alice:/bin/sh'
	svc_group 'erin:x:1002:' 'erin2:x:1003:' 'alice:x:1000:'
}

write_config() { # $1: file, $2: extra service settings, $3: extra verify settings
	cat > "$1" <<EOC
verify = { ca_file = "$SVC_CA"; ${3:-} };
domains = ( $SVC_DOMAINS );
rules = (
$SVC_RULES
);
service = { socket = "$sock"; user = "$SVC_USER"; allowed_uids = [$SVC_UIDS];
  $SVC_LIMITS ${2:-} };
EOC
}

svc_wait() { # $1: pid, then a command
	w_pid=$1; shift
	w=0
	while ! "$@" && [ $w -lt 100 ] && kill -0 "$w_pid" 2>/dev/null; do
		sleep 0.1; w=$((w + 1))
	done
	"$@"
}

# Serving: the socket is there and the log has the " serving " line
# written since line $1 (an earlier start's line does not count).
svc_serving() { [ -S "$sock" ] && tail -n "+$1" "$tmp/log" | grep -q " serving "; }

svc_launch() { # certmapd's command line, run in the background
	if [ -n "${SVC_FRESH:-}" ]; then rm -f "$sock"; : > "$tmp/log"; fi
	svc_from=$(( $(wc -l < "$tmp/log") + 1 ))
	"$@" >> "$tmp/log" 2>&1 &
	pid=$!
	svc_wait "$pid" svc_serving "$svc_from"
}

start_daemon() { # $1: config, then certmapd options
	conf=$1; shift
	svc_launch sh "$srcdir/tests/lib/nsswrap.sh" "$CERTMAPD" --foreground --config "$conf" "$@"
}

require_daemon() { # $1: check name, then start_daemon's arguments
	r_name=$1; shift
	if start_daemon "$@"; then ok "$r_name"; else ko "$r_name"; cat "$tmp/log"; finish; exit 1; fi
}

stop_daemon() {
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null
		st=0
		wait "$pid" 2>/dev/null || st=$?
		pid=
		if [ -n "${SVC_STRICT_STOP:-}" ] && [ "$st" -gt 1 ]; then
			ko "certmapd exits cleanly (status $st)"
			grep -A20 "Sanitizer\|runtime error" "$tmp/log" | head -40
		fi
	fi
}

client() { sh "$srcdir/tests/lib/nsswrap.sh" "$CLIENT" "$@"; }

# frames NAME : (FRAMES_QUIET_MS: frames' quiet window) sends $tmp/req on one connection; output (every reply
# frame, then OPEN or CLOSED) in $out; a reply that is not strict JSON in
# valid UTF-8 fails the check NAME.
frames() {
	out=$("$FRAMES" "$sock" ${FRAMES_QUIET_MS:-} < "$tmp/req" 2>&1) && rc=0 || rc=$?
	if [ "$rc" -eq 0 ]; then ok "$1: replies are strict JSON in UTF-8"; else ko "$1: replies (exit $rc)"; printf '%s\n' "$out" | head -10; fi
}
