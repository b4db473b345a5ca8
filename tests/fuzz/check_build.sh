#!/bin/sh
# Checks a --enable-fuzzing build: the fuzz targets must see inside
# libcertmap. Every object of the library they link (libcertmap_fuzz.la)
# must carry SanitizerCoverage (libFuzzer's feedback) and ASan
# instrumentation, no library object may be missing from it, and fuzz_cert
# must load the library's coverage counters, not only its own file's.
# Run by make check in fuzzing builds only.
set -u
builddir=${CERTMAP_BUILDDIR:-.}
srcdir=${CERTMAP_SRCDIR:-.}
NM=${NM:-nm}  # may be "nm -B" (libtool): used unquoted
fuzz_lib="$builddir/.libs/libcertmap_fuzz.a"
plain_lib="$builddir/.libs/libcertmap_internal.a"
fail=0

bad() {
	echo "FAIL: $*"
	fail=$((fail + 1))
}

# Object names without the per-library prefix libtool gives them.
members() {
	ar t "$1" | sed 's/^libcertmap_[a-z]*_la-//' | sort
}

if [ ! -f "$fuzz_lib" ] || [ ! -f "$plain_lib" ]; then
	echo "FAIL: $fuzz_lib or $plain_lib is missing (not a fuzzing build?)"
	exit 1
fi

if [ "$(members "$fuzz_lib")" != "$(members "$plain_lib")" ]; then
	bad "libcertmap_fuzz.a and libcertmap_internal.a hold different objects"
fi

# nm -A prefixes each symbol with archive:member:.
report=$($NM -A "$fuzz_lib" 2>/dev/null | awk '
	{ split($1, f, ":"); m = f[2]; seen[m] = 1 }
	/__sanitizer_cov_|__sancov/ { cov[m] = 1 }
	/__asan_/ { asan[m] = 1 }
	END {
		n = 0
		for (m in seen) {
			n++
			if (!(m in cov)) print "no coverage instrumentation in " m
			if (!(m in asan)) print "no ASan instrumentation in " m
		}
		if (n == 0) print "no objects in the library"
	}')
if [ -n "$report" ]; then
	echo "$report" | while read -r line; do echo "FAIL: $line"; done
	fail=$((fail + 1))
else
	echo "PASS: every object of libcertmap_fuzz.a carries coverage and ASan"
fi

# Before the library was instrumented fuzz_cert loaded 146 counters (its
# own file); the certificate parser alone has well over a thousand.
out=$("$builddir/tests/fuzz/fuzz_cert" -runs=0 "$srcdir/tests/fuzz/corpus/cert" 2>&1)
counters=$(echo "$out" | sed -n 's/.*Loaded 1 modules *(\([0-9]*\) inline 8-bit counters.*/\1/p')
cov=$(echo "$out" | sed -n 's/.*INITED cov: \([0-9]*\).*/\1/p')
if [ -z "$counters" ] || [ "$counters" -lt 1000 ]; then
	bad "fuzz_cert loads ${counters:-no} coverage counters (want >= 1000)"
elif [ -z "$cov" ] || [ "$cov" -lt 300 ]; then
	bad "fuzz_cert's corpus reaches ${cov:-no} edges (want >= 300)"
else
	echo "PASS: fuzz_cert loads $counters counters, its corpus reaches $cov"
fi
[ "$fail" -eq 0 ]
