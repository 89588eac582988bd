# SPDX-License-Identifier: LGPL-2.1-or-later
# Helpers of the independent testers' scripts (indep-*.sh, findings-*.sh),
# sourced after tests/attack/lib.sh.
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
# grant FILE ID DEVICE SUBJECT ROLES NOTBEFORE NOTAFTER [SIGNER] and
# licence FILE ID DEVICE FEATURES NOTBEFORE NOTAFTER [SIGNER]: write a grant or
# licence into $W and sign it (default: the signer of its role).
grant() {
        printf '[Grant]\nId=%s\nDevice=%s\nSubject=%s\nRoles=%s\nNotBefore=%s\nNotAfter=%s\n' "$2" "$3" "$4" "$5" "$6" "$7" >"$W/$1"
        ep_sign "$W/$1" "$W/$1.sig" "${8:-signer-grant}"
}
licence() {
        printf '[Licence]\nId=%s\nDevice=%s\nFeatures=%s\nNotBefore=%s\nNotAfter=%s\n' "$2" "$3" "$4" "$5" "$6" >"$W/$1"
        ep_sign "$W/$1" "$W/$1.sig" "${7:-signer-licence}"
}
# install_grant / install_licence FILE [SIG]: InstallGrant / InstallLicence
# with the bytes of files in $W.
install_grant() { call org.endpointd.Policy1 InstallGrant ayay "(ay(open('$W/$1','rb').read()), ay(open('$W/${2:-$1.sig}','rb').read()))"; }
install_licence() { call org.endpointd.Policy1 InstallLicence ayay "(ay(open('$W/$1','rb').read()), ay(open('$W/${2:-$1.sig}','rb').read()))"; }
# indep_pager_escape KEYS [VAR=VALUE...]: runs `endpointctl --help` (paged
# output) on a pseudo-terminal with TERM=xterm, no PAGER, SYSTEMD_PAGER or
# LESSSECURE but the VARs given, and types KEYS into the pager (where
# @MARK@ stands for a file that must not appear). Succeeds if the pager ran
# a command that created the file; the screen is in $EP_TMP/pager.out.
indep_pager_escape() {
        local keys=${1//@MARK@/$EP_TMP/pager-escaped}
        shift
        rm -f "$EP_TMP/pager-escaped"
        env -u PAGER -u SYSTEMD_PAGER -u LESSSECURE TERM=xterm "${@//@MARK@/$EP_TMP/pager-escaped}" \
                "$EP_PY" "$EP_SRC/tests/attack/indep3-tty.py" "$keys" "$EP_BUILD/endpointctl" --help \
                >"$EP_TMP/pager.out" 2>&1
        [ -e "$EP_TMP/pager-escaped" ]
}
