#!/bin/sh
# certmapctl import pam_pkcs11, proven against pam_pkcs11 itself.
#
# Each test certificate (with its key) is put alone on a SoftHSM token
# (a private SOFTHSM2_CONF: nothing in /etc or /var is used). For each
# mapper configuration below, pam_pkcs11's own pklogin_finder reads the
# token through libsofthsm2.so and prints the login it finds; certmapctl
# imports the same pam_pkcs11.conf (and its mapfiles) and `certmapctl
# test` maps the same certificate. Both run with the same nss_wrapper
# accounts. The answers must be equal, except for the differences listed
# in known() with the certmapctl(8) paragraph that explains them.
# Exit 77 when pam_pkcs11, SoftHSM or OpenSC's pkcs11-tool is missing.
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"

for t in pklogin_finder softhsm2-util pkcs11-tool; do
	command -v "$t" >/dev/null 2>&1 || { echo "$t not installed: skipped"; exit 77; }
done
module=
for d in /usr/lib/x86_64-linux-gnu/softhsm /usr/lib/aarch64-linux-gnu/softhsm /usr/lib/softhsm /usr/lib64/softhsm; do
	[ -f "$d/libsofthsm2.so" ] && { module="$d/libsofthsm2.so"; break; }
done
[ -n "$module" ] || { echo "libsofthsm2.so not found: skipped"; exit 77; }
OPENSSL=${OPENSSL:-openssl}

tmp=$(mktemp -d "$builddir/tests/tmp-p11.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/tokens" "$tmp/cadir"
cat > "$tmp/softhsm2.conf" <<EOF
directories.tokendir = $tmp/tokens
objectstore.backend = file
log.level = ERROR
EOF
SOFTHSM2_CONF="$tmp/softhsm2.conf"
export SOFTHSM2_CONF
cp "$certs/ca.pem" "$certs/inter-ca.pem" "$tmp/cadir/"
"$OPENSSL" rehash "$tmp/cadir" 2>/dev/null || c_rehash "$tmp/cadir" >/dev/null

# The same accounts for pam_pkcs11 and certmap.
cat > "$tmp/passwd" <<EOF
alice:x:1000:1000:Alice Example:/home/alice:/bin/sh
bob:x:1001:1001:Bob:/home/bob:/bin/sh
erin:x:1002:1002:Erin:/home/erin:/bin/sh
jurgen:x:1003:1003:Jurgen:/home/jurgen:/bin/sh
carol:x:1004:1004:Carol:/home/carol:/bin/sh
eve:x:1005:1005:Eve:/home/eve:/bin/sh
dave:x:1006:1006:Dave:/home/dave:/bin/sh
ken:x:1007:1007:Ken:/home/ken:/bin/sh
alice-subject:x:1010:1000::/:/bin/sh
alice-digest:x:1011:1000::/:/bin/sh
specialdn:x:1008:1008:Special:/home/specialdn:/bin/sh
alice@example.com:x:1020:1000::/:/bin/sh
bob@example.com:x:1021:1000::/:/bin/sh
jurgen@example.com:x:1022:1000::/:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
printf 'users:x:1000:\nnogroup:x:65534:\n' > "$tmp/group"
NSS_WRAPPER_PASSWD="$tmp/passwd"; NSS_WRAPPER_GROUP="$tmp/group"
export NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
nss() { sh "$srcdir/tests/lib/nsswrap.sh" "$@"; }
# pam_pkcs11's tools are not built with ASan: no libasan preloaded into them.
nss_plain() { CERTMAP_ASAN_PRELOAD= sh "$srcdir/tests/lib/nsswrap.sh" "$@"; }

certlist="alice bob-ec utf8 multisan email-dn multirdn special-dn krb5 via-inter expired untrusted"

subject() { "$OPENSSL" x509 -in "$certs/$1.pem" -noout -subject -nameopt compat | sed 's/^subject=//'; }
digest() { "$OPENSSL" x509 -in "$certs/$1.pem" -noout -fingerprint -"$2" | sed 's/^.*=//' | tr 'A-F' 'a-f'; }

# --- mapfiles in pam_pkcs11's "key -> login" format
printf '# subject mapfile\n%s -> alice-subject\n%s -> jurgen\n%s -> carol\n%s -> nobody\n' \
	"$(subject alice)" "$(subject utf8)" "$(subject multirdn)" "$(subject special-dn)" > "$tmp/subject.map"
printf 'Alice Example -> alice\nbob -> bob\nJürgen Müller -> jurgen\nken -> ken\nbob -> erin\n' > "$tmp/cn.map"
printf 'alice@example.com -> alice\nerin@example.com -> erin\njurgen@example.com -> jurgen\n' > "$tmp/mail.map"
printf 'alice -> alice\ncarol -> carol\n' > "$tmp/uid.map"
printf '%s -> alice-digest\n%s -> bob\n' "$(digest alice sha256)" "$(digest bob-ec sha256 | tr -d :)" > "$tmp/digest.map"
printf 'dave@EXAMPLE.COM -> dave\n' > "$tmp/krb.map"
printf 'eve@example.com -> eve\nerin@example.com -> erin\n' > "$tmp/generic.map"

# conf NAME POLICY MAPPERS BLOCKS: writes $tmp/NAME.conf
conf() {
	cat > "$tmp/$1.conf" <<EOF
# pam_pkcs11.conf for the "$1" case
pam_pkcs11 {
  nullok = false;
  debug = false;
  use_pkcs11_module = softhsm;
  pkcs11_module softhsm {
    module = $module;
    description = "SoftHSM";
    slot_num = 0;
    ca_dir = $tmp/cadir;
    crl_dir = $tmp/crls;
    cert_policy = $2;
  }
  use_mappers = $3;
  $4
}
EOF
}
conf subject none subject "mapper subject { module = internal; ignorecase = false; mapfile = file://$tmp/subject.map; }"
conf cn none cn "mapper cn { module = internal; ignorecase = false; mapfile = file://$tmp/cn.map; }"
conf cn-none none cn 'mapper cn { module = internal; ignorecase = false; mapfile = "none"; }'
conf mail none mail "mapper mail { module = internal; ignorecase = false; ignoredomain = true; mapfile = \"file://$tmp/mail.map\"; }"
conf uid none uid "mapper uid { module = internal; ignorecase = false; mapfile = $tmp/uid.map; }"
conf ms none ms 'mapper ms { module = internal; ignorecase = false; ignoredomain = false; domainname = "EXAMPLE.COM"; }'
conf digest none digest "mapper digest { module = internal; algorithm = \"sha256\"; mapfile = file://$tmp/digest.map; }"
conf krb none krb "mapper krb { module = internal; ignorecase = false; mapfile = file://$tmp/krb.map; }"
conf generic none generic "mapper generic { module = internal; cert_item = email; ignorecase = false; use_getpwent = false; mapfile = file://$tmp/generic.map; }"
conf null none null 'mapper null { module = internal; default_match = true; default_user = nobody; }'
conf chain none "uid, ms, mail, null" "mapper uid { module = internal; mapfile = file://$tmp/uid.map; }
  mapper ms { module = internal; ignoredomain = false; domainname = \"EXAMPLE.COM\"; }
  mapper mail { module = internal; ignorecase = false; mapfile = file://$tmp/mail.map; }
  mapper null { module = internal; default_match = true; default_user = nobody; }"
conf policy ca ms 'mapper ms { module = internal; ignoredomain = true; }'
cases="subject cn cn-none mail uid ms digest krb generic null chain policy"

# Deliberate differences: "case/cert:pam_pkcs11's answer" -> the paragraph
# of certmapctl(8) (pam_pkcs11 differences) or certmap.conf(5) that says why.
known() {
	case "$1" in
	cn-none/*:)
		echo "certmapctl(8): a mapper without a mapfile finds nothing in pklogin_finder; certmap maps the value";;
	uid/*:)
		echo "certmapctl(8): pam_pkcs11 0.6.12's uid mapper never finds a user (mapping error)";;
	krb/krb5:)
		echo "certmapctl(8): pam_pkcs11 0.6.12 reads no Kerberos principal from the certificate";;
	subject/special-dn:*)
		echo "certmap.conf(5) MAPFILE: !grid refuses ambiguous values (here / and +)";;
	*) return 1;;
	esac
}

# --- import every case (each must import completely: exit 0)
for c in $cases; do
	expect_exit "import $c" 0 "$CERTMAPCTL" import pam_pkcs11 --output "$tmp/$c.certmap.conf" "$tmp/$c.conf"
done
expect_exit "imported subject map file" 0 grep -qF '"/DC=com/DC=example/O=Example/OU=Users/UID=alice/CN=Alice Example" alice-subject' "$tmp/pam_pkcs11-subject.map"
expect_exit "a key listed twice keeps pam_pkcs11's first line" 1 grep -q '^"bob" erin' "$tmp/pam_pkcs11-cn.map"
expect_exit "policy ca -> ca_dir" 0 grep -q "ca_dir = \"$tmp/cadir\"" "$tmp/policy.certmap.conf"
expect_exit "no EKU required" 0 grep -q 'require_eku = \[\];' "$tmp/policy.certmap.conf"

# --- one token per certificate; every case on it
n_diff=0
for cert in $certlist; do
	rm -rf "$tmp/tokens" && mkdir "$tmp/tokens"
	softhsm2-util --init-token --free --label certmap --pin 1234 --so-pin 5678 >/dev/null 2>&1 ||
		{ ko "softhsm2-util --init-token"; continue; }
	"$OPENSSL" x509 -in "$certs/$cert.pem" -outform DER -out "$tmp/cert.der"
	"$OPENSSL" pkey -in "$certs/$cert.key" -outform DER -out "$tmp/key.der" 2>/dev/null
	pkcs11-tool --module "$module" --login --pin 1234 --write-object "$tmp/cert.der" --type cert \
		--id 01 --label "$cert" >/dev/null 2>&1 || { ko "$cert: pkcs11-tool cert"; continue; }
	pkcs11-tool --module "$module" --login --pin 1234 --write-object "$tmp/key.der" --type privkey \
		--id 01 --label "$cert" >/dev/null 2>&1 || echo "note: $cert: key not stored"
	for c in $cases; do
		pam=$(nss_plain pklogin_finder config_file="$tmp/$c.conf" 2>/dev/null | tail -n 1)
		cm=$(nss "$CERTMAPCTL" test --json --config "$tmp/$c.certmap.conf" "$certs/$cert.pem" 2>/dev/null |
			sed -n 's/^  "user": "\(.*\)",*$/\1/p')
		if [ "$pam" = "$cm" ]; then
			ok "$c/$cert: ${pam:-(none)}"
		elif why=$(known "$c/$cert:$pam"); then
			n_diff=$((n_diff + 1))
			echo "known: $c/$cert: pam_pkcs11 '${pam}' certmap '${cm}': $why"
		else
			ko "$c/$cert: pam_pkcs11 '${pam}' certmap '${cm}'"
		fi
	done
done
echo "$n_diff known differences"
finish
