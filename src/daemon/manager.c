/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "authority.h"
#include "bus-audit.h"
#include "bus-auth.h"
#include "bus-endpoint.h"
#include "bus-errors.h"
#include "bus-integrity.h"
#include "bus-keys.h"
#include "bus-policy.h"
#include "bus-subscribe.h"
#include "device.h"
#include "endpointd/bus.h"
#include "events.h"
#include "fileio.h"
#include "idle.h"
#include "integrity.h"
#include "log.h"
#include "manager.h"
#include "privs.h"
#include "sandbox.h"
#include "tpm-nv.h"
#include "tpm.h"

/* The TPM component may be left out of a build; then nothing is extended. */
#pragma weak tpm_pcr_extend
#pragma weak tpm_sign_digest
#pragma weak tpm_nv_counter_read
#pragma weak tpm_nv_counter_increment

/* --- the audit log ------------------------------------------------------------ */

/* The anchor of the audit log: the TPM device key signs checkpoints and
 * the TPM NV counter TPM_NV_AUDIT counts them. Without a TPM (absent, or
 * lost) the callbacks fail with -ENODEV: the log keeps appending, its open
 * epoch stays open, and the first checkpoint once the TPM is back (at once:
 * see on_event()) covers every record written meanwhile (endpointd-audit(5)).
 * A failure is handed to the device from a deferred source, never from
 * here: the device reports it as an event, and an event is a record, which
 * must not be appended while the log is in the middle of a checkpoint. */
static void audit_anchor_fail(Manager *m, int r) {
        if (r == -ENODEV && !m->tpm)
                return;
        m->audit_anchor_error = r;
        if (m->audit_anchor_failed)
                (void) sd_event_source_set_enabled(m->audit_anchor_failed, SD_EVENT_ONESHOT);
}

static int on_audit_anchor_failed(sd_event_source *s, void *userdata) {
        Manager *m = userdata;
        int r = m->audit_anchor_error;

        m->audit_anchor_error = 0;
        if (r < 0)
                (void) device_check_lost(m->device, r);
        return 0;
}

static int audit_counter_read(void *userdata, uint64_t *ret) {
        Manager *m = userdata;
        int r = m->tpm && tpm_nv_counter_read ? tpm_nv_counter_read(m->tpm, TPM_NV_AUDIT, ret) : -ENODEV;

        if (r < 0)
                audit_anchor_fail(m, r);
        return r;
}

static int audit_counter_increment(void *userdata, uint64_t *ret_new) {
        Manager *m = userdata;
        int r = m->tpm && tpm_nv_counter_increment ? tpm_nv_counter_increment(m->tpm, TPM_NV_AUDIT, ret_new)
                                                   : -ENODEV;

        if (r < 0)
                audit_anchor_fail(m, r);
        return r;
}

static int audit_sign(void *userdata, const uint8_t digest[32], uint8_t **ret_sig, size_t *ret_len) {
        Manager *m = userdata;
        int r = m->tpm && tpm_sign_digest ? tpm_sign_digest(m->tpm, digest, ret_sig, ret_len) : -ENODEV;

        if (r < 0)
                audit_anchor_fail(m, r);
        return r;
}

/* Arms the timer for the next timed checkpoint or sync (USEC_INFINITY:
 * nothing awaits one), or the defer source for a checkpoint due now: that
 * runs in the loop's next iteration, so the reply to the call whose record
 * made it due is sent before the TPM work. Called after every record.
 * After a checkpoint attempt (no_defer) only the timer: a checkpoint that
 * cannot be made now must not spin the loop. */
static void audit_timer_arm_full(Manager *m, bool no_defer) {
        usec_t now, checkpoint, next;

        if (!m->audit_log || !m->audit_timer)
                return;
        now = now_usec(CLOCK_MONOTONIC);
        checkpoint = m->audit_checkpoint_now ? now : audit_log_checkpoint_due(m->audit_log);
        if (checkpoint <= now && m->audit_due && !no_defer) {
                (void) sd_event_source_set_enabled(m->audit_due, SD_EVENT_ONESHOT);
                checkpoint = USEC_INFINITY;
        }
        /* "Now" rather than a time long past: under libfaketime that can
         * become a negative one for timerfd_settime(). */
        next = MAX(MIN(checkpoint, audit_log_sync_due(m->audit_log)), now);
        if (checkpoint == USEC_INFINITY && audit_log_sync_due(m->audit_log) == USEC_INFINITY) {
                (void) sd_event_source_set_enabled(m->audit_timer, SD_EVENT_OFF);
                return;
        }
        (void) sd_event_source_set_time(m->audit_timer, next);
        (void) sd_event_source_set_enabled(m->audit_timer, SD_EVENT_ONESHOT);
}

static void audit_timer_arm(Manager *m) {
        audit_timer_arm_full(m, false);
}

static void audit_due_work(Manager *m) {
        usec_t now = now_usec(CLOCK_MONOTONIC);
        int r;

        if (audit_log_sync_due(m->audit_log) <= now) {
                r = audit_log_sync(m->audit_log);
                if (r < 0)
                        log_error_errno(r, "Failed to sync the audit log: %m");
        }
        if (m->audit_checkpoint_now || audit_log_checkpoint_due(m->audit_log) <= now) {
                m->audit_checkpoint_now = false;
                r = audit_log_checkpoint(m->audit_log);
                if (r < 0)
                        log_debug_errno(r, "No checkpoint of the audit log now (retried later): %m");
        }
        audit_timer_arm_full(m, true);
}

static int on_audit_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        audit_due_work(userdata);
        return 0;
}

static int on_audit_due(sd_event_source *s, void *userdata) {
        audit_due_work(userdata);
        return 0;
}

/* The events' recorder: the log, then the timer for what the record made due. */
static int on_record(const Event *e, uint64_t *ret_seq, void *userdata) {
        Manager *m = userdata;
        int r = events_record_audit(e, ret_seq, m->audit_log);

        audit_timer_arm(m);
        return r;
}

/* How the previous run ended, from the records before the log's own
 * "audit.opened" record: it stopped cleanly if its last event was
 * daemon-stopped (the log's checkpoints, rotations and counter notes may
 * follow) and nothing torn was left behind. The log's own view (its last
 * record a checkpoint) is not enough: a timed checkpoint may be the last
 * record before a SIGKILL. */
typedef struct AuditLastStop {
        uint64_t opened_seq; /* 0: a new log (no previous run) */
        char previous_seq[32];
        char torn_bytes[32];
        bool log_says_clean;
        char last_kind[AUDIT_KIND_MAX + 1]; /* the previous run's last event */
        char kind[AUDIT_KIND_MAX + 1]; /* while reading: the newest event so far */
} AuditLastStop;

static int on_audit_tail_record(const AuditRecord *rec, void *userdata) {
        AuditLastStop *t = userdata;
        const char *kind = rec->kind;

        if (streq(kind, AUDIT_KIND_OPENED)) {
                t->opened_seq = rec->seq;
                for (size_t i = 0; i < rec->n_fields; i++) {
                        const AuditField *f = rec->fields + i;

                        if (streq(f->name, "AUDIT_PREVIOUS_SEQ"))
                                (void) snprintf(t->previous_seq, sizeof(t->previous_seq), "%s", f->value);
                        else if (streq(f->name, "AUDIT_TORN_BYTES"))
                                (void) snprintf(t->torn_bytes, sizeof(t->torn_bytes), "%s", f->value);
                        else if (streq(f->name, "AUDIT_CLEAN_STOP"))
                                t->log_says_clean = streq(f->value, "yes");
                }
                /* The newest opened record is ours; what came before it
                 * is the previous run's. */
                memcpy(t->last_kind, t->kind, sizeof(t->kind));
        }
        if (rec->checkpoint || streq(kind, AUDIT_KIND_ROTATED) || streq(kind, AUDIT_KIND_ANCHOR) ||
            streq(kind, AUDIT_KIND_CLOSED))
                return 0;
        (void) snprintf(t->kind, sizeof(t->kind), "%s", kind);
        return 0;
}

static int audit_last_stop(Manager *m, const char *dir, AuditLastStop *t) {
        uint64_t next = audit_log_next_seq(m->audit_log), from = next > 16 ? next - 16 : 1;
        int r;

        *t = (AuditLastStop){};
        /* The opened record and its checkpoint are the newest two; the
         * window is wide enough for the checkpoint, counter note and
         * rotation that may follow the previous run's last event. */
        r = audit_log_read(dir, from, 0, on_audit_tail_record, t);
        if (r < 0)
                return r;
        if (t->last_kind[0] == 0 && from > 1) /* nothing in the window: the log's view */
                (void) snprintf(t->last_kind, sizeof(t->last_kind), "%s",
                                t->log_says_clean ? event_kind_to_string(EVENT_DAEMON_STOPPED) : "");
        return 0;
}

static int audit_start(Manager *m) {
        _cleanup_(freep) char *dir = NULL;
        const Config *c = m->config;
        AuditLogConfig lc = {
                .checkpoint_records = c->audit_checkpoint_records,
                .checkpoint_interval = c->audit_checkpoint_interval,
                .max_file_size = c->audit_max_file_size,
                .max_total_size = c->audit_max_total_size,
                .sync_interval = c->audit_sync_interval,
                .checkpoint_min_interval = c->audit_checkpoint_min_interval,
                .defer_checkpoints = true, /* audit_timer_arm() */
        };
        const AuditAnchor anchor = {
                .userdata = m,
                .counter_increment = audit_counter_increment,
                .counter_read = audit_counter_read,
                .sign = audit_sign,
        };
        AuditLastStop last;
        int r;

        events_set_allowed_level(m->events, c->audit_allowed_calls);
        if (!c->audit) {
                log_notice("The audit log is off ([Audit] Enabled=no): events go to the journal only.");
                return 0;
        }
        dir = strjoin_alloc(c->state_dir, "/", "audit");
        if (!dir)
                return -ENOMEM;
        r = sd_event_add_defer(m->event, &m->audit_anchor_failed, on_audit_anchor_failed, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->audit_anchor_failed, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_defer(m->event, &m->audit_due, on_audit_due, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->audit_due, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_time(m->event, &m->audit_timer, CLOCK_MONOTONIC, USEC_INFINITY,
                                      USEC_PER_SEC, on_audit_timer, m);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the audit log's timers: %m");
        /* The TPM is not there yet (the device starts later): the first
         * checkpoint waits for it (audit_anchor_fail()). */
        r = audit_log_open(dir, &lc, &anchor, &m->audit_log);
        if (r < 0)
                return log_error_errno(r, "Failed to open the audit log '%s': %m", dir);
        events_set_recorder(m->events, on_record, m);
        audit_timer_arm(m);

        r = audit_last_stop(m, dir, &last);
        if (r < 0)
                log_warning_errno(r, "Failed to read the end of the audit log '%s': %m", dir);
        else if (last.opened_seq > 0 &&
                 (!streq(last.last_kind, event_kind_to_string(EVENT_DAEMON_STOPPED)) ||
                  !streq(last.torn_bytes, "0")))
                events_emit(m->events, EVENT_DAEMON_UNCLEAN_STOP, EVENT_SUBJECT_DAEMON, NULL, 0,
                            EVENT_FIELDS({ "LAST_SEQ", last.previous_seq },
                                         { "TORN_BYTES", last.torn_bytes },
                                         { "LAST_EVENT", last.last_kind }),
                            "endpointd was not stopped cleanly before this start: its last record was %s "
                            "(%s); %s bytes of a torn record were left behind.",
                            last.previous_seq, isempty(last.last_kind) ? "unknown" : last.last_kind,
                            last.torn_bytes);
        return 0;
}

static void audit_stop(Manager *m) {
        if (m->events)
                events_set_recorder(m->events, NULL, NULL);
        /* Normally closed by manager_run() already; here after a failed
         * start (no TPM any more: the final checkpoint stays unsigned). */
        m->audit_log = audit_log_free(m->audit_log);
        m->audit_timer = sd_event_source_disable_unref(m->audit_timer);
        m->audit_due = sd_event_source_disable_unref(m->audit_due);
        m->audit_anchor_failed = sd_event_source_disable_unref(m->audit_anchor_failed);
}

static int audit_reload(Manager *m, const Config *old) {
        const Config *c = m->config;

        events_set_allowed_level(m->events, c->audit_allowed_calls);
        if (c->audit != old->audit || c->audit_checkpoint_records != old->audit_checkpoint_records ||
            c->audit_checkpoint_interval != old->audit_checkpoint_interval ||
            c->audit_checkpoint_min_interval != old->audit_checkpoint_min_interval ||
            c->audit_sync_interval != old->audit_sync_interval ||
            c->audit_max_file_size != old->audit_max_file_size ||
            c->audit_max_total_size != old->audit_max_total_size)
                log_warning("[Audit] settings other than AllowedCalls= take effect only after a restart.");
        return 0;
}

static const Component audit_component = {
        .name = "audit log",
        .start = audit_start,
        .stop = audit_stop,
        .reload = audit_reload,
};

/* --- the access policy ------------------------------------------------------ */

static void on_authority_access_changed(Authority *a, void *userdata) {
        manager_access_changed(userdata);
}

/* The TPM as the device has it now (NULL while there is none). */
static Tpm *on_tpm(void *userdata) {
        Manager *m = userdata;

        return m->tpm;
}

static const AuthoritySink authority_sink = {
        .access_changed = on_authority_access_changed,
        .tpm = on_tpm,
};

static int authority_start(Manager *m) {
        return authority_new(m->event, m->config, m->events, &authority_sink, m, &m->authority);
}

static void authority_stop(Manager *m) {
        m->authority = authority_free(m->authority);
}

static int authority_reload_component(Manager *m, const Config *old) {
        char error[512];
        int r;

        authority_set_config(m->authority, m->config);
        r = authority_reload(m->authority, EVENT_SUBJECT_DAEMON, error, sizeof(error));
        if (r < 0)
                return log_error_errno(r, "Keeping the old access policy: %s", error);
        return 0;
}

static const Component authority_component = {
        .name = "access policy",
        .start = authority_start,
        .stop = authority_stop,
        .reload = authority_reload_component,
};

/* --- integrity ---------------------------------------------------------------- */

static void on_integrity_state(Integrity *ig, const char *state, void *userdata) {
        Manager *m = userdata;

        m->integrity_state = state;
        manager_emit_endpoint_changed(m, "IntegrityState");
        manager_set_status(m, "Serving %s; integrity %s.", ENDPOINTD_BUS_NAME, state);
}

static void on_integrity_scanned(Integrity *ig, usec_t when, void *userdata) {
        Manager *m = userdata;

        m->last_scan = when;
        manager_emit_endpoint_changed(m, "LastScan");
}

static void on_integrity_progress(Integrity *ig, uint64_t scan_id, const ScanProgress *p, void *userdata) {
        bus_integrity_emit_progress(userdata, scan_id, p);
}

static void on_integrity_manifest(Integrity *ig, uint64_t serial, void *userdata) {
        Manager *m = userdata;

        m->manifest_serial = serial;
        /* Executable= bindings are checked against the manifest. */
        manager_access_changed(m);
        manager_emit_endpoint_changed(m, "ManifestSerial");
}

static int on_integrity_extend(unsigned pcr, const uint8_t digest[32], void *userdata) {
        Manager *m = userdata;

        if (!m->tpm || !tpm_pcr_extend)
                return -ENODEV;
        return tpm_pcr_extend(m->tpm, pcr, digest);
}

static usec_t on_integrity_now(void *userdata) {
        Manager *m = userdata;

        return m->authority ? authority_now(m->authority) : now_usec(CLOCK_REALTIME);
}

static const IntegritySink integrity_sink = {
        .state_changed = on_integrity_state,
        .scanned = on_integrity_scanned,
        .progress = on_integrity_progress,
        .manifest_changed = on_integrity_manifest,
        .pcr_extend = on_integrity_extend,
        .now = on_integrity_now,
        .tpm = on_tpm,
};

static int integrity_start(Manager *m) {
        return integrity_new(m->event, m->config, m->events, &integrity_sink, m, &m->integrity);
}

static void integrity_stop(Manager *m) {
        m->integrity = integrity_free(m->integrity);
}

static int integrity_reload_component(Manager *m, const Config *old) {
        integrity_reload(m->integrity, m->config, old);
        return 0;
}

static const Component integrity_component = {
        .name = "integrity",
        .start = integrity_start,
        .stop = integrity_stop,
        .reload = integrity_reload_component,
};

/* The bus end of the event pipeline: events that are signals go to their
 * subscribers. */
static void on_event(const Event *e, void *userdata) {
        Manager *m = userdata;

        /* The TPM is back (or there at last): the checkpoint that waited
         * for it is made now, from the loop (the device has not handed the
         * TPM over yet), rather than a CheckpointInterval= later. */
        if (e->kind == EVENT_TPM_AVAILABLE && m->audit_log) {
                m->audit_checkpoint_now = true;
                audit_timer_arm(m);
        }

        bus_integrity_event(m, e);
        bus_audit_event(m, e);
}

/* Capabilities in start order. Later issues add their line here. */
static const Component *const components[] = {
        &audit_component,     /* first: every event is recorded; closed after daemon-stopped */
        &authority_component, /* then: every other component's calls are authorized */
        &tpm_component,       /* before integrity: it extends PCRs through m->tpm */
        &integrity_component, /* after the TPM: measurements extend a PCR through m->tpm */
        NULL,
};

/* Each interface served on the object, with its vtable. */
static const struct {
        const char *interface;
        const sd_bus_vtable *vtable;
} interfaces[] = {
        { ENDPOINTD_IFACE_ENDPOINT, endpoint_vtable },
        { ENDPOINTD_IFACE_KEYS, keys_vtable },
        { ENDPOINTD_IFACE_INTEGRITY, integrity_vtable },
        { ENDPOINTD_IFACE_POLICY, policy_vtable },
        { ENDPOINTD_IFACE_AUDIT, audit_vtable },
};

int manager_new(const char *config_path, Config *config, Manager **ret) {
        _cleanup_(manager_freep) Manager *m = calloc(1, sizeof(Manager));
        int r;

        if (!m)
                return -ENOMEM;
        m->config_path = strdup(config_path);
        m->device_id = strdup("");
        if (!m->config_path || !m->device_id)
                return -ENOMEM;
        m->config = config;
        m->integrity_state = ENDPOINTD_STATE_UNVERIFIED;

        r = events_new(&m->events);
        if (r < 0)
                return r;
        events_set_notifier(m->events, on_event, m);
        r = sd_event_default(&m->event);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        for (size_t i = ELEMENTSOF(components); i > 0; i--)
                if (components[i - 1] && components[i - 1]->stop)
                        components[i - 1]->stop(m);
        bus_audit_stop(m);
        m->idle = idle_trim_free(m->idle);
        m->integrity_subscriptions = bus_subscriptions_free(m->integrity_subscriptions);
        m->audit_subscriptions = bus_subscriptions_free(m->audit_subscriptions);
        bus_auth_free(m->bus_auth);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        events_free(m->events);
        config_free(m->config);
        free(m->config_path);
        free(m->device_id);
        free(m);
        return NULL;
}

void manager_set_status(Manager *m, const char *format, ...) {
        char buf[512];
        va_list ap;

        va_start(ap, format);
        (void) vsnprintf(buf, sizeof(buf), format, ap);
        va_end(ap);
        (void) sd_notifyf(false, "STATUS=%s", buf);
        log_debug("Status: %s", buf);
}

void manager_access_changed(Manager *m) {
        /* The device id may be new: grants and licences are bound to it. */
        authority_set_device_id(m->authority, m->device_id);
        bus_subscriptions_access_changed(m->integrity_subscriptions);
        bus_subscriptions_access_changed(m->audit_subscriptions);
}

void manager_emit_endpoint_changed_list(Manager *m, const char *property, ...) {
        char *names[16];
        size_t n = 0;
        va_list ap;

        if (!m->bus || !m->ready)
                return;
        va_start(ap, property);
        for (const char *p = property; p && n < ELEMENTSOF(names) - 1; p = va_arg(ap, const char *))
                names[n++] = (char *) p;
        va_end(ap);
        names[n] = NULL;
        (void) sd_bus_emit_properties_changed_strv(m->bus, ENDPOINTD_OBJECT_PATH, ENDPOINTD_IFACE_ENDPOINT,
                                                   names);
}

static int on_term_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        log_info("Received SIG%s, shutting down.", sigabbrev_np((int) si->ssi_signo));
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Shutting down.");
        return sd_event_exit(m->event, 0);
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        (void) manager_reload(userdata);
        return 0;
}

static void config_warn(const char *file, unsigned line, const char *message, void *userdata) {
        log_warning("%s:%u: %s", file, line, message);
}

int manager_reload(Manager *m) {
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_(freep) char *bad_file = NULL;
        Config *old;
        ParseError e = {};
        int r;

        (void) sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%llu",
                          (unsigned long long) now_usec(CLOCK_MONOTONIC));
        r = config_load(m->config_path, 0, config_warn, NULL, &c, &e, &bad_file);
        if (r < 0) {
                const char *file = bad_file ?: m->config_path;

                (void) sd_notify(false, "READY=1");
                if (e.line > 0)
                        return log_error_errno(r, "%s:%u: %s; keeping the old configuration.", file, e.line,
                                               e.message);
                return log_error_errno(r, "%s: %s; keeping the old configuration.", file, e.message);
        }
        if (!streq(c->state_dir, m->config->state_dir) || !streq(c->user, m->config->user) ||
            !streq(c->runtime_dir, m->config->runtime_dir))
                log_warning("StateDirectory=, RuntimeDirectory= and User= take effect only after a restart.");
        /* The filter installed at start stays what it is: keep what it was
         * made for rather than be killed by the first TPM connection. */
        if (c->seccomp != m->config->seccomp) {
                log_warning("Seccomp=%s takes effect only after a restart.", seccomp_mode_to_string(c->seccomp));
                c->seccomp = m->config->seccomp;
        }
        if (m->config->seccomp == SECCOMP_MODE_ENFORCE && sandbox_tcti_needs_inet(c->tcti) &&
            !sandbox_tcti_needs_inet(m->config->tcti)) {
                char *keep = strdup(m->config->tcti);

                if (!keep) {
                        (void) sd_notify(false, "READY=1");
                        return log_oom();
                }
                log_warning("TCTI=%s needs AF_INET sockets, which the system call filter does not permit; "
                            "keeping TCTI=%s until a restart.", c->tcti, m->config->tcti);
                free(c->tcti);
                c->tcti = keep;
        }

        old = m->config;
        m->config = TAKE_PTR(c);
        log_set_max_level(m->config->log_level);
        for (size_t i = 0; i < ELEMENTSOF(components); i++)
                if (components[i] && components[i]->reload) {
                        r = components[i]->reload(m, old);
                        if (r < 0)
                                log_warning_errno(r, "Failed to apply new configuration to %s: %m",
                                                  components[i]->name);
                }
        config_free(old);
        events_emit(m->events, EVENT_CONFIG_RELOADED, EVENT_SUBJECT_DAEMON, m->config_path, 0,
                    EVENT_FIELDS({ "PATH", m->config_path }), "Configuration reloaded from %s.",
                    m->config_path);
        (void) sd_notify(false, "READY=1");
        manager_set_status(m, "Serving; configuration reloaded.");
        return 0;
}

static int on_name_acquired(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Manager *m = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int r;

        if (e) {
                log_error_errno(sd_bus_message_get_errno(reply), "Failed to acquire bus name %s: %s",
                                ENDPOINTD_BUS_NAME, e->message);
                return sd_event_exit(m->event, 1);
        }
        m->ready = true;
        events_emit(m->events, EVENT_DAEMON_STARTED, EVENT_SUBJECT_DAEMON, NULL, 0,
                    EVENT_FIELDS({ "VERSION", PACKAGE_VERSION }), "endpointd %s serving %s.",
                    PACKAGE_VERSION, ENDPOINTD_BUS_NAME);
        (void) sd_notify(false, "READY=1");
        manager_set_status(m, "Serving %s; integrity %s.", ENDPOINTD_BUS_NAME, m->integrity_state);
        /* Start-up work (configuration, policy, manifest, TPM set-up) is
         * done: what it left resident goes once the loop is idle. */
        r = idle_trim_new(m->event, IDLE_TRIM_DELAY, &m->idle);
        if (r < 0)
                log_warning_errno(r, "Cannot set up the idle memory trim, continuing without: %m");
        return 0;
}

static int on_bus_disconnected(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        Manager *m = userdata;

        log_error("Lost the connection to the system bus, exiting.");
        return sd_event_exit(m->event, 1);
}

static int manager_connect_bus(Manager *m) {
        int r;

        r = sd_bus_open_system(&m->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus: %m");
        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop: %m");
        r = sd_bus_match_signal_async(m->bus, NULL, "org.freedesktop.DBus.Local", NULL,
                                      "org.freedesktop.DBus.Local", "Disconnected", on_bus_disconnected,
                                      NULL, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch for bus disconnection: %m");
        r = bus_auth_new(m->bus, &m->bus_auth);
        if (r < 0)
                return log_error_errno(r, "Failed to watch bus callers: %m");
        /* A subscriber holds what Subscribe() needs, at every signal. */
        r = bus_subscriptions_new(m, ENDPOINTD_IFACE_INTEGRITY,
                                  bus_permission_lookup(ENDPOINTD_IFACE_INTEGRITY, "Subscribe"),
                                  &m->integrity_subscriptions);
        if (r >= 0)
                r = bus_subscriptions_new(m, ENDPOINTD_IFACE_AUDIT,
                                          bus_permission_lookup(ENDPOINTD_IFACE_AUDIT, "Subscribe"),
                                          &m->audit_subscriptions);
        if (r < 0)
                return log_oom();
        for (size_t i = 0; i < ELEMENTSOF(interfaces); i++) {
                r = sd_bus_add_object_vtable(m->bus, NULL, ENDPOINTD_OBJECT_PATH, interfaces[i].interface,
                                             interfaces[i].vtable, m);
                if (r < 0)
                        return log_error_errno(r, "Failed to register interface %s: %m", interfaces[i].interface);
        }
        return 0;
}

int manager_startup(Manager *m) {
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");
        /* A log pipe whose reader went away (stderr under a supervisor
         * other than systemd, which would set IgnoreSIGPIPE=) fails the
         * write with EPIPE instead of ending the daemon. */
        if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
                return log_error_errno(errno, "Failed to ignore SIGPIPE: %m");
        if (sd_event_add_signal(m->event, NULL, SIGTERM, on_term_signal, m) < 0 ||
            sd_event_add_signal(m->event, NULL, SIGINT, on_term_signal, m) < 0 ||
            sd_event_add_signal(m->event, NULL, SIGHUP, on_sighup, m) < 0)
                return log_error_errno(EIO, "Failed to install signal handlers.");
        /* Sends WATCHDOG=1 from the loop at half of WatchdogSec= when set. */
        r = sd_event_set_watchdog(m->event, true);
        if (r < 0)
                return log_error_errno(r, "Failed to enable the watchdog: %m");

        r = mkdir_p(m->config->state_dir, 0700);
        if (r < 0)
                return log_error_errno(r, "Failed to create state directory '%s': %m", m->config->state_dir);
        r = privs_drop(m->config->user, m->config->state_dir);
        if (r < 0)
                return r;

        r = bus_errors_register();
        if (r < 0)
                return log_error_errno(r, "Failed to register bus errors: %m");
        r = manager_connect_bus(m);
        if (r < 0)
                return r;

        for (size_t i = 0; i < ELEMENTSOF(components); i++) {
                if (!components[i] || !components[i]->start)
                        continue;
                manager_set_status(m, "Starting %s.", components[i]->name);
                r = components[i]->start(m);
                if (r < 0)
                        return log_error_errno(r, "Failed to start %s: %m", components[i]->name);
        }

        /* Everything that loads code or needs privileges is done by now. */
        r = sandbox_install(m->config->seccomp, sandbox_tcti_needs_inet(m->config->tcti));
        if (r < 0)
                return r;

        r = sd_bus_request_name_async(m->bus, NULL, ENDPOINTD_BUS_NAME, 0, on_name_acquired, m);
        if (r < 0)
                return log_error_errno(r, "Failed to request bus name %s: %m", ENDPOINTD_BUS_NAME);
        manager_set_status(m, "Acquiring bus name %s.", ENDPOINTD_BUS_NAME);
        return 0;
}

int manager_run(Manager *m) {
        int r = sd_event_loop(m->event);

        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        events_emit(m->events, EVENT_DAEMON_STOPPED, EVENT_SUBJECT_DAEMON, NULL, 0, EVENT_NO_FIELDS,
                    "endpointd stopped.");
        /* The log is closed here (its audit.closed record and the final
         * checkpoint), while the TPM is still there to sign; what the
         * components say while stopping reaches the journal only. */
        if (m->audit_log) {
                int k = audit_log_checkpoint(m->audit_log);

                if (k < 0)
                        log_warning_errno(k, "Failed to write the audit log's final checkpoint: %m");
                events_set_recorder(m->events, NULL, NULL);
                m->audit_log = audit_log_free(m->audit_log);
        }
        return r;
}
