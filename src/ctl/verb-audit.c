/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* endpointctl audit verify: the offline verifier of endpointd-audit(5). It
 * needs no daemon and no bus: a service engineer runs it on a state
 * directory copied off a device. */

#include <inttypes.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>

#include "audit-log.h"
#include "ctl-config.h"
#include "ctl.h"
#include "log.h"
#include "openssl-util.h"
#include "table.h"

static int load_public_key(const char *path, EVP_PKEY **ret) {
        _cleanup_(BIO_free_allp) BIO *b = NULL;
        EVP_PKEY *k;
        char err[256];

        b = BIO_new_file(path, "r");
        if (!b)
                return log_error_errno(ENOENT, "Cannot read device key '%s': %s", path,
                                       openssl_errors_drain(err, sizeof(err)));
        k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
        if (!k) {
                log_error("'%s' is not a PEM public key: %s", path, openssl_errors_drain(err, sizeof(err)));
                return -EBADMSG;
        }
        *ret = k;
        return 0;
}

static int add_field(Table *t, const char *name, const char *json_name, CellType type, ...) {
        va_list ap;
        int r;

        r = table_add(t, CELL_STRING, arg_json ? json_name : name);
        if (r < 0)
                return r;
        va_start(ap, type);
        if (type == CELL_STRING)
                r = table_add(t, type, va_arg(ap, const char *));
        else if (type == CELL_BOOLEAN)
                r = table_add(t, type, va_arg(ap, int));
        else
                r = table_add(t, type, va_arg(ap, uint64_t));
        va_end(ap);
        return r;
}

/* --dir, else the audit/ directory of the configuration's StateDirectory=. */
static int audit_dir(char **ret) {
        _cleanup_(config_freep) Config *c = NULL;
        int r;

        if (arg_audit_dir)
                r = (*ret = strdup(arg_audit_dir)) ? 0 : -ENOMEM;
        else {
                r = ctl_config_load(&c);
                if (r < 0)
                        return r;
                r = asprintf(ret, "%s/audit", c->state_dir) < 0 ? -ENOMEM : 0;
        }
        return r < 0 ? log_oom() : 0;
}

int verb_audit_verify(int argc, char *argv[], void *userdata) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_(freep) char *dir = NULL;
        AuditVerifyResult res;
        int r;

        r = audit_dir(&dir);
        if (r < 0)
                return r;

        if (arg_device_key) {
                r = load_public_key(arg_device_key, &key);
                if (r < 0)
                        return r;
        }
        r = audit_verify(dir, key, arg_counter_set ? &arg_counter : NULL, &res);
        if (r == -ENOENT || r == -ENOTDIR)
                return log_error_errno(r, "No audit log at '%s': %m", dir);
        if (r < 0)
                return log_error_errno(r, "Cannot read the audit log at '%s': %m", dir);

        t = table_new(true, "Field", "Value");
        if (!t)
                return log_oom();
        if (add_field(t, "Log", "directory", CELL_STRING, dir) < 0 ||
            (arg_json
                     ? add_field(t, "Verdict", "intact", CELL_BOOLEAN, (int) res.ok)
                     : add_field(t, "Verdict", "intact", CELL_STRING, res.ok ? "intact" : "TAMPERED")) < 0 ||
            table_set_color(t, res.ok ? TABLE_COLOR_GOOD : TABLE_COLOR_BAD) < 0 ||
            (!res.ok &&
             add_field(t, "First bad record", "first_bad_seq", CELL_UINT64, res.first_bad_seq) < 0) ||
            add_field(t, res.ok ? "Notes" : "Problem", res.ok ? "notes" : "problem", CELL_STRING,
                      *res.reason || arg_json ? res.reason : "-") < 0 ||
            add_field(t, "First record", "first_seq", CELL_UINT64, res.first_seq) < 0 ||
            add_field(t, "Last record", "last_seq", CELL_UINT64, res.last_seq) < 0 ||
            add_field(t, "Records", "records", CELL_UINT64, res.records) < 0 ||
            add_field(t, "Checkpoints", "checkpoints", CELL_UINT64, res.checkpoints) < 0 ||
            add_field(t, "Counter", "counter", CELL_UINT64, res.last_counter) < 0 ||
            add_field(t, "Unanchored", "unanchored", CELL_UINT64, res.unanchored) < 0 ||
            add_field(t, "Signatures", "signatures_checked", CELL_BOOLEAN, (int) res.signatures_checked) <
                    0 ||
            add_field(t, "Torn last record", "torn", CELL_BOOLEAN, (int) res.torn) < 0 ||
            add_field(t, "Bytes", "bytes", CELL_BYTES, res.bytes) < 0)
                return log_oom();
        if (table_print(t, arg_json, stdout) < 0)
                return log_oom();
        if (!res.ok) {
                if (res.first_bad_seq > 0)
                        log_error("Audit log '%s' is not intact at record %" PRIu64 ": %s", dir,
                                  res.first_bad_seq, res.reason);
                else
                        log_error("Audit log '%s' is not intact: %s", dir, res.reason);
                return -EBADMSG;
        }
        return 0;
}
