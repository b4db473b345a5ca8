#!/bin/sh
# README command 1: install dependencies, build, and map the bundled sample
# certificate with the sample configuration. The sample account "alice"
# comes from nss_wrapper files, so nothing is added to the host.
#
# The package manager's and the build's output go to a log file: a newcomer
# reads one line per step and then certmap's own output. When a step fails,
# the end of its log is shown and the log is kept.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
log=$(mktemp "${TMPDIR:-/tmp}/certmap-demo.XXXXXX")

# step DESCRIPTION COMMAND... : runs COMMAND with its output in $log.
step() {
	desc=$1
	shift
	printf '%s ... ' "$desc"
	if "$@" > "$log" 2>&1; then
		echo "done"
	else
		echo "FAILED"
		echo
		tail -n 40 "$log"
		echo
		echo "The full output is in $log"
		exit 1
	fi
}

step "Installing the build dependencies (apt-get)" sh "$src/scripts/install-deps.sh"
step "Building certmap in $src/build" sh "$src/scripts/build.sh" "$src/build"
rm -f "$log"

sample="$src/conf/sample"
echo
echo "== certmapctl show $sample/alice.pem"
"$src/build/certmapctl" show "$sample/alice.pem"
echo
echo "== certmapctl test --config $sample/certmap.conf $sample/alice.pem"
echo "   (alice's account is in $sample/passwd and group, read through nss_wrapper)"
NSS_WRAPPER_PASSWD="$sample/passwd" NSS_WRAPPER_GROUP="$sample/group" \
	sh "$src/tests/lib/nsswrap.sh" \
	"$src/build/certmapctl" test --config "$sample/certmap.conf" "$sample/alice.pem"
