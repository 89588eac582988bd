#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Signed maintenance grants: rights only through a grant, lapse after
# NotAfter, persistence across restarts, revocation for good, and every
# refusal (WrongDevice, untrusted signer, one byte changed, malformed, not
# yet valid, expired). The clock set back (libfaketime on the daemon, its
# offset read from a file on every call) does not extend a grant.
. "$top_srcdir/tests/integration/lib.sh"

ep_faketime

ep_setup
# Certificates valid since yesterday, so that the set-back clock below
# still finds the signer valid and only the grant's own times matter.
LD_PRELOAD=$FAKETIME_LIB FAKETIME="-1d" ep_pki_init
cat >>"$EP_POLICY" <<'EOF'

[Role]
Name=viewer
Permissions=status.read policy.read

[Role]
Name=service
Permissions=policy.reload integrity.scan

[Subject]
User=daemon
Roles=viewer

[Subject]
User=bin
Roles=viewer
EOF
# The daemon's wall clock: real time plus the offset in this file (CLOCK_MONOTONIC
# stays real, as when somebody sets the date).
echo "+0" >"$EP_TMP/faketime"
ep_faketime_daemon "$EP_TMP/faketime"
ep_start

device=$(ep_ctl device-id)
[ -n "$device" ] || ep_fail "no device id"
ep_ok "device id $device"

iso() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }

# mkgrant NAME ID SUBJECT NOTBEFORE NOTAFTER [DEVICE] [SIGNER]
mkgrant() {
        printf '[Grant]\nId=%s\nDevice=%s\nSubject=%s\nRoles=service\nNotBefore=%s\nNotAfter=%s\n' \
                "$2" "${6:-$device}" "$3" "$4" "$5" >"$EP_TMP/$1.grant"
        # The role's own signer, or another one (a negative test) when given.
        if [ -n "${7:-}" ]; then ep_sign "$EP_TMP/$1.grant" "$EP_TMP/$1.sig" "$7"
        else ep_sign_grant "$EP_TMP/$1.grant" "$EP_TMP/$1.sig"; fi
}

# The D-Bus error name, straight from the bus (endpointctl prints sentences).
bytes() { od -An -tu1 -v "$1" | tr -s ' \n' ',,' | sed 's/^,//; s/,$//'; }
install_raw() {
        dbus-send --system --print-reply --dest=org.endpointd.Endpoint1 /org/endpointd/Endpoint1 \
                org.endpointd.Policy1.InstallGrant "array:byte:$(bytes "$1")" "array:byte:$(bytes "$2")"
}

# Without a grant uid 1 may not reload.
ep_expect_exit 4 ep_as 1 "$EP_BUILD/endpointctl" policy check policy.reload
ep_expect_exit 4 ep_as 1 "$EP_BUILD/endpointctl" policy reload

# Allowed only through a grant, and only for its subject.
mkgrant long long-visit user:daemon "$(iso '-1 hour')" "$(iso '+1 day')"
ep_assert_eq "$(ep_ctl grant install "$EP_TMP/long.grant" "$EP_TMP/long.sig")" long-visit "grant installed"
ep_expect_exit 0 ep_as 1 "$EP_BUILD/endpointctl" policy check policy.reload
ep_expect_exit 0 ep_as 1 "$EP_BUILD/endpointctl" policy reload
ep_expect_exit 4 ep_as 2 "$EP_BUILD/endpointctl" policy check policy.reload
ep_assert_contains "$(ep_ctl grant list)" "long-visit" "grant list"
ep_assert_contains "$(ep_ctl --json grant list)" '"subject":"user:daemon"' "grant list --json"
ep_expect_error org.endpointd.Error.Exists install_raw "$EP_TMP/long.grant" "$EP_TMP/long.sig"

# Refusals, each with its own error name.
mkgrant other other-dev user:daemon "$(iso '-1 hour')" "$(iso '+1 day')" 0123456789abcdef
ep_expect_error org.endpointd.Error.WrongDevice install_raw "$EP_TMP/other.grant" "$EP_TMP/other.sig"
mkgrant rogue rogue-signed user:daemon "$(iso '-1 hour')" "$(iso '+1 day')" "$device" rogue
ep_expect_error org.endpointd.Error.BadSignature install_raw "$EP_TMP/rogue.grant" "$EP_TMP/rogue.sig"
mkgrant flip flipped user:daemon "$(iso '-1 hour')" "$(iso '+1 day')"
sed -i 's/Roles=service/Roles=servicf/' "$EP_TMP/flip.grant"
ep_expect_error org.endpointd.Error.BadSignature install_raw "$EP_TMP/flip.grant" "$EP_TMP/flip.sig"
ep_expect_error org.endpointd.Error.BadSignature install_raw "$EP_TMP/long.grant" "$EP_TMP/long.grant"
mkgrant future future user:daemon "$(iso '+1 hour')" "$(iso '+1 day')"
ep_expect_error org.endpointd.Error.NotYetValid install_raw "$EP_TMP/future.grant" "$EP_TMP/future.sig"
mkgrant old old user:daemon "$(iso '-3 hours')" "$(iso '-2 hours')"
ep_expect_error org.endpointd.Error.Expired install_raw "$EP_TMP/old.grant" "$EP_TMP/old.sig"
printf '[Grant]\nId=bad\nDevice=%s\nSubject=user:daemon\n' "$device" >"$EP_TMP/bad.grant"
ep_sign_grant "$EP_TMP/bad.grant" "$EP_TMP/bad.sig"
ep_expect_error org.endpointd.Error.Malformed install_raw "$EP_TMP/bad.grant" "$EP_TMP/bad.sig"
ep_expect_exit 4 ep_as 1 "$EP_BUILD/endpointctl" grant install "$EP_TMP/long.grant" "$EP_TMP/long.sig"
ep_expect_exit 0 ep_ctl grant check "$EP_TMP/long.grant"
ep_expect_exit 1 ep_ctl grant check "$EP_TMP/bad.grant"
# Locally, with the signature: the daemon's verifier against a trust directory.
ep_expect_exit 0 ep_ctl grant check "$EP_TMP/long.grant" "$EP_TMP/long.sig" --trust "$EP_TRUST"
ep_expect_exit 1 ep_ctl grant check "$EP_TMP/rogue.grant" "$EP_TMP/rogue.sig" --trust "$EP_TRUST"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "does not verify" "grant check names the reason"
ep_expect_exit 1 ep_ctl grant check "$EP_TMP/old.grant" "$EP_TMP/old.sig" --trust="$EP_TRUST"
ep_expect_exit 2 ep_ctl grant check "$EP_TMP/long.grant" --trust "$EP_TRUST"

# The clock set back does not revive an expired grant: the daemon's time
# never goes below the high-water mark it has seen (and persisted).
echo "-9000" >"$EP_TMP/faketime"   # 2.5 h back: inside old's validity
ep_expect_error org.endpointd.Error.Expired install_raw "$EP_TMP/old.grant" "$EP_TMP/old.sig"
# The control: the daemon did see its clock 2.5 h back, and used the mark.
# (The mark moves on with the time that passes, so it is 9000 s ahead.)
grep -qE "The clock is behind the high-water mark by (8999|9000) s" "$EP_TMP/daemon.log" ||
        ep_fail "the daemon did not see its clock 9000 s behind the mark"
ep_ok "clock set back 9000 s"
ep_restart
ep_expect_error org.endpointd.Error.Expired install_raw "$EP_TMP/old.grant" "$EP_TMP/old.sig"
echo "+0" >"$EP_TMP/faketime"

# Grants persist across restarts (checked again against the trust store).
ep_assert_contains "$(ep_ctl grant list)" "long-visit" "grant survives a restart"
ep_expect_exit 0 ep_as 1 "$EP_BUILD/endpointctl" policy check policy.reload

# Revoked for good: gone now, and the same signed file cannot come back.
ep_expect_exit 0 ep_ctl grant revoke long-visit
ep_expect_exit 4 ep_as 1 "$EP_BUILD/endpointctl" policy check policy.reload
ep_expect_error org.endpointd.Error.Revoked install_raw "$EP_TMP/long.grant" "$EP_TMP/long.sig"
ep_expect_error org.endpointd.Error.NotFound dbus-send --system --print-reply --dest=org.endpointd.Endpoint1 \
        /org/endpointd/Endpoint1 org.endpointd.Policy1.RevokeGrant string:long-visit
[ ! -e "$EP_STATE/grants/long-visit.grant" ] || ep_fail "revoked grant still on disk"
ep_ok "revoked grant removed from disk"

# A short-lived grant: allowed, then denied once its NotAfter has passed,
# and the lapse is a journal event (a timer, nobody has to ask).
end=$(( $(date +%s) + 6 ))
mkgrant short short-visit uid:2 "$(iso '-1 minute')" "$(date -u -d "@$end" +%Y-%m-%dT%H:%M:%SZ)"
ep_expect_exit 0 ep_ctl grant install "$EP_TMP/short.grant" "$EP_TMP/short.sig"
ep_expect_exit 0 ep_as 2 "$EP_BUILD/endpointctl" policy check policy.reload
while [ "$(date +%s)" -le "$end" ]; do sleep 0.5; done
for _ in $(seq 50); do grep -q "Grant 'short-visit' for uid:2 lapsed" "$EP_TMP/daemon.log" && break; sleep 0.1; done
ep_assert_contains "$(cat "$EP_TMP/daemon.log")" "Grant 'short-visit' for uid:2 lapsed" "lapse logged by the timer"
ep_expect_exit 4 ep_as 2 "$EP_BUILD/endpointctl" policy check policy.reload
ep_expect_exit 4 ep_as 2 "$EP_BUILD/endpointctl" policy reload
[ -z "$(ep_ctl grant list | grep short-visit)" ] || ep_fail "lapsed grant still listed"
ep_ok "lapsed grant no longer listed"

# Stored grants are verified again at start-up: one changed on disk is
# ignored (and the daemon says so), it does not start granting.
mkgrant stored stored-visit uid:2 "$(iso '-1 hour')" "$(iso '+1 day')"
ep_expect_exit 0 ep_ctl grant install "$EP_TMP/stored.grant" "$EP_TMP/stored.sig"
sed -i 's/^Subject=uid:2$/Subject=uid:3/' "$EP_STATE/grants/stored-visit.grant"
ep_restart
ep_assert_contains "$(cat "$EP_TMP/daemon.log")" "Ignoring stored $EP_STATE/grants/stored-visit.grant: The signature does not verify" \
        "tampered grant refused at start-up"
ep_expect_exit 4 ep_as 2 "$EP_BUILD/endpointctl" policy check policy.reload
ep_expect_exit 4 ep_as 3 "$EP_BUILD/endpointctl" policy check policy.reload

# A clean exit (also: no memcheck errors when run under valgrind).
ep_stop
ep_assert_eq "$EP_DAEMON_RC" 0 "daemon exit status"

ep_done
