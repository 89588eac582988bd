/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The audit log's costs (endpointd-audit(5)):
 *   appends per second with the promised durability (fdatasync per record),
 *   and with sync interval 50 ms; verification MB/s over a log of SIZE MiB.
 * The anchor is a software P-256 key and an in-memory counter: a TPM's
 * signing time (one per checkpoint) is measured by bench/tpm, not here.
 *
 *   audit-bench DIR [SECONDS] [SIZE-MiB]   DIR: an empty directory on the
 *                                          file system to measure */

#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

#include "audit-log.h"
#include "openssl-util.h"
#include "util.h"

typedef struct Soft {
        EVP_PKEY *key;
        uint64_t counter;
} Soft;

static int soft_inc(void *u, uint64_t *ret) {
        *ret = ++((Soft *) u)->counter;
        return 0;
}
static int soft_read(void *u, uint64_t *ret) {
        *ret = ((Soft *) u)->counter;
        return 0;
}
static int soft_sign(void *u, const uint8_t digest[32], uint8_t **ret_sig, size_t *ret_len) {
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(((Soft *) u)->key, NULL);
        size_t len = 0;

        if (!ctx || EVP_PKEY_sign_init(ctx) != 1 || EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1 ||
            EVP_PKEY_sign(ctx, NULL, &len, digest, 32) != 1 || !(*ret_sig = malloc(len)) ||
            EVP_PKEY_sign(ctx, *ret_sig, &len, digest, 32) != 1)
                return -EIO;
        *ret_len = len;
        return 0;
}

static Soft soft;
static const AuditAnchor anchor = { &soft, soft_inc, soft_read, soft_sign };

/* A typical access-denial record: about 200 bytes. */
static int append_one(AuditLog *log, uint64_t i) {
        char uid[32];
        AuditField f[] = { { "ENDPOINTD_UID", uid },
                           { "ENDPOINTD_PID", "4242" },
                           { "ENDPOINTD_EXE", "/usr/lib/pump/ui" },
                           { "ENDPOINTD_PERMISSION", "keys.unseal:therapy" },
                           { "ENDPOINTD_RESULT", "denied" } };
        AuditEntry e = { .kind = "access.denied", .fields = f, .n_fields = ELEMENTSOF(f) };

        snprintf(uid, sizeof(uid), "%" PRIu64, 1000 + i % 7);
        return audit_log_append(log, &e, NULL);
}

static double appends_per_second(const char *dir, usec_t sync_interval, double seconds) {
        AuditLogConfig c = { .sync_interval = sync_interval };
        AuditLog *log = NULL;
        usec_t start, end;
        uint64_t n = 0;

        if (audit_log_open(dir, &c, &anchor, &log) < 0)
                return -1;
        start = now_usec(CLOCK_MONOTONIC);
        end = start + (usec_t) (seconds * USEC_PER_SEC);
        while (now_usec(CLOCK_MONOTONIC) < end) {
                if (append_one(log, n++) < 0)
                        return -1;
                if (sync_interval > 0 && now_usec(CLOCK_MONOTONIC) >= audit_log_sync_due(log) &&
                    audit_log_sync(log) < 0)
                        return -1;
        }
        if (audit_log_sync(log) < 0)
                return -1;
        end = now_usec(CLOCK_MONOTONIC);
        audit_log_free(log);
        return (double) n * USEC_PER_SEC / (double) (end - start);
}

int main(int argc, char *argv[]) {
        double secs = argc > 2 ? atof(argv[2]) : 3, mib = argc > 3 ? atof(argv[3]) : 64;
        char d1[4096], d2[4096], d3[4096];
        AuditLogConfig big = { .sync_interval = USEC_PER_SEC, .max_total_size = 4ULL << 30 };
        AuditVerifyResult res;
        AuditLog *log = NULL;
        usec_t t0, t1, c0, c1;
        uint64_t c;
        double best = 0, best_cpu = 0;

        if (argc < 2) {
                fprintf(stderr, "usage: %s DIR [SECONDS] [SIZE-MiB]\n", argv[0]);
                return 2;
        }
        soft.key = EVP_EC_gen("P-256");
        if (!soft.key)
                return 1;
        snprintf(d1, sizeof(d1), "%s/sync", argv[1]);
        snprintf(d2, sizeof(d2), "%s/batch", argv[1]);
        snprintf(d3, sizeof(d3), "%s/verify", argv[1]);
        printf("appends/s, fdatasync per record (sync interval 0): %.0f\n", appends_per_second(d1, 0, secs));
        printf("appends/s, sync interval 50 ms: %.0f\n", appends_per_second(d2, 50 * USEC_PER_MSEC, secs));

        if (audit_log_open(d3, &big, &anchor, &log) < 0)
                return 1;
        for (uint64_t i = 0; i < (uint64_t) (mib * 1024 * 1024 / 200); i++)
                if (append_one(log, i) < 0)
                        return 1;
        audit_log_free(log);
        c = soft.counter;
        for (int rep = 0; rep < 3; rep++) {
                double got;

                t0 = now_usec(CLOCK_MONOTONIC);
                c0 = now_usec(CLOCK_PROCESS_CPUTIME_ID);
                if (audit_verify(d3, soft.key, &c, &res) < 0 || !res.ok) {
                        fprintf(stderr, "verify failed: %s\n", res.reason);
                        return 1;
                }
                c1 = now_usec(CLOCK_PROCESS_CPUTIME_ID);
                t1 = now_usec(CLOCK_MONOTONIC);
                got = (double) res.bytes / (1024.0 * 1024.0);
                best = MAX(best, got / ((double) (t1 - t0) / USEC_PER_SEC));
                best_cpu = MAX(best_cpu, got / ((double) (c1 - c0) / USEC_PER_SEC));
        }
        printf("verify: %" PRIu64 " records, %" PRIu64
               " checkpoints, %.1f MiB: best of 3 %.0f MiB/s wall clock, "
               "%.0f MiB per CPU second\n",
               res.records, res.checkpoints, (double) res.bytes / (1024.0 * 1024.0), best, best_cpu);
        EVP_PKEY_free(soft.key);
        return 0;
}
