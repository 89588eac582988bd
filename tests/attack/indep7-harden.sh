#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Written by an independent tester from the man pages alone, without reading
# the implementation.
#
# Hardening and reliability (issue 11): the daemon runs for years unwatched
# and must survive its TPM, disk, bus and clients misbehaving (endpointd(8)
# FAULTS), and give code running inside it as little as possible
# (endpointd(8) PRIVILEGES, SANDBOX). On swtpm and a private bus, User=nobody
# (no endpointd user on a test machine), Seccomp= as the harness sets it:
#   1. the sandbox: /proc/PID/status started as root with User= and started
#      as the user the way the unit does it (setpriv with the unit's ambient
#      capability, bounding set and NoNewPrivileges); system calls injected
#      into the running daemon with ptrace (indep7-inject): the forbidden
#      ones kill it by SIGSYS with the documented line, the permitted ones
#      (isatty's TCGETS, clone3, AF_UNIX sockets, kill of itself) do not
#   2. clients: 500 connections of one uid that never read, 10,000 calls
#      hung up at once, descriptors of every kind to InstallManifest,
#      unreferenced descriptors, the largest messages the bus carries, deep
#      variants, a pipelined flood; meanwhile another uid's status read is
#      answered (its latency is logged), and the daemon's descriptors and
#      RSS come back (logged); the per-uid rate limit
#   3. the state directory on a small tmpfs filled by another file: key
#      create, seal, manifest install and grant install answer NoSpace,
#      nothing is changed on disk, the audit log verifies, and everything
#      works once space is freed
#   4. swtpm killed (SIGKILL) 6 times during Seal, Unseal, Attest and
#      CreateKey and started again on its state; then the TPM connection cut
#      (by a proxy in front of swtpm) right after a chosen command of each
#      operation is sent: TpmUnavailable, no stray key files, acknowledged
#      keys stay, the daemon reconnects and every operation works again
#   5. the bus daemon restarted under endpointd: it exits with status 1 and
#      the documented line, every acknowledged change is kept, and it starts
#      on the new bus
#   6. SIGHUP storms during calls; RLIMIT_NOFILE low (prlimit) and 2000
#      connections; SIGPIPE, which endpointd(8) SIGNALS says is ignored,
#      and SIGUSR1, SIGUSR2 and SIGALRM, which have their default action
# A finding (behaviour the man pages contradict) is logged as "FINDING n:",
# the remaining attacks still run, and the test fails at the end; what the
# man pages leave open is logged as "undocumented:" and does not fail.
# INDEP7_PARTS="1 3" runs only those parts (default: all); INDEP7_KILLS=N
# kills swtpm N times in part 4 (default 6).
. "$top_srcdir/tests/attack/lib.sh"
. "$top_srcdir/tests/attack/indep-lib.sh"

[ "$(id -u)" = 0 ] || ep_skip "needs root (fault injection, tmpfs, setpriv)"
[ "$(uname -m)" = x86_64 ] || ep_skip "the system call injector is x86-64 only"
command -v prlimit >/dev/null || ep_skip "prlimit is not installed"
command -v jq >/dev/null || ep_skip "jq is not installed"
PARTS=${INDEP7_PARTS:-1 2 3 4 5 6}
part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

FINDINGS=0
finding() {
        FINDINGS=$((FINDINGS + 1))
        ep_log "FINDING $FINDINGS: $*"
}
undocumented() { ep_log "undocumented: $*"; }
measure() { ep_log "measured: $*"; }

ep_setup
ep_pki_init
USER_NAME=nobody
USER_UID=$(id -u "$USER_NAME")
USER_GID=$(id -g "$USER_NAME")
TSS_GID=$(getent group tss | cut -d: -f3)
ep_config Daemon User "$USER_NAME"
ep_config Integrity ScanInterval infinity
cat >>"$EP_POLICY" <<'POL'

[Role]
Name=reader
Permissions=status.read

[Role]
Name=operator
Permissions=status.read keys.* device.sign device.attest integrity.* grants.install policy.read audit.read audit.verify

[Subject]
UID=7
Roles=reader

[Subject]
UID=8
Roles=operator

[Subject]
UID=10
Roles=reader
POL
chmod 0644 "$EP_POLICY"
indep_write_helper
W=$EP_TMP/w
mkdir -p "$W"
chmod 0777 "$W"
CTL=$EP_BUILD/endpointctl
INJECT=$EP_BUILD/indep7-inject
[ -x "$INJECT" ] || ep_fail "$INJECT is not built (make check builds it)"
PY() { "$EP_PY" "$EP_SRC/tests/attack/indep7-harden.py" "$@"; }
# PYAS UID ARGS: the raw client as UID.
PYAS() {
        local u=$1
        shift
        ep_as "$u" "$EP_PY" "$EP_SRC/tests/attack/indep7-harden.py" "$@"
}
# hold NAME CMD...: runs CMD in the background with its standard input
# from a FIFO this shell keeps open (release NAME closes it: CMD sees EOF),
# output in $W/NAME.out; waits up to 120 s for its first line.
declare -A HOLD_PID HOLD_FD
hold() {
        local name=$1 fd
        shift
        rm -f "$W/$name.fifo" "$W/$name.out"
        mkfifo "$W/$name.fifo"
        "$@" <"$W/$name.fifo" >"$W/$name.out" 2>&1 &
        HOLD_PID[$name]=$!
        exec {fd}>"$W/$name.fifo"
        HOLD_FD[$name]=$fd
        for _ in $(seq 1200); do
                [ -s "$W/$name.out" ] && break
                kill -0 "${HOLD_PID[$name]}" 2>/dev/null || break
                sleep 0.1
        done
}
release() {
        local fd=${HOLD_FD[$1]}
        exec {fd}>&-
        wait "${HOLD_PID[$1]}" 2>/dev/null
}
export INDEP7_TMP=$W

# Whether this run has the system call filter (the harness turns it off
# under valgrind and in a sanitizer build).
SECCOMP=${EP_CFG[Daemon/Seccomp]}

# daemon_fds / daemon_rss: the running daemon's open descriptors and VmRSS
# (KiB).
daemon_fds() { ls "/proc/$EP_DAEMON_PID/fd" 2>/dev/null | wc -l; }
daemon_rss() { awk '/^VmRSS:/ {print $2}' "/proc/$EP_DAEMON_PID/status" 2>/dev/null; }
status_field() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$EP_DAEMON_PID/status"; }

# stopped_by PID: waits up to 10 s for the daemon PID to end and sets
# STOP_RC to its wait status (STOP_RC=alive if it did not end).
stopped_by() {
        local pid=$1
        STOP_RC=alive
        for _ in $(seq 100); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && return 0
        STOP_RC=0
        wait "$pid" || STOP_RC=$?
        [ "$pid" = "$EP_DAEMON_PID" ] && EP_DAEMON_PID=
}

# ---------------------------------------------------------------------------
# 1. The sandbox
# ---------------------------------------------------------------------------
check_privileges() { # HOW
        local how=$1 v
        for v in CapInh:0000000000000000 CapPrm:0000000000000004 CapEff:0000000000000004 \
                 CapBnd:0000000000000004 CapAmb:0000000000000000 NoNewPrivs:1; do
                [ "$(status_field "${v%%:*}")" = "${v#*:}" ] ||
                        finding "started $how: /proc/PID/status has ${v%%:*} $(status_field "${v%%:*}"), endpointd(8) PRIVILEGES shows ${v#*:}"
        done
        if [ "$SECCOMP" = yes ]; then
                [ "$(status_field Seccomp)" = 2 ] ||
                        finding "started $how with Seccomp=yes: /proc/PID/status has Seccomp $(status_field Seccomp), endpointd(8) shows 2"
        fi
        [ "$(awk '/^Uid:/ {print $2 $3 $4 $5}' "/proc/$EP_DAEMON_PID/status")" = "$USER_UID$USER_UID$USER_UID$USER_UID" ] ||
                finding "started $how: uids are $(grep ^Uid: "/proc/$EP_DAEMON_PID/status"), not $USER_NAME's"
        [ "$(stat -c %u "/proc/$EP_DAEMON_PID")" = "$USER_UID" ] || true
        ep_ok "started $how: $(grep -E '^(Cap(Prm|Eff|Bnd|Amb|Inh)|NoNewPrivs|Seccomp):' "/proc/$EP_DAEMON_PID/status" | tr -s '\t\n' '  ')"
}

# inject_kill NAME NR ARG...: a fresh daemon is made to call NR; it must die
# by SIGSYS after the documented line naming NAME (NR).
inject_kill() {
        local name=$1 nr=$2 pid lines out
        shift 2
        ep_attack "code inside the daemon calls $name ($nr) $*: killed by SIGSYS with the documented line"
        ep_start
        pid=$EP_DAEMON_PID
        lines=$(wc -l <"$EP_TMP/daemon.log")
        out=$("$INJECT" "$pid" "$nr" "$@" 2>&1) || { finding "could not inject $name into the daemon: $out"; ep_stop; return; }
        stopped_by "$pid"
        if [ "$STOP_RC" = alive ]; then
                finding "the forbidden system call $name ($nr $*) did not kill the daemon (endpointd(8) SANDBOX: calls outside the list kill the process)"
                # A call that made a process (fork) left a child: ours, by PID.
                for c in $(ps -o pid= --ppid "$pid"); do kill -KILL "$c" 2>/dev/null; done
                ep_stop KILL
                return
        fi
        [ "$STOP_RC" = $((128 + 31)) ] ||
                finding "after $name ($nr) the daemon ended with wait status $STOP_RC, not by SIGSYS (159; endpointd(8) EXIT STATUS: killed by SIGSYS)"
        tail -n +"$((lines + 1))" "$EP_TMP/daemon.log" |
                grep -qF "endpointd: seccomp: forbidden system call $name ($nr); killing the process." ||
                finding "no line 'endpointd: seccomp: forbidden system call $name ($nr); killing the process.' on stderr (endpointd(8) SANDBOX); got: $(tail -n +"$((lines + 1))" "$EP_TMP/daemon.log" | grep -i -m3 'seccomp\|sys')"
        ep_ok "$name ($nr): wait status $STOP_RC"
}

# inject_return NR ARG...: the running daemon calls NR and goes on; prints
# the raw return value ("died N" / "signal N" if it did not return).
inject_return() {
        local out
        out=$("$INJECT" --return "$EP_DAEMON_PID" "$@" 2>&1) || { echo "error $out"; return; }
        printf '%s\n' "$out" | sed -n 's/^\(ret\|died\|signal\) /\1 /p'
}

if part 1; then
        ep_attack "started as root with User=$USER_NAME: capabilities, no_new_privs and seccomp as endpointd(8) PRIVILEGES shows"
        ep_start
        check_privileges "as root with User=$USER_NAME"
        [ "$(stat -c %U "$EP_STATE")" = "$USER_NAME" ] || finding "the state directory is owned by $(stat -c %U "$EP_STATE"), endpointd(8): started as root it hands it to User="
        [ "$(grep '^Groups:' "/proc/$EP_DAEMON_PID/status" | tr -s ' \t' ' ')" = "Groups: $( (echo "$USER_GID"; echo "$TSS_GID") | sort -n | uniq | tr '\n' ' ' | sed 's/ $//')" ] ||
                [ "$(grep '^Groups:' "/proc/$EP_DAEMON_PID/status" | awk '{$1=""; print}' | tr ' ' '\n' | sed '/^$/d' | sort -n | tr '\n' ' ')" = "$( (echo "$USER_GID"; echo "$TSS_GID") | sort -n | uniq | tr '\n' ' ')" ] ||
                finding "supplementary groups are '$(grep '^Groups:' "/proc/$EP_DAEMON_PID/status")', endpointd(8): the user's group and tss only"
        ep_ctl status >/dev/null 2>&1 || finding "status fails with User=$USER_NAME"
        if [ "$SECCOMP" = yes ]; then
                ep_attack "code inside the daemon makes the calls the filter permits: it goes on"
                r=$(inject_return 16 0 0x5401 0)
                [ "$r" = "ret -25" ] || finding "ioctl(TCGETS) inside the daemon: '$r', endpointd(8) SANDBOX: fails softly with ENOTTY (-25)"
                r=$(inject_return 435 0 0)
                [ "$r" = "ret -38" ] || finding "clone3 inside the daemon: '$r', endpointd(8) SANDBOX: fails with ENOSYS (-38)"
                r=$(inject_return 62 "$EP_DAEMON_PID" 0)
                [ "$r" = "ret 0" ] || finding "kill(own pid, 0) inside the daemon: '$r', endpointd(8) SANDBOX: kill only to the daemon's own process is permitted"
                r=$(inject_return 41 1 1 0)
                case $r in "ret "[0-9]*) inject_return 3 "${r#ret }" >/dev/null ;; *) finding "socket(AF_UNIX) inside the daemon: '$r', permitted always (endpointd(8) SANDBOX)" ;; esac
                r=$(inject_return 41 2 1 0)
                case $r in "ret "[0-9]*) inject_return 3 "${r#ret }" >/dev/null ;; *) finding "socket(AF_INET, SOCK_STREAM) with a swtpm TCTI: '$r', permitted (endpointd(8) SANDBOX)" ;; esac
                kill -0 "$EP_DAEMON_PID" 2>/dev/null && ep_ctl status >/dev/null 2>&1 ||
                        finding "the daemon does not answer after the permitted injected calls"
                ep_ok "permitted calls injected (TCGETS, clone3, kill self, AF_UNIX and AF_INET stream sockets): daemon answers"
        fi
        ep_stop
        [ "$EP_DAEMON_RC" = 0 ] || finding "SIGTERM: exit status $EP_DAEMON_RC, endpointd(8) SIGNALS: 0"

        ep_attack "started as $USER_NAME by setpriv as the unit does (User=, AmbientCapabilities=, CapabilityBoundingSet=, NoNewPrivileges=)"
        saved_wrapper=$EP_DAEMON_WRAPPER
        EP_DAEMON_WRAPPER="setpriv --reuid=$USER_UID --regid=$USER_GID --groups=$USER_GID,$TSS_GID --inh-caps=-all,+dac_read_search --ambient-caps=+dac_read_search --bounding-set=-all,+dac_read_search --no-new-privs -- $saved_wrapper"
        mkdir -p "$EP_TMP/run"
        chown "$USER_UID:$USER_GID" "$EP_STATE" "$EP_TMP/run"
        ep_start
        check_privileges "as $USER_NAME with the unit's ambient capability"
        ep_ctl status >/dev/null 2>&1 || finding "status fails when started as $USER_NAME"
        ep_stop
        EP_DAEMON_WRAPPER=$saved_wrapper

        if [ "$SECCOMP" = yes ]; then
                inject_kill execve 59 0 0 0
                inject_kill ptrace 101 16 1 0 0
                inject_kill mount 165 0 0 0 0 0
                # Only AF_INET stream sockets are permitted for a swtpm TCTI.
                inject_kill socket 41 2 2 0
                inject_kill socket 41 16 3 0
                # fork: clone without CLONE_THREAD|CLONE_VM.
                inject_kill clone 56 17 0 0 0 0
                inject_kill ioctl 16 0 0x5412 0
                inject_kill kill 62 1 0
                inject_kill prctl 157 4 1
                inject_kill setuid 105 0
                inject_kill bpf 321 0 0 0
                inject_kill keyctl 250 0 0 0
                # x32 ABI: getpid with __X32_SYSCALL_BIT. The line may name it
                # either way; the death by SIGSYS is what counts.
                ep_attack "code inside the daemon calls getpid through the x32 ABI: killed"
                ep_start
                pid=$EP_DAEMON_PID
                "$INJECT" "$pid" $((0x40000000 + 39)) >/dev/null 2>&1
                stopped_by "$pid"
                [ "$STOP_RC" = 159 ] || finding "an x32 system call (getpid | 0x40000000) did not kill the daemon by SIGSYS: $STOP_RC (endpointd(8) SANDBOX: calls through another ABI)"
                [ "$STOP_RC" = alive ] && ep_stop KILL
                ep_ok "x32 getpid: wait status $STOP_RC"

                # The production TCTI (a device): no AF_INET socket at all.
                saved_tcti=${EP_CFG[TPM/TCTI]}
                ep_config TPM TCTI "device:$EP_TMP/no-tpm"
                inject_kill socket 41 2 1 0
                ep_config TPM TCTI "$saved_tcti"
        else
                ep_log "Seccomp=$SECCOMP in this run (valgrind or a sanitizer build): the system call injections are not made"
        fi
fi

# ---------------------------------------------------------------------------
# 2. Clients
# ---------------------------------------------------------------------------
# status_latency TAG: uid 10 (status.read, a bucket of its own) reads the
# properties 20 times; every read must be answered, the latency is logged.
status_latency() {
        local out
        out=$(PYAS 10 status 20 2>&1)
        case $out in
        "ok "*) set -- $out; measure "status read by uid 10 $1: 20 reads, max $3 ms, median $4 ms" ;;
        *) finding "uid 10's status read $1 was not answered: $out (endpointd(8) FAULTS: other clients are served)" ;;
        esac
}
# expect_err NAME WHAT IFACE METHOD SIG ARGS: the raw call (as root) fails
# with org.endpointd.Error.NAME.
expect_err() {
        local name=$1 what=$2 r
        shift 2
        r=$(call "$@" 2>&1)
        case $r in
        "ERR org.endpointd.Error.$name "*) ep_ok "$what -> $name" ;;
        *) finding "$what answered '$r', documented: org.endpointd.Error.$name" ;;
        esac
}
# expect_reply WHAT WANT GOT: GOT must be one of the |-separated WANT.
expect_reply() {
        case "|$2|" in
        *"|$3|"*) ep_ok "$1 -> $3" ;;
        *) finding "$1 answered '$3', documented: $2" ;;
        esac
}

if part 2; then
        ep_start
        PYAS 10 status 5 >/dev/null
        ep_ctl sign </dev/null >/dev/null 2>&1
        fd0=$(daemon_fds)
        rss0=$(daemon_rss)
        measure "before the client attacks: $fd0 descriptors, VmRSS $rss0 KiB"
        status_latency "idle"

        ep_attack "uid 7 opens 500 connections, makes 4 calls on each and never reads a reply"
        hold noread PYAS 7 noread 500 4
        read -r _ n_ok n_refused <"$W/noread.out" || true
        measure "uid 7 holds ${n_ok:-?} connections (${n_refused:-?} refused by the bus daemon)"
        status_latency "while 500 connections of uid 7 do not read"
        indep_alive "500 connections that never read"

        ep_attack "uid 8 subscribes 9 connections to Audit1 and never reads the signals"
        hold subs PYAS 8 subs 9 org.endpointd.Audit1
        r=$(head -n 1 "$W/subs.out")
        [ "$r" = "ok=8 org.freedesktop.DBus.Error.LimitsExceeded=1" ] ||
                finding "9 Audit1.Subscribe of one uid: $r (endpointd-dbus(7): at most 8 per uid, LimitsExceeded)"
        ep_ok "9 subscriptions of uid 8: $r"

        ep_attack "root sends a call and hangs up at once, 10,000 times (every 20th a Sign)"
        PY hangup 10000 >"$W/hangup.out" 2>&1 &
        hang_pid=$!
        status_latency "during 10,000 hang-ups"
        wait "$hang_pid"
        measure "hang-ups: $(cat "$W/hangup.out"); audit records by kind: $(ep_ctl audit show --json=short 2>/dev/null | jq -c 'group_by(.kind) | map({(.[0].kind): length}) | add')"
        status_latency "after 10,000 hang-ups"
        indep_alive "10,000 hang-ups"
        release subs
        release noread

        ep_attack "uid 8 passes descriptors of every kind to InstallManifest"
        for kind in fifo-writer-open pipe-empty-open devzero socket dir opath writeonly extra2 extra16; do
                r=$(PYAS 8 fds $kind 2>&1)
                expect_reply "InstallManifest with $kind descriptors" "org.freedesktop.DBus.Error.InvalidArgs" "$r"
        done
        r=$(PYAS 8 fds sparse-huge 2>&1)
        expect_reply "InstallManifest with a 300 MiB sparse file" "org.endpointd.Error.TooLarge" "$r"
        ep_attack "uid 9 (no permission) passes 16 descriptors, 200 times"
        for _ in $(seq 200); do PYAS 9 fds extra16; done >"$W/fds9.out" 2>&1
        r=$(sort "$W/fds9.out" | uniq -c | tr -s ' \n' ' ')
        [ "$r" = " 200 org.freedesktop.DBus.Error.AccessDenied " ] || finding "200 InstallManifest of uid 9 with 16 descriptors: $r, documented: AccessDenied"
        ep_ok "uid 9 with 16 descriptors x200: $r"

        ep_attack "uid 8 sends the largest arguments: Sign 1 MiB, 1 MiB + 1, 30 MiB"
        r=$(PYAS 8 call org.endpointd.Keys1 Sign ay "[b'x' * 1048576]")
        expect_reply "Sign of 1 MiB" ok "$r"
        r=$(PYAS 8 call org.endpointd.Keys1 Sign ay "[b'x' * 1048577]")
        expect_reply "Sign of 1 MiB + 1" org.endpointd.Error.TooLarge "$r"
        r=$(PYAS 8 call org.endpointd.Keys1 Sign ay "[b'x' * (30 << 20)]")
        case $r in
        EOF*|org.freedesktop.DBus.Error.LimitsExceeded) ep_ok "Sign of 30 MiB refused by the bus daemon: $r" ;;
        *) expect_reply "Sign of 30 MiB" org.endpointd.Error.TooLarge "$r" ;;
        esac

        ep_attack "uid 8 sends CreateKey options with deep variants and 100,000 entries"
        for d in 1 30 62; do
                r=$(PYAS 8 call org.endpointd.Keys1 CreateKey 'sa{sv}' "['deep$d', {'pcrs': deep($d)}]")
                case $r in
                EOF*) ep_ok "CreateKey with a variant $d deep: the bus daemon refused the message" ;;
                *) expect_reply "CreateKey with pcrs a variant $d deep" org.freedesktop.DBus.Error.InvalidArgs "$r" ;;
                esac
        done
        r=$(PYAS 8 call org.endpointd.Keys1 CreateKey 'sa{sv}' "['many', {'x%d' % i: ('u', i) for i in range(100000)}]")
        expect_reply "CreateKey with 100,000 unknown options" org.freedesktop.DBus.Error.InvalidArgs "$r"
        [ -e "$EP_STATE/keys/many.key" ] || [ -e "$EP_STATE/keys/deep1.key" ] && finding "a refused CreateKey left a key file"

        ep_attack "uid 13 (reader) pipelines 1000 property reads; its rate limit, not uid 10's"
        cat >>"$EP_POLICY" <<'POL'

[Subject]
UID=13
Roles=reader
POL
        ep_ctl policy reload >/dev/null 2>&1 || finding "policy reload fails"
        r=$(PYAS 13 flood 1000 org.freedesktop.DBus.Properties GetAll s "['org.endpointd.Endpoint1']" 2>&1 | tr '\n' ' ')
        ok_n=$(printf '%s\n' $r | sed -n '/^ok$/{n;p}')
        measure "uid 13 pipelined 1000 reads: $r"
        case $r in *org.endpointd.Error.RateLimited*) ;; *) finding "1000 pipelined calls of one uid were not rate limited (endpointd-policy(5) RATE LIMITS, burst 200): $r" ;; esac
        [ "${ok_n:-0}" -ge 200 ] || finding "only ${ok_n:-0} of 1000 pipelined calls were answered, the burst is 200 (endpointd.conf(5))"
        PYAS 10 status 1 | grep -q '^ok' || finding "uid 10 is rate limited after uid 13's flood (endpointd-policy(5): buckets are per uid)"
        r=$(PY flood 1000 org.freedesktop.DBus.Properties GetAll s "['org.endpointd.Endpoint1']" 2>&1 | tr '\n' ' ')
        [ "$r" = "ok 1000 " ] || finding "root's 1000 pipelined reads: $r (endpointd-policy(5): root is not limited)"
        ep_ok "rate limits: uid 13 limited, uid 10 and root not"

        sleep 2
        fd1=$(daemon_fds)
        rss1=$(daemon_rss)
        measure "after the client attacks: $fd1 descriptors (before $fd0), VmRSS $rss1 KiB (before $rss0)"
        [ "$fd1" -le $((fd0 + 2)) ] || finding "the daemon holds $fd1 descriptors after the clients left, $fd0 before (endpointd(8) FAULTS: nothing outlives their connection)"
        # A sanitizer's quarantine or valgrind holds freed memory: RSS is
        # compared only in a plain build.
        if [ -z "$EP_SANITIZED" ] && [ -z "$EP_DAEMON_WRAPPER" ]; then
                [ "$rss1" -le $((rss0 + 32768)) ] || finding "VmRSS grew from $rss0 to $rss1 KiB after the clients left"
        fi
        indep_alive "after the client attacks"
        ep_stop
fi

# ---------------------------------------------------------------------------
# 3. A full disk
# ---------------------------------------------------------------------------
# snap DIR: every entry below DIR but audit/ (type, mode, owner, size, name)
# and the SHA-256 of every file; then the names of the files in audit/.
snap() {
        (cd "$1" && find . -path ./audit -prune -o -printf '%y %m %u %s %p\n' | sort &&
                find . -path ./audit -prune -o -type f -print0 | sort -z | xargs -0 -r sha256sum &&
                echo "audit:" && ls audit 2>/dev/null)
}
pcr() { TPM2TOOLS_TCTI=$EP_TCTI_tpm tpm2_pcrread "sha256:$1" 2>/dev/null | awk '/0x/ {print $NF}'; }
utc() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }
SMALL=$EP_TMP/small
small_umount() { mountpoint -q "$SMALL" 2>/dev/null && umount -l "$SMALL"; }
trap 'rc=$?; small_umount; (exit $rc); ep_cleanup' EXIT

if part 3 && ! mkdir -p "$SMALL" || ! mount -t tmpfs -o size=4m,nr_inodes=400,mode=0755 tmpfs "$SMALL" 2>/dev/null; then
        part 3 && ep_log "cannot mount a tmpfs here: part 3 (a full disk) is not run"
elif part 3; then
        ep_attack "the state directory on a 4 MiB tmpfs that another file fills up"
        saved_state=$EP_STATE
        ep_config Daemon StateDirectory "$SMALL/state"
        EP_STATE=$SMALL/state
        ep_start
        DEV=$(ep_ctl device-id) || ep_fail "no device id"
        mkdir -p "$EP_ROOT/usr"
        echo one >"$EP_ROOT/usr/a"
        ep_ctl manifest create "$EP_ROOT" --serial=10 --output="$W/m10" >/dev/null && ep_sign "$W/m10" "$W/m10.sig" ||
                ep_fail "manifest create"
        ep_ctl manifest create "$EP_ROOT" --serial=11 --output="$W/m11" >/dev/null && ep_sign "$W/m11" "$W/m11.sig" ||
                ep_fail "manifest create"
        grant g1 disk-1 "$DEV" uid:9 reader "$(utc -1hour)" "$(utc +1day)"
        grant g2 disk-2 "$DEV" uid:9 operator "$(utc -1hour)" "$(utc +1day)"
        head -c 32 /dev/urandom >"$W/s1"
        head -c 32 /dev/urandom >"$W/s2"
        indep_expect_ok ep_ctl key create k1 --exportable
        indep_expect_ok ep_ctl seal s1 <"$W/s1"
        indep_expect_ok ep_ctl manifest install "$W/m10" "$W/m10.sig"
        indep_expect_ok install_grant g1
        echo hello >"$W/plain"
        ep_ctl encrypt k1 <"$W/plain" >"$W/cipher" || ep_fail "encrypt"

        dd if=/dev/zero of="$SMALL/filler" bs=64k 2>/dev/null
        i=0
        while { : >"$SMALL/f$i"; } 2>/dev/null; do i=$((i + 1)); done
        measure "filler: $(stat -c %s "$SMALL/filler") bytes and $i empty files; df: $(df -k --output=avail,iavail "$SMALL" | tail -n 1)"
        snap "$EP_STATE" >"$W/snap.before"
        pcr14=$(pcr 14)
        [ -n "$pcr14" ] || ep_log "tpm2_pcrread gave no value for PCR 14; the PCR is not compared"

        expect_err NoSpace "CreateKey on a full disk" org.endpointd.Keys1 CreateKey 'sa{sv}' "('k2', dbus.Dictionary({}, signature='sv'))"
        expect_err NoSpace "Seal on a full disk" org.endpointd.Keys1 Seal 'saya{sv}' "('s2', ay(open('$W/s2','rb').read()), dbus.Dictionary({}, signature='sv'))"
        expect_err NoSpace "InstallManifest on a full disk" org.endpointd.Integrity1 InstallManifest hh "(fd(os.open('$W/m11', os.O_RDONLY)), fd(os.open('$W/m11.sig', os.O_RDONLY)))"
        expect_err NoSpace "InstallGrant on a full disk" org.endpointd.Policy1 InstallGrant ayay "(ay(open('$W/g2','rb').read()), ay(open('$W/g2.sig','rb').read()))"
        expect_err NoSpace "RevokeGrant on a full disk" org.endpointd.Policy1 RevokeGrant s "('disk-1',)"
        ep_ctl grant list 2>/dev/null | grep -q disk-1 ||
                finding "a RevokeGrant that failed with NoSpace removed the grant anyway (endpointd(8) FAULTS: change nothing)"
        ep_ctl key list 2>/dev/null | grep -q -w k2 && finding "a CreateKey that failed with NoSpace is listed"
        ep_ctl key list 2>/dev/null | grep -q -w s2 && finding "a Seal that failed with NoSpace is listed"
        [ "$(ep_ctl manifest show 2>/dev/null | grep -i -m1 serial | tr -dc 0-9)" = 10 ] ||
                finding "after a failed install the manifest is not serial 10: $(ep_ctl manifest show 2>&1 | head -3)"
        [ "$(pcr 14)" = "$pcr14" ] ||
                undocumented "a manifest install that failed with NoSpace extended MeasurementPCR 14 all the same"
        snap "$EP_STATE" >"$W/snap.after"
        cmp -s "$W/snap.before" "$W/snap.after" ||
                finding "the state directory changed while the disk was full (endpointd(8) FAULTS: change nothing): $(diff "$W/snap.before" "$W/snap.after" | head -10 | tr '\n' ' ')"
        ep_ok "state directory byte for byte unchanged by the refused calls"

        ep_attack "the rest goes on working on a full disk: status, unseal, decrypt, sign"
        ep_ctl status >/dev/null 2>&1 || finding "status fails on a full disk"
        r=$(ep_ctl unseal s1 2>&1 | cmp - "$W/s1" 2>&1) || finding "Unseal fails on a full disk (endpointd(8) FAULTS: everything else goes on working): $(ep_ctl unseal s1 2>&1 | head -c 200)"
        r=$(ep_ctl decrypt k1 <"$W/cipher" 2>&1) && [ "$r" = hello ] || finding "Decrypt fails on a full disk (endpointd(8) FAULTS: everything else goes on working): $r"
        r=$(echo data | ep_ctl sign 2>&1 >/dev/null) || finding "Sign fails on a full disk (endpointd(8) FAULTS: everything else goes on working): $r"
        indep_alive "full disk"

        ep_attack "space freed: the audit log verifies and every refused change now succeeds"
        rm -f "$SMALL/filler" "$SMALL"/f*
        r=$(ep_ctl audit verify --dir="$EP_STATE/audit" 2>&1) || finding "audit verify after the disk was full: $r"
        ep_ok "audit verify: $(printf '%s' "$r" | grep -i -m1 -E 'intact|tamper' | tr -s ' ')"
        indep_expect_ok ep_ctl key create k2
        indep_expect_ok ep_ctl seal s2 <"$W/s2"
        indep_expect_ok ep_ctl manifest install "$W/m11" "$W/m11.sig"
        r=$(install_grant g2)
        expect_reply "InstallGrant once space is free" OK "${r%% *}"
        indep_expect_ok ep_ctl grant revoke disk-1
        ep_restart
        ep_ctl unseal s1 | cmp -s - "$W/s1" || finding "s1 does not unseal after the restart"
        ep_ctl unseal s2 | cmp -s - "$W/s2" || finding "s2 does not unseal after the restart"
        [ "$(ep_ctl decrypt k1 <"$W/cipher" 2>&1)" = hello ] || finding "k1 does not decrypt after the restart"
        ep_ctl grant list 2>/dev/null | grep -q disk-2 || finding "grant disk-2 lost after the restart"
        ep_ctl grant list 2>/dev/null | grep -q disk-1 && finding "revoked grant disk-1 back after the restart"
        r=$(ep_ctl audit verify --dir="$EP_STATE/audit" 2>&1) || finding "audit verify after the restart: $r"
        r=$(cd "$EP_STATE" && find . | grep -i -E 'tmp|\.new$|~$')
        [ -z "$r" ] || finding "temporary files left in the state directory: $r"
        ep_ok "after the restart: keys, grants, manifest and audit log as acknowledged"

        ep_attack "out of inodes: CreateKey answers NoSpace"
        i=0
        while { : >"$SMALL/f$i"; } 2>/dev/null; do i=$((i + 1)); done
        snap "$EP_STATE" >"$W/snap.before"
        expect_err NoSpace "CreateKey out of inodes" org.endpointd.Keys1 CreateKey 'sa{sv}' "('k3', dbus.Dictionary({}, signature='sv'))"
        snap "$EP_STATE" >"$W/snap.after"
        cmp -s "$W/snap.before" "$W/snap.after" || finding "out of inodes, the state directory changed: $(diff "$W/snap.before" "$W/snap.after" | head -10 | tr '\n' ' ')"
        rm -f "$SMALL"/f*
        indep_expect_ok ep_ctl key create k3
        ep_stop
        EP_STATE=$saved_state
        ep_config Daemon StateDirectory "$EP_STATE"
        small_umount
fi

# ---------------------------------------------------------------------------
# 4. The TPM goes away
# ---------------------------------------------------------------------------
# swtpm_restart: the harness's swtpm started again on the same state and
# port (ours, by PID, like the first one).
swtpm_restart() { ep_start_swtpm tpm "$EP_SWTPM_PORT_tpm"; }
# tpm_available_within SECONDS: TpmAvailable becomes true.
tpm_available_within() {
        for _ in $(seq $(($1 * 5))); do
                [ "$(call org.freedesktop.DBus.Properties Get ss "('org.endpointd.Endpoint1', 'TpmAvailable')" 2>/dev/null)" = "OK true" ] && return 0
                sleep 0.2
        done
        return 1
}

# proxy_start: the cutting proxy in front of swtpm (on a free port) and
# TCTI= pointing at it, for the next ep_start.
proxy_start() {
        for _ in 1 2 3 4 5; do
                # Below the ephemeral range: the daemon's thousands of short
                # TCP connections to swtpm leave local ports in TIME_WAIT there.
                pport=$(ep_free_port 10000 20000) || ep_fail "no free port"
                hold proxy PY tpmproxy "$pport" "$EP_SWTPM_PORT_tpm" "$W/cut"
                grep -qx ready "$W/proxy.out" && break
                ep_log "the TPM proxy did not start on port $pport: $(tail -n 1 "$W/proxy.out")"
                release proxy
        done
        grep -qx ready "$W/proxy.out" || ep_fail "the TPM proxy did not start: $(cat "$W/proxy.out")"
        ep_config TPM TCTI "swtpm:host=127.0.0.1,port=$pport"
}

# op_args OP NAME SEALED: sets args to the raw call of OP (createkey and
# seal of NAME, with the secret "secret of NAME"; unseal of SEALED; attest).
op_args() {
        case $1 in
        createkey) args=(org.endpointd.Keys1 CreateKey 'sa{sv}' "('$2', dbus.Dictionary({}, signature='sv'))") ;;
        seal) args=(org.endpointd.Keys1 Seal 'saya{sv}' "('$2', ay(b'secret of $2'), dbus.Dictionary({}, signature='sv'))") ;;
        unseal) args=(org.endpointd.Keys1 Unseal s "('$3',)") ;;
        attest) args=(org.endpointd.Keys1 Attest ayau "(ay(b'nonce'), au([]))") ;;
        esac
}
# call_until_tpm ARGS: the call, again every 0.5 s (up to 10 s) while it
# answers TpmUnavailable; prints the last reply.
call_until_tpm() {
        local r
        for _ in $(seq 20); do
                r=$(call "$@" 2>&1)
                case $r in "ERR org.endpointd.Error.TpmUnavailable "*) sleep 0.5 ;; *) break ;; esac
        done
        printf '%s\n' "$r"
}

if part 4; then
        ep_start
        indep_expect_ok call org.endpointd.Keys1 Seal 'saya{sv}' "('base', ay(b'secret of base'), dbus.Dictionary({}, signature='sv'))"
        KILLS=${INDEP7_KILLS:-6}
        ep_attack "swtpm killed (SIGKILL) $KILLS times during Seal, Unseal, Attest and CreateKey, each time started again on its state"
        for op in seal unseal attest createkey; do
                prefix=$op-k
                [ $op = unseal ] && prefix=base
                PY loop $op $((2 + 2 * KILLS)) "$prefix" >"$W/loop-$op.out" 2>&1 &
                eval "loop_$op=\$!"
        done
        for kill_no in $(seq "$KILLS"); do
                sleep "0.$((5 + RANDOM % 5))"
                kill -KILL "$EP_SWTPM_PID_tpm"
                wait "$EP_SWTPM_PID_tpm" 2>/dev/null
                echo "--- swtpm killed ($kill_no)" >>"$EP_TMP/daemon.log"
                sleep 0.3
                swtpm_restart
                sleep 1
        done
        wait "$loop_seal" "$loop_unseal" "$loop_attest" "$loop_createkey"
        kill -0 "$EP_DAEMON_PID" 2>/dev/null || ep_fail "endpointd died when swtpm was killed"
        tpm_available_within 20 ||
                finding "TpmAvailable is not true 20 s after swtpm came back (endpointd(8) TPM: searched for every two seconds)"
        for op in seal unseal attest createkey; do
                f=$W/loop-$op.out
                measure "$op during 6 swtpm kills: $(awk '{print $2}' "$f" | sort | uniq -c | tr -s ' \n' ' ')"
                bad=$(awk '$2 != "ok" && $2 != "org.endpointd.Error.TpmUnavailable"' "$f" | sort -k2 -u | head -5 | tr '\n' ';')
                [ -z "$bad" ] || finding "$op while swtpm was killed and restarted answered an error endpointd(8) FAULTS does not name (The TPM goes away during a command: the call fails with TpmUnavailable): $bad"
        done
        # Recovered: each operation works again (the first call after the
        # last restart may be the one that notices the TPM was gone).
        for op in seal unseal attest createkey; do
                op_args $op "after-kills-$op" base
                r=$(call_until_tpm "${args[@]}")
                case $r in
                OK*) ;;
                "ERR org.endpointd.Error.Exists "*)
                        finding "$op after-kills-$op answered TpmUnavailable and yet stored the key: the retry gets Exists (endpointd(8) FAULTS: the call fails with TpmUnavailable ... no key file is written; endpointd-dbus(7): a refused call changes nothing on disk)" ;;
                *) finding "$op does not work again after swtpm came back: $r (endpointd(8) FAULTS: the next call or the retry timer reconnects once the TPM answers again)" ;;
                esac
        done
        # Acknowledged keys are there and open; refused ones left no file.
        for f in "$W/loop-seal.out" "$W/loop-createkey.out"; do
                while read -r name reply; do
                        if [ "$reply" = ok ]; then
                                [ -f "$EP_STATE/keys/$name.key" ] || finding "$name was acknowledged but $EP_STATE/keys/$name.key is missing"
                        else
                                [ -e "$EP_STATE/keys/$name.key" ] && finding "$name failed ($reply) but left $EP_STATE/keys/$name.key (endpointd(8) FAULTS: no key file is written)"
                        fi
                done <"$f"
        done
        r=$(PY unsealall "$W/loop-seal.out" 2>&1)
        [ "$(printf '%s\n' "$r" | wc -l)" = 1 ] && [ "${r#checked }" != "$r" ] ||
                finding "acknowledged secrets do not unseal after swtpm came back: $(printf '%s' "$r" | head -5 | tr '\n' ';')"
        r=$(cd "$EP_STATE/keys" && ls -A | grep -v -E '^(base|after-kills-(seal|createkey)|(seal|createkey)-k-[0-9]+)\.key$')
        [ -z "$r" ] || finding "stray files in the key directory: $r"
        ep_ok "6 swtpm kills: daemon up, TPM back, acknowledged keys kept, no stray key files"
        indep_alive "swtpm killed 6 times"
        ep_stop

        # The same, at a chosen command: a proxy in front of swtpm cuts the
        # connection once that command is sent, before its response.
        saved_tcti=${EP_CFG[TPM/TCTI]}
        proxy_start
        ep_start
        tpm_available_within 20 || ep_fail "no TPM through the proxy"
        indep_expect_ok call org.endpointd.Keys1 Seal 'saya{sv}' "('cutbase', ay(b'secret of cutbase'), dbus.Dictionary({}, signature='sv'))"
        n=0
        for cut in createkey:17b createkey:153 seal:176 seal:153 unseal:157 unseal:17f unseal:15e attest:131 attest:158 unseal:165 attest:165 createkey:165; do
                op=${cut%%:*}
                cc=${cut#*:}
                n=$((n + 1))
                findings_before=$FINDINGS
                ep_attack "the TPM connection is cut right after $op sends command 0x$cc"
                echo "$cc" >"$W/cut"
                op_args $op "cut$n" cutbase
                r=$(call "${args[@]}" 2>&1)
                [ -e "$W/cut" ] && { rm -f "$W/cut"; ep_log "$op never sent 0x$cc: $r"; continue; }
                case $cc:$r in
                *":ERR org.endpointd.Error.TpmUnavailable "*) ep_ok "$op cut at 0x$cc -> TpmUnavailable" ;;
                # Cut at the flush after the work was done: the result may stand.
                165:OK*) ep_ok "$op cut at its final FlushContext -> $r" ;;
                *) finding "$op with the TPM connection cut after command 0x$cc answered '$r' (endpointd(8) FAULTS: The TPM goes away during a command: the call fails with TpmUnavailable)" ;;
                esac
                case $op in seal|createkey) [ -e "$EP_STATE/keys/cut$n.key" ] && finding "$op cut at 0x$cc left keys/cut$n.key (endpointd(8) FAULTS: no key file is written)" ;; esac
                tpm_available_within 20 || finding "TpmAvailable is not true 20 s after the TPM connection was cut at 0x$cc"
                # Recovered: the same operation and an Unseal work again.
                r=$(call_until_tpm "${args[@]}")
                case $r in
                OK*) ;;
                *) finding "$op does not work again after the TPM connection was cut at 0x$cc and came back: $r (endpointd(8) FAULTS: the next call or the retry timer reconnects once the TPM answers again)" ;;
                esac
                r=$(call_until_tpm org.endpointd.Keys1 Unseal s "('cutbase',)")
                [ "$r" = "OK bytes[17]:$(printf 'secret of cutbase' | od -An -v -tx1 | tr -d ' \n')" ] ||
                        finding "after the TPM connection was cut at 0x$cc ($op), the untouched secret cutbase does not unseal: $r"
                # A daemon that did not recover is started again (and the proxy
                # with it), so that the next cut is tried on its own.
                if [ "$FINDINGS" != "$findings_before" ]; then
                        ep_stop
                        release proxy
                        proxy_start
                        ep_start
                        tpm_available_within 20 || ep_fail "no TPM through the proxy after a restart"
                fi
        done
        indep_alive "TPM connection cut at chosen commands"
        ep_stop
        release proxy
        ep_config TPM TCTI "$saved_tcti"
fi

# ---------------------------------------------------------------------------
# 5. The bus goes away
# ---------------------------------------------------------------------------
if part 5; then
        for sig in TERM KILL; do
                ep_attack "dbus-daemon stopped by SIG$sig and started again while Seal calls are in flight"
                ep_start
                PY loop seal 30 "bus-$sig" >"$W/bus-$sig.out" 2>&1 &
                loop_pid=$!
                sleep 1
                lines=$(wc -l <"$EP_TMP/daemon.log")
                kill "-$sig" "$EP_BUS_PID"
                for _ in $(seq 100); do kill -0 "$EP_BUS_PID" 2>/dev/null || break; sleep 0.1; done
                rm -f "$EP_TMP/bus.sock"
                ep_start_bus
                pid=$EP_DAEMON_PID
                stopped_by "$pid"
                wait "$loop_pid" 2>/dev/null
                if [ "$STOP_RC" = alive ]; then
                        # Reconnecting would be allowed by the brief, not by the man page.
                        finding "endpointd still runs 10 s after its bus went away (endpointd(8) FAULTS: it exits with status 1)"
                        ep_stop
                else
                        [ "$STOP_RC" = 1 ] || finding "after the bus went away (SIG$sig) endpointd ended with wait status $STOP_RC, endpointd(8) FAULTS: exit status 1"
                        tail -n +"$((lines + 1))" "$EP_TMP/daemon.log" | grep -qF "Lost the connection to the system bus, exiting." ||
                                finding "no 'Lost the connection to the system bus, exiting.' line (endpointd(8) FAULTS)"
                fi
                ep_ok "bus stopped by SIG$sig: endpointd wait status $STOP_RC"
                # What systemd's Restart=on-failure does: start it again on the new bus.
                ep_start
                acked=$(grep -c ' ok$' "$W/bus-$sig.out")
                r=$(PY unsealall "$W/bus-$sig.out" 2>&1)
                [ "$r" = "checked $acked" ] ||
                        finding "Seal calls acknowledged before the bus went away are lost: $(printf '%s' "$r" | head -5 | tr '\n' ';') (endpointd(8) FAULTS: every change that was acknowledged was on disk before its reply)"
                measure "bus stopped by SIG$sig: $acked Seal calls acknowledged before, all unseal after the restart: $r"
                r=$(cd "$EP_STATE/keys" && ls -A | grep -v -E '\.key$')
                [ -z "$r" ] || finding "stray files in the key directory after the bus went away: $r"
                ep_stop
        done
fi

# ---------------------------------------------------------------------------
# 6. Signals and limits
# ---------------------------------------------------------------------------
if part 6; then
        ep_attack "200 SIGHUPs while Seal, Unseal and status calls run"
        ep_start
        indep_expect_ok call org.endpointd.Keys1 Seal 'saya{sv}' "('hup', ay(b'secret of hup'), dbus.Dictionary({}, signature='sv'))"
        PY loop seal 4 hup-seal >"$W/hup-seal.out" 2>&1 &
        p1=$!
        PY loop unseal 4 hup >"$W/hup-unseal.out" 2>&1 &
        p2=$!
        PYAS 10 status 150 20 >"$W/hup-status.out" 2>&1 &
        p3=$!
        for _ in $(seq 200); do kill -HUP "$EP_DAEMON_PID" 2>/dev/null; sleep 0.01; done
        wait "$p1" "$p2" "$p3"
        for f in hup-seal hup-unseal; do
                r=$(awk '$2 != "ok"' "$W/$f.out" | head -3 | tr '\n' ';')
                [ -z "$r" ] || finding "calls failed during a SIGHUP storm ($f): $r"
                measure "SIGHUP storm: $f $(grep -c ' ok$' "$W/$f.out") calls ok"
        done
        grep -q '^ok ' "$W/hup-status.out" || finding "uid 10's status reads failed during a SIGHUP storm: $(head -c 300 "$W/hup-status.out")"
        measure "status reads during the SIGHUP storm: $(cat "$W/hup-status.out")"
        PY unsealall "$W/hup-seal.out" | grep -q '^checked' || finding "secrets sealed during the SIGHUP storm do not unseal"
        indep_alive "200 SIGHUPs"

        ep_attack "a configuration that does not parse, then SIGHUP: refused, the old one stays"
        cp "$EP_CONF" "$W/conf.good"
        printf '[Daemon\nnonsense\n' >>"$EP_CONF"
        kill -HUP "$EP_DAEMON_PID"
        sleep 1
        indep_alive "SIGHUP with a broken configuration"
        cp "$W/conf.good" "$EP_CONF"
        ep_stop
        [ "$EP_DAEMON_RC" = 0 ] || finding "SIGTERM after the SIGHUP storm: exit status $EP_DAEMON_RC"

        ep_attack "RLIMIT_NOFILE 64 (prlimit), then 2000 connections, hang-ups and descriptor-laden calls"
        saved_wrapper=$EP_DAEMON_WRAPPER
        EP_DAEMON_WRAPPER="prlimit --nofile=64:64 $saved_wrapper"
        ep_start
        EP_DAEMON_WRAPPER=$saved_wrapper
        measure "under RLIMIT_NOFILE 64: $(daemon_fds) descriptors at idle"
        fd0=$(daemon_fds)
        hold many PYAS 7 noread 2000 2
        read -r _ n_ok n_refused <"$W/many.out" || true
        measure "uid 7 holds ${n_ok:-?} connections (${n_refused:-?} refused by the bus daemon) under RLIMIT_NOFILE 64"
        PY hangup 2000 >/dev/null 2>&1 &
        hp=$!
        for _ in $(seq 40); do PYAS 8 fds extra16 >>"$W/nofile-fds.out" 2>&1; done
        wait "$hp"
        status_latency "with RLIMIT_NOFILE 64 after 2000 connections"
        r=$(sort "$W/nofile-fds.out" | uniq -c | tr -s ' \n' ' ')
        measure "InstallManifest with 16 descriptors x40 under RLIMIT_NOFILE 64: $r"
        kill -0 "$EP_DAEMON_PID" 2>/dev/null || finding "endpointd died under RLIMIT_NOFILE 64 with 2000 connections and descriptor-laden calls (endpointd(8) FAULTS: other clients are served): $(tail -n 5 "$EP_TMP/daemon.log" | tr '\n' ';')"
        release many
        if kill -0 "$EP_DAEMON_PID" 2>/dev/null; then
                indep_alive "RLIMIT_NOFILE 64"
                sleep 1
                [ "$(daemon_fds)" -le $((fd0 + 2)) ] || finding "under RLIMIT_NOFILE 64 the daemon holds $(daemon_fds) descriptors after the clients left, $fd0 before"
                measure "under RLIMIT_NOFILE 64: $(daemon_fds) descriptors after the clients left (before $fd0)"
                ep_stop
        else
                stopped_by "$EP_DAEMON_PID"
        fi

        for sig in PIPE USR1 USR2 ALRM; do
                ep_attack "SIG$sig to the daemon (endpointd(8) SIGNALS: SIGPIPE ignored, the others their default action)"
                ep_start
                pid=$EP_DAEMON_PID
                kill "-$sig" "$pid"
                sleep 0.5
                if kill -0 "$pid" 2>/dev/null && ep_ctl status >/dev/null 2>&1; then
                        [ "$sig" = PIPE ] || finding "SIG$sig is ignored, endpointd(8) SIGNALS says it has its default action"
                        ep_stop
                else
                        stopped_by "$pid"
                        [ "$sig" != PIPE ] || finding "SIGPIPE ends the daemon (wait status $STOP_RC); endpointd(8) SIGNALS: ignored"
                fi
                ep_ok "SIG$sig: as endpointd(8) SIGNALS says"
        done
fi

# A sanitizer build reports into the daemon's log and goes on (or exits).
r=$(grep -E -m3 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:|==[0-9]+== (Invalid|Conditional jump|Syscall param|Mismatched|Source and destination)|definitely lost in' "$EP_TMP/daemon.log")
[ -z "$r" ] || finding "the sanitizer or valgrind reported: $r"

[ $FINDINGS = 0 ] || ep_fail "$FINDINGS finding(s) above (FINDING n:)"
ep_done
