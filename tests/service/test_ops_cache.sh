#!/bin/sh
# certmapd's answer cache never outlives what the answer depends on: a
# certificate that expires a few seconds from now, and a CRL whose
# nextUpdate is a few seconds away, are not answered "mapped" from the
# cache once that moment has passed, although cache_ttl is a minute. Nor
# is the verification kept with a certificate seen before (a new request
# for it, with a requested user, misses the answer cache but finds the
# certificate): not past notAfter or nextUpdate, and not across a reload
# that replaced the CA file.
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"

. "$srcdir/tests/service/svclib.sh"
svc_setup ops-cache
SVC_FRESH=1
SVC_LIMITS="timeout = 5; cache_ttl = 60; cache_size = 100;"
OPENSSL=${OPENSSL:-openssl}
svc_passwd 'alice:x:1000:1000:Alice:/home/alice:/bin/sh' 'root:x:0:0:root:/root:/bin/sh'
svc_group 'alice:x:1000:' 'root:x:0:'

# ------------------------------------------------- certificates made here
# A CA database of our own, signing with the suite's CA (tests/certs/out).
mkdir "$tmp/ca" "$tmp/ca/new"
: > "$tmp/ca/index.txt"
echo 01 > "$tmp/ca/crlnumber"
echo 7001 > "$tmp/ca/serial"
cat > "$tmp/ca/ca.cnf" <<EOF
[ca]
default_ca = d
[d]
database = $tmp/ca/index.txt
new_certs_dir = $tmp/ca/new
serial = $tmp/ca/serial
crlnumber = $tmp/ca/crlnumber
default_md = sha256
policy = p
unique_subject = no
[p]
commonName = supplied
[ext]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectAltName = otherName:1.3.6.1.4.1.311.20.2.3;UTF8:alice@EXAMPLE.COM
[req]
distinguished_name = dn
[dn]
EOF
OPENSSL_CONF="$tmp/ca/ca.cnf"; export OPENSSL_CONF
stamp() { date -u -d "@$1" +%Y%m%d%H%M%SZ; }

# short_cert NAME SECONDS: an alice certificate valid from an hour ago
# until SECONDS from now; prints its notAfter in seconds since the epoch.
short_cert() {
	end=$(( $(date +%s) + $2 ))
	"$OPENSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/$1.key" 2>/dev/null &&
	"$OPENSSL" req -new -key "$tmp/$1.key" -subj "/O=Example/CN=$1" -out "$tmp/$1.csr" 2>/dev/null &&
	"$OPENSSL" ca -batch -config "$tmp/ca/ca.cnf" -notext -cert "$certs/ca.pem" \
		-keyfile "$certs/ca.key" -startdate "$(stamp $(( $(date +%s) - 3600 )))" \
		-enddate "$(stamp "$end")" -extensions ext -extfile "$tmp/ca/ca.cnf" \
		-in "$tmp/$1.csr" -out "$tmp/$1.pem" > "$tmp/ca.log" 2>&1 || { cat "$tmp/ca.log"; return 1; }
	echo "$end"
}

hits() { client stats "$sock" | tr -d ' \n' | sed -n 's/.*"hits":\([0-9]*\).*/\1/p'; }
# Sleeps until the wall clock is past $1 (seconds since the epoch).
sleep_past() { while [ "$(date +%s)" -le "$1" ]; do sleep 0.2; done; }

# ------------------------------------------------- a certificate that expires
write_config "$tmp/certmap.conf"
require_daemon "daemon starts" "$tmp/certmap.conf"

# ------------------------------------------------- hits without a decode
# Frames of the commonest shape (base64 DER, plain strings) are answered
# from the cache by their bytes: the same answers as a decode would give.
b64=$(base64 -w0 "$certs/alice.der")
frame() { printf '%s\0' "$1" > "$tmp/frame"; client raw "$sock" < "$tmp/frame" | tr -d '\0'; }
plain="{\"method\":\"org.certmap.Mapper.Map\",\"parameters\":{\"certificate\":\"$b64\"}}"
first=$(frame "$plain")
h0=$(hits)
again=$(frame "$plain")
if [ "$(hits)" -eq $((h0 + 1)) ] && [ "$again" = "$first" ]; then
	ok "a plain frame again: a hit, the same reply"
else
	ko "a plain frame again: a hit, the same reply"; echo "$first"; echo "$again"
fi
out=$(frame "{ \"parameters\" : {\"certificate\":\"$b64\"} , \"method\":\"org.certmap.Mapper.Map\" }")
h1=$(hits)
if [ "$h1" -eq $((h0 + 2)) ] && [ "$out" = "$first" ]; then ok "keys in another order: the same entry"; else ko "keys in another order: the same entry"; fi
out=$(frame "{\"method\":\"org.certmap.Mapper.Map\",\"parameters\":{\"certificate\":\"$b64\",\"trace\":true}}")
expect_out "trace asked by root: a traced answer, not the cached plain one" '"trace":['
out=$(frame "{\"method\":\"org.certmap.Mapper.Map\",\"parameters\":{\"trace\":true,\"certificate\":\"$b64\"}}")
if [ "$(hits)" -eq $((h1 + 1)) ]; then ok "the traced answer is a hit the second time"; else ko "the traced answer is a hit the second time"; fi
expect_out "and still traced" '"trace":['
out=$(frame "{\"method\":\"org.certmap.Mapper.Map\",\"parameters\":{\"certificate\":\"$b64\",\"user\":\"root\"}}")
expect_out "another requested user: its own answer" '"reason":"not_candidate"'
out=$(frame "{\"method\":\"org.certmap.Mapper.Map\",\"parameters\":{\"certificate\":\"$b64\",\"bogus\":1}}")
expect_out "an unknown parameter is still refused" 'InvalidParameter'
end=$(short_cert short 5) || { ko "short-lived certificate made"; finish; exit 1; }
expect_exit "short-lived certificate mapped" 0 client map "$sock" "$tmp/short.pem"
expect_out "mapped to alice" '"user":"alice"'
h0=$(hits)
expect_exit "mapped again, before notAfter" 0 client map "$sock" "$tmp/short.pem"
if [ "$(hits)" -gt "$h0" ]; then ok "the second answer came from the cache"; else ko "the second answer came from the cache"; fi
sleep_past "$end"
expect_exit "after notAfter: not mapped, although cache_ttl is 60 s" 1 client map "$sock" "$tmp/short.pem"
expect_out "refused as expired" '"reason":"expired"'
expect_exit "after notAfter, a new request for the certificate seen before: not mapped" 1 \
	client map "$sock" "$tmp/short.pem" alice
expect_no_out "not mapped from the kept verification" '"verdict":"mapped"'
# A long-lived certificate is still cached for the whole TTL.
expect_exit "alice mapped" 0 client map "$sock" "$certs/alice.pem"
h0=$(hits)
expect_exit "alice mapped again" 0 client map "$sock" "$certs/alice.pem"
if [ "$(hits)" -gt "$h0" ]; then ok "a long-lived certificate is cached"; else ko "a long-lived certificate is cached"; fi
stop_daemon

# ------------------------------------------------- a CRL that is due
now=$(date +%s)
crl_end=$((now + 5))
"$OPENSSL" ca -batch -config "$tmp/ca/ca.cnf" -cert "$certs/ca.pem" -keyfile "$certs/ca.key" \
	-gencrl -crl_lastupdate "$(stamp $((now - 60)))" -crl_nextupdate "$(stamp "$crl_end")" \
	-out "$tmp/crl.pem" > "$tmp/ca.log" 2>&1 || cat "$tmp/ca.log"
write_config "$tmp/crl.conf" "" "crl_file = \"$tmp/crl.pem\";"
require_daemon "daemon starts with a CRL" "$tmp/crl.conf"
expect_exit "mapped while the CRL is current" 0 client map "$sock" "$certs/alice.pem"
h0=$(hits)
expect_exit "mapped again" 0 client map "$sock" "$certs/alice.pem"
if [ "$(hits)" -gt "$h0" ]; then ok "answered from the cache"; else ko "answered from the cache"; fi
sleep_past "$crl_end"
expect_exit "after the CRL's nextUpdate: not mapped from the cache" 1 client map "$sock" "$certs/alice.pem"
expect_no_out "not mapped" '"verdict":"mapped"'
expect_exit "after the CRL's nextUpdate, a new request: not mapped" 1 \
	client map "$sock" "$certs/alice.pem" alice
expect_no_out "not mapped from the kept verification" '"verdict":"mapped"'
stop_daemon

# ------------------------------------------------- a reload with another CA file
cp "$certs/ca.pem" "$tmp/trust.pem"
sed "s|$certs/ca.pem|$tmp/trust.pem|" "$tmp/certmap.conf" > "$tmp/trust.conf"
: > "$tmp/log"
if start_daemon "$tmp/trust.conf"; then ok "daemon starts with its own CA file"; else ko "daemon starts with its own CA file"; cat "$tmp/log"; finish; exit 1; fi
expect_exit "alice mapped under the test CA" 0 client map "$sock" "$certs/alice.pem"
expect_exit "alice mapped again with a requested user" 0 client map "$sock" "$certs/alice.pem" alice
cp "$certs/rogue-ca.pem" "$tmp/trust.pem"
kill -HUP "$pid"
if wait_grep "reloaded" "$tmp/log"; then ok "reloaded with the rogue CA only"; else ko "reloaded"; cat "$tmp/log"; fi
expect_exit "after the reload: the same request is refused" 1 client map "$sock" "$certs/alice.pem"
expect_out "as untrusted" '"reason":"untrusted"'
expect_exit "after the reload: a new request is refused" 1 client map "$sock" "$certs/alice.pem" root
expect_out "as untrusted" '"reason":"untrusted"'
stop_daemon

finish
