#!/bin/sh
# The audit trail (certmapd(8) and pam_certmap(8), AUDIT TRAIL): every
# decision of certmapd and pam_certmap.so is logged once, to journald as
# structured fields when its socket is there, else to syslog with the same
# words. The test owns both sockets: it runs in a private mount namespace
# (root and unshare, else it skips) with a tmpfs on /run and on /dev, and
# tests/lib/logsink listens at /run/systemd/journal/socket and /dev/log.
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"

if [ "${CERTMAP_AUDIT_NS:-}" != 1 ]; then
	if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null 2>&1 ||
	    ! unshare -m --propagation private true 2>/dev/null; then
		echo "SKIP: needs root and unshare -m for a private /run and /dev"
		exit 77
	fi
	CERTMAP_AUDIT_NS=1 exec unshare -m --propagation private sh "$0" "$@"
fi

. "$srcdir/tests/service/svclib.sh"
svc_setup audit
SVC_FRESH=1
SVC_UIDS=0
SINK="$builddir/tests/lib/logsink"
MODULE="$builddir/.libs/pam_certmap.so"
DRIVER="$builddir/tests/pam/pam_driver"
sink_pid=
stop_sink() {
	if [ -n "$sink_pid" ]; then kill -TERM "$sink_pid" 2>/dev/null; wait "$sink_pid" 2>/dev/null; sink_pid=; fi
}
cleanup_more() { stop_sink; }

# --- a private /run and /dev (the host's nodes the programs need are bound in)
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/journal
mkdir "$tmp/dev"
mount -t tmpfs tmpfs "$tmp/dev"
for n in null zero full random urandom tty; do
	if [ -c "/dev/$n" ]; then touch "$tmp/dev/$n"; mount --bind "/dev/$n" "$tmp/dev/$n"; fi
done
ln -s /proc/self/fd "$tmp/dev/fd"
ln -s /proc/self/fd/0 "$tmp/dev/stdin"
ln -s /proc/self/fd/1 "$tmp/dev/stdout"
ln -s /proc/self/fd/2 "$tmp/dev/stderr"
mkdir "$tmp/dev/shm" && chmod 1777 "$tmp/dev/shm"
mount --move "$tmp/dev" /dev
if [ -e /dev/log ] || [ -e /run/systemd/journal/socket ]; then
	ko "private /dev and /run"; finish; exit 1
fi

sink="$tmp/sink.out"
# start_sink JOURNAL_SOCKET : logsink on that path and /dev/log.
start_sink() {
	: > "$sink"
	"$SINK" "$sink" "$1" /dev/log > "$tmp/sink.ready" 2>&1 &
	sink_pid=$!
	svc_wait "$sink_pid" grep -q ready "$tmp/sink.ready"
}

svc_passwd 'alice:x:1000:1000:Alice:/home/alice:/bin/sh' 'root:x:0:0:root:/root:/bin/sh'
svc_group 'alice:x:1000:'
write_config "$tmp/certmap.conf"
map() { client map "$sock" "$1" > /dev/null 2>&1; }
sha256() { "${OPENSSL:-openssl}" x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }
subject() { "${OPENSSL:-openssl}" x509 -in "$1" -noout -subject -nameopt RFC2253 | sed 's/^subject=//'; }

# entries FIELD=VALUE... : the journal entries (one per line, fields joined
# by '|') that hold every FIELD=VALUE given.
entries() {
	awk 'BEGIN { e = "" } /^--$/ { print e; e = ""; next } /^SYSLOG / { next } { e = e "|" $0 }' "$tmp/snap" |
	    { r=$(cat); for f in "$@"; do r=$(printf '%s\n' "$r" | grep -F -- "|$f|"); done; printf '%s\n' "$r" | grep -c '|' ; }
}
# expect_entries NAME COUNT FIELD=VALUE...
expect_entries() {
	name=$1; want=$2; shift 2
	n=$(entries "$@")
	i=0 # a loaded machine may deliver late: wait up to 5 s for the count
	while [ "$n" -ne "$want" ] && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1)); snap; n=$(entries "$@")
	done
	if [ "$n" -eq "$want" ]; then ok "$name"; else ko "$name ($n entries, want $want)"; cat "$sink" | tail -40; fi
}
settle() { sleep 0.3; }
# snap: what the listener has so far, each line ended with '|' so that a
# FIELD=VALUE match is whole (the listener keeps writing to $sink).
snap() { sed 's/$/|/; s/^--|$/--/' "$sink" > "$tmp/snap"; }

ALICE=$(sha256 "$certs/alice.pem")
UNTRUSTED=$(sha256 "$certs/untrusted.pem")
ALICE_SUBJECT=$(subject "$certs/alice.pem")
ID_MAPPED=6c3f0b2a9d1e4f58a7c2e81b5d9046f1
ID_REFUSED=b81d7e4c02a94f3e9c65d1f0a3e7b264

# --- certmapd, journald form
if start_sink /run/systemd/journal/socket; then ok "listener at journald's socket"; else ko "listener"; finish; exit 1; fi
require_daemon "daemon starts" "$tmp/certmap.conf"
map "$certs/alice.pem"; map "$certs/alice.pem"; settle
snap
expect_entries "mapped: one journal entry with its fields" 1 "MESSAGE_ID=$ID_MAPPED" \
    CERTMAP_VERDICT=mapped CERTMAP_USER=alice CERTMAP_RULE=upn CERTMAP_DOMAIN=local \
    "CERTMAP_CERT_SHA256=$ALICE" "CERTMAP_SUBJECT=$ALICE_SUBJECT" CERTMAP_PEER_UID=0 \
    CERTMAP_CACHED=no SYSLOG_IDENTIFIER=certmapd PRIORITY=5
expect_entries "a cached answer is logged too" 1 "MESSAGE_ID=$ID_MAPPED" CERTMAP_USER=alice \
    "CERTMAP_CERT_SHA256=$ALICE" "CERTMAP_SUBJECT=$ALICE_SUBJECT" CERTMAP_CACHED=yes
if grep -q '^CERTMAP_ISSUER=.*CN=' "$tmp/snap" && grep -q '^CERTMAP_PEER_PID=[1-9][0-9]*|$' "$tmp/snap" &&
    grep -q '^CERTMAP_TIME_US=[0-9][0-9]*|$' "$tmp/snap"; then
	ok "issuer, peer pid and time taken"
else
	ko "issuer, peer pid and time taken"; cat "$sink"
fi
if grep -q '^MESSAGE=decision mapped user="alice" rule="upn" domain="local" cert_sha256=' "$sink"; then
	ok "MESSAGE is the syslog line"
else
	ko "MESSAGE is the syslog line"; cat "$sink"
fi
if grep -q "^SYSLOG .* decision " "$sink"; then ko "nothing to syslog while journald listens"; else ok "nothing to syslog while journald listens"; fi
# journald restarted (a new socket at the same path): certmapd's connected
# socket is pointed at it, and no record is lost meanwhile.
stop_sink
start_sink /run/systemd/journal/socket
for i in 1 2 3 4 5 6; do map "$certs/alice.pem"; sleep 0.1; done
settle
snap
expect_entries "records reach a restarted journald" 6 "MESSAGE_ID=$ID_MAPPED" CERTMAP_USER=alice \
    CERTMAP_CACHED=yes CERTMAP_PEER_UID=0

# --- repeated refusals: 5 per certificate and reason in 10 s, then a count
: > "$sink"
for i in 1 2 3 4 5 6 7 8; do map "$certs/untrusted.pem"; done
settle
snap
expect_entries "refusals logged up to the burst" 5 "MESSAGE_ID=$ID_REFUSED" \
    CERTMAP_VERDICT=refused CERTMAP_REASON=untrusted "CERTMAP_CERT_SHA256=$UNTRUSTED"
expect_entries "the first refusal was computed" 1 CERTMAP_REASON=untrusted CERTMAP_CACHED=no
sleep 10
: > "$sink"
map "$certs/untrusted.pem"; settle
snap
expect_entries "after the window: how many were suppressed" 1 "MESSAGE_ID=$ID_REFUSED" \
    CERTMAP_REASON=untrusted CERTMAP_SUPPRESSED=3
stop_daemon
stop_sink

# --- certmapd, syslog form (no journald socket)
start_sink "$tmp/not-journald"
if start_daemon "$tmp/certmap.conf"; then ok "daemon starts without journald"; else ko "daemon starts"; cat "$tmp/log"; fi
map "$certs/alice.pem"; settle
if grep -q "^SYSLOG <[0-9]*>.*certmapd\[[0-9]*\]: decision mapped user=\"alice\" rule=\"upn\" domain=\"local\" cert_sha256=$ALICE subject=\"$ALICE_SUBJECT\" issuer=\".*CN=.*\" peer_uid=0 peer_pid=[0-9]* cached=no time_us=[0-9]*$" "$sink"; then
	ok "syslog: the same words on /dev/log"
else
	ko "syslog: the same words on /dev/log"; cat "$sink"
fi
if grep -q '^MESSAGE' "$sink"; then ko "no journal entry without journald"; else ok "no journal entry without journald"; fi
# A cached answer's record has the words of the decision it repeats: only
# the peer's pid, cached and the time differ (a refusal's message too).
: > "$sink"
# (revoked.pem maps to alice here: this configuration has no CRL.)
map "$certs/revoked.pem"; map "$certs/revoked.pem"
map "$certs/untrusted.pem"; map "$certs/untrusted.pem"; settle
words() { grep "^SYSLOG .*decision .*cached=$1 " "$sink" | grep -F -- "$2" |
	sed 's/^SYSLOG <[0-9]*>[^]]*\]: //; s/ peer_pid=[0-9]*//; s/ cached=[a-z]*//; s/ time_us=[0-9]*//'; }
for c in "$(sha256 "$certs/revoked.pem")" "$UNTRUSTED"; do
	live=$(words no "$c"); cached=$(words yes "$c")
	if [ -n "$cached" ] && [ -n "$live" ] && [ "$cached" = "$live" ]; then
		ok "cached record, same words as the decision (${c%"${c#????????}"})"
	else
		ko "cached record, same words as the decision"; printf '%s\n--\n%s\n' "$live" "$cached"; cat "$sink"
	fi
done
stop_daemon
stop_sink

# --- the syslog socket appears after certmapd started: found without a restart
rm -f /dev/log
if start_daemon "$tmp/certmap.conf"; then ok "daemon starts without /dev/log"; else ko "daemon starts without /dev/log"; cat "$tmp/log"; fi
map "$certs/alice.pem"
start_sink "$tmp/not-journald"
i=0
while ! grep -q "^SYSLOG .* decision " "$sink" && [ $i -lt 50 ]; do
	map "$certs/alice.pem"; sleep 0.1; i=$((i + 1))
done
if grep -q "^SYSLOG <[0-9]*>.*certmapd\[[0-9]*\]: decision mapped user=\"alice\"" "$sink"; then
	ok "records reach a /dev/log that appeared later"
else
	ko "records reach a /dev/log that appeared later"; cat "$sink"
fi
stop_sink
# ... and one that is restarted (a new socket at the same path).
start_sink "$tmp/not-journald"
i=0
while ! grep -q "^SYSLOG .* decision " "$sink" && [ $i -lt 50 ]; do
	map "$certs/alice.pem"; sleep 0.1; i=$((i + 1))
done
if grep -q "^SYSLOG .* decision mapped" "$sink"; then ok "records reach a restarted syslog daemon"; else ko "records reach a restarted syslog daemon"; cat "$sink"; fi
stop_daemon
stop_sink

# --- pam_certmap.so through the real libpam: PAM service and remote host
mkdir "$tmp/pam.d"
printf 'auth required %s config=%s\n' "$MODULE" "$tmp/certmap.conf" > "$tmp/pam.d/audit-svc"
pam() { sh "$srcdir/tests/lib/nsswrap.sh" "$DRIVER" -d "$tmp/pam.d" -s audit-svc -r "$1" -f "SSL_CLIENT_CERT=$2" auth > "$tmp/pam.out" 2>&1; }
start_sink /run/systemd/journal/socket
pam client.example "$certs/alice.pem"
pam other.example "$certs/untrusted.pem"
settle
snap
expect_entries "PAM mapped: journal fields" 1 "MESSAGE_ID=$ID_MAPPED" SYSLOG_IDENTIFIER=pam_certmap \
    CERTMAP_VERDICT=mapped CERTMAP_USER=alice CERTMAP_PAM_SERVICE=audit-svc \
    CERTMAP_PAM_RHOST=client.example "CERTMAP_CERT_SHA256=$ALICE" "CERTMAP_SUBJECT=$ALICE_SUBJECT" \
    CERTMAP_CACHED=no
expect_entries "PAM refused: journal fields" 1 "MESSAGE_ID=$ID_REFUSED" CERTMAP_REASON=untrusted \
    CERTMAP_PAM_SERVICE=audit-svc CERTMAP_PAM_RHOST=other.example "CERTMAP_CERT_SHA256=$UNTRUSTED"
if grep -q '^MESSAGE=PAM_SUCCESS verdict=mapped user="alice"' "$sink"; then ok "PAM MESSAGE"; else ko "PAM MESSAGE"; cat "$sink" "$tmp/pam.out"; fi
stop_sink
start_sink "$tmp/not-journald"
pam client.example "$certs/alice.pem"; settle
if grep -q "^SYSLOG <[0-9]*>.*pam_certmap(audit-svc:auth): PAM_SUCCESS verdict=mapped user=\"alice\" .*cert_sha256=$ALICE subject=\"$ALICE_SUBJECT\" .*service=\"audit-svc\" rhost=\"client.example\" cached=no time_us=[0-9]*$" "$sink"; then
	ok "PAM syslog: pam_syslog line on /dev/log"
else
	ko "PAM syslog: pam_syslog line on /dev/log"; cat "$sink" "$tmp/pam.out"
fi
stop_sink

finish
