/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "openssl-util.h"
#include "scanner.h"

/* Large reads keep the syscall and copy overhead small next to SHA-256;
 * 256 KiB stays inside L2 so the digest reads what read() just wrote. */
#define SCANNER_BUFFER_SIZE (256U * 1024U)
#define SCANNER_BUFFER_ALIGN 4096U
/* Files at least this large are scheduled first, largest first, so that
 * the last big file does not leave the other workers idle at the end. */
#define SCANNER_LARGE_FILE (1024U * 1024U)
/* A file whose inode changed less than this long before the scan opened
 * it is hashed the careful way (see observe_direct()). Two seconds cover
 * the coarsest timestamps of the file systems that take the direct way
 * (ext2/3 with 128-byte inodes keep whole seconds). */
#define SCANNER_SETTLED_SEC 2
/* Files at least this large are hashed from a mapping of the page cache,
 * this much at a time, instead of being copied out with read(): on large
 * files the copy cost 13-15% of the hashing rate. */
#define SCANNER_MAP_MIN SCANNER_LARGE_FILE
#define SCANNER_MAP_WINDOW (8U * 1024U * 1024U)

static const char *const violation_kind_table[_VIOLATION_KIND_MAX] = {
        [VIOLATION_MODIFIED] = "modified",
        [VIOLATION_MISSING] = "missing",
        [VIOLATION_UNEXPECTED] = "unexpected",
        [VIOLATION_METADATA] = "metadata",
        [VIOLATION_TYPE] = "type",
        [VIOLATION_UNREADABLE] = "unreadable",
};

/* Not every libc or kernel header names these. */
#ifndef CONFIGFS_MAGIC
#define CONFIGFS_MAGIC 0x62656570
#endif
#ifndef FUSECTL_SUPER_MAGIC
#define FUSECTL_SUPER_MAGIC 0x65735543
#endif
#ifndef MQUEUE_MAGIC
#define MQUEUE_MAGIC 0x19800202
#endif
#ifndef RPC_PIPEFS_MAGIC
#define RPC_PIPEFS_MAGIC 0x67596969
#endif

/* File systems whose files the kernel makes up when they are read: their
 * sizes mean nothing (proc says 0 for hundreds of GiB of pagemap), some
 * reads block or have side effects, and none of them holds installed
 * software. The scanner neither reads a file nor lists a directory on
 * them. Sorted by name; compared as 32 bits because f_type is a signed
 * word whose width differs between architectures. */
static const struct {
        uint32_t magic;
        const char *name;
} pseudo_fs_table[] = {
        { BINFMTFS_MAGIC, "binfmt_misc" },
        { BPF_FS_MAGIC, "bpf" },
        { CGROUP_SUPER_MAGIC, "cgroup" },
        { CGROUP2_SUPER_MAGIC, "cgroup2" },
        { CONFIGFS_MAGIC, "configfs" },
        { DEBUGFS_MAGIC, "debugfs" },
        { DEVPTS_SUPER_MAGIC, "devpts" },
        { EFIVARFS_MAGIC, "efivarfs" },
        { FUSECTL_SUPER_MAGIC, "fusectl" },
        { MQUEUE_MAGIC, "mqueue" },
        { NSFS_MAGIC, "nsfs" },
        { PROC_SUPER_MAGIC, "proc" },
        { PSTOREFS_MAGIC, "pstore" },
        { RPC_PIPEFS_MAGIC, "rpc_pipefs" },
        { SECURITYFS_MAGIC, "securityfs" },
        { SELINUX_MAGIC, "selinuxfs" },
        { SMACK_MAGIC, "smackfs" },
        { SYSFS_MAGIC, "sysfs" },
        { TRACEFS_MAGIC, "tracefs" },
};

const char *scan_pseudo_fs_name(long f_type) {
        for (size_t i = 0; i < ELEMENTSOF(pseudo_fs_table); i++)
                if (pseudo_fs_table[i].magic == (uint32_t) f_type)
                        return pseudo_fs_table[i].name;
        return NULL;
}

/* The pseudo file system fd is on, NULL if it is on none; -errno of
 * fstatfs() in *ret_error. */
/* The pseudo file system fd is on (NULL: one that stores files), and its
 * f_type if ret_type. */
static const char *fd_pseudo_fs_type(int fd, int *ret_error, long *ret_type) {
        struct statfs sf;

        *ret_error = 0;
        if (fstatfs(fd, &sf) < 0) {
                *ret_error = -errno;
                return NULL;
        }
        if (ret_type)
                *ret_type = (long) sf.f_type;
        return scan_pseudo_fs_name((long) sf.f_type);
}

static const char *fd_pseudo_fs(int fd, int *ret_error) {
        return fd_pseudo_fs_type(fd, ret_error, NULL);
}

const char *violation_kind_to_string(ViolationKind k) {
        return k >= 0 && k < _VIOLATION_KIND_MAX ? violation_kind_table[k] : NULL;
}

ViolationKind violation_kind_from_string(const char *s) {
        for (int i = 0; s && i < _VIOLATION_KIND_MAX; i++)
                if (streq(violation_kind_table[i], s))
                        return (ViolationKind) i;
        return _VIOLATION_KIND_INVALID;
}

static const char *type_name(EntryType t) {
        static const char *const names[_ENTRY_TYPE_MAX] = {
                [ENTRY_FILE] = "file",     [ENTRY_DIR] = "dir",   [ENTRY_LINK] = "link",
                [ENTRY_FIFO] = "fifo",     [ENTRY_CHAR] = "char", [ENTRY_BLOCK] = "block",
                [ENTRY_SOCKET] = "socket",
        };
        return t >= 0 && t < _ENTRY_TYPE_MAX ? names[t] : "unknown";
}

static EntryType type_from_mode(mode_t m) {
        switch (m & S_IFMT) {
        case S_IFREG:
                return ENTRY_FILE;
        case S_IFDIR:
                return ENTRY_DIR;
        case S_IFLNK:
                return ENTRY_LINK;
        case S_IFIFO:
                return ENTRY_FIFO;
        case S_IFCHR:
                return ENTRY_CHAR;
        case S_IFBLK:
                return ENTRY_BLOCK;
        case S_IFSOCK:
                return ENTRY_SOCKET;
        default:
                return _ENTRY_TYPE_INVALID;
        }
}

/* Appends one finding to detail, "; "-separated, truncating quietly. */
static void _printf_(3, 4) detail_add(char *detail, size_t len, const char *format, ...) {
        size_t o;
        va_list ap;

        if (!detail || len == 0)
                return;
        o = strnlen(detail, len);
        if (o > 0 && o + 2 < len) {
                memcpy(detail + o, "; ", 3);
                o += 2;
        }
        if (o + 1 >= len)
                return;
        va_start(ap, format);
        (void) vsnprintf(detail + o, len - o, format, ap);
        va_end(ap);
}

static void digest_hex(const uint8_t d[32], char out[65]) {
        static const char hex[] = "0123456789abcdef";

        for (size_t i = 0; i < 32; i++) {
                out[2 * i] = hex[d[i] >> 4];
                out[2 * i + 1] = hex[d[i] & 15];
        }
        out[64] = 0;
}

/* strerror() may use a static buffer; the verdict runs on worker threads. */
static const char *errno_text(int e) {
        const char *s = strerrordesc_np(e);
        return s ? s : "unknown error";
}

static EntryType expected_type(const ManifestEntry *e) {
        if (e->has & MANIFEST_HAS_TYPE)
                return e->type;
        if (e->has & (MANIFEST_HAS_SHA256 | MANIFEST_HAS_SIZE))
                return ENTRY_FILE;
        if (e->has & MANIFEST_HAS_LINK)
                return ENTRY_LINK;
        return _ENTRY_TYPE_INVALID;
}

static int verdict_absent(const ManifestEntry *e, const ScanObservation *o, ViolationKind *ret_kind,
                          char *detail, size_t len) {
        if (o->error == -ENOENT) {
                if (e->optional)
                        return 0;
                detail_add(detail, len, "not found");
                *ret_kind = VIOLATION_MISSING;
        } else if (o->error == -ENOTDIR || o->error == -ELOOP || o->error == -EXDEV) {
                detail_add(detail, len, "not reachable: a parent is a symbolic link or not a directory");
                *ret_kind = VIOLATION_MISSING;
        } else {
                detail_add(detail, len, "cannot examine: %s", errno_text(-o->error));
                *ret_kind = VIOLATION_UNREADABLE;
        }
        return 1;
}

static void verdict_content(const ManifestEntry *e, const ScanObservation *o, ViolationKind *kind,
                            char *detail, size_t len) {
        char got[65], want[65];

        if (o->type == ENTRY_FILE) {
                /* A pseudo file system's sizes mean nothing. */
                if ((e->has & MANIFEST_HAS_SIZE) && o->size != e->size && !o->pseudo_fs) {
                        detail_add(detail, len, "size %" PRIu64 ", expected %" PRIu64, o->size, e->size);
                        *kind = VIOLATION_MODIFIED;
                }
                if (o->pseudo_fs && *kind != VIOLATION_MODIFIED) {
                        detail_add(detail, len, "on a pseudo file system (%s): not read", o->pseudo_fs);
                        *kind = VIOLATION_UNREADABLE;
                } else if (o->read_error == -EFBIG && *kind != VIOLATION_MODIFIED) {
                        detail_add(detail, len,
                                   "not hashed: %" PRIu64 " bytes, above the %" PRIu64
                                   " bytes hashed for an entry without size",
                                   o->size, (uint64_t) SCANNER_UNSIZED_MAX);
                        *kind = VIOLATION_UNREADABLE;
                }
                if (o->changed) {
                        detail_add(detail, len, "changed while it was being hashed");
                        *kind = VIOLATION_MODIFIED;
                } else if ((e->has & MANIFEST_HAS_SHA256) && o->hashed &&
                           memcmp(o->sha256, e->sha256, 32) != 0) {
                        digest_hex(o->sha256, got);
                        digest_hex(e->sha256, want);
                        detail_add(detail, len, "sha256 %s, expected %s", got, want);
                        *kind = VIOLATION_MODIFIED;
                }
                if (o->read_error < 0 && o->read_error != -EFBIG && !o->pseudo_fs &&
                    *kind != VIOLATION_MODIFIED) {
                        detail_add(detail, len, "cannot read: %s", errno_text(-o->read_error));
                        *kind = VIOLATION_UNREADABLE;
                }
        }
        if (o->type == ENTRY_LINK && (e->has & MANIFEST_HAS_LINK) && !streq_ptr(o->link, e->link)) {
                if (o->link)
                        detail_add(detail, len, "link target '%s', expected '%s'", o->link, e->link);
                else
                        detail_add(detail, len, "link target unreadable: %s", errno_text(-o->read_error));
                *kind = o->link ? VIOLATION_MODIFIED : VIOLATION_UNREADABLE;
        }
}

int scan_verdict(const ManifestEntry *e, const ScanObservation *o, ViolationKind *ret_kind, char *detail,
                 size_t detail_len) {
        ViolationKind kind = _VIOLATION_KIND_INVALID;
        EntryType want = expected_type(e);

        if (detail && detail_len > 0)
                detail[0] = 0;
        if (o->error < 0)
                return verdict_absent(e, o, ret_kind, detail, detail_len);

        if (want >= 0 && o->type != want) {
                if (o->type == ENTRY_LINK && o->link)
                        detail_add(detail, detail_len, "expected %s, found link to '%s'", type_name(want),
                                   o->link);
                else
                        detail_add(detail, detail_len, "expected %s, found %s", type_name(want),
                                   type_name(o->type));
                *ret_kind = VIOLATION_TYPE;
                return 1;
        }

        verdict_content(e, o, &kind, detail, detail_len);

        if ((e->has & MANIFEST_HAS_MODE) && (o->mode & 07777) != (e->mode & 07777)) {
                detail_add(detail, detail_len, "mode %04o, expected %04o", (unsigned) (o->mode & 07777),
                           (unsigned) (e->mode & 07777));
                if (kind < 0)
                        kind = VIOLATION_METADATA;
        }
        if ((e->has & MANIFEST_HAS_UID) && o->uid != e->uid) {
                detail_add(detail, detail_len, "uid %u, expected %u", (unsigned) o->uid, (unsigned) e->uid);
                if (kind < 0)
                        kind = VIOLATION_METADATA;
        }
        if ((e->has & MANIFEST_HAS_GID) && o->gid != e->gid) {
                detail_add(detail, detail_len, "gid %u, expected %u", (unsigned) o->gid, (unsigned) e->gid);
                if (kind < 0)
                        kind = VIOLATION_METADATA;
        }
        if (kind < 0)
                return 0;
        *ret_kind = kind;
        return 1;
}

void scan_violation_done(ScanViolation *v) {
        free(v->path);
        free(v->detail);
        *v = (ScanViolation){};
}

void scan_violation_array_free(ScanViolation *v, size_t n) {
        for (size_t i = 0; v && i < n; i++)
                scan_violation_done(v + i);
        free(v);
}

/* --- path escaping ------------------------------------------------------ */

char *scan_path_escape(const char *path) {
        bool utf8 = utf8_is_valid(path, strlen(path));
        size_t n = strlen(path);
        char *out = malloc(n * 4 + 1), *o = out;

        if (!out)
                return NULL;
        for (const unsigned char *p = (const unsigned char *) path; *p; p++) {
                if (*p == '\\' || *p < 0x20 || *p == 0x7f || (*p >= 0x80 && !utf8)) {
                        (void) sprintf(o, "\\%03o", *p);
                        o += 4;
                } else
                        *o++ = (char) *p;
        }
        *o = 0;
        return out;
}

int scan_path_unescape(const char *s, char **ret) {
        char *out = malloc(strlen(s) + 1), *o = out;

        if (!out)
                return -ENOMEM;
        for (const char *p = s; *p; p++) {
                unsigned v = 0;

                if (*p != '\\') {
                        *o++ = *p;
                        continue;
                }
                for (int i = 1; i <= 3; i++) {
                        if (p[i] < '0' || p[i] > '7') {
                                free(out);
                                return -EINVAL;
                        }
                        v = v * 8 + (unsigned) (p[i] - '0');
                }
                if (v == 0 || v > 0xff) {
                        free(out);
                        return -EINVAL;
                }
                *o++ = (char) v;
                p += 3;
        }
        *o = 0;
        *ret = out;
        return 0;
}

/* --- the threaded scan -------------------------------------------------- */

#define TAKE_STRUCT(s)                                                                                      \
        ({                                                                                                  \
                __typeof__(s) _taken = (s);                                                                 \
                (s) = (__typeof__(s)){};                                                                    \
                _taken;                                                                                     \
        })

DEFINE_CLEANUP_FUNC(EVP_MD *, EVP_MD_free, EVP_MD_freep)

typedef struct Worker {
        Scanner *scanner;
        pthread_t thread;
        bool started;
        uint8_t *buffer;
        EVP_MD_CTX *ctx;
        /* The last parent directory resolved, and its fd or -errno: entries
         * come mostly in path order, so most lookups hit. */
        char *parent_path;
        int parent_fd;
        /* The last file system checked for being a pseudo one (by st_dev:
         * one device number, one superblock, one file system type), so
         * that fstatfs() runs once per file system, not once per file. */
        bool fs_known;
        dev_t fs_dev;
        const char *fs_pseudo;
        long fs_type;
        /* Whether files of the directory parent_fd (or the root) may be
         * hashed without a stat first (observe_direct()); -1: not known
         * yet. Reset with the parent. */
        int parent_direct;
        int root_direct;
        /* Written by this worker only, summed by scanner_get_progress(): on
         * a cache line of their own (the array is aligned), so that the
         * workers never write to one line per file. */
        struct {
                _Alignas(64) _Atomic uint64_t files_done;
                _Atomic uint64_t bytes_done;
                _Atomic uint64_t files_direct;
        } count;
} Worker;

struct Scanner {
        const Manifest *manifest;
        char *const *paths; /* NULL: full scan */
        uint32_t *order; /* full scan: entry indices in scheduling order */
        size_t n_items;
        int root_fd;
        int event_fd;
        EVP_MD *md;

        atomic_size_t next;
        atomic_uint running;
        atomic_bool cancelled;
        uint64_t files_total;
        uint64_t bytes_total;

        pthread_mutex_t lock; /* protects everything below */
        ScanViolation *violations;
        size_t n_violations;
        size_t n_allocated;
        uint64_t total_violations;
        bool keep_digest; /* one path: its digest is wanted even if the size differs */
        /* Full scan: per manifest entry, the d_type its directory's listing
         * gave (DT_UNKNOWN until the listing got there). */
        _Atomic uint8_t *listed_type;
        bool have_digest;
        uint8_t digest[32];

        Worker *workers;
        unsigned n_workers;
};

int scan_open_beneath(int root_fd, const char *path, int flags) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC | O_NOFOLLOW),
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        _cleanup_(closep) int cur = -EBADF;
        _cleanup_(freep) char *copy = NULL;
        char *save = NULL;

        for (int attempt = 0; attempt < 8; attempt++) {
                long fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
                if (fd >= 0)
                        return (int) fd;
                if (errno != EAGAIN)
                        break;
        }
        if (errno != ENOSYS)
                return -errno;

        /* Before Linux 5.6: one component at a time, each O_NOFOLLOW. The
         * manifest parser guarantees there is no ".." to climb out with. */
        copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        cur = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return -errno;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                bool last = !save || !*save;
                int fd = openat(cur, c,
                                last ? flags | O_CLOEXEC | O_NOFOLLOW
                                     : O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0)
                        return -errno;
                closep(&cur);
                cur = fd;
        }
        return TAKE_FD(cur);
}

/* The worker owns parent_fd; this is the one place that closes it. The
 * path goes with it, so that the cache can never hand out a closed fd. */
static void worker_forget_parent(Worker *w) {
        w->parent_fd = safe_close(w->parent_fd);
        w->parent_path = mfree(w->parent_path);
        w->parent_direct = -1;
}

static int worker_parent(Worker *w, const char *path, const char **ret_name) {
        const char *slash = strrchr(path, '/');
        size_t l;

        if (!slash) {
                *ret_name = path;
                return w->scanner->root_fd;
        }
        l = (size_t) (slash - path);
        *ret_name = slash + 1;
        if (w->parent_path && strlen(w->parent_path) == l && memcmp(w->parent_path, path, l) == 0)
                return w->parent_fd;

        worker_forget_parent(w);
        w->parent_path = strndup(path, l);
        if (!w->parent_path)
                return (w->parent_fd = -ENOMEM);
        w->parent_fd = scan_open_beneath(w->scanner->root_fd, w->parent_path, O_PATH | O_DIRECTORY);
        return w->parent_fd;
}

static void scanner_record(Scanner *s, const char *path, ViolationKind kind, const char *detail) {
        ScanViolation v = {
                .path = strdup(path),
                .kind = kind,
                .detail = strdup(detail),
                .detected = now_usec(CLOCK_REALTIME),
        };

        pthread_mutex_lock(&s->lock);
        s->total_violations++;
        if (s->n_violations < SCANNER_VIOLATIONS_MAX && v.path && v.detail) {
                if (s->n_violations >= s->n_allocated) {
                        size_t na = MAX(s->n_allocated * 2, 16U);
                        ScanViolation *p = reallocarray(s->violations, na, sizeof(ScanViolation));
                        if (p) {
                                s->violations = p;
                                s->n_allocated = na;
                        }
                }
                if (s->n_violations < s->n_allocated)
                        s->violations[s->n_violations++] = TAKE_STRUCT(v);
        }
        pthread_mutex_unlock(&s->lock);
        scan_violation_done(&v);
}

/* fstat() through fstatat(), the function the lstat of an entry uses: the
 * times of the two are compared, and a preloaded library that rewrites
 * times (libfaketime in the tests) must rewrite both alike. */
static int fd_stat(int fd, struct stat *ret) {
        return fstatat(fd, "", ret, AT_EMPTY_PATH);
}

/* Whether a is the regular file b describes (same inode of the same file
 * system). */
static bool stat_same_file(const struct stat *a, const struct stat *b) {
        return S_ISREG(a->st_mode) && a->st_ino == b->st_ino && a->st_dev == b->st_dev;
}

/* A mapped file that shrinks under the reader raises SIGBUS on the first
 * page beyond its new end (so does an I/O error). The worker that maps a
 * window says where it is; the handler jumps back out of the digest to the
 * worker, which reports the file as changed. A SIGBUS anywhere else is
 * fatal, as without a handler. */
static __thread sigjmp_buf *bus_escape;
static __thread const uint8_t *bus_lo, *bus_hi;

static void on_sigbus(int sig, siginfo_t *si, void *context) {
        const uint8_t *a = si->si_addr;
        struct sigaction dfl = { .sa_handler = SIG_DFL };

        (void) context;
        if (bus_escape && a >= bus_lo && a < bus_hi)
                siglongjmp(*bus_escape, 1);
        /* Returning re-runs the faulting access, which now kills. */
        (void) sigaction(sig, &dfl, NULL);
}

static pthread_once_t sigbus_once = PTHREAD_ONCE_INIT;
static int sigbus_error;

static void sigbus_install(void) {
        struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };

        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGBUS, &sa, NULL) < 0)
                sigbus_error = -errno;
}

/* Hashes len bytes of fd at off from one read-only mapping. Returns 0,
 * -EBUSY when the file became shorter meanwhile, -EIO when a page could
 * not be read, or the -errno of mmap(). */
static int hash_window(EVP_MD_CTX *ctx, int fd, uint64_t off, size_t len) {
        /* volatile: read again after the jump back. */
        uint8_t *volatile p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, (off_t) off);
        volatile uint64_t end = off + len;
        volatile size_t n = len;
        sigjmp_buf escape;
        struct stat st;
        int ok;

        if (p == MAP_FAILED)
                return -errno;
        if (sigsetjmp(escape, 1) != 0) {
                bus_escape = NULL;
                (void) munmap(p, n);
                return fd_stat(fd, &st) < 0 || (uint64_t) st.st_size < end ? -EBUSY : -EIO;
        }
        bus_lo = p;
        bus_hi = p + n;
        bus_escape = &escape;
        ok = EVP_DigestUpdate(ctx, p, n);
        bus_escape = NULL;
        (void) munmap(p, n);
        return ok == 1 ? 0 : -EIO;
}

/* Hashes the first size bytes of fd (a regular file) window by window.
 * Returns 0, -ECANCELED, or what hash_window() does. */
static int hash_mapped(EVP_MD_CTX *ctx, int fd, uint64_t size, Worker *w, bool count) {
        for (uint64_t off = 0; off < size;) {
                size_t len = (size_t) MIN((uint64_t) SCANNER_MAP_WINDOW, size - off);
                int r = hash_window(ctx, fd, off, len);

                if (r < 0)
                        return r;
                off += len;
                if (count)
                        atomic_fetch_add_explicit(&w->count.bytes_done, len, memory_order_relaxed);
                if (atomic_load_explicit(&w->scanner->cancelled, memory_order_relaxed))
                        return -ECANCELED;
        }
        return 0;
}

/* Hashes at most expected bytes of fd (a regular file, from offset 0);
 * with probe_end one byte more is asked for, and a read that returns less
 * than asked is taken as the end (what fstat() then says settles it). A
 * scan's worker w (NULL outside a scan) hashes a large file from mappings
 * instead, exactly expected bytes, is asked whether the scan was
 * cancelled, and with count adds the bytes to its progress. *ret_total:
 * the bytes hashed. Returns 0, -ECANCELED, -EIO, -EBUSY (a mapped file
 * shrank), or a read or mmap -errno. */
static int hash_read(EVP_MD_CTX *ctx, const EVP_MD *md, uint8_t *buf, size_t size, int fd, uint64_t expected,
                     bool probe_end, Worker *w, bool count, uint8_t ret[32], uint64_t *ret_total) {
        uint64_t total = 0, want = expected + probe_end;
        unsigned n = 0;
        bool stop_short = probe_end;

        /* Only large files gain from a bigger readahead; for small ones it
         * is one syscall more per file. */
        if (expected >= SCANNER_LARGE_FILE)
                (void) posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        if (EVP_DigestInit_ex2(ctx, md, NULL) != 1)
                return -EIO;
        if (w && expected >= SCANNER_MAP_MIN && sigbus_error == 0) {
                int r = hash_mapped(ctx, fd, expected, w, count);

                *ret_total = r == 0 ? expected : 0;
                if (r < 0)
                        return r;
                return EVP_DigestFinal_ex(ctx, ret, &n) == 1 && n == 32 ? 0 : -EIO;
        }
        while (total < want) {
                size_t ask = (size_t) MIN((uint64_t) size, want - total);
                ssize_t k = read(fd, buf, ask);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        *ret_total = total;
                        return -errno;
                }
                if (k == 0)
                        break;
                if (EVP_DigestUpdate(ctx, buf, (size_t) k) != 1)
                        return -EIO;
                total += (uint64_t) k;
                if (w) {
                        if (count)
                                atomic_fetch_add_explicit(&w->count.bytes_done, (uint64_t) k,
                                                          memory_order_relaxed);
                        if (atomic_load_explicit(&w->scanner->cancelled, memory_order_relaxed))
                                return -ECANCELED;
                }
                if (stop_short && (size_t) k < ask)
                        break;
        }
        *ret_total = total;
        if (EVP_DigestFinal_ex(ctx, ret, &n) != 1 || n != 32)
                return -EIO;
        return 0;
}

/* Hashes the st_size bytes of fd that before (its lstat() or fstat())
 * reported, and never a byte more: a file that grows is caught by the
 * fstat() at the end, and one whose size lies (a pseudo file system) is
 * never read this far. The fstat() at the end must find the file before
 * describes, unchanged; so must a read error, or it is a change (a FIFO or
 * device swapped in after the lstat). Returns 0, -EBUSY when the file
 * changed meanwhile, -ECANCELED, or a read -errno. */
static int hash_fd_with(EVP_MD_CTX *ctx, const EVP_MD *md, uint8_t *buf, size_t size, int fd,
                        const struct stat *before, Worker *w, bool count, uint8_t ret[32]) {
        uint64_t total = 0;
        struct stat after;
        int r;

        r = hash_read(ctx, md, buf, size, fd, (uint64_t) before->st_size, false, w, count, ret, &total);
        if (r < 0 && r != -ECANCELED && r != -EIO)
                return fd_stat(fd, &after) >= 0 && !stat_same_file(&after, before) ? -EBUSY : r;
        if (r < 0)
                return r;
        /* A writer racing with us may leave a digest of bytes that were never
         * all in the file at once; such a digest proves nothing. */
        if (fd_stat(fd, &after) < 0)
                return -errno;
        if (!stat_same_file(&after, before) || total != (uint64_t) before->st_size ||
            after.st_size != before->st_size || after.st_mtim.tv_sec != before->st_mtim.tv_sec ||
            after.st_mtim.tv_nsec != before->st_mtim.tv_nsec ||
            after.st_ctim.tv_sec != before->st_ctim.tv_sec ||
            after.st_ctim.tv_nsec != before->st_ctim.tv_nsec)
                return -EBUSY;
        return 0;
}

/* Looks up (once per device number) the file system fd is on. */
static int worker_fs(Worker *w, int fd, dev_t dev) {
        const char *pseudo;
        long type = 0;
        int r;

        if (w->fs_known && w->fs_dev == dev)
                return 0;
        pseudo = fd_pseudo_fs_type(fd, &r, &type);
        if (r < 0)
                return r;
        w->fs_known = true;
        w->fs_dev = dev;
        w->fs_type = type;
        w->fs_pseudo = pseudo;
        return 0;
}

/* Looks up the file system of the entry name in dfd that lstat() found
 * on device dev, through an O_PATH fd (which opens nothing). -EAGAIN when
 * what was opened is no longer on dev (it was replaced meanwhile). */
static int worker_fs_at(Worker *w, int dfd, const char *name, dev_t dev) {
        _cleanup_(closep) int fd = -EBADF;
        struct stat st;

        if (w->fs_known && w->fs_dev == dev)
                return 0;
        fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fd_stat(fd, &st) < 0)
                return -errno;
        if (st.st_dev != dev)
                return -EAGAIN;
        return worker_fs(w, fd, dev);
}

/* Local file systems whose ctime moves with every change of a file's
 * content or metadata, stamped from the clock of this machine (unlike a
 * network one, whose server's clock may lag ours). Compared as 32 bits
 * (see pseudo_fs_table). */
static bool fs_stamps_locally(long f_type) {
        static const uint32_t local[] = {
                EXT4_SUPER_MAGIC, XFS_SUPER_MAGIC,      BTRFS_SUPER_MAGIC,  TMPFS_MAGIC,
                SQUASHFS_MAGIC,   EROFS_SUPER_MAGIC_V1, F2FS_SUPER_MAGIC,   OVERLAYFS_SUPER_MAGIC,
        };

        for (size_t i = 0; i < ELEMENTSOF(local); i++)
                if ((uint32_t) f_type == local[i])
                        return true;
        return false;
}

/* Whether the files of directory dfd may take the direct way: it is on a
 * local file system (the cache of its file system is keyed by device
 * number, and the direct open does not leave that mount). */
static bool worker_dir_direct(Worker *w, int dfd) {
        int *known = dfd == w->scanner->root_fd ? &w->root_direct : &w->parent_direct;
        struct stat d;

        if (*known < 0)
                *known = fd_stat(dfd, &d) >= 0 && worker_fs(w, dfd, d.st_dev) >= 0 && !w->fs_pseudo &&
                         fs_stamps_locally(w->fs_type);
        return *known > 0;
}

static bool timespec_before(const struct timespec *a, const struct timespec *b) {
        return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* The direct way for a regular file that its directory's listing showed
 * (d_type DT_REG, so no lstat is needed to know it is no FIFO or device
 * node): open, read, fstat, close — the least any verifier does. The open
 * does not follow links or cross a mount point (a file bind-mounted over
 * a listed one, e.g. from /proc, fails with EXDEV), and the one fstat()
 * after reading proves both what was read and that it did not change
 * meanwhile: a regular file of exactly the bytes read whose ctime is older
 * than the coarse clock before the open (less a margin for coarse
 * timestamps). Any change of content or metadata after that moment would
 * have set ctime to a later time. Returns 1 when o is filled; otherwise
 * the entry is left to the careful way (anything unusual: another type, a
 * size other than listed, a recent change, an error): 0 when nothing was
 * read, -1 when bytes were (and counted in the progress). */
static int observe_direct(Worker *w, int dfd, const char *name, const ManifestEntry *e, ScanObservation *o) {
        Scanner *s = w->scanner;
        struct open_how how = {
                .flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        _cleanup_(closep) int fd = -EBADF;
        struct timespec t0;
        uint64_t total = 0;
        struct stat a;
        long k;
        int r;

        if (!s->listed_type || (e->has & (MANIFEST_HAS_SHA256 | MANIFEST_HAS_SIZE)) !=
                                       (MANIFEST_HAS_SHA256 | MANIFEST_HAS_SIZE) ||
            atomic_load_explicit(&s->listed_type[e - s->manifest->entries], memory_order_relaxed) != DT_REG ||
            !worker_dir_direct(w, dfd) || clock_gettime(CLOCK_REALTIME_COARSE, &t0) < 0)
                return 0;
        k = syscall(SYS_openat2, dfd, name, &how, sizeof(how));
        if (k < 0)
                return 0;
        fd = (int) k;
        /* One byte more than listed: a longer file shows as such (or, when
         * mapped, in the fstat). */
        r = hash_read(w->ctx, s->md, w->buffer, SCANNER_BUFFER_SIZE, fd, e->size, true, w, true, o->sha256,
                      &total);
        if (r == -ECANCELED)
                return 1;
        t0.tv_sec -= SCANNER_SETTLED_SEC;
        if (r < 0 || fd_stat(fd, &a) < 0 || !S_ISREG(a.st_mode) || total != e->size ||
            (uint64_t) a.st_size != total || !timespec_before(&a.st_ctim, &t0))
                return -1;
        o->type = ENTRY_FILE;
        o->mode = a.st_mode & 07777;
        o->uid = a.st_uid;
        o->gid = a.st_gid;
        o->size = total;
        o->hashed = true;
        atomic_fetch_add_explicit(&w->count.files_direct, 1, memory_order_relaxed);
        return 1;
}

/* Hashes the regular file name of dfd that lstat() described as st (at
 * most the listed size, or SCANNER_UNSIZED_MAX: observe() made sure). */
static void observe_content(Worker *w, int dfd, const char *name, const struct stat *st, bool count,
                            ScanObservation *o) {
        _cleanup_(closep) int fd = -EBADF;
        int r;

        /* O_NONBLOCK: should a FIFO or device be swapped in after the
         * lstat, opening it must not hang; the inode check sees it. */
        fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                if (errno == ELOOP || errno == ENOENT || errno == ENXIO)
                        o->changed = true;
                else
                        o->read_error = -errno;
                return;
        }
        /* observe() found the lstat'ed file on a file system that stores
         * files. What was opened is compared with the lstat (inode, device,
         * type, size, times) by hash_fd_with() after reading, and a digest
         * of anything else is thrown away; the read itself stays within
         * the lstat's size, which is within the limit. */
        r = hash_fd_with(w->ctx, w->scanner->md, w->buffer, SCANNER_BUFFER_SIZE, fd, st, w, count, o->sha256);
        if (r == -EBUSY)
                o->changed = true;
        else if (r < 0 && r != -ECANCELED)
                o->read_error = r;
        else if (r == 0)
                o->hashed = true;
}

static void observe(Worker *w, int dfd, const char *name, const ManifestEntry *e, ScanObservation *o,
                    char **link) {
        struct stat st;
        int direct = observe_direct(w, dfd, name, e, o);

        if (direct > 0)
                return;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                o->error = -errno;
                return;
        }
        o->type = type_from_mode(st.st_mode);
        o->mode = st.st_mode & 07777;
        o->uid = st.st_uid;
        o->gid = st.st_gid;
        o->size = (uint64_t) st.st_size;

        if (o->type == ENTRY_LINK) {
                size_t sz = (size_t) MAX(st.st_size, 255) + 2;
                ssize_t k;

                *link = malloc(sz);
                if (!*link)
                        return;
                k = readlinkat(dfd, name, *link, sz - 1);
                if (k < 0)
                        o->read_error = -errno;
                else {
                        (*link)[k] = 0;
                        o->link = *link;
                }
        } else if (o->type == ENTRY_FILE) {
                /* Whether it is on a pseudo file system is known before
                 * anything else is decided: such a file is never read, and
                 * its size is not compared (a file bind-mounted from /proc
                 * says 0). */
                int r = worker_fs_at(w, dfd, name, st.st_dev);

                if (r == -EAGAIN || r == -ENOENT || r == -ELOOP)
                        o->changed = true;
                else if (r < 0)
                        o->read_error = r;
                else
                        o->pseudo_fs = w->fs_pseudo;
        }
        if (o->type == ENTRY_FILE && (e->has & MANIFEST_HAS_SHA256) && !o->changed && o->read_error == 0 &&
            !o->pseudo_fs) {
                bool sized = e->has & MANIFEST_HAS_SIZE;
                uint64_t limit = sized ? e->size : SCANNER_UNSIZED_MAX;

                /* A file larger than listed is a size violation, and without
                 * a listed size one above the cap cannot be verified: neither
                 * is read. A smaller one settles it without reading too,
                 * except when one path is verified and its digest is asked
                 * for. */
                if (o->size > limit) {
                        if (!sized)
                                o->read_error = -EFBIG;
                } else if (!sized || o->size == e->size || w->scanner->keep_digest)
                        observe_content(w, dfd, name, &st, direct == 0, o);
        }
}

static char *child_path(const char *dir, const char *name) {
        return streq(dir, ".") ? strdup(name) : strjoin_alloc(dir, "/", name);
}

/* Reports every entry of a listed directory that the manifest does not list. */
static void list_directory(Worker *w, int dfd, const char *name, const char *dir_path) {
        Scanner *s = w->scanner;
        _cleanup_(closep) int fd = -EBADF;
        _cleanup_(closedirp) DIR *d = NULL;
        const ManifestEntry *e;
        ManifestRange below;
        struct dirent *de;
        const char *pseudo;
        int r;

        fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0 || !(d = fdopendir(fd))) {
                char detail[128];
                (void) snprintf(detail, sizeof(detail), "cannot list the directory: %s", errno_text(errno));
                scanner_record(s, dir_path, VIOLATION_UNREADABLE, detail);
                return;
        }
        TAKE_FD(fd); /* d owns it now */
        pseudo = fd_pseudo_fs(dirfd(d), &r);
        if (r < 0 || pseudo) {
                char detail[160];
                if (pseudo)
                        (void) snprintf(detail, sizeof(detail),
                                        "on a pseudo file system (%s): not searched for unlisted entries",
                                        pseudo);
                else
                        (void) snprintf(detail, sizeof(detail), "cannot list the directory: %s",
                                        errno_text(-r));
                scanner_record(s, dir_path, VIOLATION_UNREADABLE, detail);
                return;
        }
        if (manifest_subtree(s->manifest, dir_path, &below) < 0) {
                scanner_record(s, dir_path, VIOLATION_UNREADABLE, "cannot list the directory: out of memory");
                return;
        }
        while ((de = readdir(d))) {
                if (atomic_load_explicit(&s->cancelled, memory_order_relaxed))
                        return;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                e = manifest_find_child(s->manifest, &below, de->d_name);
                if (!e) {
                        _cleanup_(freep) char *p = child_path(dir_path, de->d_name);
                        if (p)
                                scanner_record(s, p, VIOLATION_UNEXPECTED, "not in the manifest");
                } else if (s->listed_type)
                        atomic_store_explicit(&s->listed_type[e - s->manifest->entries], de->d_type,
                                              memory_order_relaxed);
        }
}

static void check_entry(Worker *w, const ManifestEntry *e) {
        Scanner *s = w->scanner;
        ScanObservation o = {};
        _cleanup_(freep) char *link = NULL;
        char detail[SCANNER_DETAIL_MAX];
        ViolationKind kind;
        const char *name;
        int dfd;

        dfd = worker_parent(w, e->path, &name);
        if (dfd < 0)
                o.error = dfd;
        else
                observe(w, dfd, name, e, &o, &link);
        if (atomic_load_explicit(&s->cancelled, memory_order_relaxed))
                return;
        if (scan_verdict(e, &o, &kind, detail, sizeof(detail)) > 0)
                scanner_record(s, e->path, kind, detail);
        /* A directory with a changed mode is still searched for intruders. */
        if (o.error == 0 && o.type == ENTRY_DIR && expected_type(e) != ENTRY_FILE &&
            (expected_type(e) == ENTRY_DIR || expected_type(e) < 0) && !e->ignore)
                list_directory(w, dfd, name, e->path);
        if (o.hashed && s->keep_digest) {
                pthread_mutex_lock(&s->lock);
                memcpy(s->digest, o.sha256, 32);
                s->have_digest = true;
                pthread_mutex_unlock(&s->lock);
        }
}

/* A recheck of one path that inotify named: listed paths are checked
 * against their entry, others only for being unexpected. */
static void check_path(Worker *w, const char *path) {
        const ManifestEntry *e = manifest_find(w->scanner->manifest, path);
        _cleanup_(freep) char *parent = NULL;
        const ManifestEntry *pe;
        const char *slash, *name;
        struct stat st;
        int dfd;

        if (e) {
                check_entry(w, e);
                return;
        }
        slash = strrchr(path, '/');
        parent = slash ? strndup(path, (size_t) (slash - path)) : strdup(".");
        if (!parent)
                return;
        pe = manifest_find(w->scanner->manifest, parent);
        if (!pe || pe->ignore)
                return;
        dfd = worker_parent(w, path, &name);
        if (dfd >= 0 && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0)
                scanner_record(w->scanner, path, VIOLATION_UNEXPECTED, "not in the manifest");
}

static void *worker_main(void *userdata) {
        Worker *w = userdata;
        Scanner *s = w->scanner;

        for (;;) {
                size_t i;

                if (atomic_load_explicit(&s->cancelled, memory_order_relaxed))
                        break;
                i = atomic_fetch_add(&s->next, 1);
                if (i >= s->n_items)
                        break;
                if (s->paths)
                        check_path(w, s->paths[i]);
                else
                        check_entry(w, s->manifest->entries + s->order[i]);
                atomic_fetch_add_explicit(&w->count.files_done, 1, memory_order_relaxed);
        }
        /* The directory fd goes now, not when the scanner is freed, so that
         * finished scans hold no fds; it is reset, so nothing closes it again. */
        worker_forget_parent(w);
        if (atomic_fetch_sub(&s->running, 1) == 1)
                (void) eventfd_write(s->event_fd, 1);
        return NULL;
}

static int compare_size_desc(const void *a, const void *b, void *userdata) {
        const Manifest *m = userdata;
        uint64_t x = m->entries[*(const uint32_t *) a].size, y = m->entries[*(const uint32_t *) b].size;

        return x < y ? 1 : x > y ? -1 : 0;
}

static bool entry_is_large(const ManifestEntry *e) {
        return (e->has & MANIFEST_HAS_SHA256) && (e->has & MANIFEST_HAS_SIZE) &&
               e->size >= SCANNER_LARGE_FILE;
}

/* Which of the three runs of the plan an entry goes to. */
static int entry_rank(const ManifestEntry *e) {
        return expected_type(e) == ENTRY_DIR ? 0 : entry_is_large(e) ? 1 : 2;
}

/* Directories first (their listings tell the file types that let the
 * files take the direct way, see observe_direct()), then large files,
 * largest first, so that the last big file does not leave the other
 * workers idle at the end; everything else in path order, which keeps each
 * worker's parent directory cache warm. */
static int scanner_plan(Scanner *s) {
        const Manifest *m = s->manifest;
        size_t count[3] = {}, at[3];

        if (m->n_entries > UINT32_MAX)
                return -E2BIG;
        s->order = reallocarray(NULL, MAX(m->n_entries, 1U), sizeof(uint32_t));
        if (!s->order)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_entries; i++)
                count[entry_rank(m->entries + i)]++;
        at[0] = 0;
        at[1] = count[0];
        at[2] = count[0] + count[1];
        for (size_t i = 0; i < m->n_entries; i++)
                s->order[at[entry_rank(m->entries + i)]++] = (uint32_t) i;
        qsort_r(s->order + count[0], count[1], sizeof(uint32_t), compare_size_desc, (void *) m);
        s->n_items = m->n_entries;
        s->listed_type = calloc(MAX(m->n_entries, 1U), sizeof(_Atomic uint8_t));
        return s->listed_type ? 0 : -ENOMEM;
}

static void scanner_totals(Scanner *s) {
        const Manifest *m = s->manifest;

        s->files_total = s->n_items;
        for (size_t i = 0; i < s->n_items; i++) {
                const ManifestEntry *e = s->paths ? manifest_find(m, s->paths[i]) : m->entries + i;
                if (e && (e->has & MANIFEST_HAS_SHA256) && (e->has & MANIFEST_HAS_SIZE))
                        s->bytes_total += e->size;
        }
}

/* A read buffer on a page boundary. malloc() of 256 KiB gives an mmap'ed
 * chunk 16 bytes past one, and the kernel's copy from the page cache into
 * such a buffer was 5-6x slower on the development machine (the first
 * scan after start paid 0.7-0.9 s of system time for what later scans, in
 * reused chunks at other offsets, did in 0.13-0.19 s). */
static uint8_t *scanner_buffer_new(void) {
        return aligned_alloc(SCANNER_BUFFER_ALIGN, SCANNER_BUFFER_SIZE);
}

static int scanner_spawn(Scanner *s, unsigned n_threads) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);

        if (n_threads == 0)
                n_threads = cpus > 0 ? (unsigned) cpus : 1;
        n_threads = MIN(n_threads, SCANNER_THREADS_MAX);
        n_threads = (unsigned) MAX(MIN((size_t) n_threads, s->n_items), 1U);

        s->workers = aligned_alloc(_Alignof(Worker), n_threads * sizeof(Worker));
        if (!s->workers)
                return -ENOMEM;
        memset(s->workers, 0, n_threads * sizeof(Worker));
        s->n_workers = n_threads;
        /* Every worker holds no fd before anything can fail: calloc's 0
         * would be closed by scanner_free() as if it were ours. */
        for (unsigned i = 0; i < n_threads; i++) {
                s->workers[i].parent_fd = -EBADF;
                s->workers[i].parent_direct = s->workers[i].root_direct = -1;
        }
        for (unsigned i = 0; i < n_threads; i++) {
                Worker *w = s->workers + i;

                w->scanner = s;
                w->buffer = scanner_buffer_new();
                w->ctx = EVP_MD_CTX_new();
                if (!w->buffer || !w->ctx)
                        return -ENOMEM;
        }
        atomic_store(&s->running, n_threads);
        for (unsigned i = 0; i < n_threads; i++) {
                int r = pthread_create(&s->workers[i].thread, NULL, worker_main, s->workers + i);
                if (r != 0) {
                        /* The threads that never started count as finished. */
                        atomic_store(&s->cancelled, true);
                        if (atomic_fetch_sub(&s->running, n_threads - i) == n_threads - i)
                                (void) eventfd_write(s->event_fd, 1);
                        return -r;
                }
                s->workers[i].started = true;
        }
        return 0;
}

int scanner_start(const Manifest *m, int root_fd, unsigned n_threads, char *const *paths, size_t n_paths,
                  Scanner **ret) {
        _cleanup_(scanner_freep) Scanner *s = calloc(1, sizeof(Scanner));
        int r;

        if (!s)
                return -ENOMEM;
        s->root_fd = s->event_fd = -EBADF;
        pthread_mutex_init(&s->lock, NULL);
        s->manifest = m;
        s->paths = paths;
        s->root_fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
        if (s->root_fd < 0)
                return -errno;
        s->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (s->event_fd < 0)
                return -errno;
        (void) pthread_once(&sigbus_once, sigbus_install);
        s->md = EVP_MD_fetch(NULL, "SHA256", NULL);
        if (!s->md)
                return -EIO;
        if (paths) {
                s->n_items = n_paths;
                s->keep_digest = n_paths == 1;
        } else if ((r = scanner_plan(s)) < 0)
                return r;
        scanner_totals(s);
        r = scanner_spawn(s, n_threads);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

int scanner_get_fd(const Scanner *s) {
        return s->event_fd;
}

bool scanner_is_done(const Scanner *s) {
        return atomic_load(&s->running) == 0;
}

void scanner_get_progress(const Scanner *s, ScanProgress *ret) {
        *ret = (ScanProgress){
                .files_total = s->files_total,
                .bytes_total = s->bytes_total,
        };
        for (unsigned i = 0; i < s->n_workers; i++) {
                const Worker *w = s->workers + i;

                ret->files_done += atomic_load_explicit(&w->count.files_done, memory_order_relaxed);
                ret->bytes_done += atomic_load_explicit(&w->count.bytes_done, memory_order_relaxed);
                ret->files_direct += atomic_load_explicit(&w->count.files_direct, memory_order_relaxed);
        }
}

void scanner_cancel(Scanner *s) {
        atomic_store(&s->cancelled, true);
}

static int compare_violation(const void *a, const void *b) {
        const ScanViolation *x = a, *y = b;
        int c = strcmp(x->path, y->path);
        return c != 0 ? c : (int) x->kind - (int) y->kind;
}

int scanner_take_violations(Scanner *s, ScanViolation **ret, size_t *ret_n, uint64_t *ret_total) {
        if (!scanner_is_done(s))
                return -EBUSY;
        pthread_mutex_lock(&s->lock);
        if (s->n_violations > 0) /* qsort(NULL, 0, ...) is undefined */
                qsort(s->violations, s->n_violations, sizeof(ScanViolation), compare_violation);
        *ret = TAKE_PTR(s->violations);
        *ret_n = s->n_violations;
        if (ret_total)
                *ret_total = s->total_violations;
        s->n_violations = s->n_allocated = 0;
        pthread_mutex_unlock(&s->lock);
        return 0;
}

int scanner_get_digest(const Scanner *s, uint8_t ret[32]) {
        if (!scanner_is_done(s))
                return -EBUSY;
        if (!s->have_digest)
                return -ENODATA;
        memcpy(ret, s->digest, 32);
        return 0;
}

Scanner *scanner_free(Scanner *s) {
        bool full;

        if (!s)
                return NULL;
        full = !s->paths;
        atomic_store(&s->cancelled, true);
        for (unsigned i = 0; i < s->n_workers; i++) {
                Worker *w = s->workers + i;

                if (w->started)
                        (void) pthread_join(w->thread, NULL);
                worker_forget_parent(w);
                free(w->buffer);
                EVP_MD_CTX_free(w->ctx);
        }
        free(s->workers);
        scan_violation_array_free(s->violations, s->n_violations);
        free(s->order);
        free(s->listed_type);
        EVP_MD_free(s->md);
        s->root_fd = safe_close(s->root_fd);
        s->event_fd = safe_close(s->event_fd);
        pthread_mutex_destroy(&s->lock);
        free(s);
        /* A full scan leaves the workers' buffers and its bookkeeping in
         * free lists (one arena per thread): give them back to the system,
         * so that an idle daemon holds only what it uses. */
        if (full)
                (void) malloc_trim(0);
        return NULL;
}

int scanner_hash_fd(int fd, uint8_t ret[32]) {
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        _cleanup_(EVP_MD_freep) EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
        _cleanup_(freep) uint8_t *buf = scanner_buffer_new();
        struct stat st;
        int r = 0;

        if (!ctx || !md || !buf)
                return -ENOMEM;
        if (fd_stat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || fd_pseudo_fs(fd, &r) || r < 0)
                return r < 0 ? r : -EBADFD;
        /* Executables are hashed from the start whatever the fd's offset. */
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        return hash_fd_with(ctx, md, buf, SCANNER_BUFFER_SIZE, fd, &st, NULL, false, ret);
}
