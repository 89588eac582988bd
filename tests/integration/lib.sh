# SPDX-License-Identifier: LGPL-2.1-or-later
# Integration harness: sourced by every tests/integration/test-*.sh.
#
# Each test gets a temp dir with its own swtpm (loopback TCP, free port,
# temp state), its own dbus-daemon (system-bus-like config, unix socket in
# the temp dir) and endpointd from the build tree with a temp config, state,
# trust store and device tree. Everything started is recorded by PID and
# killed by PID on exit, also when the test fails.
#
#   . "$top_srcdir/tests/integration/lib.sh"
#   ep_setup                 # swtpm + bus + config (ep_setup --no-tpm: no swtpm)
#   ep_config Integrity ScanInterval 1h     # before ep_start
#   ep_start                 # endpointd, waits for READY=1 on our NOTIFY_SOCKET
#   ep_ctl status            # endpointctl against the private bus
#   ep_expect_error org.endpointd.Error.NotFound ep_ctl key delete nope
#   ep_done                  # prints "PASS: N checks"
#
# Environment: EP_DAEMON_WRAPPER="valgrind ..." runs endpointd under a wrapper.
# Exit codes follow automake: 0 pass, 1 fail, 77 skip, 99 hard error.

set -u
: "${top_srcdir:?top_srcdir must be set}"
: "${top_builddir:?top_builddir must be set}"

EP_TEST_NAME=$(basename "$0" .sh)
EP_PIDS=()
EP_CHECKS=0
EP_DAEMON_PID=
EP_BUILD=$top_builddir
EP_SRC=$top_srcdir
EP_DAEMON_WRAPPER=${EP_DAEMON_WRAPPER:-}
EP_SANITIZED=
grep -qa __asan_init "$EP_BUILD/endpointd" 2>/dev/null && EP_SANITIZED=1

ep_log() { printf '%s: %s\n' "$EP_TEST_NAME" "$*" >&2; }

ep_fail() {
        ep_log "FAIL: $*"
        if [ -n "${EP_TMP:-}" ] && [ -f "$EP_TMP/daemon.log" ]; then
                ep_log "--- last lines of the daemon's log ---"
                tail -n 30 "$EP_TMP/daemon.log" >&2
        fi
        exit 1
}

ep_skip() { ep_log "SKIP: $*"; exit 77; }

ep_ok() { EP_CHECKS=$((EP_CHECKS + 1)); ep_log "ok $EP_CHECKS - $*"; }

ep_done() { ep_log "PASS: $EP_CHECKS checks"; exit 0; }

ep_cleanup() {
        local rc=$? pid
        ep_units_remove
        # Reverse order: daemon first, then the bus and the TPMs.
        for ((i = ${#EP_PIDS[@]} - 1; i >= 0; i--)); do
                pid=${EP_PIDS[i]}
                if kill -0 "$pid" 2>/dev/null; then
                        kill -TERM "$pid" 2>/dev/null
                        for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
                        kill -KILL "$pid" 2>/dev/null
                fi
                # Under valgrind (--error-exitcode=99) a memory error fails the test.
                if wait "$pid" 2>/dev/null; then :; elif [ $? -eq 99 ] && [ -n "$EP_DAEMON_WRAPPER" ]; then
                        ep_log "FAIL: $EP_DAEMON_WRAPPER reported errors in process $pid (see the log above)"
                        [ $rc -eq 0 ] && rc=1
                fi
        done
        if [ -n "${EP_TMP:-}" ] && [ -d "$EP_TMP" ]; then
                if [ $rc -eq 0 ] || [ $rc -eq 77 ] || [ -z "${EP_KEEP_TMP:-}" ]; then
                        rm -rf "$EP_TMP"
                else
                        ep_log "kept $EP_TMP"
                fi
        fi
        exit $rc
}
trap ep_cleanup EXIT
trap 'exit 1' INT TERM

# ep_free_port [LOW COUNT]: prints a TCP port on 127.0.0.1 that nothing
# listens on, with port+1 free too (swtpm's control channel), one of COUNT
# from LOW (default: from 10000 up to the ephemeral range).
ep_free_port() {
        local p low=${1:-} count=${2:-} eph
        # By default below the kernel's ephemeral range: a server started
        # again on its port (swtpm killed by a test) cannot bind it while a
        # client's connection holds it as its own local port (in TIME_WAIT
        # for a minute after a flood of reconnects).
        if [ -z "$low" ]; then
                read -r eph _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || eph=32768
                [ "$eph" -gt 12000 ] 2>/dev/null || eph=32768
                low=10000 count=$((eph - 2 - 10000))
        fi
        for _ in $(seq 200); do
                p=$((low + RANDOM % count))
                if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null &&
                   ! (exec 3<>"/dev/tcp/127.0.0.1/$((p + 1))") 2>/dev/null; then
                        echo "$p"
                        return 0
                fi
        done
        return 1
}

# ep_start_swtpm NAME [PORT]: starts a swtpm with state in $EP_TMP/NAME, sets
# EP_TCTI_<NAME> and EP_SWTPM_PORT_<NAME>. Retries on a port race. With PORT
# (a swtpm killed and started again on its state), that port, retried until
# it is free again.
ep_start_swtpm() {
        local name=$1 want=${2:-} port dir pid
        command -v swtpm >/dev/null || ep_skip "swtpm is not installed"
        dir="$EP_TMP/$name"
        mkdir -p "$dir"
        # A fixed port (swtpm started again on its state) may still be held
        # for a moment by the one killed before: up to 20 tries, 0.5 s apart.
        for _ in $(seq "$([ -n "$want" ] && echo 20 || echo 5)"); do
                [ -n "$want" ] && [ -n "${pid:-}" ] && sleep 0.5
                port=${want:-$(ep_free_port)} || ep_fail "no free port"
                swtpm socket --tpm2 --server "type=tcp,port=$port,bindaddr=127.0.0.1" \
                        --ctrl "type=tcp,port=$((port + 1)),bindaddr=127.0.0.1" \
                        --flags not-need-init,startup-clear --tpmstate "dir=$dir" \
                        --log "file=$dir/swtpm.log" >>"$dir/stdout" 2>&1 &
                pid=$!
                for _ in $(seq 50); do
                        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
                        kill -0 "$pid" 2>/dev/null || break
                        sleep 0.1
                done
                if kill -0 "$pid" 2>/dev/null; then
                        EP_PIDS+=("$pid")
                        printf -v "EP_TCTI_$name" '%s' "swtpm:host=127.0.0.1,port=$port"
                        printf -v "EP_SWTPM_PORT_$name" '%s' "$port"
                        printf -v "EP_SWTPM_PID_$name" '%s' "$pid"
                        return 0
                fi
        done
        ep_fail "swtpm did not start: $(tail -n 5 "$dir/stdout" "$dir/swtpm.log" 2>/dev/null)"
}

ep_start_bus() {
        local out
        cat >"$EP_TMP/bus.conf" <<EOB
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$EP_TMP/bus.sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOB
        out=$(dbus-daemon --config-file="$EP_TMP/bus.conf" --fork --print-address=1 --print-pid=1) ||
                ep_fail "dbus-daemon did not start"
        EP_BUS_PID=$(printf '%s\n' "$out" | sed -n 2p)
        EP_PIDS+=("$EP_BUS_PID")
        export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$EP_TMP/bus.sock"
        # The socket is world-reachable so that setpriv'ed callers get in;
        # sticky, so that they cannot rename what the daemon reads from here
        # (configuration, policy, trust directory: endpointd.conf(5)).
        chmod 1777 "$EP_TMP"
}

# Writes the config from the EP_CFG_* associative array.
declare -A EP_CFG
ep_config() { EP_CFG["$1/$2"]=$3; }
ep_config_unset() { unset 'EP_CFG[$1/$2]'; }

ep_write_config() {
        local section key k
        : >"$EP_CONF"
        for section in Daemon TPM Integrity Policy Audit; do
                echo "[$section]" >>"$EP_CONF"
                for k in "${!EP_CFG[@]}"; do
                        [ "${k%%/*}" = "$section" ] || continue
                        key=${k#*/}
                        echo "$key=${EP_CFG[$k]}" >>"$EP_CONF"
                done
        done
}

# ep_setup [--no-tpm]
# ep_faketime: sets FAKETIME_LIB to libfaketime's path, or skips the test.
ep_faketime() {
        local f
        for f in /usr/lib/*/faketime/libfaketime.so.1; do
                [ -f "$f" ] && FAKETIME_LIB=$f && return 0
        done
        ep_skip "libfaketime (package faketime) is not installed"
}

# ep_faketime_daemon FILE [--fake-monotonic]: the daemon started next reads
# its wall clock as the real time plus the offset in FILE ("+0" unless it
# exists; libfaketime rereads it at every call). CLOCK_MONOTONIC stays real
# unless --fake-monotonic. libfaketime only wraps libc calls, so an ASan
# runtime may come first; an outer wrapper (valgrind in CI) stays outside.
ep_faketime_daemon() {
        local mono=FAKETIME_DONT_FAKE_MONOTONIC=1
        [ "${2:-}" = --fake-monotonic ] && mono=
        [ -n "${FAKETIME_LIB:-}" ] || ep_faketime
        [ -f "$1" ] || echo "+0" >"$1"
        EP_DAEMON_WRAPPER="env LD_PRELOAD=$FAKETIME_LIB FAKETIME_TIMESTAMP_FILE=$1 FAKETIME_NO_CACHE=1 $mono
                ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 $EP_DAEMON_WRAPPER"
}

ep_setup() {
        local tpm=1
        [ "${1:-}" = "--no-tpm" ] && tpm=0
        command -v dbus-daemon >/dev/null || ep_skip "dbus-daemon is not installed"
        EP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/endpointd-test.XXXXXX")
        EP_CONF="$EP_TMP/endpointd.conf"
        EP_STATE="$EP_TMP/state"
        EP_ROOT="$EP_TMP/root"
        EP_TRUST="$EP_TMP/trust"
        EP_POLICY="$EP_TMP/policy.conf"
        mkdir -p "$EP_ROOT" "$EP_TRUST"
        cp "$EP_SRC/tests/integration/test-policy.conf" "$EP_POLICY"
        ep_start_bus
        if [ $tpm = 1 ]; then
                ep_start_swtpm tpm
                ep_config TPM TCTI "$EP_TCTI_tpm"
        else
                # Nothing listens there: the daemon runs without a TPM.
                ep_config TPM TCTI "swtpm:host=127.0.0.1,port=$(ep_free_port)"
        fi
        ep_config Daemon StateDirectory "$EP_STATE"
        ep_config Daemon RuntimeDirectory "$EP_TMP/run"
        ep_config Daemon User root
        ep_config Daemon LogLevel debug
        # The system call filter is on, as in production, except under
        # valgrind, which cannot run a seccomp-filtered client, and in a
        # sanitizer build, whose LeakSanitizer stops the process with ptrace.
        if [ -n "$EP_DAEMON_WRAPPER" ] || [ -n "$EP_SANITIZED" ]; then
                ep_config Daemon Seccomp no
        else
                ep_config Daemon Seccomp yes
        fi
        ep_config Integrity Root "$EP_ROOT"
        ep_config Integrity TrustDirectory "$EP_TRUST"
        ep_config Policy File "$EP_POLICY"
}

# ep_start [extra endpointd args]: starts endpointd and waits for READY=1.
ep_start() {
        local i
        ep_write_config
        rm -f "$EP_TMP/notify.sock"
        "$EP_BUILD/notify-listen" "$EP_TMP/notify.sock" 60 >"$EP_TMP/notify.log" &
        local listener=$!
        for _ in $(seq 100); do [ -S "$EP_TMP/notify.sock" ] && break; sleep 0.05; done
        [ -S "$EP_TMP/notify.sock" ] || ep_fail "notify-listen did not start (is $EP_BUILD/notify-listen built?)"
        # Writable for all, so that a daemon that dropped to User= (or was
        # started as another user) can still send READY=1.
        chmod 0666 "$EP_TMP/notify.sock"
        NOTIFY_SOCKET="$EP_TMP/notify.sock" $EP_DAEMON_WRAPPER "$EP_BUILD/endpointd" --config "$EP_CONF" "$@" \
                >>"$EP_TMP/daemon.log" 2>&1 &
        EP_DAEMON_PID=$!
        EP_PIDS+=("$EP_DAEMON_PID")
        if ! wait "$listener"; then
                kill -0 "$EP_DAEMON_PID" 2>/dev/null || ep_fail "endpointd exited during start-up"
                ep_fail "endpointd sent no READY=1 within 60 s"
        fi
        kill -0 "$EP_DAEMON_PID" 2>/dev/null || ep_fail "endpointd is not running after READY=1"
}

# ep_stop [SIGNAL]: stops the daemon, sets EP_DAEMON_RC to its exit status.
ep_stop() {
        local sig=${1:-TERM}
        [ -n "$EP_DAEMON_PID" ] || return 0
        kill "-$sig" "$EP_DAEMON_PID" 2>/dev/null
        EP_DAEMON_RC=0
        wait "$EP_DAEMON_PID" || EP_DAEMON_RC=$?
        EP_DAEMON_PID=
        if [ "$EP_DAEMON_RC" -eq 99 ] && [ -n "$EP_DAEMON_WRAPPER" ]; then
                ep_fail "$EP_DAEMON_WRAPPER reported errors in endpointd"
        fi
}

ep_restart() { ep_stop; ep_start "$@"; }

ep_ctl() { "$EP_BUILD/endpointctl" "$@"; }

# ep_as UID[:GID] CMD...: runs CMD as an unprivileged user, no supplementary groups.
ep_as() {
        local ids=$1 uid gid
        shift
        uid=${ids%%:*}
        gid=${ids#*:}
        [ "$gid" = "$ids" ] && gid=$uid
        setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"
}

# ep_expect_error NAME CMD...: CMD must fail and its output must name NAME.
ep_expect_error() {
        local name=$1 out rc=0
        shift
        out=$("$@" 2>&1) || rc=$?
        [ $rc -ne 0 ] || ep_fail "expected '$name' from: $* (it succeeded: $out)"
        case $out in
        *"$name"*) ep_ok "$* -> $name" ;;
        *) ep_fail "expected '$name' from: $* (rc=$rc, got: $out)" ;;
        esac
}

# ep_expect_exit CODE CMD...
ep_expect_exit() {
        local want=$1 rc=0
        shift
        "$@" >"$EP_TMP/last.out" 2>&1 || rc=$?
        [ "$rc" = "$want" ] || ep_fail "expected exit $want from: $* (got $rc: $(cat "$EP_TMP/last.out"))"
        ep_ok "$* -> exit $want"
}

ep_assert_eq() {
        [ "$1" = "$2" ] || ep_fail "${3:-values differ}: expected '$2', got '$1'"
        ep_ok "${3:-equal}: $2"
}

ep_assert_contains() {
        case $1 in
        *"$2"*) ep_ok "${3:-contains} '$2'" ;;
        *) ep_fail "${3:-output} does not contain '$2': $1" ;;
        esac
}

# ep_busctl ARGS: busctl on the private bus, addressed at endpointd. It waits
# as long as endpointctl does (120 s), not sd-bus's 25 s: a daemon under
# valgrind that is hashing a large file answers slowly. (busctl's --timeout
# is for `call` only; sd-bus reads SYSTEMD_BUS_TIMEOUT for every call.)
ep_busctl() { SYSTEMD_BUS_TIMEOUT=120 busctl --system "$@"; }

# The extended key usage of each signer role, read from the one header that
# defines them (grants and licences have OIDs of the project's own).
ep_eku_oid() {
        sed -n "s/^#define ENDPOINTD_EKU_$1_OID \"\(.*\)\"\$/\1/p" "$EP_SRC/include/endpointd/signer-roles.h"
}
EP_EKU_GRANT=$(ep_eku_oid GRANT)
EP_EKU_LICENCE=$(ep_eku_oid LICENCE)
EP_EKU_APPROVAL=$(ep_eku_oid APPROVAL)
[ -n "$EP_EKU_GRANT" ] && [ -n "$EP_EKU_LICENCE" ] && [ -n "$EP_EKU_APPROVAL" ] || { echo "lib.sh: no EKU OIDs in signer-roles.h" >&2; exit 99; }
# Certificate extensions (openssl x509 -extfile lines) of each signer role.
EP_EXT_MANIFEST=$'keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning'
EP_EXT_GRANT=$'keyUsage=critical,digitalSignature\nextendedKeyUsage='$EP_EKU_GRANT
EP_EXT_LICENCE=$'keyUsage=critical,digitalSignature\nextendedKeyUsage='$EP_EKU_LICENCE
EP_EXT_APPROVAL=$'keyUsage=critical,digitalSignature\nextendedKeyUsage='$EP_EKU_APPROVAL

# ep_pki_init: a manufacturer CA in the trust dir, one signer certificate
# under it for each role (signer: manifests, signer-grant, signer-licence),
# and an untrusted CA + signer for negative tests. Paths in EP_PKI.
ep_pki_init() {
        EP_PKI="$EP_TMP/pki"
        mkdir -p "$EP_PKI"
        ep_pki_ca ca "/CN=Demo Manufacturer Root CA"
        ep_pki_signer signer ca "/CN=Demo Manufacturer Release Signing"
        ep_pki_signer signer-grant ca "/CN=Demo Manufacturer Service Grants" grant
        ep_pki_signer signer-licence ca "/CN=Demo Manufacturer Licensing" licence
        cp "$EP_PKI/ca.pem" "$EP_TRUST/manufacturer.pem"
        ep_pki_ca rogue-ca "/CN=Rogue CA"
        ep_pki_signer rogue rogue-ca "/CN=Rogue Signer"
}

ep_pki_ca() {
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
                -subj "$2" -keyout "$EP_PKI/$1.key" -out "$EP_PKI/$1.pem" \
                -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
                2>/dev/null || ep_fail "openssl could not make CA $1"
}

# ep_pki_cert NAME CA SUBJECT EXTENSIONS [NEWKEY [X509-OPTION...]]: a key and a
# certificate issued by CA. EXTENSIONS are openssl extfile lines ("" for a
# certificate without extensions); NEWKEY is openssl req's -newkey argument
# (default "ec -pkeyopt ec_paramgen_curve:P-256", split on spaces); the
# options go to openssl x509 after the defaults (e.g. -days 1, -sha1).
ep_pki_cert() {
        local name=$1 ca=$2 subj=$3 ext=$4 newkey=${5:-ec -pkeyopt ec_paramgen_curve:P-256}
        local -a extfile=()
        shift $(($# < 5 ? $# : 5))
        [ -n "$ext" ] && printf '%s\n' "$ext" >"$EP_PKI/$name.ext" && extfile=(-extfile "$EP_PKI/$name.ext")
        # shellcheck disable=SC2086 # NEWKEY is several words on purpose
        openssl req -new -newkey $newkey -nodes -subj "$subj" \
                -keyout "$EP_PKI/$name.key" -out "$EP_PKI/$name.csr" 2>/dev/null &&
        openssl x509 -req -in "$EP_PKI/$name.csr" -CA "$EP_PKI/$ca.pem" -CAkey "$EP_PKI/$ca.key" \
                -CAcreateserial -days 3650 "${extfile[@]}" "$@" -out "$EP_PKI/$name.pem" \
                2>/dev/null || ep_fail "openssl could not make certificate $name"
}

# ep_pki_signer NAME CA SUBJECT [ROLE [X509-OPTION...]]: a signer certificate
# for ROLE (manifest, the default; grant; licence; approval): keyUsage digitalSignature
# and the role's extended key usage, a P-256 key.
ep_pki_signer() {
        local name=$1 ca=$2 subj=$3 role=${4:-manifest} ext
        shift $(($# < 4 ? $# : 4))
        case $role in
        manifest) ext=$EP_EXT_MANIFEST ;;
        grant) ext=$EP_EXT_GRANT ;;
        licence) ext=$EP_EXT_LICENCE ;;
        approval) ext=$EP_EXT_APPROVAL ;;
        *) ep_fail "ep_pki_signer: unknown role '$role'" ;;
        esac
        ep_pki_cert "$name" "$ca" "$subj" "$ext" "" "$@"
}

# ep_sign FILE SIG [SIGNER]: detached DER CMS signature, as a manufacturer makes it.
ep_sign() {
        local signer=${3:-signer}
        openssl cms -sign -binary -outform DER -md sha256 -in "$1" -out "$2" \
                -signer "$EP_PKI/$signer.pem" -inkey "$EP_PKI/$signer.key" -nosmimecap \
                || ep_fail "openssl cms -sign failed for $1"
}

# ep_sign_grant FILE SIG / ep_sign_licence FILE SIG: signed by the signer
# certificate made for that kind of artefact.
ep_sign_grant() { ep_sign "$1" "$2" signer-grant; }
ep_sign_licence() { ep_sign "$1" "$2" signer-licence; }

# ep_flip_byte FILE OFFSET: inverts every bit of one byte in place, so the
# file is changed whatever the byte was (writing a fixed value would leave
# it unchanged one time in 256).
ep_flip_byte() {
        local b
        b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
        [ -n "$b" ] || ep_fail "ep_flip_byte: $1 has no byte at offset $2"
        printf "\\$(printf '%03o' $((b ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# System service units without a service manager (PID 1 here is not
# systemd): a unit is its cgroup /system.slice/NAME in each hierarchy that
# systemd tracks processes by (name=systemd, cgroup2). Needs root.
#
#   ep_unit_create pump [PARENT]      # EP_UNIT=pump-PID-RANDOM.service, in
#                                     # system.slice or PARENT; removed on exit
#                                     # (a NAME.service is taken as it is)
#   ep_in_unit "$EP_UNIT" 3 CMD...    # CMD as uid 3, inside the unit
EP_UNIT_DIRS=()
ep_cgroup_roots() {
        findmnt -n -t cgroup -O name=systemd -o TARGET 2>/dev/null | head -n 1
        findmnt -n -t cgroup2 -o TARGET 2>/dev/null | head -n 1
}

ep_unit_create() {
        local name="$1-$$-$RANDOM.service" parent=${2:-system.slice} root dir part
        case $1 in *.service) name=$1 ;; esac
        [ "$(id -u)" = 0 ] || ep_skip "creating cgroups needs root"
        [ -n "$(ep_cgroup_roots)" ] || ep_skip "no cgroup hierarchy is mounted"
        for root in $(ep_cgroup_roots); do
                dir=$root
                for part in ${parent//\// } "$name"; do
                        dir="$dir/$part"
                        [ -d "$dir" ] && continue
                        mkdir "$dir" 2>/dev/null || [ -d "$dir" ] || ep_skip "cannot create the cgroup $dir"
                        EP_UNIT_DIRS+=("$dir")
                done
        done
        EP_UNIT=$name
        EP_UNIT_PATH=$parent/$name
}

# Moves whatever still runs in our cgroups to the root cgroup and removes
# them, the deepest first (also when the test failed).
ep_units_remove() {
        local i dir root pid
        for ((i = ${#EP_UNIT_DIRS[@]} - 1; i >= 0; i--)); do
                dir=${EP_UNIT_DIRS[i]}
                [ -d "$dir" ] || continue
                root=$(ep_cgroup_roots | while read -r r; do case $dir in "$r"/*) echo "$r" ;; esac; done)
                for pid in $(cat "$dir/cgroup.procs" 2>/dev/null); do
                        echo "$pid" >"$root/cgroup.procs" 2>/dev/null
                done
                rmdir "$dir" 2>/dev/null || ep_log "could not remove $dir"
        done
        EP_UNIT_DIRS=()
}

# ep_in_unit UNIT UID[:GID] CMD...: runs CMD in UNIT's cgroups as UID (no
# supplementary groups), as a service manager starts a service. UNIT is a
# system unit's name, or a cgroup path (EP_UNIT_PATH).
ep_in_unit() {
        local path=$1 ids=$2 uid gid dirs=() root
        shift 2
        uid=${ids%%:*}
        gid=${ids#*:}
        [ "$gid" = "$ids" ] && gid=$uid
        case $path in */*) ;; *) path=system.slice/$path ;; esac
        for root in $(ep_cgroup_roots); do dirs+=("$root/$path"); done
        EP_IN_UNIT_DIRS="${dirs[*]}" bash -c 'for d in $EP_IN_UNIT_DIRS; do echo $$ >"$d/cgroup.procs" || exit 99; done
                unset EP_IN_UNIT_DIRS; exec "$@"' ep-in-unit \
                setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"
}
