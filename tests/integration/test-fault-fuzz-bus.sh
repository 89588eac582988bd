#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Bus-level fuzzing: fuzz-bus (tests/fuzz-bus/) reads conf/*.xml and calls
# every method and property of the running daemon with random and boundary
# arguments, right and wrong types, from root (every permission) and at the
# same time from uid 1 (a read role and one key) for EP_FUZZ_BUS_SECONDS
# (default 30). The daemon must not crash, hang or answer with an error
# name endpointd-dbus(7) does not document; afterwards it still answers,
# as the same process on the bus, and its key and manifest still work.
# bench/fuzz-bus/run.sh runs the same fuzzer for longer.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-keys-lib.sh"
. "$top_srcdir/tests/integration/test-integrity-lib.sh"
. "$top_srcdir/tests/integration/test-fault-lib.sh"
[ -x "$EP_BUILD/fuzz-bus" ] || ep_skip "fuzz-bus is not built (make check builds it)"
secs=${EP_FUZZ_BUS_SECONDS:-30}
# Under valgrind a call may take 50 times as long.
timeout=30
[ -n "$EP_DAEMON_WRAPPER" ] && timeout=300

f_setup
# Fuzzed calls come fast; the rate limit is part of what is fuzzed, but
# uid 1 must get past it often enough to reach the handlers.
ep_config Policy RateLimitBurst 1000
ep_config Policy RateLimitPerSecond 1000
cat >>"$EP_POLICY" <<'EOF'

[Role]
Name=fuzz
Permissions=status.read integrity.read policy.read keys.use:k1 licence.read

[Subject]
User=daemon
Roles=fuzz
EOF
ep_start
it_manifest 1 "$EP_TMP/m1"
it_install "$EP_TMP/m1" "$EP_TMP/m1.sig" || ep_fail "manifest not installed"
k_call CreateKey k1 "{}" >/dev/null || ep_fail "CreateKey k1"
k_call Seal s1 "$(k_ay 'fuzz secret')" "{}" >/dev/null || ep_fail "Seal s1"
# A key whose name the fuzzer does not use (it may delete and re-create k1).
k_call CreateKey kept-7f3a "{}" >/dev/null || ep_fail "CreateKey kept-7f3a"
ep_ctl encrypt kept-7f3a <<<"before" >"$EP_TMP/ct" || ep_fail "encrypt"
owner=$(ep_busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetNameOwner s \
        org.endpointd.Endpoint1)

seed=${EP_FUZZ_BUS_SEED:-$(date +%s)}
fuzz=("$EP_BUILD/fuzz-bus" -d "$secs" -t "$timeout" -m "$EP_SRC/man/endpointd-dbus.7" "$EP_SRC"/conf/org.endpointd.*.xml)
ep_log "seeds $seed (root) and $((seed + 1)) (uid $(id -u daemon)); rerun with EP_FUZZ_BUS_SEED=$seed"
"${fuzz[@]}" -s "$seed" >"$EP_TMP/fuzz-root.log" 2>&1 &
root_pid=$!
EP_PIDS+=("$root_pid")
ep_as "$(id -u daemon)" "${fuzz[@]}" -s "$((seed + 1))" >"$EP_TMP/fuzz-user.log" 2>&1 &
user_pid=$!
EP_PIDS+=("$user_pid")
rc_root=0 rc_user=0
wait "$root_pid" || rc_root=$?
wait "$user_pid" || rc_user=$?
cat "$EP_TMP/fuzz-root.log" "$EP_TMP/fuzz-user.log" >&2
[ "$rc_root" = 0 ] || ep_fail "fuzz-bus as root found a defect (exit $rc_root)"
ep_ok "fuzz-bus as root: $(grep -o '[0-9]* calls in [0-9.]* s' "$EP_TMP/fuzz-root.log")"
[ "$rc_user" = 0 ] || ep_fail "fuzz-bus as uid $(id -u daemon) found a defect (exit $rc_user)"
ep_ok "fuzz-bus as uid $(id -u daemon): $(grep -o '[0-9]* calls in [0-9.]* s' "$EP_TMP/fuzz-user.log")"
# Every member was called.
for log in fuzz-root fuzz-user; do
        n=$(grep -cE '^  org\.endpointd\.[A-Za-z0-9]+\.[A-Za-z]+( \(property\))? 0$' "$EP_TMP/$log.log" || true)
        ep_assert_eq "$n" 0 "members never called by $log"
done

# Afterwards: the same daemon process answers and its state works.
kill -0 "$EP_DAEMON_PID" || ep_fail "endpointd died"
ep_assert_eq "$(ep_busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetNameOwner s \
        org.endpointd.Endpoint1)" "$owner" "the bus name's owner after fuzzing"
ep_expect_exit 0 ep_ctl status
ep_assert_eq "$(ep_ctl decrypt kept-7f3a <"$EP_TMP/ct" 2>&1)" before "a key stored before the fuzzing still decrypts"
ep_done
