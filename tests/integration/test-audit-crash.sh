#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The daemon-level crash test of the audit log: endpointd is killed with
# SIGKILL at a random point while it appends (a burst of calls, each an
# event: access-denied records of an unprivileged caller, and key
# operations), then started again, round after round. After every round the
# offline verifier must find the log intact, or intact up to a named torn
# last record, never silent loss; and the restarted daemon must have
# recorded that the previous run stopped uncleanly (daemon-unclean-stop,
# naming the last record it found).
#
# EP_AUDIT_CRASH_ROUNDS sets the number of rounds (default 200; under
# valgrind, where a start takes seconds, 20 unless set).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-keys-lib.sh"

rounds=${EP_AUDIT_CRASH_ROUNDS:-200}
[ -n "$EP_DAEMON_WRAPPER" ] && rounds=${EP_AUDIT_CRASH_ROUNDS:-20}

ep_setup
AUDIT=$EP_STATE/audit
# Small files and frequent checkpoints: rotation and checkpoints happen
# while the kills land, too.
ep_config Audit CheckpointRecords 7
ep_config Audit CheckpointMinInterval 0
ep_config Audit MaxFileSize 64K
ep_config Audit MaxTotalSize 64M
ep_config Audit AllowedCalls all
ep_start

torn=0
for round in $(seq "$rounds"); do
        # A burst of calls in the background, each one or two records.
        (
                for i in $(seq 30); do
                        ep_as 65534 "$EP_BUILD/endpointctl" key list >/dev/null 2>&1
                        "$EP_BUILD/endpointctl" status >/dev/null 2>&1
                done
        ) &
        burst=$!
        # Killed at a random point of the burst: 0 to ~0.3 s in.
        sleep "0.$(printf '%03d' $((RANDOM % 300)))"
        prev=$(("$EP_BUILD/audit-dump" "$AUDIT" 2>/dev/null || true) | tail -n 1 | cut -d' ' -f1)
        ep_stop KILL
        wait "$burst" 2>/dev/null
        # Offline, before the restart: intact or a named torn last record.
        rc=0
        "$EP_BUILD/audit-dump" --verify "$AUDIT" >"$EP_TMP/verify.out" 2>&1 || rc=$?
        [ $rc -eq 0 ] || ep_fail "round $round: the log does not verify after SIGKILL: $(cat "$EP_TMP/verify.out")"
        if grep -qx "torn=yes" "$EP_TMP/verify.out"; then
                grep -q "torn" "$EP_TMP/verify.out" || ep_fail "round $round: torn but not named"
                torn=$((torn + 1))
        fi
        last=$(sed -n 's/^last_seq=//p' "$EP_TMP/verify.out")
        [ -n "$prev" ] && [ "$last" -lt "$prev" ] && ep_fail "round $round: records lost: $prev were there, $last remain"
        ep_start
        rec=$("$EP_BUILD/audit-dump" "$AUDIT" | awk '$2 == "daemon-unclean-stop"' | tail -n 1)
        case $rec in
        *"ENDPOINTD_LAST_SEQ=$last"*) ;;
        *) ep_fail "round $round: no daemon-unclean-stop naming record $last: $rec" ;;
        esac
done
ep_ok "$rounds rounds of SIGKILL while appending: never silent loss ($torn with a named torn record)"

# The chain continued across every restart: the whole log verifies, with
# the device key and the NV counter, after a clean stop.
ep_ctl device-key >"$EP_TMP/device.pem" || ep_fail "device-key"
ep_stop
# swtpm has no resource manager: each daemon killed inside a TPM command
# sequence leaves its session loaded, and after ~64 kills tpm2_nvread finds
# no session slot ("out of memory for session contexts"). A power cycle of
# the TPM (swtpm restarted on the same state) clears them, as a reboot
# would; the NV counter survives it.
k_swtpm_stop tpm
k_swtpm_restart tpm
counter=$(TPM2TOOLS_TCTI=$EP_TCTI_tpm tpm2_nvread 0x01800E41 2>"$EP_TMP/nvread.err" | od -An -tu8 --endian=big | tr -d ' ')
[ -n "$counter" ] || ep_fail "cannot read the audit NV counter: $(cat "$EP_TMP/nvread.err")"
"$EP_BUILD/endpointctl" audit verify --dir="$AUDIT" --device-key="$EP_TMP/device.pem" >"$EP_TMP/ctl-verify.out" 2>&1 ||
        ep_fail "endpointctl audit verify: $(cat "$EP_TMP/ctl-verify.out")"
"$EP_BUILD/audit-dump" --verify "$AUDIT" "$EP_TMP/device.pem" "$counter" >"$EP_TMP/verify.out" ||
        ep_fail "the whole log does not verify: $(cat "$EP_TMP/verify.out")"
ep_assert_eq "$("$EP_BUILD/audit-dump" "$AUDIT" | awk '$2 == "daemon-unclean-stop"' | wc -l)" "$rounds" \
        "one daemon-unclean-stop per kill"
ep_done
