/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The policy parser (fixtures) and the decisions made with it. */
#include <sys/stat.h>
#include <unistd.h>

#include "check-main.h"
#include "fixtures.h"
#include "policy.h"

static int parse_policy(const char *path, const char *data, size_t len, ParseError *e) {
        _cleanup_(policy_freep) Policy *p = NULL;
        return policy_parse(path, data, len, NULL, NULL, &p, e);
}

START_TEST(test_good_fixtures) {
        fixtures_check_good("policy", parse_policy);
}
END_TEST

START_TEST(test_bad_fixtures) {
        fixtures_check_bad("policy", parse_policy);
}
END_TEST

START_TEST(test_permission_syntax) {
        ck_assert(policy_permission_is_valid("status.read", false));
        ck_assert(policy_permission_is_valid("keys.use:k1", false));
        ck_assert(policy_permission_is_valid("a", false));
        ck_assert(!policy_permission_is_valid("*", false));
        ck_assert(policy_permission_is_valid("*", true));
        ck_assert(policy_permission_is_valid("keys.*", true));
        ck_assert(policy_permission_is_valid("keys.use:*", true));
        ck_assert(!policy_permission_is_valid("keys.use:*", false));
        ck_assert(!policy_permission_is_valid("keys.", true));
        ck_assert(!policy_permission_is_valid(".keys", true));
        ck_assert(!policy_permission_is_valid("keys..use", true));
        ck_assert(!policy_permission_is_valid("keys.use:", true));
        ck_assert(!policy_permission_is_valid("keys.use:a:b", true));
        ck_assert(!policy_permission_is_valid("keys.use:.x", true));
        ck_assert(!policy_permission_is_valid("Keys.use", true));
        ck_assert(!policy_permission_is_valid("*.read", true));
        ck_assert(!policy_permission_is_valid("", true));
}
END_TEST

START_TEST(test_permission_match) {
        ck_assert(policy_permission_match("*", "keys.use:k1"));
        ck_assert(policy_permission_match("keys.*", "keys.use:k1"));
        ck_assert(policy_permission_match("keys.*", "keys.create"));
        ck_assert(!policy_permission_match("keys.*", "keysx.create"));
        ck_assert(!policy_permission_match("keys.*", "status.read"));
        ck_assert(policy_permission_match("keys.use:*", "keys.use:k1"));
        ck_assert(!policy_permission_match("keys.use:*", "keys.use"));
        ck_assert(!policy_permission_match("keys.use:*", "keys.unseal:k1"));
        ck_assert(policy_permission_match("keys.use:k1", "keys.use:k1"));
        ck_assert(!policy_permission_match("keys.use:k1", "keys.use:k2"));
        ck_assert(!policy_permission_match("keys.use:k1", "keys.use:k10"));
        /* A permission without an object does not cover its objects. */
        ck_assert(!policy_permission_match("keys.use", "keys.use:k1"));
        ck_assert(!policy_permission_match("status.read", "status.readx"));
}
END_TEST

static const char test_policy[] =
        "[Role]\nName=viewer\nPermissions=status.read\n"
        "[Role]\nName=pump\nPermissions=keys.use:infusion\n"
        "[Role]\nName=svc\nPermissions=integrity.*\n"
        "[Subject]\nUID=1000\nRoles=viewer\n"
        "[Subject]\nGID=50\nRoles=svc\n"
        "[Subject]\nUID=998\nRoles=viewer\n"
        "[Subject]\nUID=998\nRoles=pump\nUnit=pump.service\nExecutable=/usr/bin/pump-ui\n";

static int exe_ok(const char *unit, const char *path, void *userdata) {
        (*(unsigned *) userdata)++;
        return streq(unit, "pump.service") && streq_ptr(path, "/usr/bin/pump-ui") ? 0 : -EPERM;
}

static int exe_bad(const char *unit, const char *path, void *userdata) {
        (*(unsigned *) userdata)++;
        return -EKEYREJECTED;
}

START_TEST(test_decisions) {
        _cleanup_(policy_freep) Policy *p = NULL;
        gid_t supp[] = { 7, 50 };
        PolicyCaller user = { .uid = 998, .gid = 998 };
        PolicyCaller other = { .uid = 1001, .gid = 1001 };
        PolicyCaller grouped = { .uid = 1002, .gid = 1002, .gids = supp, .n_gids = 2 };
        PolicyCaller primary = { .uid = 1003, .gid = 50 };
        unsigned calls = 0;
        char reason[256];
        ParseError e = {};

        ck_assert_int_eq(policy_parse("t", test_policy, strlen(test_policy), NULL, NULL, &p, &e), 0);
        ck_assert(policy_check(p, &user, "status.read", NULL, NULL, reason, sizeof(reason)));
        ck_assert_ptr_nonnull(strstr(reason, "viewer"));
        ck_assert(!policy_check(p, &other, "status.read", NULL, NULL, reason, sizeof(reason)));
        ck_assert_ptr_nonnull(strstr(reason, "no role"));
        ck_assert(policy_check(p, &grouped, "integrity.scan", NULL, NULL, NULL, 0));
        ck_assert(policy_check(p, &primary, "integrity.install", NULL, NULL, NULL, 0));
        ck_assert(!policy_check(p, &primary, "status.read", NULL, NULL, NULL, 0));

        /* The unit binding: consulted only when needed, and only a match counts. */
        ck_assert(!policy_check(p, &user, "keys.use:infusion", NULL, NULL, NULL, 0));
        ck_assert(policy_check(p, &user, "keys.use:infusion", exe_ok, &calls, reason, sizeof(reason)));
        ck_assert_uint_eq(calls, 1);
        ck_assert_ptr_nonnull(strstr(reason, "in pump.service running /usr/bin/pump-ui"));
        ck_assert(!policy_check(p, &user, "keys.use:infusion", exe_bad, &calls, reason, sizeof(reason)));
        ck_assert_ptr_nonnull(strstr(reason, "only in pump.service"));
        ck_assert(!policy_check(p, &user, "keys.use:other", exe_ok, &calls, NULL, 0));
        calls = 0;
        ck_assert(policy_check(p, &user, "status.read", exe_bad, &calls, NULL, 0));
        ck_assert_uint_eq(calls, 0);

        ck_assert(policy_has_role(p, "svc"));
        ck_assert(!policy_has_role(p, "nope"));
        ck_assert(policy_role_allows(p, "svc", "integrity.read"));
        ck_assert(!policy_role_allows(p, "svc", "keys.create"));
        ck_assert(!policy_role_allows(p, "nope", "keys.create"));
}
END_TEST

/* Unit= promises only what it holds: a system user, named by uid or user,
 * and a service unit name; Executable= only with it. */
START_TEST(test_unit_bindings) {
        static const char *const bad[] = {
                "[Role]\nName=a\nPermissions=*\n[Subject]\nUID=5\nRoles=a\nExecutable=/usr/bin/x\n",
                "[Role]\nName=a\nPermissions=*\n[Subject]\nUID=1000\nRoles=a\nUnit=pump.service\n",
                "[Role]\nName=a\nPermissions=*\n[Subject]\nUID=0\nRoles=a\nUnit=pump.service\n",
                "[Role]\nName=a\nPermissions=*\n[Subject]\nGID=5\nRoles=a\nUnit=pump.service\n",
                "[Role]\nName=a\nPermissions=*\n[Subject]\nUID=5\nRoles=a\nUnit=pump\n",
                "[Role]\nName=a\nPermissions=*\n[Subject]\nUID=5\nRoles=a\nUnit=a/pump.service\n",
                "[Role]\nName=a\nPermissions=*\n[Subject]\nUID=5\nRoles=a\nUnit=pump@.service\n",
        };
        static const char good[] = "[Role]\nName=a\nPermissions=*\n[Subject]\nUser=daemon\nRoles=a\n"
                                   "Unit=pump@1.service\nExecutable=/usr/bin/x\n";

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(policy_freep) Policy *p = NULL;
                ParseError e = {};

                ck_assert_int_eq(policy_parse("t", bad[i], strlen(bad[i]), NULL, NULL, &p, &e), -EINVAL);
                ck_assert_uint_ge(e.line, 4);
        }
        {
                _cleanup_(policy_freep) Policy *p = NULL;
                _cleanup_(freep) char *text = NULL;
                ParseError e = {};

                ck_assert_int_eq(policy_parse("t", good, strlen(good), NULL, NULL, &p, &e), 0);
                text = policy_format(p);
                ck_assert_ptr_nonnull(strstr(text, "Unit=pump@1.service\nExecutable=/usr/bin/x\n"));
        }
        ck_assert(policy_unit_name_is_valid("a.service"));
        ck_assert(!policy_unit_name_is_valid(".service"));
        ck_assert(!policy_unit_name_is_valid("a.socket"));
}
END_TEST

START_TEST(test_empty_policy_denies) {
        _cleanup_(policy_freep) Policy *p = NULL;
        PolicyCaller root = { .uid = 0, .gid = 0 };
        ParseError e = {};

        ck_assert_int_eq(policy_parse("t", "", 0, NULL, NULL, &p, &e), 0);
        ck_assert(!policy_check(p, &root, "status.read", NULL, NULL, NULL, 0));
}
END_TEST

START_TEST(test_subjects) {
        PolicySubject s = {};
        PolicyCaller root = { .uid = 0, .gid = 0 };

        ck_assert_int_eq(policy_subject_parse("user:root", &s), 0);
        ck_assert(s.resolved);
        ck_assert(policy_subject_match(&s, &root));
        ck_assert_str_eq(s.name, "user:root");
        policy_subject_done(&s);
        ck_assert_int_eq(policy_subject_parse("group:root", &s), 0);
        ck_assert(policy_subject_match(&s, &root));
        policy_subject_done(&s);
        ck_assert_int_eq(policy_subject_parse("user:no-such-user-here", &s), 0);
        ck_assert(!s.resolved);
        ck_assert(!policy_subject_match(&s, &root));
        policy_subject_done(&s);
        ck_assert_int_eq(policy_subject_parse("uid:x", &s), -EINVAL);
        ck_assert_int_eq(policy_subject_parse("root", &s), -EINVAL);
        ck_assert_int_eq(policy_subject_parse("person:root", &s), -EINVAL);
        ck_assert_int_eq(policy_subject_parse("gid:4294967295", &s), -EINVAL);
}
END_TEST

START_TEST(test_format_round_trip) {
        _cleanup_(policy_freep) Policy *p = NULL, *q = NULL;
        _cleanup_(freep) char *a = NULL, *b = NULL;
        ParseError e = {};

        ck_assert_int_eq(policy_parse("t", test_policy, strlen(test_policy), NULL, NULL, &p, &e), 0);
        a = policy_format(p);
        ck_assert_ptr_nonnull(a);
        ck_assert_int_eq(policy_parse("t", a, strlen(a), NULL, NULL, &q, &e), 0);
        b = policy_format(q);
        ck_assert_str_eq(a, b);
}
END_TEST

static void count_warning(const char *file, unsigned line, const char *message, void *userdata) {
        *(unsigned *) userdata = line;
}

/* A policy file someone other than root could have written is refused. */
START_TEST(test_load_refuses_writable_by_others) {
        char path[] = "/tmp/test-policy-XXXXXX";
        const char *text = "[Role]\nName=viewer\nPermissions=status.read\n";
        Policy *p = NULL;
        ParseError e = {};
        int fd = mkstemp(path);

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        ck_assert_int_eq(close(fd), 0);
        ck_assert_int_eq(chmod(path, 0644), 0);
        ck_assert_int_eq(policy_load(path, NULL, NULL, &p, &e), 0);
        p = policy_free(p);
        ck_assert_int_eq(chmod(path, 0622), 0);
        ck_assert_int_eq(policy_load(path, NULL, NULL, &p, &e), -EPERM);
        ck_assert_ptr_null(p);
        ck_assert_msg(strstr(e.message, "refused: writable by its group or by others"), "%s", e.message);
        ck_assert_int_eq(unlink(path), 0);
}
END_TEST

START_TEST(test_unknown_user_warns) {
        _cleanup_(policy_freep) Policy *p = NULL;
        const char *text = "[Role]\nName=a\nPermissions=*\n\n[Subject]\nUser=no-such-user-here\nRoles=a\n";
        unsigned line = 0;
        ParseError e = {};

        ck_assert_int_eq(policy_parse("t", text, strlen(text), count_warning, &line, &p, &e), 0);
        ck_assert_uint_eq(line, 5);
}
END_TEST

START_TEST(test_words) {
        _cleanup_(words_freep) char **l = NULL;
        _cleanup_(freep) char *j = NULL;

        ck_assert_int_eq(words_split("  a \tbb  c ", &l), 0);
        ck_assert_uint_eq(words_length(l), 3);
        ck_assert(words_contains(l, "bb"));
        ck_assert(!words_contains(l, "b"));
        j = words_join(l);
        ck_assert_str_eq(j, "a bb c");
}
END_TEST

START_TEST(test_permission_known) {
        bool object;

        ck_assert_int_eq(policy_permission_known("status.read"), 0);
        ck_assert_int_eq(policy_permission_known("keys.use:infusion"), 0);
        ck_assert_int_eq(policy_permission_known("foo.bar"), -ENOENT);
        ck_assert_int_eq(policy_permission_known("status.reed"), -ENOENT);
        ck_assert_int_eq(policy_permission_known("keys.use"), -EINVAL);
        ck_assert_int_eq(policy_permission_known("keys.use:*"), -EINVAL);
        ck_assert_int_eq(policy_permission_known("status.read:x"), -EINVAL);
        ck_assert_int_eq(policy_permission_known(""), -ENOENT);
        ck_assert_str_eq(policy_permission_name(0, &object), "status.read");
        ck_assert(!object);
        ck_assert_ptr_null(policy_permission_name(1000, NULL));
}
END_TEST

static Suite *make_suite(void) {
        Suite *s = suite_create("policy");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_good_fixtures);
        tcase_add_test(tc, test_bad_fixtures);
        tcase_add_test(tc, test_unit_bindings);
        tcase_add_test(tc, test_permission_syntax);
        tcase_add_test(tc, test_permission_match);
        tcase_add_test(tc, test_decisions);
        tcase_add_test(tc, test_empty_policy_denies);
        tcase_add_test(tc, test_subjects);
        tcase_add_test(tc, test_format_round_trip);
        tcase_add_test(tc, test_unknown_user_warns);
        tcase_add_test(tc, test_load_refuses_writable_by_others);
        tcase_add_test(tc, test_words);
        tcase_add_test(tc, test_permission_known);
        suite_add_tcase(s, tc);
        return s;
}
