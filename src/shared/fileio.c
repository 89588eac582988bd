/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

int read_full_fd(int fd, size_t max, char **ret, size_t *ret_len) {
        _cleanup_(freep) char *buf = NULL;
        size_t size = 0, alloc = 0;

        for (;;) {
                ssize_t n;

                if (size >= alloc) {
                        size_t na = alloc ? alloc * 2 : 4096;
                        char *p;

                        if (alloc > max)
                                return -EFBIG;
                        p = realloc(buf, na + 1);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                        alloc = na;
                }
                n = read(fd, buf + size, alloc - size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > max)
                        return -EFBIG;
        }
        if (!buf) {
                buf = malloc(1);
                if (!buf)
                        return -ENOMEM;
        }
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = size;
        return 0;
}

int stat_check_trusted(const struct stat *st, const char **ret_why) {
        const char *why = NULL;

        if (st->st_uid != 0 && st->st_uid != geteuid())
                why = "owned by a user other than root";
        else if (st->st_mode & (S_IWGRP | S_IWOTH))
                why = "writable by its group or by others";
        if (ret_why)
                *ret_why = why;
        return why ? -EPERM : 0;
}

/* The directories on the way to path, from its parent up to "/": whoever
 * may rename entries in one of them may put another file or directory in
 * path's place. Each must be owned by root or us and, if its group or
 * others may write it, be sticky (as /tmp is: then only an entry's owner
 * may rename it). A relative path is taken from the working directory. */
static int ancestors_check_lexical(const char *path, const char **ret_why) {
        size_t len = strlen(path);
        char buf[PATH_MAX];
        struct stat st;
        char *slash;

        if (path[0] == '/') {
                if (len >= sizeof(buf))
                        return -ENAMETOOLONG;
                memcpy(buf, path, len + 1);
        } else {
                size_t n;

                if (!getcwd(buf, sizeof(buf)))
                        return -errno;
                n = strlen(buf);
                if (n + 1 + len >= sizeof(buf))
                        return -ENAMETOOLONG;
                buf[n] = '/';
                memcpy(buf + n + 1, path, len + 1);
        }
        for (;;) {
                /* Cut the last component (and trailing slashes). */
                size_t n = strlen(buf);

                while (n > 1 && buf[n - 1] == '/')
                        buf[--n] = 0;
                slash = strrchr(buf, '/');
                if (!slash)
                        return 0;
                if (slash == buf)
                        slash[1] = 0; /* "/" itself */
                else
                        *slash = 0;
                if (stat(buf, &st) < 0)
                        return -errno;
                if (st.st_uid != 0 && st.st_uid != geteuid()) {
                        if (ret_why)
                                *ret_why = "in a directory owned by a user other than root";
                        return -EPERM;
                }
                if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
                        if (ret_why)
                                *ret_why = "in a directory its group or others may write (and not sticky)";
                        return -EPERM;
                }
                if (streq(buf, "/"))
                        return 0;
        }
}

/* The directories on the way to path as given, and, when a symlink is on
 * the way, to where it leads (a link in a safe directory to a file in an
 * unsafe one is no safer than the file). */
static int ancestors_check_trusted(const char *path, const char **ret_why) {
        _cleanup_(freep) char *real = NULL;
        int r;

        r = ancestors_check_lexical(path, ret_why);
        if (r < 0)
                return r;
        real = realpath(path, NULL);
        if (!real)
                return -errno;
        return streq(real, path) ? 0 : ancestors_check_lexical(real, ret_why);
}

int dir_check_trusted(const char *path, const char **ret_why) {
        struct stat st;
        int r;

        if (stat(path, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        r = stat_check_trusted(&st, ret_why);
        if (r < 0)
                return r;
        return ancestors_check_trusted(path, ret_why);
}

static int read_regular(const char *path, size_t max, bool trusted, char **ret, size_t *ret_len,
                        const char **ret_why) {
        _cleanup_(closep) int fd = -EBADF;
        struct stat st;
        int r;

        /* O_NONBLOCK so that a FIFO planted at the path cannot stall us. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if (trusted) {
                r = stat_check_trusted(&st, ret_why);
                if (r >= 0)
                        r = ancestors_check_trusted(path, ret_why);
                if (r < 0)
                        return r;
        }
        if ((size_t) st.st_size > max)
                return -EFBIG;
        return read_full_fd(fd, max, ret, ret_len);
}

int read_full_file(const char *path, size_t max, char **ret, size_t *ret_len) {
        return read_regular(path, max, false, ret, ret_len, NULL);
}

int read_trusted_file(const char *path, size_t max, char **ret, size_t *ret_len, const char **ret_why) {
        return read_regular(path, max, true, ret, ret_len, ret_why);
}

static int fsync_directory_of(const char *path) {
        _cleanup_(freep) char *copy = strdup(path);
        _cleanup_(closep) int dfd = -EBADF;

        if (!copy)
                return -ENOMEM;
        dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        return RET_NERRNO(fsync(dfd));
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode) {
        _cleanup_(freep) char *tmp = NULL;
        _cleanup_(closep) int fd = -EBADF;
        const char *p = data;
        size_t left = len;
        int r;

        if (asprintf(&tmp, "%s.tmp-XXXXXX", path) < 0)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return errno == EDQUOT ? -ENOSPC : -errno;
        if (fchmod(fd, mode) < 0) {
                r = -errno;
                goto fail;
        }
        while (left > 0) {
                ssize_t n = write(fd, p, left);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        goto fail;
                }
                p += n;
                left -= (size_t) n;
        }
        if (fsync(fd) < 0 || rename(tmp, path) < 0) {
                r = -errno;
                goto fail;
        }
        return fsync_directory_of(path);
fail:
        (void) unlink(tmp);
        /* A quota is no space for the writer (and -EDQUOT is the daemon's
         * rate limit on the bus). */
        return r == -EDQUOT ? -ENOSPC : r;
}

int mkdir_p(const char *path, mode_t mode) {
        _cleanup_(freep) char *copy = strdup(path);

        if (!copy)
                return -ENOMEM;
        for (char *p = copy + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = 0;
                if (mkdir(copy, mode) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(copy, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int unlink_durable(const char *path) {
        if (unlink(path) < 0)
                return -errno;
        return fsync_directory_of(path);
}
