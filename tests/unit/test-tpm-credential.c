/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The credential file parser (src/daemon/tpm-credential.c) on a file that
 * tpm2_makecredential -T none wrote (the fuzz corpus: an ECC P-256 EK, a
 * 32-byte secret) and on every way of breaking it. Activation against a
 * TPM is tests/integration/test-tpm-credential.sh. */
#include <string.h>

#include "check-main.h"
#include "fileio.h"
#include "tpm-credential.h"
#include "util.h"

#define GOOD TOP_SRCDIR "/tests/fuzz/corpus/credential/ecc-p256-32byte-secret.cred"

static char *good;
static size_t good_len;

static void setup(void) {
        ck_assert_int_eq(read_full_file(GOOD, 4096, &good, &good_len), 0);
}

static void teardown(void) {
        free(good);
        good = NULL;
}

/* Parses a copy of the good file with byte off set to v (off < 0: none),
 * cut to len bytes; returns the result and the reason. */
static int parse_edit(ssize_t off, uint8_t v, size_t len, const char **why) {
        uint8_t buf[TPM_CREDENTIAL_MAX + 16] = {};
        TpmCredential c;

        ck_assert_uint_le(len, sizeof(buf));
        memcpy(buf, good, MIN(len, good_len));
        if (off >= 0)
                buf[off] = v;
        *why = NULL;
        return tpm_credential_parse(buf, len, &c, why);
}

static void assert_refused(int r, const char *why, const char *want) {
        ck_assert_int_eq(r, -EBADMSG);
        ck_assert_ptr_nonnull(why);
        ck_assert_msg(strstr(why, want), "'%s' does not say '%s'", why, want);
}

/* parse_edit() must fail with a reason that says want. */
static void refused(ssize_t off, uint8_t v, size_t len, const char *want) {
        const char *why;
        int r = parse_edit(off, v, len, &why);

        assert_refused(r, why, want);
}

START_TEST(test_good) {
        TpmCredential c;
        const char *why = NULL;

        ck_assert_uint_eq(good_len, 8 + 2 + 0x44 + 2 + 0x44);
        ck_assert_int_eq(tpm_credential_parse(good, good_len, &c, &why), 0);
        ck_assert_ptr_null(why);
        ck_assert_uint_eq(c.blob.size, 0x44);
        ck_assert_uint_eq(c.secret.size, 0x44);
        ck_assert_int_eq(memcmp(c.blob.credential, good + 10, 0x44), 0);
        ck_assert_int_eq(memcmp(c.secret.secret, good + 12 + 0x44, 0x44), 0);
        /* The reason is optional. */
        ck_assert_int_eq(tpm_credential_parse(good, 3, &c, NULL), -EBADMSG);
}
END_TEST

/* Every prefix is refused, each with a reason. */
START_TEST(test_truncated) {
        const char *why;

        for (size_t len = 0; len < good_len; len++)
                ck_assert_int_eq(parse_edit(-1, 0, len, &why), -EBADMSG);
        refused(-1, 0, 0, "magic");
        refused(-1, 0, 6, "version");
        refused(-1, 0, 20, "TPM2B_ID_OBJECT");
        refused(-1, 0, good_len - 1, "TPM2B_ENCRYPTED_SECRET");
}
END_TEST

START_TEST(test_header) {
        refused(0, 0xbb, good_len, "magic");
        refused(7, 2, good_len, "version");
        refused(4, 1, good_len, "version");
        refused(-1, 0, good_len + 1, "bytes follow");
        refused(-1, 0, TPM_CREDENTIAL_MAX + 1, "too large");
}
END_TEST

/* Sizes inside the file that do not add up. */
START_TEST(test_sizes) {
        /* TPM2B_ID_OBJECT size beyond its buffer, beyond the file, shorter. */
        refused(8, 0xff, good_len, "TPM2B_ID_OBJECT");
        refused(9, 0x90, good_len, "TPM2B_ID_OBJECT");
        refused(9, 0x50, good_len, "");
        refused(9, 0x43, good_len, "");
        /* The integrity HMAC is not 32 bytes. */
        refused(11, 0x30, good_len, "SHA-256");
        refused(10, 0x01, good_len, "SHA-256");
        /* The secret: size beyond the file; point coordinates not 32. */
        refused(10 + 0x44, 0x01, good_len, "TPM2B_ENCRYPTED_SECRET");
        refused(10 + 0x44 + 3, 0x1f, good_len, "P-256");
        refused(10 + 0x44 + 2 + 34 + 1, 0x21, good_len, "P-256");
}
END_TEST

/* tpm2_makecredential writes a coordinate without its leading zero bytes
 * (about one point in 128): such a file parses and its bytes are kept;
 * an empty coordinate does not. */
START_TEST(test_short_coordinate) {
        uint8_t buf[TPM_CREDENTIAL_MAX];
        const char *why = NULL;
        TpmCredential c;
        size_t n = 10 + 0x44;

        memcpy(buf, good, n);
        buf[n] = 0x00, buf[n + 1] = 0x43;         /* the secret: one byte less */
        buf[n + 2] = 0x00, buf[n + 3] = 0x1f;     /* x: 31 bytes */
        memcpy(buf + n + 4, good + n + 5, 31);    /* x without its first byte */
        memcpy(buf + n + 35, good + n + 36, 34);  /* y.size and y */
        ck_assert_int_eq(tpm_credential_parse(buf, n + 2 + 0x43, &c, &why), 0);
        ck_assert_uint_eq(c.secret.size, 0x43);
        ck_assert_int_eq(memcmp(c.secret.secret, buf + n + 2, 0x43), 0);

        /* An empty x: the secret is then 2 + 0 + 2 + 32 bytes. */
        buf[n] = 0x00, buf[n + 1] = 0x24;
        buf[n + 2] = 0x00, buf[n + 3] = 0x00;
        memcpy(buf + n + 4, good + n + 36, 34);
        ck_assert_int_eq(tpm_credential_parse(buf, n + 2 + 0x24, &c, &why), -EBADMSG);
        ck_assert_msg(why && strstr(why, "P-256"), "%s", why ? why : "(none)");
}
END_TEST

/* A blob of only the HMAC (no encrypted credential) and a secret of an
 * RSA EK's size (256 bytes), rebuilt around the good parts. */
START_TEST(test_shapes) {
        uint8_t buf[TPM_CREDENTIAL_MAX];
        const char *why = NULL;
        TpmCredential c;
        size_t n = 0;
        int r;

        memcpy(buf, good, 8);
        buf[8] = 0, buf[9] = 34;
        memcpy(buf + 10, good + 10, 34);
        n = 10 + 34;
        memcpy(buf + n, good + 12 + 0x44 - 2, 2 + 0x44);
        n += 2 + 0x44;
        r = tpm_credential_parse(buf, n, &c, &why);
        assert_refused(r, why, "encrypted credential is empty");

        memcpy(buf, good, 10 + 0x44);
        n = 10 + 0x44;
        buf[n] = 0x01, buf[n + 1] = 0x00;
        memset(buf + n + 2, 0x5a, 256);
        n += 2 + 256;
        r = tpm_credential_parse(buf, n, &c, &why);
        assert_refused(r, why, "RSA EK");
}
END_TEST

static Suite *make_suite(void) {
        Suite *s = suite_create("tpm-credential");
        TCase *tc = tcase_create("parse");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_good);
        tcase_add_test(tc, test_truncated);
        tcase_add_test(tc, test_header);
        tcase_add_test(tc, test_sizes);
        tcase_add_test(tc, test_shapes);
        tcase_add_test(tc, test_short_coordinate);
        suite_add_tcase(s, tc);
        return s;
}
