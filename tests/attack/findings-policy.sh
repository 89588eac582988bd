#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Written by an independent tester from the man pages and the D-Bus contract
# alone, without reading the implementation.
#
# Findings on Policy1: attacks the daemon did not resist when they were found.
# Each test asserts the documented behaviour; they failed until the daemon
# was fixed and now run in the suite (mk/attack.am) as regression tests.
#   1. someone who can write the state directory copies a grant the
#      manufacturer signed for ANOTHER device (e.g. from a visit to another
#      pump) into grants/ and waits for a restart: endpointd-policy(5) says
#      stored grants are verified again at start-up, and a grant for another
#      device is refused (WrongDevice); the daemon loads it (its log shows
#      the Authority starts before the TPM, so the device id is not known
#      then): ListGrants shows it to the admin as installed (it confers no
#      rights), and this device's own grant with that id cannot be installed
#   2. the same with a licence for another device
#   3. Reload when the policy path is a directory: endpointd-dbus(7) says
#      NotFound when the file cannot be read; the daemon answers
#      System.Error.EISDIR, a name outside the documented set
. "$top_srcdir/tests/attack/lib.sh"
. "$top_srcdir/tests/attack/indep-lib.sh"

ep_setup
ep_pki_init
cat >>"$EP_POLICY" <<'POL'

[Role]
Name=service
Permissions=policy.read policy.reload

[Role]
Name=reader
Permissions=licence.read

[Subject]
UID=1
Roles=reader
POL
ep_start
indep_write_helper
P=org.endpointd.Policy1
W=$EP_TMP/work
mkdir -p "$W"
OTHER=$(printf '%s' "another pump" | sha256sum | cut -d' ' -f1)
DEV=$(ep_ctl device-id) || ep_fail "device-id"

# Each attack's checks run in a subshell, so that one attack that is not
# resisted does not hide the others (the daemon is only ever restarted
# outside them); the script fails if any attack was not resisted.
INDEP_FINDINGS=0
finding() { ( "$@" ) || INDEP_FINDINGS=$((INDEP_FINDINGS + 1)); }

# Setup of attacks 1 and 2: both files are refused by the bus call, then
# copied into the state directory, and the daemon restarted.
printf '[Grant]\nId=visit\nDevice=%s\nSubject=uid:65534\nRoles=service\nNotBefore=2020-01-01T00:00:00Z\nNotAfter=2099-01-01T00:00:00Z\n' "$OTHER" >"$W/visit"
ep_sign_grant "$W/visit" "$W/visit.sig"
ep_expect_error org.endpointd.Error.WrongDevice call $P InstallGrant ayay "(ay(open('$W/visit','rb').read()), ay(open('$W/visit.sig','rb').read()))"
printf '[Licence]\nId=lic\nDevice=%s\nFeatures=bolus\nNotBefore=2020-01-01T00:00:00Z\nNotAfter=2099-01-01T00:00:00Z\n' "$OTHER" >"$W/lic"
ep_sign_licence "$W/lic" "$W/lic.sig"
ep_expect_error org.endpointd.Error.WrongDevice call $P InstallLicence ayay "(ay(open('$W/lic','rb').read()), ay(open('$W/lic.sig','rb').read()))"
mkdir -p "$EP_STATE/grants" "$EP_STATE/licences"
cp "$W/visit" "$EP_STATE/grants/visit.grant"
cp "$W/visit.sig" "$EP_STATE/grants/visit.grant.sig"
cp "$W/lic" "$EP_STATE/licences/lic.licence"
cp "$W/lic.sig" "$EP_STATE/licences/lic.licence.sig"
ep_restart
indep_alive "planted grant and licence"

planted_grant() {
        ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $P Reload '' ''
        # The foreign grant must not block this device's own grant with that id.
        printf '[Grant]\nId=visit\nDevice=%s\nSubject=uid:2\nRoles=service\nNotBefore=2020-01-01T00:00:00Z\nNotAfter=2099-01-01T00:00:00Z\n' "$DEV" >"$W/own"
        ep_sign_grant "$W/own" "$W/own.sig"
        indep_expect_ok call $P InstallGrant ayay "(ay(open('$W/own','rb').read()), ay(open('$W/own.sig','rb').read()))"
        indep_expect_ok call $P ListGrants '' ''
        ep_assert_eq "$INDEP_OUT" "OK ((visit, uid:2, service, 1577836800000000, 4070908800000000))" "only this device's grant is listed"
}
ep_attack "a validly signed grant for another device copied into grants/ is loaded at the next start"
finding planted_grant

planted_licence() {
        indep_expect_ok ep_as 1 "$EP_PY" "$EP_TMP/call.py" $P CheckFeature s '("bolus",)'
        ep_assert_eq "$INDEP_OUT" "OK (false, 0)" "the other device's licence enables nothing"
        indep_expect_ok call $P ListLicences '' ''
        ep_assert_eq "$INDEP_OUT" "OK ()" "the other device's licence is not loaded (ListLicences)"
}
ep_attack "a validly signed licence for another device copied into licences/ is loaded at the next start"
finding planted_licence

policy_dir() {
        mv "$EP_POLICY" "$EP_POLICY.saved"
        mkdir "$EP_POLICY"
        out=$(call $P Reload '' '' 2>&1)
        rmdir "$EP_POLICY"
        mv "$EP_POLICY.saved" "$EP_POLICY"
        ep_assert_contains "$out" "ERR org.endpointd.Error.NotFound" "Reload of a policy path that is a directory"
}
ep_attack "Reload when the policy path is a directory"
finding policy_dir
indep_alive "end"

[ "$INDEP_FINDINGS" -eq 0 ] || ep_fail "$INDEP_FINDINGS of $EP_ATTACKS attacks not resisted"
ep_log "$EP_ATTACKS attacks"
ep_done
