#!/bin/sh
# certmapd's D-Bus InfoPipe face with an ldap domain: the suite's own
# slapd (tests/lib/slapd.sh), a private dbus-daemon as in
# test_infopipe.sh, the real certmapd and busctl/dbus-send as clients.
# A certificate mapped through an LDAP rule, User objects read from the
# directory, FindByName in the domains' order, GetUserGroups with rfc2307
# groups, ListByCertificate with directory candidates, a name that would
# be a filter, and a directory that is down.
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"
. "$srcdir/tests/lib/slapd.sh"
. "$srcdir/tests/lib/adlib.sh"
slapd_require

. "$srcdir/tests/service/svclib.sh"
. "$srcdir/tests/infopipe/ifplib.sh"
ifp_require dbus-daemon busctl dbus-send

svc_setup ifpldap
# Stops certmapd and checks that it exits cleanly (under ASan: no leak,
# no error report).
stop_checked() {
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	pid=
	if [ "$rc" -eq 0 ] && ! grep -Eq "Sanitizer|runtime error" "$tmp/log"; then
		ok "$1: certmapd stops cleanly"
	else
		ko "$1: certmapd stops cleanly (exit $rc)"; tail -40 "$tmp/log"
	fi
}
cleanup_more() { stop_daemon; slapd_stop_all; ifp_bus_stop; }

# NSS: a local alice with other ids than the directory's alice.
svc_passwd 'alice:x:1000:1000:Alice Liddell:/home/alice:/bin/sh' 'nobody:x:65534:65534::/:/bin/sh'
svc_group 'alice:x:1000:' 'nogroup:x:65534:'

# ---------------------------------------------------------------- the directory
B="dc=example,dc=com"
user() { # uid uidNumber cn
	printf 'dn: uid=%s,ou=People,%s\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\n' "$1" "$B"
	printf 'uid: %s\ncn: %s\nsn: %s\nuidNumber: %s\ngidNumber: %s\nhomeDirectory: /home/%s\n\n' \
		"$1" "$3" "$1" "$2" "$2" "$1"
}
posixgroup() { # cn gid memberUid...
	g=$1; id=$2; shift 2
	printf 'dn: cn=%s,ou=Groups,%s\nobjectClass: posixGroup\ncn: %s\ngidNumber: %s\n' "$g" "$B" "$g" "$id"
	for m in "$@"; do printf 'memberUid: %s\n' "$m"; done
	echo
}
# ids = "sid": an AD-like user found by the certificate's issuer and serial
# (altSecurityIdentities), as in tests/ldap/test_ldap.sh.
D=S-1-5-21-2084710061-1330166313-3217380000
{
	printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n' "$B"
	for ou in People Groups AD; do
		printf 'dn: ou=%s,%s\nobjectClass: organizationalUnit\nou: %s\n\n' "$ou" "$B" "$ou"
	done
	user alice 10001 "Alice Example"
	user bob 10002 bob
	user bobby 10003 bob
	user toor 0 root
	user low 500 low
	posixgroup alice 10001
	posixgroup devs 20001 alice
	posixgroup web 20002 bob
	posixgroup all 20003 bob alice
	printf 'dn: cn=frank6,ou=AD,%s\nobjectClass: inetOrgPerson\nobjectClass: certmapTestADUser\n' "$B"
	printf 'cn: frank6\nsn: frank6\nuid: frank6\nobjectSid:: %s\nprimaryGroupID: 513\n' "$(sid_b64 "$D-1105")"
	printf 'altSecurityIdentities: X509:<I>%s<SR>%s\n\n' "$(cert_issuer_ad "$certs/sid.pem")" "$(cert_serial_ur "$certs/sid.pem")"
	printf 'dn: cn=Domain Users,ou=AD,%s\nobjectClass: groupOfNames\nobjectClass: certmapTestADUser\n' "$B"
	printf 'objectSid:: %s\ncn: Domain Users\nmember: cn=frank6,ou=AD,%s\n\n' "$(sid_b64 "$D-513")" "$B"
} > "$tmp/data.ldif"
slapd_init "$tmp/s1" && slapd_load "$tmp/s1" "$tmp/data.ldif" && slapd_start "$tmp/s1" || exit 99
U1=$(slapd_uri "$tmp/s1")
ok "slapd started"

# ---------------------------------------------------------------- the bus (as test_infopipe.sh)
ifp_bus_conf "$tmp/bus.conf" "$tmp/bus"
if ! ifp_bus_start "$tmp/bus.conf" "$tmp/bus" "$tmp/bus.log"; then
	ko "dbus-daemon starts"; cat "$tmp/bus.log"; finish; exit 1
fi
DBUS_SYSTEM_BUS_ADDRESS=unix:path=$tmp/bus
export DBUS_SYSTEM_BUS_ADDRESS

# ---------------------------------------------------------------- certmapd
# The local domain first, then the directory (no cache: a stopped slapd
# must show at once); the rule finds entries by the subject's CN, so
# bob-ec's "bob" is two entries (bob, bobby).
conf=$tmp/certmap.conf
SVC_LIMITS="timeout = 5; cache_ttl = 0;"
main_conf() {
	SVC_DOMAINS="
  { name = \"local\"; type = \"local\"; },
  { name = \"dir\"; type = \"ldap\"; uri = [\"$U1\"]; base = \"$B\"; group_base = \"ou=Groups,$B\";
    cache_ttl = 0; negative_cache_ttl = 0; primary_group_ttl = 0; retry_interval = 0; }
"
	SVC_RULES='  { name = "cn"; priority = 1; match = "<EKU>clientAuth";
    map = "LDAPU1:(cn={subject_dn_component.cn})"; domains = ["dir"]; }'
	write_config "$conf" "infopipe = true;"
}
main_conf
expect_exit "configuration is valid" 0 ctl check-config --config "$conf"

ROOT=$IFP_ROOT
USERS=$ROOT/Users
DALICE=$USERS/dir/10001
NF=sbus.Error.NotFound
DOWN=org.freedesktop.DBus.Error.Disconnected

start() {
	if ifp_start "$conf"; then
		ok "certmapd owns $IFP"
	else
		ko "certmapd owns $IFP"; cat "$tmp/log"; finish; exit 1
	fi
}
start

prop() { # PATH NAME
	expect_exit "Get $2 of $1" 0 busctl --system get-property "$IFP" "$1" $IFP.Users.User "$2"
}

# --- a certificate mapped through an LDAP rule: a User object of the directory
call "FindByValidCertificate maps alice in the directory" 0 "$USERS" $IFP.Users FindByValidCertificate s "$(pem alice)"
expect_out "path of the directory's alice" "o \"$DALICE\""
prop "$DALICE" name; expect_out "name from the directory" 's "alice"'
prop "$DALICE" uidNumber; expect_out "uidNumber from the directory" 'u 10001'
prop "$DALICE" gidNumber; expect_out "gidNumber from the directory" 'u 10001'
prop "$DALICE" homeDirectory; expect_out "homeDirectory from the directory" 's "/home/alice"'
prop "$DALICE" domainname; expect_out "domainname dir" 's "dir"'
prop "$DALICE" gecos; expect_out "gecos: the backend reads none" 's ""'
prop "$DALICE" groups; expect_out "groups: no Group objects for an ldap domain" 'ao 0'
expect_exit "GetAll of a directory user" 0 busctl --system call "$IFP" "$DALICE" org.freedesktop.DBus.Properties GetAll s $IFP.Users.User
expect_out "GetAll: homeDirectory" '"homeDirectory" s "/home/alice"'
expect_exit "introspect a directory user" 0 busctl --system introspect "$IFP" "$DALICE"
expect_compact "introspection reads uidNumber" '.uidNumberpropertyu10001'
fails "a uidNumber the directory lacks" $NF "$USERS/dir/10999" org.freedesktop.DBus.Properties.Get string:$IFP.Users.User string:name
fails "uid 0 in the directory (allow_uid0 false)" $NF "$USERS/dir/0" org.freedesktop.DBus.Properties.Get string:$IFP.Users.User string:name
fails "uid 500 in the directory (below min_uid)" $NF "$USERS/dir/500" org.freedesktop.DBus.Properties.Get string:$IFP.Users.User string:name

# --- FindByName: the domains in order, the first that has the name
call "FindByName alice: the local domain comes first" 0 "$USERS" $IFP.Users FindByName s alice
expect_out "local alice" "o \"$USERS/local/1000\""
call "FindByName bob: only the directory has him" 0 "$USERS" $IFP.Users FindByName s bob
expect_out "directory bob" "o \"$USERS/dir/10002\""
fails "FindByName toor: uid 0 refused" $NF "$USERS" $IFP.Users.FindByName string:toor
fails "FindByName low: below min_uid" $NF "$USERS" $IFP.Users.FindByName string:low
fails "FindByName BOB: names are exact" $NF "$USERS" $IFP.Users.FindByName string:BOB
# A name is a value, never a filter: escaped (RFC 4515) on the way to slapd.
fails "FindByName '*)(uid=*' finds nothing" $NF "$USERS" $IFP.Users.FindByName 'string:*)(uid=*'
fails "FindByName 'bobb*' finds nothing" $NF "$USERS" $IFP.Users.FindByName 'string:bobb*'
fails "GetUserAttr '*' finds nothing" $NF $ROOT $IFP.GetUserAttr 'string:*' array:string:name
fails "GetUserGroups 'b*)' finds nothing" $NF $ROOT $IFP.GetUserGroups 'string:b*)'

# --- GetUserGroups and GetUserAttr of a directory user
call "GetUserGroups bob (rfc2307)" 0 $ROOT $IFP GetUserGroups s bob
expect_out "bob's memberUid groups, by name" 'as 2 "all" "web"'
call "GetUserAttr bob" 0 $ROOT $IFP GetUserAttr sas bob 3 uidNumber homeDirectory name
expect_out "GetUserAttr: uidNumber" '"uidNumber" as 1 "10002"'
expect_out "GetUserAttr: homeDirectory" '"homeDirectory" as 1 "/home/bob"'
call "GetUserGroups alice: the local alice (first domain)" 0 $ROOT $IFP GetUserGroups s alice
expect_out "local alice's groups" 'as 1 "alice"'

# --- ListByCertificate: directory candidates
call "ListByCertificate bob-ec: two directory entries" 0 "$USERS" $IFP.Users ListByCertificate su "$(pem bob-ec)" 0
expect_out "both candidates, in the directory" "ao 2 \"$USERS/dir/10002\" \"$USERS/dir/10003\""
call "ListByCertificate with limit 1" 0 "$USERS" $IFP.Users ListByCertificate su "$(pem bob-ec)" 1
expect_out "limit 1" "ao 1 \"$USERS/dir/10002\""
call "ListByCertificate alice" 0 "$USERS" $IFP.Users ListByCertificate su "$(pem alice)" 0
expect_out "one directory path" "ao 1 \"$DALICE\""
call "FindByNameAndCertificate bobby" 0 "$USERS" $IFP.Users FindByNameAndCertificate ss bobby "$(pem bob-ec)"
expect_out "bobby picked" "o \"$USERS/dir/10003\""
prop "$USERS/dir/10003" name; expect_out "bobby's name" 's "bobby"'

# --- ids = "nss" and ids = "sid" (another configuration)
stop_checked "directory phase"
SVC_DOMAINS="
  { name = \"dnss\"; type = \"ldap\"; uri = [\"$U1\"]; base = \"ou=People,$B\"; ids = \"nss\";
    cache_ttl = 0; negative_cache_ttl = 0; },
  { name = \"dsid\"; type = \"ldap\"; uri = [\"$U1\"]; base = \"ou=AD,$B\"; ids = \"sid\";
    user_filter = \"(objectClass=certmapTestADUser)\"; groups = \"rfc2307bis\";
    group_filter = \"(objectClass=groupOfNames)\"; cache_ttl = 0; negative_cache_ttl = 0; }
"
SVC_RULES='  { name = "uid"; priority = 1; match = "<EKU>clientAuth";
    map = "LDAPU1:(uid={subject_dn_component.uid})"; domains = ["dnss"]; },
  { name = "ad"; priority = 1; match = "<EKU>clientAuth";
    map = "LDAPU1:(altSecurityIdentities=X509:<I>{issuer_dn!ad_x500}<SR>{serial_number!hex_ur})";
    domains = ["dsid"]; }'
write_config "$conf" "infopipe = true;"
start
call "ids nss: alice maps with NSS's uid" 0 "$USERS" $IFP.Users FindByValidCertificate s "$(pem alice)"
expect_out "ids nss: path by NSS's uid" "o \"$USERS/dnss/1000\""
prop "$USERS/dnss/1000" name; expect_out "ids nss: name" 's "alice"'
prop "$USERS/dnss/1000" gecos; expect_out "ids nss: gecos from NSS" 's "Alice Liddell"'
fails "ids nss: the directory's uidNumber is no object" $NF "$USERS/dnss/10001" org.freedesktop.DBus.Properties.Get string:$IFP.Users.User string:name
fails "ids nss: an NSS uid without entry in the directory" $NF "$USERS/dnss/65534" org.freedesktop.DBus.Properties.Get string:$IFP.Users.User string:name
call "ids sid: frank6 maps" 0 "$USERS" $IFP.Users FindByValidCertificate s "$(pem sid)"
sidpath=$(printf '%s\n' "$out" | sed -n 's/^o "\(.*\)"$/\1/p')
case $sidpath in
"$USERS"/dsid/[1-9]*) ok "ids sid: a path in dsid ($sidpath)" ;;
*) ko "ids sid: a path in dsid (got '$out')" ;;
esac
prop "$sidpath" name; expect_out "ids sid: name read back" 's "frank6"'
call "ids sid: FindByName frank6" 0 "$USERS" $IFP.Users FindByName s frank6
expect_out "ids sid: FindByName gives the same path" "o \"$sidpath\""
call "ids sid: GetUserGroups frank6" 0 $ROOT $IFP GetUserGroups s frank6
expect_out "ids sid: primary group by SID" '"Domain Users"'
fails "ids sid: a path never handed out" $NF "$USERS/dsid/12345" org.freedesktop.DBus.Properties.Get string:$IFP.Users.User string:name
stop_checked "ids phase"
start
fails "ids sid: paths are forgotten on restart" $NF "$sidpath" org.freedesktop.DBus.Properties.Get string:$IFP.Users.User string:name

# --- the directory down: an error that says so, not NotFound
stop_checked "restart phase"
main_conf
start
slapd_stop "$tmp/s1"
fails "property of a directory user, slapd stopped" $DOWN "$DALICE" org.freedesktop.DBus.Properties.Get string:$IFP.Users.User string:name
expect_out "the message says the backend is unavailable" "backend_unavailable: "
fails "FindByName bob, slapd stopped" $DOWN "$USERS" $IFP.Users.FindByName string:bob
fails "GetUserGroups bob, slapd stopped" $DOWN $ROOT $IFP.GetUserGroups string:bob
fails "GetUserAttr bob, slapd stopped" $DOWN $ROOT $IFP.GetUserAttr string:bob array:string:name
fails "FindByValidCertificate, slapd stopped" $DOWN "$USERS" $IFP.Users.FindByValidCertificate string:"$(pem alice)"
fails "ListByCertificate, slapd stopped" $DOWN "$USERS" $IFP.Users.ListByCertificate string:"$(pem bob-ec)" uint32:0
call "FindByName alice still answers: the local domain comes first" 0 "$USERS" $IFP.Users FindByName s alice
expect_out "local alice, directory down" "o \"$USERS/local/1000\""
kill -0 "$pid" 2>/dev/null && ok "certmapd still running" || ko "certmapd still running"
stop_checked "directory down"

finish
