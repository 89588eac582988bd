#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The TPM and scan benchmarks on an approximation of a small board: the
# daemon, its clients and the tools it is compared with pinned to one CPU
# and capped to BOARD_QUOTA percent of it (default 20: a 1 GHz ARM core
# does roughly a fifth of the work of one core of the development machine)
# in a cgroup this script makes and removes; swtpm, standing in for the
# TPM chip, runs uncapped. Prints the tables of bench/tpm/run.sh and
# bench/scan/floor.sh measured that way.
#
#   bench/board.sh [BUILD_DIR]
#
# The cgroup: cgroup v2 (cpu.max) where the cpu controller is on the
# unified hierarchy, else the v1 cpu controller (cpu.cfs_quota_us).
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top_srcdir/build}" && pwd)
QUOTA=${BOARD_QUOTA:-20}
PERIOD=100000
export BOARD_CPU=${BOARD_CPU:-0}

[ "$(id -u)" = 0 ] || { echo "board.sh: needs root (a cgroup of its own)" >&2; exit 77; }
command -v taskset >/dev/null || { echo "board.sh: taskset is not installed" >&2; exit 77; }

cg=
for root in /sys/fs/cgroup/unified /sys/fs/cgroup; do
        if [ -f "$root/cgroup.controllers" ] && grep -qw cpu "$root/cgroup.controllers"; then
                grep -qw cpu "$root/cgroup.subtree_control" || echo +cpu >"$root/cgroup.subtree_control" || continue
                cg=$root/endpointd-board.$$
                mkdir "$cg" && echo "$((PERIOD * QUOTA / 100)) $PERIOD" >"$cg/cpu.max" && break
                rmdir "$cg" 2>/dev/null
                cg=
        fi
done
if [ -z "$cg" ] && [ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
        cg=/sys/fs/cgroup/cpu/endpointd-board.$$
        mkdir "$cg" && echo "$PERIOD" >"$cg/cpu.cfs_period_us" &&
                echo "$((PERIOD * QUOTA / 100))" >"$cg/cpu.cfs_quota_us" || { rmdir "$cg" 2>/dev/null; cg=; }
fi
[ -n "$cg" ] || { echo "board.sh: no cgroup with a cpu controller to use" >&2; exit 77; }

# Whatever is still in the cgroup goes back to its parent, then it goes.
cleanup() {
        local p
        if [ -f "$cg/cgroup.procs" ]; then
                while read -r p; do echo "$p" >"$(dirname "$cg")/cgroup.procs" 2>/dev/null; done <"$cg/cgroup.procs"
        fi
        rmdir "$cg" 2>/dev/null || echo "board.sh: could not remove $cg" >&2
}
trap cleanup EXIT
export BOARD_CGROUP=$cg

echo "Board approximation: CPU $BOARD_CPU only, capped to $QUOTA% ($cg)."
echo
echo "### TPM"
N=${N:-100} NC=${NC:-5} "$top_srcdir/bench/tpm/run.sh" "$build" 2>&1 | grep -v ': ok '
echo
echo "### Scan"
RUNS=${RUNS:-3} BENCH_USR=0 "$top_srcdir/bench/scan/floor.sh" "$build" 2>&1 | grep -v ': ok '
