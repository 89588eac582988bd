/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "check-main.h"
#include "ini.h"

typedef struct Seen {
        char log[1024];
        int fail_at_line;
} Seen;

static int record(const char *section, const char *key, const char *value, unsigned line, void *userdata,
                  ParseError *error) {
        Seen *s = userdata;
        size_t o = strlen(s->log);

        if (s->fail_at_line == (int) line)
                return parse_error_set(error, line, ENOTUNIQ, "handler refused");
        snprintf(s->log + o, sizeof(s->log) - o, "%u:%s%s%s%s%s;", line, section, key ? "/" : "",
                 key ? key : "", key ? "=" : "", key ? value : "");
        return 0;
}

static int parse(const char *text, Seen *s, ParseError *e) {
        return ini_parse(text, strlen(text), record, s, e);
}

START_TEST(test_sections_keys_comments) {
        Seen s = {};
        ParseError e = {};

        ck_assert_int_eq(parse("# c\n; c\n\n[A]\n k = v w \n[B.c-d_1]\nx=\n", &s, &e), 0);
        ck_assert_str_eq(s.log, "4:A;5:A/k=v w;6:B.c-d_1;7:B.c-d_1/x=;");
}
END_TEST

START_TEST(test_value_keeps_equals) {
        Seen s = {};
        ParseError e = {};

        ck_assert_int_eq(parse("[T]\nTCTI=swtpm:host=127.0.0.1,port=1\n", &s, &e), 0);
        ck_assert_str_eq(s.log, "1:T;2:T/TCTI=swtpm:host=127.0.0.1,port=1;");
}
END_TEST

START_TEST(test_crlf_and_no_final_newline) {
        Seen s = {};
        ParseError e = {};

        ck_assert_int_eq(parse("[A]\r\nk=v\r\nl=w", &s, &e), 0);
        ck_assert_str_eq(s.log, "1:A;2:A/k=v;3:A/l=w;");
}
END_TEST

START_TEST(test_errors) {
        static const struct {
                const char *text;
                int error;
                unsigned line;
        } cases[] = {
                { "[A]\nnoequals\n", -EBADMSG, 2 },
                { "[A\n", -EBADMSG, 1 },
                { "[]\n", -EBADMSG, 1 },
                { "[A B]\n", -EBADMSG, 1 },
                { "k=v\n", -EBADMSG, 1 },
                { "[A]\n=v\n", -EBADMSG, 2 },
                { "[A]\nk k=v\n", -EBADMSG, 2 },
                { "[A]\nk=\xff\n", -EBADMSG, 2 },
                { "[A]\nk=\xc0\x80\n", -EBADMSG, 2 },   /* overlong NUL */
                { "[A]\nk=\xed\xa0\x80\n", -EBADMSG, 2 }, /* surrogate */
                { "[A]\nk=\xe2\x82\n", -EBADMSG, 2 },   /* truncated sequence */
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                Seen s = {};
                ParseError e = {};

                ck_assert_int_eq(parse(cases[i].text, &s, &e), cases[i].error);
                ck_assert_uint_eq(e.line, cases[i].line);
                ck_assert(e.message[0] != 0);
        }
}
END_TEST

START_TEST(test_nul_byte_line) {
        static const char text[] = "[A]\nk=v\nl=\0w\n";
        Seen s = {};
        ParseError e = {};

        ck_assert_int_eq(ini_parse(text, sizeof(text) - 1, record, &s, &e), -EBADMSG);
        ck_assert_uint_eq(e.line, 3);
        /* Refused before anything was handed to the handler. */
        ck_assert_str_eq(s.log, "");
}
END_TEST

START_TEST(test_line_too_long) {
        size_t n = INI_LINE_MAX + 10;
        char *text = malloc(n + 8);
        Seen s = {};
        ParseError e = {};

        ck_assert_ptr_nonnull(text);
        strcpy(text, "[A]\nk=");
        memset(text + 6, 'x', n - 6);
        text[n] = 0;
        ck_assert_int_eq(ini_parse(text, n, record, &s, &e), -E2BIG);
        ck_assert_uint_eq(e.line, 2);
        free(text);
}
END_TEST

START_TEST(test_handler_error_propagates) {
        Seen s = { .fail_at_line = 3 };
        ParseError e = {};

        ck_assert_int_eq(parse("[A]\nk=v\nl=w\nm=x\n", &s, &e), -ENOTUNIQ);
        ck_assert_uint_eq(e.line, 3);
        ck_assert_str_eq(s.log, "1:A;2:A/k=v;");
}
END_TEST

static Suite *make_suite(void) {
        Suite *s = suite_create("ini");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_sections_keys_comments);
        tcase_add_test(tc, test_value_keeps_equals);
        tcase_add_test(tc, test_crlf_and_no_final_newline);
        tcase_add_test(tc, test_errors);
        tcase_add_test(tc, test_nul_byte_line);
        tcase_add_test(tc, test_line_too_long);
        tcase_add_test(tc, test_handler_error_propagates);
        suite_add_tcase(s, tc);
        return s;
}
