/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Logging. Under systemd (JOURNAL_STREAM names our stderr) entries go to the
 * journal with structured fields; otherwise to stderr as "endpointd: text".
 * src/shared logs only at debug level; errors are logged once, at the
 * boundary that decides what to do about them. */

#include <stdarg.h>
#include <syslog.h>

#include "macro.h"

void log_set_max_level(int level);
int log_get_max_level(void);
void log_set_ident(const char *ident);
/* Reads ENDPOINTD_LOG_LEVEL=debug|info|notice|warning|err and JOURNAL_STREAM. */
void log_setup(const char *ident);
int log_level_from_string(const char *s);

/* Logs and returns -abs(error). %m in format expands to strerror(error).
 * message_id may be NULL or a 128-bit id as 32 hex digits, sent as
 * MESSAGE_ID= so that each event kind can be found in the journal. */
int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *message_id, const char *format, ...) _printf_(7, 8);

/* Sends one event: MESSAGE=message, PRIORITY=level, MESSAGE_ID=message_id,
 * CODE_FILE/CODE_LINE/CODE_FUNC as given (the caller of the event, not this
 * function), ERRNO= only when error is not 0, and fields ("NAME=value"
 * strings) as they are. Off the journal: "ident: message" on stderr. */
void log_send_event(int level, int error, const char *file, int line, const char *func,
                    const char *message_id, const char *const *fields, size_t n_fields, const char *message);

#define log_full_errno(level, error, ...)                                               \
        ({                                                                              \
                int _level = (level), _e = (error);                                     \
                _level <= log_get_max_level()                                           \
                        ? log_internal(_level, _e, __FILE__, __LINE__, __func__, NULL,  \
                                       __VA_ARGS__)                                     \
                        : -abs(_e);                                                     \
        })
#define log_full(level, ...) (void) log_full_errno(level, 0, __VA_ARGS__)

#define log_debug(...)   log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)    log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...)  log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...)   log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_info_errno(e, ...)    log_full_errno(LOG_INFO, e, __VA_ARGS__)
#define log_notice_errno(e, ...)  log_full_errno(LOG_NOTICE, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, e, __VA_ARGS__)
#define log_oom() log_error_errno(ENOMEM, "Out of memory.")

/* Logs one event kind with its MESSAGE_ID (see include/endpointd/bus.h). */
#define log_struct(level, message_id, ...)                                              \
        (void) ((level) <= log_get_max_level()                                          \
                        ? log_internal(level, 0, __FILE__, __LINE__, __func__,          \
                                       message_id, __VA_ARGS__)                         \
                        : 0)
