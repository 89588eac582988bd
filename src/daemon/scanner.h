/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The integrity scanner: compares the tree under a root directory fd with a
 * Manifest. It never leaves the tree (openat2 RESOLVE_BENEATH), never
 * follows a symbolic link (RESOLVE_NO_SYMLINKS, O_NOFOLLOW), never blocks
 * on a FIFO or device node (it opens only what an lstat() or its
 * directory's listing showed to be a regular file, with O_NONBLOCK in case
 * one is swapped in between) and hashes with OpenSSL
 * EVP on its own worker threads. Memory use is bounded: one read buffer per
 * worker and at most SCANNER_VIOLATIONS_MAX recorded violations, whatever
 * the size of the tree. Time is bounded too: it never reads a file or lists
 * a directory on a pseudo file system (proc, sysfs, ...: see
 * scan_pseudo_fs_name()), never reads more of a file than the manifest's
 * size for it (SCANNER_UNSIZED_MAX for an entry without size) nor more
 * than fstat() reported, and a cancelled scan stops within one read.
 *
 * Files of 1 MiB and more are hashed from read-only mappings; the first
 * scanner_start() installs a process-wide SIGBUS handler that acts only on
 * a fault inside a worker's current mapping (a file that shrank: reported
 * changed) and leaves any other SIGBUS fatal.
 *
 * The module knows nothing of D-Bus or sd-event: a scan signals its end on
 * an eventfd that the caller watches. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "manifest.h"
#include "util.h"

#define SCANNER_VIOLATIONS_MAX 10000U
#define SCANNER_THREADS_MAX 64U
#define SCANNER_DETAIL_MAX 512U
/* An entry with sha256 but no size is hashed only up to this many bytes; a
 * larger file is reported "unreadable" without being read. (With a size,
 * the size is the bound.) Documented in endpointd-manifest(5). */
#define SCANNER_UNSIZED_MAX (UINT64_C(1) << 30)

typedef enum ViolationKind {
        VIOLATION_MODIFIED, /* content, size or link target differs */
        VIOLATION_MISSING, /* listed, not optional, not there */
        VIOLATION_UNEXPECTED, /* not listed, in a listed directory without "ignore" */
        VIOLATION_METADATA, /* mode, uid or gid differs */
        VIOLATION_TYPE, /* e.g. a file replaced by a link, FIFO or device */
        VIOLATION_UNREADABLE, /* exists but could not be read or examined */
        _VIOLATION_KIND_MAX,
        _VIOLATION_KIND_INVALID = -EINVAL,
} ViolationKind;

const char *violation_kind_to_string(ViolationKind k) _pure_;
ViolationKind violation_kind_from_string(const char *s) _pure_;

/* What the scanner saw at one path: the input of the verdict. */
typedef struct ScanObservation {
        int error; /* 0, or -errno resolving/lstat'ing the path (-ENOENT: absent;
                    * -ENOTDIR/-ELOOP/-EXDEV: a parent is not a plain directory) */
        EntryType type;
        mode_t mode; /* permission bits only (07777) */
        uid_t uid;
        gid_t gid;
        uint64_t size;
        const char *link; /* target when type is ENTRY_LINK and it was read */
        int read_error; /* -errno opening or reading a regular file, else 0;
                         * -EFBIG: not read, above SCANNER_UNSIZED_MAX */
        const char *pseudo_fs; /* the file is on this pseudo file system: not read */
        bool hashed; /* sha256 holds the content's digest */
        bool changed; /* size, mtime, ctime or inode moved while hashing */
        uint8_t sha256[32];
} ScanObservation;

/* The verdict: a pure function of the manifest entry and the observation.
 * Only keywords the entry carries are checked. Returns 0 when the entry is
 * satisfied, 1 when it is violated, with *ret_kind set to the most severe
 * finding (type > modified > unreadable > metadata; missing on absence) and
 * detail (if non-NULL) holding every finding as "; "-separated sentences. */
int scan_verdict(const ManifestEntry *e, const ScanObservation *o, ViolationKind *ret_kind, char *detail,
                 size_t detail_len);

typedef struct ScanViolation {
        char *path; /* raw bytes, relative to the root, as in the manifest */
        ViolationKind kind;
        char *detail;
        usec_t detected; /* CLOCK_REALTIME */
} ScanViolation;

void scan_violation_done(ScanViolation *v);
void scan_violation_array_free(ScanViolation *v, size_t n);

typedef struct ScanProgress {
        uint64_t files_done;
        uint64_t files_total;
        uint64_t bytes_done;
        uint64_t bytes_total;
        /* Of files_done: regular files that the listing of their directory
         * showed and that were read without a stat first (one syscall less;
         * see observe_direct() in scanner.c). */
        uint64_t files_direct;
} ScanProgress;

typedef struct Scanner Scanner;

/* Starts a scan of the tree under root_fd (an O_PATH or O_RDONLY directory
 * fd; it is dup'ed) against m, on n_threads worker threads (0: one per
 * online CPU). With paths == NULL every entry is checked and every listed
 * directory without "ignore" is listed for unexpected entries (a full
 * scan); otherwise only the given raw paths are (re)checked: listed ones
 * against their entry, unlisted ones for being unexpected. m and the paths
 * must stay valid until the scanner is freed. Returns 0, -ENOMEM, or the
 * -errno of creating a thread or the eventfd. */
int scanner_start(const Manifest *m, int root_fd, unsigned n_threads, char *const *paths, size_t n_paths,
                  Scanner **ret);

/* An eventfd that becomes readable once every worker has finished. */
int scanner_get_fd(const Scanner *s);
bool scanner_is_done(const Scanner *s);
/* Safe to call from any thread at any time; counters only grow. */
void scanner_get_progress(const Scanner *s, ScanProgress *ret);
/* Asks the workers to stop early; the result is then incomplete. */
void scanner_cancel(Scanner *s);

/* After the end: hands out the recorded violations (sorted by path) and the
 * total number found (which may exceed the recorded ones). -EBUSY while
 * still running. */
int scanner_take_violations(Scanner *s, ScanViolation **ret, size_t *ret_n, uint64_t *ret_total);
/* For a scan of exactly one path: the digest of its content, if it was
 * hashed. -ENODATA otherwise, -EBUSY while still running. */
int scanner_get_digest(const Scanner *s, uint8_t ret[32]);

/* Cancels, joins the workers and frees. NULL-safe. */
Scanner *scanner_free(Scanner *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Scanner *, scanner_free);

/* Hashes the whole content of fd (from offset 0) with SHA-256 and checks
 * that fd is a regular file that did not change meanwhile. Returns 0,
 * -EBADFD for a non-regular file or one on a pseudo file system, -EBUSY if
 * it changed while being read, or the -errno of the read. */
int scanner_hash_fd(int fd, uint8_t ret[32]);

/* The name of the pseudo file system with this statfs f_type (proc, sysfs,
 * devpts, debugfs, tracefs, securityfs, cgroup, cgroup2, bpf, configfs,
 * pstore, efivarfs, ...), or NULL for one that stores files. */
const char *scan_pseudo_fs_name(long f_type) _pure_;

/* Opens path (relative, no "..") below root_fd without ever following a
 * symbolic link or leaving the tree (openat2 RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS; component by component before Linux 5.6). Returns
 * the fd or -errno (-ELOOP when a component is a symbolic link). */
int scan_open_beneath(int root_fd, const char *path, int flags);

/* Escapes a raw path for places that need text (D-Bus strings, logs):
 * backslash, control bytes, DEL and, when the path is not valid UTF-8,
 * every byte >= 0x80 become "\ooo" (mtree style). Returns NULL on OOM. */
char *scan_path_escape(const char *path);
/* The inverse; -EINVAL on a bad escape or one that yields NUL. */
int scan_path_unescape(const char *s, char **ret);
