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

/* journal MESSAGE_ID= of each event kind (generated once with
 * `systemd-id128 new`; never change them, people filter on them). */
#define ENDPOINTD_MESSAGE_STARTED        "1f5b0e2a8c7d4e0b9a6f3c2d1e0f9a8b"
#define ENDPOINTD_MESSAGE_STOPPED        "2a6c1f3b9d8e4f1cab7e4d3e2f1a0b9c"
#define ENDPOINTD_MESSAGE_RELOADED       "3b7d2a4cae9f4a2dbc8f5e4f3a2b1cad"
#define ENDPOINTD_MESSAGE_ACCESS_DENIED  "4c8e3b5dbfa04b3ecd9a6f5a4b3c2dbe"
#define ENDPOINTD_MESSAGE_ACCESS_ALLOWED "02d3e3314b1b4961a92916a0920d4dae"
#define ENDPOINTD_MESSAGE_RATE_LIMITED   "5d9f4c6ec0b14c4fdeab7a6b5c4d3ecf"
#define ENDPOINTD_MESSAGE_VIOLATION      "6ea05d7fd1c24d50efbc8b7c6d5e4fd0"
#define ENDPOINTD_MESSAGE_SCAN_FINISHED  "7fb16e80e2d34e61f0cd9c8d7e6f50e1"
#define ENDPOINTD_MESSAGE_MANIFEST       "80c27f91f3e44f7201deadbe8f7061f2"
#define ENDPOINTD_MESSAGE_TPM            "91d38a02a4f5408312efbeaf9081720a"
#define ENDPOINTD_MESSAGE_KEY            "a2e49b13b5064194230fcfb0a192831b"
#define ENDPOINTD_MESSAGE_GRANT          "b3f5ac24c61752a5341ad0c1b2a3942c"
#define ENDPOINTD_MESSAGE_LICENCE        "c406bd35d72863b6452be1d2c3b4a53d"
