#!/bin/sh
# test_cockpit.sh's stand-in for systemd's cockpit-wsinstance-https-factory
# (run by systemd-socket-activate --accept --inetd, as root, once per
# connection from cockpit-tls). cockpit-tls sends the SHA-256 of a client
# certificate (64 hex digits) and waits for "done"; then it connects to
# /run/cockpit/wsinstance/https@<sha256>.sock. As systemd would, this
# starts cockpit-ws --for-tls-proxy on that socket (fd 3, LISTEN_FDS) as
# cockpit-wsinstance, in the cgroup
#   system.slice/system-cockpithttps.slice/cockpit-wsinstance-https@<sha256>.service
# (under CG_HOST, the root of the test's cgroup namespace), where
# cockpit-session later checks it runs.
set -u
fp=$(head -c 64)
case $fp in
*[!0-9a-f]*) echo "factory: not a SHA-256: $fp" >> "$FACTORY_LOG"; exit 1 ;;
esac
[ ${#fp} -eq 64 ] || { echo "factory: short fingerprint: $fp" >> "$FACTORY_LOG"; exit 1; }
sock=/run/cockpit/wsinstance/https@$fp.sock
cg=$CG_HOST/system.slice/system-cockpithttps.slice/cockpit-wsinstance-https@$fp.service
if [ ! -S "$sock" ]; then
	mkdir -p "$cg"
	# The instance must not keep this connection open: no stdin, stdout
	# to the log.
	ilog=$FACTORY_LOG.$fp
	sh -c 'echo $$ > "$1/cgroup.procs" &&
		exec systemd-socket-activate -l "$2" -E XDG_CONFIG_DIRS -E G_MESSAGES_DEBUG \
		setpriv --reuid="$WSI_UID" --regid="$WSI_GID" --clear-groups -- \
		/usr/lib/cockpit/cockpit-ws --for-tls-proxy --port=0' sh "$cg" "$sock" \
		< /dev/null >> "$ilog" 2>&1 &
	# systemd-socket-activate says so once the socket listens (the file
	# exists from bind(), before listen(): a connect then is refused).
	i=0
	while ! grep -q "^Listening on $sock" "$ilog" 2> /dev/null && [ $i -lt 200 ]; do
		sleep 0.05; i=$((i + 1))
	done
	# SocketUser=cockpit-ws, SocketMode=0600, as the unit says.
	chown "$WS_UID" "$sock" 2>> "$FACTORY_LOG"
fi
echo "factory: instance $fp" >> "$FACTORY_LOG"
# Exactly "done", then EOF: cockpit-tls takes only alphanumerics.
printf done
