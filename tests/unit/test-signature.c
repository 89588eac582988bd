/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The CMS verifier against signatures made by the real openssl tool. */
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check-main.h"
#include "endpointd/signer-roles.h"
#include "fileio.h"
#include "fixtures.h"
#include "signature.h"

static char dir[] = "/tmp/test-signature-XXXXXX";

static void make_ca(const char *name, const char *key_opts) {
        sh("cd %s && openssl req -x509 %s -nodes -days 3650 -subj '/CN=%s' -keyout %s.key -out %s.pem "
           "-addext basicConstraints=critical,CA:TRUE 2>/dev/null",
           dir, key_opts, name, name, name);
}

/* A certificate issued by ca with the extensions ext ("" for none) and
 * more openssl x509 options. */
static void make_cert(const char *name, const char *ca, const char *key_opts, const char *ext,
                      const char *x509_opts) {
        sh("cd %s && printf '%s' > %s.ext && "
           "openssl req -new %s -nodes -subj '/CN=%s' -keyout %s.key -out %s.csr 2>/dev/null && "
           "openssl x509 -req -in %s.csr -CA %s.pem -CAkey %s.key -CAcreateserial -days 30 %s %s%s %s "
           "-out %s.pem 2>/dev/null",
           dir, ext, name, key_opts, name, name, name, name, ca, ca, *ext ? "-extfile" : "",
           *ext ? name : "", *ext ? ".ext" : "", x509_opts, name);
}

#define KU "keyUsage=critical,digitalSignature\\n"
#define EKU_ALL "extendedKeyUsage=codeSigning," ENDPOINTD_EKU_GRANT_OID "," ENDPOINTD_EKU_LICENCE_OID "\\n"

/* A code-signing (manifest) signer. */
static void make_signer(const char *name, const char *ca, const char *key_opts) {
        make_cert(name, ca, key_opts, KU "extendedKeyUsage=codeSigning\\n", "");
}

static void sign(const char *signer, const char *md, const char *out) {
        sh("cd %s && openssl cms -sign -binary -outform DER -md %s -nosmimecap -in data -signer %s.pem "
           "-inkey %s.key -out %s",
           dir, md, signer, signer, out);
}

static void setup(void) {
        ck_assert_ptr_nonnull(mkdtemp(dir));
        sh("mkdir %s/trust %s/empty", dir, dir);
        make_ca("ca", "-newkey ec -pkeyopt ec_paramgen_curve:P-256");
        make_signer("ec", "ca", "-newkey ec -pkeyopt ec_paramgen_curve:P-384");
        make_signer("rsa", "ca", "-newkey rsa:2048");
        make_ca("rogue", "-newkey ec -pkeyopt ec_paramgen_curve:P-256");
        make_cert("grant", "ca", "-newkey ec -pkeyopt ec_paramgen_curve:P-256",
                  KU "extendedKeyUsage=" ENDPOINTD_EKU_GRANT_OID "\\n", "");
        make_cert("licence", "ca", "-newkey ec -pkeyopt ec_paramgen_curve:P-256",
                  KU "extendedKeyUsage=" ENDPOINTD_EKU_LICENCE_OID "\\n", "");
        make_cert("noeku", "ca", "-newkey ec -pkeyopt ec_paramgen_curve:P-256", KU, "");
        make_cert("anyeku", "ca", "-newkey ec -pkeyopt ec_paramgen_curve:P-256",
                  KU "extendedKeyUsage=anyExtendedKeyUsage\\n", "");
        make_cert("noku", "ca", "-newkey ec -pkeyopt ec_paramgen_curve:P-256", EKU_ALL, "");
        make_cert("kuagree", "ca", "-newkey ec -pkeyopt ec_paramgen_curve:P-256",
                  "keyUsage=critical,keyAgreement\\n" EKU_ALL, "");
        make_cert("rsa1024", "ca", "-newkey rsa:1024", KU EKU_ALL, "");
        make_cert("p224", "ca", "-newkey ec -pkeyopt ec_paramgen_curve:P-224", KU EKU_ALL, "");
        make_cert("sha1cert", "ca", "-newkey ec -pkeyopt ec_paramgen_curve:P-256", KU EKU_ALL, "-sha1");
        make_cert("subca", "ca", "-newkey ec -pkeyopt ec_paramgen_curve:P-256",
                  "basicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign,digitalSignature\\n"
                  "extendedKeyUsage=codeSigning\\n",
                  "");
        sh("cp %s/ca.pem %s/trust/manufacturer.pem", dir, dir);
        sh("printf 'serial=7\\nsome content\\n' > %s/data", dir);
        sh("printf 'serial=8\\nsome content\\n' > %s/other", dir);
        /* Ed25519 is not here: OpenSSL 3.0's cms tool cannot sign with it. */
        for (const char *const *s = (const char *const[]){ "ec", "rsa", "rogue", NULL }; *s; s++)
                sh("cd %s && openssl cms -sign -binary -outform DER -md sha256 -nosmimecap -in data -signer "
                   "%s.pem "
                   "-inkey %s.key -out data.%s.sig",
                   dir, *s, *s, *s);
        sh("cd %s && openssl cms -sign -binary -outform DER -md sha384 -in data -signer ec.pem -inkey "
           "ec.key "
           "-out data.sha384.sig",
           dir);
        sh("cd %s && openssl cms -sign -binary -outform DER -md sha1 -in data -signer ec.pem -inkey ec.key "
           "-out data.sha1.sig",
           dir);
        sh("cd %s && openssl cms -sign -binary -nodetach -outform DER -in data -signer ec.pem -inkey ec.key "
           "-out data.attached.sig",
           dir);
        for (const char *const *s =
                     (const char *const[]){ "grant", "licence", "noeku", "anyeku", "noku", "kuagree",
                                            "rsa1024", "p224", "sha1cert", "subca", "ca", NULL };
             *s; s++) {
                char out[64];
                snprintf(out, sizeof(out), "data.%s.sig", *s);
                sign(*s, "sha256", out);
        }
}

static void teardown(void) {
        sh("rm -rf %s", dir);
}

static char *slurp(const char *name, size_t *len) {
        char path[256];
        char *data = NULL;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        ck_assert_int_eq(read_full_file(path, 1 << 20, &data, len), 0);
        return data;
}

static int verify_as(SignerRole role, usec_t at, const char *data_name, const char *sig_name, char **signer,
                     char *err, size_t err_len) {
        _cleanup_(trust_store_freep) TrustStore *t = NULL;
        _cleanup_(freep) char *data = NULL, *sig = NULL;
        char path[256];
        size_t dl, sl;

        snprintf(path, sizeof(path), "%s/trust", dir);
        ck_assert_int_eq(trust_store_load(path, &t, err, err_len), 0);
        data = slurp(data_name, &dl);
        sig = slurp(sig_name, &sl);
        return signature_verify(t, role, at, data, dl, sig, sl, signer, err, err_len);
}

static int verify(const char *data_name, const char *sig_name, char **signer, char *err, size_t err_len) {
        return verify_as(SIGNER_ROLE_MANIFEST, now_usec(CLOCK_REALTIME), data_name, sig_name, signer, err,
                         err_len);
}

/* sig_name is refused for role with -EKEYREJECTED and a message containing text. */
static void refused(SignerRole role, const char *sig_name, const char *text) {
        char err[SIGNATURE_ERROR_MAX] = "";
        int r;

        r = verify_as(role, now_usec(CLOCK_REALTIME), "data", sig_name, NULL, err, sizeof(err));
        ck_assert_msg(r == -EKEYREJECTED, "%s as %s: %d (%s)", sig_name, signer_role_to_string(role), r,
                      err);
        ck_assert_msg(strstr(err, text), "%s as %s: '%s' does not contain '%s'", sig_name,
                      signer_role_to_string(role), err, text);
}

START_TEST(test_good_signatures) {
        static const char *const sigs[] = { "data.ec.sig", "data.rsa.sig", "data.sha384.sig" };
        for (size_t i = 0; i < 3; i++) {
                _cleanup_(freep) char *signer = NULL;
                char err[SIGNATURE_ERROR_MAX] = "";

                ck_assert_msg(verify("data", sigs[i], &signer, err, sizeof(err)) == 0, "%s: %s", sigs[i],
                              err);
                ck_assert_ptr_nonnull(strstr(signer, "CN="));
        }
}
END_TEST

START_TEST(test_roles) {
        char err[SIGNATURE_ERROR_MAX] = "";
        usec_t now = now_usec(CLOCK_REALTIME);

        ck_assert_int_eq(verify_as(SIGNER_ROLE_GRANT, now, "data", "data.grant.sig", NULL, err, sizeof(err)),
                         0);
        ck_assert_int_eq(
                verify_as(SIGNER_ROLE_LICENCE, now, "data", "data.licence.sig", NULL, err, sizeof(err)), 0);
        refused(SIGNER_ROLE_GRANT, "data.ec.sig",
                "signer certificate 'CN=ec' lacks extended key usage endpointd-grant "
                "(" ENDPOINTD_EKU_GRANT_OID ")");
        refused(SIGNER_ROLE_LICENCE, "data.ec.sig",
                "lacks extended key usage endpointd-licence (" ENDPOINTD_EKU_LICENCE_OID ")");
        refused(SIGNER_ROLE_MANIFEST, "data.grant.sig", "'CN=grant' lacks extended key usage codeSigning");
        refused(SIGNER_ROLE_LICENCE, "data.grant.sig", "lacks extended key usage endpointd-licence");
        refused(SIGNER_ROLE_MANIFEST, "data.licence.sig", "lacks extended key usage codeSigning");
        refused(SIGNER_ROLE_GRANT, "data.licence.sig", "lacks extended key usage endpointd-grant");
        for (SignerRole role = 0; role < _SIGNER_ROLE_MAX; role++) {
                refused(role, "data.noeku.sig", "'CN=noeku' lacks extended key usage");
                refused(role, "data.anyeku.sig", "lacks extended key usage");
                refused(role, "data.noku.sig", "'CN=noku' lacks key usage digitalSignature");
                refused(role, "data.kuagree.sig", "lacks key usage digitalSignature");
                refused(role, "data.ca.sig", "signer certificate 'CN=ca' is a CA certificate");
                refused(role, "data.subca.sig", "'CN=subca' is a CA certificate");
        }
        ck_assert_int_eq(verify_as(_SIGNER_ROLE_MAX, now, "data", "data.ec.sig", NULL, err, sizeof(err)),
                         -EINVAL);
        ck_assert_str_eq(signer_role_to_string(SIGNER_ROLE_LICENCE), "licence");
        ck_assert_int_eq(signer_role_from_string("grant"), SIGNER_ROLE_GRANT);
        ck_assert_int_eq(signer_role_from_string("codeSigning"), _SIGNER_ROLE_INVALID);
}
END_TEST

START_TEST(test_weak_signers) {
        for (SignerRole role = 0; role < _SIGNER_ROLE_MAX; role++) {
                refused(role, "data.rsa1024.sig", "signer certificate 'CN=rsa1024' has a 1024-bit RSA key");
                refused(role, "data.p224.sig", "'CN=p224' has an EC key on curve secp224r1");
                refused(role, "data.sha1cert.sig", "signer certificate 'CN=sha1cert' is signed with SHA1");
        }
}
END_TEST

/* Validity is judged at the time given; a stored artefact skips it. */
START_TEST(test_validity_period) {
        char err[SIGNATURE_ERROR_MAX] = "";
        usec_t now = now_usec(CLOCK_REALTIME), day = 24 * 3600 * USEC_PER_SEC;

        ck_assert_int_eq(verify_as(SIGNER_ROLE_MANIFEST, now + 60 * day, "data", "data.ec.sig", NULL, err,
                                   sizeof(err)),
                         -EKEYREJECTED);
        ck_assert_msg(strstr(err, "signer certificate 'CN=ec' expired at 20"), "%s", err);
        ck_assert_int_eq(verify_as(SIGNER_ROLE_MANIFEST, now - 2 * day, "data", "data.ec.sig", NULL, err,
                                   sizeof(err)),
                         -EKEYREJECTED);
        ck_assert_msg(strstr(err, "is not valid before 20"), "%s", err);
        ck_assert_int_eq(verify_as(SIGNER_ROLE_MANIFEST, SIGNATURE_TIME_STORED, "data", "data.ec.sig", NULL,
                                   err, sizeof(err)),
                         0);
        /* Stored does not mean anything goes: the role and the chain still count. */
        ck_assert_int_eq(verify_as(SIGNER_ROLE_GRANT, SIGNATURE_TIME_STORED, "data", "data.ec.sig", NULL,
                                   err, sizeof(err)),
                         -EKEYREJECTED);
        ck_assert_int_eq(verify_as(SIGNER_ROLE_MANIFEST, SIGNATURE_TIME_STORED, "data", "data.rogue.sig",
                                   NULL, err, sizeof(err)),
                         -EKEYREJECTED);
        ck_assert_int_eq(verify_as(SIGNER_ROLE_MANIFEST, SIGNATURE_TIME_STORED, "data", "data.rsa1024.sig",
                                   NULL, err, sizeof(err)),
                         -EKEYREJECTED);
}
END_TEST

START_TEST(test_untrusted_signer) {
        char err[SIGNATURE_ERROR_MAX] = "";
        ck_assert_int_eq(verify("data", "data.rogue.sig", NULL, err, sizeof(err)), -EKEYREJECTED);
        ck_assert_msg(strstr(err, "'CN=rogue' does not chain to a trust anchor"), "%s", err);
}
END_TEST

START_TEST(test_other_content) {
        char err[SIGNATURE_ERROR_MAX] = "";
        ck_assert_int_eq(verify("other", "data.ec.sig", NULL, err, sizeof(err)), -EKEYREJECTED);
}
END_TEST

START_TEST(test_weak_digest) {
        char err[SIGNATURE_ERROR_MAX] = "";
        ck_assert_int_eq(verify("data", "data.sha1.sig", NULL, err, sizeof(err)), -EKEYREJECTED);
        ck_assert_msg(strstr(err, "digest SHA1"), "%s", err);
}
END_TEST

START_TEST(test_not_detached) {
        char err[SIGNATURE_ERROR_MAX] = "";
        ck_assert_int_eq(verify("data", "data.attached.sig", NULL, err, sizeof(err)), -EBADMSG);
}
END_TEST

START_TEST(test_garbage_and_truncated) {
        _cleanup_(trust_store_freep) TrustStore *t = NULL;
        _cleanup_(freep) char *sig = NULL;
        char path[256], err[256];
        size_t sl;

        snprintf(path, sizeof(path), "%s/trust", dir);
        ck_assert_int_eq(trust_store_load(path, &t, err, sizeof(err)), 0);
        sig = slurp("data.ec.sig", &sl);
        ck_assert_int_eq(signature_verify(t, SIGNER_ROLE_MANIFEST, SIGNATURE_TIME_STORED, "x", 1,
                                          "not a signature", 15, NULL, err, sizeof(err)),
                         -EBADMSG);
        ck_assert_int_eq(signature_verify(t, SIGNER_ROLE_MANIFEST, SIGNATURE_TIME_STORED, "x", 1, sig,
                                          sl / 2, NULL, err, sizeof(err)),
                         -EBADMSG);
        ck_assert_int_eq(signature_verify(t, SIGNER_ROLE_MANIFEST, SIGNATURE_TIME_STORED, "x", 1, sig, 0,
                                          NULL, err, sizeof(err)),
                         -EBADMSG);
        sig[sl - 5] ^= 0x01; /* inside the signature value */
        ck_assert_int_lt(signature_verify(t, SIGNER_ROLE_MANIFEST, SIGNATURE_TIME_STORED, "x", 1, sig, sl,
                                          NULL, err, sizeof(err)),
                         0);
}
END_TEST

START_TEST(test_trust_dir_errors) {
        _cleanup_(trust_store_freep) TrustStore *t = NULL;
        char path[256], err[256];

        snprintf(path, sizeof(path), "%s/empty", dir);
        ck_assert_int_eq(trust_store_load(path, &t, err, sizeof(err)), -ENOENT);
        snprintf(path, sizeof(path), "%s/missing", dir);
        ck_assert_int_eq(trust_store_load(path, &t, err, sizeof(err)), -ENOENT);
        sh("echo 'not a certificate' > %s/empty/bad.pem", dir);
        snprintf(path, sizeof(path), "%s/empty", dir);
        ck_assert_int_eq(trust_store_load(path, &t, err, sizeof(err)), -EBADMSG);
        ck_assert_ptr_nonnull(strstr(err, "bad.pem"));
}
END_TEST

/* A trust anchor anyone else could have written, or a trust directory
 * anyone else could add one to, is refused (and with it the directory). */
START_TEST(test_trust_dir_writable_by_others) {
        _cleanup_(trust_store_freep) TrustStore *t = NULL;
        char path[256], err[256] = "";

        snprintf(path, sizeof(path), "%s/trust", dir);
        ck_assert_int_eq(trust_store_load(path, &t, err, sizeof(err)), 0);
        t = trust_store_free(t);
        sh("chmod 0666 %s/trust/manufacturer.pem", dir);
        ck_assert_int_eq(trust_store_load(path, &t, err, sizeof(err)), -EPERM);
        ck_assert_msg(strstr(err, "manufacturer.pem: writable by its group or by others"), "%s", err);
        sh("chmod 0644 %s/trust/manufacturer.pem && chmod 0777 %s/trust", dir, dir);
        ck_assert_int_eq(trust_store_load(path, &t, err, sizeof(err)), -EPERM);
        ck_assert_msg(strstr(err, "trust: writable by its group or by others"), "%s", err);
        sh("chmod 0755 %s/trust", dir);
        if (geteuid() == 0) {
                sh("chown 65534 %s/trust/manufacturer.pem", dir);
                ck_assert_int_eq(trust_store_load(path, &t, err, sizeof(err)), -EPERM);
                ck_assert_msg(strstr(err, "owned by a user other than root"), "%s", err);
                sh("chown 0 %s/trust/manufacturer.pem", dir);
        }
        ck_assert_int_eq(trust_store_load(path, &t, err, sizeof(err)), 0);
}
END_TEST

static Suite *make_suite(void) {
        Suite *s = suite_create("signature");
        TCase *tc = tcase_create("core");

        tcase_add_unchecked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_good_signatures);
        tcase_add_test(tc, test_roles);
        tcase_add_test(tc, test_weak_signers);
        tcase_add_test(tc, test_validity_period);
        tcase_add_test(tc, test_untrusted_signer);
        tcase_add_test(tc, test_other_content);
        tcase_add_test(tc, test_weak_digest);
        tcase_add_test(tc, test_not_detached);
        tcase_add_test(tc, test_garbage_and_truncated);
        tcase_add_test(tc, test_trust_dir_errors);
        tcase_add_test(tc, test_trust_dir_writable_by_others);
        suite_add_tcase(s, tc);
        return s;
}
