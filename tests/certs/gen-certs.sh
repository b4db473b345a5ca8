#!/bin/sh
# Makes certmap's test certificates with the openssl command line only.
#
#	gen-certs.sh OUTDIR
#
# OUTDIR is wiped and recreated. The script uses its own openssl
# configuration files (written into OUTDIR/work) and never the host's CA
# database. $OPENSSL overrides the openssl binary. OUTDIR/README.txt says
# what is special about each file.
set -eu

OPENSSL=${OPENSSL:-openssl}

if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi

rm -rf "$1"
mkdir -p "$1"
cd "$1"
mkdir work work/newcerts
: >work/index.txt
echo 01 >work/crlnumber

# Keep the host's configuration out of every openssl call.
OPENSSL_CONF=$PWD/work/req.cnf
export OPENSSL_CONF

# Runs a command quietly; on failure shows what it said.
run() {
	if ! "$@" >work/last.log 2>&1; then
		cat work/last.log >&2
		echo "gen-certs.sh: failed: $*" >&2
		exit 1
	fi
}

# Hex of a string's bytes, for hand-built DER in the extension file.
hex() {
	printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'
}

# A string of n copies of one character.
repeat() {
	printf "%$2s" '' | tr ' ' "$1"
}

# "YYYYMMDDHHMMSSZ" for now + $1 seconds (GNU date).
stamp() {
	date -u -d "@$(($(date -u +%s) + $1))" +%Y%m%d%H%M%SZ
}
START=$(stamp -86400)
END=$(stamp $((3649 * 86400)))

# ----------------------------------------------------------- configuration
cat >work/req.cnf <<'EOF'
[req]
distinguished_name = dn
string_mask = utf8only
[dn]
EOF
sed 's/^string_mask = .*/string_mask = MASK:0x4/' work/req.cnf >work/req-t61.cnf
sed 's/^string_mask = .*/string_mask = MASK:0x800/' work/req.cnf >work/req-bmp.cnf

cat >work/ca.cnf <<'EOF'
[ca]
default_ca = CA_default
[CA_default]
database = work/index.txt
new_certs_dir = work/newcerts
serial = work/serial
crlnumber = work/crlnumber
default_md = sha256
default_crl_days = 3650
policy = policy_any
unique_subject = no
preserve = yes
email_in_dn = yes
copy_extensions = none
crl_extensions = crl_ext
[policy_any]
commonName = optional
[crl_ext]
authorityKeyIdentifier = keyid:always
EOF

LONG_OU=$(repeat O 64)
LONG_DNS=$(repeat a 63).$(repeat b 63).$(repeat c 63).$(repeat d 49).example.com
LONG_URI=https://long.example.com/$(repeat p 1475)
LONG_EMAIL=$(repeat l 64)@example.com
UPN=1.3.6.1.4.1.311.20.2.3
KRB=1.3.6.1.5.2.2

cat >work/ext.cnf <<EOF
[ca_ext]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[inter_ext]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[alice]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = email:alice@example.com,otherName:$UPN;UTF8:alice@EXAMPLE.COM
[bob-ec]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = email:bob@example.com,otherName:$UPN;UTF8:bob@EXAMPLE.COM
[ec384]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:$UPN;UTF8:ec384@EXAMPLE.COM
[utf8]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:$UPN;UTF8:jurgen@EXAMPLE.COM,email:jurgen@example.com
[multirdn]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:$UPN;UTF8:carol@EXAMPLE.COM
[manysan]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = @manysan_names
[manysan_names]
email.0 = m0@example.com
email.1 = m1@example.com
email.2 = m2@example.com
email.3 = m3@example.com
email.4 = m4@example.com
email.5 = m5@example.com
email.6 = m6@example.com
email.7 = m7@example.com
email.8 = m8@example.com
DNS.0 = h0.example.com
DNS.1 = h1.example.com
DNS.2 = h2.example.com
DNS.3 = h3.example.com
DNS.4 = h4.example.com
DNS.5 = h5.example.com
DNS.6 = h6.example.com
DNS.7 = h7.example.com
DNS.8 = h8.example.com
[multisan]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = @multisan_names
[multisan_names]
email.1 = erin@example.com
email.2 = erin.alt@example.org
DNS.1 = erin.example.com
DNS.2 = erin2.example.com
otherName.1 = $UPN;UTF8:erin@EXAMPLE.COM
otherName.2 = $UPN;UTF8:erin2@EXAMPLE.COM

[krb5]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:$KRB;SEQUENCE:krb_dave
[krb_dave]
realm = EXP:0,GENSTR:EXAMPLE.COM
principal_name = EXP:1,SEQUENCE:krb_dave_name
[krb_dave_name]
name_type = EXP:0,INTEGER:1
name_string = EXP:1,SEQUENCE:krb_dave_parts
[krb_dave_parts]
part1 = GENSTR:dave

[krb5-multi]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:$KRB;SEQUENCE:krb_host
[krb_host]
realm = EXP:0,GENSTR:EXAMPLE.COM
principal_name = EXP:1,SEQUENCE:krb_host_name
[krb_host_name]
name_type = EXP:0,INTEGER:1
name_string = EXP:1,SEQUENCE:krb_host_parts
[krb_host_parts]
part1 = GENSTR:host
part2 = GENSTR:server.example.com

[sid]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:$UPN;UTF8:frank@EXAMPLE.COM
1.3.6.1.4.1.311.25.2 = ASN1:SEQUENCE:sid_ext
[sid_ext]
other = IMP:0,SEQUENCE:sid_other
[sid_other]
type = OID:1.3.6.1.4.1.311.25.2.1
value = EXP:0,OCTETSTRING:S-1-5-21-2084710061-1330166313-3217380000-1105

[nul-email]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = ASN1:SEQUENCE:nul_email_names
[nul_email_names]
email = IMP:1,FORMAT:HEX,OCTETSTRING:$(hex victim@example.com)00$(hex .evil)
[nul-dns]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = ASN1:SEQUENCE:nul_dns_names
[nul_dns_names]
dns = IMP:2,FORMAT:HEX,OCTETSTRING:$(hex victim.example.com)00$(hex .evil.test)

[special-cn]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:$UPN;UTF8:special@EXAMPLE.COM
[special-dn]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:$UPN;UTF8:specialdn@EXAMPLE.COM
[upn_alice]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:$UPN;UTF8:alice@EXAMPLE.COM
[serverauth]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:$UPN;UTF8:grace@EXAMPLE.COM
[noeku]
keyUsage = critical,digitalSignature,keyEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:$UPN;UTF8:heidi@EXAMPLE.COM
[noku]
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:$UPN;UTF8:ivan@EXAMPLE.COM
[keycert-only]
keyUsage = critical,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:$UPN;UTF8:judy@EXAMPLE.COM
[root]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:$UPN;UTF8:root@EXAMPLE.COM,email:root@example.com
[rsa1024]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:$UPN;UTF8:small@EXAMPLE.COM
[dsa1024]
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:$UPN;UTF8:dsa@EXAMPLE.COM
[ed25519]
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:$UPN;UTF8:ed@EXAMPLE.COM
[via-inter]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:$UPN;UTF8:ken@EXAMPLE.COM

[allsan]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = ASN1:SEQUENCE:allsan_names
[allsan_names]
n01_other = IMP:0,SEQUENCE:allsan_other
n02_email = IMP:1,IA5STRING:all@example.com
n03_dns = IMP:2,IA5STRING:all.example.com
n04_x400 = IMP:3,SEQUENCE:allsan_x400
n05_dir = EXP:4,SEQUENCE:allsan_dir
n06_edi = IMP:5,SEQUENCE:allsan_edi
n07_uri = IMP:6,IA5STRING:https://all.example.com/path?q=1
n08_ip4 = IMP:7,FORMAT:HEX,OCTETSTRING:c0000201
n09_ip6 = IMP:7,FORMAT:HEX,OCTETSTRING:20010db8000000000000000000000001
n10_rid = IMP:8,OID:1.2.3.4.5.6
n11_upn = IMP:0,SEQUENCE:allsan_upn
n12_krb = IMP:0,SEQUENCE:allsan_krb
[allsan_other]
type = OID:1.2.3.4.5
value = EXP:0,UTF8String:generic-other
[allsan_x400]
standard = SEQUENCE:allsan_x400_std
[allsan_x400_std]
country = EXP:1A,PRINTABLESTRING:US
[allsan_dir]
rdn1 = SET:allsan_dir_o
rdn2 = SET:allsan_dir_cn
[allsan_dir_o]
atv = SEQUENCE:allsan_dir_o_atv
[allsan_dir_o_atv]
type = OID:organizationName
value = UTF8String:Dir Org
[allsan_dir_cn]
atv = SEQUENCE:allsan_dir_cn_atv
[allsan_dir_cn_atv]
type = OID:commonName
value = UTF8String:dir name
[allsan_edi]
party = EXP:1,UTF8String:edi party
[allsan_upn]
type = OID:$UPN
value = EXP:0,UTF8String:allsan@EXAMPLE.COM
[allsan_krb]
type = OID:$KRB
value = EXP:0,SEQUENCE:allsan_krb_princ
[allsan_krb_princ]
realm = EXP:0,GENSTR:EXAMPLE.COM
principal_name = EXP:1,SEQUENCE:allsan_krb_name
[allsan_krb_name]
name_type = EXP:0,INTEGER:1
name_string = EXP:1,SEQUENCE:allsan_krb_parts
[allsan_krb_parts]
part1 = GENSTR:allsan

[allsan-sssd]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = ASN1:SEQUENCE:allsan_sssd_names
[allsan_sssd_names]
n01_other = IMP:0,SEQUENCE:allsan_other
n02_email = IMP:1,IA5STRING:all@example.com
n03_dns = IMP:2,IA5STRING:all.example.com
n05_dir = EXP:4,SEQUENCE:allsan_dir
n07_uri = IMP:6,IA5STRING:https://all.example.com/path?q=1
n08_ip4 = IMP:7,FORMAT:HEX,OCTETSTRING:c0000201
n09_ip6 = IMP:7,FORMAT:HEX,OCTETSTRING:20010db8000000000000000000000001
n10_rid = IMP:8,OID:1.2.3.4.5.6
n11_upn = IMP:0,SEQUENCE:allsan_upn
n12_krb = IMP:0,SEQUENCE:allsan_krb

[upn-bmp]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:$UPN;BMPSTRING:bmp@EXAMPLE.COM,email:bmp@example.com
[empty-subject]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = critical,email:empty@example.com,otherName:$UPN;UTF8:empty@EXAMPLE.COM
[noski]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = none
authorityKeyIdentifier = none
subjectAltName = otherName:$UPN;UTF8:noski@EXAMPLE.COM
[long]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:$LONG_DNS,URI:$LONG_URI,email:$LONG_EMAIL,otherName:$UPN;UTF8:long@EXAMPLE.COM
[multi-ou]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:$UPN;UTF8:mallory@EXAMPLE.COM
[escapes]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:$UPN;UTF8:escapes@EXAMPLE.COM
[serial]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:$UPN;UTF8:serial@EXAMPLE.COM
[t61]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:$UPN;UTF8:t61@EXAMPLE.COM
[bmp-cn]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:$UPN;UTF8:bmpcn@EXAMPLE.COM
[printable-dc]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:$UPN;UTF8:pdc@EXAMPLE.COM
[email-dn]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:$UPN;UTF8:eve@EXAMPLE.COM
EOF

# ----------------------------------------------------------- helpers
serial_next=4096

# key NAME TYPE: TYPE is rsa2048, rsa1024, p256 or p384.
key() {
	case $2 in
	rsa*) run "$OPENSSL" genpkey -algorithm RSA \
		-pkeyopt "rsa_keygen_bits:${2#rsa}" -out "$1.key" ;;
	p256) run "$OPENSSL" genpkey -algorithm EC \
		-pkeyopt ec_paramgen_curve:P-256 -out "$1.key" ;;
	p384) run "$OPENSSL" genpkey -algorithm EC \
		-pkeyopt ec_paramgen_curve:P-384 -out "$1.key" ;;
	dsa*) run "$OPENSSL" genpkey -genparam -algorithm DSA \
		-pkeyopt "dsa_paramgen_bits:${2#dsa}" -out "work/$1.param"
		run "$OPENSSL" genpkey -paramfile "work/$1.param" -out "$1.key" ;;
	ed25519) run "$OPENSSL" genpkey -algorithm ED25519 -out "$1.key" ;;
	*) echo "gen-certs.sh: bad key type $2" >&2; exit 1 ;;
	esac
}

# csr NAME SUBJECT [REQCONF]
csr() {
	run "$OPENSSL" req -new -config "${3:-work/req.cnf}" -utf8 \
		-key "$1.key" -subj "$2" -out "work/$1.csr"
}

# sign NAME ISSUER EXTSECTION [START END [SERIAL]]: ISSUER is a CA file
# prefix (ca, rogue-ca, inter-ca) or "self"; "-" keeps a default.
sign() {
	s_start=${4:--}
	s_end=${5:--}
	[ "$s_start" != - ] || s_start=$START
	[ "$s_end" != - ] || s_end=$END
	if [ -n "${6:-}" ]; then
		echo "$6" >work/serial
	else
		printf '%06X\n' "$serial_next" >work/serial
		serial_next=$((serial_next + 1))
	fi
	if [ "$2" = self ]; then
		s_signer="-selfsign"
		s_key=$1.key
	else
		s_signer="-cert $2.pem"
		s_key=$2.key
	fi
	# A hand-patched, self-signed certificate replaces the request.
	if [ -f "work/$1.ss" ]; then
		s_in="-ss_cert work/$1.ss"
	else
		s_in="-in work/$1.csr"
	fi
	# $s_signer and $s_in are split on purpose: they hold no spaces.
	run "$OPENSSL" ca -batch -config work/ca.cnf -notext -preserveDN \
		$s_signer -keyfile "$s_key" \
		-startdate "$s_start" -enddate "$s_end" \
		-extfile work/ext.cnf -extensions "$3" \
		$s_in -out "$1.pem"
}

# unhex HEXFILE DERFILE: bytes from hex, with openssl only (an OCTET STRING
# built by asn1parse -genconf, then its contents cut out).
unhex() {
	printf 'asn1 = FORMAT:HEX,OCTETSTRING:%s\n' "$(cat "$1")" >work/unhex.cnf
	run "$OPENSSL" asn1parse -genconf work/unhex.cnf -noout -out work/unhex.der
	u_hl=$("$OPENSSL" asn1parse -in work/unhex.der -inform DER |
		sed -n '1s/.*hl= *\([0-9]*\).*/\1/p')
	run "$OPENSSL" asn1parse -in work/unhex.der -inform DER \
		-offset "$u_hl" -noout -out "$2"
}

# leaf NAME KEYTYPE SUBJECT [EXTSECTION [ISSUER]]
leaf() {
	key "$1" "$2"
	csr "$1" "$3"
	sign "$1" "${5:-ca}" "${4:-$1}"
}

# ----------------------------------------------------------- CAs
key ca rsa2048
csr ca "/C=US/O=Certmap Test/CN=Certmap Test CA"
sign ca self ca_ext
key rogue-ca rsa2048
csr rogue-ca "/O=Elsewhere/CN=Rogue CA"
sign rogue-ca self ca_ext
key inter-ca rsa2048
csr inter-ca "/C=US/O=Certmap Test/CN=Certmap Test Intermediate"
sign inter-ca ca inter_ext
cp inter-ca.pem chain.pem

# ----------------------------------------------------------- leaves
ALICE_DN="/DC=com/DC=example/O=Example/OU=Users/UID=alice/CN=Alice Example"
leaf alice rsa2048 "$ALICE_DN"
run "$OPENSSL" x509 -in alice.pem -outform DER -out alice.der
leaf bob-ec p256 "/DC=com/DC=example/O=Example/CN=bob"
leaf ec384 p384 "/O=Example/CN=ec384"
leaf utf8 rsa2048 "/O=Example/CN=Jürgen Müller"
leaf multirdn rsa2048 "/O=Example/CN=carol+UID=carol"
leaf multisan rsa2048 "/O=Example/CN=erin"
leaf manysan rsa2048 "/O=Example/CN=many"
leaf krb5 rsa2048 "/O=Example/CN=dave"
leaf krb5-multi rsa2048 "/O=Example/CN=host"
leaf sid rsa2048 "/O=Example/CN=frank"
leaf nul-email rsa2048 "/O=Example/CN=victim-nul"
leaf nul-dns rsa2048 "/O=Example/CN=nul-dns"
leaf special-cn rsa2048 '/O=Example/CN=a*b(c)d\\e'
leaf special-dn rsa2048 '/O=Ex, Inc./OU=a\+b/OU=#lead/OU= lead\/trail /CN=x="y";<z>#'

key expired rsa2048
csr expired "/O=Example/CN=expired"
sign expired ca upn_alice 20200101000000Z 20210101000000Z
key notyet rsa2048
csr notyet "/O=Example/CN=notyet"
sign notyet ca upn_alice 20990101000000Z 21000101000000Z
leaf untrusted rsa2048 "$ALICE_DN" upn_alice rogue-ca
leaf revoked rsa2048 "/O=Example/CN=revoked" upn_alice
run "$OPENSSL" ca -batch -config work/ca.cnf -cert ca.pem -keyfile ca.key \
	-gencrl -out crl-empty.pem
run "$OPENSSL" ca -batch -config work/ca.cnf -cert ca.pem -keyfile ca.key \
	-revoke revoked.pem -crl_reason keyCompromise
run "$OPENSSL" ca -batch -config work/ca.cnf -cert ca.pem -keyfile ca.key \
	-gencrl -out crl.pem

leaf serverauth rsa2048 "/O=Example/CN=grace"
leaf noeku rsa2048 "/O=Example/CN=heidi"
leaf noku rsa2048 "/O=Example/CN=ivan"
leaf keycert-only rsa2048 "/O=Example/CN=judy"
leaf root rsa2048 "/O=Example/CN=root"
leaf rsa1024 rsa1024 "/O=Example/CN=small"
leaf via-inter rsa2048 "/O=Example/CN=ken" via-inter inter-ca
leaf allsan rsa2048 "/O=Example/CN=allsan"
leaf dsa1024 dsa1024 "/O=Example/CN=dsa"
leaf ed25519 ed25519 "/O=Example/CN=ed"
leaf allsan-sssd rsa2048 "/O=Example/CN=allsan-sssd"
leaf upn-bmp rsa2048 "/O=Example/CN=bmp"
leaf empty-subject rsa2048 "/"
leaf noski rsa2048 "/O=Example/CN=noski"
leaf long rsa2048 "/O=Example/OU=$LONG_OU/CN=long"
leaf multi-ou rsa2048 \
	"/DC=org/DC=example/DC=sub/O=Example/OU=One/OU=Two/OU=Three/CN=mallory"
TAB=$(printf '\t')
CR=$(printf '\r')
leaf escapes rsa2048 "/O=back\\\\slash/OU= leading space/OU=trailing space /OU=a=b;c/OU=tab${TAB}and cr${CR}here/CN=#hash"

key bigserial rsa2048
csr bigserial "/O=Example/CN=bigserial"
sign bigserial ca serial - - 80112233445566778899AABBCCDDEEFF0011
key smallserial rsa2048
csr smallserial "/O=Example/CN=smallserial"
sign smallserial ca serial - - 01

key t61 rsa2048
csr t61 "/O=Example/CN=T61 Müller" work/req-t61.cnf
sign t61 ca t61
key bmp-cn rsa2048
csr bmp-cn "/O=Example/CN=BMP Müller" work/req-bmp.cnf
sign bmp-cn ca bmp-cn
leaf email-dn rsa2048 "/O=Example/CN=eve/emailAddress=eve@example.com"

# printable-dc: DC values as PrintableString, which no openssl command
# writes (DC is always IA5String). A self-signed template has its two DC
# string tags patched from IA5 (16) to Printable (13), is self-signed again
# and then issued by the CA from that (ca -ss_cert).
key printable-dc rsa2048
csr printable-dc "/DC=com/DC=example/O=Example/CN=pdc"
run "$OPENSSL" x509 -req -in work/printable-dc.csr -signkey printable-dc.key \
	-outform DER -out work/pdc-tmpl.der
od -An -v -tx1 work/pdc-tmpl.der | tr -d ' \n' |
	sed 's/0a0992268993f22c64011916/0a0992268993f22c64011913/g' >work/pdc.hex
unhex work/pdc.hex work/pdc-patched.der
run "$OPENSSL" x509 -in work/pdc-patched.der -inform DER \
	-signkey printable-dc.key -out work/printable-dc.ss
sign printable-dc ca printable-dc

rm -f work/*.csr work/*.ss work/unhex.* work/pdc*

cat >README.txt <<'EOF_README'
Test certificates made by tests/certs/gen-certs.sh (do not edit; rerun it).
Every leaf NAME has NAME.key (unencrypted PEM key) and NAME.pem (PEM cert).
Unless a line says otherwise a leaf is: issued by ca, RSA 2048, valid from
yesterday for 3650 days, KU critical digitalSignature+keyEncipherment, EKU
clientAuth, SKI (hash) and AKI (keyid), subject DER order as written
(first = first RDN in the DER, i.e. "/O=Example/CN=x" prints as
"CN=x,O=Example" in RFC 4514), UTF8String values (DC and emailAddress are
IA5String), UPN = otherName 1.3.6.1.4.1.311.20.2.3 UTF8String.
work/ holds the openssl configs (ext.cnf has every extension) and CA database.

ca.pem/.key          trust anchor, /C=US/O=Certmap Test/CN=Certmap Test CA (RFC 4514: CN=Certmap Test CA,O=Certmap Test,C=US), CA:true, keyCertSign+cRLSign
rogue-ca.pem/.key    another self-signed CA, /O=Elsewhere/CN=Rogue CA
inter-ca.pem/.key    intermediate CA issued by ca, /C=US/O=Certmap Test/CN=Certmap Test Intermediate
chain.pem            = inter-ca.pem (the chain for via-inter)
crl.pem              CRL by ca revoking revoked.pem (reason keyCompromise)
crl-empty.pem        CRL by ca revoking nothing
alice                /DC=com/DC=example/O=Example/OU=Users/UID=alice/CN=Alice Example; SAN email alice@example.com, UPN alice@EXAMPLE.COM; also alice.der (DER)
bob-ec               EC P-256; /DC=com/DC=example/O=Example/CN=bob; SAN email bob@example.com, UPN bob@EXAMPLE.COM
ec384                EC P-384; /O=Example/CN=ec384; UPN ec384@EXAMPLE.COM
utf8                 /O=Example/CN=Jürgen Müller (UTF8String); UPN jurgen@EXAMPLE.COM, email jurgen@example.com
multirdn             /O=Example/CN=carol+UID=carol (one multi-valued RDN); UPN carol@EXAMPLE.COM
multisan             /O=Example/CN=erin; SAN email erin@example.com, email erin.alt@example.org, DNS erin.example.com, DNS erin2.example.com, UPN erin@EXAMPLE.COM, UPN erin2@EXAMPLE.COM (in that order)
krb5                 /O=Example/CN=dave; Kerberos principal otherName 1.3.6.1.5.2.2 dave@EXAMPLE.COM (name-type 1); no UPN
krb5-multi           /O=Example/CN=host; Kerberos principal host/server.example.com@EXAMPLE.COM (name-type 1, two GeneralStrings); no UPN
sid                  /O=Example/CN=frank; UPN frank@EXAMPLE.COM; SID extension 1.3.6.1.4.1.311.25.2 (non-critical) = SEQUENCE { [0] { OID 1.3.6.1.4.1.311.25.2.1, [0] { OCTET STRING "S-1-5-21-2084710061-1330166313-3217380000-1105" } } }
nul-email            /O=Example/CN=victim-nul; only SAN: rfc822Name "victim@example.com\0.evil" (24 bytes, embedded NUL)
nul-dns              /O=Example/CN=nul-dns; only SAN: dNSName "victim.example.com\0.evil.test" (29 bytes, embedded NUL)
special-cn           /O=Example/CN=a*b(c)d\e (literal * ( ) \); UPN special@EXAMPLE.COM
special-dn           /O=Ex, Inc./OU=a+b/OU=#lead/OU= lead/trail /CN=x="y";<z># (RFC 4514: CN=x=\"y\"\;\<z\>#,OU=\ lead/trail\ ,OU=\#lead,OU=a\+b,O=Ex\, Inc.); UPN specialdn@EXAMPLE.COM
expired              /O=Example/CN=expired; valid 2020-01-01 to 2021-01-01; UPN alice@EXAMPLE.COM
notyet               /O=Example/CN=notyet; valid 2099-01-01 to 2100-01-01 (GeneralizedTime); UPN alice@EXAMPLE.COM
untrusted            issued by rogue-ca; alice's subject; UPN alice@EXAMPLE.COM
revoked              /O=Example/CN=revoked; UPN alice@EXAMPLE.COM; listed in crl.pem
serverauth           /O=Example/CN=grace; EKU serverAuth only; UPN grace@EXAMPLE.COM
noeku                /O=Example/CN=heidi; no EKU extension; UPN heidi@EXAMPLE.COM
noku                 /O=Example/CN=ivan; no KU extension (EKU clientAuth); UPN ivan@EXAMPLE.COM
keycert-only         /O=Example/CN=judy; KU keyEncipherment only; UPN judy@EXAMPLE.COM
root                 /O=Example/CN=root; UPN root@EXAMPLE.COM, email root@example.com
rsa1024              RSA 1024 key; /O=Example/CN=small; UPN small@EXAMPLE.COM
via-inter            issued by inter-ca (needs chain.pem); /O=Example/CN=ken; UPN ken@EXAMPLE.COM
allsan               /O=Example/CN=allsan; SAN, in order: otherName 1.2.3.4.5 UTF8 "generic-other", email all@example.com, DNS all.example.com, x400Address (ORAddress with country-name PrintableString US), directoryName /O=Dir Org/CN=dir name, ediPartyName (partyName UTF8 "edi party"), URI https://all.example.com/path?q=1, IP 192.0.2.1, IP 2001:db8::1, registeredID 1.2.3.4.5.6, UPN allsan@EXAMPLE.COM, Kerberos allsan@EXAMPLE.COM
allsan-sssd          /O=Example/CN=allsan-sssd; like allsan without x400Address and ediPartyName (which make libsss_certmap 2.8.2 crash), so the differential test compares every other SAN type
manysan              /O=Example/CN=many; nine rfc822Names (m0..m8@example.com) and nine dNSNames (h0..h8.example.com)
dsa1024              /O=Example/CN=dsa; DSA 1024-bit key, UPN dsa@EXAMPLE.COM (key-size policy)
ed25519              /O=Example/CN=ed; Ed25519 key, UPN ed@EXAMPLE.COM
upn-bmp              /O=Example/CN=bmp; UPN otherName whose value is a BMPString "bmp@EXAMPLE.COM" (not UTF8String); email bmp@example.com
empty-subject        empty subject; critical SAN email empty@example.com, UPN empty@EXAMPLE.COM
noski                /O=Example/CN=noski; no SKI and no AKI; UPN noski@EXAMPLE.COM
long                 /O=Example/OU=<64 x O>/CN=long; SAN DNS of 253 chars (labels 63.63.63.49 + .example.com), URI of 1500 chars, email with 64-char local part (l x 64 @example.com); UPN long@EXAMPLE.COM
multi-ou             /DC=org/DC=example/DC=sub/O=Example/OU=One/OU=Two/OU=Three/CN=mallory; UPN mallory@EXAMPLE.COM
escapes              /O=back\slash/OU= leading space/OU=trailing space /OU=a=b;c/OU=tab<TAB>and cr<CR>here/CN=#hash (one literal backslash, real TAB and CR bytes); UPN escapes@EXAMPLE.COM
bigserial            /O=Example/CN=bigserial; serial 0x80112233445566778899AABBCCDDEEFF0011 (18 value bytes, high bit set: DER INTEGER 19 bytes with leading 00); UPN serial@EXAMPLE.COM
smallserial          /O=Example/CN=smallserial; serial 1; UPN serial@EXAMPLE.COM
t61                  /O=Example/CN=T61 Müller with O and CN as T61String (ü is the single byte 0xFC, Latin-1 style); UPN t61@EXAMPLE.COM
bmp-cn               /O=Example/CN=BMP Müller with O and CN as BMPString (UCS-2 big-endian); UPN bmpcn@EXAMPLE.COM
email-dn             /O=Example/CN=eve/emailAddress=eve@example.com (emailAddress IA5String in the subject); UPN eve@EXAMPLE.COM
printable-dc         /DC=com/DC=example/O=Example/CN=pdc with both DC values as PrintableString (normally IA5String); UPN pdc@EXAMPLE.COM
EOF_README

# ----------------------------------------------------------- grid and serials
# Names that X509_NAME_oneline (the !grid conversion) prints alike or
# escapes, and serial numbers RFC 5280 forbids. Every key is EC P-256.
cat >>work/ext.cnf <<EOF_EXT
[grid]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = otherName:$UPN;UTF8:grid@EXAMPLE.COM
EOF_EXT
# The 13 ASCII characters J\xC3\xBCrgen, and the real Jürgen.
leaf grid-forged p256 '/O=Example/CN=J\\xC3\\xBCrgen' grid
leaf grid-real p256 '/O=Example/CN=Jürgen' grid
leaf grid-ctrl p256 "/O=Example/CN=a$(printf '\001')b${TAB}c$(printf '\177')d" grid
leaf grid-slash p256 '/O=Example/OU=a\/b/CN=slash' grid
leaf grid-plus p256 '/O=Example/OU=a\+b/CN=plus' grid
leaf grid-eq p256 '/O=Example/OU=a=b/CN=x=y' grid
leaf grid-mv p256 '/O=Example+OU=Ops/CN=dan+UID=dan+L=Here' grid
# T61String bytes C3 BC ("JÃ¼rgen" in Latin-1) print like UTF-8 "Jürgen";
# the BMPString U+4A4B U+4B4C prints as "JKKL".
key grid-t61 p256
csr grid-t61 '/O=Example/CN=JÃ¼rgen' work/req-t61.cnf
sign grid-t61 ca grid
key grid-bmp p256
csr grid-bmp '/O=Example/CN=䩋䭌' work/req-bmp.cnf
sign grid-bmp ca grid
# A BMPString whose characters are all in Latin-1 stays usable.
key grid-bmp-latin1 p256
csr grid-bmp-latin1 '/O=Example/CN=Jürgen' work/req-bmp.cnf
sign grid-bmp-latin1 ca grid

# Serial numbers 0 and -5 (openssl ca cannot write them) and 5.
for s in 0 -5 5; do
	n=serial$s
	[ "$s" != -5 ] || n=serial-neg5
	key "$n" p256
	csr "$n" "/O=Example/CN=$n"
	run "$OPENSSL" x509 -req -in "work/$n.csr" -CA ca.pem -CAkey ca.key \
		-set_serial "$s" -days 3650 -extfile work/ext.cnf -extensions serial \
		-out "$n.pem"
done
rm -f work/*.csr

cat >>README.txt <<'EOF_README'
grid-forged          EC P-256; /O=Example/CN=J\xC3\xBCrgen (13 ASCII characters, two literal backslashes); UPN grid@EXAMPLE.COM (so are all grid-*)
grid-real            /O=Example/CN=Jürgen (UTF8String); X509_NAME_oneline prints both as /O=Example/CN=J\xC3\xBCrgen
grid-ctrl            /O=Example/CN=a<0x01>b<TAB>c<0x7f>d (control bytes)
grid-slash           /O=Example/OU=a/b/CN=slash ('/' in a value)
grid-plus            /O=Example/OU=a+b/CN=plus ('+' in a value)
grid-eq              /O=Example/OU=a=b/CN=x=y ('=' in values)
grid-mv              /O=Example+OU=Ops/CN=dan+UID=dan+L=Here (two multi-valued RDNs)
grid-t61             /O=Example/CN=JÃ¼rgen as T61String (bytes 4A C3 BC ...: prints like the UTF-8 Jürgen)
grid-bmp             /O=Example/CN=U+4A4B U+4B4C as BMPString (prints as JKKL)
grid-bmp-latin1      /O=Example/CN=Jürgen as BMPString (every character below U+0100)
serial0              EC P-256; /O=Example/CN=serial0; serial 0 (made by openssl x509 -req -set_serial); UPN serial@EXAMPLE.COM
serial-neg5          /O=Example/CN=serial-neg5; serial -5 (DER 02 01 FB); UPN serial@EXAMPLE.COM
serial5              /O=Example/CN=serial5; serial 5; UPN serial@EXAMPLE.COM
EOF_README

# ----------------------------------------------------------- ldap tests
# inject: a CN and a SAN email that would widen an unescaped LDAP filter.
cat >>work/ext.cnf <<'EOF_EXT'
[inject]
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = email:*)(uid=*
EOF_EXT
leaf inject rsa2048 "/O=Example/CN=*)(uid=*"
# ldap-server: the test slapd's TLS certificate.
cat >>work/ext.cnf <<'EOF_EXT'
[ldap-server]
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:ldap.example.test, IP:127.0.0.1
EOF_EXT
leaf ldap-server rsa2048 "/O=Example/CN=ldap.example.test"
rm -f work/*.csr
cat >>README.txt <<'EOF_README'
inject               /O=Example/CN=*)(uid=*; SAN email "*)(uid=*" (LDAP filter injection attempt)
ldap-server          /O=Example/CN=ldap.example.test; EKU serverAuth; SAN DNS ldap.example.test, IP 127.0.0.1 (not "localhost"): the test slapd's certificate
EOF_README
