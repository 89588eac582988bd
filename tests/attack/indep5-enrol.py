# SPDX-License-Identifier: LGPL-2.1-or-later
# Helper of indep5-enrol.sh, written from endpointd-dbus(7) alone: takes a
# good credential file (tpm2_makecredential -G ecc) and sends
# Keys1.ActivateCredential one variant after another, cut at every field
# boundary of the documented layout, with sizes at 0/1/max/max+1 and
# huge, and altered bytes. Prints one line per variant:
#   ok   NAME LEN GOT
#   BAD  NAME LEN GOT (expected EXPECTED)
# and exits 1 if any line is BAD.
#
#   indep5-enrol.py boundaries GOOD-CREDENTIAL
#   indep5-enrol.py activate FILE          # prints the secret as hex or ERR NAME
#   indep5-enrol.py coordinates FILE       # sizes of the point's x and y
#   indep5-enrol.py normalise FILE         # writes it with 32-byte coordinates
import struct
import sys

import dbus

MALFORMED = 'org.endpointd.Error.Malformed'
TOOLARGE = 'org.endpointd.Error.TooLarge'
WRONG = 'org.endpointd.Error.WrongDevice'


def keys():
    bus = dbus.SystemBus()
    obj = bus.get_object('org.endpointd.Endpoint1', '/org/endpointd/Endpoint1', introspect=False)
    return dbus.Interface(obj, 'org.endpointd.Keys1')


def activate(k, data):
    try:
        r = k.ActivateCredential(dbus.ByteArray(data), signature='ay', byte_arrays=True, timeout=60)
        return 'OK', bytes(r)
    except dbus.exceptions.DBusException as e:
        return e.get_dbus_name(), e.get_dbus_message()


def variants(good):
    hdr = good[:8]
    n = struct.unpack('>H', good[8:10])[0]
    idobj = good[10:10 + n]
    rest = good[10 + n:]
    m = struct.unpack('>H', rest[:2])[0]
    es = rest[2:2 + m]
    assert good == hdr + struct.pack('>H', n) + idobj + struct.pack('>H', m) + es, 'unexpected layout'
    H = lambda v: struct.pack('>H', v)  # noqa: E731

    def build(ids=None, idb=idobj, ess=None, esb=es, tail=b''):
        return (hdr + H(len(idb) if ids is None else ids) + idb +
                H(len(esb) if ess is None else ess) + esb + tail)

    flip = lambda b, i: b[:i] + bytes([b[i] ^ 0x01]) + b[i + 1:]  # noqa: E731
    v = [
        # (name, bytes, expected error name)
        ('empty', b'', MALFORMED),
        ('1 byte', good[:1], MALFORMED),
        ('magic only', good[:4], MALFORMED),
        ('magic+version', good[:8], MALFORMED),
        ('magic+version+1', good[:9], MALFORMED),
        ('id size only', good[:10], MALFORMED),
        ('cut inside the HMAC', good[:20], MALFORMED),
        ('cut after the id object', good[:10 + n], MALFORMED),
        ('cut after the secret size', good[:12 + n], MALFORMED),
        ('cut inside the point', good[:-1], MALFORMED),
        ('wrong magic', b'\xba\xdc\xc0\xdf' + good[4:], MALFORMED),
        ('magic little endian', b'\xde\xc0\xdc\xba' + good[4:], MALFORMED),
        ('version 0', good[:4] + b'\0\0\0\0' + good[8:], MALFORMED),
        ('version 2', good[:4] + b'\0\0\0\2' + good[8:], MALFORMED),
        ('version 0x01000000', good[:4] + b'\1\0\0\0' + good[8:], MALFORMED),
        ('one byte after the end', good + b'\0', MALFORMED),
        ('a second credential after the end', good + good, MALFORMED),
        ('id size 0', build(ids=0, idb=b''), MALFORMED),
        ('id size 0, data left', build(ids=0), MALFORMED),
        ('id size 1', build(idb=idobj[:1]), MALFORMED),
        ('id size n+1', build(ids=n + 1), MALFORMED),
        ('id size n-1', build(ids=n - 1), MALFORMED),
        ('id size 0xffff', build(ids=0xffff), MALFORMED),
        ('HMAC size 0', build(idb=H(0) + idobj[2:]), MALFORMED),
        ('HMAC size 31', build(idb=H(31) + idobj[2:]), MALFORMED),
        ('HMAC size 33', build(idb=H(33) + idobj[2:]), MALFORMED),
        ('HMAC size 0xffff', build(idb=H(0xffff) + idobj[2:]), MALFORMED),
        ('HMAC but no encrypted credential', build(idb=idobj[:34]), MALFORMED),
        ('encrypted credential of 1 byte', build(idb=idobj[:35]), MALFORMED),
        ('encrypted credential of 600 bytes', build(idb=idobj[:34] + b'A' * 600), TOOLARGE),
        ('secret size 0', build(esb=b''), MALFORMED),
        ('secret size 0, point follows', build(ess=0), MALFORMED),
        ('secret size m+1', build(ess=m + 1), MALFORMED),
        ('secret size m-1', build(ess=m - 1), MALFORMED),
        ('secret size 0xffff', build(ess=0xffff), MALFORMED),
        ('no encrypted secret', hdr + H(n) + idobj, MALFORMED),
        ('point x size 0', build(esb=H(0) + es[2:]), MALFORMED),
        ('point x size 33', build(esb=H(33) + es[2:]), MALFORMED),
        ('point y size 0', build(esb=es[:34] + H(0) + es[36:]), MALFORMED),
        ('point y size 0xffff', build(esb=es[:34] + H(0xffff) + es[36:]), MALFORMED),
        ('point of 31+33 bytes', build(esb=H(31) + es[2:33] + H(33) + es[33:]), MALFORMED),
        ('point at infinity (0+0 bytes)', build(esb=H(0) + H(0)), MALFORMED),
        ('point of 48-byte coordinates (P-384)', build(esb=H(48) + b'\1' * 48 + H(48) + b'\2' * 48), MALFORMED),
        ('RSA-size encrypted secret (256 bytes)', build(esb=b'\x5a' * 256), MALFORMED),
        ('padded to 656 bytes', good.ljust(656, b'\0'), MALFORMED),
        ('657 bytes', good.ljust(657, b'\0'), TOOLARGE),
        ('64 KiB', good.ljust(64 << 10, b'\xff'), TOOLARGE),
        ('16 MiB', good.ljust(16 << 20, b'A'), TOOLARGE),
        # Shaped right, altered on its way: the TPM refuses them.
        ('HMAC byte flipped', build(idb=flip(idobj, 2)), WRONG),
        ('last HMAC byte flipped', build(idb=flip(idobj, 33)), WRONG),
        ('encrypted credential byte flipped', build(idb=flip(idobj, len(idobj) - 1)), WRONG),
        ('point x flipped (off the curve)', build(esb=flip(es, 5)), WRONG),
        ('point y flipped (off the curve)', build(esb=flip(es, 40)), WRONG),
        ('point (0,0)', build(esb=H(32) + b'\0' * 32 + H(32) + b'\0' * 32), WRONG),
        ('point with x = p (not reduced)',
         build(esb=H(32) + bytes.fromhex('ffffffff00000001000000000000000000000000ffffffffffffffffffffffff') + es[34:]),
         WRONG),
    ]
    return v


def normalise(data):
    """The same credential with both point coordinates written as 32 bytes
    (leading zeros put back), as endpointd-dbus(7) draws the layout."""
    n = struct.unpack('>H', data[8:10])[0]
    es = data[12 + n:]
    xs = struct.unpack('>H', es[:2])[0]
    x = es[2:2 + xs]
    ys = struct.unpack('>H', es[2 + xs:4 + xs])[0]
    y = es[4 + xs:4 + xs + ys]
    point = struct.pack('>H', 32) + x.rjust(32, b'\0') + struct.pack('>H', 32) + y.rjust(32, b'\0')
    return data[:10 + n] + struct.pack('>H', len(point)) + point


def main():
    if sys.argv[1] == 'normalise':
        sys.stdout.buffer.write(normalise(open(sys.argv[2], 'rb').read()))
        return 0
    if sys.argv[1] == 'coordinates':
        data = open(sys.argv[2], 'rb').read()
        n = struct.unpack('>H', data[8:10])[0]
        es = data[12 + n:]
        xs = struct.unpack('>H', es[:2])[0]
        print(xs, struct.unpack('>H', es[2 + xs:4 + xs])[0])
        return 0
    k = keys()
    if sys.argv[1] == 'activate':
        name, r = activate(k, open(sys.argv[2], 'rb').read())
        print(r.hex() if name == 'OK' else 'ERR %s %s' % (name, r))
        return 0 if name == 'OK' else 1
    good = open(sys.argv[2], 'rb').read()
    bad = 0
    for name, data, want in variants(good):
        got, msg = activate(k, data)
        if got == 'OK':
            msg = 'a secret of %d bytes' % len(msg)
        line = '%s (%d bytes): %s %s' % (name, len(data), got, msg)
        if got == want:
            print('ok  ', line)
        else:
            bad += 1
            print('BAD ', line, '(expected %s)' % want)
    # The good one still works after all of them.
    got, msg = activate(k, good)
    print('ok  ' if got == 'OK' else 'BAD ', 'the good credential afterwards:', got)
    return 1 if bad or got != 'OK' else 0


if __name__ == '__main__':
    sys.exit(main())
