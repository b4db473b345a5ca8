#!/bin/sh
# make bench: runs every benchmark of the build tree and prints ratios
# against baselines measured in the same run. Not a timed test.
set -eu
builddir=${CERTMAP_BUILDDIR:-.}
srcdir=${CERTMAP_SRCDIR:-.}
certs="$builddir/tests/certs/out"
[ -f "$certs/stamp" ] || sh "$srcdir/tests/certs/gen-certs.sh" "$certs"
for c in alice bob-ec multisan; do
	openssl x509 -in "$certs/$c.pem" -outform DER -out "$certs/$c.bench.der"
done
echo "== mapper: libsss_certmap (baseline) vs certmap cold / warm, µs per certificate"
"$builddir/bench/bench_mapper" "$certs/ca.pem" "$certs/alice.bench.der" \
	"$certs/bob-ec.bench.der" "$certs/multisan.bench.der"
echo "== certmapd request decoding: json-c's tokener vs the fast path"
"$builddir/bench/bench_request" "$certs/alice.bench.der"
echo "== ldap domain on the suite's slapd (skipped without slapd)"
CERTMAP_TEST_CERTS="$certs" sh "$srcdir/tests/ldap/bench_ldap.sh" || [ $? -eq 77 ]
