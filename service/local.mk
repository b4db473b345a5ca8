# certmapd, its protocol and client library (included from the top Makefile.am).
