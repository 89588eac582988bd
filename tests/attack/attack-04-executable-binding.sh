#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 8, item 4 (written by the authors, test first): Executable= bound
# rights to whatever /proc/PID/exe showed for the pid the bus daemon
# recorded at connection time, so any code running as that uid could
# assume the identity: (a) connect, fork, exec the genuine binary in the
# connecting process and call from the other; (b) LD_PRELOAD into the
# genuine binary; (c) a libsystemd look-alike found through
# LD_LIBRARY_PATH, or bind-mounted in a private mount namespace; (d) gdb
# attaching to the running genuine process and dlopen()ing code; (e)
# pidfd_getfd() taking its bus socket. Now the identity is the system
# service unit (cgroup) plus uid, which no process can join from outside;
# the caller must be non-dumpable and untraced (so nothing of its uid can
# inject into it), and Executable= checks the unit's file on disk.
. "$top_srcdir/tests/attack/lib.sh"

CALL=$EP_BUILD/attack-bus-call
[ -x "$CALL" ] || ep_skip "attack-bus-call is not built (make check builds it)"
command -v cc >/dev/null || ep_skip "no C compiler"
PY=
for p in /usr/bin/python3 python3; do
        "$p" -c 'import dbus' 2>/dev/null && PY=$p && break
done
[ -n "$PY" ] || ep_skip "python3-dbus is not installed"
command -v gdb >/dev/null || ep_skip "gdb is not installed"
SD_CFLAGS=$(pkg-config --cflags libsystemd) && SD_LIBS=$(pkg-config --libs libsystemd) ||
        ep_skip "libsystemd's pkg-config file is missing"

ep_setup --no-tpm
ep_pki_init
ep_config Integrity Watch no
ep_unit_create pump
UNIT=$EP_UNIT
GENUINE=$EP_ROOT/bin/pump-app
mkdir -p "$EP_ROOT/bin"
cp "$CALL" "$GENUINE"
chmod 0755 "$EP_ROOT" "$EP_ROOT/bin" "$GENUINE"
printf '\n[Role]\nName=pump\nPermissions=policy.reload policy.read\n' >>"$EP_POLICY"
printf '\n[Subject]\nUser=sys\nRoles=pump\nUnit=%s\nExecutable=%s\n' "$UNIT" "$GENUINE" >>"$EP_POLICY"
cc -shared -fPIC -o "$EP_TMP/evil.so" "$EP_SRC/tests/attack/attack-04-evil.c" $SD_CFLAGS $SD_LIBS ||
        ep_fail "cannot build evil.so"
chmod 0755 "$EP_TMP/evil.so"
ep_start
ep_ctl manifest create "$EP_ROOT" --serial 1 --output "$EP_TMP/manifest" >/dev/null || ep_fail "manifest create"
ep_sign "$EP_TMP/manifest" "$EP_TMP/manifest.sig"
ep_expect_exit 0 ep_ctl manifest install "$EP_TMP/manifest" "$EP_TMP/manifest.sig"

DENIED=org.freedesktop.DBus.Error.AccessDenied
# evil_result: what the injected code got, "none" if it did not run.
evil_result() { cat "$EP_TMP/evil.out" 2>/dev/null || echo none; }
# reload_as ...: runs the genuine program (ep_as/ep_in_unit arguments
# first), has it call Reload once, prints the answer.
reload_as() { echo "0 Policy1 Reload" | "$@" | tail -n 1; }
# genuine_start [--dumpable]: the genuine program in its unit, connected and
# waiting (coprocess G, its pid in GPID); genuine_call has it call Reload.
genuine_start() {
        # gdb's injected calls leave strings malloc'ed in the program; in an
        # ASan build they are not the program's leaks to report.
        coproc G { ep_in_unit "$UNIT" 3 env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
                "$GENUINE" "$@"; }
        EP_PIDS+=("$G_PID")
        read -r -t 10 -u "${G[0]}" ready GPID || ep_fail "the genuine program did not start"
        [ "$ready" = ready ] || ep_fail "the genuine program said '$ready'"
}
genuine_call() {
        local line
        echo "0 Policy1 Reload" >&"${G[1]}"
        read -r -t 30 -u "${G[0]}" line || ep_fail "no answer from the genuine program"
        echo "$line"
}
genuine_stop() {
        local pid=$G_PID
        exec {G[1]}>&-
        wait "$pid" 2>/dev/null || :
}

# The control: the genuine program, in its unit, is allowed.
ep_assert_eq "$(reload_as ep_in_unit "$UNIT" 3 "$GENUINE")" ok "the genuine program in its unit is allowed"

ep_attack "the same uid runs the genuine program outside the unit"
ep_assert_eq "$(reload_as ep_as 3 "$GENUINE")" "$DENIED" "denied outside the unit"
ep_assert_contains "$(cat "$EP_TMP/daemon.log")" "is not in $UNIT" "the journal says why"

ep_attack "(a) connect, fork, execve() the genuine binary in the connecting process, call from the child"
out=$( (sleep 4) | ep_as 3 "$PY" "$EP_SRC/tests/attack/attack-04-fork.py" "$GENUINE")
ep_assert_contains "$out" "ready" "the genuine binary ran in the connecting process"
ep_assert_eq "$(printf '%s\n' "$out" | grep -v '^ready' | tail -n 1)" "$DENIED" "the child's call is denied"

ep_attack "(b) the genuine binary with LD_PRELOAD of code that calls from its constructor"
rm -f "$EP_TMP/evil.out"
# (An ASan build of the program wants its runtime first in the list.)
ep_as 3 env LD_PRELOAD="$EP_TMP/evil.so" EVIL_OUT="$EP_TMP/evil.out" \
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "$GENUINE" </dev/null >/dev/null
ep_assert_eq "$(evil_result)" "$DENIED" "the preloaded code's call is denied"

ep_attack "(c) the genuine binary with a libsystemd look-alike, through LD_LIBRARY_PATH or a private mount"
# The look-alike defines libsystemd's version nodes, runs the evil
# constructor and needs the real library, by its path, for everything else.
real=$(ldd "$GENUINE" | sed -n 's/^\tlibsystemd.so.0 => \(.*\) (.*/\1/p')
[ -f "$real" ] || ep_fail "cannot find the genuine program's libsystemd"
mkdir -p "$EP_TMP/shim" "$EP_TMP/real" "$EP_TMP/stub"
cp "$real" "$EP_TMP/real/libsystemd.so.0"
cc -shared -o "$EP_TMP/stub/libreal.so" -Wl,-soname,"$EP_TMP/real/libsystemd.so.0" -x c /dev/null ||
        ep_fail "cannot build the stub"
objdump -T "$real" | grep -o 'LIBSYSTEMD_[0-9]*' | sort -u | sed 's/$/ { };/' >"$EP_TMP/shim.map"
cc -shared -fPIC -o "$EP_TMP/shim/libsystemd.so.0" -DEVIL_OUT="\"$EP_TMP/evil.out\"" \
        "$EP_SRC/tests/attack/attack-04-evil.c" $SD_CFLAGS -Wl,-soname,libsystemd.so.0 \
        -Wl,--version-script="$EP_TMP/shim.map" -L"$EP_TMP/stub" -Wl,--no-as-needed -lreal || ep_fail "cannot build the look-alike"
chmod -R a+rX "$EP_TMP/shim" "$EP_TMP/real" "$EP_TMP/stub"
rm -f "$EP_TMP/evil.out"
ep_as 3 env LD_LIBRARY_PATH="$EP_TMP/shim" "$GENUINE" </dev/null >/dev/null
ep_assert_eq "$(evil_result)" "$DENIED" "the look-alike's call (LD_LIBRARY_PATH) is denied"
if ep_as 3 unshare -Urm true 2>/dev/null; then
        rm -f "$EP_TMP/evil.out"
        ep_as 3 unshare -Urm sh -c 'mount --bind "$1" "$2" && exec "$3" </dev/null >/dev/null' sh \
                "$EP_TMP/shim/libsystemd.so.0" "$(readlink -f "$real")" "$GENUINE"
        ep_assert_eq "$(evil_result)" "$DENIED" "the look-alike's call (bind mount, no LD_*) is denied"
else
        ep_log "unprivileged user namespaces are off here: the bind-mount variant is not run"
fi

ep_attack "(d) gdb attaches to the running genuine process and dlopen()s code"
gdb_inject() {
        ep_as 3 gdb -nx -p "$1" -batch -ex "call (int) setenv(\"EVIL_OUT\", \"$EP_TMP/evil.out\", 1)" \
                -ex "call (void *) dlopen(\"$EP_TMP/evil.so\", 2)" 2>&1
}
rm -f "$EP_TMP/evil.out"
genuine_start
out=$(gdb_inject "$GPID")
ep_assert_contains "$out" "ptrace: Operation not permitted" "gdb cannot attach to the non-dumpable process"
ep_assert_eq "$(evil_result)" none "no code got in"
ep_assert_eq "$(genuine_call)" ok "the genuine process is still allowed"
genuine_stop
# A genuine process that did not make itself non-dumpable: the code gets
# in, but the daemon refuses a dumpable (and here traced) caller.
genuine_start --dumpable
out=$(gdb_inject "$GPID")
ep_assert_eq "$(evil_result)" "$DENIED" "the injected code's call is denied"
ep_assert_eq "$(genuine_call)" "$DENIED" "a dumpable genuine process is denied"
ep_assert_contains "$(cat "$EP_TMP/daemon.log")" "is dumpable" "the journal says why"
genuine_stop

ep_attack "(e) pidfd_getfd() takes the genuine process's bus socket"
genuine_start
ep_assert_eq "$(ep_as 3 "$PY" "$EP_SRC/tests/attack/attack-04-getfd.py" "$GPID")" \
        "getfd: Operation not permitted" "the socket of a non-dumpable process cannot be taken"
genuine_stop
genuine_start --dumpable
ep_assert_eq "$(ep_as 3 "$PY" "$EP_SRC/tests/attack/attack-04-getfd.py" "$GPID")" "$DENIED" \
        "a call on the socket taken from a dumpable process is denied"
genuine_stop

ep_attack "the genuine program in a look-alike unit: a user's delegated subtree, a name that starts alike"
ep_unit_create "$UNIT" user.slice/user-3.slice/user@3.service/app.slice
ep_assert_eq "$(reload_as ep_in_unit "$EP_UNIT_PATH" 3 "$GENUINE")" "$DENIED" "denied in /$EP_UNIT_PATH"
ep_unit_create "${UNIT%.service}x.service"
ep_assert_eq "$(reload_as ep_in_unit "$EP_UNIT" 3 "$GENUINE")" "$DENIED" "denied in /$EP_UNIT_PATH"

ep_attack "the daemon cannot read the caller's /proc/PID/exe: the genuine program is still allowed"
# Run as its own user (User=endpointd), the daemon has no ptrace rights over
# other uids' processes, so /proc/PID/exe is closed to it. Dropping
# privileges is not possible in every test environment; root without
# CAP_SYS_PTRACE (bounding set) is in the same position for this.
ep_stop
EP_DAEMON_WRAPPER="setpriv --bounding-set=-sys_ptrace $EP_DAEMON_WRAPPER"
ep_start
genuine_start
setpriv --bounding-set=-sys_ptrace readlink "/proc/$GPID/exe" >/dev/null 2>&1 &&
        ep_fail "the control failed: /proc/$GPID/exe is readable without CAP_SYS_PTRACE"
ep_ok "without CAP_SYS_PTRACE, /proc/$GPID/exe cannot be read"
ep_assert_eq "$(genuine_call)" ok "the genuine program in its unit is allowed"
genuine_stop
ep_assert_eq "$(reload_as ep_as 3 "$GENUINE")" "$DENIED" "and denied outside"

ep_stop
ep_assert_eq "$EP_DAEMON_RC" 0 "daemon exit status"
ep_done
