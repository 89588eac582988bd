/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* org.endpointd.Audit1: the audit log on the bus (endpointd-dbus(7)).
 *
 * ReadEvents(t from_seq, u max) -> a(ttsssss) pages through the log;
 * each record is (seq, realtime µs, kind, subject, object, result, detail),
 * the strings as audit-wire.h makes them. Verify() -> (b intact, t records,
 * s detail) runs the offline verifier (audit-log.h) on a thread: records
 * checked, detail "" when intact, else "seq N: what is wrong" (or only what
 * is wrong when no record is to blame). The Event signal, with the
 * arguments of one
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
