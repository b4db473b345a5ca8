# certmapd (included from the top Makefile.am). The protocol header and the
# client library live in client/.

# ---------------------------------------------------------------- certmapd
sbin_PROGRAMS += certmapd
certmapd_SOURCES = service/main.c service/serve.c service/conns.c service/limits.c \
	service/dispatch.c service/peer.c service/state.c \
	service/lookups.c service/cache.c service/cache.h service/request.c \
	service/request.h service/request_fast.c service/request_fast.h service/daemon.h \
	service/sd_shim.c service/log.c service/journal.c
# The D-Bus InfoPipe face (service.infopipe); a stub without libsystemd.
certmapd_SOURCES += service/infopipe.c service/infopipe.h service/infopipe_users.c service/infopipe_accounts.c \
	service/infopipe_objects.c service/infopipe_int.h
# certmapd's headers (service/) and the protocol's (client/), for certmapd
# and for the tests and fuzz targets built from its sources.
SERVICE_INCLUDES = -I$(top_srcdir)/service -I$(top_srcdir)/client
certmapd_CPPFLAGS = $(AM_CPPFLAGS) $(SERVICE_INCLUDES)
certmapd_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) -pthread
certmapd_LDADD = libcertmap_audit.la libcertmap_internal.la $(JSONC_LIBS) $(OPENSSL_LIBS) $(SYSTEMD_LIBS) -lpthread
# The HTTP forward-auth listener (service.http), with libmicrohttpd.
certmapd_SOURCES += service/http_cert.c service/http_cert.h
if HAVE_MICROHTTPD
certmapd_SOURCES += service/http.c service/http_answer.c service/http_answer.h \
	service/http_pages.c service/http_metrics.c service/http_int.h \
	service/http_deadline.c service/http_deadline.h
certmapd_CFLAGS += $(MHD_CFLAGS)
certmapd_LDADD += $(MHD_LIBS)
else
certmapd_SOURCES += service/http_off.c
endif
EXTRA_DIST += service/http_off.c service/http.c service/http_answer.c service/http_answer.h \
	service/http_pages.c service/http_metrics.c service/http_int.h \
	service/http_deadline.c service/http_deadline.h \
	conf/http/nginx.conf conf/http/Caddyfile conf/http/haproxy.cfg conf/http/certmap-auth.lua \
	conf/http/envoy.yaml conf/http/traefik.yml

man_MANS += doc/certmapd.8
EXTRA_DIST += doc/certmapd.8 \
	conf/certmapd.socket conf/certmapd.service \
	tests/service/test_certmapd.sh bench/service/run.sh

# ---------------------------------------------------------------- tests
check_PROGRAMS += tests/service/svc_client
tests_service_svc_client_SOURCES = tests/service/svc_client.c
tests_service_svc_client_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/service -I$(top_srcdir)/client -I$(top_srcdir)/tests/lib
tests_service_svc_client_CFLAGS = $(AM_CFLAGS) -pthread
tests_service_svc_client_LDADD = tests/lib/libcmtest.la libcertmap_internal.la $(JSONC_LIBS) $(OPENSSL_LIBS) -lpthread
TESTS += tests/service/test_certmapd.sh
# Operations: cache limits, refused peers, privileges, files (tests/service/test_ops*.sh).
TESTS += tests/service/test_ops_cache.sh tests/service/test_ops_peers.sh \
	tests/service/test_ops_root.sh
# Decision records written in batches, whole and in order (service/log.c).
TESTS += tests/service/test_log_batch.sh
EXTRA_DIST += tests/service/test_log_batch.sh
# RFC 4681 hints as the Map parameter user_mapping_data.
TESTS += tests/hint/test_hint_varlink.sh
EXTRA_DIST += tests/hint/test_hint_varlink.sh
EXTRA_DIST += tests/service/test_ops_cache.sh tests/service/test_ops_peers.sh \
	tests/service/test_ops_root.sh

# The D-Bus InfoPipe face against a private dbus-daemon (tests/infopipe/).
TESTS += tests/infopipe/test_infopipe.sh
EXTRA_DIST += tests/infopipe/test_infopipe.sh tests/infopipe/ifplib.sh
# ... with an ldap domain on the suite's own slapd (skips without slapd).
TESTS += tests/infopipe/test_infopipe_ldap.sh
EXTRA_DIST += tests/infopipe/test_infopipe_ldap.sh
# Apache's mod_lookup_identity through it (skips without apache2).
TESTS += tests/infopipe/test_apache.sh
EXTRA_DIST += tests/infopipe/test_apache.sh
# Cockpit's certificate login (cockpit-ws, cockpit-bridge) in private
# namespaces; cockpit_factory.sh stands in for systemd's wsinstance factory.
TESTS += tests/infopipe/test_cockpit.sh
EXTRA_DIST += tests/infopipe/test_cockpit.sh tests/infopipe/cockpit_factory.sh

# ---------------------------------------------------------------- fuzzing the request decoder
# tests/fuzz/replay.sh replays tests/fuzz/corpus/request through replay_request.
REQUEST_DECODER = service/request.c service/request_fast.c
check_PROGRAMS += tests/fuzz/replay_request
tests_fuzz_replay_request_SOURCES = tests/fuzz/fuzz_request.c tests/fuzz/replay.c $(REQUEST_DECODER)
tests_fuzz_replay_request_CPPFLAGS = $(AM_CPPFLAGS) $(SERVICE_INCLUDES)
tests_fuzz_replay_request_LDADD = libcertmap_internal.la $(JSONC_LIBS) $(OPENSSL_LIBS)
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_request
tests_fuzz_fuzz_request_SOURCES = tests/fuzz/fuzz_request.c $(REQUEST_DECODER)
tests_fuzz_fuzz_request_CPPFLAGS = $(AM_CPPFLAGS) $(SERVICE_INCLUDES)
tests_fuzz_fuzz_request_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_request_LDADD = libcertmap_fuzz.la $(JSONC_LIBS) $(OPENSSL_LIBS)
endif

# The fast path of the request decoder against json-c's tokener: every
# frame must decode to the same call, tree, Map parameters and errors.
check_PROGRAMS += tests/fuzz/replay_request_diff
tests_fuzz_replay_request_diff_SOURCES = tests/fuzz/fuzz_request_diff.c tests/fuzz/replay.c \
	$(REQUEST_DECODER)
tests_fuzz_replay_request_diff_CPPFLAGS = $(AM_CPPFLAGS) $(SERVICE_INCLUDES)
tests_fuzz_replay_request_diff_LDADD = libcertmap_internal.la $(JSONC_LIBS) $(OPENSSL_LIBS)
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_request_diff
tests_fuzz_fuzz_request_diff_SOURCES = tests/fuzz/fuzz_request_diff.c $(REQUEST_DECODER)
tests_fuzz_fuzz_request_diff_CPPFLAGS = $(AM_CPPFLAGS) $(SERVICE_INCLUDES)
tests_fuzz_fuzz_request_diff_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_request_diff_LDADD = libcertmap_fuzz.la $(JSONC_LIBS) $(OPENSSL_LIBS)
endif

# ---------------------------------------------------------------- HTTP listener tests
TESTS += tests/http/test_browser.sh
TESTS += tests/http/test_http.sh tests/http/test_nginx.sh tests/http/test_caddy.sh \
	tests/http/test_haproxy.sh
EXTRA_DIST += tests/http/nginxlib.sh tests/http/test_browser.sh
EXTRA_DIST += tests/http/test_http.sh tests/http/httplib.sh tests/http/test_nginx.sh \
	tests/http/test_caddy.sh tests/http/test_haproxy.sh

# ---------------------------------------------------------------- fuzzing the HTTP header decoders
# tests/fuzz/replay.sh replays tests/fuzz/corpus/http_cert through replay_http_cert.
check_PROGRAMS += tests/fuzz/replay_http_cert
tests_fuzz_replay_http_cert_SOURCES = tests/fuzz/fuzz_http_cert.c tests/fuzz/replay.c service/http_cert.c
tests_fuzz_replay_http_cert_CPPFLAGS = $(AM_CPPFLAGS) $(SERVICE_INCLUDES)
tests_fuzz_replay_http_cert_LDADD = libcertmap_internal.la $(OPENSSL_LIBS)
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_http_cert
tests_fuzz_fuzz_http_cert_SOURCES = tests/fuzz/fuzz_http_cert.c service/http_cert.c
tests_fuzz_fuzz_http_cert_CPPFLAGS = $(AM_CPPFLAGS) $(SERVICE_INCLUDES)
tests_fuzz_fuzz_http_cert_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_http_cert_LDADD = libcertmap_fuzz.la $(OPENSSL_LIBS)
endif

# ---------------------------------------------------------------- fuzzing the HTTP request path
# Method, path, headers in; status, headers, body or a Map frame out
# (service/http_answer.c, without libmicrohttpd or a socket).
HTTP_REQUEST_FUZZ_SOURCES = tests/fuzz/fuzz_http_request.c service/http_answer.c \
	service/http_answer.h service/http_pages.c service/http_cert.c
check_PROGRAMS += tests/fuzz/replay_http_request
tests_fuzz_replay_http_request_SOURCES = $(HTTP_REQUEST_FUZZ_SOURCES) tests/fuzz/replay.c
tests_fuzz_replay_http_request_CPPFLAGS = $(AM_CPPFLAGS) $(SERVICE_INCLUDES)
tests_fuzz_replay_http_request_LDADD = libcertmap_internal.la $(JSONC_LIBS) $(OPENSSL_LIBS)
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_http_request
tests_fuzz_fuzz_http_request_SOURCES = $(HTTP_REQUEST_FUZZ_SOURCES)
tests_fuzz_fuzz_http_request_CPPFLAGS = $(AM_CPPFLAGS) $(SERVICE_INCLUDES)
tests_fuzz_fuzz_http_request_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_http_request_LDADD = libcertmap_fuzz.la $(JSONC_LIBS) $(OPENSSL_LIBS)
endif

# ---------------------------------------------------------------- example
# Built by make check so that it cannot rot.
check_PROGRAMS += doc/examples/tls-server
doc_examples_tls_server_SOURCES = doc/examples/tls-server.c
doc_examples_tls_server_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/client
doc_examples_tls_server_LDADD = libcertmap.la -lssl $(OPENSSL_LIBS)
# A real binary, not a libtool wrapper script, so the tests can preload
# nss_wrapper (and libasan) into it alone.
doc_examples_tls_server_LDFLAGS = -no-install

# ---------------------------------------------------------------- bench
check_PROGRAMS += bench/service/bench_client
bench_service_bench_client_SOURCES = bench/service/bench_client.c bench/service/benchlib.c \
	bench/service/benchlib.h
bench_service_bench_client_CFLAGS = $(AM_CFLAGS) -pthread
bench_service_bench_client_LDADD = -lpthread
check_PROGRAMS += bench/service/bench_first
bench_service_bench_first_SOURCES = bench/service/bench_first.c bench/service/benchlib.c \
	bench/service/benchlib.h
bench_service_bench_first_LDADD = $(OPENSSL_LIBS)
EXTRA_DIST += bench/service/run.sh bench/service/benchlib.sh
bench-service: certmapd bench/service/bench_client bench/service/bench_first tests/service/svc_client \
		tests/lib/logsink tests/certs/out/stamp
	$(SHELL) $(top_srcdir)/bench/service/run.sh $(abs_top_builddir) $(abs_top_srcdir)
.PHONY: bench-service
# The HTTP listener: /auth against varlink Map, nginx auth_request against a
# 204 location (bench/service/run_http.sh).
check_PROGRAMS += bench/service/bench_http
bench_service_bench_http_SOURCES = bench/service/bench_http.c bench/service/benchlib.c \
	bench/service/benchlib.h
bench_service_bench_http_CFLAGS = $(AM_CFLAGS) -pthread
bench_service_bench_http_LDADD = -lpthread
EXTRA_DIST += bench/service/run_http.sh
bench-http: certmapd bench/service/bench_client bench/service/bench_http tests/certs/out/stamp
	$(SHELL) $(top_srcdir)/bench/service/run_http.sh $(abs_top_builddir) $(abs_top_srcdir)
.PHONY: bench-http
# Load on the HTTP listener (64 clients, 1 M /auth, slow clients and
# oversized headers meanwhile): bench/service/load_http.sh. Not in make check.
EXTRA_DIST += bench/service/load_http.sh
load-http: certmapd bench/service/bench_http tests/certs/out/stamp
	$(SHELL) $(top_srcdir)/bench/service/load_http.sh $(abs_top_builddir) $(abs_top_srcdir)
.PHONY: load-http

# ---------------------------------------------------------------- protocol tests
check_PROGRAMS += tests/service/frames
tests_service_frames_SOURCES = tests/service/frames.c
tests_service_frames_LDADD = $(JSONC_LIBS)
tests_service_frames_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
TESTS += tests/service/test_protocol.sh
EXTRA_DIST += tests/service/test_protocol.sh tests/service/svclib.sh
TESTS += tests/service/test_varlink_go.sh
EXTRA_DIST += tests/service/test_varlink_go.sh tests/service/varlink_conformance.go
check_PROGRAMS += tests/service/hold
tests_service_hold_SOURCES = tests/service/hold.c
TESTS += tests/service/test_fd_exhaustion.sh
EXTRA_DIST += tests/service/test_fd_exhaustion.sh

# ---------------------------------------------------------------- unit tests of the service's parts
if HAVE_CMOCKA
check_PROGRAMS += tests/service/test_lookups
TESTS += tests/service/test_lookups
tests_service_test_lookups_SOURCES = tests/service/test_lookups.c service/lookups.c
tests_service_test_lookups_CPPFLAGS = $(UNIT_CPPFLAGS) $(SERVICE_INCLUDES)
tests_service_test_lookups_CFLAGS = $(AM_CFLAGS) -pthread
tests_service_test_lookups_LDADD = $(CMOCKA_LIBS) -lpthread
check_PROGRAMS += tests/service/test_log
TESTS += tests/service/test_log
tests_service_test_log_SOURCES = tests/service/test_log.c service/log.c
tests_service_test_log_CPPFLAGS = $(UNIT_CPPFLAGS) $(SERVICE_INCLUDES)
tests_service_test_log_CFLAGS = $(AM_CFLAGS) -pthread
tests_service_test_log_LDADD = $(CMOCKA_LIBS) -lpthread
check_PROGRAMS += tests/service/test_request
TESTS += tests/service/test_request
tests_service_test_request_SOURCES = tests/service/test_request.c $(REQUEST_DECODER) \
	service/request_fast.h
tests_service_test_request_CPPFLAGS = $(UNIT_CPPFLAGS) $(SERVICE_INCLUDES)
tests_service_test_request_LDADD = $(UNIT_LDADD) $(JSONC_LIBS)
check_PROGRAMS += tests/service/test_request_fast
TESTS += tests/service/test_request_fast
tests_service_test_request_fast_SOURCES = tests/service/test_request_fast.c $(REQUEST_DECODER) \
	service/request_fast.h
tests_service_test_request_fast_CPPFLAGS = $(UNIT_CPPFLAGS) $(SERVICE_INCLUDES)
tests_service_test_request_fast_LDADD = $(UNIT_LDADD) $(JSONC_LIBS)
check_PROGRAMS += tests/service/test_cache
TESTS += tests/service/test_cache
tests_service_test_cache_SOURCES = tests/service/test_cache.c service/cache.c
tests_service_test_cache_CPPFLAGS = $(UNIT_CPPFLAGS) $(SERVICE_INCLUDES)
tests_service_test_cache_LDADD = libcertmap_audit.la $(UNIT_LDADD)
check_PROGRAMS += tests/unit/test_http_cert
TESTS += tests/unit/test_http_cert
tests_unit_test_http_cert_SOURCES = tests/unit/test_http_cert.c service/http_cert.c
tests_unit_test_http_cert_CPPFLAGS = $(UNIT_CPPFLAGS) $(SERVICE_INCLUDES)
tests_unit_test_http_cert_LDADD = $(UNIT_LDADD)
endif

# ---------------------------------------------------------------- the audit trail
# Read back from a listener the test owns at journald's and syslog's
# sockets, in a private mount namespace (skips without root and unshare).
check_PROGRAMS += tests/lib/logsink
tests_lib_logsink_SOURCES = tests/lib/logsink.c
TESTS += tests/service/test_audit.sh
EXTRA_DIST += tests/service/test_audit.sh
