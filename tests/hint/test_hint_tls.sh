#!/bin/sh
# RFC 4681 end to end on loopback: certmap-hint-client offers the
# user_mapping extension and sends its hint in SupplementalData over a real
# TLS 1.2 handshake (GnuTLS); certmap-hint-server passes the raw bytes to a
# certmapd started here. multisan.pem maps to two accounts (UPNs erin@ and
# erin2@EXAMPLE.COM): only a hint can choose, and a hint never adds one.
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"

SERVER="$builddir/tools/certmap-hint-server"
HCLIENT="$builddir/tools/certmap-hint-client"
if [ ! -x "$SERVER" ] || [ ! -x "$HCLIENT" ]; then
	echo "SKIP: GnuTLS not found by configure, the RFC 4681 peers are not built"
	exit 77
fi
. "$srcdir/tests/service/svclib.sh"
svc_setup hinttls
srv=
cleanup_more() { [ -z "$srv" ] || { kill -TERM "$srv" 2>/dev/null; wait "$srv" 2>/dev/null; }; }
svc_erin_accounts
SVC_RULES='  { name = "upn"; priority = 10; map = "LOCAL:{subject_nt_principal.short_name}";
    domains = ["local"]; }'
write_config "$tmp/certmap.conf"
require_daemon "certmapd starts" "$tmp/certmap.conf"

# The server picks a free port and names it on its first line.
sh "$srcdir/tests/lib/nsswrap.sh" "$SERVER" --port 0 --cert "$certs/serverauth.pem" \
	--key "$certs/serverauth.key" --ca "$certs/ca.pem" --socket "$sock" \
	> "$tmp/server.out" 2> "$tmp/server.log" &
srv=$!
svc_wait "$srv" grep -q '^listening on' "$tmp/server.out"
port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/server.out")
if [ -n "$port" ]; then ok "certmap-hint-server listens"; else ko "certmap-hint-server listens"; cat "$tmp/server.log"; finish; exit 1; fi

# hint NAME CODE ARGS...: a connection with multisan's certificate.
hint() {
	name=$1; want=$2; shift 2
	expect_exit "$name" "$want" sh "$srcdir/tests/lib/nsswrap.sh" "$HCLIENT" --port "$port" \
		--cert "$certs/multisan.pem" --key "$certs/multisan.key" --ca "$certs/ca.pem" "$@"
}

# A SupplementalData entry whose list holds another type only: no hint.
hint "no hint: refused" 1 --data 0003010000
expect_out "no hint: ambiguous" "refused ambiguous"
hint "hint erin: mapped" 0 --upn erin@EXAMPLE.COM
expect_out "hint erin: the account erin" "mapped erin"
expect_no_out "hint erin: not erin2" "erin2"
hint "hint erin2 with its domain: mapped" 0 --upn erin2@EXAMPLE.COM --domain local
expect_out "hint erin2: the account erin2" "mapped erin2"
hint "a domain alone does not choose" 1 --domain local
expect_out "domain alone: ambiguous" "refused ambiguous"
# alice exists, but the certificate does not map to her.
hint "hint naming another account: refused" 1 --upn alice@EXAMPLE.COM
expect_out "hint alice: not_candidate" "refused not_candidate"
expect_no_out "hint alice: never mapped" "mapped"
hint "hint naming another domain: refused" 1 --upn erin@EXAMPLE.COM --domain OTHER
expect_out "hint in domain OTHER: not_candidate" "refused not_candidate"
# Malformed UserMappingDataList in a well-formed SupplementalData entry.
ERIN2=$(ctl hint encode --upn erin2@EXAMPLE.COM)
hint "trailing byte after the list: refused" 1 --data "${ERIN2}00"
expect_out "trailing byte: hint_invalid" "refused hint_invalid"
hint "list length too long: refused" 1 --data "0019${ERIN2#0018}"
expect_out "list length: hint_invalid" "refused hint_invalid"
hint "two upn_domain_hint entries: refused" 1 \
	--data "0030${ERIN2#0018}$(printf '%s' "$ERIN2" | cut -c5-)"
expect_out "second hint: hint_invalid" "refused hint_invalid"
hint "an empty list: refused" 1 --data 0000
expect_out "empty list: hint_invalid" "refused hint_invalid"
# An entry without a single byte is no entry: GnuTLS sends an empty
# SupplementalData message, which the server's GnuTLS refuses.
hint "an empty SupplementalData: the handshake aborts" 3 --data ""
expect_out "empty SupplementalData: handshake failed" "handshake failed"
# A client without the extension gets the answer of no hint.
hint "no extension: refused" 1 --no-extension
expect_out "no extension: ambiguous as without a hint" "refused ambiguous"
# GnuTLS 3.7.9: offering the extension and sending no SupplementalData
# aborts the handshake (documented in certmap-hint-server.c and the README).
hint "offer only: the handshake aborts, never a mapping" 3 --offer-only
expect_no_out "offer only: no answer" "mapped"
# A certificate with one account maps without a hint; the server is still up.
expect_exit "alice without a hint" 0 sh "$srcdir/tests/lib/nsswrap.sh" "$HCLIENT" --port "$port" \
	--cert "$certs/alice.pem" --key "$certs/alice.key" --ca "$certs/ca.pem" --no-extension
expect_out "alice: her one account" "mapped alice"
hint "the server still serves" 0 --upn erin@EXAMPLE.COM
expect_out "still serving: mapped erin" "mapped erin"

# A clean stop on SIGTERM.
kill -TERM "$srv"
if wait "$srv"; then ok "server stops on SIGTERM"; else ko "server stops on SIGTERM"; fi
srv=
[ "$fail" -eq 0 ] || { echo "--- server log"; cat "$tmp/server.log"; }
finish
