/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The reader and the offline verifier of the audit log (endpointd-audit(5)).
 * Both take the files as untrusted input. */

#include <fcntl.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>

#include "audit-log-internal.h"
#include "fileio.h"
#include "openssl-util.h"

#define FILE_READ_MAX (1024U * 1024U * 1024U)

/* --- reader ---------------------------------------------------------------- */

static int deliver(const AuditRaw *raw, AuditReadCallback cb, void *userdata) {
        AuditField fields[AUDIT_FIELDS_MAX];
        AuditRecord rec = {
                .seq = raw->seq,
                .realtime_usec = raw->realtime,
                .monotonic_usec = raw->monotonic,
                .checkpoint = raw->type == AUDIT_RECORD_CHECKPOINT,
                .fields = fields,
        };
        _cleanup_(freep) char *strings = NULL;
        int r;

        if (rec.checkpoint) {
                char counter[32], first[32], *head;

                head = hexmem(raw->head, AUDIT_TAG_SIZE);
                if (!head)
                        return -ENOMEM;
                snprintf(counter, sizeof(counter), "%" PRIu64, raw->counter);
                snprintf(first, sizeof(first), "%" PRIu64, raw->epoch_first_seq);
                fields[0] = (AuditField){ "AUDIT_COUNTER", counter };
                fields[1] = (AuditField){ "AUDIT_EPOCH_FIRST_SEQ", first };
                fields[2] = (AuditField){ "AUDIT_HEAD", head };
                fields[3] = (AuditField){ "AUDIT_SIGNED", raw->sig_len > 0 ? "yes" : "no" };
                rec.kind = AUDIT_KIND_CHECKPOINT;
                rec.n_fields = 4;
                r = cb(&rec, userdata);
                free(head);
                return r;
        }

        /* Each string followed by its NUL: the body is always large enough. */
        AuditFieldIter it;
        const uint8_t *name, *value;
        uint16_t nl;
        uint32_t vl;
        char *p;

        strings = malloc(raw->body_len + 2U * raw->n_fields + 2U);
        if (!strings)
                return -ENOMEM;
        p = strings;
        memcpy(p, raw->kind, raw->kind_len);
        p[raw->kind_len] = 0;
        rec.kind = p;
        p += raw->kind_len + 1;
        audit_field_iter_init(raw, &it);
        while (rec.n_fields < raw->n_fields && audit_field_iter_next(&it, &name, &nl, &value, &vl)) {
                memcpy(p, name, nl);
                p[nl] = 0;
                fields[rec.n_fields].name = p;
                p += nl + 1;
                memcpy(p, value, vl);
                p[vl] = 0;
                fields[rec.n_fields].value = p;
                p += vl + 1;
                rec.n_fields++;
        }
        return cb(&rec, userdata);
}

int audit_log_read(const char *dir, uint64_t from_seq, size_t max, AuditReadCallback cb, void *userdata) {
        _cleanup_(closep) int dir_fd = -EBADF;
        char **names = NULL;
        size_t handed = 0, first = 0;
        int n, r = 0;

        if (!dir || !cb)
                return -EINVAL;
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;
        n = audit_files_list(dir_fd, &names);
        if (n < 0)
                return n;
        /* The last file that starts at or before from_seq. */
        while (first + 1 < (size_t) n && audit_file_name_parse(names[first + 1]) <= from_seq)
                first++;
        for (size_t i = first; i < (size_t) n && r == 0; i++) {
                _cleanup_(closep) int fd = -EBADF;
                _cleanup_(freep) char *data = NULL;
                size_t size, off = AUDIT_FILE_HEADER_SIZE;
                AuditFileHeader h;

                /* One file in memory at a time. A file rotated away meanwhile is skipped. */
                fd = openat(dir_fd, names[i], O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
                if (fd < 0 && errno == ENOENT)
                        continue;
                if (fd < 0) {
                        r = -errno;
                        break;
                }
                r = read_full_fd(fd, FILE_READ_MAX, &data, &size);
                if (r < 0)
                        break;
                if (audit_file_header_parse((const uint8_t *) data, size, &h) < 0)
                        break;
                while (off < size && r == 0) {
                        char reason[128];
                        AuditRaw raw;

                        if (audit_record_parse((const uint8_t *) data + off, size - off, &raw, reason,
                                               sizeof(reason)) < 0)
                                break;
                        off += raw.len;
                        if (raw.seq < from_seq)
                                continue;
                        r = deliver(&raw, cb, userdata);
                        if (r == 0 && ++handed == max)
                                r = 1;
                }
        }
        audit_files_free(names);
        if (r < 0)
                return r;
        return (int) MIN(handed, (size_t) INT32_MAX);
}

/* --- verifier -------------------------------------------------------------- */

typedef struct Verifier {
        AuditVerifyResult *res;
        EVP_PKEY *pub;
        AuditMac mac;
        uint64_t expect_seq; /* 0: nothing read yet */
        uint8_t prev_tag[AUDIT_TAG_SIZE];
        /* the open epoch: its records, to be checked when its checkpoint discloses the seed */
        bool in_epoch;
        uint64_t epoch_first_seq;
        uint8_t epoch_prev_tag[AUDIT_TAG_SIZE];
        const uint8_t **epoch_recs;
        size_t n_epoch, epoch_alloc;
        bool have_counter;
        uint64_t last_counter, last_checkpoint_seq;
        uint64_t deleted_through;
        bool need_opened; /* the previous file ended without a checkpoint: a crash */
        /* for the notes */
        uint64_t crash_epochs, crash_first_seq, torn_earlier, torn_earlier_first_seq;
        uint64_t unsigned_checkpoints;
        bool counter_behind;
        size_t n_files;
} Verifier;

_printf_(3, 4) static int fail(Verifier *v, uint64_t seq, const char *format, ...) {
        va_list ap;

        v->res->ok = false;
        v->res->first_bad_seq = seq;
        va_start(ap, format);
        vsnprintf(v->res->reason, sizeof(v->res->reason), format, ap);
        va_end(ap);
        return 1;
}

_printf_(2, 3) static void note(Verifier *v, const char *format, ...) {
        char buf[256];
        size_t l = strlen(v->res->reason);
        va_list ap;

        va_start(ap, format);
        vsnprintf(buf, sizeof(buf), format, ap);
        va_end(ap);
        snprintf(v->res->reason + l, sizeof(v->res->reason) - l, "%s%s", l > 0 ? "; " : "", buf);
}

static bool raw_kind_is(const AuditRaw *r, const char *kind) {
        return r->type == AUDIT_RECORD_EVENT && r->kind_len == strlen(kind) &&
               memcmp(r->kind, kind, r->kind_len) == 0;
}

/* The decimal value of field name in r, or 0. */
static uint64_t raw_field_u64(const AuditRaw *r, const char *field) {
        AuditFieldIter it;
        const uint8_t *name, *value;
        uint16_t nl;
        uint32_t vl;

        audit_field_iter_init(r, &it);
        while (audit_field_iter_next(&it, &name, &nl, &value, &vl)) {
                char buf[32];
                uint64_t u;

                if (nl != strlen(field) || memcmp(name, field, nl) != 0 || vl == 0 || vl >= sizeof(buf))
                        continue;
                memcpy(buf, value, vl);
                buf[vl] = 0;
                if (parse_uint64(buf, UINT64_MAX, &u) >= 0)
                        return u;
        }
        return 0;
}

static int epoch_add(Verifier *v, const uint8_t *rec) {
        if (v->n_epoch == v->epoch_alloc) {
                size_t na = v->epoch_alloc ? v->epoch_alloc * 2 : 256;
                const uint8_t **p = realloc(v->epoch_recs, na * sizeof(uint8_t *));
                if (!p)
                        return -ENOMEM;
                v->epoch_recs = p;
                v->epoch_alloc = na;
        }
        v->epoch_recs[v->n_epoch++] = rec;
        return 0;
}

/* Checks a checkpoint and, with the seed it discloses, every tag of its epoch. */
static int check_checkpoint(Verifier *v, const AuditRaw *cp) {
        uint8_t key[AUDIT_KEY_SIZE], next[AUDIT_KEY_SIZE], tag[AUDIT_TAG_SIZE], prev[AUDIT_TAG_SIZE];
        int r;

        if (cp->epoch_first_seq != v->epoch_first_seq)
                return fail(v, cp->seq,
                            "checkpoint %" PRIu64 " names epoch start %" PRIu64 ", the records say %" PRIu64,
                            cp->seq, cp->epoch_first_seq, v->epoch_first_seq);
        if (CRYPTO_memcmp(cp->head, v->prev_tag, AUDIT_TAG_SIZE) != 0)
                return fail(v, cp->seq,
                            "checkpoint %" PRIu64 ": chain head does not match the records before it "
                            "(a record before it was replaced)",
                            cp->seq);
        if (cp->sig_len == 0 && cp->counter == 0 && !v->pub) {
                /* Written without an anchor (no TPM): no counter to follow. */
                v->unsigned_checkpoints++;
        } else if (v->have_counter && cp->counter != v->last_counter + 1)
                return fail(v, cp->seq,
                            "checkpoint %" PRIu64 ": counter %" PRIu64 " does not follow %" PRIu64
                            " of the checkpoint before (checkpoints removed, reordered, or an older copy of "
                            "the log)",
                            cp->seq, cp->counter, v->last_counter);
        if (v->pub) {
                _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
                uint8_t digest[32];

                if (cp->sig_len == 0)
                        return fail(v, cp->seq, "checkpoint %" PRIu64 " is not signed", cp->seq);
                r = audit_checkpoint_digest(cp->data, digest);
                if (r < 0)
                        return r;
                ctx = EVP_PKEY_CTX_new(v->pub, NULL);
                if (!ctx || EVP_PKEY_verify_init(ctx) != 1)
                        return -ENOMEM;
                if (EVP_PKEY_get_base_id(v->pub) == EVP_PKEY_RSA ||
                    EVP_PKEY_get_base_id(v->pub) == EVP_PKEY_EC)
                        (void) EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256());
                if (EVP_PKEY_verify(ctx, cp->sig, cp->sig_len, digest, sizeof(digest)) != 1) {
                        char err[128];
                        (void) openssl_errors_drain(err, sizeof(err));
                        return fail(v, cp->seq,
                                    "checkpoint %" PRIu64 ": signature does not verify with the device key",
                                    cp->seq);
                }
        }
        /* The tags of the epoch, checkpoint included. */
        memcpy(key, cp->seed, AUDIT_KEY_SIZE);
        memcpy(prev, v->epoch_prev_tag, AUDIT_TAG_SIZE);
        for (size_t i = 0; i < v->n_epoch; i++) {
                const uint8_t *rec = v->epoch_recs[i];
                uint32_t len = get32(rec + 4);

                r = audit_mac_tag(&v->mac, key, prev, rec, len - AUDIT_TAG_SIZE, tag);
                if (r >= 0)
                        r = audit_mac_evolve(&v->mac, key, next);
                if (r < 0)
                        return r;
                if (CRYPTO_memcmp(tag, rec + len - AUDIT_TAG_SIZE, AUDIT_TAG_SIZE) != 0)
                        return fail(v, get64(rec + 16),
                                    "record %" PRIu64
                                    ": keyed hash does not match (the record was altered, or "
                                    "made with a key that was not the one for its place in the chain)",
                                    get64(rec + 16));
                memcpy(key, next, AUDIT_KEY_SIZE);
                memcpy(prev, tag, AUDIT_TAG_SIZE);
        }
        OPENSSL_cleanse(key, sizeof(key));
        if (cp->sig_len > 0 || cp->counter > 0 || v->pub) {
                v->have_counter = true;
                v->last_counter = v->res->last_counter = cp->counter;
        }
        v->last_checkpoint_seq = cp->seq;
        v->res->checkpoints++;
        v->in_epoch = false;
        v->n_epoch = 0;
        return 0;
}

/* One record in order. Returns 0 to go on, 1 when a verdict was reached. */
static int verify_record(Verifier *v, const AuditRaw *raw) {
        int r;

        if (raw->seq != v->expect_seq) {
                if (raw->seq > v->expect_seq)
                        return fail(v, v->expect_seq,
                                    "record %" PRIu64 " missing (found %" PRIu64 " in its place)",
                                    v->expect_seq, raw->seq);
                return fail(v, v->expect_seq, "record %" PRIu64 " out of order (expected %" PRIu64 ")",
                            raw->seq, v->expect_seq);
        }
        if (v->need_opened && !raw_kind_is(raw, AUDIT_KIND_OPENED))
                return fail(v, raw->seq,
                            "the file before record %" PRIu64 " ends without a checkpoint, and no "
                            "restart record follows it",
                            raw->seq);
        if (raw->flags & AUDIT_FLAG_EPOCH_START) {
                if (v->in_epoch) {
                        /* Only a restart after an unclean stop abandons an epoch. */
                        if (!raw_kind_is(raw, AUDIT_KIND_OPENED))
                                return fail(v, raw->seq,
                                            "record %" PRIu64 " starts an epoch while %" PRIu64
                                            " is not closed by a checkpoint",
                                            raw->seq, v->epoch_first_seq);
                        v->res->unanchored += v->n_epoch;
                        if (v->crash_epochs++ == 0)
                                v->crash_first_seq = v->epoch_first_seq;
                }
                v->in_epoch = true;
                v->epoch_first_seq = raw->seq;
                memcpy(v->epoch_prev_tag, v->prev_tag, AUDIT_TAG_SIZE);
                v->n_epoch = 0;
        } else if (!v->in_epoch)
                return fail(v, raw->seq,
                            "record %" PRIu64 " follows a checkpoint but does not start an epoch", raw->seq);
        v->need_opened = false;
        r = epoch_add(v, raw->data);
        if (r < 0)
                return r;
        if (raw->type == AUDIT_RECORD_CHECKPOINT) {
                r = check_checkpoint(v, raw);
                if (r != 0)
                        return r;
        } else if (raw_kind_is(raw, AUDIT_KIND_ROTATED))
                v->deleted_through = MAX(v->deleted_through, raw_field_u64(raw, "AUDIT_DELETED_THROUGH"));
        memcpy(v->prev_tag, raw->tag, AUDIT_TAG_SIZE);
        v->res->records++;
        v->res->last_seq = raw->seq;
        v->expect_seq++;
        return 0;
}

static int verify_file(Verifier *v, const char *name, const uint8_t *data, size_t size, bool last) {
        AuditFileHeader h;
        size_t off;
        int r;

        v->res->bytes += size;
        r = audit_file_header_parse(data, size, &h);
        if (r == -EAGAIN && last) {
                v->res->torn = true;
                v->res->torn_offset = 0;
                snprintf(v->res->torn_file, sizeof(v->res->torn_file), "%s", name);
                return 0;
        }
        if (r < 0)
                return fail(v, v->expect_seq, "%s: bad file header", name);
        if (h.first_seq != audit_file_name_parse(name))
                return fail(v, h.first_seq, "%s: header says the file starts at record %" PRIu64, name,
                            h.first_seq);
        if (v->expect_seq == 0) {
                v->expect_seq = h.first_seq;
                v->res->first_seq = h.first_seq;
                memcpy(v->prev_tag, h.prev_tag, AUDIT_TAG_SIZE);
        } else if (h.first_seq > v->expect_seq)
                return fail(v, v->expect_seq, "records %" PRIu64 "-%" PRIu64 " missing (%s follows)",
                            v->expect_seq, h.first_seq - 1, name);
        else if (h.first_seq < v->expect_seq)
                return fail(v, h.first_seq, "%s starts at record %" PRIu64 ", already seen", name,
                            h.first_seq);
        else if (CRYPTO_memcmp(h.prev_tag, v->prev_tag, AUDIT_TAG_SIZE) != 0)
                return fail(v, h.first_seq, "%s does not continue the chain of the file before it", name);

        for (off = AUDIT_FILE_HEADER_SIZE; off < size;) {
                char reason[128];
                AuditRaw raw;

                r = audit_record_parse(data + off, size - off, &raw, reason, sizeof(reason));
                if (r == -EAGAIN) {
                        v->res->torn = true;
                        v->res->torn_offset = off;
                        snprintf(v->res->torn_file, sizeof(v->res->torn_file), "%s", name);
                        if (last)
                                return 0;
                        v->need_opened = true;
                        if (v->torn_earlier++ == 0)
                                v->torn_earlier_first_seq = v->expect_seq;
                        v->res->torn = false;
                        return 0;
                }
                if (r < 0)
                        return fail(v, v->expect_seq, "record %" PRIu64 " at offset %zu of %s: %s",
                                    v->expect_seq, off, name, reason);
                if (raw.seq > v->expect_seq && off + raw.len < size) {
                        /* A swap shows as the expected record coming next. */
                        AuditRaw next;
                        if (audit_record_parse(data + off + raw.len, size - off - raw.len, &next, reason,
                                               sizeof(reason)) >= 0 &&
                            next.seq == v->expect_seq)
                                return fail(v, v->expect_seq,
                                            "records %" PRIu64 " and %" PRIu64 " out of order (swapped)",
                                            v->expect_seq, raw.seq);
                }
                r = verify_record(v, &raw);
                if (r != 0)
                        return r;
                off += raw.len;
        }
        if (!last && v->in_epoch)
                v->need_opened = true;
        return 0;
}

static int verifier_init(Verifier *v, AuditVerifyResult *res, EVP_PKEY *device_pub) {
        *res = (AuditVerifyResult){ .ok = true, .signatures_checked = !!device_pub };
        *v = (Verifier){ .res = res, .pub = device_pub };
        return audit_mac_init(&v->mac);
}

static void verifier_done(Verifier *v) {
        audit_mac_done(&v->mac);
        free(v->epoch_recs);
}

/* One file, in name order; last: no file follows. 0 to go on, 1 on a verdict. */
static int verifier_file(Verifier *v, const char *prev_name, const char *name, const uint8_t *data,
                         size_t size, bool last) {
        if (audit_file_name_parse(name) == 0 || (prev_name && strcmp(prev_name, name) >= 0))
                return -EINVAL;
        v->n_files++;
        /* Epochs end at file ends (a checkpoint or a restart): no pointer into this file is kept. */
        return verify_file(v, name, data, size, last);
}

/* The checks of the whole log, and the notes. */
static void verifier_finish(Verifier *v, const uint64_t *nv_counter) {
        AuditVerifyResult *res = v->res;

        if (v->n_files == 0)
                return (void) fail(v, 0, "no log files");
        if (res->records == 0)
                note(v, "no records (the writer stopped while creating the log)");
        /* A rotation record is written before its files are deleted: they may still be there. */
        if (res->first_seq > 1 && v->deleted_through + 1 < res->first_seq)
                return (void) fail(v, v->deleted_through + 1,
                                   "records %" PRIu64 "-%" PRIu64
                                   " missing: the oldest file was removed without a rotation record",
                                   v->deleted_through + 1, res->first_seq - 1);
        if (nv_counter) {
                if (!v->have_counter)
                        return (void) fail(v, 0,
                                           "the log has no signed checkpoint, but the counter is %" PRIu64
                                           " (log replaced?)",
                                           *nv_counter);
                if (*nv_counter > v->last_counter)
                        return (void) fail(
                                v, v->last_checkpoint_seq + 1,
                                "the counter is %" PRIu64 ", ahead of the newest checkpoint (record %" PRIu64
                                ", counter %" PRIu64 "): the log's tail was cut or an older copy restored",
                                *nv_counter, v->last_checkpoint_seq, v->last_counter);
                if (*nv_counter + 1 == v->last_counter)
                        v->counter_behind = true;
                else if (*nv_counter < v->last_counter)
                        return (void) fail(v, v->last_checkpoint_seq,
                                           "the counter is %" PRIu64
                                           ", behind the newest checkpoint's %" PRIu64
                                           ": a log of another TPM, or the counter was reset",
                                           *nv_counter, v->last_counter);
        }
        /* Notes, the most important first. */
        if (res->torn)
                note(v, "torn last record at offset %" PRIu64 " of %s", res->torn_offset, res->torn_file);
        if (v->in_epoch && v->n_epoch > 0) {
                res->unanchored += v->n_epoch;
                note(v, "%zu records after the newest checkpoint are not anchored yet", v->n_epoch);
        }
        if (v->counter_behind)
                note(v, "the counter is one behind the newest checkpoint (stopped between writing it and "
                        "incrementing)");
        if (v->torn_earlier > 0)
                note(v,
                     "%" PRIu64
                     " torn records left by earlier unclean stops (the first after record %" PRIu64 ")",
                     v->torn_earlier, v->torn_earlier_first_seq - 1);
        if (v->crash_epochs > 0)
                note(v,
                     "%" PRIu64 " epochs cut by unclean stops, not anchored (the first from record %" PRIu64
                     ")",
                     v->crash_epochs, v->crash_first_seq);
        if (v->unsigned_checkpoints > 0)
                note(v, "%" PRIu64 " checkpoints unsigned (written without a TPM)", v->unsigned_checkpoints);
        if (!v->pub)
                note(v, "checkpoint signatures not checked (no device key)");
}

int audit_verify_buffers(const char *const *names, const uint8_t *const *data, const size_t *sizes, size_t n,
                         EVP_PKEY *device_pub, const uint64_t *nv_counter, AuditVerifyResult *ret) {
        AuditVerifyResult res;
        Verifier v;
        int r;

        if (!ret || (n > 0 && (!names || !data || !sizes)))
                return -EINVAL;
        r = verifier_init(&v, &res, device_pub);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && r == 0; i++)
                r = verifier_file(&v, i > 0 ? names[i - 1] : NULL, names[i], data[i], sizes[i], i + 1 == n);
        if (r == 0)
                verifier_finish(&v, nv_counter);
        verifier_done(&v);
        if (r < 0)
                return r;
        *ret = res;
        return 0;
}

int audit_verify(const char *dir, EVP_PKEY *device_pub, const uint64_t *nv_counter, AuditVerifyResult *ret) {
        _cleanup_(closep) int dir_fd = -EBADF;
        AuditVerifyResult res;
        char **names = NULL;
        Verifier v;
        int n, r;

        if (!dir || !ret)
                return -EINVAL;
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;
        n = audit_files_list(dir_fd, &names);
        if (n < 0)
                return n;
        r = verifier_init(&v, &res, device_pub);
        for (int i = 0; i < n && r == 0; i++) {
                _cleanup_(closep) int fd = -EBADF;
                _cleanup_(freep) char *data = NULL;
                size_t size;

                /* One file in memory at a time: at most MaxFileSize. */
                fd = openat(dir_fd, names[i], O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
                if (fd < 0)
                        r = -errno;
                else
                        r = read_full_fd(fd, FILE_READ_MAX, &data, &size);
                if (r >= 0)
                        r = verifier_file(&v, i > 0 ? names[i - 1] : NULL, names[i], (const uint8_t *) data,
                                          size, i + 1 == n);
        }
        if (r == 0)
                verifier_finish(&v, nv_counter);
        verifier_done(&v);
        audit_files_free(names);
        if (r < 0)
                return r;
        *ret = res;
        return 0;
}
