/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "endpointd/signer-roles.h"
#include "fileio.h"
#include "openssl-util.h"
#include "signature.h"

/* OpenSSL's security level 2: 112 bits (RSA >= 2048, no SHA-1 signatures). */
#define AUTH_LEVEL 2
#define SECURITY_BITS_MIN 112
#define RSA_BITS_MIN 2048
/* Longer subjects are cut in messages. */
#define NAME_MAX_SHOWN 128

static const char *const signer_role_table[_SIGNER_ROLE_MAX] = {
        [SIGNER_ROLE_MANIFEST] = "manifest",
        [SIGNER_ROLE_GRANT] = "grant",
        [SIGNER_ROLE_LICENCE] = "licence",
        [SIGNER_ROLE_APPROVAL] = "approval",
};

static const struct {
        const char *name;
        const char *oid;
} signer_role_eku[_SIGNER_ROLE_MAX] = {
        [SIGNER_ROLE_MANIFEST] = { ENDPOINTD_EKU_MANIFEST_NAME, ENDPOINTD_EKU_MANIFEST_OID },
        [SIGNER_ROLE_GRANT] = { ENDPOINTD_EKU_GRANT_NAME, ENDPOINTD_EKU_GRANT_OID },
        [SIGNER_ROLE_LICENCE] = { ENDPOINTD_EKU_LICENCE_NAME, ENDPOINTD_EKU_LICENCE_OID },
        [SIGNER_ROLE_APPROVAL] = { ENDPOINTD_EKU_APPROVAL_NAME, ENDPOINTD_EKU_APPROVAL_OID },
};

const char *signer_role_to_string(SignerRole r) {
        return r >= 0 && r < _SIGNER_ROLE_MAX ? signer_role_table[r] : NULL;
}

SignerRole signer_role_from_string(const char *s) {
        for (SignerRole r = 0; s && r < _SIGNER_ROLE_MAX; r++)
                if (streq(signer_role_table[r], s))
                        return r;
        return _SIGNER_ROLE_INVALID;
}

DEFINE_CLEANUP_FUNC(X509_STORE_CTX *, X509_STORE_CTX_free, X509_STORE_CTX_freep)
DEFINE_CLEANUP_FUNC(EXTENDED_KEY_USAGE *, EXTENDED_KEY_USAGE_free, EXTENDED_KEY_USAGE_freep)
DEFINE_CLEANUP_FUNC(ASN1_OBJECT *, ASN1_OBJECT_free, ASN1_OBJECT_freep)

static void X509_sk_pop_freep(STACK_OF(X509) * *p) {
        if (*p)
                sk_X509_pop_free(*p, X509_free);
}

static void X509_sk_freep(STACK_OF(X509) * *p) {
        if (*p)
                sk_X509_free(*p);
}

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
        const char *why = NULL;
        _cleanup_(BIO_free_allp) BIO *bio = NULL;
        char ossl[256];
        unsigned n = 0;
        size_t len;
        int r;

        r = read_trusted_file(path, 1024 * 1024, &data, &len, &why);
        if (r < 0) {
                set_error(error, error_len, "%s: %s", path, r == -EPERM && why ? why : strerror(-r));
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
                        set_error(error, error_len, "%s: %s", path,
                                  openssl_errors_drain(ossl, sizeof(ossl)));
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
        const char *why = NULL;
        int n, r = 0;

        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        /* No purpose is set on the store: signature_verify() checks the
         * signer's role (key usage, extended key usage) itself, because two
         * of the roles have extended key usages OpenSSL does not know. */
        t->store = X509_STORE_new();
        if (!t->store)
                return -ENOMEM;

        n = scandir(dir, &names, NULL, alphasort);
        if (n < 0) {
                r = -errno;
                set_error(error, error_len, "%s: %s", dir, strerror(errno));
                return r;
        }
        /* Whoever may write the directory may add a trust anchor. */
        if (dir_check_trusted(dir, &why) == -EPERM) {
                for (int i = 0; i < n; i++)
                        free(names[i]);
                free(names);
                set_error(error, error_len, "%s: %s", dir, why);
                return -EPERM;
        }
        for (int i = 0; i < n; i++) {
                size_t l = strlen(names[i]->d_name);
                if (r >= 0 && l > 4 && streq(names[i]->d_name + l - 4, ".pem") &&
                    names[i]->d_name[0] != '.') {
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

/* The subject of x as "CN=...,O=..." (RFC 2253), cut to NAME_MAX_SHOWN. */
static const char *cert_name(X509 *x, char *buf, size_t len) {
        _cleanup_(BIO_free_allp) BIO *b = BIO_new(BIO_s_mem());
        int n;

        if (len == 0)
                return buf;
        buf[0] = 0;
        if (!b || X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253) < 0)
                return buf;
        n = BIO_read(b, buf, (int) MIN(len - 1, (size_t) NAME_MAX_SHOWN));
        buf[n > 0 ? n : 0] = 0;
        return buf;
}

/* An ASN1_TIME as "2026-11-23T10:00:00Z". */
static const char *asn1_time_format(const ASN1_TIME *t, char *buf, size_t len) {
        struct tm tm = {};

        if (!t || ASN1_TIME_to_tm(t, &tm) != 1 || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                (void) snprintf(buf, len, "an unreadable time");
        return buf;
}

static bool digest_is_strong(CMS_ContentInfo *cms, char *error, size_t error_len) {
        STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);

        if (!sis || sk_CMS_SignerInfo_num(sis) == 0) {
                set_error(error, error_len, "signature has no signer");
                return false;
        }
        for (int i = 0; i < sk_CMS_SignerInfo_num(sis); i++) {
                X509_ALGOR *dig = NULL;
                const ASN1_OBJECT *obj = NULL;
                int nid;

                CMS_SignerInfo_get0_algs(sk_CMS_SignerInfo_value(sis, i), NULL, NULL, &dig, NULL);
                if (!dig) {
                        set_error(error, error_len, "signature names no digest");
                        return false;
                }
                X509_ALGOR_get0(&obj, NULL, NULL, dig);
                nid = OBJ_obj2nid(obj);
                if (nid != NID_sha256 && nid != NID_sha384 && nid != NID_sha512) {
                        set_error(error, error_len,
                                  "signature uses the digest %s; only SHA-256, SHA-384 and SHA-512 are "
                                  "accepted",
                                  nid != NID_undef ? OBJ_nid2sn(nid) : "(unknown)");
                        return false;
                }
        }
        return true;
}

/* Whether x's key and x's own signature reach SECURITY_BITS_MIN, and its
 * key is of a kind we accept. On failure why gets "has ..." or "is
 * signed ...", to follow the certificate's name. */
static bool cert_is_strong(X509 *x, char *why, size_t why_len) {
        EVP_PKEY *pkey = X509_get0_pubkey(x);
        int mdnid = NID_undef, secbits = -1;
        char curve[64] = "";

        if (!pkey) {
                set_error(why, why_len, "has a public key OpenSSL cannot read");
                return false;
        }
        switch (EVP_PKEY_get_base_id(pkey)) {
        case EVP_PKEY_RSA:
        case EVP_PKEY_RSA_PSS:
                if (EVP_PKEY_get_bits(pkey) < RSA_BITS_MIN) {
                        set_error(why, why_len, "has a %d-bit RSA key (at least %d bits are needed)",
                                  EVP_PKEY_get_bits(pkey), RSA_BITS_MIN);
                        return false;
                }
                break;
        case EVP_PKEY_EC:
                if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve),
                                                   NULL) != 1) {
                        set_error(why, why_len, "has an EC key without a named curve");
                        return false;
                }
                if (!streq(curve, "prime256v1") && !streq(curve, "secp384r1") &&
                    !streq(curve, "secp521r1")) {
                        set_error(why, why_len, "has an EC key on curve %s (P-256, P-384 or P-521 only)",
                                  curve);
                        return false;
                }
                break;
        case EVP_PKEY_ED25519:
        case EVP_PKEY_ED448:
                break;
        default:
                set_error(why, why_len, "has a %s key (RSA, EC or EdDSA only)",
                          OBJ_nid2sn(EVP_PKEY_get_base_id(pkey)));
                return false;
        }
        if (EVP_PKEY_get_security_bits(pkey) < SECURITY_BITS_MIN) {
                set_error(why, why_len, "has a key of %d-bit security (at least %d)",
                          EVP_PKEY_get_security_bits(pkey), SECURITY_BITS_MIN);
                return false;
        }
        if (X509_get_signature_info(x, &mdnid, NULL, &secbits, NULL) != 1) {
                set_error(why, why_len, "is signed with an algorithm OpenSSL does not know");
                return false;
        }
        if (secbits < SECURITY_BITS_MIN) {
                set_error(why, why_len, "is signed with %s (below %d-bit security)",
                          mdnid != NID_undef ? OBJ_nid2sn(mdnid) : "a weak digest", SECURITY_BITS_MIN);
                return false;
        }
        return true;
}

/* "signer certificate 'CN=x'" or "certificate 'CN=y' in the signer's
 * chain", for messages. */
static const char *cert_label(X509 *x, bool signer, char *buf, size_t len) {
        char name[NAME_MAX_SHOWN + 1];

        (void) snprintf(buf, len,
                        signer ? "signer certificate '%s'" : "certificate '%s' in the signer's chain",
                        cert_name(x, name, sizeof(name)));
        return buf;
}

/* Turns a failed chain verification into a sentence about the certificate
 * at fault. */
static void chain_error(X509_STORE_CTX *ctx, X509 *signer, char *error, size_t error_len) {
        int err = X509_STORE_CTX_get_error(ctx);
        X509 *cur = X509_STORE_CTX_get_current_cert(ctx) ?: signer;
        char label[NAME_MAX_SHOWN + 64], why[160], when[32];

        (void) cert_label(cur, X509_cmp(cur, signer) == 0, label, sizeof(label));
        if (err == X509_V_ERR_CERT_HAS_EXPIRED)
                set_error(error, error_len, "%s expired at %s", label,
                          asn1_time_format(X509_get0_notAfter(cur), when, sizeof(when)));
        else if (err == X509_V_ERR_CERT_NOT_YET_VALID)
                set_error(error, error_len, "%s is not valid before %s", label,
                          asn1_time_format(X509_get0_notBefore(cur), when, sizeof(when)));
        else if ((err == X509_V_ERR_EE_KEY_TOO_SMALL || err == X509_V_ERR_CA_KEY_TOO_SMALL ||
                  err == X509_V_ERR_CA_MD_TOO_WEAK) &&
                 !cert_is_strong(cur, why, sizeof(why)))
                /* The security level's verdict, in our words. */
                set_error(error, error_len, "%s %s", label, why);
        else if (err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
                 err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
                 err == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
                 err == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
                 err == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE)
                set_error(error, error_len, "%s does not chain to a trust anchor (%s)", label,
                          X509_verify_cert_error_string(err));
        else
                set_error(error, error_len, "%s is not accepted: %s", label,
                          X509_verify_cert_error_string(err));
}

/* Whether signer has the extended key usage of role, by OID: two of them
 * are ours, which OpenSSL's purpose table does not know. */
static int cert_has_eku(X509 *signer, SignerRole role) {
        _cleanup_(EXTENDED_KEY_USAGE_freep) EXTENDED_KEY_USAGE *eku = NULL;
        _cleanup_(ASN1_OBJECT_freep) ASN1_OBJECT *want = NULL;

        want = OBJ_txt2obj(signer_role_eku[role].oid, 1);
        if (!want)
                return -ENOMEM;
        eku = X509_get_ext_d2i(signer, NID_ext_key_usage, NULL, NULL);
        for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku); i++)
                if (OBJ_cmp(sk_ASN1_OBJECT_value(eku, i), want) == 0)
                        return 1;
        return 0;
}

/* The signer's role: an end-entity certificate with keyUsage
 * digitalSignature and the role's extended key usage. */
static int signer_check_role(X509 *signer, SignerRole role, char *error, size_t error_len) {
        char label[NAME_MAX_SHOWN + 64];
        int r;

        (void) cert_label(signer, true, label, sizeof(label));
        if (X509_check_ca(signer) != 0) {
                set_error(error, error_len,
                          "%s is a CA certificate; artefacts must be signed by a signer certificate", label);
                return -EKEYREJECTED;
        }
        if (!(X509_get_extension_flags(signer) & EXFLAG_KUSAGE) ||
            !(X509_get_key_usage(signer) & KU_DIGITAL_SIGNATURE)) {
                set_error(error, error_len, "%s lacks key usage digitalSignature", label);
                return -EKEYREJECTED;
        }
        r = cert_has_eku(signer, role);
        if (r < 0)
                return r;
        if (r == 0) {
                set_error(error, error_len, "%s lacks extended key usage %s (%s) to sign %ss", label,
                          signer_role_eku[role].name, signer_role_eku[role].oid,
                          signer_role_to_string(role));
                return -EKEYREJECTED;
        }
        return 0;
}

/* Builds and checks signer's chain to the trust store (untrusted: the
 * certificates the signature carries), then every certificate's strength,
 * then the signer's role. */
static int signer_check(const TrustStore *t, X509 *signer, STACK_OF(X509) * untrusted, SignerRole role,
                        usec_t at, char *error, size_t error_len) {
        _cleanup_(X509_STORE_CTX_freep) X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        STACK_OF(X509) * chain;
        X509_VERIFY_PARAM *param;
        char label[NAME_MAX_SHOWN + 64], why[160];

        if (!ctx || X509_STORE_CTX_init(ctx, t->store, signer, untrusted) != 1)
                return -ENOMEM;
        param = X509_STORE_CTX_get0_param(ctx);
        X509_VERIFY_PARAM_set_auth_level(param, AUTH_LEVEL);
        if (at == SIGNATURE_TIME_STORED)
                X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_NO_CHECK_TIME);
        else
                X509_VERIFY_PARAM_set_time(param, (time_t) (at / USEC_PER_SEC));
        if (X509_verify_cert(ctx) != 1) {
                chain_error(ctx, signer, error, error_len);
                return -EKEYREJECTED;
        }
        /* Stricter than the security level: the trust anchor's own
         * signature too, and only the key types and curves we name. */
        chain = X509_STORE_CTX_get0_chain(ctx);
        for (int i = 0; i < sk_X509_num(chain); i++) {
                X509 *x = sk_X509_value(chain, i);
                if (!cert_is_strong(x, why, sizeof(why))) {
                        set_error(error, error_len, "%s %s", cert_label(x, i == 0, label, sizeof(label)),
                                  why);
                        return -EKEYREJECTED;
                }
        }
        return signer_check_role(signer, role, error, error_len);
}

int signature_verify(const TrustStore *t, SignerRole role, usec_t at, const void *data, size_t len,
                     const void *sig, size_t sig_len, char **ret_signer, char *error, size_t error_len) {
        _cleanup_(CMS_ContentInfo_freep) CMS_ContentInfo *cms = NULL;
        _cleanup_(BIO_free_allp) BIO *sig_bio = NULL, *data_bio = NULL;
        _cleanup_(X509_sk_freep) STACK_OF(X509) *signers = NULL;
        _cleanup_(X509_sk_pop_freep) STACK_OF(X509) *certs = NULL;
        char ossl[256];
        int r;

        if (role < 0 || role >= _SIGNER_ROLE_MAX)
                return -EINVAL;
        /* Whatever an earlier caller left in the queue is not our reason. */
        (void) openssl_errors_drain(ossl, sizeof(ossl));
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
                set_error(error, error_len,
                          "signature is not detached (sign with -binary, without -nodetach)");
                return -EBADMSG;
        }
        if (!digest_is_strong(cms, error, error_len))
                return -EKEYREJECTED;

        /* The signature over the content, by the certificates it names;
         * who they are and what they may sign is checked below, with our
         * own rules. */
        if (CMS_verify(cms, NULL, NULL, data_bio, NULL, CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1) {
                set_error(error, error_len, "signature does not verify: %s",
                          openssl_errors_drain(ossl, sizeof(ossl)));
                return -EKEYREJECTED;
        }
        signers = CMS_get0_signers(cms);
        certs = CMS_get1_certs(cms);
        if (!signers || sk_X509_num(signers) == 0) {
                set_error(error, error_len, "signature names no signer certificate");
                return -EKEYREJECTED;
        }
        for (int i = 0; i < sk_X509_num(signers); i++) {
                r = signer_check(t, sk_X509_value(signers, i), certs, role, at, error, error_len);
                if (r < 0) {
                        /* The reason is in error; leave the queue empty. */
                        (void) openssl_errors_drain(ossl, sizeof(ossl));
                        return r;
                }
        }
        if (ret_signer) {
                char *s = X509_NAME_oneline(X509_get_subject_name(sk_X509_value(signers, 0)), NULL, 0);
                *ret_signer = s ? strdup(s) : NULL;
                OPENSSL_free(s);
                if (!*ret_signer)
                        return -ENOMEM;
        }
        return 0;
}

int signature_signer_raw(const void *sig, size_t sig_len, EVP_PKEY **ret_key, uint8_t **ret_value,
                         size_t *ret_value_len) {
        _cleanup_(CMS_ContentInfo_freep) CMS_ContentInfo *cms = NULL;
        _cleanup_(BIO_free_allp) BIO *bio = NULL;
        _cleanup_(X509_sk_freep) STACK_OF(X509) *signers = NULL;
        STACK_OF(CMS_SignerInfo) * sis;
        CMS_SignerInfo *si;
        ASN1_OCTET_STRING *value;
        EVP_PKEY *key;
        uint8_t *copy;

        if (sig_len == 0 || sig_len > SIGNATURE_MAX)
                return -EBADMSG;
        bio = BIO_new_mem_buf(sig, (int) sig_len);
        if (!bio)
                return -ENOMEM;
        cms = d2i_CMS_bio(bio, NULL);
        if (!cms || OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed)
                return -EBADMSG;
        sis = CMS_get0_SignerInfos(cms);
        if (!sis || sk_CMS_SignerInfo_num(sis) != 1)
                return -EKEYREJECTED;
        si = sk_CMS_SignerInfo_value(sis, 0);
        /* With signed attributes the signature is over their DER, not over
         * the content's digest. */
        if (CMS_signed_get_attr_count(si) > 0)
                return -EKEYREJECTED;
        /* Fills in the signer certificate from those the signature carries. */
        if (CMS_set1_signers_certs(cms, NULL, 0) < 1)
                return -EKEYREJECTED;
        signers = CMS_get0_signers(cms);
        if (!signers || sk_X509_num(signers) != 1)
                return -EKEYREJECTED;
        key = X509_get_pubkey(sk_X509_value(signers, 0));
        value = CMS_SignerInfo_get0_signature(si);
        if (!key || !value)
                return EVP_PKEY_free(key), -EKEYREJECTED;
        copy = malloc(MAX(value->length, 1));
        if (!copy)
                return EVP_PKEY_free(key), -ENOMEM;
        memcpy(copy, value->data, (size_t) value->length);
        *ret_key = key;
        *ret_value = copy;
        *ret_value_len = (size_t) value->length;
        return 0;
}
