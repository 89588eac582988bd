/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Load client for bench/load/run.sh: CLIENTS threads, each with its own
 * connection to the system bus, make CALLS synchronous calls each to
 * endpointd, mixed by a fixed cycle of 50 calls: 18 status reads (Get
 * IntegrityState), 15 CheckAccess("status.read"), 5 Encrypt("k1") of a
 * buffer each followed by its Decrypt (the round trip compared), 6
 * VerifyFile(PATH) that must say "ok" and 1 Unseal("s1") compared with
 * SECRET. (Unseal takes the TPM about 7 ms, serialised; one in five would
 * make the run a TPM benchmark.)
 *
 *   load CLIENTS CALLS SECRET PATH
 *
 * Every reply is checked: a call with no reply within 120 s is lost, a
 * reply with other content (or an error other than RateLimited/Busy) is
 * wrong. Prints one line per kind: "kind calls lost wrong refused p50_us
 * p99_us", then "total calls lost wrong refused seconds calls_per_sec". */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "../bench-util.h"

#define BUS_NAME "org.endpointd.Endpoint1"
#define OBJECT_PATH "/org/endpointd/Endpoint1"
#define TIMEOUT_US (120ULL * 1000000ULL)

enum { K_STATUS, K_CHECK, K_ENCRYPT, K_DECRYPT, K_UNSEAL, K_VERIFY, K_MAX };
static const char *const kind_name[K_MAX] = { "status", "check", "encrypt", "decrypt", "unseal", "verify" };

typedef struct Stats {
        uint32_t *lat[K_MAX];
        size_t n[K_MAX], lost[K_MAX], wrong[K_MAX], refused[K_MAX];
} Stats;

typedef struct Client {
        pthread_t thread;
        unsigned calls, id;
        const char *secret, *path;
        Stats s;
        int setup_error;
} Client;

/* Records one call: its latency, and lost/wrong/refused. ok: the reply's
 * content was checked and is right. */
static void record(Client *c, unsigned k, double t0, int r, const sd_bus_error *e, bool ok) {
        Stats *s = &c->s;

        s->lat[k][s->n[k]++] = (uint32_t) ((now_sec() - t0) * 1e6);
        if (r >= 0) {
                if (!ok)
                        s->wrong[k]++;
        } else if (r == -ETIMEDOUT || sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY) ||
                   sd_bus_error_has_name(e, SD_BUS_ERROR_TIMEOUT))
                s->lost[k]++;
        else if (sd_bus_error_has_name(e, "org.endpointd.Error.RateLimited") ||
                 sd_bus_error_has_name(e, "org.endpointd.Error.Busy"))
                s->refused[k]++;
        else {
                if (s->wrong[k]++ == 0)
                        fprintf(stderr, "client %u: %s: %s: %s\n", c->id, kind_name[k], e->name, e->message);
        }
}

static int call(sd_bus *bus, sd_bus_message *m, sd_bus_error *e, sd_bus_message **reply) {
        return sd_bus_call(bus, m, TIMEOUT_US, e, reply);
}

static const char cycle[] = "SCEDSCVSCSCEDSVCSCSUCEDSVSCSCEDVSCSCSVCEDSSCSCSVCS";

static char cycle_at(unsigned i) {
        return cycle[i % (sizeof(cycle) - 1)];
}

static void one_round(Client *c, sd_bus *bus, unsigned i) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        /* The cycle: S=status C=check E=encrypt (D its decrypt) V=verify U=unseal. */
        char kc = cycle_at(i);
        unsigned k = kc == 'S' ? K_STATUS : kc == 'C' ? K_CHECK : kc == 'E' ? 2 : kc == 'U' ? 3 : 4;
        const void *data;
        size_t len;
        double t0;
        int r;

        if (k == K_STATUS) {
                const char *state = NULL;
                t0 = now_sec();
                r = sd_bus_call_method(bus, BUS_NAME, OBJECT_PATH, "org.freedesktop.DBus.Properties", "Get",
                                       &e, &reply, "ss", "org.endpointd.Endpoint1", "IntegrityState");
                bool ok = r >= 0 && sd_bus_message_read(reply, "v", "s", &state) >= 0 &&
                          (strcmp(state, "trusted") == 0 || strcmp(state, "scanning") == 0);
                record(c, K_STATUS, t0, r, &e, ok);
        } else if (k == K_CHECK) {
                int allowed = 0;
                const char *reason;
                t0 = now_sec();
                r = sd_bus_call_method(bus, BUS_NAME, OBJECT_PATH, "org.endpointd.Policy1", "CheckAccess",
                                       &e, &reply, "s", "status.read");
                bool ok = r >= 0 && sd_bus_message_read(reply, "bs", &allowed, &reason) >= 0 && allowed;
                record(c, K_CHECK, t0, r, &e, ok);
        } else if (k == 2) {
                uint8_t plain[256];
                size_t n = 1 + (size_t) ((i * 7919U + c->id) % sizeof(plain));
                for (size_t j = 0; j < n; j++)
                        plain[j] = (uint8_t) (i + j + c->id);
                r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, OBJECT_PATH, "org.endpointd.Keys1",
                                                   "Encrypt");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "k1");
                if (r >= 0)
                        r = sd_bus_message_append_array(m, 'y', plain, n);
                if (r >= 0)
                        r = sd_bus_message_append_array(m, 'y', "aad", 3);
                t0 = now_sec();
                if (r >= 0)
                        r = call(bus, m, &e, &reply);
                bool ok = r >= 0 && sd_bus_message_read_array(reply, 'y', &data, &len) >= 0 && len > n;
                record(c, K_ENCRYPT, t0, r, &e, ok);
                if (!ok)
                        goto out;
                sd_bus_message_unref(m);
                m = NULL;
                r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, OBJECT_PATH, "org.endpointd.Keys1",
                                                   "Decrypt");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "k1");
                if (r >= 0)
                        r = sd_bus_message_append_array(m, 'y', data, len);
                if (r >= 0)
                        r = sd_bus_message_append_array(m, 'y', "aad", 3);
                sd_bus_message *reply2 = NULL;
                sd_bus_error_free(&e);
                t0 = now_sec();
                if (r >= 0)
                        r = call(bus, m, &e, &reply2);
                ok = r >= 0 && sd_bus_message_read_array(reply2, 'y', &data, &len) >= 0 && len == n &&
                     memcmp(data, plain, n) == 0;
                record(c, K_DECRYPT, t0, r, &e, ok);
                sd_bus_message_unref(reply2);
        } else if (k == 3) {
                t0 = now_sec();
                r = sd_bus_call_method(bus, BUS_NAME, OBJECT_PATH, "org.endpointd.Keys1", "Unseal", &e,
                                       &reply, "s", "s1");
                bool ok = r >= 0 && sd_bus_message_read_array(reply, 'y', &data, &len) >= 0 &&
                          len == strlen(c->secret) && memcmp(data, c->secret, len) == 0;
                record(c, K_UNSEAL, t0, r, &e, ok);
        } else {
                const char *state = NULL, *expected, *actual;
                t0 = now_sec();
                r = sd_bus_call_method(bus, BUS_NAME, OBJECT_PATH, "org.endpointd.Integrity1", "VerifyFile",
                                       &e, &reply, "s", c->path);
                bool ok = r >= 0 && sd_bus_message_read(reply, "sss", &state, &expected, &actual) >= 0 &&
                          strcmp(state, "ok") == 0;
                record(c, K_VERIFY, t0, r, &e, ok);
        }
out:
        sd_bus_error_free(&e);
        sd_bus_message_unref(reply);
        sd_bus_message_unref(m);
}

static void *client_run(void *arg) {
        Client *c = arg;
        sd_bus *bus = NULL;
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                c->setup_error = r;
                return NULL;
        }
        /* Each client starts at another point of the cycle. */
        for (unsigned i = c->id * 7; i < c->id * 7 + c->calls; i++) {
                if (cycle_at(i) == 'D')
                        continue; /* made with the Encrypt before it */
                one_round(c, bus, i);
        }
        sd_bus_flush_close_unref(bus);
        return NULL;
}

int main(int argc, char *argv[]) {
        unsigned clients, calls;
        size_t total = 0, lost = 0, wrong = 0, refused = 0;
        double start, elapsed;
        Client *c;

        if (argc != 5) {
                fprintf(stderr, "Usage: %s CLIENTS CALLS SECRET PATH\n", argv[0]);
                return 2;
        }
        clients = (unsigned) atoi(argv[1]);
        calls = (unsigned) atoi(argv[2]);
        if (clients == 0 || clients > 1024 || calls == 0)
                return 2;
        c = calloc(clients, sizeof(Client));
        if (!c)
                return 1;
        for (unsigned i = 0; i < clients; i++) {
                c[i] = (Client){ .calls = calls, .id = i, .secret = argv[3], .path = argv[4] };
                for (unsigned k = 0; k < K_MAX; k++) {
                        c[i].s.lat[k] = calloc(calls + 2, sizeof(uint32_t));
                        if (!c[i].s.lat[k])
                                return 1;
                }
        }
        start = now_sec();
        for (unsigned i = 0; i < clients; i++)
                if (pthread_create(&c[i].thread, NULL, client_run, &c[i]) != 0)
                        return 1;
        for (unsigned i = 0; i < clients; i++)
                pthread_join(c[i].thread, NULL);
        elapsed = now_sec() - start;
        for (unsigned i = 0; i < clients; i++)
                if (c[i].setup_error < 0) {
                        fprintf(stderr, "client %u cannot connect: %s\n", i, strerror(-c[i].setup_error));
                        return 1;
                }
        for (unsigned k = 0; k < K_MAX; k++) {
                size_t n = 0, l = 0, w = 0, rf = 0;
                uint32_t *all;
                for (unsigned i = 0; i < clients; i++)
                        n += c[i].s.n[k];
                all = malloc((n ? n : 1) * sizeof(uint32_t));
                if (!all)
                        return 1;
                n = 0;
                for (unsigned i = 0; i < clients; i++) {
                        memcpy(all + n, c[i].s.lat[k], c[i].s.n[k] * sizeof(uint32_t));
                        n += c[i].s.n[k];
                        l += c[i].s.lost[k];
                        w += c[i].s.wrong[k];
                        rf += c[i].s.refused[k];
                        free(c[i].s.lat[k]);
                }
                qsort(all, n, sizeof(uint32_t), cmp_u32);
                printf("%s %zu %zu %zu %zu %u %u\n", kind_name[k], n, l, w, rf, n ? all[n / 2] : 0,
                       n ? all[(size_t) ((double) n * 0.99)] : 0);
                total += n;
                lost += l;
                wrong += w;
                refused += rf;
                free(all);
        }
        printf("total %zu %zu %zu %zu %.1f %.0f\n", total, lost, wrong, refused, elapsed,
               (double) total / elapsed);
        free(c);
        return lost || wrong ? 1 : 0;
}
