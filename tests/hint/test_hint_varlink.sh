#!/bin/sh
# The raw RFC 4681 bytes on the wire: certmapd's Map parameter
# user_mapping_data (base64), sent as raw varlink frames. multisan.pem
# carries the UPNs erin@ and erin2@EXAMPLE.COM, so it maps to two accounts
# and only a hint can choose.
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"

. "$srcdir/tests/service/svclib.sh"
svc_setup hintvl
svc_erin_accounts
SVC_RULES='  { name = "upn"; priority = 10; map = "LOCAL:{subject_nt_principal.short_name}";
    domains = ["local"]; }'
write_config "$tmp/certmap.conf"
require_daemon "daemon starts" "$tmp/certmap.conf"

cert=$("$OPENSSL" x509 -in "$certs/multisan.pem" -outform DER | "$OPENSSL" base64 -A)
unhex() { perl -ne 'chomp; print pack("H*", $_)'; }
b64() { ctl hint encode "$@" | unhex | "$OPENSSL" base64 -A; }
ERIN=$(b64 --upn erin@EXAMPLE.COM)
ERIN2=$(b64 --upn erin2@EXAMPLE.COM --domain local)
ALICE=$(b64 --upn alice@EXAMPLE.COM)
# ERIN2 with one byte more after the list.
BAD=$( (ctl hint encode --upn erin2@EXAMPLE.COM; echo 00) | tr -d '\n' | unhex | "$OPENSSL" base64 -A)

# map NAME CODE EXTRA-PARAMS: a raw Map frame; the reply is in $out.
map() {
	printf '{"method":"org.certmap.Mapper.Map","parameters":{"certificate":"%s"%s}}\0' "$cert" "$3" > "$tmp/req"
	expect_exit "$1" "$2" client raw "$sock" < "$tmp/req"
}

# A hint first, so that a cache that ignored it would answer the rest.
map "hint erin2: answered" 0 ",\"user_mapping_data\":\"$ERIN2\""
expect_out "hint erin2: mapped erin2" '"verdict":"mapped","user":"erin2"'
map "no hint: answered" 0 ""
expect_out "no hint: ambiguous" '"verdict":"ambiguous"'
map "hint erin: answered" 0 ",\"user_mapping_data\":\"$ERIN\""
expect_out "hint erin: mapped erin" '"verdict":"mapped","user":"erin"'
map "null is no hint" 0 ',"user_mapping_data":null'
expect_out "null: ambiguous" '"verdict":"ambiguous"'
map "hint naming no candidate: answered" 0 ",\"user_mapping_data\":\"$ALICE\""
expect_out "hint alice: refused not_candidate" '"reason":"not_candidate"'
expect_no_out "hint alice: never mapped" '"verdict":"mapped"'
map "malformed list: answered" 0 ",\"user_mapping_data\":\"$BAD\""
expect_out "malformed list: hint_invalid" '"reason":"hint_invalid"'
expect_out "malformed list: the decoder's sentence" "1 bytes after the UserMappingDataList"
map "empty list: answered" 0 ',"user_mapping_data":""'
expect_out "empty string: hint_invalid" '"reason":"hint_invalid"'
map "with upn_hint too: answered" 0 ",\"user_mapping_data\":\"$ERIN2\",\"upn_hint\":\"erin@EXAMPLE.COM\""
expect_out "two hint sources: hint_invalid" '"reason":"hint_invalid"'
map "not base64: answered" 0 ',"user_mapping_data":"@@@"'
expect_out "not base64: InvalidParameter" '"error":"org.varlink.service.InvalidParameter"'
expect_out "not base64: names the parameter" '"parameter":"user_mapping_data"'
map "a number: answered" 0 ',"user_mapping_data":64'
expect_out "a number: InvalidParameter" '"parameter":"user_mapping_data"'
big=$(head -c 65538 /dev/zero | "$OPENSSL" base64 -A)
map "65538 bytes: answered" 0 ",\"user_mapping_data\":\"$big\""
expect_out "65538 bytes: TooLarge" '"error":"org.certmap.Mapper.TooLarge"'
printf '{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"org.certmap.Mapper"}}\0' > "$tmp/req"
expect_exit "GetInterfaceDescription" 0 client raw "$sock" < "$tmp/req"
expect_out "the IDL declares user_mapping_data" 'user_mapping_data: ?string'

# certmapctl test and query take the same bytes in hex (--hint-data).
HEX_ERIN2=$(ctl hint encode --upn erin2@EXAMPLE.COM)
expect_exit "test --hint-data: mapped" 0 ctl test --config "$tmp/certmap.conf" --json \
	--hint-data "$HEX_ERIN2" "$certs/multisan.pem"
expect_compact "test --hint-data: erin2" '"user":"erin2"'
expect_exit "test without hint: ambiguous" 1 ctl test --config "$tmp/certmap.conf" --json \
	"$certs/multisan.pem"
expect_compact "test without hint: ambiguous reason" '"reason":"ambiguous"'
expect_exit "test --hint-data trailing byte: refused" 1 ctl test --config "$tmp/certmap.conf" \
	--json --hint-data "${HEX_ERIN2}00" "$certs/multisan.pem"
expect_compact "test --hint-data trailing byte: hint_invalid" '"reason":"hint_invalid"'
expect_exit "test --hint-data not hex: usage" 2 ctl test --config "$tmp/certmap.conf" \
	--json --hint-data "zz" "$certs/multisan.pem"
expect_exit "query --hint-data: mapped" 0 ctl query --socket "$sock" --json \
	--hint-data "$HEX_ERIN2" "$certs/multisan.pem"
expect_compact "query --hint-data: erin2" '"user":"erin2"'
expect_exit "query --hint-data trailing byte: refused" 1 ctl query --socket "$sock" \
	--json --hint-data "${HEX_ERIN2}00" "$certs/multisan.pem"
expect_compact "query --hint-data trailing byte: hint_invalid" '"reason":"hint_invalid"'
finish
