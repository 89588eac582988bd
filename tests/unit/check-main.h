/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One main() for every Check suite: the file defines make_suite(). */

#include <check.h>
#include <stdlib.h>

static Suite *make_suite(void);

int main(void) {
        SRunner *sr = srunner_create(make_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
