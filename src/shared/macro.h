/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Small helpers used everywhere: cleanup attributes, ownership transfer,
 * string comparison. Nothing here allocates. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_ __attribute__((noreturn))
#define _pure_ __attribute__((pure))
#define _warn_unused_result_ __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Hands ownership of a pointer out of a _cleanup_ variable. */
#define TAKE_PTR(p)                                                     \
        ({                                                              \
                __typeof__(p) _taken = (p);                             \
                (p) = NULL;                                             \
                _taken;                                                 \
        })
#define TAKE_FD(fd)                                                     \
        ({                                                              \
                int _fd = (fd);                                         \
                (fd) = -EBADF;                                          \
                _fd;                                                    \
        })

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}
static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return streq(a, b);
}
static inline bool isempty(const char *s) {
        return !s || !*s;
}
static inline const char *strempty(const char *s) {
        return s ?: "";
}
static inline const char *strna(const char *s) {
        return s ?: "n/a";
}

static inline void freep(void *p) {
        free(*(void **) p);
}
static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                (void) close(*fd);
                errno = saved;
        }
}

/* Defines name##p(), a cleanup helper that calls func on a non-NULL pointer. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                         \
        static inline void func##p(type *p) {                           \
                if (*p)                                                 \
                        (void) func(*p);                                \
        }

/* Same, for foreign types whose free function we do not name ourselves. */
#define DEFINE_CLEANUP_FUNC(type, func, name)                           \
        static inline void name(type *p) {                              \
                if (*p)                                                 \
                        func(*p);                                       \
        }

/* Returns the negative errno of the last failed libc call, never 0. */
static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}

static inline int RET_NERRNO(int r) {
        return r < 0 ? negative_errno() : r;
}
