/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The measurement log (src/daemon/measure.c): records survive a reopen, a
 * torn last record is dropped and cut, a log of another boot is set aside. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "check-main.h"
#include "fileio.h"
#include "measure.h"

static char dir[64];

static void setup(void) {
        strcpy(dir, "/tmp/test-measure.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void) {
        char cmd[128];
        (void) snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        ck_assert_int_eq(system(cmd), 0);
}

static char *log_path(void) {
        return strjoin_alloc(dir, "/", MEASURE_LOG_FILE);
}

START_TEST(test_record_parse) {
        Measurement m;

        ck_assert_int_eq(
                measure_record_parse("1700000000000000 14 "
                                     "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff "
                                     "scan manifest=ab verdict=trusted",
                                     &m),
                0);
        ck_assert_uint_eq(m.pcr, 14);
        ck_assert_uint_eq(m.time, 1700000000000000ULL);
        ck_assert_uint_eq(m.digest[1], 0x11);
        ck_assert_str_eq(m.description, "scan manifest=ab verdict=trusted");
        free(m.description);
        ck_assert_int_eq(measure_record_parse("1 24 00 x", &m), -EBADMSG);
        ck_assert_int_eq(measure_record_parse("1 14 0011 short digest", &m), -EBADMSG);
        ck_assert_int_eq(measure_record_parse("garbage", &m), -EBADMSG);
}
END_TEST

START_TEST(test_append_reopen_torn) {
        _cleanup_(freep) char *path = log_path(), *data = NULL;
        MeasureLog *l = NULL;
        const Measurement *ms;
        uint8_t d[32];
        size_t n, len;
        int fd;

        memset(d, 0xaa, 32);
        ck_assert_int_eq(measure_log_open(dir, &l), 0);
        ck_assert_int_eq(measure_log_append(l, 14, d, "manifest serial=1 product=p version=v"), 0);
        d[0] = 0xbb;
        ck_assert_int_eq(measure_log_append(l, 14, d, "scan verdict=trusted"), 0);
        ck_assert_int_eq(measure_log_append(l, 14, d, "two\nlines"), -EINVAL);
        ck_assert_int_eq(measure_log_append(l, 24, d, "bad pcr"), -EINVAL);
        measure_log_free(l);

        /* A crash in the middle of a record leaves a line without '\n'. */
        fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, "17000 14 abcd", 13), 13);
        close(fd);

        ck_assert_int_eq(measure_log_open(dir, &l), 0);
        ms = measure_log_get(l, &n);
        ck_assert_uint_eq(n, 2);
        ck_assert_str_eq(ms[0].description, "manifest serial=1 product=p version=v");
        ck_assert_uint_eq(ms[0].digest[0], 0xaa);
        ck_assert_uint_eq(ms[1].digest[0], 0xbb);
        ck_assert_int_eq(measure_log_append(l, 14, d, "scan verdict=violated"), 0);
        measure_log_free(l);

        ck_assert_int_eq(read_full_file(path, 65536, &data, &len), 0);
        ck_assert_ptr_null(strstr(data, "abcd\n"));
        ck_assert_ptr_nonnull(strstr(data, "scan verdict=violated\n"));

        ck_assert_int_eq(measure_log_open(dir, &l), 0);
        (void) measure_log_get(l, &n);
        ck_assert_uint_eq(n, 3);
        measure_log_free(l);
}
END_TEST

START_TEST(test_other_boot) {
        _cleanup_(freep) char *path = log_path(), *old = strjoin_alloc(dir, "/", MEASURE_LOG_FILE ".old");
        const char *stale = "boot 00000000-0000-0000-0000-000000000000\n1 14 "
                            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff old\n";
        MeasureLog *l = NULL;
        struct stat st;
        size_t n;

        ck_assert_int_eq(write_file_atomic(path, stale, strlen(stale), 0600), 0);
        ck_assert_int_eq(measure_log_open(dir, &l), 0);
        (void) measure_log_get(l, &n);
        ck_assert_uint_eq(n, 0);
        ck_assert_int_eq(stat(old, &st), 0);
        ck_assert_int_eq(st.st_size, (off_t) strlen(stale));
        measure_log_free(l);
}
END_TEST

static Suite *make_suite(void) {
        Suite *s = suite_create("measure");
        TCase *tc = tcase_create("log");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_record_parse);
        tcase_add_test(tc, test_append_reopen_torn);
        tcase_add_test(tc, test_other_boot);
        suite_add_tcase(s, tc);
        return s;
}
