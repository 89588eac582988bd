/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Load client for bench/bus/run.sh: N threads, each with its own
 * connection to the system bus, make synchronous calls to endpointd for a
 * fixed time and record each call's latency.
 *
 *   bus-load ping|check|prop CLIENTS SECONDS
 *
 * ping:  org.freedesktop.DBus.Peer.Ping (answered by sd-bus, no policy)
 * check: org.endpointd.Policy1.CheckAccess("status.read")
 * prop:  Properties.Get(org.endpointd.Endpoint1, "Version")
 *
 * Prints one line: "calls errors calls_per_sec p50_us p99_us". */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "../bench-util.h"

#define MAX_SAMPLES (4U * 1024U * 1024U)

typedef struct Client {
        pthread_t thread;
        const char *method;
        double seconds;
        uint32_t *samples; /* latency in µs */
        size_t n;
        size_t errors;
        int setup_error;
} Client;

static int call_once(sd_bus *bus, const char *method) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        int r;

        if (strcmp(method, "ping") == 0)
                r = sd_bus_call_method(bus, "org.endpointd.Endpoint1", "/org/endpointd/Endpoint1",
                                       "org.freedesktop.DBus.Peer", "Ping", &error, &reply, NULL);
        else if (strcmp(method, "check") == 0)
                r = sd_bus_call_method(bus, "org.endpointd.Endpoint1", "/org/endpointd/Endpoint1",
                                       "org.endpointd.Policy1", "CheckAccess", &error, &reply, "s",
                                       "status.read");
        else
                r = sd_bus_call_method(bus, "org.endpointd.Endpoint1", "/org/endpointd/Endpoint1",
                                       "org.freedesktop.DBus.Properties", "Get", &error, &reply, "ss",
                                       "org.endpointd.Endpoint1", "Version");
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        return r;
}

static void *client_run(void *arg) {
        Client *c = arg;
        sd_bus *bus = NULL;
        double end;
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                c->setup_error = r;
                return NULL;
        }
        /* Warm up: the first call pays for the daemon's credential lookup. */
        (void) call_once(bus, c->method);
        end = now_sec() + c->seconds;
        while (c->n < MAX_SAMPLES) {
                double t0 = now_sec(), t1;

                if (t0 >= end)
                        break;
                r = call_once(bus, c->method);
                t1 = now_sec();
                if (r < 0)
                        c->errors++;
                c->samples[c->n++] = (uint32_t) ((t1 - t0) * 1e6);
        }
        sd_bus_flush_close_unref(bus);
        return NULL;
}

int main(int argc, char *argv[]) {
        unsigned clients;
        double seconds, start, elapsed;
        Client *c;
        uint32_t *all;
        size_t total = 0, errors = 0;

        if (argc != 4) {
                fprintf(stderr, "Usage: %s ping|check|prop CLIENTS SECONDS\n", argv[0]);
                return 2;
        }
        clients = (unsigned) atoi(argv[2]);
        seconds = atof(argv[3]);
        if (clients == 0 || clients > 256 || seconds <= 0)
                return 2;
        c = calloc(clients, sizeof(Client));
        if (!c)
                return 1;
        start = now_sec();
        for (unsigned i = 0; i < clients; i++) {
                c[i] = (Client){ .method = argv[1], .seconds = seconds };
                c[i].samples = malloc(MAX_SAMPLES * sizeof(uint32_t));
                if (!c[i].samples || pthread_create(&c[i].thread, NULL, client_run, &c[i]) != 0)
                        return 1;
        }
        for (unsigned i = 0; i < clients; i++) {
                pthread_join(c[i].thread, NULL);
                if (c[i].setup_error < 0) {
                        fprintf(stderr, "cannot connect: %s\n", strerror(-c[i].setup_error));
                        return 1;
                }
                total += c[i].n;
                errors += c[i].errors;
        }
        elapsed = now_sec() - start;
        all = malloc((total ? total : 1) * sizeof(uint32_t));
        if (!all)
                return 1;
        total = 0;
        for (unsigned i = 0; i < clients; i++) {
                memcpy(all + total, c[i].samples, c[i].n * sizeof(uint32_t));
                total += c[i].n;
                free(c[i].samples);
        }
        qsort(all, total, sizeof(uint32_t), cmp_u32);
        printf("%zu %zu %.0f %u %u\n", total, errors, (double) total / elapsed, total ? all[total / 2] : 0,
               total ? all[(size_t) ((double) total * 0.99)] : 0);
        free(all);
        free(c);
        return 0;
}
