#!/bin/sh
# Makes the bundled sample of the README quick start: a throwaway CA
# (ca.pem) and a user certificate (alice.pem, alice.key) it issued.
# The files are committed; this script was run once to make them and is
# kept so that they can be remade: sh conf/sample/make-sample.sh
#
# Validity starts on a fixed past date (so that a machine whose clock is a
# little behind still accepts them) and lasts 36500 days. The CA key is
# thrown away: nothing else is ever signed with it.
set -eu

OPENSSL=${OPENSSL:-openssl}
dir=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

START=20240101000000Z
END=$(date -u -d "2024-01-01 + 36500 days" +%Y%m%d%H%M%SZ)

cat >"$work/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
string_mask = utf8only
[dn]
[ca]
default_ca = sample
[sample]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = policy_any
unique_subject = no
preserve = yes
copy_extensions = none
[policy_any]
commonName = optional
[ca_ext]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[alice_ext]
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:1.3.6.1.4.1.311.20.2.3;UTF8:alice@SAMPLE.TEST,email:alice@sample.test
EOF

run() {
	if ! "$@" >"$work/log" 2>&1; then
		cat "$work/log" >&2
		echo "make-sample.sh: failed: $*" >&2
		exit 1
	fi
}

cd "$work"
OPENSSL_CONF=$work/openssl.cnf
export OPENSSL_CONF
: >index.txt
echo 1000 >serial

run "$OPENSSL" genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out ca.key
run "$OPENSSL" req -new -key ca.key -subj "/CN=certmap Sample CA" -out ca.csr
run "$OPENSSL" ca -batch -selfsign -keyfile ca.key -notext -preserveDN \
	-startdate "$START" -enddate "$END" -extensions ca_ext \
	-in ca.csr -out ca.pem

run "$OPENSSL" genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out alice.key
run "$OPENSSL" req -new -key alice.key -subj "/O=Sample/CN=Alice Sample" -out alice.csr
run "$OPENSSL" ca -batch -cert ca.pem -keyfile ca.key -notext -preserveDN \
	-startdate "$START" -enddate "$END" -extensions alice_ext \
	-in alice.csr -out alice.pem
run "$OPENSSL" verify -CAfile ca.pem alice.pem

cp ca.pem alice.pem alice.key "$dir/"
