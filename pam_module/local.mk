# pam_certmap.so build and tests (included from the top Makefile.am).
