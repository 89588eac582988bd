#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/scan/floor.sh: endpointd's full scan against the "aligned floor"
# (bench/scan/floor.c: openat + page-aligned 256 KiB reads + SHA-256, as
# many threads as the daemon, manifest order, nothing else), the first scan
# after a start against later ones, and large files against
# `openssl speed -evp sha256 -multi CPUS`. Warm page cache; each figure is
# the median of RUNS runs (default 5), floor and daemon runs interleaved;
# CPU seconds too, steadier than wall time on a shared machine.
#
#   bench/scan/floor.sh [BUILD_DIR]    (trees of bench/scan/run.sh in
#                                       $BENCH_DIR; BENCH_TREES="small large
#                                       usr" by default, BENCH_USR=0 skips
#                                       /usr, BENCH_BLOBS=0 the large files)
set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$here/../.." && pwd)
top_builddir=$(cd "${1:-$top_srcdir/build}" && pwd)
export top_srcdir top_builddir
BENCH_DIR=${BENCH_DIR:-/var/tmp/endpointd-bench}
RUNS=${RUNS:-5}
CPUS=$(nproc)
. "$top_srcdir/tests/integration/lib.sh"
. "$here/lib.sh"
. "$top_srcdir/bench/board-lib.sh"
EP_TEST_NAME=bench-floor
# Board mode: one CPU for the daemon's threads, the floor's and openssl's.
[ -z "${BOARD_CGROUP:-}" ] || CPUS=1

for t in small large; do
        [ -f "$BENCH_DIR/$t.done" ] || ep_skip "run bench/scan/run.sh first (it generates $BENCH_DIR/$t)"
done

ep_setup --no-tpm
ep_pki_init
board_self
ep_config Integrity Watch no
ep_config Integrity ScanInterval infinity
ep_config Integrity ScanThreads "$CPUS"
ep_config Daemon LogLevel info
cc -O2 -o "$EP_TMP/floor" "$here/floor.c" -lcrypto -lpthread || ep_fail "cannot build floor.c"

# CPU time is a mean: the daemon's is counted in clock ticks (10 ms), and
# the sum over the runs is what makes it precise.
mean() { awk '{ s += $1 } END { print s / NR }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ticks_s() { echo "scale=3; $1 / $(getconf CLK_TCK)" | bc -l; }

# The daemon's own figures of its last finished scan (its journal line
# "Scan N finished: ... (E entries in S s, D files read without a stat
# first)"): "S D".
scan_logged() {
        sed -n 's/.*Scan [0-9]* finished: .* entries in \([0-9.]*\) s, \([0-9]*\) files read.*/\1 \2/p' \
                "$EP_TMP/daemon.log" | tail -n 1
}

# One timed `endpointctl scan`: "wall_s cpu_s daemon_s direct_files". The
# wall time includes starting endpointctl and the bus round trip; daemon_s
# is the scan alone, from the daemon's journal line. A violated verdict (a
# real /usr that changed meanwhile) is timed all the same.
timed_scan() {
        local t0 t1 c0 c1
        c0=$(cpu_ticks) t0=$(now)
        ep_ctl --no-progress scan >/dev/null
        t1=$(now) c1=$(cpu_ticks)
        echo "$(secs "$t0" "$t1") $(ticks_s $((c1 - c0))) $(scan_logged)"
}

# The floor run as endpointctl is, from outside: "wall_s cpu_s floor_s",
# floor_s being the floor's own figure (its threads only, like daemon_s).
timed_floor() {
        local t0 t1 out
        t0=$(now)
        out=$("$EP_TMP/floor" "$1" "$EP_TMP/list" "$CPUS")
        t1=$(now)
        read -r a b _ <<<"$out"
        echo "$(secs "$t0" "$t1") $b $a"
}

# measure NAME TREE: a row of the table.
rows=()
measure() {
        local name=$1 tree=$2 files bytes fl=() flc=() fli=() ep=() epc=() epi=() firsti i a b c d
        (cd "$tree" && find . -type f | LC_ALL=C sort) >"$EP_TMP/list"
        files=$(wc -l <"$EP_TMP/list")
        bytes=$(find "$tree" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
        warm "$tree" 2>/dev/null
        # The first scan of a daemon process (its buffers freshly
        # allocated): the one it starts at start-up with the manifest
        # installed, by its own duration in the journal.
        # (The scan that the install starts overlaps the installing
        # client's exit and endpointctl's start on the same two CPUs; a
        # restart leaves the scan alone, as at boot.)
        scan_install "$tree"
        ep_ctl --no-progress scan >/dev/null
        local before
        before=$(grep -c 'Scan [0-9]* finished' "$EP_TMP/daemon.log")
        ep_stop
        ep_start
        board_confine "$EP_DAEMON_PID"
        for _ in $(seq 1200); do
                [ "$(grep -c 'Scan [0-9]* finished' "$EP_TMP/daemon.log")" -gt "$before" ] && break
                sleep 0.05
        done
        read -r firsti _ <<<"$(scan_logged)"
        for i in $(seq "$RUNS"); do
                read -r a b c <<<"$(timed_floor "$tree")"
                fl+=("$a")
                flc+=("$b")
                fli+=("$c")
                read -r a b c d <<<"$(timed_scan)"
                ep+=("$a")
                epc+=("$b")
                epi+=("$c")
        done
        local f fc fi e c ei
        f=$(printf '%s\n' "${fl[@]}" | median)
        fc=$(printf '%s\n' "${flc[@]}" | mean)
        fi=$(printf '%s\n' "${fli[@]}" | median)
        e=$(printf '%s\n' "${ep[@]}" | median)
        c=$(printf '%s\n' "${epc[@]}" | mean)
        ei=$(printf '%s\n' "${epi[@]}" | median)
        local row
        row=$(awk -v n="$name" -v fi="$files" -v by="$bytes" -v f="$f" -v fc="$fc" -v e="$e" -v c="$c" \
                -v fin="$fi" -v ein="$ei" -v s="$firsti" -v dir="$d" -f "$here/floor-row.awk")
        rows+=("$row")
}

for t in ${BENCH_TREES:-small large usr}; do
        case $t in
        usr) [ "${BENCH_USR:-1}" = 0 ] || measure "real /usr" /usr ;;
        *) measure "$t" "$BENCH_DIR/$t" ;;
        esac
done

# Large files alone against SHA-256 on all CPUs.
if [ "${BENCH_BLOBS:-1}" != 0 ]; then
blobs=$BENCH_DIR/large/blobs
bbytes=$(find "$blobs" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
warm "$blobs"
scan_install "$blobs"
board_confine "$EP_DAEMON_PID"
ep_ctl --no-progress scan >/dev/null
blob=()
for i in $(seq "$RUNS"); do blob+=("$(timed_scan | cut -d' ' -f1)"); done
s_blob=$(printf '%s\n' "${blob[@]}" | median)
ssl=$(openssl speed -evp sha256 -multi "$CPUS" -seconds 3 2>/dev/null |
        awk '/^sha256/ || /^SHA256/ { v = $NF } END { sub(/k$/, "", v); print v * 1000 }')
fi

echo
echo "$CPUS CPUs, $RUNS runs each (floor and daemon interleaved), warm cache: wall time the median, CPU time the mean."
echo
echo "Whole commands (the floor program; endpointctl scan, its start and the bus included), wall time and CPU time;"
echo "the scans alone (the floor's threads; the daemon's own figure in its journal); the first scan of a daemon process"
echo "against later ones, by the daemon's own figure; files read without a stat first (the direct way) in the last scan."
echo
echo "| tree | floor s (CPU-s) | endpointctl scan s (CPU-s) | ratio: wall (CPU) | floor alone s | scan alone s | ratio | first scan s | first / later | direct files |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${rows[@]}"
echo
[ "${BENCH_BLOBS:-1}" = 0 ] || awk -v b="$bbytes" -v s="$s_blob" -v o="$ssl" -v c="$CPUS" 'BEGIN {
        printf "Large files only (%.0f MB): endpointd %.1f MB/s, openssl speed -evp sha256 -multi %d %.1f MB/s: %.0f%%.\n",
                b / 1e6, b / 1e6 / s, c, o / 1e6, 100 * (b / s) / o }'
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
ep_done
