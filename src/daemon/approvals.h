/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Installing PCR approvals (endpointd-approval(5)) and finding the
 * manufacturer's PCR-policy key, TRUST/pcr-policy.pub (a PEM public key,
 * P-256), that secrets sealed with a signed policy are bound to. The
 * installed approval is DIR/approval with the TPM's ticket for its
 * signature in DIR/approval.ticket (see keystore_set_approval_dir()). */

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "tpm.h"

#define APPROVALS_KEY_FILE "pcr-policy.pub"

/* The PCR-policy key's TPM Name (TPM_KEY_NAME_SIZE bytes). -ENOENT no key
 * file in trust_dir, -EBADMSG not a PEM public key, -EMEDIUMTYPE not a
 * P-256 key. */
int approvals_policy_key_name(const char *trust_dir, uint8_t *ret);

/* Verifies and installs an approval: the file parses (-EBADMSG); its CMS
 * signature over the signed bytes verifies with the approval signer role
 * and without signed attributes, and the signer's key is the PCR-policy
 * key (-EKEYREJECTED); its version is not below the APPROVAL floor in
 * NV, and that floor can be read (-ESTALE). The TPM then checks the
 * signature (its ticket is kept), the files are written atomically and
 * the floor is raised to the version (a failure to raise it, e.g. without
 * the NV writer's secret, is logged, not fatal). Every failure but -ENOENT
 * (no trust anchors) and -ENOMEM says why in error, also a TPM's or the
 * disk's (the error is then theirs: -ENODEV, -EPROTO, -ENOSPC...).
 * *ret_version: its version. */
int approvals_install(Tpm *t, const char *trust_dir, const char *dir, const void *data, size_t len,
                      const void *sig, size_t sig_len, uint64_t *ret_version, char *error, size_t error_len);
