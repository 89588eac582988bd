#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# [Audit] CheckpointMinInterval= bounds checkpoints by time: a burst of
# audited calls many times CheckpointRecords= long, well within the
# interval, makes at most one checkpoint (one TPM signature, one NV counter
# increment), and a clean stop still closes the log with a checkpoint that
# covers it all. With CheckpointMinInterval=0 the same burst makes one
# checkpoint per CheckpointRecords= records (made after the reply of the
# call that made it due, endpointd-audit(5)), all signed and counted.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-keys-lib.sh"

AUDIT=
a_dump() { "$EP_BUILD/audit-dump" "$AUDIT"; }
a_count() { a_dump | awk -v k="$1" '$2 == k' | wc -l; }
a_counter() { k_tpm2 tpm2_nvread 0x01800E41 2>/dev/null | od -An -tu8 --endian=big | tr -d ' '; }
a_verify() { "$EP_BUILD/audit-dump" --verify "$AUDIT" "$EP_TMP/device.pem" "$@"; }
# burst N: N audited calls (AllowedCalls=all: each an access-allowed record).
burst() {
        local i
        for i in $(seq "$1"); do
                ep_ctl status >/dev/null || ep_fail "status (call $i)"
        done
}
calls=60
[ -n "$EP_DAEMON_WRAPPER" ] && calls=30

ep_setup
AUDIT=$EP_STATE/audit
ep_config Audit CheckpointRecords 5
ep_config Audit CheckpointMinInterval 1h
ep_config Audit AllowedCalls all
ep_start
ep_ctl device-key >"$EP_TMP/device.pem" || ep_fail "device-key"

n_cp=$(a_count audit.checkpoint)
n_allowed=$(a_count access-allowed)
burst "$calls"
[ "$(a_count access-allowed)" -ge $((n_allowed + calls)) ] || ep_fail "the calls were not recorded"
cp=$(($(a_count audit.checkpoint) - n_cp))
[ "$cp" -le 1 ] || ep_fail "$cp checkpoints for $calls records within CheckpointMinInterval=1h (CheckpointRecords=5)"
ep_ok "a burst of $calls records within CheckpointMinInterval=: $cp checkpoint(s), not $((calls / 5))"

# A clean stop: one more checkpoint, and it anchors the whole burst.
n_cp=$(a_count audit.checkpoint)
ep_stop
[ "$(a_count audit.checkpoint)" -gt "$n_cp" ] || ep_fail "a clean stop wrote no checkpoint"
ep_assert_eq "$(a_dump | tail -n 1 | awk '{ print $2 }')" audit.checkpoint "the log ends with a checkpoint"
a_verify "$(a_counter)" >"$EP_TMP/verify.out" || ep_fail "verify: $(cat "$EP_TMP/verify.out")"
grep -qx "signatures_checked=yes" "$EP_TMP/verify.out" || ep_fail "signatures not checked"
grep -qx "unanchored=0" "$EP_TMP/verify.out" || ep_fail "records left unanchored: $(cat "$EP_TMP/verify.out")"
ep_ok "intact, signed, counted, nothing unanchored after the stop"

# CheckpointMinInterval=0: a checkpoint every CheckpointRecords= records.
ep_config Audit CheckpointMinInterval 0
ep_start
n_cp=$(a_count audit.checkpoint)
burst "$calls"
cp=$(($(a_count audit.checkpoint) - n_cp))
[ "$cp" -ge $((calls / 5 - 1)) ] || ep_fail "only $cp checkpoints for $calls records at CheckpointRecords=5 without a minimum"
ep_ok "without a minimum: $cp checkpoints for $calls records"
ep_stop
a_verify "$(a_counter)" >"$EP_TMP/verify.out" || ep_fail "verify: $(cat "$EP_TMP/verify.out")"
grep -qx "unanchored=0" "$EP_TMP/verify.out" || ep_fail "records left unanchored: $(cat "$EP_TMP/verify.out")"
ep_ok "intact and counted with a checkpoint every 5 records"
ep_done
