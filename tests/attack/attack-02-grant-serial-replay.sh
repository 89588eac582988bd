#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 8, item 2 (written by the authors, test first): authorisation was
# remembered by (sender, message serial, permission), and the serial is
# chosen by the client. A caller that was once allowed a call with serial
# 77 could send any later call of the same permission with serial 77 and
# be allowed without a decision: after its grant lapsed (DeleteKey of the
# pump's key), past the rate limit, after a policy reload took its rights.
# Every call must be decided on its own.
. "$top_srcdir/tests/attack/lib.sh"

CALL=$EP_BUILD/attack-bus-call
[ -x "$CALL" ] || ep_skip "attack-bus-call is not built (make check builds it)"

ep_setup
ep_pki_init
ep_config Policy RateLimitBurst 50
ep_config Policy RateLimitPerSecond 1
cat >>"$EP_POLICY" <<'EOF'

[Role]
Name=service
Permissions=keys.delete

[Role]
Name=lister
Permissions=keys.list policy.reload status.read

[Subject]
UID=2
Roles=lister
EOF
ep_start

iso() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }
device=$(ep_ctl device-id)
ep_ctl key create infusion >/dev/null || ep_fail "cannot create the pump's key"

# caller_start UID [OPTIONS]: one connection of attack-bus-call as UID, in
# a coprocess; caller_call "SERIAL INTERFACE MEMBER [ARG]" sends a call on
# it and prints the answer; caller_stop closes it.
caller_start() {
        local uid=$1
        shift
        coproc CALLER { ep_as "$uid" "$CALL" "$@"; }
        EP_PIDS+=("$CALLER_PID")
        read -r -t 10 -u "${CALLER[0]}" ready CALLER_CLIENT_PID || ep_fail "attack-bus-call did not start"
        [ "$ready" = ready ] || ep_fail "attack-bus-call said '$ready'"
}
caller_call() {
        local line
        echo "$1" >&"${CALLER[1]}"
        while read -r -t 30 -u "${CALLER[0]}" line; do
                case $line in
                "passed "*) echo "$line"; return 0 ;;
                *) echo "$line"; [ "${2:-}" = many ] || return 0 ;;
                esac
        done
        ep_fail "no answer from attack-bus-call to '$1'"
}
caller_stop() {
        local pid=$CALLER_PID
        exec {CALLER[1]}>&-
        wait "$pid" 2>/dev/null || :
}

ep_attack "uid 1000 replays the serial of a call its lapsed grant allowed, to delete the pump's key"
end=$(($(date +%s) + 6))
printf '[Grant]\nId=visit\nDevice=%s\nSubject=uid:1000\nRoles=service\nNotBefore=%s\nNotAfter=%s\n' \
        "$device" "$(iso '-1 minute')" "$(date -u -d "@$end" +%Y-%m-%dT%H:%M:%SZ)" >"$EP_TMP/visit.grant"
ep_sign_grant "$EP_TMP/visit.grant" "$EP_TMP/visit.sig"
ep_expect_exit 0 ep_ctl grant install "$EP_TMP/visit.grant" "$EP_TMP/visit.sig"
caller_start 1000
# During the grant: allowed (the key does not exist, so NotFound).
ep_assert_eq "$(caller_call "77 Keys1 DeleteKey nosuchkey")" org.endpointd.Error.NotFound \
        "during the grant, DeleteKey is allowed"
while [ "$(date +%s)" -le "$end" ]; do sleep 0.5; done
for _ in $(seq 50); do grep -q "Grant 'visit' for uid:1000 lapsed" "$EP_TMP/daemon.log" && break; sleep 0.1; done
ep_assert_contains "$(cat "$EP_TMP/daemon.log")" "Grant 'visit' for uid:1000 lapsed" "grant lapsed"
ep_assert_eq "$(caller_call "78 Keys1 DeleteKey infusion")" org.freedesktop.DBus.Error.AccessDenied \
        "after the lapse, a new serial is denied"
ep_assert_eq "$(caller_call "77 Keys1 DeleteKey infusion")" org.freedesktop.DBus.Error.AccessDenied \
        "after the lapse, the replayed serial is denied"
caller_stop
ep_assert_contains "$(ep_ctl key list)" infusion "the pump's key is still there"

ep_attack "uid 2 sends 400 calls with one serial to get past the rate limit"
caller_start 2 --count=400
out=$(caller_call "5 Keys1 ListKeys" many)
caller_stop
passed=$(printf '%s\n' "$out" | sed -n 's/^passed \([0-9]*\) of 400$/\1/p')
[ -n "$passed" ] || ep_fail "no count from attack-bus-call: $out"
[ "$passed" -le 60 ] || ep_fail "$passed of 400 calls with one serial passed a limit of 50"
ep_ok "$passed of 400 calls with one serial passed a limit of 50"
ep_assert_contains "$out" org.endpointd.Error.RateLimited "the flood is refused with RateLimited"

ep_attack "uid 2 replays the serial of an allowed call after a policy reload took the right away"
sleep 3 # tokens back in the bucket
caller_start 2
ep_assert_eq "$(caller_call "9 Keys1 ListKeys")" ok "ListKeys allowed"
sed -i 's/^Permissions=keys.list policy.reload status.read$/Permissions=policy.reload status.read/' "$EP_POLICY"
ep_expect_exit 0 ep_ctl policy reload
ep_assert_eq "$(caller_call "9 Keys1 ListKeys")" org.freedesktop.DBus.Error.AccessDenied \
        "after the reload, the replayed serial is denied"
caller_stop

ep_attack "a GetAll is authorised once, each Get on its own"
sleep 1
out=$(ep_as 2 busctl --system get-property org.endpointd.Endpoint1 /org/endpointd/Endpoint1 \
        org.endpointd.Endpoint1 Version 2>&1) || ep_fail "Get denied: $out"
ep_ok "Get allowed with status.read"
out=$(ep_as 2 busctl --system introspect org.endpointd.Endpoint1 /org/endpointd/Endpoint1 \
        org.endpointd.Endpoint1 2>&1) || ep_fail "GetAll (introspect) denied: $out"
ep_assert_contains "$out" ".IntegrityState" "GetAll returns every property"
out=$(ep_as 1000 busctl --system get-property org.endpointd.Endpoint1 /org/endpointd/Endpoint1 \
        org.endpointd.Endpoint1 Version 2>&1) && ep_fail "Get allowed to uid 1000 without status.read: $out"
ep_assert_contains "$out" "denied" "Get denied without status.read"

ep_stop
ep_assert_eq "$EP_DAEMON_RC" 0 "daemon exit status"
ep_done
