/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "log.h"
#include "util.h"

static int max_level = LOG_INFO;
static const char *log_ident = "endpointd";
static bool log_to_journal = false;

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

void log_set_ident(const char *ident) {
        log_ident = ident;
}

int log_level_from_string(const char *s) {
        static const char *const names[] = {
                [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
                [LOG_ERR] = "err", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
                [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
        };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(s, names[i]))
                        return (int) i;
        return -EINVAL;
}

/* stderr is the journal when JOURNAL_STREAM names the device:inode of fd 2. */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == dev && st.st_ino == ino;
}

void log_setup(const char *ident) {
        const char *e;

        log_ident = ident;
        log_to_journal = stderr_is_journal();
        e = getenv("ENDPOINTD_LOG_LEVEL");
        if (e) {
                int l = log_level_from_string(e);
                if (l >= 0)
                        max_level = l;
        }
}

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *message_id, const char *format, ...) {
        char buf[2048];
        va_list ap;

        error = abs(error);
        errno = error;
        va_start(ap, format);
        (void) vsnprintf(buf, sizeof(buf), format, ap);
        va_end(ap);

        if (log_to_journal) {
                char code_line[32], errno_field[32], mid[64];

                (void) snprintf(code_line, sizeof(code_line), "CODE_LINE=%d", line);
                (void) snprintf(errno_field, sizeof(errno_field), "ERRNO=%d", error);
                (void) snprintf(mid, sizeof(mid), "MESSAGE_ID=%s", strempty(message_id));
                /* ERRNO= only where there is one. */
                (void) sd_journal_send("MESSAGE=%s", buf, "PRIORITY=%d", level, "SYSLOG_IDENTIFIER=%s",
                                       log_ident, "CODE_FILE=%s", file, code_line, "CODE_FUNC=%s", func,
                                       message_id ? mid : "ENDPOINTD_EVENT=log", error ? errno_field : NULL,
                                       NULL);
        } else
                (void) fprintf(stderr, "%s: %s\n", log_ident, buf);

        return -error;
}

/* Room for the fixed fields and the event's own. */
#define EVENT_IOV_MAX 40U

void log_send_event(int level, int error, const char *file, int line, const char *func,
                    const char *message_id, const char *const *fields, size_t n_fields,
                    const char *message) {
        char prio[16], code_line[32], errno_field[32], ident[128], code_file[512], code_func[256], mid[64];
        _cleanup_(freep) char *msg = NULL;
        struct iovec iov[EVENT_IOV_MAX];
        size_t n = 0;

        error = abs(error);
        if (level > max_level)
                return;
        if (!log_to_journal) {
                (void) fprintf(stderr, "%s: %s\n", log_ident, message);
                return;
        }
        msg = strjoin_alloc("MESSAGE=", message, "");
        if (!msg)
                return;
#define IOV_STR(s) (struct iovec){ .iov_base = (void *) (s), .iov_len = strlen(s) }
        (void) snprintf(prio, sizeof(prio), "PRIORITY=%d", level);
        (void) snprintf(ident, sizeof(ident), "SYSLOG_IDENTIFIER=%s", log_ident);
        (void) snprintf(code_file, sizeof(code_file), "CODE_FILE=%s", file);
        (void) snprintf(code_line, sizeof(code_line), "CODE_LINE=%d", line);
        (void) snprintf(code_func, sizeof(code_func), "CODE_FUNC=%s", func);
        iov[n++] = IOV_STR(msg);
        iov[n++] = IOV_STR(prio);
        iov[n++] = IOV_STR(ident);
        iov[n++] = IOV_STR(code_file);
        iov[n++] = IOV_STR(code_line);
        iov[n++] = IOV_STR(code_func);
        if (message_id) {
                (void) snprintf(mid, sizeof(mid), "MESSAGE_ID=%s", message_id);
                iov[n++] = IOV_STR(mid);
        }
        if (error) {
                (void) snprintf(errno_field, sizeof(errno_field), "ERRNO=%d", error);
                iov[n++] = IOV_STR(errno_field);
        }
        for (size_t i = 0; i < n_fields && n < ELEMENTSOF(iov); i++)
                iov[n++] = IOV_STR(fields[i]);
#undef IOV_STR
        (void) sd_journal_sendv(iov, (int) n);
}
