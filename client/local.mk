# The protocol client (included from the top Makefile.am). It is part of
# libcertmap so that the PAM module and TLS servers need one library; it
# only speaks to the socket. protocol.h defines the wire names and limits
# once, for this client and for certmapd.
libcertmap_internal_la_SOURCES += client/client.c client/answer_parse.c \
	client/map_frame.c client/map_frame.h \
	client/answer_parse.h client/protocol.h client/certmap_client.h
include_certmap_HEADERS += client/certmap_client.h

man_MANS += doc/certmap_client.3
EXTRA_DIST += doc/certmap_client.3 doc/PROTOCOL.md

# Tests of the client and of the JSON every certmap program writes.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_client
TESTS += tests/unit/test_client
tests_unit_test_client_SOURCES = tests/unit/test_client.c
tests_unit_test_client_CPPFLAGS = $(UNIT_CPPFLAGS) -I$(top_srcdir)/client
tests_unit_test_client_LDADD = $(UNIT_LDADD) $(JSONC_LIBS)
endif
check_PROGRAMS += tests/integration/json_check
tests_integration_json_check_SOURCES = tests/integration/json_check.c
tests_integration_json_check_LDADD = $(JSONC_LIBS)
TESTS += tests/integration/test_json.sh
EXTRA_DIST += tests/integration/test_json.sh
TESTS += tests/integration/test_peer.sh
EXTRA_DIST += tests/integration/test_peer.sh
