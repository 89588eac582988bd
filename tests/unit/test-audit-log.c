/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The audit log: writer, reader, verifier, and each kind of tampering the
 * verifier must name (endpointd-audit(5)). The anchor is a software P-256
 * key and a counter in memory, standing in for the TPM. */

#include <check.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/ec.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "audit-log-internal.h"
#include "check-main.h"
#include "fileio.h"
#include "openssl-util.h"

typedef struct TestAnchor {
        EVP_PKEY *key;
        uint64_t counter;
        bool written; /* as the daemon reads a TPM counter: 0 until first incremented */
        uint64_t first; /* the first increment's value, as a TPM whose other counters were used */
        unsigned signs, reads;
} TestAnchor;

static int ta_increment(void *userdata, uint64_t *ret) {
        TestAnchor *a = userdata;
        if (!a->written && a->first > 0)
                a->counter = a->first - 1;
        a->written = true;
        *ret = ++a->counter;
        return 0;
}
static int ta_read(void *userdata, uint64_t *ret) {
        TestAnchor *a = userdata;
        a->reads++;
        *ret = a->written ? a->counter : 0;
        return 0;
}
static int ta_sign(void *userdata, const uint8_t digest[32], uint8_t **ret_sig, size_t *ret_len) {
        TestAnchor *a = userdata;
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(a->key, NULL);
        size_t len = 0;
        uint8_t *sig;

        ck_assert_ptr_nonnull(ctx);
        ck_assert_int_eq(EVP_PKEY_sign_init(ctx), 1);
        ck_assert_int_eq(EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()), 1);
        ck_assert_int_eq(EVP_PKEY_sign(ctx, NULL, &len, digest, 32), 1);
        sig = malloc(len);
        ck_assert_int_eq(EVP_PKEY_sign(ctx, sig, &len, digest, 32), 1);
        EVP_PKEY_CTX_free(ctx);
        a->signs++;
        *ret_sig = sig;
        *ret_len = len;
        return 0;
}

static TestAnchor ta;
static AuditAnchor anchor = { &ta, ta_increment, ta_read, ta_sign };
static char dir[256];

static void setup(void) {
        snprintf(dir, sizeof(dir), "/tmp/test-audit-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        ta = (TestAnchor){ .key = EVP_EC_gen("P-256") }; /* a fresh counter, as swtpm's */
        ck_assert_ptr_nonnull(ta.key);
}

static void teardown(void) {
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        ck_assert_int_eq(system(cmd), 0);
        EVP_PKEY_free(ta.key);
}

static const AuditLogConfig small = { .checkpoint_records = 10 };

/* Appends n events "test.event" with ENDPOINTD_N=i and a path. */
static void append_n(AuditLog *log, unsigned n) {
        for (unsigned i = 0; i < n; i++) {
                char num[16];
                AuditField f[] = { { "ENDPOINTD_N", num }, { "ENDPOINTD_PATH", "/usr/bin/pump-ui" } };
                AuditEntry e = { .kind = "test.event", .fields = f, .n_fields = 2 };
                uint64_t seq;

                snprintf(num, sizeof(num), "%u", i);
                ck_assert_int_eq(audit_log_append(log, &e, &seq), 0);
                ck_assert_uint_lt(seq, audit_log_next_seq(log));
        }
}

static void make_log(const AuditLogConfig *c, unsigned n) {
        AuditLog *log = NULL;

        ck_assert_int_eq(audit_log_open(dir, c, &anchor, &log), 0);
        append_n(log, n);
        log = audit_log_free(log);
}

static AuditVerifyResult verify(const uint64_t *counter) {
        AuditVerifyResult res;

        ck_assert_int_eq(audit_verify(dir, ta.key, counter, &res), 0);
        return res;
}

static void assert_intact(void) {
        AuditVerifyResult res = verify(&ta.counter);
        ck_assert_msg(res.ok, "not intact: %" PRIu64 ": %s", res.first_bad_seq, res.reason);
}

static void assert_bad(const uint64_t *counter, uint64_t seq, const char *what) {
        AuditVerifyResult res = verify(counter);
        ck_assert_msg(!res.ok, "tampering not found (%s)", what);
        ck_assert_msg(res.first_bad_seq == seq, "first bad %" PRIu64 ", expected %" PRIu64 ": %s",
                      res.first_bad_seq, seq, res.reason);
        ck_assert_msg(strstr(res.reason, what), "reason '%s' does not say '%s'", res.reason, what);
}

/* The first log file, whole. */
static char *file_path(const char *name) {
        static char p[512];
        snprintf(p, sizeof(p), "%s/%s", dir, name);
        return p;
}
static void file_load(const char *name, uint8_t **data, size_t *size) {
        ck_assert_int_eq(read_full_file(file_path(name), 1 << 30, (char **) data, size), 0);
}
static void file_store(const char *name, const uint8_t *data, size_t size) {
        int fd = open(file_path(name), O_WRONLY | O_TRUNC | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, data, size), (ssize_t) size);
        close(fd);
}

/* Offset and length of record seq in data. */
static size_t record_at(const uint8_t *data, size_t size, uint64_t seq, uint32_t *ret_len) {
        char reason[128];
        for (size_t off = AUDIT_FILE_HEADER_SIZE; off < size;) {
                AuditRaw raw;
                ck_assert_int_eq(audit_record_parse(data + off, size - off, &raw, reason, sizeof(reason)),
                                 0);
                if (raw.seq == seq) {
                        *ret_len = raw.len;
                        return off;
                }
                off += raw.len;
        }
        ck_abort_msg("record %" PRIu64 " not found", seq);
        return 0;
}

#define FIRST "audit-0000000000000001.log"

START_TEST(test_good) {
        AuditVerifyResult res;

        make_log(&small, 35);
        res = verify(&ta.counter);
        ck_assert_msg(res.ok, "%s", res.reason);
        /* created + its checkpoint, 35 events with a checkpoint per 10, closed + a final one */
        ck_assert_uint_eq(res.first_seq, 1);
        ck_assert_uint_eq(res.records, 2 + 35 + 3 + 2);
        ck_assert_uint_eq(res.checkpoints, 1 + 3 + 1);
        ck_assert_uint_eq(res.last_counter, ta.counter);
        ck_assert_uint_eq(res.unanchored, 0);
        ck_assert(res.signatures_checked);
        ck_assert(!res.torn);

        /* Without a key and counter it still checks the chain, and says what it did not check. */
        ck_assert_int_eq(audit_verify(dir, NULL, NULL, &res), 0);
        ck_assert(res.ok);
        ck_assert_ptr_nonnull(strstr(res.reason, "signatures not checked"));
}
END_TEST

typedef struct Seen {
        unsigned n;
        uint64_t first, last;
        bool opened_clean, saw_checkpoint;
} Seen;

static int seen_cb(const AuditRecord *r, void *userdata) {
        Seen *s = userdata;
        if (s->n++ == 0)
                s->first = r->seq;
        s->last = r->seq;
        if (r->checkpoint) {
                ck_assert_str_eq(r->kind, AUDIT_KIND_CHECKPOINT);
                s->saw_checkpoint = true;
        }
        if (streq(r->kind, AUDIT_KIND_OPENED))
                for (size_t i = 0; i < r->n_fields; i++)
                        if (streq(r->fields[i].name, "AUDIT_CLEAN_STOP"))
                                s->opened_clean = streq(r->fields[i].value, "yes");
        if (streq(r->kind, "test.event")) {
                ck_assert_uint_eq(r->n_fields, 2);
                ck_assert_str_eq(r->fields[0].name, "ENDPOINTD_N");
                ck_assert_str_eq(r->fields[1].value, "/usr/bin/pump-ui");
        }
        return 0;
}

START_TEST(test_reopen_and_read) {
        AuditLog *log = NULL;
        Seen s = {};

        make_log(&small, 5);
        ck_assert_int_eq(audit_log_open(dir, &small, &anchor, &log), 0);
        /* A second writer is refused while the first holds the lock. */
        {
                AuditLog *other = NULL;
                ck_assert_int_eq(audit_log_open(dir, &small, &anchor, &other), -EBUSY);
        }
        append_n(log, 3);
        log = audit_log_free(log);
        assert_intact();

        ck_assert_int_eq(audit_log_read(dir, 0, 0, seen_cb, &s), (int) s.n);
        ck_assert_uint_eq(s.first, 1);
        ck_assert(s.opened_clean);
        ck_assert(s.saw_checkpoint);
        s = (Seen){};
        ck_assert_int_eq(audit_log_read(dir, 4, 3, seen_cb, &s), 3);
        ck_assert_uint_eq(s.first, 4);
        ck_assert_uint_eq(s.last, 6);
}
END_TEST

START_TEST(test_bad_input) {
        AuditLog *log = NULL;
        AuditField bad_name[] = { { "lower", "x" } };
        AuditField bad_value[] = { { "ENDPOINTD_X", "\xff\xfe" } };
        AuditEntry e1 = { .kind = "Bad Kind" }, e2 = { .kind = "ok", .fields = bad_name, .n_fields = 1 },
                   e3 = { .kind = "ok", .fields = bad_value, .n_fields = 1 };

        ck_assert_int_eq(audit_log_open(dir, &small, &anchor, &log), 0);
        ck_assert_int_eq(audit_log_append(log, &e1, NULL), -EINVAL);
        ck_assert_int_eq(audit_log_append(log, &e2, NULL), -EINVAL);
        ck_assert_int_eq(audit_log_append(log, &e3, NULL), -EINVAL);
        log = audit_log_free(log);
        assert_intact();
}
END_TEST

START_TEST(test_bit_flip) {
        uint8_t *d;
        size_t size, off;
        uint32_t len;

        make_log(&small, 30);
        file_load(FIRST, &d, &size);
        off = record_at(d, size, 7, &len);
        d[off + len - AUDIT_TAG_SIZE - 3] ^= 0x01; /* a character of the path */
        file_store(FIRST, d, size);
        free(d);
        assert_bad(&ta.counter, 7, "keyed hash does not match");
}
END_TEST

START_TEST(test_deleted) {
        uint8_t *d;
        size_t size, off;
        uint32_t len;

        make_log(&small, 30);
        file_load(FIRST, &d, &size);
        off = record_at(d, size, 9, &len);
        memmove(d + off, d + off + len, size - off - len);
        file_store(FIRST, d, size - len);
        free(d);
        assert_bad(&ta.counter, 9, "record 9 missing");
}
END_TEST

START_TEST(test_swapped) {
        uint8_t *d, *tmp;
        size_t size, o1, o2;
        uint32_t l1, l2;

        make_log(&small, 30);
        file_load(FIRST, &d, &size);
        o1 = record_at(d, size, 12, &l1);
        o2 = record_at(d, size, 13, &l2);
        ck_assert_uint_eq(o1 + l1, o2);
        tmp = malloc(l1 + l2);
        memcpy(tmp, d + o2, l2);
        memcpy(tmp + l2, d + o1, l1);
        memcpy(d + o1, tmp, l1 + l2);
        free(tmp);
        file_store(FIRST, d, size);
        free(d);
        assert_bad(&ta.counter, 12, "out of order");
}
END_TEST

START_TEST(test_truncated) {
        uint8_t *d;
        size_t size, off;
        uint32_t len;

        make_log(&small, 30);
        file_load(FIRST, &d, &size);
        /* Cut at a record boundary: the last checkpoint and the records before it go. */
        off = record_at(d, size, 28, &len);
        file_store(FIRST, d, off);
        ck_assert_int_eq(truncate(file_path(FIRST), (off_t) off), 0);
        free(d);
        assert_bad(&ta.counter, 25, "tail was cut");
}
END_TEST

START_TEST(test_older_copy) {
        AuditLog *log = NULL;
        char cmd[1024];

        make_log(&small, 12);
        snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s.old'", dir, dir);
        ck_assert_int_eq(system(cmd), 0);
        ck_assert_int_eq(audit_log_open(dir, &small, &anchor, &log), 0);
        append_n(log, 25);
        log = audit_log_free(log);
        assert_intact();
        snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mv '%s.old' '%s'", dir, dir, dir);
        ck_assert_int_eq(system(cmd), 0);
        /* The copy is consistent in itself; only the counter gives it away. */
        ck_assert(verify(NULL).ok);
        assert_bad(&ta.counter, 18, "older copy restored");

        /* A writer started on the restored copy says so, and the gap stays visible. */
        ck_assert_int_eq(audit_log_open(dir, &small, &anchor, &log), 0);
        log = audit_log_free(log);
        {
                AuditVerifyResult res = verify(&ta.counter);
                ck_assert(!res.ok);
                ck_assert_ptr_nonnull(strstr(res.reason, "does not follow"));
        }
}
END_TEST

/* An attacker who holds a later key (stolen from the running writer) or the
 * disclosed seed of a closed epoch rewrites record 15. */
START_TEST(test_forged) {
        uint8_t *d, key[AUDIT_KEY_SIZE], prev[AUDIT_TAG_SIZE];
        size_t size, off, cp_off;
        uint32_t len, cp_len;
        AuditRaw cp, rec;
        char reason[128];

        make_log(&small, 30);
        file_load(FIRST, &d, &size);
        /* Epoch 14..23, closed by checkpoint 24. */
        cp_off = record_at(d, size, 24, &cp_len);
        ck_assert_int_eq(audit_record_parse(d + cp_off, size - cp_off, &cp, reason, sizeof(reason)), 0);
        ck_assert_uint_eq(cp.type, AUDIT_RECORD_CHECKPOINT);
        ck_assert_uint_eq(cp.epoch_first_seq, 14);

        /* The key of seq 19 (five steps after 14), used on record 15. */
        memcpy(key, cp.seed, AUDIT_KEY_SIZE);
        for (int i = 0; i < 5; i++)
                ck_assert_int_eq(audit_key_evolve(key, key), 0);
        off = record_at(d, size, 15, &len);
        ck_assert_int_eq(audit_record_parse(d + off - 0, size - off, &rec, reason, sizeof(reason)), 0);
        memcpy(prev, d + off - AUDIT_TAG_SIZE, AUDIT_TAG_SIZE); /* record 14's tag ends right before */
        d[off + len - AUDIT_TAG_SIZE - 1] = 'X';
        ck_assert_int_eq(
                audit_record_tag(key, prev, d + off, len - AUDIT_TAG_SIZE, d + off + len - AUDIT_TAG_SIZE),
                0);
        file_store(FIRST, d, size);
        assert_bad(&ta.counter, 15, "not the one for its place");

        /* With the right key for 15 and every later tag of the epoch redone, the signed head gives it away.
         */
        memcpy(key, cp.seed, AUDIT_KEY_SIZE);
        for (uint64_t seq = 14; seq < 24; seq++) {
                size_t o = record_at(d, size, seq, &len);
                if (seq >= 15) {
                        const uint8_t *p = d + o - AUDIT_TAG_SIZE; /* the tag of the record before */
                        ck_assert_int_eq(audit_record_tag(key, p, d + o, len - AUDIT_TAG_SIZE,
                                                          d + o + len - AUDIT_TAG_SIZE),
                                         0);
                }
                ck_assert_int_eq(audit_key_evolve(key, key), 0);
        }
        file_store(FIRST, d, size);
        free(d);
        assert_bad(&ta.counter, 24, "chain head does not match");
}
END_TEST

/* CheckpointMinInterval=: a burst many times checkpoint_records long makes
 * no checkpoint by count within the interval; the close still anchors it
 * all. The counter is read once: later checkpoints take the value their own
 * increment returned. */
START_TEST(test_min_interval) {
        AuditLogConfig c = { .checkpoint_records = 10, .checkpoint_min_interval = USEC_PER_HOUR };
        AuditVerifyResult res;

        make_log(&c, 95);
        res = verify(&ta.counter);
        ck_assert_msg(res.ok, "%s", res.reason);
        /* created's checkpoint, none for the 95 events, the closing one */
        ck_assert_uint_eq(res.checkpoints, 2);
        ck_assert_uint_eq(res.unanchored, 0);
        ck_assert_uint_eq(ta.signs, 2);

        /* Without a minimum: one per 10, and still one counter read. */
        ta.reads = 0;
        make_log(&small, 95);
        ck_assert_uint_eq(verify(&ta.counter).checkpoints, 2 + 1 + 9 + 1);
        ck_assert_uint_eq(ta.reads, 1);
        assert_intact();
}
END_TEST

static int count_anchor_cb(const AuditRecord *r, void *userdata) {
        if (streq(r->kind, AUDIT_KIND_ANCHOR))
                (*(unsigned *) userdata)++;
        return 0;
}

/* Someone else increments the counter between two checkpoints: the
 * increment after the next checkpoint tells, and the checkpoint after that
 * reads the counter and records the mismatch. */
START_TEST(test_foreign_increment) {
        AuditLog *log = NULL;
        unsigned anchors = 0;

        ck_assert_int_eq(audit_log_open(dir, &small, &anchor, &log), 0);
        append_n(log, 10);
        ta.counter++;
        append_n(log, 20);
        log = audit_log_free(log);
        ck_assert_int_gt(audit_log_read(dir, 1, 0, count_anchor_cb, &anchors), 0);
        ck_assert_uint_ge(anchors, 1);
}
END_TEST

/* On a TPM whose other counters were used, a new counter's first increment
 * gives the highest value any of them had, not 1: no false audit.anchor,
 * and the log verifies against the counter. */
START_TEST(test_counter_first_value) {
        AuditLog *log = NULL;
        unsigned anchors = 0;

        ta.first = 1000;
        ck_assert_int_eq(audit_log_open(dir, &small, &anchor, &log), 0);
        append_n(log, 30);
        log = audit_log_free(log);
        ck_assert_uint_gt(ta.counter, 1000);
        ck_assert_int_gt(audit_log_read(dir, 1, 0, count_anchor_cb, &anchors), 0);
        ck_assert_uint_eq(anchors, 0);
        assert_intact();
}
END_TEST

START_TEST(test_counter_ahead) {
        uint64_t c;

        make_log(&small, 20);
        c = ta.counter + 1;
        assert_bad(&c, 27, "ahead of the newest checkpoint");
        /* One behind: the increment after the last checkpoint was lost. */
        c = ta.counter - 1;
        ck_assert(verify(&c).ok);
        c = ta.counter - 2;
        ck_assert(!verify(&c).ok);
}
END_TEST

START_TEST(test_wrong_key) {
        EVP_PKEY *other = EVP_EC_gen("P-256");
        AuditVerifyResult res;

        make_log(&small, 3);
        ck_assert_int_eq(audit_verify(dir, other, NULL, &res), 0);
        ck_assert(!res.ok);
        ck_assert_uint_eq(res.first_bad_seq, 2);
        ck_assert_ptr_nonnull(strstr(res.reason, "signature does not verify"));
        EVP_PKEY_free(other);
}
END_TEST

/* A record cut in the middle (what SIGKILL or power loss leaves) is named,
 * and the next writer continues the chain after it and says so. */
START_TEST(test_torn) {
        AuditLogConfig c = { .checkpoint_records = 1000, .sync_interval = USEC_PER_SEC };
        AuditLog *log = NULL;
        AuditVerifyResult res;
        struct stat st;
        Seen s = {};

        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                /* A writer that dies without its final checkpoint, as SIGKILL leaves it. */
                if (audit_log_open(dir, &c, &anchor, &log) < 0)
                        _exit(1);
                append_n(log, 7);
                _exit(audit_log_sync(log) < 0 ? 1 : 0);
        }
        {
                int status;
                ck_assert_int_eq(waitpid(pid, &status, 0), pid);
                ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        ta.counter++; /* the child's increment of its checkpoint */
        ta.written = true;
        ck_assert_int_eq(stat(file_path(FIRST), &st), 0);
        ck_assert_int_eq(truncate(file_path(FIRST), st.st_size - 20), 0);
        res = verify(&ta.counter);
        ck_assert_msg(res.ok, "%s", res.reason);
        ck_assert(res.torn);
        ck_assert_str_eq(res.torn_file, FIRST);
        ck_assert_ptr_nonnull(strstr(res.reason, "torn last record"));
        ck_assert_uint_eq(res.unanchored, 6);
        ck_assert_uint_eq(res.last_seq, 8);
        ck_assert_int_eq(audit_log_open(dir, &small, &anchor, &log), 0);
        append_n(log, 4);
        log = audit_log_free(log);
        res = verify(&ta.counter);
        ck_assert_msg(res.ok, "%s", res.reason);
        ck_assert(!res.torn);
        ck_assert_ptr_nonnull(strstr(
                res.reason, "1 torn records left by earlier unclean stops (the first after record 8)"));
        ck_assert_ptr_nonnull(
                strstr(res.reason, "1 epochs cut by unclean stops, not anchored (the first from record 3)"));
        ck_assert_int_gt(audit_log_read(dir, 0, 0, seen_cb, &s), 0);
        ck_assert(!s.opened_clean);
}
END_TEST

START_TEST(test_rotation) {
        AuditLogConfig c = { .checkpoint_records = 50, .max_file_size = 16384, .max_total_size = 65536 };
        AuditVerifyResult res;
        char **names = NULL;
        int dfd, n;

        make_log(&c, 3000);
        res = verify(&ta.counter);
        ck_assert_msg(res.ok, "%s", res.reason);
        ck_assert_uint_gt(res.first_seq, 1);
        dfd = open(dir, O_RDONLY | O_DIRECTORY);
        n = audit_files_list(dfd, &names);
        ck_assert_int_ge(n, 4);
        ck_assert_uint_le(res.bytes, 65536 + 16384);
        /* Deleting the oldest file without a record is named. */
        ck_assert_int_eq(unlinkat(dfd, names[0], 0), 0);
        res = verify(&ta.counter);
        ck_assert(!res.ok);
        ck_assert_ptr_nonnull(strstr(res.reason, "removed without a rotation record"));
        /* A file in the middle. */
        ck_assert_int_eq(unlinkat(dfd, names[2], 0), 0);
        res = verify(&ta.counter);
        ck_assert(!res.ok);
        ck_assert_ptr_nonnull(strstr(res.reason, "missing"));
        audit_files_free(names);
        close(dfd);
}
END_TEST

/* The codec refuses malformed records with a reason. */
START_TEST(test_codec_bad) {
        uint8_t rec[128] = {}, ok[128];
        char reason[128];
        AuditRaw raw;
        size_t len = AUDIT_RECORD_HEADER_SIZE + 4 + 2 + AUDIT_TAG_SIZE;

        put32(rec, AUDIT_RECORD_MAGIC);
        put32(rec + 4, (uint32_t) len);
        put16(rec + 8, AUDIT_RECORD_EVENT);
        put64(rec + 16, 1);
        put16(rec + 40, 2);
        memcpy(rec + 44, "ok", 2);
        memcpy(ok, rec, sizeof(ok));
        ck_assert_int_eq(audit_record_parse(rec, len, &raw, reason, sizeof(reason)), 0);
        ck_assert_int_eq(audit_record_parse(rec, len - 1, &raw, reason, sizeof(reason)), -EAGAIN);
        ck_assert_int_eq(audit_record_parse(rec, 3, &raw, reason, sizeof(reason)), -EAGAIN);
        memset(rec, 0, sizeof(rec));
        ck_assert_int_eq(audit_record_parse(rec, 100, &raw, reason, sizeof(reason)), -EAGAIN);

#define BAD(mutation, what)                                                                                 \
        do {                                                                                                \
                memcpy(rec, ok, sizeof(rec));                                                               \
                mutation;                                                                                   \
                ck_assert_int_eq(audit_record_parse(rec, sizeof(rec), &raw, reason, sizeof(reason)),        \
                                 -EBADMSG);                                                                 \
                ck_assert_msg(strstr(reason, what), "'%s' does not say '%s'", reason, what);                \
        } while (0)
        BAD(rec[0] = 'x', "magic");
        BAD(put32(rec + 4, 10), "out of range");
        BAD(put32(rec + 4, AUDIT_RECORD_MAX + 1), "out of range");
        BAD(put16(rec + 8, 7), "unknown record type");
        BAD(put16(rec + 10, 0x8000), "reserved");
        BAD(put64(rec + 16, 0), "seq 0");
        BAD(memcpy(rec + 44, "O!", 2), "kind");
        BAD(put16(rec + 42, 1), "field 0 cut off");
        BAD(put16(rec + 40, 1), "stray bytes");
        BAD(put16(rec + 8, AUDIT_RECORD_CHECKPOINT), "malformed checkpoint");
#undef BAD
        ck_assert(!audit_field_name_is_valid("_SYSTEMD", 8));
        ck_assert(!audit_field_name_is_valid("9X", 2));
        ck_assert(audit_field_name_is_valid("ENDPOINTD_UID", 13));
        ck_assert_uint_eq(audit_file_name_parse("audit-00000000000000ff.log"), 255);
        ck_assert_uint_eq(audit_file_name_parse("audit-00000000000000FF.log"), 0);
        ck_assert_uint_eq(audit_file_name_parse("audit-1.log"), 0);
}
END_TEST

/* Without a TPM the checkpoints are unsigned and carry no counter: the
 * chain is still checked, and a verifier with a device key refuses them. */
START_TEST(test_no_anchor) {
        AuditLog *log = NULL;
        AuditVerifyResult res;

        ck_assert_int_eq(audit_log_open(dir, &small, NULL, &log), 0);
        append_n(log, 25);
        log = audit_log_free(log);
        ck_assert_int_eq(audit_verify(dir, NULL, NULL, &res), 0);
        ck_assert_msg(res.ok, "%s", res.reason);
        ck_assert_uint_eq(res.checkpoints, 4);
        ck_assert_ptr_nonnull(strstr(res.reason, "4 checkpoints unsigned"));
        assert_bad(NULL, 2, "is not signed");
        ck_assert_uint_eq(ta.signs, 0);
}
END_TEST

/* The committed seed files of the fuzzer are fixtures of the format: a
 * change of the byte layout breaks them. */
START_TEST(test_fixtures) {
        static const struct {
                const char *name;
                bool torn;
                uint64_t files, records;
        } fx[] = { { "one-file.log", false, 1, 17 },
                   { "torn.log", true, 1, 16 },
                   { "two-files.log", false, 2, 15 } };

        for (size_t i = 0; i < ELEMENTSOF(fx); i++) {
                char path[4096];
                const char *names[2] = { "audit-0000000000000001.log", "audit-0000000000000009.log" };
                const uint8_t *starts[2];
                size_t sizes[2];
                AuditVerifyResult res;
                uint8_t *d, *second;
                size_t size;

                snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/audit-log/%s", TOP_SRCDIR, fx[i].name);
                ck_assert_int_eq(read_full_file(path, 1 << 20, (char **) &d, &size), 0);
                starts[0] = d;
                sizes[0] = size;
                if (fx[i].files == 2) {
                        second = memmem(d + 8, size - 8, AUDIT_FILE_MAGIC, 8);
                        ck_assert_ptr_nonnull(second);
                        sizes[0] = (size_t) (second - d);
                        starts[1] = second;
                        sizes[1] = size - sizes[0];
                }
                ck_assert_int_eq(audit_verify_buffers(names, starts, sizes, fx[i].files, NULL, NULL, &res),
                                 0);
                ck_assert_msg(res.ok, "%s: %s", fx[i].name, res.reason);
                ck_assert_uint_eq(res.torn, fx[i].torn);
                ck_assert_uint_eq(res.records, fx[i].records);
                /* One flipped bit anywhere in a record is found (or, in the torn tail, ignored as torn). */
                for (size_t off = AUDIT_FILE_HEADER_SIZE; off < sizes[0]; off += 7) {
                        d[off] ^= 0x20;
                        ck_assert_int_eq(
                                audit_verify_buffers(names, starts, sizes, fx[i].files, NULL, NULL, &res),
                                0);
                        ck_assert_msg(!res.ok || res.torn, "%s: flipped bit at %zu not found", fx[i].name,
                                      off);
                        d[off] ^= 0x20;
                }
                free(d);
        }
}
END_TEST

static Suite *make_suite(void) {
        Suite *s = suite_create("audit-log");
        TCase *tc = tcase_create("core");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_good);
        tcase_add_test(tc, test_reopen_and_read);
        tcase_add_test(tc, test_bad_input);
        tcase_add_test(tc, test_bit_flip);
        tcase_add_test(tc, test_deleted);
        tcase_add_test(tc, test_swapped);
        tcase_add_test(tc, test_truncated);
        tcase_add_test(tc, test_older_copy);
        tcase_add_test(tc, test_forged);
        tcase_add_test(tc, test_counter_ahead);
        tcase_add_test(tc, test_min_interval);
        tcase_add_test(tc, test_foreign_increment);
        tcase_add_test(tc, test_counter_first_value);
        tcase_add_test(tc, test_wrong_key);
        tcase_add_test(tc, test_torn);
        tcase_add_test(tc, test_rotation);
        tcase_add_test(tc, test_codec_bad);
        tcase_add_test(tc, test_fixtures);
        tcase_add_test(tc, test_no_anchor);
        suite_add_tcase(s, tc);
        return s;
}
