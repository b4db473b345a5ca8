#!/bin/sh
# Runs a test program with nss_wrapper preloaded, so that the test's own
# passwd/group files (NSS_WRAPPER_PASSWD/GROUP, set by the test itself or by
# the caller) replace the host's accounts. When the build uses ASan, libasan
# must come first in LD_PRELOAD: CERTMAP_ASAN_PRELOAD names it.
nsswrap=
for d in /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /usr/lib; do
	if [ -f "$d/libnss_wrapper.so" ]; then
		nsswrap="$d/libnss_wrapper.so"
		break
	fi
done
if [ -z "$nsswrap" ]; then
	echo "nss_wrapper (libnss-wrapper) is not installed" >&2
	exit 99
fi
LD_PRELOAD="${CERTMAP_ASAN_PRELOAD:+$CERTMAP_ASAN_PRELOAD }$nsswrap${LD_PRELOAD:+ $LD_PRELOAD}"
export LD_PRELOAD
exec "$@"
