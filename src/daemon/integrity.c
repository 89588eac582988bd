/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/stat.h>

#include "authority.h"
#include "endpointd/bus.h"
#include "fileio.h"
#include "integrity-watch.h"
#include "integrity.h"
#include "log.h"
#include "openssl-util.h"
#include "serial-floor.h"
#include "signature.h"
#include "tpm.h"

/* The TPM component may be left out of a build; then nothing is extended. */
#pragma weak tpm_pcr_extend

/* inotify bursts are coalesced for this long before a recheck starts. */
#define RECHECK_DELAY_USEC (100 * USEC_PER_MSEC)
/* More touched paths than this at once: a full scan is cheaper. */
#define RECHECK_PATHS_MAX 4096U
/* ScanProgress is sent at most this often (at most 10 a second). */
#define PROGRESS_INTERVAL_USEC (100 * USEC_PER_MSEC)
#define BUNDLE_MAGIC "endpointd-manifest-bundle 1\n"

/* A verified, parsed manifest. Scans hold a reference, so installing a new
 * one while a scan runs never pulls the entries from under its workers. */
typedef struct InstalledManifest {
        unsigned n_ref;
        Manifest *manifest;
        char *signer;
        char digest[65];
} InstalledManifest;

typedef struct VerifyJob VerifyJob;
typedef struct InstallJob InstallJob;

typedef struct Integrity {
        Manager *manager;
        int root_fd;
        InstalledManifest *installed;
        /* The highest serial ever installed (serial-floor.h), read before
         * the stored manifest; UINT64_MAX when its record is damaged. */
        uint64_t serial_floor;
        bool serial_floor_damaged;
        /* The NV floor is in use but could not be read (no TPM). */
        bool serial_floor_nv_unknown;
        ScanViolation *violations;
        size_t n_violations;
        bool scanned; /* a full scan has finished since start or install */

        Scanner *scan; /* the running full scan */
        InstalledManifest *scan_im;
        sd_event_source *scan_source;
        sd_event_source *progress_timer;
        ScanProgress last_progress;
        uint64_t scan_id;
        uint64_t last_scan_id;
        bool rescan; /* another full scan is wanted after this one */

        Scanner *recheck; /* the running recheck of touched paths */
        InstalledManifest *recheck_im;
        char **recheck_paths;
        size_t n_recheck_paths;
        sd_event_source *recheck_source;
        char **pending; /* touched paths waiting for a recheck */
        size_t n_pending;
        sd_event_source *pending_timer;

        sd_event_source *interval_timer;

        TreeWatch *watch;

        VerifyJob *verifies; /* VerifyFile() jobs in the order they came, running or waiting */
        unsigned n_verifies;
        unsigned n_verifies_running;
        unsigned verify_workers; /* how many may run at once */
        InstallJob *install; /* the InstallManifest() being verified */
        MeasureLog *measurements;
} Integrity;

struct VerifyJob {
        VerifyJob *next;
        Integrity *integrity;
        uint64_t owner;
        Scanner *scanner; /* NULL while waiting for a worker */
        InstalledManifest *im;
        char *paths[1];
        sd_event_source *source;
        IntegrityVerifyDone done;
        void *userdata;
};

static InstalledManifest *installed_ref(InstalledManifest *im) {
        if (im)
                im->n_ref++;
        return im;
}

static InstalledManifest *installed_unref(InstalledManifest *im) {
        if (!im || --im->n_ref > 0)
                return NULL;
        manifest_free(im->manifest);
        free(im->signer);
        free(im);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(InstalledManifest *, installed_unref);

static void strv_free_n(char **v, size_t n) {
        for (size_t i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
}

static void integrity_set_state(Integrity *ig, const char *state) {
        Manager *m = ig->manager;

        if (streq(m->integrity_state, state))
                return;
        m->integrity_state = state;
        manager_emit_endpoint_changed(m, "IntegrityState");
        manager_set_status(m, "Serving %s; integrity %s.", ENDPOINTD_BUS_NAME, state);
}

/* The state once nothing is running: what the violation list says. */
static void integrity_settle_state(Integrity *ig) {
        if (ig->scan)
                return;
        if (!ig->installed || !ig->scanned)
                integrity_set_state(ig,
                                    ig->installed ? ENDPOINTD_STATE_SCANNING : ENDPOINTD_STATE_UNVERIFIED);
        else
                integrity_set_state(ig, ig->n_violations > 0 ? ENDPOINTD_STATE_VIOLATED
                                                             : ENDPOINTD_STATE_TRUSTED);
}

/* --- measurements --------------------------------------------------------- */

static int integrity_extend(Integrity *ig, unsigned pcr, const uint8_t digest[32]) {
        Manager *m = ig->manager;

        if (!m->tpm || !tpm_pcr_extend)
                return -ENODEV;
        return tpm_pcr_extend(m->tpm, pcr, digest);
}

/* Extends MeasurementPCR= with digest and logs the event. Without a TPM the
 * event is still logged, marked as not extended, so that a verifier skips
 * it when replaying. */
static void integrity_measure(Integrity *ig, const uint8_t digest[32], const char *description) {
        Manager *m = ig->manager;
        unsigned pcr = m->config->measurement_pcr;
        char text[MEASURE_DESCRIPTION_MAX];
        int r;

        r = integrity_extend(ig, pcr, digest);
        if (r == -ENODEV)
                log_debug("No TPM, not extending PCR %u with '%s'.", pcr, description);
        else if (r < 0)
                log_warning_errno(r, "Could not extend PCR %u with '%s': %m", pcr, description);
        (void) snprintf(text, sizeof(text), "%s%s", description, r < 0 ? " [not extended]" : "");
        if (!ig->measurements)
                return;
        r = measure_log_append(ig->measurements, pcr, digest, text);
        if (r < 0)
                log_error_errno(r, "Failed to append to the measurement log: %m");
}

static void integrity_measure_manifest(Integrity *ig) {
        const Manifest *mf = ig->installed->manifest;
        char text[MEASURE_DESCRIPTION_MAX];

        (void) snprintf(text, sizeof(text), "manifest serial=%" PRIu64 " product=%s version=%s", mf->serial,
                        strempty(mf->product), strempty(mf->version));
        integrity_measure(ig, mf->digest, text);
}

static void integrity_measure_verdict(Integrity *ig, const char *state, uint64_t violations) {
        char text[MEASURE_DESCRIPTION_MAX];
        uint8_t d[32];

        /* The digest of the description itself, so that a verifier who
         * reads the log can recompute what was extended. */
        (void) snprintf(text, sizeof(text),
                        "scan manifest=%s serial=%" PRIu64 " verdict=%s violations=%" PRIu64,
                        ig->installed->digest, ig->installed->manifest->serial, state, violations);
        if (sha256_buffer(text, strlen(text), d) < 0)
                return;
        integrity_measure(ig, d, text);
}

/* --- the stored bundle ------------------------------------------------------ */

static int bundle_path(Integrity *ig, char **ret) {
        *ret = strjoin_alloc(ig->manager->config->state_dir, "/", INTEGRITY_BUNDLE_FILE);
        return *ret ? 0 : -ENOMEM;
}

/* "endpointd-manifest-bundle 1\nmanifest N\nsignature M\n\n" + N + M bytes. */
static int bundle_store(Integrity *ig, const char *data, size_t len, const void *sig, size_t sig_len) {
        _cleanup_(freep) char *path = NULL, *buf = NULL;
        size_t total;
        int h, r;

        r = bundle_path(ig, &path);
        if (r < 0)
                return r;
        buf = malloc(len + sig_len + 128);
        if (!buf)
                return -ENOMEM;
        h = snprintf(buf, 128, BUNDLE_MAGIC "manifest %zu\nsignature %zu\n\n", len, sig_len);
        memcpy(buf + h, data, len);
        memcpy(buf + h + len, sig, sig_len);
        total = (size_t) h + len + sig_len;
        return write_file_atomic(path, buf, total, 0600);
}

static int bundle_split(char *buf, size_t len, char **ret_data, size_t *ret_len, char **ret_sig,
                        size_t *ret_sig_len) {
        size_t n, s;
        int off = 0;

        if (len < strlen(BUNDLE_MAGIC) || memcmp(buf, BUNDLE_MAGIC, strlen(BUNDLE_MAGIC)) != 0)
                return -EBADMSG;
        if (sscanf(buf + strlen(BUNDLE_MAGIC), "manifest %zu\nsignature %zu\n\n%n", &n, &s, &off) != 2 ||
            off == 0)
                return -EBADMSG;
        off += (int) strlen(BUNDLE_MAGIC);
        if (n > MANIFEST_FILE_MAX || s > SIGNATURE_MAX || (size_t) off + n + s != len)
                return -EBADMSG;
        *ret_data = buf + off;
        *ret_len = n;
        *ret_sig = buf + off + n;
        *ret_sig_len = s;
        return 0;
}

/* Checks the signature first (by a code-signing certificate valid at at,
 * or SIGNATURE_TIME_STORED for the stored manifest); only then parses.
 * Touches nothing but its arguments, so it runs on the install thread. */
static int integrity_verify_and_parse(const char *trust_dir, usec_t at, const char *data, size_t len,
                                      const void *sig, size_t sig_len, InstalledManifest **ret,
                                      ParseError *error) {
        _cleanup_(trust_store_freep) TrustStore *ts = NULL;
        _cleanup_(installed_unrefp) InstalledManifest *im = calloc(1, sizeof(InstalledManifest));
        _cleanup_(freep) char *hex = NULL;
        char why[SIGNATURE_ERROR_MAX] = "";
        int r;

        if (!im)
                return -ENOMEM;
        im->n_ref = 1;
        if (len > MANIFEST_FILE_MAX)
                return parse_error_set(error, 0, EFBIG, "The manifest is larger than %u bytes.",
                                       MANIFEST_FILE_MAX);
        if (sig_len > SIGNATURE_MAX)
                return parse_error_set(error, 0, EFBIG, "The signature is larger than %u bytes.",
                                       SIGNATURE_MAX);
        r = trust_store_load(trust_dir, &ts, why, sizeof(why));
        if (r < 0)
                return parse_error_set(error, 0, r == -ENOENT ? EKEYREJECTED : -r,
                                       "Cannot load the trust directory '%s': %s", trust_dir,
                                       *why ? why : strerror(-r));
        r = signature_verify(ts, SIGNER_ROLE_MANIFEST, at, data, len, sig, sig_len, &im->signer, why,
                             sizeof(why));
        if (r < 0)
                return parse_error_set(error, 0, r == -EBADMSG ? EKEYREJECTED : -r,
                                       "The manifest's signature does not verify: %s",
                                       *why ? why : strerror(-r));
        r = manifest_parse(data, len, &im->manifest, error);
        if (r < 0)
                return r;
        hex = hexmem(im->manifest->digest, 32);
        if (!hex)
                return -ENOMEM;
        memcpy(im->digest, hex, 65);
        *ret = TAKE_PTR(im);
        return 0;
}

/* --- the serial floor -------------------------------------------------------- */

/* Reads the floor; fails closed (nothing installs) when it is damaged or
 * unreadable, and says how to recover. */
static void integrity_serial_floor_load(Integrity *ig) {
        const char *dir = ig->manager->config->state_dir;
        uint64_t v;
        int r;

        r = serial_floor_read(dir, ig->manager->tpm, &v);
        if (r >= 0) {
                if (r > 0 && !ig->serial_floor_nv_unknown)
                        log_struct(LOG_WARNING, ENDPOINTD_MESSAGE_MANIFEST,
                                   "The manifest serial floor in TPM NV cannot be read (no TPM): no manifest "
                                   "installs until the TPM is back. See endpointd-tpm(7).");
                ig->serial_floor_nv_unknown = r > 0;
                ig->serial_floor = MAX(ig->serial_floor, v);
                return;
        }
        ig->serial_floor = UINT64_MAX;
        ig->serial_floor_damaged = true;
        log_struct(
                LOG_ERR, ENDPOINTD_MESSAGE_MANIFEST,
                "Cannot read the manifest serial floor %s/%s or its TPM NV index (%s): refusing every "
                "manifest. With the daemon stopped, remove the file to take the stored manifest's serial "
                "as the floor; see endpointd-tpm(7) for the NV index.",
                dir, SERIAL_FLOOR_FILE,
                r == -EBADMSG  ? "it is damaged, or not endpointd's"
                : r == -ESTALE ? "the NV floor went down, see the journal"
                               : strerror(-r));
}

/* Raises the floor to serial, on disk and here. A failure to write is
 * logged; the stored manifest raises it again at the next start. */
static void integrity_serial_floor_raise(Integrity *ig, uint64_t serial) {
        int r;

        /* Not only above the floor in memory: that may be NV's, and the
         * file (or NV) may still be below it. */
        if (ig->serial_floor_damaged)
                return;
        r = serial_floor_raise(ig->manager->config->state_dir, ig->manager->tpm, serial);
        if (r < 0)
                log_warning_errno(r, "Failed to raise the manifest serial floor to %" PRIu64 ": %m", serial);
        else if (r > 0)
                log_debug("Manifest serial floor raised to %" PRIu64 ".", serial);
        ig->serial_floor = MAX(ig->serial_floor, serial);
}

static int integrity_load_bundle(Integrity *ig) {
        _cleanup_(installed_unrefp) InstalledManifest *im = NULL;
        _cleanup_(freep) char *path = NULL, *buf = NULL;
        char *data, *sig;
        size_t len, data_len, sig_len;
        ParseError e = {};
        int r;

        r = bundle_path(ig, &path);
        if (r < 0)
                return r;
        r = read_full_file(path, MANIFEST_FILE_MAX + SIGNATURE_MAX + 128, &buf, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_error_errno(r, "Failed to read the installed manifest '%s': %m", path);
        r = bundle_split(buf, len, &data, &data_len, &sig, &sig_len);
        if (r < 0)
                return log_error_errno(r, "The installed manifest '%s' is damaged; ignoring it.", path);
        /* Its validity was judged when it was installed: an expired
         * signer certificate does not make it untrusted now. */
        r = integrity_verify_and_parse(ig->manager->config->trust_dir, SIGNATURE_TIME_STORED, data, data_len,
                                       sig, sig_len, &im, &e);
        if (r < 0) {
                log_struct(LOG_ERR, ENDPOINTD_MESSAGE_MANIFEST,
                           "The installed manifest '%s' was refused (line %u: %s); running unverified.",
                           path, e.line, e.message);
                return r;
        }
        if (ig->serial_floor_damaged) {
                log_struct(LOG_ERR, ENDPOINTD_MESSAGE_MANIFEST,
                           "The installed manifest '%s' was refused: without the serial floor, a rollback "
                           "cannot be ruled out; running unverified.",
                           path);
                return -ESTALE;
        }
        if (im->manifest->serial < ig->serial_floor) {
                log_struct(LOG_ERR, ENDPOINTD_MESSAGE_MANIFEST,
                           "The installed manifest '%s' was refused: serial %" PRIu64
                           " is below the highest serial ever installed, %" PRIu64 " (a rollback); running "
                           "unverified.",
                           path, im->manifest->serial, ig->serial_floor);
                return -ESTALE;
        }
        /* Stored, but the floor was not raised (a crash in between, or a
         * state directory from before the floor existed). */
        integrity_serial_floor_raise(ig, im->manifest->serial);
        ig->installed = TAKE_PTR(im);
        ig->manager->manifest_serial = ig->installed->manifest->serial;
        log_info("Loaded manifest serial %" PRIu64 " (%zu entries), signed by %s.",
                 ig->installed->manifest->serial, ig->installed->manifest->n_entries, ig->installed->signer);
        return 0;
}

/* --- full scans -------------------------------------------------------------- */

static void integrity_emit_progress(Integrity *ig, bool force) {
        ScanProgress p;

        if (!ig->scan)
                return;
        scanner_get_progress(ig->scan, &p);
        if (!force && memcmp(&p, &ig->last_progress, sizeof(p)) == 0)
                return;
        ig->last_progress = p;
        bus_integrity_emit_progress(ig->manager, ig->scan_id, &p);
}

static int on_progress_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Integrity *ig = userdata;

        integrity_emit_progress(ig, false);
        (void) sd_event_source_set_time_relative(s, PROGRESS_INTERVAL_USEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static void integrity_scan_stop(Integrity *ig) {
        ig->scan_source = sd_event_source_disable_unref(ig->scan_source);
        ig->progress_timer = sd_event_source_disable_unref(ig->progress_timer);
        ig->scan = scanner_free(ig->scan);
        ig->scan_im = installed_unref(ig->scan_im);
}

/* Stops a running full scan early (its workers stop within one read, and
 * are joined before the manifest they read is let go) and tells whoever
 * waits for its ScanFinished that it will not finish. */
static void integrity_scan_cancel(Integrity *ig) {
        uint64_t id = ig->scan_id;

        if (!ig->scan)
                return;
        integrity_scan_stop(ig);
        log_info("Scan %" PRIu64 " cancelled: a new manifest was installed.", id);
        bus_integrity_emit_finished(ig->manager, id, ENDPOINTD_SCAN_CANCELLED, 0);
}

static int on_scan_done(sd_event_source *s, int fd, uint32_t revents, void *userdata);
static void integrity_watch_setup(Integrity *ig);
static void integrity_recheck_maybe_start(Integrity *ig);
static void integrity_interval_arm(Integrity *ig);

static int integrity_scan_start(Integrity *ig) {
        Manager *m = ig->manager;
        int r;

        if (ig->scan)
                return 0;
        if (!ig->installed)
                return -ENOMEDIUM;
        r = scanner_start(ig->installed->manifest, ig->root_fd, m->config->scan_threads, NULL, 0, &ig->scan);
        if (r < 0)
                return log_error_errno(r, "Failed to start a scan: %m");
        ig->scan_im = installed_ref(ig->installed);
        ig->scan_id = ++ig->last_scan_id;
        ig->rescan = false;
        ig->last_progress = (ScanProgress){};
        r = sd_event_add_io(m->event, &ig->scan_source, scanner_get_fd(ig->scan), EPOLLIN, on_scan_done, ig);
        if (r >= 0)
                r = sd_event_add_time_relative(m->event, &ig->progress_timer, CLOCK_MONOTONIC,
                                               PROGRESS_INTERVAL_USEC, 0, on_progress_timer, ig);
        if (r < 0) {
                integrity_scan_stop(ig);
                return log_error_errno(r, "Failed to watch the scan: %m");
        }
        log_info("Scan %" PRIu64 " of %zu entries started.", ig->scan_id,
                 ig->installed->manifest->n_entries);
        integrity_set_state(ig, ENDPOINTD_STATE_SCANNING);
        return 0;
}

int integrity_scan(Manager *m, uint64_t *ret_id) {
        Integrity *ig = m->integrity;
        int r;

        if (!ig || !ig->installed)
                return -ENOMEDIUM;
        r = integrity_scan_start(ig);
        if (r < 0)
                return r;
        *ret_id = ig->scan_id;
        return 0;
}

static void integrity_set_violations(Integrity *ig, ScanViolation *v, size_t n) {
        scan_violation_array_free(ig->violations, ig->n_violations);
        ig->violations = v;
        ig->n_violations = n;
}

static void integrity_log_violation(const ScanViolation *v) {
        _cleanup_(freep) char *p = scan_path_escape(v->path);

        log_struct(LOG_WARNING, ENDPOINTD_MESSAGE_VIOLATION, "Integrity violation (%s) at %s: %s",
                   violation_kind_to_string(v->kind), strna(p), v->detail);
}

static int on_scan_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Integrity *ig = userdata;
        Manager *m = ig->manager;
        ScanViolation *v = NULL;
        uint64_t total = 0, id = ig->scan_id;
        const char *state;
        size_t n = 0;
        int r;

        if (!ig->scan || !scanner_is_done(ig->scan))
                return 0;
        integrity_emit_progress(ig, true);
        r = scanner_take_violations(ig->scan, &v, &n, &total);
        integrity_scan_stop(ig);
        if (r < 0)
                return log_error_errno(r, "Failed to collect the scan's result: %m");

        integrity_set_violations(ig, v, n);
        ig->scanned = true;
        m->last_scan = now_usec(CLOCK_REALTIME);
        state = total > 0 ? ENDPOINTD_STATE_VIOLATED : ENDPOINTD_STATE_TRUSTED;
        integrity_set_state(ig, state);
        manager_emit_endpoint_changed(m, "LastScan");
        for (size_t i = 0; i < n; i++) {
                integrity_log_violation(ig->violations + i);
                bus_integrity_emit_violation(m, ig->violations + i);
        }
        log_struct(LOG_INFO, ENDPOINTD_MESSAGE_SCAN_FINISHED,
                   "Scan %" PRIu64 " finished: %s, %" PRIu64 " violations.", id, state, total);
        bus_integrity_emit_finished(m, id, state, (uint32_t) MIN(total, UINT32_MAX));
        integrity_measure_verdict(ig, state, total);

        integrity_watch_setup(ig);
        integrity_interval_arm(ig);
        if (ig->rescan)
                (void) integrity_scan_start(ig);
        else
                integrity_recheck_maybe_start(ig);
        return 0;
}

/* --- ScanInterval= ------------------------------------------------------------ */

static int on_interval(sd_event_source *s, uint64_t usec, void *userdata) {
        Integrity *ig = userdata;

        if (ig->scan)
                ig->rescan = true;
        else
                (void) integrity_scan_start(ig);
        return 0;
}

/* The next periodic scan is ScanInterval= after the last one finished. */
static void integrity_interval_arm(Integrity *ig) {
        Manager *m = ig->manager;
        usec_t interval = m->config->scan_interval;

        ig->interval_timer = sd_event_source_disable_unref(ig->interval_timer);
        if (interval == 0 || interval == USEC_INFINITY || !ig->installed)
                return;
        if (sd_event_add_time_relative(m->event, &ig->interval_timer, CLOCK_MONOTONIC, interval,
                                       USEC_PER_SEC, on_interval, ig) < 0)
                log_warning("Failed to arm the ScanInterval= timer; periodic scans are off.");
}

/* --- rechecks of touched paths ------------------------------------------------ */

static void integrity_recheck_stop(Integrity *ig) {
        ig->recheck_source = sd_event_source_disable_unref(ig->recheck_source);
        ig->recheck = scanner_free(ig->recheck);
        ig->recheck_im = installed_unref(ig->recheck_im);
        strv_free_n(ig->recheck_paths, ig->n_recheck_paths);
        ig->recheck_paths = NULL;
        ig->n_recheck_paths = 0;
}

static int compare_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int compare_violation_path(const void *a, const void *b) {
        const ScanViolation *x = a, *y = b;
        return strcmp(x->path, y->path);
}

/* Replaces what the list says about the rechecked paths with the new result. */
static int integrity_merge(Integrity *ig, ScanViolation *v, size_t n) {
        ScanViolation *merged;
        size_t k = 0;
        char **paths = ig->recheck_paths;

        qsort(paths, ig->n_recheck_paths, sizeof(char *), compare_str);
        merged = reallocarray(NULL, ig->n_violations + n + 1, sizeof(ScanViolation));
        if (!merged) {
                scan_violation_array_free(v, n);
                return -ENOMEM;
        }
        for (size_t i = 0; i < ig->n_violations; i++) {
                const char *p = ig->violations[i].path;
                if (bsearch(&p, paths, ig->n_recheck_paths, sizeof(char *), compare_str))
                        scan_violation_done(ig->violations + i);
                else
                        merged[k++] = ig->violations[i];
        }
        for (size_t i = 0; i < n; i++) {
                /* The list is bounded as a scan's is, also when rechecks
                 * of watched paths keep adding to it. */
                if (k >= SCANNER_VIOLATIONS_MAX) {
                        log_warning("%zu more violations found by a recheck are not kept (at most %u).", n - i,
                                    SCANNER_VIOLATIONS_MAX);
                        for (size_t j = i; j < n; j++)
                                scan_violation_done(v + j);
                        break;
                }
                integrity_log_violation(v + i);
                bus_integrity_emit_violation(ig->manager, v + i);
                merged[k++] = v[i];
        }
        free(v);
        free(ig->violations);
        qsort(merged, k, sizeof(ScanViolation), compare_violation_path);
        ig->violations = merged;
        ig->n_violations = k;
        return 0;
}

static void integrity_queue_path(Integrity *ig, char *path);

static void integrity_requeue_below(Integrity *ig, const char *dir) {
        size_t l = strlen(dir);

        for (size_t i = 0; i < ig->n_violations; i++) {
                const char *p = ig->violations[i].path;
                if (streq(dir, ".") || (strncmp(p, dir, l) == 0 && p[l] == '/')) {
                        char *c = strdup(p);
                        if (c)
                                integrity_queue_path(ig, c);
                }
        }
}

static int on_recheck_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Integrity *ig = userdata;
        ScanViolation *v = NULL;
        size_t n = 0;
        int r;

        if (!ig->recheck || !scanner_is_done(ig->recheck))
                return 0;
        r = scanner_take_violations(ig->recheck, &v, &n, NULL);
        /* A recheck against a manifest replaced meanwhile says nothing. */
        if (r >= 0 && ig->recheck_im == ig->installed && ig->scanned)
                r = integrity_merge(ig, v, n);
        else if (r >= 0)
                scan_violation_array_free(v, n);
        if (r < 0)
                log_warning_errno(r, "Failed to apply a recheck: %m");
        /* A listed directory that was touched may have been replaced: its
         * old watch is gone, so the watches are set up again, and what was
         * found wrong below it is looked at again. */
        for (size_t i = 0; i < ig->n_recheck_paths && ig->installed; i++) {
                const ManifestEntry *e = manifest_find(ig->installed->manifest, ig->recheck_paths[i]);
                if (!e || e->type != ENTRY_DIR)
                        continue;
                integrity_watch_setup(ig);
                integrity_requeue_below(ig, e->path);
        }
        integrity_recheck_stop(ig);
        integrity_settle_state(ig);
        integrity_recheck_maybe_start(ig);
        return 0;
}

static void integrity_recheck_maybe_start(Integrity *ig) {
        Manager *m = ig->manager;
        int r;

        if (ig->scan || ig->recheck || ig->n_pending == 0 || !ig->installed)
                return;
        ig->recheck_paths = TAKE_PTR(ig->pending);
        ig->n_recheck_paths = ig->n_pending;
        ig->n_pending = 0;
        r = scanner_start(ig->installed->manifest, ig->root_fd, m->config->scan_threads, ig->recheck_paths,
                          ig->n_recheck_paths, &ig->recheck);
        if (r >= 0)
                r = sd_event_add_io(m->event, &ig->recheck_source, scanner_get_fd(ig->recheck), EPOLLIN,
                                    on_recheck_done, ig);
        if (r < 0) {
                log_warning_errno(r, "Failed to recheck changed paths, scanning everything instead: %m");
                integrity_recheck_stop(ig);
                (void) integrity_scan_start(ig);
                return;
        }
        ig->recheck_im = installed_ref(ig->installed);
        log_debug("Rechecking %zu changed paths.", ig->n_recheck_paths);
}

static int on_pending_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        integrity_recheck_maybe_start(userdata);
        return 0;
}

static void integrity_queue_path(Integrity *ig, char *path) {
        _cleanup_(freep) char *p = path;
        char **n;

        for (size_t i = 0; i < ig->n_pending; i++)
                if (streq(ig->pending[i], p))
                        return;
        if (ig->n_pending >= RECHECK_PATHS_MAX) {
                /* Too much at once: one full scan covers it all. */
                if (ig->scan)
                        ig->rescan = true;
                else
                        (void) integrity_scan_start(ig);
                return;
        }
        n = reallocarray(ig->pending, ig->n_pending + 1, sizeof(char *));
        if (!n)
                return (void) log_oom();
        ig->pending = n;
        ig->pending[ig->n_pending++] = TAKE_PTR(p);
        if (ig->pending_timer) {
                int enabled = SD_EVENT_OFF;
                (void) sd_event_source_get_enabled(ig->pending_timer, &enabled);
                if (enabled != SD_EVENT_OFF)
                        return;
                (void) sd_event_source_set_time_relative(ig->pending_timer, RECHECK_DELAY_USEC);
                (void) sd_event_source_set_enabled(ig->pending_timer, SD_EVENT_ONESHOT);
        } else if (sd_event_add_time_relative(ig->manager->event, &ig->pending_timer, CLOCK_MONOTONIC,
                                              RECHECK_DELAY_USEC, 0, on_pending_timer, ig) < 0)
                log_warning("Failed to arm the recheck timer.");
}

/* --- watching ------------------------------------------------------------------- */

static void on_tree_changed(char *path, void *userdata) {
        Integrity *ig = userdata;

        if (path)
                integrity_queue_path(ig, path);
        else if (ig->scan)
                ig->rescan = true;
        else
                (void) integrity_scan_start(ig);
}

/* Redone after each full scan, so that directories that came back are
 * watched again. */
static void integrity_watch_setup(Integrity *ig) {
        int r;

        ig->watch = tree_watch_free(ig->watch);
        if (!ig->manager->config->watch || !ig->installed)
                return;
        r = tree_watch_new(ig->manager->event, ig->root_fd, ig->installed->manifest, on_tree_changed, ig,
                           &ig->watch);
        if (r < 0)
                log_warning_errno(r, "Failed to set up inotify, changes are seen at the next scan only: %m");
}

/* --- VerifyFile ------------------------------------------------------------------ */

/* VerifyFile() runs on at most this many threads at once, one per online
 * CPU up to INTEGRITY_VERIFY_WORKERS_MAX; further calls wait in a bounded
 * queue. A thread per call let one monitor start hundreds. */
static unsigned integrity_verify_workers(void) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);

        return (unsigned) MAX(MIN(cpus, (long) INTEGRITY_VERIFY_WORKERS_MAX), 1L);
}

static VerifyJob *verify_job_free(VerifyJob *j) {
        if (!j)
                return NULL;
        sd_event_source_disable_unref(j->source);
        scanner_free(j->scanner);
        installed_unref(j->im);
        free(j->paths[0]);
        free(j);
        return NULL;
}

static void verify_job_unlink(Integrity *ig, VerifyJob *j) {
        for (VerifyJob **p = &ig->verifies; *p; p = &(*p)->next)
                if (*p == j) {
                        *p = j->next;
                        ig->n_verifies--;
                        if (j->scanner)
                                ig->n_verifies_running--;
                        return;
                }
}

static int on_verify_done(sd_event_source *s, int fd, uint32_t revents, void *userdata);

/* One worker thread per job: the scanner checks exactly the one path. */
static int verify_job_start(Integrity *ig, VerifyJob *j) {
        int r;

        r = scanner_start(j->im->manifest, ig->root_fd, 1, j->paths, 1, &j->scanner);
        if (r < 0)
                return r;
        r = sd_event_add_io(ig->manager->event, &j->source, scanner_get_fd(j->scanner), EPOLLIN,
                            on_verify_done, j);
        if (r < 0) {
                j->scanner = scanner_free(j->scanner);
                return r;
        }
        ig->n_verifies_running++;
        return 0;
}

/* Starts waiting jobs, oldest first, while workers are free. A job that
 * cannot start is answered with the error. */
static void verify_pump(Integrity *ig) {
        VerifyJob *j = ig->verifies;

        while (j && ig->n_verifies_running < ig->verify_workers) {
                VerifyJob *next = j->next;
                int r;

                if (!j->scanner && (r = verify_job_start(ig, j)) < 0) {
                        verify_job_unlink(ig, j);
                        j->done(ig->manager, r, NULL, NULL, NULL, j->userdata);
                        verify_job_free(j);
                }
                j = next;
        }
}

static int on_verify_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        VerifyJob *j = userdata;
        Integrity *ig = j->integrity;
        const ManifestEntry *e = manifest_find(j->im->manifest, j->paths[0]);
        _cleanup_(freep) char *expected = NULL, *actual = NULL;
        ScanViolation *v = NULL;
        uint8_t d[32];
        size_t n = 0;
        int r;

        if (!scanner_is_done(j->scanner))
                return 0;
        verify_job_unlink(ig, j);
        r = scanner_take_violations(j->scanner, &v, &n, NULL);
        if (r >= 0) {
                expected = e && (e->has & MANIFEST_HAS_SHA256) ? hexmem(e->sha256, 32) : strdup("");
                actual = scanner_get_digest(j->scanner, d) >= 0 ? hexmem(d, 32) : strdup("");
                if (!expected || !actual)
                        r = -ENOMEM;
        }
        if (r < 0)
                j->done(ig->manager, r, NULL, NULL, NULL, j->userdata);
        else
                j->done(ig->manager, 0, n > 0 ? violation_kind_to_string(v[0].kind) : "ok", expected, actual,
                        j->userdata);
        scan_violation_array_free(v, n);
        verify_job_free(j);
        verify_pump(ig);
        return 0;
}

int integrity_verify_file(Manager *m, const char *path, uint64_t owner, IntegrityVerifyDone done,
                          void *userdata) {
        Integrity *ig = m->integrity;
        VerifyJob *j, **tail;
        unsigned mine = 0;
        int r;

        if (!ig || !ig->installed)
                return -ENOMEDIUM;
        if (!manifest_find(ig->installed->manifest, path))
                return -ENOENT;
        /* The owner's own bound first: a caller who floods is told that it
         * is the one over its share, not that the daemon is busy. */
        for (j = ig->verifies; j; j = j->next)
                if (j->owner == owner)
                        mine++;
        if (mine >= INTEGRITY_VERIFY_OWNER_MAX)
                return -EDQUOT;
        if (ig->n_verifies >= INTEGRITY_VERIFY_QUEUE_MAX)
                return -EBUSY;

        j = calloc(1, sizeof(VerifyJob));
        if (!j)
                return -ENOMEM;
        *j = (VerifyJob){ .integrity = ig,
                          .owner = owner,
                          .done = done,
                          .userdata = userdata,
                          .im = installed_ref(ig->installed),
                          .paths = { strdup(path) } };
        r = j->paths[0] ? 0 : -ENOMEM;
        if (r >= 0 && ig->n_verifies_running < ig->verify_workers)
                r = verify_job_start(ig, j);
        if (r < 0) {
                verify_job_free(j);
                return r;
        }
        for (tail = &ig->verifies; *tail; tail = &(*tail)->next)
                ;
        *tail = j;
        ig->n_verifies++;
        return 0;
}

/* --- for the access policy ------------------------------------------------------- */

int integrity_check_executable(Manager *m, int fd, const char *path) {
        Integrity *ig = m->integrity;
        const char *root = m->config->root, *rel = path;
        const ManifestEntry *e;
        size_t l = strlen(root);
        uint8_t d[32];
        int r;

        if (!ig || !ig->installed)
                return -ENOMEDIUM;
        while (l > 1 && root[l - 1] == '/')
                l--;
        if (l > 1 && strncmp(path, root, l) == 0 && path[l] == '/')
                rel = path + l;
        while (*rel == '/')
                rel++;
        e = manifest_find(ig->installed->manifest, *rel ? rel : ".");
        if (!e || !(e->has & MANIFEST_HAS_SHA256))
                return -ENOENT;
        r = scanner_hash_fd(fd, d);
        if (r == -EBUSY)
                return -EKEYREJECTED;
        if (r < 0)
                return r;
        return CRYPTO_memcmp(d, e->sha256, 32) == 0 ? 0 : -EKEYREJECTED;
}

/* --- InstallManifest --------------------------------------------------------------- */

struct InstallJob {
        Integrity *integrity;
        char *data;
        size_t len;
        char *sig;
        size_t sig_len;
        char *trust_dir; /* a copy: a reload may free the config meanwhile */
        usec_t at; /* the daemon's time at the call: certificates must be valid then */
        InstalledManifest *im; /* the thread's result */
        ParseError error;
        int r;
        int event_fd;
        pthread_t thread;
        bool joinable;
        sd_event_source *source;
        IntegrityInstallDone done;
        void *userdata;
};

static InstallJob *install_job_free(InstallJob *j) {
        if (!j)
                return NULL;
        if (j->joinable)
                (void) pthread_join(j->thread, NULL);
        sd_event_source_disable_unref(j->source);
        j->event_fd = safe_close(j->event_fd);
        installed_unref(j->im);
        free(j->data);
        free(j->sig);
        free(j->trust_dir);
        free(j);
        return NULL;
}

static void *install_thread(void *userdata) {
        InstallJob *j = userdata;

        j->r = integrity_verify_and_parse(j->trust_dir, j->at, j->data, j->len, j->sig, j->sig_len, &j->im,
                                          &j->error);
        (void) eventfd_write(j->event_fd, 1);
        return NULL;
}

/* On the loop, with a verified and parsed manifest: the serial check, the
 * atomic store, and only then the switch. */
static int integrity_install_commit(Integrity *ig, InstallJob *j) {
        Manager *m = ig->manager;
        int r;

        /* The TPM may have come since start: its NV floor counts too. */
        if (!ig->serial_floor_damaged)
                integrity_serial_floor_load(ig);
        if (ig->serial_floor_damaged)
                return parse_error_set(
                        &j->error, 0, ESTALE,
                        "The manifest serial floor is damaged, so no manifest can be installed "
                        "(see the journal).");
        if (ig->serial_floor_nv_unknown)
                return parse_error_set(&j->error, 0, ENODEV,
                                       "The manifest serial floor in TPM NV cannot be read without the TPM, "
                                       "so no manifest can be installed until it is back (see the journal).");
        /* The floor, not the loaded manifest: that may have been refused. */
        if (j->im->manifest->serial <= ig->serial_floor)
                return parse_error_set(&j->error, 0, ESTALE,
                                       "Manifest serial %" PRIu64
                                       " is not above the installed serial %" PRIu64 ".",
                                       j->im->manifest->serial, ig->serial_floor);
        /* The manifest first, then the floor: a crash in between leaves a
         * stored manifest above the floor, which raises it at the next
         * start; the other order could leave the floor above the only
         * stored manifest, refused at start and impossible to reinstall. */
        r = bundle_store(ig, j->data, j->len, j->sig, j->sig_len);
        if (r < 0)
                return parse_error_set(&j->error, 0, -r, "Failed to store the manifest: %s", strerror(-r));
        integrity_serial_floor_raise(ig, j->im->manifest->serial);

        installed_unref(ig->installed);
        ig->installed = TAKE_PTR(j->im);
        m->manifest_serial = ig->installed->manifest->serial;
        log_struct(LOG_NOTICE, ENDPOINTD_MESSAGE_MANIFEST,
                   "Installed manifest serial %" PRIu64 " (%s %s, %zu entries), signed by %s.",
                   ig->installed->manifest->serial, strempty(ig->installed->manifest->product),
                   strempty(ig->installed->manifest->version), ig->installed->manifest->n_entries,
                   ig->installed->signer);
        integrity_measure_manifest(ig);
        /* Executable= bindings are checked against the manifest. */
        manager_access_changed(m);

        /* Results about the old manifest no longer mean anything. */
        integrity_scan_cancel(ig);
        integrity_recheck_stop(ig);
        integrity_set_violations(ig, NULL, 0);
        ig->scanned = false;
        manager_emit_endpoint_changed(m, "ManifestSerial");
        if (integrity_scan_start(ig) < 0)
                integrity_settle_state(ig);
        return 0;
}

static int on_install_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        InstallJob *j = userdata;
        Integrity *ig = j->integrity;
        int r;

        ig->install = NULL;
        r = j->r < 0 ? j->r : integrity_install_commit(ig, j);
        j->done(ig->manager, r, &j->error, j->userdata);
        install_job_free(j);
        return 0;
}

int integrity_install(Manager *m, char *data, size_t len, char *sig, size_t sig_len,
                      IntegrityInstallDone done, void *userdata) {
        Integrity *ig = m->integrity;
        InstallJob *j;
        int r;

        if (!ig || ig->install || !(j = calloc(1, sizeof(InstallJob)))) {
                free(data);
                free(sig);
                return !ig ? -ENODEV : ig->install ? -EBUSY : -ENOMEM;
        }
        *j = (InstallJob){ .integrity = ig,
                           .len = len,
                           .sig_len = sig_len,
                           .done = done,
                           .userdata = userdata,
                           .trust_dir = strdup(m->config->trust_dir),
                           .at = authority_now(m->authority),
                           .event_fd = -EBADF };
        j->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        r = !j->trust_dir ? -ENOMEM : j->event_fd < 0 ? -errno : 0;
        if (r >= 0)
                r = sd_event_add_io(m->event, &j->source, j->event_fd, EPOLLIN, on_install_done, j);
        /* The buffers are the job's from here on, also on failure. */
        j->data = data;
        j->sig = sig;
        if (r >= 0)
                r = -pthread_create(&j->thread, NULL, install_thread, j);
        if (r < 0) {
                install_job_free(j);
                return r;
        }
        j->joinable = true;
        ig->install = j;
        return 0;
}

int integrity_get_manifest_info(Manager *m, IntegrityManifestInfo *ret) {
        Integrity *ig = m->integrity;

        if (!ig || !ig->installed)
                return -ENOMEDIUM;
        *ret = (IntegrityManifestInfo){
                .serial = ig->installed->manifest->serial,
                .product = strempty(ig->installed->manifest->product),
                .version = strempty(ig->installed->manifest->version),
                .n_entries = ig->installed->manifest->n_entries,
                .signer = strempty(ig->installed->signer),
                .digest = ig->installed->digest,
        };
        return 0;
}

const ScanViolation *integrity_get_violations(Manager *m, size_t *ret_n) {
        Integrity *ig = m->integrity;

        *ret_n = ig ? ig->n_violations : 0;
        return ig ? ig->violations : NULL;
}

const Measurement *integrity_get_measurements(Manager *m, size_t *ret_n) {
        Integrity *ig = m->integrity;

        if (!ig || !ig->measurements) {
                *ret_n = 0;
                return NULL;
        }
        return measure_log_get(ig->measurements, ret_n);
}

/* --- the component ------------------------------------------------------------------ */

static void integrity_stop(Manager *m) {
        Integrity *ig = m->integrity;

        if (!ig)
                return;
        /* Each waiting caller gets its answer; the jobs' references on the
         * manifest go before the manifest does. */
        while (ig->verifies) {
                VerifyJob *j = ig->verifies;

                verify_job_unlink(ig, j);
                j->done(m, -ECANCELED, NULL, NULL, NULL, j->userdata);
                verify_job_free(j);
        }
        if (ig->install) {
                InstallJob *j = TAKE_PTR(ig->install);
                (void) pthread_join(j->thread, NULL);
                j->joinable = false;
                j->done(m, -ECANCELED, &j->error, j->userdata);
                install_job_free(j);
        }
        integrity_scan_stop(ig);
        integrity_recheck_stop(ig);
        tree_watch_free(ig->watch);
        strv_free_n(ig->pending, ig->n_pending);
        sd_event_source_disable_unref(ig->pending_timer);
        sd_event_source_disable_unref(ig->interval_timer);
        integrity_set_violations(ig, NULL, 0);
        installed_unref(ig->installed);
        measure_log_free(ig->measurements);
        ig->root_fd = safe_close(ig->root_fd);
        free(ig);
        m->integrity = NULL;
}

static int integrity_start(Manager *m) {
        Integrity *ig;
        int r;

        ig = calloc(1, sizeof(Integrity));
        if (!ig)
                return -ENOMEM;
        ig->manager = m;
        ig->root_fd = -EBADF;
        m->integrity = ig;
        ig->verify_workers = integrity_verify_workers();
        ig->root_fd = open(m->config->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (ig->root_fd < 0)
                return log_error_errno(errno, "Cannot open Root= directory '%s': %m", m->config->root);
        r = measure_log_open(m->config->state_dir, &ig->measurements);
        if (r < 0)
                log_warning_errno(r,
                                  "Cannot open the measurement log in '%s', measurements are not logged: %m",
                                  m->config->state_dir);

        /* The floor first: a stored manifest below it is a rollback. */
        integrity_serial_floor_load(ig);
        /* A stored manifest that no longer verifies is not fatal: the daemon
         * runs on, unverified, and says so; the floor stays. */
        (void) integrity_load_bundle(ig);
        if (!ig->installed) {
                integrity_set_state(ig, ENDPOINTD_STATE_UNVERIFIED);
                return 0;
        }
        r = integrity_scan_start(ig);
        if (r < 0)
                return r;
        return 0;
}

static int integrity_reload(Manager *m, const Config *old) {
        Integrity *ig = m->integrity;

        if (!ig)
                return 0;
        if (!streq(old->root, m->config->root))
                log_warning("Root= takes effect only after a restart.");
        if (old->scan_interval != m->config->scan_interval && !ig->scan)
                integrity_interval_arm(ig);
        if (old->watch != m->config->watch && ig->scanned)
                integrity_watch_setup(ig);
        return 0;
}

const Component integrity_component = {
        .name = "integrity",
        .start = integrity_start,
        .stop = integrity_stop,
        .reload = integrity_reload,
};
