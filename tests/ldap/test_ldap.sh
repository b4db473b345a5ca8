#!/bin/sh
# ldap domains end to end: the built certmapctl against the suite's own
# slapd (tests/lib/slapd.sh) holding users, groups in the three schemas and
# a certificate, with certificates from the suite's CA.
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"
. "$srcdir/tests/lib/slapd.sh"
. "$srcdir/tests/lib/adlib.sh"
slapd_require

tmp=$(mktemp -d "$builddir/tests/tmp-ldap.XXXXXX")
chmod 755 "$tmp"
trap 'slapd_stop_all; rm -rf "$tmp"' EXIT
B="dc=example,dc=com"

# NSS accounts for ids = "nss": alice exists with other ids than the directory's.
printf 'alice:x:5000:5000:Alice:/nss/alice:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n' > "$tmp/passwd"
printf 'alice:x:5000:\nnssgrp:x:5001:alice\n' > "$tmp/group"
NSS_WRAPPER_PASSWD="$tmp/passwd"; NSS_WRAPPER_GROUP="$tmp/group"
export NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP

user() { # uid uidNumber cn [extra LDIF lines]
	printf 'dn: uid=%s,ou=People,%s\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\n' "$1" "$B"
	printf 'uid: %s\ncn: %s\nsn: %s\nuidNumber: %s\ngidNumber: %s\nhomeDirectory: /home/%s\n' \
		"$1" "$3" "$1" "$2" "$2" "$1"
	[ $# -lt 4 ] || printf '%s\n' "$4"
	echo
}
posixgroup() { # cn gid memberUid...
	g=$1; id=$2; shift 2
	printf 'dn: cn=%s,ou=Groups,%s\nobjectClass: posixGroup\ncn: %s\ngidNumber: %s\n' "$g" "$B" "$g" "$id"
	for m in "$@"; do printf 'memberUid: %s\n' "$m"; done
	echo
}
bisgroup() { # cn gid|- member-DN...
	g=$1; id=$2; shift 2
	printf 'dn: cn=%s,ou=BisGroups,%s\nobjectClass: groupOfNames\n' "$g" "$B"
	[ "$id" = - ] || printf 'objectClass: extensibleObject\ngidNumber: %s\n' "$id"
	printf 'cn: %s\n' "$g"
	for m in "$@"; do printf 'member: %s\n' "$m"; done
	echo
}
A="uid=alice,ou=People,$B"

FRANK_SID=S-1-5-21-2084710061-1330166313-3217380000-1105
OTHER_SID=S-1-5-21-2084710061-1330166313-3217380000-1106
ad_user() { # uid uidNumber sid|- altSecurityIdentities
	printf 'dn: uid=%s,ou=People,%s\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\nobjectClass: certmapTestADUser\n' "$1" "$B"
	printf 'uid: %s\ncn: %s\nsn: %s\nuidNumber: %s\ngidNumber: %s\nhomeDirectory: /home/%s\n' "$1" "$1" "$1" "$2" "$2" "$1"
	case $3 in
	-) ;;
	bad) printf 'objectSid:: %s\n' "$(printf '\001\005\000\000\000\000\000\005\025\000\000\000' | base64 -w0)" ;;
	*) printf 'objectSid:: %s\n' "$(sid_b64 "$3")" ;;
	esac
	printf 'altSecurityIdentities: %s\n\n' "$4"
}
BG="ou=BisGroups,$B"
{
	printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n' "$B"
	for ou in People Groups BisGroups Private Other AD; do
		printf 'dn: ou=%s,%s\nobjectClass: organizationalUnit\nou: %s\n\n' "$ou" "$B" "$ou"
	done
	printf 'dn: cn=reader,%s\nobjectClass: person\ncn: reader\nsn: reader\nuserPassword: reader-secret\n\n' "$B"
	user alice 10001 "Alice Example" "mail: alice@example.com
memberOf: cn=devs,ou=Groups,$B
memberOf: cn=team,$BG
userCertificate;binary:: $(base64 -w0 "$certs/alice.der")"
	user bob 10002 bob
	user bobby 10003 bob
	user toor 0 root
	user ec384 500 ec384
	user smallserial 10010 smallserial
	printf 'dn: uid=smallserial,ou=Other,%s\nobjectClass: account\nobjectClass: posixAccount\n' "$B"
	printf 'uid: smallserial\ncn: smallserial\nuidNumber: 10011\ngidNumber: 10011\nhomeDirectory: /other/smallserial\n\n'
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do user "many$i" "$((11000 + i))" many; done
	printf 'dn: uid=carol,ou=Private,%s\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\n' "$B"
	printf 'uid: carol\ncn: carol\nsn: carol\nuidNumber: 10004\ngidNumber: 10004\nhomeDirectory: /home/carol\n\n'
	S="$certs/sid.pem"
	ad_user frank 10020 "$FRANK_SID" "X509:<I>$(cert_issuer_ad "$S")<SR>$(cert_serial_ur "$S")"
	ad_user frank2 10021 "$OTHER_SID" "X509:<SKI>$(cert_ski "$S")"
	ad_user frank3 10022 - "X509:<SHA1-PUKEY>$(cert_sha1_u "$S")"
	ad_user frank5 10024 bad "X509:<S>$(cert_subject_ad "$S")"
	ad_user frank4 10023 "$FRANK_SID" "X509:<I>$(cert_issuer_ad "$S")<S>$(cert_subject_ad "$S")"
	# the weak e-mail and subject forms, for alice's and bob's certificates
	ad_user grace 10025 - "X509:<RFC822>alice@example.com"
	ad_user henry 10026 - "X509:<S>$(cert_subject_ad "$certs/bob-ec.pem")"
	# ids = "sid": an AD-like user and groups without POSIX attributes
	D=S-1-5-21-2084710061-1330166313-3217380000
	printf 'dn: cn=frank6,ou=AD,%s\nobjectClass: inetOrgPerson\nobjectClass: certmapTestADUser\n' "$B"
	printf 'cn: frank6\nsn: frank6\nuid: frank6\nobjectSid:: %s\nprimaryGroupID: 513\n' "$(sid_b64 "$FRANK_SID")"
	printf 'altSecurityIdentities: X509:<I>%s<SR>%s\n\n' "$(cert_issuer_ad "$S")" "$(cert_serial_ur "$S")"
	for g in "Domain Users:513:-" "ad-devs:1200:cn=frank6,ou=AD,$B" "ad-nested:1201:cn=ad-devs,ou=AD,$B" "no-sid::cn=frank6,ou=AD,$B"; do
		IFS=: read -r gn grid gm <<EOG
$g
EOG
		printf 'dn: cn=%s,ou=AD,%s\nobjectClass: groupOfNames\n' "$gn" "$B"
		[ -z "$grid" ] || printf 'objectClass: certmapTestADUser\nobjectSid:: %s\n' "$(sid_b64 "$D-$grid")"
		printf 'cn: %s\nmember: %s\n\n' "$gn" "$([ "$gm" = - ] && echo "cn=nobody" || echo "$gm")"
	done
	# attribute reading: description stands for the uid in some rules
	for a in "attrs1:description: 0010041" "attrs2:description: 10042
description: 10043" "attrs3:description: 10x44"; do
		printf 'dn: uid=%s,ou=Other,%s\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\n' "${a%%:*}" "$B"
		printf 'uid: %s\ncn: %s\nsn: %s\nuidNumber: 10031\ngidNumber: 20031\nhomeDirectory: /home/%s\n%s\n\n' \
			"${a%%:*}" "${a%%:*}" "${a%%:*}" "${a%%:*}" "${a#*:}"
	done
	posixgroup alice 10001
	posixgroup devs 20001 alice
	posixgroup web 20002 bob
	posixgroup all 20003 bob alice
	bisgroup alicepg 10001 "$A"
	bisgroup team 30001 "$A"
	bisgroup dept 30002 "cn=team,$BG"
	bisgroup org 30003 "cn=dept,$BG" "cn=cyc,$BG"
	bisgroup cyc 30004 "cn=org,$BG"
	bisgroup nonposix - "$A"
	bisgroup vianonposix 30005 "cn=nonposix,$BG"
	bisgroup bobonly 30006 "uid=bob,ou=People,$B"
} > "$tmp/data.ldif"

slapd_init "$tmp/s1" "$certs/ldap-server.pem" "$certs/ldap-server.key" && slapd_load "$tmp/s1" "$tmp/data.ldif" && slapd_start "$tmp/s1" ldapi || exit 99
U1=$(slapd_uri "$tmp/s1")
slapd_init "$tmp/s2" && slapd_load "$tmp/s2" "$tmp/data.ldif" && slapd_start "$tmp/s2" || exit 99
U2=$(slapd_uri "$tmp/s2")
# A port nothing listens on.
DEAD="ldap://127.0.0.1:$(slapd_free_port)"

# conf NAME URIS DOMAIN-EXTRA RULE-MAP : writes $tmp/NAME.conf
conf() {
	cat > "$tmp/$1.conf" <<EOC
verify = { ca_file = "$certs/ca.pem"; };
domains = ( { name = "dir"; type = "ldap"; uri = [$2]; base = "$B"; $3 } );
rules = ( { name = "r"; priority = 1; match = "<EKU>clientAuth"; map = "$4"; domains = ["dir"]; } );
EOC
}
t() { # NAME WANT-EXIT CONF CERT [args]
	n=$1; w=$2; c=$3; f=$4; shift 4
	expect_exit "$n" "$w" ctl test --json "$@" --config "$tmp/$c.conf" "$certs/$f.pem"
}

# --- configuration errors name the setting (check-config, no directory needed)
bad() { # NAME DOMAIN-SETTINGS EXPECTED-TEXT
	cat > "$tmp/bad.conf" <<EOC
verify = { ca_file = "$certs/ca.pem"; };
domains = ( { name = "dir"; type = "ldap"; $2 } );
rules = ( { name = "r"; map = "LDAP:(uid=x)"; } );
EOC
	expect_exit "config: $1" 2 ctl check-config --config "$tmp/bad.conf"
	expect_out "config: $1: message" "$3"
}
bad "uri required" 'base = "'"$B"'";' 'domains[0].uri: is required'
bad "base required" 'uri = ["'"$U1"'"];' 'domains[0].base: is required'
bad "bad base" 'uri = ["'"$U1"'"]; base = "not a dn";' 'domains[0].base: is not a valid DN'
bad "uri scheme" 'uri = ["http://x"]; base = "'"$B"'";' 'expected an ldap://, ldaps:// or ldapi:// URI'
bad "base inside the uri" 'uri = ["ldap://x/dc=x"]; base = "'"$B"'";' 'give the base in base'
bad "starttls on ldaps" 'uri = ["ldaps://x"]; base = "'"$B"'"; starttls = true;' 'starttls = true needs ldap:// URIs'
bad "unknown setting" 'uri = ["'"$U1"'"]; base = "'"$B"'"; bind_pw = "x";' 'domains[0].bind_pw: unknown setting'
bad "scope" 'uri = ["'"$U1"'"]; base = "'"$B"'"; scope = "deep";' 'domains[0].scope: unknown value "deep"'
bad "user_filter" 'uri = ["'"$U1"'"]; base = "'"$B"'"; user_filter = "uid=x";' 'domains[0].user_filter: must be one LDAP filter'
bad "user_filter two filters" 'uri = ["'"$U1"'"]; base = "'"$B"'"; user_filter = "(a=b)(c=d)";' 'domains[0].user_filter: must be one LDAP filter'
bad "groups" 'uri = ["'"$U1"'"]; base = "'"$B"'"; groups = "ad";' 'domains[0].groups: unknown value "ad"'
bad "ids" 'uri = ["'"$U1"'"]; base = "'"$B"'"; ids = "uuid";' 'domains[0].ids: unknown value "uuid"'
bad "timeout range" 'uri = ["'"$U1"'"]; base = "'"$B"'"; timeout = 0;' 'domains[0].timeout: must be between 1 and 300'
bad "size_limit range" 'uri = ["'"$U1"'"]; base = "'"$B"'"; size_limit = 1000;' 'domains[0].size_limit: must be between 1 and 256'
bad "group_depth range" 'uri = ["'"$U1"'"]; base = "'"$B"'"; group_depth = 33;' 'domains[0].group_depth: must be between 0 and 32'
bad "attribute name" 'uri = ["'"$U1"'"]; base = "'"$B"'"; attr_uid = "uid Number";' 'is not an attribute name'
bad "bind_dn alone" 'uri = ["'"$U1"'"]; base = "'"$B"'"; bind_dn = "cn=x";' 'domains[0].bind_dn: needs bind_password_file as well'
bad "sasl_mech" 'uri = ["'"$U1"'"]; base = "'"$B"'"; sasl_mech = "GSSAPI";' 'domains[0].sasl_mech: unknown value "GSSAPI"'
bad "tls_ca_file without TLS" 'uri = ["'"$U1"'"]; base = "'"$B"'"; tls_ca_file = "'"$certs/ca.pem"'";' 'no URI is ldaps://'
bad "password file missing" 'uri = ["'"$U1"'"]; base = "'"$B"'"; bind_dn = "cn=x"; bind_password_file = "'"$tmp/nopw"'";' 'No such file or directory'
printf 'x\n' > "$tmp/pw-other"
chmod 600 "$tmp/pw-other"
chown nobody "$tmp/pw-other" 2>/dev/null
if [ "$(id -u)" -eq 0 ]; then
	bad "password file of another user" 'uri = ["'"$U1"'"]; base = "'"$B"'"; bind_dn = "cn=x"; bind_password_file = "'"$tmp/pw-other"'";' 'owned by neither root nor the service user'
	printf 'service = { user = "nobody"; };\n' >> "$tmp/bad.conf"
	expect_exit "config: password file of the service user" 0 ctl check-config --config "$tmp/bad.conf"
	printf 'x\n' > "$tmp/pw-root"
	chmod 600 "$tmp/pw-root"
	sed -i "s|$tmp/pw-other|$tmp/pw-root|" "$tmp/bad.conf"
	expect_exit "config: root's password file is valid" 0 ctl check-config --config "$tmp/bad.conf"
	expect_out "config: ... but service.user cannot read it" "service.user nobody (uid 65534) cannot read $tmp/pw-root"
fi

# --- mapping forms, rfc2307 groups
conf uid "\"$U1\"" 'group_base = "ou=Groups,'"$B"'";' 'LDAPU1:(uid={subject_dn_component.uid})'
t "LDAPU1 uid from the subject maps alice" 0 uid alice
expect_out "user alice" '"user": "alice"'
expect_out "directory uid" '"uid": 10001'
expect_out "directory gid" '"gid": 10001'
expect_out "directory home" '"home": "/home/alice"'
expect_compact "rfc2307 groups, primary first" '"groups":["alice","all","devs"]'
expect_out "domain dir" '"domain": "dir"'
expect_out "trace: server, filter, entries" "$U1 answered (&(objectClass=posixAccount)(uid=alice)) with 1 entry in "
conf mail "\"$U1\"" '' 'LDAP:(mail={subject_rfc822_name})'
t "LDAP mail from the SAN maps alice" 0 mail alice
expect_out "mail user alice" '"user": "alice"'
conf cn "\"$U1\"" '' 'LDAPU1:(cn={subject_dn_component.cn})'
t "uid 500 below min_uid refused" 1 cn ec384
expect_out "min_uid reason" '"reason": "uid_refused"'
conf root "\"$U1\"" '' 'LDAPU1:(cn={subject_dn_component.cn})'
t "uid 0 entry refused" 1 root root
expect_out "uid 0 reason" '"reason": "uid_refused"'
t "cn with no entry" 1 cn utf8
expect_out "no_account reason" '"reason": "no_account"'

# --- several entries, size limit
t "two entries for one rule: ambiguous" 1 cn bob-ec
expect_out "ambiguous reason" '"reason": "ambiguous"'
expect_out "both named" 'bobby (dir)'
t "requested user picks one of them" 0 cn bob-ec --user bobby
expect_out "bobby mapped" '"user": "bobby"'
t "12 entries, size_limit 10: ambiguous" 1 cn manysan
expect_out "truncated reason" '"reason": "ambiguous"'
expect_out "truncated message" 'size_limit'
t "12 entries with a requested user: still no map" 1 cn manysan --user many3
conf cn20 "\"$U1\"" 'size_limit = 20;' 'LDAPU1:(cn={subject_dn_component.cn})'
t "12 entries under size_limit 20: ambiguous" 1 cn20 manysan
expect_out "12 qualify" '12 accounts qualify'
t "size_limit 20 with a requested user maps" 0 cn20 manysan --user many3

conf dup "\"$U1\"" '' 'LDAPU1:(uid={subject_dn_component.cn})'
t "two entries with one name: ambiguous" 1 dup smallserial
expect_out "same name twice: ambiguous" '"reason": "ambiguous"'
t "two entries with one name, requested: still ambiguous" 1 dup smallserial --user smallserial
expect_out "requested same name twice: ambiguous" '"reason": "ambiguous"'
conf dupl "\"$U1\"" '' 'LOCAL:{subject_dn_component.cn}'
t "LOCAL: name held by two entries: no account" 1 dupl smallserial
expect_out "LOCAL: two entries named" '2 entries in domain dir have uid=smallserial'

# --- filter injection
conf inj "\"$U1\"" '' 'LDAPU1:(cn={subject_dn_component.cn})'
t "CN '*)(uid=*' finds nothing" 1 inj inject
expect_out "injection: no_account" '"reason": "no_account"'
expect_out "injection escaped" '\\2a\\29\\28uid=\\2a'
conf inj2 "\"$U1\"" '' 'LDAP:(mail={subject_rfc822_name})'
t "SAN email '*)(uid=*' finds nothing" 1 inj2 inject
expect_out "SAN injection: no_account" '"reason": "no_account"'

# --- certificate stored in the entry
conf bin "\"$U1\"" '' 'LDAP:(userCertificate;binary={cert!bin})'
t "SSSD default rule finds nothing on OpenLDAP" 1 bin alice
expect_out "default rule: no_account" '"reason": "no_account"'
conf gser "\"$U1\"" '' 'LDAPU1:(userCertificate;binary=\\7b serialNumber {serial_number!dec}, issuer rdnSequence:\"{issuer_dn!nss_ldap}\" \\7d)'
t "certificateExactMatch on serial and issuer maps alice" 0 gser alice
expect_out "stored certificate: alice" '"user": "alice"'
t "another certificate of the same CA does not" 1 gser revoked
expect_out "other certificate: no_account" '"reason": "no_account"'

# --- AD strong mapping (altSecurityIdentities) and the SID check
conf adsr "\"$U1\"" '' 'LDAPU1:(altSecurityIdentities=X509:<I>{issuer_dn!ad_x500}<SR>{serial_number!hex_ur})'
t "altSecurityIdentities issuer+serial maps frank" 0 adsr sid
expect_out "I/SR: frank" '"user": "frank"'
conf adski "\"$U1\"" '' 'LDAPU1:(altSecurityIdentities=X509:<SKI>{subject_key_id})'
t "SKI maps to an entry whose objectSid differs: refused" 1 adski sid
expect_out "sid_mismatch reason" '"reason": "sid_mismatch"'
expect_out "sid_mismatch names both SIDs" "frank2 has objectSid $OTHER_SID, the certificate's SID extension says $FRANK_SID"
conf adsha "\"$U1\"" '' 'LDAPU1:(altSecurityIdentities=X509:<SHA1-PUKEY>{cert!sha1_u})'
t "SHA1-PUKEY maps frank3 (entry without objectSid)" 0 adsha sid
expect_out "SHA1: frank3" '"user": "frank3"'
conf adis "\"$U1\"" '' 'LDAPU1:(altSecurityIdentities=X509:<I>{issuer_dn!ad_x500}<S>{subject_dn!ad_x500})'
t "weak issuer+subject form maps frank4 (same objectSid)" 0 adis sid
expect_out "I/S: frank4" '"user": "frank4"'
conf ads "\"$U1\"" '' 'LDAPU1:(altSecurityIdentities=X509:<S>{subject_dn!ad_x500})'
t "an entry with a malformed objectSid is not used" 1 ads sid
expect_out "malformed objectSid named" 'entry uid=frank5,ou=People,dc=example,dc=com has an unusable objectSid'
t "issuer+serial of another certificate finds nothing" 1 adsr alice
t "weak subject form maps henry (bob's certificate)" 0 ads bob-ec
expect_out "S: henry" '"user": "henry"'
conf adrfc "\"$U1\"" '' 'LDAPU1:(altSecurityIdentities=X509:<RFC822>{subject_rfc822_name})'
t "weak e-mail form X509:<RFC822> maps grace (alice's certificate)" 0 adrfc alice
expect_out "RFC822: grace" '"user": "grace"'
expect_out "RFC822: the filter sent" '(altSecurityIdentities=X509:<RFC822>alice@example.com)'
t "X509:<RFC822> of another e-mail (bob) finds nothing" 1 adrfc bob-ec
expect_out "RFC822 other e-mail: no_account" '"reason": "no_account"'
t "X509:<RFC822> of a certificate without an e-mail sends no search" 1 adrfc sid
expect_out "RFC822 no e-mail: no_rule_matched" '"reason": "no_rule_matched"'
expect_out "RFC822 no e-mail: the SAN is named" '{subject_rfc822_name}: the certificate has no such SAN'
t "X509:<RFC822> with SAN e-mail '*)(uid=*' finds nothing (grace's value would match a wildcard)" 1 adrfc inject
expect_out "RFC822 injection: no_account" '"reason": "no_account"'
expect_out "RFC822 injection escaped" 'X509:<RFC822>\\2a\\29\\28uid=\\2a'
expect_out "other certificate: no_account (AD)" '"reason": "no_account"'

# --- ids = "sid": uid and gid computed from objectSid as SSSD does
conf idsid "\"$U1\"" 'base = "ou=AD,'"$B"'"; ids = "sid"; user_filter = "(objectClass=certmapTestADUser)"; groups = "rfc2307bis"; group_filter = "(objectClass=groupOfNames)";' 'LDAPU1:(altSecurityIdentities=X509:<I>{issuer_dn!ad_x500}<SR>{serial_number!hex_ur})'
sed -i 's/base = "'"$B"'"; base =/base =/' "$tmp/idsid.conf"
t "ids sid maps frank6" 0 idsid sid
expect_out "ids sid: frank6" '"user": "frank6"'
IDMAP="$builddir/tests/diff/test_idmap_diff"
if [ -x "$IDMAP" ]; then
	want_uid=$("$IDMAP" "$FRANK_SID")
	want_gid=$("$IDMAP" "$D-513")
	expect_out "uid as libsss_idmap computes it ($want_uid)" "\"uid\": $want_uid,"
	expect_out "gid from primaryGroupID as libsss_idmap computes it ($want_gid)" "\"gid\": $want_gid,"
else
	echo "SKIP: libsss_idmap comparison (libsss-idmap-dev not installed)"
fi
expect_compact "ids sid: groups with SIDs, primary first" '"groups":["DomainUsers","ad-devs","ad-nested"]'

# --- group schemas
conf bis "\"$U1\"" 'groups = "rfc2307bis"; group_base = "'"$BG"'";' 'LDAPU1:(uid={subject_dn_component.uid})'
t "rfc2307bis maps alice" 0 bis alice
expect_compact "rfc2307bis nested groups, cycle ended" '"groups":["alicepg","cyc","dept","org","team","vianonposix"]'
conf bis1 "\"$U1\"" 'groups = "rfc2307bis"; group_depth = 1; group_base = "'"$BG"'";' 'LDAPU1:(uid={subject_dn_component.uid})'
t "rfc2307bis group_depth 1" 0 bis1 alice
expect_compact "depth 1 groups" '"groups":["alicepg","dept","team","vianonposix"]'
conf mo "\"$U1\"" 'groups = "memberof"; group_base = "ou=Groups,'"$B"'";' 'LDAPU1:(uid={subject_dn_component.uid})'
t "memberof maps alice" 0 mo alice
expect_compact "memberof groups" '"groups":["alice","devs","team"]'
conf none "\"$U1\"" 'groups = "none"; group_base = "ou=Groups,'"$B"'";' 'LDAPU1:(uid={subject_dn_component.uid})'
t "groups none maps alice" 0 none alice
expect_compact "primary group only" '"groups":["alice"]'

# --- ids = "nss"
conf nss "\"$U1\"" 'ids = "nss";' 'LDAPU1:(uid={subject_dn_component.uid})'
t "ids nss maps alice" 0 nss alice
expect_out "uid from NSS" '"uid": 5000'
expect_out "home from NSS" '"home": "/nss/alice"'
expect_compact "groups from NSS" '"groups":["alice","nssgrp"]'
conf nss2 "\"$U1\"" 'ids = "nss";' 'LDAPU1:(cn={subject_dn_component.cn})'
t "ids nss: directory user unknown to NSS" 1 nss2 bob-ec --user bob
expect_out "unknown to NSS: no_account" '"reason": "no_account"'

# --- a rule without domains: LDAP: rules use the ldap domains only
cat > "$tmp/mixed.conf" <<EOC
verify = { ca_file = "$certs/ca.pem"; };
domains = ( { name = "local"; type = "local"; },
  { name = "dir"; type = "ldap"; uri = ["$U1"]; base = "$B"; } );
rules = ( { name = "r"; map = "LDAPU1:(uid={subject_dn_component.uid})"; } );
EOC
t "LDAP: rule without domains uses the ldap domain" 0 mixed alice
expect_out "mixed: directory uid" '"uid": 10001'
sed -i 's/{ name = "local"; type = "local"; },//; s/type = "ldap"/type = "local"/; s/uri = .*base = "[^"]*";//' "$tmp/mixed.conf"
expect_exit "LDAP: rule and no ldap domain: config error" 2 ctl check-config --config "$tmp/mixed.conf"
expect_out "no ldap domain named" 'needs ldap domains, and there is none'

# --- LOCAL: names looked up in an ldap domain
conf local "\"$U1\"" '' 'LOCAL:{subject_dn_component.uid}'
t "LOCAL: name found in the directory" 0 local alice
expect_out "LOCAL alice uid" '"uid": 10001'

# --- attributes of an entry: names in any case, one attribute for two
# settings, one value only, digits only (leading zeros allowed)
conf at "\"$U1\"" 'attr_uid = "description";' 'LOCAL:attrs1'
t "attr_uid description: 0010041 is uid 10041" 0 at alice
expect_out "description uid" '"uid": 10041'
expect_out "gid still gidNumber" '"gid": 20031'
conf at "\"$U1\"" 'attr_uid = "description";' 'LOCAL:attrs2'
t "two values of the uid attribute: not used" 1 at alice
expect_out "two values named" 'entry uid=attrs2,ou=Other,dc=example,dc=com has several values of description'
conf at "\"$U1\"" 'attr_uid = "description";' 'LOCAL:attrs3'
t "a uid that is not a number: not used" 1 at alice
expect_out "not a number named" 'entry uid=attrs3,ou=Other,dc=example,dc=com has a non-numeric description'
conf at "\"$U1\"" 'attr_uid = "UIDNUMBER"; attr_home = "homedirectory";' 'LOCAL:attrs1'
t "attribute names in another case" 0 at alice
expect_out "UIDNUMBER read" '"uid": 10031'
expect_out "homedirectory read" '"home": "/home/attrs1"'
conf at "\"$U1\"" 'attr_gid = "uidNumber";' 'LOCAL:attrs1'
t "one attribute for uid and gid" 0 at alice
expect_out "uid from uidNumber" '"uid": 10031'
expect_out "gid from uidNumber too" '"gid": 10031'

# --- simple bind with a password file
printf 'reader-secret\n' > "$tmp/pw"
chmod 600 "$tmp/pw"
conf priv "\"$U1\"" 'base = "ou=Private,'"$B"'"; bind_dn = "cn=reader,'"$B"'"; bind_password_file = "'"$tmp/pw"'";' 'LDAPU1:(uid={subject_dn_component.cn})'
sed -i 's/base = "'"$B"'"; base =/base =/' "$tmp/priv.conf"
t "bound search finds the private entry" 0 priv multirdn
expect_out "carol mapped" '"user": "carol"'
conf anon "\"$U1\"" 'base = "ou=Private,'"$B"'";' 'LDAPU1:(uid={subject_dn_component.cn})'
sed -i 's/base = "'"$B"'"; base =/base =/' "$tmp/anon.conf"
t "anonymous search does not" 1 anon multirdn
expect_out "anonymous: no_account" '"reason": "no_account"'
chmod 640 "$tmp/pw"
expect_exit "group-readable password file refused" 2 ctl check-config --config "$tmp/priv.conf"
expect_out "mode named" 'group or others have access'
chmod 600 "$tmp/pw"
printf 'wrong\n' > "$tmp/pw"
t "wrong password: backend_unavailable" 3 priv multirdn
expect_no_out "password never shown" 'wrong'
expect_no_out "good password never shown" 'reader-secret'

# --- EXTERNAL over ldapi:// (anonymous-equivalent identity, proves the mechanism)
LDAPI="ldapi://$(printf '%s' "$tmp/s1/ldapi" | sed 's,/,%2F,g')"
conf ext "\"$LDAPI\"" 'sasl_mech = "EXTERNAL";' 'LDAPU1:(uid={subject_dn_component.uid})'
t "SASL EXTERNAL over ldapi:// maps alice" 0 ext alice

# --- TLS: the certificate chain and the host name are always checked
UT=$(slapd_ldaps_uri "$tmp/s1")
conf ldaps "\"$UT\"" 'tls_ca_file = "'"$certs/ca.pem"'";' 'LDAPU1:(uid={subject_dn_component.uid})'
t "ldaps:// with the test CA maps alice" 0 ldaps alice
conf stls "\"$U1\"" 'starttls = true; tls_ca_file = "'"$certs/ca.pem"'";' 'LDAPU1:(uid={subject_dn_component.uid})'
t "StartTLS with the test CA maps alice" 0 stls alice
conf ldapsbad "\"$UT\"" 'tls_ca_file = "'"$certs/rogue-ca.pem"'";' 'LDAPU1:(uid={subject_dn_component.uid})'
t "ldaps:// with a wrong CA: exit 3" 3 ldapsbad alice
expect_out "wrong CA: backend_unavailable" '"reason": "backend_unavailable"'
conf stlsbad "\"$U1\"" 'starttls = true; tls_ca_file = "'"$certs/rogue-ca.pem"'";' 'LDAPU1:(uid={subject_dn_component.uid})'
t "StartTLS with a wrong CA: exit 3" 3 stlsbad alice
conf ldapsname "\"$(echo "$UT" | sed 's/127.0.0.1/localhost/')\"" 'tls_ca_file = "'"$certs/ca.pem"'";' 'LDAPU1:(uid={subject_dn_component.uid})'
t "ldaps:// to a name the certificate does not hold: exit 3" 3 ldapsname alice
conf stlsname "\"$(echo "$U1" | sed 's/127.0.0.1/localhost/')\"" 'starttls = true; tls_ca_file = "'"$certs/ca.pem"'";' 'LDAPU1:(uid={subject_dn_component.uid})'
t "StartTLS to a name the certificate does not hold: exit 3" 3 stlsname alice
conf plainname "\"$(echo "$U1" | sed 's/127.0.0.1/localhost/')\"" '' 'LDAPU1:(uid={subject_dn_component.uid})'
t "(the same name without TLS reaches slapd)" 0 plainname alice

# --- check-config --online: binds to each URI of every ldap domain, reads the base
oconf() { # NAME DOMAIN-SETTINGS...: one ldap domain per argument
	f=$1; shift
	{
		printf 'verify = { ca_file = "%s"; };\ndomains = (' "$certs/ca.pem"
		k=0
		for dom in "$@"; do
			[ $k -eq 0 ] || printf ','
			printf ' { name = "d%s"; type = "ldap"; %s }' "$k" "$dom"
			k=$((k + 1))
		done
		printf ' );\nrules = ( { name = "r"; map = "LDAPU1:(uid={subject_dn_component.uid})"; } );\n'
	} > "$tmp/$f.conf"
}
online() { expect_exit "$1" "$2" ctl check-config --online --config "$tmp/$3.conf" ${4:-}; }
printf 'reader-secret\n' > "$tmp/opw"; printf 'wrong\n' > "$tmp/opw-bad"
chmod 600 "$tmp/opw" "$tmp/opw-bad"
oconf ogood "uri = [\"$U1\"]; base = \"$B\";" \
	"uri = [\"$UT\"]; base = \"$B\"; tls_ca_file = \"$certs/ca.pem\"; bind_dn = \"cn=reader,$B\"; bind_password_file = \"$tmp/opw\";" \
	"uri = [\"$U1\"]; base = \"$B\"; starttls = true; tls_ca_file = \"$certs/ca.pem\";"
online "online: anonymous, ldaps:// with a bind, StartTLS: exit 0" 0 ogood
expect_out "online: d0 bound" "domain d0: $U1: bound, base read"
expect_out "online: d1 bound" "domain d1: $UT: bound, base read"
expect_out "online: d2 bound" "domain d2: $U1: bound, base read"
oconf obase "uri = [\"$U1\"]; base = \"ou=Nowhere,$B\";"
online "online: wrong base: exit 2" 2 obase
expect_out "online: base not found" "domain d0: $U1: base failed: ou=Nowhere,$B not found"
oconf ogbase "uri = [\"$U1\"]; base = \"$B\"; group_base = \"ou=NoGroups,$B\";"
online "online: wrong group_base: exit 2" 2 ogbase
expect_out "online: group_base not found" "base failed: ou=NoGroups,$B not found"
oconf opw "uri = [\"$U1\"]; base = \"$B\"; bind_dn = \"cn=reader,$B\"; bind_password_file = \"$tmp/opw-bad\";"
online "online: wrong password: exit 2" 2 opw
expect_out "online: bind failed" "domain d0: $U1: bind failed: bind: Invalid credentials"
expect_no_out "online: password never shown" 'wrong'
oconf odead "uri = [\"$DEAD\"]; base = \"$B\";"
online "online: nothing listening: exit 2" 2 odead
expect_out "online: connect failed" "domain d0: $DEAD: connect failed: connect: Can't contact LDAP server"
oconf otls "uri = [\"$UT\"]; base = \"$B\"; tls_ca_file = \"$certs/rogue-ca.pem\";" \
	"uri = [\"$U1\"]; base = \"$B\"; starttls = true; tls_ca_file = \"$certs/rogue-ca.pem\";"
online "online: wrong CA: exit 2" 2 otls
expect_out "online: ldaps:// TLS failed" "domain d0: $UT: tls failed: "
expect_out "online: StartTLS failed" "domain d1: $U1: tls failed: StartTLS"
oconf ofo "uri = [\"$DEAD\", \"$U1\"]; base = \"$B\";"
online "online: every URI is checked, one failing is exit 2" 2 ofo
expect_out "online: first URI failed" "domain d0: $DEAD: connect failed"
expect_out "online: second URI checked" "domain d0: $U1: bound, base read"
online "online --json: exit 2" 2 ofo --json
expect_compact "online --json: failed URI" "{\"domain\":\"d0\",\"uri\":\"$DEAD\",\"ok\":false,\"failed\":\"connect\","
expect_compact "online --json: good URI" "{\"domain\":\"d0\",\"uri\":\"$U1\",\"ok\":true,\"failed\":null,\"error\":null,"
expect_compact "online --json: config still valid" '"valid":true'
expect_exit "without --online the directory is not contacted" 0 ctl check-config --config "$tmp/odead.conf"

# --- failover, unavailable directories
conf fo "\"$DEAD\", \"$U2\"" '' 'LDAPU1:(uid={subject_dn_component.uid})'
t "first URI refuses, second answers" 0 fo alice
conf dead "\"$DEAD\"" '' 'LDAPU1:(uid={subject_dn_component.uid})'
t "no directory: exit 3" 3 dead alice
expect_out "backend_unavailable" '"reason": "backend_unavailable"'
slapd_stop "$tmp/s2"
conf stopped "\"$U2\"" '' 'LDAPU1:(uid={subject_dn_component.uid})'
t "stopped slapd: exit 3" 3 stopped alice
expect_out "stopped: backend_unavailable" '"reason": "backend_unavailable"'
slapd_start "$tmp/s2" || exit 99
t "restarted slapd answers again" 0 stopped alice

# The time a certmapctl run takes apart from waiting for the directory (a
# refused connection answers at once): on a loaded machine or under ASan
# starting the process alone can take a second, which is not the wait.
base_ms() {
	s0=$(date +%s%N)
	ctl test --json --config "$tmp/dead.conf" "$certs/alice.pem" >/dev/null 2>&1
	echo $(( ($(date +%s%N) - s0) / 1000000 ))
}
# timed() NAME CONF CERT: exit 3 within timeout 2 s plus a margin (beyond
# a run's own cost, measured just before)
timed() {
	b=$(base_ms)
	s0=$(date +%s%N)
	t "$1: exit 3" 3 "$2" "$3"
	el=$(( ($(date +%s%N) - s0) / 1000000 ))
	# It waited (at least 1.5 s in all), and not much longer than timeout.
	if [ "$el" -ge 1500 ] && [ $((el - b)) -le 3500 ]; then
		ok "$1: within 2 s + margin ($el ms, a run takes $b ms)"
	else
		ko "$1 took $el ms, a run takes $b ms (want at least 1500 ms, at most 3500 more than a run)"
	fi
}
slapd_pause "$tmp/s2"
conf hang "\"$U2\"" 'timeout = 2;' 'LDAPU1:(uid={subject_dn_component.uid})'
timed "hanging slapd" hang alice
expect_out "hanging: backend_unavailable" '"reason": "backend_unavailable"'
conf hangbind "\"$U2\"" 'timeout = 2; bind_dn = "cn=reader,'"$B"'"; bind_password_file = "'"$tmp/pw"'";' 'LDAPU1:(uid={subject_dn_component.uid})'
timed "hanging slapd during a simple bind" hangbind alice
expect_no_out "hanging bind: password not shown" 'wrong'
conf hangtls "\"$U2\"" 'timeout = 2; starttls = true; tls_ca_file = "'"$certs/ca.pem"'";' 'LDAPU1:(uid={subject_dn_component.uid})'
timed "hanging slapd during StartTLS" hangtls alice
conf hangfo "\"$U2\", \"$U1\"" 'timeout = 1;' 'LDAPU1:(uid={subject_dn_component.uid})'
t "hanging first URI fails over to the second" 0 hangfo alice
slapd_resume "$tmp/s2"
slapd_pause "$tmp/s1"
conf hangldaps "\"$UT\"" 'timeout = 2; tls_ca_file = "'"$certs/ca.pem"'";' 'LDAPU1:(uid={subject_dn_component.uid})'
timed "hanging slapd during the ldaps:// handshake" hangldaps alice
slapd_resume "$tmp/s1"

# --- fork(): a child forgets the parent's pooled connection (never unbinds it)
conf forked "\"$U1\"" '' 'LDAPU1:(uid={subject_dn_component.uid})'
openssl x509 -in "$certs/alice.pem" -outform DER -out "$tmp/alice.der"
expect_exit "fork: child maps on its own connection, parent's survives" 0 \
	sh "$srcdir/tests/lib/nsswrap.sh" "$builddir/tests/ldap/fork_ldap" "$tmp/forked.conf" "$tmp/alice.der"

# --- pam_certmap.so (library mode) on an ldap domain
DRIVER="$builddir/tests/pam/pam_driver"
MODULE="$builddir/.libs/pam_certmap.so"
if [ -x "$DRIVER" ] && [ -f "$MODULE" ]; then
	mkdir "$tmp/pam.d"
	conf pamup "\"$U1\"" '' 'LDAPU1:(uid={subject_dn_component.uid})'
	conf pamdown "\"$DEAD\"" '' 'LDAPU1:(uid={subject_dn_component.uid})'
	for s in pamup pamdown; do
		printf 'auth required %s config=%s\n' "$MODULE" "$tmp/$s.conf" > "$tmp/pam.d/$s"
	done
	pam() { out=$(sh "$srcdir/tests/lib/nsswrap.sh" "$DRIVER" -d "$tmp/pam.d" -s "$1" -f "SSL_CLIENT_CERT=$certs/alice.pem" auth 2>&1); }
	pam pamup
	expect_out "PAM: alice mapped from the directory" "auth: PAM_SUCCESS"
	expect_out "PAM: PAM_USER from the directory" "PAM_USER=alice"
	expect_out "PAM: directory groups exported" "CERTMAP_GROUPS=alice,all,devs"
	pam pamdown
	expect_out "PAM: directory down is PAM_AUTHINFO_UNAVAIL" "auth: PAM_AUTHINFO_UNAVAIL"
else
	echo "SKIP: pam_driver not built"
fi

# --- certmapd on an ldap domain: concurrent clients, a directory restarted
# under a running daemon (its pooled connections are replaced)
CERTMAPD="$builddir/certmapd"
CLIENT="$builddir/tests/service/svc_client"
sock="$tmp/sock"
cat > "$tmp/svc.conf" <<EOC
verify = { ca_file = "$certs/ca.pem"; };
domains = ( { name = "dir"; type = "ldap"; uri = ["$U2"]; base = "$B"; cache_ttl = 0; negative_cache_ttl = 0; } );
rules = ( { name = "r"; match = "<EKU>clientAuth"; map = "LDAPU1:(cn={subject_dn_component.cn})"; } );
service = { socket = "$sock"; user = "root"; allowed_uids = [0, $(id -u)]; cache_ttl = 0; cache_size = 0; };
EOC
start_certmapd() {
	rm -f "$sock"
	sh "$srcdir/tests/lib/nsswrap.sh" "$CERTMAPD" --foreground --config "$1" >> "$tmp/svc.log" 2>&1 &
	dpid=$!
	i=0
	while [ ! -S "$sock" ] && [ $i -lt 50 ] && kill -0 "$dpid" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
}
start_certmapd "$tmp/svc.conf"
client() { sh "$srcdir/tests/lib/nsswrap.sh" "$CLIENT" "$@"; }
expect_exit "certmapd maps through the directory" 0 client map "$sock" "$certs/alice.pem" alice
expect_exit "certmapd: 64 clients x 20 uncached requests" 0 client stress "$sock" "$certs/alice.pem" alice 64 20
expect_exit "certmapd: ambiguity through the daemon" 1 client map "$sock" "$certs/bob-ec.pem"
expect_exit "certmapctl query maps through certmapd" 0 ctl query --socket "$sock" --json "$certs/alice.pem"
expect_out "query: alice" '"user": "alice"'
slapd_stop "$tmp/s2"
expect_exit "certmapd: stopped directory gives exit 3" 3 client map "$sock" "$certs/alice.pem"
expect_exit "certmapctl query: stopped directory gives exit 3" 3 ctl query --socket "$sock" --json "$certs/alice.pem"
expect_out "query: backend_unavailable" '"reason": "backend_unavailable"'
slapd_start "$tmp/s2" || exit 99
expect_exit "certmapd: restarted directory used again" 0 client map "$sock" "$certs/alice.pem"
expect_exit "certmapd: still serving many clients" 0 client stress "$sock" "$certs/alice.pem" alice 16 10
kill -TERM "$dpid"
wait "$dpid"

# --- stopped while a Map waits on a hung directory, with a second Map of the
# same connection already read: the first is answered when its lookup gives
# up, the second is not given to the workers that are gone, and certmapd
# exits cleanly.
start_certmapd "$tmp/svc.conf"
slapd_pause "$tmp/s2"
frame=$(printf '{"method":"org.certmap.Mapper.Map","parameters":{"certificate":"%s"}}' "$(base64 -w0 "$certs/alice.der")")
{ printf '%s\0%s\0' "$frame" "$frame" | client raw "$sock" > /dev/null 2>&1; } &
rawpid=$!
sleep 0.5
kill -TERM "$dpid"
wait "$dpid" && rc=0 || rc=$?
slapd_resume "$tmp/s2"
wait "$rawpid" 2>/dev/null
if [ "$rc" -eq 0 ]; then ok "stopped with a Map out and another read: clean exit"; else ko "stopped with a Map out and another read: exit $rc"; tail -20 "$tmp/svc.log"; fi

# --- every lookup hangs on a paused directory, every lookup turn is taken
# (--workers 4) and more Maps wait: each event set still has a thread that
# answers the rest at once (new connections go to the sets in turn).
start_certmapd "$tmp/svc.conf"
slapd_pause "$tmp/s2"
hung=
for i in 1 2 3 4 5 6; do
	client map "$sock" "$certs/alice.pem" > /dev/null 2>&1 &
	hung="$hung $!"
done
sleep 0.5
late=$(late_getinfo "$sock" 8)
if [ $late -eq 0 ]; then ok "lookups hung: GetInfo answered within a second, 8 of 8"; else ko "lookups hung: $late of 8 GetInfo calls late"; fi
slapd_resume "$tmp/s2"
for p in $hung; do wait "$p" 2>/dev/null; done
kill -TERM "$dpid"
wait "$dpid" && rc=0 || rc=$?
if [ "$rc" -eq 0 ]; then ok "hung lookups: clean exit"; else ko "hung lookups: exit $rc"; fi

# --- the primary group's name is kept per gid (primary_group_ttl), user
# answers are not (cache_ttl = 0): a directory change to the user shows at
# once, the primary group's name is not searched again
ldmod() { ldapmodify -x -H "$U2" -D "$SLAPD_ROOTDN" -w "$SLAPD_ROOTPW" >/dev/null 2>&1; }
sed 's/cache_ttl = 0; negative_cache_ttl = 0;/cache_ttl = 0; negative_cache_ttl = 0; groups = "none";/' "$tmp/svc.conf" > "$tmp/svc-pg.conf"
sed 's/groups = "none";/groups = "none"; primary_group_ttl = 0;/' "$tmp/svc-pg.conf" > "$tmp/svc-pg0.conf"
for pg in pg pg0; do
	start_certmapd "$tmp/svc-$pg.conf"
	expect_exit "$pg: alice mapped" 0 client map "$sock" "$certs/alice.pem" alice
	# (alicepg, a groupOfNames, has gidNumber 10001 too)
	expect_compact "$pg: groups none: the primary group" '"groups":["alice","alicepg"]'
	printf 'dn: cn=alice,ou=Groups,%s\nchangetype: modify\nreplace: gidNumber\ngidNumber: 10999\n\ndn: %s\nchangetype: modify\nreplace: homeDirectory\nhomeDirectory: /home/alice-%s\n' "$B" "$A" "$pg" | ldmod
	expect_exit "$pg: alice mapped after the directory changed" 0 client map "$sock" "$certs/alice.pem" alice
	expect_compact "$pg: the user entry is searched again" "\"home\":\"/home/alice-$pg\""
	if [ "$pg" = pg ]; then
		expect_compact "pg: the primary group name comes from the per-gid cache" '"groups":["alice","alicepg"]'
	else
		expect_compact "pg0: primary_group_ttl = 0 searches the group each time" '"groups":["alicepg"]'
	fi
	printf 'dn: cn=alice,ou=Groups,%s\nchangetype: modify\nreplace: gidNumber\ngidNumber: 10001\n\ndn: %s\nchangetype: modify\nreplace: homeDirectory\nhomeDirectory: /home/alice\n' "$B" "$A" | ldmod
	kill -TERM "$dpid"
	wait "$dpid"
done

# --- the directory answer cache: a cached mapping never reaches the directory
sed 's/cache_ttl = 0; negative_cache_ttl = 0;/cache_ttl = 60; negative_cache_ttl = 60;/' "$tmp/svc.conf" > "$tmp/svc-cache.conf"
start_certmapd "$tmp/svc-cache.conf"
expect_exit "cache: alice mapped" 0 client map "$sock" "$certs/alice.pem" alice
expect_exit "cache: nothing found for utf8" 1 client map "$sock" "$certs/utf8.pem"
slapd_stop "$tmp/s2"
expect_exit "cache: alice mapped with the directory stopped" 0 client map "$sock" "$certs/alice.pem" alice
expect_compact "cache: groups too" '"groups":["alice","all","devs"]'
expect_exit "cache: negative answer kept" 1 client map "$sock" "$certs/utf8.pem"
expect_out "cache: still no_account" '"reason":"no_account"'
expect_exit "cache: an answer not cached needs the directory" 3 client map "$sock" "$certs/bob-ec.pem"
slapd_start "$tmp/s2" || exit 99
kill -TERM "$dpid"
wait "$dpid"
if grep -q "reader-secret\|AddressSanitizer\|runtime error" "$tmp/svc.log"; then ko "certmapd log clean"; cat "$tmp/svc.log"; else ok "certmapd log clean"; fi

finish
