/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* org.endpointd.Audit1: the audit log on the bus (endpointd-dbus(7)).
 *
 * ReadEvents(t from_seq, u max) -> a(tttsuussa{ss}) pages through the log;
 * each record is (seq, realtime µs, monotonic µs, kind, uid, pid, object,
 * result, fields), uid 4294967295 and pid 0 when not known (the daemon's
 * own events), result "ok" or "failed", fields the kind's own (PATH=,
 * PERMISSION=, ...) and GID, EXE, BUS_NAME, ERRNO, MESSAGE where known.
 * Verify() -> (b ok, t first_bad_seq, s reason) runs the offline verifier
 * (audit-log.h) on a thread. The Event signal, with the arguments of one
 * ReadEvents record, goes only to subscribers holding audit.read. */

#include <systemd/sd-bus.h>

#include "events.h"
#include "manager.h"

extern const sd_bus_vtable audit_vtable[];

/* ReadEvents() hands out at most this many records per call, and stops
 * earlier rather than make a reply larger than BUS_AUDIT_REPLY_MAX bytes
 * (far below the 32 MiB dbus-daemon allows by default; a record is at most
 * AUDIT_RECORD_MAX). A caller pages on from the last seq + 1 until the
 * reply is empty. */
#define BUS_AUDIT_READ_MAX 1000U
#define BUS_AUDIT_REPLY_MAX (4U * 1024U * 1024U)

/* At most this many Verify() callers wait for the one verification that
 * runs at a time (they all get its result). */
#define BUS_AUDIT_VERIFY_WAITERS_MAX 16U

/* The audit log's directory below StateDirectory=. */
#define BUS_AUDIT_SUBDIR "audit"

/* Sends e as Audit1.Event to the subscribers. */
void bus_audit_event(Manager *m, const Event *e);

/* Ends a verification in flight (waits for its thread) and fails its
 * callers; before the bus is closed. */
void bus_audit_stop(Manager *m);
