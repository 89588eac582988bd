/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Signals only to those allowed to see them: the one subscription mechanism
 * of the bus layer (Integrity1 and Audit1 each hold one set).
 *
 * Details (scan progress, violations, audit events) are never broadcast:
 * each signal is sent to each subscriber by name (the destination set on
 * the signal), which no other client receives, whatever its match rules
 * (eavesdropping on messages addressed to others is the bus policy's to
 * refuse, and the shipped one does). A subscriber is a unique name that
 * called Subscribe() holding the set's permission. Its Subscribe() call is
 * kept, and its sender authorized again, with the identity the bus vouched
 * for, before every signal it is sent: one that lost the permission (policy
 * reload, lapsed or revoked grant, a Unit= binding that no longer holds) is
 * dropped and gets nothing more. It also ends when it calls Unsubscribe()
 * or its name leaves the bus. */

#include <systemd/sd-bus.h>

#include "manager.h"

/* At most this many subscribers per set, and per uid in a set. */
#define BUS_SUBSCRIBERS_MAX 32U
#define BUS_SUBSCRIBERS_PER_UID_MAX 8U

typedef struct BusSubscriptions BusSubscriptions;

/* A set for the signals of interface, whose subscribers must hold
 * permission (a static string, e.g. "audit.read"). -ENOMEM. */
int bus_subscriptions_new(Manager *m, const char *interface, const char *permission, BusSubscriptions **ret);
/* Ends every subscription; before the bus is closed. NULL-safe. */
BusSubscriptions *bus_subscriptions_free(BusSubscriptions *set);

/* The Subscribe() and Unsubscribe() methods of every interface with a set
 * (Integrity1, Audit1; userdata: the Manager), for their vtables. After
 * bus_authorize(), Subscribe() makes the sender a subscriber (again: a
 * no-op); errors LimitsExceeded for the per-uid bound, Busy when the set is
 * full. Unsubscribe() ends the sender's subscription, if any. */
int bus_method_subscribe(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int bus_method_unsubscribe(sd_bus_message *msg, void *userdata, sd_bus_error *error);

/* Fills in the arguments of one copy of a signal; returns ≥ 0 or a
 * negative errno (that copy is then not sent). */
typedef int (*BusSignalAppendFunc)(sd_bus_message *signal, void *userdata);

/* Sends the signal member of the set's interface to each subscriber that
 * still holds the permission, each its own copy addressed to it. Safe to
 * call before the bus name is owned (nothing is sent) and from within a
 * delivery. */
void bus_subscriptions_emit(BusSubscriptions *set, const char *member, BusSignalAppendFunc append,
                            void *userdata);

/* What a caller may do can have changed: check every subscriber soon (from
 * the event loop, never inside the decision that caused the change), so that
 * one that lost the permission is dropped even if no signal follows. */
void bus_subscriptions_access_changed(BusSubscriptions *set);

/* How many subscribers the set has. */
size_t bus_subscriptions_count(const BusSubscriptions *set);
