#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The rollback floors in TPM NV (endpointd-tpm(7)): the highest manifest
# serial and the time high-water mark outlive a state directory restored
# from an old copy or wiped; nobody without the writer's secret moves them,
# and nobody without the owner's authorization undefines them.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-integrity-lib.sh"
. "$top_srcdir/tests/integration/test-keys-lib.sh"

command -v tpm2_nvread >/dev/null || ep_skip "tpm2-tools is not installed"

# nv_value HANDLE: the index's 8 bytes as a decimal number.
nv_value() { printf '%d\n' "0x$(k_tpm2 tpm2_nvread "$1" -s 8 | od -An -tx1 -v | tr -d ' \n')"; }
NV_MANIFEST=0x01800E42
NV_CLOCK=0x01800E43

ep_setup
ep_faketime_daemon "$EP_TMP/faketime"
ep_pki_init
ep_config Integrity Watch no
mkdir -p "$EP_ROOT/usr/bin"
echo "pump firmware" >"$EP_ROOT/usr/bin/pumpd"
cat >>"$EP_POLICY" <<'POLICY'

[Role]
Name=viewer
Permissions=status.read policy.read

[Role]
Name=service
Permissions=policy.reload

[Subject]
User=daemon
Roles=viewer
POLICY
ep_start
device=$(ep_ctl device-id)
[ -n "$device" ] || ep_fail "no device id"
[ -s "$EP_STATE/tpm-nv-writer" ] || ep_fail "no NV writer secret in the state directory"
k_tpm2 tpm2_nvreadpublic 0x01800E40 >/dev/null || ep_fail "the NV writer index is not defined"
ep_ok "the NV writer is set up"

M=$EP_TMP/m
for s in 5 7 8; do it_manifest $s "$M.$s"; done
it_install "$M.5" "$M.5.sig" || ep_fail "serial 5 did not install"
ep_assert_eq "$(nv_value $NV_MANIFEST)" 5 "manifest floor in NV"

iso() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }
mkgrant() {
        printf '[Grant]\nId=%s\nDevice=%s\nSubject=user:daemon\nRoles=service\nNotBefore=%s\nNotAfter=%s\n' \
                "$1" "$device" "$2" "$3" >"$EP_TMP/$1.grant"
        ep_sign_grant "$EP_TMP/$1.grant" "$EP_TMP/$1.sig"
}
mkgrant short "$(iso '-1 hour')" "$(iso '+1 hour')"
ep_assert_eq "$(ep_ctl grant install "$EP_TMP/short.grant" "$EP_TMP/short.sig")" short "grant installed"
ep_expect_exit 0 ep_as 1 "$EP_BUILD/endpointctl" policy check policy.reload

# The copy an attacker (or a careless restore) brings back later.
cp -a "$EP_STATE" "$EP_TMP/state.old"

# Serial 7, then two hours pass: the grant lapses, and the next install (a
# security decision in time) saves the mark, in NV too.
it_install "$M.7" "$M.7.sig" || ep_fail "serial 7 did not install"
ep_assert_eq "$(nv_value $NV_MANIFEST)" 7 "manifest floor in NV"
echo "+7200" >"$EP_TMP/faketime"
ep_expect_exit 4 ep_as 1 "$EP_BUILD/endpointctl" policy check policy.reload
mkgrant later "$(iso '+90 min')" "$(iso '+1 day')"
ep_assert_eq "$(ep_ctl grant install "$EP_TMP/later.grant" "$EP_TMP/later.sig")" later "grant installed"
mark=$(nv_value $NV_CLOCK)
[ "$mark" -ge $(($(date +%s) + 7000)) ] || ep_fail "clock mark in NV is $mark, not 2 h ahead"
ep_ok "clock mark in NV: $mark"

# Restore the old state directory and set the clock back.
ep_stop
rm -rf "$EP_STATE"
cp -a "$EP_TMP/state.old" "$EP_STATE"
echo "+0" >"$EP_TMP/faketime"
ep_start
grep -q "The time high-water mark in TPM NV is [0-9]* s ahead" "$EP_TMP/daemon.log" ||
        ep_fail "the daemon did not take the mark from NV"
ep_expect_exit 4 ep_as 1 "$EP_BUILD/endpointctl" policy check policy.reload
ep_ok "restored state dir and clock set back: the lapsed grant stays lapsed"
grep -q "serial 5 is below the highest serial ever installed, 7" "$EP_TMP/daemon.log" ||
        ep_fail "the restored manifest (serial 5) was not refused at start"
ep_assert_eq "$(it_prop ManifestSerial)" 0 "ManifestSerial after restoring the old state dir"
it_expect_reject org.endpointd.Error.Rollback "not above the installed serial 7" "$M.5" "$M.5.sig"

# Wiped: the floors hold; without the writer's secret NV stays as it is.
ep_stop
rm -rf "$EP_STATE"
: >"$EP_TMP/daemon.log"
ep_start
grep -q "NV indices are read-only for endpointd" "$EP_TMP/daemon.log" ||
        ep_fail "a wiped state directory did not say the NV indices are read-only"
it_expect_reject org.endpointd.Error.Rollback "not above the installed serial 7" "$M.5" "$M.5.sig"
it_expect_reject org.endpointd.Error.Rollback "not above the installed serial 7" "$M.7" "$M.7.sig"
install_grant() {
        gdbus call --system -d org.endpointd.Endpoint1 -o /org/endpointd/Endpoint1 \
                -m org.endpointd.Policy1.InstallGrant "$(k_ay_file "$1.grant")" "$(k_ay_file "$1.sig")"
}
ep_expect_error org.endpointd.Error.Expired install_grant "$EP_TMP/short"
ep_ok "wiped state dir: the floors hold"
it_install "$M.8" "$M.8.sig" || ep_fail "serial 8 did not install"
ep_assert_eq "$(nv_value $NV_MANIFEST)" 7 "NV floor without the writer's secret"
grep -q "Failed to raise the manifest serial floor" "$EP_TMP/daemon.log" || ep_fail "the failed NV raise was not logged"

# Another TPM user: cannot write, lower or undefine them.
printf '\0\0\0\0\0\0\0\1' >"$EP_TMP/one"
! k_tpm2 tpm2_nvwrite $NV_MANIFEST -i "$EP_TMP/one" 2>/dev/null || ep_fail "a foreign NV write succeeded"
! k_tpm2 tpm2_nvincrement 0x01800E41 2>/dev/null || ep_fail "a foreign NV increment succeeded"
ep_assert_eq "$(nv_value $NV_MANIFEST)" 7 "NV floor after foreign writes"
k_tpm2 tpm2_changeauth -c owner owner-secret || ep_fail "cannot set an owner authValue"
! k_tpm2 tpm2_nvundefine $NV_MANIFEST 2>/dev/null || ep_fail "undefined without the owner's auth"
! k_tpm2 tpm2_nvundefine 0x01800E40 2>/dev/null || ep_fail "undefined the writer without the owner's auth"
ep_assert_eq "$(nv_value $NV_MANIFEST)" 7 "NV floor after an undefine without owner auth"
ep_ok "without the writer's secret or the owner's auth the floors cannot be moved"
ep_done
