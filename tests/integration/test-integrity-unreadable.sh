#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# An unreadable file is reported as "unreadable". root (and CAP_DAC_READ_SEARCH,
# which endpointd keeps when it drops to User=) reads everything, so this test
# starts endpointd as an unprivileged user without capabilities.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-integrity-lib.sh"

[ "$(id -u)" = 0 ] || ep_skip "needs root to start the daemon as another user"
ep_setup --no-tpm
ep_pki_init
ep_config Integrity Watch no
# The daemon refuses to run as a user other than User=.
ep_config Daemon User nobody
R=$EP_ROOT
mkdir -p "$R/bin" "$R/etc"
echo "pump" >"$R/bin/pumpd"
echo "secret=1" >"$R/etc/keys.conf"
chmod -R a+rX "$EP_ROOT" "$EP_TRUST" "$EP_POLICY"

# ep_start, but as nobody: the notify socket must be writable for it.
it_start_unprivileged() {
        ep_write_config
        chmod 644 "$EP_CONF"
        rm -f "$EP_TMP/notify.sock"
        "$EP_BUILD/notify-listen" "$EP_TMP/notify.sock" 60 >"$EP_TMP/notify.log" &
        local listener=$!
        for _ in $(seq 50); do [ -S "$EP_TMP/notify.sock" ] && break; sleep 0.05; done
        chmod 666 "$EP_TMP/notify.sock"
        NOTIFY_SOCKET="$EP_TMP/notify.sock" setpriv --reuid=65534 --regid=65534 --clear-groups \
                "$EP_BUILD/endpointd" --config "$EP_CONF" >>"$EP_TMP/daemon.log" 2>&1 &
        EP_DAEMON_PID=$!
        EP_PIDS+=("$EP_DAEMON_PID")
        wait "$listener" || ep_fail "endpointd (as nobody) sent no READY=1"
}
it_start_unprivileged
# (Not the owner of /proc/PID: the daemon makes itself non-dumpable, and
# then its /proc entries belong to root.)
ep_assert_eq "$(awk '/^Uid:/ {print $3}' /proc/"$EP_DAEMON_PID"/status)" 65534 "the daemon runs as nobody"

it_manifest 1 "$EP_TMP/m"
it_install "$EP_TMP/m" "$EP_TMP/m.sig" || ep_fail "install failed"
ep_expect_exit 0 ep_ctl --no-progress scan

chmod 000 "$R/etc/keys.conf"
ep_expect_exit 5 ep_ctl --no-progress scan
it_expect_kind etc/keys.conf unreadable
ep_assert_contains "$(ep_ctl --json violations | jq -r '.[0].detail')" "Permission denied" "the detail says why"
it_expect_kind bin/pumpd none
ep_done
