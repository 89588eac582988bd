#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Written by an independent tester from the man pages alone, without reading
# the implementation.
#
# endpointctl(1) OUTPUT: on a terminal, long output (here --help) goes to a
# pager; less runs with LESSSECURE=1 when endpointctl runs as root, "so that
# the pager cannot start a shell". Root's environment is tricked in every
# way that does not simply name another program, and in the pager the
# commands that start a process or write a file are typed: none may run.
#   1. the default pager (less): !cmd, |cmd, v (editor), s (log file), :e
#   2. LESSSECURE preset to "" or 0 (less treats an empty value as unset)
#   3. PAGER / SYSTEMD_PAGER naming less by name, path, symlink, with options
#   4. SYSTEMD_LESS with a +!cmd start command, LESS=-+S, LESSOPEN=|-cmd,
#      LESSKEYIN with a shell binding
#   5. a control: the same keys as an unprivileged uid do reach a shell
#      (so the driver works and the checks above can fail)
# The cases where a root shell is possible are in findings3-pager.sh.
. "$top_srcdir/tests/attack/lib.sh"
. "$top_srcdir/tests/attack/indep-lib.sh"

[ "$(id -u)" = 0 ] || ep_skip "the pager's root-only secure mode needs root"
command -v less >/dev/null || ep_skip "less is not installed"
ep_setup --no-tpm
chmod 0777 "$EP_TMP"
SH='!/usr/bin/touch @MARK@\n'

# no_escape WHAT KEYS [VAR=VALUE...]
no_escape() {
        local what=$1
        shift
        if indep_pager_escape "$@"; then
                ep_fail "root endpointctl: $what ran a command in the pager: $(tail -c 300 "$EP_TMP/pager.out")"
        fi
        ep_ok "root endpointctl: $what ran nothing"
}

ep_attack "root endpointctl --help in the default pager: !cmd, |cmd, v, s FILE, :e FILE then !cmd"
no_escape "!cmd in less" "$SH"
grep -q 'lines 1-' "$EP_TMP/pager.out" || ep_fail "less was not the pager: $(tail -c 300 "$EP_TMP/pager.out")"
ep_ok "less showed the help page"
no_escape "|cmd in less" '|$/usr/bin/touch @MARK@\n'
no_escape "v in less" v VISUAL="/usr/bin/touch @MARK@" EDITOR="/usr/bin/touch @MARK@"
no_escape "s FILE in less" 's@MARK@\n'
no_escape ":e then !cmd in less" ":e$EP_SRC/README.md\\n$SH"

ep_attack "root endpointctl with LESSSECURE preset to the empty string and to 0"
no_escape "LESSSECURE=" "$SH" LESSSECURE=
no_escape "LESSSECURE=0" "$SH" LESSSECURE=0

ep_attack "root endpointctl with PAGER/SYSTEMD_PAGER naming less in other ways"
no_escape "PAGER=less" "$SH" PAGER=less
no_escape "PAGER=/usr/bin/less -R" "$SH" "PAGER=$(command -v less) -R"
no_escape "SYSTEMD_PAGER=less" "$SH" SYSTEMD_PAGER=less PAGER=cat
ln -s "$(command -v less)" "$EP_TMP/mypager"
no_escape "PAGER=a symlink to less" "$SH" PAGER="$EP_TMP/mypager"
no_escape "PAGER=env less" "$SH" "PAGER=env less"

ep_attack "root endpointctl with SYSTEMD_LESS=+!cmd, LESS=-+S, LESSOPEN=|-cmd, LESSKEYIN"
no_escape "SYSTEMD_LESS +!cmd" '' 'SYSTEMD_LESS=FRSXMK +!/usr/bin/touch\ @MARK@'
no_escape "LESS=-+S" "$SH" LESS=-+S
no_escape "LESSOPEN=|-cmd" '' 'LESSOPEN=|-/usr/bin/touch @MARK@'
printf '#command\nx shell\n' >"$EP_TMP/lesskey"
no_escape "LESSKEYIN" "x/usr/bin/touch @MARK@\\n" LESSKEYIN="$EP_TMP/lesskey"

ep_attack "control: the same !cmd as uid 65534 does start a shell in less (no secure mode)"
if indep_pager_escape "$SH" setpriv --reuid=65534 --regid=65534 --clear-groups env; then
        ep_ok "uid 65534 ran a command from less: the driver reaches the pager"
else
        ep_fail "the control did not reach a shell: $(tail -c 300 "$EP_TMP/pager.out")"
fi
ep_done
