/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness for the audit log's reader and verifier
 * (endpointd-audit(5)). The input is one or more log files laid end to end:
 * each occurrence of the file magic "EPAUDLOG" starts the next file. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "audit-log-internal.h"

#define FILES_MAX 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walks the records of one file as the reader does, fields included. */
static void read_file(const uint8_t *p, size_t size) {
        for (size_t off = AUDIT_FILE_HEADER_SIZE; off < size;) {
                const uint8_t *name, *value;
                char reason[128];
                AuditFieldIter it;
                AuditRaw raw;
                uint16_t nl;
                uint32_t vl;
                size_t n = 0;

                if (audit_record_parse(p + off, size - off, &raw, reason, sizeof(reason)) < 0)
                        return;
                if (raw.len < AUDIT_RECORD_MIN || raw.len > size - off)
                        abort();
                if (raw.type == AUDIT_RECORD_EVENT) {
                        audit_field_iter_init(&raw, &it);
                        while (audit_field_iter_next(&it, &name, &nl, &value, &vl)) {
                                if (name + nl > raw.tag || value + vl > raw.tag)
                                        abort();
                                n++;
                        }
                        if (n != raw.n_fields)
                                abort();
                }
                off += raw.len;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char names[FILES_MAX][AUDIT_FILE_NAME_MAX];
        const char *name_ptrs[FILES_MAX];
        const uint8_t *starts[FILES_MAX];
        size_t sizes[FILES_MAX], n = 0;
        uint64_t seq = 0, counter = 3;
        AuditVerifyResult res;

        /* Split at each file magic. */
        for (size_t off = 0; off <= size && n < FILES_MAX;) {
                const uint8_t *next = NULL;
                AuditFileHeader h;
                size_t end;

                for (size_t i = off + 8; i + 8 <= size && !next; i++)
                        if (memcmp(data + i, AUDIT_FILE_MAGIC, 8) == 0)
                                next = data + i;
                end = next ? (size_t) (next - data) : size;
                seq = audit_file_header_parse(data + off, end - off, &h) >= 0 && h.first_seq > seq
                              ? h.first_seq
                              : seq + 1;
                audit_file_name(seq, names[n]);
                name_ptrs[n] = names[n];
                starts[n] = data + off;
                sizes[n] = end - off;
                read_file(starts[n], sizes[n]);
                n++;
                if (!next)
                        break;
                off = end;
        }
        if (audit_verify_buffers(name_ptrs, starts, sizes, n, NULL, &counter, &res) < 0)
                return 0;
        if (!res.ok && res.reason[0] == 0)
                abort();
        if (res.records > 0 && res.last_seq < res.first_seq)
                abort();
        return 0;
}
