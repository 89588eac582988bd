#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Watching: a change to the tree is reported without anyone calling Scan()
# (inotify recheck of the touched path), and undoing it clears the violation.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-integrity-lib.sh"

ep_setup --no-tpm
ep_pki_init
ep_config Integrity Watch yes
ep_config Integrity ScanInterval infinity
R=$EP_ROOT
mkdir -p "$R/bin" "$R/lib"
echo "pump daemon" >"$R/bin/pumpd"
echo "library" >"$R/lib/libpump.so"
ep_start
it_manifest 1 "$EP_TMP/m"
it_install "$EP_TMP/m" "$EP_TMP/m.sig" || ep_fail "install failed"
ep_expect_exit 0 ep_ctl --no-progress scan
last=$(it_prop LastScan)

# it_wait_kind PATH KIND: polls (up to 30 s; no timing is asserted) until
# the violation list says KIND for PATH.
it_wait_kind() {
        local k
        for _ in $(seq 300); do
                k=$(it_kind "$1")
                [ "$k" = "$2" ] && { ep_ok "'$1' became '$2' without a Scan()"; return 0; }
                sleep 0.1
        done
        ep_fail "'$1' is '$k', expected '$2'"
}

cp "$R/bin/pumpd" "$EP_TMP/pumpd.orig"
echo "trojan" >>"$R/bin/pumpd"
it_wait_kind bin/pumpd modified
ep_assert_eq "$(it_prop IntegrityState)" violated "state after a watched change"

cp "$EP_TMP/pumpd.orig" "$R/bin/pumpd"
it_wait_kind bin/pumpd none
ep_assert_eq "$(it_prop IntegrityState)" trusted "state after undoing it"

echo "dropper" >"$R/lib/evil.so"
it_wait_kind lib/evil.so unexpected
rm "$R/lib/evil.so"
it_wait_kind lib/evil.so none

chmod 4755 "$R/lib/libpump.so"
it_wait_kind lib/libpump.so metadata
chmod 644 "$R/lib/libpump.so"
it_wait_kind lib/libpump.so none

# A listed directory replaced by a copy: the new one is watched too.
cp -a "$R/lib" "$EP_TMP/lib.copy"
rm -r "$R/lib"
it_wait_kind lib missing
cp -a "$EP_TMP/lib.copy" "$R/lib"
it_wait_kind lib none
it_wait_kind lib/libpump.so none
ep_assert_eq "$(it_prop IntegrityState)" trusted "state once the directory is back"
echo "dropper" >"$R/lib/evil2.so"
it_wait_kind lib/evil2.so unexpected

rm "$R/bin/pumpd"
it_wait_kind bin/pumpd missing

ep_assert_eq "$(it_prop LastScan)" "$last" "no full scan ran meanwhile"
ep_done
