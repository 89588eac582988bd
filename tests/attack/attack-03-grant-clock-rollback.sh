#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 8, item 3 (written by the authors, test first): a grant that
# expired while endpointd was stopped came back when the daemon was started
# with the clock set back 9000 s: the persisted high-water mark only knew
# the time of the last stop, not the time that had passed since. The same
# with the daemon running: a clock set back made the mark stand still, so a
# grant with seconds left kept working for hours. The daemon's time must
# advance with the time that really passed (CLOCK_BOOTTIME, which setting
# the date does not change), also across a stop within one boot.
. "$top_srcdir/tests/attack/lib.sh"

ep_faketime

ep_setup
# Certificates valid since yesterday: with the clock set back, only the
# grant's own times matter.
LD_PRELOAD=$FAKETIME_LIB FAKETIME="-1d" ep_pki_init
cat >>"$EP_POLICY" <<'EOF'

[Role]
Name=service
Permissions=policy.reload policy.read
EOF
# The daemon's wall clock is real time plus the offset in this file; the
# monotonic clocks stay real, as when somebody sets the date.
echo "+0" >"$EP_TMP/faketime"
# A grant must outlive a stop and a start: longer when they are slow.
SPAN=10
[ -n "$EP_DAEMON_WRAPPER$EP_SANITIZED" ] && SPAN=45
ep_faketime_daemon "$EP_TMP/faketime"
ep_start
device=$(ep_ctl device-id)

iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
# grant ID UID SECONDS: a signed grant of the service role, from a minute
# ago until SECONDS from now; prints its NotAfter (epoch seconds).
grant() {
        local end=$(($(date +%s) + $3))
        printf '[Grant]\nId=%s\nDevice=%s\nSubject=uid:%s\nRoles=service\nNotBefore=%s\nNotAfter=%s\n' \
                "$1" "$device" "$2" "$(iso $(($(date +%s) - 60)))" "$(iso $end)" >"$EP_TMP/$1.grant"
        ep_sign_grant "$EP_TMP/$1.grant" "$EP_TMP/$1.sig"
        ep_ctl grant install "$EP_TMP/$1.grant" "$EP_TMP/$1.sig" >/dev/null || ep_fail "cannot install $1"
        echo "$end"
}

ep_attack "a grant lapses while the daemon is stopped; it is started with the clock 9000 s back"
end=$(grant visit 1 6)
ep_expect_exit 0 ep_as 1 "$EP_BUILD/endpointctl" policy check policy.reload
ep_stop
while [ "$(date +%s)" -le $((end + 1)) ]; do sleep 0.5; done
echo "-9000" >"$EP_TMP/faketime"
ep_start
ep_expect_exit 4 ep_as 1 "$EP_BUILD/endpointctl" policy check policy.reload
[ -z "$(ep_ctl grant list | grep visit)" ] || ep_fail "the lapsed grant is listed again"
ep_ok "the lapsed grant is not listed"
[ ! -e "$EP_STATE/grants/visit.grant" ] || ep_fail "the lapsed grant is still stored"
ep_ok "the lapsed grant is removed from the state directory"

ep_attack "the clock is set back 9000 s while a grant with seconds left is in force"
echo "+0" >"$EP_TMP/faketime"
ep_restart
end=$(grant visit2 2 6)
ep_expect_exit 0 ep_as 2 "$EP_BUILD/endpointctl" policy check policy.reload
echo "-9000" >"$EP_TMP/faketime"
while [ "$(date +%s)" -le $((end + 1)) ]; do sleep 0.5; done
ep_expect_exit 4 ep_as 2 "$EP_BUILD/endpointctl" policy check policy.reload
ep_expect_exit 4 ep_as 2 "$EP_BUILD/endpointctl" policy reload

ep_attack "the clock is set back 9000 s between a stop and a start, before the grant has lapsed"
echo "+0" >"$EP_TMP/faketime"
ep_restart
end=$(grant visit3 3 "$SPAN")
ep_stop
echo "-9000" >"$EP_TMP/faketime"
ep_start
# Still in force (its time has not run out) ...
ep_expect_exit 0 ep_as 3 "$EP_BUILD/endpointctl" policy check policy.reload
# ... but only for the time it had left.
while [ "$(date +%s)" -le $((end + 1)) ]; do sleep 0.5; done
ep_expect_exit 4 ep_as 3 "$EP_BUILD/endpointctl" policy check policy.reload

ep_stop
ep_assert_eq "$EP_DAEMON_RC" 0 "daemon exit status"
ep_done
