/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one verifier of manufacturer-signed artefacts (manifests, grants,
 * licences): detached CMS SignedData in DER, as `openssl cms -sign -binary
 * -outform DER` writes it, checked against the X.509 trust anchors of the
 * trust directory. */

#include <stddef.h>

#include "macro.h"

#define SIGNATURE_MAX (256U * 1024U)

typedef struct TrustStore TrustStore;

/* Loads every "*.pem" file of dir (each may hold several certificates).
 * Returns -ENOENT when dir holds no certificate at all, -EBADMSG when a
 * file does not parse (error names it), other -errno on I/O. */
int trust_store_load(const char *dir, TrustStore **ret, char *error, size_t error_len);
TrustStore *trust_store_free(TrustStore *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(TrustStore *, trust_store_free);

/* Verifies that sig is a valid detached CMS signature over exactly data,
 * made with SHA-256 or stronger by a certificate that chains to the trust
 * store. Returns 0 when it is; -EBADMSG when sig is not CMS SignedData DER
 * at all or is larger than SIGNATURE_MAX; -EKEYREJECTED when it does not
 * verify (untrusted signer, changed content, weak digest). On success and
 * if ret_signer is non-NULL, stores the signer's subject (malloc'ed, one
 * line). error, if non-NULL, receives a sentence saying why it failed. */
int signature_verify(const TrustStore *t, const void *data, size_t len, const void *sig, size_t sig_len,
                     char **ret_signer, char *error, size_t error_len);
