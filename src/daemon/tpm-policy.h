/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Sealing with a signed policy (endpointd-approval(5)): the sealed
 * object's authPolicy is
 *
 *   TPM2_PolicyAuthorize(keySign = the PCR-policy key's Name,
 *                        policyRef = APPROVAL_POLICY_REF)
 *   TPM2_PolicySecret(SRK, policyRef = binding)       (as tpm_seal())
 *
 * so it opens in any PCR state whose approval the manufacturer signed with
 * that key, as long as the approval's version is not below the APPROVAL
 * floor in NV (the approved policy ends with PolicyNV against it). The PCR
 * values themselves are not in the object: they are in the approval.
 *
 * An unseal is seven TPM commands: Load, PolicyPCR, PolicyNV,
 * PolicyAuthorize, PolicySecret, Unseal, FlushContext, through SAPI in the
 * salted policy session that tpm_unseal() keeps (tpm.c; StartAuthSession
 * only when there is none: after start or a failed unseal). The signature
 * is checked by the TPM once, when the approval is installed
 * (LoadExternal, VerifySignature, FlushContext); the ticket it gives
 * (TPMT_TK_VERIFIED, an HMAC under the owner hierarchy's proof, valid
 * until TPM2_Clear) is kept with the approval and is what PolicyAuthorize
 * checks. The floor's NV index is checked once per connection
 * (NV_ReadPublic). */

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "approval.h"
#include "tpm.h"

/* The TPM Name (34 bytes: nameAlg SHA-256 and a digest) of key as
 * TPM2_LoadExternal loads it for verification. Only ECC P-256 keys:
 * -EMEDIUMTYPE for any other. */
#define TPM_KEY_NAME_SIZE 34U
int tpm_policy_key_name(EVP_PKEY *key, uint8_t ret[TPM_KEY_NAME_SIZE]);

/* Has the TPM verify sig (DER ECDSA-Sig-Value by key) over
 * SHA-256(signed), and returns the marshalled TPMT_TK_VERIFIED (malloc'ed).
 * -EKEYREJECTED when the TPM finds the signature wrong. */
int tpm_policy_ticket(Tpm *t, EVP_PKEY *key, const void *signed_data, size_t signed_len, const uint8_t *sig,
                      size_t sig_len, uint8_t **ret, size_t *ret_len);

/* What an object sealed with a signed policy is bound to. */
typedef struct TpmSignedPolicy {
        uint8_t key_name[TPM_KEY_NAME_SIZE];
        uint8_t binding[32];
} TpmSignedPolicy;

/* tpm_seal() under policy. */
int tpm_seal_signed(Tpm *t, const TpmSignedPolicy *policy, bool no_export, const void *data, size_t len,
                    uint8_t **ret, size_t *ret_len);

/* tpm_check_policy() for a signed policy. */
int tpm_check_signed(Tpm *t, const TpmSignedPolicy *policy, const uint8_t *blob, size_t blob_len);

/* Unseals a blob from tpm_seal_signed() in the PCR state approval covers,
 * with ticket from tpm_policy_ticket(). Errors as tpm_unseal(), and -EBADE
 * the PCRs are not the approved values, -ENOKEY the approval is below the
 * APPROVAL floor, or not signed by the key the object was sealed under, or
 * the floor index is not defined. */
int tpm_unseal_signed(Tpm *t, const TpmSignedPolicy *policy, const Approval *approval, const uint8_t *ticket,
                      size_t ticket_len, const uint8_t *blob, size_t blob_len, uint8_t **ret, size_t *ret_len,
                      bool *ret_no_export);
