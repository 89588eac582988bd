/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Data-driven parser fixtures: every file in tests/fixtures/<parser>/good must parse,
 * tests/fixtures/<parser>/bad/EXPECTED lists "file line ERRNO" for each
 * file that must fail, with that line and that errno. */

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "fileio.h"
#include "util.h"

typedef int (*FixtureParser)(const char *path, const char *data, size_t len, ParseError *e);

static inline int errno_from_name(const char *name) {
        static const struct {
                const char *name;
                int value;
        } names[] = {
                { "EBADMSG", EBADMSG }, { "EINVAL", EINVAL }, { "ERANGE", ERANGE }, { "EEXIST", EEXIST },
                { "E2BIG", E2BIG }, { "EFBIG", EFBIG }, { "ENOENT", ENOENT }, { "EKEYREJECTED", EKEYREJECTED },
                { "ENOTUNIQ", ENOTUNIQ }, { "EPROTO", EPROTO }, { "ENOMSG", ENOMSG },
        };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (strcmp(names[i].name, name) == 0)
                        return names[i].value;
        return 0;
}

/* Runs parse over every good/ file; returns how many were checked. */
static inline unsigned fixtures_check_good(const char *parser, FixtureParser parse) {
        char dir[4096];
        struct dirent *de;
        unsigned n = 0;
        DIR *d;

        snprintf(dir, sizeof(dir), "%s/tests/fixtures/%s/good", TOP_SRCDIR, parser);
        d = opendir(dir);
        ck_assert_msg(d, "cannot open %s", dir);
        while ((de = readdir(d))) {
                char path[8192];
                char *data = NULL;
                size_t len;
                ParseError e = {};
                int r;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                ck_assert_int_eq(read_full_file(path, 64 * 1024 * 1024, &data, &len), 0);
                r = parse(path, data, len, &e);
                ck_assert_msg(r >= 0, "%s:%u: unexpectedly refused: %s (%s)", path, e.line, e.message,
                              strerror(-r));
                free(data);
                n++;
        }
        closedir(d);
        ck_assert_uint_gt(n, 0);
        return n;
}

/* Runs parse over every file listed in bad/EXPECTED. */
static inline unsigned fixtures_check_bad(const char *parser, FixtureParser parse) {
        char list[4096], line[1024];
        unsigned n = 0;
        FILE *f;

        snprintf(list, sizeof(list), "%s/tests/fixtures/%s/bad/EXPECTED", TOP_SRCDIR, parser);
        f = fopen(list, "re");
        ck_assert_msg(f, "cannot open %s", list);
        while (fgets(line, sizeof(line), f)) {
                char name[256], err[32], path[8192];
                unsigned want_line;
                char *data = NULL;
                size_t len;
                ParseError e = {};
                int r, want;

                if (line[0] == '#' || sscanf(line, "%255s %u %31s", name, &want_line, err) != 3)
                        continue;
                want = errno_from_name(err);
                ck_assert_msg(want != 0, "unknown errno name %s in %s", err, list);
                snprintf(path, sizeof(path), "%s/tests/fixtures/%s/bad/%s", TOP_SRCDIR, parser, name);
                ck_assert_int_eq(read_full_file(path, 64 * 1024 * 1024, &data, &len), 0);
                r = parse(path, data, len, &e);
                ck_assert_msg(r == -want, "%s: expected %s, got %d (%s) at line %u: %s", name, err, r,
                              strerror(-r), e.line, e.message);
                ck_assert_msg(e.line == want_line, "%s: expected line %u, got %u (%s)", name, want_line,
                              e.line, e.message);
                ck_assert_msg(e.message[0] != 0, "%s: no message", name);
                free(data);
                n++;
        }
        fclose(f);
        ck_assert_uint_gt(n, 0);
        return n;
}

/* Runs a shell command (a real tool such as openssl) and fails the test if
 * it fails. */
static inline void sh(const char *fmt, ...) _printf_(1, 2);
static inline void sh(const char *fmt, ...) {
        char cmd[4096];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        ck_assert_msg(system(cmd) == 0, "command failed: %s", cmd);
}
