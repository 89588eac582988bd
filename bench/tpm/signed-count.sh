#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Counts the TPM commands of a signed-policy unseal (endpointd-approval(5))
# from the TCTI trace: the daemon runs with TSS2_LOG=tcti+debug, which logs
# one "Sending command with TPM_CC 0x..." line per command sent to swtpm.
# Prints the commands of installing an approval, of the first unseal after
# it and of one later unseal, then the mean over N more; then the CPU per
# unseal of the daemon and of swtpm, signed against PCR policy, with that
# debug logging and again without it from one client. One run, on swtpm.
#
#   bench/tpm/signed-count.sh [BUILDDIR]        (default: ./build)
set -u
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
top_builddir=$(cd "${1:-$top_srcdir/build}" && pwd)
export top_srcdir top_builddir
N=${N:-20}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/bench/board-lib.sh"
command -v tpm2_pcrread >/dev/null || ep_skip "tpm2-tools is not installed"

ep_setup
ep_pki_init
ep_pki_signer signer-approval ca "/CN=Bench PCR Approvals" approval
openssl pkey -in "$EP_PKI/signer-approval.key" -pubout -out "$EP_TRUST/pcr-policy.pub" 2>/dev/null ||
        ep_fail "cannot write the PCR-policy key"
ep_config Integrity Watch no
# debug: the daemon's own swtpm TCTI logs each command at debug level.
ep_config Daemon LogLevel debug
export TSS2_LOG=tcti+debug
ep_start
unset TSS2_LOG
C="$EP_BUILD/endpointctl"

# The names of the commands this run can send (TPM 2.0 Part 2, 6.5.2).
declare -A CC=([0x153]=Create [0x157]=Load [0x15e]=Unseal [0x165]=FlushContext [0x176]=StartAuthSession
        [0x177]=VerifySignature [0x167]=LoadExternal [0x17f]=PolicyPCR [0x149]=PolicyNV
        [0x16a]=PolicyAuthorize [0x151]=PolicySecret [0x169]=NV_ReadPublic [0x173]=ReadPublic
        [0x131]=CreatePrimary [0x17e]=PCR_Read [0x17a]=GetCapability [0x17b]=GetRandom
        [0x137]=NV_Write [0x14e]=NV_Read [0x12a]=NV_DefineSpace [0x161]=ContextLoad [0x162]=ContextSave
        [0x189]=PolicyGetDigest [0x180]=PolicyRestart [0x134]=NV_Increment [0x135]=NV_SetBits)
sent() { grep -c "Sending command" "$EP_TMP/daemon.log"; }
# trace FROM: the names of the commands logged after line FROM of the count.
trace() {
        grep -o "Sending command with TPM_CC 0x[0-9a-f]*" "$EP_TMP/daemon.log" | tail -n "+$(($1 + 1))" |
                awk '{ print $NF }' | while read -r cc; do printf '%s ' "${CC[$cc]:-$cc}"; done
        echo
}

TPM2TOOLS_TCTI=$EP_TCTI_tpm tpm2_pcrread sha256:7 -o "$EP_TMP/pcr7" >/dev/null || ep_fail "tpm2_pcrread"
pcr7=$(od -An -tx1 -v "$EP_TMP/pcr7" | tr -d ' \n')
"$C" approval make 1 "7=$pcr7" --output="$EP_TMP/a1" >/dev/null || ep_fail "approval make"
tail -c 57 "$EP_TMP/a1" >"$EP_TMP/a1.tbs"
openssl cms -sign -binary -noattr -nosmimecap -md sha256 -outform DER -in "$EP_TMP/a1.tbs" -out "$EP_TMP/a1.sig" \
        -signer "$EP_PKI/signer-approval.pem" -inkey "$EP_PKI/signer-approval.key" || ep_fail "openssl cms"
printf 'bench-secret' | "$C" seal bench --policy=signed >/dev/null || ep_fail "seal --policy=signed"
printf 'plain-secret' | "$C" seal plain >/dev/null || ep_fail "seal"

b=$(sent)
"$C" approval install "$EP_TMP/a1" "$EP_TMP/a1.sig" >/dev/null || ep_fail "approval install"
a=$(sent)
echo "approval install: $((a - b)) commands: $(trace "$b")"
b=$a
[ "$("$C" unseal bench)" = bench-secret ] || ep_fail "unseal"
a=$(sent)
echo "first unseal after the install: $((a - b)) commands: $(trace "$b")"
b=$a
"$C" unseal bench >/dev/null || ep_fail "unseal"
a=$(sent)
echo "unseal: $((a - b)) commands: $(trace "$b")"
b=$a
for _ in $(seq "$N"); do "$C" unseal bench >/dev/null || ep_fail "unseal"; done
a=$(sent)
awk -v c=$((a - b)) -v n="$N" 'BEGIN { printf "mean over %d more unseals: %.2f commands\n", n, c / n }'

# CPU per unseal, signed policy against PCR policy, N each through
# endpointctl, same daemon: all threads of the daemon and of its swtpm
# (/proc/PID/task/*/schedstat). The daemon logs at debug level here, and
# each endpointctl call is a new bus connection, which costs both kinds
# alike.
# cpu NAME: "daemon_ms swtpm_ms" per unseal of NAME over N calls
cpu() {
        local d0 s0 d1 s1
        d0=$(cputime "$EP_DAEMON_PID") s0=$(cputime "$EP_SWTPM_PID_tpm")
        for _ in $(seq "$N"); do "$C" unseal "$1" >/dev/null || ep_fail "unseal $1"; done
        d1=$(cputime "$EP_DAEMON_PID") s1=$(cputime "$EP_SWTPM_PID_tpm")
        awk -v d=$((d1 - d0)) -v s=$((s1 - s0)) -v n="$N" 'BEGIN { printf "%.3f %.3f\n", d / n / 1e6, s / n / 1e6 }'
}
"$C" unseal plain >/dev/null || ep_fail "unseal plain"
read -r sd ss <<<"$(cpu bench)"
read -r pd ps <<<"$(cpu plain)"
echo "CPU per unseal (ms, mean of $N, debug logging): signed policy: daemon $sd, swtpm $ss; PCR policy: daemon $pd, swtpm $ps"

# The same at the daemon's default log level and without the TCTI trace,
# from one client connection (bench/tpm/keys-client.c, as bench/tpm/run.sh
# does: no endpointctl start-up and bus connection per call), 10 N unseals
# of each kind: the figures to hold against swtpm's CPU (the goal: the
# daemon spends at most twice what swtpm spends on the same commands).
KC=$EP_TMP/keys-client
cc -O2 -o "$KC" "$top_srcdir/bench/tpm/keys-client.c" $(pkg-config --cflags --libs libsystemd) ||
        ep_fail "cannot build keys-client"
ep_stop
ep_config_unset Daemon LogLevel
ep_start
# kc NAME: "daemon_ms swtpm_ms" per unseal of NAME over M calls of one client.
M=$((N * 10))
kc() {
        local d0 s0 d1 s1
        d0=$(cputime "$EP_DAEMON_PID") s0=$(cputime "$EP_SWTPM_PID_tpm")
        KC_NO_PING=1 "$KC" unseal "$1" "$M" >/dev/null || ep_fail "keys-client unseal $1"
        d1=$(cputime "$EP_DAEMON_PID") s1=$(cputime "$EP_SWTPM_PID_tpm")
        awk -v d=$((d1 - d0)) -v s=$((s1 - s0)) -v n="$M" 'BEGIN { printf "%.3f %.3f\n", d / n / 1e6, s / n / 1e6 }'
}
ratio() { awk -v d="$1" -v s="$2" 'BEGIN { printf "%.2f", d / s }'; }
read -r sd ss <<<"$(kc bench)"
read -r pd ps <<<"$(kc plain)"
echo "CPU per unseal (ms, mean of $M from one client, default logging): signed policy: daemon $sd," \
        "swtpm $ss ($(ratio "$sd" "$ss")x); PCR policy: daemon $pd, swtpm $ps ($(ratio "$pd" "$ps")x)"
ep_done
