/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one way a security event travels through the daemon.
 *
 * The module that knows an event makes it once, as a typed record (Event),
 * and hands it to the Events sink it was given at construction:
 *
 *     events_emit(ev, EVENT_KEY_DELETED, &subject, name, 0,
 *                 EVENT_FIELDS({ "KEY", name }), "Deleted key '%s'.", name);
 *
 * The sink fans the record out, in this order, to the audit log (which
 * gives it its sequence number), the journal (MESSAGE_ID= of the kind, each
 * field as ENDPOINTD_<NAME>=, CODE_FILE/LINE/FUNC of the caller) and the
 * bus layer (unicast signals to subscribers). The modules never see sd-bus
 * or the manager; the sink knows neither either: the audit log and the bus
 * layer plug in as callbacks (events_set_recorder(), events_set_notifier()).
 *
 * Every kind is one line of the table in events.c: its name, MESSAGE_ID,
 * journal priority and the fields it carries. endpointd-audit(5) (EVENT
 * KINDS) and catalog/endpointd.catalog follow that table; a unit test
 * checks that they agree. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "macro.h"
#include "util.h"

typedef enum EventKind {
        EVENT_DAEMON_STARTED,
        EVENT_DAEMON_STOPPED,
        EVENT_DAEMON_UNCLEAN_STOP,
        EVENT_CONFIG_RELOADED,
        EVENT_POLICY_RELOADED,
        EVENT_POLICY_REFUSED,
        EVENT_MANIFEST_INSTALLED,
        EVENT_MANIFEST_REFUSED,
        EVENT_SCAN_STARTED,
        EVENT_SCAN_FINISHED,
        EVENT_VIOLATION,
        EVENT_KEY_CREATED,
        EVENT_KEY_DELETED,
        EVENT_KEY_SEALED,
        EVENT_KEY_UNSEALED,
        EVENT_KEY_USED,
        EVENT_DEVICE_SIGNED,
        EVENT_DEVICE_ATTESTED,
        EVENT_CREDENTIAL_ACTIVATED,
        EVENT_ACCESS_DENIED,
        EVENT_ACCESS_ALLOWED,
        EVENT_RATE_LIMITED,
        EVENT_ABUSE_SUSPECTED,
        EVENT_GRANT_INSTALLED,
        EVENT_GRANT_LAPSED,
        EVENT_GRANT_REVOKED,
        EVENT_LICENCE_INSTALLED,
        EVENT_LICENCE_EXPIRED,
        EVENT_APPROVAL_INSTALLED,
        EVENT_APPROVAL_REFUSED,
        EVENT_TOKEN_REFUSED,
        EVENT_CLOCK_SET_BACK,
        EVENT_TPM_AVAILABLE,
        EVENT_TPM_LOST,
        EVENT_TPM_ERROR,
        _EVENT_KIND_MAX,
        _EVENT_KIND_INVALID = -EINVAL,
} EventKind;

/* At most this many fields of its own per kind. */
#define EVENT_FIELDS_MAX 8U

typedef struct EventKindInfo {
        const char *name; /* "key-deleted": what ReadEvents and `audit show --kind` use */
        const char *message_id; /* 32 lower-case hex digits, a v4 id from `systemd-id128 new` */
        int priority; /* journal PRIORITY= (LOG_*) */
        const char *fields[EVENT_FIELDS_MAX + 1]; /* its own fields, NULL-terminated */
        const char *summary; /* one line for the man page and the catalog */
} EventKindInfo;

const EventKindInfo *event_kind_info(EventKind k);
const char *event_kind_to_string(EventKind k);
EventKind event_kind_from_string(const char *s);

/* Who caused the event, as far as it is known. */
typedef struct EventSubject {
        uid_t uid; /* UID_INVALID when not known (the daemon itself) */
        gid_t gid; /* GID_INVALID when not known */
        pid_t pid; /* 0 when not known */
        const char *exe; /* NULL when not known */
        const char *bus_name; /* the caller's unique name, NULL when not a bus call */
} EventSubject;

#define UID_INVALID ((uid_t) -1)
#define GID_INVALID ((gid_t) -1)
/* The daemon itself: start, stop, timers, scans it started. */
#define EVENT_SUBJECT_DAEMON ((const EventSubject *) NULL)

/* A subject that outlives the call it came with (for work that finishes
 * later on the loop): owns copies of its strings. */
typedef struct EventSubjectCopy {
        EventSubject subject;
        char *exe;
        char *bus_name;
} EventSubjectCopy;

/* Copies s (may be EVENT_SUBJECT_DAEMON) into ret; -ENOMEM. */
int event_subject_copy(const EventSubject *s, EventSubjectCopy *ret);
void event_subject_copy_done(EventSubjectCopy *c);

typedef struct EventField {
        const char *name; /* upper case, [A-Z0-9_]; the journal field is ENDPOINTD_<name> */
        const char *value; /* NULL is left out */
} EventField;

/* A compound literal list of fields for events_emit(). */
#define EVENT_FIELDS(...) ((const EventField[]){ __VA_ARGS__, { NULL, NULL } })
#define EVENT_NO_FIELDS ((const EventField *) NULL)

typedef struct Event {
        EventKind kind;
        usec_t realtime; /* CLOCK_REALTIME µs */
        usec_t monotonic; /* CLOCK_MONOTONIC µs */
        EventSubject subject;
        const char *object; /* what it was done to: a path, key name, permission...; "" if nothing */
        int result; /* 0, or the -errno it failed with */
        const EventField *fields;
        size_t n_fields;
        const char *message; /* a sentence a person reads */
        const char *code_file;
        unsigned code_line;
        const char *code_func;
        uint64_t seq; /* the audit log's sequence number; 0 when not recorded */
} Event;

/* Returns the value of the field called name, or NULL. */
const char *event_field(const Event *e, const char *name);

typedef struct Events Events;

/* The audit log: records e and sets *ret_seq. A negative return is logged
 * (once per burst) and the event still goes on to the journal and bus. */
typedef int (*EventsRecordFunc)(const Event *e, uint64_t *ret_seq, void *userdata);
/* The bus layer: tells subscribers. */
typedef void (*EventsNotifyFunc)(const Event *e, void *userdata);

/* Which allowed calls are events: EventsAllowedLevel, config.h (AllowedCalls=). */

int events_new(Events **ret);
Events *events_free(Events *ev);
DEFINE_TRIVIAL_CLEANUP_FUNC(Events *, events_free);

/* The recorder for the audit log (audit-log.h; userdata: the AuditLog).
 * The record's kind is the event kind's name; its fields are those the
 * journal gets (ENDPOINTD_UID=, ENDPOINTD_OBJECT=, ENDPOINTD_RESULT=, the
 * kind's own as ENDPOINTD_<NAME>=), then ERRNO= when the event failed and
 * MESSAGE=. Returns audit_log_append()'s result. */
int events_record_audit(const Event *e, uint64_t *ret_seq, void *userdata);

/* Plugs in (or, with NULL, takes out) the audit log and the bus layer. */
void events_set_recorder(Events *ev, EventsRecordFunc f, void *userdata);
void events_set_notifier(Events *ev, EventsNotifyFunc f, void *userdata);

/* Whether to send events to the journal (default yes). */
void events_set_journal(Events *ev, bool b);

void events_set_allowed_level(Events *ev, EventsAllowedLevel l);
EventsAllowedLevel events_get_allowed_level(const Events *ev);

/* How many events were made, and how many the recorder failed to record
 * (for status and tests). */
uint64_t events_get_count(const Events *ev);
uint64_t events_get_record_failures(const Events *ev);

/* Makes one event and fans it out. subject may be EVENT_SUBJECT_DAEMON,
 * object NULL, fields EVENT_NO_FIELDS. Never fails: an event that cannot be
 * recorded in the log still reaches the journal. ev may be NULL (then only
 * the journal gets it: early start and unit tests). Returns the sequence
 * number the log gave it, 0 when none. */
uint64_t events_emit_internal(Events *ev, EventKind kind, const EventSubject *subject, const char *object,
                              int result, const EventField *fields, const char *file, unsigned line,
                              const char *func, const char *format, ...) _printf_(10, 11);

#define events_emit(ev, kind, subject, object, result, fields, ...)                                         \
        events_emit_internal(ev, kind, subject, object, result, fields, __FILE__, __LINE__, __func__,       \
                             __VA_ARGS__)
