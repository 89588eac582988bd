#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The APPROVAL floor index (endpointd-approval(5)) undefined or replaced
# under a running daemon by someone with the owner's authorization: a
# signed unseal is refused with NotApproved naming what is wrong, the TPM
# is not taken for lost (PolicyNV and NV_ReadPublic answer TPM_RC_HANDLE
# for an undefined index, which for a loaded object means a reset TPM),
# nothing is left loaded, and a PCR-policy unseal keeps working.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-keys-lib.sh"

command -v tpm2_nvundefine >/dev/null || ep_skip "tpm2-tools is not installed"

NV_APPROVAL=0x01800E44

ep_setup
ep_pki_init
ep_pki_signer signer-approval ca "/CN=Test PCR Approvals" approval
openssl pkey -in "$EP_PKI/signer-approval.key" -pubout -out "$EP_TRUST/pcr-policy.pub" 2>/dev/null ||
        ep_fail "cannot write the PCR-policy key"
ep_config Integrity Watch no
ep_start

k_tpm2 tpm2_pcrread sha256:7 -o "$EP_TMP/pcr7" >/dev/null || ep_fail "tpm2_pcrread failed"
ep_ctl approval make 1 "7=$(od -An -tx1 -v "$EP_TMP/pcr7" | tr -d ' \n')" --output="$EP_TMP/a1" >/dev/null ||
        ep_fail "endpointctl approval make failed"
tail -c 57 "$EP_TMP/a1" >"$EP_TMP/a1.tbs"
openssl cms -sign -binary -noattr -nosmimecap -md sha256 -outform DER -in "$EP_TMP/a1.tbs" -out "$EP_TMP/a1.sig" \
        -signer "$EP_PKI/signer-approval.pem" -inkey "$EP_PKI/signer-approval.key" || ep_fail "openssl cms -sign failed"
ep_ctl approval install "$EP_TMP/a1" "$EP_TMP/a1.sig" >/dev/null || ep_fail "endpointctl approval install failed"
printf s3cr3t | ep_ctl seal secret --policy=signed >/dev/null || ep_fail "endpointctl seal --policy=signed failed"
printf plain | ep_ctl seal plain >/dev/null || ep_fail "endpointctl seal failed"
ep_assert_eq "$(ep_ctl unseal secret)" s3cr3t "a signed unseal with the floor in place"

unseal() { k_call Unseal secret; }
why="NotApproved: No installed PCR approval opens 'secret'"
# still_fine: the daemon kept its TPM and nothing is left loaded in it.
still_fine() {
        ep_assert_eq "$(ep_ctl unseal plain)" plain "$1: a PCR-policy unseal works"
        ep_assert_eq "$(k_transient)" 2 "$1: only the SRK and the device key are loaded"
        case $(cat "$EP_TMP/daemon.log") in
        *"Lost the TPM"*) ep_fail "$1: the daemon took the TPM for lost" ;;
        esac
}

# Undefined: the first unseal after it finds out at PolicyNV (the daemon
# checked the index once and keeps that), the next at NV_ReadPublic.
k_tpm2 tpm2_nvundefine -C o $NV_APPROVAL >/dev/null || ep_fail "tpm2_nvundefine failed"
ep_expect_error "$why (No approval floor is defined in NV)" unseal
ep_expect_error "$why (No approval floor is defined in NV)" unseal
still_fine "floor undefined"

# Another index at its handle, written: a bit field with the owner's
# authorization and no policy, holding 0, so that PolicyNV against it
# would pass. The daemon refuses it by its Name before PolicyNV (and
# PolicyAuthorize would refuse the policy digest that names it).
k_tpm2 tpm2_nvdefine -C o -s 8 -a "ownerread|ownerwrite|authread|authwrite|nt=bits" $NV_APPROVAL >/dev/null ||
        ep_fail "tpm2_nvdefine failed"
k_tpm2 tpm2_nvsetbits -C o -i 0 $NV_APPROVAL >/dev/null || ep_fail "tpm2_nvsetbits failed"
ep_expect_error "$why (An NV index with other attributes or another policy is at the approval floor's handle)" unseal
still_fine "another index at the floor's handle"
ep_done
