/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Small helpers used everywhere: cleanup attributes, ownership transfer,
 * string comparison. Nothing here allocates. */

#include <dirent.h>
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

/* For `p = mfree(p);`: frees and leaves no dangling pointer behind. */
static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

static inline void freep(void *p) {
        free(*(void **) p);
}

/* Closes fd if it is one (>= 0) and returns -EBADF, for `fd = safe_close(fd);`:
 * the variable no longer names a descriptor, so a second safe_close() or
 * closep() on it is a no-op instead of closing a number that another thread
 * (sd-bus, a scanner worker) may have been given meanwhile. The result must
 * be used; that is the point. errno is preserved. A failing close() is not
 * retried: Linux releases the descriptor even then (also on EINTR). */
_warn_unused_result_ static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -EBADF;
}
/* For _cleanup_(closep), and for closing an fd held in a struct: closes and
 * resets *fd to -EBADF, so that whoever looks at it later sees no fd. */
static inline void closep(int *fd) {
        *fd = safe_close(*fd);
}

/* Defines name##p(), a cleanup helper that calls func on a non-NULL pointer. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                         \
        static inline void func##p(type *p) {                           \
                if (*p)                                                 \
                        (void) func(*p);                                \
        }

/* closedir() at scope exit. A DIR made by fdopendir() owns its fd from then
 * on: TAKE_FD() the fd into it so that no closep() closes it as well. */
DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir)

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
