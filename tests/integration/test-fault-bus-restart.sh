#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fault: the system bus (dbus-daemon) is restarted. endpointd does not try
# to reconnect: it logs that it lost the bus and exits with status 1, so
# that systemd (Restart=on-failure) starts it again on the new bus, as
# endpointd(8) says. Nothing is lost: what was acknowledged before is
# served by the new process, and the state files are byte for byte the same.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-keys-lib.sh"
. "$top_srcdir/tests/integration/test-integrity-lib.sh"
. "$top_srcdir/tests/integration/test-fault-lib.sh"

f_setup
ep_start
T=$EP_TMP
it_manifest 1 "$T/m1"
it_install "$T/m1" "$T/m1.sig" || ep_fail "manifest not installed"
k_call CreateKey k1 "{}" >/dev/null || ep_fail "CreateKey k1"
k_call Seal s1 "$(k_ay 'dose limits')" "{}" >/dev/null || ep_fail "Seal s1"
ep_ctl encrypt k1 <<<"before" >"$T/ct" || ep_fail "encrypt"
before=$(k_state | grep -v -e '\./clock$')

# The bus goes away (as when dbus.service restarts).
kill -TERM "$EP_BUS_PID"
for _ in $(seq 600); do kill -0 "$EP_DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$EP_DAEMON_PID" 2>/dev/null && ep_fail "endpointd still runs 60 s after the bus went away"
EP_DAEMON_RC=0
wait "$EP_DAEMON_PID" || EP_DAEMON_RC=$?
EP_DAEMON_PID=
ep_assert_eq "$EP_DAEMON_RC" 1 "exit status after losing the bus (systemd restarts on failure)"
ep_assert_contains "$(cat "$T/daemon.log")" "Lost the connection to the system bus, exiting." "the log says why"
ep_assert_eq "$(k_state | grep -v -e '\./clock$')" "$before" "state files after the exit"

# A new bus on the same socket, and endpointd started again (what systemd does).
rm -f "$T/bus.sock"
ep_start_bus
ep_start
ep_assert_eq "$(ep_ctl decrypt k1 <"$T/ct")" before "k1 decrypts in the new process"
ep_assert_contains "$(k_call Unseal s1)" "0x64, 0x6f, 0x73" "s1 unseals in the new process"
ep_assert_eq "$(it_prop ManifestSerial)" 1 "the installed manifest"
ep_expect_exit 0 ep_ctl verify bin/pumpd
ep_done
