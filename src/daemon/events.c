/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "audit-log.h"
#include "events.h"
#include "log.h"

struct Events {
        EventsRecordFunc record;
        void *record_userdata;
        EventsNotifyFunc notify;
        void *notify_userdata;
        bool no_journal;
        EventsAllowedLevel allowed_level;
        uint64_t n_events;
        uint64_t n_record_failures;
        int last_record_error; /* logged once until the recorder works again */
};

/* THE table of event kinds. MESSAGE_IDs were made once with `systemd-id128
 * new` and never change: people filter on them. Each new kind gets a new
 * id, a catalog entry (catalog/endpointd.catalog) and a line in
 * endpointd-audit(5). Fields common to every kind (UID, GID, PID, EXE,
 * BUS_NAME, OBJECT, RESULT) are not repeated here. */
static const EventKindInfo kinds[_EVENT_KIND_MAX] = {
        [EVENT_DAEMON_STARTED] = { "daemon-started",
                                   "02230f39390a4d26af0bf13300d42dd6",
                                   LOG_INFO,
                                   { "VERSION", NULL },
                                   "endpointd started serving its bus name" },
        [EVENT_DAEMON_STOPPED] = { "daemon-stopped",
                                   "9d87578a227d4c71b542964e8d05c186",
                                   LOG_INFO,
                                   { "SIGNAL", NULL },
                                   "endpointd stopped cleanly" },
        [EVENT_DAEMON_UNCLEAN_STOP] = { "daemon-unclean-stop",
                                        "ee285ce60be346489e03fccaf74e8935",
                                        LOG_WARNING,
                                        { "LAST_SEQ", "LAST_EVENT", "TORN_BYTES", NULL },
                                        "endpointd started after a stop that was not clean (crash, kill, "
                                        "power loss)" },
        [EVENT_CONFIG_RELOADED] = { "config-reloaded",
                                    "52cc3ae125ca44d49d52f852d8a3e68d",
                                    LOG_INFO,
                                    { "PATH", NULL },
                                    "the configuration file was read again" },
        [EVENT_POLICY_RELOADED] = { "policy-reloaded",
                                    "9b3482039edb4c9b9511d22c2f1ddbcf",
                                    LOG_NOTICE,
                                    { "PATH", NULL },
                                    "the access policy was loaded" },
        [EVENT_POLICY_REFUSED] = { "policy-refused",
                                   "eb1739c5ac03427d9e0ee8e2009880c8",
                                   LOG_WARNING,
                                   { "PATH", "REASON", NULL },
                                   "a new access policy was refused; the old one stays in force" },
        [EVENT_MANIFEST_INSTALLED] = { "manifest-installed",
                                       "e0ac27a621d1452c8339840b32aa781b",
                                       LOG_NOTICE,
                                       { "SERIAL", "PRODUCT", "VERSION", "SIGNER", "DIGEST", NULL },
                                       "a signed manifest was installed (or the stored one loaded at "
                                       "start)" },
        [EVENT_MANIFEST_REFUSED] = { "manifest-refused",
                                     "22a5af3cf96d4734bd01a20e5bd26af7",
                                     LOG_ERR,
                                     { "SERIAL", "REASON", NULL },
                                     "a manifest was refused: bad signature, malformed, or a rollback" },
        [EVENT_SCAN_STARTED] = { "scan-started",
                                 "a24554711dee4189a6e16ce06e242668",
                                 LOG_INFO,
                                 { "SCAN_ID", "SERIAL", NULL },
                                 "a full integrity scan started" },
        [EVENT_SCAN_FINISHED] = { "scan-finished",
                                  "ab0ab84f9c4b4b229d7594d83f223e7e",
                                  LOG_INFO,
                                  { "SCAN_ID", "STATE", "VIOLATIONS", "FILES", NULL },
                                  "a full integrity scan ended with a verdict" },
        [EVENT_VIOLATION] = { "violation",
                              "500b4e12db624beab77d934b7720b27b",
                              LOG_WARNING,
                              { "PATH", "VIOLATION", "DETAIL", NULL },
                              "an installed file differs from the manifest" },
        [EVENT_KEY_CREATED] = { "key-created",
                                "2d584e7da89144cbaf84625bce0c0cb2",
                                LOG_INFO,
                                { "KEY", "PCRS", "EXPORTABLE", NULL },
                                "a data key was created" },
        [EVENT_KEY_DELETED] = { "key-deleted",
                                "cb330ed6781c47969bab65ef625373a8",
                                LOG_INFO,
                                { "KEY", NULL },
                                "a key or sealed secret was deleted" },
        [EVENT_KEY_SEALED] = { "key-sealed",
                               "90ae01fb6277440ea41a6e5943c37476",
                               LOG_INFO,
                               { "KEY", "PCRS", NULL },
                               "a secret was sealed to the TPM" },
        [EVENT_KEY_UNSEALED] = { "key-unsealed",
                                 "0b92c546c5404d0c861a13d93a39323b",
                                 LOG_NOTICE,
                                 { "KEY", NULL },
                                 "a sealed secret or exportable key was handed to a client" },
        [EVENT_KEY_USED] = { "key-used",
                             "832830493aea491f86a898814d4a0db0",
                             LOG_INFO,
                             { "KEY", "OPERATION", NULL },
                             "a data key encrypted or decrypted for a client" },
        [EVENT_DEVICE_SIGNED] = { "device-signed",
                                  "b570aa81fed14c2d924590464670ef77",
                                  LOG_INFO,
                                  { "DIGEST", NULL },
                                  "the TPM device key signed data for a client" },
        [EVENT_DEVICE_ATTESTED] = { "device-attested",
                                    "afd212d801394e6684b8f1ca565743f3",
                                    LOG_INFO,
                                    { "PCRS", NULL },
                                    "the TPM quoted PCRs for a client" },
        [EVENT_CREDENTIAL_ACTIVATED] = { "credential-activated",
                                         "5603c220aade4a989f7c5b618b32bd08",
                                         LOG_NOTICE,
                                         { "CREDENTIAL", NULL },
                                         "a verifier's credential (tpm2_makecredential) was activated for a "
                                         "client, or refused (not made for this TPM, or not a credential "
                                         "file)" },
        [EVENT_ACCESS_DENIED] = { "access-denied",
                                  "129071a52cbb4de69f9c33c1acfe203d",
                                  LOG_NOTICE,
                                  { "PERMISSION", "REASON", NULL },
                                  "a call was denied by the access policy" },
        [EVENT_ACCESS_ALLOWED] = { "access-allowed",
                                   "79ddd662ab9340d0bd2b64e7a977e3f7",
                                   LOG_INFO,
                                   { "PERMISSION", "REASON", NULL },
                                   "a privileged call was allowed (see [Audit] AllowedCalls=)" },
        [EVENT_RATE_LIMITED] = { "rate-limited",
                                 "0f8fd0392b5744c489a2419890a5a4ce",
                                 LOG_WARNING,
                                 { NULL },
                                 "a uid reached its call rate limit; its calls are refused for now" },
        [EVENT_ABUSE_SUSPECTED] = { "abuse-suspected",
                                    "bbfdd23af3094e5ba3ebb9abda797945",
                                    LOG_WARNING,
                                    { "DENIALS", "WINDOW_SEC", NULL },
                                    "a uid was denied many times in a short time" },
        [EVENT_GRANT_INSTALLED] = { "grant-installed",
                                    "24734e0320714d6680371b0a86742256",
                                    LOG_NOTICE,
                                    { "GRANT", "GRANT_SUBJECT", "NOT_AFTER", NULL },
                                    "a maintenance grant was installed" },
        [EVENT_GRANT_LAPSED] = { "grant-lapsed",
                                 "4f027c56a511417fb38ed1e1b2027e7d",
                                 LOG_NOTICE,
                                 { "GRANT", "GRANT_SUBJECT", "NOT_AFTER", NULL },
                                 "a maintenance grant expired" },
        [EVENT_GRANT_REVOKED] = { "grant-revoked",
                                  "9891bb4bbd5242bb988dc2c510024087",
                                  LOG_NOTICE,
                                  { "GRANT", "GRANT_SUBJECT", NULL },
                                  "a maintenance grant was revoked for good" },
        [EVENT_LICENCE_INSTALLED] = { "licence-installed",
                                      "b9ae1e7ac3ca4aa9904bd653a0a2bf7a",
                                      LOG_NOTICE,
                                      { "LICENCE", "NOT_AFTER", NULL },
                                      "a licence was installed" },
        [EVENT_LICENCE_EXPIRED] = { "licence-expired",
                                    "40232f67921d43309cf276948cd88a37",
                                    LOG_NOTICE,
                                    { "LICENCE", "NOT_AFTER", NULL },
                                    "an installed licence passed its NotAfter=" },
        [EVENT_APPROVAL_INSTALLED] = { "approval-installed",
                                       "cf55c85f468248a19a7ae7e9b5f88d05",
                                       LOG_NOTICE,
                                       { "APPROVAL_VERSION", NULL },
                                       "a PCR approval was installed and the approval floor raised to its version" },
        [EVENT_APPROVAL_REFUSED] = { "approval-refused",
                                     "51eac4a406af4fb0b27ba77b3665c0f0",
                                     LOG_WARNING,
                                     { "REASON", NULL },
                                     "a PCR approval was refused (format, signature, signer role, rollback)" },
        [EVENT_TOKEN_REFUSED] = { "token-refused",
                                  "81f681daf58a44fbb7de91afbc8b0da1",
                                  LOG_WARNING,
                                  { "TOKEN_TYPE", "REASON", NULL },
                                  "a grant or licence was refused (signature, device, time, revoked)" },
        [EVENT_CLOCK_SET_BACK] = { "clock-set-back",
                                   "7e8c2d97fc7d4c6d95c253531ee6437b",
                                   LOG_WARNING,
                                   { "BEHIND_SEC", NULL },
                                   "the wall clock is behind the time the daemon has already seen" },
        [EVENT_TPM_AVAILABLE] = { "tpm-available",
                                  "ba85a51930fa4b89b413e0a0538d6f90",
                                  LOG_INFO,
                                  { "TCTI", "DEVICE_ID", NULL },
                                  "the TPM is reachable" },
        [EVENT_TPM_LOST] = { "tpm-lost",
                             "ae56f31179044019a4855c3b5342cfd7",
                             LOG_WARNING,
                             { "TCTI", "REASON", NULL },
                             "the TPM cannot be reached; key operations fail until it is back" },
        [EVENT_TPM_ERROR] = { "tpm-error",
                              "16ee83707a7d40e1a1c8b8f9bce8e9ba",
                              LOG_ERR,
                              { "OPERATION", "REASON", NULL },
                              "a TPM command failed" },
};

const EventKindInfo *event_kind_info(EventKind k) {
        return k >= 0 && k < _EVENT_KIND_MAX ? &kinds[k] : NULL;
}

const char *event_kind_to_string(EventKind k) {
        return k >= 0 && k < _EVENT_KIND_MAX ? kinds[k].name : NULL;
}

EventKind event_kind_from_string(const char *s) {
        for (EventKind k = 0; s && k < _EVENT_KIND_MAX; k++)
                if (streq(kinds[k].name, s))
                        return k;
        return _EVENT_KIND_INVALID;
}

const char *event_field(const Event *e, const char *name) {
        for (size_t i = 0; i < e->n_fields; i++)
                if (streq(e->fields[i].name, name))
                        return e->fields[i].value;
        return NULL;
}

int event_subject_copy(const EventSubject *s, EventSubjectCopy *ret) {
        EventSubjectCopy c = { .subject = { .uid = UID_INVALID, .gid = GID_INVALID } };

        if (s) {
                c.subject = *s;
                c.exe = s->exe ? strdup(s->exe) : NULL;
                c.bus_name = s->bus_name ? strdup(s->bus_name) : NULL;
                if ((s->exe && !c.exe) || (s->bus_name && !c.bus_name)) {
                        event_subject_copy_done(&c);
                        return -ENOMEM;
                }
                c.subject.exe = c.exe;
                c.subject.bus_name = c.bus_name;
        }
        *ret = c;
        return 0;
}

void event_subject_copy_done(EventSubjectCopy *c) {
        c->exe = mfree(c->exe);
        c->bus_name = mfree(c->bus_name);
        c->subject.exe = c->subject.bus_name = NULL;
}

int events_new(Events **ret) {
        Events *ev = calloc(1, sizeof(Events));

        if (!ev)
                return -ENOMEM;
        ev->allowed_level = EVENTS_ALLOWED_CHANGES;
        *ret = ev;
        return 0;
}

Events *events_free(Events *ev) {
        free(ev);
        return NULL;
}

void events_set_recorder(Events *ev, EventsRecordFunc f, void *userdata) {
        ev->record = f;
        ev->record_userdata = userdata;
}

void events_set_notifier(Events *ev, EventsNotifyFunc f, void *userdata) {
        ev->notify = f;
        ev->notify_userdata = userdata;
}

void events_set_journal(Events *ev, bool b) {
        ev->no_journal = !b;
}

void events_set_allowed_level(Events *ev, EventsAllowedLevel l) {
        ev->allowed_level = l;
}

EventsAllowedLevel events_get_allowed_level(const Events *ev) {
        return ev ? ev->allowed_level : EVENTS_ALLOWED_CHANGES;
}

uint64_t events_get_count(const Events *ev) {
        return ev->n_events;
}

uint64_t events_get_record_failures(const Events *ev) {
        return ev->n_record_failures;
}

/* The fields of e that the journal and the audit log both carry, in this
 * order: the common ones (UID, GID, PID, EXE, BUS_NAME, OBJECT, RESULT),
 * then the kind's own, each named ENDPOINTD_<NAME>. Text is kept in buf;
 * a value is cut at the size of buf rather than left out. */
#define RECORD_FIELDS_MAX (EVENT_FIELDS_MAX + 12U)

typedef struct RecordFields {
        char buf[8192];
        size_t used;
        AuditField f[RECORD_FIELDS_MAX];
        size_t n;
} RecordFields;

static const char *record_text(RecordFields *c, const char *format, ...) _printf_(2, 3);
static const char *record_text(RecordFields *c, const char *format, ...) {
        size_t left = sizeof(c->buf) - c->used;
        char *p = c->buf + c->used;
        va_list ap;
        int n;

        if (left < 2)
                return NULL;
        va_start(ap, format);
        n = vsnprintf(p, left, format, ap);
        va_end(ap);
        if (n < 0)
                return NULL;
        c->used += MIN((size_t) n, left - 1) + 1;
        return p;
}

/* A value that is not valid UTF-8 (a file name is any bytes) is kept with
 * each byte above 0x7f written as \xNN, so that the log takes it: an
 * attacker must not be able to keep an event out of the log by its name. */
static const char *record_value(RecordFields *c, const char *value) {
        size_t left = sizeof(c->buf) - c->used;
        char *p = c->buf + c->used, *q = p;

        if (utf8_is_valid(value, strlen(value)))
                return record_text(c, "%s", value);
        for (const unsigned char *v = (const unsigned char *) value; *v && left > 5; v++) {
                int n = *v < 0x80 ? snprintf(q, left, "%c", *v) : snprintf(q, left, "\\x%02x", *v);

                q += n;
                left -= (size_t) n;
        }
        if (left == 0)
                return NULL;
        *q = 0;
        c->used += (size_t) (q - p) + 1;
        return p;
}

static void record_field(RecordFields *c, const char *name, const char *value) {
        const char *full, *v;

        if (!value || c->n >= ELEMENTSOF(c->f))
                return;
        full = record_text(c, "ENDPOINTD_%s", name);
        v = record_value(c, value);
        if (!full || !v)
                return;
        c->f[c->n++] = (AuditField){ full, v };
}

static void record_fields(const Event *e, RecordFields *c) {
        char num[32];

        c->used = c->n = 0;
        if (e->subject.uid != UID_INVALID)
                record_field(c, "UID", (snprintf(num, sizeof(num), "%u", (unsigned) e->subject.uid), num));
        if (e->subject.gid != GID_INVALID)
                record_field(c, "GID", (snprintf(num, sizeof(num), "%u", (unsigned) e->subject.gid), num));
        if (e->subject.pid > 0)
                record_field(c, "PID", (snprintf(num, sizeof(num), "%d", (int) e->subject.pid), num));
        record_field(c, "EXE", e->subject.exe);
        record_field(c, "BUS_NAME", e->subject.bus_name);
        if (!isempty(e->object))
                record_field(c, "OBJECT", e->object);
        record_field(c, "RESULT", e->result < 0 ? "failed" : "ok");
        for (size_t i = 0; i < e->n_fields; i++)
                record_field(c, e->fields[i].name, e->fields[i].value);
}

static void events_to_journal(const Event *e) {
        const EventKindInfo *info = &kinds[e->kind];
        const char *ptrs[RECORD_FIELDS_MAX + 2];
        char event[AUDIT_KIND_MAX + 32], seq[64];
        RecordFields c, j;
        size_t n = 0;

        record_fields(e, &c);
        j.used = j.n = 0;
        (void) snprintf(event, sizeof(event), "ENDPOINTD_EVENT=%s", info->name);
        ptrs[n++] = event;
        for (size_t i = 0; i < c.n; i++) {
                const char *f = record_text(&j, "%s=%s", c.f[i].name, c.f[i].value);

                if (f)
                        ptrs[n++] = f;
        }
        if (e->seq > 0) {
                (void) snprintf(seq, sizeof(seq), "ENDPOINTD_SEQ=%llu", (unsigned long long) e->seq);
                ptrs[n++] = seq;
        }
        log_send_event(info->priority, -e->result, e->code_file, (int) e->code_line, e->code_func,
                       info->message_id, ptrs, n, e->message);
}

int events_record_audit(const Event *e, uint64_t *ret_seq, void *userdata) {
        AuditLog *log = userdata;
        char errno_text[16];
        RecordFields c;
        AuditEntry entry = {
                .kind = kinds[e->kind].name,
                .realtime_usec = e->realtime,
                .monotonic_usec = e->monotonic,
                .fields = c.f,
        };

        record_fields(e, &c);
        if (e->result < 0 && c.n < ELEMENTSOF(c.f)) {
                (void) snprintf(errno_text, sizeof(errno_text), "%d", -e->result);
                c.f[c.n++] = (AuditField){ "ERRNO", errno_text };
        }
        if (c.n < ELEMENTSOF(c.f)) {
                const char *message = record_value(&c, e->message);

                if (message)
                        c.f[c.n++] = (AuditField){ "MESSAGE", message };
        }
        entry.n_fields = c.n;
        return audit_log_append(log, &entry, ret_seq);
}

uint64_t events_emit_internal(Events *ev, EventKind kind, const EventSubject *subject, const char *object,
                              int result, const EventField *fields, const char *file, unsigned line,
                              const char *func, const char *format, ...) {
        EventField own[EVENT_FIELDS_MAX];
        char message[1024];
        va_list ap;
        Event e = {
                .kind = kind,
                .realtime = now_usec(CLOCK_REALTIME),
                .monotonic = now_usec(CLOCK_MONOTONIC),
                .subject = subject ? *subject : (EventSubject){ .uid = UID_INVALID, .gid = GID_INVALID },
                .object = strempty(object),
                .result = result > 0 ? -result : result,
                .fields = own,
                .message = message,
                .code_file = file,
                .code_line = line,
                .code_func = func,
        };

        if (kind < 0 || kind >= _EVENT_KIND_MAX)
                return 0;
        /* NULL values are left out; at most EVENT_FIELDS_MAX. */
        for (size_t i = 0; fields && fields[i].name && e.n_fields < ELEMENTSOF(own); i++)
                if (fields[i].value)
                        own[e.n_fields++] = fields[i];

        va_start(ap, format);
        (void) vsnprintf(message, sizeof(message), format, ap);
        va_end(ap);

        if (ev) {
                ev->n_events++;
                if (ev->record) {
                        int r = ev->record(&e, &e.seq, ev->record_userdata);

                        if (r < 0) {
                                ev->n_record_failures++;
                                if (r != ev->last_record_error)
                                        log_error_errno(r,
                                                        "Failed to record a %s event in the audit log: %m",
                                                        kinds[kind].name);
                                ev->last_record_error = r;
                        } else
                                ev->last_record_error = 0;
                }
        }
        if (!ev || !ev->no_journal)
                events_to_journal(&e);
        if (ev && ev->notify)
                ev->notify(&e, ev->notify_userdata);
        return e.seq;
}
