#!/bin/bash
# The files that install endpointd into a system: the unit passes
# systemd-analyze verify and has an exposure level of at most 1.0 in
# systemd-analyze security, also with the swtpm development drop-in;
# sysusers.d and tmpfiles.d entries apply to an empty root; the D-Bus policy
# and activation files are accepted by a real dbus-daemon.
. "$top_srcdir/tests/integration/lib.sh"

command -v systemd-analyze >/dev/null || ep_skip "systemd-analyze is not installed"
EP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/endpointd-test.XXXXXX")
chmod 0755 "$EP_TMP" # an unprivileged caller must reach the bus socket
make -C "$EP_BUILD" systemd/endpointd.service >/dev/null || ep_fail "cannot generate the unit"

# verify: with ExecStart= pointing at the build tree, since nothing is installed.
sed "s|^ExecStart=[^ ]*|ExecStart=$EP_BUILD/endpointd|" "$EP_BUILD/systemd/endpointd.service" \
        >"$EP_TMP/endpointd.service"
out=$(systemd-analyze verify --man=no "$EP_TMP/endpointd.service" 2>&1) || ep_fail "systemd-analyze verify: $out"
[ -z "$out" ] || ep_fail "systemd-analyze verify complains: $out"
ep_ok "systemd-analyze verify finds nothing to complain about"

# The exposure level of the unit as installed (issue 11): at most 1.0.
security=$(systemd-analyze security --offline=true --no-pager "$EP_TMP/endpointd.service" 2>&1)
score=$(printf '%s\n' "$security" | sed -n 's/.*Overall exposure level for endpointd.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || ep_fail "no exposure level from systemd-analyze security: $security"
awk -v s="$score" 'BEGIN { exit !(s <= 1.0) }' || ep_fail "exposure level $score is above 1.0: $security"
ep_ok "systemd-analyze security exposure level $score (at most 1.0)"
ep_assert_contains "$security" "✓ RestrictAddressFamilies=~AF_(INET|INET6)" "no Internet sockets in production"
ep_assert_contains "$security" "✓ PrivateNetwork=" "no network in production"

# The development drop-in for swtpm over TCP: valid, and it is what brings
# the network back.
mkdir -p "$EP_TMP/endpointd.service.d"
cp "$EP_SRC/systemd/swtpm-tcp.conf" "$EP_TMP/endpointd.service.d/"
out=$(systemd-analyze verify --man=no "$EP_TMP/endpointd.service" 2>&1) || ep_fail "verify with swtpm-tcp.conf: $out"
[ -z "$out" ] || ep_fail "systemd-analyze verify complains with swtpm-tcp.conf: $out"
security=$(systemd-analyze security --offline=true --no-pager "$EP_TMP/endpointd.service" 2>&1)
ep_assert_contains "$security" "✗ RestrictAddressFamilies=~AF_(INET|INET6)" "Internet sockets with swtpm-tcp.conf"
ep_assert_contains "$security" "✗ PrivateNetwork=" "host network with swtpm-tcp.conf"
rm -r "$EP_TMP/endpointd.service.d"
ep_ok "swtpm-tcp.conf passes verify and only it adds AF_INET/AF_INET6 and the host's network"

# sysusers.d and tmpfiles.d, applied to an empty root.
mkdir -p "$EP_TMP/root/etc"
printf 'root:x:0:0::/root:/bin/sh\n' >"$EP_TMP/root/etc/passwd"
printf 'root:x:0:\ntss:x:59:\n' >"$EP_TMP/root/etc/group"
systemd-sysusers --root="$EP_TMP/root" "$EP_SRC/systemd/endpointd.conf.sysusers" 2>"$EP_TMP/sysusers.err" ||
        ep_fail "systemd-sysusers: $(cat "$EP_TMP/sysusers.err")"
grep -q '^endpointd:' "$EP_TMP/root/etc/passwd" || ep_fail "sysusers did not create the endpointd user"
grep -q '^tss:.*endpointd' "$EP_TMP/root/etc/group" || ep_fail "endpointd is not in group tss"
ep_ok "sysusers.d creates user endpointd in group tss"
systemd-tmpfiles --root="$EP_TMP/root" --create "$EP_SRC/systemd/endpointd.conf.tmpfiles" 2>"$EP_TMP/tmpfiles.err" ||
        ep_fail "systemd-tmpfiles: $(cat "$EP_TMP/tmpfiles.err")"
ep_assert_eq "$(stat -c %a "$EP_TMP/root/var/lib/endpointd")" 700 "state directory mode"
[ -d "$EP_TMP/root/etc/endpointd/trust" ] || ep_fail "tmpfiles did not create the trust directory"
ep_ok "tmpfiles.d creates the state and trust directories"

# The bus policy and activation files, read by a real dbus-daemon.
mkdir -p "$EP_TMP/services"
cp "$EP_SRC/conf/org.endpointd.Endpoint1.service" "$EP_TMP/services/"
cat >"$EP_TMP/bus.conf" <<EOB
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$EP_TMP/bus.sock</listen>
  <auth>EXTERNAL</auth>
  <servicedir>$EP_TMP/services</servicedir>
  <!-- the defaults of Debian's system bus (/usr/share/dbus-1/system.conf) -->
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
  <include>$EP_SRC/conf/org.endpointd.Endpoint1.conf</include>
</busconfig>
EOB
dbus-daemon --config-file="$EP_TMP/bus.conf" --fork --print-pid=1 --print-address=1 >"$EP_TMP/bus.out" \
        2>"$EP_TMP/bus.err" || ep_fail "dbus-daemon refused the bus policy: $(cat "$EP_TMP/bus.err")"
EP_PIDS+=("$(sed -n 2p "$EP_TMP/bus.out")")
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$EP_TMP/bus.sock"
names=$(timeout 10 busctl --system --no-pager --activatable list 2>&1 | awk '{print $1}')
ep_assert_contains "$names" "org.endpointd.Endpoint1" "activatable names"
# Only endpointd (or root) may own the name: an ordinary user may not.
ep_expect_error "Access denied" ep_as 65534 timeout 10 busctl --system call org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus RequestName su org.endpointd.Endpoint1 0

ep_done
