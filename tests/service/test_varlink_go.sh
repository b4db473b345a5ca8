#!/bin/sh
# Conformance with the reference varlink implementation: a small Go client
# (tests/service/varlink_conformance.go) built against Debian's
# golang-github-varlink-go-dev, in GOPATH mode and without network, talks
# to a certmapd started here. Skipped (77) where Go or the package is missing.
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"

GOSRC=/usr/share/gocode
if ! command -v go >/dev/null 2>&1; then
	echo "SKIP: go is not installed (apt-get install golang-go)"
	exit 77
fi
if [ ! -d "$GOSRC/src/github.com/varlink/go/varlink" ]; then
	echo "SKIP: the Go varlink library is not installed (apt-get install golang-github-varlink-go-dev)"
	exit 77
fi
. "$srcdir/tests/service/svclib.sh"
svc_setup svc

GOPATH=$GOSRC GO111MODULE=off GOFLAGS= GOPROXY=off GOENV=off CGO_ENABLED=0 \
	GOCACHE="$tmp/gocache" GOTMPDIR="$tmp" HOME="$tmp" \
	go build -o "$tmp/varlink_conformance" "$srcdir/tests/service/varlink_conformance.go" > "$tmp/go.log" 2>&1
if [ -x "$tmp/varlink_conformance" ]; then ok "the Go client builds"; else ko "the Go client builds"; cat "$tmp/go.log"; finish; exit 1; fi

write_config "$tmp/certmap.conf" ""
require_daemon "daemon starts" "$tmp/certmap.conf"

"$tmp/varlink_conformance" "$sock" "$certs/alice.der" "$certs/expired.pem" > "$tmp/go.out" 2>&1 && grc=0 || grc=$?
cat "$tmp/go.out"
n_pass=$(grep -c '^PASS: go:' "$tmp/go.out")
n_fail=$(grep -c '^FAIL: go:' "$tmp/go.out")
pass=$((pass + n_pass))
fail=$((fail + n_fail))
if [ "$grc" -eq 0 ] && [ "$n_pass" -ge 25 ]; then ok "the Go client is satisfied ($n_pass checks)"; else ko "the Go client (exit $grc, $n_pass passed)"; fi

stop_daemon
finish
