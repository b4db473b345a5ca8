# The protocol client (included from the top Makefile.am). It is part of
# libcertmap so that the PAM module and TLS servers need one library; it
# only speaks to the socket. protocol.h defines the wire names and limits
# once, for this client and for certmapd.
libcertmap_internal_la_SOURCES += client/client.c client/answer_parse.c \
	client/answer_parse.h client/protocol.h client/certmap_client.h
include_certmap_HEADERS += client/certmap_client.h

man_MANS += doc/certmap_client.3
EXTRA_DIST += doc/certmap_client.3 doc/PROTOCOL.md
