#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Written by an independent tester from the man pages and the D-Bus contract
# alone, without reading the implementation.
#
# Subject bindings Unit= and Executable= (endpointd-policy(5), CALLER
# IDENTITY and THREAT MODEL), attacked by the bound system uid from outside
# its unit and by look-alike processes:
#   1. configurations the man page refuses: Executable= without Unit=, Unit=
#      with Group=, GID=, root, uid 0, a login uid, uid 65534, a template
#      without instance, odd unit names: policy verify and Reload refuse them
#      (Malformed), the old policy stays
#   2. the bound uid outside the unit (a plain setpriv, like su or cron): denied
#   3. look-alike cgroups: a unit of the same name in a user's delegated
#      subtree, a name with the unit as prefix, the unit nested below another
#      unit or below another slice; hybrid systems with the two hierarchies
#      disagreeing: denied (below the unit: allowed)
#   4. a dumpable process in the unit: denied; non-dumpable: allowed
#   5. a traced process in the unit (strace from the start, and attached
#      after the connection was made): denied
#   6. a process in the unit whose real or saved uid differs from the
#      connection's uid: denied
#   7. the same uid outside the unit attacks the unit's non-dumpable client:
#      ptrace attach, pidfd_getfd of its bus socket and /proc/PID/fd all fail
#   8. Executable=: the listed binary allowed; modified binary, an unlisted
#      file, a file outside Root=, a path with .., no manifest: denied
#   9. Unit= of a template instance: another instance is denied
. "$top_srcdir/tests/attack/lib.sh"
. "$top_srcdir/tests/attack/indep-lib.sh"

ep_setup
ep_pki_init
ep_config Integrity ScanInterval infinity
ep_unit_create pump
UNIT=$EP_UNIT
ep_unit_create pumpexe
UNITX=$EP_UNIT
INST="p$$r$RANDOM"
ep_unit_create "$INST@1.service"
ep_unit_create "$INST@2.service"
mkdir -p "$EP_ROOT/bin"
printf '#!/bin/sh\necho pump-ui\n' >"$EP_ROOT/bin/pump-ui"
echo "other" >"$EP_ROOT/bin/other"
cat >>"$EP_POLICY" <<POL

[Role]
Name=pumpapp
Permissions=status.read

[Subject]
UID=3
Roles=pumpapp
Unit=$UNIT

[Subject]
UID=2
Roles=pumpapp
Unit=$UNITX
Executable=$EP_ROOT/bin/pump-ui

[Subject]
UID=4
Roles=pumpapp
Unit=$INST@1.service
POL
cp "$EP_POLICY" "$EP_TMP/policy.good"
ep_start
indep_write_helper
W=$EP_TMP/work
mkdir -p "$W"
chmod 0777 "$W"
CTL=$EP_BUILD/endpointctl
# status_as_unit UNIT-PATH UID: endpointctl status inside a cgroup path.
st_unit() { ep_in_unit "$1" "$2" "$CTL" status; }
# split SD-PATH V2-PATH UID CMD...: CMD as UID with its name=systemd cgroup
# at SD-PATH and its cgroup2 cgroup at V2-PATH (hybrid systems).
SDROOT=$(findmnt -n -t cgroup -O name=systemd -o TARGET | head -n 1)
V2ROOT=$(findmnt -n -t cgroup2 -o TARGET | head -n 1)
split() {
        local sd=$1 v2=$2 uid=$3
        shift 3
        SD=$SDROOT/$sd V2=$V2ROOT/$v2 bash -c 'echo $$ >"$SD/cgroup.procs" && echo $$ >"$V2/cgroup.procs" || exit 99; unset SD V2; exec "$@"' split \
                setpriv --reuid="$uid" --regid="$uid" --clear-groups -- "$@"
}
# mkcg PATH: a cgroup in both hierarchies, removed at the end.
mkcg() {
        local root dir part
        for root in $SDROOT $V2ROOT; do
                dir=$root
                for part in ${1//\// }; do
                        dir=$dir/$part
                        [ -d "$dir" ] && continue
                        mkdir "$dir" || ep_fail "mkdir $dir"
                        EP_UNIT_DIRS+=("$dir")
                done
        done
}
[ -n "$SDROOT" ] && [ -n "$V2ROOT" ] || ep_skip "not a hybrid cgroup system"

ep_attack "the bound uid inside and outside its unit"
ep_expect_exit 0 st_unit "$UNIT" 3
ep_expect_exit 4 ep_as 3 "$CTL" status
ep_expect_exit 4 st_unit "$UNITX" 3

ep_attack "configurations the man page refuses: Executable= without Unit=, Unit= with groups, root, login uids, templates, odd names"
bad=0
for snippet in \
        "UID=3|Executable=/bin/pump-ui" \
        "Group=sys|Unit=$UNIT" \
        "GID=3|Unit=$UNIT" \
        "User=root|Unit=$UNIT" \
        "UID=0|Unit=$UNIT" \
        "UID=1000|Unit=$UNIT" \
        "UID=65534|Unit=$UNIT" \
        "UID=3|Unit=pump@.service" \
        "UID=3|Unit=../pump.service" \
        "UID=3|Unit=pump ui.service" \
        "UID=3|Unit=system.slice/pump.service" \
        "UID=3|Unit=" ; do
        cp "$EP_TMP/policy.good" "$W/bad.conf"
        printf '\n[Subject]\n%s\nRoles=pumpapp\n[Role]\nName=evil\nPermissions=*\n' "${snippet//|/$'\n'}" >>"$W/bad.conf"
        rc=0; out=$("$CTL" policy verify "$W/bad.conf" 2>&1) || rc=$?
        [ $rc -eq 1 ] || ep_fail "policy verify accepted '$snippet' (rc=$rc): $out"
        cp "$W/bad.conf" "$EP_POLICY"
        ep_expect_error org.endpointd.Error.Malformed call org.endpointd.Policy1 Reload '' ''
        cp "$EP_TMP/policy.good" "$EP_POLICY"
        ep_ok "refused: $snippet"
done
ep_expect_exit 0 st_unit "$UNIT" 3
indep_alive "refused configurations"

ep_attack "look-alike cgroups: delegated user subtree, prefix, nested below another unit or slice, hybrid disagreement"
mkcg "user.slice/user-3.slice/user@3.service/app.slice/$UNIT"
mkcg "system.slice/${UNIT}x"
mkcg "system.slice/other-$$.service/$UNIT"
mkcg "evil-$$.slice/system.slice/$UNIT"
mkcg "system.slice/$UNIT/sub"
ep_expect_exit 4 st_unit "user.slice/user-3.slice/user@3.service/app.slice/$UNIT" 3
ep_expect_exit 4 st_unit "system.slice/${UNIT}x" 3
ep_expect_exit 4 st_unit "system.slice/other-$$.service/$UNIT" 3
ep_expect_exit 4 st_unit "evil-$$.slice/system.slice/$UNIT" 3
ep_expect_exit 0 st_unit "system.slice/$UNIT/sub" 3
ep_expect_exit 4 split "system.slice/$UNIT" "user.slice/user-3.slice/user@3.service/app.slice/$UNIT" 3 "$CTL" status
ep_expect_exit 4 split "user.slice/user-3.slice/user@3.service/app.slice/$UNIT" "system.slice/$UNIT" 3 "$CTL" status
ep_expect_exit 4 split "" "system.slice/$UNIT" 3 "$CTL" status
ep_expect_exit 0 split "system.slice/$UNIT" "system.slice/$UNIT" 3 "$CTL" status
indep_alive "look-alike cgroups"

cat >"$W/client.py" <<'PYEOF'
# client.py MODE: MODE nodump makes the process non-dumpable before it
# connects; hold connects, writes its pid to HOLDFILE and calls Get each
# time GOFILE appears; setuid switches uids before connecting (root only).
import ctypes, dbus, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
mode = sys.argv[1]
if mode.startswith('setuid:'):
    r, e, s = (int(x) for x in mode.split(':')[1].split(','))
    os.setresuid(r, e, s)
if mode != 'dump':
    libc.prctl(4, 0, 0, 0, 0)   # PR_SET_DUMPABLE 0
bus = dbus.bus.BusConnection(os.environ['DBUS_SYSTEM_BUS_ADDRESS'])
o = bus.get_object('org.endpointd.Endpoint1', '/org/endpointd/Endpoint1', introspect=False)
def get():
    try:
        o.Get('org.endpointd.Endpoint1', 'Version', dbus_interface='org.freedesktop.DBus.Properties')
        return 'OK'
    except dbus.exceptions.DBusException as e:
        return e.get_dbus_name()
if mode == 'hold':
    hold = sys.argv[2]
    open(hold + '.tmp', 'w').write('%d %d\n' % (os.getpid(), bus.get_unix_fd() if hasattr(bus, 'get_unix_fd') else -1))
    os.rename(hold + '.tmp', hold)
    while not os.path.exists(hold + '.go'):
        time.sleep(0.05)
    print(get(), flush=True)
    while not os.path.exists(hold + '.end'):
        time.sleep(0.05)
    sys.exit(0)
r = get()
print(r)
sys.exit(0 if r == 'OK' else 4)
PYEOF
chmod 0644 "$W/client.py"

ep_attack "a dumpable process in the unit is denied, a non-dumpable one allowed"
ep_expect_exit 4 ep_in_unit "$UNIT" 3 "$EP_PY" "$W/client.py" dump
ep_expect_exit 0 ep_in_unit "$UNIT" 3 "$EP_PY" "$W/client.py" nodump

ep_attack "a traced process in the unit: traced from its start, and attached to after it connected"
# (LeakSanitizer cannot run in a traced client of a sanitizer build.)
ep_expect_exit 4 ep_in_unit "$UNIT" 3 env ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
        strace -f -o /dev/null "$CTL" status
rm -f "$W/h1" "$W/h1.go" "$W/h1.end"
ep_in_unit "$UNIT" 3 "$EP_PY" "$W/client.py" hold "$W/h1" >"$W/h1.out" 2>&1 &
holder=$!
for _ in $(seq 100); do [ -s "$W/h1" ] && break; sleep 0.1; done
[ -s "$W/h1" ] || ep_fail "holder did not start"
hpid=$(cut -d' ' -f1 "$W/h1")
strace -p "$hpid" -o /dev/null &
tracer=$!
for _ in $(seq 50); do grep -q "TracerPid:[[:space:]]*[1-9]" "/proc/$hpid/status" && break; sleep 0.1; done
touch "$W/h1.go"
for _ in $(seq 100); do [ -s "$W/h1.out" ] && break; sleep 0.1; done
kill "$tracer"; wait "$tracer" 2>/dev/null
touch "$W/h1.end"; wait "$holder"
ep_assert_eq "$(cat "$W/h1.out")" "org.freedesktop.DBus.Error.AccessDenied" "a client traced after it connected"
indep_alive "traced"

ep_attack "a process in the unit whose real or saved uid differs from the connection's"
ep_expect_exit 4 ep_in_unit "$UNIT" 0 "$EP_PY" "$W/client.py" setuid:0,3,0
ep_expect_exit 4 ep_in_unit "$UNIT" 0 "$EP_PY" "$W/client.py" setuid:3,3,0
ep_expect_exit 4 ep_in_unit "$UNIT" 0 "$EP_PY" "$W/client.py" setuid:0,3,3
ep_expect_exit 0 ep_in_unit "$UNIT" 0 "$EP_PY" "$W/client.py" setuid:3,3,3

ep_attack "the same uid outside the unit attacks the unit's non-dumpable client"
rm -f "$W/h2" "$W/h2.go" "$W/h2.end"
ep_in_unit "$UNIT" 3 "$EP_PY" "$W/client.py" hold "$W/h2" >"$W/h2.out" 2>&1 &
holder=$!
for _ in $(seq 100); do [ -s "$W/h2" ] && break; sleep 0.1; done
hpid=$(cut -d' ' -f1 "$W/h2")
cat >"$W/steal.py" <<'PYEOF'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
pid = int(sys.argv[1])
res = []
r = libc.ptrace(16, pid, 0, 0)   # PTRACE_ATTACH
res.append('ptrace=%s' % ('ok' if r == 0 else os.strerror(ctypes.get_errno())))
pidfd = libc.syscall(434, pid, 0)   # pidfd_open
got = 0
for fd in range(3, 64):
    if pidfd >= 0 and libc.syscall(438, pidfd, fd, 0) >= 0:   # pidfd_getfd
        got += 1
res.append('getfd=%d' % got)
try:
    os.listdir('/proc/%d/fd' % pid); res.append('procfd=ok')
except OSError as e:
    res.append('procfd=' + e.strerror)
try:
    open('/proc/%d/mem' % pid, 'rb'); res.append('mem=ok')
except OSError as e:
    res.append('mem=' + e.strerror)
print(' '.join(res))
PYEOF
chmod 0644 "$W/steal.py"
out=$(ep_as 3 "$EP_PY" "$W/steal.py" "$hpid")
touch "$W/h2.go"
for _ in $(seq 100); do [ -s "$W/h2.out" ] && break; sleep 0.1; done
touch "$W/h2.end"; wait "$holder"
case $out in *ptrace=ok*|*getfd=[1-9]*|*procfd=ok*|*mem=ok*) ep_fail "uid 3 outside the unit got at the unit's client: $out" ;; esac
ep_ok "uid 3 outside the unit: $out"
ep_assert_eq "$(cat "$W/h2.out")" "OK" "the unit's client itself is still served"

ep_attack "Executable=: listed binary allowed, modified binary, unlisted path or no manifest denied"
ep_expect_exit 4 st_unit "$UNITX" 2
ep_ctl manifest create "$EP_ROOT" --serial 10 --output "$W/m10" >/dev/null || ep_fail "manifest create"
ep_sign "$W/m10" "$W/m10.sig"
ep_ctl manifest install "$W/m10" "$W/m10.sig" >/dev/null || ep_fail "manifest install"
ep_expect_exit 0 st_unit "$UNITX" 2
cp "$EP_ROOT/bin/pump-ui" "$W/pump-ui.orig"
printf '#!/bin/sh\necho evil\n' >"$EP_ROOT/bin/pump-ui"
ep_expect_exit 4 st_unit "$UNITX" 2
cp "$W/pump-ui.orig" "$EP_ROOT/bin/pump-ui"
touch -r "$W/pump-ui.orig" "$EP_ROOT/bin/pump-ui"
ep_expect_exit 0 st_unit "$UNITX" 2
echo "not in the manifest" >"$EP_ROOT/bin/unlisted"
for exe in "$EP_ROOT/bin/unlisted" /bin/sh "$EP_ROOT/bin/../bin/pump-ui"; do
        sed "s|^Executable=.*/bin/pump-ui$|Executable=$exe|" "$EP_TMP/policy.good" >"$EP_POLICY"
        if ep_ctl policy reload >/dev/null 2>&1; then
                ep_expect_exit 4 st_unit "$UNITX" 2
        else
                ep_ok "Executable=$exe refused by the policy parser"
        fi
done
rm -f "$EP_ROOT/bin/unlisted"
cp "$EP_TMP/policy.good" "$EP_POLICY"
ep_ctl policy reload >/dev/null || ep_fail "reload"
ep_expect_exit 0 st_unit "$UNITX" 2
indep_alive "Executable"

ep_attack "Unit= of a template instance: another instance of the template is denied"
ep_expect_exit 0 st_unit "$INST@1.service" 4
ep_expect_exit 4 st_unit "$INST@2.service" 4
indep_alive "end"

ep_log "$EP_ATTACKS attacks"
ep_done
