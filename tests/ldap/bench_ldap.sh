#!/bin/sh
# Measures ldap-domain mapping against raw libldap on the suite's slapd
# holding 10,000 users (not part of make check; run from the build tree:
#	CERTMAP_SRCDIR=.. CERTMAP_BUILDDIR=. CERTMAP_TEST_CERTS=tests/certs/out \
#	sh ../tests/ldap/bench_ldap.sh [N]
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"
. "$srcdir/tests/lib/slapd.sh"
slapd_require
iters=${1:-5000}
tmp=$(mktemp -d "$builddir/tests/tmp-bench.XXXXXX")
chmod 755 "$tmp"
trap 'slapd_stop_all; rm -rf "$tmp"' EXIT
B="dc=example,dc=com"
{
	printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n' "$B"
	printf 'dn: ou=People,%s\nobjectClass: organizationalUnit\nou: People\n\n' "$B"
	printf 'dn: ou=Groups,%s\nobjectClass: organizationalUnit\nou: Groups\n\n' "$B"
	i=0
	while [ $i -lt 10000 ]; do
		printf 'dn: uid=u%d,ou=People,%s\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\nuid: u%d\ncn: u%d\nsn: u\nuidNumber: %d\ngidNumber: %d\nhomeDirectory: /home/u%d\n\n' \
			$i "$B" $i $i $((20000 + i)) $((20000 + i)) $i
		printf 'dn: cn=u%d,ou=Groups,%s\nobjectClass: posixGroup\ncn: u%d\ngidNumber: %d\n\n' $i "$B" $i $((20000 + i))
		i=$((i + 1))
	done
	printf 'dn: uid=alice,ou=People,%s\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\nuid: alice\ncn: Alice\nsn: a\nuidNumber: 10001\ngidNumber: 10001\nhomeDirectory: /home/alice\n\n' "$B"
	printf 'dn: cn=alice,ou=Groups,%s\nobjectClass: posixGroup\ncn: alice\ngidNumber: 10001\n\n' "$B"
} > "$tmp/data.ldif"
slapd_init "$tmp/s" || exit 99
# Equality indexes, as a real directory has them.
sed -i 's/^olcDbMaxSize: .*/&\nolcDbIndex: uid,cn,uidNumber,gidNumber,memberUid,objectClass eq/' "$tmp/s/config.ldif"
rm -rf "$tmp/s/slapd.d" && mkdir "$tmp/s/slapd.d" &&
	"$SLAPADD_BIN" -n0 -F "$tmp/s/slapd.d" -l "$tmp/s/config.ldif" >/dev/null 2>&1 &&
	slapd_load "$tmp/s" "$tmp/data.ldif" && slapd_start "$tmp/s" || exit 99
U=$(slapd_uri "$tmp/s")
cat > "$tmp/bench.conf" <<EOC
verify = { enabled = false; };
domains = ( { name = "dir"; type = "ldap"; uri = ["$U"]; base = "$B"; groups = "none";
  cache_ttl = 0; negative_cache_ttl = 0; } );
rules = ( { name = "r"; map = "LDAPU1:(uid={subject_dn_component.uid})"; } );
EOC
openssl x509 -in "$certs/alice.pem" -outform DER -out "$tmp/alice.der"
echo "== ldap domain, $iters mappings, 10,000 users (one slapd, same process and CPU)"
"$builddir/tests/ldap/bench_ldap" "$tmp/bench.conf" "$tmp/alice.der" "$U" "$B" \
	"(&(objectClass=posixAccount)(uid=alice))" "(&(objectClass=posixGroup)(gidNumber=10001))" "$iters"
