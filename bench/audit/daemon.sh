#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The cost the audit log adds to a bus call: calls per second and p50/p99
# of Policy1.CheckAccess (a privileged call, allowed by the policy) with
# [Audit] AllowedCalls=all, so that every call is an access-allowed event
# and a record of the audit log, against the same call with the log off
# (Enabled=no) in the same run, with SyncInterval=0 (fdatasync before the
# call returns) and SyncInterval=1s (the daemon's default). The ratio (unaudited rate / audited rate) must be at
# most 1.3.
#
#   bench/audit/daemon.sh [BUILDDIR]        (default: ./build)
#
# CHECKPOINT_RECORDS= and CHECKPOINT_MIN_INTERVAL= set [Audit]
# CheckpointRecords= and CheckpointMinInterval= (0: a checkpoint every
# CheckpointRecords= records, however fast they come).
set -u
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
top_builddir=$(cd "${1:-$top_srcdir/build}" && pwd)
export top_srcdir top_builddir
SECONDS_PER_RUN=${SECONDS_PER_RUN:-3}
REPS=${REPS:-3}
. "$top_srcdir/tests/integration/lib.sh"
command -v cc >/dev/null && command -v pkg-config >/dev/null || ep_skip "cc and pkg-config are needed"

ep_setup
LOAD=$EP_TMP/bus-load
cc -O2 -pthread -o "$LOAD" "$top_srcdir/bench/bus/bus-load.c" $(pkg-config --cflags --libs libsystemd) ||
        ep_fail "cannot build bus-load"
chmod 0755 "$LOAD"
printf '\n[Role]\nName=viewer\nPermissions=status.read policy.read\n' >>"$EP_POLICY"
printf '\n[Subject]\nUser=daemon\nRoles=viewer\n' >>"$EP_POLICY"
ep_config Policy RateLimitBurst 4000000000
ep_config Policy RateLimitPerSecond 4000000000
# Not at info: the journal line of each call is not what is measured.
ep_config Daemon LogLevel notice
ep_config Audit AllowedCalls all
[ -n "${CHECKPOINT_RECORDS:-}" ] && ep_config Audit CheckpointRecords "$CHECKPOINT_RECORDS"
[ -n "${CHECKPOINT_MIN_INTERVAL:-}" ] && ep_config Audit CheckpointMinInterval "$CHECKPOINT_MIN_INTERVAL"

# setting NAME: the [Audit] settings of a configuration.
setting() {
        ep_config_unset Audit SyncInterval
        case $1 in
        off) ep_config Audit Enabled no ;;
        sync) ep_config Audit Enabled yes; ep_config Audit SyncInterval 0 ;;
        batch) ep_config Audit Enabled yes; ep_config Audit SyncInterval 1s ;;
        esac
}
# measure NAME CLIENTS: one run, "calls errors rate p50 p99".
measure() {
        setting "$1"
        ep_start
        ep_as 1 "$LOAD" check "$2" "$SECONDS_PER_RUN" || ep_fail "bus-load failed"
        ep_stop
}

echo "### Audited calls ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg) at start; $(df -T "$EP_TMP" | awk 'NR == 2 { print $2 }') state directory; best of $REPS interleaved runs of $SECONDS_PER_RUN s)"
echo
echo "| Policy1.CheckAccess | clients | calls/s | p50 µs | p99 µs | cost (off rate / this rate) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for clients in 1 16; do
        declare -A best=()
        for _ in $(seq "$REPS"); do
                for s in off sync batch; do
                        out=$(measure $s $clients)
                        read -r _ _ rate _ _ <<<"$out"
                        read -r _ _ brate _ _ <<<"${best[$s]:-0 0 0 0 0}"
                        [ "$rate" -gt "$brate" ] && best[$s]=$out
                done
        done
        read -r _ _ off _ _ <<<"${best[off]}"
        for s in off sync batch; do
                read -r _ _ rate p50 p99 <<<"${best[$s]}"
                case $s in
                off) name="audit off (Enabled=no)" ;;
                sync) name="audited, SyncInterval=0 (fdatasync per record)" ;;
                batch) name="audited, SyncInterval=1s (default)" ;;
                esac
                echo "| $name | $clients | $rate | $p50 | $p99 | $(awk -v a="$off" -v b="$rate" 'BEGIN { printf "%.2f", a / b }') |"
        done
        unset best
done
records=$("$EP_BUILD/audit-dump" "$EP_STATE/audit" | wc -l)
checkpoints=$("$EP_BUILD/audit-dump" "$EP_STATE/audit" | awk '$2 == "audit.checkpoint"' | wc -l)
echo
echo "($records records in the log after the runs, $checkpoints of them checkpoints.)"
exit 0
