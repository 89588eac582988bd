/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "fileio.h"
#include "serial-floor.h"
#include "util.h"

/* The file holds the decimal serial and a newline, nothing else. */
#define SERIAL_FLOOR_FILE_MAX 32

static char *serial_floor_path(const char *state_dir) {
        return strjoin_alloc(state_dir, "/", SERIAL_FLOOR_FILE);
}

int serial_floor_read(const char *state_dir, uint64_t *ret) {
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

int serial_floor_raise(const char *state_dir, uint64_t serial) {
        _cleanup_(freep) char *path = serial_floor_path(state_dir);
        uint64_t floor;
        char buf[SERIAL_FLOOR_FILE_MAX];
        int n, r;

        if (!path)
                return -ENOMEM;
        r = serial_floor_read(state_dir, &floor);
        if (r < 0)
                return r;
        if (serial <= floor)
                return 0;
        n = snprintf(buf, sizeof(buf), "%" PRIu64 "\n", serial);
        r = write_file_atomic(path, buf, (size_t) n, 0600);
        return r < 0 ? r : 1;
}
