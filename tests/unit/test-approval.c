/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PCR approvals (src/shared/approval.c): the digests against values made
 * independently with openssl from the recipe in endpointd-approval(5), and
 * approval_parse() on malformed input. The Name of the APPROVAL index is
 * checked against tpm-nv.c by test-tpm. */
#include <stdio.h>
#include <string.h>

#include "approval.h"
#include "check-main.h"
#include "fileio.h"
#include "util.h"

/* Made with the openssl recipe of endpointd-approval(5) (as in
 * test-tpm-lifecycle.sh): version 1, PCR 7 = 32 zero bytes. */
static const char kat_pcr_digest[] = "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925";
static const char kat_policy[] = "b4866c1697f06557788c17f3f3957b65477a07c30d7b0d3fbbcbe5cc76ece3a9";
/* PolicyAuthorize of the key Name 000b || 32 x 0x11 and our policyRef. */
static const char kat_authorize[] = "99d5bcfd9e431c5626615728651fa88ed594cfb80e7f2eac530a7a664079e6b3";

static void hex32(const uint8_t *b, char out[65]) {
        for (size_t i = 0; i < 32; i++)
                snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void make_good(uint8_t buf[APPROVAL_FILE_SIZE]) {
        static const uint8_t values[1][32] = {};
        ck_assert_int_eq(approval_make(1, 1U << 7, values, buf), 0);
}

START_TEST(test_known_answers) {
        uint8_t buf[APPROVAL_FILE_SIZE], name[34], d[32];
        char h[65];
        Approval a;

        make_good(buf);
        ck_assert_int_eq(memcmp(buf, "EPPA\1\0\0\0\0\0\0\0\0\0\0\1\0\0\0\x80", 20), 0);
        hex32(buf + 20, h);
        ck_assert_str_eq(h, kat_pcr_digest);
        hex32(buf + 52, h);
        ck_assert_str_eq(h, kat_policy);
        ck_assert_int_eq(memcmp(buf + 84, "endpointd PCR approval v1", 25), 0);

        ck_assert_int_eq(approval_parse(buf, sizeof(buf), &a), 0);
        ck_assert_uint_eq(a.version, 1);
        ck_assert_uint_eq(a.pcr_mask, 0x80);
        ck_assert_int_eq(memcmp(a.pcr_digest, buf + 20, 32), 0);
        ck_assert_int_eq(memcmp(a.policy, buf + 52, 32), 0);

        name[0] = 0x00;
        name[1] = 0x0b;
        memset(name + 2, 0x11, 32);
        ck_assert_int_eq(approval_authorize_digest(name, sizeof(name), d), 0);
        hex32(d, h);
        ck_assert_str_eq(h, kat_authorize);
        /* A Name longer than any the TPM makes (2 + SHA-512). */
        ck_assert_int_eq(approval_authorize_digest(name, 67, d), -EINVAL);
}
END_TEST

START_TEST(test_make_limits) {
        static const uint8_t values[APPROVAL_PCR_MAX][32] = {};
        uint8_t buf[APPROVAL_FILE_SIZE], d[32];
        Approval a;

        ck_assert_int_eq(approval_make(0, 0x80, values, buf), -ERANGE);
        ck_assert_int_eq(approval_make(APPROVAL_VERSION_MAX + 1, 0x80, values, buf), -ERANGE);
        ck_assert_int_eq(approval_policy_digest(APPROVAL_VERSION_MAX + 1, 0x80, values[0], d), -ERANGE);
        ck_assert_int_eq(approval_make(1, 0, values, buf), -EINVAL);
        ck_assert_int_eq(approval_make(1, 1U << 24, values, buf), -EINVAL);
        ck_assert_int_eq(approval_policy_digest(1, 0, values[0], d), -EINVAL);
        ck_assert_int_eq(approval_policy_digest(1, 1U << 24, values[0], d), -EINVAL);
        /* Every PCR of the bank, the highest version. */
        ck_assert_int_eq(approval_make(APPROVAL_VERSION_MAX, 0xFFFFFF, values, buf), 0);
        ck_assert_int_eq(approval_parse(buf, sizeof(buf), &a), 0);
        ck_assert_uint_eq(a.version, APPROVAL_VERSION_MAX);
        ck_assert_uint_eq(a.pcr_mask, 0xFFFFFF);
}
END_TEST

/* The thermometer code of the APPROVAL floor: the top v bits. */
START_TEST(test_floor_code) {
        bool exact;

        ck_assert_uint_eq(approval_floor_encode(0), 0);
        ck_assert_uint_eq(approval_floor_encode(1), UINT64_C(0x8000000000000000));
        ck_assert_uint_eq(approval_floor_encode(2), UINT64_C(0xC000000000000000));
        ck_assert_uint_eq(approval_floor_encode(63), UINT64_C(0xFFFFFFFFFFFFFFFE));
        ck_assert_uint_eq(approval_floor_encode(64), UINT64_MAX);
        for (uint64_t a = 0; a <= APPROVAL_VERSION_MAX; a++) {
                ck_assert_uint_eq(approval_floor_decode(approval_floor_encode(a), &exact), a);
                ck_assert(exact);
                for (uint64_t b = 0; b <= APPROVAL_VERSION_MAX; b++) {
                        /* OR is max, and the unsigned order is the order. */
                        ck_assert_uint_eq(approval_floor_encode(a) | approval_floor_encode(b),
                                          approval_floor_encode(a > b ? a : b));
                        ck_assert_int_eq(approval_floor_encode(a) <= approval_floor_encode(b), a <= b);
                }
        }
        /* Other bits: the level of the deepest one. */
        ck_assert_uint_eq(approval_floor_decode(1, &exact), 64);
        ck_assert(!exact);
        ck_assert_uint_eq(approval_floor_decode(UINT64_C(0xA000000000000000), &exact), 3);
        ck_assert(!exact);
}
END_TEST

/* The fuzzer's seeds are made with the openssl recipe too (one of them over
 * three PCRs, 0, 2 and 7 holding 0xaa.., 0xbb.., 0xcc..): they parse. */
START_TEST(test_corpus) {
        static const struct {
                const char *name;
                uint64_t version;
                uint32_t mask;
        } seeds[] = {
                { "v1-pcr7.approval", 1, 0x80 },
                { "v7-pcr0-2-7.approval", 7, 0x85 },
        };
        static const uint8_t values[3][32] = {
                { [0 ... 31] = 0xaa },
                { [0 ... 31] = 0xbb },
                { [0 ... 31] = 0xcc },
        };
        uint8_t made[APPROVAL_FILE_SIZE];

        for (size_t i = 0; i < ELEMENTSOF(seeds); i++) {
                _cleanup_(freep) char *data = NULL;
                char path[4096];
                size_t len;
                Approval a;

                snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/approval/%s", TOP_SRCDIR, seeds[i].name);
                ck_assert_int_eq(read_full_file(path, 4096, &data, &len), 0);
                ck_assert_int_eq(approval_parse(data, len, &a), 0);
                ck_assert_uint_eq(a.version, seeds[i].version);
                ck_assert_uint_eq(a.pcr_mask, seeds[i].mask);
        }
        ck_assert_int_eq(approval_make(7, 0x85, values, made), 0);
        {
                _cleanup_(freep) char *data = NULL;
                size_t len;

                ck_assert_int_eq(read_full_file(TOP_SRCDIR
                                                "/tests/fuzz/corpus/approval/v7-pcr0-2-7.approval",
                                                4096, &data, &len),
                                 0);
                ck_assert_uint_eq(len, sizeof(made));
                ck_assert_int_eq(memcmp(data, made, sizeof(made)), 0);
        }
}
END_TEST

/* One malformed variant of a good approval: the bytes at off get value. */
typedef struct Mutation {
        const char *what;
        size_t off;
        uint8_t value;
} Mutation;

START_TEST(test_malformed) {
        static const Mutation mutations[] = {
                { "magic", 0, 'e' },
                { "magic, last byte", 3, 'B' },
                { "format 0", 4, 0 },
                { "format 2", 4, 2 },
                { "reserved byte 5", 5, 1 },
                { "reserved byte 7", 7, 0x80 },
                { "version (bound by the policy)", 15, 2 },
                { "version high byte", 8, 1 },
                { "PCR mask beyond PCR 23", 16, 1 },
                { "PCR mask to another PCR", 19, 0x40 },
                { "PCR digest", 20, 0x67 },
                { "PCR digest, last byte", 51, 0 },
                { "approved policy", 52, 0 },
                { "approved policy, last byte", 83, 0 },
                { "policyRef", 84, 'E' },
                { "policyRef, last byte", 108, '2' },
        };
        uint8_t good[APPROVAL_FILE_SIZE], buf[APPROVAL_FILE_SIZE + 1];
        Approval a = { .version = 42 };

        make_good(good);
        for (size_t i = 0; i < ELEMENTSOF(mutations); i++) {
                memcpy(buf, good, sizeof(good));
                ck_assert_uint_ne(buf[mutations[i].off], mutations[i].value);
                buf[mutations[i].off] = mutations[i].value;
                ck_assert_msg(approval_parse(buf, sizeof(good), &a) == -EBADMSG, "accepted: %s",
                              mutations[i].what);
        }

        /* Truncated at every length, and one trailing byte. */
        for (size_t n = 0; n < sizeof(good); n++)
                ck_assert_msg(approval_parse(good, n, &a) == -EBADMSG, "accepted %zu bytes", n);
        memcpy(buf, good, sizeof(good));
        buf[sizeof(good)] = 0;
        ck_assert_int_eq(approval_parse(buf, sizeof(good) + 1, &a), -EBADMSG);
        ck_assert_int_eq(approval_parse(NULL, 0, &a), -EBADMSG);

        /* Version 0 or 65 and mask 0 are refused (no policy digest is made
         * for such versions: approval_policy_digest refuses them). */
        memcpy(buf, good, sizeof(good));
        memset(buf + 8, 0, 8);
        ck_assert_int_eq(approval_parse(buf, sizeof(good), &a), -EBADMSG);
        memcpy(buf, good, sizeof(good));
        buf[15] = APPROVAL_VERSION_MAX + 1;
        ck_assert_int_eq(approval_parse(buf, sizeof(good), &a), -EBADMSG);
        memcpy(buf, good, sizeof(good));
        memset(buf + 16, 0, 4);
        ck_assert_int_eq(approval_parse(buf, sizeof(good), &a), -EBADMSG);

        /* A refusal leaves the output alone. */
        ck_assert_uint_eq(a.version, 42);
}
END_TEST

static Suite *make_suite(void) {
        Suite *s = suite_create("approval");
        TCase *tc = tcase_create("approval");

        tcase_add_test(tc, test_known_answers);
        tcase_add_test(tc, test_make_limits);
        tcase_add_test(tc, test_floor_code);
        tcase_add_test(tc, test_corpus);
        tcase_add_test(tc, test_malformed);
        suite_add_tcase(s, tc);
        return s;
}
