# Shell functions that run a throwaway OpenLDAP slapd for the tests
# (sourced). Each instance lives in its own directory: a cn=config made
# with slapadd -n0, one mdb database for dc=example,dc=com, and the pid
# and port of the slapd started from it. Only processes started here are
# ever signalled, by the PID recorded when they were started; the host's
# own slapd (if the package started one) and /etc/ldap are never used.
#
#	slapd_init DIR [CERT KEY]   new config and empty database in DIR;
#	                            with CERT and KEY, slapd also speaks TLS
#	                            (StartTLS, and ldaps:// on a second port)
#	slapd_load DIR LDIF         adds entries (slapd must not be running)
#	slapd_start DIR [LDAPI]     starts on a free 127.0.0.1 port (and on
#	                            ldapi://DIR/ldapi when LDAPI=ldapi); sets
#	                            SLAPD_URI; waits until it answers
#	slapd_uri DIR               prints ldap://127.0.0.1:PORT of DIR
#	slapd_ldaps_uri DIR         prints ldaps://127.0.0.1:PORT of DIR
#	slapd_stop DIR              stops the slapd started from DIR
#	slapd_pause DIR / slapd_resume DIR
#	                            SIGSTOP / SIGCONT: the kernel still accepts
#	                            connections but nothing ever answers
#	slapd_stop_all              stops every instance this shell started
#
# Tests call slapd_require first: it exits 77 (skip) when slapd or the
# LDAP client tools are not installed.

SLAPD_BIN=${SLAPD_BIN:-/usr/sbin/slapd}
SLAPADD_BIN=${SLAPADD_BIN:-/usr/sbin/slapadd}
SLAPD_MODULES=${SLAPD_MODULES:-/usr/lib/ldap}
SLAPD_SCHEMA=${SLAPD_SCHEMA:-/etc/ldap/schema}
SLAPD_SUFFIX="dc=example,dc=com"
SLAPD_ROOTDN="cn=admin,dc=example,dc=com"
SLAPD_ROOTPW="admin-secret"
slapd_dirs=

slapd_require() {
	for f in "$SLAPD_BIN" "$SLAPADD_BIN" "$SLAPD_MODULES/back_mdb.so" \
		"$SLAPD_SCHEMA/nis.ldif"; do
		if [ ! -e "$f" ]; then
			echo "SKIP: $f not found (apt-get install slapd ldap-utils)"
			exit 77
		fi
	done
	if ! command -v ldapsearch >/dev/null 2>&1; then
		echo "SKIP: ldapsearch not found (apt-get install ldap-utils)"
		exit 77
	fi
}

# slapd drops root when started as root: the instance then belongs to nobody.
slapd_user_args() {
	if [ "$(id -u)" -eq 0 ]; then
		echo "-u nobody -g nogroup"
	fi
}

slapd_init() {
	dir=$1
	rm -rf "$dir"
	mkdir -p "$dir/slapd.d" "$dir/db"
	tls=
	if [ $# -ge 3 ]; then
		cp "$2" "$dir/tls.pem" && cp "$3" "$dir/tls.key" || return 1
		chmod 600 "$dir/tls.key"
		tls="
olcTLSCertificateFile: $dir/tls.pem
olcTLSCertificateKeyFile: $dir/tls.key"
	fi
	cat > "$dir/config.ldif" <<EOL
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $dir/slapd.pid$tls

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: $SLAPD_MODULES
olcModuleLoad: back_mdb
olcModuleLoad: memberof

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file://$SLAPD_SCHEMA/core.ldif
include: file://$SLAPD_SCHEMA/cosine.ldif
include: file://$SLAPD_SCHEMA/nis.ldif
include: file://$SLAPD_SCHEMA/inetorgperson.ldif

# Active Directory's objectSid and altSecurityIdentities, for the strong
# mapping tests (OIDs as in AD; the class is in OpenLDAP's test arc).
dn: cn=adtest,cn=schema,cn=config
objectClass: olcSchemaConfig
cn: adtest
olcAttributeTypes: ( 1.2.840.113556.1.4.146 NAME 'objectSid' EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
olcAttributeTypes: ( 1.2.840.113556.1.4.867 NAME 'altSecurityIdentities' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
olcAttributeTypes: ( 1.2.840.113556.1.4.98 NAME 'primaryGroupID' EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
olcObjectClasses: ( 1.3.6.1.4.1.4203.666.100.1 NAME 'certmapTestADUser' AUXILIARY MAY ( objectSid $ altSecurityIdentities $ primaryGroupID ) )

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcSizeLimit: 500

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcDbDirectory: $dir/db
olcDbMaxSize: 67108864
olcSuffix: $SLAPD_SUFFIX
olcRootDN: $SLAPD_ROOTDN
olcRootPW: $SLAPD_ROOTPW
olcAccess: {0}to attrs=userPassword by anonymous auth by * none
olcAccess: {1}to dn.subtree="ou=Private,$SLAPD_SUFFIX" by dn.exact="cn=reader,$SLAPD_SUFFIX" read by * none
olcAccess: {2}to * by * read
EOL
	if ! "$SLAPADD_BIN" -n0 -F "$dir/slapd.d" -l "$dir/config.ldif" >"$dir/slapadd.log" 2>&1; then
		cat "$dir/slapadd.log" >&2
		return 1
	fi
}

slapd_load() {
	# -q: no fsync per entry (10,000 entries load in a second, not minutes).
	if ! "$SLAPADD_BIN" -q -F "$1/slapd.d" -b "$SLAPD_SUFFIX" -l "$2" >"$1/slapadd.log" 2>&1; then
		cat "$1/slapadd.log" >&2
		return 1
	fi
}

# A port nobody listens on now (the start below retries if it is taken).
slapd_free_port() {
	while :; do
		p=$(random_port)
		if ! ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then
			echo "$p"
			return 0
		fi
	done
}

slapd_start() {
	dir=$1
	ldapi=${2:-}
	if [ "$(id -u)" -eq 0 ]; then
		chown -R nobody:nogroup "$dir"
	fi
	tries=0
	while [ $tries -lt 10 ]; do
		tries=$((tries + 1))
		port=$(cat "$dir/port" 2>/dev/null || slapd_free_port)
		tport=
		urls="ldap://127.0.0.1:$port/"
		if [ -f "$dir/tls.pem" ]; then
			tport=$(cat "$dir/tlsport" 2>/dev/null || slapd_free_port)
			urls="$urls ldaps://127.0.0.1:$tport/"
		fi
		if [ "$ldapi" = ldapi ]; then
			urls="$urls ldapi://$(printf '%s' "$dir/ldapi" | sed 's,/,%2F,g')"
		fi
		# -d 0 keeps slapd in the foreground, so $! is its PID.
		# shellcheck disable=SC2046
		"$SLAPD_BIN" -d 0 -F "$dir/slapd.d" -h "$urls" $(slapd_user_args) \
			>"$dir/slapd.log" 2>&1 &
		echo $! > "$dir/pid"
		slapd_dirs="$slapd_dirs $dir"
		n=0
		while [ $n -lt 100 ]; do
			if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
				break
			fi
			if ldapsearch -x -LLL -H "ldap://127.0.0.1:$port" -b "" -s base \
				namingContexts >/dev/null 2>&1; then
				echo "$port" > "$dir/port"
				[ -z "${tport:-}" ] || echo "$tport" > "$dir/tlsport"
				SLAPD_URI="ldap://127.0.0.1:$port"
				return 0
			fi
			sleep 0.1
			n=$((n + 1))
		done
		slapd_stop "$dir"
		rm -f "$dir/port" "$dir/tlsport"
	done
	echo "slapd did not start from $dir:" >&2
	cat "$dir/slapd.log" >&2
	return 1
}

slapd_uri() {
	echo "ldap://127.0.0.1:$(cat "$1/port")"
}

slapd_ldaps_uri() {
	echo "ldaps://127.0.0.1:$(cat "$1/tlsport")"
}

slapd_pause() {
	kill -STOP "$(cat "$1/pid")"
}

slapd_resume() {
	kill -CONT "$(cat "$1/pid")"
}

slapd_stop() {
	[ -f "$1/pid" ] || return 0
	sl_pid=$(cat "$1/pid")
	rm -f "$1/pid"
	kill -CONT "$sl_pid" 2>/dev/null
	kill -TERM "$sl_pid" 2>/dev/null || return 0
	n=0
	while kill -0 "$sl_pid" 2>/dev/null && [ $n -lt 50 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	kill -KILL "$sl_pid" 2>/dev/null
	wait "$sl_pid" 2>/dev/null
	return 0
}

slapd_stop_all() {
	for d in $slapd_dirs; do
		slapd_stop "$d"
	done
}
