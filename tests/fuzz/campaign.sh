#!/bin/sh
# A fuzzing campaign over every libFuzzer target of a --enable-fuzzing build
# (run by `make fuzz-campaign`, see HACKING.md). One target at a time, each
# for FUZZ_TIME seconds or FUZZ_RUNS executions, whichever comes first;
# then the inputs that add edge coverage are merged (-merge=1) into the
# target's corpus in the source tree, where make check replays them.
# Crashes, leaks and timeouts are left in the work directory, never merged.
#
# Environment: CERTMAP_SRCDIR, CERTMAP_BUILDDIR (set by make), FUZZ_TIME
# (seconds per target), FUZZ_RUNS (executions per target), FUZZ_TARGETS
# (names, default all), FUZZ_NICE (nice level, default 19), FUZZ_FLAGS
# (more libFuzzer flags), FUZZ_WORKDIR (default BUILDDIR/tests/fuzz/campaign).
set -u
srcdir=${CERTMAP_SRCDIR:-.}
builddir=${CERTMAP_BUILDDIR:-.}
time=${FUZZ_TIME:-480}
runs=${FUZZ_RUNS:-10000000}
nice=${FUZZ_NICE:-19}
targets=${FUZZ_TARGETS:-}
work=${FUZZ_WORKDIR:-$builddir/tests/fuzz/campaign}
all="cert match map mapfile config cert_diff name_diff request request_diff hint http_cert
	http_request cert_env hint_env"
[ -n "$targets" ] || targets=$all

# Prints the binary and corpus of a target name.
locate() {
	case $1 in
	cert_env | hint_env)
		echo "$builddir/tests/pam/fuzz_$1 $srcdir/tests/pam/corpus/$1"
		;;
	*)
		echo "$builddir/tests/fuzz/fuzz_$1 $srcdir/tests/fuzz/corpus/$1"
		;;
	esac
}

# libconfig 1.5 leaks on some syntax errors: see lsan.supp.
lsan_for() {
	case $1 in
	config) echo "suppressions=$srcdir/tests/fuzz/lsan.supp" ;;
	*) echo "" ;;
	esac
}

# The last status line's field ("cov:", "ft:", "exec/s:") of a log.
field() {
	grep -E '^#[0-9]+' "$2" | tail -n 1 | sed -n "s/.* $1 \([0-9]*\).*/\1/p"
}

findings=0
summary="$work/summary.txt"
mkdir -p "$work"
printf '%-10s %10s %7s %6s %6s %6s  %s\n' target execs exec/s cov ft added findings >"$summary"
for t in $targets; do
	set -- $(locate "$t")
	bin=$1
	corpus=$2
	if [ ! -x "$bin" ] || [ ! -d "$corpus" ]; then
		echo "campaign: no $bin or $corpus" >&2
		findings=$((findings + 1))
		continue
	fi
	dir="$work/$t"
	rm -rf "$dir"
	mkdir -p "$dir/new" "$dir/artifacts"
	log="$dir/fuzz.log"
	echo "campaign: $t for ${time}s or $runs runs ($(date -u +%H:%M:%S) UTC)"
	# New inputs go to the first directory; the corpus is only read.
	LSAN_OPTIONS=$(lsan_for "$t") nice -n "$nice" "$bin" \
		-max_total_time="$time" -runs="$runs" -timeout=25 \
		-print_final_stats=1 -artifact_prefix="$dir/artifacts/" \
		${FUZZ_FLAGS:-} "$dir/new" "$corpus" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(field cov: "$log")
	ft=$(field ft: "$log")
	found=$(ls "$dir/artifacts" | tr '\n' ' ')
	[ "$rc" -eq 0 ] || [ -n "$found" ] || found="exit-$rc"
	[ -z "$found" ] || findings=$((findings + 1))
	# Edge coverage only (-use_counters=0): hit counts alone would add
	# many near-duplicates to the committed corpus.
	before=$(ls "$corpus" | wc -l)
	LSAN_OPTIONS=$(lsan_for "$t") nice -n "$nice" "$bin" -merge=1 -use_counters=0 \
		-timeout=25 "$corpus" "$dir/new" >"$dir/merge.log" 2>&1 ||
		echo "campaign: merge of $t failed, see $dir/merge.log" >&2
	added=$(($(ls "$corpus" | wc -l) - before))
	printf '%-10s %10s %7s %6s %6s %6s  %s\n' "$t" "${execs:-?}" "${speed:-?}" \
		"${cov:-?}" "${ft:-?}" "$added" "${found:-none}" >>"$summary"
done
cat "$summary"
[ "$findings" -eq 0 ]
