#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# endpointctl audit verify, offline: no daemon, no bus, as a service
# engineer runs it on a state directory copied off a device. The log is
# written by tests/unit/audit-writer with a software key and counter file.
. "$top_srcdir/tests/integration/lib.sh"

EP_TMP=$(mktemp -d /tmp/ep-audit-verify-XXXXXX)
writer=$EP_BUILD/audit-writer
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$EP_TMP/key.pem" 2>/dev/null || ep_fail genpkey
openssl pkey -in "$EP_TMP/key.pem" -pubout -out "$EP_TMP/pub.pem" 2>/dev/null || ep_fail pkey
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null | openssl pkey -pubout -out "$EP_TMP/other.pem" 2>/dev/null ||
        ep_fail "other key"
"$writer" append "$EP_TMP/log" "$EP_TMP/key.pem" "$EP_TMP/counter" 50 "$EP_TMP/acked" || ep_fail "writer"
counter=$(cat "$EP_TMP/counter")
# No bus at all: a DBUS_SYSTEM_BUS_ADDRESS that leads nowhere.
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$EP_TMP/no-bus
v() { ep_ctl audit verify --dir="$EP_TMP/log" "$@"; }

ep_expect_exit 0 v --device-key="$EP_TMP/pub.pem" --counter="$counter"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "intact" "verdict"
out=$(v --device-key="$EP_TMP/pub.pem" --counter="$counter" --json=short) || ep_fail "json: $out"
ep_assert_eq "$(jq -r '[.intact, .first_seq, .records, .signatures_checked, .torn] | @tsv' <<<"$out")" \
        "$(printf "true\t1\t%s\ttrue\tfalse" "$("$writer" list "$EP_TMP/log" | wc -l)")" \
        "JSON verdict, first record, record count, signatures, torn"
ep_assert_eq "$(jq -r .counter <<<"$out")" "$counter" "newest checkpoint's counter"
ep_expect_exit 0 v
ep_assert_contains "$(cat "$EP_TMP/last.out")" "signatures not checked" "without a key"

# Without --dir: the audit/ directory of StateDirectory= in the configuration.
mkdir -p "$EP_TMP/state" && cp -a "$EP_TMP/log" "$EP_TMP/state/audit"
printf '[Daemon]\nStateDirectory=%s\n' "$EP_TMP/state" >"$EP_TMP/endpointd.conf"
ep_expect_exit 0 ep_ctl --config="$EP_TMP/endpointd.conf" audit verify
ep_assert_contains "$(cat "$EP_TMP/last.out")" "$EP_TMP/state/audit" "the configuration's state directory"

# Usage mistakes and unusable inputs.
ep_expect_exit 2 v --counter=abc
ep_expect_exit 2 ep_ctl audit verify extra-arg
ep_expect_exit 2 ep_ctl status --counter=3
ep_expect_exit 1 ep_ctl audit verify --dir="$EP_TMP/nowhere"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "No audit log at" "missing directory"
ep_expect_exit 1 v --device-key="$EP_TMP/counter"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "is not a PEM public key" "not a key"

# Someone else's key, a counter ahead, one flipped byte deep inside.
ep_expect_exit 1 v --device-key="$EP_TMP/other.pem"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "signature does not verify" "another device's key"
ep_expect_exit 1 v --counter=$((counter + 1))
ep_assert_contains "$(cat "$EP_TMP/last.out")" "tail was cut or an older copy restored" "counter ahead"
cp -a "$EP_TMP/log" "$EP_TMP/orig"
f=$EP_TMP/log/audit-0000000000000001.log
ep_flip_byte "$f" 2000
out=$(v --device-key="$EP_TMP/pub.pem" --json=short 2>/dev/null) && ep_fail "a flipped byte passed: $out"
ep_assert_eq "$(jq -r .intact <<<"$out")" false "flipped byte: verdict"
[ "$(jq -r .first_bad_seq <<<"$out")" -gt 1 ] || ep_fail "no first bad record: $out"
ep_ok "flipped byte at offset 2000: first bad record $(jq -r .first_bad_seq <<<"$out"): $(jq -r .problem <<<"$out")"
ep_expect_exit 1 v --device-key="$EP_TMP/pub.pem"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "is not intact at record" "the sentence on stderr"

# A record cut short at the end: intact, the torn record named.
rm -rf "$EP_TMP/log" && cp -a "$EP_TMP/orig" "$EP_TMP/log"
truncate -s -10 "$f"
ep_expect_exit 0 v --device-key="$EP_TMP/pub.pem"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "torn last record" "torn"
ep_done
