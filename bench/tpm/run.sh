#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Latency of Keys1 operations through endpointd against the tpm2-tools
# command chain that does the same work, and against a bare D-Bus round
# trip (org.freedesktop.DBus.Peer.Ping to the daemon). One run, on swtpm.
#
#   bench/tpm/run.sh [BUILDDIR]        (default: ./build)
#
# endpointd is timed from one client process (bench/tpm/keys-client.c) so
# that process start-up is not counted; the tpm2-tools chain is what a
# shell script would run, one process per command, and is timed as such.
# TPM commands are counted from the TCTI debug log (TSS2_LOG=tcti+debug,
# one "Sending command" line per command), averaged over the runs. The
# chain runs on a second swtpm: endpointd keeps two of swtpm's three
# transient slots, and a chain needs two of its own.
set -u
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
top_builddir=$(cd "${1:-$top_srcdir/build}" && pwd)
export top_srcdir top_builddir
N=${N:-200}      # endpointd calls per operation
NC=${NC:-20}     # tpm2-tools chain runs per operation
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/bench/board-lib.sh"
for tool in tpm2_createprimary tpm2_createpolicy tpm2_create tpm2_load tpm2_startauthsession tpm2_policypcr \
            tpm2_unseal tpm2_flushcontext tpm2_sign tpm2_quote cc pkg-config; do
        command -v $tool >/dev/null || ep_skip "$tool is not installed"
done

ep_setup
ep_start_swtpm tools
cc -O2 -o "$EP_TMP/keys-client" "$top_srcdir/bench/tpm/keys-client.c" $(pkg-config --cflags --libs libsystemd) ||
        ep_fail "cannot build keys-client"
# The benchmark is one busy client: lift the per-caller rate limit, and log
# at info so that per-call debug lines are not what is measured.
ep_config Policy RateLimitBurst 1000000
ep_config Policy RateLimitPerSecond 1000000
ep_config Daemon LogLevel info
# First a daemon with the TCTI debug log, to count TPM commands; timing
# runs on a second one without it.
export TSS2_LOG=tcti+debug
ep_config Daemon LogLevel debug
ep_start
unset TSS2_LOG
ep_config Daemon LogLevel info
C="$EP_TMP/keys-client"
B="ep_busctl call org.endpointd.Endpoint1 /org/endpointd/Endpoint1 org.endpointd.Keys1"
$B Seal 'saya{sv}' bench 16 $(seq 1 16) 0 >/dev/null || ep_fail "seal"
$B CreateKey 'sa{sv}' data 0 >/dev/null || ep_fail "create key"

# tcti-swtpm logs "Sending command" with TSS2_LOG=tcti+debug, the daemon's
# own swtpm TCTI the same words at debug level.
commands() { grep -c "Sending command" "$EP_TMP/daemon.log"; }

# count OP ARGS: TPM commands per call (mean of 20).
count() {
        local before after
        before=$(commands)
        "$C" "$@" 19 >/dev/null || { echo "keys-client $* failed" >&2; echo X; return; }
        after=$(commands)
        awk -v c=$((after - before)) 'BEGIN { printf "%.1f\n", c / 20 }'
}

# daemon OP ARGS: "median_ms ping_median_ms" (pings interleaved with the calls).
daemon() {
        local res
        res=$("$C" "$@" "$N") || { echo "keys-client $* failed" >&2; echo X X; return; }
        awk -v m="$(echo "$res" | cut -d' ' -f1)" -v p="$(echo "$res" | cut -d' ' -f3)" \
                'BEGIN { printf "%.3f %.3f\n", m / 1000, p / 1000 }'
}

# cpu OP ARGS: "daemon_ms swtpm_ms" of CPU time (all threads, from
# /proc/PID/task/*/schedstat) per call over N calls without pings.
cpu() {
        local d0 s0 d1 s1
        d0=$(cputime "$EP_DAEMON_PID") s0=$(cputime "$EP_SWTPM_PID_tpm")
        KC_NO_PING=1 "$C" "$@" "$N" >/dev/null || { echo "keys-client $* failed" >&2; echo X X; return; }
        d1=$(cputime "$EP_DAEMON_PID") s1=$(cputime "$EP_SWTPM_PID_tpm")
        awk -v d=$((d1 - d0)) -v s=$((s1 - s0)) -v n="$N" 'BEGIN { printf "%.3f %.3f\n", d / n / 1e6, s / n / 1e6 }'
}

# chain NAME: runs chain_NAME NC times; "mean_ms cmds_per_run" (commands
# counted on three more runs with the TCTI debug log).
T=$EP_TMP/tools
export TPM2TOOLS_TCTI=$EP_TCTI_tools
chain() {
        local start end cmds
        start=$(date +%s%N)
        for _ in $(seq "$NC"); do
                "chain_$1" >/dev/null 2>>"$T.err" || { echo "chain $1 failed: $(tail -3 "$T.err")" >&2; echo X X; return; }
        done
        end=$(date +%s%N)
        rm -f "$T.log"
        for _ in 1 2 3; do TSS2_LOG=tcti+debug "chain_$1" 2>>"$T.log" >/dev/null; done
        cmds=$(grep -c "Sending command" "$T.log")
        awk -v t=$((end - start)) -v c="$cmds" -v n="$NC" 'BEGIN { printf "%.3f %.1f\n", t / n / 1e6, c / 3 }'
}

# Setup of the chains (not timed): a sealed object under the SRK with a PCR
# policy, and a signing key under it; data to encrypt.
mkdir -p "$T"
head -c 16 /dev/urandom >"$T/secret"
head -c 4096 /dev/urandom >"$T/plain"
# Without a resource manager, what a tool loads stays loaded after it
# exits: a script on such a TPM flushes (tpm2_flushcontext -t) itself.
tpm2_createprimary -Q -C o -g sha256 -G ecc256:aes128cfb -c "$T/srk.ctx" &&
tpm2_createpolicy -Q --policy-pcr -l sha256:7 -L "$T/pcr.policy" &&
tpm2_create -Q -C "$T/srk.ctx" -L "$T/pcr.policy" -i "$T/secret" -u "$T/seal.pub" -r "$T/seal.priv" &&
tpm2_flushcontext -t &&
tpm2_create -Q -C "$T/srk.ctx" -G ecc256:ecdsa-sha256 -u "$T/sign.pub" -r "$T/sign.priv" &&
tpm2_flushcontext -t &&
head -c 32 /dev/urandom >"$T/dk" &&
tpm2_create -Q -C "$T/srk.ctx" -L "$T/pcr.policy" -i "$T/dk" -u "$T/dk.pub" -r "$T/dk.priv" &&
tpm2_flushcontext -t || ep_fail "chain setup failed"
rm -f "$T/srk.ctx"

# What a script does for each operation, from a cold start, one process
# per tool. Without a resource manager whatever a tool loads stays loaded
# (and the next tool's ContextLoad adds a copy), so the chain flushes
# transient objects (-t) and saved sessions (-s) as it goes.
unseal_chain() {        # $1 = object
        tpm2_createprimary -Q -C o -g sha256 -G ecc256:aes128cfb -c "$T/srk.ctx" &&
        tpm2_flushcontext -t &&
        tpm2_load -Q -C "$T/srk.ctx" -u "$T/$1.pub" -r "$T/$1.priv" -c "$T/$1.ctx" &&
        tpm2_flushcontext -t &&
        tpm2_startauthsession -Q --policy-session -S "$T/session.ctx" &&
        tpm2_policypcr -Q -S "$T/session.ctx" -l sha256:7 &&
        tpm2_unseal -c "$T/$1.ctx" -p session:"$T/session.ctx" -o "$T/$1.out" &&
        tpm2_flushcontext -t &&
        tpm2_flushcontext -s
}
chain_unseal() { unseal_chain seal; }
chain_seal() {
        tpm2_createprimary -Q -C o -g sha256 -G ecc256:aes128cfb -c "$T/srk.ctx" &&
        tpm2_flushcontext -t &&
        tpm2_create -Q -C "$T/srk.ctx" -L "$T/pcr.policy" -i "$T/secret" -u "$T/new.pub" -r "$T/new.priv" &&
        tpm2_flushcontext -t
}
chain_encrypt() {
        unseal_chain dk &&
        openssl enc -aes-256-ctr -K "$(od -An -v -tx1 "$T/dk.out" | tr -d ' \n')" -iv 000000000000000000000000 \
                -in "$T/plain" -out "$T/ct"
}
chain_sign() {
        tpm2_createprimary -Q -C o -g sha256 -G ecc256:aes128cfb -c "$T/srk.ctx" &&
        tpm2_flushcontext -t &&
        tpm2_load -Q -C "$T/srk.ctx" -u "$T/sign.pub" -r "$T/sign.priv" -c "$T/sign.ctx" &&
        tpm2_flushcontext -t &&
        tpm2_sign -c "$T/sign.ctx" -g sha256 -f plain -o "$T/sig" "$T/secret" &&
        tpm2_flushcontext -t
}
chain_attest() {
        tpm2_createprimary -Q -C e -g sha256 -G ecc256:ecdsa-sha256:null \
                -a 'restricted|sign|fixedtpm|fixedparent|sensitivedataorigin|userwithauth' -c "$T/ak.ctx" &&
        tpm2_quote -Q -c "$T/ak.ctx" -l sha256:7 -q 6e6f6e6365 -m "$T/q.msg" -s "$T/q.sig" -o "$T/q.pcrs" &&
        tpm2_flushcontext -t
}

unseal_c=$(count unseal bench)
seal_c=$(count seal count)
enc_c=$(count encrypt data 4096)
sign_c=$(count sign)
att_c=$(count attest 7)
ep_stop
ep_start
board_confine "$EP_DAEMON_PID"
board_self
read -r ping_ms _ <<<"$(daemon ping)"
read -r unseal_ms unseal_p <<<"$(daemon unseal bench)"
read -r seal_ms seal_p <<<"$(daemon seal time)"
read -r unseal_cpu unseal_tpm_cpu <<<"$(cpu unseal bench)"
read -r seal_cpu seal_tpm_cpu <<<"$(cpu seal cpu)"
read -r enc_ms enc_p <<<"$(daemon encrypt data 4096)"
read -r sign_ms sign_p <<<"$(daemon sign)"
read -r att_ms att_p <<<"$(daemon attest 7)"
# Seal against its chain, interleaved: R rounds, each 20 daemon calls
# (median) then 5 chain runs (mean); the ratio is the median of the R
# per-round ratios (with their range), so that a burst of load from other
# processes lands on both sides of one round instead of on one side.
R=${R:-9}
seal_ratios=()
for i in $(seq "$R"); do
        read -r m _ <<<"$(N=20 daemon seal "round$i")"
        read -r cm _ <<<"$(NC=5 chain seal)"
        seal_ratios+=("$(awk -v a="$cm" -v b="$m" 'BEGIN { printf "%.2f", a / b }')")
done
read -r seal_rmed seal_rmin seal_rmax <<<"$(printf '%s\n' "${seal_ratios[@]}" | sort -g |
        awk '{ v[NR] = $1 } END { printf "%s %s %s\n", v[int((NR + 1) / 2)], v[1], v[NR] }')"
read -r cu_ms cu_c <<<"$(chain unseal)"
read -r csl_ms csl_c <<<"$(chain seal)"
read -r ce_ms ce_c <<<"$(chain encrypt)"
read -r cs_ms cs_c <<<"$(chain sign)"
read -r ca_ms ca_c <<<"$(chain attest)"

row() { # name ms cmds chain_ms chain_cmds ping_ms (interleaved)
        awk -v n="$1" -v m="$2" -v c="$3" -v cm="$4" -v cc="$5" -v p="$6" 'BEGIN {
                printf "| %s | %.2f | %s | %.1f | %s | %.1f× | %.1f× |\n", n, m, c, cm, cc, cm / m, m / p }'
}
echo
echo "swtpm $(swtpm --version 2>&1 | head -1 | awk '{print $NF}'), $(nproc) CPUs; endpointd: median of $N calls from one client;"
echo "tpm2-tools $(tpm2_createprimary --version | sed -n 's/.*version="\([^"]*\)".*/\1/p'): mean of $NC chain runs."
echo
echo "| operation | endpointd ms | TPM cmds | tpm2-tools chain ms | TPM cmds | chain / endpointd | endpointd / D-Bus ping¹ |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
awk -v p="$ping_ms" 'BEGIN { printf "| D-Bus ping (Peer.Ping) | %.3f | 0 | – | – | – | 1.0× |\n", p }'
row "Unseal (PolicyPCR + PolicySecret, salted)" "$unseal_ms" "$unseal_c" "$cu_ms" "$cu_c" "$unseal_p"
row "Seal 16 bytes (salted, encrypted)" "$seal_ms" "$seal_c" "$csl_ms" "$csl_c" "$seal_p"
echo "| Seal, $R interleaved rounds² | | | | | ${seal_rmed}× (${seal_rmin}–${seal_rmax}×) | |"
row "Encrypt 4 KiB (cached key)" "$enc_ms" "$enc_c" "$ce_ms" "$ce_c" "$enc_p"
row "Sign (ECDSA P-256)" "$sign_ms" "$sign_c" "$cs_ms" "$cs_c" "$sign_p"
row "Attest (quote, PCR 7)" "$att_ms" "$att_c" "$ca_ms" "$ca_c" "$att_p"
echo
echo "| operation | endpointd CPU ms/call | swtpm CPU ms/call | endpointd / swtpm |"
echo "| --- | ---: | ---: | ---: |"
awk -v a="$unseal_cpu" -v b="$unseal_tpm_cpu" 'BEGIN { printf "| Unseal | %.3f | %.3f | %.2f× |\n", a, b, a / b }'
awk -v a="$seal_cpu" -v b="$seal_tpm_cpu" 'BEGIN { printf "| Seal | %.3f | %.3f | %.2f× |\n", a, b, a / b }'
echo
echo "¹ against a Peer.Ping timed right after each call on the same connection. Encrypt's TPM"
echo "commands: 6 for the first call (unseal of the data key), 0 once the key is cached."
echo "² median of the per-round ratios (range in brackets); each round: 20 daemon Seals (median), then 5 chain runs (mean)."
echo "Chains, one process per tool (swtpm has no resource manager, so flushcontext -t/-s run in between):"
echo "Unseal = createprimary, load, startauthsession, policypcr, unseal (+4 flushcontext) = 9 processes;"
echo "Seal = createprimary, create with the PCR policy (+2 flushcontext);"
echo "CPU: all threads of endpointd and of its swtpm over $N calls without pings (/proc/PID/task/*/schedstat)."
echo "Encrypt = the Unseal chain for the data key + openssl enc -aes-256-ctr (GCM is not in openssl enc);"
echo "Sign = createprimary, load, sign (+3 flushcontext); Attest = createprimary (restricted AK in the"
echo "endorsement hierarchy), quote (+1 flushcontext)."
ep_stop
trap - EXIT
ep_cleanup >/dev/null 2>&1
