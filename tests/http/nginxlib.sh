# nginx in front of certmapd, shared by tests/http/test_nginx.sh,
# tests/http/test_browser.sh and bench/service/run_http.sh (sourced; needs
# $tmp). nginx runs with its own prefix, configuration and logs under
# $tmp/nginx and is stopped by its PID.
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
ngx="$tmp/nginx"
ngx_pid=

# ngx_usable: 0 when nginx is there with auth_request, else says why.
ngx_usable() {
	if [ ! -x "$NGINX" ]; then
		echo "SKIP: nginx is not installed (Debian nginx-light)"
		return 1
	fi
	if ! "$NGINX" -V 2>&1 | grep -q -- --with-http_auth_request_module; then
		echo "SKIP: this nginx has no auth_request module"
		return 1
	fi
}

# ngx_upstream HTTP-SOCKET: conf/http/nginx.conf's upstream "certmapd",
# kept-alive connections to certmapd's HTTP Unix socket (goes in http {}).
ngx_upstream() {
	cat <<EOC
	upstream certmapd {
		server unix:$1;
		keepalive 16;
	}
EOC
}

# ngx_locations HTTP-SOCKET UPSTREAM-PORT CERT-VARIABLE: conf/http/nginx.conf's
# locations with these paths (certmapd is ngx_upstream's, which must be
# there too): auth_request to certmapd's /auth with the certificate from
# CERT-VARIABLE (\$ssl_client_escaped_cert behind TLS), X-Certmap-User/Groups
# to the upstream, 401/403/495/496 to /denied.
ngx_locations() {
	cat <<EOC
		location / {
			auth_request /certmap-auth;
			auth_request_set \$certmap_user \$upstream_http_x_certmap_user;
			auth_request_set \$certmap_groups \$upstream_http_x_certmap_groups;
			auth_request_set \$certmap_reason \$upstream_http_x_certmap_reason;
			proxy_set_header X-Certmap-User \$certmap_user;
			proxy_set_header X-Certmap-Groups \$certmap_groups;
			proxy_pass http://127.0.0.1:$2;
		}
		location = /certmap-auth {
			internal;
			proxy_pass http://certmapd/auth;
			proxy_method HEAD;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_pass_request_body off;
			proxy_set_header Content-Length "";
			proxy_set_header X-Client-Cert $3;
		}
		error_page 401 403 495 496 /certmap-denied;
		location = /certmap-denied {
			internal;
			proxy_pass http://certmapd/denied;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_pass_request_body off;
			proxy_set_header Content-Length "";
			proxy_set_header X-Certmap-Reason \$certmap_reason;
			proxy_set_header X-Certmap-Verify \$ssl_client_verify;
			proxy_set_header X-Client-Cert $3;
		}
EOC
}

# ngx_app UPSTREAM-PORT: the application, which says which identity
# headers reached it.
ngx_app() {
	cat <<EOC
	server {
		listen 127.0.0.1:$1;
		location / {
			return 200 "app: user=[\$http_x_certmap_user] groups=[\$http_x_certmap_groups]\n";
		}
	}
EOC
}

# ngx_write_conf SERVERS...: nginx.conf around the given server blocks.
# nginx's workers run as nobody when nginx starts as root, as this uid otherwise.
ngx_write_conf() {
	mkdir -p "$ngx/logs" "$ngx/tmp"
	chmod 755 "$ngx"
	{
		cat <<EOC
daemon off;
worker_processes 1;
pid $ngx/nginx.pid;
error_log $ngx/logs/error.log ${NGX_ERROR_LEVEL:-info};
events { worker_connections ${NGX_CONNECTIONS:-64}; }
http {
	access_log ${NGX_ACCESS_LOG:-$ngx/logs/access.log};
	client_body_temp_path $ngx/tmp/body;
	proxy_temp_path $ngx/tmp/proxy;
	fastcgi_temp_path $ngx/tmp/fastcgi;
	uwsgi_temp_path $ngx/tmp/uwsgi;
	scgi_temp_path $ngx/tmp/scgi;
EOC
		printf '%s\n' "$@"
		echo "}"
	} > "$ngx/nginx.conf"
}

# ngx_start URL CURL-ARGS...: starts nginx and waits until URL answers.
ngx_start() {
	url=$1; shift
	"$NGINX" -p "$ngx" -c "$ngx/nginx.conf" -e "$ngx/logs/error.log" > "$ngx/logs/stdout" 2>&1 &
	ngx_pid=$!
	i=0
	while [ $i -lt 100 ]; do
		rc=0
		curl -s -o /dev/null --max-time 1 "$@" "$url" || rc=$?
		[ "$rc" -eq 0 ] && return 0
		kill -0 "$ngx_pid" 2>/dev/null || break
		sleep 0.1; i=$((i + 1))
	done
	cat "$ngx/logs/error.log" "$ngx/logs/stdout"
	return 1
}

# ngx_test_site: for the tests (needs tests/http/httplib.sh): certmapd with
# cert_format nginx and a contact URL, and nginx on a free loopback port
# ($port) asking for a client certificate (ssl_verify_client
# optional_no_ca) in front of the application on $up, with
# conf/http/nginx.conf's locations. Says ok/ko; returns 1 when either did
# not start.
ngx_test_site() {
	port=$(free_port) || { ko "a free port"; return 1; }
	up=$(free_port) || { ko "a second free port"; return 1; }
	[ "$up" != "$port" ] || up=$((port + 1))
	SVC_UIDS="0, $(id -u), 65534"
	write_config "$tmp/certmap.conf" "http = { socket = \"$hsock\"; cert_format = \"nginx\"; contact_url = \"mailto:help@example.com\"; };"
	if start_daemon "$tmp/certmap.conf"; then ok "certmapd starts"; else ko "certmapd starts"; cat "$tmp/log"; return 1; fi
	ngx_write_conf "	server {
		listen 127.0.0.1:$port ssl;
		ssl_certificate $certs/serverauth.pem;
		ssl_certificate_key $certs/serverauth.key;
		ssl_verify_client optional_no_ca;
$(ngx_locations "$hsock" "$up" '$ssl_client_escaped_cert')
	}" "$(ngx_upstream "$hsock")" "$(ngx_app "$up")"
	if ngx_start "https://127.0.0.1:$port/" -k; then ok "nginx starts"; else ko "nginx starts (curl $rc)"; return 1; fi
}

ngx_stop() {
	if [ -n "$ngx_pid" ]; then
		kill -QUIT "$ngx_pid" 2>/dev/null
		wait "$ngx_pid" 2>/dev/null
		ngx_pid=
	fi
}
