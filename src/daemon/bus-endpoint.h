/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* org.endpointd.Endpoint1: the device's status properties. */
extern const sd_bus_vtable endpoint_vtable[];
