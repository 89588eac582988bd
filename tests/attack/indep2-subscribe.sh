#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Written by an independent tester from the man pages and the D-Bus contract
# alone, without reading the implementation.
#
# Integrity1.Subscribe()/Unsubscribe() and who receives which signal
# (endpointd-dbus(7), "Signals carry no secrets to strangers"):
#   1. Subscribe and Unsubscribe without integrity.read (uid 65534, and a uid
#      with status.read only): AccessDenied, and their match rules receive
#      no ScanProgress/ScanFinished/Violation while a subscriber does
#   2. per-uid limit: a ninth subscription of one uid is LimitsExceeded,
#      subscribing twice on one connection is a no-op, and the slots come
#      back when the connections leave the bus
#   3. total limit: 32 subscriptions of four uids, a fifth uid gets Busy
#   4. 1000 Subscribe calls on one connection: RateLimited or a no-op, they
#      take one slot only, the daemon keeps answering
#   5. Unsubscribe by another connection (same uid, other uid) does not end
#      someone else's subscription; an unsubscribed connection gets nothing
#   6. the permission lost by a policy reload, a grant revoked and a grant
#      lapsed: no more signals, and Subscribe again is AccessDenied
#   7. PropertiesChanged seen by a stranger names properties, carries no value
#   8. a subscriber that never reads (SIGSTOPped) during scans with 3000
#      violations: status still answers at once, other subscribers are served
# (Forged ScanFinished signals against endpointctl scan: findings2-integrity.sh.)
. "$top_srcdir/tests/attack/lib.sh"
. "$top_srcdir/tests/attack/indep-lib.sh"

ep_setup
ep_pki_init
ep_config Integrity ScanInterval infinity
ep_config Integrity Watch no
cat >>"$EP_POLICY" <<'POL'

[Role]
Name=reader
Permissions=status.read integrity.read

[Role]
Name=statusonly
Permissions=status.read
POL
cp "$EP_POLICY" "$EP_TMP/policy.base"
for u in 1 2 3 4 5; do printf '\n[Subject]\nUID=%s\nRoles=reader\n' $u >>"$EP_POLICY"; done
printf '\n[Subject]\nUID=6\nRoles=statusonly\n' >>"$EP_POLICY"
mkdir -p "$EP_ROOT/bin" "$EP_ROOT/etc"
echo "pump 4.2" >"$EP_ROOT/bin/pumpd"
echo "rate=4" >"$EP_ROOT/etc/pump.conf"
ep_start
indep_write_helper
I=org.endpointd.Integrity1
P=org.endpointd.Policy1
W=$EP_TMP/work
mkdir -p "$W"
chmod 0777 "$W"
DEV=$(ep_ctl device-id) || ep_fail "device-id"
ep_ctl manifest create "$EP_ROOT" --serial 10 --output "$W/m10" >/dev/null || ep_fail "manifest create"
ep_sign "$W/m10" "$W/m10.sig"
ep_ctl manifest install "$W/m10" "$W/m10.sig" >/dev/null || ep_fail "manifest install"
# The tree now violates the manifest: one modified file, one unexpected.
echo "rate=400" >"$EP_ROOT/etc/pump.conf"
echo "implant" >"$EP_ROOT/bin/implant"

# listen.py OUT [subscribe]: one connection with match rules for every
# Integrity1 signal and for PropertiesChanged (no sender filter); writes
# each message it receives to OUT, and runs the commands (subscribe,
# unsubscribe) written to OUT.cmd. Stops when OUT.stop exists.
cat >"$W/listen.py" <<'PYEOF'
import dbus, dbus.mainloop.glib, ctypes, os, sys, time
loop = dbus.mainloop.glib.DBusGMainLoop()
glib = ctypes.CDLL('libglib-2.0.so.0')
glib.g_main_context_iteration.argtypes = [ctypes.c_void_p, ctypes.c_int]
out_path = sys.argv[1]
out = open(out_path, 'a', buffering=1)
bus = dbus.bus.BusConnection(os.environ['DBUS_SYSTEM_BUS_ADDRESS'], mainloop=loop)
obj = bus.get_object('org.endpointd.Endpoint1', '/org/endpointd/Endpoint1', introspect=False)
def show(v):
    if isinstance(v, dbus.Dictionary):
        return '{' + ','.join('%s=%s' % (k, show(x)) for k, x in v.items()) + '}'
    if isinstance(v, (dbus.Array, dbus.Struct, list, tuple)):
        return '[' + ','.join(show(x) for x in v) + ']'
    return str(v)
def filt(conn, msg):
    if isinstance(msg, dbus.lowlevel.SignalMessage):
        out.write('SIG %s %s %s %s %s\n' % (msg.get_sender(), msg.get_destination(), msg.get_interface(),
                                            msg.get_member(), show(msg.get_args_list())))
bus.add_message_filter(filt)
for rule in ("type='signal',interface='org.endpointd.Integrity1'",
             "type='signal',interface='org.freedesktop.DBus.Properties'"):
    bus.add_match_string(rule)
def cmd(what):
    try:
        obj.get_dbus_method(what.capitalize(), 'org.endpointd.Integrity1')(timeout=30)
        out.write('CMD %s OK\n' % what)
    except dbus.exceptions.DBusException as e:
        out.write('CMD %s ERR %s\n' % (what, e.get_dbus_name()))
out.write('NAME %s\n' % bus.get_unique_name())
if len(sys.argv) > 2:
    cmd(sys.argv[2])
out.write('READY\n')
# Ends with its test too: when the test's directory is gone (a failed run).
while not os.path.exists(out_path + '.stop') and os.path.isdir(os.path.dirname(out_path)):
    while glib.g_main_context_iteration(None, 0):
        pass
    if os.path.exists(out_path + '.cmd'):
        c = open(out_path + '.cmd').read().strip()
        os.unlink(out_path + '.cmd')
        cmd(c)
    time.sleep(0.02)
PYEOF
# multisub.py N HOLD READY: N connections, each calls Subscribe (the first
# twice); prints one result per call; touches READY and holds them HOLD s.
cat >"$W/multisub.py" <<'PYEOF'
import dbus, os, sys, time
n, hold, ready = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
conns, res = [], []
def sub(c):
    o = c.get_object('org.endpointd.Endpoint1', '/org/endpointd/Endpoint1', introspect=False)
    try:
        o.Subscribe(dbus_interface='org.endpointd.Integrity1')
        return 'OK'
    except dbus.exceptions.DBusException as e:
        return e.get_dbus_name()
for i in range(n):
    c = dbus.bus.BusConnection(os.environ['DBUS_SYSTEM_BUS_ADDRESS'])
    conns.append(c)
    res.append(sub(c))
    if i == 0:
        res.append('again:' + sub(c))
print(' '.join(res), flush=True)
open(ready, 'w').write('x')
time.sleep(hold)
PYEOF
chmod 0644 "$W/listen.py" "$W/multisub.py"
LISTENERS=()
# listen NAME UID [subscribe]: starts a listener, waits until it is ready.
listen() {
        local f=$W/$1.out
        : >"$f"; chmod 0666 "$f"
        ep_as "$2" "$EP_PY" "$W/listen.py" "$f" ${3:-} &
        LISTENERS+=($!)
        eval "PID_$1=$!"
        for _ in $(seq 100); do grep -q READY "$f" && return 0; sleep 0.1; done
        ep_fail "listener $1 did not start: $(cat "$f")"
}
# lcmd NAME CMD: runs CMD in listener NAME, prints its result line.
lcmd() {
        local f=$W/$1.out n
        n=$(grep -c '^CMD' "$f")
        echo "$2" >"$f.cmd"; chmod 0666 "$f.cmd"
        # Up to 30 s: seen taking over 10 s once with the whole suite running.
        for _ in $(seq 300); do [ "$(grep -c '^CMD' "$f")" -gt "$n" ] && break; sleep 0.1; done
        grep '^CMD' "$f" | tail -n 1
}
finished() { grep -c "^SIG .* org.endpointd.Integrity1 ScanFinished" "$W/$1.out"; }
integrity_sigs() { grep -c "^SIG .* org.endpointd.Integrity1 " "$W/$1.out"; }
# scan: a full scan by root, waits until listener ctl has seen its end.
scan() {
        local n
        n=$(finished ctl)
        ep_ctl --no-progress scan >/dev/null 2>&1
        for _ in $(seq 100); do [ "$(finished ctl)" -gt "$n" ] && return 0; sleep 0.1; done
        ep_fail "the subscribed listener saw no ScanFinished"
}
stop_listeners() {
        local f
        for f in "$W"/*.out; do touch "$f.stop"; done
        wait "${LISTENERS[@]}" 2>/dev/null
        LISTENERS=()
        rm -f "$W"/*.stop
}
multisub() { ep_as "$1" "$EP_PY" "$W/multisub.py" "$2" "$3" "$W/ready.$1"; }

ep_attack "per-uid limit: a ninth subscription of one uid, a second Subscribe on one connection, slots freed on disconnect"
out=$(multisub 3 9 0) || ep_fail "multisub"
ep_assert_eq "$out" "OK again:OK OK OK OK OK OK OK OK org.freedesktop.DBus.Error.LimitsExceeded" "uid 3: 8 subscriptions, the ninth LimitsExceeded"
sleep 1
out=$(multisub 3 8 0) || ep_fail "multisub"
ep_assert_eq "$out" "OK again:OK OK OK OK OK OK OK OK" "uid 3's slots came back when its connections left"
indep_alive "per-uid limit"

ep_attack "total limit: 32 subscriptions of four uids, a fifth uid gets Busy"
rm -f "$W"/ready.*
hold=()
for u in 1 2 3 4; do multisub $u 8 10 >"$W/hold.$u" & hold+=($!); done
for u in 1 2 3 4; do for _ in $(seq 100); do [ -e "$W/ready.$u" ] && break; sleep 0.1; done; done
for u in 1 2 3 4; do ep_assert_eq "$(cat "$W/hold.$u")" "OK again:OK OK OK OK OK OK OK OK" "uid $u holds 8"; done
out=$(multisub 5 1 0)
ep_assert_eq "$out" "org.endpointd.Error.Busy again:org.endpointd.Error.Busy" "uid 5 gets Busy with 32 in all"
indep_alive "total limit"
wait "${hold[@]}"
sleep 1
out=$(multisub 5 1 0)
ep_assert_eq "$out" "OK again:OK" "uid 5 subscribes once the others left"

ep_attack "1000 Subscribe calls on one connection: RateLimited or a no-op, one slot only"
cat >"$W/flood.py" <<'PYEOF'
import dbus, os, collections
c = dbus.bus.BusConnection(os.environ['DBUS_SYSTEM_BUS_ADDRESS'])
o = c.get_object('org.endpointd.Endpoint1', '/org/endpointd/Endpoint1', introspect=False)
r = collections.Counter()
for i in range(1000):
    try:
        o.Subscribe(dbus_interface='org.endpointd.Integrity1'); r['OK'] += 1
    except dbus.exceptions.DBusException as e:
        r[e.get_dbus_name()] += 1
import time; time.sleep(3)
others = []
for i in range(7):
    c2 = dbus.bus.BusConnection(os.environ['DBUS_SYSTEM_BUS_ADDRESS'])
    others.append(c2)
    try:
        c2.get_object('org.endpointd.Endpoint1', '/org/endpointd/Endpoint1', introspect=False).Subscribe(dbus_interface='org.endpointd.Integrity1')
        r['other-OK'] += 1
    except dbus.exceptions.DBusException as e:
        r['other-' + e.get_dbus_name()] += 1
print(' '.join('%s=%d' % kv for kv in sorted(r.items())))
PYEOF
chmod 0644 "$W/flood.py"
out=$(ep_as 4 "$EP_PY" "$W/flood.py")
ep_log "uid 4: $out"
case $out in
*other-OK=7*) ;;
*) ep_fail "after 1000 Subscribe calls on one connection, uid 4 could not subscribe 7 more: $out" ;;
esac
for k in $out; do
        case $k in OK=*|org.endpointd.Error.RateLimited=*|other-OK=*) ;; *) ep_fail "unexpected result of the flood: $k" ;; esac
done
ep_ok "1000 Subscribe calls took one slot: $out"
indep_alive "Subscribe flood"

ep_attack "Subscribe/Unsubscribe without integrity.read: AccessDenied; a stranger's match rules see no detail signals"
listen ctl 1 subscribe
listen stranger 65534 subscribe
listen status6 6 subscribe
ep_assert_eq "$(grep ^CMD "$W/stranger.out")" "CMD subscribe ERR org.freedesktop.DBus.Error.AccessDenied" "uid 65534 Subscribe"
ep_assert_eq "$(grep ^CMD "$W/status6.out")" "CMD subscribe ERR org.freedesktop.DBus.Error.AccessDenied" "status-only uid Subscribe"
ep_assert_eq "$(lcmd stranger unsubscribe)" "CMD unsubscribe ERR org.freedesktop.DBus.Error.AccessDenied" "uid 65534 Unsubscribe"
ep_assert_eq "$(grep ^CMD "$W/ctl.out")" "CMD subscribe OK" "uid 1 subscribes"

ep_attack "Unsubscribe by other connections does not end someone else's subscription"
listen victim 2 subscribe
listen quitter 2 subscribe
listen other4 4
ep_assert_eq "$(lcmd quitter unsubscribe)" "CMD unsubscribe OK" "uid 2's second connection unsubscribes itself"
ep_assert_eq "$(lcmd quitter unsubscribe)" "CMD unsubscribe OK" "again: a no-op"
ep_assert_eq "$(lcmd other4 unsubscribe)" "CMD unsubscribe OK" "uid 4 without a subscription: a no-op"

# grants: uid 7 (to be revoked) and uid 8 (to lapse) get the reader role.
utc() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
now=$(date -u +%s)
printf '[Grant]\nId=sub-7\nDevice=%s\nSubject=uid:7\nRoles=reader\nNotBefore=%s\nNotAfter=2099-01-01T00:00:00Z\n' "$DEV" "$(utc $((now - 60)))" >"$W/g7"
LAPSE=$((now + 25))
printf '[Grant]\nId=sub-8\nDevice=%s\nSubject=uid:8\nRoles=reader\nNotBefore=%s\nNotAfter=%s\n' "$DEV" "$(utc $((now - 60)))" "$(utc $LAPSE)" >"$W/g8"
ep_sign_grant "$W/g7" "$W/g7.sig"
ep_sign_grant "$W/g8" "$W/g8.sig"
ep_ctl grant install "$W/g7" "$W/g7.sig" >/dev/null || ep_fail "grant g7"
ep_ctl grant install "$W/g8" "$W/g8.sig" >/dev/null || ep_fail "grant g8"
listen granted7 7 subscribe
listen granted8 8 subscribe
ep_assert_eq "$(grep ^CMD "$W/granted7.out")" "CMD subscribe OK" "uid 7 subscribes through its grant"
ep_assert_eq "$(grep ^CMD "$W/granted8.out")" "CMD subscribe OK" "uid 8 subscribes through its grant"
scan
sleep 1
for l in ctl victim granted7 granted8; do
        [ "$(finished $l)" -ge 1 ] || ep_fail "subscriber $l saw no ScanFinished"
        grep -q "Violation \[etc/pump.conf,modified" "$W/$l.out" || ep_fail "subscriber $l saw no Violation: $(cat "$W/$l.out")"
done
ep_ok "subscribers (also through grants, and the victim of others' Unsubscribe) got ScanFinished and Violation"
for l in stranger status6 quitter other4; do
        ep_assert_eq "$(integrity_sigs $l)" 0 "no Integrity1 signal reached $l"
done

ep_attack "permission lost by policy reload, grant revoked, grant lapsed: signals stop, Subscribe again is AccessDenied"
cp "$EP_TMP/policy.base" "$W/policy.new"
for u in 1 3 4 5; do printf '\n[Subject]\nUID=%s\nRoles=reader\n' $u >>"$W/policy.new"; done
cp "$W/policy.new" "$EP_POLICY"
ep_ctl policy reload >/dev/null || ep_fail "reload"
ep_ctl grant revoke sub-7 >/dev/null || ep_fail "revoke"
while [ "$(date -u +%s)" -le $((LAPSE + 1)) ]; do sleep 1; done
before_v=$(integrity_sigs victim); before_7=$(integrity_sigs granted7); before_8=$(integrity_sigs granted8)
scan
sleep 1
ep_assert_eq "$(integrity_sigs victim)" "$before_v" "uid 2, reloaded away: no new signal"
ep_assert_eq "$(integrity_sigs granted7)" "$before_7" "uid 7, grant revoked: no new signal"
ep_assert_eq "$(integrity_sigs granted8)" "$before_8" "uid 8, grant lapsed: no new signal"
[ "$(finished ctl)" -ge 2 ] || ep_fail "uid 1 lost its signals"
ep_assert_eq "$(lcmd victim subscribe)" "CMD subscribe ERR org.freedesktop.DBus.Error.AccessDenied" "uid 2 cannot subscribe again"
ep_assert_eq "$(lcmd granted7 subscribe)" "CMD subscribe ERR org.freedesktop.DBus.Error.AccessDenied" "uid 7 cannot subscribe again"
ep_assert_eq "$(lcmd granted8 subscribe)" "CMD subscribe ERR org.freedesktop.DBus.Error.AccessDenied" "uid 8 cannot subscribe again"
indep_alive "permission lost"

ep_attack "PropertiesChanged as a stranger sees it: property names, no values"
n=$(grep -c 'PropertiesChanged' "$W/stranger.out")
[ "$n" -ge 1 ] || ep_fail "the stranger saw no PropertiesChanged at all (the broadcast is documented)"
bad=$(grep 'PropertiesChanged' "$W/stranger.out" | grep -v 'PropertiesChanged \[org.endpointd.Endpoint1,{},\[' || true)
[ -z "$bad" ] || ep_fail "PropertiesChanged with values or of another interface: $bad"
grep 'PropertiesChanged' "$W/stranger.out" | grep -q IntegrityState || ep_fail "no PropertiesChanged names IntegrityState"
ep_ok "$n PropertiesChanged broadcasts, none with a value"
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 65534 "$EP_PY" "$EP_TMP/call.py" org.freedesktop.DBus.Properties Get ss '("org.endpointd.Endpoint1", "IntegrityState")'

ep_attack "a subscriber that never reads during scans with 3000 violations"
listen sleeper 3 subscribe
kill -STOP "$PID_sleeper"
for i in $(seq 3000); do : >"$EP_ROOT/bin/junk$i"; done
for round in 1 2 3; do
        scan
        t0=$(date +%s%N)
        ep_ctl status >/dev/null || ep_fail "status during a stalled subscriber"
        ms=$((($(date +%s%N) - t0) / 1000000))
        [ "$ms" -lt 3000 ] || ep_fail "status took $ms ms with a stalled subscriber"
        ep_ok "round $round: status in $ms ms"
done
n=$(grep -c 'Violation \[bin/junk' "$W/ctl.out")
[ "$n" -ge 9000 ] || ep_fail "uid 1 received only $n Violation signals"
ep_ok "the reading subscriber got $n Violation signals"
kill -CONT "$PID_sleeper"
rm -f "$EP_ROOT"/bin/junk*
indep_alive "stalled subscriber"
stop_listeners

ep_log "$EP_ATTACKS attacks"
ep_done
