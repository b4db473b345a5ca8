#!/bin/sh
# Replays every fuzz corpus (seeds and regressions) through its target.
set -u
srcdir=${CERTMAP_SRCDIR:-.}
builddir=${CERTMAP_BUILDDIR:-.}
pass=0
fail=0
for t in cert cert_diff name_diff match map mapfile config request request_diff hint http_cert \
	http_request; do
	dir="$srcdir/tests/fuzz/corpus/$t"
	if [ ! -d "$dir" ]; then
		echo "FAIL: no corpus for $t"
		fail=$((fail + 1))
		continue
	fi
	# libconfig 1.5 leaks on some syntax errors: see lsan.supp.
	lsan=${LSAN_OPTIONS:-}
	if [ "$t" = config ]; then
		lsan="${lsan:+$lsan:}suppressions=$srcdir/tests/fuzz/lsan.supp"
	fi
	if LSAN_OPTIONS=$lsan "$builddir/tests/fuzz/replay_$t" "$dir"; then
		echo "PASS: replay_$t"
		pass=$((pass + 1))
	else
		echo "FAIL: replay_$t"
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
