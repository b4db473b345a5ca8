#!/bin/sh
# Replays every fuzz corpus (seeds and regressions) through its target.
set -u
srcdir=${CERTMAP_SRCDIR:-.}
builddir=${CERTMAP_BUILDDIR:-.}
pass=0
fail=0
for t in cert cert_diff name_diff match map mapfile config request hint http_cert; do
	dir="$srcdir/tests/fuzz/corpus/$t"
	if [ ! -d "$dir" ]; then
		echo "FAIL: no corpus for $t"
		fail=$((fail + 1))
		continue
	fi
	if "$builddir/tests/fuzz/replay_$t" "$dir"; then
		echo "PASS: replay_$t"
		pass=$((pass + 1))
	else
		echo "FAIL: replay_$t"
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
