# Set-up shared by the certmapd tests (sourced after tests/lib/shlib.sh):
# a temporary directory, nss_wrapper accounts, a configuration, and
# certmapd started and stopped as tests/service/test_certmapd.sh does.
CERTMAPD=${CERTMAPD:-$builddir/certmapd}   # a test can be run against another build
FRAMES="$builddir/tests/service/frames"
mkdir -p "$builddir/tests"
tmp=$(mktemp -d "$builddir/tests/tmp-svc.XXXXXX")
chmod 755 "$tmp"
sock="$tmp/sock"
pid=
stop_daemon() {
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		pid=
	fi
}
trap 'stop_daemon; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

printf 'alice:x:1000:1000:Alice:/home/alice:/bin/sh\nbob:x:1001:1001:Bob:/home/bob:/bin/sh\nroot:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n' > "$tmp/passwd"
printf 'alice:x:1000:\nbob:x:1001:\ndev:x:2000:alice\nnogroup:x:65534:\n' > "$tmp/group"
NSS_WRAPPER_PASSWD="$tmp/passwd"; NSS_WRAPPER_GROUP="$tmp/group"
export NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP

write_config() { # $1: file, $2: extra service settings
	cat > "$1" <<EOC
verify = { ca_file = "$certs/ca.pem"; };
domains = ( { name = "local"; type = "local"; } );
rules = (
  { name = "upn"; priority = 10; match = "<EKU>clientAuth";
    map = "LOCAL:{subject_principal.short_name}"; domains = ["local"]; }
);
service = { socket = "$sock"; user = "root"; allowed_uids = [0, $(id -u)];
  timeout = 2; cache_ttl = 60; cache_size = 100; $2 };
EOC
}

start_daemon() { # $1: config, then certmapd options
	conf=$1; shift
	sh "$srcdir/tests/lib/nsswrap.sh" "$CERTMAPD" --foreground --config "$conf" "$@" >> "$tmp/log" 2>&1 &
	pid=$!
	i=0
	while [ ! -S "$sock" ] && [ $i -lt 50 ] && kill -0 "$pid" 2>/dev/null; do
		sleep 0.1; i=$((i + 1))
	done
	[ -S "$sock" ]
}

# frames NAME : sends $tmp/req on one connection; output (every reply
# frame, then OPEN or CLOSED) in $out; a reply that is not strict JSON in
# valid UTF-8 fails the check NAME.
frames() {
	out=$("$FRAMES" "$sock" < "$tmp/req" 2>&1) && rc=0 || rc=$?
	if [ "$rc" -eq 0 ]; then ok "$1: replies are strict JSON in UTF-8"; else ko "$1: replies (exit $rc)"; printf '%s\n' "$out" | head -10; fi
}
