#!/bin/bash
# The README demo: a software TPM (swtpm), a private D-Bus system bus and
# endpointd from the build tree, protecting a small demo device tree in a
# temp dir. Nothing is installed and nothing outside the temp dir changes;
# everything started is stopped again at the end.
#
#   demo/run.sh [BUILDDIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$here/.." && pwd)
top_builddir=$(cd "${1:-$top_srcdir/build}" && pwd)
export top_srcdir top_builddir
set +e
. "$top_srcdir/tests/integration/lib.sh"
EP_TEST_NAME=demo

# Bold headings on a terminal only; never with NO_COLOR or TERM=dumb.
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ] && [ "${TERM:-dumb}" != dumb ]; then
        say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
        say() { printf '\n== %s\n' "$*"; }
fi
# run CMD...: shows CMD as a user would type it (programs from PATH, files
# relative to the demo's directory), then runs it.
run() {
        local shown=$*
        printf '$ %s\n' "${shown//$EP_TMP\//}"
        "$@"
}
# show LINE: a command line run another way (with a redirection), shown as typed.
show() { printf '$ %s\n' "$*"; }

# An infusion pump's software, in miniature.
demo_tree() {
        mkdir -p "$EP_ROOT/usr/bin" "$EP_ROOT/usr/lib/pump" "$EP_ROOT/etc/pump" "$EP_ROOT/var/log"
        printf '#!/bin/sh\necho "infusion controller 4.2"\n' >"$EP_ROOT/usr/bin/infusion-control"
        chmod 0755 "$EP_ROOT/usr/bin/infusion-control"
        head -c 1048576 /dev/zero | tr '\0' 'F' >"$EP_ROOT/usr/lib/pump/firmware.bin"
        printf 'max_rate_ml_h=999\nocclusion_alarm_kpa=80\n' >"$EP_ROOT/etc/pump/limits.conf"
        chmod 0644 "$EP_ROOT/usr/lib/pump/firmware.bin" "$EP_ROOT/etc/pump/limits.conf"
        ln -sf ../lib/pump/firmware.bin "$EP_ROOT/usr/bin/firmware"
}

say "Starting swtpm, a private system bus and endpointd (temp dir)"
ep_setup
demo_tree
ep_pki_init
ep_config Daemon LogLevel notice
ep_start
# Commands as a user types them: endpointctl from PATH, files in the temp dir.
export PATH="$EP_BUILD:$PATH"
cd "$EP_TMP"
echo "endpointd is running as PID $EP_DAEMON_PID on $DBUS_SYSTEM_BUS_ADDRESS"
echo "(its log: $EP_TMP/daemon.log)"

say "Status"
run endpointctl status

say "The D-Bus interface, as busctl sees it"
run busctl --system --no-pager introspect org.endpointd.Endpoint1 /org/endpointd/Endpoint1 org.endpointd.Endpoint1

# Each capability adds its part of the demo in demo/NAME.sh.
for part in tpm integrity policy grants; do
        if [ -f "$here/$part.sh" ]; then
                . "$here/$part.sh"
                "demo_$part" || ep_fail "the $part part of the demo failed"
        fi
done

say "Status at the end"
run endpointctl status

say "Stopping endpointd (SIGTERM), the bus and swtpm"
ep_stop TERM
echo "endpointd exited with status $EP_DAEMON_RC"
[ "$EP_DAEMON_RC" -eq 0 ] || exit 1
echo
echo "Demo complete."
