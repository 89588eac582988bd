/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "audit-log.h"
#include "authority.h"
#include "bus-audit.h"
#include "bus-auth.h"
#include "bus-endpoint.h"
#include "bus-errors.h"
#include "bus-integrity.h"
#include "bus-keys.h"
#include "bus-policy.h"
#include "bus-subscribe.h"
#include "endpointd/bus.h"
#include "events.h"
#include "fileio.h"
#include "integrity.h"
#include "log.h"
#include "manager.h"
#include "privs.h"
#include "sandbox.h"
#include "tpm.h"

/* The TPM component may be left out of a build; then nothing is extended. */
#pragma weak tpm_pcr_extend

/* --- the access policy ------------------------------------------------------ */

static void on_authority_access_changed(Authority *a, void *userdata) {
        manager_access_changed(userdata);
}

static const AuthoritySink authority_sink = {
        .access_changed = on_authority_access_changed,
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

        bus_integrity_event(m, e);
        bus_audit_event(m, e);
}

/* --- the audit log --------------------------------------------------------------
 *
 * A stand-in until the log's own wiring (anchor, timers, [Audit] keys)
 * lands: the log in STATE/audit/, without an anchor, each event one record
 * with the journal's field names. */

static int record_audit(const Event *e, uint64_t *ret_seq, void *userdata) {
        AuditField f[EVENT_FIELDS_MAX + 6];
        char uid[16], pid[16], err[16];
        AuditEntry entry = { .kind = event_kind_to_string(e->kind),
                             .realtime_usec = e->realtime,
                             .monotonic_usec = e->monotonic,
                             .fields = f };
        char names[EVENT_FIELDS_MAX][AUDIT_FIELD_NAME_MAX + 1];

        if (e->subject.uid != UID_INVALID) {
                (void) snprintf(uid, sizeof(uid), "%u", (unsigned) e->subject.uid);
                f[entry.n_fields++] = (AuditField){ "ENDPOINTD_UID", uid };
        }
        if (e->subject.pid > 0) {
                (void) snprintf(pid, sizeof(pid), "%d", (int) e->subject.pid);
                f[entry.n_fields++] = (AuditField){ "ENDPOINTD_PID", pid };
        }
        if (!isempty(e->object) && utf8_is_valid(e->object, strlen(e->object)))
                f[entry.n_fields++] = (AuditField){ "ENDPOINTD_OBJECT", e->object };
        f[entry.n_fields++] = (AuditField){ "ENDPOINTD_RESULT", e->result < 0 ? "failed" : "ok" };
        for (size_t i = 0; i < e->n_fields && i < EVENT_FIELDS_MAX; i++) {
                (void) snprintf(names[i], sizeof(names[i]), "ENDPOINTD_%s", e->fields[i].name);
                if (utf8_is_valid(e->fields[i].value, strlen(e->fields[i].value)))
                        f[entry.n_fields++] = (AuditField){ names[i], e->fields[i].value };
        }
        if (e->result < 0) {
                (void) snprintf(err, sizeof(err), "%d", -e->result);
                f[entry.n_fields++] = (AuditField){ "ERRNO", err };
        }
        if (e->message && utf8_is_valid(e->message, strlen(e->message)))
                f[entry.n_fields++] = (AuditField){ "MESSAGE", e->message };
        return audit_log_append(userdata, &entry, ret_seq);
}

static int manager_open_audit_log(Manager *m) {
        _cleanup_(freep) char *dir = NULL;
        int r;

        if (asprintf(&dir, "%s/audit", m->config->state_dir) < 0)
                return log_oom();
        r = audit_log_open(dir, NULL, NULL, &m->audit_log);
        if (r < 0)
                return log_error_errno(r, "Failed to open the audit log in %s: %m", dir);
        events_set_recorder(m->events, record_audit, m->audit_log);
        return 0;
}

/* Capabilities in start order. Later issues add their line here. */
static const Component *const components[] = {
        &authority_component, /* first: every other component's calls are authorized */
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
        m->integrity_subscriptions = bus_subscriptions_free(m->integrity_subscriptions);
        m->audit_subscriptions = bus_subscriptions_free(m->audit_subscriptions);
        bus_auth_free(m->bus_auth);
        events_set_recorder(m->events, NULL, NULL);
        m->audit_log = audit_log_free(m->audit_log);
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
        Config *old;
        ParseError e = {};
        int r;

        (void) sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%llu",
                          (unsigned long long) now_usec(CLOCK_MONOTONIC));
        r = config_load(m->config_path, config_warn, NULL, &c, &e);
        if (r < 0) {
                (void) sd_notify(false, "READY=1");
                if (e.line > 0)
                        return log_error_errno(r, "%s:%u: %s; keeping the old configuration.", m->config_path,
                                               e.line, e.message);
                return log_error_errno(r, "%s: %s; keeping the old configuration.", m->config_path, e.message);
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

        r = manager_open_audit_log(m);
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
        return r;
}
