#!/bin/sh
# A real browser in front of nginx and certmapd: headless Chromium (Debian
# chromium) opens the nginx site of tests/http/nginxlib.sh without a client
# certificate; the denial page must show, in English and, with a German
# Accept-Language, in German. The page's text comes from --dump-dom (the
# DOM after loading), and a screenshot is taken and checked to be a PNG.
# Skips (77) without chromium or nginx.
set -u
. "${CERTMAP_SRCDIR:?}/tests/lib/shlib.sh"
. "$srcdir/tests/http/httplib.sh"
. "$srcdir/tests/http/nginxlib.sh"

CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || echo /usr/bin/chromium)}
if [ ! -x "$CHROMIUM" ]; then
	echo "SKIP: chromium is not installed (Debian chromium)"
	exit 77
fi
ngx_usable || exit 77
cleanup_more() { ngx_stop; }

ngx_test_site || { finish; exit 1; }

# browser LANG ARGS...: Chromium with a new, empty profile each time (no
# certificate to offer); the server's certificate is from the suite's own CA.
browser() {
	lang=$1; shift
	prof=$(mktemp -d "$tmp/profile.XXXXXX")
	rc=0
	out=$(timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --user-data-dir="$prof" --ignore-certificate-errors \
		--lang="$lang" --accept-lang="$lang" --window-size=1024,768 \
		"$@" "https://127.0.0.1:$port/" 2> "$prof.stderr") || rc=$?
}

browser en-US --dump-dom
if [ "$rc" -eq 0 ]; then ok "chromium loads the site"; else ko "chromium loads the site (exit $rc)"; tail -5 "$prof.stderr"; fi
expect_out "the browser shows the denial page" "Your browser did not send a certificate."
expect_out "the page links to the contact" 'href="mailto:help@example.com"'
expect_out "the page is in English" 'lang="en"'
expect_no_out "the browser never reaches the application" "app:"
expect_no_out "the page runs no script" "<script"

browser de-DE --dump-dom
expect_out "with German first, the page is in German" "Ihr Browser hat kein Zertifikat gesendet."

shot="$tmp/denied.png"
browser en-US --screenshot="$shot"
if [ "$rc" -eq 0 ] && [ "$(head -c 8 "$shot" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]; then
	ok "a screenshot of the page is a PNG"
else
	ko "a screenshot of the page is a PNG (exit $rc)"; tail -5 "$prof.stderr"
fi
# A blank page compresses to almost nothing; text does not.
size=$(wc -c < "$shot" 2>/dev/null || echo 0)
if [ "$size" -gt 5000 ]; then ok "the screenshot is not blank ($size bytes)"; else ko "the screenshot is not blank ($size bytes)"; fi
[ -z "${CERTMAP_KEEP_SHOT:-}" ] || cp "$shot" "$CERTMAP_KEEP_SHOT"

if grep -q 'no_certificate' "$ngx/logs/access.log" "$tmp/log" 2>/dev/null || grep -q '/certmap-auth\|GET / ' "$ngx/logs/access.log"; then
	ok "nginx served the browser"
else
	ko "nginx served the browser"
fi
finish
