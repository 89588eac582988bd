/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The byte format of endpointd-audit(5), shared by the writer (audit-log.c)
 * and the reader and verifier (audit-verify.c). All integers little-endian. */

#include <openssl/evp.h>

#include "audit-log.h"

#define AUDIT_FILE_MAGIC "EPAUDLOG"
#define AUDIT_FILE_VERSION 1U
#define AUDIT_RECORD_MAGIC 0x31435245U /* "ERC1" */
#define AUDIT_RECORD_EVENT 1U
#define AUDIT_RECORD_CHECKPOINT 2U
#define AUDIT_FLAG_EPOCH_START 0x0001U
#define AUDIT_CHECKPOINT_FIXED 82U /* counter, epoch first seq, head, seed, signature length */
#define AUDIT_RECORD_MIN (AUDIT_RECORD_HEADER_SIZE + 4U + AUDIT_TAG_SIZE)
#define AUDIT_FILE_NAME_MAX 32U /* "audit-" 16 hex digits ".log" and NUL */

typedef struct AuditFileHeader {
        uint64_t first_seq;
        uint8_t prev_tag[AUDIT_TAG_SIZE];
} AuditFileHeader;

/* A record as found in a buffer: pointers into it. */
typedef struct AuditRaw {
        const uint8_t *data; /* the whole record */
        uint32_t len; /* whole record, tag included */
        uint16_t type, flags;
        uint64_t seq, realtime, monotonic;
        const uint8_t *body;
        uint32_t body_len;
        const uint8_t *tag;
        /* events */
        const uint8_t *kind;
        uint16_t kind_len, n_fields;
        /* checkpoints */
        uint64_t counter, epoch_first_seq;
        const uint8_t *head, *seed, *sig;
        uint16_t sig_len;
} AuditRaw;

static inline void put16(uint8_t *p, uint16_t v) {
        p[0] = (uint8_t) v;
        p[1] = (uint8_t) (v >> 8);
}
static inline void put32(uint8_t *p, uint32_t v) {
        for (unsigned i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}
static inline void put64(uint8_t *p, uint64_t v) {
        for (unsigned i = 0; i < 8; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}
static inline uint16_t get16(const uint8_t *p) {
        return (uint16_t) (p[0] | (p[1] << 8));
}
static inline uint32_t get32(const uint8_t *p) {
        return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}
static inline uint64_t get64(const uint8_t *p) {
        return (uint64_t) get32(p) | ((uint64_t) get32(p + 4) << 32);
}

/* "audit-%016" PRIx64 ".log"; audit_file_name_parse() returns the seq or 0. */
void audit_file_name(uint64_t first_seq, char buf[AUDIT_FILE_NAME_MAX]);
uint64_t audit_file_name_parse(const char *name);

/* 0, or -EAGAIN if fewer than AUDIT_FILE_HEADER_SIZE bytes, -EBADMSG. */
int audit_file_header_parse(const uint8_t *p, size_t avail, AuditFileHeader *ret);
void audit_file_header_write(uint8_t p[AUDIT_FILE_HEADER_SIZE], uint64_t first_seq,
                             const uint8_t prev_tag[AUDIT_TAG_SIZE]);

/* Parses the record at p with avail bytes left in the file. 0; -EAGAIN when
 * the bytes end inside the record (a torn record: a prefix of one, or zeros);
 * -EBADMSG when it is not a valid record, with why in reason. */
int audit_record_parse(const uint8_t *p, size_t avail, AuditRaw *ret, char *reason, size_t reason_len);

/* Field i of a parsed event: walks the body (parse validated it). */
typedef struct AuditFieldIter {
        const uint8_t *p, *end;
} AuditFieldIter;
void audit_field_iter_init(const AuditRaw *r, AuditFieldIter *it);
bool audit_field_iter_next(AuditFieldIter *it, const uint8_t **name, uint16_t *name_len,
                           const uint8_t **value, uint32_t *value_len);

bool audit_kind_is_valid(const char *s, size_t len);
bool audit_field_name_is_valid(const char *s, size_t len);

/* SHA-256 over AUDIT_CHECKPOINT_DOMAIN, its NUL, and the checkpoint's bytes
 * 8..AUDIT_RECORD_HEADER_SIZE + 80: the header after magic and length (the
 * length depends on the signature), and the body before the signature. */
int audit_checkpoint_digest(const uint8_t *record, uint8_t ret[32]);

/* HMAC-SHA256 (rekeyed per call) and SHA-256, with prefetched implementations. */
typedef struct AuditMac {
        EVP_MAC *mac;
        EVP_MAC_CTX *ctx;
        EVP_MD *sha256;
        EVP_MD_CTX *md_ctx;
} AuditMac;
int audit_mac_init(AuditMac *m);
void audit_mac_done(AuditMac *m);
int audit_mac_evolve(AuditMac *m, const uint8_t key[AUDIT_KEY_SIZE], uint8_t ret_next[AUDIT_KEY_SIZE]);
int audit_mac_tag(AuditMac *m, const uint8_t key[AUDIT_KEY_SIZE], const uint8_t prev_tag[AUDIT_TAG_SIZE],
                  const void *record, size_t len, uint8_t ret_tag[AUDIT_TAG_SIZE]);

/* Sorted list of the log files in a directory (fd). Returns the count or
 * a negative errno; *ret is an array of malloc'ed names, NULL-terminated. */
int audit_files_list(int dir_fd, char ***ret);
void audit_files_free(char **names);
