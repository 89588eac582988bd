# SPDX-License-Identifier: LGPL-2.1-or-later
# Raw D-Bus clients for indep7-harden.sh: clients that misbehave in ways a
# library never does (never read, hang up at once, attach file descriptors
# no argument names, pipeline thousands of calls), spoken directly on the
# bus socket ($DBUS_SYSTEM_BUS_ADDRESS, unix:path=...), as the calling uid.
#
#   noread N K          N connections, K calls each, never read; "ready",
#                       then hold them until stdin closes
#   hangup N            N times: connect, call, close at once (every 20th
#                       call a Keys1.Sign, the rest a properties read)
#   status N [MS]       N properties reads in a row (MS apart); prints "ok COUNT
#                       max_ms median_ms" or the first error name
#   fds KIND            InstallManifest (hh) with descriptors of KIND;
#                       prints the reply ("ok" or the error name)
#   loop OP SECONDS PREFIX
#                       Seal / CreateKey PREFIX-1, PREFIX-2, ... (secret
#                       "secret of NAME"), Unseal PREFIX or Attest, again and
#                       again for SECONDS; one line per call, "NAME REPLY"
#   unsealall FILE      every secret a loop seal acknowledged in FILE
#                       unseals to what was sealed; prints the ones that
#                       do not, then "checked N"
#   tpmproxy PORT SWTPMPORT CONTROL
#                       a proxy in front of swtpm that cuts the connection
#                       after the command whose code (hex) is in the file
#                       CONTROL, once; until stdin closes
#   call IFACE MEMBER SIG PYEXPR
#                       one call with arguments built by the marshaller
#                       below ('v' values are (signature, value) pairs)
#   subs N IFACE        N connections that Subscribe on IFACE and never
#                       read their signals; prints the replies counted
#                       ("ok=8 org...LimitsExceeded=1"), then holds them
#                       until stdin closes
#   flood N IFACE MEMBER [SIG PYEXPR]
#                       N calls of MEMBER pipelined (100 at a time) on one
#                       connection, then all replies read; prints
#                       "NAME COUNT" for each reply kind
import os
import socket
import struct
import sys
import time

DEST = 'org.endpointd.Endpoint1'
PATH = '/org/endpointd/Endpoint1'


def pad(buf, n):
    while len(buf) % n:
        buf.append(0)


def sig_next(sig, i):
    """End index of the single complete type starting at sig[i]."""
    c = sig[i]
    if c == 'a':
        return sig_next(sig, i + 1)
    if c in '({':
        close = ')' if c == '(' else '}'
        j = i + 1
        while sig[j] != close:
            j = sig_next(sig, j)
        return j + 1
    return i + 1


ALIGN = {'y': 1, 'b': 4, 'n': 2, 'q': 2, 'i': 4, 'u': 4, 'h': 4, 'x': 8, 't': 8, 'd': 8,
         's': 4, 'o': 4, 'g': 1, 'v': 1, 'a': 4, '(': 8, '{': 8}


def marshal(buf, sig, val):
    c = sig[0]
    pad(buf, ALIGN[c])
    if c == 'y':
        buf.append(val)
    elif c in 'buh':
        buf += struct.pack('<I', int(val))
    elif c == 'i':
        buf += struct.pack('<i', val)
    elif c == 't':
        buf += struct.pack('<Q', val)
    elif c == 'x':
        buf += struct.pack('<q', val)
    elif c in 'so':
        b = val.encode() if isinstance(val, str) else val
        buf += struct.pack('<I', len(b)) + b + b'\0'
    elif c == 'g':
        b = val.encode()
        buf += bytes([len(b)]) + b + b'\0'
    elif c == 'v':
        vsig, vval = val
        marshal(buf, 'g', vsig)
        marshal(buf, vsig, vval)
    elif c == 'a':
        elem = sig[1:sig_next(sig, 1)]
        lenpos = len(buf)
        buf += b'\0\0\0\0'
        pad(buf, ALIGN[elem[0]])
        start = len(buf)
        if elem == 'y':
            buf += bytes(val)
        else:
            items = val.items() if isinstance(val, dict) else val
            for item in items:
                marshal(buf, elem, item)
        struct.pack_into('<I', buf, lenpos, len(buf) - start)
    elif c in '({':
        inner = sig[1:-1]
        i = 0
        for item in val:
            j = sig_next(inner, i)
            marshal(buf, inner[i:j], item)
            i = j
    else:
        raise ValueError('type ' + c)


def marshal_body(sig, args):
    buf = bytearray()
    i = 0
    for a in args:
        j = sig_next(sig, i)
        marshal(buf, sig[i:j], a)
        i = j
    return bytes(buf)


class Conn:
    def __init__(self, negotiate_fds=False):
        addr = os.environ['DBUS_SYSTEM_BUS_ADDRESS']
        path = addr.split('path=', 1)[1].split(',')[0]
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.serial = 0
        self.inbuf = b''
        self.auth_lines = 2 if negotiate_fds else 1
        uid = str(os.getuid()).encode().hex()
        auth = b'\0AUTH EXTERNAL ' + uid.encode() + b'\r\n'
        if negotiate_fds:
            auth += b'NEGOTIATE_UNIX_FD\r\n'
        self.sock.sendall(auth + b'BEGIN\r\n')
        self.send('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'Hello')

    def send(self, dest, path, iface, member, sig='', args=(), fds=()):
        self.serial += 1
        body = marshal_body(sig, args) if sig else b''
        fields = [(1, ('o', path)), (3, ('s', member)), (6, ('s', dest))]
        if iface:
            fields.append((2, ('s', iface)))
        if sig:
            fields.append((8, ('g', sig)))
        if fds:
            fields.append((9, ('u', len(fds))))
        hdr = bytearray(b'l\1\0\1')
        hdr += struct.pack('<II', len(body), self.serial)
        marshal(hdr, 'a(yv)', fields)
        pad(hdr, 8)
        msg = bytes(hdr) + body
        if fds:
            self.sock.sendmsg([msg], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack('%di' % len(fds), *fds))])
        else:
            self.sock.sendall(msg)
        return self.serial

    def call_ep(self, iface, member, sig='', args=(), fds=()):
        return self.send(DEST, PATH, iface, member, sig, args, fds)

    def _read(self, n):
        while len(self.inbuf) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError('the bus closed the connection')
            self.inbuf += chunk
        data, self.inbuf = self.inbuf[:n], self.inbuf[n:]
        return data

    def read_auth(self):
        # "OK <guid>" (and "AGREE_UNIX_FD") lines precede the messages.
        while self.auth_lines:
            line = b''
            while not line.endswith(b'\r\n'):
                line += self._read(1)
            if line.startswith(b'REJECTED') or line.startswith(b'ERROR'):
                raise EOFError('authentication failed: %r' % line)
            self.auth_lines -= 1

    def read_msg(self):
        self.read_auth()
        fixed = self._read(12)
        _, mtype, _, _, blen, _ = struct.unpack('<BBBBII', fixed)
        flen = struct.unpack('<I', self._read(4))[0]
        fields = self._read(flen)
        self._read((8 - (16 + flen) % 8) % 8)
        body = self._read(blen)
        reply_serial = None
        errname = None
        i = 0
        while i < len(fields):
            i = (i + 7) & ~7
            code = fields[i]
            slen = fields[i + 1]
            vsig = fields[i + 2:i + 2 + slen].decode()
            i += 3 + slen
            if vsig in ('u',):
                i = (i + 3) & ~3
                v = struct.unpack_from('<I', fields, i)[0]
                i += 4
            elif vsig in ('s', 'o'):
                i = (i + 3) & ~3
                n = struct.unpack_from('<I', fields, i)[0]
                v = fields[i + 4:i + 4 + n].decode()
                i += 5 + n
            elif vsig == 'g':
                n = fields[i]
                v = fields[i + 1:i + 1 + n].decode()
                i += 2 + n
            else:
                raise ValueError('header field type ' + vsig)
            if code == 5:
                reply_serial = v
            elif code == 4:
                errname = v
        return mtype, reply_serial, errname, body

    def wait_reply(self, serial):
        while True:
            mtype, rs, err, body = self.read_msg()
            if rs == serial and mtype in (2, 3):
                return 'ok' if mtype == 2 else err


def status_call(c):
    return c.call_ep('org.freedesktop.DBus.Properties', 'GetAll', 's', ['org.endpointd.Endpoint1'])


def cmd_noread(n, k):
    conns = []
    refused = 0
    for _ in range(n):
        try:
            c = Conn()
            for j in range(k):
                if j % 2:
                    c.call_ep('org.freedesktop.DBus.Introspectable', 'Introspect')
                else:
                    status_call(c)
            conns.append(c)
        except OSError:
            refused += 1
    print('ready %d %d' % (len(conns), refused), flush=True)
    sys.stdin.read()


def cmd_hangup(n):
    failed = 0
    for i in range(n):
        try:
            c = Conn()
            # Registered on the bus first, so that the call reaches the
            # daemon; then gone before the reply.
            c.wait_reply(1)
            if i % 20 == 0:
                c.call_ep('org.endpointd.Keys1', 'Sign', 'ay', [b'hangup %d' % i])
            else:
                status_call(c)
            c.sock.close()
        except (OSError, EOFError):
            failed += 1
    print('done %d %d' % (n, failed), flush=True)


def cmd_status(n, interval_ms=0):
    c = Conn()
    c.wait_reply(1)
    lat = []
    for _ in range(n):
        time.sleep(interval_ms / 1000)
        t = time.monotonic()
        r = c.wait_reply(status_call(c))
        lat.append((time.monotonic() - t) * 1000)
        if r != 'ok':
            print(r)
            return 1
    lat.sort()
    print('ok %d %.1f %.1f' % (n, lat[-1], lat[len(lat) // 2]))
    return 0


def open_kind(kind, tmp):
    """Two descriptors (manifest, signature) of KIND, plus extras to attach."""
    if kind == 'fifo-writer-open':
        p = os.path.join(tmp, 'fifo')
        if not os.path.exists(p):
            os.mkfifo(p)
        r = os.open(p, os.O_RDONLY | os.O_NONBLOCK)
        w = os.open(p, os.O_WRONLY | os.O_NONBLOCK)
        os.write(w, b'[Manifest]\n')
        return [r, r], [w]
    if kind == 'devzero':
        fd = os.open('/dev/zero', os.O_RDONLY)
        return [fd, fd], []
    if kind == 'socket':
        a, b = socket.socketpair()
        return [a.detach(), b.detach()], []
    if kind == 'dir':
        fd = os.open(tmp, os.O_RDONLY | os.O_DIRECTORY)
        return [fd, fd], []
    if kind == 'opath':
        fd = os.open('/etc/hostname' if os.path.exists('/etc/hostname') else '/etc/passwd', os.O_PATH)
        return [fd, fd], []
    if kind == 'writeonly':
        fd = os.open(os.path.join(tmp, 'wo'), os.O_WRONLY | os.O_CREAT, 0o600)
        return [fd, fd], []
    if kind == 'pipe-empty-open':
        r, w = os.pipe()
        return [r, r], [w]
    if kind == 'sparse-huge':
        p = os.path.join(tmp, 'huge')
        with open(p, 'wb') as f:
            f.truncate(300 << 20)
        fd = os.open(p, os.O_RDONLY)
        return [fd, fd], []
    if kind.startswith('extra'):
        # 2 referenced descriptors of /dev/null and N-2 unreferenced ones.
        n = int(kind[5:])
        fds = [os.open('/dev/null', os.O_RDONLY) for _ in range(n)]
        return fds, []
    raise ValueError(kind)


def cmd_fds(kind):
    tmp = os.environ.get('INDEP7_TMP', '/tmp')
    fds, keep = open_kind(kind, tmp)
    c = Conn(negotiate_fds=True)
    # Descriptors only once the bus daemon has finished the authentication:
    # it reads the handshake without SCM_RIGHTS.
    c.wait_reply(1)
    s = c.call_ep('org.endpointd.Integrity1', 'InstallManifest', 'hh', [0, 1], fds=fds)
    try:
        print(c.wait_reply(s))
    except EOFError as e:
        print('EOF', e)
    for fd in set(fds + keep):
        os.close(fd)


def deep(depth, inner=('au', [7])):
    v = inner
    for _ in range(depth):
        v = ('v', v)
    return v


def cmd_subs(n, iface):
    conns = []
    results = {}
    for _ in range(n):
        c = Conn()
        r = c.wait_reply(c.call_ep(iface, 'Subscribe'))
        results[r] = results.get(r, 0) + 1
        conns.append(c)
    print(' '.join('%s=%d' % kv for kv in sorted(results.items())), flush=True)
    sys.stdin.read()


def secret_of(name):
    return ('secret of ' + name).encode()


def cmd_loop(op, seconds, prefix):
    """OP (seal, unseal, attest, createkey) again and again on one connection
    for SECONDS; one line per call: "NAME ok" or "NAME ERRORNAME"."""
    c = Conn()
    c.wait_reply(1)
    end = time.monotonic() + float(seconds)
    i = 0
    while time.monotonic() < end:
        i += 1
        name = '%s-%d' % (prefix, i)
        if op == 'seal':
            s = c.call_ep('org.endpointd.Keys1', 'Seal', 'saya{sv}', [name, secret_of(name), {}])
        elif op == 'createkey':
            s = c.call_ep('org.endpointd.Keys1', 'CreateKey', 'sa{sv}', [name, {}])
        elif op == 'unseal':
            name = prefix
            s = c.call_ep('org.endpointd.Keys1', 'Unseal', 's', [name])
        elif op == 'attest':
            name = 'attest-%d' % i
            s = c.call_ep('org.endpointd.Keys1', 'Attest', 'ayau', [b'nonce', []])
        else:
            raise ValueError(op)
        print(name, c.wait_reply(s), flush=True)


def cmd_unsealall(path):
    """Every "NAME ok" line of the file PATH (loop seal's output) must unseal
    to "secret of NAME"; prints "checked N", then one line per one that
    does not."""
    c = Conn()
    c.wait_reply(1)
    n = 0
    for line in open(path):
        parts = line.split()
        if len(parts) != 2 or parts[1] != 'ok':
            continue
        n += 1
        # The first call after the TPM came back may be the one that notices
        # it went away (endpointd(8), TPM): TpmUnavailable, then it is back.
        for _ in range(20):
            s = c.call_ep('org.endpointd.Keys1', 'Unseal', 's', [parts[0]])
            while True:
                mtype, rs, err, body = c.read_msg()
                if rs == s and mtype in (2, 3):
                    break
            if err != 'org.endpointd.Error.TpmUnavailable':
                break
            time.sleep(0.5)
        # The reply body is one ay: a 4-byte length, then the bytes.
        got = body[4:] if mtype == 2 else err
        if got != secret_of(parts[0]):
            print(parts[0], got)
    print('checked', n)


def cmd_tpmproxy(listen_port, target_port, control):
    """A TCP proxy in front of swtpm (its command port, and its control port
    on the next port number). While the file CONTROL exists, the first
    command whose code is the hex number in CONTROL is forwarded and then
    the connection is cut before its response (the TPM goes away during
    the command), CONTROL is removed, and new connections are refused for
    1 s. Otherwise bytes pass both ways unchanged. Prints "ready"; exits
    when its standard input closes."""
    import select
    import threading
    cut_until = [0.0]

    def wanted_cc():
        try:
            return int(open(control).read().strip(), 16)
        except (OSError, ValueError):
            return None

    def serve(client, port, watch):
        try:
            server = socket.create_connection(('127.0.0.1', port))
        except OSError:
            client.close()
            return
        buf = b''
        try:
            while True:
                r, _, _ = select.select([client, server], [], [])
                if client in r:
                    data = client.recv(65536)
                    if not data:
                        break
                    server.sendall(data)
                    buf += data
                    cut = False
                    while watch and len(buf) >= 10:
                        size = struct.unpack('>I', buf[2:6])[0]
                        code = struct.unpack('>I', buf[6:10])[0]
                        if len(buf) < size or size < 10:
                            break
                        buf = buf[size:]
                        if code == wanted_cc():
                            os.unlink(control)
                            cut = True
                    if cut:
                        cut_until[0] = time.monotonic() + 1.0
                        break
                if server in r:
                    data = server.recv(65536)
                    if not data:
                        break
                    client.sendall(data)
        except OSError:
            pass
        client.close()
        server.close()

    def listen(port, target, watch):
        lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lst.bind(('127.0.0.1', port))
        lst.listen(16)
        return lst

    def loop(lst, target, watch):
        while True:
            client, _ = lst.accept()
            if time.monotonic() < cut_until[0]:
                client.close()
                continue
            threading.Thread(target=serve, args=(client, target, watch), daemon=True).start()

    lp, tp = int(listen_port), int(target_port)
    for port, target, watch in ((lp, tp, True), (lp + 1, tp + 1, False)):
        lst = listen(port, target, watch)
        threading.Thread(target=loop, args=(lst, target, watch), daemon=True).start()
    print('ready', flush=True)
    sys.stdin.read()


def cmd_call(iface, member, sig, expr):
    args = eval(expr) if expr else []
    c = Conn()
    try:
        print(c.wait_reply(c.call_ep(iface, member, sig, args)))
    except (EOFError, OSError) as e:
        print('EOF', e)


def cmd_flood(n, iface, member, sig='', expr=''):
    # At most 100 calls pending at a time: the bus daemon limits the
    # replies one connection may await.
    args = eval(expr) if expr else []
    c = Conn()
    c.wait_reply(1)
    counts = {}
    sent = 0
    pending = set()
    while sent < n or pending:
        while sent < n and len(pending) < 100:
            pending.add(c.call_ep(iface, member, sig, args))
            sent += 1
        mtype, rs, err, _ = c.read_msg()
        if rs in pending and mtype in (2, 3):
            pending.discard(rs)
            k = 'ok' if mtype == 2 else err
            counts[k] = counts.get(k, 0) + 1
    for k, v in sorted(counts.items()):
        print(k, v)


def main():
    cmd = sys.argv[1]
    a = sys.argv[2:]
    if cmd == 'noread':
        return cmd_noread(int(a[0]), int(a[1]))
    if cmd == 'hangup':
        return cmd_hangup(int(a[0]))
    if cmd == 'status':
        return cmd_status(int(a[0]), int(a[1]) if len(a) > 1 else 0)
    if cmd == 'fds':
        return cmd_fds(a[0])
    if cmd == 'subs':
        return cmd_subs(int(a[0]), a[1])
    if cmd == 'loop':
        return cmd_loop(*a)
    if cmd == 'unsealall':
        return cmd_unsealall(a[0])
    if cmd == 'tpmproxy':
        return cmd_tpmproxy(*a)
    if cmd == 'call':
        return cmd_call(a[0], a[1], a[2], a[3] if len(a) > 3 else '')
    if cmd == 'flood':
        return cmd_flood(int(a[0]), *a[1:])
    print('unknown command', cmd, file=sys.stderr)
    return 2


sys.exit(main() or 0)
