/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A bad client for test-fault-clients: sends CALLS method calls to
 * endpointd without ever reading a reply, holds its connection for SECONDS,
 * then either exits normally or (with "abort") dies by SIGKILL to itself,
 * so that the connection closes with calls still in flight.
 *
 *   bus-noread CALLS SECONDS [abort]
 *
 * The calls alternate between CheckAccess, Unseal("s1"), Get(IntegrityState)
 * and a 64 KiB Encrypt("k1"), so that replies of every size pile up. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#define BUS_NAME "org.endpointd.Endpoint1"
#define OBJECT_PATH "/org/endpointd/Endpoint1"

static int send_one(sd_bus *bus, unsigned i) {
        static unsigned char big[65536];
        sd_bus_message *m = NULL;
        int r;

        switch (i % 4) {
        case 0:
                r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, OBJECT_PATH, "org.endpointd.Policy1",
                                                   "CheckAccess");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "status.read");
                break;
        case 1:
                r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, OBJECT_PATH, "org.endpointd.Keys1",
                                                   "Unseal");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "s1");
                break;
        case 2:
                r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, OBJECT_PATH,
                                                   "org.freedesktop.DBus.Properties", "Get");
                if (r >= 0)
                        r = sd_bus_message_append(m, "ss", "org.endpointd.Endpoint1", "IntegrityState");
                break;
        default:
                r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, OBJECT_PATH, "org.endpointd.Keys1",
                                                   "Encrypt");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "k1");
                if (r >= 0)
                        r = sd_bus_message_append_array(m, 'y', big, sizeof(big));
                if (r >= 0)
                        r = sd_bus_message_append_array(m, 'y', big, 0);
        }
        if (r >= 0)
                r = sd_bus_send(bus, m, NULL);
        sd_bus_message_unref(m);
        return r;
}

int main(int argc, char *argv[]) {
        sd_bus *bus = NULL;
        unsigned calls, seconds;
        int r;

        if (argc < 3) {
                fprintf(stderr, "usage: bus-noread CALLS SECONDS [abort]\n");
                return 2;
        }
        calls = (unsigned) strtoul(argv[1], NULL, 0);
        seconds = (unsigned) strtoul(argv[2], NULL, 0);
        r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "bus-noread: cannot connect: %s\n", strerror(-r));
                return 1;
        }
        for (unsigned i = 0; i < calls; i++) {
                r = send_one(bus, i);
                if (r < 0) {
                        fprintf(stderr, "bus-noread: send %u: %s\n", i, strerror(-r));
                        return 1;
                }
        }
        /* Everything written out; nothing is ever read. */
        r = sd_bus_flush(bus);
        if (r < 0)
                fprintf(stderr, "bus-noread: flush: %s\n", strerror(-r));
        printf("sent %u calls\n", calls);
        fflush(stdout);
        sleep(seconds);
        if (argc > 3 && strcmp(argv[3], "abort") == 0)
                raise(SIGKILL);
        return 0;
}
