/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <openssl/crypto.h>
#include <string.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>

#include "log.h"
#include "tpm-credential.h"
#include "tpm-internal.h"

#define CREDENTIAL_MAGIC UINT32_C(0xBADCC0DE)
#define CREDENTIAL_VERSION UINT32_C(1)

/* PolicySecret(TPM_RH_ENDORSEMENT) with empty policyRef, the authPolicy of
 * the TCG EK templates (EK Credential Profile 2.0, section B.3.3). */
static const uint8_t ek_auth_policy[32] = {
        0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
        0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
};

/* TCG EK Credential Profile 2.0, template L-2: ECC NIST P-256, a
 * restricted decryption key usable only under the policy above (no
 * userWithAuth), zero unique. tpm2_createek -G ecc makes the same key. */
static void ek_template(TPM2B_PUBLIC *ret) {
        tpm_ecc_storage_template(TPMA_OBJECT_ADMINWITHPOLICY, ret);
        ret->publicArea.authPolicy.size = sizeof(ek_auth_policy);
        memcpy(ret->publicArea.authPolicy.buffer, ek_auth_policy, sizeof(ek_auth_policy));
}

static uint16_t be16(const uint8_t *p) {
        return (uint16_t) (p[0] << 8 | p[1]);
}

int tpm_credential_parse(const void *data, size_t len, TpmCredential *ret, const char **ret_why) {
        TpmCredential c = {};
        TPMS_ECC_POINT point = {};
        uint32_t magic = 0, version = 0;
        size_t off = 0, enc_len, point_off = 0;
        const char *why = NULL;

        if (len > TPM_CREDENTIAL_MAX)
                why = "too large for a credential file";
        else if (Tss2_MU_UINT32_Unmarshal(data, len, &off, &magic) != TSS2_RC_SUCCESS ||
                 magic != CREDENTIAL_MAGIC)
                why = "not a tpm2_makecredential file (no magic 0xBADCC0DE)";
        else if (Tss2_MU_UINT32_Unmarshal(data, len, &off, &version) != TSS2_RC_SUCCESS ||
                 version != CREDENTIAL_VERSION)
                why = "unknown credential file version (only version 1 is known)";
        else if (Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(data, len, &off, &c.blob) != TSS2_RC_SUCCESS)
                why = "the credential blob (TPM2B_ID_OBJECT) is truncated or too large";
        else if (Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(data, len, &off, &c.secret) != TSS2_RC_SUCCESS)
                why = "the encrypted secret (TPM2B_ENCRYPTED_SECRET) is truncated or too large";
        else if (off != len)
                why = "bytes follow the encrypted secret";
        /* The blob: a TPM2B_DIGEST integrity HMAC of the EK's nameAlg
         * (SHA-256), then the encrypted TPM2B_DIGEST credential (its
         * 2-byte size and at least one byte, at most a SHA-512 digest). */
        else if (c.blob.size < 2 || be16(c.blob.credential) != 32)
                why = "the credential's integrity HMAC is not a SHA-256 digest";
        else if ((enc_len = c.blob.size - 2U - 32U) < 3 || enc_len > 2 + sizeof(TPMU_HA))
                why = "the encrypted credential is empty or larger than a digest";
        /* The secret of an ECC EK: the ephemeral P-256 point, exactly.
         * Each coordinate has 1 to 32 bytes: tpm2_makecredential drops
         * leading zero bytes (one point in 128 has a short coordinate),
         * and the TPM's KDFe hashes the bytes as given, so they must reach
         * it unchanged (padded, the credential no longer opens). */
        else if (Tss2_MU_TPMS_ECC_POINT_Unmarshal(c.secret.secret, c.secret.size, &point_off, &point) !=
                         TSS2_RC_SUCCESS ||
                 point_off != c.secret.size || point.x.size == 0 || point.x.size > 32 || point.y.size == 0 ||
                 point.y.size > 32)
                why = "the encrypted secret is not a NIST P-256 point (made for an RSA EK?)";
        if (why) {
                if (ret_why)
                        *ret_why = why;
                return -EBADMSG;
        }
        *ret = c;
        return 0;
}

/* endpointd supports only the empty endorsement authorization (its device
 * key and attestation key are primaries of that hierarchy too): checked
 * before anything is unloaded, so a set value is one clear error. The
 * first step of every operation here; -ENODEV without a TPM. */
static int endorsement_auth_check(Tpm *t) {
        uint32_t permanent;
        int r;

        if (!t)
                return -ENODEV;
        r = tpm_property(t, TPM2_PT_PERMANENT, &permanent);
        if (r < 0)
                return r;
        if (permanent & TPMA_PERMANENT_ENDORSEMENTAUTHSET)
                return tpm_record_error(t, -EACCES,
                                        "the endorsement hierarchy has an authorization value; endpointd "
                                        "needs the empty one");
        return 0;
}

/* The EK of one call: a primary made for it (flushed) or the persistent
 * EK (its ESYS handle closed, the object stays). */
typedef struct TpmEk {
        TpmTransient primary;
        ESYS_TR persistent;
        TPM2B_PUBLIC *public;
} TpmEk;

#define TPM_EK(t)                                                                                           \
        { .primary = TPM_TRANSIENT(t), .persistent = ESYS_TR_NONE }

static void tpm_ek_done(TpmEk *ek) {
        tpm_transient_flush(&ek->primary);
        if (ek->persistent != ESYS_TR_NONE)
                (void) Esys_TR_Close(tpm_esys(ek->primary.tpm), &ek->persistent);
        ek->persistent = ESYS_TR_NONE;
        Esys_Free(ek->public);
        ek->public = NULL;
}

static ESYS_TR tpm_ek_handle(const TpmEk *ek) {
        return ek->persistent != ESYS_TR_NONE ? ek->persistent : ek->primary.handle;
}

/* Whether pub is the L-2 template's key: everything but unique equal. */
static bool ek_public_is_template(const TPM2B_PUBLIC *pub) {
        uint8_t a[sizeof(TPMT_PUBLIC)], b[sizeof(TPMT_PUBLIC)];
        size_t a_len = 0, b_len = 0;
        TPM2B_PUBLIC tmpl, p = *pub;

        ek_template(&tmpl);
        p.publicArea.unique = tmpl.publicArea.unique;
        if (Tss2_MU_TPMT_PUBLIC_Marshal(&p.publicArea, a, sizeof(a), &a_len) != TSS2_RC_SUCCESS ||
            Tss2_MU_TPMT_PUBLIC_Marshal(&tmpl.publicArea, b, sizeof(b), &b_len) != TSS2_RC_SUCCESS)
                return false;
        return a_len == b_len && memcmp(a, b, a_len) == 0;
}

/* The persistent EK at its TCG handle, if there is one of our template:
 * 1 found, 0 none (or another key, which is left alone). */
static int ek_find_persistent(Tpm *t, TpmEk *ek) {
        ESYS_CONTEXT *esys = tpm_esys(t);
        TPMS_CAPABILITY_DATA *cap = NULL;
        TPM2B_PUBLIC *pub = NULL;
        ESYS_TR tr = ESYS_TR_NONE;
        bool present;
        TSS2_RC rc;

        rc = Esys_GetCapability(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                                TPM_EK_ECC_PERSISTENT_HANDLE, 1, NULL, &cap);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_record_failure(t, rc, "GetCapability");
        present = cap->data.handles.count > 0 && cap->data.handles.handle[0] == TPM_EK_ECC_PERSISTENT_HANDLE;
        Esys_Free(cap);
        if (!present)
                return 0;
        rc = Esys_TR_FromTPMPublic(esys, TPM_EK_ECC_PERSISTENT_HANDLE, ESYS_TR_NONE, ESYS_TR_NONE,
                                   ESYS_TR_NONE, &tr);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_record_failure(t, rc, "TR_FromTPMPublic (EK)");
        rc = Esys_ReadPublic(esys, tr, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL, NULL);
        if (rc != TSS2_RC_SUCCESS) {
                (void) Esys_TR_Close(esys, &tr);
                return tpm_record_failure(t, rc, "ReadPublic (EK)");
        }
        if (!ek_public_is_template(pub)) {
                log_debug("The persistent object at 0x%08x is not an EK of template L-2; not using it.",
                          (unsigned) TPM_EK_ECC_PERSISTENT_HANDLE);
                Esys_Free(pub);
                (void) Esys_TR_Close(esys, &tr);
                return 0;
        }
        log_debug("Using the persistent EK at 0x%08x.", (unsigned) TPM_EK_ECC_PERSISTENT_HANDLE);
        ek->persistent = tr;
        ek->public = pub;
        return 1;
}

static int ek_load(Tpm *t, TpmEk *ek) {
        TPM2B_PUBLIC tmpl;
        int r;

        r = endorsement_auth_check(t);
        if (r < 0)
                return r;
        r = ek_find_persistent(t, ek);
        if (r != 0)
                return r < 0 ? r : 0;
        ek_template(&tmpl);
        return tpm_create_primary(t, ESYS_TR_RH_ENDORSEMENT, &tmpl, &ek->primary.handle, &ek->public);
}

int tpm_credential_ek_public(Tpm *t, EVP_PKEY **ret) {
        _cleanup_(tpm_releasep) _unused_ Tpm *held = tpm_hold(t);
        _cleanup_(tpm_ek_done) TpmEk ek = TPM_EK(t);
        int r;

        r = ek_load(t, &ek);
        if (r < 0)
                return r;
        r = pkey_from_tpm_public(ek.public, ret);
        return r < 0 ? tpm_record_error(t, r, "the EK's public area is not a NIST P-256 key") : 0;
}

int tpm_credential_ak_public(Tpm *t, uint8_t **ret, size_t *ret_len) {
        _cleanup_(tpm_releasep) _unused_ Tpm *held = tpm_hold(t);
        _cleanup_(tpm_transient_flush) TpmTransient ak = TPM_TRANSIENT(t);
        uint8_t buf[sizeof(TPM2B_PUBLIC)];
        TPM2B_PUBLIC tmpl, *pub = NULL;
        size_t off = 0;
        TSS2_RC rc;
        int r;

        r = endorsement_auth_check(t);
        if (r < 0)
                return r;
        tpm_ak_template(&tmpl);
        r = tpm_create_primary(t, ESYS_TR_RH_ENDORSEMENT, &tmpl, &ak.handle, &pub);
        if (r < 0)
                return r;
        rc = Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, sizeof(buf), &off);
        Esys_Free(pub);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_record_failure(t, rc, "Marshal (TPM2B_PUBLIC)");
        *ret = malloc(off);
        if (!*ret)
                return -ENOMEM;
        memcpy(*ret, buf, off);
        *ret_len = off;
        return 0;
}

/* Response codes of ActivateCredential that mean "not for this EK and this
 * Name" (or an altered credential): the HMAC or the unwrapping of the seed
 * failed. */
static bool credential_refused(TSS2_RC rc) {
        static const TSS2_RC refused[] = {
                TPM2_RC_INTEGRITY, TPM2_RC_VALUE,  TPM2_RC_ECC_POINT,    TPM2_RC_SIZE,
                TPM2_RC_NO_RESULT, TPM2_RC_SCHEME, TPM2_RC_INSUFFICIENT,
        };

        for (size_t i = 0; i < ELEMENTSOF(refused); i++)
                if (tpm_rc_is(rc, refused[i]))
                        return true;
        return false;
}

/* The activation proper, with the device key unloaded: every object and
 * session it makes is flushed when it returns. */
static int activate_unloaded(Tpm *t, const TpmCredential *c, uint8_t **ret, size_t *ret_len) {
        _cleanup_(tpm_ek_done) TpmEk ek = TPM_EK(t);
        _cleanup_(tpm_transient_flush) TpmTransient ak = TPM_TRANSIENT(t), session = TPM_TRANSIENT(t);
        TPM2B_NONCE empty_nonce = {};
        TPM2B_DIGEST empty = {}, *cert = NULL;
        TPM2B_TIMEOUT *timeout = NULL;
        TPMT_TK_AUTH *ticket = NULL;
        TPM2B_PUBLIC tmpl;
        TSS2_RC rc;
        int r;

        tpm_ak_template(&tmpl);
        r = tpm_create_primary(t, ESYS_TR_RH_ENDORSEMENT, &tmpl, &ak.handle, NULL);
        if (r < 0)
                return r;
        r = ek_load(t, &ek);
        if (r < 0)
                return r;
        /* The EK's policy in a session salted by the SRK, which also
         * encrypts the response (the secret). */
        r = tpm_start_salted_session(t, TPM2_SE_POLICY, TPMA_SESSION_ENCRYPT, &session);
        if (r < 0)
                return r;
        rc = Esys_PolicySecret(tpm_esys(t), ESYS_TR_RH_ENDORSEMENT, session.handle, ESYS_TR_PASSWORD,
                               ESYS_TR_NONE, ESYS_TR_NONE, &empty_nonce, &empty, &empty_nonce, 0, &timeout,
                               &ticket);
        Esys_Free(timeout);
        Esys_Free(ticket);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_record_failure(t, rc, "PolicySecret (endorsement)");
        rc = Esys_ActivateCredential(tpm_esys(t), ak.handle, tpm_ek_handle(&ek), ESYS_TR_PASSWORD,
                                     session.handle, ESYS_TR_NONE, &c->blob, &c->secret, &cert);
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm_record_failure(t, rc, "ActivateCredential");
                return credential_refused(rc) ? -EXDEV : r;
        }
        tpm_session_consumed(t, &session);
        r = tpm_secret_copy(cert->buffer, cert->size, sizeof(cert->buffer), ret, ret_len);
        Esys_Free(cert);
        return r;
}

int tpm_credential_activate(Tpm *t, const TpmCredential *c, uint8_t **ret, size_t *ret_len) {
        _cleanup_(tpm_releasep) _unused_ Tpm *held = tpm_hold(t);
        int r;

        r = endorsement_auth_check(t);
        if (r < 0)
                return r;
        /* SRK, device key, AK and EK are one object more than a TPM
         * without resource manager holds: the device key makes room and
         * is loaded again afterwards (a failure there is retried by its
         * next use, see tpm_device_key_load()). */
        r = tpm_device_key_unload(t);
        if (r < 0)
                return r;
        r = activate_unloaded(t, c, ret, ret_len);
        if (!tpm_is_lost(t))
                (void) tpm_device_key_load(t);
        return r;
}
