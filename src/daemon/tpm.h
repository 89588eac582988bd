/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one owner of the TPM: one ESYS context on the TCTI named by TCTI=,
 * the storage root key (SRK) and the device identity key kept loaded, one
 * small function per TPM operation. Every TSS2 error is converted to an
 * errno at one seam, tss2_to_errno(), and its Tss2_RC_Decode() text is kept
 * for the caller's message (tpm_last_error()).
 *
 * Errors every function may return besides its own:
 *   -ENODEV   no TPM, or the connection to it was lost (call tpm_free()
 *             and tpm_new() again later)
 *   -EBUSY    the TPM is out of object/session memory or asks for a retry
 *   -EPROTO   any other TPM or TSS failure (see tpm_last_error())
 *
 * Hierarchies: the SRK (TCG standard ECC P-256 template) is a primary of
 * the owner hierarchy; the device identity key and the attestation key are
 * primaries of the endorsement hierarchy made from fixed templates, so they
 * are the same after a restart, a reinstall or a wiped state directory, and
 * change only when the endorsement seed changes (TPM2_ChangeEPS, i.e. a
 * factory reset of the TPM). TPM2_Clear changes the owner seed and with it
 * the SRK: every sealed blob becomes unusable. */

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_common.h>

#include "macro.h"

typedef struct Tpm Tpm;

#define TPM_PCR_MAX 24U
/* The largest secret a TPM seals in one object (MAX_SYM_DATA). */
#define TPM_SEAL_MAX 128U
/* The largest nonce (qualifying data) a quote takes: a SHA-256 digest,
 * which every TPM accepts (some allow no more than their largest hash). */
#define TPM_NONCE_MAX 32U

/* Converts a TSS2 return code to a negative errno (0 for success):
 * -EBADE policy/PCR mismatch, -EUCLEAN integrity check of a loaded blob
 * failed, -EBUSY out of TPM memory or retry, -ENODEV TCTI I/O errors, an
 * uninitialised TPM or a handle that is no longer loaded (the TPM was
 * reset), -ENOMEM, -EINVAL bad values, -EPROTO otherwise. */
int tss2_to_errno(TSS2_RC rc) _pure_;

/* Connects to the TPM through tcti (a tctildr string; NULL or "" for the
 * default), flushes transient objects a dead earlier process left behind
 * on a TPM without resource manager, creates the SRK and the device key.
 * Returns -ENODEV when no TPM answers. */
int tpm_new(const char *tcti, Tpm **ret);

/* The largest owner authValue (a SHA-512 digest's size). */
#define TPM_OWNER_AUTH_MAX 64U

/* As tpm_new(), with the owner hierarchy's authValue (owner_auth_len bytes,
 * at most TPM_OWNER_AUTH_MAX; 0 for the empty one) for the SRK and for
 * defining NV indices. -EACCES when the owner hierarchy refuses it (an
 * authValue was set that the daemon was not given, or another one). */
int tpm_new_with_owner_auth(const char *tcti, const void *owner_auth, size_t owner_auth_len, Tpm **ret);

/* Flushes the objects this context keeps loaded (when the TPM is still
 * reachable) and closes the connection. NULL-safe. */
Tpm *tpm_free(Tpm *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Tpm *, tpm_free);

/* Whether a command failed because the TPM went away, or a flush on a
 * call's way out found the connection broken (the call itself may have
 * succeeded); the context is then useless and must be replaced. */
bool tpm_is_lost(const Tpm *t);

/* The Tss2_RC_Decode() text (with the operation) of the last failure. */
const char *tpm_last_error(const Tpm *t);

/* Extends PCR pcr of the sha256 bank with digest. -EINVAL for pcr > 23,
 * -ENODEV when t is NULL (no TPM). */
int tpm_pcr_extend(Tpm *t, unsigned pcr, const uint8_t digest[32]);

/* Reads PCR pcr of the sha256 bank. -EINVAL for pcr > 23, -ENODEV when t
 * is NULL. */
int tpm_pcr_read(Tpm *t, unsigned pcr, uint8_t ret_digest[32]);

/* Reads every PCR in mask (sha256 bank) into ret[popcount(mask)][32] in
 * ascending index order. */
int tpm_pcr_read_mask(Tpm *t, uint32_t mask, uint8_t (*ret)[32]);

/* Fills buf with len bytes from the TPM's RNG, read through a salted
 * session with response encryption (the bytes are meant as key material). */
int tpm_get_random(Tpm *t, void *buf, size_t len);

/* The device identity key's public key; the reference stays owned by t. */
EVP_PKEY *tpm_device_key(Tpm *t);

/* The attestation key's public key (created on first use); the reference
 * stays owned by t. */
int tpm_attestation_key(Tpm *t, EVP_PKEY **ret);

/* Signs a SHA-256 digest with the device key; *ret is a DER ECDSA-Sig-Value
 * (malloc'ed) that `openssl dgst -sha256 -verify` accepts. */
int tpm_sign_digest(Tpm *t, const uint8_t digest[32], uint8_t **ret, size_t *ret_len);

/* What a sealed object is bound to: its authPolicy is PolicyPCR over
 * pcr_mask (sha256 bank) with the values whose SHA-256 is pcr_digest,
 * followed by PolicySecret of the SRK with binding as policyRef. binding is
 * the caller's digest of whatever the object must not be separated from
 * (the key store's: the key's name and its file header). */
typedef struct TpmPolicy {
        uint32_t pcr_mask;
        uint8_t pcr_digest[32];
        uint8_t binding[32];
} TpmPolicy;

/* SHA-256 over the current values of the PCRs in pcr_mask (sha256 bank,
 * ascending): the pcr_digest of a TpmPolicy that holds now. -EINVAL for a
 * mask beyond PCR 23. */
int tpm_pcr_digest(Tpm *t, uint32_t pcr_mask, uint8_t ret[32]);

/* Seals len (1..TPM_SEAL_MAX) bytes under the SRK with policy's
 * authPolicy, through a salted session with parameter encryption. If
 * policy->pcr_digest is not what the PCRs hold now, the object is made but
 * never unseals. no_export marks the object (bound into its public area)
 * so that tpm_unseal() refuses to hand it to a client. *ret is the TPM
 * part of a blob (marshalled TPM2B_PUBLIC + TPM2B_PRIVATE). */
int tpm_seal(Tpm *t, const TpmPolicy *policy, bool no_export, const void *data, size_t len, uint8_t **ret,
             size_t *ret_len);

/* Checks, without a TPM command, that blob's authPolicy is policy's:
 * 0, -EKEYREJECTED it is not (a header changed, or the blob was sealed
 * under another name or with other PCRs), -EBADMSG the blob does not
 * parse. Only tpm_unseal() (whose Load checks the public area's integrity)
 * turns this into proof; a refusal is final already. */
int tpm_check_policy(Tpm *t, const TpmPolicy *policy, const uint8_t *blob, size_t blob_len);

/* Unseals a blob from tpm_seal() made with the same policy, in six TPM
 * commands (Load, salted StartAuthSession, PolicyPCR, PolicySecret, Unseal
 * with response encryption, FlushContext); tpm_check_policy() comes first,
 * so a wrong policy never reaches the TPM. *ret is OPENSSL_secure_malloc'ed
 * (free with OPENSSL_secure_clear_free(), *ret_len bytes); *ret_no_export
 * tells whether the object carries the no-export mark. Errors:
 * -EKEYREJECTED and -EBADMSG as tpm_check_policy(), -EUCLEAN the blob fails
 * the TPM's integrity check (tampered, or sealed by another TPM), -EBADE
 * the PCRs differ from sealing time (only after the policy was proven to
 * be the object's, so a changed header is never reported as this). */
int tpm_unseal(Tpm *t, const TpmPolicy *policy, const uint8_t *blob, size_t blob_len, uint8_t **ret,
               size_t *ret_len, bool *ret_no_export);

/* SHA-256 of the SRK's name: identifies the storage hierarchy (this TPM
 * since its last TPM2_Clear) that blobs are bound to. */
const uint8_t *tpm_srk_id(const Tpm *t);

/* TPM2_Quote by the restricted attestation key over pcr_mask (sha256
 * bank) with nonce (1..TPM_NONCE_MAX bytes) as qualifying data. Returns
 * the TPMS_ATTEST as signed (what tpm2_checkquote -m takes), the
 * marshalled TPMT_SIGNATURE (-s) and the PCR values, 32 bytes each in
 * ascending index order (-f with -l sha256:LIST). All malloc'ed. */
int tpm_quote(Tpm *t, const void *nonce, size_t nonce_len, uint32_t pcr_mask, uint8_t **ret_quote,
              size_t *ret_quote_len, uint8_t **ret_sig, size_t *ret_sig_len, uint8_t **ret_pcrs,
              size_t *ret_pcrs_len);

/* What protects the hierarchies that can undefine NV indices:
 * *ret_owner_auth_set whether the owner hierarchy has an authValue
 * (TPM_PT_PERMANENT), *ret_platform_open whether the platform hierarchy is
 * enabled (TPM_PT_STARTUP_CLEAR) and takes the empty authorization (tried
 * with TPM2_PolicySecret in a trial session, which changes nothing; a
 * hierarchy's authorization failure does not count towards lockout). */
int tpm_hierarchy_status(Tpm *t, bool *ret_owner_auth_set, bool *ret_platform_open);

/* Number of transient objects loaded in the TPM (what this connection sees). */
int tpm_count_transient(Tpm *t, unsigned *ret);
