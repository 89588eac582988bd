/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "macro.h"

/* Reads a whole regular file of at most max bytes into a NUL-terminated
 * malloc'ed buffer (the NUL is not counted in *ret_len; the data may itself
 * contain NULs). Refuses anything that is not a regular file without
 * blocking on it (FIFOs, devices): -EBADFD. -EFBIG above max. */
int read_full_file(const char *path, size_t max, char **ret, size_t *ret_len);
/* Same, for a file that configures the daemon or says what it trusts
 * (configuration, policy, trust anchors): also -EPERM if someone other than
 * root or us could have written it, i.e. it is owned by another user or
 * writable by its group or by others, or could have put it there: a
 * directory on its path is owned by another user, or writable by its group
 * or others without being sticky. *ret_why (may be NULL) then says which,
 * as a phrase for an error message. */
int read_trusted_file(const char *path, size_t max, char **ret, size_t *ret_len, const char **ret_why);
/* For a message where *ret_why is not at hand: the two reasons. */
#define UNTRUSTED_FILE "owned by a user other than root, or writable by its group or by others"
/* The same test on a stat (the file alone), and on a directory and the
 * directories on its path (whose files it covers: whoever may write the
 * directory may put files in it). */
int stat_check_trusted(const struct stat *st, const char **ret_why);
int dir_check_trusted(const char *path, const char **ret_why);
/* Same for an open fd, read from its current offset. */
int read_full_fd(int fd, size_t max, char **ret, size_t *ret_len);

/* Replaces path atomically: writes a temporary file in the same directory,
 * fsyncs it, renames it over path and fsyncs the directory. Either the old
 * or the new content is there after a crash, never a mix. A full disk or
 * an exceeded quota is -ENOSPC. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* Creates a directory and its parents with the given mode; exists is fine. */
int mkdir_p(const char *path, mode_t mode);

/* Deletes path and fsyncs its directory. -ENOENT if it was not there. */
int unlink_durable(const char *path);
