/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <time.h>

#include "ini.h"
#include "policy.h"
#include "token.h"

static const char *const token_type_table[_TOKEN_TYPE_MAX] = {
        [TOKEN_GRANT] = "Grant",
        [TOKEN_LICENCE] = "Licence",
};

const char *token_type_to_string(TokenType t) {
        return t >= 0 && t < _TOKEN_TYPE_MAX ? token_type_table[t] : NULL;
}

TokenType token_type_from_string(const char *s) {
        for (int i = 0; i < _TOKEN_TYPE_MAX; i++)
                if (streq_ptr(s, token_type_table[i]))
                        return (TokenType) i;
        return _TOKEN_TYPE_INVALID;
}

static int parse_digits(const char *s, size_t n, int *ret) {
        int v = 0;

        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (s[i] - '0');
        }
        *ret = v;
        return 0;
}

int parse_iso8601(const char *s, usec_t *ret) {
        struct tm tm = {}, check;
        int year, mon, day, hour, min, sec;
        time_t t;

        /* Exactly "YYYY-MM-DDTHH:MM:SSZ": one spelling, nothing to guess. */
        if (strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
            s[19] != 'Z')
                return -EINVAL;
        if (parse_digits(s, 4, &year) < 0 || parse_digits(s + 5, 2, &mon) < 0 ||
            parse_digits(s + 8, 2, &day) < 0 || parse_digits(s + 11, 2, &hour) < 0 ||
            parse_digits(s + 14, 2, &min) < 0 || parse_digits(s + 17, 2, &sec) < 0)
                return -EINVAL;
        if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 59)
                return -EINVAL;
        tm.tm_year = year - 1900;
        tm.tm_mon = mon - 1;
        tm.tm_mday = day;
        tm.tm_hour = hour;
        tm.tm_min = min;
        tm.tm_sec = sec;
        t = timegm(&tm);
        /* timegm() normalises 2026-02-30 into March; refuse that. */
        if (t == (time_t) -1 || !gmtime_r(&t, &check) || check.tm_mday != day || check.tm_mon != mon - 1)
                return -EINVAL;
        *ret = (usec_t) t * USEC_PER_SEC;
        return 0;
}

const char *format_iso8601(char *buf, size_t len, usec_t t) {
        time_t s = (time_t) (t / USEC_PER_SEC);
        struct tm tm;

        if (!gmtime_r(&s, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                (void) snprintf(buf, len, "@%llu", (unsigned long long) (t / USEC_PER_SEC));
        return buf;
}

/* Keys in the order the error messages list them; bit i of required is
 * set for each key type t needs. */
enum { K_ID, K_DEVICE, K_SUBJECT, K_ROLES, K_FEATURES, K_NOT_BEFORE, K_NOT_AFTER, _K_MAX };
static const char *const token_keys[_K_MAX] = {
        "Id", "Device", "Subject", "Roles", "Features", "NotBefore", "NotAfter",
};
static const unsigned token_required[_TOKEN_TYPE_MAX] = {
        [TOKEN_GRANT] = 1U << K_ID | 1U << K_DEVICE | 1U << K_SUBJECT | 1U << K_ROLES | 1U << K_NOT_BEFORE |
                        1U << K_NOT_AFTER,
        [TOKEN_LICENCE] =
                1U << K_ID | 1U << K_DEVICE | 1U << K_FEATURES | 1U << K_NOT_BEFORE | 1U << K_NOT_AFTER,
};

typedef struct TokenParse {
        Token *token;
        TokenType expected;
        unsigned seen;
        unsigned section_line;
        unsigned not_after_line;
} TokenParse;

static bool device_is_valid(const char *s, bool wildcard) {
        size_t n = strlen(s);

        if (streq(s, "*"))
                return wildcard;
        return n > 0 && n <= TOKEN_DEVICE_MAX &&
               strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-") == n;
}

static int list_assign(char ***field, const char *value, const char *what, unsigned line, ParseError *e) {
        if (words_split(value, field) < 0)
                return -ENOMEM;
        if (!(*field)[0])
                return parse_error_set(e, line, EINVAL, "%s= is empty", what);
        for (char **w = *field; *w; w++)
                if (!name_is_valid(*w))
                        return parse_error_set(e, line, EINVAL, "'%.64s' is not a valid name in %s=", *w,
                                               what);
        return 0;
}

static int token_assign(Token *t, int k, const char *value, unsigned line, ParseError *e) {
        PolicySubject s;
        int r;

        switch (k) {
        case K_ID:
                if (!name_is_valid(value))
                        return parse_error_set(e, line, EINVAL, "'%.64s' is not a valid id", value);
                return (t->id = strdup(value)) ? 0 : -ENOMEM;
        case K_DEVICE:
                if (!device_is_valid(value, t->type == TOKEN_LICENCE))
                        return parse_error_set(e, line, EINVAL, "'%.64s' is not a valid device id", value);
                return (t->device = strdup(value)) ? 0 : -ENOMEM;
        case K_SUBJECT:
                /* Syntax only: whether the name exists matters at use time. */
                r = policy_subject_parse(value, &s);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return parse_error_set(
                                e, line, EINVAL,
                                "'%.64s' is not a subject like user:NAME, group:NAME, uid:N or gid:N",
                                value);
                t->subject = TAKE_PTR(s.name);
                return 0;
        case K_ROLES:
                return list_assign(&t->roles, value, "Roles", line, e);
        case K_FEATURES:
                return list_assign(&t->features, value, "Features", line, e);
        default:
                r = parse_iso8601(value, k == K_NOT_BEFORE ? &t->not_before : &t->not_after);
                if (r < 0)
                        return parse_error_set(e, line, EINVAL,
                                               "'%.64s' is not a UTC time like 2026-11-23T10:00:00Z", value);
                return 0;
        }
}

static int token_handler(const char *section, const char *key, const char *value, unsigned line,
                         void *userdata, ParseError *e) {
        TokenParse *tp = userdata;
        Token *t = tp->token;
        int k;

        if (!key) {
                TokenType type = token_type_from_string(section);

                if (type < 0)
                        return parse_error_set(e, line, EINVAL,
                                               "unknown section [%.64s]; expected [Grant] or [Licence]",
                                               section);
                if (tp->section_line > 0)
                        return parse_error_set(e, line, EEXIST, "a token holds exactly one section");
                if (tp->expected >= 0 && type != tp->expected)
                        return parse_error_set(e, line, EINVAL, "expected a [%s], not a [%s]",
                                               token_type_to_string(tp->expected), section);
                t->type = type;
                tp->section_line = line;
                return 0;
        }
        for (k = 0; k < _K_MAX; k++)
                if (streq(key, token_keys[k]))
                        break;
        if (k == _K_MAX || !(token_required[t->type] & (1U << k)))
                return parse_error_set(e, line, EINVAL, "unknown key '%.64s' in [%s]", key, section);
        if (tp->seen & (1U << k))
                return parse_error_set(e, line, EEXIST, "duplicate key '%s'", key);
        tp->seen |= 1U << k;
        if (k == K_NOT_AFTER)
                tp->not_after_line = line;
        return token_assign(t, k, value, line, e);
}

int token_parse(const char *data, size_t len, TokenType expected, Token **ret, ParseError *error) {
        _cleanup_(token_freep) Token *t = calloc(1, sizeof(Token));
        TokenParse tp = { .expected = expected };
        unsigned missing;
        int r;

        if (!t)
                return -ENOMEM;
        tp.token = t;
        if (len > TOKEN_FILE_MAX)
                return parse_error_set(error, 0, EFBIG, "token larger than %u bytes", TOKEN_FILE_MAX);
        r = ini_parse(data, len, token_handler, &tp, error);
        if (r < 0)
                return r;
        if (tp.section_line == 0)
                return parse_error_set(error, 0, EINVAL, "no [Grant] or [Licence] section");
        missing = token_required[t->type] & ~tp.seen;
        for (int k = 0; k < _K_MAX; k++)
                if (missing & (1U << k))
                        return parse_error_set(error, tp.section_line, EINVAL,
                                               "[%s] without %s=", token_type_to_string(t->type),
                                               token_keys[k]);
        if (t->not_after <= t->not_before)
                return parse_error_set(error, tp.not_after_line, EINVAL,
                                       "NotAfter= is not after NotBefore=");
        *ret = TAKE_PTR(t);
        return 0;
}

Token *token_free(Token *t) {
        if (!t)
                return NULL;
        free(t->id);
        free(t->device);
        free(t->subject);
        words_free(t->roles);
        words_free(t->features);
        free(t);
        return NULL;
}

bool token_device_matches(const Token *t, const char *device_id) {
        if (t->type == TOKEN_LICENCE && streq(t->device, "*"))
                return true;
        return !isempty(device_id) && streq(t->device, device_id);
}

int token_check_time(const Token *t, usec_t now) {
        if (now < t->not_before)
                return -ETIME;
        if (now >= t->not_after)
                return -EKEYEXPIRED;
        return 0;
}

int token_verify(const TrustStore *trust, const void *data, size_t len, const void *sig, size_t sig_len,
                 TokenType expected, const char *device_id, usec_t now, Token **ret, char *error,
                 size_t error_len) {
        _cleanup_(token_freep) Token *t = NULL;
        char buf[SIGNATURE_ERROR_MAX] = "", when[32];
        ParseError pe = {};
        int r;

        if (expected != TOKEN_GRANT && expected != TOKEN_LICENCE)
                return -EINVAL;
        /* A grant and a licence each need a signer of their own role. */
        r = signature_verify(trust, expected == TOKEN_GRANT ? SIGNER_ROLE_GRANT : SIGNER_ROLE_LICENCE, now,
                             data, len, sig, sig_len, NULL, buf, sizeof(buf));
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                /* A signature that is not CMS at all is as bad as a wrong one. */
                (void) snprintf(error, error_len, "The signature does not verify: %s", buf);
                return -EKEYREJECTED;
        }
        r = token_parse(data, len, expected, &t, &pe);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                (void) snprintf(error, error_len, "The %s is malformed: line %u: %s",
                                expected == TOKEN_LICENCE ? "licence" : "grant", pe.line, pe.message);
                return -EBADMSG;
        }
        if (device_id && !token_device_matches(t, device_id)) {
                (void) snprintf(error, error_len, "%s '%s' is for device '%s', this is device '%s'.",
                                token_type_to_string(t->type), t->id, t->device, device_id);
                return -EXDEV;
        }
        r = now > 0 ? token_check_time(t, now) : 0;
        if (r == -ETIME) {
                (void) snprintf(error, error_len, "%s '%s' is not valid before %s.",
                                token_type_to_string(t->type), t->id,
                                format_iso8601(when, sizeof(when), t->not_before));
                return r;
        }
        if (r < 0) {
                (void) snprintf(error, error_len, "%s '%s' expired at %s.", token_type_to_string(t->type),
                                t->id, format_iso8601(when, sizeof(when), t->not_after));
                return r;
        }
        *ret = TAKE_PTR(t);
        return 0;
}
