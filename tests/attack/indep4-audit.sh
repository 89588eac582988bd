#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Written by an independent tester from the man pages alone, without reading
# the implementation.
#
# The tamper-evident audit log (endpointd-audit(5)) attacked by a local
# unprivileged uid, a uid with audit.read only, and root with the state
# directory (not the TPM's owner auth):
#   - offline: a flipped bit in an old record, a deleted record, two records
#     swapped, a record re-tagged with an older key, a cut tail and an older
#     copy of the whole log (with --counter), a deleted / renamed file
#   - Audit1 over the bus: ReadEvents bounds, Subscribe / Verify / ReadEvents
#     without the permission, Verify spam
#   - SIGKILL, then restart: the unclean stop is recorded
#   - the log directory removed while the daemon is stopped
#   - a flood of events rotates files away: the deletion is recorded and the
#     remaining log still verifies
. "$top_srcdir/tests/attack/lib.sh"
. "$top_srcdir/tests/attack/indep-lib.sh"

command -v tpm2_nvread >/dev/null || ep_skip "tpm2-tools is not installed"
ep_setup
ep_config Integrity ScanInterval infinity
ep_config Audit CheckpointRecords 8
ep_config Audit SyncInterval 0
ep_config Audit AllowedCalls all
ep_config Audit MaxFileSize 64K
ep_config Audit MaxTotalSize 192K
cat >>"$EP_POLICY" <<'POL'

[Role]
Name=auditor
Permissions=audit.read

[Subject]
UID=7
Roles=auditor
POL
ep_start
indep_write_helper
export TPM2TOOLS_TCTI=$EP_TCTI_tpm
W=$EP_TMP/work
mkdir -p "$W"
A=$EP_STATE/audit
AUD() { "$EP_PY" "$EP_SRC/tests/attack/indep4-audit.py" "$@"; }
ep_ctl device-key >"$W/device.pem" || ep_fail "device-key"
# counter: the audit NV counter (0x01800E41) as a decimal number.
counter() {
        local hex
        hex=$(tpm2_nvread 0x01800E41 -C 0x01800E41 -s 8 2>/dev/null | od -An -tx1 | tr -d ' \n')
        [ ${#hex} = 16 ] || hex=$(tpm2_nvread 0x01800E41 -C o -s 8 2>/dev/null | od -An -tx1 | tr -d ' \n')
        [ ${#hex} = 16 ] || ep_fail "cannot read the audit NV counter"
        printf '%u\n' "0x$hex"
}
# verify DIR [ARGS]: offline verify with the device key; output in $W/v.out.
verify() {
        local d=$1
        shift
        VRC=0
        ep_ctl audit verify --dir="$d" --device-key="$W/device.pem" "$@" >"$W/v.out" 2>&1 || VRC=$?
        VOUT=$(cat "$W/v.out")
}
# tampered DIR WHAT TEXT [ARGS]: verify must exit 1 and name TEXT.
tampered() {
        verify "$1" "${@:4}"
        [ "$VRC" = 1 ] || ep_fail "$2 was not detected: verify exited $VRC: $VOUT"
        ep_assert_contains "$VOUT" "$3" "verify of $2"
}
snapshot() { rm -rf "$W/$1"; cp -a "$A" "$W/$1"; }
# events N: N allowed calls, each one access-allowed record (AllowedCalls=all).
events() {
        "$EP_PY" - "$1" <<'PY' || ep_fail "event calls"
import sys, dbus
o = dbus.SystemBus().get_object('org.endpointd.Endpoint1', '/org/endpointd/Endpoint1', introspect=False)
for i in range(int(sys.argv[1])):
    o.Get('org.endpointd.Endpoint1', 'DeviceId', dbus_interface='org.freedesktop.DBus.Properties')
PY
}
events 40
ep_stop
ep_assert_eq "$EP_DAEMON_RC" 0 "clean stop"
N1=$(counter)
snapshot base
AUD list "$W/base" >"$W/base.list"
verify "$W/base" --counter="$N1"
ep_assert_eq "$VRC" 0 "the untouched log verifies intact ($VOUT)"
CPS=$(awk '$3 == 2 { print $2 }' "$W/base.list")
LAST=$(tail -n1 "$W/base.list" | cut -d' ' -f2)
# An event record well inside a closed epoch (not first nor last of it).
OLD=$(awk '$3 == 1 && $2 > 12 && $2 < 30 { print $2 }' "$W/base.list" | sed -n 3p)
[ -n "$OLD" ] || ep_fail "no old event record in: $(cat "$W/base.list")"
ep_log "log: $LAST records, checkpoints at $(echo $CPS), counter $N1; attacking record $OLD"

ep_attack "root flips one bit in old record $OLD"
snapshot t; AUD flip "$W/t" "$OLD"
tampered "$W/t" "a flipped bit" "record $OLD:"
ep_assert_contains "$VOUT" "keyed hash does not match" "verify of a flipped bit"

ep_attack "root deletes old record $OLD"
snapshot t; AUD delete "$W/t" "$OLD"
tampered "$W/t" "a deleted record" "record $OLD missing"

ep_attack "root swaps records $OLD and $((OLD + 1))"
snapshot t; AUD swap "$W/t" "$OLD"
tampered "$W/t" "two swapped records" "out of order"

ep_attack "root changes record $OLD and re-tags it with its epoch's seed (an older key)"
snapshot t; AUD forge "$W/t" "$OLD"
tampered "$W/t" "a record forged with an old key" "keyed hash does not match"

ep_attack "root cuts the tail after an older checkpoint; the counter gives it away"
CUT=$(echo "$CPS" | tail -n 3 | head -n1)
snapshot t; AUD cut "$W/t" "$CUT"
tampered "$W/t" "a cut tail" "ahead of the newest checkpoint" --counter="$N1"

ep_attack "root restores an older copy of the whole log"
ep_start
events 30
ep_stop
N2=$(counter)
[ "$N2" -gt "$N1" ] || ep_fail "the counter did not move ($N1 -> $N2)"
snapshot new
verify "$W/new" --counter="$N2"
ep_assert_eq "$VRC" 0 "the current log verifies intact ($VOUT)"
tampered "$W/base" "an older copy of the log" "ahead of the newest checkpoint" --counter="$N2"

ep_attack "root renames a log file"
snapshot t
F=$(ls "$W/t" | grep '^audit-' | tail -n1)
mv "$W/t/$F" "$W/t/audit-00000000000000ff.log"
verify "$W/t" --counter="$N2"
[ "$VRC" = 1 ] || ep_fail "a renamed file was not detected: verify exited $VRC: $VOUT"
ep_ok "a renamed file: verify exits 1 ($VOUT)"

ep_attack "a checkpoint's signature checked against another key"
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl ec -pubout >"$W/other.pem" 2>/dev/null ||
        ep_fail "openssl key"
VRC=0
VOUT=$(ep_ctl audit verify --dir="$W/new" --device-key="$W/other.pem" 2>&1) || VRC=$?
ep_assert_eq "$VRC" 1 "verify with another device key fails ($VOUT)"

ep_start
ep_attack "ReadEvents bounds: max 0, max 2^32-1, from_seq beyond the end and 2^64-1"
I=org.endpointd.Audit1
for args in "(0, 0)" "(1, 4294967295)" "(18446744073709551615, 5)" "(1000000, 1000)"; do
        out=$(call $I ReadEvents tu "$args" 2>&1) || ep_fail "ReadEvents $args: $out"
done
out=$(call $I ReadEvents tu "(1, 0)") || ep_fail "ReadEvents (1,0): $out"
n=$(printf '%s' "$out" | grep -o 'daemon, ' | wc -l)
[ "$n" -gt 1 ] || ep_fail "ReadEvents(1, 0) gave $n record(s), not up to 1000 as endpointd-dbus(7) says for max 0: ${out:0:300}"
ep_ok "ReadEvents(1, 0) gave $n records"
out=$(call $I ReadEvents tu "(18446744073709551615, 1000)") || ep_fail "ReadEvents(max seq): $out"
ep_assert_eq "$out" "OK ()" "ReadEvents beyond the end is empty"
indep_alive "ReadEvents bounds"

ep_attack "uid 65534 without audit.read: ReadEvents, Subscribe, Verify are denied"
for m in "ReadEvents tu (1,10)" "Subscribe '' ''" "Verify '' ''"; do
        set -- $m
        ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $I "$1" "${2//\'/}" "${3//\'/}"
done

ep_attack "uid 7 with audit.read only: reads, but Verify is denied"
indep_expect_ok ep_as 7 "$EP_PY" "$EP_TMP/call.py" $I ReadEvents tu "(1, 10)"
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 7 "$EP_PY" "$EP_TMP/call.py" $I Verify "" ""

ep_attack "Verify spam: 40 concurrent calls as root; each is a result or Busy"
pids=()
for i in $(seq 40); do
        call $I Verify "" "" >"$W/verify.$i" 2>&1 &
        pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
for i in $(seq 40); do
        case $(cat "$W/verify.$i") in
        "OK (true, "*) ;;
        "ERR org.endpointd.Error.Busy"*) ;;
        *) ep_fail "Verify $i: $(cat "$W/verify.$i")" ;;
        esac
done
ep_ok "40 concurrent Verify calls: intact or Busy"
indep_alive "Verify spam"

ep_attack "SIGKILL, restart: the unclean stop is recorded and the log still verifies"
events 5
ep_stop KILL
ep_start
out=$("$EP_PY" - <<'PY'
import dbus
o = dbus.SystemBus().get_object('org.endpointd.Endpoint1', '/org/endpointd/Endpoint1', introspect=False)
seq, pages = 1, 0
while True:
    pages += 1
    if pages > 200:
        print('NEVER-EMPTY: paging ReadEvents from seq 1 did not end after 200 pages (at seq %d)' % seq)
        break
    ev = o.ReadEvents(dbus.UInt64(seq), dbus.UInt32(1000), dbus_interface='org.endpointd.Audit1')
    if not ev:
        break
    for e in ev:
        print(int(e[0]), e[2], e[6])
    seq = int(ev[-1][0]) + 1
PY
) || ep_fail "paging ReadEvents"
case $out in *NEVER-EMPTY*) ep_fail "with AllowedCalls=all the ReadEvents paging of endpointd-dbus(7) never ends: $(printf '%s' "$out" | tail -n 3)" ;; esac
ep_assert_contains "$out" "daemon-unclean-stop" "the log after SIGKILL"
case $out in
*"CLEAN_STOP=no"* | *"CLEAN_STOP\\x3dno"*) ep_ok "audit.opened says AUDIT_CLEAN_STOP=no" ;;
*) ep_fail "no AUDIT_CLEAN_STOP=no after SIGKILL" ;;
esac
out=$(call $I Verify "" "") || ep_fail "Verify: $out"
ep_assert_contains "$out" "OK (true" "Verify after SIGKILL"

ep_attack "a flood of events rotates files away: audit.rotated is recorded, the rest verifies"
events 1500
out=$(call $I Verify "" "") || ep_fail "Verify: $out"
ep_assert_contains "$out" "OK (true" "Verify after the flood"
ep_stop
snapshot flood
AUD list "$W/flood" >"$W/flood.list"
first=$(head -n1 "$W/flood.list" | cut -d' ' -f2)
[ "$first" -gt 1 ] || ep_fail "no file was rotated away (first seq $first); $(ls -l "$A")"
grep -q ' audit.rotated ' "$W/flood.list" || ep_fail "no audit.rotated record in the log"
ep_ok "log starts at $first, audit.rotated recorded"
verify "$W/flood" --counter="$(counter)"
ep_assert_eq "$VRC" 0 "the rotated log verifies intact ($VOUT)"

ep_attack "root deletes the oldest remaining file"
snapshot t
rm -f "$W/t/$(ls "$W/t" | grep '^audit-' | head -n1)"
verify "$W/t" --counter="$(counter)"
[ "$VRC" = 1 ] || ep_fail "the deleted oldest file was not detected: verify exited $VRC: $VOUT"
ep_ok "deleted oldest file: exit 1 ($VOUT)"

ep_attack "root removes the whole log directory while the daemon is stopped"
NB=$(counter)
rm -rf "$A"
ep_start
events 3
ep_stop
snapshot wiped
AUD list "$W/wiped" >"$W/wiped.list"
verify "$W/wiped" --counter="$(counter)"
ep_log "verify of the new log with --counter=$(counter): exit $VRC: $VOUT"
grep -q ' audit.anchor ' "$W/wiped.list" ||
        ep_fail "the new log has no audit.anchor record though the counter was $NB (verify exit $VRC): $(head -n 5 "$W/wiped.list")"
ep_ok "audit.anchor recorded in the new log"

ep_done
