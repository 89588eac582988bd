#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Reads Endpoint1.IntegrityState in a loop (every 5 ms) until STOPFILE
exists; prints "n p50_ms p99_ms max_ms". Needs python3-dbus."""
import os
import sys
import time

import dbus

bus = dbus.bus.BusConnection(os.environ["DBUS_SYSTEM_BUS_ADDRESS"])
props = dbus.Interface(bus.get_object("org.endpointd.Endpoint1", "/org/endpointd/Endpoint1"),
                       "org.freedesktop.DBus.Properties")
lat = []
while not os.path.exists(sys.argv[1]):
    t = time.perf_counter()
    props.Get("org.endpointd.Endpoint1", "IntegrityState")
    lat.append((time.perf_counter() - t) * 1000)
    time.sleep(0.005)
lat.sort()
n = len(lat)
print("%d %.2f %.2f %.2f" % (n, lat[n // 2], lat[min(n - 1, int(n * 0.99))], lat[-1]))
