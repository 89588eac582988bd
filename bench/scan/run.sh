#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/scan: a full verification by endpointd against sha256sum (one
# process), xargs -P2 sha256sum and AIDE --check -W 2 (sha256 only) on the
# same synthetic trees, with `openssl speed -evp sha256 -multi 2` as the
# limit. One run each, warm page cache, prints a markdown table.
#
#   bench/scan/run.sh [BUILD_DIR]      (default: ./build; trees in $BENCH_DIR,
#                                       default /var/tmp/endpointd-bench)
set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$here/../.." && pwd)
top_builddir=$(cd "${1:-$top_srcdir/build}" && pwd)
export top_srcdir top_builddir
BENCH_DIR=${BENCH_DIR:-/var/tmp/endpointd-bench}
CPUS=$(nproc)
. "$top_srcdir/tests/integration/lib.sh"
. "$here/lib.sh"
EP_TEST_NAME=bench-scan

for t in small large many; do
        [ -f "$BENCH_DIR/$t.done" ] && continue
        rm -rf "${BENCH_DIR:?}/$t"
        mkdir -p "$BENCH_DIR/$t"
        python3 "$here/gen.py" "$BENCH_DIR/$t" "$t" >&2 || exit 1
        touch "$BENCH_DIR/$t.done"
done

ep_setup --no-tpm
ep_pki_init
ep_config Integrity Watch no
ep_config Integrity ScanInterval infinity
ep_config Integrity ScanThreads 0
ep_config Daemon LogLevel info
# The latency probe reads 200 times a second; the per-caller rate limit
# would refuse it.
ep_config Policy RateLimitBurst 100000
ep_config Policy RateLimitPerSecond 100000

# daemon_scan TREE: installs a manifest of TREE and sets S_EP to the seconds
# of one full scan (after the scan that follows the install); leaves the
# daemon running. Not in a subshell: lib.sh must keep track of the daemon.
daemon_scan() {
        local tree=$1 t0 t1
        scan_install "$tree"
        ep_ctl --no-progress scan >/dev/null || ep_fail "the tree does not verify clean"
        local c0 c1
        c0=$(cpu_ticks)
        t0=$(now)
        ep_ctl --no-progress scan >/dev/null || ep_fail "the tree does not verify clean"
        t1=$(now)
        c1=$(cpu_ticks)
        S_EP=$(secs "$t0" "$t1")
        # CPU seconds the daemon used: on a busy machine wall time also
        # counts the time other processes had the CPUs.
        CPU_EP=$(echo "scale=2; ($c1 - $c0) / $(getconf CLK_TCK)" | bc -l)
}

# latency_during_scan: p99 of a property read while a full scan runs.
latency_during_scan() {
        rm -f "$EP_TMP/stop"
        /usr/bin/python3 "$here/latency.py" "$EP_TMP/stop" >"$EP_TMP/lat" &
        local probe=$!
        EP_PIDS+=("$probe")
        sleep 0.2
        ep_ctl --no-progress scan >/dev/null
        touch "$EP_TMP/stop"
        wait "$probe"
        cat "$EP_TMP/lat"
}

# The same probe for 3 s with no scan running, for comparison.
latency_idle() {
        rm -f "$EP_TMP/stop"
        /usr/bin/python3 "$here/latency.py" "$EP_TMP/stop" >"$EP_TMP/lat" &
        local probe=$!
        EP_PIDS+=("$probe")
        sleep 3
        touch "$EP_TMP/stop"
        wait "$probe"
        cat "$EP_TMP/lat"
}

aide_check() {
        local tree=$1 conf=$EP_TMP/aide.conf t0 t1
        cat >"$conf" <<EOC
database_in=file:$EP_TMP/aide.db
database_out=file:$EP_TMP/aide.db
database_new=file:$EP_TMP/aide.db.new
gzip_dbout=no
report_url=stdout
Sha = sha256
$tree Sha
EOC
        rm -f "$EP_TMP/aide.db"
        aide --config="$conf" --init >/dev/null 2>&1 || { echo "nan"; return; }
        t0=$(now)
        aide --config="$conf" --check -W 2 >/dev/null 2>&1
        t1=$(now)
        secs "$t0" "$t1"
}

mbs() { echo "scale=1; $1 / 1000000 / $2" | bc -l; }
fps() { echo "scale=0; $1 / $2" | bc -l; }
ratio() { echo "scale=2; $2 / $1" | bc -l; }

rows=()
for t in small large; do
        tree=$BENCH_DIR/$t
        bytes=$(find "$tree" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
        files=$(find "$tree" -type f | wc -l)
        warm "$tree"
        (cd "$tree" && find . -type f -print0 | sort -z | xargs -0 sha256sum >"$EP_TMP/sums")
        t0=$(now); (cd "$tree" && sha256sum --quiet -c "$EP_TMP/sums") || ep_fail "sha256sum -c"; t1=$(now)
        s_one=$(secs "$t0" "$t1")
        t0=$(now); (cd "$tree" && find . -type f -print0 | xargs -0 -P2 -n 256 sha256sum >/dev/null); t1=$(now)
        s_x2=$(secs "$t0" "$t1")
        s_aide=$(aide_check "$tree")
        daemon_scan "$tree"
        s_ep=$S_EP
        cpu_ep=$CPU_EP
        if [ "$t" = large ]; then
                LAT_IDLE=$(latency_idle)
                LAT=$(latency_during_scan)
                RSS_LARGE=$(awk '/VmHWM/ { print $2 }' /proc/"$EP_DAEMON_PID"/status)
        fi
        rows+=("| $t: $files files, $(mbs "$bytes" 1) MB | endpointd scan ($CPUS threads; $cpu_ep CPU-s) | $(printf %.2f "$s_ep") | $(mbs "$bytes" "$s_ep") | $(fps "$files" "$s_ep") | 1.00 |")
        rows+=("| | sha256sum -c (one process) | $(printf %.2f "$s_one") | $(mbs "$bytes" "$s_one") | $(fps "$files" "$s_one") | $(ratio "$s_ep" "$s_one") |")
        rows+=("| | xargs -P2 sha256sum | $(printf %.2f "$s_x2") | $(mbs "$bytes" "$s_x2") | $(fps "$files" "$s_x2") | $(ratio "$s_ep" "$s_x2") |")
        rows+=("| | aide --check -W 2 (sha256) | $(printf %.2f "$s_aide") | $(mbs "$bytes" "$s_aide") | $(fps "$files" "$s_aide") | $(ratio "$s_ep" "$s_aide") |")
done

# Large files alone, against what SHA-256 itself can do on two cores.
blobs=$BENCH_DIR/large/blobs
bbytes=$(find "$blobs" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
warm "$blobs"
daemon_scan "$blobs"
s_blobs=$S_EP
cpu_blobs=$CPU_EP
ssl1=$(openssl speed -evp sha256 -bytes 262144 -seconds 3 2>/dev/null | awk '/^sha256/ || /^SHA256/ { v = $NF } END { sub(/k$/, "", v); print v * 1000 }')
ssl=$(openssl speed -evp sha256 -multi 2 -seconds 3 2>/dev/null | awk '/^sha256/ || /^SHA256/ { v = $NF } END { sub(/k$/, "", v); print v * 1000 }')
blob_rate=$(mbs "$bbytes" "$s_blobs")
ssl_rate=$(echo "scale=1; $ssl / 1000000" | bc -l)

# Memory with 100k entries.
many=$BENCH_DIR/many
warm "$many"
daemon_scan "$many"
s_many=$S_EP
RSS_MANY=$(awk '/VmHWM/ { print $2 }' /proc/"$EP_DAEMON_PID"/status)
RSS_NOW=$(awk '/VmRSS/ { print $2 }' /proc/"$EP_DAEMON_PID"/status)

echo
echo "| tree | tool | seconds | MB/s | files/s | endpointd is N x faster |"
echo "| --- | --- | ---: | ---: | ---: | ---: |"
printf '%s\n' "${rows[@]}"
echo
echo "| large files only | MB/s |"
echo "| --- | ---: |"
echo "| endpointd scan of $(find "$blobs" -type f | wc -l) files, $(mbs "$bbytes" 1) MB | $blob_rate |"
echo "| openssl speed -evp sha256 -multi 2 (16 KiB blocks) | $ssl_rate |"
echo "| endpointd / openssl | $(echo "scale=0; 100 * $blob_rate / $ssl_rate" | bc -l)% |"
echo "| endpointd MB per CPU-second ($cpu_blobs CPU-s) | $(mbs "$bbytes" "$cpu_blobs") |"
echo "| openssl speed -evp sha256 -bytes 262144, one core | $(echo "scale=1; $ssl1 / 1000000" | bc -l) |"
echo
echo "Property read (Endpoint1.IntegrityState) during a full scan of the large tree:"
echo "n p50_ms p99_ms max_ms = $LAT (no scan running: $LAT_IDLE)"
echo
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews wall times)."
echo
echo "Daemon peak RSS: ${RSS_LARGE} KiB after scanning the large tree (60k entries);"
echo "${RSS_MANY} KiB peak, ${RSS_NOW} KiB now, after a manifest of 100k entries (scan: $(printf %.2f "$s_many") s)."
ep_done
