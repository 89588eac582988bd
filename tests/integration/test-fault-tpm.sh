#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fault: swtpm killed in the middle of an Unseal, a Seal, an Attest and a
# PCR extend (the measurement of a manifest install). swtpm is stopped
# (SIGSTOP) first, the call is made, so the daemon has sent its TPM command
# and waits for the answer, then swtpm is killed. Each time: the caller
# gets an error reply (TpmUnavailable or TpmError) or, for the extend, the
# install is refused (the NV floor cannot be read) or its measurement is
# logged as not extended; the daemon stays up; no key file
# is half written (a key that was being sealed is absent or whole); when
# swtpm is back the daemon reconnects and the same call works.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-keys-lib.sh"
. "$top_srcdir/tests/integration/test-integrity-lib.sh"
. "$top_srcdir/tests/integration/test-fault-lib.sh"

# How long the call gets to reach the stopped TPM (the daemon under
# valgrind is slow to get there).
settle=1
[ -n "$EP_DAEMON_WRAPPER" ] && settle=10
f_setup
ep_start
k_call Seal s1 "$(k_ay 'dose limits')" "{}" >/dev/null || ep_fail "Seal s1"
T=$EP_TMP

# f_midcall WHAT CMD...: runs CMD while swtpm is stopped, kills swtpm
# under it; CMD's output goes to $T/mid.out, its exit status to $mid_rc.
f_midcall() {
        local what=$1 pid
        shift
        kill -STOP "$EP_SWTPM_PID_tpm"
        "$@" >"$T/mid.out" 2>&1 &
        pid=$!
        sleep "$settle"
        kill -KILL "$EP_SWTPM_PID_tpm"
        wait "$EP_SWTPM_PID_tpm" 2>/dev/null
        mid_rc=0
        wait "$pid" || mid_rc=$?
        kill -0 "$EP_DAEMON_PID" 2>/dev/null || ep_fail "$what: endpointd died when swtpm was killed"
        ep_ok "$what: endpointd is still running"
        ep_log "$what: the call said (exit status $mid_rc): $(cat "$T/mid.out")"
        f_no_temp_left "$what"
}

# f_no_temp_left WHAT: no temp file of an atomic write is left behind. One
# that exists now may be a write in flight (the daemon under valgrind is
# slow); it fails only when it is still there a few seconds later.
f_no_temp_left() {
        local tmps
        tmps=$(find "$EP_STATE" -name '*.tmp-*')
        [ -z "$tmps" ] && return 0
        sleep 5
        for f in $tmps; do
                [ ! -e "$f" ] || ep_fail "$1: temp file left: $f"
        done
        ep_ok "$1: the temp files seen were writes in flight: $tmps"
}

# f_error_reply WHAT: the call failed with a TPM error name.
f_error_reply() {
        [ "$mid_rc" != 0 ] || ep_fail "$1: succeeded without a TPM: $(cat "$T/mid.out")"
        grep -qE 'org\.endpointd\.Error\.(TpmUnavailable|TpmError)' "$T/mid.out" ||
                ep_fail "$1: expected TpmUnavailable or TpmError, got: $(cat "$T/mid.out")"
        ep_ok "$1: $(grep -oE 'org\.endpointd\.Error\.[A-Za-z]+' "$T/mid.out" | head -n 1)"
}

# f_back: swtpm again, and the daemon uses it.
f_back() {
        k_swtpm_restart tpm
        # The next TPM call reconnects at once, or the retry timer does.
        for _ in $(seq 300); do
                k_call Sign "$(k_ay ping)" >/dev/null 2>&1 && break
                sleep 0.2
        done
        k_wait_prop TpmAvailable "b true"
}

f_midcall Unseal k_call Unseal s1
f_error_reply Unseal
f_back
ep_assert_contains "$(k_call Unseal s1)" "0x64, 0x6f, 0x73" "Unseal s1 after swtpm is back"

f_midcall Seal k_call Seal s2 "$(k_ay 'new limits')" "{}"
f_error_reply Seal
# Absent, or (if the TPM had answered before it died) whole.
f_back
if [ -e "$EP_STATE/keys/s2.key" ]; then
        ep_assert_contains "$(k_call Unseal s2)" "0x6e, 0x65, 0x77" "s2 exists and is whole"
else
        ep_ok "no key file for the failed Seal"
        ep_expect_exit 0 k_call Seal s2 "$(k_ay 'new limits')" "{}"
fi

f_midcall Attest k_call Attest "$(k_ay nonce)" "[uint32 16]"
f_error_reply Attest
f_back
k_call Attest "$(k_ay nonce)" "[uint32 16]" >/dev/null || ep_fail "Attest after swtpm is back"
ep_ok "Attest after swtpm is back"

# The extend: a manifest install measures the manifest into the PCR.
it_manifest 1 "$T/m1"
f_midcall extend it_install_result "$T/m1" "$T/m1.sig"
ep_log "install with swtpm killed: $(cat "$T/mid.out")"
# A state directory that has used the NV floors refuses installs while the
# floor cannot be read (endpointd-tpm(7)); otherwise the install goes on and
# its measurement is marked not extended.
case $(cat "$T/mid.out") in
*TpmUnavailable*)
        ep_ok "the install was refused while the NV floor could not be read"
        ep_assert_eq "$(ep_ctl measurements 2>&1 | grep -c 'not extended')" 0 "nothing was measured"
        ;;
*) ep_assert_contains "$(ep_ctl measurements 2>&1)" "not extended" "the measurement is marked not extended" ;;
esac
f_back
it_manifest 2 "$T/m2"
ep_assert_eq "$(it_install_result "$T/m2" "$T/m2.sig")" success "install after swtpm is back"
ep_assert_eq "$(ep_ctl measurements 2>&1 | tail -n 1 | grep -c 'not extended')" 0 \
        "the last measurement is extended"
ep_done
