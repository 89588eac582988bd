/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The token parser (fixtures) and the one verifier, against signatures made
 * by the real openssl tool. */
#include <stdarg.h>
#include <stdio.h>

#include "check-main.h"
#include "endpointd/signer-roles.h"
#include "fileio.h"
#include "fixtures.h"
#include "policy.h"
#include "token.h"

static char dir[] = "/tmp/test-token-XXXXXX";

static int parse_token(const char *path, const char *data, size_t len, ParseError *e) {
        _cleanup_(token_freep) Token *t = NULL;
        return token_parse(data, len, _TOKEN_TYPE_INVALID, &t, e);
}

START_TEST(test_good_fixtures) {
        fixtures_check_good("token", parse_token);
}
END_TEST

START_TEST(test_bad_fixtures) {
        fixtures_check_bad("token", parse_token);
}
END_TEST

START_TEST(test_iso8601) {
        char buf[32];
        usec_t t;

        ck_assert_int_eq(parse_iso8601("1970-01-01T00:00:00Z", &t), 0);
        ck_assert_uint_eq(t, 0);
        ck_assert_int_eq(parse_iso8601("2026-11-23T10:00:00Z", &t), 0);
        ck_assert_uint_eq(t, 1795428000ULL * USEC_PER_SEC);
        ck_assert_str_eq(format_iso8601(buf, sizeof(buf), t), "2026-11-23T10:00:00Z");
        ck_assert_int_eq(parse_iso8601("2024-02-29T00:00:00Z", &t), 0);
        ck_assert_int_eq(parse_iso8601("2025-02-29T00:00:00Z", &t), -EINVAL);
        ck_assert_int_eq(parse_iso8601("2026-11-23T24:00:00Z", &t), -EINVAL);
        ck_assert_int_eq(parse_iso8601("2026-11-23T10:00:00", &t), -EINVAL);
        ck_assert_int_eq(parse_iso8601("2026-11-23t10:00:00Z", &t), -EINVAL);
        ck_assert_int_eq(parse_iso8601("2026-1-23T10:00:00Z", &t), -EINVAL);
        ck_assert_int_eq(parse_iso8601("+026-11-23T10:00:00Z", &t), -EINVAL);
        ck_assert_int_eq(parse_iso8601("1969-12-31T23:59:59Z", &t), -EINVAL);
}
END_TEST

START_TEST(test_type_and_times) {
        _cleanup_(freep) char *data = NULL;
        _cleanup_(token_freep) Token *t = NULL;
        ParseError e = {};
        size_t len;

        ck_assert_int_eq(read_full_file(TOP_SRCDIR "/tests/fixtures/token/good/licence.licence",
                                        TOKEN_FILE_MAX, &data, &len),
                         0);
        ck_assert_int_eq(token_parse(data, len, TOKEN_GRANT, &t, &e), -EINVAL);
        ck_assert_uint_eq(e.line, 1);
        ck_assert_int_eq(token_parse(data, len, TOKEN_LICENCE, &t, &e), 0);
        ck_assert_int_eq(t->type, TOKEN_LICENCE);
        ck_assert_uint_eq(words_length(t->features), 2);
        ck_assert(token_device_matches(t, "3f6c0a9e5b7d4c21"));
        ck_assert(!token_device_matches(t, "other"));
        ck_assert_int_eq(token_check_time(t, t->not_before - 1), -ETIME);
        ck_assert_int_eq(token_check_time(t, t->not_before), 0);
        ck_assert_int_eq(token_check_time(t, t->not_after - 1), 0);
        ck_assert_int_eq(token_check_time(t, t->not_after), -EKEYEXPIRED);
}
END_TEST

/* The tokens are valid from one day to ten days from now, inside the
 * signer certificates' 30 days from now: the certificates' validity is
 * judged at the same time as the token's. */
static usec_t not_before, not_after;

static void make_signer(const char *name, const char *eku) {
        sh("cd %s && printf 'keyUsage=critical,digitalSignature\\nextendedKeyUsage=%s\\n' > %s.ext && "
           "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=%s -keyout %s.key "
           "-out %s.csr 2>/dev/null && openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca.key "
           "-CAcreateserial "
           "-days 30 -extfile %s.ext -out %s.pem 2>/dev/null",
           dir, eku, name, name, name, name, name, name, name);
}

static void setup(void) {
        char nb[32], na[32];

        ck_assert_ptr_nonnull(mkdtemp(dir));
        not_before = (now_usec(CLOCK_REALTIME) / USEC_PER_SEC + 24 * 3600) * USEC_PER_SEC;
        not_after = not_before + 9 * 24 * 3600 * USEC_PER_SEC;
        format_iso8601(nb, sizeof(nb), not_before);
        format_iso8601(na, sizeof(na), not_after);
        sh("cd %s && mkdir trust && "
           "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=ca "
           "-keyout ca.key -out ca.pem -addext basicConstraints=critical,CA:TRUE 2>/dev/null && "
           "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=rogue "
           "-keyout rogue.key -out rogue.pem 2>/dev/null && cp ca.pem trust/",
           dir);
        make_signer("grant-signer", ENDPOINTD_EKU_GRANT_OID);
        make_signer("licence-signer", ENDPOINTD_EKU_LICENCE_OID);
        sh("cd %s && printf '[Grant]\\nId=g1\\nDevice=dev1\\nSubject=uid:5\\nRoles=service\\n"
           "NotBefore=%s\\nNotAfter=%s\\n' > grant && "
           "printf '[Licence]\\nId=l1\\nDevice=*\\nFeatures=a b\\n"
           "NotBefore=%s\\nNotAfter=%s\\n' > licence && "
           "printf '[Grant]\\nId=g1\\nDevice=dev1\\nSubject=uid:5\\nRoles=service\\n"
           "NotBefore=%s\\nNotAfter=%s\\nBad\\n' > malformed",
           dir, nb, na, nb, na, nb, na);
        /* NAME.sig by the role's own signer, NAME.as-grant by the grant
         * signer, NAME.ca by the CA's key, NAME.rogue by an untrusted one. */
        for (const char *const *f = (const char *const[]){ "grant", "licence", "malformed", NULL }; *f; f++)
                sh("cd %s && for s in %s:sig grant-signer:as-grant ca:ca rogue:rogue; do "
                   "openssl cms -sign -binary -outform DER -md sha256 -nosmimecap -in %s -signer "
                   "${s%%:*}.pem "
                   "-inkey ${s%%:*}.key -out %s.${s#*:} || exit 1; done",
                   dir, streq(*f, "licence") ? "licence-signer" : "grant-signer", *f, *f);
}

static void teardown(void) {
        sh("rm -rf %s", dir);
}

static char *slurp(const char *name, size_t *len) {
        char path[256];
        char *data = NULL;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        ck_assert_int_eq(read_full_file(path, 1024 * 1024, &data, len), 0);
        return data;
}

static int verify(const char *name, const char *sig_name, TokenType type, const char *device, usec_t now,
                  bool flip) {
        _cleanup_(trust_store_freep) TrustStore *trust = NULL;
        _cleanup_(freep) char *data = NULL, *sig = NULL;
        _cleanup_(token_freep) Token *t = NULL;
        char path[256], error[512] = "";
        size_t len, sig_len;
        int r;

        snprintf(path, sizeof(path), "%s/trust", dir);
        ck_assert_int_eq(trust_store_load(path, &trust, error, sizeof(error)), 0);
        data = slurp(name, &len);
        sig = slurp(sig_name, &sig_len);
        if (flip)
                data[len / 2] ^= 1;
        r = token_verify(trust, data, len, sig, sig_len, type, device, now, &t, error, sizeof(error));
        ck_assert_msg(r == 0 || error[0], "no message for %d", r);
        ck_assert(r < 0 || t);
        return r;
}

START_TEST(test_verify) {
        usec_t in = not_before + 24 * 3600 * USEC_PER_SEC;

        ck_assert_int_eq(verify("grant", "grant.sig", TOKEN_GRANT, "dev1", in, false), 0);
        ck_assert_int_eq(verify("licence", "licence.sig", TOKEN_LICENCE, "any", in, false), 0);
        ck_assert_int_eq(verify("licence", "licence.sig", TOKEN_LICENCE, "", in, false), 0);
        /* Signature first: an untrusted signer, a changed byte, garbage. */
        ck_assert_int_eq(verify("grant", "grant.rogue", TOKEN_GRANT, "dev1", in, false), -EKEYREJECTED);
        ck_assert_int_eq(verify("grant", "grant.sig", TOKEN_GRANT, "dev1", in, true), -EKEYREJECTED);
        ck_assert_int_eq(verify("grant", "grant", TOKEN_GRANT, "dev1", in, false), -EKEYREJECTED);
        ck_assert_int_eq(verify("grant", "licence.sig", TOKEN_GRANT, "dev1", in, false), -EKEYREJECTED);
        /* A signer of the other role, or the CA's own key. */
        ck_assert_int_eq(verify("licence", "licence.as-grant", TOKEN_LICENCE, "dev1", in, false),
                         -EKEYREJECTED);
        ck_assert_int_eq(verify("licence", "licence.sig", TOKEN_GRANT, "dev1", in, false), -EKEYREJECTED);
        ck_assert_int_eq(verify("grant", "grant.ca", TOKEN_GRANT, "dev1", in, false), -EKEYREJECTED);
        /* Then content, device, time. */
        ck_assert_int_eq(verify("malformed", "malformed.sig", TOKEN_GRANT, "dev1", in, false), -EBADMSG);
        ck_assert_int_eq(verify("licence", "licence.as-grant", TOKEN_GRANT, "dev1", in, false), -EBADMSG);
        ck_assert_int_eq(verify("grant", "grant.sig", TOKEN_GRANT, "dev2", in, false), -EXDEV);
        ck_assert_int_eq(verify("grant", "grant.sig", TOKEN_GRANT, "", in, false), -EXDEV);
        ck_assert_int_eq(verify("grant", "grant.sig", TOKEN_GRANT, "dev1", not_before - USEC_PER_SEC, false),
                         -ETIME);
        ck_assert_int_eq(verify("grant", "grant.sig", TOKEN_GRANT, "dev1", not_after, false), -EKEYEXPIRED);
        /* After the signer certificate's notAfter: refused now, but a
         * stored token (time 0) still verifies. */
        ck_assert_int_eq(verify("grant", "grant.sig", TOKEN_GRANT, "dev1",
                                not_after + 30 * 24 * 3600 * USEC_PER_SEC, false),
                         -EKEYREJECTED);
        ck_assert_int_eq(verify("grant", "grant.sig", TOKEN_GRANT, "dev1", SIGNATURE_TIME_STORED, false), 0);
        ck_assert_int_eq(verify("grant", "grant.ca", TOKEN_GRANT, "dev1", SIGNATURE_TIME_STORED, false),
                         -EKEYREJECTED);
}
END_TEST

static Suite *make_suite(void) {
        Suite *s = suite_create("token");
        TCase *tc = tcase_create("core"), *sig = tcase_create("signed");

        tcase_add_test(tc, test_good_fixtures);
        tcase_add_test(tc, test_bad_fixtures);
        tcase_add_test(tc, test_iso8601);
        tcase_add_test(tc, test_type_and_times);
        suite_add_tcase(s, tc);
        tcase_add_unchecked_fixture(sig, setup, teardown);
        tcase_add_test(sig, test_verify);
        suite_add_tcase(s, sig);
        return s;
}
