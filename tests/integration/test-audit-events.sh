#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The audit log behind the event pipeline, on a real TPM and bus: events of
# real calls are records in STATE/audit with the caller's fields; [Audit]
# settings take effect (AllowedCalls=, CheckpointRecords=, Enabled=); the
# checkpoints are signed by the TPM device key and counted by the TPM NV
# counter, which the offline verifier checks; a clean stop is a checkpoint
# after daemon-stopped, a SIGKILL is a daemon-unclean-stop at the next
# start; without the TPM the log keeps appending, and the checkpoint made
# when it is back covers what was written meanwhile.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-keys-lib.sh"

AUDIT=
a_dump() { "$EP_BUILD/audit-dump" "$AUDIT"; }
# a_count KIND: records of that kind in the log.
a_count() { a_dump | awk -v k="$1" '$2 == k' | wc -l; }
# a_last KIND: the newest record of that kind.
a_last() { a_dump | awk -v k="$1" '$2 == k' | tail -n 1; }
# a_counter: the TPM NV counter of the audit log (TPM_NV_AUDIT, endpointd-tpm(7)).
a_counter() { k_tpm2 tpm2_nvread 0x01800E41 2>/dev/null | od -An -tu8 --endian=big | tr -d ' '; }
# a_verify [ARGS]: the offline verifier over the log, with the device key.
a_verify() { "$EP_BUILD/audit-dump" --verify "$AUDIT" "$EP_TMP/device.pem" "$@"; }

ep_setup
ep_pki_init
AUDIT=$EP_STATE/audit
ep_config Audit CheckpointRecords 8
ep_config Audit CheckpointMinInterval 0
ep_start
ep_ctl device-key >"$EP_TMP/device.pem" || ep_fail "device-key"
[ -f "$AUDIT/.lock" ] || ep_fail "no audit log in $AUDIT"
ep_assert_eq "$(a_count daemon-started)" 1 "daemon-started recorded once"
ep_assert_eq "$(a_count tpm-available)" 1 "tpm-available recorded"
ep_assert_eq "$(a_count daemon-unclean-stop)" 0 "no unclean stop on a new log"

# Events of real calls, with their caller and fields.
ep_ctl key create k1 --exportable || ep_fail "key create"
printf 'data' | ep_ctl sign >/dev/null || ep_fail "sign"
ep_ctl key delete k1 || ep_fail "key delete"
# The device key signs checkpoints: no client gets checkpoint-like data signed.
ep_expect_error org.freedesktop.DBus.Error.InvalidArgs k_call Sign "$(k_ay "endpointd audit checkpoint v1xyz")"
rec=$(a_last key-created)
ep_assert_contains "$rec" "ENDPOINTD_KEY=k1" "key-created names the key"
ep_assert_contains "$rec" "ENDPOINTD_EXPORTABLE=yes" "key-created's own field"
ep_assert_contains "$rec" "ENDPOINTD_UID=0" "key-created names the caller"
ep_assert_contains "$rec" "ENDPOINTD_RESULT=ok" "key-created's result"
ep_assert_contains "$rec" "MESSAGE=Created data key 'k1'" "key-created's message"
ep_assert_contains "$(a_last device-signed)" "ENDPOINTD_DIGEST=3a6eb0790f39ac87c94f3856b2dd2c5d110e6811602261a9a923d3bb23adc8b7" \
        "device-signed carries the digest of what was signed"
ep_assert_contains "$(a_last key-deleted)" "ENDPOINTD_OBJECT=k1" "key-deleted's object"

# A denial, from an unprivileged caller, with the permission it lacked.
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 65534 gdbus call --system -d org.endpointd.Endpoint1 \
        -o /org/endpointd/Endpoint1 -m org.endpointd.Keys1.CreateKey k2 "{}"
rec=$(a_last access-denied)
ep_assert_contains "$rec" "ENDPOINTD_UID=65534" "access-denied names the caller"
ep_assert_contains "$rec" "ENDPOINTD_PERMISSION=keys.create" "access-denied names the permission"
ep_assert_contains "$rec" "ENDPOINTD_RESULT=failed" "access-denied failed"

# AllowedCalls=changes (the default): an allowed change is recorded, an
# allowed read is not.
n_allowed=$(a_count access-allowed)
ep_ctl status >/dev/null || ep_fail "status"
ep_assert_eq "$(a_count access-allowed)" "$n_allowed" "a read is not recorded at AllowedCalls=changes"

# Verified offline with the device key and the NV counter: the records so
# far span more than one checkpoint (CheckpointRecords=8).
ep_stop
a_verify "$(a_counter)" >"$EP_TMP/verify.out" || ep_fail "verify after a clean stop: $(cat "$EP_TMP/verify.out")"
grep -qx "signatures_checked=yes" "$EP_TMP/verify.out" || ep_fail "signatures not checked"
grep -qx "unanchored=0" "$EP_TMP/verify.out" || ep_fail "records left unanchored by a clean stop: $(cat "$EP_TMP/verify.out")"
[ "$(sed -n 's/^checkpoints=//p' "$EP_TMP/verify.out")" -ge 2 ] || ep_fail "fewer than 2 checkpoints"
ep_ok "a clean stop: intact, signed, counted, nothing unanchored"
last=$(a_dump | awk '!/^[0-9]+ audit\./' | tail -n 1)
ep_assert_contains "$last" " daemon-stopped" "the last event is daemon-stopped"

# AllowedCalls=all: reads are recorded too. A clean restart is no unclean stop.
ep_config Audit AllowedCalls all
ep_start
ep_assert_eq "$(a_count daemon-unclean-stop)" 0 "a clean stop is not an unclean one"
n_allowed=$(a_count access-allowed)
ep_ctl status >/dev/null || ep_fail "status"
[ "$(a_count access-allowed)" -gt "$n_allowed" ] || ep_fail "a read is not recorded at AllowedCalls=all"
ep_assert_contains "$(a_last access-allowed)" "ENDPOINTD_PERMISSION=status.read" "access-allowed names the permission"

# A licence that passes its NotAfter= while the daemon runs: licence-expired.
device=$(ep_ctl device-id) || ep_fail "device-id"
printf '[Licence]\nId=lic-short\nDevice=%s\nFeatures=basic\nNotBefore=%s\nNotAfter=%s\n' "$device" \
        "$(date -u -d '-1 day' +%Y-%m-%dT%H:%M:%SZ)" "$(date -u -d '+3 seconds' +%Y-%m-%dT%H:%M:%SZ)" \
        >"$EP_TMP/short.licence"
ep_sign_licence "$EP_TMP/short.licence" "$EP_TMP/short.sig"
ep_ctl licence install "$EP_TMP/short.licence" "$EP_TMP/short.sig" >/dev/null || ep_fail "licence install"
ep_assert_contains "$(a_last licence-installed)" "ENDPOINTD_LICENCE=lic-short" "licence-installed recorded"
for _ in $(seq 600); do [ "$(a_count licence-expired)" -gt 0 ] && break; sleep 0.1; done
ep_assert_contains "$(a_last licence-expired)" "ENDPOINTD_LICENCE=lic-short" "licence-expired when NotAfter= passed"
ep_assert_eq "$(a_count licence-expired)" 1 "licence-expired once"

# Without the TPM the log keeps appending; the checkpoint made once it is
# back covers those records, and the counter still matches.
k_swtpm_stop tpm
ep_expect_error TpmUnavailable k_call Sign "$(k_ay data)"
for i in 1 2 3 4 5 6 7 8 9 10; do ep_as 65534 "$EP_BUILD/endpointctl" key create "x$i" >/dev/null 2>&1; done
[ "$(a_count access-denied)" -ge 11 ] || ep_fail "denials without the TPM were not recorded"
a_verify >"$EP_TMP/verify.out"
[ "$(sed -n 's/^unanchored=//p' "$EP_TMP/verify.out")" -gt 0 ] || ep_fail "records without the TPM are anchored?"
k_swtpm_restart tpm
k_wait_prop TpmAvailable "b true"
lost_seq=$(a_last tpm-lost | cut -d' ' -f1)
back_seq=$(a_last tpm-available | cut -d' ' -f1)
[ "$back_seq" -gt "$lost_seq" ] || ep_fail "no tpm-available after tpm-lost"
for _ in $(seq 300); do
        cp=$(a_dump | awk -v s="$back_seq" '$1 > s && $2 == "audit.checkpoint"' | head -n 1)
        [ -n "$cp" ] && break
        sleep 0.2
done
[ -n "$cp" ] || ep_fail "no checkpoint after the TPM came back"
case $cp in *AUDIT_SIGNED=yes*) ;; *) ep_fail "the checkpoint after the TPM came back is not signed: $cp" ;; esac
first=$(printf '%s\n' "$cp" | tr '\t' '\n' | sed -n 's/^AUDIT_EPOCH_FIRST_SEQ=//p')
[ "$first" -le "$lost_seq" ] || ep_fail "the checkpoint after the TPM came back starts at $first, after the loss at $lost_seq"
a_verify "$(a_counter)" >"$EP_TMP/verify.out" || ep_fail "not intact after the TPM came back: $(cat "$EP_TMP/verify.out")"
ep_ok "the checkpoint after the TPM came back covers the records written without it"
ep_assert_contains "$(a_last tpm-lost)" "ENDPOINTD_REASON=Sign: " "tpm-lost names the failed command"
[ "$(a_count tpm-available)" -ge 2 ] || ep_fail "the TPM's return is not recorded"

# SIGKILL: the next start records the unclean stop, naming the last record.
last_seq=$(a_dump | tail -n 1 | cut -d' ' -f1)
ep_stop KILL
ep_start
rec=$(a_last daemon-unclean-stop)
[ -n "$rec" ] || ep_fail "no daemon-unclean-stop after SIGKILL"
ep_assert_contains "$rec" "ENDPOINTD_LAST_SEQ=$last_seq" "daemon-unclean-stop names the last record"
a_verify >"$EP_TMP/verify.out" || ep_fail "verify after SIGKILL: $(cat "$EP_TMP/verify.out")"
ep_ok "after SIGKILL the chain continues and verifies"

ep_stop

# Enabled=no: no log is written (the journal still gets the events).
before=$(a_dump | wc -l)
ep_config Audit Enabled no
ep_start
ep_ctl key create k3 || ep_fail "key create with the log off"
ep_stop
ep_assert_eq "$(a_dump | wc -l)" "$before" "nothing recorded with Enabled=no"
grep -q "The audit log is off" "$EP_TMP/daemon.log" || ep_fail "the daemon does not say the log is off"
ep_done
