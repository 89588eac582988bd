/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fileio.h"
#include "measure.h"

struct MeasureLog {
        char *path;
        int fd;
        Measurement *records;
        size_t n_records;
};

static int boot_id(char ret[64]) {
        _cleanup_(freep) char *s = NULL;
        int r = read_full_file("/proc/sys/kernel/random/boot_id", 64, &s, NULL);

        if (r < 0)
                return r;
        s[strcspn(s, "\n")] = 0;
        (void) snprintf(ret, 64, "%s", s);
        return 0;
}

int measure_record_parse(const char *line, Measurement *ret) {
        unsigned long long t;
        unsigned pcr;
        char hex[65];
        int off = 0;
        _cleanup_(freep) void *d = NULL;
        size_t dl;

        if (sscanf(line, "%llu %u %64s %n", &t, &pcr, hex, &off) != 3 || off == 0 || pcr > 23)
                return -EBADMSG;
        if (unhexmem(hex, &d, &dl) < 0 || dl != 32)
                return -EBADMSG;
        *ret = (Measurement){ .pcr = pcr, .time = (usec_t) t };
        memcpy(ret->digest, d, 32);
        ret->description = strdup(line + off);
        return ret->description ? 0 : -ENOMEM;
}

static int measure_log_push(MeasureLog *l, Measurement *m) {
        Measurement *p = reallocarray(l->records, l->n_records + 1, sizeof(Measurement));

        if (!p) {
                free(m->description);
                return -ENOMEM;
        }
        l->records = p;
        l->records[l->n_records++] = *m;
        return 0;
}

/* Loads the records of this boot; a log of another boot is set aside. */
static int measure_log_load(MeasureLog *l, const char *boot) {
        _cleanup_(freep) char *data = NULL, *old = NULL;
        size_t len;
        char *line, *nl;
        int r;

        r = read_full_file(l->path, 64U * 1024U * 1024U, &data, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (strncmp(data, "boot ", 5) != 0 || strncmp(data + 5, boot, strlen(boot)) != 0 ||
            data[5 + strlen(boot)] != '\n') {
                old = strjoin_alloc(l->path, ".old", "");
                if (!old)
                        return -ENOMEM;
                return RET_NERRNO(rename(l->path, old));
        }
        /* Only complete lines count: a torn last record is dropped. */
        for (line = strchr(data, '\n') + 1; (nl = strchr(line, '\n')); line = nl + 1) {
                Measurement m;

                *nl = 0;
                if (measure_record_parse(line, &m) < 0)
                        continue;
                r = measure_log_push(l, &m);
                if (r < 0)
                        return r;
        }
        if (*line) {
                /* Cut the torn tail so that the next append starts a line. */
                if (truncate(l->path, (off_t) (line - data)) < 0)
                        return -errno;
        }
        return 0;
}

int measure_log_open(const char *dir, MeasureLog **ret) {
        _cleanup_(measure_log_freep) MeasureLog *l = calloc(1, sizeof(MeasureLog));
        char boot[64], header[80];
        struct stat st;
        int r;

        if (!l)
                return -ENOMEM;
        l->fd = -EBADF;
        l->path = strjoin_alloc(dir, "/", MEASURE_LOG_FILE);
        if (!l->path)
                return -ENOMEM;
        r = boot_id(boot);
        if (r < 0)
                return r;
        r = measure_log_load(l, boot);
        if (r < 0)
                return r;
        l->fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (l->fd < 0)
                return -errno;
        if (fstat(l->fd, &st) < 0)
                return -errno;
        if (st.st_size == 0) {
                int n = snprintf(header, sizeof(header), "boot %s\n", boot);
                if (write(l->fd, header, (size_t) n) != n || fdatasync(l->fd) < 0)
                        return negative_errno();
        }
        *ret = TAKE_PTR(l);
        return 0;
}

MeasureLog *measure_log_free(MeasureLog *l) {
        if (!l)
                return NULL;
        for (size_t i = 0; i < l->n_records; i++)
                free(l->records[i].description);
        free(l->records);
        l->fd = safe_close(l->fd);
        free(l->path);
        free(l);
        return NULL;
}

int measure_log_append(MeasureLog *l, unsigned pcr, const uint8_t digest[32], const char *description) {
        _cleanup_(freep) char *hex = NULL, *line = NULL;
        Measurement m = { .pcr = pcr, .time = now_usec(CLOCK_REALTIME) };
        int n;

        if (pcr > 23 || strlen(description) > MEASURE_DESCRIPTION_MAX || strchr(description, '\n'))
                return -EINVAL;
        hex = hexmem(digest, 32);
        if (!hex)
                return -ENOMEM;
        n = asprintf(&line, "%" PRIu64 " %u %s %s\n", (uint64_t) m.time, pcr, hex, description);
        if (n < 0)
                return -ENOMEM;
        /* One write() per record: O_APPEND makes it land whole at the end. */
        if (write(l->fd, line, (size_t) n) != n)
                return negative_errno();
        if (fdatasync(l->fd) < 0)
                return -errno;
        memcpy(m.digest, digest, 32);
        m.description = strdup(description);
        if (!m.description)
                return -ENOMEM;
        return measure_log_push(l, &m);
}

const Measurement *measure_log_get(const MeasureLog *l, size_t *ret_n) {
        *ret_n = l->n_records;
        return l->records;
}
