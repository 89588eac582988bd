# SPDX-License-Identifier: LGPL-2.1-or-later
# indep3-tty.py KEYS CMD...: runs CMD on a pseudo-terminal of 10 rows and 80
# columns (so that its long output goes to a pager), types KEYS one by one
# (Python escapes such as \n) after its first output, then q, and prints what
# the terminal showed. CMD is killed (by its PID) if it has not ended 5 s
# after the last q. Used by tests/attack/indep3-pager.sh and findings3-pager.sh.
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time

keys = sys.argv[1].encode().decode('unicode_escape').encode()
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', 10, 80, 0, 0))
    os.execvp(sys.argv[2], sys.argv[2:])
out = b''


def pump(seconds):
    global out
    end = time.time() + seconds
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:
                return False
            if not data:
                return False
            out += data
    return True


alive = pump(3)
for c in keys:
    if not alive:
        break
    os.write(fd, bytes([c]))
    alive = pump(0.05)
alive = alive and pump(2)
for k in (b'q', b'q', b'q'):
    if not alive:
        break
    os.write(fd, k)
    alive = pump(1)
status = None
for _ in range(50):
    p, s = os.waitpid(pid, os.WNOHANG)
    if p:
        status = s
        break
    time.sleep(0.1)
if status is None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
