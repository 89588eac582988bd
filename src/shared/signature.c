/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "fileio.h"
#include "openssl-util.h"
#include "signature.h"

struct TrustStore {
        X509_STORE *store;
        unsigned n_certs;
};

TrustStore *trust_store_free(TrustStore *t) {
        if (!t)
                return NULL;
        X509_STORE_free(t->store);
        free(t);
        return NULL;
}

_printf_(3, 4) static void set_error(char *error, size_t len, const char *fmt, ...) {
        va_list ap;

        if (!error || len == 0)
                return;
        va_start(ap, fmt);
        (void) vsnprintf(error, len, fmt, ap);
        va_end(ap);
}

static int trust_store_add_file(TrustStore *t, const char *path, char *error, size_t error_len) {
        _cleanup_(freep) char *data = NULL;
        _cleanup_(BIO_free_allp) BIO *bio = NULL;
        char ossl[256];
        unsigned n = 0;
        size_t len;
        int r;

        r = read_full_file(path, 1024 * 1024, &data, &len);
        if (r < 0) {
                set_error(error, error_len, "%s: %s", path, strerror(-r));
                return r;
        }
        bio = BIO_new_mem_buf(data, (int) len);
        if (!bio)
                return -ENOMEM;
        for (;;) {
                _cleanup_(X509_freep) X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
                if (!x)
                        break;
                if (X509_STORE_add_cert(t->store, x) != 1) {
                        set_error(error, error_len, "%s: %s", path, openssl_errors_drain(ossl, sizeof(ossl)));
                        return -EBADMSG;
                }
                n++;
        }
        (void) openssl_errors_drain(ossl, sizeof(ossl)); /* the expected end-of-data error */
        if (n == 0) {
                set_error(error, error_len, "%s: %s", path, "no PEM certificate in file");
                return -EBADMSG;
        }
        t->n_certs += n;
        return 0;
}

int trust_store_load(const char *dir, TrustStore **ret, char *error, size_t error_len) {
        _cleanup_(trust_store_freep) TrustStore *t = NULL;
        struct dirent **names = NULL;
        int n, r = 0;

        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->store = X509_STORE_new();
        if (!t->store)
                return -ENOMEM;
        /* Manufacturer certificates carry code-signing or no extended key
         * usage at all; trust comes from the chain to our anchors, so the
         * S/MIME purpose check CMS applies by default does not fit. */
        if (X509_STORE_set_purpose(t->store, X509_PURPOSE_ANY) != 1)
                return -EIO;

        n = scandir(dir, &names, NULL, alphasort);
        if (n < 0) {
                r = -errno;
                set_error(error, error_len, "%s: %s", dir, strerror(errno));
                return r;
        }
        for (int i = 0; i < n; i++) {
                size_t l = strlen(names[i]->d_name);
                if (r >= 0 && l > 4 && streq(names[i]->d_name + l - 4, ".pem") && names[i]->d_name[0] != '.') {
                        _cleanup_(freep) char *p = NULL;
                        if (asprintf(&p, "%s/%s", dir, names[i]->d_name) < 0)
                                r = -ENOMEM;
                        else
                                r = trust_store_add_file(t, p, error, error_len);
                }
                free(names[i]);
        }
        free(names);
        if (r < 0)
                return r;
        if (t->n_certs == 0) {
                set_error(error, error_len, "%s: %s", dir, "no trust anchors (*.pem) found");
                return -ENOENT;
        }
        *ret = TAKE_PTR(t);
        return 0;
}

static bool digest_is_strong(CMS_ContentInfo *cms) {
        STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);

        if (!sis || sk_CMS_SignerInfo_num(sis) == 0)
                return false;
        for (int i = 0; i < sk_CMS_SignerInfo_num(sis); i++) {
                X509_ALGOR *dig = NULL;
                const ASN1_OBJECT *obj = NULL;
                int nid;

                CMS_SignerInfo_get0_algs(sk_CMS_SignerInfo_value(sis, i), NULL, NULL, &dig, NULL);
                if (!dig)
                        return false;
                X509_ALGOR_get0(&obj, NULL, NULL, dig);
                nid = OBJ_obj2nid(obj);
                if (nid != NID_sha256 && nid != NID_sha384 && nid != NID_sha512)
                        return false;
        }
        return true;
}

int signature_verify(const TrustStore *t, const void *data, size_t len, const void *sig, size_t sig_len,
                     char **ret_signer, char *error, size_t error_len) {
        _cleanup_(CMS_ContentInfo_freep) CMS_ContentInfo *cms = NULL;
        _cleanup_(BIO_free_allp) BIO *sig_bio = NULL, *data_bio = NULL;
        STACK_OF(X509) *signers = NULL;
        char ossl[256];
        int ok;

        if (sig_len == 0 || sig_len > SIGNATURE_MAX) {
                set_error(error, error_len, "signature is empty or larger than %u bytes", SIGNATURE_MAX);
                return -EBADMSG;
        }
        sig_bio = BIO_new_mem_buf(sig, (int) sig_len);
        data_bio = BIO_new_mem_buf(len > 0 ? data : "", (int) len);
        if (!sig_bio || !data_bio)
                return -ENOMEM;
        cms = d2i_CMS_bio(sig_bio, NULL);
        if (!cms || OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
                set_error(error, error_len, "signature is not a DER CMS SignedData structure%s%s",
                          cms ? "" : ": ", cms ? "" : openssl_errors_drain(ossl, sizeof(ossl)));
                return -EBADMSG;
        }
        if (!CMS_is_detached(cms)) {
                set_error(error, error_len, "signature is not detached (sign with -binary, without -nodetach)");
                return -EBADMSG;
        }
        if (!digest_is_strong(cms)) {
                set_error(error, error_len, "signature uses a digest weaker than SHA-256");
                return -EKEYREJECTED;
        }

        ok = CMS_verify(cms, NULL, t->store, data_bio, NULL, CMS_BINARY);
        if (ok != 1) {
                set_error(error, error_len, "signature does not verify: %s",
                          openssl_errors_drain(ossl, sizeof(ossl)));
                return -EKEYREJECTED;
        }
        if (ret_signer) {
                signers = CMS_get0_signers(cms);
                if (signers && sk_X509_num(signers) > 0) {
                        char *s = X509_NAME_oneline(X509_get_subject_name(sk_X509_value(signers, 0)), NULL, 0);
                        *ret_signer = s ? strdup(s) : NULL;
                        OPENSSL_free(s);
                } else
                        *ret_signer = strdup("");
                sk_X509_free(signers);
                if (!*ret_signer)
                        return -ENOMEM;
        }
        return 0;
}
