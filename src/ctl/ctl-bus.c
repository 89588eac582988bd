/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>

#include "bus-errors.h"
#include "ctl-bus.h"
#include "ctl.h"
#include "endpointd/bus.h"
#include "log.h"

int ctl_bus_connect(sd_bus **ret) {
        int r;

        (void) bus_errors_register();
        r = sd_bus_open_system(ret);
        if (r < 0) {
                log_error_errno(r, "Cannot connect to the system bus: %m");
                return -EHOSTUNREACH;
        }
        /* Every call, also Subscribe() and the bus daemon's AddMatch, waits
         * this long: a small board that hashes a large file answers slowly,
         * and sd-bus's own 25 s made `scan` fail where `status` waited.
         * (It fails only for a NULL bus or in a forked child.) */
        (void) sd_bus_set_method_call_timeout(*ret, CTL_CALL_TIMEOUT_USEC);
        return 0;
}

int ctl_bus_error(int r, const sd_bus_error *error, const char *what) {
        const char *name = error ? error->name : NULL;

        if (sd_bus_error_has_names(error, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                                   SD_BUS_ERROR_NO_REPLY, SD_BUS_ERROR_DISCONNECTED) ||
            r == -ECONNRESET || r == -ENOTCONN) {
                log_error("Cannot %s: endpointd is not running (nobody owns %s on the system bus).", what,
                          ENDPOINTD_BUS_NAME);
                return -EHOSTUNREACH;
        }
        if (sd_bus_error_has_name(error, SD_BUS_ERROR_ACCESS_DENIED)) {
                log_error("Cannot %s: access denied: %s", what, error->message);
                return -EACCES;
        }
        if (name && error->message)
                log_error("Cannot %s: %s", what, error->message);
        else
                log_error_errno(r, "Cannot %s: %m", what);
        if (sd_bus_error_has_name(error, SD_BUS_ERROR_INVALID_ARGS))
                return -EINVAL;
        /* The exit status gives these three a meaning of their own. */
        if (r == -EINVAL || r == -EACCES || r == -EHOSTUNREACH)
                return -EIO;
        return r < 0 ? r : -EIO;
}

int ctl_new_method_call(sd_bus *bus, const char *interface, const char *method, sd_bus_message **ret) {
        return sd_bus_message_new_method_call(bus, ret, ENDPOINTD_BUS_NAME, ENDPOINTD_OBJECT_PATH, interface,
                                              method);
}

int ctl_call_message(sd_bus *bus, sd_bus_message *m, sd_bus_message **ret_reply, const char *what) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        /* Long operations (a full scan, a TPM under load) report progress by
         * signals; the call itself gets the generous timeout set at connect. */
        r = sd_bus_call(bus, m, 0, &error, ret_reply);
        if (r < 0)
                return ctl_bus_error(r, &error, what);
        return 0;
}

int ctl_call(sd_bus *bus, const char *interface, const char *method, sd_bus_message **ret_reply,
             const char *what, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        va_list ap;
        int r;

        r = ctl_new_method_call(bus, interface, method, &m);
        if (r < 0)
                return ctl_bus_error(r, NULL, what);
        if (types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
                if (r < 0)
                        return ctl_bus_error(r, NULL, what);
        }
        return ctl_call_message(bus, m, ret_reply, what);
}
