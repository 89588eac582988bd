/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The strings of an Audit1 record (audit-wire.h): made from a record's
 * fields, parsed back, and malformed detail strings refused. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "audit-wire.h"
#include "check-main.h"

typedef struct Pairs {
        char text[1024];
        size_t n;
} Pairs;

/* "name|value;" per pair. */
static int collect(const char *name, const char *value, void *userdata) {
        Pairs *p = userdata;

        p->n += (size_t) snprintf(p->text + p->n, sizeof(p->text) - p->n, "%s|%s;", name, value);
        return 0;
}

/* Checks what fields make, and frees it. */
static void check_wire(const AuditField *f, size_t n, const char *subject, const char *object,
                       const char *result, const char *detail) {
        AuditWire w;

        ck_assert_int_eq(audit_wire_from_fields(f, n, &w), 0);
        ck_assert_str_eq(w.subject, subject);
        ck_assert_str_eq(w.object, object);
        ck_assert_str_eq(w.result, result);
        ck_assert_str_eq(w.detail, detail);
        audit_wire_done(&w);
}

/* Checks the pairs s parses into. */
static void check_pairs(const char *s, const char *want) {
        Pairs p = {};

        ck_assert_int_eq(audit_wire_parse(s, collect, &p), 0);
        ck_assert_str_eq(p.text, want);
}

START_TEST(test_from_fields) {
        static const AuditField f[] = {
                { "ENDPOINTD_UID", "1000" },      { "ENDPOINTD_GID", "1000" },
                { "ENDPOINTD_PID", "42" },        { "ENDPOINTD_EXE", "/usr/bin/pump d" },
                { "ENDPOINTD_BUS_NAME", ":1.7" }, { "ENDPOINTD_OBJECT", "keys/k1" },
                { "ENDPOINTD_RESULT", "failed" }, { "ENDPOINTD_PERMISSION", "keys.use:k1" },
                { "ENDPOINTD_REASON", "a=b\\c" }, { "ERRNO", "13" },
                { "MESSAGE", "denied, no rule" },
        };
        const char *detail = "PERMISSION=keys.use:k1 REASON=a\\x3db\\x5cc MESSAGE=denied,\\x20no\\x20rule";
        const char *subject = "uid=1000 gid=1000 pid=42 exe=/usr/bin/pump\\x20d bus=:1.7";

        check_wire(f, ELEMENTSOF(f), subject, "keys/k1", "EACCES", detail);
        check_pairs(detail, "PERMISSION|keys.use:k1;REASON|a=b\\c;MESSAGE|denied, no rule;");
        check_pairs(subject, "uid|1000;gid|1000;pid|42;exe|/usr/bin/pump d;bus|:1.7;");
}
END_TEST

START_TEST(test_daemon_ok_nonutf8) {
        static const AuditField f[] = { { "VERSION", "1\xff" }, { "RESULT", "ok" } };
        static const AuditField g[] = { { "RESULT", "failed" } };
        static const AuditField h[] = { { "RESULT", "failed" }, { "ERRNO", "99999" } };

        check_wire(f, ELEMENTSOF(f), "daemon", "", "ok", "VERSION=1\\xff");
        check_pairs("VERSION=1\\xff", "VERSION|1\xff;");
        check_pairs("daemon", "");
        check_wire(g, ELEMENTSOF(g), "daemon", "", "failed", "");
        check_wire(h, ELEMENTSOF(h), "daemon", "", "errno 99999", "");
}
END_TEST

START_TEST(test_parse_malformed) {
        static const char *const bad[] = {
                "NAME",   "=v",      "A=1  B=2", "A=1 ",  " A=1",     "A=\\",  "A=\\x",
                "A=\\x4", "A=\\xg0", "A=\\x00",  "A=\\n", "A\\x41=1", "A=1 B", "A=1 =2",
        };
        Pairs p = {};

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ck_assert_msg(audit_wire_parse(bad[i], collect, &p) == -EBADMSG, "'%s'", bad[i]);
        check_pairs("A= B=x=y", "A|;B|x=y;");
        check_pairs("", "");
}
END_TEST

static Suite *make_suite(void) {
        TCase *make = tcase_create("make"), *parse = tcase_create("parse");
        Suite *s = suite_create("audit-wire");

        tcase_add_test(make, test_from_fields);
        tcase_add_test(make, test_daemon_ok_nonutf8);
        tcase_add_test(parse, test_parse_malformed);
        suite_add_tcase(s, make);
        suite_add_tcase(s, parse);
        return s;
}
