/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "util.h"

/* How long any call of endpointctl waits for its reply. */
#define CTL_CALL_TIMEOUT_USEC (120 * USEC_PER_SEC)

/* Connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS is honoured) and
 * registers endpointd's error names; every call on it waits up to
 * CTL_CALL_TIMEOUT_USEC. On failure prints one line and returns
 * -EHOSTUNREACH. */
int ctl_bus_connect(sd_bus **ret);

/* Prints one sentence for a failed call of what ("read the status") and
 * returns the negative errno it stands for (see ctl.h): -EHOSTUNREACH when
 * the daemon is not running, -EACCES for AccessDenied, -EINVAL for
 * InvalidArgs, otherwise the errno of the error (never one of those three,
 * which the exit status reserves). */
int ctl_bus_error(int r, const sd_bus_error *error, const char *what);

/* Calls method on interface of endpointd's object. Returns 0 and the reply,
 * or the negative errno from ctl_bus_error() (already printed). types/...
 * are the arguments as for sd_bus_message_append(). */
int ctl_call(sd_bus *bus, const char *interface, const char *method, sd_bus_message **ret_reply,
             const char *what, const char *types, ...);

/* Same, for a message built by the caller (for fds and arrays). */
int ctl_call_message(sd_bus *bus, sd_bus_message *m, sd_bus_message **ret_reply, const char *what);
int ctl_new_method_call(sd_bus *bus, const char *interface, const char *method, sd_bus_message **ret);
