# Set-up shared by the HTTP listener tests (sourced after tests/lib/shlib.sh):
# svclib's set-up (tests/service/svclib.sh: $tmp, accounts, write_config,
# start_daemon, stop_daemon, cleanup_more) for certmapd with service.http
# on $hsock; a test's configuration has "http = { ... };" as write_config's
# second argument.
. "$srcdir/tests/service/svclib.sh"
svc_setup http
hsock="$tmp/http.sock"
SVC_LIMITS="timeout = 5; cache_ttl = 60; cache_size = 100;"
# Every start begins with an empty log; certmapd exits 0 when stopped, 1
# when it refuses to start: anything else (an abort, a sanitizer's report
# at exit) fails the test.
SVC_FRESH=1
SVC_STRICT_STOP=1

if ! command -v curl >/dev/null 2>&1; then
	echo "SKIP: curl is not installed"
	exit 77
fi
if ! "$CERTMAPD" --help >/dev/null 2>&1 || ! grep -q '^#define HAVE_MICROHTTPD 1' "$builddir/config.h"; then
	echo "SKIP: certmapd is built without libmicrohttpd"
	exit 77
fi

svc_passwd 'alice:x:1000:1000:Alice:/home/alice:/bin/sh' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534::/:/bin/sh'
svc_group 'alice:x:1000:' 'dev:x:2000:alice' 'nogroup:x:65534:'

# A TCP port on 127.0.0.1 nobody listens on (curl exit 7: refused).
free_port() {
	i=0
	while [ $i -lt 50 ]; do
		p=$(random_port)
		rc=0
		curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$p/" || rc=$?
		if [ "$rc" -eq 7 ]; then
			echo "$p"
			return 0
		fi
		i=$((i + 1))
	done
	return 1
}

# The suite's certificates as the proxies send them.
b64der() { "${OPENSSL:-openssl}" x509 -in "$certs/$1.pem" -outform DER | base64 -w0; }

# hget PATH [curl args...]: GET on the HTTP Unix socket; the status line
# and headers in $hdr, the body in $body, curl's exit in $rc.
hget() {
	path=$1; shift
	rc=0
	curl -s -D "$tmp/hdr" -o "$tmp/body" --max-time 10 --unix-socket "$hsock" "$@" "http://certmapd$path" || rc=$?
	hdr=$(tr -d '\r' < "$tmp/hdr" 2>/dev/null)
	body=$(cat "$tmp/body" 2>/dev/null)
}

# expect_status NAME CODE
expect_status() {
	got=$(printf '%s\n' "$hdr" | head -1 | cut -d' ' -f2)
	if [ "$got" = "$2" ]; then ok "$1"; else ko "$1 (status '$got', want $2; curl $rc)"; printf '%s\n' "$hdr" | head -12; fi
}

# expect_header NAME 'Header: value'
expect_header() {
	if printf '%s\n' "$hdr" | grep -qixF -- "$2"; then ok "$1"; else ko "$1 (no '$2')"; printf '%s\n' "$hdr" | head -12; fi
}
expect_no_header() {
	if printf '%s\n' "$hdr" | grep -qi -- "^$2:"; then ko "$1 (has $2)"; else ok "$1"; fi
}
