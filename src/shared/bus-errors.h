/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "endpointd/errors.h"

/* The errno <-> org.endpointd.Error.* table, registered once per process
 * with bus_errors_register() so that sd_bus_error_set_errno() produces our
 * names and sd_bus_error_get_errno() turns them back into errnos. */
extern const sd_bus_error_map endpointd_error_map[];

int bus_errors_register(void);
