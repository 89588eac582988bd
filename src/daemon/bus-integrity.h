/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* org.endpointd.Integrity1 on /org/endpointd/Endpoint1. */
extern const sd_bus_vtable integrity_vtable[];
