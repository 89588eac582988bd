/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "bus-auth.h"
#include "endpointd/bus.h"
#include "log.h"

/* Every member and every interface's properties map to exactly one
 * permission. Keep in sync with the table in endpointd-dbus(7). */
static const struct {
        const char *interface;
        const char *member; /* NULL: property reads of the interface */
        const char *permission;
} permission_table[] = {
        { ENDPOINTD_IFACE_ENDPOINT, NULL, "status.read" },
        { ENDPOINTD_IFACE_INTEGRITY, "Scan", "integrity.scan" },
        { ENDPOINTD_IFACE_INTEGRITY, "GetViolations", "integrity.read" },
        { ENDPOINTD_IFACE_INTEGRITY, "VerifyFile", "integrity.read" },
        { ENDPOINTD_IFACE_INTEGRITY, "GetManifest", "integrity.read" },
        { ENDPOINTD_IFACE_INTEGRITY, "GetMeasurements", "integrity.read" },
        { ENDPOINTD_IFACE_INTEGRITY, "InstallManifest", "integrity.install" },
        { ENDPOINTD_IFACE_KEYS, "CreateKey", "keys.create" },
        { ENDPOINTD_IFACE_KEYS, "DeleteKey", "keys.delete" },
        { ENDPOINTD_IFACE_KEYS, "ListKeys", "keys.list" },
        { ENDPOINTD_IFACE_KEYS, "Encrypt", "keys.use" },        /* keys.use:NAME */
        { ENDPOINTD_IFACE_KEYS, "Decrypt", "keys.use" },        /* keys.use:NAME */
        { ENDPOINTD_IFACE_KEYS, "Seal", "keys.create" },
        { ENDPOINTD_IFACE_KEYS, "Unseal", "keys.unseal" },      /* keys.unseal:NAME */
        { ENDPOINTD_IFACE_KEYS, "Sign", "device.sign" },
        { ENDPOINTD_IFACE_KEYS, "GetDevicePublicKey", "status.read" },
        { ENDPOINTD_IFACE_KEYS, "GetAttestationPublicKey", "status.read" },
        { ENDPOINTD_IFACE_KEYS, "Attest", "device.attest" },
};

const char *bus_permission_lookup(const char *interface, const char *member) {
        for (size_t i = 0; i < ELEMENTSOF(permission_table); i++)
                if (streq(permission_table[i].interface, interface) &&
                    streq_ptr(permission_table[i].member, member))
                        return permission_table[i].permission;
        return NULL;
}

static int authorize(Manager *m, sd_bus_message *msg, const char *permission, const char *object,
                     sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        char full[256];
        uid_t uid;
        int r;

        if (!permission)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "No permission is defined for this call; denied by default.");
        (void) snprintf(full, sizeof(full), "%s%s%s", permission, object ? ":" : "", strempty(object));

        /* Identity comes from what the bus daemon vouches for, never from
         * anything the caller says. */
        r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &creds);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot determine the caller's identity: %m");
        r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot determine the caller's uid: %m");

        /* Until the access policy module is in place only root and the
         * daemon's own user are allowed anything. */
        if (uid == 0 || uid == geteuid())
                return 0;

        log_struct(LOG_NOTICE, ENDPOINTD_MESSAGE_ACCESS_DENIED, "Denied %s to uid %u.", full, (unsigned) uid);
        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "Permission '%s' denied.", full);
}

int bus_authorize(Manager *m, sd_bus_message *msg, const char *object, sd_bus_error *error) {
        return authorize(m, msg,
                         bus_permission_lookup(sd_bus_message_get_interface(msg), sd_bus_message_get_member(msg)),
                         object, error);
}

int bus_authorize_property(Manager *m, sd_bus *bus, const char *interface, sd_bus_error *error) {
        sd_bus_message *msg = sd_bus_get_current_message(bus);

        /* Getters also run when sd-bus builds a PropertiesChanged signal;
         * only a Get/GetAll call is a read by a caller. */
        if (!msg || !streq_ptr(sd_bus_message_get_interface(msg), "org.freedesktop.DBus.Properties"))
                return 0;
        return authorize(m, msg, bus_permission_lookup(interface, NULL), NULL, error);
}
