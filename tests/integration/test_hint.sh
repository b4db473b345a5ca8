#!/bin/sh
# certmapctl hint decode|encode: RFC 4681 UserMappingDataList in hex and raw
# bytes, exit codes, precise errors, and one JSON object for every --json
# outcome (checked by json_check).
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"

tmp=$(mktemp -d "$builddir/tests/tmp-hint.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
CHECK="$builddir/tests/integration/json_check"

# jrun NAME CODE ARGS...: certmapctl --json ...; exit code and one valid JSON
# object on stdout, kept in $out.
jn=0
jrun() {
	name=$1; want=$2; shift 2
	jn=$((jn + 1))
	ctl "$@" > "$tmp/j$jn.json" 2> "$tmp/j$jn.err" && rc=0 || rc=$?
	out=$(cat "$tmp/j$jn.json")
	if [ "$rc" -eq "$want" ]; then ok "$name"; else ko "$name (exit $rc, want $want)"; cat "$tmp/j$jn.err"; fi
	if "$CHECK" "$tmp/j$jn.json" > "$tmp/check.out" 2>&1; then ok "$name: one JSON object"; else
		ko "$name: one JSON object"; cat "$tmp/check.out"; fi
}

# "erin2@EXAMPLE.COM", no domain: 0018 40 0015 0011 <17 bytes> 0000.
ERIN2=001840001500116572696e32404558414d504c452e434f4d0000

# --- encode
expect_exit "encode --upn" 0 ctl hint encode --upn erin2@EXAMPLE.COM
[ "$out" = "$ERIN2" ] && ok "encode: exact bytes" || ko "encode: exact bytes ($out)"
expect_exit "encode --upn --domain" 0 ctl hint encode --upn a@b.c --domain EX
[ "$out" = "000e40000b00056140622e6300024558" ] && ok "encode: both fields" || ko "encode: both fields ($out)"
expect_exit "encode --domain alone" 0 ctl hint encode --domain EXAMPLE
[ "$out" = "000e40000b000000074558414d504c45" ] && ok "encode: domain only" || ko "encode: domain only ($out)"
jrun "encode --json" 0 hint encode --json --upn erin2@EXAMPLE.COM
expect_out "encode --json hex" "\"hex\": \"$ERIN2\""
expect_exit "encode: a UPN without @" 2 ctl hint encode --upn alice
expect_out "encode: says why" "user_principal_name: it has no '@'"
expect_exit "encode: a non-LDH domain" 2 ctl hint encode --domain bad_name
expect_out "encode: LDH named" "not an LDH domain name"
jrun "encode --json refusal" 2 hint encode --json --upn "$(printf 'a\tb@c')"
expect_out "encode --json reason" '"reason": "hint_invalid"'
expect_out "encode --json control character" "control character"
expect_exit "encode: neither field is a usage error" 2 ctl hint encode
expect_out "encode: usage" "Usage: certmapctl hint"
long=$(head -c 1021 /dev/zero | tr '\0' u)
expect_exit "encode: UPN of 1025 bytes" 2 ctl hint encode --upn "$long@b.c"
expect_out "encode: size limit named" "more than 1024"

# --- decode
expect_exit "decode hex argument" 0 ctl hint decode "$ERIN2"
expect_out "decode: the UPN" "upn: erin2@EXAMPLE.COM"
expect_no_out "decode: no domain line" "domain:"
expect_exit "decode upper-case hex on stdin, spaced" 0 sh -c "printf '0018 4000 15\n0011 6572696E32404558414D504C452E434F4D 0000\n' | sh '$srcdir/tests/lib/nsswrap.sh' '$CERTMAPCTL' hint decode"
expect_out "decode stdin: the UPN" "upn: erin2@EXAMPLE.COM"
printf '\000\011\100\000\006\000\000\000\002EX' > "$tmp/domain.bin"
expect_exit "decode --binary FILE" 0 ctl hint decode --binary "$tmp/domain.bin"
expect_out "decode --binary: the domain" "domain: EX"
expect_exit "decode --binary stdin" 0 sh -c "sh '$srcdir/tests/lib/nsswrap.sh' '$CERTMAPCTL' hint decode --binary < '$tmp/domain.bin'"
expect_out "decode --binary stdin: the domain" "domain: EX"
jrun "decode --json" 0 hint decode --json 000e40000b00056140622e6300024558
expect_compact "decode --json fields" '{"upn":"a@b.c","domain":"EX"}'
jrun "decode --json, no UPN" 0 hint decode --json --binary "$tmp/domain.bin"
expect_compact "decode --json null UPN" '{"upn":null,"domain":"EX"}'
expect_exit "decode: other types only" 0 ctl hint decode 0003010000
expect_out "decode: other types only, said" "no upn_domain_hint"
# The round trip through both commands.
expect_exit "encode | decode" 0 sh -c "sh '$srcdir/tests/lib/nsswrap.sh' '$CERTMAPCTL' hint encode --upn 'jos\303\251@example.com' --domain EXAMPLE | sh '$srcdir/tests/lib/nsswrap.sh' '$CERTMAPCTL' hint decode"
expect_out "round trip UPN" "upn: jos"
expect_out "round trip domain" "domain: EXAMPLE"

# --- decode: malformed input, exit 2 and a precise message
bad() { # NAME HEX MESSAGE
	expect_exit "decode refuses $1" 2 ctl hint decode "$2"
	expect_out "decode $1: message" "$3"
}
bad "an empty input" "" "too short for its 2-byte length"
bad "a list longer than the input" 0019400015 "length 25 runs past its end (3 bytes follow)"
bad "trailing bytes" "${ERIN2}00" "1 bytes after the UserMappingDataList"
bad "an empty list" 0000 "is empty"
bad "a cut entry header" 00024000 "entry 1 at byte 2: 2 bytes left"
bad "an entry longer than the list" 000340ffff "user_mapping_length 65535 runs past"
bad "a cut UPN length" 0004400001ff "too short for a UpnDomainHint"
bad "a UPN longer than its entry" 00054000020005 "user_principal_name length 5 runs past"
bad "no domain length" 00054000020000 "no domain_name length"
bad "a domain longer than its entry" 000740000400000009 "domain_name length 9 runs past"
bad "bytes after the domain" 0009400006000000014500 "1 bytes after the domain_name"
bad "an empty hint" "0007 40 0004 0000 0000" "neither"
bad "a second upn_domain_hint" 001040000500000001454000050000000145 "entry 2 is a second upn_domain_hint"
bad "a non-hex digit" 00zz "not a hex digit at character 3"
bad "an odd number of digits" 000 "odd number of hex digits"
jrun "decode --json refusal" 2 hint decode --json "${ERIN2}00"
expect_out "decode --json error" '"error": "1 bytes after the UserMappingDataList'
expect_out "decode --json reason" '"reason": "hint_invalid"'
head -c 70000 /dev/zero > "$tmp/big.bin"
expect_exit "decode --binary: over 65537 bytes" 2 ctl hint decode --binary "$tmp/big.bin"
expect_out "decode: size limit named" "more than 65537 bytes"
jrun "decode --binary: a missing file" 2 hint decode --json --binary "$tmp/nonexistent"
expect_out "missing file named" "nonexistent"
jrun "decode: two arguments" 2 hint decode --json 00 00
expect_out "usage_error" '"reason": "usage_error"'
jrun "hint without a verb" 2 hint --json
expect_exit "hint --help" 0 ctl hint --help
expect_out "hint --help: both verbs" "hint encode"

finish
