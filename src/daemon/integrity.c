/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/stat.h>

#include "endpointd/bus.h"
#include "fileio.h"
#include "integrity-watch.h"
#include "integrity.h"
#include "log.h"
#include "openssl-util.h"
#include "serial-floor.h"
#include "signature.h"

/* inotify bursts are coalesced for this long before a recheck starts. */
#define RECHECK_DELAY_USEC (100 * USEC_PER_MSEC)
/* More touched paths than this at once: a full scan is cheaper. */
#define RECHECK_PATHS_MAX 4096U
/* ScanProgress is sent at most this often (at most 10 a second). */
#define PROGRESS_INTERVAL_USEC (100 * USEC_PER_MSEC)
/* Below the bus and every other source (see integrity_scan_start()). */
#define PROGRESS_PRIORITY (SD_EVENT_PRIORITY_NORMAL + 10)
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

struct Integrity {
        sd_event *event;
        const Config *config;
        Events *events;
        const IntegritySink *sink;
        void *userdata;
        const char *state; /* one of ENDPOINTD_STATE_* */
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
        sd_event_source *startup_scan;
        ScanProgress last_progress;
        uint64_t scan_id;
        uint64_t last_scan_id;
        usec_t scan_started; /* CLOCK_MONOTONIC */
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
};

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
        if (streq_ptr(ig->state, state))
                return;
        ig->state = state;
        if (ig->sink->state_changed)
                ig->sink->state_changed(ig, state, ig->userdata);
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
        if (!ig->sink->pcr_extend)
                return -ENODEV;
        return ig->sink->pcr_extend(pcr, digest, ig->userdata);
}

/* Extends MeasurementPCR= with digest and logs the event. Without a TPM the
 * event is still logged, marked as not extended, so that a verifier skips
 * it when replaying. */
static void integrity_measure(Integrity *ig, const uint8_t digest[32], const char *description) {
        unsigned pcr = ig->config->measurement_pcr;
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
        *ret = strjoin_alloc(ig->config->state_dir, "/", INTEGRITY_BUNDLE_FILE);
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
                /* Nothing verifies against a trust store that cannot be
                 * used: BadSignature, never a policy denial (EPERM from a
                 * directory others may write) or a malformed manifest. */
                return parse_error_set(error, 0, r == -ENOMEM ? ENOMEM : EKEYREJECTED,
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

/* --- events ------------------------------------------------------------------- */

static void integrity_event_refused(Integrity *ig, const EventSubject *subject, uint64_t serial, int r,
                                    const char *reason, const char *format, ...) _printf_(6, 7);
static void integrity_event_refused(Integrity *ig, const EventSubject *subject, uint64_t serial, int r,
                                    const char *reason, const char *format, ...) {
        char text[1024], nserial[32];
        va_list ap;

        va_start(ap, format);
        (void) vsnprintf(text, sizeof(text), format, ap);
        va_end(ap);
        (void) snprintf(nserial, sizeof(nserial), "%" PRIu64, serial);
        events_emit(ig->events, EVENT_MANIFEST_REFUSED, subject, NULL, r,
                    EVENT_FIELDS({ "SERIAL", serial > 0 ? nserial : NULL }, { "REASON", reason }), "%s",
                    text);
}

/* what: "Installed manifest" or "Loaded manifest". */
static void integrity_event_installed(Integrity *ig, const EventSubject *subject, const char *what) {
        const InstalledManifest *im = ig->installed;
        char serial[32];

        (void) snprintf(serial, sizeof(serial), "%" PRIu64, im->manifest->serial);
        events_emit(ig->events, EVENT_MANIFEST_INSTALLED, subject, NULL, 0,
                    EVENT_FIELDS({ "SERIAL", serial }, { "PRODUCT", strempty(im->manifest->product) },
                                 { "VERSION", strempty(im->manifest->version) }, { "SIGNER", im->signer },
                                 { "DIGEST", im->digest }),
                    "%s serial %" PRIu64 " (%s %s, %zu entries), signed by %s.", what, im->manifest->serial,
                    strempty(im->manifest->product), strempty(im->manifest->version),
                    im->manifest->n_entries, im->signer);
}

/* --- the serial floor -------------------------------------------------------- */

/* The TPM now, or NULL while there is none (the NV floor is then not read). */
static Tpm *integrity_tpm(Integrity *ig) {
        return ig->sink && ig->sink->tpm ? ig->sink->tpm(ig->userdata) : NULL;
}

/* Reads the floor; fails closed (nothing installs) when it is damaged or
 * unreadable, and says how to recover. */
static void integrity_serial_floor_load(Integrity *ig) {
        const char *dir = ig->config->state_dir;
        uint64_t v;
        int r;

        r = serial_floor_read(dir, integrity_tpm(ig), &v);
        if (r >= 0) {
                if (r > 0 && !ig->serial_floor_nv_unknown)
                        log_warning("The manifest serial floor in TPM NV cannot be read (no TPM): no manifest "
                                   "installs until the TPM is back. See endpointd-tpm(7).");
                ig->serial_floor_nv_unknown = r > 0;
                ig->serial_floor = MAX(ig->serial_floor, v);
                return;
        }
        ig->serial_floor = UINT64_MAX;
        ig->serial_floor_damaged = true;
        log_error(
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
        r = serial_floor_raise(ig->config->state_dir, integrity_tpm(ig), serial);
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
        r = integrity_verify_and_parse(ig->config->trust_dir, SIGNATURE_TIME_STORED, data, data_len, sig,
                                       sig_len, &im, &e);
        if (r < 0) {
                integrity_event_refused(ig, EVENT_SUBJECT_DAEMON, 0, r, e.message,
                                        "The installed manifest '%s' was refused (line %u: %s); running "
                                        "unverified.",
                                        path, e.line, e.message);
                return r;
        }
        if (ig->serial_floor_damaged) {
                integrity_event_refused(
                        ig, EVENT_SUBJECT_DAEMON, im->manifest->serial, -ESTALE, "serial floor damaged",
                        "The installed manifest '%s' was refused: without the serial floor, a "
                        "rollback cannot be ruled out; running unverified.",
                        path);
                return -ESTALE;
        }
        if (im->manifest->serial < ig->serial_floor) {
                integrity_event_refused(ig, EVENT_SUBJECT_DAEMON, im->manifest->serial, -ESTALE, "rollback",
                                        "The installed manifest '%s' was refused: serial %" PRIu64
                                        " is below the highest serial ever installed, %" PRIu64
                                        " (a rollback); running unverified.",
                                        path, im->manifest->serial, ig->serial_floor);
                return -ESTALE;
        }
        /* Stored, but the floor was not raised (a crash in between, or a
         * state directory from before the floor existed). */
        integrity_serial_floor_raise(ig, im->manifest->serial);
        ig->installed = TAKE_PTR(im);
        if (ig->sink->manifest_changed)
                ig->sink->manifest_changed(ig, ig->installed->manifest->serial, ig->userdata);
        integrity_event_installed(ig, EVENT_SUBJECT_DAEMON, "Loaded manifest");
        return 0;
}

/* --- full scans -------------------------------------------------------------- */

static void integrity_event_finished(Integrity *ig, uint64_t id, const char *state, uint64_t violations,
                                     const ScanProgress *p);

static void integrity_emit_progress(Integrity *ig, bool force) {
        ScanProgress p;

        if (!ig->scan)
                return;
        scanner_get_progress(ig->scan, &p);
        if (!force && memcmp(&p, &ig->last_progress, sizeof(p)) == 0)
                return;
        ig->last_progress = p;
        if (ig->sink->progress)
                ig->sink->progress(ig, ig->scan_id, &p, ig->userdata);
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
        integrity_event_finished(ig, id, ENDPOINTD_SCAN_CANCELLED, 0, NULL);
}

static int on_scan_done(sd_event_source *s, int fd, uint32_t revents, void *userdata);
static void integrity_watch_setup(Integrity *ig);
static void integrity_recheck_maybe_start(Integrity *ig);
static void integrity_interval_arm(Integrity *ig);

static int integrity_scan_start(Integrity *ig) {
        char id[32], serial[32];
        int r;

        if (ig->scan)
                return 0;
        if (!ig->installed)
                return -ENOMEDIUM;
        r = scanner_start(ig->installed->manifest, ig->root_fd, ig->config->scan_threads, NULL, 0,
                          &ig->scan);
        if (r < 0)
                return log_error_errno(r, "Failed to start a scan: %m");
        ig->scan_im = installed_ref(ig->installed);
        ig->scan_id = ++ig->last_scan_id;
        ig->scan_started = now_usec(CLOCK_MONOTONIC);
        ig->rescan = false;
        ig->last_progress = (ScanProgress){};
        r = sd_event_add_io(ig->event, &ig->scan_source, scanner_get_fd(ig->scan), EPOLLIN, on_scan_done,
                            ig);
        if (r >= 0)
                r = sd_event_add_time_relative(ig->event, &ig->progress_timer, CLOCK_MONOTONIC,
                                               PROGRESS_INTERVAL_USEC, 0, on_progress_timer, ig);
        /* Progress is only a courtesy: it goes out when nothing else waits.
         * At the bus's priority, a loop slower than the interval (a loaded
         * board; valgrind while a worker hashes) found the timer due again
         * at every turn and dispatched nothing else: an InstallManifest
         * call waited for minutes. */
        if (r >= 0)
                r = sd_event_source_set_priority(ig->progress_timer, PROGRESS_PRIORITY);
        if (r < 0) {
                integrity_scan_stop(ig);
                return log_error_errno(r, "Failed to watch the scan: %m");
        }
        (void) snprintf(id, sizeof(id), "%" PRIu64, ig->scan_id);
        (void) snprintf(serial, sizeof(serial), "%" PRIu64, ig->installed->manifest->serial);
        events_emit(ig->events, EVENT_SCAN_STARTED, EVENT_SUBJECT_DAEMON, NULL, 0,
                    EVENT_FIELDS({ "SCAN_ID", id }, { "SERIAL", serial }),
                    "Scan %" PRIu64 " of %zu entries started.", ig->scan_id,
                    ig->installed->manifest->n_entries);
        integrity_set_state(ig, ENDPOINTD_STATE_SCANNING);
        return 0;
}

int integrity_scan(Integrity *ig, uint64_t *ret_id) {
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

/* The Violation event; the bus layer sends it on as Integrity1.Violation. */
static void integrity_event_violation(Integrity *ig, const ScanViolation *v) {
        _cleanup_(freep) char *p = scan_path_escape(v->path);
        const char *kind = violation_kind_to_string(v->kind);

        events_emit(ig->events, EVENT_VIOLATION, EVENT_SUBJECT_DAEMON, strna(p), 0,
                    EVENT_FIELDS({ "PATH", strna(p) }, { "VIOLATION", kind }, { "DETAIL", v->detail }),
                    "Integrity violation (%s) at %s: %s", kind, strna(p), v->detail);
}

/* The ScanFinished event (state "cancelled" for a scan a new manifest
 * replaced, p NULL); the bus layer sends it on as Integrity1.ScanFinished.
 * The journal gets how long it took and how many files were read straight
 * from their directory's listing (see scanner.c), to compare runs. */
static void integrity_event_finished(Integrity *ig, uint64_t id, const char *state, uint64_t violations,
                                     const ScanProgress *p) {
        char sid[32], nv[32], files[32] = "", took[32] = "", direct[32] = "", how[128] = "";
        usec_t d = now_usec(CLOCK_MONOTONIC) - ig->scan_started;

        (void) snprintf(sid, sizeof(sid), "%" PRIu64, id);
        (void) snprintf(nv, sizeof(nv), "%" PRIu64, MIN(violations, (uint64_t) UINT32_MAX));
        if (p) {
                (void) snprintf(files, sizeof(files), "%" PRIu64, p->files_done);
                (void) snprintf(took, sizeof(took), "%" PRIu64, d);
                (void) snprintf(direct, sizeof(direct), "%" PRIu64, p->files_direct);
                (void) snprintf(how, sizeof(how), " (%" PRIu64 " entries in %" PRIu64 ".%03" PRIu64 " s, %" PRIu64
                                " files read without a stat first)", p->files_done, d / USEC_PER_SEC,
                                (d % USEC_PER_SEC) / 1000, p->files_direct);
        }
        events_emit(ig->events, EVENT_SCAN_FINISHED, EVENT_SUBJECT_DAEMON, NULL, 0,
                    EVENT_FIELDS({ "SCAN_ID", sid }, { "STATE", state }, { "VIOLATIONS", nv },
                                 { "FILES", p ? files : NULL }, { "DURATION_USEC", p ? took : NULL },
                                 { "FILES_DIRECT", p ? direct : NULL }),
                    "Scan %" PRIu64 " finished: %s, %" PRIu64 " violations%s.", id, state, violations, how);
}

static int on_scan_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Integrity *ig = userdata;
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
        state = total > 0 ? ENDPOINTD_STATE_VIOLATED : ENDPOINTD_STATE_TRUSTED;
        integrity_set_state(ig, state);
        if (ig->sink->scanned)
                ig->sink->scanned(ig, now_usec(CLOCK_REALTIME), ig->userdata);
        for (size_t i = 0; i < n; i++)
                integrity_event_violation(ig, ig->violations + i);
        integrity_event_finished(ig, id, state, total, &ig->last_progress);
        integrity_measure_verdict(ig, state, total);

        integrity_watch_setup(ig);
        integrity_interval_arm(ig);
        if (ig->rescan)
                (void) integrity_scan_start(ig);
        else
                integrity_recheck_maybe_start(ig);
        return 0;
}

static int on_startup_scan(sd_event_source *s, void *userdata) {
        Integrity *ig = userdata;

        ig->startup_scan = sd_event_source_disable_unref(ig->startup_scan);
        if (integrity_scan_start(ig) < 0)
                integrity_settle_state(ig);
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
        usec_t interval = ig->config->scan_interval;

        ig->interval_timer = sd_event_source_disable_unref(ig->interval_timer);
        if (interval == 0 || interval == USEC_INFINITY || !ig->installed)
                return;
        if (sd_event_add_time_relative(ig->event, &ig->interval_timer, CLOCK_MONOTONIC, interval,
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
                integrity_event_violation(ig, v + i);
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
        int r;

        if (ig->scan || ig->recheck || ig->n_pending == 0 || !ig->installed)
                return;
        ig->recheck_paths = TAKE_PTR(ig->pending);
        ig->n_recheck_paths = ig->n_pending;
        ig->n_pending = 0;
        r = scanner_start(ig->installed->manifest, ig->root_fd, ig->config->scan_threads, ig->recheck_paths,
                          ig->n_recheck_paths, &ig->recheck);
        if (r >= 0)
                r = sd_event_add_io(ig->event, &ig->recheck_source, scanner_get_fd(ig->recheck), EPOLLIN,
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
        } else if (sd_event_add_time_relative(ig->event, &ig->pending_timer, CLOCK_MONOTONIC,
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
        if (!ig->config->watch || !ig->installed)
                return;
        r = tree_watch_new(ig->event, ig->root_fd, ig->installed->manifest, on_tree_changed, ig, &ig->watch);
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
        r = sd_event_add_io(ig->event, &j->source, scanner_get_fd(j->scanner), EPOLLIN, on_verify_done, j);
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
                        j->done(ig, r, NULL, NULL, NULL, j->userdata);
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
                j->done(ig, r, NULL, NULL, NULL, j->userdata);
        else
                j->done(ig, 0, n > 0 ? violation_kind_to_string(v[0].kind) : "ok", expected, actual,
                        j->userdata);
        scan_violation_array_free(v, n);
        verify_job_free(j);
        verify_pump(ig);
        return 0;
}

int integrity_verify_file(Integrity *ig, const char *path, uint64_t owner, IntegrityVerifyDone done,
                          void *userdata) {
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

int integrity_check_executable(Integrity *ig, int fd, const char *path) {
        const char *root, *rel = path;
        const ManifestEntry *e;
        uint8_t d[32];
        size_t l;
        int r;

        if (!ig || !ig->installed)
                return -ENOMEDIUM;
        root = ig->config->root;
        l = strlen(root);
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
        EventSubjectCopy subject; /* who asked, for the event */
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
        event_subject_copy_done(&j->subject);
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
        integrity_event_installed(ig, &j->subject.subject, "Installed manifest");
        integrity_measure_manifest(ig);

        /* Results about the old manifest no longer mean anything. */
        integrity_scan_cancel(ig);
        integrity_recheck_stop(ig);
        integrity_set_violations(ig, NULL, 0);
        ig->scanned = false;
        /* Executable= bindings are checked against the manifest. */
        if (ig->sink->manifest_changed)
                ig->sink->manifest_changed(ig, ig->installed->manifest->serial, ig->userdata);
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
        if (r < 0)
                integrity_event_refused(ig, &j->subject.subject, j->im ? j->im->manifest->serial : 0, r,
                                        *j->error.message ? j->error.message : strerror(-r),
                                        "A manifest was refused: %s",
                                        *j->error.message ? j->error.message : strerror(-r));
        j->done(ig, r, &j->error, j->userdata);
        install_job_free(j);
        return 0;
}

int integrity_install(Integrity *ig, const EventSubject *subject, char *data, size_t len, char *sig,
                      size_t sig_len, IntegrityInstallDone done, void *userdata) {
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
                           .trust_dir = strdup(ig->config->trust_dir),
                           .at = ig->sink->now ? ig->sink->now(ig->userdata) : now_usec(CLOCK_REALTIME),
                           .event_fd = -EBADF };
        j->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        r = !j->trust_dir ? -ENOMEM : j->event_fd < 0 ? -errno : 0;
        if (r >= 0)
                r = event_subject_copy(subject, &j->subject);
        if (r >= 0)
                r = sd_event_add_io(ig->event, &j->source, j->event_fd, EPOLLIN, on_install_done, j);
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

int integrity_get_manifest_info(Integrity *ig, IntegrityManifestInfo *ret) {

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

const ScanViolation *integrity_get_violations(Integrity *ig, size_t *ret_n) {

        *ret_n = ig ? ig->n_violations : 0;
        return ig ? ig->violations : NULL;
}

const Measurement *integrity_get_measurements(Integrity *ig, size_t *ret_n) {

        if (!ig || !ig->measurements) {
                *ret_n = 0;
                return NULL;
        }
        return measure_log_get(ig->measurements, ret_n);
}

/* --- construction ------------------------------------------------------------------ */

Integrity *integrity_free(Integrity *ig) {
        if (!ig)
                return NULL;
        /* Each waiting caller gets its answer; the jobs' references on the
         * manifest go before the manifest does. */
        while (ig->verifies) {
                VerifyJob *j = ig->verifies;

                verify_job_unlink(ig, j);
                j->done(ig, -ECANCELED, NULL, NULL, NULL, j->userdata);
                verify_job_free(j);
        }
        if (ig->install) {
                InstallJob *j = TAKE_PTR(ig->install);
                (void) pthread_join(j->thread, NULL);
                j->joinable = false;
                j->done(ig, -ECANCELED, &j->error, j->userdata);
                install_job_free(j);
        }
        ig->startup_scan = sd_event_source_disable_unref(ig->startup_scan);
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
        return NULL;
}

int integrity_new(sd_event *event, const Config *config, Events *events, const IntegritySink *sink,
                  void *userdata, Integrity **ret) {
        _cleanup_(integrity_freep) Integrity *ig = NULL;
        int r;

        ig = calloc(1, sizeof(Integrity));
        if (!ig)
                return -ENOMEM;
        *ig = (Integrity){ .event = event,
                           .config = config,
                           .events = events,
                           .sink = sink,
                           .userdata = userdata,
                           .root_fd = -EBADF,
                           .verify_workers = integrity_verify_workers() };
        ig->root_fd = open(config->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (ig->root_fd < 0)
                return log_error_errno(errno, "Cannot open Root= directory '%s': %m", config->root);
        r = measure_log_open(config->state_dir, &ig->measurements);
        if (r < 0)
                log_warning_errno(r,
                                  "Cannot open the measurement log in '%s', measurements are not logged: %m",
                                  config->state_dir);

        /* The floor first: a stored manifest below it is a rollback. */
        integrity_serial_floor_load(ig);
        /* A stored manifest that no longer verifies is not fatal: the daemon
         * runs on, unverified, and says so; the floor stays. */
        (void) integrity_load_bundle(ig);
        if (!ig->installed)
                integrity_set_state(ig, ENDPOINTD_STATE_UNVERIFIED);
        else {
                /* The first scan starts once the loop runs, after the rest
                 * of start-up (the system call filter, READY=1), so that
                 * nothing of start-up competes with it. */
                r = sd_event_add_defer(ig->event, &ig->startup_scan, on_startup_scan, ig);
                if (r < 0)
                        return r;
                integrity_set_state(ig, ENDPOINTD_STATE_SCANNING);
        }
        *ret = TAKE_PTR(ig);
        return 0;
}

void integrity_reload(Integrity *ig, const Config *config, const Config *old) {
        if (!ig)
                return;
        ig->config = config;
        if (!streq(old->root, config->root))
                log_warning("Root= takes effect only after a restart.");
        if (old->scan_interval != config->scan_interval && !ig->scan)
                integrity_interval_arm(ig);
        if (old->watch != config->watch && ig->scanned)
                integrity_watch_setup(ig);
}

const char *integrity_get_state(const Integrity *ig) {
        return ig && ig->state ? ig->state : ENDPOINTD_STATE_UNVERIFIED;
}
