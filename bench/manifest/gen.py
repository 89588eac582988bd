#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Writes a deterministic manifest of N entries in both dialects:
#   gen.py N OUT_PREFIX  ->  OUT_PREFIX.bsdtar (full paths) and OUT_PREFIX.mtree (mtree -c nesting)
# Directories of 100 files, 10 directories per package, names with spaces
# and a non-ASCII byte now and then, every keyword bsdtar writes by default.
import hashlib
import sys

n, out = int(sys.argv[1]), sys.argv[2]
release = "# endpointd: serial=1 product=bench version=1.0\n"
files_per_dir, dirs_per_pkg = 100, 10


def name(i):
    return "file-%06d%s.so" % (i, " copy" if i % 17 == 0 else ("\xe9" if i % 29 == 0 else ""))


def bsd(s):
    return "".join(c if 0x20 < ord(c) < 0x7f and c not in "#=\\" else "\\%03o" % ord(c) for c in s)


def vis(s):
    return "".join(c if 0x20 < ord(c) < 0x7f and c not in "#\\" else
                   ("\\s" if c == " " else "\\M-%c" % chr(ord(c) - 0x80)) for c in s)


def digest(i):
    return hashlib.sha256(b"%d" % i).hexdigest()


with open(out + ".bsdtar", "w", encoding="latin-1") as b, open(out + ".mtree", "w", encoding="latin-1") as m:
    b.write("#mtree\n" + release + ". time=1767225600.0 mode=755 gid=0 uid=0 type=dir\n")
    m.write(release + "/set type=file uid=0 gid=0 mode=0644 nlink=1 flags=none\n. type=dir mode=0755\n")
    i = 0
    pkg = 0
    while i < n:
        p = "pkg%04d" % pkg
        b.write("./%s time=1767225600.0 mode=755 gid=0 uid=0 type=dir\n" % p)
        m.write("%s type=dir mode=0755\n" % p)
        for d in range(dirs_per_pkg):
            if i >= n:
                break
            dn = "lib%02d" % d
            b.write("./%s/%s time=1767225600.0 mode=755 gid=0 uid=0 type=dir\n" % (p, dn))
            m.write("    %s type=dir mode=0755\n" % dn)
            for _ in range(files_per_dir):
                if i >= n:
                    break
                b.write("./%s/%s/%s time=1767225600.0 mode=644 gid=0 uid=0 type=file size=%d sha256digest=%s\n"
                        % (p, dn, bsd(name(i)), 1000 + i, digest(i)))
                m.write("        %s size=%d time=1767225600.0 \\\n            sha256=%s\n"
                        % (vis(name(i)), 1000 + i, digest(i)))
                i += 1
            m.write("    ..\n")
        m.write("..\n")
        pkg += 1
