/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ctl-bus.h"
#include "ctl.h"
#include "endpointd/bus.h"
#include "log.h"
#include "table.h"

/* Fields in the order people read them; the JSON keys are these names. */
static const struct {
        const char *property;
        const char *label;
        CellType type;
} status_fields[] = {
        { "Version", "Version", CELL_STRING },
        { "DeviceId", "Device ID", CELL_DIGEST },
        { "TpmAvailable", "TPM available", CELL_BOOLEAN },
        { "IntegrityState", "Integrity state", CELL_STRING },
        { "LastScan", "Last scan", CELL_TIMESTAMP },
        { "ManifestSerial", "Manifest serial", CELL_UINT64 },
};

static int append_value(Table *t, sd_bus_message *reply, const char *property, CellType type) {
        const char *s;
        uint64_t u;
        int b, r;

        switch (type) {
        case CELL_STRING:
        case CELL_DIGEST:
                r = sd_bus_message_read(reply, "v", "s", &s);
                if (r >= 0)
                        r = table_add(t, type, *s || arg_json ? s : "-");
                if (r >= 0 && streq(property, "IntegrityState"))
                        r = table_set_color(t, streq(s, "trusted")    ? TABLE_COLOR_GOOD
                                               : streq(s, "violated") ? TABLE_COLOR_BAD
                                                                      : TABLE_COLOR_WARN);
                return r;
        case CELL_BOOLEAN:
                r = sd_bus_message_read(reply, "v", "b", &b);
                if (r >= 0)
                        r = table_add(t, type, b);
                return r < 0 ? r : table_set_color(t, b ? TABLE_COLOR_GOOD : TABLE_COLOR_WARN);
        default:
                r = sd_bus_message_read(reply, "v", "t", &u);
                return r < 0 ? r : table_add(t, type, u);
        }
}

int verb_status(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        sd_bus *bus = userdata;
        int r;

        r = ctl_call(bus, "org.freedesktop.DBus.Properties", "GetAll", &reply, "read the status", "s",
                     ENDPOINTD_IFACE_ENDPOINT);
        if (r != 0)
                return r;

        t = table_new(true, "Field", "Value");
        if (!t)
                return log_oom();
        for (size_t i = 0; i < ELEMENTSOF(status_fields); i++) {
                bool found = false;

                r = sd_bus_message_rewind(reply, true);
                if (r < 0)
                        return log_error_errno(r, "Failed to parse the reply: %m");
                r = sd_bus_message_enter_container(reply, 'a', "{sv}");
                if (r < 0)
                        return log_error_errno(r, "Failed to parse the reply: %m");
                while (!found && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                        const char *name;

                        r = sd_bus_message_read(reply, "s", &name);
                        if (r < 0)
                                return log_error_errno(r, "Failed to parse the reply: %m");
                        if (streq(name, status_fields[i].property)) {
                                r = table_add(t, CELL_STRING, arg_json ? status_fields[i].property
                                                                       : status_fields[i].label);
                                if (r >= 0)
                                        r = append_value(t, reply, name, status_fields[i].type);
                                if (r < 0)
                                        return log_error_errno(r, "Failed to parse property %s: %m", name);
                                found = true;
                        } else if ((r = sd_bus_message_skip(reply, "v")) < 0)
                                return log_error_errno(r, "Failed to parse the reply: %m");
                        if (!found && (r = sd_bus_message_exit_container(reply)) < 0)
                                return log_error_errno(r, "Failed to parse the reply: %m");
                }
                if (r < 0)
                        return log_error_errno(r, "Failed to parse the reply: %m");
                if (!found)
                        return log_error_errno(EBADMSG, "The daemon did not report property %s.",
                                               status_fields[i].property);
        }
        r = table_print(t, arg_json, stdout);
        return r < 0 ? log_oom() : 0;
}
