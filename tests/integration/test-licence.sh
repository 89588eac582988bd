#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Signed device licences, through the same verifier as grants: features
# for this device or any device ("*"), refusals, persistence, and the
# permissions licence.read / licence.install.
. "$top_srcdir/tests/integration/lib.sh"

ep_setup
ep_pki_init
printf '\n[Role]\nName=app\nPermissions=licence.read\n\n[Subject]\nUser=daemon\nRoles=app\n' >>"$EP_POLICY"
ep_start
device=$(ep_ctl device-id)
[ -n "$device" ] || ep_fail "no device id"

iso() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }
# mklicence NAME ID DEVICE FEATURES NOTBEFORE NOTAFTER [SIGNER]
mklicence() {
        printf '[Licence]\nId=%s\nDevice=%s\nFeatures=%s\nNotBefore=%s\nNotAfter=%s\n' "$2" "$3" "$4" "$5" "$6" \
                >"$EP_TMP/$1.licence"
        # The role's own signer, or another one (a negative test) when given.
        if [ -n "${7:-}" ]; then ep_sign "$EP_TMP/$1.licence" "$EP_TMP/$1.sig" "$7"
        else ep_sign_licence "$EP_TMP/$1.licence" "$EP_TMP/$1.sig"; fi
}
bytes() { od -An -tu1 -v "$1" | tr -s ' \n' ',,' | sed 's/^,//; s/,$//'; }
install_raw() {
        dbus-send --system --print-reply --dest=org.endpointd.Endpoint1 /org/endpointd/Endpoint1 \
                org.endpointd.Policy1.InstallLicence "array:byte:$(bytes "$1")" "array:byte:$(bytes "$2")"
}

ep_expect_exit 1 ep_ctl licence check remote-monitoring

mklicence mine lic-device "$device" "remote-monitoring dose-logging" "$(iso '-1 day')" "$(iso '+30 days')"
ep_assert_eq "$(ep_ctl licence install "$EP_TMP/mine.licence" "$EP_TMP/mine.sig")" lic-device "licence installed"
mklicence fleet lic-fleet '*' basic "$(iso '-1 day')" "$(iso '+1 year')"
ep_expect_exit 0 ep_ctl licence install "$EP_TMP/fleet.licence" "$EP_TMP/fleet.sig"

# CheckFeature, by an unprivileged application with licence.read.
ep_expect_exit 0 ep_as 1 "$EP_BUILD/endpointctl" licence check remote-monitoring
ep_expect_exit 0 ep_as 1 "$EP_BUILD/endpointctl" licence check basic
ep_expect_exit 1 ep_as 1 "$EP_BUILD/endpointctl" licence check video
ep_assert_contains "$(ep_as 1 "$EP_BUILD/endpointctl" --json licence check dose-logging)" '"enabled":true' "JSON"
ep_expect_exit 4 ep_as 2 "$EP_BUILD/endpointctl" licence check basic
ep_expect_exit 4 ep_as 1 "$EP_BUILD/endpointctl" licence install "$EP_TMP/mine.licence" "$EP_TMP/mine.sig"
ep_assert_contains "$(ep_ctl licence list)" "lic-fleet" "licence list"
ep_assert_contains "$(ep_ctl --json licence list)" '"features":"remote-monitoring dose-logging"' "licence list --json"

# Refusals: another device, untrusted signer, changed byte, expired, not yet valid, duplicate, a grant.
mklicence other lic-other 0123456789abcdef video "$(iso '-1 day')" "$(iso '+1 day')"
ep_expect_error org.endpointd.Error.WrongDevice install_raw "$EP_TMP/other.licence" "$EP_TMP/other.sig"
mklicence rogue lic-rogue '*' video "$(iso '-1 day')" "$(iso '+1 day')" rogue
ep_expect_error org.endpointd.Error.BadSignature install_raw "$EP_TMP/rogue.licence" "$EP_TMP/rogue.sig"
mklicence flip lic-flip '*' video "$(iso '-1 day')" "$(iso '+1 day')"
sed -i 's/video/vidoe/' "$EP_TMP/flip.licence"
ep_expect_error org.endpointd.Error.BadSignature install_raw "$EP_TMP/flip.licence" "$EP_TMP/flip.sig"
mklicence old lic-old '*' video "$(iso '-2 days')" "$(iso '-1 day')"
ep_expect_error org.endpointd.Error.Expired install_raw "$EP_TMP/old.licence" "$EP_TMP/old.sig"
mklicence future lic-future '*' video "$(iso '+1 day')" "$(iso '+2 days')"
ep_expect_error org.endpointd.Error.NotYetValid install_raw "$EP_TMP/future.licence" "$EP_TMP/future.sig"
ep_expect_error org.endpointd.Error.Exists install_raw "$EP_TMP/mine.licence" "$EP_TMP/mine.sig"
printf '[Grant]\nId=g\nDevice=%s\nSubject=uid:1\nRoles=app\nNotBefore=%s\nNotAfter=%s\n' "$device" \
        "$(iso '-1 day')" "$(iso '+1 day')" >"$EP_TMP/g.grant"
# Signed by the licence signer, so that only its content (a grant) is refused.
ep_sign_licence "$EP_TMP/g.grant" "$EP_TMP/g.sig"
ep_expect_error org.endpointd.Error.Malformed install_raw "$EP_TMP/g.grant" "$EP_TMP/g.sig"
ep_expect_exit 1 ep_as 1 "$EP_BUILD/endpointctl" licence check video
ep_expect_exit 0 ep_ctl licence verify "$EP_TMP/mine.licence"
ep_expect_exit 1 ep_ctl licence verify "$EP_TMP/g.grant"

# Licences persist across restarts.
ep_restart
ep_expect_exit 0 ep_as 1 "$EP_BUILD/endpointctl" licence check remote-monitoring
[ -f "$EP_STATE/licences/lic-device.licence" ] || ep_fail "licence not stored"
ep_ok "licence stored in the state directory"

# A clean exit (also: no memcheck errors when run under valgrind).
ep_stop
ep_assert_eq "$EP_DAEMON_RC" 0 "daemon exit status"

ep_done
