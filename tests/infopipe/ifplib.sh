# Set-up shared by the tests of certmapd's D-Bus InfoPipe face (sourced
# after tests/lib/shlib.sh and, where a test starts certmapd through it,
# tests/service/svclib.sh; defines functions only).
#
#   ifp_require TOOL...      skip (77) unless every TOOL is installed and
#                            certmapd has its D-Bus face (libsystemd)
#   ifp_bus_conf FILE SOCKET a system-bus-like configuration listening on
#                            SOCKET that includes conf/certmapd-infopipe.conf
#   ifp_bus_start CONF SOCKET LOG
#                            a private dbus-daemon ($bus_pid, stderr
#                            appended to LOG); fails unless SOCKET appears
#   ifp_bus_stop             stop it (nothing when none runs)
#   ifp_owned                certmapd owns $IFP on the system bus
#   ifp_start CONFIG [OPTIONS...]
#                            svclib's start_daemon, then until $IFP is owned
#   call NAME WANT-EXIT ARGS...  busctl call on the face, output in $out
#   fails NAME ERROR PATH IFACE.METHOD DBUS-SEND-ARGS...
#                            the call fails with that D-Bus error name
#   pem NAME                 the suite's certificate NAME in PEM
IFP=org.freedesktop.sssd.infopipe
IFP_ROOT=/org/freedesktop/sssd/infopipe
bus_pid=

ifp_require() {
	for t in "$@"; do
		if ! command -v "$t" > /dev/null 2>&1; then
			echo "SKIP: $t is not installed"
			exit 77
		fi
	done
	if ! grep -q '^#define HAVE_SYSTEMD 1' "$builddir/config.h"; then
		echo "SKIP: certmapd was built without libsystemd (no D-Bus face)"
		exit 77
	fi
}

# The system bus's default policy (deny every method call and every name),
# then the shipped policy file, as /usr/share/dbus-1/system.conf includes
# system.d/. When the suite does not run as root, its user stands in for
# the service user in the policy.
ifp_bus_conf() { # $1: file, $2: socket
	{
		cat <<EOB
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$2</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
  <include>$srcdir/conf/certmapd-infopipe.conf</include>
EOB
		if [ "$(id -u)" -ne 0 ]; then
			printf '  <policy user="%s"><allow own="%s"/></policy>\n' "$(id -un)" "$IFP"
		fi
		echo '</busconfig>'
	} > "$1"
}

ifp_bus_start() { # $1: configuration, $2: its socket, $3: log
	rm -f "$2"
	dbus-daemon --nofork --config-file="$1" 2>> "$3" &
	bus_pid=$!
	b=0
	while [ ! -S "$2" ] && [ $b -lt 50 ]; do sleep 0.1; b=$((b + 1)); done
	[ -S "$2" ]
}

ifp_bus_stop() {
	if [ -n "$bus_pid" ]; then
		kill "$bus_pid" 2>/dev/null
		wait "$bus_pid" 2>/dev/null
		bus_pid=
	fi
}

ifp_owned() { busctl --system list --no-legend 2>/dev/null | grep -q "^$IFP "; }

ifp_start() { # start_daemon's arguments
	start_daemon "$@" && svc_wait "$pid" ifp_owned
}

call() {
	name=$1; want=$2; shift 2
	# "--": a PEM argument starts with dashes.
	expect_exit "$name" "$want" busctl --system -- call "$IFP" "$@"
}
# dbus-send prints the error name; busctl does not.
fails() {
	name=$1; err=$2; path=$3; meth=$4; shift 4
	expect_exit "$name" 1 dbus-send --system --print-reply --dest="$IFP" "$path" "$meth" "$@"
	expect_out "$name: $err" "Error $err: "
}
pem() { cat "$certs/$1.pem"; }
