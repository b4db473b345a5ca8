#!/bin/sh
# Every JSON text certmapctl writes is one valid JSON object in valid UTF-8,
# whatever the certificate holds and whatever fails: show, test, eval-rule,
# check-config, query and stats (these two against the real certmapd), over
# the whole test corpus plus a certificate with binary SAN values, with and
# without errors. Each output is checked by json_check (json-c strict mode
# with its UTF-8 check, and iconv). Also the exit codes and messages of the
# ways certmapd can be out of reach (certmapctl(8)), and, as root, a socket
# answered by a process of another uid (certmap_client(3)).
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"

CHECK="$builddir/tests/integration/json_check"
CERTMAPD="$builddir/certmapd"
STUB="$builddir/tests/pam/stub_certmapd"
mkdir -p "$builddir/tests"
tmp=$(mktemp -d "$builddir/tests/tmp-json.XXXXXX")
chmod 755 "$tmp"
pid=
stub_pid=
cleanup() {
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	[ -n "$stub_pid" ] && kill "$stub_pid" 2>/dev/null && wait "$stub_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

printf 'alice:x:1000:1000:Alice:/home/alice:/bin/sh\nbob:x:1001:1001:Bob:/home/bob:/bin/sh\nroot:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n' > "$tmp/passwd"
printf 'alice:x:1000:\nbob:x:1001:\ndev:x:2000:alice\nnogroup:x:65534:\n' > "$tmp/group"
NSS_WRAPPER_PASSWD="$tmp/passwd"; NSS_WRAPPER_GROUP="$tmp/group"
export NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
sock="$tmp/sock"

# A certificate with binary otherNames (bytes 0x80, 0xff, 0xc0 and a NUL),
# the case of issue 14: its values reach traces and errors.
cat > "$tmp/ext.cnf" <<'EOF'
[ext]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = @san
[san]
otherName.1 = 1.2.3.4;FORMAT:HEX,OCTETSTRING:31323380ff00c0
otherName.2 = 1.2.3.5;FORMAT:HEX,OCTETSTRING:c0afedb080f4908080
email.1 = bin@example.com
EOF
"${OPENSSL:-openssl}" req -new -newkey rsa:2048 -nodes -keyout "$tmp/bin.key" \
	-subj "/O=Example/CN=binother" -out "$tmp/bin.csr" >/dev/null 2>&1
"${OPENSSL:-openssl}" x509 -req -in "$tmp/bin.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca.key" \
	-set_serial 0x7001 -days 30 -extfile "$tmp/ext.cnf" -extensions ext \
	-out "$tmp/binother.pem" >/dev/null 2>&1
if [ -s "$tmp/binother.pem" ]; then ok "binary otherName certificate made"; else ko "binary otherName certificate made"; fi

cat > "$tmp/certmap.conf" <<EOC
verify = { ca_file = "$certs/ca.pem"; };
domains = ( { name = "local"; type = "local"; } );
rules = (
  { name = "upn"; priority = 10; match = "<EKU>clientAuth";
    map = "LOCAL:{subject_principal.short_name}"; domains = ["local"]; },
  { name = "other"; priority = 10; match = "<SAN:1.2.3.4>^12";
    map = "LOCAL:{subject_dn_component.CN}"; domains = ["local"]; },
  { name = "mail"; priority = 20; match = "<SAN:rfc822Name>.";
    map = "LOCAL:{subject_rfc822_name.short_name}"; domains = ["local"]; }
);
service = { socket = "$sock"; user = "root"; allowed_uids = [0, $(id -u)]; timeout = 2; };
EOC
# A broken configuration whose errors quote bytes that are not UTF-8.
printf 'rules = ( { name = "r\377\300"; priority = 1; match = "<SUBJECT>\377\376"; map = "LOCAL:x\377"; domains = ["nowhere\377"]; } );\nbogus\377 = 1;\n' > "$tmp/broken.conf"

if sh "$srcdir/tests/lib/nsswrap.sh" "$CERTMAPD" --foreground --config "$tmp/certmap.conf" > "$tmp/log" 2>&1 &
then pid=$!; fi
i=0
while [ ! -S "$sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if [ -S "$sock" ]; then ok "certmapd starts"; else ko "certmapd starts"; cat "$tmp/log"; fi

mkdir "$tmp/out"
n=0
# run CMD...: runs certmapctl CMD, keeping stdout for json_check.
run() {
	n=$((n + 1))
	printf '%s ' "$@" > "$tmp/out/$n.cmd"
	ctl "$@" > "$tmp/out/$n.json" 2>/dev/null
}

rules='<SAN:otherName>MTIz
<SAN:1.2.3.4>^12
<SAN:1.2.3.5>x
<SUBJECT>^CN=nobody$
<ISSUER>^CN=x$
<SAN:rfc822Name>^x
<SAN:ntPrincipalName>^x
<SAN:dNSName>^x
<KU>keyAgreement
<EKU>serverAuth'
maps='LDAP:(userCertificate;binary={cert!bin})
LOCAL:{subject_principal.short_name}
LOCAL:{subject_dn_component.CN}
LDAPU1:(cn={subject_dn_component.CN})
LDAP:(mail={subject_rfc822_name})
MAPFILE:/nonexistent:{subject_dn}'
nl='
'
oldifs=$IFS
ncerts=0
for c in "$certs"/*.pem "$tmp/binother.pem"; do
	case $c in *ca.pem|*chain.pem|*crl*.pem) continue ;; esac
	ncerts=$((ncerts + 1))
	run show --json "$c"
	run show --templates --json "$c"
	run test --json --config "$tmp/certmap.conf" "$c"
	run test --json --config "$tmp/certmap.conf" --user "$(printf 'b\377\300b')" --upn-hint "$(printf '\377@X')" "$c"
	run query --json --socket "$sock" "$c"
	run query --json --socket "$sock" --user "$(printf 'b\377\300b')" "$c"
	run eval-rule --json "$c"
	IFS=$nl
	for r in $rules; do run eval-rule --json --match "$r" "$c"; done
	for m in $maps; do
		run eval-rule --json --match '<EKU>clientAuth||<KU>digitalSignature' --map "$m" --domains "a,$(printf 'b\377')" "$c"
	done
	IFS=$oldifs
done
n=100000
run eval-rule --json --match "$(printf '<SUBJECT>\377(')" "$certs/alice.pem"
run eval-rule --json --map "$(printf 'LOCAL:{\377}')" "$certs/alice.pem"
run show --json "$tmp/nonexistent.pem"
run show --json "$srcdir/README"
run show --json
run show --json --bogus "$certs/alice.pem"
run test --json --config "$tmp/broken.conf" "$certs/alice.pem"
run test --json --config "$tmp/nonexistent.conf" "$certs/alice.pem"
run test --json "$(printf '%s/missing-\377.pem' "$tmp")"
run test --json
run eval-rule --json "$tmp/nonexistent.pem"
run eval-rule --json --match
run check-config --json --config "$tmp/certmap.conf"
run check-config --json --config "$tmp/broken.conf"
run check-config --json --config "$tmp/nonexistent.conf"
run check-config --json --config "$tmp/certmap.conf" extra-argument
run query --json --socket "$tmp/nosocket" "$certs/alice.pem"
run query --json --config "$tmp/broken.conf" "$certs/alice.pem"
run query --json --socket "$sock" --timeout 0 "$certs/alice.pem"
run query --json --socket "$sock" "$tmp/nonexistent.pem"
run stats --json --socket "$sock"
run stats --json --socket "$tmp/nosocket"
run stats --json --socket "$sock" --service-user no-such-user-xyz
run frobnicate --json
run --json
run --json test "$certs/alice.pem"

total=$(ls "$tmp/out"/*.json | wc -l)
if bad=$("$CHECK" "$tmp/out"/*.json); then
	ok "$total outputs over $ncerts certificates are each one valid JSON object in UTF-8"
else
	ko "invalid JSON output"
	printf '%s\n' "$bad" | head -20 | while IFS= read -r line; do
		f=${line%%:*}
		printf '%s\n  command: %s\n' "$line" "$(cat "${f%.json}.cmd")"
	done
fi

# The trace of the binary otherName says what it holds, escaped.
expect_exit "eval-rule binary otherName" 1 ctl eval-rule --json --match '<SAN:otherName>MTIz' "$tmp/binother.pem"
expect_out "binary bytes quoted" '\\xc0\\xaf\\xed\\xb0\\x80'

# --- every failure is one JSON object with the documented shape
expect_exit "json usage error" 2 ctl test --json
expect_compact "usage error object" '"verdict":"error","reason":"usage_error"'
expect_exit "json unreadable certificate" 2 ctl test --json --config "$tmp/certmap.conf" "$tmp/nonexistent.pem"
expect_compact "unreadable certificate reason" '"reason":"invalid_certificate"'
expect_exit "json broken config" 2 ctl test --json --config "$tmp/broken.conf" "$certs/alice.pem"
expect_compact "broken config reason" '"verdict":"error","reason":"config_error"'
expect_exit "json show unreadable" 2 ctl show --json "$tmp/nonexistent.pem"
expect_compact "show error" '"error":'
expect_exit "json eval-rule usage" 2 ctl eval-rule --json
expect_compact "eval-rule error shape" '"matched":false,"domains":[],"error":'
expect_exit "json check-config usage" 2 ctl check-config --json extra
expect_compact "check-config error shape" '"valid":false,"errors":['
expect_exit "json unknown command" 2 ctl frobnicate --json
expect_compact "unknown command" '"reason":"usage_error"'

# --- reaching certmapd: each failure its own message and exit code
expect_exit "no socket: exit 3" 3 ctl query --socket "$tmp/nosocket" "$certs/alice.pem"
expect_out "no socket message" "no socket at $tmp/nosocket: is certmapd running?"
expect_exit "no socket --json: exit 3" 3 ctl query --json --socket "$tmp/nosocket" "$certs/alice.pem"
expect_compact "no socket reason" '"verdict":"error","reason":"backend_unavailable"'
expect_exit "stats no socket: exit 3" 3 ctl stats --socket "$tmp/nosocket"
expect_exit "query: a requested user not in UTF-8" 2 ctl query --json --socket "$sock" --user "$(printf 'b\377')" "$certs/alice.pem"
expect_out "not UTF-8 message" "not valid UTF-8"
expect_exit "query through certmapd" 0 ctl query --socket "$sock" "$certs/alice.pem"
expect_out "query maps alice" "verdict: mapped"
expect_exit "eval-rule LOCAL: labels a user" 0 ctl eval-rule --map 'LOCAL:{subject_principal.short_name}' "$certs/alice.pem"
expect_out "user: label" "user:    alice"
expect_no_out "no filter: label for LOCAL" "filter:"
expect_exit "eval-rule LDAP: labels a filter" 0 ctl eval-rule "$certs/alice.pem"
expect_out "filter: label" "filter:  (userCertificate;binary="
expect_exit "show names templates" 0 ctl show "$certs/alice.pem"
expect_out "show san.upn template" "({subject_nt_principal} {subject_principal})"
expect_out "show san.rfc822 template" "({subject_rfc822_name})"
expect_exit "show --templates --json" 0 ctl show --templates --json "$certs/alice.pem"
expect_compact "templates object" '"san.rfc822":"{subject_rfc822_name}"'

if [ "$(id -u)" -eq 0 ] && command -v setpriv > /dev/null; then
	asnobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	# The socket file is root's and 0600: nobody may not open it.
	chmod 600 "$sock"
	expect_exit "permission denied: exit 4" 4 asnobody sh "$srcdir/tests/lib/nsswrap.sh" "$CERTMAPCTL" query --socket "$sock" "$certs/alice.pem"
	expect_out "permission message" "permission denied on $sock"
	expect_exit "permission denied --json" 4 asnobody sh "$srcdir/tests/lib/nsswrap.sh" "$CERTMAPCTL" query --json --socket "$sock" "$certs/alice.pem"
	expect_compact "permission reason" '"reason":"permission_denied"'
	# Anyone may open it, but certmapd allows only root.
	chmod 666 "$sock"
	expect_exit "uid refused: exit 5" 5 asnobody sh "$srcdir/tests/lib/nsswrap.sh" "$CERTMAPCTL" query --socket "$sock" "$certs/alice.pem"
	expect_out "uid refused message" "certmapd refused uid 65534: add it to service.allowed_uids or a group in service.allowed_gids"
	expect_out "certmapd's own words" "certmapd says:"
	expect_exit "uid refused --json" 5 asnobody sh "$srcdir/tests/lib/nsswrap.sh" "$CERTMAPCTL" stats --json --socket "$sock"
	expect_compact "uid refused reason" '"reason":"not_allowed"'
	# A stand-in that answers "mapped" for everyone, listening as nobody:
	# the client does not trust it unless told it is the service user.
	mkdir -m 777 "$tmp/stubdir"
	asnobody "$STUB" "$tmp/stubdir/sock" mapped-other > "$tmp/stub.log" 2>&1 &
	stub_pid=$!
	i=0
	while [ ! -S "$tmp/stubdir/sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	expect_exit "untrusted listener: exit 6" 6 ctl query --socket "$tmp/stubdir/sock" "$certs/alice.pem"
	expect_out "untrusted message" "runs as uid 65534"
	expect_no_out "no mapping from an impostor" "verdict: mapped"
	expect_exit "untrusted --json" 6 ctl query --json --socket "$tmp/stubdir/sock" "$certs/alice.pem"
	expect_compact "untrusted reason" '"reason":"untrusted_service"'
	expect_exit "named service user is trusted" 0 ctl query --service-user nobody --socket "$tmp/stubdir/sock" "$certs/alice.pem"
	expect_out "stub answers" "user:   bob"
else
	echo "SKIP: permission, refused-uid and untrusted-listener checks need root and setpriv"
fi

finish
