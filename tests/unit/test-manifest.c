/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "check-main.h"
#include "fixtures.h"
#include "manifest.h"
#include "mtree-write.h"
#include "openssl-util.h"

#define FIXTURES TOP_SRCDIR "/tests/fixtures/manifest/good/"
#define RELEASE "# endpointd: serial=5 product=pump version=1.2\n"

static int parse_manifest(const char *path, const char *data, size_t len, ParseError *e) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        int r = manifest_parse(data, len, &m, e);

        /* Nothing may be handed out on failure. */
        if (r < 0)
                ck_assert_ptr_null(m);
        (void) path;
        return r;
}

static Manifest *parse_string(const char *text) {
        Manifest *m = NULL;
        ParseError e = {};
        int r = manifest_parse(text, strlen(text), &m, &e);

        ck_assert_msg(r == 0, "line %u: %s (%s)", e.line, e.message, strerror(-r));
        return m;
}

static int parse_error(const char *text, unsigned *ret_line) {
        Manifest *m = NULL;
        ParseError e = {};
        int r = manifest_parse(text, strlen(text), &m, &e);

        ck_assert_ptr_null(m);
        ck_assert_int_lt(r, 0);
        ck_assert(e.message[0] != 0);
        *ret_line = e.line;
        return r;
}

static Manifest *load_fixture(const char *name) {
        Manifest *m = NULL;
        ParseError e = {};
        char path[4096];

        snprintf(path, sizeof(path), FIXTURES "%s", name);
        ck_assert_msg(manifest_load(path, &m, &e) == 0, "%s:%u: %s", name, e.line, e.message);
        return m;
}

START_TEST(test_good_fixtures) {
        fixtures_check_good("manifest", parse_manifest);
}
END_TEST

START_TEST(test_bad_fixtures) {
        fixtures_check_bad("manifest", parse_manifest);
}
END_TEST

static void assert_sorted_unique(const Manifest *m) {
        for (size_t i = 1; i < m->n_entries; i++)
                ck_assert_int_lt(strcmp(m->entries[i - 1].path, m->entries[i].path), 0);
        for (size_t i = 0; i < m->n_entries; i++)
                ck_assert_ptr_eq(manifest_find(m, m->entries[i].path), m->entries + i);
}

/* bsdtar (full paths, octal escapes) and mtree -c (nesting, vis escapes)
 * describe the same tree; both must yield the same entries. */
START_TEST(test_dialects_agree) {
        _cleanup_(manifest_freep) Manifest *a = load_fixture("bsdtar-default.mtree");
        _cleanup_(manifest_freep) Manifest *b = load_fixture("mtree-c-sha256.mtree");
        const uint32_t keys = MANIFEST_HAS_TYPE | MANIFEST_HAS_MODE | MANIFEST_HAS_UID | MANIFEST_HAS_GID |
                              MANIFEST_HAS_LINK | MANIFEST_HAS_SHA256;
        unsigned hashed = 0;

        assert_sorted_unique(a);
        assert_sorted_unique(b);
        ck_assert_uint_eq(a->n_entries, b->n_entries);
        ck_assert_uint_ge(a->n_entries, 15);
        for (size_t i = 0; i < a->n_entries; i++) {
                const ManifestEntry *x = a->entries + i, *y = b->entries + i;

                ck_assert_str_eq(x->path, y->path);
                ck_assert_uint_eq(x->has & keys, y->has & keys);
                ck_assert_int_eq(x->type, y->type);
                ck_assert_uint_eq(x->mode, y->mode);
                ck_assert_uint_eq(x->uid, y->uid);
                ck_assert_str_eq(strempty(x->link), strempty(y->link));
                if (x->has & MANIFEST_HAS_SHA256) {
                        ck_assert(memcmp(x->sha256, y->sha256, 32) == 0);
                        hashed++;
                }
        }
        ck_assert_uint_ge(hashed, 10);
}
END_TEST

/* Awkward names from the tools' real output, decoded to raw bytes. */
START_TEST(test_awkward_names) {
        static const char *const names[] = {
                "sub/a b",    "sub/new\nline",   "sub/caf\xe9", "sub/back\\slash", "sub/#hash",
                "sub/tab\tx", "sub/\xc3\xbctf8", "sub/eq=x",    "sub/star*?[",     "with space/f",
        };
        static const char *const files[] = { "bsdtar-default.mtree", "bsdtar-set-indent.mtree",
                                             "bsdtar-all.mtree", "mtree-c-sha256.mtree",
                                             "mtree-c-default.mtree" };

        for (size_t f = 0; f < ELEMENTSOF(files); f++) {
                _cleanup_(manifest_freep) Manifest *m = load_fixture(files[f]);
                const ManifestEntry *e;

                for (size_t i = 0; i < ELEMENTSOF(names); i++)
                        ck_assert_msg(manifest_find(m, names[i]), "%s: %s missing", files[f], names[i]);
                e = manifest_find(m, "sub/link2");
                ck_assert_ptr_nonnull(e);
                ck_assert_int_eq(e->type, ENTRY_LINK);
                ck_assert_str_eq(e->link, "target with space");
                e = manifest_find(m, "plain");
                ck_assert_uint_eq(e->mode, 04755);
                ck_assert_uint_eq(e->size, 6);
                ck_assert_int_eq(manifest_find(m, "sub/fifo")->type, ENTRY_FIFO);
                ck_assert_int_eq(manifest_find(m, ".")->type, ENTRY_DIR);
                ck_assert_int_eq(manifest_find(m, "sub/deeper")->type, ENTRY_DIR);
                ck_assert_ptr_nonnull(manifest_find(m, "sub/deeper/z"));
                ck_assert_uint_eq(m->serial, 1);
                ck_assert_str_eq(m->product, "demo");
                ck_assert_str_eq(m->version, "1.0");
        }
}
END_TEST

/* Every byte value except NUL and '/' in a name, as both tools escape it. */
START_TEST(test_every_byte) {
        static const char *const files[] = { "bsdtar-bytes.mtree", "mtree-c-bytes.mtree" };

        for (size_t f = 0; f < ELEMENTSOF(files); f++) {
                _cleanup_(manifest_freep) Manifest *m = load_fixture(files[f]);

                ck_assert_uint_eq(m->n_entries, 255); /* "." and 254 files */
                for (int c = 1; c < 256; c++) {
                        char name[3] = { 'x', (char) c, 0 };

                        if (c == '/')
                                continue;
                        ck_assert_msg(manifest_find(m, name), "%s: byte 0x%02x missing", files[f], c);
                }
        }
}
END_TEST

START_TEST(test_release_and_digest) {
        const char *text = "#mtree\n" RELEASE "./a type=file size=0\n";
        _cleanup_(manifest_freep) Manifest *m = parse_string(text);
        unsigned char d[32];

        ck_assert_uint_eq(m->serial, 5);
        ck_assert_str_eq(m->product, "pump");
        ck_assert_str_eq(m->version, "1.2");
        ck_assert_int_eq(sha256_buffer(text, strlen(text), d), 0);
        ck_assert(memcmp(d, m->digest, 32) == 0);
        ck_assert_uint_eq(m->n_entries, 1);
        ck_assert_str_eq(m->entries[0].path, "a");
}
END_TEST

/* A directory's children are found by name within its range, and only
 * they: not a grandchild, not a sibling that shares the name's prefix
 * ("a-b" sorts between "a" and "a/x"). */
START_TEST(test_subtree) {
        _cleanup_(manifest_freep) Manifest *m =
                parse_string(RELEASE ". type=dir\n"
                                     "./a type=dir\n"
                                     "./a-b type=file\n"
                                     "./a/x type=dir\n"
                                     "./a/x/y type=file\n"
                                     "./a/z type=file\n"
                                     "./a0 type=file\n"
                                     "./b type=dir\n");
        ManifestRange r;

        ck_assert_int_eq(manifest_subtree(m, "a", &r), 0);
        ck_assert_uint_eq(r.hi - r.lo, 3);
        ck_assert_uint_eq(r.skip, 2);
        ck_assert_ptr_eq(manifest_find_child(m, &r, "x"), manifest_find(m, "a/x"));
        ck_assert_ptr_eq(manifest_find_child(m, &r, "z"), manifest_find(m, "a/z"));
        ck_assert_ptr_null(manifest_find_child(m, &r, "y"));
        ck_assert_ptr_null(manifest_find_child(m, &r, "-b"));

        ck_assert_int_eq(manifest_subtree(m, "a/x", &r), 0);
        ck_assert_uint_eq(r.hi - r.lo, 1);
        ck_assert_ptr_eq(manifest_find_child(m, &r, "y"), manifest_find(m, "a/x/y"));

        ck_assert_int_eq(manifest_subtree(m, "b", &r), 0);
        ck_assert_uint_eq(r.hi - r.lo, 0);
        ck_assert_ptr_null(manifest_find_child(m, &r, "a"));

        ck_assert_int_eq(manifest_subtree(m, ".", &r), 0);
        ck_assert_ptr_eq(manifest_find_child(m, &r, "a-b"), manifest_find(m, "a-b"));
        ck_assert_ptr_eq(manifest_find_child(m, &r, "a0"), manifest_find(m, "a0"));
        ck_assert_ptr_null(manifest_find_child(m, &r, "c"));
}
END_TEST

START_TEST(test_set_unset) {
        _cleanup_(manifest_freep) Manifest *m =
                parse_string(RELEASE "/set type=file uid=10 gid=20 mode=0640 optional\n"
                                     "./a\n"
                                     "./b mode=600 uid=0\n"
                                     "/unset optional uid\n"
                                     "./c\n"
                                     "/unset all\n"
                                     "./d size=3\n"
                                     "./e type=dir ignore\n");
        const ManifestEntry *e;

        e = manifest_find(m, "a");
        ck_assert_uint_eq(e->has,
                          MANIFEST_HAS_TYPE | MANIFEST_HAS_UID | MANIFEST_HAS_GID | MANIFEST_HAS_MODE);
        ck_assert(e->optional && !e->ignore);
        ck_assert_uint_eq(e->uid, 10);
        ck_assert_uint_eq(e->gid, 20);
        ck_assert_uint_eq(e->mode, 0640);
        e = manifest_find(m, "b");
        ck_assert_uint_eq(e->mode, 0600);
        ck_assert_uint_eq(e->uid, 0);
        e = manifest_find(m, "c");
        ck_assert(!e->optional);
        ck_assert(!(e->has & MANIFEST_HAS_UID));
        ck_assert(e->has & MANIFEST_HAS_GID);
        e = manifest_find(m, "d");
        ck_assert_uint_eq(e->has, MANIFEST_HAS_SIZE);
        ck_assert_uint_eq(e->size, 3);
        e = manifest_find(m, "e");
        ck_assert(e->ignore);
        ck_assert_int_eq(e->type, ENTRY_DIR);
}
END_TEST

/* The mtree -c dialect: names relative to the current directory, a
 * directory entry descends, ".." climbs; full paths do not move it. */
START_TEST(test_nesting) {
        _cleanup_(manifest_freep) Manifest *m = parse_string(RELEASE "/set type=file\n"
                                                                     ". type=dir\n"
                                                                     "usr type=dir\n"
                                                                     "    bin type=dir\n"
                                                                     "        ls size=1\n"
                                                                     "        ./etc/x size=2\n"
                                                                     "    ..\n"
                                                                     "    lib type=dir\n"
                                                                     "    ..\n"
                                                                     "..\n"
                                                                     "top\n");

        ck_assert_uint_eq(m->n_entries, 7);
        ck_assert_ptr_nonnull(manifest_find(m, "usr/bin/ls"));
        ck_assert_ptr_nonnull(manifest_find(m, "etc/x"));
        ck_assert_ptr_nonnull(manifest_find(m, "usr/lib"));
        ck_assert_ptr_nonnull(manifest_find(m, "top"));
        ck_assert_ptr_null(manifest_find(m, "ls"));
        ck_assert_ptr_null(manifest_find(m, "usr/top"));
}
END_TEST

START_TEST(test_escapes_and_continuation) {
        _cleanup_(manifest_freep) Manifest *m =
                parse_string(RELEASE "./a\\040b\\sc\\\\d\\#e \\\n   type=file \\\n\tsize=4\n"
                                     "./\\M-i\\M^A\\^?\\^A\\E\\n\\t\\r\\v\\f\\b\\a type=file\n"
                                     "./l type=link link=..\\057x\\040y\n"
                                     "./trail\\\\ type=file\n");
        const ManifestEntry *e;

        e = manifest_find(m, "a b c\\d#e");
        ck_assert_ptr_nonnull(e);
        ck_assert_uint_eq(e->size, 4);
        ck_assert_ptr_nonnull(manifest_find(m, "\xe9\x81\x7f\x01\033\n\t\r\v\f\b\a"));
        ck_assert_str_eq(manifest_find(m, "l")->link, "../x y");
        ck_assert_ptr_nonnull(manifest_find(m, "trail\\"));
}
END_TEST

START_TEST(test_error_lines) {
        unsigned line;

        /* A continued line reports the line where it starts. */
        ck_assert_int_eq(parse_error(RELEASE "./a type=file \\\n  size=1 \\\n  mode=9\n", &line), -EBADMSG);
        ck_assert_uint_eq(line, 2);
        ck_assert_int_eq(parse_error(RELEASE "./a \\\n type=file\n./b\n./a\n", &line), -EEXIST);
        ck_assert_uint_eq(line, 5);
}
END_TEST

START_TEST(test_too_large) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        ParseError e = {};
        /* calloc of this size maps zero pages lazily; the parser must
         * refuse on the length before touching a byte. */
        _cleanup_(freep) char *big = calloc(1, (size_t) MANIFEST_FILE_MAX + 1);

        ck_assert_ptr_nonnull(big);
        ck_assert_int_eq(manifest_parse(big, (size_t) MANIFEST_FILE_MAX + 1, &m, &e), -E2BIG);
        ck_assert_uint_eq(e.line, 0);
        ck_assert_ptr_null(m);
}
END_TEST

START_TEST(test_load_errors) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        ParseError e = {};

        ck_assert_int_eq(manifest_load("/nonexistent/manifest", &m, &e), -ENOENT);
        ck_assert_int_eq(manifest_load("/dev/null", &m, &e), -EBADFD);
        ck_assert_ptr_null(m);
}
END_TEST

START_TEST(test_find) {
        _cleanup_(manifest_freep) Manifest *m = parse_string(RELEASE "./b type=file\n./a type=file\n"
                                                                     "./a/x type=file\n./a-b type=file\n");

        ck_assert_str_eq(m->entries[0].path, "a");
        ck_assert_str_eq(m->entries[1].path, "a-b");
        ck_assert_str_eq(m->entries[2].path, "a/x");
        ck_assert_str_eq(m->entries[3].path, "b");
        ck_assert_ptr_null(manifest_find(m, "c"));
        ck_assert_ptr_null(manifest_find(m, ""));
        ck_assert_ptr_null(manifest_find(m, "a/"));
        ck_assert_ptr_null(manifest_find(NULL, "a"));
}
END_TEST

/* 100k entries in the bsdtar dialect, in reverse order so the sort works. */
START_TEST(test_large) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_(freep) char *text = NULL;
        size_t size = 0;
        ParseError e = {};
        FILE *f = open_memstream(&text, &size);

        ck_assert_ptr_nonnull(f);
        fputs("#mtree\n" RELEASE, f);
        for (unsigned i = 100000; i > 0; i--)
                fprintf(f,
                        "./usr/lib/d%03u/file\\040%06u type=file mode=644 uid=0 gid=0 size=%u "
                        "sha256digest=%064x\n",
                        i % 1000, i, i, i);
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_int_eq(manifest_parse(text, size, &m, &e), 0);
        ck_assert_uint_eq(m->n_entries, 100000);
        ck_assert_uint_eq(manifest_find(m, "usr/lib/d123/file 000123")->size, 123);
        assert_sorted_unique(m);
}
END_TEST

static void write_at(int dfd, const char *name, const void *data, size_t len, mode_t mode) {
        int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

        ck_assert_msg(fd >= 0, "create %s: %m", name);
        ck_assert_int_eq(write(fd, data, len), (ssize_t) len);
        ck_assert_int_eq(fchmod(fd, mode), 0);
        close(fd);
}

static void assert_file_entry(const Manifest *m, const char *path, const void *data, size_t len) {
        const ManifestEntry *e = manifest_find(m, path);
        unsigned char d[32];

        ck_assert_msg(e, "%s missing", path);
        ck_assert_int_eq(e->type, ENTRY_FILE);
        ck_assert_uint_eq(e->size, len);
        ck_assert_int_eq(sha256_buffer(data, len, d), 0);
        ck_assert(memcmp(d, e->sha256, 32) == 0);
}

/* Writer -> parser: every byte in names and link targets, nested
 * directories, a multi-chunk file, a FIFO (listed, never opened), a
 * symlink to a directory outside (listed, never followed). */
START_TEST(test_round_trip) {
        char dir[] = "/tmp/test-manifest-XXXXXX", cmd[64];
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_(freep) char *text = NULL, *big = malloc(1000003), *failed = NULL;
        _cleanup_(closep) int root = -EBADF;
        size_t size = 0, files = 0;
        ParseError e = {};
        FILE *f;
        int sub;

        ck_assert_ptr_nonnull(mkdtemp(dir));
        root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(root, 0);
        for (int c = 1; c < 256; c++) {
                char name[4] = { 'n', (char) c, 'z', 0 };

                if (c == '/')
                        continue;
                write_at(root, name, name, 3, 0644);
                files++;
        }
        for (size_t i = 0; i < 1000003; i++)
                big[i] = (char) (i * 7 + i / 991);
        ck_assert_int_eq(mkdirat(root, "d", 0755), 0);
        ck_assert_int_eq(mkdirat(root, "d/e f", 0700), 0);
        sub = openat(root, "d/e f", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        write_at(sub, "big\n", big, 1000003, 04755);
        write_at(sub, "empty", "", 0, 0600);
        ck_assert_int_eq(mkfifoat(sub, "fifo", 0640), 0);
        ck_assert_int_eq(symlinkat("/etc", sub, "escape"), 0);
        ck_assert_int_eq(symlinkat("../x \\y\n#=\xff", sub, "odd"), 0);
        close(sub);

        f = open_memstream(&text, &size);
        ck_assert_int_eq(manifest_write_tree(root, 42, "pump-x", "3.1~rc1", NULL, f, &failed), 0);
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_int_eq(manifest_parse(text, size, &m, &e), 0);

        ck_assert_uint_eq(m->serial, 42);
        ck_assert_str_eq(m->product, "pump-x");
        ck_assert_str_eq(m->version, "3.1~rc1");
        ck_assert_uint_eq(m->n_entries, files + 1 + 2 + 5);
        assert_sorted_unique(m);
        for (int c = 1; c < 256; c++) {
                char name[4] = { 'n', (char) c, 'z', 0 };

                if (c != '/')
                        assert_file_entry(m, name, name, 3);
        }
        assert_file_entry(m, "d/e f/big\n", big, 1000003);
        assert_file_entry(m, "d/e f/empty", "", 0);
        ck_assert_uint_eq(manifest_find(m, "d/e f/big\n")->mode, 04755);
        ck_assert_uint_eq(manifest_find(m, "d/e f")->mode, 0700);
        ck_assert_int_eq(manifest_find(m, "d/e f")->type, ENTRY_DIR);
        ck_assert_int_eq(manifest_find(m, ".")->type, ENTRY_DIR);
        ck_assert_int_eq(manifest_find(m, "d/e f/fifo")->type, ENTRY_FIFO);
        ck_assert_uint_eq(manifest_find(m, "d/e f/fifo")->has & MANIFEST_HAS_SHA256, 0);
        ck_assert_str_eq(manifest_find(m, "d/e f/escape")->link, "/etc");
        ck_assert_str_eq(manifest_find(m, "d/e f/odd")->link, "../x \\y\n#=\xff");
        ck_assert_uint_eq(manifest_find(m, "d/e f/empty")->uid, getuid());
        ck_assert_ptr_null(manifest_find(m, "d/e f/escape/passwd"));

        /* The release line must be expressible. */
        f = fopen("/dev/null", "we");
        ck_assert_int_eq(manifest_write_tree(root, 1, "a b", "1", NULL, f, NULL), -EINVAL);
        ck_assert_int_eq(manifest_write_tree(root, 0, "a", "1", NULL, f, NULL), -EINVAL);

        fclose(f);

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* An ignored directory is listed with "ignore" and not walked; a file or a
 * missing path cannot be ignored. */
START_TEST(test_write_ignore) {
        char dir[] = "/tmp/test-manifest-XXXXXX", cmd[64];
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_(freep) char *text = NULL, *bad = NULL;
        _cleanup_(closep) int root = -EBADF;
        char *const ignore[] = { (char *) "d/e f", NULL };
        char *const ignore_file[] = { (char *) "d/x", NULL };
        char *const ignore_missing[] = { (char *) "nope", NULL };
        ParseError e = {};
        size_t size = 0;
        FILE *f, *null;

        ck_assert_ptr_nonnull(mkdtemp(dir));
        root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(root, 0);
        ck_assert_int_eq(mkdirat(root, "d", 0755), 0);
        ck_assert_int_eq(mkdirat(root, "d/e f", 0755), 0);
        write_at(root, "d/x", "x", 1, 0644);
        write_at(root, "d/e f/log", "l", 1, 0644);

        f = open_memstream(&text, &size);
        ck_assert_int_eq(manifest_write_tree(root, 2, "p", "v", ignore, f, NULL), 0);
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_int_eq(manifest_parse(text, size, &m, &e), 0);
        ck_assert_uint_eq(m->n_entries, 4);
        ck_assert(manifest_find(m, "d/e f")->ignore);
        ck_assert(!manifest_find(m, "d")->ignore);
        ck_assert_ptr_null(manifest_find(m, "d/e f/log"));

        null = fopen("/dev/null", "we");
        ck_assert_int_eq(manifest_write_tree(root, 2, "p", "v", ignore_file, null, &bad), -ENOTDIR);
        ck_assert_str_eq(bad, "d/x");
        free(bad);
        bad = NULL;
        ck_assert_int_eq(manifest_write_tree(root, 2, "p", "v", ignore_missing, null, &bad), -ENOENT);
        ck_assert_str_eq(bad, "nope");
        fclose(null);

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *make_suite(void) {
        Suite *s = suite_create("manifest");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_good_fixtures);
        tcase_add_test(tc, test_bad_fixtures);
        tcase_add_test(tc, test_dialects_agree);
        tcase_add_test(tc, test_awkward_names);
        tcase_add_test(tc, test_every_byte);
        tcase_add_test(tc, test_release_and_digest);
        tcase_add_test(tc, test_set_unset);
        tcase_add_test(tc, test_subtree);
        tcase_add_test(tc, test_nesting);
        tcase_add_test(tc, test_escapes_and_continuation);
        tcase_add_test(tc, test_error_lines);
        tcase_add_test(tc, test_too_large);
        tcase_add_test(tc, test_load_errors);
        tcase_add_test(tc, test_find);
        tcase_add_test(tc, test_large);
        tcase_add_test(tc, test_round_trip);
        tcase_add_test(tc, test_write_ignore);
        suite_add_tcase(s, tc);
        return s;
}
