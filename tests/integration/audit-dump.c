/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The audit tests' window on a log directory, through the library's own
 * reader and verifier (audit-log.h), so that a test asserts on what a
 * verifier would see:
 *
 *   audit-dump DIR                       one line per record:
 *                                        "SEQ KIND<TAB>NAME=value<TAB>..."
 *   audit-dump --verify DIR [PEM [N]]    audit_verify() with the device key
 *                                        (PEM file) and the NV counter N;
 *                                        prints its result as NAME=value
 *                                        lines, exits 0 intact, 1 not, 2 error */
#include <inttypes.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit-log.h"

static int print_record(const AuditRecord *r, void *userdata) {
        printf("%" PRIu64 " %s", r->seq, r->kind);
        for (size_t i = 0; i < r->n_fields; i++) {
                /* One line per record: a newline in a value is shown as \n. */
                printf("\t%s=", r->fields[i].name);
                for (const char *p = r->fields[i].value; *p; p++)
                        if (*p == '\n')
                                fputs("\\n", stdout);
                        else
                                putchar(*p);
        }
        putchar('\n');
        return 0;
}

static int verify(const char *dir, const char *pem, const char *counter) {
        AuditVerifyResult res;
        EVP_PKEY *key = NULL;
        uint64_t nv = 0;
        int r;

        if (pem) {
                FILE *f = fopen(pem, "re");

                if (!f || !(key = PEM_read_PUBKEY(f, NULL, NULL, NULL))) {
                        fprintf(stderr, "audit-dump: cannot read a public key from %s\n", pem);
                        if (f)
                                fclose(f);
                        return 2;
                }
                fclose(f);
        }
        if (counter)
                nv = strtoull(counter, NULL, 10);
        r = audit_verify(dir, key, counter ? &nv : NULL, &res);
        EVP_PKEY_free(key);
        if (r < 0) {
                fprintf(stderr, "audit-dump: verification could not run: %s\n", strerror(-r));
                return 2;
        }
        printf("ok=%s\nfirst_bad_seq=%" PRIu64 "\nreason=%s\nfirst_seq=%" PRIu64 "\nlast_seq=%" PRIu64
               "\nrecords=%" PRIu64 "\ncheckpoints=%" PRIu64 "\nlast_counter=%" PRIu64 "\nunanchored=%" PRIu64
               "\nsignatures_checked=%s\ntorn=%s\n",
               res.ok ? "yes" : "no", res.first_bad_seq, res.reason, res.first_seq, res.last_seq, res.records,
               res.checkpoints, res.last_counter, res.unanchored, res.signatures_checked ? "yes" : "no",
               res.torn ? "yes" : "no");
        return res.ok ? 0 : 1;
}

int main(int argc, char *argv[]) {
        int r;

        if (argc >= 3 && argc <= 5 && strcmp(argv[1], "--verify") == 0)
                return verify(argv[2], argc > 3 && argv[3][0] ? argv[3] : NULL, argc > 4 ? argv[4] : NULL);
        if (argc != 2) {
                fprintf(stderr, "usage: audit-dump DIR | audit-dump --verify DIR [PEM [COUNTER]]\n");
                return 2;
        }
        r = audit_log_read(argv[1], 1, 0, print_record, NULL);
        if (r < 0) {
                fprintf(stderr, "audit-dump: %s: %s\n", argv[1], strerror(-r));
                return 2;
        }
        return 0;
}
