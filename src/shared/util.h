/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "macro.h"

typedef uint64_t usec_t;
#define USEC_INFINITY ((usec_t) UINT64_MAX)
#define USEC_PER_SEC ((usec_t) 1000000ULL)
#define USEC_PER_MSEC ((usec_t) 1000ULL)
#define USEC_PER_MINUTE (60ULL * USEC_PER_SEC)
#define USEC_PER_HOUR (60ULL * USEC_PER_MINUTE)
#define USEC_PER_DAY (24ULL * USEC_PER_HOUR)

usec_t now_usec(clockid_t clock);

/* Parses a systemd time span ("1h 30min", "90s", "500ms", "2d", bare
 * number = seconds, "infinity"). Returns 0, or -EINVAL on bad syntax and
 * -ERANGE on overflow. */
int parse_timespan(const char *s, usec_t *ret);

/* Formats a span as "1h 30min". buf must hold at least 64 bytes. */
const char *format_timespan(char *buf, size_t len, usec_t t);

/* Parses a decimal unsigned integer with no sign, no spaces and no trailing
 * garbage. -EINVAL on bad syntax, -ERANGE when above max. */
int parse_uint64(const char *s, uint64_t max, uint64_t *ret);
int parse_uint32(const char *s, uint32_t *ret);
int parse_boolean(const char *s);

/* Parses "7", "0,7,14", "0-7,14" into a bitmask of PCR indices (0..23).
 * -EINVAL on bad syntax, -ERANGE for an index above 23. */
int parse_pcr_list(const char *s, uint32_t *ret_mask);
/* Writes "0,7,14" into buf (at least 80 bytes). */
const char *format_pcr_list(char *buf, size_t len, uint32_t mask);

/* Lower-case hex of data; returns a malloc'ed string or NULL on OOM. */
char *hexmem(const void *data, size_t len);
/* Parses hex (no separators). -EINVAL on bad input. */
int unhexmem(const char *s, void **ret, size_t *ret_len);

/* Whether s is valid UTF-8 (shortest form, no surrogates, <= U+10FFFF). */
bool utf8_is_valid(const char *s, size_t len);

/* Validates a name for keys, grants and similar: 1..64 bytes of
 * [A-Za-z0-9_.-], not starting with '.', so never "..", "." or a path. */
bool name_is_valid(const char *s);

char *strjoin_alloc(const char *a, const char *b, const char *c);

/* Edit distance between a and b (insertions, deletions, substitutions and
 * swaps of neighbours each count 1), for "did you mean" hints. SIZE_MAX
 * for strings longer than 64 bytes or on OOM. */
size_t string_distance(const char *a, const char *b);

/* Where and why a parser refused its input. Parsers fill it and return the
 * negative errno; callers print "file:line: message". line is 0 when the
 * problem is not tied to a line (file too large, I/O error). */
typedef struct ParseError {
        unsigned line;
        char message[512];
} ParseError;

/* Fills e (if non-NULL) and returns -abs(error). */
int parse_error_set(ParseError *e, unsigned line, int error, const char *format, ...) _printf_(4, 5);

/* Big-endian integers at any alignment, for the file formats (key files,
 * PCR approvals). */
static inline void put_be16(uint8_t *p, uint16_t v) {
        p[0] = (uint8_t) (v >> 8);
        p[1] = (uint8_t) v;
}
static inline void put_be32(uint8_t *p, uint32_t v) {
        for (int i = 3; i >= 0; i--, v >>= 8)
                p[i] = (uint8_t) v;
}
static inline void put_be64(uint8_t *p, uint64_t v) {
        for (int i = 7; i >= 0; i--, v >>= 8)
                p[i] = (uint8_t) v;
}
static inline uint32_t get_be32(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}
static inline uint64_t get_be64(const uint8_t *p) {
        return (uint64_t) get_be32(p) << 32 | get_be32(p + 4);
}

static inline int tolower_ascii(int c) {
        return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}
static inline int toupper_ascii(int c) {
        return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}
