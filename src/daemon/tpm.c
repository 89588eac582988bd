/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/param_build.h>
#include <stdio.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_sys.h>
#include <tss2/tss2_tctildr.h>

#include "log.h"
#include "openssl-util.h"
#include "tpm-internal.h"
#include "tpm-session.h"
#include "tpm-tcti.h"
#include "tpm.h"

struct Tpm {
        TSS2_TCTI_CONTEXT *tcti;
        ESYS_CONTEXT *esys;
        ESYS_TR srk;
        ESYS_TR device;
        EVP_PKEY *device_pkey;
        EVP_PKEY *ak_pkey;
        uint8_t srk_id[32];
        /* The SRK's name, the authorising entity of every sealed object's
         * PolicySecret (see policy_digest()). */
        TPM2B_NAME srk_name;
        /* Seal and Unseal run their sessions through the SAPI context under
         * ESYS, with the session crypto of tpm-session.c (see there why). */
        TSS2_SYS_CONTEXT *sys;
        TpmCrypto *crypto;
        TPM2_HANDLE srk_handle;
        /* The salted policy session of Unseal (PCR and signed policies),
         * kept between calls (see tpm_unseal_loaded()); handle 0 when there
         * is none. */
        TpmSession policy_session;
        bool lost;
        /* The last CreatePrimary under the owner hierarchy failed its
         * authorization. */
        bool owner_auth_refused;
        char error[256];
        /* The NV writer's secret (tpm-nv.c), when it is known. */
        uint8_t nv_auth[32];
        bool nv_auth_set;
        /* The state directory of the NV marks (tpm-nv.c), once set up. */
        char *nv_state_dir;
        /* tpm-policy.c found the approval floor's NV index to be ours. */
        bool approval_nv_checked;
};

static int tpm_fail(Tpm *t, TSS2_RC rc, const char *what);

void tpm_flush_result(Tpm *t, TSS2_RC rc) {
        if (rc == TSS2_RC_SUCCESS || (rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER)
                return;
        /* The first failure of the context names it; this one only adds
         * that the context is gone. */
        if (!t->lost)
                (void) tpm_fail(t, rc, "FlushContext");
        t->lost = true;
}

void tpm_flush(Tpm *t, ESYS_TR handle) {
        if (handle != ESYS_TR_NONE && t->esys && !t->lost)
                tpm_flush_result(t, Esys_FlushContext(t->esys, handle));
}

void tpm_flush_sys(Tpm *t, TPM2_HANDLE handle) {
        if (handle != 0 && t->sys && !t->lost)
                tpm_flush_result(t, Tss2_Sys_FlushContext(t->sys, handle));
}

void tpm_transient_flush(TpmTransient *h) {
        tpm_flush(h->tpm, h->handle);
        h->handle = ESYS_TR_NONE;
}

/* The session attributes of ESYS are only symmetric encryption with AES-128
 * in CFB mode, as the TPM 2.0 spec requires for parameter encryption. */
static const TPMT_SYM_DEF session_symmetric = {
        .algorithm = TPM2_ALG_AES,
        .keyBits.aes = 128,
        .mode.aes = TPM2_ALG_CFB,
};

int tss2_to_errno(TSS2_RC rc) {
        TSS2_RC base;

        if (rc == TSS2_RC_SUCCESS)
                return 0;
        if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER) {
                /* Format-one codes carry the handle/session/parameter number
                 * in bits 6..11; strip it to compare with TPM2_RC_*. */
                base = (rc & TPM2_RC_FMT1) ? rc & (TPM2_RC_FMT1 | 0x3F) : rc & 0xFFF;
                switch (base) {
                case TPM2_RC_POLICY_FAIL:
                case TPM2_RC_PCR_CHANGED:
                        return -EBADE;
                case TPM2_RC_INTEGRITY:
                case TPM2_RC_BINDING:
                        return -EUCLEAN;
                case TPM2_RC_OBJECT_MEMORY:
                case TPM2_RC_SESSION_MEMORY:
                case TPM2_RC_MEMORY:
                case TPM2_RC_OBJECT_HANDLES:
                case TPM2_RC_SESSION_HANDLES:
                case TPM2_RC_CONTEXT_GAP:
                case TPM2_RC_RETRY:
                case TPM2_RC_YIELDED:
                case TPM2_RC_TESTING:
                case TPM2_RC_LOCKOUT:
                case TPM2_RC_NV_RATE:
                        return -EBUSY;
                /* The TPM was reset under us (power cycle, a restarted
                 * simulator): it needs TPM2_Startup, or the objects we keep
                 * loaded are gone. Either way this context is useless. */
                case TPM2_RC_INITIALIZE:
                case TPM2_RC_HANDLE:
                case TPM2_RC_REFERENCE_H0:
                case TPM2_RC_REFERENCE_H1:
                case TPM2_RC_REFERENCE_H2:
                        return -ENODEV;
                default:
                        return -EPROTO;
                }
        }
        switch (rc & 0xFFFF) {
        case TSS2_BASE_RC_NO_CONNECTION:
        case TSS2_BASE_RC_IO_ERROR:
        case TSS2_BASE_RC_NOT_PERMITTED:
                return -ENODEV;
        case TSS2_BASE_RC_TRY_AGAIN:
                return -EBUSY;
        /* An earlier command of this context was sent and never answered
         * (its connection broke): ESYS and SAPI refuse every later one,
         * and only a new context helps, as for a lost TPM. */
        case TSS2_BASE_RC_BAD_SEQUENCE:
                return -ENODEV;
        case TSS2_BASE_RC_MEMORY:
                return -ENOMEM;
        case TSS2_BASE_RC_BAD_VALUE:
        case TSS2_BASE_RC_BAD_SIZE:
        case TSS2_BASE_RC_INSUFFICIENT_BUFFER:
                return -EINVAL;
        default:
                return -EPROTO;
        }
}

bool tpm_rc_is(TSS2_RC rc, TSS2_RC what) {
        if ((rc & TSS2_RC_LAYER_MASK) != TSS2_TPM_RC_LAYER)
                return false;
        return ((rc & TPM2_RC_FMT1) ? rc & (TPM2_RC_FMT1 | 0x3F) : rc & 0xFFF) == what;
}

/* Records what failed with the decoded TSS2 text and returns the errno.
 * The one place TPM errors turn into errnos. */
static int tpm_fail(Tpm *t, TSS2_RC rc, const char *what) {
        int r = tss2_to_errno(rc);

        (void) snprintf(t->error, sizeof(t->error), "%s: %s", what, Tss2_RC_Decode(rc));
        if (r == -ENODEV)
                t->lost = true;
        log_debug("TPM %s failed: %s (0x%x)", what, Tss2_RC_Decode(rc), (unsigned) rc);
        return r;
}

static int tpm_set_error(Tpm *t, int r, const char *what) {
        (void) snprintf(t->error, sizeof(t->error), "%s", what);
        return r;
}

bool tpm_is_lost(const Tpm *t) {
        return !t || t->lost;
}

const char *tpm_last_error(const Tpm *t) {
        return t && t->error[0] ? t->error : "no TPM";
}

ESYS_CONTEXT *tpm_esys(Tpm *t) {
        return t->esys;
}

int tpm_record_failure(Tpm *t, TSS2_RC rc, const char *what) {
        return tpm_fail(t, rc, what);
}

int tpm_record_error(Tpm *t, int r, const char *what) {
        return tpm_set_error(t, r, what);
}

const uint8_t *tpm_nv_auth(const Tpm *t) {
        return t->nv_auth_set ? t->nv_auth : NULL;
}

TSS2_SYS_CONTEXT *tpm_sys(Tpm *t) {
        return t->sys;
}

bool *tpm_approval_nv_checked(Tpm *t) {
        return &t->approval_nv_checked;
}

void tpm_set_nv_auth(Tpm *t, const uint8_t auth[32]) {
        memcpy(t->nv_auth, auth, 32);
        t->nv_auth_set = true;
}

const char *tpm_nv_state_dir(const Tpm *t) {
        return t->nv_state_dir;
}

int tpm_set_nv_state_dir(Tpm *t, const char *dir) {
        char *n = strdup(dir);

        if (!n)
                return -ENOMEM;
        free(t->nv_state_dir);
        t->nv_state_dir = n;
        return 0;
}

const uint8_t *tpm_srk_id(const Tpm *t) {
        return t->srk_id;
}

static void pcr_selection_from_mask(uint32_t mask, TPML_PCR_SELECTION *ret) {
        *ret = (TPML_PCR_SELECTION){
                .count = 1,
                .pcrSelections[0] = { .hash = TPM2_ALG_SHA256, .sizeofSelect = 3 },
        };
        for (unsigned i = 0; i < TPM_PCR_MAX; i++)
                if (mask & (1U << i))
                        ret->pcrSelections[0].pcrSelect[i / 8] |= (uint8_t) (1U << (i % 8));
}

static uint32_t pcr_mask_from_selection(const TPML_PCR_SELECTION *s) {
        uint32_t mask = 0;

        for (uint32_t i = 0; i < s->count; i++) {
                if (s->pcrSelections[i].hash != TPM2_ALG_SHA256)
                        continue;
                for (unsigned b = 0; b < TPM_PCR_MAX && b / 8 < s->pcrSelections[i].sizeofSelect; b++)
                        if (s->pcrSelections[i].pcrSelect[b / 8] & (1U << (b % 8)))
                                mask |= 1U << b;
        }
        return mask;
}

int tpm_pcr_extend(Tpm *t, unsigned pcr, const uint8_t digest[32]) {
        TPML_DIGEST_VALUES values = { .count = 1, .digests[0].hashAlg = TPM2_ALG_SHA256 };
        TSS2_RC rc;

        if (!t)
                return -ENODEV;
        if (pcr >= TPM_PCR_MAX)
                return -EINVAL;
        memcpy(values.digests[0].digest.sha256, digest, 32);
        rc = Esys_PCR_Extend(t->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                             &values);
        return rc == TSS2_RC_SUCCESS ? 0 : tpm_fail(t, rc, "PCR_Extend");
}

int tpm_pcr_read_mask(Tpm *t, uint32_t mask, uint8_t (*ret)[32]) {
        uint32_t left = mask;

        if (!t)
                return -ENODEV;
        if (mask >> TPM_PCR_MAX)
                return -EINVAL;
        /* A TPM returns at most eight digests per PCR_Read; ask again for
         * what it left out. */
        while (left != 0) {
                TPML_PCR_SELECTION sel, *sel_out = NULL;
                TPML_DIGEST *digests = NULL;
                uint32_t got;
                TSS2_RC rc;
                size_t k = 0;

                pcr_selection_from_mask(left, &sel);
                rc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel, NULL, &sel_out,
                                   &digests);
                if (rc != TSS2_RC_SUCCESS)
                        return tpm_fail(t, rc, "PCR_Read");
                got = pcr_mask_from_selection(sel_out) & left;
                Esys_Free(sel_out);
                if (got == 0 || (uint32_t) __builtin_popcount(got) != digests->count) {
                        Esys_Free(digests);
                        return tpm_set_error(t, -EPROTO, "PCR_Read returned an inconsistent selection");
                }
                for (unsigned i = 0; i < TPM_PCR_MAX; i++) {
                        if (!(got & (1U << i)))
                                continue;
                        /* Output slot: rank of i among all PCRs of mask. */
                        size_t slot = (size_t) __builtin_popcount(mask & ((1U << i) - 1));
                        if (digests->digests[k].size != 32) {
                                Esys_Free(digests);
                                return tpm_set_error(t, -EPROTO, "PCR_Read returned a short digest");
                        }
                        memcpy(ret[slot], digests->digests[k++].buffer, 32);
                }
                Esys_Free(digests);
                left &= ~got;
        }
        return 0;
}

int tpm_pcr_read(Tpm *t, unsigned pcr, uint8_t ret_digest[32]) {
        if (!t)
                return -ENODEV;
        if (pcr >= TPM_PCR_MAX)
                return -EINVAL;
        return tpm_pcr_read_mask(t, 1U << pcr, (uint8_t(*)[32]) ret_digest);
}

int tpm_get_random(Tpm *t, void *buf, size_t len) {
        _cleanup_(tpm_transient_flush) TpmTransient session = TPM_TRANSIENT(t);
        uint8_t *p = buf;
        int r;

        if (!t)
                return -ENODEV;
        /* The bytes become key material: the response is encrypted in a
         * salted session, so they never cross the TCTI in clear. */
        r = tpm_start_salted_session(t, TPM2_SE_HMAC, TPMA_SESSION_ENCRYPT | TPMA_SESSION_CONTINUESESSION,
                                     &session);
        if (r < 0)
                return r;
        while (len > 0) {
                TPM2B_DIGEST *rnd = NULL;
                TSS2_RC rc;
                size_t n;

                rc = Esys_GetRandom(t->esys, session.handle, ESYS_TR_NONE, ESYS_TR_NONE,
                                    (UINT16) MIN(len, sizeof(rnd->buffer)), &rnd);
                if (rc != TSS2_RC_SUCCESS)
                        return tpm_fail(t, rc, "GetRandom");
                n = MIN(len, (size_t) rnd->size);
                memcpy(p, rnd->buffer, n);
                OPENSSL_cleanse(rnd->buffer, sizeof(rnd->buffer));
                Esys_Free(rnd);
                if (n == 0)
                        return tpm_set_error(t, -EPROTO, "GetRandom returned no bytes");
                p += n;
                len -= n;
        }
        return 0;
}

/* ECC P-256 public key of a TPM object as an EVP_PKEY. */
int pkey_from_tpm_public(const TPM2B_PUBLIC *pub, EVP_PKEY **ret) {
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
        const TPMS_ECC_POINT *q = &pub->publicArea.unique.ecc;
        uint8_t point[65];
        OSSL_PARAM params[3];
        EVP_PKEY *pkey = NULL;

        if (pub->publicArea.type != TPM2_ALG_ECC || q->x.size != 32 || q->y.size != 32)
                return -EPROTO;
        point[0] = 0x04; /* uncompressed */
        memcpy(point + 1, q->x.buffer, 32);
        memcpy(point + 33, q->y.buffer, 32);
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *) "prime256v1", 0);
        params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point));
        params[2] = OSSL_PARAM_construct_end();
        ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
                return -EIO;
        *ret = pkey;
        return 0;
}

void tpm_ecc_storage_template(TPMA_OBJECT attributes, TPM2B_PUBLIC *ret) {
        *ret = (TPM2B_PUBLIC) {
                .publicArea = {
                        .type = TPM2_ALG_ECC,
                        .nameAlg = TPM2_ALG_SHA256,
                        .objectAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT | TPMA_OBJECT_FIXEDTPM |
                                            TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                            attributes,
                        .parameters.eccDetail = {
                                .symmetric = { .algorithm = TPM2_ALG_AES, .keyBits.aes = 128,
                                               .mode.aes = TPM2_ALG_CFB },
                                .scheme.scheme = TPM2_ALG_NULL,
                                .curveID = TPM2_ECC_NIST_P256,
                                .kdf.scheme = TPM2_ALG_NULL,
                        },
                        .unique.ecc = { .x.size = 32, .y.size = 32 },
                },
        };
}

/* TCG "Provisioning Guidance" ECC P-256 SRK template, so that other tools
 * (tpm2_createprimary -C o -g sha256 -G ecc256:aes128cfb with a zero
 * unique) derive the same key. */
static void srk_template(TPM2B_PUBLIC *ret) {
        tpm_ecc_storage_template(TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA, ret);
}

/* Device identity (unrestricted, signs any digest) and attestation key
 * (restricted, signs only TPM-generated structures such as quotes). The
 * label in unique makes them ours: another program using the same
 * attributes in the endorsement hierarchy gets a different key. */
static void signing_key_template(bool restricted, TPM2B_PUBLIC *ret) {
        static const char label_device[] = "endpointd device identity v1";
        static const char label_ak[] = "endpointd attestation key v1";
        const char *label = restricted ? label_ak : label_device;

        *ret = (TPM2B_PUBLIC) {
                .publicArea = {
                        .type = TPM2_ALG_ECC,
                        .nameAlg = TPM2_ALG_SHA256,
                        /* NODA: the keys have an empty authValue, so dictionary-attack
                         * protection guards nothing; with it, every power cut after the
                         * key was used counts as a failed try, and a few of them lock the
                         * device's identity (signatures, quotes, the audit log's
                         * checkpoints) out for the TPM's recovery time. */
                        .objectAttributes = TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_FIXEDTPM |
                                            TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                            TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA |
                                            (restricted ? TPMA_OBJECT_RESTRICTED : 0),
                        .parameters.eccDetail = {
                                .symmetric.algorithm = TPM2_ALG_NULL,
                                .scheme = { .scheme = TPM2_ALG_ECDSA, .details.ecdsa.hashAlg = TPM2_ALG_SHA256 },
                                .curveID = TPM2_ECC_NIST_P256,
                                .kdf.scheme = TPM2_ALG_NULL,
                        },
                        .unique.ecc = { .x.size = 32, .y.size = 32 },
                },
        };
        memcpy(ret->publicArea.unique.ecc.x.buffer, label, strlen(label));
}

void tpm_ak_template(TPM2B_PUBLIC *ret) {
        signing_key_template(true, ret);
}

int tpm_create_primary(Tpm *t, ESYS_TR hierarchy, const TPM2B_PUBLIC *tmpl, ESYS_TR *ret,
                       TPM2B_PUBLIC **ret_public) {
        TPM2B_SENSITIVE_CREATE sensitive = {};
        TPM2B_DATA outside = {};
        TPML_PCR_SELECTION creation_pcrs = {};
        TSS2_RC rc;

        rc = Esys_CreatePrimary(t->esys, hierarchy, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive,
                                tmpl, &outside, &creation_pcrs, ret, ret_public, NULL, NULL, NULL);
        /* TPM_RC_BAD_AUTH or TPM_RC_AUTH_FAIL (format 1, of its session). */
        t->owner_auth_refused = hierarchy == ESYS_TR_RH_OWNER &&
                                (rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER && (rc & TPM2_RC_FMT1) &&
                                ((rc & (TPM2_RC_FMT1 | 0x3F)) == TPM2_RC_BAD_AUTH ||
                                 (rc & (TPM2_RC_FMT1 | 0x3F)) == TPM2_RC_AUTH_FAIL);
        return rc == TSS2_RC_SUCCESS ? 0 : tpm_fail(t, rc, "CreatePrimary");
}

/* TPM2_TRANSIENT_FIRST from the tss2 headers shifts a signed int into its
 * sign bit (undefined behaviour that UBSan reports); the value is fixed. */
#define TPM_TRANSIENT_FIRST UINT32_C(0x80000000)
#define TPM_LOADED_SESSION_FIRST UINT32_C(0x02000000)

/* A TPM without resource manager (swtpm, /dev/tpm0) keeps the transient
 * objects and the loaded sessions of a process that died (killed in the
 * middle of an Unseal, say); they would fill its few slots (swtpm has
 * three for sessions) until a command fails with "out of memory for
 * session contexts". Under a resource manager a new connection sees none,
 * so this is a no-op there. */
static int tpm_flush_stale(Tpm *t) {
        static const uint32_t ranges[] = { TPM_TRANSIENT_FIRST, TPM_LOADED_SESSION_FIRST };
        unsigned n = 0;

        for (size_t k = 0; k < ELEMENTSOF(ranges); k++) {
                TPMS_CAPABILITY_DATA *cap = NULL;
                TSS2_RC rc;

                rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                                        ranges[k], TPM2_MAX_CAP_HANDLES, NULL, &cap);
                if (rc != TSS2_RC_SUCCESS)
                        return tpm_fail(t, rc, "GetCapability");
                for (uint32_t i = 0; i < cap->data.handles.count; i++) {
                        TPM2_HANDLE h = cap->data.handles.handle[i];
                        ESYS_TR tr;

                        /* The loaded-session range ends below the first
                         * permanent handle; GetCapability runs on past it. */
                        if (k == 1 && h >= TPM_TRANSIENT_FIRST)
                                break;
                        if (Esys_TR_FromTPMPublic(t->esys, h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &tr) !=
                            TSS2_RC_SUCCESS)
                                continue;
                        if (Esys_FlushContext(t->esys, tr) == TSS2_RC_SUCCESS)
                                n++;
                        else
                                (void) Esys_TR_Close(t->esys, &tr);
                }
                Esys_Free(cap);
        }
        if (n > 0)
                log_notice("Flushed %u transient TPM objects or sessions left behind by an earlier process.", n);
        return 0;
}

int tpm_property(Tpm *t, TPM2_PT property, uint32_t *ret) {
        TPMS_CAPABILITY_DATA *cap = NULL;
        TSS2_RC rc;

        rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_TPM_PROPERTIES,
                                property, 1, NULL, &cap);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, rc, "GetCapability");
        if (cap->data.tpmProperties.count < 1 ||
            cap->data.tpmProperties.tpmProperty[0].property != property) {
                Esys_Free(cap);
                return tpm_set_error(t, -EPROTO, "GetCapability: the property is missing");
        }
        *ret = cap->data.tpmProperties.tpmProperty[0].value;
        Esys_Free(cap);
        return 0;
}

int tpm_hierarchy_status(Tpm *t, bool *ret_owner_auth_set, bool *ret_platform_open) {
        static const TPMT_SYM_DEF no_symmetric = { .algorithm = TPM2_ALG_NULL };
        _cleanup_(tpm_transient_flush) TpmTransient session = TPM_TRANSIENT(t);
        TPM2B_NONCE empty_nonce = {};
        TPM2B_DIGEST empty = {};
        TPM2B_AUTH none = {};
        TPM2B_TIMEOUT *timeout = NULL;
        TPMT_TK_AUTH *ticket = NULL;
        uint32_t permanent, startup;
        TSS2_RC rc;
        int r;

        if (!t)
                return -ENODEV;
        r = tpm_property(t, TPM2_PT_PERMANENT, &permanent);
        if (r >= 0)
                r = tpm_property(t, TPM2_PT_STARTUP_CLEAR, &startup);
        if (r < 0)
                return r;
        *ret_owner_auth_set = permanent & TPMA_PERMANENT_OWNERAUTHSET;
        *ret_platform_open = false;
        if (!(startup & TPMA_STARTUP_CLEAR_PHENABLE))
                return 0;
        rc = Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                   ESYS_TR_NONE, NULL, TPM2_SE_TRIAL, &no_symmetric, TPM2_ALG_SHA256,
                                   &session.handle);
        if (rc == TSS2_RC_SUCCESS)
                rc = Esys_TR_SetAuth(t->esys, ESYS_TR_RH_PLATFORM, &none);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, rc, "StartAuthSession");
        rc = Esys_PolicySecret(t->esys, ESYS_TR_RH_PLATFORM, session.handle, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                               ESYS_TR_NONE, &empty_nonce, &empty, &empty_nonce, 0, &timeout, &ticket);
        Esys_Free(timeout);
        Esys_Free(ticket);
        *ret_platform_open = rc == TSS2_RC_SUCCESS;
        return 0;
}

int tpm_count_transient(Tpm *t, unsigned *ret) {
        TPMS_CAPABILITY_DATA *cap = NULL;
        TSS2_RC rc;

        if (!t)
                return -ENODEV;
        rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                                TPM_TRANSIENT_FIRST, TPM2_MAX_CAP_HANDLES, NULL, &cap);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, rc, "GetCapability");
        *ret = cap->data.handles.count;
        Esys_Free(cap);
        return 0;
}

/* The SAPI context and the salt key (the SRK's public key, pub) for the
 * sessions of Seal and Unseal. */
static int tpm_setup_crypto(Tpm *t, const TPM2B_PUBLIC *pub) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        TSS2_RC rc;
        int r;

        rc = Esys_GetSysContext(t->esys, &t->sys);
        if (rc == TSS2_RC_SUCCESS)
                rc = Esys_TR_GetTpmHandle(t->esys, t->srk, &t->srk_handle);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, rc, "GetSysContext");
        r = pkey_from_tpm_public(pub, &pkey);
        if (r < 0)
                return tpm_set_error(t, r, "The SRK's public area is not an ECC P-256 key");
        r = tpm_crypto_new(pkey, &t->crypto);
        return r < 0 ? tpm_set_error(t, r, "Cannot set up the session cryptography") : 0;
}

static int tpm_setup_keys(Tpm *t) {
        TPM2B_PUBLIC tmpl, *pub = NULL;
        TPM2B_NAME *name = NULL;
        TSS2_RC rc;
        int r;

        srk_template(&tmpl);
        r = tpm_create_primary(t, ESYS_TR_RH_OWNER, &tmpl, &t->srk, &pub);
        if (r < 0 && t->owner_auth_refused)
                return tpm_set_error(
                        t, -EACCES,
                        "CreatePrimary: the owner hierarchy's authValue is not the one given "
                        "(OwnerAuthFile= or the credential tpm-owner-auth, see endpointd-tpm(7))");
        if (r < 0)
                return r;
        r = tpm_setup_crypto(t, pub);
        Esys_Free(pub);
        pub = NULL;
        if (r < 0)
                return r;
        rc = Esys_TR_GetName(t->esys, t->srk, &name);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, rc, "TR_GetName");
        t->srk_name = *name;
        r = sha256_buffer(name->name, name->size, t->srk_id);
        Esys_Free(name);
        if (r < 0)
                return r;

        return tpm_device_key_load(t);
}

int tpm_device_key_load(Tpm *t) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        TPM2B_PUBLIC tmpl, *pub = NULL;
        ESYS_TR handle = ESYS_TR_NONE;
        int r;

        if (t->device != ESYS_TR_NONE)
                return 0;
        signing_key_template(false, &tmpl);
        r = tpm_create_primary(t, ESYS_TR_RH_ENDORSEMENT, &tmpl, &handle, &pub);
        if (r < 0)
                return r;
        r = pkey_from_tpm_public(pub, &pkey);
        Esys_Free(pub);
        if (r >= 0 && t->device_pkey && EVP_PKEY_eq(pkey, t->device_pkey) != 1)
                r = -EXDEV;
        if (r < 0) {
                tpm_flush(t, handle);
                return tpm_set_error(t, r,
                                     r == -EXDEV
                                             ? "The device key changed: the endorsement seed is not the one "
                                               "endpointd started with"
                                             : "The device key's public area is not an ECC P-256 key");
        }
        if (!t->device_pkey)
                t->device_pkey = TAKE_PTR(pkey);
        t->device = handle;
        return 0;
}

int tpm_device_key_unload(Tpm *t) {
        TSS2_RC rc;

        if (t->device == ESYS_TR_NONE)
                return 0;
        rc = Esys_FlushContext(t->esys, t->device);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, rc, "FlushContext");
        t->device = ESYS_TR_NONE;
        return 0;
}

int tpm_new(const char *tcti, Tpm **ret) {
        return tpm_new_with_owner_auth(tcti, NULL, 0, ret);
}

int tpm_new_with_owner_auth(const char *tcti, const void *owner_auth, size_t owner_auth_len, Tpm **ret) {
        _cleanup_(tpm_freep) Tpm *t = NULL;
        TPM2B_AUTH auth = {};
        TSS2_RC rc;
        int r;

        if (owner_auth_len > TPM_OWNER_AUTH_MAX || (owner_auth_len > 0 && !owner_auth))
                return -EINVAL;
        t = calloc(1, sizeof(Tpm));
        if (!t)
                return -ENOMEM;
        t->srk = t->device = ESYS_TR_NONE;
        /* swtpm: one connection per operation (see tpm-tcti.h). */
        r = tpm_tcti_swtpm_new(tcti, &t->tcti);
        if (r != -EOPNOTSUPP) {
                if (r < 0) {
                        log_debug("Cannot connect to TCTI '%s': %s", tcti, strerror(-r));
                        return r == -ENOMEM ? -ENOMEM : -ENODEV;
                }
        } else if ((rc = Tss2_TctiLdr_Initialize(isempty(tcti) ? NULL : tcti, &t->tcti)) !=
                   TSS2_RC_SUCCESS) {
                log_debug("Cannot open TCTI '%s': %s", strempty(tcti), Tss2_RC_Decode(rc));
                return -ENODEV;
        }
        tpm_tcti_swtpm_hold(t->tcti, true);
        rc = Esys_Initialize(&t->esys, t->tcti, NULL);
        if (rc != TSS2_RC_SUCCESS)
                return tss2_to_errno(rc) == -ENOMEM ? -ENOMEM : -ENODEV;
        if (owner_auth_len > 0) {
                auth.size = (UINT16) owner_auth_len;
                memcpy(auth.buffer, owner_auth, owner_auth_len);
                rc = Esys_TR_SetAuth(t->esys, ESYS_TR_RH_OWNER, &auth);
                OPENSSL_cleanse(&auth, sizeof(auth));
                if (rc != TSS2_RC_SUCCESS)
                        return tpm_fail(t, rc, "TR_SetAuth (owner)");
        }
        /* A TPM that was just powered on needs TPM2_Startup; one already
         * started answers TPM_RC_INITIALIZE, which is fine. This is also
         * the first round trip, telling whether anything answers. */
        rc = Esys_Startup(t->esys, TPM2_SU_CLEAR);
        if (rc != TSS2_RC_SUCCESS && (rc & 0xFFF) != TPM2_RC_INITIALIZE) {
                r = tpm_fail(t, rc, "Startup");
                return r == -EPROTO ? -ENODEV : r;
        }
        r = tpm_flush_stale(t);
        if (r < 0)
                return r;
        r = tpm_setup_keys(t);
        if (r < 0)
                return r;
        tpm_tcti_swtpm_hold(t->tcti, false);
        *ret = TAKE_PTR(t);
        return 0;
}

Tpm *tpm_free(Tpm *t) {
        if (!t)
                return NULL;
        if (t->esys) {
                if (!t->lost) {
                        if (t->srk != ESYS_TR_NONE)
                                (void) Esys_FlushContext(t->esys, t->srk);
                        if (t->device != ESYS_TR_NONE)
                                (void) Esys_FlushContext(t->esys, t->device);
                }
                if (!t->lost && t->sys)
                        (void) tpm_session_flush(t->sys, &t->policy_session);
                Esys_Finalize(&t->esys);
        }
        tpm_session_forget(&t->policy_session);
        tpm_crypto_free(t->crypto);
        if (tpm_tcti_is_swtpm(t->tcti))
                t->tcti = tpm_tcti_swtpm_free(t->tcti);
        else
                Tss2_TctiLdr_Finalize(&t->tcti);
        EVP_PKEY_free(t->device_pkey);
        EVP_PKEY_free(t->ak_pkey);
        OPENSSL_cleanse(t->nv_auth, sizeof(t->nv_auth));
        free(t->nv_state_dir);
        free(t);
        return NULL;
}

EVP_PKEY *tpm_device_key(Tpm *t) {
        return t ? t->device_pkey : NULL;
}

/* TPMT_SIGNATURE (ECDSA) to a DER ECDSA-Sig-Value. */
static int ecdsa_der_from_tpm(const TPMT_SIGNATURE *sig, uint8_t **ret, size_t *ret_len) {
        ECDSA_SIG *s = NULL;
        BIGNUM *r_bn, *s_bn;
        unsigned char *der = NULL;
        int n;

        if (sig->sigAlg != TPM2_ALG_ECDSA)
                return -EPROTO;
        r_bn = BN_bin2bn(sig->signature.ecdsa.signatureR.buffer, sig->signature.ecdsa.signatureR.size, NULL);
        s_bn = BN_bin2bn(sig->signature.ecdsa.signatureS.buffer, sig->signature.ecdsa.signatureS.size, NULL);
        s = ECDSA_SIG_new();
        if (!r_bn || !s_bn || !s || ECDSA_SIG_set0(s, r_bn, s_bn) != 1) {
                BN_free(r_bn);
                BN_free(s_bn);
                ECDSA_SIG_free(s);
                return -ENOMEM;
        }
        n = i2d_ECDSA_SIG(s, &der);
        ECDSA_SIG_free(s);
        if (n <= 0)
                return -ENOMEM;
        /* OpenSSL memory may come from its own allocator; hand out malloc'ed. */
        *ret = malloc((size_t) n);
        if (!*ret) {
                OPENSSL_free(der);
                return -ENOMEM;
        }
        memcpy(*ret, der, (size_t) n);
        OPENSSL_free(der);
        *ret_len = (size_t) n;
        return 0;
}

int tpm_sign_digest(Tpm *t, const uint8_t digest[32], uint8_t **ret, size_t *ret_len) {
        TPM2B_DIGEST d = { .size = 32 };
        TPMT_SIG_SCHEME ecdsa_sha256 = { .scheme = TPM2_ALG_ECDSA, .details.ecdsa.hashAlg = TPM2_ALG_SHA256 };
        TPMT_TK_HASHCHECK validation = { .tag = TPM2_ST_HASHCHECK, .hierarchy = TPM2_RH_NULL };
        TPMT_SIGNATURE *sig = NULL;
        TSS2_RC rc;
        int r;

        if (!t)
                return -ENODEV;
        /* Unloaded only while a credential is activated (tpm-credential.c);
         * loaded again if that could not restore it. */
        r = tpm_device_key_load(t);
        if (r < 0)
                return r;
        memcpy(d.buffer, digest, 32);
        rc = Esys_Sign(t->esys, t->device, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &d, &ecdsa_sha256,
                       &validation, &sig);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, rc, "Sign");
        r = ecdsa_der_from_tpm(sig, ret, ret_len);
        Esys_Free(sig);
        return r < 0 ? tpm_set_error(t, r, "Sign returned an unexpected signature") : 0;
}

int tpm_pcr_digest(Tpm *t, uint32_t pcr_mask, uint8_t ret[32]) {
        uint8_t values[TPM_PCR_MAX][32];
        int r;

        if (!t)
                return -ENODEV;
        if (pcr_mask >> TPM_PCR_MAX)
                return -EINVAL;
        r = tpm_pcr_read_mask(t, pcr_mask, values);
        if (r < 0)
                return r;
        return sha256_buffer(values, (size_t) __builtin_popcount(pcr_mask) * 32, ret);
}

/* The authPolicy of a sealed object, computed in software (no trial
 * session), as pcr_policy_assert() asserts it:
 *
 *   d1 = H(0^32 || TPM_CC_PolicyPCR || TPML_PCR_SELECTION || pcr_digest)
 *   d2 = H(H(d1 || TPM_CC_PolicySecret || name of the SRK) || binding)
 *
 * d2 is PolicyUpdate() of TPM2_PolicySecret with binding as its policyRef.
 * The SRK's authValue is empty, so PolicySecret proves nothing about the
 * caller; it is there because its policyRef is the one place a policy
 * takes arbitrary bytes into the digest. That makes the caller's binding
 * part of the object's public area, whose integrity the TPM checks on
 * Load, and part of what the TPM demands before Unseal. The second step is
 * tpm_policy_secret_extend(), which signed policies (tpm-policy.c) share. */
int tpm_policy_secret_extend(Tpm *t, uint8_t digest[32], const uint8_t binding[32]) {
        uint8_t buf[32 + 4 + sizeof(TPMU_NAME)] = {};
        size_t off = 32;

        memcpy(buf, digest, 32);
        if (Tss2_MU_UINT32_Marshal(TPM2_CC_PolicySecret, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS ||
            off + t->srk_name.size > sizeof(buf))
                return tpm_set_error(t, -EPROTO, "Cannot marshal the SRK's name");
        memcpy(buf + off, t->srk_name.name, t->srk_name.size);
        if (sha256_buffer(buf, off + t->srk_name.size, buf) < 0)
                return -EIO;
        memcpy(buf + 32, binding, 32);
        return sha256_buffer(buf, 64, digest) < 0 ? -EIO : 0;
}

/* -ENODEV without a TPM, -EINVAL for PCRs beyond TPM_PCR_MAX: the checks
 * of every function that takes a TpmPolicy. */
static int policy_digest(Tpm *t, const TpmPolicy *p, TPM2B_DIGEST *ret) {
        uint8_t buf[32 + 4 + sizeof(TPML_PCR_SELECTION) + sizeof(TPMU_NAME)] = {};
        TPML_PCR_SELECTION sel;
        size_t off = 32;

        if (!t)
                return -ENODEV;
        if (p->pcr_mask >> TPM_PCR_MAX)
                return -EINVAL;
        pcr_selection_from_mask(p->pcr_mask, &sel);
        if (Tss2_MU_UINT32_Marshal(TPM2_CC_PolicyPCR, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS ||
            Tss2_MU_TPML_PCR_SELECTION_Marshal(&sel, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS ||
            off + 32 > sizeof(buf))
                return tpm_set_error(t, -EPROTO, "Cannot marshal a PCR selection");
        memcpy(buf + off, p->pcr_digest, 32);
        if (sha256_buffer(buf, off + 32, buf) < 0)
                return -EIO;

        ret->size = 32;
        memcpy(ret->buffer, buf, 32);
        return tpm_policy_secret_extend(t, ret->buffer, p->binding);
}

/* A session salted by the SRK (ECDH), so that its session key, and with it
 * the parameter encryption, is unknown to anyone on the TCTI path. */
int tpm_start_salted_session(Tpm *t, TPM2_SE type, TPMA_SESSION attributes, TpmTransient *ret) {
        TSS2_RC rc;

        rc = Esys_StartAuthSession(t->esys, t->srk, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                   NULL, type, &session_symmetric, TPM2_ALG_SHA256, &ret->handle);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, rc, "StartAuthSession");
        rc = Esys_TRSess_SetAttributes(t->esys, ret->handle, attributes, 0xff);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, rc, "TRSess_SetAttributes");
        return 0;
}

/* The session was used without continueSession: the TPM flushed it, so
 * only ESYS's bookkeeping is left to drop. */
void tpm_session_consumed(Tpm *t, TpmTransient *s) {
        (void) Esys_TR_Close(t->esys, &s->handle);
        s->handle = ESYS_TR_NONE;
}

int tpm_secret_copy(void *buf, size_t len, size_t size, uint8_t **ret, size_t *ret_len) {
        uint8_t *secret = OPENSSL_secure_malloc(MAX(len, 1));

        if (secret)
                memcpy(secret, buf, len);
        OPENSSL_cleanse(buf, size);
        if (!secret)
                return -ENOMEM;
        *ret = secret;
        *ret_len = len;
        return 0;
}

static int blob_marshal(const TPM2B_PUBLIC *pub, const TPM2B_PRIVATE *priv, uint8_t **ret, size_t *ret_len) {
        uint8_t buf[sizeof(TPM2B_PUBLIC) + sizeof(TPM2B_PRIVATE)];
        size_t off = 0;

        if (Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS ||
            Tss2_MU_TPM2B_PRIVATE_Marshal(priv, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS)
                return -EPROTO;
        *ret = malloc(off);
        if (!*ret)
                return -ENOMEM;
        memcpy(*ret, buf, off);
        *ret_len = off;
        return 0;
}

/* A transient object loaded through SAPI, flushed on every path out. */
typedef struct TpmSysObject {
        Tpm *tpm;
        TPM2_HANDLE handle;
} TpmSysObject;

static void tpm_sys_object_flush(TpmSysObject *o) {
        tpm_flush_sys(o->tpm, o->handle);
        o->handle = 0;
}

/* All the commands of one operation on one connection to swtpm (see
 * tpm-tcti.h), released when the operation returns:
 * _cleanup_(tpm_releasep) _unused_ Tpm *held = tpm_hold(t) (clang warns of an
 * unused variable without _unused_; the cleanup is its use), declared before any
 * handle that is flushed on the way out. */
Tpm *tpm_hold(Tpm *t) {
        if (t)
                tpm_tcti_swtpm_hold(t->tcti, true);
        return t;
}

void tpm_releasep(Tpm **t) {
        if (*t)
                tpm_tcti_swtpm_hold((*t)->tcti, false);
}

/* Password authorisation with the empty authValue: the SRK's, and the NV
 * indices' for reading. */
const TSS2L_SYS_AUTH_COMMAND tpm_auth_password = {
        .count = 1,
        .auths[0] = { .sessionHandle = TPM2_RS_PW },
};

int tpm_seal(Tpm *t, const TpmPolicy *policy, bool no_export, const void *data, size_t len, uint8_t **ret,
             size_t *ret_len) {
        TPM2B_DIGEST auth_policy;
        int r;

        r = policy_digest(t, policy, &auth_policy);
        if (r < 0)
                return r;
        return tpm_seal_digest(t, &auth_policy, no_export, data, len, ret, ret_len);
}

int tpm_seal_digest(Tpm *t, const TPM2B_DIGEST *auth_policy, bool no_export, const void *data, size_t len,
                    uint8_t **ret, size_t *ret_len) {
        _cleanup_(tpm_releasep) _unused_ Tpm *held = tpm_hold(t);
        TpmSession session = {};
        TPM2B_SENSITIVE_CREATE sensitive = {};
        TPM2B_PUBLIC tmpl = {
                .publicArea = {
                        .type = TPM2_ALG_KEYEDHASH,
                        .nameAlg = TPM2_ALG_SHA256,
                        /* No userWithAuth: only the policy opens it.
                         * noDA marks objects that must not leave the
                         * daemon; it is covered by the object's integrity,
                         * and DA protection is moot for an object without
                         * an authValue. */
                        .objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                            TPMA_OBJECT_ADMINWITHPOLICY | (no_export ? TPMA_OBJECT_NODA : 0),
                        .parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL,
                },
        };
        TPM2B_DATA outside = {};
        TPML_PCR_SELECTION creation_pcrs = {};
        TPM2B_PRIVATE priv = {};
        TPM2B_PUBLIC pub = {};
        TSS2_RC rc;

        if (!t)
                return -ENODEV;
        if (len == 0 || len > TPM_SEAL_MAX)
                return -EINVAL;
        tmpl.publicArea.authPolicy = *auth_policy;
        sensitive.sensitive.data.size = (UINT16) len;
        memcpy(sensitive.sensitive.data.buffer, data, len);

        /* A salted HMAC session for the SRK's authorisation, with the
         * secret encrypted on its way in (decrypt); used once. */
        rc = tpm_session_start(t->crypto, t->sys, t->srk_handle, TPM2_SE_HMAC, &session);
        if (rc != TSS2_RC_SUCCESS) {
                OPENSSL_cleanse(&sensitive, sizeof(sensitive));
                return tpm_fail(t, rc, "StartAuthSession");
        }
        rc = Tss2_Sys_Create_Prepare(t->sys, t->srk_handle, &sensitive, &tmpl, &outside, &creation_pcrs);
        OPENSSL_cleanse(&sensitive, sizeof(sensitive));
        if (rc == TSS2_RC_SUCCESS)
                rc = tpm_session_execute(t->crypto, t->sys, &session, TPM2_CC_Create, &t->srk_name, 1,
                                         TPMA_SESSION_DECRYPT);
        if (rc == TSS2_RC_SUCCESS) {
                tpm_session_forget(&session);
                rc = Tss2_Sys_Create_Complete(t->sys, &priv, &pub, NULL, NULL, NULL);
        } else
                tpm_flush_result(t, tpm_session_flush(t->sys, &session));
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, rc, "Create");
        return blob_marshal(&pub, &priv, ret, ret_len);
}

static int blob_unmarshal(const uint8_t *blob, size_t len, TPM2B_PUBLIC *pub, TPM2B_PRIVATE *priv) {
        size_t off = 0;

        *pub = (TPM2B_PUBLIC){};
        *priv = (TPM2B_PRIVATE){};
        if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(blob, len, &off, pub) != TSS2_RC_SUCCESS ||
            Tss2_MU_TPM2B_PRIVATE_Unmarshal(blob, len, &off, priv) != TSS2_RC_SUCCESS || off != len)
                return -EBADMSG;
        if (pub->publicArea.type != TPM2_ALG_KEYEDHASH)
                return -EBADMSG;
        return 0;
}

int tpm_policy_pcr_assert(Tpm *t, TPM2_HANDLE session, uint32_t mask, const uint8_t *digest) {
        TPML_PCR_SELECTION sel;
        TPM2B_DIGEST d = {};
        TSS2_RC rc;

        pcr_selection_from_mask(mask, &sel);
        if (digest) {
                d.size = 32;
                memcpy(d.buffer, digest, 32);
        }
        rc = Tss2_Sys_PolicyPCR(t->sys, session, NULL, &d, &sel, NULL);
        if (tpm_rc_is(rc, TPM2_RC_VALUE))
                return tpm_set_error(t, -EBADE, "PolicyPCR: the PCR values are not those the policy names");
        return rc == TSS2_RC_SUCCESS ? 0 : tpm_fail(t, rc, "PolicyPCR");
}

int tpm_policy_secret_assert(Tpm *t, TPM2_HANDLE session, const uint8_t binding[32]) {
        TSS2L_SYS_AUTH_RESPONSE rsp = {};
        TPM2B_DIGEST empty = {};
        TPM2B_NONCE ref = { .size = 32 }, empty_nonce = {};
        TPM2B_TIMEOUT timeout = {};
        TPMT_TK_AUTH ticket = {};
        TSS2_RC rc;

        memcpy(ref.buffer, binding, 32);
        /* Empty nonceTPM, cpHash and expiration: the assertion is not
         * limited in time or to a command; the object's policy is what
         * limits it to Unseal of this object. */
        rc = Tss2_Sys_PolicySecret(t->sys, t->srk_handle, session, &tpm_auth_password, &empty_nonce, &empty,
                                   &ref, 0, &timeout, &ticket, &rsp);
        return rc == TSS2_RC_SUCCESS ? 0 : tpm_fail(t, rc, "PolicySecret");
}

/* Has assert satisfy the object's policy in the kept policy session,
 * starting one when there is none, and unseals with the response
 * encrypted. The loaded object (of the given name) is the caller's to
 * flush.
 *
 * The session is salted by the SRK and lives as long as this context, for
 * every kind of policy: with continueSession the TPM resets its policy
 * after each Unseal (as PolicyRestart would), and its nonces roll with
 * every command, so each Unseal gets fresh encryption keys and HMACs. Only
 * a holder of its session key can use it, so keeping it open gives nothing
 * to another TPM user; what it saves is the ECDH and StartAuthSession of
 * every call. After any failure its state is unknown (a policy half
 * asserted), so it is flushed and the next call starts a new one. */
static int tpm_unseal_loaded(Tpm *t, TPM2_HANDLE object, const TPM2B_NAME *name, TpmPolicyAssert assert,
                             const void *userdata, TPM2B_SENSITIVE_DATA *ret) {
        TpmSession *s = &t->policy_session;
        TSS2_RC rc;
        int r;

        if (s->handle == 0) {
                rc = tpm_session_start(t->crypto, t->sys, t->srk_handle, TPM2_SE_POLICY, s);
                if (rc != TSS2_RC_SUCCESS)
                        return tpm_fail(t, rc, "StartAuthSession");
        }
        r = assert(t, s->handle, userdata);
        if (r >= 0) {
                rc = Tss2_Sys_Unseal_Prepare(t->sys, object);
                if (rc == TSS2_RC_SUCCESS)
                        rc = tpm_session_execute(t->crypto, t->sys, s, TPM2_CC_Unseal, name, 1,
                                                 TPMA_SESSION_ENCRYPT | TPMA_SESSION_CONTINUESESSION);
                if (rc == TSS2_RC_SUCCESS)
                        rc = Tss2_Sys_Unseal_Complete(t->sys, ret);
                if (rc != TSS2_RC_SUCCESS)
                        r = tpm_fail(t, rc, "Unseal");
        }
        if (r < 0) {
                if (!t->lost)
                        tpm_flush_result(t, tpm_session_flush(t->sys, s));
                else
                        tpm_session_forget(s);
        }
        return r;
}

/* Whether pub's authPolicy is the one policy commits to. Before Load this
 * is a consistency check; once the TPM has loaded pub (its integrity check
 * covers the public area) it proves that policy is the one the object was
 * sealed with. */
static int blob_check_policy(Tpm *t, const TPM2B_DIGEST *want, const TPM2B_PUBLIC *pub) {
        if (pub->publicArea.authPolicy.size != want->size ||
            CRYPTO_memcmp(pub->publicArea.authPolicy.buffer, want->buffer, want->size) != 0)
                return tpm_set_error(t, -EKEYREJECTED, "The sealed object was made with another policy");
        return 0;
}

int tpm_check_policy_digest(Tpm *t, const TPM2B_DIGEST *want, const uint8_t *blob, size_t blob_len) {
        TPM2B_PUBLIC pub;
        TPM2B_PRIVATE priv;
        int r;

        r = blob_unmarshal(blob, blob_len, &pub, &priv);
        if (r < 0)
                return tpm_set_error(t, r, "The sealed object does not parse");
        return blob_check_policy(t, want, &pub);
}

int tpm_check_policy(Tpm *t, const TpmPolicy *policy, const uint8_t *blob, size_t blob_len) {
        TPM2B_DIGEST want;
        int r;

        r = policy_digest(t, policy, &want);
        if (r < 0)
                return r;
        return tpm_check_policy_digest(t, &want, blob, blob_len);
}

int tpm_unseal_digest(Tpm *t, const TPM2B_DIGEST *want, TpmPolicyAssert assert, const void *userdata,
                      const uint8_t *blob, size_t blob_len, uint8_t **ret, size_t *ret_len,
                      bool *ret_no_export) {
        _cleanup_(tpm_releasep) _unused_ Tpm *held = tpm_hold(t);
        _cleanup_(tpm_sys_object_flush) TpmSysObject object = { .tpm = t };
        TSS2L_SYS_AUTH_RESPONSE rsp = {};
        TPM2B_SENSITIVE_DATA out = {};
        TPM2B_PUBLIC pub;
        TPM2B_PRIVATE priv;
        TPM2B_NAME name = {}, tpm_name = { .size = sizeof(TPMU_NAME) };
        uint8_t *secret;
        TSS2_RC rc;
        int r;

        if (!t)
                return -ENODEV;
        r = blob_unmarshal(blob, blob_len, &pub, &priv);
        if (r < 0)
                return tpm_set_error(t, r, "The sealed object does not parse");
        /* Before anything reaches the TPM: a changed header or a file of
         * another name fails here, and is never reported as a policy
         * (PCR) failure of the Unseal below. */
        r = blob_check_policy(t, want, &pub);
        if (r < 0)
                return r;
        /* The name goes into the Unseal's HMAC: computed here, so that
         * the TPM must have loaded exactly this public area. */
        rc = tpm_crypto_name(t->crypto, &pub, &name);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_set_error(t, -EUCLEAN, "The sealed object has no SHA-256 name");
        rc = Tss2_Sys_Load(t->sys, t->srk_handle, &tpm_auth_password, &priv, &pub, &object.handle, &tpm_name,
                           &rsp);
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm_fail(t, rc, "Load");
                /* A blob of another TPM or a mangled one fails to load in
                 * many ways besides TPM_RC_INTEGRITY; none is a TPM fault.
                 * Only the TPM's own answer says so: a failure below it
                 * (the connection, the context) says nothing of the file. */
                return r == -EPROTO && (rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER ? -EUCLEAN : r;
        }
        /* Loaded, pub is authentic and so is the policy it matched: a
         * policy failure from here on is the PCRs' (or the approval's). */
        r = tpm_unseal_loaded(t, object.handle, &name, assert, userdata, &out);
        if (r < 0)
                return r;
        secret = OPENSSL_secure_malloc(MAX(out.size, 1));
        if (!secret) {
                OPENSSL_cleanse(&out, sizeof(out));
                return -ENOMEM;
        }
        memcpy(secret, out.buffer, out.size);
        *ret_len = out.size;
        OPENSSL_cleanse(&out, sizeof(out));
        *ret_no_export = pub.publicArea.objectAttributes & TPMA_OBJECT_NODA;
        *ret = secret;
        return 0;
}

/* The PCR policy's assertions, in policy_digest()'s order. */
static int pcr_policy_assert(Tpm *t, TPM2_HANDLE session, const void *userdata) {
        const TpmPolicy *policy = userdata;
        int r;

        r = tpm_policy_pcr_assert(t, session, policy->pcr_mask, NULL);
        if (r < 0)
                return r;
        return tpm_policy_secret_assert(t, session, policy->binding);
}

int tpm_unseal(Tpm *t, const TpmPolicy *policy, const uint8_t *blob, size_t blob_len, uint8_t **ret,
               size_t *ret_len, bool *ret_no_export) {
        TPM2B_DIGEST want;
        int r;

        r = policy_digest(t, policy, &want);
        if (r < 0)
                return r;
        return tpm_unseal_digest(t, &want, pcr_policy_assert, policy, blob, blob_len, ret, ret_len,
                                 ret_no_export);
}

static void ak_template_and_scheme(TPM2B_PUBLIC *tmpl, TPMT_SIG_SCHEME *scheme) {
        signing_key_template(true, tmpl);
        *scheme = (TPMT_SIG_SCHEME){ .scheme = TPM2_ALG_ECDSA, .details.ecdsa.hashAlg = TPM2_ALG_SHA256 };
}

/* Creates the attestation key (deterministic primary, so its public key
 * never changes) for one quote; the caller flushes it. */
static int tpm_load_ak(Tpm *t, TpmTransient *ak) {
        TPM2B_PUBLIC tmpl, *pub = NULL;
        TPMT_SIG_SCHEME scheme;
        int r;

        ak_template_and_scheme(&tmpl, &scheme);
        r = tpm_create_primary(t, ESYS_TR_RH_ENDORSEMENT, &tmpl, &ak->handle, &pub);
        if (r < 0)
                return r;
        if (!t->ak_pkey)
                r = pkey_from_tpm_public(pub, &t->ak_pkey);
        Esys_Free(pub);
        return r;
}

int tpm_attestation_key(Tpm *t, EVP_PKEY **ret) {
        _cleanup_(tpm_transient_flush) TpmTransient ak = TPM_TRANSIENT(t);
        int r;

        if (!t)
                return -ENODEV;
        if (!t->ak_pkey) {
                r = tpm_load_ak(t, &ak);
                if (r < 0)
                        return r;
        }
        *ret = t->ak_pkey;
        return 0;
}

static int copy_out(const void *p, size_t len, uint8_t **ret, size_t *ret_len) {
        *ret = malloc(MAX(len, 1));
        if (!*ret)
                return -ENOMEM;
        memcpy(*ret, p, len);
        *ret_len = len;
        return 0;
}

int tpm_quote(Tpm *t, const void *nonce, size_t nonce_len, uint32_t pcr_mask, uint8_t **ret_quote,
              size_t *ret_quote_len, uint8_t **ret_sig, size_t *ret_sig_len, uint8_t **ret_pcrs,
              size_t *ret_pcrs_len) {
        _cleanup_(tpm_transient_flush) TpmTransient ak = TPM_TRANSIENT(t);
        _cleanup_(freep) uint8_t *quote = NULL, *sig = NULL;
        uint8_t values[TPM_PCR_MAX][32], sigbuf[sizeof(TPMT_SIGNATURE)];
        TPM2B_DATA qualifying = {};
        TPM2B_PUBLIC tmpl;
        TPMT_SIG_SCHEME scheme;
        TPML_PCR_SELECTION sel;
        TPM2B_ATTEST *attest = NULL;
        TPMT_SIGNATURE *signature = NULL;
        size_t quote_len = 0, sig_len = 0, off = 0;
        TSS2_RC rc;
        int r;

        if (!t)
                return -ENODEV;
        if (nonce_len == 0 || nonce_len > TPM_NONCE_MAX || nonce_len > sizeof(qualifying.buffer) ||
            pcr_mask == 0 || pcr_mask >> TPM_PCR_MAX)
                return -EINVAL;
        qualifying.size = (UINT16) nonce_len;
        memcpy(qualifying.buffer, nonce, nonce_len);
        pcr_selection_from_mask(pcr_mask, &sel);
        ak_template_and_scheme(&tmpl, &scheme);

        r = tpm_load_ak(t, &ak);
        if (r < 0)
                return r;
        rc = Esys_Quote(t->esys, ak.handle, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qualifying,
                        &scheme, &sel, &attest, &signature);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(t, rc, "Quote");
        tpm_transient_flush(&ak);
        r = copy_out(attest->attestationData, attest->size, &quote, &quote_len);
        Esys_Free(attest);
        if (r >= 0 &&
            Tss2_MU_TPMT_SIGNATURE_Marshal(signature, sigbuf, sizeof(sigbuf), &off) != TSS2_RC_SUCCESS)
                r = -EPROTO;
        Esys_Free(signature);
        if (r >= 0)
                r = copy_out(sigbuf, off, &sig, &sig_len);
        if (r < 0)
                return r;
        /* PCRs read after the quote: if one was extended in between, the
         * verifier's digest check fails, which is the honest outcome. */
        r = tpm_pcr_read_mask(t, pcr_mask, values);
        if (r < 0)
                return r;
        r = copy_out(values, (size_t) __builtin_popcount(pcr_mask) * 32, ret_pcrs, ret_pcrs_len);
        if (r < 0)
                return r;
        *ret_quote = TAKE_PTR(quote);
        *ret_quote_len = quote_len;
        *ret_sig = TAKE_PTR(sig);
        *ret_sig_len = sig_len;
        return 0;
}
