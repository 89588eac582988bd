#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Written by an independent tester from the man pages and the D-Bus contract
# alone, without reading the implementation.
#
# Findings on Keys1: attacks the daemon did not resist when they were found.
# Each test asserts the documented behaviour; they failed until the daemon
# was fixed and now run in the suite (mk/attack.am) as regression tests.
#   1. someone who can write the state directory puts a FIFO, a symlink to
#      /dev/zero or a directory in place of StateDirectory/keys/NAME.key:
#      endpointd-dbus(7) lists for Unseal NotFound, AccessDenied,
#      PcrMismatch, WrongDevice, Tampered ("the file was changed: it fails
#      the TPM's integrity check or does not parse") and TpmUnavailable,
#      and allows no error names outside AccessDenied, InvalidArgs and
#      org.endpointd.Error.*; the daemon answers System.Error.EBADFD and
#      System.Error.EISDIR (a regular file with garbage, or a symlink to
#      /etc/passwd, gives Tampered as documented)
. "$top_srcdir/tests/attack/lib.sh"
. "$top_srcdir/tests/attack/indep-lib.sh"

ep_setup
ep_start
indep_write_helper
K=org.endpointd.Keys1
KEYS=$EP_STATE/keys
indep_expect_ok call $K Seal 'saya{sv}' '("s1", ay(b"secret"), {})'

ep_attack "state-directory writer puts a FIFO, a symlink to /dev/zero and a directory in place of key files"
mkfifo "$KEYS/fifo.key"
ln -s /dev/zero "$KEYS/zero.key"
mkdir "$KEYS/dir.key"
failed=0
for n in fifo zero dir; do
        for m in "Unseal s (\"$n\",)" "Encrypt sayay (\"$n\",ay(b\"x\"),ay(b\"\"))"; do
                read -r method sig args <<<"$m"
                out=$(timeout 20 "$EP_PY" "$EP_TMP/call.py" $K "$method" "$sig" "$args" 2>&1)
                case $out in
                "ERR org.endpointd.Error.Tampered "*|"ERR org.endpointd.Error.NotFound "*) ep_ok "$method $n.key: ${out:0:60}" ;;
                *) ep_log "FAIL: $method on $n.key: expected Tampered (or NotFound), got: $out"; failed=1 ;;
                esac
        done
done
indep_alive "odd key files"
indep_expect_ok call $K Unseal s '("s1",)'
[ $failed = 0 ] || ep_fail "odd key files answered with undocumented error names"

ep_log "$EP_ATTACKS attacks"
ep_done
