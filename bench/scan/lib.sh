# SPDX-License-Identifier: LGPL-2.1-or-later
# Helpers of bench/scan/run.sh and bench/scan/floor.sh (sourced after
# tests/integration/lib.sh).

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l; }
warm() { find "$1" -type f -print0 | xargs -0 cat >/dev/null; }

cpu_ticks() { awk '{ print $14 + $15 }' /proc/"$EP_DAEMON_PID"/stat; }

# scan_install TREE: a fresh daemon (empty state) with Root=TREE and a
# signed manifest of TREE installed (its first scan runs); leaves it running.
SERIAL=0
scan_install() {
        local tree=$1
        ep_stop
        rm -rf "$EP_STATE"
        ep_config Integrity Root "$tree"
        ep_start
        SERIAL=$((SERIAL + 1))
        { echo "# endpointd: serial=$SERIAL product=bench version=1"
          bsdtar --format=mtree --options='!all,type,mode,uid,gid,size,link,sha256' -cf - -C "$tree" .; } \
                >"$EP_TMP/m" || ep_fail "bsdtar failed"
        ep_sign "$EP_TMP/m" "$EP_TMP/m.sig"
        /usr/bin/python3 - "$EP_TMP/m" "$EP_TMP/m.sig" <<'PY' || ep_fail "install failed"
import dbus, os, sys
bus = dbus.bus.BusConnection(os.environ["DBUS_SYSTEM_BUS_ADDRESS"])
i = dbus.Interface(bus.get_object("org.endpointd.Endpoint1", "/org/endpointd/Endpoint1"), "org.endpointd.Integrity1")
with open(sys.argv[1], "rb") as m, open(sys.argv[2], "rb") as s:
    i.InstallManifest(dbus.types.UnixFd(m), dbus.types.UnixFd(s))
PY
}
