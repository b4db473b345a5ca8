#!/bin/sh
# certmapctl test on crafted certificates (issue 14 and 15): the !grid key
# of a forged J\xC3\xBCrgen, serial numbers 0 and -5, PEM with more than one
# certificate or junk, and how traces print regexes and SAN components.
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"

tmp=$(mktemp -d "$builddir/tests/tmp-input.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
printf 'alice:x:1000:1000:Alice:/home/alice:/bin/sh\njurgen:x:1002:1002:J:/home/jurgen:/bin/sh\n' > "$tmp/passwd"
printf 'alice:x:1000:\njurgen:x:1002:\n' > "$tmp/group"
NSS_WRAPPER_PASSWD="$tmp/passwd"; NSS_WRAPPER_GROUP="$tmp/group"
export NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP

# --- !grid: the key openssl x509 -subject -nameopt compat prints for Jürgen.
key=$(openssl x509 -in "$certs/grid-real.pem" -noout -subject -nameopt compat | sed 's/^subject=//')
printf '"%s" jurgen\n' "$(printf '%s' "$key" | sed 's/\\/\\\\/g')" > "$tmp/grid.map"
cat > "$tmp/grid.conf" <<EOC
verify = { ca_file = "$certs/ca.pem"; };
domains = ( { name = "local"; type = "local"; } );
rules = ( { name = "grid"; map = "MAPFILE:$tmp/grid.map:{subject_dn!grid}"; domains = ["local"]; } );
EOC
expect_exit "grid key is OpenSSL's" 0 test "$key" = '/O=Example/CN=J\xC3\xBCrgen'
expect_exit "real Jürgen maps through the grid key" 0 ctl test --json --config "$tmp/grid.conf" "$certs/grid-real.pem"
expect_out "real Jürgen is jurgen" '"user": "jurgen"'
expect_exit "forged J\\xC3\\xBCrgen does not map" 1 ctl test --json --config "$tmp/grid.conf" "$certs/grid-forged.pem"
expect_out "forged: no rule matched" '"reason": "no_rule_matched"'
expect_no_out "forged: not jurgen" '"user": "jurgen"'
expect_exit "forged: trace says why" 1 ctl test --config "$tmp/grid.conf" "$certs/grid-forged.pem"
expect_out "forged: trace names the grid form" "unusable in the grid form"

# --- serial numbers 0 and -5 are refused; 5 maps.
cat > "$tmp/sr.conf" <<EOC
verify = { ca_file = "$certs/ca.pem"; };
domains = ( { name = "local"; type = "local"; } );
rules = ( { name = "sr"; map = "LOCAL:alice"; domains = ["local"]; } );
EOC
expect_exit "serial 5 maps" 0 ctl test --json --config "$tmp/sr.conf" "$certs/serial5.pem"
for s in serial0 serial-neg5; do
	expect_exit "$s refused" 2 ctl test --json --config "$tmp/sr.conf" "$certs/$s.pem"
	expect_out "$s invalid_certificate" '"reason": "invalid_certificate"'
	expect_out "$s says why" 'RFC 5280 requires a positive serial number'
done

# --- PEM: exactly one certificate, nothing but white space around it.
expect_exit "alice.pem maps" 0 ctl test --config "$tmp/sr.conf" "$certs/alice.pem"
cat "$certs/alice.pem" "$certs/grid-real.pem" > "$tmp/two.pem"
expect_exit "two certificates refused" 2 ctl test --json --config "$tmp/sr.conf" "$tmp/two.pem"
expect_out "two: invalid_certificate" '"reason": "invalid_certificate"'
expect_out "two: says why" 'text follows the PEM block'
{ cat "$certs/alice.pem"; printf '\000junk'; } > "$tmp/nul.pem"
expect_exit "NUL and junk refused" 2 ctl test --json --config "$tmp/sr.conf" "$tmp/nul.pem"
expect_out "NUL: says why" 'text follows the PEM block'
{ cat "$certs/alice.key" "$certs/alice.pem"; } > "$tmp/key.pem"
expect_exit "key before the certificate refused" 2 ctl test --json --config "$tmp/sr.conf" "$tmp/key.pem"
expect_out "key: says why" 'not a CERTIFICATE'
{ printf '\n\n  '; cat "$certs/alice.pem"; printf '\r\n\t\n'; } > "$tmp/ws.pem"
expect_exit "white space around is fine" 0 ctl test --config "$tmp/sr.conf" "$tmp/ws.pem"
{ cat "$certs/alice.der"; printf 'x'; } > "$tmp/trail.der"
expect_exit "DER with a trailing byte refused" 2 ctl test --config "$tmp/sr.conf" "$tmp/trail.der"

# --- traces print expressions as used, with the SAN type's full name (issue 15).
cat > "$tmp/trace.conf" <<'EOC'
verify = { enabled = false; };
domains = ( { name = "local"; type = "local"; } );
rules = (
  { name = "nt"; priority = 1; match = "<SAN:ntPrincipalName>.*@EXAMPLE\\.TEST$"; map = "LOCAL:alice"; },
  { name = "abbr"; priority = 2; match = "<SAN:rfc822>^bob@example\\.com$"; map = "LOCAL:alice"; },
  { name = "dn"; priority = 3; match = "<ISSUER>^CN=Other CA,O=Certmap\\ Test$"; map = "LOCAL:alice"; }
);
EOC
expect_exit "trace: nothing matches" 1 ctl test --config "$tmp/trace.conf" "$certs/alice.pem"
expect_out "trace: full SAN name, regex as used" "<SAN:ntPrincipalName> '.*@EXAMPLE\\.TEST$' does not hold for 'alice@EXAMPLE.COM'"
expect_out "trace: abbreviated SAN type in full" "<SAN:rfc822Name> '^bob@example\\.com$' does not hold for 'alice@example.com'"
expect_out "trace: DN regex as used" "<ISSUER> '^CN=Other CA,O=Certmap\\ Test$' does not match"
expect_no_out "trace: no doubled backslashes" '\\.'

finish
