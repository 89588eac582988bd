/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one place that decides whether a bus caller may do something. Every
 * method handler and property getter calls bus_authorize() first; the
 * member -> permission table lives in bus-auth.c (and in endpointd-dbus(7)). */

#include <systemd/sd-bus.h>

#include "events.h"
#include "manager.h"

/* The bus side of authorisation: the per-connection credentials the bus
 * daemon vouches for (kept per unique name until it leaves the bus) and
 * the current property call. Created once the bus is connected. */
typedef struct BusAuth BusAuth;

int bus_auth_new(sd_bus *bus, BusAuth **ret);
BusAuth *bus_auth_free(BusAuth *ba);
DEFINE_TRIVIAL_CLEANUP_FUNC(BusAuth *, bus_auth_free);

/* Authorizes the sender of msg for the permission the table assigns to the
 * message's interface and member, narrowed to object when non-NULL (e.g.
 * "keys.use" + "k1" -> "keys.use:k1"). Returns 0 when allowed; otherwise
 * fills error (AccessDenied naming the permission, or RateLimited) and
 * returns its negative errno. */
int bus_authorize(Manager *m, sd_bus_message *msg, const char *object, sd_bus_error *error);

/* For property getters: authorizes the message being processed on bus for
 * reading a property of interface. */
int bus_authorize_property(Manager *m, sd_bus *bus, const char *interface, sd_bus_error *error);

/* The permission the table assigns to interface.member, or NULL. */
const char *bus_permission_lookup(const char *interface, const char *member);

/* Whether the sender of msg holds permission (complete, e.g.
 * "keys.use:k1"), without rate limiting or logging: for CheckAccess.
 * Returns 1 or 0 with reason filled, or a negative errno when the caller
 * cannot be identified. */
int bus_caller_check(Manager *m, sd_bus_message *msg, const char *permission, char *reason, size_t reason_len);

/* The uid of the sender of msg, as the bus daemon vouches for it (the same
 * identity bus_authorize() decides on): for per-uid bounds. Returns 0 or a
 * negative errno when the caller cannot be identified. */
int bus_caller_uid(Manager *m, sd_bus_message *msg, uid_t *ret);

/* The subject of an event caused by the sender of msg: uid, gid, pid and
 * unique name as the bus vouched for them. The strings stay valid while
 * the caller is on the bus (at least for the call). Returns 0 or a negative
 * errno when the caller cannot be identified. */
int bus_event_subject(Manager *m, sd_bus_message *msg, EventSubject *ret);
