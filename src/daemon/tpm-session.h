/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Salted TPM sessions with parameter encryption, driven through the SAPI
 * (tss2-sys) context underneath the tpm module's ESYS context, with the
 * session cryptography done here on algorithms fetched once.
 *
 * Why not ESYS for these: tpm2-tss 3.2's ESYS crypto backend creates a
 * fresh OSSL_LIB_CTX for every hash, HMAC and random nonce, and each one
 * rebuilds OpenSSL's name map and fetches its algorithms anew; that was
 * ~90% of the daemon's CPU per Unseal (its crypto callback API,
 * Esys_SetCryptoCallbacks, only exists from tpm2-tss 4.0 on). The protocol
 * is the TPM 2.0 one (Part 1, 19.6 and 21): an ECDH salt to the SRK (KDFe),
 * the session key from KDFa, command and response HMACs over cpHash/rpHash
 * and the rolling nonces, AES-128-CFB on the first parameter. The KDFs are
 * OpenSSL's (KBKDF, SSKDF), not ours. Private to the tpm module; errors
 * are TSS2_RC values for the module's one tss2_to_errno() seam. */

#include <openssl/evp.h>
#include <stdbool.h>
#include <tss2/tss2_sys.h>

#include "macro.h"

typedef struct TpmCrypto TpmCrypto;

/* A started session: its TPM handle (0: none), the session key and the
 * TPM's last nonce. Held by the caller; wiped by tpm_session_forget(). */
typedef struct TpmSession {
        TPM2_HANDLE handle;
        uint8_t key[32];
        TPM2B_NONCE nonce_tpm;
} TpmSession;

/* Fetches SHA-256, HMAC, AES-128-CFB and the two KDFs once; salt_key is the
 * public key (ECC P-256) of the salt key (the SRK). -ENOMEM or -EIO. */
int tpm_crypto_new(EVP_PKEY *salt_key, TpmCrypto **ret);
TpmCrypto *tpm_crypto_free(TpmCrypto *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(TpmCrypto *, tpm_crypto_free);

/* The TPM name (nameAlg SHA-256) of a public area. */
TSS2_RC tpm_crypto_name(TpmCrypto *c, const TPM2B_PUBLIC *pub, TPM2B_NAME *ret);

/* TPM2_StartAuthSession of type (TPM2_SE_HMAC or TPM2_SE_POLICY), salted
 * by ECDH to salt_handle, unbound, AES-128-CFB, SHA-256. */
TSS2_RC tpm_session_start(TpmCrypto *c, TSS2_SYS_CONTEXT *sys, TPM2_HANDLE salt_handle, TPM2_SE type,
                          TpmSession *ret);

/* Flushes the session from the TPM (if it still has one) and wipes s;
 * returns the flush's code (tpm-internal.h: tpm_flush_result()). */
TSS2_RC tpm_session_flush(TSS2_SYS_CONTEXT *sys, TpmSession *s);

/* Wipes s without a TPM command (the TPM already closed it). */
void tpm_session_forget(TpmSession *s);

/* Runs the command prepared with Tss2_Sys_*_Prepare() with s as its only
 * authorisation session (attributes attrs, of TPMA_SESSION_DECRYPT,
 * _ENCRYPT, _CONTINUESESSION) for handles of the given names (the
 * authorised entities have an empty authValue): encrypts the first command
 * parameter (DECRYPT), computes the command HMAC, executes, checks the
 * response HMAC and decrypts the first response parameter (ENCRYPT), so
 * that the caller's Tss2_Sys_*_Complete() reads plaintext. A response that
 * fails its HMAC is TSS2_ESYS_RC_RSP_AUTH_FAILED. On any failure the
 * session's state is unknown: flush it. */
TSS2_RC tpm_session_execute(TpmCrypto *c, TSS2_SYS_CONTEXT *sys, TpmSession *s, TPM2_CC cc,
                            const TPM2B_NAME *names, size_t n_names, TPMA_SESSION attrs);
