/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "ini.h"

#define WHITESPACE " \t\r"

static char *strip(char *s) {
        char *e;

        s += strspn(s, WHITESPACE);
        e = s + strlen(s);
        while (e > s && strchr(WHITESPACE, e[-1]))
                *--e = 0;
        return s;
}

static bool token_is_valid(const char *s) {
        size_t n = strlen(s);

        return n > 0 &&
               strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

static int parse_line(char *l, unsigned line, char *section, IniHandler handler, void *userdata,
                      ParseError *error) {
        char *eq, *key, *value;

        l = strip(l);
        if (*l == 0 || *l == '#' || *l == ';')
                return 0;

        if (*l == '[') {
                size_t n = strlen(l);

                if (l[n - 1] != ']')
                        return parse_error_set(error, line, EBADMSG, "unterminated section header");
                l[n - 1] = 0;
                l = strip(l + 1);
                if (!token_is_valid(l) || strlen(l) >= INI_LINE_MAX)
                        return parse_error_set(error, line, EBADMSG, "invalid section name '%.64s'", l);
                strcpy(section, l);
                return handler(section, NULL, NULL, line, userdata, error);
        }

        eq = strchr(l, '=');
        if (!eq)
                return parse_error_set(error, line, EBADMSG, "missing '=' in assignment");
        *eq = 0;
        key = strip(l);
        value = strip(eq + 1);
        if (!token_is_valid(key))
                return parse_error_set(error, line, EBADMSG, "invalid key name '%.64s'", key);
        if (section[0] == 0)
                return parse_error_set(error, line, EBADMSG, "assignment outside of any section");
        return handler(section, key, value, line, userdata, error);
}

int ini_parse(const char *data, size_t len, IniHandler handler, void *userdata, ParseError *error) {
        char section[INI_LINE_MAX + 1] = "", buf[INI_LINE_MAX + 1];
        const char *p = data, *end = data + len;
        unsigned line = 0;

        const char *nul = memchr(data, 0, len);
        if (nul) {
                for (const char *q = data; q < nul; q++)
                        line += *q == '\n';
                return parse_error_set(error, line + 1, EBADMSG, "line contains a NUL byte");
        }
        /* Some editors start a UTF-8 file with a byte order mark; say so
         * rather than call the first line's key or section invalid. */
        if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
                return parse_error_set(error, 1, EBADMSG,
                                       "file starts with a UTF-8 byte order mark (U+FEFF): save it without one");
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t n = (nl ? nl : end) - p;
                int r;

                line++;
                if (n > INI_LINE_MAX)
                        return parse_error_set(error, line, E2BIG, "line longer than %u bytes", INI_LINE_MAX);
                if (!utf8_is_valid(p, n))
                        return parse_error_set(error, line, EBADMSG, "line is not valid UTF-8");
                memcpy(buf, p, n);
                buf[n] = 0;
                r = parse_line(buf, line, section, handler, userdata, error);
                if (r < 0)
                        return r;
                p += n + (nl ? 1 : 0);
        }
        return 0;
}
