#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# What the daemon sends to the journal for its events, captured on a
# journal socket the test owns: the test runs in its own mount namespace
# with a tmpfs over /run, where /run/systemd/journal/socket is a datagram
# socket of the test (notify-listen, which prints each entry's fields), and
# tells the daemon its stderr is the journal (JOURNAL_STREAM=). Each event
# entry carries the kind's MESSAGE_ID, its fields as ENDPOINTD_*=, the code
# location of the real caller (CODE_FILE/CODE_LINE/CODE_FUNC), ERRNO= only
# when the event failed, and ENDPOINTD_SEQ= of its audit record.
if [ -z "${EP_JOURNAL_NS:-}" ]; then
        command -v unshare >/dev/null || { echo "SKIP: unshare is not installed" >&2; exit 77; }
        EP_JOURNAL_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
. "$top_srcdir/tests/integration/lib.sh"

mount -t tmpfs -o mode=0755 tmpfs /run || ep_skip "cannot mount a tmpfs over /run in a mount namespace"
mkdir -p /run/systemd/journal
JOURNAL=/run/systemd/journal/socket

# j_entry MESSAGE_ID: the newest entry with that MESSAGE_ID, one field a line.
j_entry() {
        awk -v id="MESSAGE_ID=$1" '
                /^MESSAGE=/ { if (index(b, id "\n")) last = b; b = "" }
                { b = b $0 "\n" }
                END { if (index(b, id "\n")) last = b; printf "%s", last }' "$EP_TMP/journal.log"
}
# j_field ENTRY NAME: the value of NAME in ENTRY ("" when absent).
j_field() { printf '%s' "$1" | sed -n "s/^$2=//p" | head -n 1; }
# j_wait MESSAGE_ID: waits (up to 60 s) for an entry with that MESSAGE_ID.
j_wait() {
        for _ in $(seq 600); do [ -n "$(j_entry "$1")" ] && return 0; sleep 0.1; done
        ep_fail "no journal entry with MESSAGE_ID=$1"
}

ep_setup
"$EP_BUILD/notify-listen" "$JOURNAL" 3600 all >"$EP_TMP/journal.log" &
EP_PIDS+=("$!")
for _ in $(seq 100); do [ -S "$JOURNAL" ] && break; sleep 0.05; done
[ -S "$JOURNAL" ] || ep_fail "the test's journal socket is not there"
# The daemon's stderr is "the journal" (log.c checks JOURNAL_STREAM
# against fd 2): it then sends its entries to the socket above.
: >>"$EP_TMP/daemon.log"
export JOURNAL_STREAM
JOURNAL_STREAM=$(stat -c '%d:%i' "$EP_TMP/daemon.log")
ep_start
unset JOURNAL_STREAM

# MESSAGE_IDs of the kinds table (src/daemon/events.c).
ID_STARTED=02230f39390a4d26af0bf13300d42dd6
ID_KEY_CREATED=2d584e7da89144cbaf84625bce0c0cb2
ID_DENIED=129071a52cbb4de69f9c33c1acfe203d
ID_STOPPED=9d87578a227d4c71b542964e8d05c186

j_wait $ID_STARTED
e=$(j_entry $ID_STARTED)
ep_assert_eq "$(j_field "$e" ENDPOINTD_EVENT)" "daemon-started" "daemon-started's kind"
ep_assert_eq "$(j_field "$e" CODE_FUNC)" "on_name_acquired" "daemon-started's CODE_FUNC"
ep_assert_eq "$(j_field "$e" PRIORITY)" "6" "daemon-started's priority"
[ -n "$(j_field "$e" ENDPOINTD_SEQ)" ] || ep_fail "daemon-started has no ENDPOINTD_SEQ="

# A successful call: the caller's fields, the kind's own, the handler as
# the code location, no ERRNO=.
"$EP_BUILD/endpointctl" key create k1 --exportable || ep_fail "key create"
j_wait $ID_KEY_CREATED
e=$(j_entry $ID_KEY_CREATED)
ep_assert_eq "$(j_field "$e" ENDPOINTD_KEY)" "k1" "key-created: ENDPOINTD_KEY="
ep_assert_eq "$(j_field "$e" ENDPOINTD_EXPORTABLE)" "yes" "key-created: ENDPOINTD_EXPORTABLE="
ep_assert_eq "$(j_field "$e" ENDPOINTD_UID)" "0" "key-created: ENDPOINTD_UID="
ep_assert_eq "$(j_field "$e" ENDPOINTD_RESULT)" "ok" "key-created: ENDPOINTD_RESULT="
ep_assert_eq "$(j_field "$e" CODE_FUNC)" "method_create_key" "key-created: CODE_FUNC= of the handler"
case $(j_field "$e" CODE_FILE) in */bus-keys.c) ep_ok "key-created: CODE_FILE= is bus-keys.c" ;;
*) ep_fail "key-created: CODE_FILE=$(j_field "$e" CODE_FILE)" ;; esac
[ "$(j_field "$e" CODE_LINE)" -gt 0 ] || ep_fail "key-created: no CODE_LINE="
printf '%s' "$e" | grep -q '^ERRNO=' && ep_fail "key-created has ERRNO= on success"
ep_ok "key-created has no ERRNO="
# The same seq as its audit record.
seq=$(j_field "$e" ENDPOINTD_SEQ)
"$EP_BUILD/audit-dump" "$EP_STATE/audit" | awk -v s="$seq" '$1 == s' | grep -q " key-created" ||
        ep_fail "ENDPOINTD_SEQ=$seq is not the key-created record of the audit log"
ep_ok "ENDPOINTD_SEQ= is the audit record's seq"

# A denial: the permission and the reason as fields, ERRNO=13.
ep_as 65534 "$EP_BUILD/endpointctl" key create k2 >/dev/null 2>&1 && ep_fail "uid 65534 created a key"
j_wait $ID_DENIED
e=$(j_entry $ID_DENIED)
ep_assert_eq "$(j_field "$e" ENDPOINTD_UID)" "65534" "access-denied: ENDPOINTD_UID="
ep_assert_eq "$(j_field "$e" ENDPOINTD_PERMISSION)" "keys.create" "access-denied: ENDPOINTD_PERMISSION="
ep_assert_eq "$(j_field "$e" ERRNO)" "13" "access-denied: ERRNO="
ep_assert_eq "$(j_field "$e" ENDPOINTD_RESULT)" "failed" "access-denied: ENDPOINTD_RESULT="
[ -n "$(j_field "$e" ENDPOINTD_REASON)" ] || ep_fail "access-denied has no ENDPOINTD_REASON="
[ -n "$(j_field "$e" ENDPOINTD_PID)" ] || ep_fail "access-denied has no ENDPOINTD_PID="

ep_stop
j_wait $ID_STOPPED
ep_assert_eq "$(j_field "$(j_entry $ID_STOPPED)" CODE_FUNC)" "manager_run" "daemon-stopped's CODE_FUNC"
ep_done
