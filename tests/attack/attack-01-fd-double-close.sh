#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Attack 1 of issue 8 (written by the authors, test first): a caller with
# nothing but integrity.read (uid 65534 in group adm, the shipped policy's
# "monitor") sends Integrity1.VerifyFile calls whose messages carry two
# unix fds although the signature stays "s", a few every 20 ms, while full
# scans run and an admin installs a new manifest. Before the fix a scanner
# worker's directory fd was closed twice (once by the worker, once when the
# scanner was freed); the second close hit whatever sd-bus had meanwhile
# received under that number, and sd-bus aborted with
# "Assertion 'close_nointr(fd) != -EBADF'", or scans reported files
# "unreadable: Bad file descriptor". The daemon must survive, keep
# answering, and its scans must stay clean.
. "$top_srcdir/tests/attack/lib.sh"
. "$top_srcdir/tests/integration/test-integrity-lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || ep_skip "python3 is not installed"
"$PY" -c 'import socket; socket.send_fds' 2>/dev/null || ep_skip "python3 >= 3.9 is needed (socket.send_fds)"
getent group adm >/dev/null || ep_skip "there is no group adm"
ADM=$(getent group adm | cut -d: -f3)

ep_setup
ep_pki_init
ep_config Integrity Watch no
ep_config Integrity ScanThreads 2
# The flood is about fds, not volume: the rate limiter must not hide it.
ep_config Policy RateLimitBurst 100000
ep_config Policy RateLimitPerSecond 100000
cat >>"$EP_POLICY" <<EOP

[Role]
Name=monitor
Permissions=status.read integrity.read policy.read licence.read

[Subject]
Group=adm
Roles=monitor
EOP

# A tree with many directories, so that every worker keeps opening and
# closing directory fds, and a few larger files, so that scans take a while.
R=$EP_ROOT
for d in $(seq 1 24); do
        mkdir -p "$R/d$d"
        for f in $(seq 1 12); do echo "file $d/$f" >"$R/d$d/f$f"; done
done
for b in 1 2 3; do head -c 4194304 /dev/urandom >"$R/d$b/big"; done
chmod -R a+rX "$R"

ep_start
it_manifest 1 "$EP_TMP/m1"
it_install "$EP_TMP/m1" "$EP_TMP/m1.sig" || ep_fail "the first manifest did not install"
ep_expect_exit 0 ep_ctl --no-progress scan
ep_expect_exit 0 ep_as 65534:"$ADM" "$EP_BUILD/endpointctl" verify d1/f1

# The sender speaks the D-Bus wire protocol itself: no binding lets a
# method call with signature "s" carry fds in its UNIX_FDS header field.
cat >"$EP_TMP/sender.py" <<'PY'
import os, socket, struct, sys, time

def align(b, n):
    b.extend(b"\0" * ((-len(b)) % n))

def put_u32(b, v):
    align(b, 4)
    b.extend(struct.pack("<I", v))

def put_str(b, s):
    s = s.encode()
    put_u32(b, len(s))
    b.extend(s + b"\0")

def put_sig(b, s):
    s = s.encode()
    b.append(len(s))
    b.extend(s + b"\0")

def message(serial, dest, path, iface, member, sig=None, body=b"", n_fds=0):
    fields = [(1, "o", path), (2, "s", iface), (3, "s", member), (6, "s", dest)]
    if sig:
        fields.append((8, "g", sig))
    if n_fds:
        fields.append((9, "u", n_fds))
    h = bytearray(b"l\x01\x00\x01" + struct.pack("<III", len(body), serial, 0))
    for code, t, v in fields:
        align(h, 8)
        h.append(code)
        put_sig(h, t)
        if t in "so":
            put_str(h, v)
        elif t == "g":
            put_sig(h, v)
        else:
            put_u32(h, v)
    struct.pack_into("<I", h, 12, len(h) - 16)
    align(h, 8)
    return bytes(h) + body

def fields_of(m):
    flen = struct.unpack_from("<I", m, 12)[0]
    p, end, out = 16, 16 + flen, {}
    while p < end:
        p += (-p) % 8
        code, n = m[p], m[p + 1]
        t = m[p + 2:p + 2 + n].decode()
        p += 3 + n
        if t in ("s", "o"):
            p += (-p) % 4
            l = struct.unpack_from("<I", m, p)[0]
            out[code] = m[p + 4:p + 4 + l].decode(errors="replace")
            p += 5 + l
        elif t == "g":
            l = m[p]
            out[code] = m[p + 1:p + 1 + l].decode()
            p += 2 + l
        else:
            p += (-p) % 4
            out[code] = struct.unpack_from("<I", m, p)[0]
            p += 4
    return out

class Conn:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""
        self.serial = 0
        uid = str(os.geteuid()).encode().hex().encode()
        self.s.sendall(b"\0AUTH EXTERNAL " + uid + b"\r\n")
        assert self.line().startswith(b"OK "), "authentication refused"
        self.s.sendall(b"NEGOTIATE_UNIX_FD\r\n")
        assert self.line() == b"AGREE_UNIX_FD", "the bus refuses fd passing"
        self.s.sendall(b"BEGIN\r\n")
        # Nothing more until Hello is answered: bytes the bus reads in one go
        # with BEGIN are read without their fds, which the kernel then drops,
        # and the bus disconnects a message that lost its fds.
        hello = self.send("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello")
        end = time.monotonic() + 30
        while not any(m[1] == 2 and fields_of(m).get(5) == hello for m in self.messages(0.1)):
            assert time.monotonic() < end, "no reply to Hello"

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(4096)
            if not d:
                raise EOFError("bus closed the connection")
            self.buf += d
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l

    def send(self, *args, fds=(), **kw):
        self.serial += 1
        m = message(self.serial, *args, n_fds=len(fds), **kw)
        # Blocking, so that a message is never sent in part.
        self.s.settimeout(None)
        n = socket.send_fds(self.s, [m], list(fds)) if fds else 0
        self.s.sendall(m[n:])
        return self.serial

    def messages(self, timeout):
        self.s.settimeout(timeout)
        try:
            d = self.s.recv(65536)
            if not d:
                raise EOFError("bus closed the connection")
            self.buf += d
        except (socket.timeout, BlockingIOError):
            pass
        while len(self.buf) >= 16:
            blen, _, flen = struct.unpack_from("<III", self.buf, 4)
            total = 16 + flen + (-(16 + flen)) % 8 + blen
            if len(self.buf) < total:
                break
            m, self.buf = self.buf[:total], self.buf[total:]
            yield m

# At most max_pending calls in flight: the bus daemon disconnects a sender
# whose queue of fds grows without bound, and a slow daemon (valgrind,
# ASan) must see the same flood, not a disconnect.
n_calls, per_tick, target, max_pending = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], 32
c = Conn(os.environ["DBUS_SYSTEM_BUS_ADDRESS"].split("path=", 1)[1])
body = bytearray()
put_str(body, target)
pending, results, sent = set(), {}, 0
deadline = time.monotonic() + 120
while (sent < n_calls or pending) and time.monotonic() < deadline:
    if sent < n_calls:
        for _ in range(max(0, min(per_tick, n_calls - sent, max_pending - len(pending)))):
            r, w = os.pipe()
            pending.add(c.send("org.endpointd.Endpoint1", "/org/endpointd/Endpoint1",
                               "org.endpointd.Integrity1", "VerifyFile", sig="s", body=bytes(body),
                               fds=(r, w)))
            os.close(r)
            os.close(w)
            sent += 1
    try:
        for m in c.messages(0.02):
            f = fields_of(m)
            if m[1] in (2, 3) and f.get(5) in pending:
                pending.discard(f[5])
                key = "return" if m[1] == 2 else f.get(4, "error")
                results[key] = results.get(key, 0) + 1
    except (EOFError, ConnectionError) as e:
        results["disconnected"] = 1
        break
print("sent=%d unanswered=%d %s" % (sent, len(pending),
      " ".join("%s=%d" % kv for kv in sorted(results.items()))))
PY

ep_attack "uid 65534 (group adm, integrity.read only) floods VerifyFile with 2 fds attached while scans and an install run"
ep_as 65534:"$ADM" "$PY" "$EP_TMP/sender.py" 600 3 d5/f3 >"$EP_TMP/sender.out" 2>&1 &
SENDER=$!
EP_PIDS+=("$SENDER")
# Meanwhile, as the admin: scans one after another, and a new manifest
# installed in the middle of one.
it_manifest 2 "$EP_TMP/m2"
for i in $(seq 1 12); do
        kill -0 "$EP_DAEMON_PID" 2>/dev/null || break
        ep_busctl call org.endpointd.Endpoint1 /org/endpointd/Endpoint1 org.endpointd.Integrity1 Scan \
                >/dev/null 2>&1
        if [ "$i" = 4 ]; then
                out=$(it_install_result "$EP_TMP/m2" "$EP_TMP/m2.sig")
                ep_log "install during the flood: $out"
        fi
        sleep 0.3
done
wait "$SENDER" || true
out=$(cat "$EP_TMP/sender.out")
ep_log "sender: $out"

if grep -a "Assertion\|Aborted\|core dumped" "$EP_TMP/daemon.log" >&2; then
        ep_fail "endpointd aborted under the flood"
fi
kill -0 "$EP_DAEMON_PID" 2>/dev/null || ep_fail "endpointd died under the flood"
ep_ok "endpointd is alive after the flood"
ep_expect_exit 0 ep_ctl status
ep_assert_contains "$out" "sent=600 unanswered=0" "every call was answered"
case $out in
*NoReply* | *ServiceUnknown* | *Disconnected* | *disconnected*) ep_fail "calls were lost: $out" ;;
esac
ep_assert_contains "$out" "return=" "VerifyFile ran for the monitor"
ep_assert_eq "$(it_prop ManifestSerial)" 2 "the install during the flood took effect"

# The scans after it: clean, nothing unreadable through a stolen fd.
ep_expect_exit 0 ep_ctl --no-progress scan
ep_assert_eq "$(it_prop IntegrityState)" trusted "state after the flood"
if grep -a "Bad file descriptor" "$EP_TMP/daemon.log" >&2; then
        ep_fail "a scan or verify hit a closed or stolen fd"
fi
ep_ok "no scan reported 'Bad file descriptor'"
ep_expect_exit 0 ep_as 65534:"$ADM" "$EP_BUILD/endpointctl" verify d5/f3

ep_done
