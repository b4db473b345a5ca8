#!/bin/sh
# Apache's mod_lookup_identity against certmapd's InfoPipe face, end to end:
# a private dbus-daemon (as test_infopipe.sh), certmapd on it, and apache2
# with its own ServerRoot on a loopback port, TLS client certificates from
# the suite's CA, LookupUserByCertificate, LookupUserGroups and
# LookupUserAttr, and a CGI that prints what Apache set. Needs apache2 and
# libapache2-mod-lookup-identity; skips without them.
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"

APACHE=/usr/sbin/apache2
MODS=/usr/lib/apache2/modules
for t in dbus-daemon busctl curl "$APACHE"; do
	if ! command -v "$t" > /dev/null 2>&1; then
		echo "SKIP: $t is not installed"
		exit 77
	fi
done
if [ ! -f "$MODS/mod_lookup_identity.so" ] || [ ! -f "$MODS/mod_ssl.so" ]; then
	echo "SKIP: mod_lookup_identity or mod_ssl missing (apt-get install apache2 libapache2-mod-lookup-identity)"
	exit 77
fi
if ! grep -q '^#define HAVE_SYSTEMD 1' "$builddir/config.h"; then
	echo "SKIP: certmapd was built without libsystemd (no D-Bus face)"
	exit 77
fi

CERTMAPD=${CERTMAPD:-$builddir/certmapd}
mkdir -p "$builddir/tests"
tmp=$(mktemp -d "$builddir/tests/tmp-apache.XXXXXX")
chmod 755 "$tmp"
sock="$tmp/sock"
pid=
bus_pid=
httpd_started=
stop_all() {
	if [ -n "$httpd_started" ] && [ -f "$tmp/httpd.pid" ]; then
		kill -TERM "$(cat "$tmp/httpd.pid")" 2>/dev/null
		i=0
		while [ -f "$tmp/httpd.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	fi
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	[ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap 'stop_all' EXIT
trap 'exit 1' INT TERM HUP

# Apache drops to User when started as root: www-data must resolve too.
if [ "$(id -u)" -eq 0 ]; then
	web_user=www-data web_uid=33 web_gid=33
else
	web_user=$(id -un) web_uid=$(id -u) web_gid=$(id -g)
fi
{
	printf 'alice:x:1000:1000:Alice Liddell:/home/alice:/bin/sh\nbob:x:1001:1001:Bob:/home/bob:/bin/sh\n'
	printf 'erin:x:1002:1002:Erin:/home/erin:/bin/sh\nerin2:x:1003:1003:Erin Two:/home/erin2:/bin/sh\n'
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n'
	[ "$web_uid" -ne 0 ] && [ "$web_user" != alice ] && printf '%s:x:%s:%s::/var/www:/bin/sh\n' "$web_user" "$web_uid" "$web_gid"
} > "$tmp/passwd"
printf 'alice:x:1000:\nbob:x:1001:\nerin:x:1002:\nerin2:x:1003:\ndev:x:2000:alice,erin2\nnogroup:x:65534:\nwebgrp:x:%s:\n' "$web_gid" > "$tmp/group"
NSS_WRAPPER_PASSWD="$tmp/passwd"; NSS_WRAPPER_GROUP="$tmp/group"
export NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP

# ---------------------------------------------------------------- the bus
{
	cat <<EOB
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$tmp/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
  <include>$srcdir/conf/certmapd-infopipe.conf</include>
EOB
	if [ "$(id -u)" -ne 0 ]; then
		printf '  <policy user="%s"><allow own="org.freedesktop.sssd.infopipe"/></policy>\n' "$(id -un)"
	fi
	echo '</busconfig>'
} > "$tmp/bus.conf"
dbus-daemon --nofork --config-file="$tmp/bus.conf" --print-address=3 3> "$tmp/bus.addr" 2> "$tmp/bus.log" &
bus_pid=$!
i=0
while [ ! -s "$tmp/bus.addr" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
# The path alone, without the daemon's guid: clients check a guid, and a
# restarted daemon has another one (as the real system bus address has none).
DBUS_SYSTEM_BUS_ADDRESS=unix:path=$tmp/bus
export DBUS_SYSTEM_BUS_ADDRESS
[ -s "$tmp/bus.addr" ] && ok "private dbus-daemon started" || { ko "dbus-daemon"; cat "$tmp/bus.log"; finish; exit 1; }

# ---------------------------------------------------------------- certmapd
write_config() { # $1: allowed_uids
	cat > "$tmp/certmap.conf" <<EOC
verify = { ca_file = "$certs/ca.pem"; crl_file = "$certs/crl.pem"; };
domains = ( { name = "local"; type = "local"; } );
rules = (
  { name = "upn"; priority = 10; match = "<EKU>clientAuth";
    map = "LOCAL:{subject_principal.short_name}"; domains = ["local"]; }
);
service = { socket = "$sock"; user = "root"; allowed_uids = $1; infopipe = true; };
EOC
}
start_certmapd() {
	sh "$srcdir/tests/lib/nsswrap.sh" "$CERTMAPD" --foreground --config "$tmp/certmap.conf" >> "$tmp/log" 2>&1 &
	pid=$!
	i=0
	while [ $i -lt 50 ] && kill -0 "$pid" 2>/dev/null &&
		! busctl --system list --no-legend 2>/dev/null | grep -q '^org\.freedesktop\.sssd\.infopipe '; do
		sleep 0.1; i=$((i + 1))
	done
	busctl --system list --no-legend 2>/dev/null | grep -q '^org\.freedesktop\.sssd\.infopipe '
}
write_config "[0, $web_uid]"
if start_certmapd; then ok "certmapd on the bus"; else ko "certmapd on the bus"; cat "$tmp/log"; finish; exit 1; fi

# ---------------------------------------------------------------- apache
port=$(( 20000 + $$ % 20000 ))
mkdir -p "$tmp/www/cgi" "$tmp/logs" "$tmp/run"
cat > "$tmp/www/cgi/who" <<'EOS'
#!/bin/sh
printf 'Content-Type: text/plain\n\n'
printf 'REMOTE_USER=%s\n' "${REMOTE_USER:-}"
printf 'GECOS=%s\n' "${REMOTE_USER_GECOS:-}"
printf 'GROUPS=%s\n' "${REMOTE_USER_GROUPS:-}"
printf 'HOME=%s\n' "${REMOTE_USER_HOME:-}"
printf 'UID=%s\n' "${REMOTE_USER_UID:-}"
printf 'MAIL=%s\n' "${REMOTE_USER_MAIL:-}"
EOS
chmod 755 "$tmp/www/cgi/who"
if [ "$(id -u)" -eq 0 ]; then
	user_lines="User $web_user
Group #$web_gid"
else
	user_lines=
fi
cat > "$tmp/httpd.conf" <<EOC
ServerRoot "$tmp"
ServerName localhost
Listen 127.0.0.1:$port
PidFile "$tmp/httpd.pid"
ErrorLog "$tmp/logs/error.log"
LogLevel warn lookup_identity:debug
DefaultRuntimeDir "$tmp/run"
Mutex file:$tmp/run default
$user_lines
LoadModule mpm_prefork_module $MODS/mod_mpm_prefork.so
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule authn_core_module $MODS/mod_authn_core.so
LoadModule socache_shmcb_module $MODS/mod_socache_shmcb.so
LoadModule ssl_module $MODS/mod_ssl.so
LoadModule cgi_module $MODS/mod_cgi.so
LoadModule alias_module $MODS/mod_alias.so
LoadModule lookup_identity_module $MODS/mod_lookup_identity.so
StartServers 1
MinSpareServers 1
MaxSpareServers 2
SSLSessionCache none
SSLEngine on
SSLCertificateFile "$certs/serverauth.pem"
SSLCertificateKeyFile "$certs/serverauth.key"
SSLCACertificateFile "$certs/ca.pem"
SSLVerifyClient require
SSLVerifyDepth 2
SSLUserName SSL_CLIENT_CERT
ScriptAlias /who "$tmp/www/cgi/who"
<Location /who>
  LookupUserByCertificate On
  LookupUserByCertificateParamName user
  LookupUserGECOS REMOTE_USER_GECOS
  LookupUserGroups REMOTE_USER_GROUPS :
  LookupUserAttr homeDirectory REMOTE_USER_HOME
  LookupUserAttr uidNumber REMOTE_USER_UID
  LookupUserAttr mail REMOTE_USER_MAIL
  Require all granted
</Location>
EOC
expect_exit "apache2 configuration is valid" 0 "$APACHE" -t -f "$tmp/httpd.conf"
# apache2 reads the environment of the process that starts it: the bus
# address (libdbus honours DBUS_SYSTEM_BUS_ADDRESS) and nss_wrapper.
sh "$srcdir/tests/lib/nsswrap.sh" "$APACHE" -f "$tmp/httpd.conf" -k start > "$tmp/apache.out" 2>&1
httpd_started=1
i=0
while ! curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && [ $i -lt 50 ] &&
	! grep -q "AH00016\|AH00015" "$tmp/logs/error.log" 2>/dev/null; do
	[ -f "$tmp/httpd.pid" ] && [ -s "$tmp/logs/error.log" ] && grep -q "resuming normal operations" "$tmp/logs/error.log" && break
	sleep 0.1; i=$((i + 1))
done
if [ -f "$tmp/httpd.pid" ]; then ok "apache2 started"; else ko "apache2 started"; cat "$tmp/apache.out" "$tmp/logs/error.log"; finish; exit 1; fi

get() { # $1: certificate name, $2: query string
	# -k: the suite's server certificate does not name localhost; the
	# client certificate is what this test is about.
	out=$(curl -s -k --cert "$certs/$1.pem" --key "$certs/$1.key" \
		--resolve "localhost:$port:127.0.0.1" "https://localhost:$port/who${2:-}" 2>&1)
}

get alice
expect_out "alice: REMOTE_USER set" "REMOTE_USER=alice"
expect_out "alice: GECOS (through NSS)" "GECOS=Alice Liddell"
expect_out "alice: groups through GetUserGroups" "GROUPS=alice:dev"
expect_out "alice: homeDirectory through GetUserAttr" "HOME=/home/alice"
expect_out "alice: uidNumber through GetUserAttr" "UID=1000"
expect_out "alice: an attribute certmap does not export stays unset" "MAIL="

# No user: REMOTE_USER and everything looked up for it are empty.
unmapped() {
	for v in REMOTE_USER GECOS GROUPS HOME UID; do
		if printf '%s\n' "$out" | grep -qx "$v="; then ok "$1: $v empty"; else ko "$1: $v empty"; printf '%s\n' "$out" | head -8; fi
	done
}
# Apache has no CRL here and lets the revoked certificate through the
# handshake; certmap's verify policy (crl_file) refuses it.
get revoked
unmapped "a revoked certificate (certmap's verify policy)"
if grep -q 'decision refused reason="revoked"' "$tmp/log"; then ok "refused as revoked by certmapd"; else ko "refused as revoked by certmapd"; fi
get root
unmapped "root's certificate (uid 0 refused by certmap)"
get multisan
unmapped "multisan without ?user= (ambiguous)"
get multisan "?user=erin2"
expect_out "multisan ?user=erin2 picks erin2" "REMOTE_USER=erin2"
expect_out "erin2's groups" "GROUPS=erin2:dev"
get multisan "?user=erin"
expect_out "multisan ?user=erin picks erin" "REMOTE_USER=erin"
get alice "?user=bob"
unmapped "alice's certificate with ?user=bob"

# --- the web server's uid is not allowed: nothing is mapped
if [ "$web_uid" -ne 0 ]; then
	kill -TERM "$pid"; wait "$pid" 2>/dev/null; pid=
	write_config "[0]"
	if start_certmapd; then ok "certmapd restarted without uid $web_uid"; else ko "restart"; fi
	get alice
	unmapped "uid $web_uid not allowed"
	if grep -q "refused a D-Bus call from uid $web_uid" "$tmp/log"; then ok "refusal of uid $web_uid logged"; else ko "refusal logged"; fi
else
	echo "SKIP: the web server runs as root here; no other uid to refuse"
fi

finish
