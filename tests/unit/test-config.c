/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/stat.h>
#include <syslog.h>

#include "check-main.h"
#include "config.h"
#include "fixtures.h"

static int parse_config(const char *path, const char *data, size_t len, ParseError *e) {
        _cleanup_(config_freep) Config *c = NULL;
        return config_parse(path, data, len, NULL, NULL, &c, e);
}

START_TEST(test_good_fixtures) {
        fixtures_check_good("config", parse_config);
}
END_TEST

START_TEST(test_bad_fixtures) {
        fixtures_check_bad("config", parse_config);
}
END_TEST

START_TEST(test_defaults) {
        _cleanup_(config_freep) Config *c = NULL;
        ParseError e = {};

        ck_assert_int_eq(config_parse("empty", "", 0, NULL, NULL, &c, &e), 0);
        ck_assert_str_eq(c->state_dir, LOCALSTATEDIR "/lib/endpointd");
        ck_assert_str_eq(c->user, "endpointd");
        ck_assert_str_eq(c->tcti, "device:/dev/tpmrm0");
        ck_assert_uint_eq(c->pcr_mask, 1U << 7);
        ck_assert_uint_eq(c->measurement_pcr, 14);
        ck_assert_str_eq(c->root, "/");
        ck_assert_uint_eq(c->scan_interval, USEC_PER_HOUR);
        ck_assert(c->watch);
        ck_assert_int_eq(c->seccomp, SECCOMP_MODE_ENFORCE);
}
END_TEST

START_TEST(test_full_values) {
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_(freep) char *data = NULL;
        ParseError e = {};
        size_t len;

        ck_assert_int_eq(read_full_file(TOP_SRCDIR "/tests/fixtures/config/good/full.conf", CONFIG_FILE_MAX,
                                        &data, &len), 0);
        ck_assert_int_eq(config_parse("full.conf", data, len, NULL, NULL, &c, &e), 0);
        ck_assert_str_eq(c->tcti, "swtpm:host=127.0.0.1,port=2321");
        ck_assert_uint_eq(c->pcr_mask, (1U << 0) | (1U << 2) | (1U << 3) | (1U << 4) | (1U << 7));
        ck_assert_uint_eq(c->measurement_pcr, 23);
        ck_assert_uint_eq(c->key_cache_timeout, 150 * USEC_PER_SEC);
        ck_assert_str_eq(c->root, "/srv/device");
        ck_assert_uint_eq(c->scan_interval, 90 * USEC_PER_MINUTE);
        ck_assert_uint_eq(c->scan_threads, 4);
        ck_assert(!c->watch);
        ck_assert_int_eq(c->log_level, LOG_DEBUG);
        ck_assert_int_eq(c->seccomp, SECCOMP_MODE_LOG);
        ck_assert_uint_eq(c->rate_limit_burst, 50);
        ck_assert_uint_eq(c->rate_limit_per_sec, 10);
        ck_assert(c->audit);
        ck_assert_uint_eq(c->audit_checkpoint_records, 500);
        ck_assert_uint_eq(c->audit_checkpoint_interval, 2 * USEC_PER_MINUTE);
        ck_assert_uint_eq(c->audit_sync_interval, 100 * USEC_PER_MSEC);
        ck_assert_uint_eq(c->audit_max_file_size, 4U * 1024U * 1024U);
        ck_assert_uint_eq(c->audit_max_total_size, UINT64_C(1) << 30);
        ck_assert_int_eq(c->audit_allowed_calls, EVENTS_ALLOWED_ALL);
}
END_TEST

typedef struct Warnings {
        unsigned n;
        unsigned lines[8];
        char last[256];
} Warnings;

static void collect(const char *file, unsigned line, const char *message, void *userdata) {
        Warnings *w = userdata;

        if (w->n < 8)
                w->lines[w->n] = line;
        w->n++;
        snprintf(w->last, sizeof(w->last), "%s", message);
}

START_TEST(test_unknown_warns_with_line) {
        _cleanup_(config_freep) Config *c = NULL;
        const char *text = "[Daemon]\nFutureKey=1\nUser=x\n[Future]\nA=b\n";
        Warnings w = {};
        ParseError e = {};

        ck_assert_int_eq(config_parse("t.conf", text, strlen(text), collect, &w, &c, &e), 0);
        ck_assert_uint_eq(w.n, 2);
        ck_assert_uint_eq(w.lines[0], 2);
        ck_assert_uint_eq(w.lines[1], 4);
        ck_assert_str_eq(c->user, "x");
}
END_TEST

START_TEST(test_load_missing_file) {
        _cleanup_(config_freep) Config *c = NULL;
        ParseError e = {};

        ck_assert_int_eq(config_load("/nonexistent/endpointd.conf", NULL, NULL, &c, &e), -ENOENT);
        ck_assert_uint_eq(e.line, 0);
        ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_load_refuses_fifo) {
        char dir[] = "/tmp/test-config-XXXXXX", path[64];
        _cleanup_(config_freep) Config *c = NULL;
        ParseError e = {};

        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/fifo", dir);
        ck_assert_int_eq(mkfifo(path, 0600), 0);
        /* Must return at once instead of blocking on the FIFO. */
        ck_assert_int_eq(config_load(path, NULL, NULL, &c, &e), -EBADFD);
        unlink(path);
        rmdir(dir);
}
END_TEST

static Suite *make_suite(void) {
        Suite *s = suite_create("config");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_good_fixtures);
        tcase_add_test(tc, test_bad_fixtures);
        tcase_add_test(tc, test_defaults);
        tcase_add_test(tc, test_full_values);
        tcase_add_test(tc, test_unknown_warns_with_line);
        tcase_add_test(tc, test_load_missing_file);
        tcase_add_test(tc, test_load_refuses_fifo);
        suite_add_tcase(s, tc);
        return s;
}
