#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes a synthetic device tree, byte for byte the same on every run.

    gen.py DIR small   ~200 MB in 20,000 files (19,980 small + 20 x 4 MiB)
    gen.py DIR large   ~2 GB in 60,000 files (59,900 small + 100 x ~13 MiB)
    gen.py DIR many    100,000 files of 1 KiB (for the memory figure)

Small files are log-uniformly sized like shared libraries, configs and
scripts, 100 to a directory under usr/; large ones (firmware images,
models) go to blobs/. Content comes from one seeded pool, sliced at
seeded offsets, so it is incompressible and reproducible.
"""
import math
import os
import random
import sys

PROFILES = {
    # files, small size range (bytes), large files, large size (bytes)
    "small": (19980, (128, 32768), 20, 4 << 20),
    "large": (59900, (256, 65536), 100, 13 << 20),
    "many": (100000, (1024, 1024), 0, 0),
}


def main():
    root, profile = sys.argv[1], sys.argv[2]
    n_small, (lo, hi), n_large, large = PROFILES[profile]
    rng = random.Random(20261123)
    pool = random.Random(42).randbytes(64 << 20)

    def chunk(size):
        out = bytearray()
        while len(out) < size:
            off = rng.randrange(0, len(pool) - 4096)
            out += pool[off:off + min(size - len(out), len(pool) - off)]
        return bytes(out)

    total = 0
    for i in range(n_small):
        d = os.path.join(root, "usr", "lib%03d" % (i // 10000), "d%04d" % (i // 100))
        if i % 100 == 0:
            os.makedirs(d, exist_ok=True)
        size = int(math.exp(rng.uniform(math.log(lo), math.log(hi)))) if hi > lo else lo
        with open(os.path.join(d, "f%06d.so" % i), "wb") as f:
            f.write(chunk(size))
        total += size
    if n_large:
        os.makedirs(os.path.join(root, "blobs"), exist_ok=True)
    for i in range(n_large):
        with open(os.path.join(root, "blobs", "image%03d.bin" % i), "wb") as f:
            for _ in range(large // (1 << 20)):
                f.write(chunk(1 << 20))
        total += large
    print("%s: %d files, %.1f MB" % (root, n_small + n_large, total / 1e6))


if __name__ == "__main__":
    main()
