/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The manifest serial floor: it only goes up, it is on disk after a raise,
 * and a damaged record is reported, never read as 0 nor overwritten. */
#include <stdio.h>

#include "check-main.h"
#include "fileio.h"
#include "fixtures.h"
#include "serial-floor.h"

static char dir[] = "/tmp/test-serial-floor-XXXXXX";

static void setup(void) {
        ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void) {
        sh("rm -rf %s", dir);
}

static void write_floor(const char *content) {
        char path[256];

        snprintf(path, sizeof(path), "%s/%s", dir, SERIAL_FLOOR_FILE);
        ck_assert_int_eq(write_file_atomic(path, content, strlen(content), 0600), 0);
}

static char *file_content(void) {
        static char buf[64];
        char path[256], *data = NULL;
        size_t len;

        snprintf(path, sizeof(path), "%s/%s", dir, SERIAL_FLOOR_FILE);
        ck_assert_int_eq(read_full_file(path, 1024, &data, &len), 0);
        snprintf(buf, sizeof(buf), "%s", data);
        free(data);
        return buf;
}

START_TEST(test_raise_only) {
        uint64_t v = 99;

        sh("rm -f %s/%s", dir, SERIAL_FLOOR_FILE);
        ck_assert_int_eq(serial_floor_read(dir, NULL, &v), 0);
        ck_assert_uint_eq(v, 0);
        ck_assert_int_eq(serial_floor_raise(dir, NULL, 5), 1);
        ck_assert_str_eq(file_content(), "5\n");
        ck_assert_int_eq(serial_floor_read(dir, NULL, &v), 0);
        ck_assert_uint_eq(v, 5);
        /* Equal or lower: unchanged. */
        ck_assert_int_eq(serial_floor_raise(dir, NULL, 5), 0);
        ck_assert_int_eq(serial_floor_raise(dir, NULL, 3), 0);
        ck_assert_int_eq(serial_floor_raise(dir, NULL, 0), 0);
        ck_assert_str_eq(file_content(), "5\n");
        ck_assert_int_eq(serial_floor_raise(dir, NULL, 20260115123456ULL), 1);
        ck_assert_int_eq(serial_floor_read(dir, NULL, &v), 0);
        ck_assert_uint_eq(v, 20260115123456ULL);
}
END_TEST

START_TEST(test_damaged) {
        static const char *const bad[] = { "",
                                           "\n",
                                           "5",
                                           "five\n",
                                           "-1\n",
                                           "5 \n",
                                           "5\n6\n",
                                           " 5\n",
                                           "99999999999999999999999\n",
                                           "12345678901234567890123456789012345\n" };
        uint64_t v;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                write_floor(bad[i]);
                v = 42;
                ck_assert_msg(serial_floor_read(dir, NULL, &v) == -EBADMSG, "'%s' was read", bad[i]);
                ck_assert_uint_eq(v, 42);
                /* Not overwritten, not even upwards: the old value is unknown. */
                ck_assert_int_eq(serial_floor_raise(dir, NULL, 7), -EBADMSG);
                ck_assert_str_eq(file_content(), bad[i]);
        }
}
END_TEST

START_TEST(test_unwritable) {
        char sub[300];
        uint64_t v;

        if (geteuid() == 0)
                return; /* root writes anyway */
        snprintf(sub, sizeof(sub), "%s/ro", dir);
        sh("mkdir -p %s && printf '4\\n' > %s/%s && chmod 0500 %s", sub, sub, SERIAL_FLOOR_FILE, sub);
        ck_assert_int_lt(serial_floor_raise(sub, NULL, 9), 0);
        ck_assert_int_eq(serial_floor_read(sub, NULL, &v), 0);
        ck_assert_uint_eq(v, 4);
        sh("chmod 0700 %s", sub);
}
END_TEST

static Suite *make_suite(void) {
        Suite *s = suite_create("serial-floor");
        TCase *tc = tcase_create("core");

        tcase_add_unchecked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_raise_only);
        tcase_add_test(tc, test_damaged);
        tcase_add_test(tc, test_unwritable);
        suite_add_tcase(s, tc);
        return s;
}
