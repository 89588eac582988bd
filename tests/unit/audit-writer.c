/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small writer of the audit log for the crash test and the CLI tests,
 * with a software anchor: a PEM private key and a counter kept in a file
 * (replaced atomically).
 *
 *   audit-writer append DIR KEY.pem COUNTER-FILE N ACKED-FILE [batch]
 *       opens the log, appends N records (0: until killed) and after each
 *       one that audit_log_append() confirmed writes "SEQ\n" to ACKED-FILE;
 *       "batch" syncs every 50 ms instead of per record. Exits cleanly
 *       (final checkpoint) after N records.
 *   audit-writer list DIR
 *       prints "SEQ KIND [NAME=VALUE ...]" per record (audit_log_read()). */

#include <fcntl.h>
#include <inttypes.h>
#include <openssl/pem.h>
#include <stdio.h>

#include "audit-log.h"
#include "fileio.h"
#include "openssl-util.h"

typedef struct FileAnchor {
        EVP_PKEY *key;
        const char *counter_path;
} FileAnchor;

static int fa_read(void *userdata, uint64_t *ret) {
        FileAnchor *a = userdata;
        _cleanup_(freep) char *s = NULL;
        int r;

        r = read_full_file(a->counter_path, 64, &s, NULL);
        if (r == -ENOENT) {
                *ret = 0;
                return 0;
        }
        if (r < 0)
                return r;
        s[strcspn(s, "\n")] = 0;
        return parse_uint64(s, UINT64_MAX, ret);
}

static int fa_increment(void *userdata, uint64_t *ret) {
        FileAnchor *a = userdata;
        char buf[32];
        uint64_t v;
        int r;

        r = fa_read(userdata, &v);
        if (r < 0)
                return r;
        v++;
        snprintf(buf, sizeof(buf), "%" PRIu64 "\n", v);
        r = write_file_atomic(a->counter_path, buf, strlen(buf), 0600);
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

static int fa_sign(void *userdata, const uint8_t digest[32], uint8_t **ret_sig, size_t *ret_len) {
        FileAnchor *a = userdata;
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(a->key, NULL);
        size_t len = 0;
        uint8_t *sig;

        if (!ctx || EVP_PKEY_sign_init(ctx) != 1 || EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1 ||
            EVP_PKEY_sign(ctx, NULL, &len, digest, 32) != 1)
                return -EIO;
        sig = malloc(len);
        if (!sig)
                return -ENOMEM;
        if (EVP_PKEY_sign(ctx, sig, &len, digest, 32) != 1) {
                free(sig);
                return -EIO;
        }
        *ret_sig = sig;
        *ret_len = len;
        return 0;
}

static int do_append(char *argv[], bool batch) {
        _cleanup_(audit_log_freep) AuditLog *log = NULL;
        FileAnchor fa = { .counter_path = argv[4] };
        AuditAnchor anchor = { &fa, fa_increment, fa_read, fa_sign };
        AuditLogConfig config = { .checkpoint_records = 20,
                                  .max_file_size = 64 * 1024,
                                  .max_total_size = 256 * 1024,
                                  .sync_interval = batch ? 50 * USEC_PER_MSEC : 0 };
        _cleanup_(closep) int acked = -EBADF;
        uint64_t n, i;
        FILE *f;
        int r;

        f = fopen(argv[3], "re");
        if (!f || !(fa.key = PEM_read_PrivateKey(f, NULL, NULL, NULL))) {
                fprintf(stderr, "cannot read key %s\n", argv[3]);
                return 1;
        }
        fclose(f);
        if (parse_uint64(argv[5], UINT64_MAX, &n) < 0)
                return 2;
        acked = open(argv[6], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (acked < 0)
                return 1;
        r = audit_log_open(argv[2], &config, &anchor, &log);
        if (r < 0) {
                fprintf(stderr, "audit_log_open: %s\n", strerror(-r));
                return 1;
        }
        for (i = 0; n == 0 || i < n; i++) {
                char num[32], line[32];
                AuditField fields[] = { { "ENDPOINTD_N", num },
                                        { "ENDPOINTD_PATH", "/usr/lib/pump/firmware.bin" },
                                        { "ENDPOINTD_RESULT", "denied" } };
                AuditEntry e = { .kind = "test.event", .fields = fields, .n_fields = ELEMENTSOF(fields) };
                uint64_t seq;

                snprintf(num, sizeof(num), "%" PRIu64, i);
                r = audit_log_append(log, &e, &seq);
                if (r < 0) {
                        fprintf(stderr, "audit_log_append: %s\n", strerror(-r));
                        return 1;
                }
                if (batch && now_usec(CLOCK_MONOTONIC) >= audit_log_sync_due(log) && audit_log_sync(log) < 0)
                        return 1;
                snprintf(line, sizeof(line), "%" PRIu64 "\n", seq);
                if (write(acked, line, strlen(line)) < 0)
                        return 1;
        }
        r = audit_log_checkpoint(log);
        log = audit_log_free(log); /* the closing checkpoint is signed: the key goes after */
        EVP_PKEY_free(fa.key);
        return r < 0 ? 1 : 0;
}

static int print_record(const AuditRecord *rec, void *userdata) {
        printf("%" PRIu64 " %s", rec->seq, rec->kind);
        for (size_t i = 0; i < rec->n_fields; i++)
                printf(" %s=%s", rec->fields[i].name, rec->fields[i].value);
        printf("\n");
        return 0;
}

int main(int argc, char *argv[]) {
        if (argc >= 7 && streq(argv[1], "append"))
                return do_append(argv, argc >= 8 && streq(argv[7], "batch"));
        if (argc == 3 && streq(argv[1], "list"))
                return audit_log_read(argv[2], 0, 0, print_record, NULL) < 0 ? 1 : 0;
        fprintf(stderr,
                "usage: audit-writer append DIR KEY.pem COUNTER-FILE N ACKED-FILE [batch] | list DIR\n");
        return 2;
}
