/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The writer of the audit log (endpointd-audit(5)). */

#include <fcntl.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "audit-log-internal.h"
#include "fileio.h"
#include "openssl-util.h"

#define DEFAULT_CHECKPOINT_RECORDS 1000U
#define DEFAULT_CHECKPOINT_INTERVAL (5U * USEC_PER_MINUTE)
#define DEFAULT_MAX_FILE_SIZE (8U * 1024U * 1024U)
#define DEFAULT_MAX_TOTAL_SIZE (64U * 1024U * 1024U)
/* Room kept in a file for the checkpoint that closes it. */
#define CHECKPOINT_ROOM                                                                                     \
        (AUDIT_RECORD_HEADER_SIZE + AUDIT_CHECKPOINT_FIXED + AUDIT_SIGNATURE_MAX + AUDIT_TAG_SIZE)

/* Key material, kept apart in the secure heap where there is one. */
typedef struct AuditSecrets {
        uint8_t seed[AUDIT_KEY_SIZE]; /* of the open epoch, disclosed by its checkpoint */
        uint8_t key[AUDIT_KEY_SIZE]; /* for the next record */
} AuditSecrets;

typedef struct AuditFile {
        char name[AUDIT_FILE_NAME_MAX];
        uint64_t size;
} AuditFile;

struct AuditLog {
        AuditLogConfig config;
        AuditAnchor anchor;
        bool have_anchor;
        int dir_fd, lock_fd, fd;
        AuditFile *files; /* oldest first; the last one is being written */
        size_t n_files;

        AuditMac mac;
        AuditSecrets *secrets;
        uint64_t next_seq;
        uint8_t prev_tag[AUDIT_TAG_SIZE];
        uint64_t epoch_first_seq, epoch_records; /* epoch_records 0: no open epoch */
        usec_t epoch_first_mono;
        bool have_counter;
        uint64_t last_counter;
        bool counter_known; /* the anchor's counter is last_counter (our own increment said so) */
        usec_t last_checkpoint_mono; /* of this run's newest checkpoint; 0: none yet */
        usec_t unsynced_since; /* USEC_INFINITY when synced */
        usec_t anchor_retry; /* after a failed checkpoint: not before this (monotonic) */
        bool broken;
        bool opened; /* audit_log_open() finished: a stop is recorded */

        uint8_t *buf;
        size_t buf_alloc;
};

static int write_all(int fd, const uint8_t *p, size_t len) {
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

static int buf_reserve(AuditLog *log, size_t n) {
        uint8_t *p;

        if (n <= log->buf_alloc)
                return 0;
        p = realloc(log->buf, n);
        if (!p)
                return -ENOMEM;
        log->buf = p;
        log->buf_alloc = n;
        return 0;
}

static void record_header(uint8_t *p, uint32_t len, uint16_t type, uint16_t flags, uint64_t seq, usec_t rt,
                          usec_t mono) {
        put32(p, AUDIT_RECORD_MAGIC);
        put32(p + 4, len);
        put16(p + 8, type);
        put16(p + 10, flags);
        put32(p + 12, 0);
        put64(p + 16, seq);
        put64(p + 24, rt);
        put64(p + 32, mono);
}

/* Starts a new epoch with a fresh seed if none is open. */
static int epoch_begin(AuditLog *log, uint16_t *flags) {
        if (log->epoch_records > 0) {
                *flags = 0;
                return 0;
        }
        if (RAND_priv_bytes(log->secrets->seed, AUDIT_KEY_SIZE) != 1)
                return -EIO;
        memcpy(log->secrets->key, log->secrets->seed, AUDIT_KEY_SIZE);
        log->epoch_first_seq = log->next_seq;
        log->epoch_first_mono = now_usec(CLOCK_MONOTONIC);
        *flags = AUDIT_FLAG_EPOCH_START;
        return 0;
}

/* Tags the record in log->buf (len bytes, tag space included), writes it,
 * syncs as promised and moves the chain forward. */
static int record_commit(AuditLog *log, size_t len, bool force_sync) {
        uint8_t next[AUDIT_KEY_SIZE];
        int r;

        r = audit_mac_tag(&log->mac, log->secrets->key, log->prev_tag, log->buf, len - AUDIT_TAG_SIZE,
                          log->buf + len - AUDIT_TAG_SIZE);
        if (r < 0)
                return r;
        r = write_all(log->fd, log->buf, len);
        if (r < 0) {
                log->broken = true;
                return r;
        }
        if (force_sync || log->config.sync_interval == 0) {
                if (fdatasync(log->fd) < 0) {
                        log->broken = true;
                        return -errno;
                }
                log->unsynced_since = USEC_INFINITY;
        } else if (log->unsynced_since == USEC_INFINITY)
                log->unsynced_since = now_usec(CLOCK_MONOTONIC);

        r = audit_mac_evolve(&log->mac, log->secrets->key, next);
        memcpy(log->secrets->key, next, AUDIT_KEY_SIZE);
        OPENSSL_cleanse(next, sizeof(next));
        if (r < 0) {
                log->broken = true;
                return r;
        }
        memcpy(log->prev_tag, log->buf + len - AUDIT_TAG_SIZE, AUDIT_TAG_SIZE);
        log->files[log->n_files - 1].size += len;
        log->next_seq++;
        log->epoch_records++;
        return 0;
}

static int entry_size(const AuditEntry *e, size_t *ret) {
        size_t n = AUDIT_RECORD_HEADER_SIZE + 4 + AUDIT_TAG_SIZE;

        if (!e || !e->kind || !audit_kind_is_valid(e->kind, strlen(e->kind)) ||
            e->n_fields > AUDIT_FIELDS_MAX || (e->n_fields > 0 && !e->fields))
                return -EINVAL;
        n += strlen(e->kind);
        for (size_t i = 0; i < e->n_fields; i++) {
                const AuditField *f = e->fields + i;
                size_t vl;

                if (!f->name || !f->value || !audit_field_name_is_valid(f->name, strlen(f->name)))
                        return -EINVAL;
                vl = strlen(f->value);
                if (vl > AUDIT_FIELD_VALUE_MAX || !utf8_is_valid(f->value, vl))
                        return -EINVAL;
                n += 6 + strlen(f->name) + vl;
                if (n > AUDIT_RECORD_MAX)
                        return -E2BIG;
        }
        *ret = n;
        return 0;
}

static int write_event(AuditLog *log, const AuditEntry *e, size_t len, uint64_t *ret_seq) {
        uint16_t flags;
        uint8_t *p;
        int r;

        r = buf_reserve(log, len);
        if (r < 0)
                return r;
        r = epoch_begin(log, &flags);
        if (r < 0)
                return r;
        record_header(log->buf, (uint32_t) len, AUDIT_RECORD_EVENT, flags, log->next_seq,
                      e->realtime_usec ?: now_usec(CLOCK_REALTIME),
                      e->monotonic_usec ?: now_usec(CLOCK_MONOTONIC));
        p = log->buf + AUDIT_RECORD_HEADER_SIZE;
        put16(p, (uint16_t) strlen(e->kind));
        put16(p + 2, (uint16_t) e->n_fields);
        p += 4;
        memcpy(p, e->kind, strlen(e->kind));
        p += strlen(e->kind);
        for (size_t i = 0; i < e->n_fields; i++) {
                size_t nl = strlen(e->fields[i].name), vl = strlen(e->fields[i].value);

                put16(p, (uint16_t) nl);
                put32(p + 2, (uint32_t) vl);
                memcpy(p + 6, e->fields[i].name, nl);
                memcpy(p + 6 + nl, e->fields[i].value, vl);
                p += 6 + nl + vl;
        }
        if (ret_seq)
                *ret_seq = log->next_seq;
        return record_commit(log, len, false);
}

/* Appends one of the log's own records (kind with name=value pairs). */
static int write_internal(AuditLog *log, const char *kind, const AuditField *fields, size_t n) {
        AuditEntry e = { .kind = kind, .fields = fields, .n_fields = n };
        size_t len;
        int r;

        r = entry_size(&e, &len);
        if (r < 0)
                return r;
        return write_event(log, &e, len, NULL);
}

/* Brings the anchor's counter and the log's newest checkpoint together and
 * returns the counter value the next checkpoint will carry. */
static int counter_next(AuditLog *log, uint64_t *ret) {
        uint64_t v;
        int r;

        /* Our own increment after the last checkpoint returned its counter:
         * no need to ask the TPM again (a read is two TPM commands). Anyone
         * else's increment meanwhile shows at the next increment (-ESTALE,
         * which forgets this) and is recorded at the checkpoint after it. */
        if (log->have_counter && log->counter_known) {
                if (log->last_counter == UINT64_MAX)
                        return -EOVERFLOW;
                *ret = log->last_counter + 1;
                return 0;
        }
        r = log->anchor.counter_read(log->anchor.userdata, &v);
        if (r < 0)
                return r;
        if (log->have_counter && v + 1 == log->last_counter) {
                /* The last checkpoint was written, the increment after it lost (crash). */
                r = log->anchor.counter_increment(log->anchor.userdata, &v);
                if (r < 0)
                        return r;
        }
        if (!log->have_counter && v == 0) {
                /* Never incremented. A TPM gives a counter its first value
                 * at its first increment: the highest value any counter of
                 * this TPM has had (TPM 2.0 Part 1, NV counters), not 1. Take
                 * it now, so that this checkpoint carries the value its own
                 * increment will return. */
                r = log->anchor.counter_increment(log->anchor.userdata, &v);
                if (r < 0)
                        return r;
        } else if (!log->have_counter) {
                /* No checkpoint in this log yet, but the counter has been
                 * incremented (an index never incremented reads 0): an
                 * earlier log of this TPM is gone, e.g. the whole directory
                 * removed while the daemon was stopped. */
                char a[32];
                AuditField f[] = {
                        { "AUDIT_COUNTER", a },
                        { "AUDIT_PROBLEM", "the log has no checkpoint but the counter was incremented before: "
                                           "an earlier log was removed" },
                };
                snprintf(a, sizeof(a), "%" PRIu64, v);
                r = write_internal(log, AUDIT_KIND_ANCHOR, f, ELEMENTSOF(f));
                if (r < 0)
                        return r;
        }
        if (log->have_counter && v != log->last_counter) {
                char a[32], b[32];
                AuditField f[] = {
                        { "AUDIT_COUNTER", a },
                        { "AUDIT_LOG_COUNTER", b },
                        { "AUDIT_PROBLEM", v > log->last_counter
                                                   ? "counter ahead of the log: records or "
                                                     "checkpoints were removed"
                                                   : "counter behind the log: another TPM or a "
                                                     "reset counter" },
                };
                snprintf(a, sizeof(a), "%" PRIu64, v);
                snprintf(b, sizeof(b), "%" PRIu64, log->last_counter);
                r = write_internal(log, AUDIT_KIND_ANCHOR, f, ELEMENTSOF(f));
                if (r < 0)
                        return r;
        }
        if (v == UINT64_MAX)
                return -EOVERFLOW;
        *ret = v + 1;
        return 0;
}

static int checkpoint_write(AuditLog *log) {
        _cleanup_(freep) uint8_t *sig = NULL;
        uint8_t digest[32], *p;
        uint64_t counter = 0, now = now_usec(CLOCK_MONOTONIC);
        size_t sig_len = 0, len;
        int r;

        if (log->broken)
                return -EIO;
        if (log->epoch_records == 0)
                return 0;
        if (log->have_anchor) {
                r = counter_next(log, &counter);
                if (r < 0)
                        goto anchor_failed;
        }
        r = buf_reserve(log, CHECKPOINT_ROOM);
        if (r < 0)
                return r;
        record_header(log->buf, 0, AUDIT_RECORD_CHECKPOINT, 0, log->next_seq, now_usec(CLOCK_REALTIME), now);
        p = log->buf + AUDIT_RECORD_HEADER_SIZE;
        put64(p, counter);
        put64(p + 8, log->epoch_first_seq);
        memcpy(p + 16, log->prev_tag, AUDIT_TAG_SIZE);
        memcpy(p + 48, log->secrets->seed, AUDIT_KEY_SIZE);
        if (log->have_anchor) {
                r = audit_checkpoint_digest(log->buf, digest);
                if (r < 0)
                        return r;
                r = log->anchor.sign(log->anchor.userdata, digest, &sig, &sig_len);
                if (r < 0)
                        goto anchor_failed;
                if (sig_len == 0 || sig_len > AUDIT_SIGNATURE_MAX) {
                        r = -EBADMSG;
                        goto anchor_failed;
                }
        }
        len = AUDIT_RECORD_HEADER_SIZE + AUDIT_CHECKPOINT_FIXED + sig_len + AUDIT_TAG_SIZE;
        put32(log->buf + 4, (uint32_t) len);
        put16(p + 80, (uint16_t) sig_len);
        if (sig_len > 0)
                memcpy(p + AUDIT_CHECKPOINT_FIXED, sig, sig_len);
        r = record_commit(log, len, true);
        if (r < 0)
                return r;
        OPENSSL_cleanse(log->secrets, sizeof(*log->secrets));
        log->epoch_records = 0;
        log->anchor_retry = 0;
        log->last_checkpoint_mono = now;
        if (log->have_anchor) {
                uint64_t v;

                log->have_counter = true;
                log->last_counter = counter;
                log->counter_known = false;
                r = log->anchor.counter_increment(log->anchor.userdata, &v);
                if (r < 0)
                        return r; /* the next checkpoint catches the counter up */
                if (v != counter)
                        return -ESTALE; /* the next checkpoint reads it and says so */
                log->counter_known = true;
        }
        return 1;
anchor_failed:
        /* The epoch stays open; try again a checkpoint interval later. */
        log->anchor_retry = now + log->config.checkpoint_interval;
        return r;
}

static int file_start(AuditLog *log) {
        uint8_t header[AUDIT_FILE_HEADER_SIZE];
        AuditFile *files;
        int fd, r;

        files = realloc(log->files, (log->n_files + 1) * sizeof(AuditFile));
        if (!files)
                return -ENOMEM;
        log->files = files;
        audit_file_name(log->next_seq, files[log->n_files].name);
        files[log->n_files].size = AUDIT_FILE_HEADER_SIZE;

        fd = openat(log->dir_fd, files[log->n_files].name,
                    O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        audit_file_header_write(header, log->next_seq, log->prev_tag);
        r = write_all(fd, header, sizeof(header));
        if (r >= 0 && (fsync(fd) < 0 || fsync(log->dir_fd) < 0))
                r = -errno;
        if (r < 0) {
                (void) unlinkat(log->dir_fd, files[log->n_files].name, 0);
                fd = safe_close(fd);
                return r;
        }
        log->fd = safe_close(log->fd);
        log->fd = fd;
        log->n_files++;
        return 0;
}

/* Deletes the oldest files while the total is above the cap, after saying
 * so in a record (so a crash in between leaves a record and the files). */
static int prune(AuditLog *log) {
        char through[32], names[1024] = "";
        uint64_t total = 0;
        size_t n_delete = 0;
        int r;

        for (size_t i = 0; i < log->n_files; i++)
                total += log->files[i].size;
        while (n_delete + 1 < log->n_files && total > log->config.max_total_size) {
                total -= log->files[n_delete].size;
                n_delete++;
        }
        if (n_delete == 0)
                return 0;
        for (size_t i = 0; i < n_delete; i++) {
                if (strlen(names) + AUDIT_FILE_NAME_MAX + 1 >= sizeof(names))
                        break;
                if (i > 0)
                        strcat(names, " ");
                strcat(names, log->files[i].name);
        }
        snprintf(through, sizeof(through), "%" PRIu64, audit_file_name_parse(log->files[n_delete].name) - 1);
        AuditField f[] = { { "AUDIT_DELETED_THROUGH", through }, { "AUDIT_DELETED_FILES", names } };
        r = write_internal(log, AUDIT_KIND_ROTATED, f, ELEMENTSOF(f));
        if (r < 0)
                return r;
        if (fdatasync(log->fd) < 0)
                return -errno;
        for (size_t i = 0; i < n_delete; i++)
                if (unlinkat(log->dir_fd, log->files[i].name, 0) < 0 && errno != ENOENT)
                        return -errno;
        if (fsync(log->dir_fd) < 0)
                return -errno;
        memmove(log->files, log->files + n_delete, (log->n_files - n_delete) * sizeof(AuditFile));
        log->n_files -= n_delete;
        return 0;
}

static int rotate(AuditLog *log) {
        int r;

        r = checkpoint_write(log);
        if (r < 0)
                return r;
        r = file_start(log);
        if (r < 0)
                return r;
        return prune(log);
}

static bool checkpoint_is_due(const AuditLog *log) {
        return log->epoch_records > 0 && now_usec(CLOCK_MONOTONIC) >= audit_log_checkpoint_due(log);
}

int audit_log_append(AuditLog *log, const AuditEntry *entry, uint64_t *ret_seq) {
        size_t len;
        int r;

        if (!log)
                return -EINVAL;
        r = entry_size(entry, &len);
        if (r < 0)
                return r;
        if (log->broken)
                return -EIO;
        if (log->files[log->n_files - 1].size + len + CHECKPOINT_ROOM > log->config.max_file_size &&
            log->files[log->n_files - 1].size > AUDIT_FILE_HEADER_SIZE &&
            now_usec(CLOCK_MONOTONIC) >= log->anchor_retry)
                (void) rotate(log); /* on failure the file grows on until the anchor works again */
        r = write_event(log, entry, len, ret_seq);
        if (r < 0)
                return r;
        if (!log->config.defer_checkpoints && checkpoint_is_due(log))
                (void) checkpoint_write(log); /* the record is written; the anchor is retried later */
        return 0;
}

int audit_log_checkpoint(AuditLog *log) {
        if (!log)
                return -EINVAL;
        return checkpoint_write(log);
}

usec_t audit_log_checkpoint_due(const AuditLog *log) {
        usec_t due;

        if (!log || log->epoch_records == 0)
                return USEC_INFINITY;
        due = log->epoch_records >= log->config.checkpoint_records
                      ? 0
                      : log->epoch_first_mono + log->config.checkpoint_interval;
        /* At a high rate of records: not more than one per minimum interval
         * (the NV counter's write budget; endpointd-audit(5)). */
        if (log->last_checkpoint_mono > 0)
                due = MAX(due, log->last_checkpoint_mono + log->config.checkpoint_min_interval);
        return MAX(due, log->anchor_retry);
}

int audit_log_sync(AuditLog *log) {
        if (!log)
                return -EINVAL;
        if (log->unsynced_since == USEC_INFINITY)
                return 0;
        if (fdatasync(log->fd) < 0)
                return -errno;
        log->unsynced_since = USEC_INFINITY;
        return 0;
}

usec_t audit_log_sync_due(const AuditLog *log) {
        if (!log || log->unsynced_since == USEC_INFINITY)
                return USEC_INFINITY;
        return log->unsynced_since + log->config.sync_interval;
}

uint64_t audit_log_next_seq(const AuditLog *log) {
        return log ? log->next_seq : 0;
}

AuditLog *audit_log_free(AuditLog *log) {
        if (!log)
                return NULL;
        if (log->opened && !log->broken) {
                (void) write_internal(log, AUDIT_KIND_CLOSED, NULL, 0);
                (void) checkpoint_write(log);
                (void) audit_log_sync(log);
        }
        if (log->secrets)
                OPENSSL_secure_clear_free(log->secrets, sizeof(*log->secrets));
        audit_mac_done(&log->mac);
        log->fd = safe_close(log->fd);
        log->lock_fd = safe_close(log->lock_fd);
        log->dir_fd = safe_close(log->dir_fd);
        free(log->files);
        free(log->buf);
        return mfree(log);
}

/* What the end of the existing log looks like. */
typedef struct LogTail {
        bool found; /* a complete record exists */
        uint64_t last_seq;
        uint8_t last_tag[AUDIT_TAG_SIZE];
        bool clean; /* the last record is a checkpoint */
        uint64_t unanchored; /* records after the last checkpoint (in the newest file) */
        uint64_t torn_bytes;
        bool have_counter;
        uint64_t counter;
} LogTail;

/* Walks one file's records without checking tags. */
static int scan_file(AuditLog *log, const char *name, LogTail *t, uint64_t *ret_size) {
        _cleanup_(closep) int fd = -EBADF;
        _cleanup_(freep) char *data = NULL;
        AuditFileHeader h;
        size_t size, off;
        char reason[128];
        bool closed = false;
        int r;

        fd = openat(log->dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        r = read_full_fd(fd, 1024U * 1024U * 1024U, &data, &size);
        if (r < 0)
                return r;
        *ret_size = size;
        r = audit_file_header_parse((const uint8_t *) data, size, &h);
        if (r == -EAGAIN) {
                t->torn_bytes = size;
                return 0;
        }
        if (r < 0)
                return r;
        for (off = AUDIT_FILE_HEADER_SIZE; off < size;) {
                AuditRaw raw;

                r = audit_record_parse((const uint8_t *) data + off, size - off, &raw, reason,
                                       sizeof(reason));
                if (r == -EAGAIN)
                        break;
                if (r < 0)
                        return r;
                t->found = true;
                t->last_seq = raw.seq;
                memcpy(t->last_tag, raw.tag, AUDIT_TAG_SIZE);
                /* Clean: the writer's last act was "closed" and a checkpoint. */
                t->clean = raw.type == AUDIT_RECORD_CHECKPOINT && closed;
                closed = raw.type == AUDIT_RECORD_EVENT && raw.kind_len == strlen(AUDIT_KIND_CLOSED) &&
                         memcmp(raw.kind, AUDIT_KIND_CLOSED, raw.kind_len) == 0;
                if (raw.type == AUDIT_RECORD_CHECKPOINT) {
                        t->unanchored = 0;
                        t->have_counter = true;
                        t->counter = raw.counter;
                } else
                        t->unanchored++;
                off += raw.len;
        }
        t->torn_bytes = size - off;
        return 0;
}

static int log_load(AuditLog *log, LogTail *ret_tail, char *torn_file) {
        char **names = NULL;
        LogTail tail = {};
        int n, r = 0;

        n = audit_files_list(log->dir_fd, &names);
        if (n < 0)
                return n;
        log->files = calloc((size_t) n + 1, sizeof(AuditFile));
        if (!log->files) {
                audit_files_free(names);
                return -ENOMEM;
        }
        for (int i = 0; i < n; i++) {
                struct stat st;

                if (fstatat(log->dir_fd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = -errno;
                        goto finish;
                }
                snprintf(log->files[i].name, AUDIT_FILE_NAME_MAX, "%s", names[i]);
                log->files[i].size = (uint64_t) st.st_size;
        }
        log->n_files = (size_t) n;
        /* From the newest file back: the chain's end and the last counter. */
        for (int i = n - 1; i >= 0; i--) {
                LogTail t = {};
                uint64_t size;

                r = scan_file(log, names[i], &t, &size);
                if (r < 0)
                        goto finish;
                if (i == n - 1) {
                        tail.torn_bytes = t.torn_bytes;
                        if (t.torn_bytes > 0)
                                snprintf(torn_file, AUDIT_FILE_NAME_MAX, "%s", names[i]);
                }
                if (!tail.found && !t.found && i == (int) log->n_files - 1) {
                        /* A file with no complete record: made, then the writer died. */
                        if (unlinkat(log->dir_fd, names[i], 0) < 0 || fsync(log->dir_fd) < 0) {
                                r = -errno;
                                goto finish;
                        }
                        log->n_files--;
                        continue;
                }
                if (!tail.found && t.found) {
                        tail.found = true;
                        tail.last_seq = t.last_seq;
                        memcpy(tail.last_tag, t.last_tag, AUDIT_TAG_SIZE);
                        tail.clean = t.clean && tail.torn_bytes == 0;
                }
                if (!t.have_counter)
                        tail.unanchored += t.unanchored;
                else {
                        tail.unanchored += t.unanchored;
                        tail.have_counter = true;
                        tail.counter = t.counter;
                        break;
                }
        }
finish:
        audit_files_free(names);
        *ret_tail = tail;
        return r;
}

int audit_log_open(const char *dir, const AuditLogConfig *config, const AuditAnchor *anchor,
                   AuditLog **ret) {
        _cleanup_(audit_log_freep) AuditLog *log = NULL;
        char torn_file[AUDIT_FILE_NAME_MAX] = "";
        LogTail tail;
        int r;

        if (!dir || !ret)
                return -EINVAL;
        if (anchor && (!anchor->counter_increment || !anchor->counter_read || !anchor->sign))
                return -EINVAL;
        log = calloc(1, sizeof(AuditLog));
        if (!log)
                return -ENOMEM;
        log->dir_fd = log->lock_fd = log->fd = -EBADF;
        log->unsynced_since = USEC_INFINITY;
        log->config = config ? *config : (AuditLogConfig){};
        if (log->config.checkpoint_records == 0)
                log->config.checkpoint_records = DEFAULT_CHECKPOINT_RECORDS;
        if (log->config.checkpoint_interval == 0)
                log->config.checkpoint_interval = DEFAULT_CHECKPOINT_INTERVAL;
        if (log->config.max_file_size == 0)
                log->config.max_file_size = DEFAULT_MAX_FILE_SIZE;
        if (log->config.max_total_size == 0)
                log->config.max_total_size = DEFAULT_MAX_TOTAL_SIZE;
        if (log->config.max_file_size < 4 * CHECKPOINT_ROOM)
                return -EINVAL;
        if (anchor) {
                log->anchor = *anchor;
                log->have_anchor = true;
        }
        log->secrets = OPENSSL_secure_zalloc(sizeof(AuditSecrets));
        if (!log->secrets)
                return -ENOMEM;
        r = audit_mac_init(&log->mac);
        if (r < 0)
                return r;

        r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        log->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (log->dir_fd < 0)
                return -errno;
        log->lock_fd = openat(log->dir_fd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (log->lock_fd < 0)
                return -errno;
        if (flock(log->lock_fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EBUSY : -errno;

        r = log_load(log, &tail, torn_file);
        if (r < 0)
                return r;
        log->next_seq = tail.found ? tail.last_seq + 1 : 1;
        if (tail.found)
                memcpy(log->prev_tag, tail.last_tag, AUDIT_TAG_SIZE);
        log->have_counter = tail.have_counter;
        log->last_counter = tail.counter;
        r = file_start(log);
        if (r < 0)
                return r;
        if (!tail.found) {
                AuditField f[] = { { "AUDIT_FORMAT", "1" } };
                r = write_internal(log, AUDIT_KIND_CREATED, f, ELEMENTSOF(f));
        } else {
                char prev[32], torn[32], unanchored[32];
                AuditField f[] = {
                        { "AUDIT_CLEAN_STOP", tail.clean ? "yes" : "no" },
                        { "AUDIT_PREVIOUS_SEQ", prev },
                        { "AUDIT_TORN_BYTES", torn },
                        { "AUDIT_TORN_FILE", torn_file },
                        { "AUDIT_UNANCHORED", unanchored },
                };
                snprintf(prev, sizeof(prev), "%" PRIu64, tail.last_seq);
                snprintf(torn, sizeof(torn), "%" PRIu64, tail.torn_bytes);
                snprintf(unanchored, sizeof(unanchored), "%" PRIu64, tail.unanchored);
                r = write_internal(log, AUDIT_KIND_OPENED, f, ELEMENTSOF(f));
        }
        if (r < 0)
                return r;
        r = checkpoint_write(log);
        if (r < 0 && r != -ESTALE && log->broken)
                return r;
        r = prune(log);
        if (r < 0)
                return r;
        log->opened = true;
        *ret = TAKE_PTR(log);
        return 0;
}
