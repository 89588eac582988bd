/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The table printer of endpointctl: headers, --no-legend, JSON keys and
 * types, ellipsizing. (Fitting to a terminal is tested on a real pseudo
 * terminal by tests/integration/test-ctl.sh.) */
#include <locale.h>
#include <stdio.h>

#include "check-main.h"
#include "table.h"

/* The options table.c reads; endpointctl.c defines them in the program. */
JsonFormat arg_json = JSON_OFF;
bool arg_full = false;
bool arg_legend = true;
bool arg_utc = true;

static char *print(Table *t, JsonFormat json) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        ck_assert_ptr_nonnull(f);
        arg_json = json;
        ck_assert_int_eq(table_print(t, json, f), 0);
        ck_assert_int_eq(fclose(f), 0);
        return buf;
}

static Table *keys(void) {
        Table *t = table_new(false, "Name", "Exportable", "Not after");

        ck_assert_ptr_nonnull(t);
        ck_assert_int_eq(table_add(t, CELL_STRING, "k1"), 0);
        ck_assert_int_eq(table_add(t, CELL_BOOLEAN, 1), 0);
        ck_assert_int_eq(table_add(t, CELL_TIMESTAMP, (uint64_t) 0), 0);
        ck_assert_int_eq(table_add(t, CELL_STRING, "longer-name"), 0);
        ck_assert_int_eq(table_add(t, CELL_BOOLEAN, 0), 0);
        ck_assert_int_eq(table_add(t, CELL_TIMESTAMP, (uint64_t) 86400 * 1000000), 0);
        return t;
}

START_TEST(test_text) {
        _cleanup_(table_freep) Table *t = keys();
        _cleanup_(freep) char *s = print(t, JSON_OFF);

        ck_assert_str_eq(s, "NAME         EXPORTABLE  NOT AFTER\n"
                            "k1           yes         never\n"
                            "longer-name  no          1970-01-02 00:00:00 UTC\n");
        arg_legend = false;
        free(s);
        s = print(t, JSON_OFF);
        arg_legend = true;
        ck_assert_str_eq(s, "k1           yes  never\n"
                            "longer-name  no   1970-01-02 00:00:00 UTC\n");
}
END_TEST

START_TEST(test_json) {
        _cleanup_(table_freep) Table *t = keys();
        _cleanup_(freep) char *s = print(t, JSON_SHORT);

        ck_assert_str_eq(s, "[{\"name\":\"k1\",\"exportable\":true,\"notAfter\":0},"
                            "{\"name\":\"longer-name\",\"exportable\":false,\"notAfter\":86400000000}]\n");
}
END_TEST

START_TEST(test_vertical) {
        _cleanup_(table_freep) Table *t = table_new(true, "Field", "Value");
        _cleanup_(freep) char *s = NULL, *j = NULL;

        ck_assert_ptr_nonnull(t);
        ck_assert_int_eq(table_add(t, CELL_STRING, "DeviceId"), 0);
        ck_assert_int_eq(table_add(t, CELL_DIGEST, "00112233445566778899aabbccddeeff"), 0);
        ck_assert_int_eq(table_add(t, CELL_STRING, "Serial"), 0);
        ck_assert_int_eq(table_add(t, CELL_UINT64, (uint64_t) 7), 0);
        s = print(t, JSON_OFF);
        /* Not a terminal: the digest in full. */
        ck_assert_str_eq(s, "DeviceId: 00112233445566778899aabbccddeeff\n  Serial: 7\n");
        j = print(t, JSON_SHORT);
        ck_assert_str_eq(j, "{\"deviceId\":\"00112233445566778899aabbccddeeff\",\"serial\":7}\n");
}
END_TEST

START_TEST(test_ellipsize) {
        _cleanup_(freep) char *a = text_ellipsize("abcdefgh", 8), *b = text_ellipsize("abcdefgh", 6),
                              *c = text_ellipsize("abcdefgh", 2);

        /* The C locale: "..." for the ellipsis, one column a byte. */
        ck_assert_str_eq(a, "abcdefgh");
        ck_assert_str_eq(b, "abc...");
        ck_assert_str_eq(c, "..");
        ck_assert_uint_eq(text_width("abc"), 3);
}
END_TEST

START_TEST(test_ellipsize_utf8) {
        _cleanup_(freep) char *a = NULL, *b = NULL;

        if (!setlocale(LC_CTYPE, "C.UTF-8"))
                return; /* no UTF-8 locale here */
        ck_assert_uint_eq(text_width("caf\xc3\xa9"), 4);
        a = text_ellipsize("caf\xc3\xa9-au-lait", 5);
        ck_assert_str_eq(a, "caf\xc3\xa9\xe2\x80\xa6");
        ck_assert_uint_eq(text_width(a), 5);
        b = text_ellipsize("\xff\xfe", 5);
        ck_assert_str_eq(b, "\xff\xfe");
        (void) setlocale(LC_CTYPE, "C");
}
END_TEST

static Suite *make_suite(void) {
        Suite *s = suite_create("table");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_text);
        tcase_add_test(tc, test_json);
        tcase_add_test(tc, test_vertical);
        tcase_add_test(tc, test_ellipsize);
        tcase_add_test(tc, test_ellipsize_utf8);
        suite_add_tcase(s, tc);
        return s;
}
