#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Written by an independent tester from the man pages alone, without reading
# the implementation.
#
# The rollback floors in TPM NV (endpointd-tpm(7)), attacked with tpm2-tools
# by root without the owner's authorization:
#   1. the indices: attributes, size and authPolicy exactly as the page
#      says (the policy recomputed from the writer's name with openssl)
#   2. tpm-nv-writer: 32 bytes, mode 0600
#   3. without the writer's secret: NV writes with the index's own (empty)
#      auth, with owner auth, and NV_Increment of the counter are refused;
#      with an owner authValue set, NV_UndefineSpace without it is refused
#   4. an older copy of the state directory restored: the older stored
#      manifest is refused, an older serial is refused (Rollback)
#   5. the state directory wiped: the journal says the indices are
#      read-only, at every start; the NV floor still refuses older serials
#      and stays as it was (bytes in NV)
#   6. the clock mark: a restart 30 min later does not write NV, one 2 h
#      later does; a wiped state directory and the clock set back then do
#      not revive a grant that expired an hour after the real time
# What root can do with the writer's secret, and indices taken before the
# daemon's first start, are in findings3-tpm.sh.
. "$top_srcdir/tests/attack/lib.sh"
. "$top_srcdir/tests/attack/indep-lib.sh"

command -v tpm2_nvreadpublic >/dev/null || ep_skip "tpm2-tools is not installed"
ep_setup
ep_pki_init
FAKE=$EP_TMP/faketime
ep_faketime_daemon "$FAKE"
ep_config Integrity ScanInterval infinity
echo "pump 4.2" >"$EP_ROOT/pumpd"
cat >>"$EP_POLICY" <<'POL'

[Role]
Name=service
Permissions=status.read

[Subject]
UID=7
Roles=service
POL
ep_start
indep_write_helper
export TPM2TOOLS_TCTI=$EP_TCTI_tpm
W=$EP_TMP/work
mkdir -p "$W"
DEV=$(ep_ctl device-id) || ep_fail "device-id"
I=org.endpointd.Integrity1
utc() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
install() { call $I InstallManifest hh "(fd(os.open('$W/m$1', os.O_RDONLY)), fd(os.open('$W/m$1.sig', os.O_RDONLY)))"; }
for s in 100 150 200 250 300; do
        ep_ctl manifest create "$EP_ROOT" --serial $s --output "$W/m$s" >/dev/null || ep_fail "manifest create"
        ep_sign "$W/m$s" "$W/m$s.sig"
done
# nv HANDLE: the 8-byte value as a decimal number.
nv() {
        local hex
        hex=$(tpm2_nvread "$1" -C "$1" -s 8 2>/dev/null | od -An -tx1 | tr -d ' \n')
        [ ${#hex} = 16 ] && printf '%u\n' "0x$hex"
}
serial() { ep_busctl get-property org.endpointd.Endpoint1 /org/endpointd/Endpoint1 org.endpointd.Endpoint1 ManifestSerial | cut -d' ' -f2; }
restart_at() { echo "$1" >"$FAKE"; ep_restart; }
tpmfail() { if "$@" >"$W/tpm.out" 2>&1; then ep_fail "tpm2-tools succeeded: $*"; fi; ep_ok "refused by the TPM: $*"; }

ep_attack "the NV indices: attributes, size and authPolicy as endpointd-tpm(7) lists them"
indep_expect_ok install 100
pub() { tpm2_nvreadpublic "$1" 2>/dev/null; }
attrs() { pub "$1" | sed -n 's/^ *friendly: \(.*|.*\)$/\1/p' | tr '|' '\n' | sort | tr '\n' ' '; }
ep_assert_eq "$(attrs 0x01800E40)" "authread authwrite no_da written " "writer index attributes"
ep_assert_eq "$(pub 0x01800E40 | sed -n 's/^ *size: //p')" 1 "writer index size"
for h in 0x01800E42 0x01800E43; do
        ep_assert_eq "$(attrs $h)" "authread no_da policywrite written " "$h attributes"
        ep_assert_eq "$(pub $h | sed -n 's/^ *size: //p')" 8 "$h size"
done
name=$(pub 0x01800E40 | sed -n 's/^ *name: //p')
want=$({ head -c 32 /dev/zero; printf '\000\000\001\121'; printf '%s' "$name" | xxd -r -p; } |
        openssl dgst -sha256 -binary | openssl dgst -sha256 -binary | od -An -tx1 | tr -d ' \n')
for h in 0x01800E42 0x01800E43; do
        got=$(pub $h | sed -n 's/^ *authorization policy: //p' | tr A-F a-f)
        ep_assert_eq "$got" "$want" "$h authPolicy = PolicySecret(writer)"
done
ep_assert_eq "$(nv 0x01800E42)" 100 "manifest floor in NV after installing serial 100"

ep_attack "the writer's secret file: 32 bytes, mode 0600"
ep_assert_eq "$(stat -c '%s %a' "$EP_STATE/tpm-nv-writer")" "32 600" "tpm-nv-writer size and mode"

ep_attack "root without the writer's secret: nvwrite (own auth, owner auth), nvincrement, nvundefine after an owner authValue"
printf '\000\000\000\000\000\000\000\000' >"$W/zero"
tpmfail tpm2_nvwrite 0x01800E42 -C 0x01800E42 -i "$W/zero"
tpmfail tpm2_nvwrite 0x01800E42 -C o -i "$W/zero"
tpmfail tpm2_nvwrite 0x01800E40 -C 0x01800E40 -i <(printf '\000')
if tpm2_getcap handles-nv-index 2>/dev/null | grep -qi 0x1800e41; then
        tpmfail tpm2_nvincrement 0x01800E41 -C 0x01800E41
fi
tpmfail tpm2_nvwrite 0x01800E42 -C 0x01800E42 -P hex:00 -i "$W/zero"
indep_expect_ok tpm2_changeauth -c owner ownerpw
tpmfail tpm2_nvundefine 0x01800E42 -C o
tpmfail tpm2_nvundefine 0x01800E40 -C o -P wrong
# Back to an empty owner authValue: with one set, the daemon finds no TPM at
# all (findings3-tpm.sh), which would hide the rest of these attacks.
indep_expect_ok tpm2_changeauth -c owner -p ownerpw
ep_assert_eq "$(nv 0x01800E42)" 100 "manifest floor in NV unchanged"

ep_attack "an older copy of the state directory restored (serial 100) after serial 200 was installed"
ep_stop
cp -a "$EP_STATE" "$W/backup"
ep_start
indep_expect_ok install 200
ep_assert_eq "$(nv 0x01800E42)" 200 "manifest floor in NV after serial 200"
ep_stop
rm -rf "$EP_STATE"
cp -a "$W/backup" "$EP_STATE"
ep_start
ep_assert_eq "$(serial)" 0 "the restored serial-100 manifest is not in force"
ep_expect_error org.endpointd.Error.Rollback install 150
indep_expect_ok install 250
ep_assert_eq "$(nv 0x01800E42)" 250 "manifest floor in NV after serial 250"

ep_attack "the state directory wiped: read-only NV, the floor holds"
ep_stop
rm -rf "$EP_STATE"
: >"$EP_TMP/daemon.log"
ep_start
ep_assert_contains "$(cat "$EP_TMP/daemon.log")" "NV indices are read-only for endpointd" "journal after a wipe"
[ -e "$EP_STATE/tpm-nv-writer" ] && ep_fail "a new tpm-nv-writer appeared for indices it cannot write"
ep_ok "no new writer secret after the wipe"
ep_expect_error org.endpointd.Error.Rollback install 200
indep_expect_ok install 300
ep_assert_eq "$(nv 0x01800E42)" 250 "NV floor unchanged (read-only for the daemon)"
: >"$EP_TMP/daemon.log"
ep_restart
ep_assert_contains "$(cat "$EP_TMP/daemon.log")" "NV indices are read-only for endpointd" "journal at the next start"
ep_expect_error org.endpointd.Error.Rollback install 250

ep_attack "the clock mark: +30 min restart (no NV write), +2 h restart (NV write), then wipe and clock back"
# The page's recovery: undefine with the owner's authorization (empty
# again here) and let the daemon define the indices afresh.
ep_stop
for h in 0x01800E40 0x01800E41 0x01800E42 0x01800E43 0x01800E44; do
        tpm2_nvundefine $h -C o >/dev/null 2>&1
done
rm -rf "$EP_STATE"
now=$(date -u +%s)
echo +0 >"$FAKE"
ep_start
c0=$(nv 0x01800E43)
[ -n "$c0" ] && [ "$c0" -ge $((now - 120)) ] && [ "$c0" -le $((now + 120)) ] || ep_fail "clock in NV: '$c0', now $now"
ep_ok "clock in NV at first start is the time ($c0)"
restart_at +1800
ep_assert_eq "$(nv 0x01800E43)" "$c0" "clock in NV after a restart 30 min later"
restart_at +7200
c2=$(nv 0x01800E43)
[ "$c2" -ge $((now + 7200 - 120)) ] || ep_fail "clock in NV after a restart 2 h later: $c2 (now $now)"
ep_ok "clock in NV moved to +2 h ($c2)"
ep_stop
rm -rf "$EP_STATE"
echo +0 >"$FAKE"
ep_start
grant g1 visit-1 "$DEV" uid:7 service "$(utc $((now - 600)))" "$(utc $((now + 3600)))"
ep_expect_error org.endpointd.Error.Expired install_grant g1
ep_assert_eq "$(nv 0x01800E43)" "$c2" "clock in NV not lowered by a start with the clock back"
indep_alive "after the TPM floor attacks"
ep_done
