#!/bin/sh
# certmapctl end to end: exit codes, JSON answers, trace and check-config,
# with the suite's CA, certificates and nss_wrapper accounts.
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"

tmp=$(mktemp -d "$builddir/tests/tmp-ctl.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
printf 'alice:x:1000:1000:Alice:/home/alice:/bin/sh\nbob:x:1001:1001:Bob:/home/bob:/bin/sh\nroot:x:0:0:root:/root:/bin/sh\n' > "$tmp/passwd"
printf 'alice:x:1000:\nbob:x:1001:\ndev:x:2000:alice\n' > "$tmp/group"
NSS_WRAPPER_PASSWD="$tmp/passwd"; NSS_WRAPPER_GROUP="$tmp/group"
export NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP

cat > "$tmp/certmap.conf" <<EOC
verify = { ca_file = "$certs/ca.pem"; };
domains = ( { name = "local"; type = "local"; } );
rules = (
  { name = "upn"; priority = 10; match = "<EKU>clientAuth";
    map = "LOCAL:{subject_principal.short_name}"; domains = ["local"]; }
);
EOC

# --- test
expect_exit "test maps alice" 0 ctl test --config "$tmp/certmap.conf" "$certs/alice.pem"
expect_out "text verdict" "verdict: mapped"
expect_out "text trace" "rule upn (priority 10): matched"
expect_exit "test --json maps alice" 0 ctl test --json --config "$tmp/certmap.conf" "$certs/alice.pem"
expect_out "json verdict" '"verdict": "mapped"'
expect_out "json user" '"user": "alice"'
expect_out "json uid" '"uid": 1000'
expect_compact "json groups" '"groups":["alice","dev"]'
expect_out "json rule" '"rule": "upn"'
expect_out "json domain" '"domain": "local"'
expect_out "json trace" '"trace": ['
expect_exit "DER on stdin" 0 sh -c "ctl() { sh '$srcdir/tests/lib/nsswrap.sh' '$CERTMAPCTL' \"\$@\"; }; ctl test --config '$tmp/certmap.conf' - < '$certs/alice.der'"
expect_exit "requested user bob refused" 1 ctl test --json --user bob --config "$tmp/certmap.conf" "$certs/alice.pem"
expect_out "not_candidate" '"reason": "not_candidate"'
expect_exit "expired refused" 1 ctl test --json --config "$tmp/certmap.conf" "$certs/expired.pem"
expect_out "expired reason" '"reason": "expired"'
expect_exit "untrusted refused" 1 ctl test --json --config "$tmp/certmap.conf" "$certs/untrusted.pem"
expect_out "untrusted reason" '"reason": "untrusted"'
expect_exit "root refused" 1 ctl test --json --config "$tmp/certmap.conf" "$certs/root.pem"
expect_out "uid_refused reason" '"reason": "uid_refused"'
expect_exit "no account" 1 ctl test --json --config "$tmp/certmap.conf" "$certs/multirdn.pem"
expect_out "no_account reason" '"reason": "no_account"'
expect_exit "chain on the command line" 1 ctl test --config "$tmp/certmap.conf" "$certs/via-inter.pem" "$certs/inter-ca.pem"
expect_out "chain verified, ken unknown" "no account ken"
printf 'not a certificate' > "$tmp/garbage.pem"
expect_exit "garbage certificate is exit 2" 2 ctl test --json --config "$tmp/certmap.conf" "$tmp/garbage.pem"
expect_out "invalid_certificate" '"reason": "invalid_certificate"'
expect_exit "missing certificate file" 2 ctl test --config "$tmp/certmap.conf" "$tmp/nonexistent.pem"
expect_exit "missing config" 2 ctl test --config "$tmp/nonexistent.conf" "$certs/alice.pem"
expect_out "missing config message" "nonexistent.conf"
expect_exit "usage" 2 ctl test
expect_exit "unknown command" 2 ctl frobnicate
expect_exit "--help" 0 ctl --help
expect_out "--help lists eval-rule" "eval-rule"

# --- check-config
expect_exit "check-config valid" 0 ctl check-config --config "$tmp/certmap.conf"
cat > "$tmp/bad.conf" <<EOC
verify = { enabled = false; bogus = 1; };
domains = ( { name = "local"; type = "local"; } );
rules = ( { name = "r"; match = "<WHAT>x"; map = "LOCAL:x"; } );
EOC
expect_exit "check-config invalid" 2 ctl check-config --config "$tmp/bad.conf"
expect_out "lists unknown setting" "bad.conf:1: verify.bogus: unknown setting"
expect_out "lists bad rule" "bad.conf:3: rules[0].match:"
expect_exit "check-config --json" 2 ctl check-config --json --config "$tmp/bad.conf"
expect_out "json valid false" '"valid": false'

# --- check-config: files, numbers, includes (issue 14 items 6-9, issue 15)
sed 's/type = "local";/type = "local"; min_uid = 4294967296;/' "$tmp/certmap.conf" > "$tmp/wrap.conf"
printf 'service = { allowed_uids = [4294967296]; };\n' >> "$tmp/wrap.conf"
expect_exit "check-config: 2^32 does not wrap to 0" 2 ctl check-config --config "$tmp/wrap.conf"
expect_out "min_uid range named" "wrap.conf:2: domains[0].min_uid: must be between 0 and 4294967294"
expect_out "allowed_uids range named" "wrap.conf:7: service.allowed_uids[0]: must be between 0 and 4294967294"
{ cat "$tmp/certmap.conf"; printf '@include "other.conf"\n'; } > "$tmp/include.conf"
expect_exit "check-config: @include refused" 2 ctl check-config --config "$tmp/include.conf"
expect_out "@include message" "include.conf:7: @include is not supported"
mkfifo "$tmp/fifo.map"
sed "s|LOCAL:{subject_principal.short_name}|MAPFILE:$tmp/fifo.map:{subject_dn!grid}|" "$tmp/certmap.conf" > "$tmp/fifo.conf"
expect_exit "check-config: FIFO map file refused, no hang" 2 timeout 20 sh "$srcdir/tests/lib/nsswrap.sh" "$CERTMAPCTL" check-config --config "$tmp/fifo.conf"
expect_out "FIFO named" "fifo.map: the map file is a FIFO (named pipe); it must be a regular file"
cp "$tmp/certmap.conf" "$tmp/writable.conf"
chmod 666 "$tmp/writable.conf"
expect_exit "check-config: world-writable config refused" 2 ctl check-config --config "$tmp/writable.conf"
expect_out "the fix is named" "run chmod go-w $tmp/writable.conf"
sed "s|$certs/ca.pem|$tmp/nonexistent-ca.pem|" "$tmp/certmap.conf" > "$tmp/noca.conf"
expect_exit "check-config: missing CA file" 2 ctl check-config --config "$tmp/noca.conf"
expect_out "missing CA in words, with file:line" "noca.conf:1: verify.ca_file: $tmp/nonexistent-ca.pem: not found (the CA file does not exist)"
sed "s|$certs/ca.pem|$certs/alice.pem|" "$tmp/certmap.conf" > "$tmp/leafca.conf"
expect_exit "check-config: leaf certificate as ca_file" 2 ctl check-config --config "$tmp/leafca.conf"
expect_out "leaf refused" "is not a CA certificate"
sed "s|ca_file = \"$certs/ca.pem\";|ca_file = \"$certs/ca.pem\"; crl_file = \"$certs/alice.pem\";|" "$tmp/certmap.conf" > "$tmp/crlcert.conf"
expect_exit "check-config: certificate as crl_file" 2 ctl check-config --config "$tmp/crlcert.conf"
expect_out "not a PEM CRL" "not a PEM CRL file: it holds a CERTIFICATE and no X509 CRL"
# service.user must be able to re-read what it reloads (modes judged, so
# the nss_wrapper account alice works without a real second user).
{ cat "$tmp/certmap.conf"; printf 'service = { user = "alice"; };\n'; } > "$tmp/svcuser.conf"
chmod 600 "$tmp/svcuser.conf"
expect_exit "check-config: unreadable by service.user is a warning" 0 ctl check-config --config "$tmp/svcuser.conf"
expect_out "warning names user and file" "warning: service.user alice (uid 1000) cannot read $tmp/svcuser.conf ("
expect_exit "check-config --json warnings" 0 ctl check-config --json --config "$tmp/svcuser.conf"
expect_out "json warnings" '"warnings": ['
expect_out "json warning text" "service.user alice (uid 1000) cannot read"
{ cat "$tmp/certmap.conf"; printf 'service = { user = "nosuchuser"; };\n'; } > "$tmp/nouser.conf"
expect_exit "check-config: missing service.user is a warning" 0 ctl check-config --config "$tmp/nouser.conf"
expect_out "missing user named" "warning: service.user nosuchuser does not exist"

# --- show (no config needed)
expect_exit "show alice" 0 ctl show "$certs/alice.pem"
expect_out "show subject" "Alice Example"
expect_out "show upn" "alice@EXAMPLE.COM"
expect_exit "show nul-email" 0 ctl show "$certs/nul-email.pem"
expect_out "show marks NUL value unusable" "unusable"
expect_out "show escapes the NUL" 'victim@example.com\x00.evil'
expect_exit "show --json" 0 ctl show --json "$certs/sid.pem"
expect_out "show json sid" "S-1-5-21-2084710061-1330166313-3217380000-1105"

# --- eval-rule (no config needed)
expect_exit "eval-rule default LDAP filter" 0 ctl eval-rule --json "$certs/alice.pem"
expect_out "eval-rule matched" '"matched": true'
expect_out "eval-rule filter" '"filter": "(userCertificate;binary=\\30\\82'
expect_compact "eval-rule domains empty" '"domains":[]'
expect_exit "eval-rule LOCAL" 0 ctl eval-rule --json --map 'LOCAL:{subject_principal.short_name}' --domains a,b "$certs/alice.pem"
expect_out "eval-rule LOCAL user" '"filter": "alice"'
expect_compact "eval-rule domains" '"domains":["a","b"]'
expect_exit "eval-rule not matched" 1 ctl eval-rule --json --match '<ISSUER>^CN=nobody$' "$certs/alice.pem"
expect_out "eval-rule matched false" '"matched": false'
expect_no_out "no filter when not matched" '"filter"'
expect_exit "eval-rule invalid rule" 2 ctl eval-rule --json --match '<BOGUS>x' "$certs/alice.pem"
expect_out "eval-rule error" '"error":'
expect_exit "eval-rule NUL never expands" 1 ctl eval-rule --json --match '<SAN:rfc822Name>.*' --map 'LOCAL:{subject_rfc822_name.short_name}' "$certs/nul-email.pem"
expect_no_out "NUL value not in output" '"filter": "victim"'


# --- a domain of type certificate: a certificate-only identity
cat > "$tmp/certdom.conf" <<EOC
verify = { ca_file = "$certs/ca.pem"; };
domains = ( { name = "apps"; type = "certificate";
    group_from = [ "{subject_dn_component.OU}", "{subject_uri}" ];
    group_map = ( { value = "One"; group = "team-one"; },
                  { prefix = "https://all.example.com/"; group = "all"; } ); } );
rules = ( { name = "cn"; map = "LOCAL:{subject_dn_component.CN}"; domains = ["apps"]; } );
EOC
expect_exit "certificate domain: check-config" 0 ctl check-config --config "$tmp/certdom.conf"
expect_exit "certificate domain: test --json maps" 0 ctl test --json --config "$tmp/certdom.conf" "$certs/multi-ou.pem"
expect_compact "certificate domain: user and groups, no uid/gid/home" '"verdict":"mapped","user":"mallory","groups":["team-one"],"rule":"cn","domain":"apps"'
expect_no_out "certificate domain: no uid" '"uid"'
expect_out "certificate domain: values not in group_map are noted" 'dropped: \"Two\"'
expect_exit "certificate domain: text" 0 ctl test --config "$tmp/certdom.conf" "$certs/allsan.pem"
expect_out "certificate domain: text says there is no account" "account: none (certificate-only identity)"
expect_out "certificate domain: a SAN URI by prefix" "groups: all"
expect_no_out "certificate domain: text shows no uid" "uid:"

finish
