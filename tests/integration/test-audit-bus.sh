#!/bin/bash
# org.endpointd.Audit1 and the follow modes of endpointctl against a real
# daemon: Event signals reach only subscribers holding audit.read, a caller
# without it is denied ReadEvents, Verify and Subscribe and sees no Event;
# ReadEvents pages through the log; `audit show`, `monitor` and
# `violations --follow` print what happens and end cleanly on SIGINT
# (exit 0) and when the daemon goes away (exit 3).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-integrity-lib.sh"

ep_setup
ep_pki_init
ep_config Integrity Watch no

R=$EP_ROOT
mkdir -p "$R/bin"
for f in a b c; do echo "content of $f" >"$R/bin/$f"; done

# uid 2 may read the audit log and integrity results; 65534 nothing.
printf '\n[Role]\nName=auditor\nPermissions=audit.read audit.verify integrity.read\n' >>"$EP_POLICY"
printf '\n[Subject]\nUID=2\nRoles=auditor\n' >>"$EP_POLICY"
ep_start

it_manifest 1 "$EP_TMP/m1"
it_install "$EP_TMP/m1" "$EP_TMP/m1.sig" || ep_fail "installing the manifest failed"
ep_expect_exit 0 ep_ctl scan

audit_call() { # METHOD [SIGNATURE ARGS...] as uid UID (gdbus names the error)
        local uid=$1
        shift
        ep_as "$uid" gdbus call --system -d org.endpointd.Endpoint1 -o /org/endpointd/Endpoint1 \
                -m "org.endpointd.Audit1.$1" "${@:2}"
}

# --- no audit.read: denied, and no Event by any match rule -----------------------
for m in "ReadEvents 1 10" Verify Subscribe; do
        # shellcheck disable=SC2086 # the method and its arguments
        ep_expect_error org.freedesktop.DBus.Error.AccessDenied audit_call 65534 $m
done
ep_expect_exit 4 ep_as 65534 "$EP_BUILD/endpointctl" monitor
ep_expect_exit 4 ep_as 65534 "$EP_BUILD/endpointctl" audit show
ep_as 65534 gdbus monitor --system -d org.endpointd.Endpoint1 >"$EP_TMP/stranger.log" 2>&1 &
EP_PIDS+=($!)

# --- followers with the permissions -----------------------------------------------
# as2 CMD... &: uid 2 runs CMD in place of the background subshell, so that $!
# is CMD's pid (a signal sent to it reaches endpointctl itself).
as2() { exec setpriv --reuid=2 --regid=2 --clear-groups -- "$@"; }
subscribed() { grep -c "(uid 2) subscribed to org.endpointd.$1 signals" "$EP_TMP/daemon.log"; }
a0=$(subscribed Audit1)
i0=$(subscribed Integrity1)
as2 "$EP_BUILD/endpointctl" --json monitor >"$EP_TMP/monitor.json" 2>"$EP_TMP/monitor.err" &
mon=$!
as2 "$EP_BUILD/endpointctl" monitor >"$EP_TMP/monitor.txt" 2>"$EP_TMP/monitor-txt.err" &
mon_txt=$!
as2 "$EP_BUILD/endpointctl" violations --follow >"$EP_TMP/follow.txt" 2>"$EP_TMP/follow.err" &
vf=$!
as2 "$EP_BUILD/endpointctl" --json audit show --follow >"$EP_TMP/show.json" 2>"$EP_TMP/show.err" &
show=$!
EP_PIDS+=("$mon" "$mon_txt" "$vf" "$show")
# Each is subscribed once the daemon says so (generous: valgrind is slow).
for _ in $(seq 600); do
        [ "$(subscribed Audit1)" -ge $((a0 + 3)) ] && [ "$(subscribed Integrity1)" -ge $((i0 + 3)) ] && break
        sleep 0.5
done
ep_assert_eq "$(($(subscribed Audit1) - a0)):$(($(subscribed Integrity1) - i0))" "3:3" \
        "monitor (twice), audit show --follow and violations --follow subscribed"

# A violation, and a denial, while they follow.
echo "tampered" >"$R/bin/b"
ep_expect_exit 5 ep_ctl scan
ep_expect_error org.freedesktop.DBus.Error.AccessDenied audit_call 65534 Verify

wait_for() { # FILE TEXT: waits until FILE contains TEXT
        for _ in $(seq 600); do grep -qF -- "$2" "$1" && return 0; sleep 0.5; done
        ep_fail "$1 never showed '$2': $(cat "$1")"
}
wait_for "$EP_TMP/monitor.json" '"kind":"violation"'
wait_for "$EP_TMP/monitor.json" '"signal":"Violation"'
wait_for "$EP_TMP/monitor.json" '"kind":"access-denied"'
wait_for "$EP_TMP/monitor.txt" "violation modified bin/b"
wait_for "$EP_TMP/follow.txt" "violation modified bin/b"
wait_for "$EP_TMP/show.json" '"kind":"access-denied"'
jq -e -s 'length > 0' "$EP_TMP/monitor.json" >/dev/null || ep_fail "monitor --json printed no JSON lines"
ep_ok "monitor --json prints JSON lines"
ep_assert_eq "$(jq -r -s '[.[] | select(.kind == "violation")][0].fields.PATH' "$EP_TMP/monitor.json")" \
        "bin/b" "the Event of the violation names the path"
ep_assert_eq "$(jq -r -s '[.[] | select(.kind == "access-denied")][-1].uid' "$EP_TMP/monitor.json")" \
        "65534" "the Event of the denial names the uid"
# The follower got each record once: the log's part and the signals' part
# do not overlap.
ep_assert_eq "$(jq -s '[.[].seq | select(. > 0)] | (length == (unique | length))' "$EP_TMP/show.json")" true \
        "audit show --follow prints each record once"
if grep -q "Audit1\|Violation" "$EP_TMP/stranger.log"; then
        ep_fail "a client without audit.read saw: $(grep "Audit1\|Violation" "$EP_TMP/stranger.log")"
fi
ep_ok "a client without audit.read saw no Event and no Violation"

# SIGINT ends a follower cleanly.
kill -INT "$mon_txt"
rc=0
wait "$mon_txt" || rc=$?
ep_assert_eq "$rc" 0 "monitor exits 0 on SIGINT"
kill -INT "$vf"
rc=0
wait "$vf" || rc=$?
ep_assert_eq "$rc" 0 "violations --follow exits 0 on SIGINT"

# --- ReadEvents pages, audit show --json -----------------------------------------
out=$(ep_ctl --json audit show) || ep_fail "audit show --json failed: $out"
jq -e . <<<"$out" >/dev/null || ep_fail "audit show --json is not JSON: $out"
ep_ok "audit show --json | jq -e ."
total=$(jq length <<<"$out")
[ "$total" -ge 6 ] || ep_fail "the log holds only $total records: $out"
ep_assert_eq "$(jq '[.[].seq] == [range(1; length + 1)]' <<<"$out")" true "records from seq 1 without gaps"
ep_assert_eq "$(jq -r '[.[] | select(.kind == "violation")][0].fields.PATH' <<<"$out")" bin/b \
        "the violation is in the log"
# Pages of 2: together they are the whole log, in order.
from=1
seqs=
while :; do
        page=$(ep_as 2 busctl --system --json=short call org.endpointd.Endpoint1 /org/endpointd/Endpoint1 \
                org.endpointd.Audit1 ReadEvents tu "$from" 2) || ep_fail "ReadEvents $from 2 failed: $page"
        n=$(jq '.data[0] | length' <<<"$page")
        [ "$n" -le 2 ] || ep_fail "ReadEvents returned $n records for max 2"
        [ "$n" -eq 0 ] && break
        seqs="$seqs $(jq -r '[.data[0][][0]] | map(tostring) | join(" ")' <<<"$page")"
        from=$(($(jq '.data[0][-1][0]' <<<"$page") + 1))
done
paged=$(wc -w <<<"$seqs")
[ "$paged" -ge "$total" ] || ep_fail "paging read $paged records, the log has at least $total"
ep_assert_eq "$(tr ' ' '\n' <<<"$seqs" | grep . | head -n "$total" | tr '\n' ' ')" \
        "$(seq 1 "$total" | tr '\n' ' ')" "the pages hold seq 1 to $total in order"
ep_ok "ReadEvents pages of 2 cover the log ($paged records)"
ep_assert_eq "$(ep_ctl --json audit show --kind=violation | jq -r '[.[].kind] | unique | join(",")')" violation \
        "audit show --kind"
ep_assert_eq "$(ep_ctl --json audit show --since=@4102444800 | jq length)" 0 "audit show --since a future time"
out=$(audit_call 2 Verify) || ep_fail "Verify failed: $out"
ep_assert_contains "$out" "(true, uint64 0," "Verify says the log is intact"

# --- the daemon goes away: the followers end with exit 3 ---------------------------
ep_stop
for p in "$mon" "$show"; do
        rc=0
        wait "$p" || rc=$?
        ep_assert_eq "$rc" 3 "a follower exits 3 when the daemon stops"
done
ep_assert_contains "$(cat "$EP_TMP/monitor.err")" "endpointd left the bus" "monitor says why it ended"

ep_done
