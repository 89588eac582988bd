/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A bus client for the attack suite that does what endpointctl never does:
 * it chooses the serial (cookie) of its method calls, makes many calls on
 * one connection, and waits between connecting and calling, so that a test
 * can do things to the process or to the daemon in between.
 *
 *   attack-bus-call [--count=N] [--dumpable] < COMMANDS
 *
 * It connects to the system bus, prints "ready PID", then reads one call a
 * line from stdin: "SERIAL INTERFACE MEMBER [STRING]" (SERIAL 0: sd-bus
 * picks one; INTERFACE is the part after "org.endpointd."; STRING the
 * call's one string argument, if any). Each call prints "ok" or the D-Bus
 * error name; with --count=N each line is called N times and a line
 * "passed K of N" follows. Unless --dumpable, the process marks itself
 * non-dumpable first, as endpointd-policy(5) asks of programs bound with
 * Unit=. Exit status: 0 when every call passed, 1 otherwise, 2 on usage
 * errors. */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

static int call_once(sd_bus *bus, uint64_t serial, const char *interface, const char *member,
                     const char *arg) {
        sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "org.endpointd.Endpoint1", "/org/endpointd/Endpoint1",
                                           interface, member);
        if (r >= 0 && arg)
                r = sd_bus_message_append(m, "s", arg);
        /* Sealed here, the message keeps our serial; sd_bus_call() sends a
         * sealed message as it is, and waits for as long as sealed here. */
        if (r >= 0 && serial > 0)
                r = sd_bus_message_seal(m, serial, 25 * UINT64_C(1000000));
        if (r >= 0)
                r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r >= 0)
                printf("ok\n");
        else
                printf("%s\n", error.name ? error.name : strerror(-r));
        fflush(stdout);
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        sd_bus_message_unref(m);
        return r;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "count", required_argument, NULL, 'c' },
                { "dumpable", no_argument, NULL, 'd' },
                {},
        };
        unsigned long count = 1;
        bool dumpable = false, all = true;
        const char *unique = NULL;
        char line[512];
        sd_bus *bus = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        count = strtoul(optarg, NULL, 10);
                        break;
                case 'd':
                        dumpable = true;
                        break;
                default:
                        return 2;
                }
        if (optind != argc || count == 0) {
                fprintf(stderr, "usage: %s [--count=N] [--dumpable] < COMMANDS\n", argv[0]);
                return 2;
        }
        if (!dumpable && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
                perror("prctl");
                return 1;
        }
        /* Connected and past Hello before any call: a message sent sealed
         * must not overtake the Hello. */
        r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = sd_bus_get_unique_name(bus, &unique);
        if (r < 0) {
                fprintf(stderr, "Cannot connect to the bus: %s\n", strerror(-r));
                return 1;
        }
        printf("ready %d\n", (int) getpid());
        fflush(stdout);
        while (fgets(line, sizeof(line), stdin)) {
                char interface[128], member[128], arg[256];
                unsigned long long serial;
                unsigned long passed = 0;
                int n = sscanf(line, "%llu %127s %127s %255s", &serial, interface, member, arg);

                if (n < 3) {
                        fprintf(stderr, "bad command: %s", line);
                        return 2;
                }
                (void) snprintf(line, sizeof(line), "org.endpointd.%s", interface);
                for (unsigned long i = 0; i < count; i++)
                        if (call_once(bus, serial, line, member, n == 4 ? arg : NULL) >= 0)
                                passed++;
                if (count > 1) {
                        printf("passed %lu of %lu\n", passed, count);
                        fflush(stdout);
                }
                all = all && passed == count;
        }
        sd_bus_flush_close_unref(bus);
        return all ? 0 : 1;
}
