/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/eventfd.h>

#include "audit-log.h"
#include "bus-audit.h"
#include "bus-auth.h"
#include "bus-errors.h"
#include "bus-subscribe.h"
#include "endpointd/bus.h"
#include "log.h"
#include "tpm-nv.h"
#include "tpm.h"

/* The TPM component may be left out of a build; then nothing is signed. */
#pragma weak tpm_device_key
#pragma weak tpm_nv_counter_read

/* One record as it crosses the bus: the arguments of Event, a struct of
 * ReadEvents' array. */
typedef struct WireRecord {
        uint64_t seq, realtime, monotonic;
        const char *kind;
        uint32_t uid; /* UINT32_MAX: not known */
        uint32_t pid; /* 0: not known */
        const char *object;
        const char *result; /* "ok" or "failed" */
        const AuditField *fields;
        size_t n_fields;
} WireRecord;

#define WIRE_FIELDS_MAX (AUDIT_FIELDS_MAX + 8U)

static int wire_append(sd_bus_message *msg, const WireRecord *w) {
        int r;

        r = sd_bus_message_append(msg, "tttsuuss", w->seq, w->realtime, w->monotonic, w->kind, w->uid,
                                  w->pid, w->object, w->result);
        if (r >= 0)
                r = sd_bus_message_open_container(msg, 'a', "{ss}");
        for (size_t i = 0; r >= 0 && i < w->n_fields; i++)
                r = sd_bus_message_append(msg, "{ss}", w->fields[i].name, w->fields[i].value);
        if (r >= 0)
                r = sd_bus_message_close_container(msg);
        return r;
}

/* About how many bytes w takes in a message (padding included). */
static size_t wire_size(const WireRecord *w) {
        size_t n = 64 + strlen(w->kind) + strlen(w->object) + strlen(w->result);

        for (size_t i = 0; i < w->n_fields; i++)
                n += 16 + strlen(w->fields[i].name) + strlen(w->fields[i].value);
        return n;
}

/* A record of the log: the common fields (ENDPOINTD_UID=, ..., as the
 * journal names them; a name without the prefix is taken as well) go to
 * their places, the rest, without the prefix, to the fields. */
static void wire_from_record(const AuditRecord *rec, AuditField fields[WIRE_FIELDS_MAX], WireRecord *ret) {
        WireRecord w = { .seq = rec->seq,
                         .realtime = rec->realtime_usec,
                         .monotonic = rec->monotonic_usec,
                         .kind = rec->kind,
                         .uid = UINT32_MAX,
                         .object = "",
                         .result = "ok",
                         .fields = fields };

        for (size_t i = 0; i < rec->n_fields; i++) {
                const char *name = rec->fields[i].name;
                const char *value = rec->fields[i].value;

                if (strncmp(name, "ENDPOINTD_", 10) == 0)
                        name += 10;

                if (streq(name, "UID"))
                        (void) parse_uint32(value, &w.uid);
                else if (streq(name, "PID"))
                        (void) parse_uint32(value, &w.pid);
                else if (streq(name, "OBJECT"))
                        w.object = value;
                else if (streq(name, "RESULT"))
                        w.result = value;
                else if (streq(name, "EVENT") || streq(name, "SEQ"))
                        continue; /* the kind and seq have their places */
                else if (w.n_fields < WIRE_FIELDS_MAX)
                        fields[w.n_fields++] = (AuditField){ name, value };
        }
        *ret = w;
}

typedef struct ReadState {
        sd_bus_message *reply;
        size_t bytes;
        int error;
} ReadState;

static int on_record(const AuditRecord *rec, void *userdata) {
        ReadState *st = userdata;
        AuditField fields[WIRE_FIELDS_MAX];
        WireRecord w;
        size_t n;
        int r;

        wire_from_record(rec, fields, &w);
        n = wire_size(&w);
        /* At least one record per reply, whatever its size: it is bounded
         * by AUDIT_RECORD_MAX, far below the bus's limit. */
        if (st->bytes > 0 && st->bytes + n > BUS_AUDIT_REPLY_MAX)
                return 1;
        st->bytes += n;
        r = sd_bus_message_open_container(st->reply, 'r', "tttsuussa{ss}");
        if (r >= 0)
                r = wire_append(st->reply, &w);
        if (r >= 0)
                r = sd_bus_message_close_container(st->reply);
        return r < 0 ? (st->error = r) : 0;
}

static int audit_dir(Manager *m, char **ret) {
        return asprintf(ret, "%s/%s", m->config->state_dir, BUS_AUDIT_SUBDIR) < 0 ? -ENOMEM : 0;
}

static int method_read_events(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) char *dir = NULL;
        Manager *m = userdata;
        ReadState st = {};
        uint64_t from;
        uint32_t max;
        int r;

        r = sd_bus_message_read(msg, "tu", &from, &max);
        if (r < 0)
                return r;
        r = bus_authorize(m, msg, NULL, error);
        if (r < 0)
                return r;
        if (max == 0 || max > BUS_AUDIT_READ_MAX)
                max = BUS_AUDIT_READ_MAX;
        r = audit_dir(m, &dir);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(tttsuussa{ss})");
        if (r < 0)
                return r;
        st.reply = reply;
        r = audit_log_read(dir, from, max, on_record, &st);
        if (st.error < 0)
                return st.error;
        if (r == -ENOENT)
                return bus_error_set_errnof(error, ENOENT, "There is no audit log (%s).", dir);
        if (r < 0)
                return bus_error_set_errnof(error, r, "Failed to read the audit log: %m");
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* --- Verify() on a thread ----------------------------------------------------
 *
 * The verifier reads the whole log (up to the total size cap): that is not
 * done on the loop, which must answer other calls meanwhile. One
 * verification runs at a time; callers that come while it runs get its
 * result too. The verifier only reads the files, and may run while the
 * loop appends. */

typedef struct AuditVerifyJob {
        char *dir;
        EVP_PKEY *pub; /* a reference of our own; NULL: signatures not checked */
        uint64_t counter; /* the TPM's audit counter at the call */
        bool have_counter;
        AuditVerifyResult result;
        int r;
        int event_fd;
        pthread_t thread;
        bool joinable;
        sd_event_source *source;
        sd_bus_message *waiting[BUS_AUDIT_VERIFY_WAITERS_MAX];
        size_t n_waiting;
} AuditVerifyJob;

static AuditVerifyJob *verify_job_free(AuditVerifyJob *j) {
        if (!j)
                return NULL;
        if (j->joinable)
                (void) pthread_join(j->thread, NULL);
        sd_event_source_disable_unref(j->source);
        j->event_fd = safe_close(j->event_fd);
        for (size_t i = 0; i < j->n_waiting; i++)
                sd_bus_message_unref(j->waiting[i]);
        EVP_PKEY_free(j->pub);
        free(j->dir);
        free(j);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(AuditVerifyJob *, verify_job_free);

static void *verify_thread(void *userdata) {
        AuditVerifyJob *j = userdata;

        j->r = audit_verify(j->dir, j->pub, j->have_counter ? &j->counter : NULL, &j->result);
        (void) eventfd_write(j->event_fd, 1);
        return NULL;
}

static void verify_reply(AuditVerifyJob *j, sd_bus_message *msg) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        const AuditVerifyResult *res = &j->result;
        char reason[sizeof(res->reason) + 160];

        if (j->r == -ENOENT)
                (void) bus_error_set_errnof(&e, ENOENT, "There is no audit log (%s).", j->dir);
        else if (j->r < 0)
                (void) bus_error_set_errnof(&e, j->r, "Failed to verify the audit log: %s", strerror(-j->r));
        if (j->r < 0) {
                (void) sd_bus_reply_method_error(msg, &e);
                return;
        }
        if (res->ok)
                (void) snprintf(reason, sizeof(reason),
                                "%" PRIu64 " records (seq %" PRIu64 "-%" PRIu64 "), %" PRIu64
                                " checkpoints, signatures %s, counter %s%s%s",
                                res->records, res->first_seq, res->last_seq, res->checkpoints,
                                res->signatures_checked ? "checked" : "not checked (no TPM)",
                                j->have_counter ? "checked" : "not checked (no TPM)",
                                *res->reason ? "; " : "", res->reason);
        else
                (void) snprintf(reason, sizeof(reason), "%s", res->reason);
        (void) sd_bus_reply_method_return(msg, "bts", res->ok, res->ok ? UINT64_C(0) : res->first_bad_seq,
                                          reason);
}

static int on_verify_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        _cleanup_(verify_job_freep) AuditVerifyJob *j = TAKE_PTR(m->audit_verify);

        for (size_t i = 0; i < j->n_waiting; i++)
                verify_reply(j, j->waiting[i]);
        return 0;
}

static int verify_start(Manager *m, AuditVerifyJob **ret) {
        _cleanup_(verify_job_freep) AuditVerifyJob *j = calloc(1, sizeof(AuditVerifyJob));
        EVP_PKEY *pub;
        int r;

        if (!j)
                return -ENOMEM;
        j->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (j->event_fd < 0)
                return -errno;
        r = audit_dir(m, &j->dir);
        if (r < 0)
                return r;
        /* The log's anchor is the TPM: its device key signs the checkpoints
         * and its audit counter counts them (a whole log rolled back to an
         * older copy is behind it). Without the TPM, neither is checked,
         * and the reply says so. */
        pub = m->tpm && tpm_device_key ? tpm_device_key(m->tpm) : NULL;
        if (pub && EVP_PKEY_up_ref(pub) == 1)
                j->pub = pub;
        j->have_counter =
                m->tpm && tpm_nv_counter_read && tpm_nv_counter_read(m->tpm, TPM_NV_AUDIT, &j->counter) >= 0;
        r = sd_event_add_io(m->event, &j->source, j->event_fd, EPOLLIN, on_verify_done, m);
        if (r < 0)
                return r;
        r = -pthread_create(&j->thread, NULL, verify_thread, j);
        if (r < 0)
                return r;
        j->joinable = true;
        *ret = TAKE_PTR(j);
        return 0;
}

static int method_verify(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = bus_authorize(m, msg, NULL, error);
        if (r < 0)
                return r;
        if (!m->audit_verify) {
                r = verify_start(m, &m->audit_verify);
                if (r < 0)
                        return bus_error_set_errnof(error, r, "Failed to start verifying the audit log: %m");
        }
        if (m->audit_verify->n_waiting >= BUS_AUDIT_VERIFY_WAITERS_MAX)
                return bus_error_set_errnof(error, EBUSY, "%u callers wait for a verification already.",
                                            BUS_AUDIT_VERIFY_WAITERS_MAX);
        m->audit_verify->waiting[m->audit_verify->n_waiting++] = sd_bus_message_ref(msg);
        return 1;
}

void bus_audit_stop(Manager *m) {
        m->audit_verify = verify_job_free(m->audit_verify);
}

/* --- subscriptions and the Event signal ------------------------------------ */

/* s itself when it is valid UTF-8, else a copy in buf with each byte above
 * 0x7f as \xNN (cut to fit). */
static const char *wire_text(const char *s, char *buf, size_t size) {
        size_t n = 0;

        if (utf8_is_valid(s, strlen(s)))
                return s;
        for (const unsigned char *p = (const unsigned char *) s; *p && n + 5 < size; p++)
                n += (size_t) (*p < 0x80 ? snprintf(buf + n, size - n, "%c", *p)
                                         : snprintf(buf + n, size - n, "\\x%02x", *p));
        buf[n] = 0;
        return buf;
}

static int event_append(sd_bus_message *s, void *userdata) {
        return wire_append(s, userdata);
}

void bus_audit_event(Manager *m, const Event *e) {
        AuditField fields[EVENT_FIELDS_MAX + 5];
        char gid[16], err[16], text[EVENT_FIELDS_MAX + 2][1024];
        WireRecord w = { .seq = e->seq,
                         .realtime = e->realtime,
                         .monotonic = e->monotonic,
                         .kind = event_kind_to_string(e->kind),
                         .uid = e->subject.uid == UID_INVALID ? UINT32_MAX : (uint32_t) e->subject.uid,
                         .pid = e->subject.pid > 0 ? (uint32_t) e->subject.pid : 0,
                         .object = e->object,
                         .result = e->result < 0 ? "failed" : "ok",
                         .fields = fields };

        if (bus_subscriptions_count(m->audit_subscriptions) == 0)
                return;
        /* D-Bus strings are UTF-8; the log keeps other bytes as \xNN, and
         * so does the signal. */
        for (size_t i = 0; i < e->n_fields && i < EVENT_FIELDS_MAX; i++)
                fields[w.n_fields++] =
                        (AuditField){ e->fields[i].name,
                                      wire_text(e->fields[i].value, text[i], sizeof(text[i])) };
        w.object = wire_text(e->object, text[EVENT_FIELDS_MAX], sizeof(text[EVENT_FIELDS_MAX]));
        if (e->subject.gid != GID_INVALID) {
                (void) snprintf(gid, sizeof(gid), "%u", (unsigned) e->subject.gid);
                fields[w.n_fields++] = (AuditField){ "GID", gid };
        }
        if (e->subject.exe)
                fields[w.n_fields++] = (AuditField){ "EXE", e->subject.exe };
        if (e->subject.bus_name)
                fields[w.n_fields++] = (AuditField){ "BUS_NAME", e->subject.bus_name };
        if (e->result < 0) {
                (void) snprintf(err, sizeof(err), "%d", -e->result);
                fields[w.n_fields++] = (AuditField){ "ERRNO", err };
        }
        fields[w.n_fields++] =
                (AuditField){ "MESSAGE", wire_text(strempty(e->message), text[EVENT_FIELDS_MAX + 1],
                                                   sizeof(text[EVENT_FIELDS_MAX + 1])) };
        bus_subscriptions_emit(m->audit_subscriptions, "Event", event_append, &w);
}

#define AUDIT_RECORD_ARGS                                                                                   \
        "t", seq, "t", realtime, "t", monotonic, "s", kind, "u", uid, "u", pid, "s", object, "s", result,   \
                "a{ss}", fields

const sd_bus_vtable audit_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("ReadEvents", SD_BUS_ARGS("t", from_seq, "u", max),
                                SD_BUS_RESULT("a(tttsuussa{ss})", events), method_read_events,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Verify", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("b", ok, "t", first_bad_seq, "s", reason), method_verify,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Subscribe", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, bus_method_subscribe,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Unsubscribe", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, bus_method_unsubscribe,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("Event", SD_BUS_ARGS(AUDIT_RECORD_ARGS), 0),
        SD_BUS_VTABLE_END
};
