/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Times N calls of one Keys1 operation (or a bare Peer.Ping) from one
 * process on one bus connection, so that process start-up is not counted.
 * Each timed call is followed by a timed Peer.Ping on the same connection,
 * so that the ratio to a bare round trip is taken under the same load.
 * Prints "median_us mean_us ping_median_us". Built and run by
 * bench/tpm/run.sh.
 *
 *   keys-client ping N | unseal NAME N | seal PREFIX N | encrypt NAME BYTES N |
 *               sign N | attest PCR N
 *
 * seal seals 16 bytes as PREFIX-0, PREFIX-1, ... (each call a new name).
 * With KC_NO_PING set the pings are left out (for CPU time per call). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#define DEST "org.endpointd.Endpoint1"
#define PATH "/org/endpointd/Endpoint1"
#define IFACE "org.endpointd.Keys1"

static double now_us(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

static int seal_serial;

static int one_call(sd_bus *bus, const char *op, char **argv, const unsigned char *buf, size_t len) {
        sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (strcmp(op, "ping") == 0)
                r = sd_bus_message_new_method_call(bus, &m, DEST, PATH, "org.freedesktop.DBus.Peer", "Ping");
        else if (strcmp(op, "unseal") == 0) {
                r = sd_bus_message_new_method_call(bus, &m, DEST, PATH, IFACE, "Unseal");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", argv[2]);
        } else if (strcmp(op, "seal") == 0) {
                char name[128];
                (void) snprintf(name, sizeof(name), "%s-%d", argv[2], seal_serial++);
                r = sd_bus_message_new_method_call(bus, &m, DEST, PATH, IFACE, "Seal");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", name);
                if (r >= 0)
                        r = sd_bus_message_append_array(m, 'y', "sixteen bytes!!!", 16);
                if (r >= 0)
                        r = sd_bus_message_append(m, "a{sv}", 0);
        } else if (strcmp(op, "encrypt") == 0) {
                r = sd_bus_message_new_method_call(bus, &m, DEST, PATH, IFACE, "Encrypt");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", argv[2]);
                if (r >= 0)
                        r = sd_bus_message_append_array(m, 'y', buf, len);
                if (r >= 0)
                        r = sd_bus_message_append_array(m, 'y', "", 0);
        } else if (strcmp(op, "sign") == 0) {
                r = sd_bus_message_new_method_call(bus, &m, DEST, PATH, IFACE, "Sign");
                if (r >= 0)
                        r = sd_bus_message_append_array(m, 'y', "benchmark data", 14);
        } else {
                uint32_t pcr = (uint32_t) atoi(argv[2]);
                r = sd_bus_message_new_method_call(bus, &m, DEST, PATH, IFACE, "Attest");
                if (r >= 0)
                        r = sd_bus_message_append_array(m, 'y', "nonce", 5);
                if (r >= 0)
                        r = sd_bus_message_append_array(m, 'u', &pcr, sizeof(pcr));
        }
        if (r >= 0)
                r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0)
                fprintf(stderr, "%s failed: %s\n", op, error.message ? error.message : strerror(-r));
        sd_bus_error_free(&error);
        sd_bus_message_unref(m);
        sd_bus_message_unref(reply);
        return r;
}

int main(int argc, char *argv[]) {
        sd_bus *bus = NULL;
        unsigned char buf[65536] = { 0 };
        size_t len = 0;
        double *t = NULL, *p = NULL, sum = 0;
        char *ping_argv[] = { argv[0], (char *) "ping", NULL };
        int n, rc = 1;

        if (argc < 3)
                return 2;
        n = atoi(argv[argc - 1]);
        if (strcmp(argv[1], "encrypt") == 0)
                len = (size_t) atoi(argv[3]) < sizeof(buf) ? (size_t) atoi(argv[3]) : sizeof(buf);
        t = calloc((size_t) n, sizeof(double));
        p = calloc((size_t) n, sizeof(double));
        if (!t || !p || n <= 0 || sd_bus_open_system(&bus) < 0)
                goto out;
        /* One untimed call: connection set-up, caches warm. */
        if (one_call(bus, argv[1], argv, buf, len) < 0)
                goto out;
        for (int i = 0; i < n; i++) {
                double a = now_us();
                if (one_call(bus, argv[1], argv, buf, len) < 0)
                        goto out;
                t[i] = now_us() - a;
                sum += t[i];
                if (getenv("KC_NO_PING"))
                        continue;
                a = now_us();
                if (one_call(bus, "ping", ping_argv, buf, 0) < 0)
                        goto out;
                p[i] = now_us() - a;
        }
        qsort(t, (size_t) n, sizeof(double), cmp_double);
        qsort(p, (size_t) n, sizeof(double), cmp_double);
        printf("%.1f %.1f %.1f\n", t[n / 2], sum / n, p[n / 2]);
        rc = 0;
out:
        /* One epilogue: the connection and both sample arrays on every path. */
        sd_bus_flush_close_unref(bus);
        free(t);
        free(p);
        return rc;
}
