/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* org.endpointd.Policy1: access checks, policy reload, grants, licences. */

#include <systemd/sd-bus.h>

extern const sd_bus_vtable policy_vtable[];
