/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "check-main.h"
#include "config.h"
#include "fixtures.h"
#include "policy.h"

static int parse_config(const char *path, const char *data, size_t len, ParseError *e) {
        _cleanup_(config_freep) Config *c = NULL;
        return config_parse(path, data, len, NULL, NULL, &c, e);
}

START_TEST(test_good_fixtures) {
        fixtures_check_good("config", parse_config);
}
END_TEST

START_TEST(test_bad_fixtures) {
        fixtures_check_bad("config", parse_config);
}
END_TEST

START_TEST(test_defaults) {
        _cleanup_(config_freep) Config *c = NULL;
        ParseError e = {};

        ck_assert_int_eq(config_parse("empty", "", 0, NULL, NULL, &c, &e), 0);
        ck_assert_str_eq(c->state_dir, LOCALSTATEDIR "/lib/endpointd");
        ck_assert_str_eq(c->user, "endpointd");
        ck_assert_str_eq(c->tcti, "device:/dev/tpmrm0");
        ck_assert_uint_eq(c->pcr_mask, 1U << 7);
        ck_assert_uint_eq(c->measurement_pcr, 14);
        ck_assert_str_eq(c->root, "/");
        ck_assert_uint_eq(c->scan_interval, USEC_PER_HOUR);
        ck_assert(c->watch);
        ck_assert_int_eq(c->seccomp, SECCOMP_MODE_ENFORCE);
        ck_assert_uint_eq(c->audit_checkpoint_min_interval, 10 * USEC_PER_SEC);
}
END_TEST

START_TEST(test_checkpoint_min_interval) {
        static const struct {
                const char *value;
                int ret;
                usec_t want;
        } cases[] = {
                { "0", 0, 0 },
                { "1h", 0, USEC_PER_HOUR },
                { "500ms", 0, 500 * USEC_PER_MSEC },
                { "61min", -ERANGE, 0 },
                { "-1s", -EINVAL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(config_freep) Config *c = NULL;
                _cleanup_(freep) char *text = NULL;
                ParseError e = {};
                int r;

                ck_assert_int_gt(asprintf(&text, "[Audit]\nCheckpointMinInterval=%s\n", cases[i].value), 0);
                r = config_parse("t.conf", text, strlen(text), NULL, NULL, &c, &e);
                ck_assert_msg(r == cases[i].ret, "'%s': %d", cases[i].value, r);
                if (r == 0)
                        ck_assert_uint_eq(c->audit_checkpoint_min_interval, cases[i].want);
                else
                        ck_assert_uint_eq(e.line, 2);
        }
}
END_TEST

START_TEST(test_full_values) {
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_(freep) char *data = NULL;
        ParseError e = {};
        size_t len;

        ck_assert_int_eq(read_full_file(TOP_SRCDIR "/tests/fixtures/config/good/full.conf", CONFIG_FILE_MAX,
                                        &data, &len),
                         0);
        ck_assert_int_eq(config_parse("full.conf", data, len, NULL, NULL, &c, &e), 0);
        ck_assert_str_eq(c->tcti, "swtpm:host=127.0.0.1,port=2321");
        ck_assert_uint_eq(c->pcr_mask, (1U << 0) | (1U << 2) | (1U << 3) | (1U << 4) | (1U << 7));
        ck_assert_uint_eq(c->measurement_pcr, 23);
        ck_assert_uint_eq(c->key_cache_timeout, 150 * USEC_PER_SEC);
        ck_assert_str_eq(c->root, "/srv/device");
        ck_assert_uint_eq(c->scan_interval, 90 * USEC_PER_MINUTE);
        ck_assert_uint_eq(c->scan_threads, 4);
        ck_assert(!c->watch);
        ck_assert_int_eq(c->log_level, LOG_DEBUG);
        ck_assert_int_eq(c->seccomp, SECCOMP_MODE_LOG);
        ck_assert_uint_eq(c->rate_limit_burst, 50);
        ck_assert_uint_eq(c->rate_limit_per_sec, 10);
        ck_assert(c->audit);
        ck_assert_uint_eq(c->audit_checkpoint_records, 500);
        ck_assert_uint_eq(c->audit_checkpoint_interval, 2 * USEC_PER_MINUTE);
        ck_assert_uint_eq(c->audit_checkpoint_min_interval, 30 * USEC_PER_SEC);
        ck_assert_uint_eq(c->audit_sync_interval, 100 * USEC_PER_MSEC);
        ck_assert_uint_eq(c->audit_max_file_size, 4U * 1024U * 1024U);
        ck_assert_uint_eq(c->audit_max_total_size, UINT64_C(1) << 30);
        ck_assert_int_eq(c->audit_allowed_calls, EVENTS_ALLOWED_ALL);
}
END_TEST

typedef struct Warnings {
        unsigned n;
        unsigned lines[8];
        char last[256];
} Warnings;

static void collect(const char *file, unsigned line, const char *message, void *userdata) {
        Warnings *w = userdata;

        if (w->n < 8)
                w->lines[w->n] = line;
        w->n++;
        snprintf(w->last, sizeof(w->last), "%s", message);
}

START_TEST(test_unknown_warns_with_line) {
        _cleanup_(config_freep) Config *c = NULL;
        const char *text = "[Daemon]\nFutureKey=1\nUser=x\n[Future]\nA=b\n";
        Warnings w = {};
        ParseError e = {};

        ck_assert_int_eq(config_parse("t.conf", text, strlen(text), collect, &w, &c, &e), 0);
        ck_assert_uint_eq(w.n, 2);
        ck_assert_uint_eq(w.lines[0], 2);
        ck_assert_uint_eq(w.lines[1], 4);
        ck_assert_str_eq(c->user, "x");
}
END_TEST

START_TEST(test_load_missing_file) {
        _cleanup_(config_freep) Config *c = NULL;
        ParseError e = {};

        ck_assert_int_eq(config_load("/nonexistent/endpointd.conf", 0, NULL, NULL, &c, &e, NULL), -ENOENT);
        ck_assert_uint_eq(e.line, 0);
        ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_load_refuses_fifo) {
        char dir[] = "/tmp/test-config-XXXXXX", path[64];
        _cleanup_(config_freep) Config *c = NULL;
        ParseError e = {};

        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/fifo", dir);
        ck_assert_int_eq(mkfifo(path, 0600), 0);
        /* Must return at once instead of blocking on the FIFO. */
        ck_assert_int_eq(config_load(path, 0, NULL, NULL, &c, &e, NULL), -EBADFD);
        unlink(path);
        rmdir(dir);
}
END_TEST

static void write_text(const char *dir, const char *name, const char *text) {
        char path[256];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "we");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(fputs(text, f) >= 0, 1);
        ck_assert_int_eq(fclose(f), 0);
}

/* A temp dir with endpointd.conf and an endpointd.conf.d/ beside it. */
static void make_tree(char *dir, char *conf, size_t conf_len, char *dropins, size_t dropins_len) {
        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(conf, conf_len, "%s/endpointd.conf", dir);
        snprintf(dropins, dropins_len, "%s/endpointd.conf.d", dir);
        ck_assert_int_eq(mkdir(dropins, 0700), 0);
}

static void remove_tree(const char *dir) {
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_dropins_in_order) {
        char dir[] = "/tmp/test-config-XXXXXX", conf[64], d[64], masked[96];
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_(words_freep) char **files = NULL;
        Warnings w = {};
        ParseError e = {};

        make_tree(dir, conf, sizeof(conf), d, sizeof(d));
        write_text(dir, "endpointd.conf", "[Daemon]\nUser=main\n[Integrity]\nRoot=/srv/a\nScanThreads=2\n");
        /* Read in byte order: "10" before "9" before "a"; a later file wins. */
        write_text(d, "9-second.conf", "[Integrity]\nRoot=/srv/second\nScanThreads=3\n");
        write_text(d, "10-first.conf", "[Integrity]\nRoot=/srv/first\nTrustDirectory=/srv/trust\n");
        write_text(d, "a-last.conf", "[Daemon]\nUser=last\nFutureKey=1\n");
        /* Not drop-ins: hidden, other suffixes. */
        write_text(d, ".hidden.conf", "[Daemon]\nUser=hidden\n");
        write_text(d, "b.conf~", "[Daemon]\nUser=backup\n");
        write_text(d, "c.conf.dpkg-new", "[Daemon]\nUser=dpkg\n");
        write_text(d, "README", "not a config\n");
        /* Masked: a symlink to /dev/null. */
        snprintf(masked, sizeof(masked), "%s/b-masked.conf", d);
        ck_assert_int_eq(symlink("/dev/null", masked), 0);

        ck_assert_int_eq(config_dropin_files(conf, &files), 0);
        ck_assert_uint_eq(words_length(files), 3);
        ck_assert_ptr_nonnull(strstr(files[0], "/endpointd.conf.d/10-first.conf"));
        ck_assert_ptr_nonnull(strstr(files[1], "/endpointd.conf.d/9-second.conf"));
        ck_assert_ptr_nonnull(strstr(files[2], "/endpointd.conf.d/a-last.conf"));

        ck_assert_int_eq(config_load(conf, 0, collect, &w, &c, &e, NULL), 0);
        ck_assert_str_eq(c->path, conf);
        ck_assert_str_eq(c->user, "last");
        ck_assert_str_eq(c->root, "/srv/second");
        ck_assert_str_eq(c->trust_dir, "/srv/trust");
        ck_assert_uint_eq(c->scan_threads, 3);
        ck_assert_uint_eq(w.n, 1);
        ck_assert_uint_eq(w.lines[0], 3);
        remove_tree(dir);
}
END_TEST

START_TEST(test_dropin_error_names_file) {
        char dir[] = "/tmp/test-config-XXXXXX", conf[64], d[64], sub[96];
        _cleanup_(config_freep) Config *c = NULL;
        ParseError e = {};
        char *bad = NULL;

        make_tree(dir, conf, sizeof(conf), d, sizeof(d));
        write_text(dir, "endpointd.conf", "[Daemon]\nUser=main\n");
        write_text(d, "10-ok.conf", "[Daemon]\nUser=again\n");
        /* A key twice in one drop-in is an error, as in the main file. */
        write_text(d, "20-dup.conf", "[TPM]\nPCRs=7\nPCRs=8\n");
        ck_assert_int_eq(config_load(conf, 0, NULL, NULL, &c, &e, &bad), -EEXIST);
        ck_assert_ptr_null(c);
        ck_assert_uint_eq(e.line, 3);
        ck_assert_ptr_nonnull(bad);
        ck_assert_ptr_nonnull(strstr(bad, "/endpointd.conf.d/20-dup.conf"));
        bad = mfree(bad);

        write_text(d, "20-dup.conf", "[Integrity]\nScanInterval=soon\n");
        ck_assert_int_eq(config_load(conf, 0, NULL, NULL, &c, &e, &bad), -EINVAL);
        ck_assert_uint_eq(e.line, 2);
        ck_assert_ptr_nonnull(strstr(bad, "/20-dup.conf"));
        bad = mfree(bad);

        /* A directory in a drop-in's place is refused, not skipped. */
        ck_assert_int_eq(unlink(strcat(strcpy(sub, d), "/20-dup.conf")), 0);
        ck_assert_int_eq(mkdir(strcat(strcpy(sub, d), "/30-dir.conf"), 0700), 0);
        ck_assert_int_lt(config_load(conf, 0, NULL, NULL, &c, &e, &bad), 0);
        ck_assert_uint_eq(e.line, 0);
        ck_assert_ptr_nonnull(strstr(bad, "/30-dir.conf"));
        bad = mfree(bad);
        ck_assert_int_eq(rmdir(sub), 0);

        /* The main file's own errors name the main file. */
        write_text(dir, "endpointd.conf", "[Daemon]\nUser root\n");
        ck_assert_int_eq(config_load(conf, 0, NULL, NULL, &c, &e, &bad), -EBADMSG);
        ck_assert_str_eq(bad, conf);
        bad = mfree(bad);
        remove_tree(dir);
}
END_TEST

START_TEST(test_missing_main_file) {
        char dir[] = "/tmp/test-config-XXXXXX", conf[64], d[64];
        _cleanup_(config_freep) Config *c = NULL;
        ParseError e = {};

        make_tree(dir, conf, sizeof(conf), d, sizeof(d));
        write_text(d, "trust.conf", "[Integrity]\nTrustDirectory=/srv/trust\n");
        ck_assert_int_eq(config_load(conf, 0, NULL, NULL, &c, &e, NULL), -ENOENT);
        ck_assert_int_eq(config_load(conf, CONFIG_LOAD_MISSING_OK, NULL, NULL, &c, &e, NULL), 0);
        ck_assert_str_eq(c->trust_dir, "/srv/trust");
        ck_assert_str_eq(c->user, "endpointd");
        c = config_free(c);
        /* No drop-in directory at all: the defaults. */
        remove_tree(dir);
        ck_assert_int_eq(config_load(conf, CONFIG_LOAD_MISSING_OK, NULL, NULL, &c, &e, NULL), 0);
        ck_assert_str_eq(c->trust_dir, SYSCONFDIR "/endpointd/trust");
}
END_TEST

/* Files that configure the daemon are refused when someone other than root
 * (or us) could have written them: the file or the drop-in directory
 * writable by group or others, or owned by another user. */
START_TEST(test_refuses_writable_by_others) {
        char dir[] = "/tmp/test-config-XXXXXX", conf[64], d[64], dropin[96];
        _cleanup_(config_freep) Config *c = NULL;
        ParseError e = {};
        char *bad = NULL;

        make_tree(dir, conf, sizeof(conf), d, sizeof(d));
        write_text(dir, "endpointd.conf", "[Daemon]\nUser=main\n");
        write_text(d, "10-ok.conf", "[Daemon]\nUser=dropin\n");
        snprintf(dropin, sizeof(dropin), "%s/10-ok.conf", d);
        ck_assert_int_eq(chmod(conf, 0644), 0);
        ck_assert_int_eq(chmod(dropin, 0644), 0);
        ck_assert_int_eq(config_load(conf, 0, NULL, NULL, &c, &e, NULL), 0);
        ck_assert_str_eq(c->user, "dropin");
        c = config_free(c);

        ck_assert_int_eq(chmod(conf, 0666), 0);
        ck_assert_int_eq(config_load(conf, 0, NULL, NULL, &c, &e, &bad), -EPERM);
        ck_assert_ptr_null(c);
        ck_assert_str_eq(bad, conf);
        ck_assert_ptr_nonnull(strstr(e.message, "writable by its group or by others"));
        bad = mfree(bad);
        ck_assert_int_eq(chmod(conf, 0664), 0);
        ck_assert_int_eq(config_load(conf, 0, NULL, NULL, &c, &e, NULL), -EPERM);
        ck_assert_int_eq(chmod(conf, 0600), 0);

        ck_assert_int_eq(chmod(dropin, 0646), 0);
        ck_assert_int_eq(config_load(conf, 0, NULL, NULL, &c, &e, &bad), -EPERM);
        ck_assert_ptr_nonnull(strstr(bad, "/10-ok.conf"));
        bad = mfree(bad);
        ck_assert_int_eq(chmod(dropin, 0600), 0);

        /* Whoever may write the directory may add a drop-in. */
        ck_assert_int_eq(chmod(d, 0777), 0);
        ck_assert_int_eq(config_load(conf, 0, NULL, NULL, &c, &e, NULL), -EPERM);
        ck_assert_ptr_nonnull(strstr(e.message, "endpointd.conf.d/ refused: writable by its group or by others"));
        ck_assert_int_eq(chmod(d, 0755), 0);
        ck_assert_int_eq(config_load(conf, 0, NULL, NULL, &c, &e, NULL), 0);
        c = config_free(c);

        /* A directory on the way that others may write lets them swap the
         * file or the drop-in directory: refused unless it is sticky. */
        ck_assert_int_eq(chmod(dir, 0777), 0);
        ck_assert_int_eq(config_load(conf, 0, NULL, NULL, &c, &e, &bad), -EPERM);
        ck_assert_str_eq(bad, conf);
        ck_assert_msg(strstr(e.message, "in a directory its group or others may write"), "%s", e.message);
        bad = mfree(bad);
        ck_assert_int_eq(chmod(dir, 01777), 0);
        ck_assert_int_eq(config_load(conf, 0, NULL, NULL, &c, &e, NULL), 0);
        c = config_free(c);
        ck_assert_int_eq(chmod(dir, 0700), 0);

        /* A drop-in that is a symlink to a file in a directory others may
         * write is no safer than that file. */
        {
                char open_dir[] = "/tmp/test-config-open-XXXXXX", target[96], link[96];

                ck_assert_ptr_nonnull(mkdtemp(open_dir));
                write_text(open_dir, "x.conf", "[Daemon]\nUser=elsewhere\n");
                snprintf(target, sizeof(target), "%s/x.conf", open_dir);
                ck_assert_int_eq(chmod(target, 0644), 0);
                snprintf(link, sizeof(link), "%s/20-link.conf", d);
                ck_assert_int_eq(symlink(target, link), 0);
                ck_assert_int_eq(config_load(conf, 0, NULL, NULL, &c, &e, NULL), 0);
                ck_assert_str_eq(c->user, "elsewhere");
                c = config_free(c);
                ck_assert_int_eq(chmod(open_dir, 0777), 0);
                ck_assert_int_eq(config_load(conf, 0, NULL, NULL, &c, &e, &bad), -EPERM);
                ck_assert_ptr_nonnull(strstr(bad, "/20-link.conf"));
                bad = mfree(bad);
                ck_assert_int_eq(unlink(link), 0);
                remove_tree(open_dir);
        }

        /* Owned by another user (only root can give a file away). */
        if (geteuid() == 0) {
                ck_assert_int_eq(chown(dropin, 65534, 65534), 0);
                ck_assert_int_eq(config_load(conf, 0, NULL, NULL, &c, &e, NULL), -EPERM);
                ck_assert_ptr_nonnull(strstr(e.message, "owned by a user other than root"));
                ck_assert_int_eq(chown(dropin, 0, 0), 0);
                ck_assert_int_eq(chown(d, 65534, 65534), 0);
                ck_assert_int_eq(config_load(conf, 0, NULL, NULL, &c, &e, NULL), -EPERM);
                ck_assert_int_eq(chown(d, 0, 0), 0);
                ck_assert_int_eq(chown(dir, 65534, 65534), 0);
                ck_assert_int_eq(config_load(conf, 0, NULL, NULL, &c, &e, NULL), -EPERM);
                ck_assert_msg(strstr(e.message, "in a directory owned by a user other than root"), "%s",
                              e.message);
                ck_assert_int_eq(chown(dir, 0, 0), 0);
        }
        remove_tree(dir);
}
END_TEST

static Suite *make_suite(void) {
        Suite *s = suite_create("config");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_good_fixtures);
        tcase_add_test(tc, test_bad_fixtures);
        tcase_add_test(tc, test_defaults);
        tcase_add_test(tc, test_checkpoint_min_interval);
        tcase_add_test(tc, test_full_values);
        tcase_add_test(tc, test_unknown_warns_with_line);
        tcase_add_test(tc, test_load_missing_file);
        tcase_add_test(tc, test_load_refuses_fifo);
        tcase_add_test(tc, test_dropins_in_order);
        tcase_add_test(tc, test_dropin_error_names_file);
        tcase_add_test(tc, test_missing_main_file);
        tcase_add_test(tc, test_refuses_writable_by_others);
        suite_add_tcase(s, tc);
        return s;
}
