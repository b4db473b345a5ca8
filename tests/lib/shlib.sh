# Shell helpers for the integration tests (sourced).
# Each check prints "PASS: name" or "FAIL: name", and finish() prints the
# closing "N passed, M failed" line and sets the exit status.
pass=0
fail=0
srcdir=${CERTMAP_SRCDIR:?run through make check}
builddir=${CERTMAP_BUILDDIR:?run through make check}
certs=${CERTMAP_TEST_CERTS:?run through make check}
CERTMAPCTL="$builddir/certmapctl"

ok() { pass=$((pass + 1)); echo "PASS: $1"; }
ko() { fail=$((fail + 1)); echo "FAIL: $1"; }

# expect_exit NAME CODE CMD... : runs CMD (output in $out) and checks its exit status.
expect_exit() {
	name=$1; want=$2; shift 2
	out=$("$@" 2>&1) && rc=0 || rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$name"; else ko "$name (exit $rc, want $want)"; printf '%s\n' "$out" | head -20; fi
}

# expect_out NAME TEXT : the last command's output contains TEXT.
expect_out() {
	if printf '%s\n' "$out" | grep -qF -- "$2"; then ok "$1"; else ko "$1 (no '$2')"; printf '%s\n' "$out" | head -20; fi
}

# expect_compact NAME TEXT : like expect_out, with spaces and newlines
# removed from the output first (for pretty-printed JSON).
expect_compact() {
	if printf '%s' "$out" | tr -d ' \n' | grep -qF -- "$2"; then ok "$1"; else ko "$1 (no '$2')"; printf '%s\n' "$out" | head -20; fi
}

expect_no_out() {
	if printf '%s\n' "$out" | grep -qF -- "$2"; then ko "$1 (found '$2')"; else ok "$1"; fi
}

# Runs certmapctl with nss_wrapper accounts (libasan first under ASan).
ctl() {
	sh "$srcdir/tests/lib/nsswrap.sh" "$CERTMAPCTL" "$@"
}

finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}

# A random TCP port below the kernel's ephemeral range: outgoing
# connections take their local ports from that range, so a port picked
# there can be taken between the check that it is free and the bind.
random_port() {
	rp_low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null) || rp_low=32768
	[ "${rp_low:-0}" -gt 12000 ] 2>/dev/null || rp_low=32768
	echo $(( $(od -An -N2 -tu2 /dev/urandom) % (rp_low - 10000) + 10000 ))
}

# wait_grep PATTERN FILE [SECONDS]: true as soon as FILE has a line that
# matches PATTERN (grep's basic regular expression), false when SECONDS
# (default 5) pass first. certmapd's serving threads write their log lines to
# standard error in batches, a few milliseconds after the reply: a test
# that looks for a line right after a reply waits for it with this.
# late_getinfo SOCKET COUNT: how many of COUNT GetInfo calls, each on a
# connection of its own, certmapd did not answer within a second (CLIENT
# is the suite's svc_client).
late_getinfo() {
	printf '{"method":"org.varlink.service.GetInfo"}\0' > "$tmp/getinfo"
	lg_i=0; lg_late=0
	while [ $lg_i -lt "$2" ]; do
		timeout 1 sh "$srcdir/tests/lib/nsswrap.sh" "$CLIENT" raw "$1" < "$tmp/getinfo" \
			> /dev/null 2>&1 || lg_late=$((lg_late + 1))
		lg_i=$((lg_i + 1))
	done
	echo "$lg_late"
}

wait_grep() {
	wg_left=$(( ${3:-5} * 20 ))
	while ! grep -q -- "$1" "$2" 2>/dev/null; do
		[ "$wg_left" -gt 0 ] || return 1
		wg_left=$((wg_left - 1))
		sleep 0.05
	done
}
