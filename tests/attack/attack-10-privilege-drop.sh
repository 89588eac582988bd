#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Item 10 of the attack run of issue 8 (written by the authors, test first):
# started as root with User= naming another user, endpointd exited, because
# it gave up CAP_SETPCAP before it shrank its capability bounding set
# (PR_CAPBSET_DROP failed with EPERM). This script starts the daemon both
# ways it is meant to run:
#
#   root: as root, dropping to User= by itself;
#   unit: as the unit does, already as User= with ambient CAP_DAC_READ_SEARCH
#         (setpriv mirrors User=, Group=, SupplementaryGroups=tss,
#         AmbientCapabilities=, CapabilityBoundingSet= and NoNewPrivileges=
#         of systemd/endpointd.service.in);
#
# and checks in /proc/PID/status that it ends up with the user's uid and
# gids, CAP_DAC_READ_SEARCH (0x4) as its only capability, nothing ambient or
# inheritable, a reduced bounding set, no_new_privs and the system call
# filter; that it serves status and still hashes a root-only file; and that
# a User= that does not exist, or a User= other than the user it was started
# as, stops it with a sentence and exit status 1.
. "$top_srcdir/tests/attack/lib.sh"
. "$top_srcdir/tests/integration/test-integrity-lib.sh"

[ "$(id -u)" = 0 ] || ep_skip "needs root to start the daemon as root and as another user"
setpriv --help 2>&1 | grep -q -- --ambient-caps || ep_skip "setpriv cannot set ambient capabilities"
# An existing system user stands in for "endpointd"; nothing is added to the machine.
AT_USER=daemon
getent passwd "$AT_USER" >/dev/null || ep_skip "there is no user '$AT_USER' to run the daemon as"
AT_UID=$(id -u "$AT_USER")
AT_GID=$(id -g "$AT_USER")
AT_TSS=$(getent group tss | cut -d: -f3)
# What both ways must end with: the user's group and tss, nothing else.
AT_GROUPS=$(printf '%s\n' "$AT_GID" $AT_TSS | sort -nu | tr '\n' ' ' | sed 's/ $//')
AT_WRAPPER=$EP_DAEMON_WRAPPER

ep_setup
ep_pki_init
ep_config Integrity Watch no
ep_config Daemon User "$AT_USER"

# The device tree holds a file only root may read, in a directory only root
# may search: hashing it needs CAP_DAC_READ_SEARCH.
mkdir -p "$EP_ROOT/bin" "$EP_ROOT/etc/private"
echo "pump" >"$EP_ROOT/bin/pumpd"
echo "calibration=42" >"$EP_ROOT/etc/private/calibration.conf"
chown -R 0:0 "$EP_ROOT/etc/private"
chmod 0700 "$EP_ROOT/etc/private"
chmod 0600 "$EP_ROOT/etc/private/calibration.conf"
# One manifest per way of starting: the second state directory is a fresh
# one on the same TPM, whose NV serial floor (endpointd-tpm(7)) refuses the
# first manifest again.
it_manifest 1 "$EP_TMP/m.root"
it_manifest 2 "$EP_TMP/m.unit"

# at_status FIELD: the values of one line of the daemon's /proc/PID/status.
at_status() {
        awk -v f="$1:" '$1 == f { $1 = ""; sub(/^[ \t]+/, ""); print }' "/proc/$EP_DAEMON_PID/status"
}

# at_caps WAY: the identity and capabilities of the running daemon.
at_caps() {
        local way=$1

        ep_attack "$way: the daemon runs as $AT_USER in every uid and gid"
        ep_assert_eq "$(at_status Uid | tr -s ' \t' ' ')" "$AT_UID $AT_UID $AT_UID $AT_UID" \
                "$way: Uid (real, effective, saved, filesystem)"
        ep_assert_eq "$(at_status Gid | tr -s ' \t' ' ')" "$AT_GID $AT_GID $AT_GID $AT_GID" \
                "$way: Gid (real, effective, saved, filesystem)"
        ep_assert_eq "$(at_status Groups | tr -s ' \t' '\n' | sed '/^$/d' | sort -nu | tr '\n' ' ' | sed 's/ $//')" \
                "$AT_GROUPS" "$way: supplementary groups (own group and tss only)"

        ep_attack "$way: CAP_DAC_READ_SEARCH is the only capability left"
        ep_assert_eq "$(at_status CapEff)" 0000000000000004 "$way: CapEff"
        ep_assert_eq "$(at_status CapPrm)" 0000000000000004 "$way: CapPrm"
        ep_assert_eq "$(at_status CapInh)" 0000000000000000 "$way: CapInh"
        ep_assert_eq "$(at_status CapAmb)" 0000000000000000 "$way: CapAmb (the daemon executes nothing)"
        ep_assert_eq "$(at_status CapBnd)" 0000000000000004 "$way: CapBnd"

        ep_attack "$way: no_new_privs and the system call filter are in force"
        ep_assert_eq "$(at_status NoNewPrivs)" 1 "$way: NoNewPrivs"
        if [ -z "$EP_DAEMON_WRAPPER$EP_SANITIZED" ]; then
                ep_assert_eq "$(at_status Seccomp)" 2 "$way: Seccomp (filter mode)"
        else
                ep_log "$way: Seccomp not checked (off under a wrapper or sanitizer)"
        fi

        ep_attack "$way: a process of the daemon's own uid cannot read its memory"
        if setpriv --reuid="$AT_UID" --regid="$AT_GID" --clear-groups \
                cat "/proc/$EP_DAEMON_PID/environ" >/dev/null 2>&1; then
                ep_fail "$way: uid $AT_UID read /proc/$EP_DAEMON_PID/environ of the daemon"
        fi
        ep_ok "$way: uid $AT_UID cannot read /proc/PID/environ of the daemon"
}

# at_works WAY STATE_DIR: the daemon serves, hashes what only root may read,
# and can write its state directory.
at_works() {
        local way=$1 state=$2 out

        ep_attack "$way: the daemon answers endpointctl status"
        out=$(ep_ctl status 2>&1) || ep_fail "$way: endpointctl status failed: $out"
        ep_ok "$way: endpointctl status answers"

        ep_attack "$way: a root-only 0600 file below a 0700 directory is still hashed"
        it_install "$EP_TMP/m.$way" "$EP_TMP/m.$way.sig" || ep_fail "$way: manifest install failed"
        # A full scan (it waits for the one the install started) finds
        # nothing: the root-only file was read and matched.
        ep_expect_exit 0 ep_ctl --no-progress scan
        ep_expect_exit 0 ep_ctl verify etc/private/calibration.conf
        ep_assert_contains "$(cat "$EP_TMP/last.out")" "State: ok" "$way: verify of the root-only file"

        ep_attack "$way: the state directory belongs to $AT_USER and takes a new key"
        ep_assert_eq "$(stat -c %u "$state")" "$AT_UID" "$way: owner of the state directory"
        ep_expect_exit 0 ep_ctl key create "k-$way"
}

# ---- 1: started as root, drops to User= by itself ----
ep_config Daemon StateDirectory "$EP_TMP/state-root"
ep_attack "root: started as root with User=$AT_USER, the daemon starts"
ep_start
ep_ok "root: READY=1 after dropping to $AT_USER"
at_caps root
at_works root "$EP_TMP/state-root"
ep_stop TERM
ep_assert_eq "$EP_DAEMON_RC" 0 "root: exit status after SIGTERM"

# ---- 2: started as the unit starts it ----
# systemd creates StateDirectory= for User= before it starts the daemon.
install -d -m 0700 -o "$AT_UID" -g "$AT_GID" "$EP_TMP/state-unit"
ep_config Daemon StateDirectory "$EP_TMP/state-unit"
AT_UNIT="setpriv --reuid=$AT_UID --regid=$AT_GID --groups=$(echo "$AT_GROUPS" | tr ' ' ,)
        --inh-caps=-all,+dac_read_search --ambient-caps=-all,+dac_read_search
        --bounding-set=-all,+dac_read_search --no-new-privs --"
ep_attack "unit: started as $AT_USER with ambient CAP_DAC_READ_SEARCH, the daemon starts"
EP_DAEMON_WRAPPER="$AT_UNIT $AT_WRAPPER"
ep_start
EP_DAEMON_WRAPPER=$AT_WRAPPER
ep_ok "unit: READY=1"
at_caps unit
at_works unit "$EP_TMP/state-unit"
ep_stop TERM
ep_assert_eq "$EP_DAEMON_RC" 0 "unit: exit status after SIGTERM"

# ---- 3: start-up refusals: a sentence and exit status 1, never a crash ----
# at_refused WHAT EXPECTED-TEXT [setpriv args...]: the daemon must exit 1
# within 30 s and say EXPECTED-TEXT.
at_refused() {
        local what=$1 text=$2 rc=0 out
        shift 2
        ep_write_config
        chmod 0644 "$EP_CONF"
        out=$(timeout 30 "$@" $AT_WRAPPER "$EP_BUILD/endpointd" --config "$EP_CONF" 2>&1) || rc=$?
        ep_assert_eq "$rc" 1 "$what: exit status"
        ep_assert_contains "$out" "$text" "$what: the message"
        case $out in
        *Sanitizer*|*"Invalid read"*|*"Invalid write"*|*"definitely lost"*)
                ep_fail "$what: $out" ;;
        esac
}

ep_config Daemon StateDirectory "$EP_TMP/state-refused"
ep_config Daemon User no-such-user-endpointd
ep_attack "root: User= names a user that does not exist"
at_refused "root, unknown User=" "User 'no-such-user-endpointd' (User= in the configuration) does not exist" env
ep_attack "unit: User= names a user that does not exist"
at_refused "unit, unknown User=" "User 'no-such-user-endpointd' (User= in the configuration) does not exist" $AT_UNIT

ep_config Daemon User "$AT_USER"
ep_attack "root: StateDirectory= a shared directory: refused, not handed to User="
mkdir -p "$EP_TMP/shared-state"
chmod 0755 "$EP_TMP/shared-state"
ep_config Daemon StateDirectory "$EP_TMP/shared-state"
at_refused "root, StateDirectory= mode 0755" "is open to other users (mode 0755)" env
[ "$(stat -c %u "$EP_TMP/shared-state")" = 0 ] || ep_fail "the shared state directory was handed to $AT_USER"
ep_ok "the shared directory still belongs to root"
ep_config Daemon StateDirectory "$EP_TMP/state-refused"

ep_attack "started as nobody with User=$AT_USER: refused, not run as nobody"
at_refused "nobody, User=$AT_USER" "runs as uid 65534, but User=$AT_USER is uid $AT_UID" \
        setpriv --reuid=65534 --regid=65534 --clear-groups --
ep_attack "started as $AT_USER with User=root: refused, not run as $AT_USER"
ep_config Daemon User root
at_refused "$AT_USER, User=root" "runs as uid $AT_UID, but User=root is uid 0" $AT_UNIT

ep_done
