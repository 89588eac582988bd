#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The idle trim (src/daemon/idle.h): once the daemon has had nothing to do
# for a few seconds it gives back the free heap and the clean pages of its
# read-only file mappings. Its resident file pages drop, and everything
# works as before afterwards: the same secret unseals, the daemon answers,
# a scan runs, and the daemon stops cleanly.
. "$top_srcdir/tests/integration/lib.sh"

# wait_trims N: until the daemon's log shows N trims (the delay is 5 s).
wait_trims() {
        local i
        for i in $(seq 60); do
                [ "$(grep -c 'Idle: released' "$EP_TMP/daemon.log")" -ge "$1" ] && return 0
                sleep 0.5
        done
        ep_fail "no idle trim number $1 within 30 s"
}
rss_file() { awk '/^RssFile:/ {print $2}' "/proc/$EP_DAEMON_PID/status"; }

ep_setup
ep_config Daemon LogLevel debug
ep_start
head -c 48 /dev/urandom >"$EP_TMP/secret"
ep_ctl seal idle <"$EP_TMP/secret" >/dev/null || ep_fail "seal"
ep_ctl unseal idle >"$EP_TMP/out1" || ep_fail "unseal"
cmp -s "$EP_TMP/secret" "$EP_TMP/out1" || ep_fail "unsealed bytes differ"
before=$(rss_file)
n=$(grep -c 'Idle: released' "$EP_TMP/daemon.log")
wait_trims $((n + 1))
ep_ok "the daemon trimmed itself when idle"
after=$(rss_file)
# Under valgrind the process is valgrind's: its own mappings dominate.
if [ -z "$EP_DAEMON_WRAPPER" ]; then
        [ "$after" -lt "$before" ] || ep_fail "RssFile did not drop: $before -> $after KiB"
        ep_ok "resident file pages $before -> $after KiB"
fi

ep_ctl unseal idle >"$EP_TMP/out2" || ep_fail "unseal after the trim"
cmp -s "$EP_TMP/secret" "$EP_TMP/out2" || ep_fail "unsealed bytes differ after the trim"
ep_ok "the same secret unseals after the trim"
ep_ctl status >/dev/null || ep_fail "status after the trim"
ep_expect_error "No manifest is installed" ep_ctl scan
ep_ctl device-key >"$EP_TMP/device.pem" || ep_fail "device-key after the trim"
openssl pkey -pubin -in "$EP_TMP/device.pem" -noout 2>/dev/null || ep_fail "device-key is not a public key"
ep_ok "status, scan and device-key answer after the trim"

# A second idle period trims again; the daemon then stops cleanly.
wait_trims $((n + 2))
ep_ctl unseal idle >"$EP_TMP/out3" && cmp -s "$EP_TMP/secret" "$EP_TMP/out3" || ep_fail "unseal after two trims"
ep_ok "the same secret unseals after a second trim"
ep_stop
[ "$EP_DAEMON_RC" -eq 0 ] || ep_fail "the daemon exited $EP_DAEMON_RC"
ep_ok "the daemon stopped cleanly"
ep_done
