# The values an AD-like directory holds for a certificate
# (altSecurityIdentities, objectSid), worked out with openssl alone, for
# the tests that load such entries into the suite's slapd (sourced;
# defines functions only).
#
#   cert_issuer_ad PEM / cert_subject_ad PEM   the DN in AD's order
#   cert_serial_ur PEM       serial bytes reversed, upper-case hex
#   cert_ski PEM             subject key identifier, lower-case hex
#   cert_sha1_u PEM          SHA-1 of the DER, upper-case hex
#   sid_b64 SID              S-1-A-s1-s2... as base64 of the binary SID
rdn_reverse() { tr ',' '\n' | sed '1!G;h;$!d' | paste -sd, -; }
cert_issuer_ad() { openssl x509 -in "$1" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//' | rdn_reverse; }
cert_subject_ad() { openssl x509 -in "$1" -noout -subject -nameopt RFC2253 | sed 's/^subject=//' | rdn_reverse; }
cert_serial_ur() { # serial bytes reversed, upper-case hex
	s=$(openssl x509 -in "$1" -noout -serial | sed 's/^serial=//')
	[ $(( ${#s} % 2 )) -eq 0 ] || s="0$s"
	printf '%s' "$s" | fold -w2 | sed '1!G;h;$!d' | tr -d '\n' | tr a-f A-F
}
cert_ski() { openssl x509 -in "$1" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :' | tr A-F a-f; }
cert_sha1_u() { openssl x509 -in "$1" -outform DER | sha1sum | cut -d' ' -f1 | tr a-f A-F; }
sid_b64() { # S-1-A-s1-s2... -> base64 of the binary SID
	IFS=- read -r _ rev auth subs <<EOS
$1
EOS
	n=$(printf '%s\n' "$subs" | tr '-' '\n' | wc -l)
	{
		printf '%02x%02x%012x' "$rev" "$n" "$auth"
		for x in $(printf '%s' "$subs" | tr '-' ' '); do
			printf '%08x' "$x" | fold -w2 | sed '1!G;h;$!d' | tr -d '\n'
		done
	} | sed 's/../\\x&/g' | xargs -0 printf '%b' | base64 -w0
}
