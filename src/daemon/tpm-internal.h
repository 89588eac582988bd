/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* For the tpm module's companions (tpm-nv.c, tpm-policy.c) only: the ESYS
 * and SAPI contexts that tpm.c owns and its one error seam. Nothing outside src/daemon/tpm*.c
 * includes this. */

#include <tss2/tss2_esys.h>
#include <tss2/tss2_sys.h>

#include "tpm.h"

/* The ESYS context; owned by t. */
ESYS_CONTEXT *tpm_esys(Tpm *t);

/* A transient object or session that is flushed on every path out of the
 * function that made it: swtpm without a resource manager has only three
 * object slots, so one leak per call exhausts it within a few calls.
 * _cleanup_(tpm_transient_flush) TpmTransient h = TPM_TRANSIENT(t); */
typedef struct TpmTransient {
        Tpm *tpm;
        ESYS_TR handle;
} TpmTransient;

#define TPM_TRANSIENT(t)                                                                                    \
        { .tpm = (t), .handle = ESYS_TR_NONE }

/* Flushes h's handle unless it is ESYS_TR_NONE or the TPM is lost; resets it. */
void tpm_transient_flush(TpmTransient *h);

/* All the commands of one operation on one connection to swtpm (see
 * tpm-tcti.h), released when the operation returns:
 * _cleanup_(tpm_releasep) _unused_ Tpm *held = tpm_hold(t), declared before
 * any handle that is flushed on the way out. */
Tpm *tpm_hold(Tpm *t);
void tpm_releasep(Tpm **t);

/* The session was used without continueSession, so the TPM flushed it:
 * drops ESYS's bookkeeping and resets s. */
void tpm_session_consumed(Tpm *t, TpmTransient *s);

/* A session salted by the SRK (ECDH) with the given attributes, so that its
 * session key, and with it parameter encryption, is unknown to anyone on
 * the TCTI path. */
int tpm_start_salted_session(Tpm *t, TPM2_SE type, TPMA_SESSION attributes, TpmTransient *ret);

/* TPM2_CreatePrimary of tmpl under hierarchy with the empty authorization;
 * *ret_public (Esys_Free) may be NULL. */
int tpm_create_primary(Tpm *t, ESYS_TR hierarchy, const TPM2B_PUBLIC *tmpl, ESYS_TR *ret,
                       TPM2B_PUBLIC **ret_public);

/* One TPM_PT_* value of TPM2_CAP_TPM_PROPERTIES. */
int tpm_property(Tpm *t, TPM2_PT property, uint32_t *ret);

/* The ECC P-256 public key of a TPM object as an EVP_PKEY (the caller's);
 * -EPROTO when pub is not an ECC P-256 key. */
int pkey_from_tpm_public(const TPM2B_PUBLIC *pub, EVP_PKEY **ret);

/* The TCG ECC NIST P-256 storage key template (restricted decryption key,
 * fixedTPM, fixedParent, sensitiveDataOrigin, AES-128-CFB, SHA-256, zero
 * unique) with attributes added: the SRK's and the EK's (tpm-credential.c)
 * are both of this shape. */
void tpm_ecc_storage_template(TPMA_OBJECT attributes, TPM2B_PUBLIC *ret);

/* The attestation key's template (restricted ECC P-256 signing key,
 * fixedTPM, fixedParent, a primary of the endorsement hierarchy). */
void tpm_ak_template(TPM2B_PUBLIC *ret);

/* The device key is the one transient object kept loaded besides the SRK;
 * an operation that needs two more object slots than a TPM without
 * resource manager has (three) unloads it and loads it again afterwards.
 * _load is a no-op while it is loaded; it re-creates the primary and fails
 * with -EXDEV if that is not the key this context started with. The key is
 * loaded again on its next use if _load failed. */
int tpm_device_key_unload(Tpm *t);
int tpm_device_key_load(Tpm *t);

/* Copies the first len bytes of a secret the TPM returned in buf (the
 * buffer of a TPM2B, size bytes in all) to OPENSSL_secure_malloc'ed memory
 * (*ret, free with OPENSSL_secure_clear_free()) and wipes buf's size
 * bytes, also on failure (-ENOMEM). */
int tpm_secret_copy(void *buf, size_t len, size_t size, uint8_t **ret, size_t *ret_len);

/* Records a failed TSS2 call (decoded text for tpm_last_error(), the loss
 * of the TPM) and returns its errno, as tss2_to_errno(). */
int tpm_record_failure(Tpm *t, TSS2_RC rc, const char *what);

/* Whether rc is the TPM response code what (TPM2_RC_*), with the handle,
 * session or parameter number of a format-one code ignored. */
bool tpm_rc_is(TSS2_RC rc, TSS2_RC what);

/* Records what failed without a TSS2 code and returns r. */
int tpm_record_error(Tpm *t, int r, const char *what);

/* Flushes a handle on a path out, where the caller reports no failure of
 * the flush (ESYS_TR_NONE or 0: nothing; nothing either once the TPM is
 * lost). tpm_flush_result() judges a flush's code: the TPM answering
 * with an error (the handle was gone already) is harmless; any other
 * failure (the connection broke with the command sent, after which ESYS
 * and SAPI refuse every later command as out of sequence) leaves this
 * context unusable, so the TPM is marked lost and the device connects
 * afresh before the next call (device.h). */
void tpm_flush(Tpm *t, ESYS_TR handle);
void tpm_flush_sys(Tpm *t, TPM2_HANDLE handle);
void tpm_flush_result(Tpm *t, TSS2_RC rc);

/* The NV writer's secret (32 bytes) kept with the context, NULL when it is
 * not known; see tpm-nv.h. */
const uint8_t *tpm_nv_auth(const Tpm *t);
void tpm_set_nv_auth(Tpm *t, const uint8_t auth[32]);

/* The state directory whose marks of the NV floors (tpm-nv.h) this context
 * keeps up to date, NULL until tpm_nv_setup(). */
const char *tpm_nv_state_dir(const Tpm *t);
int tpm_set_nv_state_dir(Tpm *t, const char *dir);

/* The Name of an NV index (tpm-nv.c): nameAlg SHA-256, then the SHA-256 of
 * its TPMS_NV_PUBLIC. -EPROTO or -EIO. */
int tpm_nv_public_name(const TPM2B_NV_PUBLIC *pub, TPM2B_NAME *ret);

/* ---- for tpm-policy.c: sealing under a policy of its own ----------------- */

/* The SAPI context under the ESYS one (see tpm-session.h); owned by t. */
TSS2_SYS_CONTEXT *tpm_sys(Tpm *t);

/* Password authorisation with the empty authValue, for one SAPI command. */
extern const TSS2L_SYS_AUTH_COMMAND tpm_auth_password;

/* Satisfies a sealed object's policy in the policy session (a TPM handle
 * on tpm_sys(); its digest starts empty); returns 0 or an errno recorded
 * with tpm_record_*(). After a failure the caller flushes the session. */
typedef int (*TpmPolicyAssert)(Tpm *t, TPM2_HANDLE session, const void *userdata);

/* tpm_seal() with the object's authPolicy given as a digest. */
int tpm_seal_digest(Tpm *t, const TPM2B_DIGEST *auth_policy, bool no_export, const void *data, size_t len,
                    uint8_t **ret, size_t *ret_len);

/* tpm_check_policy() against an authPolicy digest. */
int tpm_check_policy_digest(Tpm *t, const TPM2B_DIGEST *want, const uint8_t *blob, size_t blob_len);

/* tpm_unseal() of an object whose authPolicy must be want (checked before
 * Load), with assert satisfying it in the policy session tpm_unseal()
 * keeps: Load, StartAuthSession (only when no session is kept), assert's
 * commands, Unseal, FlushContext. Errors as tpm_unseal() plus assert's. */
int tpm_unseal_digest(Tpm *t, const TPM2B_DIGEST *want, TpmPolicyAssert assert, const void *userdata,
                      const uint8_t *blob, size_t blob_len, uint8_t **ret, size_t *ret_len,
                      bool *ret_no_export);

/* TPM2_PolicyPCR of the PCRs of mask (sha256 bank) in a policy session,
 * one command: with digest NULL the TPM takes their current values (the
 * object's authPolicy then decides), else it checks them against digest:
 * -EBADE when they differ. */
int tpm_policy_pcr_assert(Tpm *t, TPM2_HANDLE session, uint32_t mask, const uint8_t *digest);

/* The last step of every sealed object's policy: PolicySecret of the SRK
 * with binding as policyRef. _extend updates a policy digest in place;
 * _assert asserts it in a policy session (one command). */
int tpm_policy_secret_extend(Tpm *t, uint8_t digest[32], const uint8_t binding[32]);
int tpm_policy_secret_assert(Tpm *t, TPM2_HANDLE session, const uint8_t binding[32]);

/* Whether tpm-policy.c found our APPROVAL floor index, written, at its
 * handle on this connection (false until it looks; see approval_nv_check()
 * there). */
bool *tpm_approval_nv_checked(Tpm *t);
