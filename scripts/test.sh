#!/bin/sh
# README command 2 (and CI): install dependencies, build with warnings as
# errors, and run the whole test suite. With --sanitize, build in
# build-asan/ with ASan+UBSan and run the suite there.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
sh "$src/scripts/install-deps.sh" >/dev/null
if [ "${1:-}" = "--sanitize" ]; then
	builddir="$src/build-asan"
	san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
	sh "$src/scripts/build.sh" "$builddir" CFLAGS="-O1 -g $san" LDFLAGS="$san"
	# nss_wrapper is preloaded by the tests; libasan must come first.
	CERTMAP_ASAN_PRELOAD=$(gcc -print-file-name=libasan.so)
	export CERTMAP_ASAN_PRELOAD
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
	builddir="$src/build"
	sh "$src/scripts/build.sh" "$builddir"
fi
cd "$builddir"
if ! make -j"$(nproc)" check; then
	for f in $(find . -name '*.log' -path '*tests*' ! -name 'test-suite.log'); do
		if grep -q '^FAIL\|^ERROR' "${f%.log}.trs" 2>/dev/null; then
			echo "==== $f"
			tail -n 60 "$f"
		fi
	done
	exit 1
fi
