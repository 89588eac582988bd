#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Written by an independent tester from the man pages and the D-Bus contract
# alone, without reading the implementation.
#
# FINDINGS (not registered in mk/attack.am): each attack asserts what the
# documentation says must happen, and fails while the product does not.
#   1. forged ScanFinished(trusted, 0) signals sent by uid 65534 (broadcast
#      and addressed to every unique name) while an admin runs
#      "endpointctl scan" on a violated tree. endpointctl(1): scan "prints
#      the verdict and ... exits with 5 when violations were found";
#      endpointd-dbus(7): detail signals come only from endpointd, to
#      subscribers. Observed: endpointctl prints "Scan N finished: trusted,
#      0 violations." and exits 0 (it believes a signal from any sender).
. "$top_srcdir/tests/attack/lib.sh"
. "$top_srcdir/tests/attack/indep-lib.sh"

ep_setup
ep_pki_init
ep_config Integrity ScanInterval infinity
ep_config Integrity Watch no
mkdir -p "$EP_ROOT/etc"
echo "rate=400" >"$EP_ROOT/etc/pump.conf"
# A large file, so that a scan takes long enough to be raced.
# A file that makes each scan last long enough for forged signals to come
# first; under valgrind, where hashing is ~50 times slower, a smaller one
# does, and one round of three.
size=1G rounds=3
if [ -n "$EP_DAEMON_WRAPPER" ]; then size=32M rounds=1; fi
truncate -s "$size" "$EP_ROOT/big.img"
ep_start
indep_write_helper
W=$EP_TMP/work
mkdir -p "$W"
chmod 0777 "$W"
ep_ctl manifest create "$EP_ROOT" --serial 20 --output "$W/m20" >/dev/null || ep_fail "manifest create"
ep_sign "$W/m20" "$W/m20.sig"
ep_ctl manifest install "$W/m20" "$W/m20.sig" >/dev/null || ep_fail "manifest install"
# The scan of the 1 GiB file: seconds normally, minutes under valgrind.
for _ in $(seq 6000); do
        s=$(ep_busctl get-property org.endpointd.Endpoint1 /org/endpointd/Endpoint1 org.endpointd.Endpoint1 IntegrityState)
        [ "$s" = 's "trusted"' ] && break
        sleep 0.1
done
ep_assert_eq "$s" 's "trusted"' "the install's scan ended trusted"
echo "rate=999" >"$EP_ROOT/etc/pump.conf"

ep_attack "forged ScanFinished(trusted) from uid 65534 during an admin's endpointctl scan of a violated tree"
ep_expect_exit 5 ep_ctl --no-progress scan
ep_ok "control: without forged signals endpointctl scan reports the violation"
cat >"$W/forge.py" <<'PYEOF'
import dbus, dbus.lowlevel, os, sys, time
bus = dbus.bus.BusConnection(os.environ['DBUS_SYSTEM_BUS_ADDRESS'])
stop = sys.argv[1]
def forge(dest, sid):
    m = dbus.lowlevel.SignalMessage('/org/endpointd/Endpoint1', 'org.endpointd.Integrity1', 'ScanFinished')
    m.append(dbus.UInt64(sid), 'trusted', dbus.UInt32(0), signature='tsu')
    if dest:
        m.set_destination(dest)
    bus.send_message(m)
drv = bus.get_object('org.freedesktop.DBus', '/org/freedesktop/DBus')
while not os.path.exists(stop):
    names = [n for n in drv.ListNames(dbus_interface='org.freedesktop.DBus') if n.startswith(':')]
    for sid in range(0, 64):
        forge(None, sid)
        for n in names:
            forge(n, sid)
    bus.flush()
    time.sleep(0.01)
PYEOF
chmod 0644 "$W/forge.py"
ep_as 65534 "$EP_PY" "$W/forge.py" "$W/forge.stop" &
forger=$!
sleep 1
for round in $(seq "$rounds"); do
        rc=0
        out=$(ep_ctl --no-progress scan 2>&1) || rc=$?
        if [ $rc -ne 5 ]; then
                touch "$W/forge.stop"; wait "$forger"
                ep_fail "round $round: endpointctl scan of a violated tree exited $rc with forged signals from uid 65534 around (documented: 5): $out"
        fi
        ep_assert_contains "$out" "etc/pump.conf" "round $round: the violation is reported"
done
touch "$W/forge.stop"
wait "$forger"
indep_alive "forged signals"

ep_log "$EP_ATTACKS attacks"
ep_done
