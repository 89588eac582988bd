#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Defect found by an independent tester (from the man pages alone): this
# test failed on the code it was written against; fixed by the pager's
# secure mode (only less, or no pager, as root).
#
# endpointctl(1) OUTPUT promises that when endpointctl runs as root the
# pager "cannot start a shell" (LESSSECURE=1). That holds for less only.
# The page itself names more(1) as the pager when less is not installed,
# and more (util-linux) has no secure mode: its !cmd runs a shell as root.
#   1. less not installed (PATH without less, as on a small device image;
#      sudo's secure_path does not help): root endpointctl --help, !cmd in
#      more -> runs as root
#   2. PAGER=more or SYSTEMD_PAGER=more (kept by sudo -E or env_keep):
#      the same
# systemctl(1), whose pager rules the page copies, refuses in secure mode
# every pager that is not known to have one (SYSTEMD_PAGERSECURE).
# Expected: no command runs (no pager, or less in secure mode).
. "$top_srcdir/tests/attack/lib.sh"
. "$top_srcdir/tests/attack/indep-lib.sh"

[ "$(id -u)" = 0 ] || ep_skip "the pager's root-only secure mode needs root"
MORE=$(command -v more) || ep_skip "more is not installed"
ep_setup --no-tpm
chmod 1777 "$EP_TMP"
SH='!/usr/bin/touch @MARK@\n'
mkdir "$EP_TMP/bin"
ln -s "$MORE" "$EP_TMP/bin/more"

ep_attack "root endpointctl --help with no less in PATH (more is the fallback): !cmd"
if indep_pager_escape "$SH" PATH="$EP_TMP/bin"; then
        ep_fail "root endpointctl without less: more ran '!touch' as root (endpointctl(1) OUTPUT: the pager cannot start a shell)"
fi
ep_ok "no less: nothing ran"

ep_attack "root endpointctl --help with PAGER=more / SYSTEMD_PAGER=more: !cmd"
for var in PAGER=more SYSTEMD_PAGER=more; do
        if indep_pager_escape "$SH" "$var"; then
                ep_fail "root endpointctl with $var: more ran '!touch' as root"
        fi
        ep_ok "$var: nothing ran"
done
ep_done
