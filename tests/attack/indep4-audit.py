# SPDX-License-Identifier: LGPL-2.1-or-later
# Offline tool of indep4-audit.sh, written from endpointd-audit(5) alone: lists
# the records of an audit/ directory and tampers with them.
#   list DIR                 file seq type kind offset length, one record a line
#   flip DIR SEQ             one bit of the last body byte of record SEQ
#   delete DIR SEQ           cuts record SEQ out of its file
#   swap DIR SEQ             swaps records SEQ and SEQ+1 (same file)
#   forge DIR SEQ            changes record SEQ and tags it with its epoch's
#                            seed (a key that is not the one for its place)
#   cut DIR SEQ              cuts the log after record SEQ (drops later files)
import glob, hashlib, hmac, os, struct, sys

MAGIC = 0x31435245


def files(d):
    return sorted(glob.glob(os.path.join(d, 'audit-*.log')))


def records(path):
    b = open(path, 'rb').read()
    off, out = 64, []
    while off + 40 <= len(b):
        magic, length = struct.unpack_from('<II', b, off)
        if magic != MAGIC or length < 76 or off + length > len(b):
            break
        typ, _flags, _r, seq = struct.unpack_from('<HHIQ', b, off + 8)
        kind = 'checkpoint'
        if typ == 1:
            klen = struct.unpack_from('<H', b, off + 40)[0]
            kind = b[off + 44:off + 44 + klen].decode()
        out.append(dict(path=path, off=off, len=length, type=typ, seq=seq, kind=kind))
        off += length
    return b, out


def all_records(d):
    return [r for f in files(d) for r in records(f)[1]]


def find(d, seq):
    for r in all_records(d):
        if r['seq'] == seq:
            return r
    sys.exit('no record %d' % seq)


def patch(path, data):
    with open(path, 'wb') as f:
        f.write(data)


cmd, d = sys.argv[1], sys.argv[2]
seq = int(sys.argv[3]) if len(sys.argv) > 3 else 0
if cmd == 'list':
    for r in all_records(d):
        print(os.path.basename(r['path']), r['seq'], r['type'], r['kind'], r['off'], r['len'])
elif cmd == 'flip':
    r = find(d, seq)
    b = bytearray(open(r['path'], 'rb').read())
    b[r['off'] + r['len'] - 33] ^= 0x01
    patch(r['path'], b)
elif cmd == 'delete':
    r = find(d, seq)
    b = open(r['path'], 'rb').read()
    patch(r['path'], b[:r['off']] + b[r['off'] + r['len']:])
elif cmd == 'swap':
    r, s = find(d, seq), find(d, seq + 1)
    assert r['path'] == s['path']
    b = open(r['path'], 'rb').read()
    a1 = b[r['off']:r['off'] + r['len']]
    a2 = b[s['off']:s['off'] + s['len']]
    patch(r['path'], b[:r['off']] + a2 + a1 + b[s['off'] + s['len']:])
elif cmd == 'cut':
    r = find(d, seq)
    b = open(r['path'], 'rb').read()
    patch(r['path'], b[:r['off'] + r['len']])
    for f in files(d):
        if f > r['path']:
            os.unlink(f)
elif cmd == 'forge':
    recs = all_records(d)
    i = [x['seq'] for x in recs].index(seq)
    cp = next(x for x in recs[i:] if x['type'] == 2)
    cb = open(cp['path'], 'rb').read()
    seed = cb[cp['off'] + 40 + 48:cp['off'] + 40 + 80]
    r = recs[i]
    if i > 0 and recs[i - 1]['path'] == r['path']:
        p = recs[i - 1]
        prev = open(p['path'], 'rb').read()[p['off'] + p['len'] - 32:p['off'] + p['len']]
    else:
        prev = open(r['path'], 'rb').read()[24:56]
    b = bytearray(open(r['path'], 'rb').read())
    end = r['off'] + r['len']
    b[end - 33] ^= 0x01
    b[end - 32:end] = hmac.new(seed, prev + bytes(b[r['off']:end - 32]), hashlib.sha256).digest()
    patch(r['path'], b)
else:
    sys.exit('unknown command ' + cmd)
