# Set-up shared by the HTTP listener tests (sourced after tests/lib/shlib.sh):
# a temporary directory, nss_wrapper accounts, a configuration with
# service.http, and certmapd started and stopped by its PID.
CERTMAPD=${CERTMAPD:-$builddir/certmapd}
mkdir -p "$builddir/tests"
tmp=$(mktemp -d "$builddir/tests/tmp-http.XXXXXX")
chmod 755 "$tmp"
sock="$tmp/sock"
hsock="$tmp/http.sock"
pid=
# certmapd exits 0 when stopped, 1 when it refuses to start: anything else
# (an abort, a sanitizer's report at exit) fails the test.
stop_daemon() {
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null
		st=0
		wait "$pid" 2>/dev/null || st=$?
		pid=
		if [ "$st" -gt 1 ]; then
			ko "certmapd exits cleanly (status $st)"
			grep -A20 "Sanitizer\|runtime error" "$tmp/log" | head -40
		fi
	fi
}
# A test adds its own servers to cleanup_more (a function) before this runs.
cleanup_more() { :; }
trap 'cleanup_more; stop_daemon; [ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

if ! command -v curl >/dev/null 2>&1; then
	echo "SKIP: curl is not installed"
	exit 77
fi
if ! "$CERTMAPD" --help >/dev/null 2>&1 || ! grep -q '^#define HAVE_MICROHTTPD 1' "$builddir/config.h"; then
	echo "SKIP: certmapd is built without libmicrohttpd"
	exit 77
fi

printf 'alice:x:1000:1000:Alice:/home/alice:/bin/sh\nroot:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n' > "$tmp/passwd"
printf 'alice:x:1000:\ndev:x:2000:alice\nnogroup:x:65534:\n' > "$tmp/group"
NSS_WRAPPER_PASSWD="$tmp/passwd"; NSS_WRAPPER_GROUP="$tmp/group"
export NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP

# write_config FILE HTTP-SETTINGS [ALLOWED-UIDS]
write_config() {
	cat > "$1" <<EOC
verify = { ca_file = "$certs/ca.pem"; };
domains = ( { name = "local"; type = "local"; } );
rules = (
  { name = "upn"; priority = 10; match = "<EKU>clientAuth";
    map = "LOCAL:{subject_principal.short_name}"; domains = ["local"]; }
);
service = { socket = "$sock"; user = "root"; allowed_uids = [${3:-0, $(id -u)}];
  timeout = 5; cache_ttl = 60; cache_size = 100;
  http = { $2 }; };
EOC
}

# start_daemon CONFIG: waits until certmapd says it serves.
start_daemon() {
	rm -f "$sock" "$hsock"
	: > "$tmp/log"
	sh "$srcdir/tests/lib/nsswrap.sh" "$CERTMAPD" --foreground --config "$1" >> "$tmp/log" 2>&1 &
	pid=$!
	i=0
	while ! grep -q " serving " "$tmp/log" && [ $i -lt 100 ] && kill -0 "$pid" 2>/dev/null; do
		sleep 0.1; i=$((i + 1))
	done
	grep -q " serving " "$tmp/log"
}

# A TCP port on 127.0.0.1 nobody listens on (curl exit 7: refused).
free_port() {
	i=0
	while [ $i -lt 50 ]; do
		p=$(( ($(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000) + 20000 ))
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
