/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* PCR approvals (endpointd-approval(5)): a manufacturer's signed statement
 * "PCR values V are an approved state of this product, as of version N",
 * in the form TPM2_PolicyAuthorize takes. A secret sealed with a signed
 * policy opens in any PCR state an installed approval covers.
 *
 * The file, APPROVAL_FILE_SIZE bytes, big endian:
 *
 *   off len
 *     0   4  magic "EPPA"
 *     4   1  format (1)
 *     5   3  reserved, 0
 *     8   8  version, 1..APPROVAL_VERSION_MAX: a security version (the
 *            TPM refuses it once the APPROVAL floor in NV is above it)
 *    16   4  PCR mask of the sha256 bank (bit i: PCR i), not 0, < 2^24
 *    20  32  PCR digest: SHA-256 of the expected PCR values, 32 bytes
 *            each, in ascending PCR order
 *    52  32  approved policy: the policy digest of
 *              TPM2_PolicyPCR(selection of the mask, PCR digest)
 *              TPM2_PolicyNV(APPROVAL floor index, operandB = T(version)
 *                            as 8 bytes, offset 0, TPM_EO_UNSIGNED_LE)
 *    84  25  policyRef "endpointd PCR approval v1"
 *
 * Bytes 52..108 (APPROVAL_SIGNED_OFFSET, APPROVAL_SIGNED_SIZE) are what is
 * signed: the detached CMS signature of the approval is over exactly them,
 * without signed attributes (openssl cms -sign -noattr), so its signature
 * value is a signature over SHA-256(approved policy || policyRef), the
 * aHash TPM2_VerifySignature and TPM2_PolicyAuthorize check. Version, mask
 * and PCR digest are bound by the approved policy, which commits to them. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define APPROVAL_FILE_SIZE 109U
#define APPROVAL_SIGNED_OFFSET 52U
#define APPROVAL_SIGNED_SIZE 57U
#define APPROVAL_POLICY_REF "endpointd PCR approval v1"
#define APPROVAL_POLICY_REF_SIZE 25U
#define APPROVAL_PCR_MAX 24U

/* The APPROVAL floor is a TPM bit field (TPM_NT_BITS: NV_SetBits ORs bits
 * in, nothing clears them), holding the thermometer code of the lowest
 * version still accepted: T(v) = the top v of 64 bits set, T(0) = 0. T is
 * monotonic and T(a) | T(b) = T(max(a, b)), so raising the floor to v is
 * NV_SetBits(T(v)), and PolicyNV(operandB = T(version), UNSIGNED_LE)
 * passes iff floor <= version. Hence at most 64 versions. */
#define APPROVAL_VERSION_MAX 64U

/* T(v) for v in 0..64 (larger: T(64)). */
uint64_t approval_floor_encode(uint64_t v);

/* The level of the bits x: v when x is T(v) (*ret_exact true), else the
 * level of its deepest set bit, 64 - ctz(x): the lowest v with
 * x | T(v) = T(v) (*ret_exact false). */
uint64_t approval_floor_decode(uint64_t x, bool *ret_exact);

/* The Name of the APPROVAL floor NV index (0x01800E44, written) that
 * PolicyNV commits to: nameAlg SHA-256 and the digest of its public area
 * as endpointd-tpm(7) documents it. The same on every TPM; test-tpm
 * checks it against tpm-nv.c. */
#define APPROVAL_NV_NAME_SIZE 34U
extern const uint8_t approval_nv_name[APPROVAL_NV_NAME_SIZE];

typedef struct Approval {
        uint64_t version;
        uint32_t pcr_mask;
        uint8_t pcr_digest[32];
        uint8_t policy[32];
} Approval;

/* Parses an approval file. -EBADMSG when it is not one: wrong size, magic,
 * format, reserved bytes, a version of 0 or above APPROVAL_VERSION_MAX, a mask of 0 or beyond PCR 23, a
 * policyRef other than ours, or an approved policy that is not the digest
 * of its own version, mask and PCR digest. */
int approval_parse(const void *data, size_t len, Approval *ret);

/* The approved policy of version, pcr_mask, pcr_digest (see above).
 * -EINVAL for a mask of 0 or beyond PCR 23, -ERANGE for a version of 0 or
 * above APPROVAL_VERSION_MAX. */
int approval_policy_digest(uint64_t version, uint32_t pcr_mask, const uint8_t pcr_digest[32], uint8_t ret[32]);

/* Writes the approval file for version over the PCR values (32 bytes each,
 * one per bit of pcr_mask, ascending) into ret[APPROVAL_FILE_SIZE].
 * -ERANGE for a version of 0 or above APPROVAL_VERSION_MAX, -EINVAL for a
 * bad mask. */
int approval_make(uint64_t version, uint32_t pcr_mask, const uint8_t (*values)[32], uint8_t *ret);

/* The policy digest of TPM2_PolicyAuthorize(keySign = key_name,
 * policyRef = APPROVAL_POLICY_REF) from an empty digest: what an object
 * sealed with a signed policy starts its authPolicy with. */
int approval_authorize_digest(const uint8_t *key_name, size_t key_name_len, uint8_t ret[32]);
