/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Names that cross the bus, shared by endpointd and endpointctl. The
 * introspection XML in conf/ is the contract; these must match it. */

#define ENDPOINTD_BUS_NAME          "org.endpointd.Endpoint1"
#define ENDPOINTD_OBJECT_PATH       "/org/endpointd/Endpoint1"

#define ENDPOINTD_IFACE_ENDPOINT    "org.endpointd.Endpoint1"
#define ENDPOINTD_IFACE_INTEGRITY   "org.endpointd.Integrity1"
#define ENDPOINTD_IFACE_KEYS        "org.endpointd.Keys1"
#define ENDPOINTD_IFACE_POLICY      "org.endpointd.Policy1"
#define ENDPOINTD_IFACE_AUDIT       "org.endpointd.Audit1"

/* Values of the IntegrityState property. */
#define ENDPOINTD_STATE_UNVERIFIED  "unverified"
#define ENDPOINTD_STATE_SCANNING    "scanning"
#define ENDPOINTD_STATE_TRUSTED     "trusted"
#define ENDPOINTD_STATE_VIOLATED    "violated"
/* The state in ScanFinished of a scan that a manifest install cancelled
 * (never a value of IntegrityState). */
#define ENDPOINTD_SCAN_CANCELLED    "cancelled"

/* The journal MESSAGE_ID= of each event kind is in the one table of event
 * kinds, src/daemon/events.c (listed in endpointd-audit(5) and
 * catalog/endpointd.catalog). */
