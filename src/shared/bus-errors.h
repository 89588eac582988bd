/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "endpointd/errors.h"

/* The errno <-> org.endpointd.Error.* table, registered once per process
 * with bus_errors_register() so that sd_bus_error_set_errno() produces our
 * names and sd_bus_error_get_errno() turns them back into errnos. */
extern const sd_bus_error_map endpointd_error_map[];

int bus_errors_register(void);

/* Sets error from a negative or positive errno with a formatted message (%m
 * works) and returns -abs(e). Unlike sd_bus_error_set_errnof(), whose
 * errno -> name direction knows only libsystemd's own table, this gives
 * endpointd's names (ENOENT -> org.endpointd.Error.NotFound, ...). */
int bus_error_set_errnof(sd_bus_error *error, int e, const char *format, ...)
        __attribute__((format(printf, 3, 4)));
