#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Written by an independent tester from the man pages and the D-Bus contract
# alone, without reading the implementation.
#
# Findings on Policy1: attacks the daemon does not resist yet. Each test
# asserts the documented behaviour, so it fails until the daemon is fixed;
# it is not in the Makefile (move it into tests/attack/indep-policy.sh once
# it passes).
#   1. someone who can write the state directory copies a grant the
#      manufacturer signed for ANOTHER device (e.g. from a visit to another
#      pump) into grants/ and waits for a restart: endpointd-policy(5) says
#      stored grants are verified again at start-up, and a grant for another
#      device is refused (WrongDevice); the daemon loads it (its log shows
#      the Authority starts before the TPM, so the device id is not known
#      then): ListGrants shows it to the admin as installed (it confers no
#      rights), and this device's own grant with that id cannot be installed
#   2. the same with a licence for another device
#   3. Reload when the policy path is a directory: endpointd-dbus(7) says
#      NotFound when the file cannot be read; the daemon answers
#      System.Error.EISDIR, a name outside the documented set
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
ep_pki_init
cat >>"$EP_POLICY" <<'POL'

[Role]
Name=service
Permissions=policy.read policy.reload

[Role]
Name=reader
Permissions=licence.read

[Subject]
UID=1
Roles=reader
POL
ep_start
indep_write_helper
P=org.endpointd.Policy1
W=$EP_TMP/work
mkdir -p "$W"
OTHER=$(printf '%s' "another pump" | sha256sum | cut -d' ' -f1)
DEV=$(ep_ctl device-id) || ep_fail "device-id"

# Each attack's checks run in a subshell, so that one attack that is not
# resisted does not hide the others (the daemon is only ever restarted
# outside them); the script fails if any attack was not resisted.
INDEP_FINDINGS=0
finding() { ( "$@" ) || INDEP_FINDINGS=$((INDEP_FINDINGS + 1)); }

# Setup of attacks 1 and 2: both files are refused by the bus call, then
# copied into the state directory, and the daemon restarted.
printf '[Grant]\nId=visit\nDevice=%s\nSubject=uid:65534\nRoles=service\nNotBefore=2020-01-01T00:00:00Z\nNotAfter=2099-01-01T00:00:00Z\n' "$OTHER" >"$W/visit"
ep_sign_grant "$W/visit" "$W/visit.sig"
ep_expect_error org.endpointd.Error.WrongDevice call $P InstallGrant ayay "(ay(open('$W/visit','rb').read()), ay(open('$W/visit.sig','rb').read()))"
printf '[Licence]\nId=lic\nDevice=%s\nFeatures=bolus\nNotBefore=2020-01-01T00:00:00Z\nNotAfter=2099-01-01T00:00:00Z\n' "$OTHER" >"$W/lic"
ep_sign_licence "$W/lic" "$W/lic.sig"
ep_expect_error org.endpointd.Error.WrongDevice call $P InstallLicence ayay "(ay(open('$W/lic','rb').read()), ay(open('$W/lic.sig','rb').read()))"
mkdir -p "$EP_STATE/grants" "$EP_STATE/licences"
cp "$W/visit" "$EP_STATE/grants/visit.grant"
cp "$W/visit.sig" "$EP_STATE/grants/visit.grant.sig"
cp "$W/lic" "$EP_STATE/licences/lic.licence"
cp "$W/lic.sig" "$EP_STATE/licences/lic.licence.sig"
ep_restart
indep_alive "planted grant and licence"

planted_grant() {
        ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $P Reload '' ''
        # The foreign grant must not block this device's own grant with that id.
        printf '[Grant]\nId=visit\nDevice=%s\nSubject=uid:2\nRoles=service\nNotBefore=2020-01-01T00:00:00Z\nNotAfter=2099-01-01T00:00:00Z\n' "$DEV" >"$W/own"
        ep_sign_grant "$W/own" "$W/own.sig"
        indep_expect_ok call $P InstallGrant ayay "(ay(open('$W/own','rb').read()), ay(open('$W/own.sig','rb').read()))"
        indep_expect_ok call $P ListGrants '' ''
        ep_assert_eq "$INDEP_OUT" "OK ((visit, uid:2, service, 1577836800000000, 4070908800000000))" "only this device's grant is listed"
}
ep_attack "a validly signed grant for another device copied into grants/ is loaded at the next start"
finding planted_grant

planted_licence() {
        indep_expect_ok ep_as 1 "$EP_PY" "$EP_TMP/call.py" $P CheckFeature s '("bolus",)'
        ep_assert_eq "$INDEP_OUT" "OK (false, 0)" "the other device's licence enables nothing"
        indep_expect_ok call $P ListLicences '' ''
        ep_assert_eq "$INDEP_OUT" "OK ()" "the other device's licence is not loaded (ListLicences)"
}
ep_attack "a validly signed licence for another device copied into licences/ is loaded at the next start"
finding planted_licence

policy_dir() {
        mv "$EP_POLICY" "$EP_POLICY.saved"
        mkdir "$EP_POLICY"
        out=$(call $P Reload '' '' 2>&1)
        rmdir "$EP_POLICY"
        mv "$EP_POLICY.saved" "$EP_POLICY"
        ep_assert_contains "$out" "ERR org.endpointd.Error.NotFound" "Reload of a policy path that is a directory"
}
ep_attack "Reload when the policy path is a directory"
finding policy_dir
indep_alive "end"

[ "$INDEP_FINDINGS" -eq 0 ] || ep_fail "$INDEP_FINDINGS of $EP_ATTACKS attacks not resisted"
ep_log "$EP_ATTACKS attacks"
ep_done
