/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The CMS verifier against signatures made by the real openssl tool. */
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "check-main.h"
#include "fileio.h"
#include "fixtures.h"
#include "signature.h"

static char dir[] = "/tmp/test-signature-XXXXXX";

static void make_ca(const char *name, const char *key_opts) {
        sh("cd %s && openssl req -x509 %s -nodes -days 30 -subj '/CN=%s' -keyout %s.key -out %s.pem "
           "-addext basicConstraints=critical,CA:TRUE 2>/dev/null",
           dir, key_opts, name, name, name);
}

static void make_signer(const char *name, const char *ca, const char *key_opts) {
        sh("cd %s && openssl req -new %s -nodes -subj '/CN=%s' -keyout %s.key -out %s.csr 2>/dev/null && "
           "openssl x509 -req -in %s.csr -CA %s.pem -CAkey %s.key -CAcreateserial -days 30 -out %s.pem 2>/dev/null",
           dir, key_opts, name, name, name, name, ca, ca, name);
}

static void setup(void) {
        ck_assert_ptr_nonnull(mkdtemp(dir));
        sh("mkdir %s/trust %s/empty", dir, dir);
        make_ca("ca", "-newkey ec -pkeyopt ec_paramgen_curve:P-256");
        make_signer("ec", "ca", "-newkey ec -pkeyopt ec_paramgen_curve:P-384");
        make_signer("rsa", "ca", "-newkey rsa:2048");
        make_ca("rogue", "-newkey ec -pkeyopt ec_paramgen_curve:P-256");
        sh("cp %s/ca.pem %s/trust/manufacturer.pem", dir, dir);
        sh("printf 'serial=7\\nsome content\\n' > %s/data", dir);
        sh("printf 'serial=8\\nsome content\\n' > %s/other", dir);
        /* Ed25519 is not here: OpenSSL 3.0's cms tool cannot sign with it. */
        for (const char *const *s = (const char *const[]) { "ec", "rsa", "rogue", NULL }; *s; s++)
                sh("cd %s && openssl cms -sign -binary -outform DER -md sha256 -nosmimecap -in data -signer %s.pem "
                   "-inkey %s.key -out data.%s.sig",
                   dir, *s, *s, *s);
        sh("cd %s && openssl cms -sign -binary -outform DER -md sha384 -in data -signer ec.pem -inkey ec.key "
           "-out data.sha384.sig",
           dir);
        sh("cd %s && openssl cms -sign -binary -outform DER -md sha1 -in data -signer ec.pem -inkey ec.key "
           "-out data.sha1.sig",
           dir);
        sh("cd %s && openssl cms -sign -binary -nodetach -outform DER -in data -signer ec.pem -inkey ec.key "
           "-out data.attached.sig",
           dir);
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

static int verify(const char *data_name, const char *sig_name, char **signer, char *err, size_t err_len) {
        _cleanup_(trust_store_freep) TrustStore *t = NULL;
        _cleanup_(freep) char *data = NULL, *sig = NULL;
        char path[256];
        size_t dl, sl;

        snprintf(path, sizeof(path), "%s/trust", dir);
        ck_assert_int_eq(trust_store_load(path, &t, err, err_len), 0);
        data = slurp(data_name, &dl);
        sig = slurp(sig_name, &sl);
        return signature_verify(t, data, dl, sig, sl, signer, err, err_len);
}

START_TEST(test_good_signatures) {
        static const char *const sigs[] = { "data.ec.sig", "data.rsa.sig", "data.sha384.sig" };
        for (size_t i = 0; i < 3; i++) {
                _cleanup_(freep) char *signer = NULL;
                char err[256] = "";

                ck_assert_msg(verify("data", sigs[i], &signer, err, sizeof(err)) == 0, "%s: %s", sigs[i], err);
                ck_assert_ptr_nonnull(strstr(signer, "CN="));
        }
}
END_TEST

START_TEST(test_untrusted_signer) {
        char err[256] = "";
        ck_assert_int_eq(verify("data", "data.rogue.sig", NULL, err, sizeof(err)), -EKEYREJECTED);
        ck_assert(err[0] != 0);
}
END_TEST

START_TEST(test_other_content) {
        char err[256] = "";
        ck_assert_int_eq(verify("other", "data.ec.sig", NULL, err, sizeof(err)), -EKEYREJECTED);
}
END_TEST

START_TEST(test_weak_digest) {
        char err[256] = "";
        ck_assert_int_eq(verify("data", "data.sha1.sig", NULL, err, sizeof(err)), -EKEYREJECTED);
        ck_assert_ptr_nonnull(strstr(err, "SHA-256"));
}
END_TEST

START_TEST(test_not_detached) {
        char err[256] = "";
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
        ck_assert_int_eq(signature_verify(t, "x", 1, "not a signature", 15, NULL, err, sizeof(err)), -EBADMSG);
        ck_assert_int_eq(signature_verify(t, "x", 1, sig, sl / 2, NULL, err, sizeof(err)), -EBADMSG);
        ck_assert_int_eq(signature_verify(t, "x", 1, sig, 0, NULL, err, sizeof(err)), -EBADMSG);
        sig[sl - 5] ^= 0x01; /* inside the signature value */
        ck_assert_int_lt(signature_verify(t, "x", 1, sig, sl, NULL, err, sizeof(err)), 0);
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

static Suite *make_suite(void) {
        Suite *s = suite_create("signature");
        TCase *tc = tcase_create("core");

        tcase_add_unchecked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_good_signatures);
        tcase_add_test(tc, test_untrusted_signer);
        tcase_add_test(tc, test_other_content);
        tcase_add_test(tc, test_weak_digest);
        tcase_add_test(tc, test_not_detached);
        tcase_add_test(tc, test_garbage_and_truncated);
        tcase_add_test(tc, test_trust_dir_errors);
        suite_add_tcase(s, tc);
        return s;
}
