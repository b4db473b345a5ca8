#!/bin/sh
# certmapd's D-Bus InfoPipe face end to end: a private dbus-daemon with a
# system-bus-like configuration that includes conf/certmapd-infopipe.conf,
# the real certmapd on it (DBUS_SYSTEM_BUS_ADDRESS), and busctl as the
# client. Every method mapped and refused, the User properties, the error
# names, introspection, and callers refused by uid (as root: another uid).
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"

. "$srcdir/tests/service/svclib.sh"
. "$srcdir/tests/infopipe/ifplib.sh"
ifp_require dbus-daemon busctl

svc_setup ifp
svc_passwd 'alice:x:1000:1000:Alice Liddell:/home/alice:/bin/sh' 'bob:x:1001:1001:Bob:/home/bob:/bin/sh' \
	'erin:x:1002:1002::/home/erin:/bin/sh' 'erin2:x:1003:1003::/home/erin2:/bin/sh' \
	'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534::/:/bin/sh' 'low:x:500:500::/home/low:/bin/sh'
svc_group 'alice:x:1000:' 'bob:x:1001:' 'erin:x:1002:' 'erin2:x:1003:' 'dev:x:2000:alice' 'nogroup:x:65534:'
cleanup_more() { ifp_bus_stop; }

# ---------------------------------------------------------------- the bus
ifp_bus_conf "$tmp/bus.conf" "$tmp/bus"
if ! ifp_bus_start "$tmp/bus.conf" "$tmp/bus" "$tmp/bus.log"; then
	ko "dbus-daemon starts"; cat "$tmp/bus.log"; finish; exit 1
fi
# The path alone, without the daemon's guid: clients check a guid, and a
# restarted daemon has another one (as the real system bus address has none).
DBUS_SYSTEM_BUS_ADDRESS=unix:path=$tmp/bus
export DBUS_SYSTEM_BUS_ADDRESS
ok "private dbus-daemon started"

# ---------------------------------------------------------------- certmapd
conf=$tmp/certmap.conf
# The local domain's name.
set_domain() {
	SVC_DOMAINS="{ name = \"$1\"; type = \"local\"; }"
	SVC_RULES="  { name = \"upn\"; priority = 10; match = \"<EKU>clientAuth\";
    map = \"LOCAL:{subject_principal.short_name}\"; domains = [\"$1\"]; }"
}
set_domain local

USERS=$IFP_ROOT/Users
ALICE=$USERS/local/1000

# --- the setting: true or false, nothing else
write_config "$conf" 'infopipe = "yes";'
expect_exit "infopipe = \"yes\" is a configuration error" 2 ctl check-config --config "$conf"
expect_out "the error names the setting" "infopipe"
write_config "$conf" "infopipe = false;"
expect_exit "infopipe = false is valid" 0 ctl check-config --config "$conf"

# --- the face is off by default
write_config "$conf"
start_daemon "$conf"
if ifp_owned; then
	ko "off by default: the name is not taken"
else
	ok "off by default: the name is not taken"
fi
stop_daemon

write_config "$conf" "infopipe = true;"
if ifp_start "$conf"; then ok "certmapd owns $IFP"; else ko "certmapd owns $IFP"; cat "$tmp/log"; finish; exit 1; fi

# --- Ping and introspection
call "Ping" 0 /org/freedesktop/sssd/infopipe $IFP Ping s ping
expect_out "Ping answers PONG" 's "PONG"'
fails "Ping with another word" org.freedesktop.DBus.Error.InvalidArgs /org/freedesktop/sssd/infopipe $IFP.Ping string:pong
expect_exit "introspect Users" 0 busctl --system introspect "$IFP" "$USERS"
for m in .FindByName .FindByCertificate .FindByValidCertificate .ListByCertificate .FindByNameAndCertificate; do
	expect_out "introspection lists $m" "$m "
done
expect_compact "FindByNameAndCertificate takes (ss) and returns o" '.FindByNameAndCertificatemethodsso'
expect_compact "ListByCertificate takes (su) and returns ao" '.ListByCertificatemethodsuao'
expect_exit "introspect the root object" 0 busctl --system introspect "$IFP" /org/freedesktop/sssd/infopipe
expect_compact "GetUserAttr is (sas) -> a{sv}" '.GetUserAttrmethodsasa{sv}'
expect_compact "GetUserGroups is (s) -> as" '.GetUserGroupsmethodsas'
expect_exit "introspect a User object" 0 busctl --system introspect "$IFP" "$ALICE"
expect_compact "User has uidNumber" '.uidNumberpropertyu1000'
expect_compact "User has name" '.namepropertys"alice"'

# --- certificate methods, mapped
call "FindByValidCertificate maps alice" 0 "$USERS" $IFP.Users FindByValidCertificate s "$(pem alice)"
expect_out "object path of alice" "o \"$ALICE\""
call "FindByCertificate maps alice" 0 "$USERS" $IFP.Users FindByCertificate s "$(pem alice)"
expect_out "FindByCertificate: object path" "o \"$ALICE\""
call "ListByCertificate maps alice" 0 "$USERS" $IFP.Users ListByCertificate su "$(pem alice)" 10
expect_out "ListByCertificate: one path" "ao 1 \"$ALICE\""
call "FindByNameAndCertificate empty name" 0 "$USERS" $IFP.Users FindByNameAndCertificate ss "" "$(pem alice)"
expect_out "empty name: alice" "o \"$ALICE\""
call "FindByNameAndCertificate alice" 0 "$USERS" $IFP.Users FindByNameAndCertificate ss alice "$(pem alice)"
expect_out "named alice: alice" "o \"$ALICE\""
call "multisan picked by name" 0 "$USERS" $IFP.Users FindByNameAndCertificate ss erin2 "$(pem multisan)"
expect_out "multisan as erin2" "o \"$USERS/local/1003\""

# --- refused: verify policy on every method, reasons in the message
NF=sbus.Error.NotFound
IA=org.freedesktop.DBus.Error.InvalidArgs
fails "FindByCertificate: expired refused (verify applies)" $NF "$USERS" $IFP.Users.FindByCertificate string:"$(pem expired)"
expect_out "expired: reason code in the message" "expired"
fails "FindByValidCertificate: expired refused" $NF "$USERS" $IFP.Users.FindByValidCertificate string:"$(pem expired)"
fails "FindByValidCertificate: untrusted refused" $NF "$USERS" $IFP.Users.FindByValidCertificate string:"$(pem untrusted)"
expect_out "untrusted: reason code" "untrusted"
fails "ListByCertificate: untrusted refused" $NF "$USERS" $IFP.Users.ListByCertificate string:"$(pem untrusted)" uint32:0
fails "FindByNameAndCertificate: untrusted refused" $NF "$USERS" $IFP.Users.FindByNameAndCertificate string:alice string:"$(pem untrusted)"
fails "FindByNameAndCertificate: bob for alice's certificate" $NF "$USERS" $IFP.Users.FindByNameAndCertificate string:bob string:"$(pem alice)"
fails "multisan without a name is ambiguous" $IA "$USERS" $IFP.Users.FindByCertificate string:"$(pem multisan)"
expect_out "ambiguous: reason code" "ambiguous"
# --- ListByCertificate: several accounts are a list, not an error (SSSD's
# semantics: at most limit paths, 0 for all, truncated silently; an empty
# list when nothing maps).
ERIN=$USERS/local/1002 ERIN2=$USERS/local/1003
call "ListByCertificate: multisan lists both" 0 "$USERS" $IFP.Users ListByCertificate su "$(pem multisan)" 10
expect_out "multisan: erin and erin2, in the certificate's order" "ao 2 \"$ERIN\" \"$ERIN2\""
call "ListByCertificate: limit 0 is no limit" 0 "$USERS" $IFP.Users ListByCertificate su "$(pem multisan)" 0
expect_out "limit 0: both" "ao 2 \"$ERIN\" \"$ERIN2\""
call "ListByCertificate: limit 1 truncates" 0 "$USERS" $IFP.Users ListByCertificate su "$(pem multisan)" 1
expect_out "limit 1: the first only" "ao 1 \"$ERIN\""
call "ListByCertificate: limit 2 exactly" 0 "$USERS" $IFP.Users ListByCertificate su "$(pem multisan)" 2
expect_out "limit 2: both" "ao 2 \"$ERIN\" \"$ERIN2\""
call "ListByCertificate: no rule matches (no UPN)" 0 "$USERS" $IFP.Users ListByCertificate su "$(pem krb5)" 0
expect_out "no rule matches: an empty list" "ao 0"
call "ListByCertificate: no such account" 0 "$USERS" $IFP.Users ListByCertificate su "$(pem ec384)" 0
expect_out "no account: an empty list" "ao 0"
fails "ListByCertificate: verify policy still refuses (no EKU)" $NF "$USERS" $IFP.Users.ListByCertificate string:"$(pem noeku)" uint32:0
expect_out "no EKU: reason code" "eku_missing"
call "ListByCertificate: uid 0 refused" 0 "$USERS" $IFP.Users ListByCertificate su "$(pem root)" 0
expect_out "uid 0: an empty list" "ao 0"
fails "ListByCertificate: garbage" $IA "$USERS" $IFP.Users.ListByCertificate string:"not a certificate" uint32:0
# The traced Map behind a list must not change what the Find methods say.
fails "FindByCertificate: multisan still ambiguous after a list" $IA "$USERS" $IFP.Users.FindByCertificate string:"$(pem multisan)"
fails "a garbage certificate" $IA "$USERS" $IFP.Users.FindByCertificate string:"not a certificate"
expect_out "garbage: invalid_certificate" "invalid_certificate"
fails "an empty certificate" $IA "$USERS" $IFP.Users.FindByCertificate string:""
fails "root's certificate (uid 0 not allowed)" $NF "$USERS" $IFP.Users.FindByCertificate string:"$(pem root)"
expect_out "uid 0: reason code" "uid_refused"
# The same certificate twice: the second answer comes from the shared cache.
call "FindByCertificate again (cache)" 0 "$USERS" $IFP.Users FindByCertificate s "$(pem alice)"
expect_out "cached: same path" "o \"$ALICE\""
if wait_grep "decision mapped.*user=\"alice\"" "$tmp/log"; then ok "decisions logged as for varlink"; else ko "decisions logged"; fi

# --- the same path as varlink: certmapctl query agrees
out=$(sh "$srcdir/tests/lib/nsswrap.sh" "$CERTMAPCTL" query --socket "$sock" "$certs/alice.pem" 2>&1)
expect_out "varlink face still maps alice" "alice"

# --- FindByName and the User properties
call "FindByName alice" 0 "$USERS" $IFP.Users FindByName s alice
expect_out "FindByName: path" "o \"$ALICE\""
fails "FindByName unknown user" $NF "$USERS" $IFP.Users.FindByName string:nosuchuser
fails "FindByName below min_uid" $NF "$USERS" $IFP.Users.FindByName string:low
fails "FindByName empty" $IA "$USERS" $IFP.Users.FindByName string:""
prop() { expect_exit "Get $1" 0 busctl --system get-property "$IFP" "$ALICE" $IFP.Users.User "$1"; }
prop name; expect_out "name" 's "alice"'
prop uidNumber; expect_out "uidNumber" "u 1000"
prop gidNumber; expect_out "gidNumber" "u 1000"
prop gecos; expect_out "gecos" 's "Alice Liddell"'
prop homeDirectory; expect_out "homeDirectory" 's "/home/alice"'
prop loginShell; expect_out "loginShell" 's "/bin/sh"'
prop domainname; expect_out "domainname" 's "local"'
prop domain; expect_out "domain" 'o "/org/freedesktop/sssd/infopipe/Domains/local"'
expect_exit "GetAll" 0 busctl --system call "$IFP" "$ALICE" org.freedesktop.DBus.Properties GetAll s $IFP.Users.User
expect_out "GetAll has homeDirectory" '"homeDirectory" s "/home/alice"'
GET=org.freedesktop.DBus.Properties.Get
UI=org.freedesktop.DBus.Error.UnknownObject
fails "Get a user that does not exist" $NF "$USERS/local/4242" $GET string:$IFP.Users.User string:name
fails "Get in an unknown domain" $UI "$USERS/other/1000" $GET string:$IFP.Users.User string:name
fails "Get below min_uid" $NF "$USERS/local/500" $GET string:$IFP.Users.User string:name
fails "Get a uid with a leading zero" $UI "$USERS/local/01000" $GET string:$IFP.Users.User string:name

prop uniqueID; expect_out "uniqueID (NSS has none)" 's ""'
prop groups; expect_out "groups: Group objects, primary first" 'ao 2 "/org/freedesktop/sssd/infopipe/Groups/local/1000" "/org/freedesktop/sssd/infopipe/Groups/local/2000"'
expect_exit "GetAll with groups" 0 busctl --system call "$IFP" "$ALICE" org.freedesktop.DBus.Properties GetAll s $IFP.Users.User
expect_out "GetAll has groups" '"groups" ao 2 '
expect_out "GetAll has uniqueID" '"uniqueID" s ""'

# --- Group objects
GRPS=/org/freedesktop/sssd/infopipe/Groups
DEV=$GRPS/local/2000
gprop() { expect_exit "Group $1" 0 busctl --system get-property "$IFP" "$DEV" $IFP.Groups.Group "$1"; }
gprop name; expect_out "group name" 's "dev"'
gprop gidNumber; expect_out "group gidNumber" "u 2000"
gprop users; expect_out "group users: alice's User object" "ao 1 \"$ALICE\""
gprop groups; expect_out "group groups: none (NSS does not nest)" "ao 0"
gprop uniqueID; expect_out "group uniqueID" 's ""'
expect_exit "Group GetAll" 0 busctl --system call "$IFP" "$DEV" org.freedesktop.DBus.Properties GetAll s $IFP.Groups.Group
expect_out "Group GetAll has gidNumber" '"gidNumber" u 2000'
fails "a group that does not exist" $NF "$GRPS/local/4242" $GET string:$IFP.Groups.Group string:name
fails "a group in an unknown domain" $UI "$GRPS/other/2000" $GET string:$IFP.Groups.Group string:name
expect_exit "introspect a Group object" 0 busctl --system introspect "$IFP" "$DEV"
expect_compact "Group has users (ao)" '.userspropertyao'

# --- Domain objects
DOMS=/org/freedesktop/sssd/infopipe/Domains
call "ListDomains" 0 /org/freedesktop/sssd/infopipe $IFP ListDomains
expect_out "ListDomains: the one domain" "ao 1 \"$DOMS/local\""
call "FindDomainByName" 0 /org/freedesktop/sssd/infopipe $IFP FindDomainByName s local
expect_out "FindDomainByName: path" "o \"$DOMS/local\""
fails "FindDomainByName unknown" $NF /org/freedesktop/sssd/infopipe $IFP.FindDomainByName string:nosuch
dprop() { expect_exit "Domain $1" 0 busctl --system get-property "$IFP" "$DOMS/local" $IFP.Domains "$1"; }
dprop name; expect_out "domain name" 's "local"'
dprop provider; expect_out "domain provider" 's "local"'
dprop min_id; expect_out "domain min_id (min_uid's default)" "u 1000"
dprop subdomain; expect_out "domain subdomain" "b false"
dprop primary_servers; expect_out "local domain: no servers" "as 0"
expect_exit "Domain GetAll" 0 busctl --system call "$IFP" "$DOMS/local" org.freedesktop.DBus.Properties GetAll s $IFP.Domains
expect_out "Domain GetAll has parent_domain" '"parent_domain" o "/"'
fails "an unknown Domain object" $UI "$DOMS/other" $GET string:$IFP.Domains string:name
expect_exit "introspect a Domain object" 0 busctl --system introspect "$IFP" "$DOMS/local"
expect_compact "Domain has provider" '.providerpropertys"local"'
expect_exit "introspect the root object again" 0 busctl --system introspect "$IFP" /org/freedesktop/sssd/infopipe
expect_compact "ListDomains is () -> ao" '.ListDomainsmethod-ao'

# --- GetUserGroups, GetUserAttr
call "GetUserGroups alice" 0 /org/freedesktop/sssd/infopipe $IFP GetUserGroups s alice
expect_out "alice's groups" 'as 2 "alice" "dev"'
fails "GetUserGroups unknown" $NF /org/freedesktop/sssd/infopipe $IFP.GetUserGroups string:nosuchuser
call "GetUserAttr" 0 /org/freedesktop/sssd/infopipe $IFP GetUserAttr sas alice 4 gecos homeDirectory uidNumber mail
expect_out "gecos as a string array" '"gecos" as 1 "Alice Liddell"'
expect_out "uidNumber as a string array" '"uidNumber" as 1 "1000"'
expect_out "three known attributes (mail left out)" 'a{sv} 3 '
fails "GetUserAttr unknown user" $NF /org/freedesktop/sssd/infopipe $IFP.GetUserAttr string:nosuchuser array:string:gecos

# --- methods that are not there
fails "an SSSD method certmap lacks" org.freedesktop.DBus.Error.UnknownMethod "$USERS" $IFP.Users.ListByName string:a uint32:0

# --- a domain name with bytes outside [A-Za-z0-9]: _%02x in the path, as SSSD
stop_daemon
dom=Corp.example-1_x
set_domain "$dom"
write_config "$conf" "infopipe = true;"
if ifp_start "$conf"; then ok "restarted with domain $dom"; else ko "restarted with domain $dom"; fi
ESC=$USERS/Corp_2eexample_2d1_5fx/1000
call "escaped domain: FindByCertificate" 0 "$USERS" $IFP.Users FindByCertificate s "$(pem alice)"
expect_out "escaped domain: path" "o \"$ESC\""
call "escaped domain: FindByName" 0 "$USERS" $IFP.Users FindByName s alice
expect_out "escaped domain: FindByName path" "o \"$ESC\""
expect_exit "escaped domain: Get domainname" 0 busctl --system get-property "$IFP" "$ESC" $IFP.Users.User domainname
expect_out "escaped domain: domainname" "s \"$dom\""
fails "an underscore must be escaped too" $UI "$USERS/Corp_2eexample_2d1_x/1000" $GET string:$IFP.Users.User string:name
fails "the old domain is gone" $UI "$ALICE" $GET string:$IFP.Users.User string:name
stop_daemon
set_domain local
write_config "$conf" "infopipe = true;"
if ifp_start "$conf"; then ok "restarted with domain local"; else ko "restarted with domain local"; fi

# --- the bus goes away and comes back: certmapd connects again
ifp_bus_stop
ifp_bus_start "$tmp/bus.conf" "$tmp/bus" "$tmp/bus.log"
svc_wait "$pid" ifp_owned
call "after the bus restarted: Ping" 0 /org/freedesktop/sssd/infopipe $IFP Ping s ping
call "after the bus restarted: mapping" 0 "$USERS" $IFP.Users FindByCertificate s "$(pem alice)"
expect_out "after the bus restarted: alice" "o \"$ALICE\""
if wait_grep "lost the system bus" "$tmp/log"; then ok "the lost bus is logged"; else ko "the lost bus is logged"; fi
if kill -0 "$pid" 2>/dev/null; then ok "certmapd kept running"; else ko "certmapd kept running"; fi

# --- callers not allowed (needs another uid: root only)
if [ "$(id -u)" -eq 0 ] && command -v setpriv > /dev/null 2>&1; then
	as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
	as_dev() { setpriv --reuid=65534 --regid=65534 --groups=2000 -- "$@"; }
	AD=org.freedesktop.DBus.Error.AccessDenied
	denied() {
		name=$1; shift
		expect_exit "$name" 1 as_nobody dbus-send --system --print-reply --dest="$IFP" "$@"
		# certmapd's own refusal, not the bus policy's nor sd-bus's.
		expect_out "$name: AccessDenied" "Error $AD: this uid may not use certmapd"
	}
	denied "uid 65534 refused (Ping)" /org/freedesktop/sssd/infopipe $IFP.Ping string:ping
	denied "uid 65534 refused (FindByCertificate)" "$USERS" $IFP.Users.FindByCertificate string:"$(pem alice)"
	denied "uid 65534 refused (FindByName)" "$USERS" $IFP.Users.FindByName string:alice
	denied "uid 65534 refused (property)" "$ALICE" $GET string:$IFP.Users.User string:name
	denied "uid 65534 refused (GetUserAttr)" /org/freedesktop/sssd/infopipe $IFP.GetUserAttr string:alice array:string:gecos
	denied "uid 65534 refused (GetUserGroups)" /org/freedesktop/sssd/infopipe $IFP.GetUserGroups string:alice
	denied "uid 65534 refused (ListByCertificate)" "$USERS" $IFP.Users.ListByCertificate string:"$(pem multisan)" uint32:0
	denied "uid 65534 refused (Group property)" "$GRPS/local/2000" $GET string:$IFP.Groups.Group string:name
	denied "uid 65534 refused (Domain property)" "$DOMS/local" $GET string:$IFP.Domains string:name
	denied "uid 65534 refused (ListDomains)" /org/freedesktop/sssd/infopipe $IFP.ListDomains
	if wait_grep "refused a D-Bus call from uid 65534" "$tmp/log"; then ok "refusal logged"; else ko "refusal logged"; fi
	# Allowed through a supplementary group, as the bus reports it.
	stop_daemon
	SVC_UIDS=0
	write_config "$conf" "allowed_gids = [2000]; infopipe = true;"
	if ifp_start "$conf"; then ok "restarted with allowed_gids"; else ko "restarted with allowed_gids"; fi
	expect_exit "group 2000 allowed" 0 as_dev busctl --system -- call "$IFP" "$USERS" $IFP.Users FindByCertificate s "$(pem alice)"
	expect_out "group 2000: alice" "o \"$ALICE\""
	denied "without the group refused" "$USERS" $IFP.Users.FindByCertificate string:"$(pem alice)"
	# A reload that takes uid 0 off the list applies to the next call.
	SVC_UIDS=1
	write_config "$conf" "infopipe = true;"
	kill -HUP "$pid"
	sleep 0.5
	fails "after a reload uid 0 is refused" $AD /org/freedesktop/sssd/infopipe $IFP.Ping string:ping
	expect_out "after a reload: certmapd's refusal" "this uid may not use certmapd"
else
	echo "SKIP: callers of another uid (needs root and setpriv)"
fi

# --- a certificate-only identity (domain of type certificate) has no uid,
# so no User object: NotFound, with the reason in the message.
stop_daemon
SVC_UIDS="0, $(id -u)"
SVC_DOMAINS='{ name = "local"; type = "local"; },
  { name = "apps"; type = "certificate"; }'
SVC_RULES='  { name = "upn"; priority = 10; map = "LOCAL:{subject_principal.short_name}"; domains = ["local"]; },
  { name = "cn"; priority = 20; map = "LOCAL:{subject_dn_component.CN}"; domains = ["apps"]; }'
write_config "$conf" "infopipe = true;"
if ifp_start "$conf"; then ok "started with a certificate domain"; else ko "started with a certificate domain"; fi
fails "certificate-only identity: FindByCertificate NotFound" $NF "$USERS" $IFP.Users.FindByCertificate string:"$(pem multi-ou)"
expect_out "certificate-only identity: no_account in the message" "no_account"
call "certificate-only identity: ListByCertificate" 0 "$USERS" $IFP.Users ListByCertificate su "$(pem multi-ou)" 0
expect_out "certificate-only identity: an empty list" "ao 0"
call "two domains: ListDomains" 0 /org/freedesktop/sssd/infopipe $IFP ListDomains
expect_out "two domains, in the configuration's order" "ao 2 \"$DOMS/local\" \"$DOMS/apps\""
expect_exit "certificate domain: provider" 0 busctl --system get-property "$IFP" "$DOMS/apps" $IFP.Domains provider
expect_out "certificate domain: provider is its type" 's "certificate"'
call "an account next to it still maps" 0 "$USERS" $IFP.Users FindByCertificate s "$(pem alice)"
expect_out "an account next to it: alice" "o \"$ALICE\""
stop_daemon

# --- more candidates than certmap weighs (256): LimitsExceeded, never a
# partial list that could leave out the account meant.
i=0
while [ $i -lt 300 ]; do
	printf 'many%d:x:%d:1001:Many:/home/many:/bin/sh\n' $i $((3000 + i)) >> "$tmp/passwd"
	printf '"/DC=com/DC=example/O=Example/CN=bob" many%d\n' $i
	i=$((i + 1))
done > "$tmp/many.map"
SVC_DOMAINS='{ name = "local"; type = "local"; }'
SVC_RULES="  { name = \"grid\"; priority = 10; map = \"MAPFILE:$tmp/many.map:{subject_dn!grid}\"; domains = [\"local\"]; }"
write_config "$conf" "infopipe = true;"
if ifp_start "$conf"; then ok "started with a rule giving 300 accounts"; else ko "started with a rule giving 300 accounts"; fi
fails "300 candidates: ListByCertificate" org.freedesktop.DBus.Error.LimitsExceeded "$USERS" \
	$IFP.Users.ListByCertificate string:"$(pem bob-ec)" uint32:0
expect_out "300 candidates: the message says why" "more candidates than certmap weighs"
fails "300 candidates: FindByCertificate is ambiguous" org.freedesktop.DBus.Error.InvalidArgs "$USERS" \
	$IFP.Users.FindByCertificate string:"$(pem bob-ec)"
stop_daemon

set_domain local
write_config "$conf" "infopipe = true;"
if ifp_start "$conf"; then ok "restarted without the certificate domain"; else ko "restarted without the certificate domain"; fi

# --- the name is taken: a second certmapd fails to start and says why
if [ "$(id -u)" -eq 0 ]; then
	SVC_UIDS=0
	write_config "$conf" "infopipe = true;"
	sed -i "s|$sock|$tmp/sock2|" "$conf"
	expect_exit "a second face cannot start" 1 sh "$srcdir/tests/lib/nsswrap.sh" "$CERTMAPD" --foreground --config "$conf"
	expect_out "says the name is owned" "cannot own the name"
fi

# --- the service stops cleanly with the face on
kill -TERM "$pid"
wait "$pid" && rc=0 || rc=$?
pid=
if [ "$rc" -eq 0 ]; then ok "stops cleanly on SIGTERM"; else ko "stops cleanly on SIGTERM (exit $rc)"; tail -20 "$tmp/log"; fi

finish
