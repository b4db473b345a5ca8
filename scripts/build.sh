#!/bin/sh
# Builds certmap in BUILDDIR (default: build/) from this source tree.
# Usage: scripts/build.sh [BUILDDIR] [configure options...]
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-"$src/build"}
[ $# -gt 0 ] && shift
[ -x "$src/configure" ] || (cd "$src" && ./autogen.sh >/dev/null)
mkdir -p "$builddir"
cd "$builddir"
"$src/configure" -q --enable-warnings "$@"
make -j"$(nproc)" >/dev/null
