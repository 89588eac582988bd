#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# 1000 mixed Keys1 operations, good and failing, on a bare swtpm (three
# transient slots, no resource manager): every one must succeed or fail as
# expected, and afterwards only the SRK and the device key are loaded.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-keys-lib.sh"

ep_setup
ep_config TPM PCRs 16
# No cache: every Encrypt/Decrypt unseals its key through the TPM.
ep_config TPM KeyCacheTimeout 0
ep_start
B="ep_busctl call org.endpointd.Endpoint1 /org/endpointd/Endpoint1 org.endpointd.Keys1"
$B Seal 'saya{sv}' s1 3 1 2 3 0 || ep_fail "seal s1"
$B Seal 'saya{sv}' s23 1 9 1 pcrs au 1 23 || ep_fail "seal s23"
$B CreateKey 'sa{sv}' k1 0 || ep_fail "create k1"
cp "$EP_STATE/keys/s1.key" "$EP_STATE/keys/bad.key"
size=$(stat -c %s "$EP_STATE/keys/bad.key")
ep_flip_byte "$EP_STATE/keys/bad.key" $((size - 10))
k_tpm2 tpm2_pcrextend 23:sha256=$(printf '%064d' 7) || ep_fail "extend PCR 23"

ok=0
for i in $(seq 0 999); do
        case $((i % 8)) in
        0) out=$($B Unseal s 's1' 2>&1) && [ "$out" = "ay 3 1 2 3" ] ;;
        1) $B Encrypt 'sayay' k1 2 65 66 0 >/dev/null 2>&1 ;;
        2) $B Sign 'ay' 1 $((i % 256)) >/dev/null 2>&1 ;;
        3) $B Attest 'ayau' 1 $((i % 256)) 2 0 16 >/dev/null 2>&1 ;;
        4) ! $B Unseal s 's23' >/dev/null 2>&1 ;;        # PCR 23 moved: PcrMismatch
        5) ! $B Unseal s 'bad' >/dev/null 2>&1 ;;        # tampered: Tampered
        6) $B Seal 'saya{sv}' "t$i" 1 $((i % 256)) 0 >/dev/null 2>&1 &&
           $B DeleteKey s "t$i" >/dev/null 2>&1 ;;
        7) ! $B Unseal s 'missing' >/dev/null 2>&1 ;;
        esac || ep_fail "operation $i (kind $((i % 8))) did not behave"
        ok=$((ok + 1))
done
ep_assert_eq "$ok" 1000 "1000 mixed operations behaved"
ep_expect_error org.endpointd.Error.PcrMismatch k_call Unseal s23
ep_expect_error org.endpointd.Error.Tampered k_call Unseal bad
ep_assert_eq "$(k_transient)" 2 "only the SRK and the device key are loaded"
ep_assert_eq "$(k_tpm2 tpm2_getcap handles-loaded-session | grep -c '^-' || true)" 0 "no sessions left loaded"
ep_stop
ep_assert_eq "$(k_transient)" 0 "tpm2_getcap handles-transient is empty after stop"
ep_done
