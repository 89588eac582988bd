/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "events.h"
#include "manager.h"
#include "scanner.h"

/* org.endpointd.Integrity1 on /org/endpointd/Endpoint1. */
extern const sd_bus_vtable integrity_vtable[];

/* Subscribe(): at most this many clients, and per uid. */
#define BUS_INTEGRITY_SUBSCRIBERS_MAX 32U
#define BUS_INTEGRITY_SUBSCRIBERS_PER_UID_MAX 8U

/* Schedules a check of every subscriber's integrity.read; those that lost
 * it are dropped. It runs from the event loop (never inside an
 * authorization that may have caused the change), and in any case before
 * the next signal goes out. */
void bus_integrity_access_changed(Manager *m);

/* Ends every subscription; before the bus is closed. */
void bus_integrity_subscriptions_free(Manager *m);

/* Integrity1.ScanProgress to the subscribers. */
void bus_integrity_emit_progress(Manager *m, uint64_t scan_id, const ScanProgress *p);

/* Sends the events that are Integrity1 signals (scan-finished as
 * ScanFinished, violation as Violation) to the subscribers. */
void bus_integrity_event(Manager *m, const Event *e);
