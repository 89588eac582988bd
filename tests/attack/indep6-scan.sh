#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Written by an independent tester from the man pages alone (endpointd(8)
# "Integrity", endpointd-manifest(5), endpointd-audit(5) scan-finished,
# endpointctl(1) scan), without reading the implementation.
#
# The full scan's direct way (a settled regular file read without an lstat,
# proved by one fstat after reading) and large files hashed from mappings
# (a file that shrinks while mapped raises SIGBUS, which must be caught),
# attacked by an unprivileged user who owns directories of the tree and by
# root with mount tricks, with the daemon's default sandbox (Seccomp=yes):
#   1. large files: truncated and grown in loops while scans run (two at
#      once), replaced by rename(2) mid-scan, holes punched; a settled file
#      shorter or longer than listed by a few bytes whose missing or extra
#      bytes are zeros (the mapping reads the listed bytes all the same)
#   2. content swaps that keep mtime (touch -d), hard links, a settled file
#      of other content renamed over a listed one, mtimes far in the future
#      and in the past
#   3. type swaps in a settled directory, between scans and during scans:
#      FIFO, symbolic link, directory, UNIX socket, (root) character and
#      block device nodes; none may be opened (watched with inotify IN_OPEN)
#   4. (root) bind mounts over listed settled files: a /proc file, a /sys
#      file, a FIFO, a device node, a same-content file from tmpfs
#   5. a file changed within 2 s of its creation, on disk and on tmpfs
#   6. 100 scans in a row while files change: the daemon stays up, its fds
#      and mappings stay flat, one "Scan N finished" line per scan
# A finding (behaviour the man pages contradict) is logged, the remaining
# attacks still run, and the test fails at the end.
. "$top_srcdir/tests/attack/lib.sh"
. "$top_srcdir/tests/attack/indep-lib.sh"
. "$top_srcdir/tests/integration/test-integrity-lib.sh"

[ "$(id -u)" = 0 ] || ep_skip "needs root (setpriv, mknod, bind mounts)"
command -v fallocate >/dev/null || ep_skip "fallocate (util-linux) is not installed"

# Each attack is logged with the seconds since the start.
ep_attack() {
        EP_ATTACKS=$((EP_ATTACKS + 1))
        ep_log "attack $EP_ATTACKS (at ${SECONDS} s): $*"
}
FINDINGS=0
finding() {
        FINDINGS=$((FINDINGS + 1))
        ep_log "FINDING $FINDINGS: $*"
}
undocumented() { ep_log "UNDOCUMENTED: $*"; }

ep_setup --no-tpm
ep_pki_init
ep_config Integrity ScanInterval infinity
W=$EP_TMP/w
mkdir -p "$W"
U=65534
R=$EP_ROOT

# Mounts made here are undone on exit, before the harness cleans up.
MOUNTS=()
ATTACKERS=()
indep6_cleanup() {
        local i
        for pid in "${ATTACKERS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
        for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do umount "${MOUNTS[i]}" 2>/dev/null; done
}
trap 'rc=$?; indep6_cleanup; (exit $rc); ep_cleanup' EXIT
bind() {
        mount --bind "$1" "$2" || return 1
        MOUNTS+=("$2")
}
# attacker CMD: a background loop as uid 65534, recorded to be stopped.
attacker() {
        setpriv --reuid="$U" --regid="$U" --clear-groups -- bash -c "$1" >/dev/null 2>&1 &
        ATTACKERS+=("$!")
}
stop_attackers() {
        for pid in "${ATTACKERS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
        ATTACKERS=()
}
# Sizes in MiB of the two large files (the brief: 64-256 MiB) and of the
# smaller mapped ones (two 8 MiB windows). Under valgrind (EP_DAEMON_WRAPPER)
# hashing is ~50 times slower: the same code paths with smaller files, and
# a longer bound on a scan.
A=64 B=80 C=12 SCAN_TIMEOUT=90
[ -n "$EP_DAEMON_WRAPPER" ] && A=16 B=20 C=9 SCAN_TIMEOUT=900
# A file "settles" when its inode has not changed for 2 s (endpointd(8)).
settle() { sleep 2.5; }

# ---- the tree -------------------------------------------------------------
# bin/: root's small files; big/ and u/: directories of uid 65534 (each
# with an ignored stash/ for the attacker's spare files); m/: root's files
# to mount over; t/: a tmpfs.
mkdir -p "$R/bin" "$R/big/stash" "$R/u/stash" "$R/m" "$R/t"
for i in $(seq 20); do head -c $((1000 + i * 97)) /dev/urandom >"$R/bin/tool$i"; done
# Large files: 512 KiB of random bytes, then zeros (sparse) to the end, so
# that truncating into the zeros and growing back restores the same bytes.
mkbig() {
        head -c 524288 /dev/urandom >"$1"
        truncate -s "$2" "$1"
}
mkbig "$R/big/a.img" ${A}M
mkbig "$R/big/b.img" ${B}M
# Smaller mapped files (two 8 MiB windows) for the other attacks.
mkbig "$R/big/c.img" ${C}M
mkbig "$R/big/d.img" ${C}M
mkbig "$R/big/e.img" ${C}M
mkbig "$R/big/g.img" 1M       # exactly 1 MiB: the smallest mapped file
head -c 4096 /dev/urandom >"$R/big/h.bin"
truncate -s 524288 "$R/big/h.bin"   # read(), zeros at the end
for i in $(seq 20); do head -c 4096 /dev/urandom >"$R/u/s$i"; done
for i in $(seq 6); do head -c 2048 /dev/urandom >"$R/m/p$i"; done
# Same mode (and for p2 and p6 the same size: sysfs says 4096, proc 0) as the
# pseudo files mounted over them: only the file system differs.
head -c 4096 /dev/urandom >"$R/m/p2"
: >"$R/m/p6"
chmod 0444 "$R/m/p1" "$R/m/p2" "$R/m/p6"
mount -t tmpfs -o mode=0755 indep6 "$R/t" || ep_skip "cannot mount a tmpfs"
MOUNTS+=("$R/t")
for i in 1 2 3; do head -c 3000 /dev/urandom >"$R/t/f$i"; done
chown -R "$U:$U" "$R/big" "$R/u" "$R/t"
it_manifest 1 "$W/m1"
# The stash directories are listed with ignore, and nothing in them.
sed -i -E 's#^(\./big/stash|\./u/stash) .*#& ignore#' "$W/m1"
grep -q '^\./u/stash .* ignore$' "$W/m1" || ep_fail "could not mark u/stash ignore: $(grep stash "$W/m1")"
ep_sign "$W/m1" "$W/m1.sig"
# Spare files of the attacker, made by the attacker before the install, so
# that they are settled when used.
ep_as "$U" bash -c "
        head -c $((C * 1048576)) /dev/zero >'$R/big/stash/c.evil' && printf X | dd of='$R/big/stash/c.evil' bs=1 seek=1000 conv=notrunc status=none
        cp --sparse=always '$R/big/a.img' '$R/big/stash/a.copy'
        for i in 1 2 3 4 5; do head -c 4096 /dev/urandom >\"$R/u/stash/evil\$i\"; done
" || ep_fail "the attacker could not make its spare files"
ep_start
it_install "$W/m1" "$W/m1.sig" || ep_fail "install failed"
settle

# scan: endpointctl --json scan, bounded; sets SCAN_RC, the JSON in $W/scan.json.
scan() {
        SCAN_RC=0
        timeout "$SCAN_TIMEOUT" "$EP_BUILD/endpointctl" --json scan >"$W/scan.json" 2>"$W/scan.err" || SCAN_RC=$?
        [ "$SCAN_RC" != 124 ] || ep_fail "endpointctl scan did not end within $SCAN_TIMEOUT s ($*): a hang (endpointd(8): 'a scan always ends')"
        kill -0 "$EP_DAEMON_PID" 2>/dev/null || ep_fail "endpointd died during a scan ($*); endpointd(8): a mapped file that shrinks raises SIGBUS, 'which the scanner catches'"
        case $SCAN_RC in
        0 | 5) ;;
        *) ep_fail "endpointctl scan exited $SCAN_RC ($*): $(cat "$W/scan.err" "$W/scan.json")" ;;
        esac
}
# kind PATH: the kind the last scan reported for PATH, or "none".
kind() { jq -r --arg p "$1" '[.violations[] | select(.path == $p) | .kind] | first // "none"' "$W/scan.json"; }
detail() { jq -r --arg p "$1" '[.violations[] | select(.path == $p) | .detail] | first // ""' "$W/scan.json"; }
# expect_kind PATH KIND... WHY: the last scan reported PATH with one of the
# KINDs ("none": not at all); otherwise a finding.
expect_kind() {
        local p=$1 why=${!#} k want ok=0
        k=$(kind "$p")
        for want in "${@:2:$(($# - 2))}"; do [ "$k" = "$want" ] && ok=1; done
        if [ $ok = 1 ]; then
                ep_ok "$p: $k${k:+ }$(detail "$p") ($why)"
        else
                finding "$p reported as '$k' ($(detail "$p")), expected ${*:2:$(($# - 2))}: $why"
        fi
}

scan "first scan"
ep_assert_eq "$SCAN_RC" 0 "first scan of the untouched tree (violations: $(jq -c .violations "$W/scan.json"))"
ep_assert_eq "$(jq -r .state "$W/scan.json")" trusted "state of the first scan"
indep_alive "after the first scan"

# inotify watcher: every IN_OPEN of an entry of the watched directories is
# written to $W/opens ("OPEN dir/name"). The daemon opens nothing but
# regular files (endpointd(8): "so a FIFO or device node put in a file's
# place is reported, never opened").
mkdir -p "$EP_TMP/nodes"
cat >"$W/watch.py" <<'PY'
import ctypes, os, struct, sys, select
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(os.O_NONBLOCK)
dirs = {}
for d in sys.argv[2:]:
    wd = libc.inotify_add_watch(fd, d.encode(), 0x20)
    dirs[wd] = d
out = open(sys.argv[1], "a", buffering=1)
out.write("watching\n")
while True:
    select.select([fd], [], [])
    buf = os.read(fd, 65536)
    i = 0
    while i < len(buf):
        w, mask, cookie, ln = struct.unpack_from("iIII", buf, i)
        name = buf[i + 16:i + 16 + ln].rstrip(b"\0").decode(errors="replace")
        if name:
            out.write("OPEN %s/%s\n" % (os.path.basename(dirs.get(w, "?")), name))
        elif not os.path.isdir(dirs.get(w, "/")):
            out.write("OPEN %s\n" % dirs[w])
        i += 16 + ln
PY
: >"$W/opens"
"$EP_PY" "$W/watch.py" "$W/opens" "$R/u" "$EP_TMP/nodes" &
EP_PIDS+=("$!")
for _ in $(seq 50); do grep -q watching "$W/opens" && break; sleep 0.1; done
# opened NAME: whether the watcher saw "dir/name" opened since the mark.
opened() { grep -q "^OPEN $1\$" "$W/opens"; }

# ---- 1. large files ---------------------------------------------------------
ep_attack "uid $U truncates two listed large files ($A and $B MiB) into their zeros and back in loops while 6 scans run"
attacker "while :; do truncate -s 1M '$R/big/a.img'; truncate -s ${A}M '$R/big/a.img'; truncate -s $((A + 1))M '$R/big/a.img'; truncate -s ${A}M '$R/big/a.img'; done"
attacker "while :; do truncate -s 3M '$R/big/b.img'; truncate -s ${B}M '$R/big/b.img'; truncate -s $((B + 4))M '$R/big/b.img'; truncate -s ${B}M '$R/big/b.img'; done"
for n in $(seq 6); do
        # VerifyFile (endpointctl verify) of the same file meanwhile: ok or 5.
        rc=0
        timeout "$SCAN_TIMEOUT" "$EP_BUILD/endpointctl" verify big/a.img >"$W/verify.out" 2>&1 || rc=$?
        case $rc in
        0 | 5) ;;
        *) finding "endpointctl verify big/a.img during truncation exited $rc: $(cat "$W/verify.out")" ;;
        esac
        scan "truncate loop $n"
        for f in big/a.img big/b.img; do
                case $(kind "$f") in
                none | modified | unreadable) ;;
                *) finding "$f under truncation reported as '$(kind "$f")' ($(detail "$f"))" ;;
                esac
        done
done
stop_attackers
ep_ok "6 scans during truncation loops ended, the daemon alive"
ep_log "log lines naming a change while hashing so far: $(grep -c 'changed while it was being hashed' "$EP_TMP/daemon.log")"
ep_as "$U" truncate -s ${A}M "$R/big/a.img"
ep_as "$U" truncate -s ${B}M "$R/big/b.img"
settle
scan "after the truncation loops"
expect_kind big/a.img none "its bytes are the listed ones again"
expect_kind big/b.img none "its bytes are the listed ones again"

ep_attack "a settled large file shorter than listed (SIGBUS in the mapping), two at once"
ep_as "$U" truncate -s $((A / 3))M "$R/big/a.img"
ep_as "$U" truncate -s $((B / 2))M "$R/big/b.img"
settle
scan "two shrunken settled files"
expect_kind big/a.img modified "endpointd-manifest(5)/endpointd(8): a file that shrank is modified"
expect_kind big/b.img modified "endpointd-manifest(5)/endpointd(8): a file that shrank is modified"
rc=0
timeout "$SCAN_TIMEOUT" "$EP_BUILD/endpointctl" verify big/a.img >"$W/verify.out" 2>&1 || rc=$?
[ "$rc" = 5 ] || finding "endpointctl verify of a shrunken settled big/a.img exited $rc, expected 5 (endpointctl(1)): $(cat "$W/verify.out")"
ep_log "verify big/a.img: $(head -c 300 "$W/verify.out")"
indep_alive "after two files faulted their mappings"
ep_as "$U" truncate -s ${A}M "$R/big/a.img"
ep_as "$U" truncate -s ${B}M "$R/big/b.img"

ep_attack "a settled mapped file shorter than listed by 100 bytes, all of them zeros (no SIGBUS: the last page still maps)"
ep_as "$U" truncate -s $((C * 1048576 - 100)) "$R/big/e.img"
ep_as "$U" truncate -s $((1048576 - 1)) "$R/big/g.img"
ep_as "$U" truncate -s $((524288 - 7)) "$R/big/h.bin"
settle
scan "files short by a few zero bytes"
expect_kind big/e.img modified "endpointd(8): the fstat after reading proves 'a regular file of the listed size'"
expect_kind big/g.img modified "endpointd(8): the fstat after reading proves 'a regular file of the listed size' (1 MiB - 1: read(), not mapped)"
expect_kind big/h.bin modified "endpointd(8): the fstat after reading proves 'a regular file of the listed size'"

ep_attack "a settled mapped file longer than listed by 1 byte and by 4096 bytes of zeros"
ep_as "$U" truncate -s $((C * 1048576 + 1)) "$R/big/e.img"
ep_as "$U" truncate -s $((1048576 + 4096)) "$R/big/g.img"
ep_as "$U" truncate -s $((524288 + 1)) "$R/big/h.bin"
settle
scan "files longer by zero bytes"
expect_kind big/e.img modified "endpointd-manifest(5): 'a file larger than its listed size is a modified violation'"
expect_kind big/g.img modified "endpointd-manifest(5): 'a file larger than its listed size is a modified violation'"
expect_kind big/h.bin modified "endpointd-manifest(5): 'a file larger than its listed size is a modified violation'"
ep_as "$U" truncate -s ${C}M "$R/big/e.img"
ep_as "$U" truncate -s 1M "$R/big/g.img"
ep_as "$U" truncate -s 524288 "$R/big/h.bin"

ep_attack "uid $U renames another $C MiB file over a listed one and back in a loop while scans run"
ep_as "$U" ln "$R/big/c.img" "$R/big/stash/c.good"
attacker "cd '$R/big' && while :; do ln -f stash/c.evil stash/t1 && mv -f stash/t1 c.img; ln -f stash/c.good stash/t2 && mv -f stash/t2 c.img; done"
for n in $(seq 4); do
        scan "rename loop $n"
        case $(kind big/c.img) in
        none | modified | missing | unreadable) ;;
        *) finding "big/c.img under rename reported as '$(kind big/c.img)'" ;;
        esac
done
stop_attackers
ep_as "$U" bash -c "cd '$R/big' && rm -f stash/t1 stash/t2 && ln -f stash/c.evil stash/t1 && mv -f stash/t1 c.img"
settle
scan "the other file renamed over c.img, settled"
expect_kind big/c.img modified "a settled file of other content in a listed file's place"
ep_as "$U" bash -c "cd '$R/big' && ln -f stash/c.good stash/t1 && mv -f stash/t1 c.img"

ep_attack "uid $U punches holes into the zeros of a listed large file in a loop, then into its data"
attacker "while :; do fallocate -p -o 1048576 -l 4194304 '$R/big/d.img'; fallocate -p -o 8400000 -l 4096 '$R/big/d.img'; done"
for n in $(seq 3); do scan "hole punching $n"; done
stop_attackers
settle
scan "after punching holes into zeros"
expect_kind big/d.img none "holes in zeros leave the listed bytes"
ep_as "$U" fallocate -p -o 4096 -l 4096 "$R/big/d.img"
settle
scan "a hole in the data, settled"
expect_kind big/d.img modified "a hole punched into the data changes the bytes"

# ---- 2. content swaps that keep the times -------------------------------------
ep_attack "uid $U rewrites settled files with other bytes of the same size and sets the old mtime back (touch -d)"
for f in s1 s2; do
        ep_as "$U" bash -c "t=\$(stat -c %Y '$R/u/$f'); head -c 4096 /dev/urandom >'$R/u/stash/new' && cat '$R/u/stash/new' >'$R/u/$f' && touch -d @\$t '$R/u/$f'"
done
scan "right after the rewrite"
expect_kind u/s1 modified "content changed"
settle
scan "rewritten files settled"
expect_kind u/s1 modified "a settled file with other content and its old mtime"
expect_kind u/s2 modified "a settled file with other content and its old mtime"

ep_attack "hard links: a listed file replaced by a hard link to a spare file, and to another listed file of the same size"
ep_as "$U" ln -f "$R/u/stash/evil1" "$R/u/s3"
ep_as "$U" ln -f "$R/u/s5" "$R/u/s4"
settle
scan "hard links"
expect_kind u/s3 modified "a hard link to other content"
expect_kind u/s4 modified "a hard link to another listed file"
expect_kind u/s5 none "the other listed file is unchanged (only its link count)"

ep_attack "a settled spare file of other content renamed over a listed one"
ep_as "$U" mv -f "$R/u/stash/evil2" "$R/u/s6"
scan "rename, unsettled"
expect_kind u/s6 modified "renamed over"
settle
scan "rename, settled"
expect_kind u/s6 modified "a settled file renamed over a listed one"

ep_attack "mtimes in the future and in the far past, with the listed content and with other content"
ep_as "$U" touch -d '2099-01-01 00:00:00 UTC' "$R/u/s7"
ep_as "$U" touch -d '1970-01-01 00:00:01 UTC' "$R/u/s8"
ep_as "$U" bash -c "cat '$R/u/stash/evil3' >'$R/u/s9' && touch -d '2099-01-01 00:00:00 UTC' '$R/u/s9'"
ep_as "$U" bash -c "cat '$R/u/stash/evil4' >'$R/u/s10' && touch -d '1970-01-01 00:00:01 UTC' '$R/u/s10'"
settle
scan "odd mtimes"
expect_kind u/s7 none "unchanged content (mtime is not a keyword: endpointd-manifest(5))"
expect_kind u/s8 none "unchanged content (mtime is not a keyword: endpointd-manifest(5))"
expect_kind u/s9 modified "other content, mtime in the future"
expect_kind u/s10 modified "other content, mtime in the far past"

# ---- 3. type swaps --------------------------------------------------------------
ep_attack "listed settled files replaced by a FIFO, a symlink, a directory, a UNIX socket, a char device 1:3, a block device"
: >"$W/opens"
ep_as "$U" bash -c "cd '$R/u' && rm s11 s12 s13 s14 && mkfifo s11 && ln -s s1 s12 && mkdir s13 && chmod 755 s13"
ep_as "$U" "$EP_PY" -c "import socket; s = socket.socket(socket.AF_UNIX); s.bind('$R/u/s14')"
rm "$R/u/s15" "$R/u/s16"
mknod -m 0644 "$R/u/s15" c 1 3
mknod -m 0644 "$R/u/s16" b 7 0 2>/dev/null || { undocumented "could not make a block device node here"; head -c 4096 /dev/urandom >"$R/u/s16"; }
chown -h "$U:$U" "$R/u/s15" "$R/u/s16"
settle
for pass in 1 2; do
        scan "type swaps, pass $pass"
        for f in s11 s12 s13 s14 s15; do expect_kind "u/$f" type "endpointd-manifest(5): 'an entry of another type' is a type violation"; done
        [ -b "$R/u/s16" ] && expect_kind u/s16 type "endpointd-manifest(5): 'an entry of another type' is a type violation"
done
for f in s11 s15 s16; do
        if opened "u/$f"; then
                finding "u/$f (a FIFO or device node in a settled listed file's place) was opened; endpointd(8): 'so a FIFO or device node put in a file's place is reported, never opened'"
        else
                ep_ok "u/$f was not opened"
        fi
done

ep_attack "during scans uid $U swaps a listed file with a FIFO and root swaps one with a char device 1:3, by rename, in loops"
ep_as "$U" bash -c "cd '$R/u' && cp -p s17 stash/s17.file && mkfifo stash/s17.fifo"
cp -p "$R/u/s18" "$R/u/stash/s18.file"
mknod -m 0644 "$R/u/stash/s18.dev" c 1 3
# The FIFO's and the device's own inodes are watched, whatever their name.
: >"$W/opens2"
"$EP_PY" "$W/watch.py" "$W/opens2" "$R/u/stash/s17.fifo" "$R/u/stash/s18.dev" &
WATCH2=$!
EP_PIDS+=("$WATCH2")
for _ in $(seq 50); do grep -q watching "$W/opens2" && break; sleep 0.1; done
attacker "cd '$R/u' && while :; do ln -f stash/s17.fifo stash/t17 && mv -f stash/t17 s17; ln -f stash/s17.file stash/t17 && mv -f stash/t17 s17; done"
( cd "$R/u" && while :; do ln -f stash/s18.dev stash/t18 && mv -f stash/t18 s18; ln -f stash/s18.file stash/t18 && mv -f stash/t18 s18; done ) >/dev/null 2>&1 &
ATTACKERS+=("$!")
for n in $(seq 4); do
        scan "FIFO/device swap loop $n"
        for f in u/s17 u/s18; do
                case $(kind "$f") in
                none | type | modified | missing | unreadable) ;;
                *) finding "$f under type swaps reported as '$(kind "$f")'" ;;
                esac
        done
done
stop_attackers
kill "$WATCH2" 2>/dev/null
ep_ok "scans during type-swap loops ended"
for f in s17.fifo s18.dev; do
        grep -q "^OPEN .*/$f\$" "$W/opens2" && undocumented "u/$f was opened while it was swapped with a FIFO/device during a scan (the race between listing and open, with O_NONBLOCK, that bench/README.md names; endpointd(8) says only 'never opened')"
done
# Leave them as the listed files.
ep_as "$U" bash -c "cd '$R/u' && ln -f stash/s17.file stash/t17 && mv -f stash/t17 s17"
ln -f "$R/u/stash/s18.file" "$R/u/stash/t18" && mv -f "$R/u/stash/t18" "$R/u/s18"

# ---- 4. bind mounts -----------------------------------------------------------
ep_attack "root bind-mounts /proc/version (over a file of 2048 bytes and over an empty one), a sysfs file (over one of 4096 bytes), a FIFO, a char device and a same-content tmpfs file over settled listed files"
mkfifo "$EP_TMP/nodes/fifo"
mknod -m 0644 "$EP_TMP/nodes/null" c 1 3
mkdir -p "$EP_TMP/tmpfs-src"
mount -t tmpfs indep6b "$EP_TMP/tmpfs-src" && MOUNTS+=("$EP_TMP/tmpfs-src")
cp -p "$R/m/p5" "$EP_TMP/tmpfs-src/p5"
SYSF=/sys/devices/system/cpu/online
bind /proc/version "$R/m/p1" || ep_skip "cannot bind-mount here"
bind "$SYSF" "$R/m/p2"
bind "$EP_TMP/nodes/fifo" "$R/m/p3"
bind "$EP_TMP/nodes/null" "$R/m/p4"
bind "$EP_TMP/tmpfs-src/p5" "$R/m/p5"
bind /proc/version "$R/m/p6"
settle
scan "bind mounts"
for f in p1 p2 p6; do
        expect_kind "m/$f" unreadable "endpointd-manifest(5): a listed file 'bind-mounted over a listed path' on a pseudo file system is reported as unreadable"
        ep_log "m/$f: $(kind "m/$f"): $(detail "m/$f")"
done
expect_kind m/p3 type "a FIFO bind-mounted over a listed file is of another type"
expect_kind m/p4 type "a char device bind-mounted over a listed file is of another type"
ep_log "m/p5 (same content from tmpfs, fine either way): $(kind m/p5) $(detail m/p5)"
for f in fifo null; do
        if opened "nodes/$f"; then
                finding "the bind-mounted $f was opened; endpointd(8): 'a FIFO or device node put in a file's place is reported, never opened'"
        else
                ep_ok "the bind-mounted $f was not opened"
        fi
done
for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
        case ${MOUNTS[i]} in "$R/m/"*) umount "${MOUNTS[i]}" ;; esac
done

# ---- 5. the 2 s window -----------------------------------------------------------
ep_attack "a file re-created with the listed bytes and changed within 2 s of its creation, on disk and on tmpfs"
for f in u/s19 t/f1; do
        ep_as "$U" bash -c "cd '$R' && cp $f $f.new && mv -f $f.new $f"
done
scan "re-created with the listed bytes"
expect_kind u/s19 none "same bytes, new inode"
expect_kind t/f1 none "same bytes, new inode (tmpfs)"
for f in u/s19 t/f1; do
        ep_as "$U" bash -c "cd '$R' && printf Z | dd of=$f bs=1 seek=100 conv=notrunc status=none"
done
scan "changed within 2 s of creation"
expect_kind u/s19 modified "changed in the 2 s window"
expect_kind t/f1 modified "changed in the 2 s window (tmpfs)"
settle
scan "changed within 2 s of creation, now settled"
expect_kind u/s19 modified "changed in the 2 s window, settled"
expect_kind t/f1 modified "changed in the 2 s window, settled (tmpfs)"
ep_as "$U" bash -c "cd '$R' && t=\$(stat -c %Y t/f2) && cat u/stash/evil5 | head -c 3000 >t/f2 && touch -d @\$t t/f2"
settle
scan "tmpfs file rewritten with old mtime, settled"
expect_kind t/f2 modified "tmpfs file with other content and its old mtime"

# ---- 6. 100 scans while files change -------------------------------------------
NSCANS=100
[ -n "$EP_DAEMON_WRAPPER" ] && NSCANS=15
ep_attack "$NSCANS scans in a row while uid $U truncates a large file and rewrites small ones"
attacker "while :; do truncate -s 2M '$R/big/a.img'; truncate -s ${A}M '$R/big/a.img'; head -c 4096 /dev/urandom >'$R/u/s20'; done"
before=$(grep -c 'Scan [0-9]* finished' "$EP_TMP/daemon.log")
# fds and mappings counted with the daemon idle (rechecks of changed paths
# done), before and after.
sleep 1
fd0=$(ls "/proc/$EP_DAEMON_PID/fd" | wc -l)
maps0=$(wc -l <"/proc/$EP_DAEMON_PID/maps")
for n in $(seq "$NSCANS"); do
        scan "scan $n of $NSCANS"
done
stop_attackers
ep_as "$U" truncate -s ${A}M "$R/big/a.img"
# The last changes are rechecked (Watch=yes) after the scans; wait until no
# file of the tree is mapped or open any more (bounded: a file kept is a finding).
tree_refs() {
        echo $(($(grep -c " $R/" "/proc/$EP_DAEMON_PID/maps") + $(find "/proc/$EP_DAEMON_PID/fd" -lname "$R/*" 2>/dev/null | wc -l)))
}
for _ in $(seq "$SCAN_TIMEOUT"); do [ "$(tree_refs)" = 0 ] && break; sleep 1; done
fd1=$(ls "/proc/$EP_DAEMON_PID/fd" | wc -l)
maps1=$(wc -l <"/proc/$EP_DAEMON_PID/maps")
ep_log "fds before: $fd0, after scan $NSCANS: $fd1; mappings: $maps0 -> $maps1"
[ "$fd1" -le $((fd0 + 2)) ] || finding "the daemon's fd count grew from $fd0 to $fd1 over $NSCANS scans"
# Total mappings move with the allocator (ASan's above all); what must not
# stay is a mapping or an fd of a file of the tree once the scans are over.
left=$(grep -c " $R/" "/proc/$EP_DAEMON_PID/maps")
[ "$left" = 0 ] || finding "$left mappings of files of the tree left in the daemon $SCAN_TIMEOUT s after $NSCANS scans: $(grep " $R/" "/proc/$EP_DAEMON_PID/maps" | head -n 3)"
left=$(find "/proc/$EP_DAEMON_PID/fd" -lname "$R/*" 2>/dev/null | wc -l)
[ "$left" = 0 ] || finding "$left fds of files of the tree left open in the daemon $SCAN_TIMEOUT s after $NSCANS scans"
after=$(grep -c 'Scan [0-9]* finished' "$EP_TMP/daemon.log")
ep_assert_eq "$((after - before))" "$NSCANS" "'Scan N finished' lines in the log for $NSCANS scans"
ep_log "last: $(grep 'Scan [0-9]* finished' "$EP_TMP/daemon.log" | tail -n 1)"
grep -q 'Scan [0-9]* finished: .*(.* entries in .* s, [0-9]* files read without a stat first)' "$EP_TMP/daemon.log" ||
        finding "no 'Scan N finished: ... (E entries in S s, D files read without a stat first)' line"
indep_alive "after $NSCANS scans"

[ "$FINDINGS" = 0 ] || ep_fail "$FINDINGS finding(s), see FINDING lines above"
ep_done
