#!/bin/bash
# Readiness, status lines, reload, watchdog, clients that vanish, clean exit.
. "$top_srcdir/tests/integration/lib.sh"

ep_setup --no-tpm
ep_start

notify=$(cat "$EP_TMP/notify.log")
ep_assert_contains "$notify" "READY=1" "READY=1 on our NOTIFY_SOCKET"
ep_assert_contains "$notify" "STATUS=" "a STATUS= line"

# A client that sends a call and goes away before the reply, many times,
# and clients killed mid-call: the daemon must keep serving.
for _ in $(seq 30); do
        ep_busctl call --expect-reply=no org.endpointd.Endpoint1 /org/endpointd/Endpoint1 \
                org.freedesktop.DBus.Properties GetAll s org.endpointd.Endpoint1 || ep_fail "busctl call failed"
        (
                ep_busctl call org.endpointd.Endpoint1 /org/endpointd/Endpoint1 \
                        org.freedesktop.DBus.Introspectable Introspect >/dev/null &
                pid=$!
                kill -KILL $pid
                wait $pid
        ) 2>/dev/null
done
kill -0 "$EP_DAEMON_PID" || ep_fail "daemon died after clients vanished"
ep_ctl status >/dev/null || ep_fail "status failed after clients vanished"
ep_ok "daemon survives clients that disconnect mid-call"

# SIGHUP with a good new configuration reloads it ...
ep_config Daemon LogLevel info
ep_write_config
kill -HUP "$EP_DAEMON_PID"
for _ in $(seq 50); do grep -q "Configuration reloaded" "$EP_TMP/daemon.log" && break; sleep 0.1; done
grep -q "Configuration reloaded" "$EP_TMP/daemon.log" || ep_fail "no reload after SIGHUP"
ep_ok "SIGHUP reloads the configuration"

# ... and a bad one is refused with file:line, the daemon keeps serving.
printf '[Daemon]\nLogLevel=chatty\n' >"$EP_CONF"
kill -HUP "$EP_DAEMON_PID"
for _ in $(seq 50); do grep -q "keeping the old configuration" "$EP_TMP/daemon.log" && break; sleep 0.1; done
ep_assert_contains "$(cat "$EP_TMP/daemon.log")" "$EP_CONF:2: 'chatty' is not a log level" "refused reload"
kill -0 "$EP_DAEMON_PID" || ep_fail "daemon died on a bad reload"
ep_ctl status >/dev/null || ep_fail "status failed after a refused reload"
ep_ok "a bad configuration on reload is refused and the old one stays"
ep_write_config

# The system call filter is in force after start-up (mode 2 = filter).
if [ -z "$EP_DAEMON_WRAPPER" ] && [ -z "$EP_SANITIZED" ]; then
        ep_assert_eq "$(awk '/^Seccomp:/ {print $2}' "/proc/$EP_DAEMON_PID/status")" 2 "seccomp mode"
fi

# SIGTERM: exit status 0, and the bus name is released.
ep_stop TERM
ep_assert_eq "$EP_DAEMON_RC" 0 "exit status after SIGTERM"
ep_expect_exit 3 ep_ctl status
ep_assert_contains "$(cat "$EP_TMP/last.out")" "endpointd is not running" "status without daemon"
[ "$(wc -l <"$EP_TMP/last.out")" -eq 1 ] || ep_fail "more than one line when the daemon is not running"
ep_ok "one line when the daemon is not running"

# SIGINT too; and Seccomp=no installs no filter.
ep_config Daemon Seccomp no
ep_start
ep_assert_eq "$(awk '/^Seccomp:/ {print $2}' "/proc/$EP_DAEMON_PID/status")" 0 "seccomp mode with Seccomp=no"
ep_stop INT
ep_assert_eq "$EP_DAEMON_RC" 0 "exit status after SIGINT"

# A device TCTI gets a filter without AF_INET sockets. A reload to a network
# TCTI keeps the old one: the TPM retry timer (every 2 s) would otherwise
# open an AF_INET socket, and the filter would kill the daemon.
if [ -z "$EP_DAEMON_WRAPPER" ] && [ -z "$EP_SANITIZED" ]; then
        ep_config Daemon Seccomp yes
        ep_config TPM TCTI "device:$EP_TMP/no-such-tpm"
        ep_start
        ep_config TPM TCTI "swtpm:host=127.0.0.1,port=$(ep_free_port)"
        ep_write_config
        kill -HUP "$EP_DAEMON_PID"
        for _ in $(seq 50); do grep -q "Configuration reloaded" "$EP_TMP/daemon.log" && break; sleep 0.1; done
        ep_assert_contains "$(cat "$EP_TMP/daemon.log")" \
                "which the system call filter does not permit; keeping TCTI=device:$EP_TMP/no-such-tpm until a restart" \
                "reload to a network TCTI"
        sleep 3
        kill -0 "$EP_DAEMON_PID" || ep_fail "daemon died after a reload to a network TCTI: $(tail -n 3 "$EP_TMP/daemon.log")"
        ep_ctl status >/dev/null || ep_fail "status failed after a reload to a network TCTI"
        ep_ok "the daemon outlives a reload to a TCTI its filter was not made for"
        ep_stop TERM
        ep_config Daemon Seccomp no
        ep_write_config
fi

# WatchdogSec=: WATCHDOG=1 keeps coming from the loop.
rm -f "$EP_TMP/notify.sock"
"$EP_BUILD/notify-listen" "$EP_TMP/notify.sock" 3 all >"$EP_TMP/watchdog.log" &
listener=$!
for _ in $(seq 50); do [ -S "$EP_TMP/notify.sock" ] && break; sleep 0.05; done
NOTIFY_SOCKET="$EP_TMP/notify.sock" WATCHDOG_USEC=400000 $EP_DAEMON_WRAPPER "$EP_BUILD/endpointd" \
        --config "$EP_CONF" >>"$EP_TMP/daemon.log" 2>&1 &
EP_DAEMON_PID=$!
EP_PIDS+=("$EP_DAEMON_PID")
wait "$listener"
n=$(grep -c '^WATCHDOG=1' "$EP_TMP/watchdog.log" || true)
[ "$n" -ge 3 ] || ep_fail "expected several WATCHDOG=1 in 3 s with WatchdogSec=0.4s, got $n"
ep_ok "WATCHDOG=1 sent $n times in 3 s"
ep_stop TERM
ep_assert_eq "$EP_DAEMON_RC" 0 "exit status after SIGTERM with watchdog"

ep_done
