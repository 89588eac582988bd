#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Load: CLIENTS concurrent clients (default 64: half as uid 1, half as
# uid 2) make CALLS mixed calls each (default 10,000; bench/load/load.c
# says the mix: status reads, CheckAccess, Encrypt+Decrypt, VerifyFile,
# Unseal) while full scans of a 2,000-file tree run back to back. Every
# reply is checked; the run fails on any lost or wrong reply. Reported: per
# call kind p50/p99, per uid calls/s and p99 (fairness), the daemon's VmRSS
# sampled every second (after warm-up against the end). With ROUNDS=N the
# clients run N times against the same daemon, and after each round the
# daemon idles 16 s (its heap is trimmed 5 s after the loop last had work,
# endpointd(8)); the lowest VmRSS of that time is reported: a leak grows
# that figure round by round, arena growth and fragmentation do not.
#
#   [ROUNDS=N] bench/load/run.sh [BUILDDIR] [CLIENTS] [CALLS]   (defaults: ./build 64 10000, 1 round)
set -u
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
top_builddir=$(cd "${1:-$top_srcdir/build}" && pwd)
CLIENTS=${2:-64}
CALLS=${3:-10000}
ROUNDS=${ROUNDS:-1}
export top_srcdir top_builddir
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-keys-lib.sh"
. "$top_srcdir/tests/integration/test-integrity-lib.sh"
command -v cc >/dev/null && command -v pkg-config >/dev/null || ep_skip "cc and pkg-config are needed"

ep_setup
ep_pki_init
LOAD=$EP_TMP/load
# shellcheck disable=SC2046 # pkg-config prints several words
cc -O2 -pthread -o "$LOAD" "$top_srcdir/bench/load/load.c" $(pkg-config --cflags --libs libsystemd) ||
        ep_fail "cannot build load"
chmod 0755 "$LOAD"
cat >>"$EP_POLICY" <<'EOF'

[Role]
Name=load
Permissions=status.read policy.read integrity.read keys.use:k1 keys.unseal:s1

[Subject]
User=daemon
Roles=load

[Subject]
User=bin
Roles=load
EOF
# Throughput, not the rate limit, is measured; per-call log lines off.
ep_config Policy RateLimitBurst 4000000000
ep_config Policy RateLimitPerSecond 4000000000
ep_config Daemon LogLevel notice
ep_config Integrity Watch no
# A tree that takes a scan a while: 2,000 files of 64 KiB, and the file
# that VerifyFile checks.
mkdir -p "$EP_ROOT/bin"
echo pump >"$EP_ROOT/bin/pumpd"
for d in $(seq 20); do
        mkdir -p "$EP_ROOT/data/$d"
        for f in $(seq 100); do head -c 65536 /dev/urandom >"$EP_ROOT/data/$d/$f"; done
done
ep_start
it_manifest 1 "$EP_TMP/m1"
it_install "$EP_TMP/m1" "$EP_TMP/m1.sig" || ep_fail "manifest not installed"
SECRET="load-test-secret-$$"
k_call CreateKey k1 "{}" >/dev/null || ep_fail "CreateKey"
k_call Seal s1 "$(k_ay "$SECRET")" "{}" >/dev/null || ep_fail "Seal"

# Scans back to back while the load runs.
(while [ ! -e "$EP_TMP/stop" ]; do
        if [ -e "$EP_TMP/pause" ]; then sleep 0.2; continue; fi
        ep_ctl --no-progress scan >/dev/null 2>&1
        echo scan >>"$EP_TMP/scans"
done) &
EP_PIDS+=("$!")
# VmRSS every second.
(while [ ! -e "$EP_TMP/stop" ]; do awk '/^VmRSS/ { print $2 }' "/proc/$EP_DAEMON_PID/status"; sleep 1; done \
        >"$EP_TMP/rss") &
EP_PIDS+=("$!")

half=$((CLIENTS / 2))
start=$(date +%s.%N)
rc1=0 rc2=0
: >"$EP_TMP/uid1"
: >"$EP_TMP/uid2"
: >"$EP_TMP/idle"
for round in $(seq "$ROUNDS"); do
        ep_as 1 "$LOAD" "$half" "$CALLS" "$SECRET" bin/pumpd >>"$EP_TMP/uid1" 2>>"$EP_TMP/uid1.err" &
        p1=$!
        ep_as 2 "$LOAD" "$((CLIENTS - half))" "$CALLS" "$SECRET" bin/pumpd >>"$EP_TMP/uid2" 2>>"$EP_TMP/uid2.err" &
        p2=$!
        wait "$p1" || rc1=$?
        wait "$p2" || rc2=$?
        [ "$ROUNDS" = 1 ] && break
        # Idle: no clients, and no scans either (the loop below waits).
        # The lowest of 16 one-second samples: the trimmed state, whenever
        # the trim came.
        touch "$EP_TMP/pause"
        for _ in $(seq 16); do
                sleep 1
                awk '/^VmRSS/ { print $2 }' "/proc/$EP_DAEMON_PID/status"
        done | sort -n | head -n 1 | sed "s/^/$round /" >>"$EP_TMP/idle"
        rm -f "$EP_TMP/pause"
done
touch "$EP_TMP/stop"
sleep 1.5
elapsed=$(echo "$(date +%s.%N) - $start" | bc)

echo "### Load ($CLIENTS clients × $CALLS calls × $ROUNDS round(s), $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg) at the end; $(wc -l <"$EP_TMP/scans" 2>/dev/null || echo 0) full scans ran meanwhile; $(printf '%.0f' "$elapsed") s)"
echo
echo "| call | calls | lost | wrong | refused | p50 µs | p99 µs |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for k in status check encrypt decrypt unseal verify; do
        awk -v k="$k" '$1 == k { n += $2; l += $3; w += $4; r += $5 } END { printf "%d %d %d %d", n, l, w, r }' \
                "$EP_TMP/uid1" "$EP_TMP/uid2" >"$EP_TMP/sum"
        read -r n l w r <"$EP_TMP/sum"
        # p50/p99 of both uids: the larger of the two (each process sorts its own).
        p50=$(awk -v k="$k" '$1 == k { if ($6 > m) m = $6 } END { print m + 0 }' "$EP_TMP/uid1" "$EP_TMP/uid2")
        p99=$(awk -v k="$k" '$1 == k { if ($7 > m) m = $7 } END { print m + 0 }' "$EP_TMP/uid1" "$EP_TMP/uid2")
        echo "| $k | $n | $l | $w | $r | $p50 | $p99 |"
done
echo
echo "| uid | clients | calls | seconds | calls/s | status p99 µs | lost + wrong |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for u in 1 2; do
        # Summed over the rounds; the status p99 is the largest of them.
        s=$(awk '$1 == "status" { if ($7 > m) m = $7 } END { print m + 0 }' "$EP_TMP/uid$u")
        [ "$u" = 1 ] && c=$half || c=$((CLIENTS - half))
        awk -v u="$u" -v c="$c" -v s="$s" '$1 == "total" { n += $2; bad += $3 + $4; t += $6 }
                END { printf "| %s | %s | %d | %.1f | %.0f | %s | %d |\n", u, c, n, t, n / t, s, bad }' "$EP_TMP/uid$u"
done
echo
n=$(wc -l <"$EP_TMP/rss")
warm=$(sed -n "$((n / 10 + 1))p" "$EP_TMP/rss")
echo "VmRSS (KiB): after warm-up (10% of the run) $warm, at the end $(tail -n 1 "$EP_TMP/rss"), max $(sort -n "$EP_TMP/rss" | tail -n 1), $n samples"
[ -s "$EP_TMP/idle" ] && echo "VmRSS (KiB) idle after each round (lowest of 16 s): $(awk '{ printf "%s%s: %s", (NR > 1 ? ", " : ""), $1, $2 }' "$EP_TMP/idle")"
cat "$EP_TMP/uid1.err" "$EP_TMP/uid2.err" >&2
[ $rc1 = 0 ] && [ $rc2 = 0 ] || ep_fail "lost or wrong replies (see above)"
ep_ok "no lost or wrong replies"
kill -0 "$EP_DAEMON_PID" || ep_fail "endpointd died"
ep_ok "endpointd still runs"
ep_done
