/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* endpointctl audit show [--since=TIME] [--kind=KIND] [--follow] | monitor |
 * violations --follow
 *
 * Following: the verb subscribes (Audit1 and/or Integrity1.Subscribe) and
 * prints each signal as one line (or one JSON object per line with --json)
 * until SIGINT or SIGTERM (exit 0) or until endpointd leaves the bus (exit
 * 3). Only signals whose sender is the unique name that answered Subscribe()
 * count: a signal addressed to us passes any match rule, so any client
 * could send one. */

#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "audit-wire.h"
#include "ctl-bus.h"
#include "ctl.h"
#include "endpointd/bus.h"
#include "log.h"
#include "table.h"

int parse_since(const char *s, usec_t *ret) {
        static const char *const formats[] = { "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
                                               "%Y-%m-%dT%H:%M", "%Y-%m-%d" };
        bool utc = arg_utc;
        char buf[64];
        size_t n;

        if (s[0] == '@') {
                uint64_t sec;

                if (parse_uint64(s + 1, UINT64_MAX / USEC_PER_SEC, &sec) < 0)
                        return -EINVAL;
                *ret = sec * USEC_PER_SEC;
                return 0;
        }
        if (s[0] == '-') {
                usec_t span, now = now_usec(CLOCK_REALTIME);

                if (parse_timespan(s + 1, &span) < 0)
                        return -EINVAL;
                *ret = span < now ? now - span : 1;
                return 0;
        }
        n = strlen(s);
        if (n == 0 || n >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, n + 1);
        if (buf[n - 1] == 'Z') {
                buf[n - 1] = 0;
                utc = true;
        }
        for (size_t i = 0; i < ELEMENTSOF(formats); i++) {
                struct tm tm = { .tm_isdst = -1 };
                const char *end = strptime(buf, formats[i], &tm);
                time_t t;

                if (!end || *end)
                        continue;
                t = utc ? timegm(&tm) : mktime(&tm);
                if (t < 0)
                        return -EINVAL;
                *ret = (usec_t) t * USEC_PER_SEC;
                return 0;
        }
        return -EINVAL;
}

/* --- records of the audit log ----------------------------------------------- */

typedef struct AuditRec {
        uint64_t seq, realtime;
        const char *kind, *subject, *object, *result;
        char *message; /* owned; NULL: none */
        uint32_t uid, pid; /* from subject; UINT32_MAX, 0: not known */
        json_object *fields; /* owned: detail's pairs */
} AuditRec;

static void audit_rec_done(AuditRec *r) {
        json_object_put(r->fields);
        r->fields = NULL;
        r->message = mfree(r->message);
}

/* A value that is not UTF-8 stays escaped in JSON (audit-wire.h). */
static int on_detail_pair(const char *name, const char *value, void *userdata) {
        AuditRec *rec = userdata;
        json_object *v;

        if (streq(name, "MESSAGE") && !rec->message) {
                rec->message = strdup(value);
                if (!rec->message)
                        return -ENOMEM;
        }
        v = json_object_new_string(utf8_is_valid(value, strlen(value)) ? value : "(not UTF-8)");
        if (!v || json_object_object_add(rec->fields, name, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static int on_subject_pair(const char *name, const char *value, void *userdata) {
        AuditRec *rec = userdata;

        if (streq(name, "uid"))
                (void) parse_uint32(value, &rec->uid);
        else if (streq(name, "pid"))
                (void) parse_uint32(value, &rec->pid);
        return 0;
}

/* Reads the record at msg's position (the Event arguments, or the inside
 * of one struct of ReadEvents). -EBADMSG: a subject or detail not of the
 * documented form. */
static int audit_rec_read(sd_bus_message *msg, AuditRec *ret) {
        AuditRec rec = { .uid = UINT32_MAX };
        const char *detail;
        int r;

        r = sd_bus_message_read(msg, "ttsssss", &rec.seq, &rec.realtime, &rec.kind, &rec.subject, &rec.object,
                                &rec.result, &detail);
        if (r < 0)
                return r;
        rec.fields = json_object_new_object();
        if (!rec.fields)
                return -ENOMEM;
        r = audit_wire_parse(rec.subject, on_subject_pair, &rec);
        if (r >= 0)
                r = audit_wire_parse(detail, on_detail_pair, &rec);
        if (r < 0) {
                audit_rec_done(&rec);
                return r;
        }
        *ret = rec;
        return 0;
}

static bool audit_rec_wanted(const AuditRec *rec) {
        return (!arg_kind || streq(rec->kind, arg_kind)) && (arg_since == 0 || rec->realtime >= arg_since);
}

/* The record as a JSON object; takes rec's fields. */
static json_object *audit_rec_json(AuditRec *rec) {
        json_object *o = json_object_new_object();

        if (!o || json_object_object_add(o, "seq", json_object_new_uint64(rec->seq)) < 0 ||
            json_object_object_add(o, "realtime", json_object_new_uint64(rec->realtime)) < 0 ||
            json_object_object_add(o, "kind", json_object_new_string(rec->kind)) < 0 ||
            json_object_object_add(o, "subject", json_object_new_string(rec->subject)) < 0 ||
            json_object_object_add(o, "uid",
                                   rec->uid == UINT32_MAX ? NULL : json_object_new_uint64(rec->uid)) < 0 ||
            json_object_object_add(o, "pid", rec->pid == 0 ? NULL : json_object_new_uint64(rec->pid)) < 0 ||
            json_object_object_add(o, "object", json_object_new_string(rec->object)) < 0 ||
            json_object_object_add(o, "result", json_object_new_string(rec->result)) < 0 ||
            json_object_object_add(o, "fields", TAKE_PTR(rec->fields)) < 0) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

/* One JSON object on one line, flushed: for following. */
static int json_line(json_object *o) {
        const char *s = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : NULL;
        int r = s ? 0 : -ENOMEM;

        if (s) {
                fputs(s, stdout);
                fputc('\n', stdout);
                fflush(stdout);
        }
        json_object_put(o);
        return r;
}

/* One line for people: "TIME #SEQ KIND uid=U OBJECT RESULT: MESSAGE". */
static int audit_rec_line(const AuditRec *rec) {
        _cleanup_(freep) char *when = format_timestamp(rec->realtime);
        bool ok = streq(rec->result, "ok");
        char uid[32] = "";

        if (!when)
                return -ENOMEM;
        if (rec->uid != UINT32_MAX)
                (void) snprintf(uid, sizeof(uid), " uid=%" PRIu32, rec->uid);
        printf("%s #%" PRIu64 " %s%s%s%s%s%s%s%s\n", when, rec->seq, rec->kind, uid, *rec->object ? " " : "",
               rec->object, ok ? "" : " ", ok ? "" : rec->result, rec->message ? ": " : "",
               strempty(rec->message));
        fflush(stdout);
        return 0;
}

/* --- following ------------------------------------------------------------------ */

/* A JSON object that could not be filled: dropped (json_line() then reports
 * the lack of memory). */
static json_object *drop(json_object *o) {
        json_object_put(o);
        return NULL;
}

typedef enum FollowWhat {
        FOLLOW_AUDIT = 1U << 0,
        FOLLOW_INTEGRITY = 1U << 1,
} FollowWhat;

typedef struct Follow {
        sd_event *event;
        unsigned subscribed; /* FollowWhat */
        char owner[256]; /* the daemon's unique name */
        uint64_t last_seq; /* audit records up to this one were printed already */
        bool violations_only;
        int result;
} Follow;

static bool follow_genuine(const Follow *f, sd_bus_message *msg) {
        return f->owner[0] && streq_ptr(sd_bus_message_get_sender(msg), f->owner);
}

static int follow_end(Follow *f, int result) {
        f->result = result;
        return sd_event_exit(f->event, 0);
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        return follow_end(userdata, 0);
}

static int on_daemon_gone(Follow *f) {
        log_error("endpointd left the bus.");
        return follow_end(f, -EHOSTUNREACH);
}

static int on_name_owner_changed(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *name, *old, *new;

        if (sd_bus_message_read(msg, "sss", &name, &old, &new) >= 0 && streq(name, ENDPOINTD_BUS_NAME) &&
            isempty(new))
                return on_daemon_gone(userdata);
        return 0;
}

static int on_disconnected(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return on_daemon_gone(userdata);
}

static int on_audit_event(sd_bus_message *msg, void *userdata) {
        Follow *f = userdata;
        AuditRec rec;
        int r;

        if (!follow_genuine(f, msg) || audit_rec_read(msg, &rec) < 0)
                return 0;
        /* Already printed from the log (the subscription began before it
         * was read). */
        if (rec.seq != 0 && rec.seq <= f->last_seq) {
                audit_rec_done(&rec);
                return 0;
        }
        if (rec.seq != 0)
                f->last_seq = rec.seq;
        if (!audit_rec_wanted(&rec)) {
                audit_rec_done(&rec);
                return 0;
        }
        r = arg_json ? json_line(audit_rec_json(&rec)) : audit_rec_line(&rec);
        audit_rec_done(&rec);
        return r < 0 ? follow_end(f, log_oom()) : 0;
}

static int on_audit_event_signal(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return on_audit_event(msg, userdata);
}

/* Integrity1 signals, one line each: Violation always; ScanProgress and
 * ScanFinished unless only violations are followed. */
/* A JSON line {"signal": NAME, KEY: VALUE, ...} from pairs of a key and a
 * json_object, NULL-terminated; a NULL value (no memory) drops the line. */
static int signal_json_line(const char *name, ...) __attribute__((sentinel));
static int signal_json_line(const char *name, ...) {
        json_object *o = json_object_new_object();
        bool ok = o && json_object_object_add(o, "signal", json_object_new_string(name)) >= 0;
        const char *key;
        va_list ap;

        va_start(ap, name);
        while ((key = va_arg(ap, const char *))) {
                json_object *v = va_arg(ap, json_object *);

                if (!ok || !v || json_object_object_add(o, key, v) < 0) {
                        json_object_put(v);
                        ok = false;
                }
        }
        va_end(ap);
        return json_line(ok ? o : drop(o));
}

static int on_integrity_signal(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Follow *f = userdata;
        const char *member = sd_bus_message_get_member(msg);
        _cleanup_(freep) char *when = format_timestamp(now_usec(CLOCK_REALTIME));
        const char *path, *kind, *detail, *state;
        uint64_t id, fd, ft, bd, bt;
        uint32_t n;
        int r = 0;

        if (!follow_genuine(f, msg) || !when)
                return 0;
        if (streq_ptr(member, "Violation") && sd_bus_message_read(msg, "sss", &path, &kind, &detail) >= 0) {
                if (arg_json)
                        r = signal_json_line(member, "path", json_object_new_string(path), "kind",
                                             json_object_new_string(kind), "detail",
                                             json_object_new_string(detail), (const char *) NULL);
                else
                        printf("%s violation %s %s: %s\n", when, kind, path, detail);
        } else if (f->violations_only)
                return 0;
        else if (streq_ptr(member, "ScanFinished") &&
                 sd_bus_message_read(msg, "tsu", &id, &state, &n) >= 0) {
                if (arg_json)
                        r = signal_json_line(member, "scan", json_object_new_uint64(id), "state",
                                             json_object_new_string(state), "violations",
                                             json_object_new_uint64(n), (const char *) NULL);
                else
                        printf("%s scan %" PRIu64 " finished: %s, %" PRIu32 " violation%s\n", when, id,
                               state, n, n == 1 ? "" : "s");
        } else if (streq_ptr(member, "ScanProgress") &&
                   sd_bus_message_read(msg, "ttttt", &id, &fd, &ft, &bd, &bt) >= 0) {
                if (arg_json)
                        r = signal_json_line(member, "scan", json_object_new_uint64(id), "filesDone",
                                             json_object_new_uint64(fd), "filesTotal",
                                             json_object_new_uint64(ft), "bytesDone",
                                             json_object_new_uint64(bd), "bytesTotal",
                                             json_object_new_uint64(bt), (const char *) NULL);
                else
                        printf("%s scan %" PRIu64 " progress: %" PRIu64 "/%" PRIu64 " files\n", when, id, fd,
                               ft);
        }
        fflush(stdout);
        return r < 0 ? follow_end(f, log_oom()) : 0;
}

/* Sets up the loop, the end conditions and the subscriptions to what
 * (FollowWhat). An interface whose Subscribe() is denied is left out; if
 * all are, -EACCES (printed). */
static int follow_setup(sd_bus *bus, Follow *f, unsigned what) {
        static const struct {
                FollowWhat what;
                const char *interface;
        } ifaces[] = { { FOLLOW_AUDIT, ENDPOINTD_IFACE_AUDIT },
                       { FOLLOW_INTEGRITY, ENDPOINTD_IFACE_INTEGRITY } };
        _cleanup_(sd_bus_error_free) sd_bus_error denied = SD_BUS_ERROR_NULL;
        sigset_t mask;
        int r;

        /* A shell starts a background job with SIGINT ignored; an ignored
         * signal is never queued, so the signalfd would not see it. Blocked
         * first, the default disposition cannot kill us meanwhile. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 || signal(SIGINT, SIG_DFL) == SIG_ERR ||
            signal(SIGTERM, SIG_DFL) == SIG_ERR)
                return log_error_errno(errno, "Failed to block signals: %m");
        r = sd_event_default(&f->event);
        if (r >= 0)
                r = sd_event_add_signal(f->event, NULL, SIGINT, on_exit_signal, f);
        if (r >= 0)
                r = sd_event_add_signal(f->event, NULL, SIGTERM, on_exit_signal, f);
        if (r >= 0)
                r = sd_bus_attach_event(bus, f->event, SD_EVENT_PRIORITY_NORMAL);
        /* Matches before Subscribe(): nothing sent after it is missed. */
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                        "org.freedesktop.DBus", "NameOwnerChanged", on_name_owner_changed,
                                        f);
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, "org.freedesktop.DBus.Local", NULL,
                                        "org.freedesktop.DBus.Local", "Disconnected", on_disconnected, f);
        if (r >= 0 && (what & FOLLOW_AUDIT))
                r = sd_bus_match_signal(bus, NULL, ENDPOINTD_BUS_NAME, ENDPOINTD_OBJECT_PATH,
                                        ENDPOINTD_IFACE_AUDIT, "Event", on_audit_event_signal, f);
        if (r >= 0 && (what & FOLLOW_INTEGRITY))
                r = sd_bus_match_signal(bus, NULL, ENDPOINTD_BUS_NAME, ENDPOINTD_OBJECT_PATH,
                                        ENDPOINTD_IFACE_INTEGRITY, NULL, on_integrity_signal, f);
        if (r < 0)
                return log_error_errno(r, "Failed to set up following: %m");
        (void) sd_bus_set_exit_on_disconnect(bus, false);

        for (size_t i = 0; i < ELEMENTSOF(ifaces); i++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                const char *owner;

                if (!(what & ifaces[i].what))
                        continue;
                r = sd_bus_call_method(bus, ENDPOINTD_BUS_NAME, ENDPOINTD_OBJECT_PATH, ifaces[i].interface,
                                       "Subscribe", &error, &reply, NULL);
                if (r < 0 && sd_bus_error_has_name(&error, SD_BUS_ERROR_ACCESS_DENIED)) {
                        sd_bus_error_free(&denied);
                        (void) sd_bus_error_copy(&denied, &error);
                        continue;
                }
                if (r < 0)
                        return ctl_bus_error(r, &error, "subscribe to the daemon's signals");
                owner = sd_bus_message_get_sender(reply);
                if (!owner || strlen(owner) >= sizeof(f->owner) || (f->owner[0] && !streq(owner, f->owner)))
                        return log_error_errno(EBADMSG,
                                               "The reply to Subscribe() names no or another sender.");
                strcpy(f->owner, owner);
                f->subscribed |= ifaces[i].what;
        }
        if (f->subscribed == 0)
                return ctl_bus_error(-EACCES, &denied, "subscribe to the daemon's signals");
        return 0;
}

static int follow_run(Follow *f) {
        int r = sd_event_loop(f->event);

        if (r < 0)
                return log_error_errno(r, "Failed to follow the daemon: %m");
        return f->result;
}

static void follow_done(sd_bus *bus, Follow *f) {
        (void) sd_bus_detach_event(bus);
        f->event = sd_event_unref(f->event);
}

/* --- the verbs ---------------------------------------------------------------- */

typedef struct ShowState {
        Table *table;
        json_object *array;
        uint64_t last_seq;
        size_t n;
} ShowState;

/* Reads the log from seq 1 in pages, printing (--follow, --json: as JSON
 * lines) or collecting what --since and --kind let through. */
static int audit_read_all(sd_bus *bus, ShowState *st) {
        uint64_t from = 1;

        for (;;) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                size_t got = 0;
                int r;

                r = ctl_call(bus, ENDPOINTD_IFACE_AUDIT, "ReadEvents", &reply, "read the audit log", "tu",
                             from, (uint32_t) 1000);
                if (r != 0)
                        return r;
                r = sd_bus_message_enter_container(reply, 'a', "(ttsssss)");
                while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'r', "ttsssss")) > 0) {
                        AuditRec rec;

                        r = audit_rec_read(reply, &rec);
                        if (r < 0)
                                break;
                        r = sd_bus_message_exit_container(reply);
                        got++;
                        st->last_seq = rec.seq;
                        if (r >= 0 && audit_rec_wanted(&rec)) {
                                st->n++;
                                if (arg_follow)
                                        r = arg_json ? json_line(audit_rec_json(&rec))
                                                     : audit_rec_line(&rec);
                                else if (st->array)
                                        r = json_object_array_add(st->array, audit_rec_json(&rec));
                                else if ((r = table_add(st->table, CELL_UINT64, rec.seq)) >= 0 &&
                                         (r = table_add(st->table, CELL_TIMESTAMP, rec.realtime)) >= 0 &&
                                         (r = table_add(st->table, CELL_STRING, rec.kind)) >= 0)
                                        r = table_add(st->table, CELL_STRING, rec.message ?: rec.object);
                        }
                        audit_rec_done(&rec);
                }
                if (r < 0)
                        return log_error_errno(r, "Failed to parse the audit log: %m");
                if (got == 0)
                        return 0;
                from = st->last_seq + 1;
        }
}

int verb_audit_show(int argc, char *argv[], void *userdata) {
        _cleanup_(table_freep) Table *t = NULL;
        sd_bus *bus = userdata;
        Follow f = {};
        ShowState st = {};
        int r;

        if (arg_follow) {
                r = follow_setup(bus, &f, FOLLOW_AUDIT);
                if (r >= 0)
                        r = audit_read_all(bus, &st);
                if (r >= 0) {
                        f.last_seq = st.last_seq;
                        r = follow_run(&f);
                }
                follow_done(bus, &f);
                return r;
        }
        if (arg_json)
                st.array = json_object_new_array();
        else
                st.table = t = table_new(false, "seq", "time", "kind", "event");
        if (!st.array && !st.table)
                return log_oom();
        r = audit_read_all(bus, &st);
        if (r < 0) {
                json_object_put(st.array);
                return r;
        }
        if (st.array)
                return json_print(st.array, stdout) < 0 ? log_oom() : 0;
        if (st.n == 0) {
                printf("No audit records%s.\n", arg_kind || arg_since ? " match" : "");
                return 0;
        }
        return table_print(t, arg_json, stdout) < 0 ? log_oom() : 0;
}

int verb_monitor(int argc, char *argv[], void *userdata) {
        sd_bus *bus = userdata;
        Follow f = {};
        int r;

        r = follow_setup(bus, &f, FOLLOW_AUDIT | FOLLOW_INTEGRITY);
        if (r >= 0) {
                if (!(f.subscribed & FOLLOW_AUDIT))
                        log_notice("Audit events need the permission audit.read; showing integrity signals "
                                   "only.");
                if (!(f.subscribed & FOLLOW_INTEGRITY))
                        log_notice(
                                "Integrity signals need the permission integrity.read; showing audit events "
                                "only.");
                r = follow_run(&f);
        }
        follow_done(bus, &f);
        return r;
}

int verb_violations_follow(sd_bus *bus) {
        Follow f = { .violations_only = true };
        int r;

        r = follow_setup(bus, &f, FOLLOW_INTEGRITY);
        if (r >= 0)
                r = follow_run(&f);
        follow_done(bus, &f);
        return r;
}
