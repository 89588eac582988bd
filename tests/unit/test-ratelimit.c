/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-uid token buckets and the denial-burst detector. */
#include "check-main.h"
#include "ratelimit.h"

START_TEST(test_bucket) {
        _cleanup_(ratelimit_freep) RateLimit *rl = NULL;
        usec_t t = 1000 * USEC_PER_SEC;
        bool first = false;

        ck_assert_int_eq(ratelimit_new(0, 1, &rl), -EINVAL);
        ck_assert_int_eq(ratelimit_new(5, 2, &rl), 0);
        for (int i = 0; i < 5; i++)
                ck_assert(ratelimit_take(rl, 100, t, NULL));
        ck_assert(!ratelimit_take(rl, 100, t, &first));
        ck_assert(first);
        ck_assert(!ratelimit_take(rl, 100, t, &first));
        ck_assert(!first);
        /* 2 per second: one token every 500 ms, never more than the burst. */
        ck_assert(!ratelimit_take(rl, 100, t + 499 * USEC_PER_MSEC, NULL));
        ck_assert(ratelimit_take(rl, 100, t + 500 * USEC_PER_MSEC, NULL));
        ck_assert(!ratelimit_take(rl, 100, t + 500 * USEC_PER_MSEC, NULL));
        t += 3600 * USEC_PER_SEC;
        for (int i = 0; i < 5; i++)
                ck_assert(ratelimit_take(rl, 100, t, NULL));
        ck_assert(!ratelimit_take(rl, 100, t, NULL));
}
END_TEST

START_TEST(test_flood_does_not_starve_others) {
        _cleanup_(ratelimit_freep) RateLimit *rl = NULL;
        usec_t t = 1000 * USEC_PER_SEC;
        unsigned got = 0;

        ck_assert_int_eq(ratelimit_new(10, 10, &rl), 0);
        for (int i = 0; i < 10000; i++)
                got += ratelimit_take(rl, 666, t + (usec_t) i * 10, NULL);
        ck_assert_uint_le(got, 11);
        ck_assert(ratelimit_take(rl, 1000, t + 100000, NULL));
        ck_assert(ratelimit_take(rl, 0, t + 100000, NULL));
}
END_TEST

START_TEST(test_table_is_bounded) {
        _cleanup_(ratelimit_freep) RateLimit *rl = NULL;
        usec_t t = 1000 * USEC_PER_SEC;

        ck_assert_int_eq(ratelimit_new(1, 1, &rl), 0);
        /* More uids than buckets: the oldest are reused, new uids still get in. */
        for (uid_t u = 0; u < 3 * RATELIMIT_BUCKETS_MAX; u++)
                ck_assert(ratelimit_take(rl, u, t + u, NULL));
        ck_assert(!ratelimit_take(rl, 3 * RATELIMIT_BUCKETS_MAX - 1, t + 3 * RATELIMIT_BUCKETS_MAX, NULL));
}
END_TEST

START_TEST(test_denial_burst) {
        _cleanup_(ratelimit_freep) RateLimit *rl = NULL;
        usec_t t = 1000 * USEC_PER_SEC;
        unsigned reports = 0;

        ck_assert_int_eq(ratelimit_new(5, 5, &rl), 0);
        for (unsigned i = 0; i < RATELIMIT_DENIAL_BURST - 1; i++)
                reports += ratelimit_note_denial(rl, 7, t);
        ck_assert_uint_eq(reports, 0);
        for (unsigned i = 0; i < 100; i++)
                reports += ratelimit_note_denial(rl, 7, t + i);
        ck_assert_uint_eq(reports, 1);
        ck_assert(!ratelimit_note_denial(rl, 8, t));
        /* A new window, a new report. */
        for (unsigned i = 0; i < RATELIMIT_DENIAL_BURST; i++)
                reports += ratelimit_note_denial(rl, 7, t + RATELIMIT_DENIAL_WINDOW + i);
        ck_assert_uint_eq(reports, 2);
}
END_TEST

static Suite *make_suite(void) {
        Suite *s = suite_create("ratelimit");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_bucket);
        tcase_add_test(tc, test_flood_does_not_starve_others);
        tcase_add_test(tc, test_table_is_bounded);
        tcase_add_test(tc, test_denial_burst);
        suite_add_tcase(s, tc);
        return s;
}
