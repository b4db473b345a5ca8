# pam_certmap.so build and tests (included from the top Makefile.am).

pammod_LTLIBRARIES = pam_certmap.la
pam_certmap_la_SOURCES = \
	pam_module/pam_certmap.c pam_module/pam_certmap.h \
	pam_module/options.c pam_module/cert_env.c \
	pam_module/socket.c
pam_certmap_la_SOURCES += pam_module/hint_env.c
pam_certmap_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/pam_module -I$(top_srcdir)/client
# Only the pam_sm_* hooks leave the module; libcertmap is linked in whole.
# libpam dlcloses the module at every pam_end(): libcertmap's once-per-process
# state (digests fetched from OpenSSL, the digest name list) would be lost and
# leaked each time, so the module stays loaded once it is (-z nodelete), as
# libcrypto itself does.
pam_certmap_la_LDFLAGS = -module -avoid-version -shared -Wl,-z,nodelete \
	-Wl,--version-script=$(top_srcdir)/pam_module/pam_certmap.sym
pam_certmap_la_LIBADD = libcertmap_audit.la libcertmap_internal.la \
	$(OPENSSL_LIBS) $(LIBCONFIG_LIBS) $(JSONC_LIBS) $(PAM_LIBS)
EXTRA_pam_certmap_la_DEPENDENCIES = pam_module/pam_certmap.sym

man_MANS += doc/pam_certmap.8
EXTRA_DIST += pam_module/pam_certmap.sym doc/pam_certmap.8 \
	conf/pam.d/certmap-webapp conf/pam.d/certmap-sshd-style \
	tests/pam/test_pam.sh tests/pam/corpus

# Tests: a driver that runs the real libpam on a test service directory,
# and a stand-in certmapd that answers garbage.
check_PROGRAMS += tests/pam/pam_driver tests/pam/stub_certmapd
tests_pam_pam_driver_SOURCES = tests/pam/pam_driver.c
tests_pam_pam_driver_LDADD = $(PAM_LIBS) -ldl
tests_pam_stub_certmapd_SOURCES = tests/pam/stub_certmapd.c
TESTS += tests/pam/test_pam.sh

# doc/examples/pam-client.c, the pam_putenv example: built by make check so
# that it cannot rot, with no project header or config.h (as its own build
# line says), and run by test_pam.sh through pam_wrapper.
check_PROGRAMS += doc/examples/pam-client
doc_examples_pam_client_SOURCES = doc/examples/pam-client.c
doc_examples_pam_client_CPPFLAGS =
doc_examples_pam_client_LDADD = $(PAM_LIBS)

# The certificate decoder reads untrusted environment values: its fuzz
# target (tests/pam/fuzz_cert_env.c) replays its corpus in test_pam.sh.
check_PROGRAMS += tests/pam/replay_cert_env
tests_pam_replay_cert_env_SOURCES = tests/pam/fuzz_cert_env.c tests/pam/fuzz_env.c tests/pam/fuzz_env.h tests/fuzz/replay.c \
	pam_module/cert_env.c
tests_pam_replay_cert_env_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/pam_module
tests_pam_replay_cert_env_LDADD = libcertmap_internal.la $(OPENSSL_LIBS)
# The same for the user-mapping data decoder (tests/pam/fuzz_hint_env.c).
check_PROGRAMS += tests/pam/replay_hint_env
tests_pam_replay_hint_env_SOURCES = tests/pam/fuzz_hint_env.c tests/pam/fuzz_env.c tests/fuzz/replay.c \
	pam_module/hint_env.c
tests_pam_replay_hint_env_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/pam_module
tests_pam_replay_hint_env_LDADD = libcertmap_internal.la $(OPENSSL_LIBS)
if ENABLE_FUZZING
noinst_PROGRAMS += tests/pam/fuzz_hint_env
tests_pam_fuzz_hint_env_SOURCES = tests/pam/fuzz_hint_env.c tests/pam/fuzz_env.c pam_module/hint_env.c
tests_pam_fuzz_hint_env_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/pam_module
tests_pam_fuzz_hint_env_CFLAGS = $(FUZZ_CFLAGS)
tests_pam_fuzz_hint_env_LDADD = libcertmap_fuzz.la $(OPENSSL_LIBS)
noinst_PROGRAMS += tests/pam/fuzz_cert_env
tests_pam_fuzz_cert_env_SOURCES = tests/pam/fuzz_cert_env.c tests/pam/fuzz_env.c pam_module/cert_env.c
tests_pam_fuzz_cert_env_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/pam_module
tests_pam_fuzz_cert_env_CFLAGS = $(FUZZ_CFLAGS)
tests_pam_fuzz_cert_env_LDADD = libcertmap_fuzz.la $(OPENSSL_LIBS)
endif

# A PAM module is loaded by file name: its libtool archive is of no use
# in the module directory. (pammoddir has no "exec" in its name, so the
# module is installed with the data.)
install-data-hook:
	rm -f $(DESTDIR)$(pammoddir)/pam_certmap.la
# Without the archive libtool cannot name the module any more: remove it.
uninstall-hook:
	rm -f $(DESTDIR)$(pammoddir)/pam_certmap.so
