#!/bin/sh
# The README's first command maps the bundled sample: check that the sample
# configuration, certificate and accounts still give alice.
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"
sample="$srcdir/conf/sample"
NSS_WRAPPER_PASSWD="$sample/passwd"; NSS_WRAPPER_GROUP="$sample/group"
export NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
expect_exit "sample config is valid" 0 ctl check-config --config "$sample/certmap.conf"
expect_exit "sample maps" 0 ctl test --json --config "$sample/certmap.conf" "$sample/alice.pem"
expect_out "sample user" '"user": "alice"'
expect_compact "sample groups" '"groups":["alice","developers"]'
expect_out "sample rule" '"rule": "upn"'
# The installed default configuration is valid once its CA file exists.
tmp=$(mktemp -d "$builddir/tests/tmp-qs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
sed "s|/etc/certmap/ca.pem|$certs/ca.pem|" "$srcdir/conf/certmap.conf" > "$tmp/certmap.conf"
expect_exit "installed default config is valid" 0 ctl check-config --config "$tmp/certmap.conf"
finish
