#!/bin/sh
# README command 1: install dependencies, build, and map the bundled sample
# certificate with the sample configuration. The sample account "alice"
# comes from nss_wrapper files, so nothing is added to the host.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
sh "$src/scripts/install-deps.sh" >/dev/null
sh "$src/scripts/build.sh" "$src/build"
sample="$src/conf/sample"
echo
echo "== certmapctl show $sample/alice.pem"
"$src/build/certmapctl" show "$sample/alice.pem"
echo
echo "== certmapctl test --config $sample/certmap.conf $sample/alice.pem"
NSS_WRAPPER_PASSWD="$sample/passwd" NSS_WRAPPER_GROUP="$sample/group" \
	sh "$src/tests/lib/nsswrap.sh" \
	"$src/build/certmapctl" test --config "$sample/certmap.conf" "$sample/alice.pem"
