/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "events.h"
#include "manager.h"
#include "scanner.h"

/* org.endpointd.Integrity1 on /org/endpointd/Endpoint1. */
extern const sd_bus_vtable integrity_vtable[];

/* Integrity1.ScanProgress to the subscribers. */
void bus_integrity_emit_progress(Manager *m, uint64_t scan_id, const ScanProgress *p);

/* Sends the events that are Integrity1 signals (scan-finished as
 * ScanFinished, violation as Violation) to the subscribers. */
void bus_integrity_event(Manager *m, const Event *e);
