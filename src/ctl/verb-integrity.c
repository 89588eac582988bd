/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* endpointctl scan | violations | verify PATH | measurements */

#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "ctl-bus.h"
#include "ctl.h"
#include "endpointd/bus.h"
#include "log.h"
#include "table.h"
#include "util.h"

typedef struct ScanWatch {
        uint64_t id; /* 0 until Scan() answered */
        bool finished;
        bool progress; /* draw the bar */
        bool drawn;
        char state[32];
        uint32_t violations;
        usec_t started;
        /* The daemon's unique name, from the reply to Subscribe(): signals
         * addressed to us are delivered whatever match rule we set, so
         * anyone could send a ScanFinished; only the daemon's count. */
        char owner[256];
} ScanWatch;

static bool scan_signal_is_genuine(const ScanWatch *w, sd_bus_message *msg) {
        return w->owner[0] && streq_ptr(sd_bus_message_get_sender(msg), w->owner);
}

static void progress_draw(ScanWatch *w, uint64_t files, uint64_t files_total, uint64_t bytes,
                          uint64_t bytes_total) {
        double secs = (double) (now_usec(CLOCK_MONOTONIC) - w->started) / 1e6;
        double mb = (double) bytes / 1e6, mb_total = (double) bytes_total / 1e6;
        double rate = secs > 0.05 ? mb / secs : 0;
        double frac = bytes_total > 0   ? (double) bytes / (double) bytes_total
                      : files_total > 0 ? (double) files / (double) files_total
                                        : 0;
        unsigned cols = terminal_columns(STDERR_FILENO);
        char bar[21], eta[32] = "--:--", part[4][64], tail[256];
        int filled, bar_len = 20, n_parts = 4;

        /* Files whose size already differs are not hashed, so the bytes
         * may fall short of the total: every file done is 100%. */
        if (files_total > 0 && files >= files_total)
                frac = 1;
        frac = frac > 1 ? 1 : frac;
        if (rate > 0 && mb_total > mb) {
                unsigned long s = (unsigned long) ((mb_total - mb) / rate);
                (void) snprintf(eta, sizeof(eta), "%lu:%02lu", s / 60, s % 60);
        }
        (void) snprintf(part[0], sizeof(part[0]), "  %" PRIu64 "/%" PRIu64 " files", files, files_total);
        (void) snprintf(part[1], sizeof(part[1]), "  %.1f/%.1f MB", mb, mb_total);
        (void) snprintf(part[2], sizeof(part[2]), "  %.1f MB/s", rate);
        (void) snprintf(part[3], sizeof(part[3]), "  ETA %s", eta);
        /* Fit the line into the terminal (its last column left free, so
         * that it never wraps): drop ETA, rate and megabytes, then shorten
         * the bar. */
        for (;;) {
                size_t len = (size_t) bar_len + 2 + 5; /* "[bar]" and " 100%" */
                int k = snprintf(tail, sizeof(tail), "%s%s%s%s", part[0], n_parts > 1 ? part[1] : "",
                                 n_parts > 2 ? part[2] : "", n_parts > 3 ? part[3] : "");
                len += k > 0 ? (size_t) k : 0;
                if (cols == 0 || len + 1 < cols)
                        break;
                if (n_parts > 1)
                        n_parts--;
                else if (bar_len > 5)
                        bar_len -= MIN(bar_len - 5, (int) (len + 2 - cols));
                else
                        break;
        }
        filled = (int) (frac * bar_len);
        for (int i = 0; i < bar_len; i++)
                bar[i] = i < filled ? '#' : '.';
        bar[bar_len] = 0;
        fprintf(stderr, "\r[%s] %3d%%%s\033[K", bar, (int) (frac * 100), tail);
        fflush(stderr);
        w->drawn = true;
}

static int on_scan_progress(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ScanWatch *w = userdata;
        uint64_t id, f, ft, b, bt;

        if (!scan_signal_is_genuine(w, msg) || sd_bus_message_read(msg, "ttttt", &id, &f, &ft, &b, &bt) < 0 ||
            id != w->id || !w->progress)
                return 0;
        progress_draw(w, f, ft, b, bt);
        return 0;
}

static int on_scan_finished(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ScanWatch *w = userdata;
        const char *state;
        uint64_t id;
        uint32_t n;

        if (!scan_signal_is_genuine(w, msg) || sd_bus_message_read(msg, "tsu", &id, &state, &n) < 0 ||
            id != w->id)
                return 0;
        (void) snprintf(w->state, sizeof(w->state), "%s", state);
        w->violations = n;
        w->finished = true;
        return 0;
}

static int on_name_lost(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ScanWatch *w = userdata;
        const char *name, *old, *new;

        /* Only endpointd's name going away matters, not other clients'. */
        if (sd_bus_message_read(msg, "sss", &name, &old, &new) >= 0 && streq(name, ENDPOINTD_BUS_NAME) &&
            isempty(new)) {
                (void) snprintf(w->state, sizeof(w->state), "daemon-exited");
                w->finished = true;
        }
        return 0;
}

/* The violations the daemon holds, as a table; *ret_n their number. */
static int violations_table(sd_bus *bus, Table **ret, uint64_t *ret_n) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        const char *path, *kind, *detail;
        uint64_t when, n = 0;
        int r;

        r = ctl_call(bus, ENDPOINTD_IFACE_INTEGRITY, "GetViolations", &reply, "read the violations", NULL);
        if (r != 0)
                return r;
        t = table_new(false, "path", "kind", "detail", "detected");
        if (!t)
                return log_oom();
        r = sd_bus_message_enter_container(reply, 'a', "(ssst)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ssst)", &path, &kind, &detail, &when)) > 0) {
                n++;
                if ((r = table_add(t, CELL_STRING, path)) < 0 || (r = table_add(t, CELL_STRING, kind)) < 0 ||
                    (r = table_set_color(t, TABLE_COLOR_BAD)) < 0 ||
                    (r = table_add(t, CELL_STRING, detail)) < 0 ||
                    (r = table_add(t, CELL_TIMESTAMP, when)) < 0)
                        break;
        }
        if (r < 0)
                return log_error_errno(r, "Failed to parse the violations: %m");
        *ret = TAKE_PTR(t);
        *ret_n = n;
        return 0;
}

static int print_violations(sd_bus *bus) {
        _cleanup_(table_freep) Table *t = NULL;
        uint64_t n;
        int r;

        r = violations_table(bus, &t, &n);
        if (r < 0)
                return r;
        if (n == 0 && !arg_json) {
                printf("No violations.\n");
                return 0;
        }
        r = table_print(t, arg_json, stdout);
        if (r < 0)
                return log_oom();
        return n > 0 ? VERB_VIOLATIONS : 0;
}

static int scan_wait(sd_bus *bus, ScanWatch *w) {
        while (!w->finished) {
                int r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return log_error_errno(r, "Lost the bus while waiting for the scan: %m");
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0 && r != -EINTR)
                        return log_error_errno(r, "Lost the bus while waiting for the scan: %m");
        }
        /* The last bar (the daemon sends a final ScanProgress) stays. */
        if (w->drawn)
                fputc('\n', stderr);
        return 0;
}

/* --json: the verdict with its violations, one object. */
static int print_scan_json(sd_bus *bus, const ScanWatch *w) {
        _cleanup_(table_freep) Table *t = NULL;
        json_object *o, *list;
        uint64_t n;
        int r;

        r = violations_table(bus, &t, &n);
        if (r < 0)
                return r;
        list = table_to_json(t);
        o = json_object_new_object();
        if (!list || !o || json_object_object_add(o, "scan", json_object_new_uint64(w->id)) < 0 ||
            json_object_object_add(o, "state", json_object_new_string(w->state)) < 0 ||
            json_object_object_add(o, "violationCount", json_object_new_uint64(w->violations)) < 0 ||
            json_object_object_add(o, "violations", list) < 0) {
                json_object_put(list);
                json_object_put(o);
                return log_oom();
        }
        return json_print(o, stdout) < 0 ? log_oom() : 0;
}

/* --json, when the scan cannot be followed: that it started. */
static int print_scan_started_json(uint64_t id) {
        json_object *o = json_object_new_object();

        if (!o || json_object_object_add(o, "scan", json_object_new_uint64(id)) < 0 ||
            json_object_object_add(o, "state", json_object_new_string("started")) < 0) {
                json_object_put(o);
                return log_oom();
        }
        return json_print(o, stdout) < 0 ? log_oom() : 0;
}

int verb_scan(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        ScanWatch w = { .started = now_usec(CLOCK_MONOTONIC) };
        sd_bus *bus = userdata;
        bool follow;
        int r;

        w.progress = !arg_no_progress && !arg_json && !arg_quiet && isatty(STDERR_FILENO);
        /* Match and subscribe before asking, so that not even a short scan's
         * end is missed. */
        r = sd_bus_match_signal(bus, NULL, ENDPOINTD_BUS_NAME, ENDPOINTD_OBJECT_PATH,
                                ENDPOINTD_IFACE_INTEGRITY, "ScanProgress", on_scan_progress, &w);
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, ENDPOINTD_BUS_NAME, ENDPOINTD_OBJECT_PATH,
                                        ENDPOINTD_IFACE_INTEGRITY, "ScanFinished", on_scan_finished, &w);
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                        "org.freedesktop.DBus", "NameOwnerChanged", on_name_lost, &w);
        if (r < 0)
                return log_error_errno(r, "Failed to subscribe to scan signals: %m");
        /* The daemon sends scan signals only to subscribers holding
         * integrity.read. A caller with integrity.scan alone still starts
         * the scan, and is told that it cannot follow it. */
        r = sd_bus_call_method(bus, ENDPOINTD_BUS_NAME, ENDPOINTD_OBJECT_PATH, ENDPOINTD_IFACE_INTEGRITY,
                               "Subscribe", &error, &reply, NULL);
        if (r < 0 && !sd_bus_error_has_name(&error, SD_BUS_ERROR_ACCESS_DENIED))
                return ctl_bus_error(r, &error, "subscribe to the scan's signals");
        if (r >= 0) {
                const char *owner = sd_bus_message_get_sender(reply);

                if (!owner || strlen(owner) >= sizeof(w.owner))
                        return log_error_errno(EBADMSG, "The reply to Subscribe() names no sender.");
                strcpy(w.owner, owner);
                reply = sd_bus_message_unref(reply);
        }
        follow = r >= 0;
        r = ctl_call(bus, ENDPOINTD_IFACE_INTEGRITY, "Scan", &reply, "start a scan", NULL);
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "t", &w.id);
        if (r < 0)
                return log_error_errno(r, "Failed to parse the reply: %m");
        if (!follow) {
                if (arg_json)
                        return print_scan_started_json(w.id);
                printf("Scan %" PRIu64 " started; following it needs the permission integrity.read.\n", w.id);
                return 0;
        }
        r = scan_wait(bus, &w);
        if (r < 0)
                return r;
        if (streq(w.state, "daemon-exited")) {
                log_error("endpointd exited during the scan.");
                return -EHOSTUNREACH;
        }
        if (streq(w.state, ENDPOINTD_SCAN_CANCELLED)) {
                log_error("Scan %" PRIu64 " was cancelled: a new manifest was installed and is scanned now.",
                          w.id);
                return -ECANCELED;
        }
        if (arg_json) {
                r = print_scan_json(bus, &w);
                return r < 0 ? r : w.violations > 0 ? VERB_VIOLATIONS : 0;
        }
        printf("Scan %" PRIu64 " finished: %s, %" PRIu32 " violation%s.\n", w.id, w.state, w.violations,
               w.violations == 1 ? "" : "s");
        if (w.violations == 0)
                return 0;
        r = print_violations(bus);
        return r == 0 && w.violations > 0 ? VERB_VIOLATIONS : r;
}

int verb_violations(int argc, char *argv[], void *userdata) {
        if (arg_follow)
                return verb_violations_follow(userdata);
        return print_violations(userdata);
}

int verb_verify(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        const char *state, *expected, *actual;
        sd_bus *bus = userdata;
        int r;

        r = ctl_call(bus, ENDPOINTD_IFACE_INTEGRITY, "VerifyFile", &reply, "verify the file", "s", argv[1]);
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "sss", &state, &expected, &actual);
        if (r < 0)
                return log_error_errno(r, "Failed to parse the reply: %m");
        t = table_new(true, "field", "value");
        if (!t)
                return log_oom();
        if (table_add(t, CELL_STRING, arg_json ? "path" : "Path") < 0 ||
            table_add(t, CELL_STRING, argv[1]) < 0 ||
            table_add(t, CELL_STRING, arg_json ? "state" : "State") < 0 ||
            table_add(t, CELL_STRING, state) < 0 ||
            table_set_color(t, streq(state, "ok") ? TABLE_COLOR_GOOD : TABLE_COLOR_BAD) < 0 ||
            table_add(t, CELL_STRING, arg_json ? "expected" : "Expected") < 0 ||
            table_add(t, CELL_DIGEST, *expected || arg_json ? expected : "-") < 0 ||
            table_add(t, CELL_STRING, arg_json ? "actual" : "Actual") < 0 ||
            table_add(t, CELL_DIGEST, *actual || arg_json ? actual : "-") < 0)
                return log_oom();
        r = table_print(t, arg_json, stdout);
        if (r < 0)
                return log_oom();
        return streq(state, "ok") ? 0 : VERB_VIOLATIONS;
}

int verb_measurements(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        sd_bus *bus = userdata;
        int r;

        r = ctl_call(bus, ENDPOINTD_IFACE_INTEGRITY, "GetMeasurements", &reply, "read the measurement log",
                     NULL);
        if (r != 0)
                return r;
        t = table_new(false, "pcr", "digest", "description", "time");
        if (!t)
                return log_oom();
        r = sd_bus_message_enter_container(reply, 'a', "(uayst)");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'r', "uayst")) > 0) {
                _cleanup_(freep) char *hex = NULL;
                const char *desc;
                const void *d;
                size_t dl;
                uint32_t pcr;
                uint64_t when;

                if ((r = sd_bus_message_read(reply, "u", &pcr)) < 0 ||
                    (r = sd_bus_message_read_array(reply, 'y', &d, &dl)) < 0 ||
                    (r = sd_bus_message_read(reply, "st", &desc, &when)) < 0 ||
                    (r = sd_bus_message_exit_container(reply)) < 0)
                        break;
                hex = hexmem(d, dl);
                if (!hex || table_add(t, CELL_UINT64, (uint64_t) pcr) < 0 ||
                    table_add(t, CELL_DIGEST, hex) < 0 || table_add(t, CELL_STRING, desc) < 0 ||
                    table_add(t, CELL_TIMESTAMP, when) < 0)
                        return log_oom();
        }
        if (r < 0)
                return log_error_errno(r, "Failed to parse the measurement log: %m");
        r = table_print(t, arg_json, stdout);
        return r < 0 ? log_oom() : 0;
}
