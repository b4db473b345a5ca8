#!/bin/sh
# Installs everything certmap needs to build and test on Debian 12 (as root).
set -eu
export DEBIAN_FRONTEND=noninteractive
# The test suite starts its own slapd, nginx, apache2, haproxy, Caddy, cockpit and
# dbus-daemon. Their packages must not start system-wide copies (two web
# servers would fight over port 80 and fail the install): while installing,
# a policy-rc.d tells invoke-rc.d and deb-systemd-invoke not to start them,
# unless the host already has a policy of its own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	trap 'exit 1' INT TERM HUP
fi
apt-get update -q
apt-get install -y -q --no-install-recommends \
	libini-config-dev libpam-pkcs11 softhsm2 opensc \
	build-essential autoconf automake libtool pkg-config \
	libssl-dev openssl libconfig-dev libjson-c-dev \
	libpam0g-dev libldap2-dev libsystemd-dev \
	libcmocka-dev libnss-wrapper libpam-wrapper pamtester \
	clang-14 libclang-rt-14-dev \
	libsss-certmap-dev libtalloc-dev gnutls-bin ca-certificates \
	libgnutls28-dev \
	golang-go golang-github-varlink-go-dev \
	dbus systemd curl apache2 libapache2-mod-lookup-identity \
	libmicrohttpd-dev nginx-light prometheus caddy haproxy wrk chromium \
	slapd ldap-utils libsss-idmap-dev cockpit-ws cockpit-bridge
