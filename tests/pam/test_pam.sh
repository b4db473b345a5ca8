#!/bin/sh
# pam_certmap.so through the real libpam: the built module is loaded by
# absolute path from a test PAM service directory (pam_start_confdir, via
# tests/pam/pam_driver), with nss_wrapper accounts and the suite's CA.
# Asserts exact return codes, PAM_USER and the exported environment.
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"

MODULE="$builddir/.libs/pam_certmap.so"
DRIVER="$builddir/tests/pam/pam_driver"
STUB="$builddir/tests/pam/stub_certmapd"

tmp=$(mktemp -d "$builddir/tests/tmp-pam.XXXXXX")
# Unix socket paths are short (108 bytes): keep the sockets in /tmp.
sockdir=$(mktemp -d "${TMPDIR:-/tmp}/cmpam.XXXXXX")
stub_pid=
cleanup() {
	[ -n "$stub_pid" ] && kill "$stub_pid" 2>/dev/null
	rm -rf "$tmp" "$sockdir"
}
trap cleanup EXIT

cat > "$tmp/passwd" <<'EOF'
alice:x:1000:1000:Alice:/home/alice:/bin/sh
bob:x:1001:1001:Bob:/home/bob:/bin/sh
erin:x:1002:1002:Erin:/home/erin:/bin/sh
erin2:x:1003:1003:Erin 2:/home/erin2:/bin/sh
root:x:0:0:root:/root:/bin/sh
EOF
printf 'alice:x:1000:\nbob:x:1001:\nerin:x:1002:\nerin2:x:1003:\ndev:x:2000:alice\n' > "$tmp/group"
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
sed 's/<EKU>clientAuth/<ISSUER>^CN=nobody$/' "$tmp/certmap.conf" > "$tmp/norule.conf"

# One PAM service per module configuration.
pamd="$tmp/pam.d"
mkdir "$pamd"
service() {
	name=$1; shift
	{
		echo "auth required $MODULE $*"
		echo "account required $MODULE $*"
	} > "$pamd/$name"
}
service certmap "config=$tmp/certmap.conf"
service debug "config=$tmp/certmap.conf debug"
service unknown "config=$tmp/certmap.conf frobnicate=1"
service unknownflag "config=$tmp/certmap.conf debugx"
service typo "sokcet=$sockdir/nobody-listens"
service typo-ignore "sokcet=$sockdir/nobody-listens ignore_no_cert"
service nocfg "config=$tmp/nonexistent.conf"
service norule "config=$tmp/norule.conf"
service relcfg "config=certmap.conf"
service mycert "config=$tmp/certmap.conf cert_env=MY_CERT upn_hint_env=MY_UPN"
service badenv "config=$tmp/certmap.conf cert_env=MY-CERT"
service flagval "config=$tmp/certmap.conf debug=yes"
service both "config=$tmp/certmap.conf socket=$sockdir/s"
service sock-down "socket=$sockdir/nobody-listens"
service sock-stub "socket=$sockdir/stub timeout=1"
service badtimeout "socket=$sockdir/stub timeout=0"
service bigtimeout "socket=$sockdir/stub timeout=301"
service signtimeout "socket=$sockdir/stub timeout=-5"
echo "auth required pam_deny.so" > "$pamd/other"
# PAM_IGNORE never reaches the application: after an ignoring module,
# pam_permit decides; any other result of ours ends the stack with our code.
# (pam_permit asks for a user name when there is none: the tests give one.)
cat > "$pamd/ignore" <<EOF
auth [success=done ignore=ignore default=die] $MODULE config=$tmp/certmap.conf ignore_no_cert
auth required pam_permit.so
EOF

# pam_run SERVICE ARGS... : the driver's output in $out. A driver that
# fails (a sanitizer report, a crash in the module) is a failed check.
pam_run() {
	svc=$1; shift
	out=$(sh "$srcdir/tests/lib/nsswrap.sh" "$DRIVER" -d "$pamd" -s "$svc" "$@" 2>&1) && rc=0 || rc=$?
	if [ "$rc" -ne 0 ]; then
		ko "driver for $svc $* exited $rc"; printf '%s\n' "$out" | head -40
	fi
}

# expect_line NAME LINE : the last output has exactly this line.
expect_line() {
	if printf '%s\n' "$out" | grep -qxF -- "$2"; then
		ok "$1"
	else
		ko "$1 (no line '$2')"; printf '%s\n' "$out" | head -20
	fi
}

# expect_log NAME TEXT : the module logged a line that holds TEXT (the
# driver copies pam_syslog to stderr).
expect_log() {
	if printf '%s\n' "$out" | grep -q "pam_certmap(.*): .*$(printf '%s' "$2" | sed 's/[][\.*^$]/\\&/g')"; then
		ok "$1"
	else
		ko "$1 (no log line with '$2')"; printf '%s\n' "$out" | head -20
	fi
}

# expect_denied NAME : PAM_USER untouched, no CERTMAP_* variables.
expect_clean() {
	expect_line "$1: CERTMAP_GROUPS unset" "CERTMAP_GROUPS=(unset)"
	expect_line "$1: CERTMAP_RULE unset" "CERTMAP_RULE=(unset)"
}

C="SSL_CLIENT_CERT"

# --- the module itself
expect_exit "dlopen RTLD_NOW" 0 "$DRIVER" --dlopen "$MODULE"
expect_out "dlopen finds the hooks" "dlopen ok"
exports=$(nm -D --defined-only "$MODULE" | awk '{print $3}' | sort | tr '\n' ' ')
if [ "$exports" = "pam_sm_acct_mgmt pam_sm_authenticate pam_sm_setcred " ]; then
	ok "only pam_sm_* exported"
else
	ko "only pam_sm_* exported (exports: $exports)"
fi

# libpam unloads modules at pam_end(); libcertmap's once-per-process state
# must not be lost (and leaked) with every handle.
if readelf -d "$MODULE" | grep -q 'Flags:.*NODELETE'; then
	ok "module stays loaded (NODELETE)"
else
	ko "module stays loaded (NODELETE)"
fi

# --- the certificate decoder's fuzz corpus (seeds and regressions)
expect_exit "replay cert_env corpus" 0 "$builddir/tests/pam/replay_cert_env" "$srcdir/tests/pam/corpus/cert_env"
expect_exit "replay hint_env corpus" 0 "$builddir/tests/pam/replay_hint_env" "$srcdir/tests/pam/corpus/hint_env"

# --- mapped
pam_run certmap -f "$C=$certs/alice.pem" auth
expect_line "alice maps" "auth: PAM_SUCCESS"
expect_line "PAM_USER set when empty" "PAM_USER=alice"
expect_line "groups exported" "CERTMAP_GROUPS=alice,dev"
expect_line "rule exported" "CERTMAP_RULE=upn"
expect_line "never prompts" "conversations=0"

pam_run certmap -u alice -f "$C=$certs/alice.pem" auth acct setcred
expect_line "requested alice: auth" "auth: PAM_SUCCESS"
expect_line "requested alice: account" "acct: PAM_SUCCESS"
expect_line "requested alice: setcred" "setcred: PAM_SUCCESS"
expect_line "requested alice: PAM_USER" "PAM_USER=alice"
expect_line "requested alice: groups" "CERTMAP_GROUPS=alice,dev"

# --- the certificate's forms in the environment
oneline=$(tr -d '\n' < "$certs/alice.pem")
pam_run certmap -e "$C=$oneline" auth
expect_line "PEM on one line" "auth: PAM_SUCCESS"
spaced=$(tr '\n' ' ' < "$certs/alice.pem")
pam_run certmap -e "$C=$spaced" auth
expect_line "PEM with spaces for line breaks" "auth: PAM_SUCCESS"
sed 's/$/\r/' "$certs/alice.pem" > "$tmp/alice-crlf.pem"
pam_run certmap -f "$C=$tmp/alice-crlf.pem" auth
expect_line "PEM with CRLF" "auth: PAM_SUCCESS"
pam_run certmap -e "$C=$(base64 -w0 "$certs/alice.der")" auth
expect_line "base64 DER" "auth: PAM_SUCCESS"
expect_line "base64 DER: PAM_USER" "PAM_USER=alice"
pam_run certmap -e "$C=$(base64 "$certs/alice.der")" auth
expect_line "base64 DER with line breaks" "auth: PAM_SUCCESS"
pam_run mycert -e "MY_CERT=$oneline" auth
expect_line "cert_env= names the variable" "auth: PAM_SUCCESS"
pam_run mycert -f "$C=$certs/alice.pem" auth
expect_line "cert_env=: the default variable is not read" "auth: PAM_CRED_INSUFFICIENT"

# --- requested user
pam_run certmap -u bob -f "$C=$certs/alice.pem" auth
expect_line "wrong requested user" "auth: PAM_AUTH_ERR"
expect_line "wrong requested user: PAM_USER kept" "PAM_USER=bob"
expect_clean "wrong requested user"
pam_run certmap -u nosuchuser -f "$C=$certs/alice.pem" auth
expect_line "requested user without account" "auth: PAM_AUTH_ERR"

# --- no certificate
pam_run certmap auth
expect_line "no certificate" "auth: PAM_CRED_INSUFFICIENT"
expect_line "no certificate: PAM_USER unset" "PAM_USER=(unset)"
expect_clean "no certificate"
pam_run certmap -e "$C=" auth
expect_line "empty certificate variable" "auth: PAM_CRED_INSUFFICIENT"
pam_run ignore -u bob auth setcred
expect_line "no certificate with ignore_no_cert: PAM_IGNORE" "auth: PAM_SUCCESS"
expect_line "ignore_no_cert: PAM_USER untouched" "PAM_USER=bob"
expect_line "ignore_no_cert: setcred follows" "setcred: PAM_SUCCESS"
expect_line "ignore_no_cert: never prompts" "conversations=0"
expect_clean "ignore_no_cert"
pam_run ignore -u bob -e "$C=garbage!" auth
expect_line "ignore_no_cert does not ignore a bad certificate" "auth: PAM_AUTH_ERR"
pam_run ignore -u bob -f "$C=$certs/expired.pem" auth
expect_line "ignore_no_cert does not ignore a refusal" "auth: PAM_AUTH_ERR"

# --- malformed certificates
pam_run certmap -e "$C=garbage!" auth
expect_line "not base64" "auth: PAM_AUTH_ERR"
expect_line "not base64: PAM_USER unset" "PAM_USER=(unset)"
expect_clean "not base64"
head -n 5 "$certs/alice.pem" > "$tmp/cut.pem"
pam_run certmap -f "$C=$tmp/cut.pem" auth
expect_line "PEM without END line" "auth: PAM_AUTH_ERR"
sed '3s/./*/' "$certs/alice.pem" > "$tmp/star.pem"
pam_run certmap -f "$C=$tmp/star.pem" auth
expect_line "PEM with a non-base64 byte" "auth: PAM_AUTH_ERR"
{ echo '-----BEGIN CERTIFICATE-----'; printf 'not a certificate at all' | base64; echo '-----END CERTIFICATE-----'; } > "$tmp/notcert.pem"
pam_run certmap -f "$C=$tmp/notcert.pem" auth
expect_line "PEM of bytes that are not a certificate" "auth: PAM_AUTH_ERR"
cat "$certs/alice.pem" "$certs/alice.pem" > "$tmp/two.pem"
pam_run certmap -f "$C=$tmp/two.pem" auth
expect_line "two PEM blocks" "auth: PAM_AUTH_ERR"
sed 's/CERTIFICATE/PRIVATE KEY/' "$certs/alice.pem" > "$tmp/key.pem"
pam_run certmap -f "$C=$tmp/key.pem" auth
expect_line "another PEM type" "auth: PAM_AUTH_ERR"
head -c 200000 /dev/zero | tr '\0' 'A' > "$tmp/huge.b64"
pam_run certmap -f "$C=$tmp/huge.b64" auth
expect_line "oversized certificate text" "auth: PAM_AUTH_ERR"
expect_clean "oversized certificate text"

# --- refusals
pam_run certmap -f "$C=$certs/expired.pem" auth
expect_line "expired" "auth: PAM_AUTH_ERR"
expect_line "expired: PAM_USER unset" "PAM_USER=(unset)"
expect_clean "expired"
pam_run certmap -u alice -f "$C=$certs/untrusted.pem" auth
expect_line "untrusted" "auth: PAM_AUTH_ERR"
expect_clean "untrusted"
pam_run certmap -f "$C=$certs/multisan.pem" auth
expect_line "ambiguous" "auth: PAM_AUTH_ERR"
expect_line "ambiguous: PAM_USER unset" "PAM_USER=(unset)"
expect_clean "ambiguous"
pam_run certmap -u erin2 -f "$C=$certs/multisan.pem" auth
expect_line "requested user picks a candidate" "auth: PAM_SUCCESS"
expect_line "requested user picks a candidate: groups" "CERTMAP_GROUPS=erin2"
pam_run certmap -f "$C=$certs/multisan.pem" -e "SSL_CLIENT_UPN_HINT=erin2@EXAMPLE.COM" auth
expect_line "UPN hint picks a candidate" "auth: PAM_SUCCESS"
expect_line "UPN hint picks a candidate: PAM_USER" "PAM_USER=erin2"
pam_run certmap -f "$C=$certs/alice.pem" -e "SSL_CLIENT_UPN_HINT=bob@EXAMPLE.COM" auth
expect_line "UPN hint never adds a candidate" "auth: PAM_AUTH_ERR"
pam_run certmap -f "$C=$certs/alice.pem" -e "SSL_CLIENT_DOMAIN_HINT=$(printf 'EXAMPLE\tCOM')" auth
expect_line "invalid domain hint" "auth: PAM_AUTH_ERR"
expect_clean "invalid domain hint"
pam_run mycert -e "MY_CERT=$oneline" -e "MY_UPN=bob@EXAMPLE.COM" auth
expect_line "upn_hint_env= names the variable" "auth: PAM_AUTH_ERR"
# --- RFC 4681 user-mapping data (base64) named by user_mapping_data_env=
service hintdata "config=$tmp/certmap.conf user_mapping_data_env=MY_HINT"
service badhintenv "config=$tmp/certmap.conf user_mapping_data_env=MY-HINT"
hint_b64() { ctl hint encode "$@" | perl -ne 'chomp; print pack("H*", $_)' | "$OPENSSL" base64 -A; }
ERIN2_B64=$(hint_b64 --upn erin2@EXAMPLE.COM)
pam_run hintdata -f "$C=$certs/multisan.pem" -e "MY_HINT=$ERIN2_B64" auth
expect_line "user-mapping data picks a candidate" "auth: PAM_SUCCESS"
expect_line "user-mapping data picks a candidate: PAM_USER" "PAM_USER=erin2"
pam_run hintdata -f "$C=$certs/multisan.pem" auth
expect_line "no user-mapping data: ambiguous" "auth: PAM_AUTH_ERR"
pam_run hintdata -f "$C=$certs/multisan.pem" -e "MY_HINT=" auth
expect_line "empty user-mapping data: no hint, ambiguous" "auth: PAM_AUTH_ERR"
pam_run certmap -f "$C=$certs/multisan.pem" -e "MY_HINT=$ERIN2_B64" auth
expect_line "without the option the variable is not read" "auth: PAM_AUTH_ERR"
pam_run hintdata -f "$C=$certs/alice.pem" -e "MY_HINT=$(hint_b64 --upn bob@EXAMPLE.COM)" auth
expect_line "user-mapping data never adds a candidate" "auth: PAM_AUTH_ERR"
expect_line "user-mapping data never adds a candidate: PAM_USER unset" "PAM_USER=(unset)"
pam_run hintdata -f "$C=$certs/multisan.pem" -e "MY_HINT=$(ctl hint encode --upn erin2@EXAMPLE.COM | sed 's/$/00/' | perl -ne 'chomp; print pack("H*", $_)' | "$OPENSSL" base64 -A)" auth
expect_line "malformed user-mapping data" "auth: PAM_AUTH_ERR"
expect_log "malformed user-mapping data: logged" "hint_invalid"
expect_clean "malformed user-mapping data"
pam_run hintdata -f "$C=$certs/multisan.pem" -e "MY_HINT=@@@@" auth
expect_line "user-mapping data not base64" "auth: PAM_AUTH_ERR"
expect_log "user-mapping data not base64: logged" "not base64"
pam_run hintdata -f "$C=$certs/multisan.pem" -e "MY_HINT=$ERIN2_B64" -e "SSL_CLIENT_UPN_HINT=erin@EXAMPLE.COM" auth
expect_line "user-mapping data and a UPN hint together" "auth: PAM_AUTH_ERR"
pam_run badhintenv -f "$C=$certs/multisan.pem" auth
expect_line "user_mapping_data_env= with a bad name" "auth: PAM_SERVICE_ERR"
pam_run certmap -f "$C=$certs/root.pem" auth
expect_line "uid 0" "auth: PAM_AUTH_ERR"
expect_line "uid 0: PAM_USER unset" "PAM_USER=(unset)"
expect_clean "uid 0"
pam_run certmap -u root -f "$C=$certs/root.pem" auth
expect_line "uid 0 requested" "auth: PAM_AUTH_ERR"
pam_run certmap -f "$C=$certs/multirdn.pem" auth
expect_line "no account" "auth: PAM_USER_UNKNOWN"
expect_clean "no account"
pam_run norule -f "$C=$certs/alice.pem" auth
expect_line "no rule matched" "auth: PAM_USER_UNKNOWN"
expect_clean "no rule matched"
pam_run certmap -f "$C=$certs/serverauth.pem" auth
expect_line "EKU missing" "auth: PAM_AUTH_ERR"

# --- the environment is ours only on success
pam_run certmap -e "CERTMAP_GROUPS=wheel" -e "CERTMAP_RULE=forged" -f "$C=$certs/expired.pem" auth
expect_line "forged variables: denied" "auth: PAM_AUTH_ERR"
expect_clean "forged variables removed"
pam_run certmap -e "CERTMAP_GROUPS=wheel" -f "$C=$certs/alice.pem" auth
expect_line "forged groups replaced" "CERTMAP_GROUPS=alice,dev"

# --- CERTMAP_GROUPS stays a list that splits on commas: a group whose
# name holds a comma ("x,wheel" would read as membership of wheel) is left
# out and logged.
printf 'wheel:x:10:\nx,wheel:x:3000:alice\n' | cat "$tmp/group" - > "$tmp/group-comma"
NSS_WRAPPER_GROUP="$tmp/group-comma"
pam_run certmap -f "$C=$certs/alice.pem" auth
expect_line "group with a comma: still mapped" "auth: PAM_SUCCESS"
expect_line "group with a comma: left out" "CERTMAP_GROUPS=alice,dev"
expect_log "group with a comma: logged" 'group "x,wheel" of user "alice" left out of CERTMAP_GROUPS'
printf 'alice:x:1000:\ndev:x:2000:alice\n,:x:3001:alice\nx,:x:3002:alice\n,wheel:x:3003:alice\n' > "$tmp/group-commas"
NSS_WRAPPER_GROUP="$tmp/group-commas"
pam_run certmap -u alice -f "$C=$certs/alice.pem" auth acct
expect_line "groups named , x, ,wheel: left out" "CERTMAP_GROUPS=alice,dev"
expect_line "groups named , x, ,wheel: account" "acct: PAM_SUCCESS"
printf 'x,alice:x:1000:\ndev:x:2000:alice\n' > "$tmp/group-primary"
NSS_WRAPPER_GROUP="$tmp/group-primary"
pam_run certmap -f "$C=$certs/alice.pem" auth
expect_line "primary group with a comma: left out" "CERTMAP_GROUPS=dev"
NSS_WRAPPER_GROUP="$tmp/group"

# --- account
pam_run certmap -u alice -f "$C=$certs/alice.pem" acct
expect_line "account alice" "acct: PAM_SUCCESS"
pam_run certmap -u bob -f "$C=$certs/alice.pem" acct
expect_line "account wrong user" "acct: PAM_AUTH_ERR"
expect_clean "account wrong user"
pam_run certmap -f "$C=$certs/alice.pem" acct
expect_line "account without PAM_USER" "acct: PAM_USER_UNKNOWN"
expect_line "account never sets PAM_USER" "PAM_USER=(unset)"
pam_run certmap -u alice acct
expect_line "account without certificate" "acct: PAM_CRED_INSUFFICIENT"
pam_run certmap -u alice -f "$C=$certs/expired.pem" acct
expect_line "account with expired certificate" "acct: PAM_AUTH_ERR"

# --- setcred
pam_run certmap -u alice setcred
expect_line "setcred without authenticate" "setcred: PAM_CRED_ERR"
pam_run certmap -f "$C=$certs/alice.pem" auth setcred
expect_line "setcred after authenticate" "setcred: PAM_SUCCESS"

# --- configuration and options
pam_run nocfg -f "$C=$certs/alice.pem" auth
expect_line "config missing" "auth: PAM_SERVICE_ERR"
expect_line "config missing: PAM_USER unset" "PAM_USER=(unset)"
expect_clean "config missing"
pam_run relcfg -f "$C=$certs/alice.pem" auth
expect_line "relative config path" "auth: PAM_SERVICE_ERR"
pam_run badenv -f "$C=$certs/alice.pem" auth
expect_line "bad variable name" "auth: PAM_SERVICE_ERR"
pam_run flagval -f "$C=$certs/alice.pem" auth
expect_line "flag with a value" "auth: PAM_SERVICE_ERR"
pam_run both -f "$C=$certs/alice.pem" auth
expect_line "config= and socket= together" "auth: PAM_SERVICE_ERR"
pam_run badtimeout -f "$C=$certs/alice.pem" auth
expect_line "timeout=0" "auth: PAM_SERVICE_ERR"
pam_run bigtimeout -f "$C=$certs/alice.pem" auth
expect_line "timeout over the limit" "auth: PAM_SERVICE_ERR"
pam_run signtimeout -f "$C=$certs/alice.pem" auth
expect_line "negative timeout" "auth: PAM_SERVICE_ERR"
pam_run debug -f "$C=$certs/alice.pem" auth
expect_line "debug" "auth: PAM_SUCCESS"
# An unknown option fails closed: "sokcet=" must not fall back to mapping
# in-process with the default configuration.
pam_run unknown -f "$C=$certs/alice.pem" auth acct
expect_line "unknown option: auth" "auth: PAM_SERVICE_ERR"
expect_line "unknown option: account" "acct: PAM_SERVICE_ERR"
expect_line "unknown option: PAM_USER unset" "PAM_USER=(unset)"
expect_clean "unknown option"
expect_log "unknown option: logged" "unknown option frobnicate=1"
pam_run unknownflag -f "$C=$certs/alice.pem" auth
expect_line "flag with a suffix" "auth: PAM_SERVICE_ERR"
expect_log "flag with a suffix: logged" "unknown option debugx"
pam_run typo -f "$C=$certs/alice.pem" auth
expect_line "sokcet= for socket=" "auth: PAM_SERVICE_ERR"
expect_log "sokcet= for socket=: logged" "unknown option sokcet=$sockdir/nobody-listens"
pam_run typo-ignore -u alice auth
expect_line "unknown option: ignore_no_cert does not ignore it" "auth: PAM_SERVICE_ERR"
pam_run nocfg auth
expect_line "no certificate is checked before the config" "auth: PAM_CRED_INSUFFICIENT"

# --- socket mode
pam_run sock-down -f "$C=$certs/alice.pem" auth
expect_line "certmapd down" "auth: PAM_AUTHINFO_UNAVAIL"
expect_line "certmapd down: PAM_USER unset" "PAM_USER=(unset)"
expect_clean "certmapd down"

# stub MODE: (re)starts the stand-in certmapd.
stub_stop() {
	[ -n "$stub_pid" ] && kill "$stub_pid" 2>/dev/null && wait "$stub_pid" 2>/dev/null
	stub_pid=
}
stub() {
	stub_stop
	rm -f "$sockdir/stub"
	"$STUB" "$sockdir/stub" "$1" > "$tmp/stub.log" 2>&1 &
	stub_pid=$!
	i=0
	while [ ! -S "$sockdir/stub" ] && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done
}
stub garbage
pam_run sock-stub -f "$C=$certs/alice.pem" auth
expect_line "certmapd garbage" "auth: PAM_AUTH_ERR"
expect_line "certmapd garbage: PAM_USER unset" "PAM_USER=(unset)"
expect_clean "certmapd garbage"
stub truncated
pam_run sock-stub -f "$C=$certs/alice.pem" auth
expect_line "certmapd truncated reply fails closed" "auth: PAM_AUTHINFO_UNAVAIL"
expect_clean "certmapd truncated reply"
stub mapped-other
pam_run sock-stub -u alice -f "$C=$certs/alice.pem" auth
expect_line "certmapd maps someone else" "auth: PAM_AUTH_ERR"
expect_line "certmapd maps someone else: PAM_USER kept" "PAM_USER=alice"
expect_clean "certmapd maps someone else"
stub error-mapped
pam_run sock-stub -f "$C=$certs/alice.pem" auth
expect_line "an error reply claiming a mapping is not one" "auth: PAM_AUTHINFO_UNAVAIL"
expect_line "error reply: PAM_USER unset" "PAM_USER=(unset)"
expect_clean "error reply claiming a mapping"
stub silent
pam_run sock-stub -f "$C=$certs/alice.pem" auth
expect_line "certmapd silent: timeout" "auth: PAM_AUTHINFO_UNAVAIL"
expect_clean "certmapd silent"
stub_stop

# --- a real certmapd (socket mode end to end)
if [ -x "$builddir/certmapd" ]; then
	cp "$tmp/certmap.conf" "$tmp/certmapd.conf"
	echo "service = { socket = \"$sockdir/certmapd\"; user = \"root\"; allowed_uids = [ $(id -u) ]; };" >> "$tmp/certmapd.conf"
	# certmapd sees the group "x,wheel" too: its answer lists it, the
	# module leaves it out.
	NSS_WRAPPER_GROUP="$tmp/group-comma" \
	sh "$srcdir/tests/lib/nsswrap.sh" "$builddir/certmapd" -f -c "$tmp/certmapd.conf" > "$tmp/certmapd.log" 2>&1 &
	stub_pid=$!
	i=0
	while [ ! -S "$sockdir/certmapd" ] && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done
	service sock "socket=$sockdir/certmapd"
	pam_run sock -f "$C=$certs/alice.pem" auth
	expect_line "certmapd maps alice" "auth: PAM_SUCCESS"
	expect_line "certmapd maps alice: PAM_USER" "PAM_USER=alice"
	expect_line "certmapd maps alice: groups" "CERTMAP_GROUPS=alice,dev"
	expect_line "certmapd maps alice: rule" "CERTMAP_RULE=upn"
	expect_log "certmapd: group with a comma logged" 'group "x,wheel" of user "alice" left out'
	pam_run sock -u bob -f "$C=$certs/alice.pem" auth acct
	expect_line "certmapd: wrong requested user" "auth: PAM_AUTH_ERR"
	expect_line "certmapd: wrong requested user, account" "acct: PAM_AUTH_ERR"
	expect_clean "certmapd: wrong requested user"
	pam_run sock -f "$C=$certs/multirdn.pem" auth
	expect_line "certmapd: no account" "auth: PAM_USER_UNKNOWN"
	pam_run sock -f "$C=$certs/root.pem" auth
	expect_line "certmapd: uid 0" "auth: PAM_AUTH_ERR"
	pam_run sock -f "$C=$certs/multisan.pem" auth
	expect_line "certmapd: ambiguous" "auth: PAM_AUTH_ERR"
	service sockhint "socket=$sockdir/certmapd user_mapping_data_env=MY_HINT"
	pam_run sockhint -f "$C=$certs/multisan.pem" -e "MY_HINT=$ERIN2_B64" auth
	expect_line "certmapd: user-mapping data picks a candidate" "auth: PAM_SUCCESS"
	expect_line "certmapd: user-mapping data picks a candidate: PAM_USER" "PAM_USER=erin2"
	pam_run sockhint -f "$C=$certs/multisan.pem" -e "MY_HINT=AAA=" auth
	expect_line "certmapd: malformed user-mapping data" "auth: PAM_AUTH_ERR"
	expect_log "certmapd: malformed user-mapping data: logged" "hint_invalid"
	pam_run sock -e "$C=garbage!" auth
	expect_line "certmapd: malformed certificate" "auth: PAM_AUTH_ERR"
	stub_stop
	pam_run sock -f "$C=$certs/alice.pem" auth
	expect_line "certmapd stopped" "auth: PAM_AUTHINFO_UNAVAIL"
	expect_clean "certmapd stopped"
else
	echo "SKIP: certmapd is not built"
fi

# --- unchanged PAM applications: the pam_putenv example of doc/examples and
# pamtester, the way README tells to test a stack. pam_wrapper makes their
# pam_start() read the services from $pamd instead of /etc/pam.d.
pamwrap=
for d in /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /usr/lib; do
	if [ -f "$d/libpam_wrapper.so" ]; then
		pamwrap="$d/libpam_wrapper.so"
		break
	fi
done
app() {
	LD_PRELOAD="$pamwrap" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$pamd" \
		sh "$srcdir/tests/lib/nsswrap.sh" "$@"
}
if [ -n "$pamwrap" ]; then
	CLIENT="$builddir/doc/examples/pam-client"
	expect_exit "pam-client: alice" 0 app "$CLIENT" certmap "$certs/alice.pem"
	expect_out "pam-client: alice mapped" "user alice, groups alice,dev"
	expect_exit "pam-client: alice as herself" 0 app "$CLIENT" certmap "$certs/alice.pem" alice
	expect_exit "pam-client: alice as bob" 1 app "$CLIENT" certmap "$certs/alice.pem" bob
	expect_out "pam-client: alice as bob refused" "login refused: Authentication failure"
	expect_exit "pam-client: expired" 1 app "$CLIENT" certmap "$certs/expired.pem"
	expect_exit "pam-client: no such file" 2 app "$CLIENT" certmap "$tmp/nonexistent.pem"
	if command -v pamtester > /dev/null; then
		expect_exit "pamtester: alice" 0 app pamtester -E "$C=$(cat "$certs/alice.pem")" \
			certmap alice authenticate acct_mgmt
		expect_out "pamtester: authenticated" "pamtester: successfully authenticated"
		expect_out "pamtester: account" "pamtester: account management done."
		expect_exit "pamtester: alice as bob" 1 app pamtester -E "$C=$(cat "$certs/alice.pem")" \
			certmap bob authenticate
		expect_exit "pamtester: no certificate" 1 app pamtester certmap alice authenticate
		expect_out "pamtester: no certificate refused" "Insufficient credentials"
	else
		echo "SKIP: pamtester is not installed"
	fi
else
	echo "SKIP: pam_wrapper is not installed"
fi

# --- the shipped PAM snippets, with the built module and the test config
sed -e "s|pam_certmap.so config=/etc/certmap/certmap.conf|$MODULE config=$tmp/certmap.conf|" \
	"$srcdir/conf/pam.d/certmap-webapp" > "$pamd/webapp"
pam_run webapp -f "$C=$certs/alice.pem" auth acct
expect_line "webapp snippet: auth" "auth: PAM_SUCCESS"
expect_line "webapp snippet: account" "acct: PAM_SUCCESS"
expect_line "webapp snippet: PAM_USER" "PAM_USER=alice"
pam_run webapp auth
expect_line "webapp snippet: no certificate" "auth: PAM_CRED_INSUFFICIENT"
sed -e "s|pam_certmap.so socket=/run/certmapd/socket timeout=5|$MODULE config=$tmp/certmap.conf|" \
	"$srcdir/conf/pam.d/certmap-sshd-style" > "$pamd/sshd"
pam_run sshd -u alice -f "$C=$certs/alice.pem" auth
expect_line "sshd snippet: certificate" "auth: PAM_SUCCESS"
expect_line "sshd snippet: certificate, no password asked" "conversations=0"
pam_run sshd -u alice -f "$C=$certs/expired.pem" auth
expect_line "sshd snippet: refused certificate does not fall through" "auth: PAM_AUTH_ERR"
expect_line "sshd snippet: refused certificate, no password asked" "conversations=0"
pam_run sshd -u alice auth
expect_line "sshd snippet: no certificate falls back to a password" "conversations=1"


# --- a certificate-only identity (domain of type certificate): mapped by
# libcertmap and certmapd, but no account, so PAM refuses it and fails
# closed, in-process and through the real certmapd.
cat > "$tmp/certdom.conf" <<EOC
verify = { ca_file = "$certs/ca.pem"; };
domains = ( { name = "local"; type = "local"; },
  { name = "apps"; type = "certificate"; group_from = [ "{subject_dn_component.O}" ];
    group_map = ( { value = "Example"; group = "example"; } ); } );
rules = (
  { name = "upn"; priority = 10; map = "LOCAL:{subject_principal.short_name}"; domains = ["local"]; },
  { name = "cn"; priority = 20; map = "LOCAL:{subject_dn_component.CN}"; domains = ["apps"]; }
);
service = { socket = "$sockdir/certmapd"; user = "root"; allowed_uids = [0, $(id -u)];
  timeout = 5; cache_ttl = 60; cache_size = 100; };
EOC
service certdom "config=$tmp/certdom.conf"
service certdom-sock "socket=$sockdir/certmapd timeout=5"
pam_run certdom -f "$C=$certs/multi-ou.pem" auth
expect_line "certificate-only identity refused: auth" "auth: PAM_AUTH_ERR"
expect_line "certificate-only identity: PAM_USER not set" "PAM_USER=(unset)"
expect_clean "certificate-only identity"
expect_log "certificate-only identity: the reason is logged" 'verdict=refused reason="no_account"' 
expect_log "certificate-only identity: the log says why" "certificate-only identity"
pam_run certdom -u mallory -f "$C=$certs/multi-ou.pem" auth acct
expect_line "certificate-only identity, requested by name: refused" "auth: PAM_AUTH_ERR"
expect_line "certificate-only identity, account hook: refused" "acct: PAM_AUTH_ERR"
pam_run certdom -f "$C=$certs/alice.pem" auth
expect_line "an account in the same configuration: mapped" "auth: PAM_SUCCESS"
sh "$srcdir/tests/lib/nsswrap.sh" "$builddir/certmapd" --foreground --config "$tmp/certdom.conf" > "$tmp/certmapd.log" 2>&1 &
certmapd_pid=$!
i=0
while [ ! -S "$sockdir/certmapd" ] && [ $i -lt 50 ] && kill -0 "$certmapd_pid" 2>/dev/null; do
	sleep 0.1; i=$((i + 1))
done
pam_run certdom-sock -f "$C=$certs/multi-ou.pem" auth
expect_line "certificate-only identity via certmapd: refused" "auth: PAM_AUTH_ERR"
expect_line "certificate-only identity via certmapd: PAM_USER not set" "PAM_USER=(unset)"
expect_clean "certificate-only identity via certmapd"
pam_run certdom-sock -f "$C=$certs/alice.pem" auth
expect_line "an account via the same certmapd: mapped" "auth: PAM_SUCCESS"
kill -TERM "$certmapd_pid" 2>/dev/null
wait "$certmapd_pid" 2>/dev/null

finish
