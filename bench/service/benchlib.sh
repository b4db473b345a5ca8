# Shell helpers of certmapd's benchmarks (sourced by run.sh, run_http.sh
# and load_http.sh): the accounts and the configuration they share.

# bench_accounts DIR [PASSWD_LINE...]: alice (and the lines given) in
# nss_wrapper files under DIR, exported for everything started after.
bench_accounts() {
	b_dir=$1; shift
	{ printf 'alice:x:1000:1000:Alice:/home/alice:/bin/sh\n'; for l in "$@"; do printf '%s\n' "$l"; done; } \
		> "$b_dir/passwd"
	printf 'alice:x:1000:\ndev:x:2000:alice\nnogroup:x:65534:\n' > "$b_dir/group"
	NSS_WRAPPER_PASSWD="$b_dir/passwd"; NSS_WRAPPER_GROUP="$b_dir/group"
	export NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
}

# bench_conf FILE SERVICE: the test CA, the local domain and the upn rule,
# with SERVICE as the text inside service = { ... }.
bench_conf() {
	cat > "$1" <<EOC
verify = { ca_file = "$certs/ca.pem"; };
domains = ( { name = "local"; type = "local"; } );
rules = ( { name = "upn"; priority = 10; match = "<EKU>clientAuth";
  map = "LOCAL:{subject_principal.short_name}"; domains = ["local"]; } );
service = { $2 };
EOC
}

# bench_certmapd CONF LOG: starts certmapd -f on CONF (its lines in LOG)
# and waits until it serves; sets pid (the wrapper's) and daemon (certmapd's).
bench_certmapd() {
	sh "$srcdir/tests/lib/nsswrap.sh" "$builddir/certmapd" -f -c "$1" > "$2" 2>&1 &
	pid=$!
	b_i=0; while ! grep -q " serving " "$2" && [ $b_i -lt 50 ]; do sleep 0.1; b_i=$((b_i + 1)); done
	daemon=$(pgrep -P "$pid" certmapd || echo "$pid")
}
