#!/bin/bash
# Idle memory of endpointd against tpm2-abrmd, measured the same way in the
# same run: each started with a swtpm of its own on a private bus, used
# once (endpointd: a status call and one Seal + Unseal, so that its TPM
# session code has run; tpm2-abrmd: one tpm2_getrandom through it), then
# left idle for 8 s (endpointd's idle trim runs 5 s after its last work,
# src/daemon/idle.h); VmRSS / VmHWM and its anonymous and file-backed
# parts from /proc/PID/status, Pss from /proc/PID/smaps_rollup. Then one
# more Unseal: the daemon's CPU time and minor page faults for it, against
# two right after it (what the trim costs the first call after an
# idle period). Usage: bench/rss.sh [BUILDDIR]
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
"$EP_BUILD/endpointctl" status >/dev/null || ep_fail "status"
printf 'sixteen bytes!!!' | "$EP_BUILD/endpointctl" seal rss >/dev/null || ep_fail "seal"
"$EP_BUILD/endpointctl" unseal rss >/dev/null || ep_fail "unseal"
sleep 8

# kib PID FIELD: a field of /proc/PID/status, in KiB
kib() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }
# row NAME PID
row() {
        local rss
        rss=$(kib "$2" VmRSS)
        printf '| %s | %s KiB (%.1f MiB) | %s KiB | %s KiB | %s KiB | %s KiB |\n' "$1" "$rss" \
                "$(awk -v k="$rss" 'BEGIN {print k / 1024}')" "$(kib "$2" RssAnon)" "$(kib "$2" RssFile)" \
                "$(kib "$2" VmHWM)" "$(awk '/^Pss:/ {print $2}' "/proc/$2/smaps_rollup")"
}
echo "| daemon (idle, TPM used once) | VmRSS | RssAnon | RssFile | peak VmHWM | Pss |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
row endpointd "$EP_DAEMON_PID"
if [ -n "${RSS_DETAIL:-}" ]; then
        # Rss and private dirty KiB per mapping (summed by file), largest first
        awk '/^[0-9a-f]+-[0-9a-f]+ / { n = $6; if (n == "") n = "[anon]" }
             /^Rss:/ { r[n] += $2 } /^Private_Dirty:/ { d[n] += $2 }
             END { for (n in r) printf "%7d %7d %s\n", r[n], d[n], n }' \
                "/proc/$EP_DAEMON_PID/smaps" | sort -rn | head -15 >&2
fi

if command -v tpm2-abrmd >/dev/null && command -v tpm2_getrandom >/dev/null; then
        ep_start_swtpm abrmd
        tpm2-abrmd --allow-root --tcti="$EP_TCTI_abrmd" --dbus-name=org.endpointd.bench.Tabrmd \
                >"$EP_TMP/abrmd.log" 2>&1 &
        abrmd=$!
        EP_PIDS+=("$abrmd")
        ok=
        for _ in $(seq 100); do
                if tpm2_getrandom -T "tabrmd:bus_name=org.endpointd.bench.Tabrmd,bus_type=system" 8 \
                        >/dev/null 2>&1; then
                        ok=1
                        break
                fi
                sleep 0.1
        done
        [ -n "$ok" ] || ep_fail "tpm2-abrmd did not answer: $(tail -3 "$EP_TMP/abrmd.log")"
        sleep 3
        row "tpm2-abrmd $(tpm2-abrmd --version | awk '{print $NF}')" "$abrmd"
else
        echo "(tpm2-abrmd or tpm2-tools not installed: no comparison)"
fi

# The first call after an idle period maps again what the trim released:
# the daemon's minor faults and its main thread's CPU time (schedstat, ns)
# for that call against the next ones.
minflt() { awk '{print $10}' "/proc/$EP_DAEMON_PID/stat"; }
cpu_ns() { awk '{print $1}' "/proc/$EP_DAEMON_PID/schedstat"; }
unseal_timed() {
        local f0 c0
        f0=$(minflt)
        c0=$(cpu_ns)
        "$EP_BUILD/endpointctl" unseal rss >/dev/null || ep_fail "unseal"
        printf '%s: %.3f ms of daemon CPU, %d minor faults\n' "$1" \
                "$(awk -v n=$(($(cpu_ns) - c0)) 'BEGIN {print n / 1e6}')" $(($(minflt) - f0))
}
sleep 8
unseal_timed "Unseal after 8 s idle"
unseal_timed "Unseal right after"
unseal_timed "Unseal right after"
