# SPDX-License-Identifier: LGPL-2.1-or-later
# The access policy part of the README demo (sourced by demo/run.sh).

demo_policy() {
        say "Access policy: the shipped example (conf/policy.conf), checked and loaded"
        cp "$top_srcdir/conf/policy.conf" "$EP_POLICY"
        run endpointctl policy verify "$EP_POLICY" || return 1
        run endpointctl policy reload || return 1
        run endpointctl policy show | grep -v '^$' | head -n 24

        say "An unprivileged caller: uid 1 with primary group adm (the 'monitor' role)"
        run setpriv --reuid=1 --regid=adm --clear-groups endpointctl status || return 1
        run setpriv --reuid=1 --regid=adm --clear-groups endpointctl policy check status.read || return 1
        local rc=0
        run setpriv --reuid=1 --regid=adm --clear-groups endpointctl policy reload || rc=$?
        echo "(exit status $rc: denied, and the daemon logged it)"
        [ "$rc" -eq 4 ] || return 1
        grep "Denied policy.reload to uid 1" "$EP_TMP/daemon.log" | tail -n 1
        return 0
}
