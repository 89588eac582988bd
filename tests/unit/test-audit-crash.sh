#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Crash safety of the audit log (endpointd-audit(5), DURABILITY): a writer
# appending in a loop is SIGKILLed at random points, 200 rounds or more
# (AUDIT_CRASH_ROUNDS), half of them with batched syncs. After every kill
# the offline verifier must find the log intact or name a torn last record,
# and hold every record the writer had confirmed; the next writer continues
# the chain and records the unclean stop. No silent loss, ever.
. "$top_srcdir/tests/integration/lib.sh"

rounds=${AUDIT_CRASH_ROUNDS:-200}
EP_TMP=$(mktemp -d /tmp/ep-audit-crash-XXXXXX)
writer=$EP_BUILD/audit-writer
[ -x "$writer" ] || ep_fail "$writer not built"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$EP_TMP/key.pem" 2>/dev/null ||
        ep_fail "openssl genpkey"
openssl pkey -in "$EP_TMP/key.pem" -pubout -out "$EP_TMP/pub.pem" 2>/dev/null || ep_fail "openssl pkey"
log=$EP_TMP/audit
counter=$EP_TMP/counter

# The counter file appears with the first checkpoint.
verify() {
        local c=()
        [ -f "$counter" ] && c=(--counter="$(cat "$counter")")
        "$EP_BUILD/endpointctl" audit verify --dir="$log" --device-key="$EP_TMP/pub.pem" "${c[@]}" \
                --json=short >"$EP_TMP/verify.json" 2>"$EP_TMP/verify.err"
}

torn=0
for ((i = 1; i <= rounds; i++)); do
        mode=
        [ $((i % 2)) -eq 0 ] && mode=batch
        : >"$EP_TMP/acked"
        "$writer" append "$log" "$EP_TMP/key.pem" "$counter" 0 "$EP_TMP/acked" $mode 2>"$EP_TMP/writer.err" &
        pid=$!
        EP_PIDS+=("$pid")
        # 0-60 ms: inside open, a checkpoint, a rotation or an append.
        sleep "0.0$((RANDOM % 7))$((RANDOM % 10))"
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        unset 'EP_PIDS[${#EP_PIDS[@]}-1]'
        grep -q . "$EP_TMP/writer.err" && ep_fail "round $i: the writer failed: $(cat "$EP_TMP/writer.err")"
        # Every 10th round also loses 1-80 bytes of the newest file, as a
        # power cut loses an unsynced tail: the record cut short must be
        # named. A checkpoint is synced before the counter moves and a
        # rotation record before its files are deleted: no power cut takes
        # those back once acted on, so only another last record is cut (the
        # smallest record is 88 bytes: the cut stays inside it).
        cut=0
        if [ $((i % 10)) -eq 5 ] && [ -d "$log" ] &&
                ! "$writer" list "$log" | tail -n 1 | grep -qE ' audit\.(checkpoint|rotated) '; then
                newest=$(ls "$log"/audit-*.log 2>/dev/null | tail -n 1)
                size=$(stat -c %s "$newest" 2>/dev/null || echo 0)
                cut=$((RANDOM % 80 + 1))
                if [ "$size" -gt $((64 + 88)) ]; then truncate -s $((size - cut)) "$newest"; else cut=0; fi
        fi
        # Killed before it made the directory: nothing was written, nothing confirmed.
        # Killed before it made the directory or its first file: nothing was
        # written, nothing confirmed (a slow start on a loaded machine).
        if ! compgen -G "$log/audit-*.log" >/dev/null; then
                [ -s "$EP_TMP/acked" ] && ep_fail "round $i: confirmed records but no log file"
                continue
        fi
        verify || ep_fail "round $i: verify failed: $(cat "$EP_TMP/verify.json" "$EP_TMP/verify.err")"
        IFS=$'\t' read -r intact last is_torn notes < <(jq -r '[.intact, .last_seq, .torn, .notes] | @tsv' \
                "$EP_TMP/verify.json")
        [ "$intact" = true ] || ep_fail "round $i: not intact: $(cat "$EP_TMP/verify.json")"
        acked=$(grep -E '^[0-9]+$' "$EP_TMP/acked" | tail -n 1)
        if [ "$cut" -eq 0 ] && [ -n "$acked" ] && [ "$acked" -gt "$last" ]; then
                ep_fail "round $i: record $acked was confirmed but the log ends at $last (silent loss)"
        fi
        if [ "$is_torn" = true ]; then
                torn=$((torn + 1))
                case $notes in
                *"torn last record"*) ;;
                *) ep_fail "round $i: a torn record without a note: $(cat "$EP_TMP/verify.json")" ;;
                esac
        elif [ "$cut" -gt 0 ]; then
                ep_fail "round $i: $cut bytes cut off the last record, and no torn record named: $(cat "$EP_TMP/verify.json")"
        fi
done
[ "$torn" -gt 0 ] || ep_fail "no round left a torn record: the cut tails were not noticed"
ep_ok "$rounds SIGKILLs: intact or a named torn last record each time, no confirmed record lost ($torn torn)"

# A clean run at the end: the chain continues after the last kill, and
# every restart after a kill said so.
"$writer" append "$log" "$EP_TMP/key.pem" "$counter" 5 "$EP_TMP/acked" || ep_fail "final writer"
verify || ep_fail "final verify: $(cat "$EP_TMP/verify.json" "$EP_TMP/verify.err")"
ep_assert_eq "$(jq -r .intact "$EP_TMP/verify.json")" true "final verdict"
case $(jq -r .notes "$EP_TMP/verify.json") in
*"after the newest checkpoint"*) ep_fail "records left unanchored by a clean stop: $(cat "$EP_TMP/verify.json")" ;;
esac
ep_ok "a clean stop leaves nothing unanchored"
"$writer" list "$log" >"$EP_TMP/list" || ep_fail "list"
first=$(jq -r .first_seq "$EP_TMP/verify.json")
unclean=$(grep -c ' audit.opened AUDIT_CLEAN_STOP=no' "$EP_TMP/list" || true)
opened=$(grep -c ' audit.opened ' "$EP_TMP/list" || true)
# Rotation deletes the oldest files, so count what is left: every writer
# but the last was killed, so every restart record says the stop was unclean.
[ "$opened" -ge 1 ] || ep_fail "no restart records left"
ep_assert_eq "$unclean" "$opened" "every restart after a kill records the unclean stop (first record $first)"
ep_done
