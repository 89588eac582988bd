/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <tss2/tss2_mu.h>

#include "openssl-util.h"
#include "tpm-session.h"

#define DIGEST_SIZE 32U
#define AES_KEY_SIZE 16U

/* One default library context (the process's own: a second one would load
 * a second copy of the provider), algorithms fetched once. */
struct TpmCrypto {
        EVP_MD *sha256;
        EVP_MAC *hmac;
        EVP_CIPHER *aes_cfb;
        EVP_KDF *kbkdf;
        EVP_KDF *sskdf;
        EVP_MD_CTX *md;
        EVP_CIPHER_CTX *cipher;
        EVP_PKEY *salt_key;
        /* The salt key's x coordinate, PartyVInfo of KDFe. */
        uint8_t salt_x[32];
};

int tpm_crypto_new(EVP_PKEY *salt_key, TpmCrypto **ret) {
        _cleanup_(tpm_crypto_freep) TpmCrypto *c = calloc(1, sizeof(TpmCrypto));
        uint8_t point[65];
        size_t len = 0;

        if (!c)
                return -ENOMEM;
        c->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
        c->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        c->aes_cfb = EVP_CIPHER_fetch(NULL, "AES-128-CFB", NULL);
        c->kbkdf = EVP_KDF_fetch(NULL, "KBKDF", NULL);
        c->sskdf = EVP_KDF_fetch(NULL, "SSKDF", NULL);
        c->md = EVP_MD_CTX_new();
        c->cipher = EVP_CIPHER_CTX_new();
        if (!c->sha256 || !c->hmac || !c->aes_cfb || !c->kbkdf || !c->sskdf || !c->md || !c->cipher)
                return -EIO;
        if (EVP_PKEY_get_octet_string_param(salt_key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point), &len) !=
                    1 ||
            len != sizeof(point) || point[0] != 0x04)
                return -EIO;
        memcpy(c->salt_x, point + 1, 32);
        if (EVP_PKEY_up_ref(salt_key) != 1)
                return -EIO;
        c->salt_key = salt_key;
        *ret = TAKE_PTR(c);
        return 0;
}

TpmCrypto *tpm_crypto_free(TpmCrypto *c) {
        if (!c)
                return NULL;
        EVP_MD_free(c->sha256);
        EVP_MAC_free(c->hmac);
        EVP_CIPHER_free(c->aes_cfb);
        EVP_KDF_free(c->kbkdf);
        EVP_KDF_free(c->sskdf);
        EVP_MD_CTX_free(c->md);
        EVP_CIPHER_CTX_free(c->cipher);
        EVP_PKEY_free(c->salt_key);
        free(c);
        return NULL;
}

typedef struct Chunk {
        const void *p;
        size_t len;
} Chunk;

static bool sha256_chunks(TpmCrypto *c, const Chunk *chunks, size_t n, uint8_t out[DIGEST_SIZE]) {
        if (EVP_DigestInit_ex2(c->md, c->sha256, NULL) != 1)
                return false;
        for (size_t i = 0; i < n; i++)
                if (chunks[i].len > 0 && EVP_DigestUpdate(c->md, chunks[i].p, chunks[i].len) != 1)
                        return false;
        return EVP_DigestFinal_ex(c->md, out, NULL) == 1;
}

static bool hmac_chunks(TpmCrypto *c, const uint8_t key[DIGEST_SIZE], const Chunk *chunks, size_t n,
                        uint8_t out[DIGEST_SIZE]) {
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *) "SHA256", 0),
                OSSL_PARAM_construct_end(),
        };
        EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(c->hmac);
        size_t len = 0;
        bool ok;

        ok = ctx && EVP_MAC_init(ctx, key, DIGEST_SIZE, params) == 1;
        for (size_t i = 0; ok && i < n; i++)
                ok = chunks[i].len == 0 || EVP_MAC_update(ctx, chunks[i].p, chunks[i].len) == 1;
        ok = ok && EVP_MAC_final(ctx, out, &len, DIGEST_SIZE) == 1 && len == DIGEST_SIZE;
        EVP_MAC_CTX_free(ctx);
        return ok;
}

/* KDFa (Part 1, 11.4.10.2) is SP 800-108 counter mode with HMAC, a 32-bit
 * counter, a zero byte after the label and the length in bits last:
 * OpenSSL's KBKDF with its defaults. */
static bool kdfa(TpmCrypto *c, const uint8_t key[DIGEST_SIZE], const char *label, const TPM2B_NONCE *u,
                 const TPM2B_NONCE *v, uint8_t *out, size_t len) {
        uint8_t context[2 * sizeof(u->buffer)];
        OSSL_PARAM params[6];
        EVP_KDF_CTX *ctx;
        bool ok;

        memcpy(context, u->buffer, u->size);
        memcpy(context + u->size, v->buffer, v->size);
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MAC, (char *) "HMAC", 0);
        params[1] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *) "SHA256", 0);
        params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *) key, DIGEST_SIZE);
        params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *) label, strlen(label));
        params[4] =
                OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, context, (size_t) u->size + v->size);
        params[5] = OSSL_PARAM_construct_end();
        ctx = EVP_KDF_CTX_new(c->kbkdf);
        ok = ctx && EVP_KDF_derive(ctx, out, len, params) == 1;
        EVP_KDF_CTX_free(ctx);
        return ok;
}

/* The salt: an ephemeral P-256 key, ECDH with the salt key, and KDFe
 * (Part 1, 11.4.10.3: one hash of counter, Z, "SECRET\0", the ephemeral
 * and the salt key's x coordinates) — OpenSSL's SSKDF with that info. */
static bool make_salt(TpmCrypto *c, uint8_t salt[DIGEST_SIZE], TPM2B_ENCRYPTED_SECRET *ret) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *eph = NULL;
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *dctx = NULL;
        uint8_t point[65], z[32], info[7 + 32 + 32];
        TPMS_ECC_POINT q = {};
        OSSL_PARAM params[4];
        EVP_KDF_CTX *kctx;
        size_t len = 0, zlen = sizeof(z), off = 0;
        bool ok;

        eph = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        if (!eph ||
            EVP_PKEY_get_octet_string_param(eph, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point), &len) != 1 ||
            len != sizeof(point) || point[0] != 0x04)
                return false;
        dctx = EVP_PKEY_CTX_new_from_pkey(NULL, eph, NULL);
        if (!dctx || EVP_PKEY_derive_init(dctx) != 1 || EVP_PKEY_derive_set_peer(dctx, c->salt_key) != 1 ||
            EVP_PKEY_derive(dctx, z, &zlen) != 1 || zlen != sizeof(z))
                return false;
        memcpy(info, "SECRET", 7);
        memcpy(info + 7, point + 1, 32);
        memcpy(info + 7 + 32, c->salt_x, 32);
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *) "SHA256", 0);
        params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, z, sizeof(z));
        params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, sizeof(info));
        params[3] = OSSL_PARAM_construct_end();
        kctx = EVP_KDF_CTX_new(c->sskdf);
        ok = kctx && EVP_KDF_derive(kctx, salt, DIGEST_SIZE, params) == 1;
        EVP_KDF_CTX_free(kctx);
        OPENSSL_cleanse(z, sizeof(z));
        if (!ok)
                return false;
        q.x.size = q.y.size = 32;
        memcpy(q.x.buffer, point + 1, 32);
        memcpy(q.y.buffer, point + 33, 32);
        if (Tss2_MU_TPMS_ECC_POINT_Marshal(&q, ret->secret, sizeof(ret->secret), &off) != TSS2_RC_SUCCESS)
                return false;
        ret->size = (UINT16) off;
        return true;
}

TSS2_RC tpm_crypto_name(TpmCrypto *c, const TPM2B_PUBLIC *pub, TPM2B_NAME *ret) {
        uint8_t buf[sizeof(TPMT_PUBLIC)];
        size_t off = 0;
        TSS2_RC rc;

        if (pub->publicArea.nameAlg != TPM2_ALG_SHA256)
                return TSS2_ESYS_RC_BAD_VALUE;
        rc = Tss2_MU_TPMT_PUBLIC_Marshal(&pub->publicArea, buf, sizeof(buf), &off);
        if (rc != TSS2_RC_SUCCESS)
                return rc;
        ret->size = 2 + DIGEST_SIZE;
        ret->name[0] = TPM2_ALG_SHA256 >> 8;
        ret->name[1] = TPM2_ALG_SHA256 & 0xff;
        if (!sha256_chunks(c, &(Chunk){ buf, off }, 1, ret->name + 2))
                return TSS2_ESYS_RC_GENERAL_FAILURE;
        return TSS2_RC_SUCCESS;
}

TSS2_RC tpm_session_start(TpmCrypto *c, TSS2_SYS_CONTEXT *sys, TPM2_HANDLE salt_handle, TPM2_SE type,
                          TpmSession *ret) {
        static const TPMT_SYM_DEF symmetric = {
                .algorithm = TPM2_ALG_AES,
                .keyBits.aes = 128,
                .mode.aes = TPM2_ALG_CFB,
        };
        TPM2B_NONCE nonce_caller = { .size = DIGEST_SIZE }, nonce_tpm = {};
        TPM2B_ENCRYPTED_SECRET encrypted_salt = {};
        uint8_t salt[DIGEST_SIZE];
        TPMI_SH_AUTH_SESSION handle = 0;
        TSS2_RC rc;
        bool ok;

        if (RAND_bytes(nonce_caller.buffer, DIGEST_SIZE) != 1 || !make_salt(c, salt, &encrypted_salt))
                return TSS2_ESYS_RC_GENERAL_FAILURE;
        rc = Tss2_Sys_StartAuthSession(sys, salt_handle, TPM2_RH_NULL, NULL, &nonce_caller, &encrypted_salt,
                                       type, &symmetric, TPM2_ALG_SHA256, &handle, &nonce_tpm, NULL);
        if (rc != TSS2_RC_SUCCESS) {
                OPENSSL_cleanse(salt, sizeof(salt));
                return rc;
        }
        /* Unbound: the session key is KDFa(salt, "ATH", nonceTPM,
         * nonceCaller). */
        *ret = (TpmSession){ .handle = handle, .nonce_tpm = nonce_tpm };
        ok = nonce_tpm.size >= 16 && kdfa(c, salt, "ATH", &nonce_tpm, &nonce_caller, ret->key, DIGEST_SIZE);
        OPENSSL_cleanse(salt, sizeof(salt));
        if (!ok) {
                (void) tpm_session_flush(sys, ret);
                return TSS2_ESYS_RC_GENERAL_FAILURE;
        }
        return TSS2_RC_SUCCESS;
}

void tpm_session_forget(TpmSession *s) {
        OPENSSL_cleanse(s, sizeof(*s));
}

TSS2_RC tpm_session_flush(TSS2_SYS_CONTEXT *sys, TpmSession *s) {
        TSS2_RC rc = s->handle != 0 ? Tss2_Sys_FlushContext(sys, s->handle) : TSS2_RC_SUCCESS;

        tpm_session_forget(s);
        return rc;
}

/* AES-128-CFB of a parameter in place, key and IV from KDFa(sessionKey,
 * "CFB", newer, older) (Part 1, 21.4). */
static bool param_crypt(TpmCrypto *c, const TpmSession *s, const TPM2B_NONCE *newer,
                        const TPM2B_NONCE *older, bool encrypt, uint8_t *buf, size_t len) {
        uint8_t kiv[2 * AES_KEY_SIZE];
        int n = 0, m = 0;
        bool ok;

        if (len > INT32_MAX || !kdfa(c, s->key, "CFB", newer, older, kiv, sizeof(kiv)))
                return false;
        ok = EVP_CipherInit_ex2(c->cipher, c->aes_cfb, kiv, kiv + AES_KEY_SIZE, encrypt, NULL) == 1 &&
             EVP_CipherUpdate(c->cipher, buf, &n, buf, (int) len) == 1 &&
             EVP_CipherFinal_ex(c->cipher, buf + n, &m) == 1 && (size_t) (n + m) == len;
        OPENSSL_cleanse(kiv, sizeof(kiv));
        return ok;
}

TSS2_RC tpm_session_execute(TpmCrypto *c, TSS2_SYS_CONTEXT *sys, TpmSession *s, TPM2_CC cc,
                            const TPM2B_NAME *names, size_t n_names, TPMA_SESSION attrs) {
        TSS2L_SYS_AUTH_COMMAND cmd = { .count = 1 };
        TSS2L_SYS_AUTH_RESPONSE rsp = {};
        TPM2B_NONCE nonce_caller = { .size = DIGEST_SIZE };
        uint8_t cc_be[4] = { cc >> 24, cc >> 16, cc >> 8, cc }, rc_be[4] = {}, cp_hash[DIGEST_SIZE],
                rp_hash[DIGEST_SIZE], want[DIGEST_SIZE], param[TPM2_MAX_COMMAND_SIZE];
        const uint8_t *p = NULL;
        Chunk chunks[2 + 3];
        size_t len = 0, n = 0;
        uint8_t rsp_attrs;
        TSS2_RC rc;

        if (n_names > 3 || s->handle == 0)
                return TSS2_ESYS_RC_BAD_VALUE;
        if (RAND_bytes(nonce_caller.buffer, DIGEST_SIZE) != 1)
                return TSS2_ESYS_RC_GENERAL_FAILURE;
        if (attrs & TPMA_SESSION_DECRYPT) {
                rc = Tss2_Sys_GetDecryptParam(sys, &len, &p);
                if (rc != TSS2_RC_SUCCESS)
                        return rc;
                if (len > sizeof(param))
                        return TSS2_ESYS_RC_BAD_SIZE;
                memcpy(param, p, len);
                if (!param_crypt(c, s, &nonce_caller, &s->nonce_tpm, true, param, len))
                        return TSS2_ESYS_RC_GENERAL_FAILURE;
                rc = Tss2_Sys_SetDecryptParam(sys, len, param);
                OPENSSL_cleanse(param, len);
                if (rc != TSS2_RC_SUCCESS)
                        return rc;
        }
        /* cpHash = H(commandCode || names || parameters), over the
         * parameters as sent (encrypted). */
        rc = Tss2_Sys_GetCpBuffer(sys, &len, &p);
        if (rc != TSS2_RC_SUCCESS)
                return rc;
        chunks[n++] = (Chunk){ cc_be, 4 };
        for (size_t i = 0; i < n_names; i++)
                chunks[n++] = (Chunk){ names[i].name, names[i].size };
        chunks[n++] = (Chunk){ p, len };
        if (!sha256_chunks(c, chunks, n, cp_hash))
                return TSS2_ESYS_RC_GENERAL_FAILURE;
        cmd.auths[0] = (TPMS_AUTH_COMMAND){
                .sessionHandle = s->handle,
                .nonce = nonce_caller,
                .sessionAttributes = attrs,
                .hmac.size = DIGEST_SIZE,
        };
        if (!hmac_chunks(c, s->key,
                         (Chunk[]){ { cp_hash, DIGEST_SIZE },
                                    { nonce_caller.buffer, nonce_caller.size },
                                    { s->nonce_tpm.buffer, s->nonce_tpm.size },
                                    { &attrs, 1 } },
                         4, cmd.auths[0].hmac.buffer))
                return TSS2_ESYS_RC_GENERAL_FAILURE;
        rc = Tss2_Sys_SetCmdAuths(sys, &cmd);
        if (rc != TSS2_RC_SUCCESS)
                return rc;
        rc = Tss2_Sys_Execute(sys);
        if (rc != TSS2_RC_SUCCESS)
                return rc;

        /* rpHash = H(responseCode || commandCode || parameters); the
         * response HMAC covers it with the new nonceTPM. */
        rc = Tss2_Sys_GetRspAuths(sys, &rsp);
        if (rc != TSS2_RC_SUCCESS)
                return rc;
        rc = Tss2_Sys_GetRpBuffer(sys, &len, &p);
        if (rc != TSS2_RC_SUCCESS)
                return rc;
        if (rsp.count != 1 || rsp.auths[0].hmac.size != DIGEST_SIZE || rsp.auths[0].nonce.size < 16)
                return TSS2_ESYS_RC_RSP_AUTH_FAILED;
        rsp_attrs = rsp.auths[0].sessionAttributes;
        if (!sha256_chunks(c, (Chunk[]){ { rc_be, 4 }, { cc_be, 4 }, { p, len } }, 3, rp_hash) ||
            !hmac_chunks(c, s->key,
                         (Chunk[]){ { rp_hash, DIGEST_SIZE },
                                    { rsp.auths[0].nonce.buffer, rsp.auths[0].nonce.size },
                                    { nonce_caller.buffer, nonce_caller.size },
                                    { &rsp_attrs, 1 } },
                         4, want))
                return TSS2_ESYS_RC_GENERAL_FAILURE;
        if (CRYPTO_memcmp(want, rsp.auths[0].hmac.buffer, DIGEST_SIZE) != 0)
                return TSS2_ESYS_RC_RSP_AUTH_FAILED;
        s->nonce_tpm = rsp.auths[0].nonce;

        if (attrs & TPMA_SESSION_ENCRYPT) {
                rc = Tss2_Sys_GetEncryptParam(sys, &len, &p);
                if (rc != TSS2_RC_SUCCESS)
                        return rc;
                if (len > sizeof(param))
                        return TSS2_ESYS_RC_BAD_SIZE;
                memcpy(param, p, len);
                if (!param_crypt(c, s, &s->nonce_tpm, &nonce_caller, false, param, len))
                        return TSS2_ESYS_RC_GENERAL_FAILURE;
                rc = Tss2_Sys_SetEncryptParam(sys, len, param);
                OPENSSL_cleanse(param, len);
                if (rc != TSS2_RC_SUCCESS)
                        return rc;
        }
        return TSS2_RC_SUCCESS;
}
