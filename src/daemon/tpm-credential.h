/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The device side of TPM2_MakeCredential / TPM2_ActivateCredential, the
 * way a remote verifier (Keylime's registrar, a factory CA) proves that
 * the attestation key lives in the TPM that holds a given endorsement key:
 *
 *   1. the verifier reads the endorsement key (EK) and the attestation
 *      key's public area (tpm_credential_ek_public(),
 *      tpm_credential_ak_public()), checks the EK against the TPM maker's
 *      EK certificate and the AK's attributes, and computes the AK's Name
 *      itself (nameAlg || SHA-256 of the TPMT_PUBLIC);
 *   2. it runs tpm2_makecredential over a random secret with the EK's
 *      public key and that Name;
 *   3. the device hands the file to tpm_credential_activate(): only the TPM
 *      with that EK recovers the secret, and only for a loaded key of that
 *      Name.
 *
 * The EK is the TCG EK Credential Profile's default ECC template L-2 (NIST
 * P-256, AES-128-CFB, authPolicy PolicySecret(TPM_RH_ENDORSEMENT)), a
 * primary of the endorsement hierarchy, so it is the key of the TPM's EK
 * certificate; a persistent EK at the TCG handle of that template,
 * 0x81010002, is used instead when its public area is that template's.
 * The endorsement hierarchy must have the empty authorization (-EACCES).
 *
 * Nothing here keeps a handle: every object and session is flushed on
 * every path, and the device key unloaded for an activation is loaded
 * again (see tpm_device_key_unload()). */

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#include "tpm.h"

/* The TCG handle of a persistent ECC P-256 EK (TCG TPM v2.0 Provisioning
 * Guidance; 0x81010001 is the RSA 2048 EK's). */
#define TPM_EK_ECC_PERSISTENT_HANDLE UINT32_C(0x81010002)

/* The largest credential file tpm_credential_parse() considers: magic,
 * version and the two structures at their largest. */
#define TPM_CREDENTIAL_MAX (4U + 4U + sizeof(TPM2B_ID_OBJECT) + sizeof(TPM2B_ENCRYPTED_SECRET))

/* What tpm2_makecredential writes (tpm2-tools' credential file), all
 * integers big-endian:
 *
 *   uint32 magic 0xBADCC0DE
 *   uint32 version 1
 *   TPM2B_ID_OBJECT        credentialBlob: uint16 size, then
 *                          TPM2B_DIGEST integrityHMAC (32 bytes for the
 *                          EK's SHA-256) and the encrypted TPM2B_DIGEST
 *                          credential (encIdentity, the rest)
 *   TPM2B_ENCRYPTED_SECRET secret: uint16 size, then for an ECC EK the
 *                          ephemeral TPMS_ECC_POINT (two TPM2B of 32 bytes)
 *
 * and nothing after it. */
typedef struct TpmCredential {
        TPM2B_ID_OBJECT blob;
        TPM2B_ENCRYPTED_SECRET secret;
} TpmCredential;

/* Parses a credential file (untrusted input: checked in full before the
 * TPM sees it). Returns 0, or -EBADMSG with *ret_why (may be NULL; a static
 * string) saying what is wrong. */
int tpm_credential_parse(const void *data, size_t len, TpmCredential *ret, const char **ret_why);

/* The EK's public key (a new reference, the caller frees it). -EACCES
 * when the endorsement hierarchy has an authorization value. */
int tpm_credential_ek_public(Tpm *t, EVP_PKEY **ret);

/* The attestation key's public area as a marshalled TPM2B_PUBLIC
 * (malloc'ed), what tpm2_print -t TPM2B_PUBLIC reads and what its Name is
 * computed from. */
int tpm_credential_ak_public(Tpm *t, uint8_t **ret, size_t *ret_len);

/* TPM2_ActivateCredential of c with the attestation key as the object and
 * the EK as the key, the response encrypted in a session salted by the
 * SRK. *ret is the secret the verifier chose (OPENSSL_secure_malloc'ed,
 * free with OPENSSL_secure_clear_free(), *ret_len bytes). Errors: -EXDEV
 * the credential was not made for this TPM's EK and this attestation key's
 * Name (or was altered; the TPM cannot tell these apart), -EACCES the
 * endorsement hierarchy has an authorization value. */
int tpm_credential_activate(Tpm *t, const TpmCredential *c, uint8_t **ret, size_t *ret_len);
