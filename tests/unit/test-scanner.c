/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "check-main.h"
#include "openssl-util.h"
#include "scanner.h"

/* --- the verdict, without any I/O ----------------------------------------- */

static ManifestEntry file_entry(void) {
        ManifestEntry e = {
                .path = (char *) "bin/pump",
                .type = ENTRY_FILE,
                .has = MANIFEST_HAS_TYPE | MANIFEST_HAS_MODE | MANIFEST_HAS_UID | MANIFEST_HAS_GID |
                       MANIFEST_HAS_SIZE | MANIFEST_HAS_SHA256,
                .mode = 0755,
                .size = 5,
        };
        memset(e.sha256, 0xab, 32);
        return e;
}

static ScanObservation file_seen(void) {
        ScanObservation o = { .type = ENTRY_FILE, .mode = 0755, .size = 5, .hashed = true };
        memset(o.sha256, 0xab, 32);
        return o;
}

static ViolationKind verdict(const ManifestEntry *e, const ScanObservation *o, char *detail) {
        ViolationKind k = _VIOLATION_KIND_INVALID;
        int r = scan_verdict(e, o, &k, detail, SCANNER_DETAIL_MAX);
        ck_assert_int_ge(r, 0);
        return r == 0 ? _VIOLATION_KIND_INVALID : k;
}

START_TEST(test_verdict_clean) {
        ManifestEntry e = file_entry();
        ScanObservation o = file_seen();
        char d[SCANNER_DETAIL_MAX];

        ck_assert_int_eq(verdict(&e, &o, d), _VIOLATION_KIND_INVALID);
        ck_assert_str_eq(d, "");
}
END_TEST

START_TEST(test_verdict_content) {
        ManifestEntry e = file_entry();
        ScanObservation o = file_seen();
        char d[SCANNER_DETAIL_MAX];

        o.sha256[7] ^= 1;
        ck_assert_int_eq(verdict(&e, &o, d), VIOLATION_MODIFIED);
        ck_assert_ptr_nonnull(strstr(d, "sha256"));

        o = file_seen();
        o.size = 4;
        o.hashed = false;
        ck_assert_int_eq(verdict(&e, &o, d), VIOLATION_MODIFIED);
        ck_assert_ptr_nonnull(strstr(d, "size 4, expected 5"));

        o = file_seen();
        o.hashed = false;
        o.changed = true;
        ck_assert_int_eq(verdict(&e, &o, d), VIOLATION_MODIFIED);
        ck_assert_ptr_nonnull(strstr(d, "while it was being hashed"));

        o = file_seen();
        o.hashed = false;
        o.read_error = -EACCES;
        ck_assert_int_eq(verdict(&e, &o, d), VIOLATION_UNREADABLE);

        /* Without a sha256 keyword the content is not judged. */
        e.has &= ~MANIFEST_HAS_SHA256;
        o = file_seen();
        o.sha256[0] = 0;
        ck_assert_int_eq(verdict(&e, &o, d), _VIOLATION_KIND_INVALID);
}
END_TEST

/* Issue 8, item 11: what is not read says why. */
START_TEST(test_verdict_not_read) {
        ManifestEntry e = file_entry();
        ScanObservation o = file_seen();
        char d[SCANNER_DETAIL_MAX];

        o.hashed = false;
        o.pseudo_fs = "proc";
        ck_assert_int_eq(verdict(&e, &o, d), VIOLATION_UNREADABLE);
        ck_assert_str_eq(d, "on a pseudo file system (proc): not read");

        /* Without size, above the cap: not hashed, and the sizes say so. */
        e.has &= ~MANIFEST_HAS_SIZE;
        o = file_seen();
        o.hashed = false;
        o.size = SCANNER_UNSIZED_MAX + 1;
        o.read_error = -EFBIG;
        ck_assert_int_eq(verdict(&e, &o, d), VIOLATION_UNREADABLE);
        ck_assert_str_eq(d, "not hashed: 1073741825 bytes, above the 1073741824 bytes hashed for an entry "
                            "without size");

        /* On a pseudo file system sizes mean nothing (endpointd-manifest(5)):
         * one that differs from the listed size is not a finding. */
        e = file_entry();
        o.pseudo_fs = "sysfs";
        o.read_error = 0;
        o.size = 4096;
        ck_assert_int_eq(verdict(&e, &o, d), VIOLATION_UNREADABLE);
        ck_assert_str_eq(d, "on a pseudo file system (sysfs): not read");
}
END_TEST

START_TEST(test_pseudo_fs_names) {
        struct statfs sf;

        ck_assert_str_eq(scan_pseudo_fs_name(0x9fa0), "proc");
        ck_assert_str_eq(scan_pseudo_fs_name(0x62656572), "sysfs");
        ck_assert_str_eq(scan_pseudo_fs_name(0x63677270), "cgroup2");
        /* f_type is a signed word: a magic above 2^31 may come sign-extended. */
        ck_assert_str_eq(scan_pseudo_fs_name((long) (int32_t) 0xde5e81e4U), "efivarfs");
        ck_assert_ptr_null(scan_pseudo_fs_name(0xef53)); /* ext4 */
        ck_assert_ptr_null(scan_pseudo_fs_name(0x01021994)); /* tmpfs */
        ck_assert_int_eq(statfs("/proc", &sf), 0);
        ck_assert_str_eq(scan_pseudo_fs_name((long) sf.f_type), "proc");
}
END_TEST

START_TEST(test_verdict_absent) {
        ManifestEntry e = file_entry();
        ScanObservation o = { .error = -ENOENT };
        char d[SCANNER_DETAIL_MAX];

        ck_assert_int_eq(verdict(&e, &o, d), VIOLATION_MISSING);
        e.optional = true;
        ck_assert_int_eq(verdict(&e, &o, d), _VIOLATION_KIND_INVALID);
        e.optional = false;
        o.error = -ELOOP;
        ck_assert_int_eq(verdict(&e, &o, d), VIOLATION_MISSING);
        o.error = -EACCES;
        ck_assert_int_eq(verdict(&e, &o, d), VIOLATION_UNREADABLE);
}
END_TEST

START_TEST(test_verdict_type_and_metadata) {
        ManifestEntry e = file_entry();
        ScanObservation o = file_seen();
        char d[SCANNER_DETAIL_MAX];

        o.type = ENTRY_LINK;
        o.link = "/etc/shadow";
        ck_assert_int_eq(verdict(&e, &o, d), VIOLATION_TYPE);
        ck_assert_ptr_nonnull(strstr(d, "found link to '/etc/shadow'"));
        o.type = ENTRY_FIFO;
        ck_assert_int_eq(verdict(&e, &o, d), VIOLATION_TYPE);
        ck_assert_str_eq(d, "expected file, found fifo");

        o = file_seen();
        o.mode = 04755;
        ck_assert_int_eq(verdict(&e, &o, d), VIOLATION_METADATA);
        ck_assert_str_eq(d, "mode 4755, expected 0755");
        o = file_seen();
        o.uid = 1000;
        o.gid = 7;
        ck_assert_int_eq(verdict(&e, &o, d), VIOLATION_METADATA);
        ck_assert_str_eq(d, "uid 1000, expected 0; gid 7, expected 0");

        /* Content outranks metadata; both are in the detail. */
        o.sha256[0] = 0;
        ck_assert_int_eq(verdict(&e, &o, d), VIOLATION_MODIFIED);
        ck_assert_ptr_nonnull(strstr(d, "uid 1000"));

        /* Without a type keyword, a sha256 implies a regular file. */
        e.has &= ~MANIFEST_HAS_TYPE;
        o = file_seen();
        o.type = ENTRY_DIR;
        ck_assert_int_eq(verdict(&e, &o, d), VIOLATION_TYPE);
}
END_TEST

START_TEST(test_verdict_link) {
        ManifestEntry e = { .path = (char *) "lib/libx.so",
                            .type = ENTRY_LINK,
                            .has = MANIFEST_HAS_TYPE | MANIFEST_HAS_LINK,
                            .link = (char *) "libx.so.1" };
        ScanObservation o = { .type = ENTRY_LINK, .link = "libx.so.1", .mode = 0777 };
        char d[SCANNER_DETAIL_MAX];

        ck_assert_int_eq(verdict(&e, &o, d), _VIOLATION_KIND_INVALID);
        o.link = "/tmp/evil.so";
        ck_assert_int_eq(verdict(&e, &o, d), VIOLATION_MODIFIED);
        ck_assert_str_eq(d, "link target '/tmp/evil.so', expected 'libx.so.1'");
        o.type = ENTRY_FILE;
        ck_assert_int_eq(verdict(&e, &o, d), VIOLATION_TYPE);
}
END_TEST

START_TEST(test_kind_strings) {
        for (int k = 0; k < _VIOLATION_KIND_MAX; k++)
                ck_assert_int_eq(violation_kind_from_string(violation_kind_to_string(k)), k);
        ck_assert_int_eq(violation_kind_from_string("bogus"), _VIOLATION_KIND_INVALID);
        ck_assert_ptr_null(violation_kind_to_string(_VIOLATION_KIND_MAX));
}
END_TEST

START_TEST(test_escape) {
        static const char *const raw[] = { "plain/path",      "with space\nand newline",
                                           "bad\xff\xfeutf8", "caf\xc3\xa9",
                                           "back\\slash",     "\x7f" };
        static const char *const esc[] = { "plain/path",        "with space\\012and newline",
                                           "bad\\377\\376utf8", "caf\xc3\xa9",
                                           "back\\134slash",    "\\177" };

        for (size_t i = 0; i < ELEMENTSOF(raw); i++) {
                char *e = scan_path_escape(raw[i]), *u = NULL;
                ck_assert_ptr_nonnull(e);
                ck_assert_str_eq(e, esc[i]);
                ck_assert_int_eq(scan_path_unescape(e, &u), 0);
                ck_assert_str_eq(u, raw[i]);
                free(e);
                free(u);
        }
        char *u = NULL;
        ck_assert_int_eq(scan_path_unescape("a\\0", &u), -EINVAL);
        ck_assert_int_eq(scan_path_unescape("a\\000", &u), -EINVAL);
        ck_assert_int_eq(scan_path_unescape("a\\9xx", &u), -EINVAL);
}
END_TEST

/* --- real scans of a temporary tree ----------------------------------- */

typedef struct Tree {
        char dir[64];
        int fd;
        Manifest m;
        ManifestEntry e[8];
} Tree;

static void write_at(const char *dir, const char *name, const char *content) {
        char p[256];
        FILE *f;

        (void) snprintf(p, sizeof(p), "%s/%s", dir, name);
        f = fopen(p, "we");
        ck_assert_ptr_nonnull(f);
        fputs(content, f);
        ck_assert_int_eq(fclose(f), 0);
}

static void add_file(Tree *t, size_t i, const char *path, const char *content) {
        struct stat st;
        char p[256];

        write_at(t->dir, path, content);
        (void) snprintf(p, sizeof(p), "%s/%s", t->dir, path);
        ck_assert_int_eq(lstat(p, &st), 0);
        t->e[i] = (ManifestEntry){
                .path = (char *) path,
                .type = ENTRY_FILE,
                .size = strlen(content),
                .mode = st.st_mode & 07777,
                .uid = st.st_uid,
                .gid = st.st_gid,
                .has = MANIFEST_HAS_TYPE | MANIFEST_HAS_SIZE | MANIFEST_HAS_SHA256 | MANIFEST_HAS_MODE |
                       MANIFEST_HAS_UID | MANIFEST_HAS_GID,
        };
        ck_assert_int_eq(sha256_buffer(content, strlen(content), t->e[i].sha256), 0);
}

static void tree_path(const Tree *t, const char *name, char *buf, size_t len) {
        (void) snprintf(buf, len, "%s/%s", t->dir, name);
}

/* root ".", "a" file, "d" dir, "d/x" file, "d/y" file, "l" -> "a". Sorted. */
static void tree_make(Tree *t) {
        char p[256];

        *t = (Tree){};
        strcpy(t->dir, "/tmp/test-scanner.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(t->dir));
        ck_assert_int_eq(chmod(t->dir, 0755), 0);
        t->e[0] = (ManifestEntry){ .path = (char *) ".", .type = ENTRY_DIR, .has = MANIFEST_HAS_TYPE };
        add_file(t, 1, "a", "hello, pump\n");
        tree_path(t, "d", p, sizeof(p));
        ck_assert_int_eq(mkdir(p, 0755), 0);
        t->e[2] = (ManifestEntry){ .path = (char *) "d", .type = ENTRY_DIR, .has = MANIFEST_HAS_TYPE };
        add_file(t, 3, "d/x", "x content");
        add_file(t, 4, "d/y", "");
        tree_path(t, "l", p, sizeof(p));
        ck_assert_int_eq(symlink("a", p), 0);
        t->e[5] = (ManifestEntry){ .path = (char *) "l",
                                   .type = ENTRY_LINK,
                                   .has = MANIFEST_HAS_TYPE | MANIFEST_HAS_LINK,
                                   .link = (char *) "a" };
        t->m = (Manifest){ .entries = t->e, .n_entries = 6, .serial = 1 };
        t->fd = open(t->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(t->fd, 0);
}

static void tree_remove(Tree *t) {
        char cmd[128];
        (void) snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
        ck_assert_int_eq(system(cmd), 0);
        close(t->fd);
}

/* How many files the last scan() read without a stat first. */
static uint64_t last_direct;

static size_t scan(Tree *t, char *const *paths, size_t n_paths, unsigned threads, ScanViolation **ret) {
        _cleanup_(scanner_freep) Scanner *s = NULL;
        struct pollfd p;
        size_t n;
        uint64_t total;
        ScanProgress pr;

        ck_assert_int_eq(scanner_start(&t->m, t->fd, threads, paths, n_paths, &s), 0);
        p = (struct pollfd){ .fd = scanner_get_fd(s), .events = POLLIN };
        ck_assert_int_eq(poll(&p, 1, 30000), 1);
        ck_assert(scanner_is_done(s));
        scanner_get_progress(s, &pr);
        ck_assert_uint_eq(pr.files_done, pr.files_total);
        last_direct = pr.files_direct;
        ck_assert_int_eq(scanner_take_violations(s, ret, &n, &total), 0);
        ck_assert_uint_eq(n, total);
        return n;
}

/* The direct way needs openat2() (Linux 5.6; valgrind 3.19 lacks it). */
static bool have_openat2(void) {
        struct open_how how = { .flags = O_RDONLY | O_CLOEXEC };
        long fd = syscall(SYS_openat2, AT_FDCWD, ".", &how, sizeof(how));

        if (fd >= 0)
                close((int) fd);
        return fd >= 0 || errno != ENOSYS;
}

static const ScanViolation *find_violation(const ScanViolation *v, size_t n, const char *path) {
        for (size_t i = 0; i < n; i++)
                if (streq(v[i].path, path))
                        return v + i;
        return NULL;
}

/* Files older than the scanner's settling margin are read the direct way
 * (open, read, fstat, close) once their directory's listing showed them;
 * what that way cannot vouch for goes the careful way and gets the same
 * verdict: a file shorter or longer than listed, one changed just now, and
 * (as root) a file bind-mounted over a listed one (here one of the same
 * content from another file system; from /proc it could be anything),
 * which the direct open refuses to cross into. A large file is hashed
 * from a mapping of its listed size: one shorter than listed raises SIGBUS
 * past its end, which must come back as a verdict, not kill the scan. */
START_TEST(test_scan_direct) {
        bool mounted = false;
        ScanViolation *v = NULL;
        const ScanViolation *x;
        char p[256], shm[] = "/dev/shm/test-scanner.XXXXXX";
        Tree t;
        size_t n;
        int fd;

        _cleanup_(freep) char *big = malloc(2 << 20 | 1);

        ck_assert_ptr_nonnull(big);
        memset(big, 'b', 2 << 20);
        big[2 << 20] = 0;
        tree_make(&t);
        t.e[7] = t.e[5];
        t.e[5] = t.e[4];
        t.e[4] = t.e[3];
        add_file(&t, 3, "d/big", big);
        t.e[3].size = 8 << 20;
        add_file(&t, 6, "d/z", "zzz\n");
        t.m.n_entries = 8;
        write_at(t.dir, "a", "short\n");
        write_at(t.dir, "d/y", "grown");
        tree_path(&t, "d/x", p, sizeof(p));
        fd = mkstemp(shm);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, "x content", 9), 9);
        ck_assert_int_eq(fchmod(fd, t.e[4].mode), 0);
        ck_assert_int_eq(close(fd), 0);
        if (geteuid() == 0 && mount(shm, p, "none", MS_BIND, NULL) == 0)
                mounted = true;
        sleep(3);

        /* One thread: the directories are listed before any file. */
        n = scan(&t, NULL, 0, 1, &v);
        ck_assert_uint_eq(n, 3);
        ck_assert_uint_eq(last_direct, !have_openat2() ? 0 : mounted ? 1 : 2);
        x = find_violation(v, n, "d/big");
        ck_assert_ptr_nonnull(x);
        ck_assert_int_eq(x->kind, VIOLATION_MODIFIED);
        ck_assert_ptr_nonnull(strstr(x->detail, "size"));
        x = find_violation(v, n, "a");
        ck_assert_ptr_nonnull(x);
        ck_assert_int_eq(x->kind, VIOLATION_MODIFIED);
        ck_assert_ptr_nonnull(strstr(x->detail, "size"));
        x = find_violation(v, n, "d/y");
        ck_assert_ptr_nonnull(x);
        ck_assert_int_eq(x->kind, VIOLATION_MODIFIED);
        ck_assert_ptr_nonnull(strstr(x->detail, "size"));
        ck_assert_ptr_null(find_violation(v, n, "d/x"));
        scan_violation_array_free(v, n);

        /* Changed just now, same size: the careful way, and caught. */
        write_at(t.dir, "d/z", "ZZZ\n");
        n = scan(&t, NULL, 0, 1, &v);
        ck_assert_uint_eq(last_direct, !have_openat2() || mounted ? 0 : 1);
        x = find_violation(v, n, "d/z");
        ck_assert_ptr_nonnull(x);
        ck_assert_int_eq(x->kind, VIOLATION_MODIFIED);
        ck_assert_ptr_nonnull(strstr(x->detail, "sha256"));
        scan_violation_array_free(v, n);

        if (mounted)
                ck_assert_int_eq(umount2(p, MNT_DETACH), 0);
        ck_assert_int_eq(unlink(shm), 0);
        tree_remove(&t);
}
END_TEST

START_TEST(test_scan_clean_then_tampered) {
        Tree t;
        ScanViolation *v = NULL;
        char p[256], q[256];
        size_t n;

        tree_make(&t);
        ck_assert_uint_eq(scan(&t, NULL, 0, 2, &v), 0);
        free(v);

        write_at(t.dir, "a", "hellO, pump\n"); /* same size, other bytes */
        tree_path(&t, "d/x", p, sizeof(p));
        ck_assert_int_eq(unlink(p), 0);
        ck_assert_int_eq(mkfifo(p, 0644), 0); /* must not block the scan */
        tree_path(&t, "d/y", p, sizeof(p));
        ck_assert_int_eq(chmod(p, 04755), 0);
        write_at(t.dir, "d/new", "planted");
        tree_path(&t, "l", p, sizeof(p));
        ck_assert_int_eq(unlink(p), 0);
        ck_assert_int_eq(symlink("/etc/passwd", p), 0);

        n = scan(&t, NULL, 0, 3, &v);
        ck_assert_uint_eq(n, 5);
        ck_assert_str_eq(v[0].path, "a");
        ck_assert_int_eq(v[0].kind, VIOLATION_MODIFIED);
        ck_assert_str_eq(v[1].path, "d/new");
        ck_assert_int_eq(v[1].kind, VIOLATION_UNEXPECTED);
        ck_assert_str_eq(v[2].path, "d/x");
        ck_assert_int_eq(v[2].kind, VIOLATION_TYPE);
        ck_assert_str_eq(v[3].path, "d/y");
        ck_assert_int_eq(v[3].kind, VIOLATION_METADATA);
        ck_assert_str_eq(v[4].path, "l");
        ck_assert_int_eq(v[4].kind, VIOLATION_MODIFIED);
        scan_violation_array_free(v, n);

        /* A directory whose mode changed is still listed for intruders. */
        tree_remove(&t);
        tree_make(&t);
        t.e[2].has |= MANIFEST_HAS_MODE;
        t.e[2].mode = 0755;
        tree_path(&t, "d", p, sizeof(p));
        ck_assert_int_eq(chmod(p, 0777), 0);
        write_at(t.dir, "d/intruder", "x");
        n = scan(&t, NULL, 0, 2, &v);
        ck_assert_uint_eq(n, 2);
        ck_assert_str_eq(v[0].path, "d");
        ck_assert_int_eq(v[0].kind, VIOLATION_METADATA);
        ck_assert_str_eq(v[1].path, "d/intruder");
        ck_assert_int_eq(v[1].kind, VIOLATION_UNEXPECTED);
        scan_violation_array_free(v, n);
        tree_remove(&t);
        tree_make(&t);
        write_at(t.dir, "a", "hellO, pump\n");
        tree_path(&t, "d/x", p, sizeof(p));
        ck_assert_int_eq(unlink(p), 0);
        write_at(t.dir, "d/new", "planted");
        tree_path(&t, "l", p, sizeof(p));
        ck_assert_int_eq(unlink(p), 0);
        ck_assert_int_eq(symlink("/etc/passwd", p), 0);

        /* A directory swapped for a symlink to a copy outside the tree: the
         * scanner must not follow it. */
        tree_path(&t, "d", p, sizeof(p));
        tree_path(&t, "d.moved", q, sizeof(q));
        ck_assert_int_eq(rename(p, q), 0);
        ck_assert_int_eq(symlink(q, p), 0);
        n = scan(&t, NULL, 0, 1, &v);
        ck_assert_uint_ge(n, 4);
        ck_assert_str_eq(v[1].path, "d");
        ck_assert_int_eq(v[1].kind, VIOLATION_TYPE);
        ck_assert_str_eq(v[2].path, "d.moved");
        ck_assert_int_eq(v[2].kind, VIOLATION_UNEXPECTED);
        ck_assert_str_eq(v[3].path, "d/x");
        ck_assert_int_eq(v[3].kind, VIOLATION_MISSING);
        scan_violation_array_free(v, n);
        tree_remove(&t);
}
END_TEST

START_TEST(test_scan_paths_and_digest) {
        Tree t;
        ScanViolation *v = NULL;
        char *paths[] = { (char *) "d/x", (char *) "d/other", (char *) "nonexistent" };
        _cleanup_(scanner_freep) Scanner *s = NULL;
        struct pollfd p;
        uint8_t d[32];

        tree_make(&t);
        write_at(t.dir, "d/other", "planted");
        write_at(t.dir, "d/x", "x content, changed");
        ck_assert_uint_eq(scan(&t, paths, 3, 0, &v), 2);
        ck_assert_str_eq(v[0].path, "d/other");
        ck_assert_int_eq(v[0].kind, VIOLATION_UNEXPECTED);
        ck_assert_str_eq(v[1].path, "d/x");
        ck_assert_int_eq(v[1].kind, VIOLATION_MODIFIED);
        scan_violation_array_free(v, 2);

        /* One path: the digest of what is there is kept for VerifyFile. */
        write_at(t.dir, "d/x", "x content");
        ck_assert_int_eq(scanner_start(&t.m, t.fd, 1, paths, 1, &s), 0);
        p = (struct pollfd){ .fd = scanner_get_fd(s), .events = POLLIN };
        ck_assert_int_eq(poll(&p, 1, 30000), 1);
        ck_assert_int_eq(scanner_get_digest(s, d), 0);
        ck_assert_mem_eq(d, t.e[3].sha256, 32);
        tree_remove(&t);
}
END_TEST

/* Issue 8, item 1: a worker closed its directory fd when it finished, and
 * scanner_free() closed the same number again, by then given to someone
 * else (sd-bus, in the daemon). Whatever takes the freed numbers between
 * the end of a scan and its free must survive the free. */
START_TEST(test_scan_closes_each_fd_once) {
        char *paths[] = { (char *) "d/x" };
        int taken[16];
        Tree t;

        tree_make(&t);
        for (int round = 0; round < 4; round++) {
                _cleanup_(scanner_freep) Scanner *s = NULL;
                struct pollfd p;

                ck_assert_int_eq(
                        scanner_start(&t.m, t.fd, 2, round % 2 ? NULL : paths, round % 2 ? 0 : 1, &s), 0);
                p = (struct pollfd){ .fd = scanner_get_fd(s), .events = POLLIN };
                ck_assert_int_eq(poll(&p, 1, 30000), 1);
                ck_assert(scanner_is_done(s));
                for (size_t i = 0; i < ELEMENTSOF(taken); i++) {
                        taken[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
                        ck_assert_int_ge(taken[i], 0);
                }
                s = scanner_free(s);
                for (size_t i = 0; i < ELEMENTSOF(taken); i++) {
                        ck_assert_msg(fcntl(taken[i], F_GETFD) >= 0, "fd %d was closed by scanner_free()",
                                      taken[i]);
                        close(taken[i]);
                }
        }
        tree_remove(&t);
}
END_TEST

START_TEST(test_hash_fd) {
        Tree t;
        char p[256];
        uint8_t d[32];
        int fd;

        tree_make(&t);
        tree_path(&t, "a", p, sizeof(p));
        fd = open(p, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(lseek(fd, 3, SEEK_SET), 3);
        ck_assert_int_eq(scanner_hash_fd(fd, d), 0);
        ck_assert_mem_eq(d, t.e[1].sha256, 32);
        close(fd);
        fd = open(t.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_eq(scanner_hash_fd(fd, d), -EBADFD);
        close(fd);
        /* A regular file on proc (st_size 0, content made up) is not hashed. */
        fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(scanner_hash_fd(fd, d), -EBADFD);
        close(fd);
        tree_remove(&t);
}
END_TEST

/* Issue 8, item 11: the bytes read are bounded by the manifest. */
START_TEST(test_scan_reads_bounded) {
        char *paths[] = { (char *) "a" };
        _cleanup_(scanner_freep) Scanner *s = NULL;
        ScanViolation *v = NULL;
        ScanProgress pr;
        struct pollfd p;
        char path[256];
        uint8_t d[32];
        Tree t;

        /* Larger than listed: a size violation, and not read at all, also
         * not for VerifyFile's digest. */
        tree_make(&t);
        write_at(t.dir, "a", "hello, pump, and then a lot more\n");
        ck_assert_uint_eq(scan(&t, NULL, 0, 1, &v), 1);
        ck_assert_str_eq(v[0].path, "a");
        ck_assert_int_eq(v[0].kind, VIOLATION_MODIFIED);
        ck_assert_ptr_nonnull(strstr(v[0].detail, "size 33, expected 12"));
        scan_violation_array_free(v, 1);
        ck_assert_int_eq(scanner_start(&t.m, t.fd, 1, paths, 1, &s), 0);
        p = (struct pollfd){ .fd = scanner_get_fd(s), .events = POLLIN };
        ck_assert_int_eq(poll(&p, 1, 30000), 1);
        ck_assert_int_eq(scanner_get_digest(s, d), -ENODATA);
        scanner_get_progress(s, &pr);
        ck_assert_uint_eq(pr.bytes_done, 0);
        s = scanner_free(s);

        /* Without size: a (sparse) file above the cap is reported at once,
         * unread; one below it is hashed as before. */
        t.e[1].has &= ~MANIFEST_HAS_SIZE;
        tree_path(&t, "a", path, sizeof(path));
        ck_assert_int_eq(truncate(path, (off_t) SCANNER_UNSIZED_MAX + 1), 0);
        ck_assert_uint_eq(scan(&t, NULL, 0, 1, &v), 1);
        ck_assert_int_eq(v[0].kind, VIOLATION_UNREADABLE);
        ck_assert_ptr_nonnull(strstr(v[0].detail, "not hashed"));
        scan_violation_array_free(v, 1);
        write_at(t.dir, "a", "hello, pump\n");
        ck_assert_uint_eq(scan(&t, NULL, 0, 1, &v), 0);
        free(v);
        tree_remove(&t);
}
END_TEST

static Suite *make_suite(void) {
        Suite *s = suite_create("scanner");
        TCase *tc = tcase_create("verdict");
        tcase_add_test(tc, test_verdict_clean);
        tcase_add_test(tc, test_verdict_content);
        tcase_add_test(tc, test_verdict_not_read);
        tcase_add_test(tc, test_pseudo_fs_names);
        tcase_add_test(tc, test_verdict_absent);
        tcase_add_test(tc, test_verdict_type_and_metadata);
        tcase_add_test(tc, test_verdict_link);
        tcase_add_test(tc, test_kind_strings);
        tcase_add_test(tc, test_escape);
        suite_add_tcase(s, tc);
        tc = tcase_create("scan");
        tcase_add_test(tc, test_scan_clean_then_tampered);
        tcase_add_test(tc, test_scan_direct);
        tcase_add_test(tc, test_scan_paths_and_digest);
        tcase_add_test(tc, test_scan_closes_each_fd_once);
        tcase_add_test(tc, test_hash_fd);
        tcase_add_test(tc, test_scan_reads_bounded);
        suite_add_tcase(s, tc);
        return s;
}
