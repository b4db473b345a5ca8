#!/bin/sh
# Measures ldap-domain mapping against raw libldap on the suite's slapd
# holding 10,000 users (not part of make check; run from the build tree:
#	CERTMAP_SRCDIR=.. CERTMAP_BUILDDIR=. CERTMAP_TEST_CERTS=tests/certs/out \
#	sh ../tests/ldap/bench_ldap.sh [N]   (BENCH_SECONDS, BENCH_LDAP_CLIENTS: 3, 16)
# make bench runs it (bench/run.sh).
#
# The directory: one slapd (tests/lib/slapd.sh, mdb, equality indexes on
# uid, cn, uidNumber, gidNumber, memberUid, objectClass, userCertificate)
# holding 10,000 posixAccount entries uid=bI, each with its own
# certificate from the test CA as userCertificate;binary
# (gen_bench_certs: one EC key pair, 10,000 CA signatures, seconds), in 10
# shared primary groups.
#
# What each side does, per request I (I runs through the 10,000 users, so
# consecutive requests never repeat a certificate or a search):
# - raw: ldap_search_ext_s on a persistent connection (one per client
#   thread), base dc=example,dc=com, subtree, line I of users.filters
#	(&(objectClass=posixAccount)(userCertificate;binary=\7b serialNumber
#	 S, issuer rdnSequence:"CN=Certmap\20Test\20CA,..." \7d))
#   asking for the attributes certmap asks for (uid, uidNumber, gidNumber,
#   homeDirectory, objectSid, primaryGroupID), size limit 10; the answer
#   must hold exactly one entry. Nothing else: no certificate is read.
# - certmap: certmap_map of certificate I, not verified (verify.enabled =
#   false: the caller, a TLS server, verified the chain; certmap still
#   checks EKU and key size; the raw side verifies nothing), with the rule
#	LDAPU1:(userCertificate;binary=\7b serialNumber {serial_number!dec},
#	 issuer rdnSequence:"{issuer_dn!nss_ldap}" \7d)
#   so it parses the certificate (its parsed-certificate cache holds 512
#   and never hits here), sends the same search (the script checks that
#   certmap's filter for certificate 0 is line 0 byte for byte) on a pooled
#   connection (pool_size 32), takes uid, ids and home from the entry, and
#   names the primary group (groups = "none"; primary_group_ttl keeps the
#   10 group names per gid, so after the first 10 mappings there is one
#   search per mapping, as on the raw side). cache_ttl = 0: no directory
#   answer is cached; the answer must name user bI.
# - certmapd: the same mapping behind certmapd (--workers = clients,
#   service cache off), reached over its Unix socket by 16 client threads;
#   certmapd also writes its audit record of every decision (syslog or
#   journald). The raw and certmapd runs alternate in five rounds; with
#   the PIDs given, the CPU time slapd, certmapd and the clients spent per
#   request is printed beside the ratio.
# Both sides send slapd the same searches (same filter, attributes, size
# and time limits, one search per request; slapd makes the same system
# calls per search for both). slapd's CPU per search still reads higher on
# the certmapd side: it grows as fewer searches reach slapd at once (raw
# with 4, 8, 16 clients: about 133, 116, 100 us on the 2-core test
# machine), and requests spend part of their time in certmapd.
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"
. "$srcdir/tests/lib/slapd.sh"
slapd_require
iters=${1:-5000}
clients=${BENCH_LDAP_CLIENTS:-16}
secs=${BENCH_SECONDS:-3}
tmp=$(mktemp -d "$builddir/tests/tmp-bench.XXXXXX")
chmod 755 "$tmp"
trap 'slapd_stop_all; rm -rf "$tmp"' EXIT
B="dc=example,dc=com"
# 10,000 users, each holding its own certificate from the test CA (one key
# pair, 10,000 CA signatures: seconds), in 10 shared primary groups.
"$builddir/tests/ldap/gen_bench_certs" "$certs/ca.pem" "$certs/ca.key" 10000 10 "$tmp/users" || exit 99
{
	printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n' "$B"
	printf 'dn: ou=People,%s\nobjectClass: organizationalUnit\nou: People\n\n' "$B"
	printf 'dn: ou=Groups,%s\nobjectClass: organizationalUnit\nou: Groups\n\n' "$B"
	cat "$tmp/users.ldif"
} > "$tmp/data.ldif"
slapd_init "$tmp/s" || exit 99
# Equality indexes, as a real directory has them.
sed -i 's/^olcDbMaxSize: .*/&\nolcDbIndex: uid,cn,uidNumber,gidNumber,memberUid,objectClass,userCertificate eq/' "$tmp/s/config.ldif"
rm -rf "$tmp/s/slapd.d" && mkdir "$tmp/s/slapd.d" &&
	"$SLAPADD_BIN" -n0 -F "$tmp/s/slapd.d" -l "$tmp/s/config.ldif" >/dev/null 2>&1 &&
	slapd_load "$tmp/s" "$tmp/data.ldif" && slapd_start "$tmp/s" || exit 99
U=$(slapd_uri "$tmp/s")
# conf NAME CACHE-TTL [SERVICE]: one ldap domain; groups = "none" names the
# primary group (kept per gid, primary_group_ttl) as the answer documents.
# The bench rule: the certificate stored in the entry, found by the
# certificateExactMatch assertion on serial and issuer (certmap.conf(5)).
RULE='LDAPU1:(userCertificate;binary=\\7b serialNumber {serial_number!dec}, issuer rdnSequence:\"{issuer_dn!nss_ldap}\" \\7d)'
conf() {
	cat > "$tmp/$1.conf" <<EOC
verify = { enabled = false; };
domains = ( { name = "dir"; type = "ldap"; uri = ["$U"]; base = "$B"; groups = "none";
  pool_size = 32; cache_ttl = $2; negative_cache_ttl = $2; } );
rules = ( { name = "r"; map = "$RULE"; } );
${3:-}
EOC
}
conf uncached 0
conf cached 60
conf svc 0 "service = { socket = \"$tmp/sock\"; user = \"root\"; allowed_uids = [$(id -u)]; cache_ttl = 0; cache_size = 0; };"
# The rule's filter for the first certificate must be the first raw filter.
head -c "$(( $(od -An -tu1 -j2 -N2 "$tmp/users.der" | awk '{print $1 * 256 + $2 + 4}') ))" \
	"$tmp/users.der" > "$tmp/first.der"
want=$(head -1 "$tmp/users.filters")
if ! "$builddir/certmapctl" test --config "$tmp/uncached.conf" "$tmp/first.der" 2>&1 |
	grep -F -- "$want" >/dev/null; then
	printf 'bench_ldap.sh: certmap does not send %s\n' "$want" >&2
	exit 99
fi
# Same CPU placement for certmap and the raw search: one process, one CPU.
pin=
command -v taskset >/dev/null 2>&1 && pin="taskset -c 0"
BL="$builddir/tests/ldap/bench_ldap"
rc=0
echo "== ldap domain: uncached mapping vs raw ldap_search_ext_s, $iters each, 10,000 users${pin:+ ($pin)}"
$pin "$BL" one "$tmp/uncached.conf" "$tmp/users.der" "$tmp/users.filters" "$U" "$B" "$iters" || rc=1

echo "== certmapd on the ldap domain, $clients clients for ${secs}s each: uncached mappings vs raw libldap searches"
"$builddir/certmapd" --foreground --workers "$clients" --config "$tmp/svc.conf" > "$tmp/svc.log" 2>&1 &
dpid=$!
i=0
while [ ! -S "$tmp/sock" ] && [ $i -lt 50 ] && kill -0 "$dpid" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
"$BL" par "$tmp/sock" "$tmp/users.der" "$tmp/users.filters" "$U" "$B" "$clients" "$secs" \
	"$(cat "$tmp/s/pid")" "$dpid" || rc=1
kill -TERM "$dpid"
wait "$dpid"

echo "== cached mapping never reaches the directory (slapd stopped after the first mapping)"
"$BL" cached "$tmp/cached.conf" "$tmp/users.der" "$U" "$(cat "$tmp/s/pid")" "$iters" || rc=1
exit $rc
