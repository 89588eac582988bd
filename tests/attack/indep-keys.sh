#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Written by an independent tester from the man pages and the D-Bus contract
# alone, without reading the implementation.
#
# Keys1 (endpointd-dbus(7), endpointctl(1)), attacked by uid 1 (holds only
# keys.use:k1), uid 2 (status.read keys.list), uid 65534 (nothing) and by
# someone with write access to the state directory:
#   1. key names with odd characters, too long, path-like: InvalidArgs, no file
#   2. odd options: PCR 24, 99, 2^32-1, wrong variant types, unknown keys,
#      duplicated PCRs: InvalidArgs and no file, or accepted once
#   3. Decrypt with the wrong AAD, a flipped byte anywhere, truncated,
#      extended, empty, another key's envelope: Tampered/Malformed, no plaintext
#   4. size limits: plaintext, AAD, Sign data, secrets one byte over the limit
#      (TooLarge), and exactly at the limit (works)
#   5. unseal/use/sign without permission, and Unseal of a non-exportable
#      data key even by the admin: AccessDenied, nothing returned
#   6. Attest with a 33-byte or empty nonce, PCR 24; Attest/Sign by nobody
#   7. state-directory writer flips bytes in / truncates key files (cache
#      off): Tampered, never garbage, daemon alive
#   8. Seal with exportable=false, Seal/CreateKey over an existing name:
#      InvalidArgs / Exists, and the existing secret is unchanged
#   9. existence oracle: nobody asks about a key that does not exist and
#      gets AccessDenied, not NotFound
#  10. with the key cache on: a deleted key is not used from the cache, and
#      an envelope of a deleted key does not decrypt under a new key of the
#      same name; a sealed secret is not usable as a data key
#  11. the measurement PCR changes under a secret and a data key sealed to
#      it (a manifest install extends PCR 14): PcrMismatch, never the secret
. "$top_srcdir/tests/attack/lib.sh"
. "$top_srcdir/tests/attack/indep-lib.sh"

ep_setup
ep_pki_init
ep_config TPM KeyCacheTimeout 0
cat >>"$EP_POLICY" <<'POL'

[Role]
Name=k1user
Permissions=keys.use:k1 status.read

[Subject]
UID=1
Roles=k1user

[Role]
Name=lister
Permissions=status.read keys.list

[Subject]
UID=2
Roles=lister
POL
ep_start
indep_write_helper
K=org.endpointd.Keys1
KEYS=$EP_STATE/keys

indep_expect_ok call $K CreateKey 'sa{sv}' '("k1", {})'
indep_expect_ok call $K CreateKey 'sa{sv}' '("k2", {})'
indep_expect_ok call $K CreateKey 'sa{sv}' '("kx", {"exportable": dbus.Boolean(True)})'
indep_expect_ok call $K Seal 'saya{sv}' '("s1", ay(b"the infusion secret"), {})'
keyfiles() { (cd "$KEYS" && ls -A | sort | tr '\n' ' '); }
BASE=$(keyfiles)
ep_assert_eq "$BASE" "k1.key k2.key kx.key s1.key " "key files after setup"

ep_attack "odd key names: empty, dot, .., slash, traversal, 65 bytes, shell and non-ASCII characters, newline"
long65=$(printf 'a%.0s' $(seq 65))
for n in '' '.' '..' '.hidden' 'a/b' '../k1' '..\/x' "$long65" 'k$1' 'a b' 'caf\u00e9' 'a\nb' 'k1\t' 'k*'; do
        ep_expect_error org.freedesktop.DBus.Error.InvalidArgs call $K CreateKey 'sa{sv}' "(\"$n\", {})"
        ep_expect_error org.freedesktop.DBus.Error.InvalidArgs call $K Seal 'saya{sv}' "(\"$n\", ay(b\"x\"), {})"
done
ep_expect_error org.freedesktop.DBus.Error.InvalidArgs call $K Unseal s '("../keys/s1",)'
ep_expect_error org.freedesktop.DBus.Error.InvalidArgs call $K DeleteKey s '("../keys/k1",)'
ep_assert_eq "$(keyfiles)" "$BASE" "no file made or removed by odd names"
long64=$(printf 'a%.0s' $(seq 64))
indep_expect_ok call $K CreateKey 'sa{sv}' "(\"$long64\", {})"
[ -f "$KEYS/$long64.key" ] || ep_fail "a 64-byte name is documented as valid"
indep_expect_ok call $K DeleteKey s "(\"$long64\",)"
indep_alive "odd key names"

ep_attack "odd CreateKey/Seal options: PCR 24, 99, 2^32-1, wrong variant types, unknown option, duplicate PCRs"
for p in '[24]' '[99]' '[4294967295]' '[7, 24]'; do
        ep_expect_error org.freedesktop.DBus.Error.InvalidArgs call $K CreateKey 'sa{sv}' "(\"p1\", {\"pcrs\": au($p)})"
        ep_expect_error org.freedesktop.DBus.Error.InvalidArgs call $K Seal 'saya{sv}' "(\"p1\", ay(b\"x\"), {\"pcrs\": au($p)})"
done
ep_expect_error org.freedesktop.DBus.Error.InvalidArgs call $K CreateKey 'sa{sv}' '("p1", {"pcrs": dbus.String("7")})'
ep_expect_error org.freedesktop.DBus.Error.InvalidArgs call $K CreateKey 'sa{sv}' '("p1", {"pcrs": dbus.Array([7], signature="i")})'
ep_expect_error org.freedesktop.DBus.Error.InvalidArgs call $K CreateKey 'sa{sv}' '("p1", {"exportable": dbus.String("yes")})'
ep_expect_error org.freedesktop.DBus.Error.InvalidArgs call $K CreateKey 'sa{sv}' '("p1", {"exportable": dbus.UInt32(1)})'
ep_expect_error org.freedesktop.DBus.Error.InvalidArgs call $K CreateKey 'sa{sv}' '("p1", {"Exportable": dbus.Boolean(True)})'
ep_expect_error org.freedesktop.DBus.Error.InvalidArgs call $K CreateKey 'sa{sv}' '("p1", {"policy": dbus.String("none")})'
ep_assert_eq "$(keyfiles)" "$BASE" "no file made by refused options"
# Duplicated PCRs are the same selection: accepted once, listed once.
indep_expect_ok call $K CreateKey 'sa{sv}' '("p1", {"pcrs": au([7, 7, 7])})'
indep_expect_ok call $K ListKeys '' ''
case $INDEP_OUT in
*"(p1, {"*"pcrs: (7)"*) ep_ok "duplicated PCR 7 listed once" ;;
*) ep_fail "ListKeys after pcrs [7,7,7]: $INDEP_OUT" ;;
esac
indep_expect_ok call $K Encrypt sayay '("p1", ay(b"x"), ay(b""))'
indep_expect_ok call $K DeleteKey s '("p1",)'
indep_alive "odd options"

ep_attack "Decrypt with the wrong AAD, every part of the envelope changed, truncated, extended, another key's envelope"
cat >"$EP_TMP/tamper.py" <<'PYEOF'
import dbus, sys
bus = dbus.SystemBus()
k = dbus.Interface(bus.get_object('org.endpointd.Endpoint1', '/org/endpointd/Endpoint1', introspect=False), 'org.endpointd.Keys1')
pt = b'dose=4.2ml/h patient=1234'
ct = bytes(k.Encrypt('k1', dbus.ByteArray(pt), dbus.ByteArray(b'bed-7'), byte_arrays=True))
assert len(ct) == len(pt) + 48, 'envelope is not 48 bytes longer: %d' % len(ct)
assert ct[:3] == b'EPE' and ct[3] == 1, 'envelope header: %r' % ct[:4]
assert pt not in ct, 'plaintext visible in the envelope'
bad = 0
def dec(what, c, aad=b'bed-7', key='k1', want=('org.endpointd.Error.Tampered',)):
    global bad
    try:
        r = bytes(k.Decrypt(key, dbus.ByteArray(c), dbus.ByteArray(aad), byte_arrays=True))
        print('FAIL %s: decrypted to %r' % (what, r)); bad += 1
    except dbus.exceptions.DBusException as e:
        if e.get_dbus_name() not in want:
            print('FAIL %s: %s %s' % (what, e.get_dbus_name(), e.get_dbus_message())); bad += 1
        else:
            print('ok %s: %s' % (what, e.get_dbus_name()))
r = bytes(k.Decrypt('k1', dbus.ByteArray(ct), dbus.ByteArray(b'bed-7'), byte_arrays=True))
assert r == pt, 'round trip: %r' % r
dec('other aad', ct, b'bed-8')
dec('empty aad', ct, b'')
dec('aad with a NUL appended', ct, b'bed-7\0')
for off in range(len(ct)):
    c = bytearray(ct); c[off] ^= 0x80
    want = ('org.endpointd.Error.Malformed',) if off < 4 else ('org.endpointd.Error.Tampered',)
    dec('byte %d flipped' % off, bytes(c), want=want)
dec('last byte cut', ct[:-1])
dec('tag cut', ct[:-16] if len(ct) - 16 >= 48 else ct[:48])
dec('one byte appended', ct + b'\0')
dec('47 bytes', ct[:47], want=('org.endpointd.Error.Malformed',))
dec('empty', b'', want=('org.endpointd.Error.Malformed',))
dec('envelope of k1 given to k2', ct, key='k2')
c = bytearray(ct); c[3] = 2; dec('version 2', bytes(c), want=('org.endpointd.Error.Malformed',))
c = bytearray(ct); c[0:3] = b'XYZ'; dec('other magic', bytes(c), want=('org.endpointd.Error.Malformed',))
sys.exit(1 if bad else 0)
PYEOF
"$EP_PY" "$EP_TMP/tamper.py" >"$EP_TMP/tamper.out" 2>&1 || { cat "$EP_TMP/tamper.out" >&2; ep_fail "a tampered envelope was not refused as documented"; }
ep_ok "$(grep -c '^ok ' "$EP_TMP/tamper.out") tampered envelopes refused with Tampered/Malformed"
indep_alive "tampered envelopes"

ep_attack "size limits one byte over: plaintext 1 MiB+1, AAD 64 KiB+1, Sign 1 MiB+1, secret 129 and 0 bytes; at the limit it works"
ep_expect_error org.endpointd.Error.TooLarge call $K Encrypt sayay '("k1", ay(b"x" * 1048577), ay(b""))'
ep_expect_error org.endpointd.Error.TooLarge call $K Encrypt sayay '("k1", ay(b"x"), ay(b"a" * 65537))'
ep_expect_error org.endpointd.Error.TooLarge call $K Decrypt sayay '("k1", ay(b"EPE\x01" + b"x" * (1048576 + 45)), ay(b""))'
ep_expect_error org.endpointd.Error.TooLarge call $K Decrypt sayay '("k1", ay(b"EPE\x01" + b"x" * 60), ay(b"a" * 65537))'
ep_expect_error org.endpointd.Error.TooLarge call $K Sign ay '(ay(b"x" * 1048577),)'
ep_expect_error org.endpointd.Error.TooLarge call $K Seal 'saya{sv}' '("s9", ay(b"x" * 129), {})'
ep_expect_error org.freedesktop.DBus.Error.InvalidArgs call $K Seal 'saya{sv}' '("s9", ay(b""), {})'
ep_assert_eq "$(keyfiles)" "$BASE" "no file made by refused Seal"
indep_expect_ok call $K Encrypt sayay '("k1", ay(b"x" * 1048576), ay(b"a" * 65536))'
ep_assert_contains "$INDEP_OUT" "OK bytes[1048624]" "1 MiB plaintext gives a 1 MiB + 48 envelope"
indep_expect_ok call $K Sign ay '(ay(b"x" * 1048576),)'
indep_expect_ok call $K Seal 'saya{sv}' '("s9", ay(b"y" * 128), {})'
indep_expect_ok call $K DeleteKey s '("s9",)'
indep_alive "size limits"

ep_attack "use, unseal and sign without permission; Unseal of a non-exportable data key by the admin"
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 1 "$EP_PY" "$EP_TMP/call.py" $K Encrypt sayay '("k2", ay(b"x"), ay(b""))'
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 1 "$EP_PY" "$EP_TMP/call.py" $K Unseal s '("k1",)'
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 1 "$EP_PY" "$EP_TMP/call.py" $K Unseal s '("s1",)'
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 1 "$EP_PY" "$EP_TMP/call.py" $K Sign ay '(ay(b"x"),)'
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 1 "$EP_PY" "$EP_TMP/call.py" $K DeleteKey s '("k1",)'
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 1 "$EP_PY" "$EP_TMP/call.py" $K CreateKey 'sa{sv}' '("k3", {})'
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 2 "$EP_PY" "$EP_TMP/call.py" $K Unseal s '("kx",)'
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 2 "$EP_PY" "$EP_TMP/call.py" $K Decrypt sayay '("k1", ay(b"EPE\x01" + bytes(60)), ay(b""))'
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $K Unseal s '("s1",)'
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $K ListKeys '' ''
ep_expect_exit 4 ep_as 65534 "$EP_BUILD/endpointctl" unseal s1
ep_expect_exit 4 ep_as 1 "$EP_BUILD/endpointctl" unseal k1
# The admin may not take a non-exportable data key out either.
ep_expect_error org.freedesktop.DBus.Error.AccessDenied call $K Unseal s '("k1",)'
# uid 1 may use k1, which shows the denials above are about the permission.
indep_expect_ok ep_as 1 "$EP_PY" "$EP_TMP/call.py" $K Encrypt sayay '("k1", ay(b"x"), ay(b""))'
indep_expect_ok ep_as 2 "$EP_PY" "$EP_TMP/call.py" $K ListKeys '' ''
ep_assert_eq "$(keyfiles)" "$BASE" "no key made or deleted by refused callers"

ep_attack "Attest with a 33-byte or empty nonce, PCR 24 or 2^32-1; Attest and Sign by callers without permission"
ep_expect_error org.freedesktop.DBus.Error.InvalidArgs call $K Attest ayau '(ay(b"n" * 33), au([7]))'
ep_expect_error org.freedesktop.DBus.Error.InvalidArgs call $K Attest ayau '(ay(b"n" * 100000), au([7]))'
ep_expect_error org.freedesktop.DBus.Error.InvalidArgs call $K Attest ayau '(ay(b""), au([7]))'
ep_expect_error org.freedesktop.DBus.Error.InvalidArgs call $K Attest ayau '(ay(b"n"), au([24]))'
ep_expect_error org.freedesktop.DBus.Error.InvalidArgs call $K Attest ayau '(ay(b"n"), au([0, 4294967295]))'
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $K Attest ayau '(ay(b"n"), au([7]))'
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 2 "$EP_PY" "$EP_TMP/call.py" $K Sign ay '(ay(b"x"),)'
# 32 bytes and all 24 PCRs work; pcr_values is 32 bytes per PCR.
indep_expect_ok call $K Attest ayau '(ay(b"n" * 32), au(list(range(24))))'
ep_assert_contains "$INDEP_OUT" "bytes[768]" "24 PCR values of 32 bytes"
indep_alive "Attest"

ep_attack "state-directory writer flips a byte in, truncates or empties key files (KeyCacheTimeout=0): Tampered, never garbage"
cp -a "$KEYS" "$EP_TMP/keys.orig"
size=$(stat -c %s "$KEYS/kx.key")
for off in 0 8 $((size / 2)) $((size - 1)); do
        cp "$EP_TMP/keys.orig/kx.key" "$KEYS/kx.key"
        ep_flip_byte "$KEYS/kx.key" "$off"
        out=$(call $K Unseal s '("kx",)' 2>&1) && ep_fail "Unseal of a key file with byte $off flipped succeeded: $out"
        case $out in
        *org.endpointd.Error.Tampered*) ep_ok "byte $off flipped: Tampered" ;;
        *) ep_fail "byte $off of kx.key flipped: expected Tampered, got: $out" ;;
        esac
done
cp "$EP_TMP/keys.orig/kx.key" "$KEYS/kx.key"
head -c 100 "$EP_TMP/keys.orig/s1.key" >"$KEYS/s1.key"
ep_expect_error org.endpointd.Error.Tampered call $K Unseal s '("s1",)'
: >"$KEYS/k1.key"
ep_expect_error org.endpointd.Error.Tampered call $K Encrypt sayay '("k1", ay(b"x"), ay(b""))'
cp "$EP_TMP/keys.orig/s1.key" "$KEYS/s1.key"
cp "$EP_TMP/keys.orig/k1.key" "$KEYS/k1.key"
indep_expect_ok call $K Unseal s '("s1",)'
ep_assert_eq "$INDEP_OUT" "OK bytes[19]:$(printf 'the infusion secret' | od -An -tx1 | tr -d ' \n')" "restored secret unseals"
indep_alive "tampered key files"

ep_attack "Seal with exportable=false, Seal and CreateKey over an existing name: refused and the secret unchanged"
ep_expect_error org.freedesktop.DBus.Error.InvalidArgs call $K Seal 'saya{sv}' '("s2", ay(b"x"), {"exportable": dbus.Boolean(False)})'
ep_expect_error org.endpointd.Error.Exists call $K Seal 'saya{sv}' '("s1", ay(b"overwritten"), {})'
ep_expect_error org.endpointd.Error.Exists call $K CreateKey 'sa{sv}' '("s1", {})'
ep_expect_error org.endpointd.Error.Exists call $K Seal 'saya{sv}' '("k1", ay(b"overwritten"), {})'
cmp -s "$KEYS/s1.key" "$EP_TMP/keys.orig/s1.key" || ep_fail "s1.key changed by a refused call"
cmp -s "$KEYS/k1.key" "$EP_TMP/keys.orig/k1.key" || ep_fail "k1.key changed by a refused call"
ep_ok "existing key files unchanged"
indep_expect_ok call $K Unseal s '("s1",)'
ep_assert_contains "$INDEP_OUT" "$(printf 'the infusion secret' | od -An -tx1 | tr -d ' \n')" "s1 still holds the original secret"

ep_attack "existence oracle: callers without permission learn nothing about which keys exist"
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $K Encrypt sayay '("nosuchkey", ay(b"x"), ay(b""))'
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $K Unseal s '("nosuchkey",)'
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 1 "$EP_PY" "$EP_TMP/call.py" $K Unseal s '("nosuchkey",)'
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $K DeleteKey s '("nosuchkey",)'
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $K CreateKey 'sa{sv}' '("k1", {})'
indep_alive "existence oracle"

ep_attack "key cache on: a deleted key is not used from the cache, its envelopes do not open under a new key of that name"
ep_config TPM KeyCacheTimeout 5min
ep_restart
cat >"$EP_TMP/cache.py" <<'PYEOF'
import dbus, sys
bus = dbus.SystemBus()
k = dbus.Interface(bus.get_object('org.endpointd.Endpoint1', '/org/endpointd/Endpoint1', introspect=False), 'org.endpointd.Keys1')
bad = 0
def expect(what, want, f):
    global bad
    try:
        r = f()
        print('FAIL %s: %r' % (what, r)); bad += 1
    except dbus.exceptions.DBusException as e:
        if e.get_dbus_name() == want:
            print('ok %s: %s' % (what, want))
        else:
            print('FAIL %s: %s %s' % (what, e.get_dbus_name(), e.get_dbus_message())); bad += 1
E = lambda name: bytes(k.Encrypt(name, dbus.ByteArray(b'abc'), dbus.ByteArray(b''), byte_arrays=True))
D = lambda name, ct: bytes(k.Decrypt(name, dbus.ByteArray(ct), dbus.ByteArray(b''), byte_arrays=True))
k.CreateKey('c7', dbus.Dictionary({}, signature='sv'))
ct = E('c7')
assert D('c7', ct) == b'abc'
k.DeleteKey('c7')
expect('Encrypt with a deleted, cached key', 'org.endpointd.Error.NotFound', lambda: E('c7'))
expect('Decrypt with a deleted, cached key', 'org.endpointd.Error.NotFound', lambda: D('c7', ct))
k.CreateKey('c7', dbus.Dictionary({}, signature='sv'))
expect('old envelope under a new key of the same name', 'org.endpointd.Error.Tampered', lambda: D('c7', ct))
expect('Encrypt with a sealed secret', 'org.freedesktop.DBus.Error.InvalidArgs', lambda: E('s1'))
expect('Decrypt with a sealed secret', 'org.freedesktop.DBus.Error.InvalidArgs', lambda: D('s1', ct))
sys.exit(1 if bad else 0)
PYEOF
"$EP_PY" "$EP_TMP/cache.py" >"$EP_TMP/cache.out" 2>&1 || { cat "$EP_TMP/cache.out" >&2; ep_fail "a deleted or replaced key was used"; }
ep_ok "$(grep -c '^ok' "$EP_TMP/cache.out") cache attacks refused"

ep_attack "the measurement PCR changes under a secret and a data key sealed to it"
indep_expect_ok call $K Seal 'saya{sv}' '("p14", ay(b"pcr14 secret"), {"pcrs": au([14])})'
indep_expect_ok call $K CreateKey 'sa{sv}' '("d14", {"pcrs": au([14]), "exportable": dbus.Boolean(True)})'
indep_expect_ok call $K Unseal s '("p14",)'
echo "x" >"$EP_ROOT/f"
ep_ctl manifest create "$EP_ROOT" --serial 5 --output "$EP_TMP/m5" >/dev/null || ep_fail "manifest create"
ep_sign "$EP_TMP/m5" "$EP_TMP/m5.sig"
ep_ctl manifest install "$EP_TMP/m5" "$EP_TMP/m5.sig" >/dev/null || ep_fail "manifest install (extends PCR 14)"
ep_expect_error org.endpointd.Error.PcrMismatch call $K Unseal s '("p14",)'
ep_expect_error org.endpointd.Error.PcrMismatch call $K Unseal s '("d14",)'
ep_expect_error org.endpointd.Error.PcrMismatch call $K Encrypt sayay '("d14", ay(b"x"), ay(b""))'
indep_alive "end"

ep_log "$EP_ATTACKS attacks"
ep_done
