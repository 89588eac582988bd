#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A file that changes while it is being hashed is reported, not trusted:
# a writer keeps rewriting the first byte with the same value during the
# whole scan, so the content never differs but its digest proves nothing.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-integrity-lib.sh"

ep_setup --no-tpm
ep_pki_init
ep_config Integrity Watch no
R=$EP_ROOT
mkdir -p "$R/data"
{ printf A; head -c 134217727 /dev/zero; } >"$R/data/image.bin"
ep_start
it_manifest 1 "$EP_TMP/m"
it_install "$EP_TMP/m" "$EP_TMP/m.sig" || ep_fail "install failed"
ep_expect_exit 0 ep_ctl --no-progress scan

# Rewrites byte 0 with 'A' (what is there) for as long as it runs.
( while :; do printf A 1<>"$R/data/image.bin"; done ) &
writer=$!
EP_PIDS+=("$writer")
ep_expect_exit 5 ep_ctl --no-progress scan
kill "$writer"
wait "$writer" 2>/dev/null
it_expect_kind data/image.bin modified
ep_assert_contains "$(ep_ctl --json violations | jq -r '.[0].detail')" "changed while it was being hashed" \
        "the detail says why"

# The content itself is unchanged: once left alone it verifies.
ep_expect_exit 0 ep_ctl verify data/image.bin
ep_expect_exit 0 ep_ctl --no-progress scan

# Other clients coming and going during a scan do not end `endpointctl
# scan`'s wait (it once took any NameOwnerChanged for the daemon's exit).
# A sparse file of zeros keeps the scan busy for a while; its digest is
# fixed: 4 GiB natively, 256 MiB under a wrapper (valgrind hashes at about
# 15 MB/s: the 4 GiB scan took 270 s there). The calls that once timed out
# here under valgrind waited behind the scan's progress timer; see
# test-integrity-slow-loop.sh.
if [ -z "$EP_DAEMON_WRAPPER" ]; then
        size=4294967296 digest=8479e43911dc45e89f934fe48d01297e16f51d17aa561d4d1c216b1ae0fcddca
else
        size=268435456 digest=a6d72ac7690f53be6ae46ba88506bd97302a093f7108472bd9efc3cefda06484
        ep_log "under $EP_DAEMON_WRAPPER: a $size-byte file keeps the scan busy"
fi
truncate -s "$size" "$R/data/sparse.img"
it_manifest 2 "$EP_TMP/m2"
grep -v '^./data/sparse.img ' "$EP_TMP/m2" >"$EP_TMP/m3"
echo "./data/sparse.img type=file mode=644 size=$size sha256digest=$digest" >>"$EP_TMP/m3"
ep_sign "$EP_TMP/m3" "$EP_TMP/m3.sig"
it_install "$EP_TMP/m3" "$EP_TMP/m3.sig" || ep_fail "install of the sparse manifest failed"
ep_ctl --no-progress scan >"$EP_TMP/scan.out" 2>&1 &
scanner=$!
EP_PIDS+=("$scanner")
for _ in 1 2 3 4 5; do ep_ctl status >/dev/null; done
rc=0
wait "$scanner" || rc=$?
ep_assert_eq "$rc" 0 "scan exit status with other clients around ($(cat "$EP_TMP/scan.out"))"
ep_done
