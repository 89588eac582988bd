/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The record codec of endpointd-audit(5): file header, record framing,
 * event and checkpoint bodies, the keyed hash and the key evolution. */

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <stdio.h>

#include "audit-log-internal.h"
#include "openssl-util.h"
#include "util.h"

static const char evolve_label[] = "endpointd-audit-evolve";

void audit_file_name(uint64_t first_seq, char buf[AUDIT_FILE_NAME_MAX]) {
        snprintf(buf, AUDIT_FILE_NAME_MAX, "audit-%016" PRIx64 ".log", first_seq);
}

uint64_t audit_file_name_parse(const char *name) {
        uint64_t v = 0;

        if (strlen(name) != 26 || strncmp(name, "audit-", 6) != 0 || !streq(name + 22, ".log"))
                return 0;
        for (unsigned i = 6; i < 22; i++) {
                char c = name[i];
                unsigned d;

                if (c >= '0' && c <= '9')
                        d = (unsigned) (c - '0');
                else if (c >= 'a' && c <= 'f')
                        d = (unsigned) (c - 'a' + 10);
                else
                        return 0;
                v = (v << 4) | d;
        }
        return v;
}

int audit_file_header_parse(const uint8_t *p, size_t avail, AuditFileHeader *ret) {
        if (avail < AUDIT_FILE_HEADER_SIZE)
                return -EAGAIN;
        if (memcmp(p, AUDIT_FILE_MAGIC, 8) != 0 || get32(p + 8) != AUDIT_FILE_VERSION ||
            get32(p + 12) != AUDIT_FILE_HEADER_SIZE || get64(p + 56) != 0)
                return -EBADMSG;
        ret->first_seq = get64(p + 16);
        if (ret->first_seq == 0)
                return -EBADMSG;
        memcpy(ret->prev_tag, p + 24, AUDIT_TAG_SIZE);
        return 0;
}

void audit_file_header_write(uint8_t p[AUDIT_FILE_HEADER_SIZE], uint64_t first_seq,
                             const uint8_t prev_tag[AUDIT_TAG_SIZE]) {
        memset(p, 0, AUDIT_FILE_HEADER_SIZE);
        memcpy(p, AUDIT_FILE_MAGIC, 8);
        put32(p + 8, AUDIT_FILE_VERSION);
        put32(p + 12, AUDIT_FILE_HEADER_SIZE);
        put64(p + 16, first_seq);
        memcpy(p + 24, prev_tag, AUDIT_TAG_SIZE);
}

bool audit_kind_is_valid(const char *s, size_t len) {
        if (len == 0 || len > AUDIT_KIND_MAX)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_'))
                        return false;
        }
        return true;
}

bool audit_field_name_is_valid(const char *s, size_t len) {
        if (len == 0 || len > AUDIT_FIELD_NAME_MAX || s[0] == '_' || (s[0] >= '0' && s[0] <= '9'))
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
                        return false;
        }
        return true;
}

static bool all_zero(const uint8_t *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (p[i] != 0)
                        return false;
        return true;
}

static int parse_event_body(AuditRaw *r, char *reason, size_t reason_len) {
        const uint8_t *p = r->body, *end = r->body + r->body_len;

        if (r->body_len < 4) {
                snprintf(reason, reason_len, "event body too short");
                return -EBADMSG;
        }
        r->kind_len = get16(p);
        r->n_fields = get16(p + 2);
        p += 4;
        if ((size_t) (end - p) < r->kind_len || !audit_kind_is_valid((const char *) p, r->kind_len)) {
                snprintf(reason, reason_len, "bad event kind");
                return -EBADMSG;
        }
        r->kind = p;
        p += r->kind_len;
        if (r->n_fields > AUDIT_FIELDS_MAX) {
                snprintf(reason, reason_len, "%u fields, at most %u allowed", r->n_fields, AUDIT_FIELDS_MAX);
                return -EBADMSG;
        }
        for (unsigned i = 0; i < r->n_fields; i++) {
                uint16_t nl;
                uint32_t vl;

                if (end - p < 6) {
                        snprintf(reason, reason_len, "field %u cut off", i);
                        return -EBADMSG;
                }
                nl = get16(p);
                vl = get32(p + 2);
                p += 6;
                if ((size_t) (end - p) < nl || !audit_field_name_is_valid((const char *) p, nl)) {
                        snprintf(reason, reason_len, "field %u: bad name", i);
                        return -EBADMSG;
                }
                p += nl;
                if (vl > AUDIT_FIELD_VALUE_MAX || (size_t) (end - p) < vl || memchr(p, 0, vl) ||
                    !utf8_is_valid((const char *) p, vl)) {
                        snprintf(reason, reason_len, "field %u: bad value", i);
                        return -EBADMSG;
                }
                p += vl;
        }
        if (p != end) {
                snprintf(reason, reason_len, "%zu stray bytes after the fields", (size_t) (end - p));
                return -EBADMSG;
        }
        return 0;
}

int audit_record_parse(const uint8_t *p, size_t avail, AuditRaw *ret, char *reason, size_t reason_len) {
        AuditRaw r = {};
        uint32_t magic;

        if (avail < 8) {
                /* A prefix of a record's magic and length, or zeros. */
                uint8_t m[4];
                put32(m, AUDIT_RECORD_MAGIC);
                if (all_zero(p, avail) || memcmp(p, m, MIN(avail, (size_t) 4)) == 0)
                        return -EAGAIN;
                snprintf(reason, reason_len, "bad record magic");
                return -EBADMSG;
        }
        magic = get32(p);
        if (magic != AUDIT_RECORD_MAGIC) {
                if (all_zero(p, avail))
                        return -EAGAIN; /* blocks the file system allocated but never filled */
                snprintf(reason, reason_len, "bad record magic");
                return -EBADMSG;
        }
        r.len = get32(p + 4);
        if (r.len < AUDIT_RECORD_MIN || r.len > AUDIT_RECORD_MAX) {
                snprintf(reason, reason_len, "record length %" PRIu32 " out of range", r.len);
                return -EBADMSG;
        }
        if (r.len > avail)
                return -EAGAIN;
        r.data = p;
        r.type = get16(p + 8);
        r.flags = get16(p + 10);
        if (get32(p + 12) != 0 || (r.flags & ~AUDIT_FLAG_EPOCH_START) != 0) {
                snprintf(reason, reason_len, "reserved bits set");
                return -EBADMSG;
        }
        r.seq = get64(p + 16);
        r.realtime = get64(p + 24);
        r.monotonic = get64(p + 32);
        r.body = p + AUDIT_RECORD_HEADER_SIZE;
        r.body_len = r.len - AUDIT_RECORD_HEADER_SIZE - AUDIT_TAG_SIZE;
        r.tag = p + r.len - AUDIT_TAG_SIZE;
        if (r.seq == 0) {
                snprintf(reason, reason_len, "seq 0");
                return -EBADMSG;
        }
        if (r.type == AUDIT_RECORD_EVENT) {
                int k = parse_event_body(&r, reason, reason_len);
                if (k < 0)
                        return k;
        } else if (r.type == AUDIT_RECORD_CHECKPOINT) {
                if (r.body_len < AUDIT_CHECKPOINT_FIXED || (r.flags & AUDIT_FLAG_EPOCH_START)) {
                        snprintf(reason, reason_len, "malformed checkpoint");
                        return -EBADMSG;
                }
                r.counter = get64(r.body);
                r.epoch_first_seq = get64(r.body + 8);
                r.head = r.body + 16;
                r.seed = r.body + 48;
                r.sig_len = get16(r.body + 80);
                r.sig = r.body + AUDIT_CHECKPOINT_FIXED;
                if (r.sig_len > AUDIT_SIGNATURE_MAX || r.body_len != AUDIT_CHECKPOINT_FIXED + r.sig_len ||
                    r.epoch_first_seq == 0 || r.epoch_first_seq >= r.seq) {
                        snprintf(reason, reason_len, "malformed checkpoint");
                        return -EBADMSG;
                }
        } else {
                snprintf(reason, reason_len, "unknown record type %u", r.type);
                return -EBADMSG;
        }
        *ret = r;
        return 0;
}

void audit_field_iter_init(const AuditRaw *r, AuditFieldIter *it) {
        it->p = r->kind + r->kind_len;
        it->end = r->body + r->body_len;
}

bool audit_field_iter_next(AuditFieldIter *it, const uint8_t **name, uint16_t *name_len,
                           const uint8_t **value, uint32_t *value_len) {
        if (it->end - it->p < 6)
                return false;
        *name_len = get16(it->p);
        *value_len = get32(it->p + 2);
        *name = it->p + 6;
        *value = *name + *name_len;
        it->p = *value + *value_len;
        return true;
}

int audit_checkpoint_digest(const uint8_t *record, uint8_t ret[32]) {
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned n = 0;

        if (!ctx)
                return -ENOMEM;
        if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
            EVP_DigestUpdate(ctx, AUDIT_CHECKPOINT_DOMAIN, sizeof(AUDIT_CHECKPOINT_DOMAIN)) != 1 ||
            EVP_DigestUpdate(ctx, record + 8, AUDIT_RECORD_HEADER_SIZE - 8 + 80) != 1 ||
            EVP_DigestFinal_ex(ctx, ret, &n) != 1 || n != 32)
                return -EIO;
        return 0;
}

int audit_mac_init(AuditMac *m) {
        OSSL_PARAM params[2];

        *m = (AuditMac){};
        m->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        if (!m->mac)
                return -EIO;
        m->ctx = EVP_MAC_CTX_new(m->mac);
        m->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
        m->md_ctx = EVP_MD_CTX_new();
        if (!m->ctx || !m->sha256 || !m->md_ctx) {
                audit_mac_done(m);
                return -ENOMEM;
        }
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *) "SHA256", 0);
        params[1] = OSSL_PARAM_construct_end();
        if (EVP_MAC_CTX_set_params(m->ctx, params) != 1) {
                audit_mac_done(m);
                return -EIO;
        }
        return 0;
}

void audit_mac_done(AuditMac *m) {
        EVP_MAC_CTX_free(m->ctx);
        EVP_MAC_free(m->mac);
        EVP_MD_CTX_free(m->md_ctx);
        EVP_MD_free(m->sha256);
        *m = (AuditMac){};
}

static int mac_run(AuditMac *m, const uint8_t key[AUDIT_KEY_SIZE], const void *a, size_t alen, const void *b,
                   size_t blen, uint8_t out[32]) {
        size_t n = 0;

        if (EVP_MAC_init(m->ctx, key, AUDIT_KEY_SIZE, NULL) != 1 || EVP_MAC_update(m->ctx, a, alen) != 1 ||
            (blen > 0 && EVP_MAC_update(m->ctx, b, blen) != 1) || EVP_MAC_final(m->ctx, out, &n, 32) != 1 ||
            n != 32)
                return -EIO;
        return 0;
}

int audit_mac_evolve(AuditMac *m, const uint8_t key[AUDIT_KEY_SIZE], uint8_t ret_next[AUDIT_KEY_SIZE]) {
        unsigned n = 0;

        /* K[n+1] = SHA-256(K[n] || "endpointd-audit-evolve"): one-way, so a key
         * taken from the writer does not give the keys before it. */
        if (EVP_DigestInit_ex(m->md_ctx, m->sha256, NULL) != 1 ||
            EVP_DigestUpdate(m->md_ctx, key, AUDIT_KEY_SIZE) != 1 ||
            EVP_DigestUpdate(m->md_ctx, evolve_label, sizeof(evolve_label) - 1) != 1 ||
            EVP_DigestFinal_ex(m->md_ctx, ret_next, &n) != 1 || n != AUDIT_KEY_SIZE)
                return -EIO;
        return 0;
}

int audit_mac_tag(AuditMac *m, const uint8_t key[AUDIT_KEY_SIZE], const uint8_t prev_tag[AUDIT_TAG_SIZE],
                  const void *record, size_t len, uint8_t ret_tag[AUDIT_TAG_SIZE]) {
        return mac_run(m, key, prev_tag, AUDIT_TAG_SIZE, record, len, ret_tag);
}

int audit_key_evolve(const uint8_t key[AUDIT_KEY_SIZE], uint8_t ret_next[AUDIT_KEY_SIZE]) {
        AuditMac m;
        int r = audit_mac_init(&m);

        if (r < 0)
                return r;
        r = audit_mac_evolve(&m, key, ret_next);
        audit_mac_done(&m);
        return r;
}

int audit_record_tag(const uint8_t key[AUDIT_KEY_SIZE], const uint8_t prev_tag[AUDIT_TAG_SIZE],
                     const void *record, size_t len, uint8_t ret_tag[AUDIT_TAG_SIZE]) {
        AuditMac m;
        int r = audit_mac_init(&m);

        if (r < 0)
                return r;
        r = audit_mac_tag(&m, key, prev_tag, record, len, ret_tag);
        audit_mac_done(&m);
        return r;
}

static int name_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

void audit_files_free(char **names) {
        if (!names)
                return;
        for (char **p = names; *p; p++)
                free(*p);
        free(names);
}

int audit_files_list(int dir_fd, char ***ret) {
        _cleanup_(closedirp) DIR *d = NULL;
        char **names = NULL;
        size_t n = 0, alloc = 0;
        struct dirent *de;
        int fd;

        fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                int r = -errno;
                fd = safe_close(fd);
                return r;
        }
        while ((errno = 0, de = readdir(d))) {
                if (audit_file_name_parse(de->d_name) == 0)
                        continue;
                if (n + 2 > alloc) {
                        size_t na = alloc ? alloc * 2 : 16;
                        char **p = realloc(names, na * sizeof(char *));
                        if (!p)
                                goto oom;
                        names = p;
                        alloc = na;
                }
                names[n] = strdup(de->d_name);
                if (!names[n])
                        goto oom;
                names[++n] = NULL;
        }
        if (errno != 0) {
                int r = -errno;
                audit_files_free(names);
                return r;
        }
        if (!names) {
                names = calloc(1, sizeof(char *));
                if (!names)
                        return -ENOMEM;
        }
        qsort(names, n, sizeof(char *), name_cmp);
        *ret = names;
        return (int) n;
oom:
        audit_files_free(names);
        return -ENOMEM;
}
