# SPDX-License-Identifier: LGPL-2.1-or-later
# Attack suite harness: sourced by every tests/attack/*.sh. It is the
# integration harness (real swtpm, private dbus-daemon, endpointd from the
# build tree, unprivileged callers through setpriv) plus one helper that
# names each attack, so the suite can be counted:
#
#   ep_attack "uid 65534 sends VerifyFile with 2 fds attached"
#   ... reproduce it, then assert on what must happen instead ...
#
# Every attack starts with ep_attack; `grep -c '^ep_attack\|[^_]ep_attack '
# tests/attack/*.sh` counts them. Files named attack-NN-*.sh reproduce item
# NN of the attack run of issue 8 (written by the authors, test first);
# files named indep-*.sh were written by a tester who had not read the
# implementation, from the man pages and the D-Bus contract alone.
. "$top_srcdir/tests/integration/lib.sh"

EP_ATTACKS=0
ep_attack() {
        EP_ATTACKS=$((EP_ATTACKS + 1))
        ep_log "attack $EP_ATTACKS: $*"
}
