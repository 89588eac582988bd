/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <openssl/pem.h>
#include <stdio.h>

#include "approval.h"
#include "approvals.h"
#include "fileio.h"
#include "log.h"
#include "openssl-util.h"
#include "signature.h"
#include "tpm-nv.h"
#include "tpm-policy.h"

static int policy_key_load(const char *trust_dir, EVP_PKEY **ret) {
        _cleanup_(freep) char *path = strjoin_alloc(trust_dir, "/", APPROVALS_KEY_FILE);
        _cleanup_(freep) char *data = NULL;
        _cleanup_(BIO_free_allp) BIO *bio = NULL;
        EVP_PKEY *key;
        size_t len;
        int r;

        if (!path)
                return -ENOMEM;
        r = read_trusted_file(path, 64 * 1024, &data, &len, NULL);
        if (r < 0)
                return r;
        bio = BIO_new_mem_buf(data, (int) len);
        if (!bio)
                return -ENOMEM;
        key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        if (!key)
                return -EBADMSG;
        *ret = key;
        return 0;
}

int approvals_policy_key_name(const char *trust_dir, uint8_t *ret) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        int r;

        r = policy_key_load(trust_dir, &key);
        if (r < 0)
                return r;
        return tpm_policy_key_name(key, ret);
}

_printf_(3, 4) static int fail(char *error, size_t len, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(error, len, fmt, ap);
        va_end(ap);
        return -EKEYREJECTED;
}

/* A step of the TPM or the disk failed: its reason for the refusal's
 * record, and the error as it was (TpmUnavailable, TpmError, NoSpace...). */
static int failed(char *error, size_t len, int r, const char *what, const char *detail) {
        (void) snprintf(error, len, "%s: %s", what, detail);
        return r;
}

static int install_files(const char *dir, const void *data, size_t len, const uint8_t *ticket,
                         size_t ticket_len) {
        _cleanup_(freep) char *path = strjoin_alloc(dir, "/", "approval");
        _cleanup_(freep) char *tpath = strjoin_alloc(dir, "/", "approval.ticket");
        int r;

        if (!path || !tpath)
                return -ENOMEM;
        /* The ticket first: an approval without its ticket is refused as
         * not approved; the other way round a new ticket of an older
         * approval would be (and the TPM would refuse it). */
        r = write_file_atomic(tpath, ticket, ticket_len, 0644);
        return r < 0 ? r : write_file_atomic(path, data, len, 0644);
}

int approvals_install(Tpm *t, const char *trust_dir, const char *dir, const void *data, size_t len,
                      const void *sig, size_t sig_len, uint64_t *ret_version, char *error, size_t error_len) {
        _cleanup_(trust_store_freep) TrustStore *ts = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL, *signer = NULL;
        _cleanup_(freep) uint8_t *value = NULL, *ticket = NULL;
        const uint8_t *signed_part = (const uint8_t *) data + APPROVAL_SIGNED_OFFSET;
        size_t value_len, ticket_len;
        uint64_t floor;
        Approval a;
        int r;

        r = approval_parse(data, len, &a);
        if (r < 0) {
                (void) snprintf(error, error_len, "not a PCR approval (endpointd-approval(5))");
                return r;
        }
        r = trust_store_load(trust_dir, &ts, error, error_len);
        if (r < 0)
                return r == -ENOMEM ? r : -EKEYREJECTED; /* as integrity.c: nothing verifies */
        r = signature_verify(ts, SIGNER_ROLE_APPROVAL, now_usec(CLOCK_REALTIME), signed_part,
                             APPROVAL_SIGNED_SIZE, sig, sig_len, NULL, error, error_len);
        if (r < 0)
                return r;
        r = signature_signer_raw(sig, sig_len, &signer, &value, &value_len);
        if (r == -EKEYREJECTED)
                return fail(error, error_len,
                            "the approval's signature has signed attributes or several signers (sign with "
                            "openssl cms -sign -noattr)");
        if (r < 0)
                return failed(error, error_len, r, "its signature cannot be read", strerror(-r));
        r = policy_key_load(trust_dir, &key);
        if (r < 0)
                return fail(error, error_len, "no PCR-policy key %s/%s (%s)", trust_dir, APPROVALS_KEY_FILE,
                            r == -EPERM ? UNTRUSTED_FILE : strerror(-r));
        if (EVP_PKEY_eq(key, signer) != 1)
                return fail(error, error_len, "the approval is not signed with the PCR-policy key %s",
                            APPROVALS_KEY_FILE);
        r = tpm_nv_floor_read(t, TPM_NV_APPROVAL, &floor);
        /* A floor that went down reads as its mark (logged at LOG_CRIT):
         * the raise below puts it back. */
        if (r == -ESTALE)
                r = 0;
        /* The TPM answered, but what is at the floor's handle is not ours
         * (another index, damaged marks): without the floor a rollback
         * cannot be ruled out, as for manifests. */
        if (r < 0 && r != -ENODEV && r != -EPROTO && r != -EBUSY && r != -ENOMEM) {
                (void) snprintf(error, error_len,
                                "the approval floor in TPM NV cannot be read (%s); see endpointd-tpm(7)",
                                tpm_last_error(t));
                return -ESTALE;
        }
        if (r < 0)
                return failed(error, error_len, r, "the TPM failed", tpm_last_error(t));
        if (a.version < floor) {
                (void) snprintf(error, error_len,
                                "approval version %" PRIu64 " is below the approval floor %" PRIu64, a.version,
                                floor);
                return -ESTALE;
        }
        r = tpm_policy_ticket(t, key, signed_part, APPROVAL_SIGNED_SIZE, value, value_len, &ticket,
                              &ticket_len);
        if (r == -EKEYREJECTED)
                return fail(error, error_len, "the TPM finds the approval's signature wrong");
        if (r < 0)
                return failed(error, error_len, r, "the TPM failed", tpm_last_error(t));
        r = install_files(dir, data, len, ticket, ticket_len);
        if (r < 0)
                return failed(error, error_len, r, "cannot store it", strerror(-r));
        /* After the files: a crash in between leaves the new approval
         * installed and the floor where it was, which the next install
         * raises. */
        r = tpm_nv_floor_raise(t, TPM_NV_APPROVAL, a.version);
        if (r < 0)
                log_warning_errno(r, "Failed to raise the approval floor in NV to %" PRIu64 ": %s",
                                  a.version, tpm_last_error(t));
        *ret_version = a.version;
        return 0;
}
