#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Per-uid rate limits: a flooding uid gets org.endpointd.Error.RateLimited
# (logged once, not once per call) while another uid keeps being served.
. "$top_srcdir/tests/integration/lib.sh"

ep_setup --no-tpm
ep_config Policy RateLimitBurst 20
ep_config Policy RateLimitPerSecond 1
printf '\n[Role]\nName=viewer\nPermissions=status.read policy.read\n' >>"$EP_POLICY"
printf '\n[Subject]\nUser=daemon\nRoles=viewer\n\n[Subject]\nUser=bin\nRoles=viewer\n' >>"$EP_POLICY"
ep_start

call_as() {
        ep_as "$1" dbus-send --system --print-reply --dest=org.endpointd.Endpoint1 /org/endpointd/Endpoint1 \
                org.endpointd.Policy1.CheckAccess string:status.read
}

# uid 1 floods: with a burst of 20 and 1 call/s, 60 quick calls cannot all pass.
limited=0
for _ in $(seq 60); do
        out=$(call_as 1 2>&1) && continue
        case $out in
        *org.endpointd.Error.RateLimited*) limited=$((limited + 1)) ;;
        *) ep_fail "unexpected error: $out" ;;
        esac
done
[ $limited -gt 0 ] || ep_fail "60 calls in a row were never rate-limited"
ep_ok "flooding uid 1 was refused $limited times with RateLimited"

# Another uid is not starved, also while uid 1 keeps flooding.
( for _ in $(seq 200); do call_as 1 >/dev/null 2>&1; done ) &
flood=$!
for _ in $(seq 10); do
        ep_expect_exit 0 ep_as 2 "$EP_BUILD/endpointctl" status
done
kill "$flood" 2>/dev/null
wait "$flood" 2>/dev/null
ep_expect_error org.endpointd.Error.RateLimited call_as 1
ep_expect_exit 1 ep_as 1 "$EP_BUILD/endpointctl" status
ep_assert_contains "$(cat "$EP_TMP/last.out")" "Too many calls" "endpointctl says why"

# The flood is a journal event, logged once per flood rather than per call.
n=$(grep -c "Rate limit reached for uid 1 " "$EP_TMP/daemon.log")
[ "$n" -ge 1 ] && [ "$n" -lt "$limited" ] || ep_fail "rate-limit log lines: $n for $limited refusals"
ep_ok "rate limiting logged $n time(s) for $limited+ refusals"
# uid 2 never was.
! grep -q "Rate limit reached for uid 2 " "$EP_TMP/daemon.log" || ep_fail "uid 2 was rate-limited"
ep_ok "uid 2 was never rate-limited"

# root is not limited (it could stop the daemon anyway): 60 calls in a row pass.
for _ in $(seq 60); do
        ep_busctl call org.endpointd.Endpoint1 /org/endpointd/Endpoint1 org.endpointd.Policy1 CheckAccess s \
                status.read >/dev/null || ep_fail "root was refused"
done
ep_ok "root is not rate-limited"

# A clean exit (also: no memcheck errors when run under valgrind).
ep_stop
ep_assert_eq "$EP_DAEMON_RC" 0 "daemon exit status"

ep_done
