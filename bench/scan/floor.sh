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

# One timed `endpointctl scan`: "wall_s cpu_s". A violated verdict (a
# real /usr that changed meanwhile) is timed all the same.
timed_scan() {
        local t0 t1 c0 c1
        c0=$(cpu_ticks) t0=$(now)
        ep_ctl --no-progress scan >/dev/null
        t1=$(now) c1=$(cpu_ticks)
        echo "$(secs "$t0" "$t1") $(ticks_s $((c1 - c0)))"
}

# measure NAME TREE: a row of the table.
rows=()
measure() {
        local name=$1 tree=$2 files bytes fl=() flc=() ep=() epc=() first firstc i a b
        (cd "$tree" && find . -type f | LC_ALL=C sort) >"$EP_TMP/list"
        files=$(wc -l <"$EP_TMP/list")
        bytes=$(find "$tree" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
        warm "$tree" 2>/dev/null
        # The first scan of a daemon process (its buffers freshly
        # allocated): the one that the install of the manifest starts;
        # `endpointctl scan` joins it.
        scan_install "$tree"
        board_confine "$EP_DAEMON_PID"
        read -r first firstc <<<"$(timed_scan)"
        for i in $(seq "$RUNS"); do
                read -r a b _ <<<"$("$EP_TMP/floor" "$tree" "$EP_TMP/list" "$CPUS")"
                fl+=("$a")
                flc+=("$b")
                read -r a b <<<"$(timed_scan)"
                ep+=("$a")
                epc+=("$b")
        done
        local f fc e c
        f=$(printf '%s\n' "${fl[@]}" | median)
        fc=$(printf '%s\n' "${flc[@]}" | mean)
        e=$(printf '%s\n' "${ep[@]}" | median)
        c=$(printf '%s\n' "${epc[@]}" | mean)
        local row
        row=$(awk -v n="$name" -v fi="$files" -v by="$bytes" -v f="$f" -v fc="$fc" -v e="$e" -v c="$c" -v s="$first" \
                -v sc="$firstc" -f "$here/floor-row.awk")
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
echo "| tree | floor s (CPU-s) | endpointd s (CPU-s) | endpointd / floor: wall (CPU) | first scan of the process s (CPU-s) | first / later: wall (CPU) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${rows[@]}"
echo
[ "${BENCH_BLOBS:-1}" = 0 ] || awk -v b="$bbytes" -v s="$s_blob" -v o="$ssl" -v c="$CPUS" 'BEGIN {
        printf "Large files only (%.0f MB): endpointd %.1f MB/s, openssl speed -evp sha256 -multi %d %.1f MB/s: %.0f%%.\n",
                b / 1e6, b / 1e6 / s, c, o / 1e6, 100 * (b / s) / o }'
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
ep_done
