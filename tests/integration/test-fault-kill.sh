#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fault: SIGKILL at random points while the daemon installs a manifest,
# creates a key and installs a grant (all three at once, each round), then
# a restart. After every restart each state file is the old or the new
# version, never a mix:
#   - files the round did not touch keep their bytes;
#   - the daemon starts (it loads every state file) and lists every key
#     and grant file it finds; the round's key, if listed, encrypts;
#   - the serial is the old or the new one, the serial floor agrees, and
#     the installed manifest verifies a file;
#   - no temp file is mistaken for state (left-over *.tmp-* are ignored).
# EP_FAULT_KILL_ROUNDS rounds (default 200, i.e. 600 operations killed
# at a random point or just after; 60 in a sanitizer build, where each
# round is slower; 20 with EP_DAEMON_WRAPPER, where each start of a daemon
# under valgrind takes seconds). A round takes about a second, most of it
# the restart (the TPM primary keys are re-created).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-keys-lib.sh"
. "$top_srcdir/tests/integration/test-integrity-lib.sh"
. "$top_srcdir/tests/integration/test-fault-lib.sh"

rounds=${EP_FAULT_KILL_ROUNDS:-200}
[ -n "$EP_SANITIZED" ] && rounds=${EP_FAULT_KILL_ROUNDS:-60}
window=60 # ms
[ -n "$EP_DAEMON_WRAPPER" ] && rounds=${EP_FAULT_KILL_ROUNDS:-20} window=3000
f_setup
cat >>"$EP_POLICY" <<'EOF'

[Role]
Name=service
Permissions=policy.reload
EOF
ep_start
device=$(ep_ctl device-id) || ep_fail "device-id"
T=$EP_TMP

# f_files: hashes of the state files, temp files left out.
f_files() { k_state | grep -v '\.tmp-'; }

# The three operations of a round, each as one bus call of its own.
f_install() { it_install_result "$T/m$1" "$T/m$1.sig" >/dev/null; }
f_create() { k_call CreateKey "key$1" "{}" >/dev/null 2>&1; }
f_grant() {
        gdbus call --system -d org.endpointd.Endpoint1 -o /org/endpointd/Endpoint1 \
                -m org.endpointd.Policy1.InstallGrant "$(k_ay_file "$T/g$1")" "$(k_ay_file "$T/g$1.sig")" \
                >/dev/null 2>&1
}

# f_all_loaded ROUND DIR SUFFIX NAMES: every DIR/*.SUFFIX file of the state
# dir is one of NAMES (one a line), i.e. the daemon loaded it.
f_all_loaded() {
        local f n
        for f in "$EP_STATE/$2"/*."$3"; do
                [ -e "$f" ] || continue
                n=$(basename "$f" ".$3")
                grep -qx "$n" <<<"$4" || ep_fail "round $1: $2/$n.$3 was not loaded"
        done
}

serial=0
killed=0 completed=0
for ((i = 1; i <= rounds; i++)); do
        next=$((serial + 1))
        [ -f "$T/m$next.sig" ] || it_manifest "$next" "$T/m$next"
        printf '[Grant]\nId=g%s\nDevice=%s\nSubject=user:daemon\nRoles=service\nNotBefore=%s\nNotAfter=%s\n' \
                "$i" "$device" "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" \
                "$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)" >"$T/g$i"
        ep_sign_grant "$T/g$i" "$T/g$i.sig"
        before=$(f_files)

        f_install "$next" &
        p1=$!
        f_create "$i" &
        p2=$!
        f_grant "$i" &
        p3=$!
        # A random point: from before the calls arrive to after they are done
        # (under valgrind they take some 50 times as long).
        sleep "$(printf '%d.%03d' $((RANDOM % window / 1000)) $((RANDOM % window % 1000)))"
        kill -KILL "$EP_DAEMON_PID"
        wait "$EP_DAEMON_PID" 2>/dev/null
        EP_DAEMON_PID=
        done_calls=0
        wait "$p1" && done_calls=$((done_calls + 1))
        wait "$p2" && done_calls=$((done_calls + 1))
        wait "$p3" && done_calls=$((done_calls + 1))
        [ $done_calls = 3 ] && completed=$((completed + 1)) || killed=$((killed + 1))
        after_kill=$(f_files)

        ep_start
        # Files the round did not touch are byte for byte the same.
        untouched=$(diff <(printf '%s\n' "$before") <(printf '%s\n' "$after_kill") |
                grep '^<' | grep -v -e 'manifest' -e '\./clock$' -e 'measurements.log$' -e 'tpm-nv-marks$' || true)
        [ -z "$untouched" ] || ep_fail "round $i: files changed that the round did not write: $untouched"

        keys=$(ep_ctl --json key list | jq -r '.[].name' | sort)
        f_all_loaded "$i" keys key "$keys"
        if grep -qx "key$i" <<<"$keys"; then
                ep_ctl encrypt "key$i" <<<"x" >/dev/null || ep_fail "round $i: the new key$i does not encrypt"
        fi
        f_all_loaded "$i" grants grant "$(ep_ctl --json grant list | jq -r '.[].id' | sort)"

        now=$(it_prop ManifestSerial)
        case $now in
        "$serial") ;;
        "$next") serial=$next ;;
        *) ep_fail "round $i: serial is $now, neither the old $serial nor the new $next" ;;
        esac
        floor=$(cat "$EP_STATE/manifest-serial-floor" 2>/dev/null || echo 0)
        [ "${floor//[^0-9]/}" -ge "$serial" ] 2>/dev/null ||
                ep_fail "round $i: serial floor '$floor' below the installed serial $serial"
        if [ "$serial" -gt 0 ]; then
                ep_ctl verify bin/pumpd >"$T/verify.out" 2>&1 ||
                        ep_fail "round $i: verify after restart: $(cat "$T/verify.out")"
        fi
done
ep_ok "$rounds rounds: $killed killed in the middle, $completed completed before the kill; serial $serial"

# At the end every key that was created works, and none is half there.
n=0
for k in $(ep_ctl --json key list | jq -r '.[].name'); do
        out=$(ep_ctl encrypt "$k" <<<"x" 2>&1 >/dev/null) || ep_fail "key $k does not encrypt: $out"
        n=$((n + 1))
done
ep_ok "all $n keys encrypt"
ep_assert_eq "$(ep_ctl --json grant list | jq length)" "$(find "$EP_STATE/grants" -name '*.grant' | wc -l)" \
        "grants listed = grant files"
ep_done
