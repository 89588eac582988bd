#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fault: clients that misbehave on the bus.
#   - 40 clients each die (SIGKILL) right after sending an Unseal, an
#     Attest, a VerifyFile or an InstallManifest, i.e. in the middle of the call;
#   - 8 clients send 200 calls each (replies of up to 64 KiB) and never read
#     a reply, holding their connections, 4 of them then die by SIGKILL.
# Meanwhile and afterwards another client's calls are answered (no stall);
# afterwards the daemon has the same number of open fds as before (no leak
# of fds or caller entries), still answers, and its key still works.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-keys-lib.sh"
. "$top_srcdir/tests/integration/test-integrity-lib.sh"
. "$top_srcdir/tests/integration/test-fault-lib.sh"
[ -x "$EP_BUILD/bus-noread" ] || ep_skip "bus-noread is not built (make check builds it)"

f_setup
# The bad clients are root: the rate limit would refuse most of their calls
# before they reach the handlers, which is not what is tested here.
ep_config Policy RateLimitBurst 100000
ep_config Policy RateLimitPerSecond 100000
head -c 4M /dev/urandom >"$EP_ROOT/bin/big"
ep_start
T=$EP_TMP
it_manifest 1 "$T/m1"
it_install "$T/m1" "$T/m1.sig" || ep_fail "manifest not installed"
it_manifest 2 "$T/m2"
k_call CreateKey k1 "{}" >/dev/null || ep_fail "CreateKey k1"
k_call Seal s1 "$(k_ay 'dose limits')" "{}" >/dev/null || ep_fail "Seal s1"
ep_ctl encrypt k1 <<<"before" >"$T/ct" || ep_fail "encrypt"
ep_ctl status >/dev/null

# f_fds: the daemon's open file descriptors (under a wrapper: its process).
f_fds() { find "/proc/$EP_DAEMON_PID/fd" -mindepth 1 | wc -l; }
# f_settle: waits until the fd count stops changing (the bus daemon reports
# closed connections asynchronously).
f_settle() {
        local a b
        b=$(f_fds)
        for _ in $(seq 60); do
                sleep 0.5
                a=$(f_fds)
                [ "$a" = "$b" ] && break
                b=$a
        done
}
f_settle
fds_before=$(f_fds)
ep_log "daemon fds before: $fds_before"

# Calls dropped mid-call: the client is killed right after it sent the call.
for i in $(seq 40); do
        case $((i % 4)) in
        0) k_call Unseal s1 >/dev/null 2>&1 & ;;
        1) k_call Attest "$(k_ay nonce)" "[uint32 16]" >/dev/null 2>&1 & ;;
        2) it_call VerifyFile bin/big >/dev/null 2>&1 & ;;
        3) it_install_result "$T/m2" "$T/m2.sig" >/dev/null 2>&1 & ;;
        esac
        pid=$!
        sleep "0.0$((RANDOM % 10))"
        pkill -KILL -P "$pid" 2>/dev/null
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
done
ep_ok "40 clients killed in the middle of their calls"
kill -0 "$EP_DAEMON_PID" || ep_fail "endpointd died"

# Clients that never read their replies.
pids=()
for i in $(seq 8); do
        if [ $((i % 2)) = 0 ]; then
                "$EP_BUILD/bus-noread" 200 5 abort >"$T/noread-$i.log" 2>&1 &
        else
                "$EP_BUILD/bus-noread" 200 5 >"$T/noread-$i.log" 2>&1 &
        fi
        pids+=("$!")
done
# While they hold their connections, another client is served.
for _ in $(seq 5); do
        out=$(ep_ctl decrypt k1 <"$T/ct" 2>&1) || ep_fail "decrypt while clients do not read: $out"
done
ep_assert_eq "$out" before "another client is answered while 8 clients do not read"
for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
grep -h "sent 200 calls" "$T"/noread-*.log | wc -l | grep -qx 8 ||
        ep_fail "not every bad client sent its calls: $(cat "$T"/noread-*.log)"
ep_ok "8 clients sent 1600 calls and never read a reply"

kill -0 "$EP_DAEMON_PID" || ep_fail "endpointd died"
f_settle
ep_assert_eq "$(f_fds)" "$fds_before" "daemon fds after all bad clients are gone"
ep_assert_eq "$(ep_ctl decrypt k1 <"$T/ct")" before "decrypt afterwards"
ep_assert_contains "$(k_call Unseal s1)" "0x64, 0x6f, 0x73" "Unseal afterwards"
ep_expect_exit 0 ep_ctl status
ep_done
