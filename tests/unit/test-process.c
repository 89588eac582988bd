/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the daemon reads about a caller's process, and when a process counts
 * as running in a system service unit. */
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check-main.h"
#include "process.h"

static bool in_unit(const char *v2, const char *v1, const char *unit) {
        ProcessInfo i = { .cgroup = (char *) v2, .cgroup_systemd = (char *) v1 };

        return process_info_in_unit(&i, unit);
}

START_TEST(test_in_unit) {
        /* Pure cgroup2, hybrid, legacy. */
        ck_assert(in_unit("/system.slice/pump.service", NULL, "pump.service"));
        ck_assert(in_unit("/system.slice/pump.service/sub", NULL, "pump.service"));
        ck_assert(in_unit("/system.slice/pump.service", "/system.slice/pump.service", "pump.service"));
        ck_assert(in_unit("/", "/system.slice/pump.service", "pump.service"));
        /* Every path systemd keeps must say so. */
        ck_assert(!in_unit("/system.slice/pump.service", "/", "pump.service"));
        ck_assert(!in_unit("/user.slice/x", "/system.slice/pump.service", "pump.service"));
        ck_assert(!in_unit("/", NULL, "pump.service"));
        ck_assert(!in_unit(NULL, NULL, "pump.service"));
        /* The whole path, not a leaf-name match nor a prefix of a name. */
        ck_assert(!in_unit("/user.slice/user-1000.slice/user@1000.service/app.slice/pump.service", NULL,
                           "pump.service"));
        ck_assert(!in_unit("/system.slice/pump.servicex", NULL, "pump.service"));
        ck_assert(!in_unit("/system.slice/xpump.service", NULL, "pump.service"));
        ck_assert(!in_unit("/../system.slice/pump.service", NULL, "pump.service"));
        ck_assert(!in_unit("/system.slice", NULL, "pump.service"));
}
END_TEST

START_TEST(test_read_self) {
        ProcessInfo i = {};

        ck_assert_int_eq(process_info_read(getpid(), &i), 0);
        ck_assert(process_info_has_uid(&i, getuid()) == (getuid() == geteuid()));
        ck_assert_int_eq(i.tracer == 0 || i.tracer > 0, 1);
        ck_assert(i.cgroup || i.cgroup_systemd);
        process_info_done(&i);
        ck_assert_int_eq(process_info_read(0, &i), -ESRCH);
        ck_assert_int_eq(process_info_read(-1, &i), -ESRCH);
}
END_TEST

/* In a child of a uid of its own (nobody, when run as root: root's /proc
 * entries belong to root whatever its dumpability): dumpable, then not. */
static int dumpable_child(void) {
        ProcessInfo i = {};
        bool before, after;

        /* Changing uids makes a process non-dumpable; make it dumpable again. */
        if ((geteuid() == 0 && setresuid(65534, 65534, 65534) < 0) || prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
                return 2;
        if (process_info_read(getpid(), &i) < 0)
                return 3;
        before = i.dumpable;
        process_info_done(&i);
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || process_info_read(getpid(), &i) < 0)
                return 4;
        after = i.dumpable;
        process_info_done(&i);
        return before && !after ? 0 : 1;
}

START_TEST(test_dumpable) {
        int status;
        pid_t pid = fork();

        ck_assert_int_ge(pid, 0);
        if (pid == 0)
                _exit(dumpable_child());
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status));
        ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

static Suite *make_suite(void) {
        Suite *s = suite_create("process");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_in_unit);
        tcase_add_test(tc, test_read_self);
        tcase_add_test(tc, test_dumpable);
        suite_add_tcase(s, tc);
        return s;
}
