/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "fileio.h"
#include "log.h"
#include "serial-floor.h"
#include "tpm-nv.h"
#include "util.h"

/* A build without the TPM module (some unit tests) keeps the file only. */
#pragma weak tpm_nv_floor_read
#pragma weak tpm_nv_floor_raise
#pragma weak tpm_nv_marks_read
#pragma weak tpm_nv_in_use

/* The file holds the decimal serial and a newline, nothing else. */
#define SERIAL_FLOOR_FILE_MAX 32

static char *serial_floor_path(const char *state_dir) {
        return strjoin_alloc(state_dir, "/", SERIAL_FLOOR_FILE);
}

static int serial_floor_file_read(const char *state_dir, uint64_t *ret) {
        _cleanup_(freep) char *path = serial_floor_path(state_dir), *data = NULL;
        uint64_t v;
        size_t len;
        int r;

        if (!path)
                return -ENOMEM;
        r = read_full_file(path, SERIAL_FLOOR_FILE_MAX, &data, &len);
        if (r == -ENOENT) {
                *ret = 0;
                return 0;
        }
        if (r == -EFBIG)
                return -EBADMSG;
        if (r < 0)
                return r;
        if (len < 2 || data[len - 1] != '\n' || strlen(data) != len)
                return -EBADMSG;
        data[len - 1] = 0;
        if (parse_uint64(data, UINT64_MAX, &v) < 0)
                return -EBADMSG;
        *ret = v;
        return 0;
}

/* The NV floor (with its mark): -EBADMSG for an index that is not ours or
 * damaged marks, -ESTALE for one that went down. 1 when this state
 * directory uses NV floors but the TPM cannot be asked now (*ret is then
 * the mark: the floor is at least that); 0 and *ret 0 when it never used
 * them and there is no TPM. */
static int serial_floor_nv_read(const char *state_dir, Tpm *t, uint64_t *ret) {
        uint64_t marks[_TPM_NV_INDEX_MAX];
        int r = -ENODEV;

        *ret = 0;
        if (!tpm_nv_floor_read)
                return 0;
        if (t) {
                r = tpm_nv_floor_read(t, TPM_NV_MANIFEST, ret);
                if (r == -EKEYREJECTED || r == -EBADMSG || r == -ESTALE)
                        return r == -ESTALE ? r : -EBADMSG;
                if (r >= 0)
                        return 0;
        }
        if (!tpm_nv_in_use(state_dir))
                return 0;
        log_debug_errno(r, "Cannot read the manifest serial floor from TPM NV: %m");
        r = tpm_nv_marks_read(state_dir, marks);
        if (r < 0)
                return r == -EBADMSG ? r : -EBADMSG;
        *ret = marks[TPM_NV_MANIFEST];
        return 1;
}

int serial_floor_read(const char *state_dir, Tpm *t, uint64_t *ret) {
        uint64_t file, nv;
        int r;

        r = serial_floor_file_read(state_dir, &file);
        if (r < 0)
                return r;
        r = serial_floor_nv_read(state_dir, t, &nv);
        if (r < 0)
                return r;
        *ret = MAX(file, nv);
        return r;
}

int serial_floor_raise(const char *state_dir, Tpm *t, uint64_t serial) {
        _cleanup_(freep) char *path = serial_floor_path(state_dir);
        uint64_t floor, nv;
        char buf[SERIAL_FLOOR_FILE_MAX];
        int n, r, raised = 0;

        if (!path)
                return -ENOMEM;
        r = serial_floor_file_read(state_dir, &floor);
        if (r < 0)
                return r;
        if (serial > floor) {
                n = snprintf(buf, sizeof(buf), "%" PRIu64 "\n", serial);
                r = write_file_atomic(path, buf, (size_t) n, 0600);
                if (r < 0)
                        return r;
                raised = 1;
        }
        r = serial_floor_nv_read(state_dir, t, &nv);
        if (r < 0)
                return r;
        if (r == 0 && t && tpm_nv_floor_raise && serial > nv) {
                r = tpm_nv_floor_raise(t, TPM_NV_MANIFEST, serial);
                if (r < 0)
                        return r;
                raised = 1;
        }
        return raised;
}
