/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Code an attacker gets into a genuine program's process (attack-04):
 * preloaded, as a libsystemd look-alike, or dlopen()ed by a debugger. Its
 * constructor calls org.endpointd.Policy1.Reload on a connection of its
 * own and writes "ok" or the error name to the file EVIL_OUT names
 * (compiled in with -DEVIL_OUT="..." for when no variable may be set). */
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-bus.h>

#ifndef EVIL_OUT
#define EVIL_OUT NULL
#endif

__attribute__((constructor)) static void evil(void) {
        const char *out = getenv("EVIL_OUT") ? getenv("EVIL_OUT") : EVIL_OUT;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus *bus = NULL;
        FILE *f;
        int r;

        if (!out)
                return;
        r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = sd_bus_call_method(bus, "org.endpointd.Endpoint1", "/org/endpointd/Endpoint1",
                                       "org.endpointd.Policy1", "Reload", &error, NULL, "");
        f = fopen(out, "we");
        if (f) {
                fprintf(f, "%s\n", r >= 0 ? "ok" : error.name ? error.name : "no-bus");
                fclose(f);
        }
        sd_bus_error_free(&error);
        sd_bus_flush_close_unref(bus);
}
