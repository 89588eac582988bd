/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <openssl/crypto.h>

#include "util.h"

usec_t now_usec(clockid_t clock) {
        struct timespec ts;

        if (clock_gettime(clock, &ts) < 0)
                return 0;
        return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000;
}

static const struct {
        const char *suffix;
        usec_t usec;
} time_units[] = {
        /* Longest suffix first so that "ms" wins over "m" and "min" over "m". */
        { "seconds", USEC_PER_SEC }, { "second", USEC_PER_SEC },
        { "minutes", USEC_PER_MINUTE }, { "minute", USEC_PER_MINUTE },
        { "hours", USEC_PER_HOUR }, { "hour", USEC_PER_HOUR },
        { "days", USEC_PER_DAY }, { "day", USEC_PER_DAY },
        { "weeks", 7 * USEC_PER_DAY }, { "week", 7 * USEC_PER_DAY },
        { "msec", USEC_PER_MSEC }, { "usec", 1 },
        { "sec", USEC_PER_SEC }, { "min", USEC_PER_MINUTE },
        { "hr", USEC_PER_HOUR },
        { "ms", USEC_PER_MSEC }, { "us", 1 }, { "µs", 1 },
        { "s", USEC_PER_SEC }, { "m", USEC_PER_MINUTE }, { "h", USEC_PER_HOUR },
        { "d", USEC_PER_DAY }, { "w", 7 * USEC_PER_DAY },
};

int parse_timespan(const char *s, usec_t *ret) {
        usec_t total = 0;
        bool any = false;

        if (!s)
                return -EINVAL;
        while (*s == ' ')
                s++;
        if (streq(s, "infinity")) {
                *ret = USEC_INFINITY;
                return 0;
        }
        while (*s) {
                uint64_t n = 0, mult = USEC_PER_SEC;
                size_t digits = 0;

                while (isdigit((unsigned char) *s)) {
                        if (n > (UINT64_MAX - 9) / 10)
                                return -ERANGE;
                        n = n * 10 + (uint64_t) (*s - '0');
                        s++;
                        digits++;
                }
                if (digits == 0)
                        return -EINVAL;
                while (*s == ' ')
                        s++;
                if (*s && !isdigit((unsigned char) *s)) {
                        size_t i;
                        for (i = 0; i < ELEMENTSOF(time_units); i++) {
                                size_t l = strlen(time_units[i].suffix);
                                if (strncmp(s, time_units[i].suffix, l) == 0 &&
                                    (s[l] == 0 || s[l] == ' ' || isdigit((unsigned char) s[l])))
                                        break;
                        }
                        if (i >= ELEMENTSOF(time_units))
                                return -EINVAL;
                        mult = time_units[i].usec;
                        s += strlen(time_units[i].suffix);
                }
                if (n != 0 && mult > UINT64_MAX / n)
                        return -ERANGE;
                if (total > UINT64_MAX - n * mult - 1)
                        return -ERANGE;
                total += n * mult;
                any = true;
                while (*s == ' ')
                        s++;
        }
        if (!any)
                return -EINVAL;
        *ret = total;
        return 0;
}

const char *format_timespan(char *buf, size_t len, usec_t t) {
        static const struct {
                const char *suffix;
                usec_t usec;
        } units[] = {
                { "d", USEC_PER_DAY }, { "h", USEC_PER_HOUR }, { "min", USEC_PER_MINUTE },
                { "s", USEC_PER_SEC }, { "ms", USEC_PER_MSEC }, { "us", 1 },
        };
        size_t o = 0;

        if (t == USEC_INFINITY)
                return snprintf(buf, len, "infinity"), buf;
        if (t == 0)
                return snprintf(buf, len, "0"), buf;
        buf[0] = 0;
        for (size_t i = 0; i < ELEMENTSOF(units) && t > 0 && o < len; i++) {
                usec_t n = t / units[i].usec;
                if (n == 0)
                        continue;
                int w = snprintf(buf + o, len - o, "%s%" PRIu64 "%s", o ? " " : "", n, units[i].suffix);
                if (w < 0)
                        break;
                o += (size_t) w;
                t -= n * units[i].usec;
        }
        return buf;
}

int parse_uint64(const char *s, uint64_t max, uint64_t *ret) {
        uint64_t n = 0;

        if (isempty(s))
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                if (n > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                n = n * 10 + (uint64_t) (*p - '0');
        }
        if (n > max)
                return -ERANGE;
        *ret = n;
        return 0;
}

int parse_uint32(const char *s, uint32_t *ret) {
        uint64_t v;
        int r = parse_uint64(s, UINT32_MAX, &v);
        if (r < 0)
                return r;
        *ret = (uint32_t) v;
        return 0;
}

int parse_boolean(const char *s) {
        static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
        static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(s, yes[i]) == 0)
                        return 1;
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(s, no[i]) == 0)
                        return 0;
        return -EINVAL;
}

int parse_pcr_list(const char *s, uint32_t *ret_mask) {
        uint32_t mask = 0;
        const char *p = s;

        if (isempty(s))
                return -EINVAL;
        for (;;) {
                uint64_t a, b;
                char num[8];
                size_t n = strspn(p, "0123456789");

                if (n == 0 || n >= sizeof(num))
                        return n == 0 ? -EINVAL : -ERANGE;
                memcpy(num, p, n);
                num[n] = 0;
                if (parse_uint64(num, UINT64_MAX, &a) < 0)
                        return -EINVAL;
                p += n;
                b = a;
                if (*p == '-') {
                        p++;
                        n = strspn(p, "0123456789");
                        if (n == 0 || n >= sizeof(num))
                                return n == 0 ? -EINVAL : -ERANGE;
                        memcpy(num, p, n);
                        num[n] = 0;
                        if (parse_uint64(num, UINT64_MAX, &b) < 0)
                                return -EINVAL;
                        p += n;
                        if (b < a)
                                return -EINVAL;
                }
                if (b > 23)
                        return -ERANGE;
                for (uint64_t i = a; i <= b; i++)
                        mask |= 1U << i;
                if (*p == 0)
                        break;
                if (*p != ',' && *p != ' ')
                        return -EINVAL;
                p++;
        }
        *ret_mask = mask;
        return 0;
}

const char *format_pcr_list(char *buf, size_t len, uint32_t mask) {
        size_t o = 0;

        buf[0] = 0;
        for (unsigned i = 0; i < 24 && o < len; i++) {
                if (!(mask & (1U << i)))
                        continue;
                int w = snprintf(buf + o, len - o, "%s%u", o ? "," : "", i);
                if (w < 0)
                        break;
                o += (size_t) w;
        }
        return buf;
}

char *hexmem(const void *data, size_t len) {
        char *s;
        size_t n = len * 2 + 1;

        s = malloc(n);
        if (!s)
                return NULL;
        if (len == 0) {
                s[0] = 0;
                return s;
        }
        if (OPENSSL_buf2hexstr_ex(s, n, NULL, data, (long) len, '\0') != 1) {
                free(s);
                return NULL;
        }
        /* OpenSSL writes upper case; ids and digests are conventionally lower. */
        for (char *p = s; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        return s;
}

int unhexmem(const char *s, void **ret, size_t *ret_len) {
        unsigned char *buf;
        size_t n = strlen(s);

        if (n % 2 != 0 || strspn(s, "0123456789abcdefABCDEF") != n)
                return -EINVAL;
        buf = malloc(n / 2 + 1);
        if (!buf)
                return -ENOMEM;
        if (n > 0 && OPENSSL_hexstr2buf_ex(buf, n / 2 + 1, ret_len, s, '\0') != 1) {
                free(buf);
                return -EINVAL;
        }
        if (n == 0)
                *ret_len = 0;
        *ret = buf;
        return 0;
}

bool utf8_is_valid(const char *s, size_t len) {
        const unsigned char *p = (const unsigned char *) s, *e = p + len;

        while (p < e) {
                unsigned char c = *p;
                uint32_t cp;
                size_t n;

                if (c < 0x80) {
                        p++;
                        continue;
                } else if ((c & 0xE0) == 0xC0) {
                        n = 2;
                        cp = c & 0x1F;
                } else if ((c & 0xF0) == 0xE0) {
                        n = 3;
                        cp = c & 0x0F;
                } else if ((c & 0xF8) == 0xF0) {
                        n = 4;
                        cp = c & 0x07;
                } else
                        return false;
                if ((size_t) (e - p) < n)
                        return false;
                for (size_t i = 1; i < n; i++) {
                        if ((p[i] & 0xC0) != 0x80)
                                return false;
                        cp = (cp << 6) | (p[i] & 0x3F);
                }
                if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
                    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                        return false;
                p += n;
        }
        return true;
}

bool name_is_valid(const char *s) {
        size_t n;

        if (isempty(s) || s[0] == '.')
                return false;
        n = strlen(s);
        if (n > 64)
                return false;
        return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

char *strjoin_alloc(const char *a, const char *b, const char *c) {
        size_t la = strlen(strempty(a)), lb = strlen(strempty(b)), lc = strlen(strempty(c));
        char *s = malloc(la + lb + lc + 1);

        if (!s)
                return NULL;
        memcpy(s, strempty(a), la);
        memcpy(s + la, strempty(b), lb);
        memcpy(s + la + lb, strempty(c), lc);
        s[la + lb + lc] = 0;
        return s;
}

int parse_error_set(ParseError *e, unsigned line, int error, const char *format, ...) {
        va_list ap;

        if (e) {
                char raw[sizeof(e->message)];
                size_t k = 0;

                e->line = line;
                va_start(ap, format);
                (void) vsnprintf(raw, sizeof(raw), format, ap);
                va_end(ap);
                /* Messages quote the input, which may come from anyone:
                 * control characters are shown as \xNN, never sent to the
                 * terminal that prints the message. */
                for (const char *p = raw; *p && k + 1 < sizeof(e->message); p++) {
                        unsigned char c = (unsigned char) *p;

                        if (c >= 0x20 && c != 0x7f)
                                e->message[k++] = (char) c;
                        else if (k + 5 < sizeof(e->message))
                                k += (size_t) snprintf(e->message + k, 5, "\\x%02x", c);
                        else
                                break;
                }
                e->message[k] = 0;
        }
        return -abs(error);
}

size_t string_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b), *d, r;

        /* Optimal string alignment: Levenshtein plus the swap of two
         * neighbours, the typo people make most ("stauts"). One row per
         * character of a, three rows kept. */
        if (la > 64 || lb > 64)
                return SIZE_MAX;
        d = calloc(3 * (lb + 1), sizeof(size_t));
        if (!d)
                return SIZE_MAX;
#define D(i, j) d[((i) % 3) * (lb + 1) + (j)]
        for (size_t i = 0; i <= la; i++)
                for (size_t j = 0; j <= lb; j++) {
                        size_t v;

                        if (i == 0 || j == 0) {
                                D(i, j) = i + j;
                                continue;
                        }
                        v = D(i - 1, j - 1) + (a[i - 1] != b[j - 1]);
                        v = MIN(v, D(i - 1, j) + 1);
                        v = MIN(v, D(i, j - 1) + 1);
                        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                                v = MIN(v, D(i - 2, j - 2) + 1);
                        D(i, j) = v;
                }
        r = D(la, lb);
#undef D
        free(d);
        return r;
}
