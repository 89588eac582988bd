# SPDX-License-Identifier: LGPL-2.1-or-later
# Board mode of the benchmarks (see bench/board.sh): with BOARD_CGROUP set
# (a cgroup directory with a CPU cap) and BOARD_CPU (one CPU number), the
# daemon, its clients and the tools compared with it run pinned to that CPU
# inside the cgroup; swtpm, standing in for the TPM chip, does not. Without
# BOARD_CGROUP every function here does nothing.

# board_confine PID...: pins each process (all its threads) and moves it in.
board_confine() {
        [ -n "${BOARD_CGROUP:-}" ] || return 0
        local p
        for p; do
                taskset -a -p -c "$BOARD_CPU" "$p" >/dev/null || ep_fail "taskset $p"
                echo "$p" >"$BOARD_CGROUP/cgroup.procs" || ep_fail "cannot move $p into $BOARD_CGROUP"
        done
}

# board_self: confines the calling (sub)shell and so everything it starts.
board_self() { board_confine "$BASHPID"; }

# cputime PID: CPU time of all its threads so far, in ns (schedstat).
cputime() {
        local s=0 f a
        for f in /proc/"$1"/task/*/schedstat; do read -r a _ <"$f" && s=$((s + a)); done
        echo "$s"
}
