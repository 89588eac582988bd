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

/* Error messages quote input: its control characters come out escaped. */
START_TEST(test_parse_error_escapes) {
        ParseError e = {};
        char big[600];

        ck_assert_int_eq(parse_error_set(&e, 3, EINVAL, "'%s' is bad", "a\x1b[2Jb\tc\x7f"), -EINVAL);
        ck_assert_uint_eq(e.line, 3);
        ck_assert_str_eq(e.message, "'a\\x1b[2Jb\\x09c\\x7f' is bad");
        /* Truncated, never with half an escape. */
        memset(big, '\x01', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        ck_assert_int_eq(parse_error_set(&e, 1, EINVAL, "%s", big), -EINVAL);
        ck_assert_uint_lt(strlen(e.message), sizeof(e.message));
        ck_assert_uint_eq(strlen(e.message) % 4, 0);
        ck_assert(strspn(e.message, "\\x01") == strlen(e.message));
        ck_assert_int_eq(parse_error_set(NULL, 1, -ENOENT, "x"), -ENOENT);
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

static bool fd_is_open(int fd) {
        return fcntl(fd, F_GETFD) >= 0;
}

START_TEST(test_safe_close) {
        int fd, other, number;

        /* Nothing to close: -EBADF back, errno untouched. */
        errno = EDOM;
        ck_assert_int_eq(safe_close(-EBADF), -EBADF);
        ck_assert_int_eq(safe_close(-1), -EBADF);
        ck_assert_int_eq(safe_close(-ENOMEM), -EBADF); /* a failed open kept as -errno */
        ck_assert_int_eq(errno, EDOM);

        fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        number = fd;
        errno = EDOM;
        fd = safe_close(fd);
        ck_assert_int_eq(fd, -EBADF);
        ck_assert_int_eq(errno, EDOM);

        /* The number is free again and the next open() gets it; closing
         * the reset variable once more must leave that new fd alone. */
        other = open("/dev/null", O_RDONLY | O_CLOEXEC);
        ck_assert_int_eq(other, number);
        fd = safe_close(fd);
        ck_assert(fd_is_open(other));
        other = safe_close(other);
        ck_assert(!fd_is_open(number));
}
END_TEST

START_TEST(test_closep_resets) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC), number = fd, other;

        ck_assert_int_ge(fd, 0);
        closep(&fd);
        ck_assert_int_eq(fd, -EBADF);
        ck_assert(!fd_is_open(number));
        other = open("/dev/null", O_RDONLY | O_CLOEXEC);
        ck_assert_int_eq(other, number); /* lowest free number: the one just closed */
        closep(&fd);
        closep(&fd);
        ck_assert(fd_is_open(other));

        /* At scope exit, and after TAKE_FD() nothing is closed. */
        {
                _cleanup_(closep) int scoped = open("/dev/null", O_RDONLY | O_CLOEXEC);
                number = scoped;
                ck_assert_int_ge(scoped, 0);
        }
        ck_assert(!fd_is_open(number));
        {
                _cleanup_(closep) int scoped = other;
                int taken = TAKE_FD(scoped);
                ck_assert_int_eq(taken, other);
                ck_assert_int_eq(scoped, -EBADF);
        }
        ck_assert(fd_is_open(other));
        closep(&other);
        ck_assert_int_eq(other, -EBADF);
}
END_TEST

START_TEST(test_closedirp_owns_fd) {
        int number;

        {
                _cleanup_(closep) int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                _cleanup_(closedirp) DIR *d = NULL;

                ck_assert_int_ge(fd, 0);
                number = fd;
                d = fdopendir(fd);
                ck_assert_ptr_nonnull(d);
                TAKE_FD(fd);
                ck_assert_ptr_nonnull(readdir(d));
        }
        /* closedir() closed it, once: closep() had nothing left to close. */
        ck_assert(!fd_is_open(number));
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
        tcase_add_test(tc, test_parse_error_escapes);
        tcase_add_test(tc, test_safe_close);
        tcase_add_test(tc, test_closep_resets);
        tcase_add_test(tc, test_closedirp_owns_fd);
        suite_add_tcase(s, tc);
        return s;
}
