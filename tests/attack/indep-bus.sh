#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Written by an independent tester from the man pages and the D-Bus contract
# alone, without reading the implementation.
#
# The bus itself (endpointd-dbus(7), the introspection XML in conf/,
# endpointd-policy(5) RATE LIMITS):
#   1. every method of the contract called with a wrong signature, too few
#      and too many arguments, by root and by uid 65534: InvalidArgs
#   2. unknown members, interfaces and object paths, and calls without an
#      interface field, by uid 65534: an error, never a result
#   3. introspection by uid 65534 matches the contract in conf/*.xml
#      (every member, every signature, read-only properties)
#   4. huge and deep messages: a 30 MiB plaintext, an options dict of
#      100000 entries, a variant nested 32 deep: refused, daemon alive
#   5. method calls flagged NO_REPLY_EXPECTED by uid 65534: still denied,
#      nothing created
#   6. callers that disconnect mid-call (VerifyFile of a 64 MiB file,
#      InstallManifest, Unseal, Scan): daemon alive, no descriptor leak
#   7. 150 connections of uid 65534 held open at once: another caller is
#      still served, and the daemon's descriptors return to normal
#   8. rate limiting (RateLimitBurst=10, RateLimitPerSecond=2): a flood of
#      one uid on one connection and spread over 30 connections gets
#      RateLimited; another uid and root are still served; the bucket refills
. "$top_srcdir/tests/attack/lib.sh"
. "$top_srcdir/tests/attack/indep-lib.sh"

ep_setup
ep_pki_init
ep_config Integrity ScanInterval infinity
cat >>"$EP_POLICY" <<'POL'

[Role]
Name=reader
Permissions=status.read integrity.read policy.read

[Subject]
UID=1
Roles=reader

[Subject]
UID=2
Roles=reader
POL
head -c $((64 * 1024 * 1024)) /dev/urandom >"$EP_ROOT/image.bin"
echo "small" >"$EP_ROOT/small"
ep_start
indep_write_helper
W=$EP_TMP/work
mkdir -p "$W"
ep_ctl manifest create "$EP_ROOT" --serial 10 --output "$W/m10" >/dev/null || ep_fail "manifest create"
ep_sign "$W/m10" "$W/m10.sig"
ep_ctl manifest install "$W/m10" "$W/m10.sig" >/dev/null || ep_fail "manifest install"
ep_ctl --no-progress scan >/dev/null || ep_fail "scan of the good tree"
indep_expect_ok call org.endpointd.Keys1 Seal 'saya{sv}' '("s1", ay(b"secret"), {})'
fds() { ls "/proc/$EP_DAEMON_PID/fd" | wc -l; }
# settle_fds BASE: waits up to 15 s for the daemon's descriptors to return to BASE (+2).
settle_fds() {
        local n
        for _ in $(seq 75); do
                n=$(fds)
                [ "$n" -le $(($1 + 2)) ] && { ep_ok "daemon descriptors back to $n (were $1) ($2)"; return 0; }
                sleep 0.2
        done
        ls -l "/proc/$EP_DAEMON_PID/fd" >&2
        ep_fail "daemon holds $n descriptors, $1 before ($2)"
}
FD0=$(fds)

cat >"$W/contract.py" <<'PYEOF'
# Prints one line per method of the contract: INTERFACE METHOD IN-SIGNATURE
# and, as a python expression, valid arguments for it followed by one extra.
import sys, glob, dbus, xml.etree.ElementTree as ET
sample = {'s': '"a"', 'ay': 'ay(b"a")', 'a{sv}': '{}', 'au': 'au([])', 'h': 'fd(0)', 't': '0', 'u': '0', 'b': 'True'}
for f in sorted(glob.glob(sys.argv[1] + '/conf/org.endpointd.*.xml')):
    for i in ET.parse(f).getroot().findall('interface'):
        for m in i.findall('method'):
            sig = ''.join(a.get('type') for a in m.findall('arg') if a.get('direction', 'in') == 'in')
            extra = '(' + ''.join(sample[str(t)] + ', ' for t in dbus.Signature(sig)) + '"extra",)'
            print(i.get('name'), m.get('name'), sig or '-', extra)
PYEOF
"$EP_PY" "$W/contract.py" "$top_srcdir" >"$W/contract" || ep_fail "contract.py"
[ "$(wc -l <"$W/contract")" -ge 25 ] || ep_fail "fewer methods in conf/*.xml than documented: $(cat "$W/contract")"

ep_attack "every method of the contract with a wrong signature, too few and too many arguments, by root and uid 65534"
while read -r iface method sig extra; do
        [ "$sig" = - ] && sig=
        case $sig in s*) wrong=u; wargs='(dbus.UInt32(7),)' ;; *) wrong=s; wargs='("x",)' ;; esac
        for who in 0 65534; do
                ep_expect_error org.freedesktop.DBus.Error.InvalidArgs ep_as $who "$EP_PY" "$EP_TMP/call.py" "$iface" "$method" "$wrong" "$wargs"
                ep_expect_error org.freedesktop.DBus.Error.InvalidArgs ep_as $who "$EP_PY" "$EP_TMP/call.py" "$iface" "$method" "${sig}s" "$extra"
        done
        if [ -n "$sig" ]; then
                ep_expect_error org.freedesktop.DBus.Error.InvalidArgs ep_as 0 "$EP_PY" "$EP_TMP/call.py" "$iface" "$method" '' ''
        fi
done <"$W/contract"
indep_alive "wrong signatures"

ep_attack "unknown members, interfaces, object paths and interface-less calls by uid 65534"
ep_expect_error org.freedesktop.DBus.Error.UnknownMethod ep_as 65534 "$EP_PY" "$EP_TMP/call.py" org.endpointd.Keys1 Export s '("s1",)'
ep_expect_error org.freedesktop.DBus.Error.UnknownMethod ep_as 65534 "$EP_PY" "$EP_TMP/call.py" org.endpointd.Keys2 Unseal s '("s1",)'
# Audit1 exists now: a caller without audit.read is denied, not told it is unknown.
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 65534 "$EP_PY" "$EP_TMP/call.py" org.endpointd.Audit1 ReadEvents tu '(0, 10)'
ep_expect_error org.freedesktop.DBus.Error.UnknownMethod ep_as 65534 "$EP_PY" "$EP_TMP/call.py" org.endpointd.Audit1 Export s '("s1",)'
ep_expect_error org.freedesktop.DBus.Error.UnknownMethod ep_as 65534 "$EP_PY" "$EP_TMP/call.py" org.endpointd.Data1 SignData hb '(fd(0), True)'
cat >"$W/paths.py" <<'PYEOF'
import dbus, sys
bus = dbus.SystemBus()
bad = 0
for path, iface, member, args in (
        ('/org/endpointd', 'org.endpointd.Keys1', 'Unseal', ('s1',)),
        ('/org/endpointd/Endpoint1/keys', 'org.endpointd.Keys1', 'Unseal', ('s1',)),
        ('/', 'org.endpointd.Policy1', 'Reload', ()),
        ('/org/endpointd/Endpoint1', None, 'Unseal', ('s1',)),
        ('/org/endpointd/Endpoint1', None, 'Reload', ()),
        ('/org/endpointd/Endpoint1', None, 'ListKeys', ()),
        ('/org/endpointd/Endpoint1', None, 'Get', ('org.endpointd.Endpoint1', 'DeviceId'))):
    o = bus.get_object('org.endpointd.Endpoint1', path, introspect=False)
    try:
        r = o.get_dbus_method(member, iface)(*args)
        print('FAIL %s %s.%s answered %r' % (path, iface, member, r)); bad += 1
    except dbus.exceptions.DBusException as e:
        print('ok %s %s.%s: %s' % (path, iface, member, e.get_dbus_name()))
sys.exit(1 if bad else 0)
PYEOF
ep_as 65534 "$EP_PY" "$W/paths.py" >"$W/paths.out" 2>&1 || { cat "$W/paths.out" >&2; ep_fail "an odd path or interface-less call by uid 65534 got a result"; }
ep_ok "$(grep -c '^ok' "$W/paths.out") odd paths and interface-less calls refused"
indep_alive "unknown members"

ep_attack "introspection by uid 65534 matches the contract in conf/*.xml"
cat >"$W/intro.py" <<'PYEOF'
import dbus, sys, glob, xml.etree.ElementTree as ET
bus = dbus.SystemBus()
o = bus.get_object('org.endpointd.Endpoint1', '/org/endpointd/Endpoint1', introspect=False)
live = ET.fromstring(str(o.Introspect(dbus_interface='org.freedesktop.DBus.Introspectable')))
def members(root):
    out = {}
    for i in root.findall('interface'):
        for kind in ('method', 'signal', 'property'):
            for m in i.findall(kind):
                if kind == 'property':
                    sig = m.get('type') + ':' + m.get('access')
                else:
                    sig = ','.join('%s/%s' % (a.get('type'), a.get('direction', 'in' if kind == 'method' else 'out')) for a in m.findall('arg'))
                out['%s.%s (%s)' % (i.get('name'), m.get('name'), kind)] = sig
    return out
got = members(live)
bad = 0
for f in sorted(glob.glob(sys.argv[1] + '/conf/org.endpointd.*.xml')):
    for k, v in members(ET.parse(f).getroot()).items():
        if got.get(k) != v:
            print('FAIL %s: contract %s, live %s' % (k, v, got.get(k))); bad += 1
        else:
            print('ok', k)
for k, v in got.items():
    if k.startswith('org.endpointd.') and v.endswith(':readwrite'):
        print('FAIL writable property %s' % k); bad += 1
sys.exit(1 if bad else 0)
PYEOF
ep_as 65534 "$EP_PY" "$W/intro.py" "$top_srcdir" >"$W/intro.out" 2>&1 || { cat "$W/intro.out" >&2; ep_fail "introspection differs from conf/*.xml"; }
ep_ok "$(grep -c '^ok' "$W/intro.out") members match the contract"

ep_attack "huge and deep messages: 30 MiB plaintext, 100000 options, a variant nested 32 deep"
ep_expect_error org.endpointd.Error.TooLarge call org.endpointd.Keys1 Encrypt sayay '("s1", ay(b"x" * (30 * 1024 * 1024)), ay(b""))'
ep_expect_error org.endpointd.Error.TooLarge call org.endpointd.Keys1 Sign ay '(ay(b"x" * (30 * 1024 * 1024)),)'
ep_expect_error org.freedesktop.DBus.Error.InvalidArgs call org.endpointd.Keys1 CreateKey 'sa{sv}' '("k9", dict(("o%d" % i, dbus.Boolean(True)) for i in range(100000)))'
ep_expect_error org.freedesktop.DBus.Error.InvalidArgs call org.endpointd.Keys1 CreateKey 'sa{sv}' '("k9", {"pcrs": dbus.Array([7], signature="u", variant_level=32)})'
# 480000 PCR indices, each of 0-23 20000 times: the same selection as 0-23.
out=$(call org.endpointd.Keys1 Attest ayau '(ay(b"n"), au(list(range(24)) * 20000))' 2>&1)
case $out in
*"OK ("*", bytes[768]:"*|*InvalidArgs*) ep_ok "480000 PCR indices: ${out:0:40}" ;;
*) ep_fail "Attest with 480000 PCR indices: ${out:0:300}" ;;
esac
[ ! -e "$EP_STATE/keys/k9.key" ] || ep_fail "k9 was created"
indep_alive "huge messages"

ep_attack "calls flagged NO_REPLY_EXPECTED by uid 65534 are still denied"
cat >"$W/noreply.py" <<'PYEOF'
import dbus, time
bus = dbus.SystemBus()
o = bus.get_object('org.endpointd.Endpoint1', '/org/endpointd/Endpoint1', introspect=False)
o.get_dbus_method('CreateKey', 'org.endpointd.Keys1')('nr1', dbus.Dictionary({}, signature='sv'), ignore_reply=True)
o.get_dbus_method('Seal', 'org.endpointd.Keys1')('nr2', dbus.ByteArray(b'x'), dbus.Dictionary({}, signature='sv'), ignore_reply=True)
o.get_dbus_method('DeleteKey', 'org.endpointd.Keys1')('s1', ignore_reply=True)
o.get_dbus_method('Reload', 'org.endpointd.Policy1')(ignore_reply=True)
o.get_dbus_method('Scan', 'org.endpointd.Integrity1')(ignore_reply=True)
bus.flush()
time.sleep(1)
PYEOF
ep_as 65534 "$EP_PY" "$W/noreply.py" || ep_fail "noreply.py"
sleep 1
[ ! -e "$EP_STATE/keys/nr1.key" ] && [ ! -e "$EP_STATE/keys/nr2.key" ] || ep_fail "a no-reply call by uid 65534 created a key"
[ -e "$EP_STATE/keys/s1.key" ] || ep_fail "a no-reply DeleteKey by uid 65534 deleted s1"
ep_ok "no-reply calls of uid 65534 changed nothing"
indep_alive "no-reply calls"

ep_attack "callers that disconnect mid-call: VerifyFile of a 64 MiB file, InstallManifest, Unseal, Scan"
ep_ctl manifest create "$EP_ROOT" --serial 11 --output "$W/m11" >/dev/null || ep_fail "manifest create"
ep_sign "$W/m11" "$W/m11.sig"
cat >"$W/hangup.py" <<'PYEOF'
import dbus, dbus.lowlevel, os, sys
bus = dbus.bus.BusConnection(os.environ['DBUS_SYSTEM_BUS_ADDRESS'])
def send(iface, member, sig, *args):
    m = dbus.lowlevel.MethodCallMessage('org.endpointd.Endpoint1', '/org/endpointd/Endpoint1', iface, member)
    if sig:
        m.append(signature=sig, *args)
    bus.send_message(m)
what = sys.argv[1]
if what == 'verify':
    for _ in range(5):
        send('org.endpointd.Integrity1', 'VerifyFile', 's', 'image.bin')
elif what == 'install':
    send('org.endpointd.Integrity1', 'InstallManifest', 'hh',
         dbus.types.UnixFd(os.open(sys.argv[2], os.O_RDONLY)), dbus.types.UnixFd(os.open(sys.argv[3], os.O_RDONLY)))
elif what == 'unseal':
    send('org.endpointd.Keys1', 'Unseal', 's', 's1')
elif what == 'scan':
    send('org.endpointd.Integrity1', 'Scan', '')
bus.flush()
os._exit(0)
PYEOF
for round in 1 2 3 4; do
        pids=()
        for what in verify verify unseal scan; do
                "$EP_PY" "$W/hangup.py" $what &
                pids+=($!)
                ep_as 1 "$EP_PY" "$W/hangup.py" $what &
                pids+=($!)
        done
        wait "${pids[@]}"
done
"$EP_PY" "$W/hangup.py" install "$W/m11" "$W/m11.sig"
sleep 2
indep_alive "disconnects"
for _ in $(seq 50); do
        [ "$(ep_busctl get-property org.endpointd.Endpoint1 /org/endpointd/Endpoint1 org.endpointd.Endpoint1 IntegrityState)" = 's "trusted"' ] && break
        sleep 0.2
done
# The hung-up callers' VerifyFile calls still run (they count against
# root's 4 calls in flight until they end; slowly under valgrind).
for _ in $(seq 600); do
        INDEP_OUT=$(call org.endpointd.Integrity1 VerifyFile s '("image.bin",)' 2>&1) && break
        case $INDEP_OUT in *RateLimited* | *Busy*) sleep 0.5 ;; *) break ;; esac
done
ep_assert_contains "$INDEP_OUT" "OK (ok, " "VerifyFile still works"
# A caller that is gone before the daemon reads its call can no longer be
# identified by the bus (GetConnectionCredentials fails), so the call may be
# refused; either way nothing may be left half done: the serial the daemon
# serves is 10 or 11, and a scan against it ends trusted.
serial=$(ep_busctl get-property org.endpointd.Endpoint1 /org/endpointd/Endpoint1 org.endpointd.Endpoint1 ManifestSerial)
case $serial in
"t 10" | "t 11") ep_ok "the install of a caller that hung up completed or was refused whole ($serial)" ;;
*) ep_fail "ManifestSerial after a hung-up install: $serial" ;;
esac
ep_expect_exit 0 ep_ctl --no-progress scan
settle_fds "$FD0" "after disconnects"

ep_attack "150 connections of uid 65534 held open while another uid is served"
cat >"$W/many.py" <<'PYEOF'
import dbus, os, sys, time
conns = []
for i in range(150):
    c = dbus.bus.BusConnection(os.environ['DBUS_SYSTEM_BUS_ADDRESS'])
    conns.append(c)
    o = c.get_object('org.endpointd.Endpoint1', '/org/endpointd/Endpoint1', introspect=False)
    try:
        o.Ping(dbus_interface='org.freedesktop.DBus.Peer')
    except dbus.exceptions.DBusException:
        pass
open(sys.argv[1], 'w').write('held\n')
time.sleep(float(sys.argv[2]))
PYEOF
rm -f "$W/held"; chmod 0777 "$W"
ep_as 65534 "$EP_PY" "$W/many.py" "$W/held" 8 &
many=$!
for _ in $(seq 100); do [ -s "$W/held" ] && break; sleep 0.1; done
[ -s "$W/held" ] || ep_fail "150 connections were not opened"
indep_expect_ok ep_as 1 "$EP_BUILD/endpointctl" status
indep_expect_ok ep_as 1 "$EP_PY" "$EP_TMP/call.py" org.endpointd.Policy1 CheckAccess s '("status.read",)'
ep_assert_contains "$INDEP_OUT" "OK (true, " "uid 1 served while uid 65534 holds 150 connections"
wait "$many"
settle_fds "$FD0" "after 150 connections closed"
indep_alive "many connections"

ep_attack "rate limiting: a flood of one uid on one and on 30 connections; another uid and root are served; the bucket refills"
ep_config Policy RateLimitBurst 10
ep_config Policy RateLimitPerSecond 2
ep_restart
cat >"$W/flood.py" <<'PYEOF'
import dbus, os, sys
n, conns = int(sys.argv[1]), int(sys.argv[2])
buses = [dbus.bus.BusConnection(os.environ['DBUS_SYSTEM_BUS_ADDRESS']) for _ in range(conns)]
ok = limited = other = 0
for i in range(n):
    o = buses[i % conns].get_object('org.endpointd.Endpoint1', '/org/endpointd/Endpoint1', introspect=False)
    try:
        o.Get('org.endpointd.Endpoint1', 'Version', dbus_interface='org.freedesktop.DBus.Properties')
        ok += 1
    except dbus.exceptions.DBusException as e:
        if e.get_dbus_name() == 'org.endpointd.Error.RateLimited':
            limited += 1
        else:
            other += 1
            print(e.get_dbus_name(), e.get_dbus_message(), file=sys.stderr)
print(ok, limited, other)
PYEOF
read -r ok limited other < <(ep_as 1 "$EP_PY" "$W/flood.py" 60 1)
ep_log "uid 1, one connection, 60 calls: $ok served, $limited RateLimited, $other other"
[ "$limited" -ge 40 ] && [ "$ok" -le 20 ] && [ "$other" -eq 0 ] || ep_fail "60 calls at once with burst 10: $ok served, $limited limited, $other other"
ep_ok "a one-connection flood is RateLimited"
indep_expect_ok ep_as 2 "$EP_BUILD/endpointctl" status
sleep 6
read -r ok limited other < <(ep_as 1 "$EP_PY" "$W/flood.py" 60 30)
ep_log "uid 1, 30 connections, 60 calls: $ok served, $limited RateLimited, $other other"
[ "$limited" -ge 40 ] && [ "$ok" -le 20 ] && [ "$other" -eq 0 ] || ep_fail "60 calls over 30 connections with burst 10: $ok served, $limited limited, $other other"
ep_ok "a flood spread over 30 connections is RateLimited (the bucket is per uid)"
indep_expect_ok ep_as 2 "$EP_PY" "$EP_TMP/call.py" org.endpointd.Policy1 CheckAccess s '("status.read",)'
read -r ok limited other < <("$EP_PY" "$W/flood.py" 300 1)
ep_assert_eq "$ok $limited $other" "300 0 0" "root is not limited"
sleep 3
indep_expect_ok ep_as 1 "$EP_BUILD/endpointctl" status
ep_ok "the bucket of uid 1 refilled"
indep_alive "end"

ep_log "$EP_ATTACKS attacks"
ep_done
