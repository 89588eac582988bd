/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sys/stat.h>

#include "manifest.h"
#include "mtree-write.h"
#include "openssl-util.h"

#define WALK_DEPTH_MAX 256U
#define HASH_CHUNK (128U * 1024U)

typedef struct Walker {
        FILE *out;
        char *error_path; /* where the walk failed */
        uint8_t *buf; /* HASH_CHUNK bytes */
        char *const *ignore; /* directories listed with "ignore" and not walked */
        size_t n_ignore;
        bool *ignore_used;
} Walker;

char *mtree_escape(const char *s) {
        char *out = malloc(strlen(s) * 4 + 1), *o = out;

        if (!out)
                return NULL;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (*p <= 0x20 || *p >= 0x7f || *p == '#' || *p == '=' || *p == '\\') {
                        *o++ = '\\';
                        *o++ = (char) ('0' + (*p >> 6));
                        *o++ = (char) ('0' + ((*p >> 3) & 7));
                        *o++ = (char) ('0' + (*p & 7));
                } else
                        *o++ = (char) *p;
        }
        *o = 0;
        return out;
}

static int write_keywords(const ManifestEntry *e, FILE *out) {
        if (e->has & MANIFEST_HAS_TYPE)
                fprintf(out, " type=%s", entry_type_to_string(e->type));
        if (e->has & MANIFEST_HAS_MODE)
                fprintf(out, " mode=%o", (unsigned) e->mode);
        if (e->has & MANIFEST_HAS_UID)
                fprintf(out, " uid=%" PRIu32, (uint32_t) e->uid);
        if (e->has & MANIFEST_HAS_GID)
                fprintf(out, " gid=%" PRIu32, (uint32_t) e->gid);
        if (e->has & MANIFEST_HAS_SIZE)
                fprintf(out, " size=%" PRIu64, e->size);
        if (e->has & MANIFEST_HAS_LINK) {
                _cleanup_(freep) char *link = mtree_escape(e->link);

                if (!link)
                        return -ENOMEM;
                fprintf(out, " link=%s", link);
        }
        if (e->has & MANIFEST_HAS_SHA256) {
                _cleanup_(freep) char *hex = hexmem(e->sha256, sizeof(e->sha256));

                if (!hex)
                        return -ENOMEM;
                fprintf(out, " sha256digest=%s", hex);
        }
        if (e->optional)
                fputs(" optional", out);
        if (e->ignore)
                fputs(" ignore", out);
        return 0;
}

int manifest_write(const Manifest *m, FILE *out) {
        if (m->serial == 0 || !manifest_release_value_is_valid(m->product) ||
            !manifest_release_value_is_valid(m->version))
                return -EINVAL;
        fprintf(out, "#mtree\n# endpointd: serial=%" PRIu64 " product=%s version=%s\n", m->serial,
                m->product, m->version);
        for (size_t i = 0; i < m->n_entries; i++) {
                const ManifestEntry *e = m->entries + i;
                _cleanup_(freep) char *path = mtree_escape(e->path);
                int r;

                if (!path)
                        return -ENOMEM;
                fprintf(out, "%s%s", streq(e->path, ".") ? "" : "./", path);
                r = write_keywords(e, out);
                if (r < 0)
                        return r;
                fputc('\n', out);
        }
        return fflush(out) != 0 || ferror(out) ? -EIO : 0;
}

static int walker_fail(Walker *w, const char *path, int r) {
        if (!w->error_path)
                w->error_path = strdup(path);
        return r;
}

/* Hashes the regular file name in dfd. The file is opened without
 * following symlinks and without blocking, then checked to still be the
 * regular file that was stat'ed, so a swap between stat and open is
 * refused instead of hashing something else. */
static int hash_file(Walker *w, int dfd, const char *name, const struct stat *st, uint8_t ret[32]) {
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
        _cleanup_(closep) int fd = -EBADF;
        struct stat st2;
        uint64_t total = 0;

        fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st2) < 0)
                return negative_errno();
        if (!S_ISREG(st2.st_mode) || st2.st_ino != st->st_ino || st2.st_dev != st->st_dev)
                return -ESTALE;
        ctx = EVP_MD_CTX_new();
        if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, w->buf, HASH_CHUNK);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                if (EVP_DigestUpdate(ctx, w->buf, (size_t) n) != 1)
                        return -EIO;
                total += (uint64_t) n;
        }
        if (EVP_DigestFinal_ex(ctx, ret, NULL) != 1)
                return -EIO;
        if (fstat(fd, &st2) < 0)
                return negative_errno();
        /* A writer racing with us would leave a digest that matches no
         * version of the file. */
        if (total != (uint64_t) st->st_size || st2.st_size != st->st_size ||
            st2.st_mtim.tv_sec != st->st_mtim.tv_sec || st2.st_mtim.tv_nsec != st->st_mtim.tv_nsec)
                return -ESTALE;
        return 0;
}

static const char *type_name(mode_t m) {
        switch (m & S_IFMT) {
        case S_IFREG:
                return "file";
        case S_IFDIR:
                return "dir";
        case S_IFLNK:
                return "link";
        case S_IFIFO:
                return "fifo";
        case S_IFCHR:
                return "char";
        case S_IFBLK:
                return "block";
        case S_IFSOCK:
                return "socket";
        default:
                return NULL;
        }
}

/* Writes the line for one entry; path is relative to the root ("." for it). */
static int write_entry(Walker *w, int dfd, const char *name, const char *path, const struct stat *st,
                       bool ignore) {
        _cleanup_(freep) char *escaped = mtree_escape(path), *target = NULL;
        const char *type = type_name(st->st_mode);
        uint8_t digest[32];
        int r;

        if (!escaped)
                return -ENOMEM;
        if (!type)
                return -EBADFD;
        fprintf(w->out, "%s%s type=%s mode=%o uid=%" PRIu32 " gid=%" PRIu32, streq(path, ".") ? "" : "./",
                escaped, type, (unsigned) (st->st_mode & 07777), (uint32_t) st->st_uid,
                (uint32_t) st->st_gid);
        if (S_ISREG(st->st_mode)) {
                _cleanup_(freep) char *hex = NULL;

                r = hash_file(w, dfd, name, st, digest);
                if (r < 0)
                        return r;
                hex = hexmem(digest, sizeof(digest));
                if (!hex)
                        return -ENOMEM;
                fprintf(w->out, " size=%" PRIu64 " sha256digest=%s", (uint64_t) st->st_size, hex);
        } else if (S_ISLNK(st->st_mode)) {
                char link[PATH_MAX];
                ssize_t n = readlinkat(dfd, name, link, sizeof(link) - 1);

                if (n < 0)
                        return negative_errno();
                link[n] = 0;
                target = mtree_escape(link);
                if (!target)
                        return -ENOMEM;
                fprintf(w->out, " link=%s", target);
        }
        if (ignore)
                fputs(" ignore", w->out);
        fputc('\n', w->out);
        return ferror(w->out) ? -EIO : 0;
}

static int name_compare(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static void names_free(char **names, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
}

/* Lists dfd's entries, sorted, so the output does not depend on readdir order. */
static int list_names(int dfd, char ***ret, size_t *ret_n) {
        char **names = NULL;
        size_t n = 0, alloc = 0;
        struct dirent *de;
        _cleanup_(closep) int fd = -EBADF;
        _cleanup_(closedirp) DIR *d = NULL;

        fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        d = fdopendir(fd);
        if (!d)
                return negative_errno();
        TAKE_FD(fd); /* d owns it now */
        while ((errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (n >= alloc) {
                        char **m;

                        alloc = MAX(alloc * 2, (size_t) 32);
                        m = reallocarray(names, alloc, sizeof(char *));
                        if (!m)
                                goto oom;
                        names = m;
                }
                names[n] = strdup(de->d_name);
                if (!names[n])
                        goto oom;
                n++;
        }
        if (errno != 0) {
                int r = negative_errno();
                names_free(names, n);
                return r;
        }
        if (n > 0)
                qsort(names, n, sizeof(char *), name_compare);
        *ret = names;
        *ret_n = n;
        return 0;
oom:
        names_free(names, n);
        return -ENOMEM;
}

static bool ignore_lookup(Walker *w, const char *path) {
        for (size_t i = 0; i < w->n_ignore; i++)
                if (streq(w->ignore[i], path)) {
                        w->ignore_used[i] = true;
                        return true;
                }
        return false;
}

static int walk_dir(Walker *w, int dfd, const char *dir_path, unsigned depth) {
        char **names = NULL;
        size_t n = 0;
        int r;

        if (depth >= WALK_DEPTH_MAX)
                return walker_fail(w, dir_path, -ELOOP);
        r = list_names(dfd, &names, &n);
        if (r < 0)
                return walker_fail(w, dir_path, r);
        for (size_t i = 0; i < n && r >= 0; i++) {
                _cleanup_(freep) char *path =
                        streq(dir_path, ".") ? strdup(names[i]) : strjoin_alloc(dir_path, "/", names[i]);
                struct stat st;
                bool ignore;

                if (!path) {
                        r = -ENOMEM;
                        break;
                }
                if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = walker_fail(w, path, negative_errno());
                        break;
                }
                ignore = ignore_lookup(w, path);
                if (ignore && !S_ISDIR(st.st_mode)) {
                        r = walker_fail(w, path, -ENOTDIR);
                        break;
                }
                r = write_entry(w, dfd, names[i], path, &st, ignore);
                if (r < 0) {
                        r = walker_fail(w, path, r);
                        break;
                }
                if (S_ISDIR(st.st_mode) && !ignore) {
                        _cleanup_(closep) int sub =
                                openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        struct stat st2;

                        if (sub < 0 || fstat(sub, &st2) < 0)
                                r = walker_fail(w, path, negative_errno());
                        else if (st2.st_ino != st.st_ino || st2.st_dev != st.st_dev)
                                r = walker_fail(w, path, -ESTALE);
                        else
                                r = walk_dir(w, sub, path, depth + 1);
                }
        }
        names_free(names, n);
        return r;
}

int manifest_write_tree(int root_fd, uint64_t serial, const char *product, const char *version,
                        char *const *ignore, FILE *out, char **error_path) {
        Walker w = { .out = out, .ignore = ignore };
        struct stat st;
        int r;

        if (error_path)
                *error_path = NULL;
        if (serial == 0 || !manifest_release_value_is_valid(product) ||
            !manifest_release_value_is_valid(version))
                return -EINVAL;
        if (fstat(root_fd, &st) < 0)
                return negative_errno();
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        while (ignore && ignore[w.n_ignore])
                w.n_ignore++;
        w.buf = malloc(HASH_CHUNK);
        w.ignore_used = calloc(w.n_ignore + 1, sizeof(bool));
        if (!w.buf || !w.ignore_used) {
                free(w.buf);
                free(w.ignore_used);
                return -ENOMEM;
        }
        fprintf(out, "#mtree\n# endpointd: serial=%" PRIu64 " product=%s version=%s\n", serial, product,
                version);
        r = write_entry(&w, root_fd, ".", ".", &st, false);
        if (r >= 0)
                r = walk_dir(&w, root_fd, ".", 0);
        /* An --ignore that matched nothing is most likely a typo. */
        for (size_t i = 0; r >= 0 && i < w.n_ignore; i++)
                if (!w.ignore_used[i])
                        r = walker_fail(&w, w.ignore[i], -ENOENT);
        if (r >= 0 && (fflush(out) != 0 || ferror(out)))
                r = -EIO;
        free(w.buf);
        free(w.ignore_used);
        if (r < 0 && error_path)
                *error_path = TAKE_PTR(w.error_path);
        free(w.error_path);
        return r;
}
