/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bus-auth.h"
#include "bus-endpoint.h"
#include "endpointd/bus.h"
#include "manager.h"

static int property_get_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        int r = bus_authorize_property(userdata, bus, interface, error);
        return r < 0 ? r : sd_bus_message_append(reply, "s", PACKAGE_VERSION);
}

static int property_get_device_id(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r = bus_authorize_property(m, bus, interface, error);
        return r < 0 ? r : sd_bus_message_append(reply, "s", m->device_id);
}

static int property_get_tpm_available(sd_bus *bus, const char *path, const char *interface,
                                      const char *property, sd_bus_message *reply, void *userdata,
                                      sd_bus_error *error) {
        Manager *m = userdata;
        int r = bus_authorize_property(m, bus, interface, error);
        return r < 0 ? r : sd_bus_message_append(reply, "b", m->tpm_available);
}

static int property_get_integrity_state(sd_bus *bus, const char *path, const char *interface,
                                        const char *property, sd_bus_message *reply, void *userdata,
                                        sd_bus_error *error) {
        Manager *m = userdata;
        int r = bus_authorize_property(m, bus, interface, error);
        return r < 0 ? r : sd_bus_message_append(reply, "s", m->integrity_state);
}

static int property_get_last_scan(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r = bus_authorize_property(m, bus, interface, error);
        return r < 0 ? r : sd_bus_message_append(reply, "t", (uint64_t) m->last_scan);
}

static int property_get_manifest_serial(sd_bus *bus, const char *path, const char *interface,
                                        const char *property, sd_bus_message *reply, void *userdata,
                                        sd_bus_error *error) {
        Manager *m = userdata;
        int r = bus_authorize_property(m, bus, interface, error);
        return r < 0 ? r : sd_bus_message_append(reply, "t", m->manifest_serial);
}

/* Reading a property needs status.read, but PropertiesChanged is a
 * broadcast that every client may match: it names the properties that
 * changed and carries no value (EMITS_INVALIDATION), so a client without
 * status.read learns that, say, IntegrityState changed, never to what.
 * That much any local user sees anyway (a scan shows as disk and CPU
 * load). */
const sd_bus_vtable endpoint_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DeviceId", "s", property_get_device_id, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_PROPERTY("TpmAvailable", "b", property_get_tpm_available, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_PROPERTY("IntegrityState", "s", property_get_integrity_state, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_PROPERTY("LastScan", "t", property_get_last_scan, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_PROPERTY("ManifestSerial", "t", property_get_manifest_serial, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_VTABLE_END
};
