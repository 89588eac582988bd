/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one verifier of manufacturer-signed artefacts (manifests, grants,
 * licences): detached CMS SignedData in DER, as `openssl cms -sign -binary
 * -outform DER` writes it, checked against the X.509 trust anchors of the
 * trust directory, by a signer certificate issued for that kind of
 * artefact (include/endpointd/signer-roles.h). */

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "util.h"

#define SIGNATURE_MAX (256U * 1024U)
/* Room for any message signature_verify() writes. */
#define SIGNATURE_ERROR_MAX 384U

typedef struct TrustStore TrustStore;

/* Which kind of artefact a signature is for; each needs a signer
 * certificate with keyUsage digitalSignature and the role's extended key
 * usage. */
typedef enum SignerRole {
        SIGNER_ROLE_MANIFEST, /* codeSigning */
        SIGNER_ROLE_GRANT, /* endpointd-grant */
        SIGNER_ROLE_LICENCE, /* endpointd-licence */
        SIGNER_ROLE_APPROVAL, /* endpointd-pcr-approval */
        _SIGNER_ROLE_MAX,
        _SIGNER_ROLE_INVALID = -EINVAL,
} SignerRole;

/* "manifest", "grant", "licence", "approval". */
const char *signer_role_to_string(SignerRole r) _pure_;
SignerRole signer_role_from_string(const char *s) _pure_;

/* The at argument of signature_verify() for an artefact that was verified,
 * validity period included, when it was installed and is now re-read from
 * the state directory: the signature and the chain are checked again, the
 * certificates' validity periods are not judged again. */
#define SIGNATURE_TIME_STORED ((usec_t) 0)

/* Loads every "*.pem" file of dir (each may hold several certificates).
 * Returns -ENOENT when dir holds no certificate at all, -EBADMSG when a
 * file does not parse (error names it), other -errno on I/O. */
int trust_store_load(const char *dir, TrustStore **ret, char *error, size_t error_len);
TrustStore *trust_store_free(TrustStore *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(TrustStore *, trust_store_free);

/* Verifies that sig is a valid detached CMS signature over exactly data,
 * for an artefact of kind role:
 * - every SignerInfo uses SHA-256, SHA-384 or SHA-512;
 * - every signer certificate chains to the trust store, with every
 *   certificate of the chain valid at at (CLOCK_REALTIME µs; see
 *   SIGNATURE_TIME_STORED) and of at least 112-bit security: RSA keys of
 *   2048 bits or more, EC keys on P-256, P-384 or P-521, Ed25519 or Ed448,
 *   no signature with SHA-1 or weaker, the trust anchor's included;
 * - every signer certificate is an end-entity certificate (not a CA) with
 *   keyUsage digitalSignature and the role's extended key usage
 *   (anyExtendedKeyUsage does not count).
 * Returns 0 when it is; -EBADMSG when sig is not CMS SignedData DER at all,
 * is attached or is larger than SIGNATURE_MAX; -EKEYREJECTED when it does
 * not verify (untrusted, expired or weak signer, wrong role, changed
 * content, weak digest); -ENOMEM. On success and if ret_signer is
 * non-NULL, stores the first signer's subject (malloc'ed, one line). error,
 * if non-NULL, receives a sentence saying why it failed, naming the
 * certificate and what it lacks (at most SIGNATURE_ERROR_MAX bytes). */
int signature_verify(const TrustStore *t, SignerRole role, usec_t at, const void *data, size_t len,
                     const void *sig, size_t sig_len, char **ret_signer, char *error, size_t error_len);

/* For a signature that signature_verify() accepted: the one signer's
 * public key (*ret_key, EVP_PKEY_free() it) and its raw signature value
 * (malloc'ed; for ECDSA the DER ECDSA-Sig-Value). Only for signatures
 * without signed attributes, whose value signs the content's digest
 * itself (PCR approvals, which the TPM verifies too). -EBADMSG not CMS
 * SignedData, -EKEYREJECTED not exactly one signer, or signed attributes. */
int signature_signer_raw(const void *sig, size_t sig_len, EVP_PKEY **ret_key, uint8_t **ret_value,
                         size_t *ret_value_len);
