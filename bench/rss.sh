#!/bin/bash
# Idle memory of endpointd: starts it with swtpm and a private bus (as the
# demo does), waits until it is idle, and prints VmRSS / VmHWM / Pss from
# /proc. Usage: bench/rss.sh [BUILDDIR]
set -euo pipefail
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=$(cd "${1:-$top_srcdir/build}" && pwd)
export top_srcdir top_builddir
set +e
. "$top_srcdir/tests/integration/lib.sh"
EP_TEST_NAME=rss
ep_setup
mkdir -p "$EP_ROOT/usr/bin" && cp "$top_builddir/endpointctl" "$EP_ROOT/usr/bin/"
ep_config Daemon LogLevel notice
ep_start
"$EP_BUILD/endpointctl" status >/dev/null
sleep 3
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$EP_DAEMON_PID/status")
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$EP_DAEMON_PID/status")
pss=$(awk '/^Pss:/ {print $2}' "/proc/$EP_DAEMON_PID/smaps_rollup")
printf '| idle VmRSS | %s KiB (%.1f MiB) |\n| peak VmHWM | %s KiB |\n| Pss | %s KiB |\n' \
        "$rss" "$(awk -v k="$rss" 'BEGIN {print k / 1024}')" "$hwm" "$pss"
