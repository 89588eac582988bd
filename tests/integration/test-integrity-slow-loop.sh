#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A daemon whose event loop turns slower than the scan's progress interval
# (100 ms) still answers calls during the scan. It once did not: the
# progress timer, at the bus's priority, was due again at every turn, and
# when it tied with the bus's own timer (messages queued inside sd-bus
# while the daemon asked the bus who a new caller is) it won every time,
# so nothing else was dispatched until the scan ended. Seen under valgrind
# (an InstallManifest call waited minutes, and a subscriber's name watch
# timed out and dropped it); a loaded board is the same. Here strace makes
# the loop slow: epoll_wait, timerfd_settime, read, sendmsg and recvmsg
# each return 80 ms late. Without the fix this test fails: the statuses
# are answered only after the 64 GiB scan.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-integrity-lib.sh"

ZERO=0000000000000000000000000000000000000000000000000000000000000000
# The scan must outlast everything below many times over: a sparse 64 GiB
# takes half a minute natively, minutes with strace attached; the daemon
# is stopped (so the scan cancelled) at the end.
SIZE=68719476736

ep_setup --no-tpm
ep_pki_init
ep_config Integrity Watch no
R=$EP_ROOT
mkdir -p "$R/data"
echo "settings" >"$R/data/pump.conf"
ep_start
it_manifest 1 "$EP_TMP/m1"
it_install "$EP_TMP/m1" "$EP_TMP/m1.sig" || ep_fail "install of manifest 1 failed"
ep_expect_exit 0 ep_ctl --no-progress scan

# Manifest 2 adds a sparse file with a digest, so that it is hashed (made
# before the file exists: bsdtar would hash it too).
it_manifest 2 "$EP_TMP/m2"
echo "./data/sparse.img type=file mode=644 size=$SIZE sha256digest=$ZERO" >>"$EP_TMP/m2"
ep_sign "$EP_TMP/m2" "$EP_TMP/m2.sig"
truncate -s "$SIZE" "$R/data/sparse.img"

strace -qq -f -o /dev/null -p "$EP_DAEMON_PID" -e trace=epoll_wait,timerfd_settime,read,sendmsg,recvmsg \
        -e inject=epoll_wait,timerfd_settime,read,sendmsg,recvmsg:delay_exit=80000 &
TRACER=$!
EP_PIDS+=("$TRACER")
# strace says nothing once it is attached; the daemon's threads show it.
for _ in $(seq 100); do
        grep -q '^TracerPid:[[:space:]]*[1-9]' "/proc/$EP_DAEMON_PID/status" && break
        sleep 0.1
done
grep -q '^TracerPid:[[:space:]]*[1-9]' "/proc/$EP_DAEMON_PID/status" || ep_fail "strace did not attach"

# A subscriber, so that every progress tick also sends a signal.
it_subscribe "$EP_TMP/monitor.log"
it_install "$EP_TMP/m2" "$EP_TMP/m2.sig" || ep_fail "install of manifest 2 failed"
for _ in $(seq 100); do
        grep -q "ScanProgress" "$EP_TMP/monitor.log" && break
        sleep 0.1
done
ep_assert_contains "$(cat "$EP_TMP/monitor.log")" "ScanProgress" "progress of the scan of $SIZE bytes"

# Each of these needs the loop to dispatch bus messages during the scan;
# eight clients at a time, so that messages queue up inside the daemon
# while it asks the bus who a new caller is.
for round in 1 2; do
        pids=()
        for i in $(seq 8); do
                ep_ctl --json status >"$EP_TMP/status.$i" 2>&1 &
                pids+=($!)
        done
        for i in $(seq 8); do
                wait "${pids[$((i - 1))]}" || ep_fail "status $round.$i failed: $(cat "$EP_TMP/status.$i")"
                ep_assert_eq "$(jq -r .integrityState "$EP_TMP/status.$i")" scanning \
                        "status $round.$i answered during the scan"
        done
done
ep_expect_exit 0 ep_ctl verify data/pump.conf
ep_assert_eq "$(it_prop IntegrityState)" scanning "state after the calls"

kill "$TRACER"
wait "$TRACER" 2>/dev/null
ep_done
