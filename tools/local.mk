# The RFC 4681 example peers (included from the top Makefile.am): a GnuTLS
# TLS 1.2 server that takes the user-mapping hint off the wire and asks
# certmapd, and the matching client. Built when configure finds GnuTLS;
# not installed (they are examples, see README "RFC 4681 hints"). make
# builds them (all-local), make check needs them.
EXTRA_DIST += tools/certmap-hint-server.c tools/certmap-hint-client.c \
	tests/hint/test_hint_tls.sh
if HAVE_GNUTLS
CM_HINT_PEERS = tools/certmap-hint-server tools/certmap-hint-client
check_PROGRAMS += $(CM_HINT_PEERS)
all-local: $(CM_HINT_PEERS)
tools_certmap_hint_server_SOURCES = tools/certmap-hint-server.c
tools_certmap_hint_server_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/client
tools_certmap_hint_server_CFLAGS = $(AM_CFLAGS) $(GNUTLS_CFLAGS)
tools_certmap_hint_server_LDADD = libcertmap.la $(GNUTLS_LIBS)
# Real binaries, not libtool wrapper scripts, so that the tests can preload
# libasan into them.
tools_certmap_hint_server_LDFLAGS = -no-install
tools_certmap_hint_client_SOURCES = tools/certmap-hint-client.c
tools_certmap_hint_client_CPPFLAGS = $(AM_CPPFLAGS)
tools_certmap_hint_client_CFLAGS = $(AM_CFLAGS) $(GNUTLS_CFLAGS)
tools_certmap_hint_client_LDADD = libcertmap.la $(GNUTLS_LIBS)
tools_certmap_hint_client_LDFLAGS = -no-install
endif
# The end-to-end test skips (exit 77) without GnuTLS.
TESTS += tests/hint/test_hint_tls.sh
