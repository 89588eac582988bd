/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The daemon's one state object: every piece of state hangs off Manager,
 * there are no mutable globals. Capabilities (TPM, integrity, policy)
 * register as components with start/stop/reload hooks in manager.c. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "audit-log.h"
#include "config.h"
#include "util.h"

typedef struct Manager Manager;

struct Manager {
        sd_event *event;
        sd_bus *bus;
        Config *config;
        char *config_path;
        bool ready;

        /* org.endpointd.Endpoint1 properties. */
        char *device_id;              /* "" until the TPM module fills it */
        bool tpm_available;
        const char *integrity_state;  /* one of ENDPOINTD_STATE_* */
        usec_t last_scan;             /* CLOCK_REALTIME µs, 0 = never */
        uint64_t manifest_serial;     /* 0 = no manifest installed */

        /* The one event pipeline (events.h): every capability reports its
         * security events here; it fans them out to the audit log, the
         * journal and the bus. */
        struct Events *events;

        /* The audit log (audit-log.h) in STATE/audit/, the events'
         * recorder; NULL when [Audit] Enabled=no. Opened first, closed
         * last (with a final checkpoint). */
        AuditLog *audit_log;
        sd_event_source *audit_timer; /* the next timed checkpoint or sync */
        sd_event_source *audit_due; /* a checkpoint due now, after the reply of the call at hand */
        sd_event_source *audit_anchor_failed; /* tells the device, off the log's call stack */
        int audit_anchor_error;
        struct IdleTrim *idle; /* memory given back when idle (idle.h) */
        bool audit_checkpoint_now; /* the TPM is back: anchor what was written without it */

        /* Capabilities. Each owns its pointer; NULL when not started. */
        struct Device *device; /* the TPM's life cycle (device.h) */
        struct Tpm *tpm;       /* device_tpm(device), kept by the device's sink; NULL without a TPM */
        struct KeyStore *keys;
        struct Integrity *integrity;
        struct Authority *authority;
        struct BusAuth *bus_auth; /* the callers the bus vouches for (bus-auth.c) */

        /* Bus layer state: the clients that called Subscribe() on
         * Integrity1 and Audit1 (bus-subscribe.h); made when the bus is
         * connected. */
        struct BusSubscriptions *integrity_subscriptions;
        struct BusSubscriptions *audit_subscriptions;
        /* The Audit1.Verify() running on a thread (bus-audit.c), or NULL. */
        struct AuditVerifyJob *audit_verify;
};

/* A capability: started after the bus is connected and before the name is
 * requested, stopped in reverse order, reloaded on SIGHUP / Reload(). */
typedef struct Component {
        const char *name;
        int (*start)(Manager *m);
        void (*stop)(Manager *m);
        int (*reload)(Manager *m, const Config *old);
} Component;

int manager_new(const char *config_path, Config *config, Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Sets up signals, drops privileges, connects to the bus, starts the
 * components and requests the bus name. READY=1 follows once it is owned. */
int manager_startup(Manager *m);
int manager_run(Manager *m);

/* Re-reads the configuration file; on any error the old one stays in force
 * and the error is returned (and logged). */
int manager_reload(Manager *m);

/* Sends a human-readable STATUS= line to the service manager. */
void manager_set_status(Manager *m, const char *format, ...) _printf_(2, 3);

/* Called whenever what a caller may do can have changed: the policy was
 * reloaded, a grant or licence was installed, revoked or lapsed, a new
 * manifest (which Executable= bindings are checked against) or device id
 * (which grants are bound to) took effect. Whatever was allowed on the
 * strength of an earlier decision and lasts (subscriptions to signals) is
 * checked again, before anything more is sent. */
void manager_access_changed(Manager *m);

/* Emits PropertiesChanged on the Endpoint1 interface for the named
 * properties. Safe to call before the bus is up. */
void manager_emit_endpoint_changed_list(Manager *m, const char *property, ...) __attribute__((sentinel));
#define manager_emit_endpoint_changed(m, ...) \
        manager_emit_endpoint_changed_list(m, __VA_ARGS__, (const char *) NULL)
