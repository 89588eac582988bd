/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "check-main.h"
#include "fileio.h"
#include "util.h"

START_TEST(test_timespan) {
        static const struct {
                const char *s;
                int r;
                usec_t v;
        } cases[] = {
                { "90", 0, 90 * USEC_PER_SEC },      { "90s", 0, 90 * USEC_PER_SEC },
                { "1h 30min", 0, 90 * USEC_PER_MINUTE }, { "1h30min", 0, 90 * USEC_PER_MINUTE },
                { "500ms", 0, 500 * USEC_PER_MSEC }, { "2d", 0, 2 * USEC_PER_DAY },
                { "1w", 0, 7 * USEC_PER_DAY },       { "3 min", 0, 3 * USEC_PER_MINUTE },
                { "infinity", 0, USEC_INFINITY },    { "0", 0, 0 },
                { "", -EINVAL, 0 },                  { "h", -EINVAL, 0 },
                { "1 fortnight", -EINVAL, 0 },       { "-5s", -EINVAL, 0 },
                { "1.5h", -EINVAL, 0 },              { "99999999999999999999", -ERANGE, 0 },
                { "999999999999d", -ERANGE, 0 },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                usec_t v = 0;
                ck_assert_msg(parse_timespan(cases[i].s, &v) == cases[i].r, "'%s'", cases[i].s);
                if (cases[i].r == 0)
                        ck_assert_msg(v == cases[i].v, "'%s'", cases[i].s);
        }
}
END_TEST

START_TEST(test_pcr_list) {
        uint32_t m = 0;
        char buf[80];

        ck_assert_int_eq(parse_pcr_list("7", &m), 0);
        ck_assert_uint_eq(m, 1U << 7);
        ck_assert_int_eq(parse_pcr_list("0,2-4,23", &m), 0);
        ck_assert_uint_eq(m, 1U | 4U | 8U | 16U | (1U << 23));
        ck_assert_str_eq(format_pcr_list(buf, sizeof(buf), m), "0,2,3,4,23");
        ck_assert_int_eq(parse_pcr_list("24", &m), -ERANGE);
        ck_assert_int_eq(parse_pcr_list("4-2", &m), -EINVAL);
        ck_assert_int_eq(parse_pcr_list("", &m), -EINVAL);
        ck_assert_int_eq(parse_pcr_list("1,,2", &m), -EINVAL);
        ck_assert_int_eq(parse_pcr_list("x", &m), -EINVAL);
        ck_assert_int_eq(parse_pcr_list("123456789012", &m), -ERANGE);
}
END_TEST

START_TEST(test_names) {
        ck_assert(name_is_valid("disk-key_1.v2"));
        ck_assert(!name_is_valid(""));
        ck_assert(!name_is_valid(NULL));
        ck_assert(!name_is_valid("."));
        ck_assert(!name_is_valid(".."));
        ck_assert(!name_is_valid(".hidden"));
        ck_assert(!name_is_valid("a/b"));
        ck_assert(!name_is_valid("a b"));
        ck_assert(!name_is_valid("caf\xc3\xa9"));
        ck_assert(name_is_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));  /* 64 */
        ck_assert(!name_is_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")); /* 65 */
}
END_TEST

START_TEST(test_hex) {
        _cleanup_(freep) char *h = hexmem("\x00\xab\xff", 3);
        _cleanup_(freep) void *b = NULL;
        size_t n = 0;

        ck_assert_str_eq(h, "00abff");
        ck_assert_int_eq(unhexmem("00ABff", &b, &n), 0);
        ck_assert_uint_eq(n, 3);
        ck_assert_int_eq(memcmp(b, "\x00\xab\xff", 3), 0);
        ck_assert_int_eq(unhexmem("abc", &b, &n), -EINVAL);
        ck_assert_int_eq(unhexmem("zz", &b, &n), -EINVAL);
}
END_TEST

START_TEST(test_utf8) {
        ck_assert(utf8_is_valid("plain", 5));
        ck_assert(utf8_is_valid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9));
        ck_assert(!utf8_is_valid("\xe9", 1));
        ck_assert(!utf8_is_valid("\xc0\xaf", 2));
        ck_assert(!utf8_is_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
}
END_TEST

START_TEST(test_write_file_atomic) {
        char dir[] = "/tmp/test-util-XXXXXX", path[64];
        _cleanup_(freep) char *data = NULL;
        struct stat st;
        size_t len;

        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/state", dir);
        ck_assert_int_eq(write_file_atomic(path, "old", 3, 0600), 0);
        ck_assert_int_eq(write_file_atomic(path, "new content", 11, 0640), 0);
        ck_assert_int_eq(read_full_file(path, 100, &data, &len), 0);
        ck_assert_uint_eq(len, 11);
        ck_assert_str_eq(data, "new content");
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0640);
        ck_assert_int_eq(read_full_file(path, 5, &data, &len), -EFBIG);
        /* No temporary file is left behind. */
        ck_assert_int_eq(unlink_durable(path), 0);
        ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(test_string_distance) {
        ck_assert_uint_eq(string_distance("list", "list"), 0);
        ck_assert_uint_eq(string_distance("lst", "list"), 1);
        ck_assert_uint_eq(string_distance("stauts", "status"), 1);
        ck_assert_uint_eq(string_distance("", "abc"), 3);
        ck_assert_uint_eq(string_distance("kitten", "sitting"), 3);
        ck_assert_uint_gt(string_distance("frobnicate", "create"), 2);
}
END_TEST

static Suite *make_suite(void) {
        Suite *s = suite_create("util");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_timespan);
        tcase_add_test(tc, test_pcr_list);
        tcase_add_test(tc, test_names);
        tcase_add_test(tc, test_hex);
        tcase_add_test(tc, test_utf8);
        tcase_add_test(tc, test_write_file_atomic);
        tcase_add_test(tc, test_string_distance);
        suite_add_tcase(s, tc);
        return s;
}
