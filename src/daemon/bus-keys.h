/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "manager.h"

/* org.endpointd.Keys1: device identity, sealed secrets, data keys,
 * signing and attestation (see conf/org.endpointd.Keys1.xml). */
extern const sd_bus_vtable keys_vtable[];

/* The TPM capability: opens the TPM (or keeps retrying while there is
 * none), fills DeviceId/TpmAvailable, owns the key store. */
extern const Component tpm_component;
