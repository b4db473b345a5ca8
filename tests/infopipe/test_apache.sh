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
. "$srcdir/tests/service/svclib.sh"
. "$srcdir/tests/infopipe/ifplib.sh"
ifp_require dbus-daemon busctl curl "$APACHE"
if [ ! -f "$MODS/mod_lookup_identity.so" ] || [ ! -f "$MODS/mod_ssl.so" ]; then
	echo "SKIP: mod_lookup_identity or mod_ssl missing (apt-get install apache2 libapache2-mod-lookup-identity)"
	exit 77
fi

svc_setup apache
httpd_started=
cleanup_more() {
	if [ -n "$httpd_started" ] && [ -f "$tmp/httpd.pid" ]; then
		kill -TERM "$(cat "$tmp/httpd.pid")" 2>/dev/null
		i=0
		while [ -f "$tmp/httpd.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	fi
	stop_daemon
	ifp_bus_stop
}

# Apache drops to User when started as root: www-data must resolve too.
if [ "$(id -u)" -eq 0 ]; then
	web_user=www-data web_uid=33 web_gid=33
else
	web_user=$(id -un) web_uid=$(id -u) web_gid=$(id -g)
fi
svc_passwd 'alice:x:1000:1000:Alice Liddell:/home/alice:/bin/sh' 'bob:x:1001:1001:Bob:/home/bob:/bin/sh' \
	'erin:x:1002:1002:Erin:/home/erin:/bin/sh' 'erin2:x:1003:1003:Erin Two:/home/erin2:/bin/sh' \
	'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534::/:/bin/sh'
if [ "$web_uid" -ne 0 ] && [ "$web_user" != alice ]; then
	printf '%s:x:%s:%s::/var/www:/bin/sh\n' "$web_user" "$web_uid" "$web_gid" >> "$tmp/passwd"
fi
svc_group 'alice:x:1000:' 'bob:x:1001:' 'erin:x:1002:' 'erin2:x:1003:' 'dev:x:2000:alice,erin2' \
	'nogroup:x:65534:' "webgrp:x:$web_gid:"

# ---------------------------------------------------------------- the bus
ifp_bus_conf "$tmp/bus.conf" "$tmp/bus"
ifp_bus_start "$tmp/bus.conf" "$tmp/bus" "$tmp/bus.log" && ok "private dbus-daemon started" ||
	{ ko "dbus-daemon"; cat "$tmp/bus.log"; finish; exit 1; }
# The path alone, without the daemon's guid: clients check a guid, and a
# restarted daemon has another one (as the real system bus address has none).
DBUS_SYSTEM_BUS_ADDRESS=unix:path=$tmp/bus
export DBUS_SYSTEM_BUS_ADDRESS

# ---------------------------------------------------------------- certmapd
conf=$tmp/certmap.conf
SVC_LIMITS=
SVC_UIDS="0, $web_uid"
write_config "$conf" "infopipe = true;" "crl_file = \"$certs/crl.pem\";"
if ifp_start "$conf"; then ok "certmapd on the bus"; else ko "certmapd on the bus"; cat "$tmp/log"; finish; exit 1; fi

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
if wait_grep 'decision refused reason="revoked"' "$tmp/log"; then ok "refused as revoked by certmapd"; else ko "refused as revoked by certmapd"; fi
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
	stop_daemon
	SVC_UIDS=0
	write_config "$conf" "infopipe = true;" "crl_file = \"$certs/crl.pem\";"
	if ifp_start "$conf"; then ok "certmapd restarted without uid $web_uid"; else ko "restart"; fi
	get alice
	unmapped "uid $web_uid not allowed"
	if wait_grep "refused a D-Bus call from uid $web_uid" "$tmp/log"; then ok "refusal of uid $web_uid logged"; else ko "refusal logged"; fi
else
	echo "SKIP: the web server runs as root here; no other uid to refuse"
fi

finish
