/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The tamper-evident audit log ("black box"), endpointd-audit(5).
 *
 * Records are appended to files audit-<first seq in hex>.log in one
 * directory (the state directory's audit/). Each record carries an
 * HMAC-SHA256 tag over the previous record's tag and its own bytes, so the
 * tags form a chain. The HMAC key evolves forward after every record
 * (K[n+1] = SHA-256(K[n] || "endpointd-audit-evolve")) and the old key is wiped.
 * Each epoch (the records between two checkpoints) starts from a fresh
 * random seed, which the checkpoint closing the epoch discloses: a
 * checkpoint is signed by the anchor (the TPM device key) and carries the
 * chain head, the epoch's seed and the value of a monotonic counter (a TPM
 * NV counter). A verifier holding only the device's public key (and, to
 * detect a rolled-back or cut log, the counter's current value) checks it
 * all offline.
 *
 * The writer is not thread-safe: one owner calls it. The reader and the
 * verifier only read the directory and may run while a writer appends. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "macro.h"
#include "util.h"

#define AUDIT_KEY_SIZE 32U
#define AUDIT_TAG_SIZE 32U
#define AUDIT_FILE_HEADER_SIZE 64U
#define AUDIT_RECORD_HEADER_SIZE 40U
#define AUDIT_RECORD_MAX (256U * 1024U) /* whole record, header and tag included */
#define AUDIT_KIND_MAX 64U
#define AUDIT_FIELD_NAME_MAX 64U
#define AUDIT_FIELD_VALUE_MAX (64U * 1024U)
#define AUDIT_FIELDS_MAX 64U
#define AUDIT_SIGNATURE_MAX 1024U

/* Kinds the log writes itself (besides the checkpoint record type). */
#define AUDIT_KIND_CHECKPOINT "audit.checkpoint" /* how the reader shows a checkpoint */
#define AUDIT_KIND_CREATED "audit.created" /* first record of a new log */
#define AUDIT_KIND_OPENED "audit.opened" /* writer started on an existing log */
#define AUDIT_KIND_CLOSED "audit.closed" /* writer stopped cleanly (a checkpoint follows) */
#define AUDIT_KIND_ROTATED "audit.rotated" /* oldest files are being deleted */
#define AUDIT_KIND_ANCHOR "audit.anchor" /* counter and log disagreed at a checkpoint */

/* One field of an event: a journal-style name ([A-Z0-9_], 1..64 bytes, not
 * starting with a digit or '_', e.g. ENDPOINTD_UID) and a text value (valid
 * UTF-8 without NUL, at most AUDIT_FIELD_VALUE_MAX bytes). */
typedef struct AuditField {
        const char *name;
        const char *value;
} AuditField;

/* One event to append. kind: [a-z0-9._-], 1..64 bytes (e.g. "access.denied").
 * realtime_usec/monotonic_usec: when the event happened; 0 means "now". */
typedef struct AuditEntry {
        const char *kind;
        uint64_t realtime_usec;
        uint64_t monotonic_usec;
        const AuditField *fields;
        size_t n_fields;
} AuditEntry;

/* The trust anchor: a monotonic counter and a signing key that an attacker
 * with root cannot roll back or take away (the daemon plugs in a TPM NV
 * counter and the TPM device key). Each returns 0 or a negative errno.
 * counter_read: the counter's current value.
 * counter_increment: increments it and returns the new value.
 * sign: signs the 32-byte SHA-256 digest of a checkpoint's signed part with
 *   the key whose public half audit_verify() is given; *ret_sig is
 *   malloc'ed (freed by the log), in the encoding EVP_PKEY_verify() takes
 *   for that key (DER for ECDSA), at most AUDIT_SIGNATURE_MAX bytes.
 * Whoever may call sign() with a chosen digest can forge checkpoints: the
 * daemon must not offer a signing service that accepts data beginning with
 * AUDIT_CHECKPOINT_DOMAIN (endpointd-audit(5), SECURITY). */
typedef struct AuditAnchor {
        void *userdata;
        int (*counter_increment)(void *userdata, uint64_t *ret_new);
        int (*counter_read)(void *userdata, uint64_t *ret);
        int (*sign)(void *userdata, const uint8_t digest[32], uint8_t **ret_sig, size_t *ret_len);
} AuditAnchor;

#define AUDIT_CHECKPOINT_DOMAIN "endpointd audit checkpoint v1"

typedef struct AuditLogConfig {
        uint64_t checkpoint_records; /* a checkpoint after this many records; 0: default 1000 */
        usec_t checkpoint_interval; /* ... or when the oldest unanchored record is this old
                                     * at the next append or audit_log_checkpoint(); 0: 5 min */
        uint64_t max_file_size; /* rotate before a file grows past this; 0: default 8 MiB */
        uint64_t max_total_size; /* delete the oldest files above this; 0: default 64 MiB */
        usec_t sync_interval; /* 0: fdatasync() before append returns (the default);
                               * otherwise audit_log_sync() is due this long after the
                               * first unsynced record (see audit_log_sync_due()) */
        usec_t checkpoint_min_interval; /* no checkpoint by count or age sooner than this
                                         * after the previous one; 0: no minimum. Rotation,
                                         * audit_log_checkpoint() and the close are not held. */
        bool defer_checkpoints; /* append never writes a due checkpoint itself (except at
                                 * rotation): the caller does, at audit_log_checkpoint_due() */
} AuditLogConfig;

typedef struct AuditLog AuditLog;

/* Opens (creating if needed, mode 0700) the log directory dir and makes the
 * log ready to append. A new log starts with an AUDIT_KIND_CREATED record;
 * an existing one is checked at its end only (not verified: that is
 * audit_verify()) and continues its chain in a new file with an
 * AUDIT_KIND_OPENED record that says whether the last stop was clean, how
 * many bytes of a torn last record were left behind, and how many records
 * were not anchored; both are followed by a checkpoint at once. anchor may
 * be NULL (no TPM): checkpoints are then unsigned, counter 0. Holds an
 * exclusive lock on dir/.lock while open. Returns 0, -EBUSY if another
 * writer holds the lock, -EBADMSG if the newest file's records do not parse
 * up to a torn tail (it is left as is; audit_verify() says more), an errno
 * of the file system or of the anchor. config may be NULL for defaults. */
int audit_log_open(const char *dir, const AuditLogConfig *config, const AuditAnchor *anchor, AuditLog **ret);

/* Appends one record; on success *ret_seq (may be NULL) is its seq (from
 * 1, without gaps). Writes a checkpoint after it when one is due (not with
 * defer_checkpoints), rotates
 * files by the size caps. With sync_interval 0 the record is on stable
 * storage when this returns 0. -EINVAL on a bad kind, field name or value;
 * -E2BIG if the record would exceed AUDIT_RECORD_MAX; else a file system or
 * anchor errno, after which the log refuses further appends (-EIO) until
 * reopened: a record that may be half-written is never followed by more. */
int audit_log_append(AuditLog *log, const AuditEntry *entry, uint64_t *ret_seq);

/* Writes a checkpoint now if any record was appended since the last one
 * (returns 1), else returns 0. Call it from a timer (audit_log_checkpoint_due())
 * and before stopping. Errors as audit_log_append(). */
int audit_log_checkpoint(AuditLog *log);

/* When (CLOCK_MONOTONIC µs) the next checkpoint falls due (by count, age,
 * checkpoint_min_interval and the retry after a failed anchor), or
 * USEC_INFINITY if no record awaits one. A time in the past: due now. */
usec_t audit_log_checkpoint_due(const AuditLog *log);

/* fdatasync()s appended records (a no-op when nothing is unsynced). With a
 * sync_interval, call it at audit_log_sync_due() (USEC_INFINITY: nothing to
 * do). */
int audit_log_sync(AuditLog *log);
usec_t audit_log_sync_due(const AuditLog *log);

/* The seq the next record will get. */
uint64_t audit_log_next_seq(const AuditLog *log);

/* Closes the log: an AUDIT_KIND_CLOSED record and a final checkpoint (so
 * the next writer knows the stop was clean), sync, unlock, wipe the key. NULL-safe; returns NULL. Errors of
 * the final checkpoint are lost: call audit_log_checkpoint() first to see them. */
AuditLog *audit_log_free(AuditLog *log);
DEFINE_TRIVIAL_CLEANUP_FUNC(AuditLog *, audit_log_free);

/* A decoded record, as the reader hands it out. Checkpoints appear with
 * kind AUDIT_KIND_CHECKPOINT and fields AUDIT_COUNTER, AUDIT_EPOCH_FIRST_SEQ,
 * AUDIT_HEAD (hex) and AUDIT_SIGNED (yes/no). Pointers are valid only during
 * the callback. */
typedef struct AuditRecord {
        uint64_t seq;
        uint64_t realtime_usec;
        uint64_t monotonic_usec;
        bool checkpoint;
        const char *kind;
        const AuditField *fields;
        size_t n_fields;
} AuditRecord;

/* Return <0 to stop with that error, >0 to stop with success. */
typedef int (*AuditReadCallback)(const AuditRecord *record, void *userdata);

/* Calls cb for up to max records (0: no limit) with seq >= from_seq, in
 * order. Does not verify tags or signatures (audit_verify() does); stops
 * quietly at a torn or malformed record. Returns the number of records
 * handed out, or a negative errno (-ENOENT: no such directory; the
 * callback's error). */
int audit_log_read(const char *dir, uint64_t from_seq, size_t max, AuditReadCallback cb, void *userdata);

/* What audit_verify() found. */
typedef struct AuditVerifyResult {
        bool ok; /* no sign of tampering */
        uint64_t first_bad_seq; /* when !ok: the first record found wrong (0: not tied to a record) */
        char reason[512]; /* when !ok: what is wrong; when ok: notes ("" if none) */
        uint64_t first_seq, last_seq; /* range of the records present (0, 0: none) */
        uint64_t records; /* records read */
        uint64_t checkpoints;
        uint64_t last_counter; /* counter of the newest checkpoint */
        uint64_t unanchored; /* records no signed checkpoint covers (tail; epochs cut by a crash) */
        uint64_t bytes; /* bytes read */
        bool signatures_checked; /* a device key was given */
        bool torn; /* the log ends in a torn (partly written) record */
        uint64_t torn_offset; /* where, in torn_file */
        char torn_file[64];
} AuditVerifyResult;

/* Verifies the whole log in dir: structure, order, the tag chain, every
 * checkpoint's signature (against device_pub; NULL: not checked, noted),
 * its chain head, seed and counter (each checkpoint's counter one above the
 * previous one), the records deleted by rotation, and, if nv_counter is
 * given, that the newest checkpoint's counter matches it (one above is a
 * crash between checkpoint and increment and is noted). A torn last record
 * is not an error but named in result (torn, reason). Returns 0 when the
 * verification ran (result->ok says the verdict), or a negative errno when
 * it could not (-ENOENT: no directory, -ENOMEM, I/O). */
int audit_verify(const char *dir, EVP_PKEY *device_pub, const uint64_t *nv_counter, AuditVerifyResult *ret);

/* The same over files already in memory (for the fuzzer and the tests):
 * names[i] ("audit-0000000000000001.log") and data[i]/sizes[i]. */
int audit_verify_buffers(const char *const *names, const uint8_t *const *data, const size_t *sizes, size_t n,
                         EVP_PKEY *device_pub, const uint64_t *nv_counter, AuditVerifyResult *ret);

/* --- the record codec (endpointd-audit(5)), exposed for tests ------------ */

/* K[n+1] = SHA-256(K[n] || "endpointd-audit-evolve"); wipes nothing. */
int audit_key_evolve(const uint8_t key[AUDIT_KEY_SIZE], uint8_t ret_next[AUDIT_KEY_SIZE]);
/* tag = HMAC-SHA256(key, prev_tag || record[0..len)) where len excludes the tag. */
int audit_record_tag(const uint8_t key[AUDIT_KEY_SIZE], const uint8_t prev_tag[AUDIT_TAG_SIZE],
                     const void *record, size_t len, uint8_t ret_tag[AUDIT_TAG_SIZE]);
