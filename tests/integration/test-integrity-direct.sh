#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The scanner's direct way (endpointd(8), "Integrity"): settled regular
# files are opened, read and fstat'ed without an lstat first, and large
# ones hashed from a mapping of their listed size. Under the daemon's real
# sandbox (system call filter, dropped privileges):
# - a settled tree is trusted, with every file read the direct way (the
#   journal's scan-finished line counts them);
# - a large file shorter than listed makes the mapping fault (SIGBUS): the
#   daemon survives, and the file is reported modified (size);
# - a file of the right size and other bytes, settled, is caught the
#   direct way, and one changed just now the careful way.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-integrity-lib.sh"

ep_setup --no-tpm
ep_pki_init
ep_config Integrity Watch no
ep_config Integrity ScanInterval infinity
# One worker: the directories' listings (which tell the file types) always
# come before the files; with two, a file taken while the other worker
# still lists its directory goes the careful way, and the counts vary.
ep_config Integrity ScanThreads 1
ep_config Daemon LogLevel info
R=$EP_ROOT
mkdir -p "$R/bin" "$R/lib/firmware"
for i in $(seq 20); do echo "tool $i" >"$R/bin/tool$i"; done
head -c $((6 << 20)) /dev/zero | tr '\0' 'f' >"$R/lib/firmware/pump.bin"
head -c $((3 << 20)) /dev/zero | tr '\0' 'g' >"$R/lib/firmware/gauge.bin"

# The direct way needs openat2(), which valgrind (3.19) does not know:
# under it every file goes the careful way.
case ${EP_DAEMON_WRAPPER:-} in *valgrind*) careful_only=1 ;; *) careful_only=0 ;; esac

# d_direct: the number of files the last finished scan read the direct way.
d_direct() {
        [ "$careful_only" = 1 ] && { echo "${1:-}"; return; }
        sed -n 's/.*Scan [0-9]* finished: .* \([0-9]*\) files read without a stat first.*/\1/p' \
                "$EP_TMP/daemon.log" | tail -n 1
}

it_manifest 1 "$EP_TMP/m1"
# gauge.bin listed at 3 MiB, then cut to 1 MiB: mapped at its listed size,
# the pages past 1 MiB raise SIGBUS.
truncate -s $((1 << 20)) "$R/lib/firmware/gauge.bin"
# Settled: older than the scanner's 2 s margin.
sleep 3
ep_start
it_install "$EP_TMP/m1" "$EP_TMP/m1.sig" || ep_fail "install failed"
ep_expect_exit 5 ep_ctl --no-progress scan
kill -0 "$EP_DAEMON_PID" || ep_fail "endpointd died (SIGBUS not caught)"
ep_ok "endpointd survived a mapping that faulted past the end of a file"
it_expect_kind lib/firmware/gauge.bin modified
ep_assert_contains "$(ep_ctl --json violations | jq -r '.[] | select(.path == "lib/firmware/gauge.bin") | .detail')" \
        "size" "the detail names the size"
ep_assert_eq "$(ep_ctl --json violations | jq length)" 1 "nothing else is reported"
ep_assert_eq "$(d_direct 21)" 21 "the other 21 files were read the direct way"

# A correct manifest: all 22 files the direct way, trusted.
it_manifest 2 "$EP_TMP/m2"
sleep 3
it_install "$EP_TMP/m2" "$EP_TMP/m2.sig" || ep_fail "install of the second manifest failed"
ep_expect_exit 0 ep_ctl --no-progress scan
ep_assert_eq "$(d_direct 22)" 22 "every file was read the direct way"

# Same size, other bytes: changed now (the careful way), then settled (the
# direct way): caught both times.
printf 'tOOl 7\n' >"$R/bin/tool7"
ep_expect_exit 5 ep_ctl --no-progress scan
it_expect_kind bin/tool7 modified
ep_assert_eq "$(d_direct 21)" 21 "the file changed just now went the careful way"
sleep 3
ep_expect_exit 5 ep_ctl --no-progress scan
it_expect_kind bin/tool7 modified
ep_assert_eq "$(d_direct 22)" 22 "settled, it went the direct way and was caught"
ep_done
