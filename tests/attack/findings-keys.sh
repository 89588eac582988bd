#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Written by an independent tester from the man pages and the D-Bus contract
# alone, without reading the implementation.
#
# Findings on Keys1: attacks the daemon does not resist yet. Each test
# asserts the documented behaviour, so it fails until the daemon is fixed;
# it is not in the Makefile (move it into tests/attack/indep-keys.sh once it
# passes).
#   1. someone who can write the state directory puts a FIFO, a symlink to
#      /dev/zero or a directory in place of StateDirectory/keys/NAME.key:
#      endpointd-dbus(7) lists for Unseal NotFound, AccessDenied,
#      PcrMismatch, WrongDevice, Tampered ("the file was changed: it fails
#      the TPM's integrity check or does not parse") and TpmUnavailable,
#      and allows no error names outside AccessDenied, InvalidArgs and
#      org.endpointd.Error.*; the daemon answers System.Error.EBADFD and
#      System.Error.EISDIR (a regular file with garbage, or a symlink to
#      /etc/passwd, gives Tampered as documented)
. "$top_srcdir/tests/attack/lib.sh"
# --- helpers of the independent tester (the same block in every indep-*.sh) ---
# call IFACE METHOD SIGNATURE PYTHON-ARGS: one raw D-Bus call with python3-dbus
# (any signature, byte arrays of any size, file descriptors). Prints
# "OK <result>" or "ERR <error name> <message>" and exits 1 on an error.
EP_PY=/usr/bin/python3
"$EP_PY" -c 'import dbus' 2>/dev/null || ep_skip "python3-dbus is not installed"
indep_write_helper() {
        cat >"$EP_TMP/call.py" <<'PYEOF'
import sys, os, socket, dbus
bus = dbus.SystemBus()
obj = bus.get_object('org.endpointd.Endpoint1', '/org/endpointd/Endpoint1', introspect=False)
iface, method, sig, expr = sys.argv[1:5]
env = {'os': os, 'socket': socket, 'dbus': dbus, 'fd': dbus.types.UnixFd,
       'ay': lambda b: dbus.ByteArray(b), 'au': lambda l: dbus.Array(l, signature='u')}
args = eval(expr, env) if expr else ()
try:
    r = obj.get_dbus_method(method, iface or None)(*args, signature=sig, timeout=60, byte_arrays=True)
except dbus.exceptions.DBusException as e:
    print("ERR", e.get_dbus_name(), e.get_dbus_message())
    sys.exit(1)
def show(v):
    if isinstance(v, (bytes, dbus.ByteArray)):
        return 'bytes[%d]:%s' % (len(v), bytes(v).hex())
    if isinstance(v, (tuple, list, dbus.Struct, dbus.Array)):
        return '(' + ', '.join(show(x) for x in v) + ')'
    if isinstance(v, dbus.Dictionary):
        return '{' + ', '.join('%s: %s' % (show(k), show(x)) for k, x in v.items()) + '}'
    if isinstance(v, dbus.Boolean):
        return 'true' if v else 'false'
    if isinstance(v, (dbus.String, dbus.ObjectPath, dbus.Signature)):
        return str(v)
    return str(v)
print("OK", show(r))
PYEOF
        chmod 0644 "$EP_TMP/call.py"
}
call() { "$EP_PY" "$EP_TMP/call.py" "$@"; }
# indep_alive: the daemon process still runs and endpointctl status answers.
indep_alive() {
        kill -0 "$EP_DAEMON_PID" 2>/dev/null || ep_fail "endpointd died ($*)"
        ep_ctl status >/dev/null 2>&1 || ep_fail "endpointctl status fails ($*)"
        ep_ok "daemon alive and answering status ($*)"
}
# indep_expect_ok CMD...: CMD must succeed; its output is in $INDEP_OUT.
indep_expect_ok() {
        INDEP_OUT=$("$@" 2>&1) || ep_fail "expected success from: $* (got: $INDEP_OUT)"
        ep_ok "$* succeeded"
}
# --- end of helpers ---

ep_setup
ep_start
indep_write_helper
K=org.endpointd.Keys1
KEYS=$EP_STATE/keys
indep_expect_ok call $K Seal 'saya{sv}' '("s1", ay(b"secret"), {})'

ep_attack "state-directory writer puts a FIFO, a symlink to /dev/zero and a directory in place of key files"
mkfifo "$KEYS/fifo.key"
ln -s /dev/zero "$KEYS/zero.key"
mkdir "$KEYS/dir.key"
failed=0
for n in fifo zero dir; do
        for m in "Unseal s (\"$n\",)" "Encrypt sayay (\"$n\",ay(b\"x\"),ay(b\"\"))"; do
                read -r method sig args <<<"$m"
                out=$(timeout 20 "$EP_PY" "$EP_TMP/call.py" $K "$method" "$sig" "$args" 2>&1)
                case $out in
                "ERR org.endpointd.Error.Tampered "*|"ERR org.endpointd.Error.NotFound "*) ep_ok "$method $n.key: ${out:0:60}" ;;
                *) ep_log "FAIL: $method on $n.key: expected Tampered (or NotFound), got: $out"; failed=1 ;;
                esac
        done
done
indep_alive "odd key files"
indep_expect_ok call $K Unseal s '("s1",)'
[ $failed = 0 ] || ep_fail "odd key files answered with undocumented error names"

ep_log "$EP_ATTACKS attacks"
ep_done
