/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <tss2/tss2_mu.h>

#include "log.h"
#include "openssl-util.h"
#include "tpm-internal.h"
#include "tpm-nv.h"
#include "tpm-policy.h"

DEFINE_CLEANUP_FUNC(BIGNUM *, BN_free, BN_freep)
DEFINE_CLEANUP_FUNC(ECDSA_SIG *, ECDSA_SIG_free, ECDSA_SIG_freep)

/* The public area of a verification key as LoadExternal gets it. Its
 * Name is bound into every object sealed under it: never change it. */
static int key_public(EVP_PKEY *key, TPM2B_PUBLIC *ret) {
        _cleanup_(BN_freep) BIGNUM *x = NULL, *y = NULL;
        char curve[32] = "";

        if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
            EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve), NULL) != 1 ||
            !streq(curve, "prime256v1"))
                return -EMEDIUMTYPE;
        if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
            EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1)
                return -EIO;
        *ret = (TPM2B_PUBLIC){
                .publicArea = {
                        .type = TPM2_ALG_ECC,
                        .nameAlg = TPM2_ALG_SHA256,
                        .objectAttributes = TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_USERWITHAUTH,
                        .parameters.eccDetail = {
                                .symmetric.algorithm = TPM2_ALG_NULL,
                                .scheme.scheme = TPM2_ALG_NULL,
                                .curveID = TPM2_ECC_NIST_P256,
                                .kdf.scheme = TPM2_ALG_NULL,
                        },
                        .unique.ecc = { .x.size = 32, .y.size = 32 },
                },
        };
        if (BN_bn2binpad(x, ret->publicArea.unique.ecc.x.buffer, 32) != 32 ||
            BN_bn2binpad(y, ret->publicArea.unique.ecc.y.buffer, 32) != 32)
                return -EIO;
        return 0;
}

int tpm_policy_key_name(EVP_PKEY *key, uint8_t ret[TPM_KEY_NAME_SIZE]) {
        uint8_t buf[sizeof(TPMT_PUBLIC)];
        TPM2B_PUBLIC pub;
        size_t off = 0;
        int r;

        r = key_public(key, &pub);
        if (r < 0)
                return r;
        if (Tss2_MU_TPMT_PUBLIC_Marshal(&pub.publicArea, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS)
                return -EPROTO;
        ret[0] = TPM2_ALG_SHA256 >> 8;
        ret[1] = TPM2_ALG_SHA256 & 0xff;
        return sha256_buffer(buf, off, ret + 2) < 0 ? -EIO : 0;
}

static int signature_from_der(const uint8_t *der, size_t len, TPMT_SIGNATURE *ret) {
        _cleanup_(ECDSA_SIG_freep) ECDSA_SIG *sig = NULL;
        const BIGNUM *r, *s;
        const unsigned char *p = der;

        sig = d2i_ECDSA_SIG(NULL, &p, (long) len);
        if (!sig || p != der + len)
                return -EKEYREJECTED;
        ECDSA_SIG_get0(sig, &r, &s);
        *ret = (TPMT_SIGNATURE){
                .sigAlg = TPM2_ALG_ECDSA,
                .signature.ecdsa = {
                        .hash = TPM2_ALG_SHA256,
                        .signatureR.size = 32,
                        .signatureS.size = 32,
                },
        };
        if (BN_bn2binpad(r, ret->signature.ecdsa.signatureR.buffer, 32) != 32 ||
            BN_bn2binpad(s, ret->signature.ecdsa.signatureS.buffer, 32) != 32)
                return -EKEYREJECTED;
        return 0;
}

int tpm_policy_ticket(Tpm *t, EVP_PKEY *key, const void *signed_data, size_t signed_len, const uint8_t *sig,
                      size_t sig_len, uint8_t **ret, size_t *ret_len) {
        uint8_t buf[sizeof(TPMT_TK_VERIFIED)];
        TPM2B_PUBLIC pub;
        TPM2B_DIGEST digest = { .size = 32 };
        TPMT_SIGNATURE signature;
        TPMT_TK_VERIFIED *ticket = NULL;
        ESYS_TR handle = ESYS_TR_NONE;
        size_t off = 0;
        TSS2_RC rc;
        int r;

        if (!t)
                return -ENODEV;
        r = key_public(key, &pub);
        if (r < 0)
                return r;
        r = signature_from_der(sig, sig_len, &signature);
        if (r < 0)
                return r;
        if (sha256_buffer(signed_data, signed_len, digest.buffer) < 0)
                return -EIO;
        /* Under the owner hierarchy: a key loaded under the null hierarchy
         * yields a null ticket, which PolicyAuthorize does not take. */
        rc = Esys_LoadExternal(tpm_esys(t), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, NULL, &pub,
                               ESYS_TR_RH_OWNER, &handle);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_record_failure(t, rc, "LoadExternal");
        rc = Esys_VerifySignature(tpm_esys(t), handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &digest,
                                  &signature, &ticket);
        tpm_flush(t, handle);
        if (tpm_rc_is(rc, TPM2_RC_SIGNATURE))
                return tpm_record_error(t, -EKEYREJECTED, "The TPM finds the approval's signature wrong");
        if (rc != TSS2_RC_SUCCESS)
                return tpm_record_failure(t, rc, "VerifySignature");
        rc = Tss2_MU_TPMT_TK_VERIFIED_Marshal(ticket, buf, sizeof(buf), &off);
        Esys_Free(ticket);
        if (rc != TSS2_RC_SUCCESS)
                return -EPROTO;
        *ret = malloc(off);
        if (!*ret)
                return -ENOMEM;
        memcpy(*ret, buf, off);
        *ret_len = off;
        return 0;
}

static int signed_digest(Tpm *t, const TpmSignedPolicy *policy, TPM2B_DIGEST *ret) {
        int r;

        r = approval_authorize_digest(policy->key_name, TPM_KEY_NAME_SIZE, ret->buffer);
        if (r < 0)
                return r;
        ret->size = 32;
        return tpm_policy_secret_extend(t, ret->buffer, policy->binding);
}

int tpm_seal_signed(Tpm *t, const TpmSignedPolicy *policy, bool no_export, const void *data, size_t len,
                    uint8_t **ret, size_t *ret_len) {
        TPM2B_DIGEST auth_policy;
        int r;

        if (!t)
                return -ENODEV;
        r = signed_digest(t, policy, &auth_policy);
        if (r < 0)
                return r;
        return tpm_seal_digest(t, &auth_policy, no_export, data, len, ret, ret_len);
}

int tpm_check_signed(Tpm *t, const TpmSignedPolicy *policy, const uint8_t *blob, size_t blob_len) {
        TPM2B_DIGEST want;
        int r;

        if (!t)
                return -ENODEV;
        r = signed_digest(t, policy, &want);
        if (r < 0)
                return r;
        return tpm_check_policy_digest(t, &want, blob, blob_len);
}

typedef struct SignedAssert {
        const TpmSignedPolicy *policy;
        const Approval *approval;
        TPMT_TK_VERIFIED ticket;
} SignedAssert;

/* Looks once per connection whether the index at the APPROVAL floor's
 * handle is ours: NV_ReadPublic, its Name computed from the public area
 * the TPM returned and compared with the Name the TPM gave and with the
 * one every approval's PolicyNV names (approval_nv_name). 0 when it is;
 * -ENOKEY when no index is there, when ours was never written (looked at
 * again next time), or when another index is there (other attributes,
 * another policy or authValue: defined by someone with owner
 * authorization).
 *
 * The check is not what keeps a foreign index from passing for the floor:
 * PolicyNV extends the session's digest with the Name of the index the TPM
 * actually compared against, and PolicyAuthorize accepts only the digest
 * the manufacturer signed, which names our index. An index swapped after
 * this check (undefined and defined anew by the owner) therefore fails at
 * PolicyAuthorize as an unapproved policy would. What the check adds is a
 * precise error, and that PolicyNV never sends its (empty) password to an
 * index that may count it as a dictionary-attack failure. */
static int approval_nv_check(Tpm *t) {
        bool *checked = tpm_approval_nv_checked(t);
        TPM2B_NV_PUBLIC pub = {};
        TPM2B_NAME name = {}, computed;
        TSS2_RC rc;
        int r;

        if (*checked)
                return 0;
        rc = Tss2_Sys_NV_ReadPublic(tpm_sys(t), tpm_nv_handle(TPM_NV_APPROVAL), NULL, &pub, &name, NULL);
        /* An undefined index is not a TPM failure (and must not be taken
         * for a lost TPM, which TPM_RC_HANDLE otherwise means). */
        if (tpm_rc_is(rc, TPM2_RC_HANDLE))
                return tpm_record_error(t, -ENOKEY, "No approval floor is defined in NV");
        if (rc != TSS2_RC_SUCCESS)
                return tpm_record_failure(t, rc, "NV_ReadPublic");
        r = tpm_nv_public_name(&pub, &computed);
        if (r < 0)
                return tpm_record_error(t, r, "Cannot compute the approval floor's Name");
        if (name.size != computed.size || memcmp(name.name, computed.name, computed.size) != 0)
                return tpm_record_error(t, -EPROTO, "NV_ReadPublic returned a Name not of its public area");
        if (!(pub.nvPublic.attributes & TPMA_NV_WRITTEN)) {
                pub.nvPublic.attributes |= TPMA_NV_WRITTEN;
                r = tpm_nv_public_name(&pub, &computed);
                if (r < 0)
                        return tpm_record_error(t, r, "Cannot compute the approval floor's Name");
                if (computed.size == APPROVAL_NV_NAME_SIZE &&
                    memcmp(computed.name, approval_nv_name, APPROVAL_NV_NAME_SIZE) == 0)
                        return tpm_record_error(t, -ENOKEY, "The approval floor in NV was never written");
        }
        if (computed.size != APPROVAL_NV_NAME_SIZE ||
            memcmp(computed.name, approval_nv_name, APPROVAL_NV_NAME_SIZE) != 0)
                return tpm_record_error(t, -ENOKEY,
                                        "An NV index with other attributes or another policy is at the "
                                        "approval floor's handle");
        *checked = true;
        return 0;
}

/* The signed policy's assertions: the approved policy (PolicyPCR of the
 * approval's PCR digest, PolicyNV against the floor), PolicyAuthorize of
 * it with the TPM's ticket for the manufacturer's signature, then the
 * object's own PolicySecret (signed_digest()). */
static int signed_assert(Tpm *t, TPM2_HANDLE session, const void *userdata) {
        const SignedAssert *sa = userdata;
        const Approval *a = sa->approval;
        TPM2_HANDLE nv = tpm_nv_handle(TPM_NV_APPROVAL);
        TPM2B_DIGEST approved = { .size = 32 };
        TPM2B_OPERAND operand = { .size = 8 };
        TPM2B_NONCE ref = { .size = APPROVAL_POLICY_REF_SIZE };
        TPM2B_NAME key = { .size = TPM_KEY_NAME_SIZE };
        TSS2L_SYS_AUTH_RESPONSE rsp = {};
        size_t off = 0;
        TSS2_RC rc;
        int r;

        r = tpm_policy_pcr_assert(t, session, a->pcr_mask, a->pcr_digest);
        if (r < 0)
                return r;

        r = approval_nv_check(t);
        if (r < 0)
                return r;
        /* The floor is a thermometer code (approval.h): NV <= T(version)
         * iff floor <= version. The index authorizes the read itself with
         * its empty authValue (AUTHREAD). */
        (void) Tss2_MU_UINT64_Marshal(approval_floor_encode(a->version), operand.buffer,
                                      sizeof(operand.buffer), &off);
        rc = Tss2_Sys_PolicyNV(tpm_sys(t), nv, nv, session, &tpm_auth_password, &operand, 0,
                               TPM2_EO_UNSIGNED_LE, &rsp);
        if (tpm_rc_is(rc, TPM2_RC_POLICY))
                return tpm_record_error(t, -ENOKEY,
                                        "The approval's version is below the approval floor in NV");
        /* Undefined (or defined anew) by the owner since it was checked:
         * look again next time. */
        if (tpm_rc_is(rc, TPM2_RC_HANDLE) || tpm_rc_is(rc, TPM2_RC_NV_UNINITIALIZED))
                *tpm_approval_nv_checked(t) = false;
        if (tpm_rc_is(rc, TPM2_RC_HANDLE))
                return tpm_record_error(t, -ENOKEY, "No approval floor is defined in NV");
        if (tpm_rc_is(rc, TPM2_RC_NV_UNINITIALIZED))
                return tpm_record_error(t, -ENOKEY, "The approval floor in NV was never written");
        if (rc != TSS2_RC_SUCCESS)
                return tpm_record_failure(t, rc, "PolicyNV");

        memcpy(approved.buffer, a->policy, 32);
        memcpy(ref.buffer, APPROVAL_POLICY_REF, APPROVAL_POLICY_REF_SIZE);
        memcpy(key.name, sa->policy->key_name, TPM_KEY_NAME_SIZE);
        rc = Tss2_Sys_PolicyAuthorize(tpm_sys(t), session, NULL, &approved, &ref, &key, &sa->ticket, NULL);
        if (tpm_rc_is(rc, TPM2_RC_VALUE) || tpm_rc_is(rc, TPM2_RC_TICKET) || tpm_rc_is(rc, TPM2_RC_POLICY))
                return tpm_record_error(
                        t, -ENOKEY, "The approval is not signed by the key this secret was sealed under");
        if (rc != TSS2_RC_SUCCESS)
                return tpm_record_failure(t, rc, "PolicyAuthorize");
        return tpm_policy_secret_assert(t, session, sa->policy->binding);
}

int tpm_unseal_signed(Tpm *t, const TpmSignedPolicy *policy, const Approval *approval, const uint8_t *ticket,
                      size_t ticket_len, const uint8_t *blob, size_t blob_len, uint8_t **ret, size_t *ret_len,
                      bool *ret_no_export) {
        SignedAssert sa = { .policy = policy, .approval = approval };
        TPM2B_DIGEST want;
        size_t off = 0;
        int r;

        if (!t)
                return -ENODEV;
        if (Tss2_MU_TPMT_TK_VERIFIED_Unmarshal(ticket, ticket_len, &off, &sa.ticket) != TSS2_RC_SUCCESS ||
            off != ticket_len)
                return tpm_record_error(t, -ENOKEY, "The approval's ticket does not parse");
        r = signed_digest(t, policy, &want);
        if (r < 0)
                return r;
        return tpm_unseal_digest(t, &want, signed_assert, &sa, blob, blob_len, ret, ret_len, ret_no_export);
}
