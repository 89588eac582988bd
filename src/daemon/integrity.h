/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The integrity component: the installed, signed manifest; full scans at
 * start, every ScanInterval= and on request; rechecks of what inotify
 * reports; the violation list; PCR measurements. Scans run on the
 * scanner's worker threads and report back to the event loop through an
 * eventfd, so the loop (and the bus) never waits on one.
 *
 * The installed manifest and its signature are kept together in one file,
 * StateDirectory/manifest.bundle, replaced with write_file_atomic(): after a
 * crash either the old pair or the new pair is there, never one half of
 * each. Its signature is verified again at every start before a byte of the
 * manifest is believed. */

#include <stdint.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "events.h"
#include "measure.h"
#include "scanner.h"

#define INTEGRITY_BUNDLE_FILE "manifest.bundle"

typedef struct Integrity Integrity;

/* What the component reports to whoever built it (the manager), besides
 * the security events that go to the Events sink (manifest-installed and
 * -refused, scan-started, scan-finished, violation). Each member may be
 * NULL. Called on the event loop. */
typedef struct IntegritySink {
        /* IntegrityState is now state (one of ENDPOINTD_STATE_*). */
        void (*state_changed)(Integrity *ig, const char *state, void *userdata);
        /* A full scan finished at when (CLOCK_REALTIME µs): LastScan. */
        void (*scanned)(Integrity *ig, usec_t when, void *userdata);
        /* ScanProgress of the running full scan, at most 10 a second. */
        void (*progress)(Integrity *ig, uint64_t scan_id, const ScanProgress *p, void *userdata);
        /* A manifest with serial took effect (loaded at start or installed):
         * ManifestSerial, and Executable= bindings may decide otherwise. */
        void (*manifest_changed)(Integrity *ig, uint64_t serial, void *userdata);
        /* Extends PCR pcr with digest; -ENODEV without a TPM. */
        int (*pcr_extend)(unsigned pcr, const uint8_t digest[32], void *userdata);
        /* The time signatures are judged at (the access policy's clock,
         * which a clock set back does not turn back). */
        usec_t (*now)(void *userdata);
        /* The TPM now (the manifest serial floor is also kept in its NV), or
         * NULL while there is none. May be NULL. */
        struct Tpm *(*tpm)(void *userdata);
} IntegritySink;

/* Opens Root=, the measurement log and the serial floor, loads the stored
 * manifest and, with one, starts a full scan. config must stay valid until
 * integrity_reload() passes another or integrity_free(); sink and userdata
 * until integrity_free(). Returns -errno when Root= cannot be opened. */
int integrity_new(sd_event *event, const Config *config, Events *events, const IntegritySink *sink,
                  void *userdata, Integrity **ret);
/* Answers every waiting VerifyFile/InstallManifest with -ECANCELED first. */
Integrity *integrity_free(Integrity *ig);
DEFINE_TRIVIAL_CLEANUP_FUNC(Integrity *, integrity_free);
/* Takes config (old is the one it replaces) into use. */
void integrity_reload(Integrity *ig, const Config *config, const Config *old);

/* IntegrityState: one of ENDPOINTD_STATE_*. */
const char *integrity_get_state(const Integrity *ig);

/* Starts a full scan unless one runs already; either way returns its id.
 * -ENOMEDIUM without a manifest. */
int integrity_scan(Integrity *ig, uint64_t *ret_id);

/* The current violations, sorted by path; owned by the component. */
const ScanViolation *integrity_get_violations(Integrity *ig, size_t *ret_n);

/* Installs a manifest and its detached signature: a thread verifies the
 * signature against the trust directory and then parses; back on the loop
 * the serial must be above the installed one, both are stored atomically,
 * the manifest becomes current, is measured, and a full scan starts. Takes
 * ownership of data and sig (malloc'ed) in every case. Returns 0 when
 * started, then calls done on the loop with 0 or: -EKEYREJECTED (signature
 * does not verify), -EBADMSG/-EEXIST (does not parse; error has the line),
 * -ESTALE (serial not above the installed one), -EFBIG/-E2BIG (too large),
 * -ECANCELED (daemon stopping) or -errno storing it, error holding a
 * sentence. Returns -EBUSY while another install is being verified. */
typedef void (*IntegrityInstallDone)(Integrity *ig, int r, const ParseError *error, void *userdata);
int integrity_install(Integrity *ig, const EventSubject *subject, char *data, size_t len, char *sig,
                      size_t sig_len, IntegrityInstallDone done, void *userdata);

/* What GetManifest() reports. Pointers are owned by the component. */
typedef struct IntegrityManifestInfo {
        uint64_t serial;
        const char *product;
        const char *version;
        uint64_t n_entries;
        const char *signer;
        const char *digest; /* hex SHA-256 of the manifest file */
} IntegrityManifestInfo;

/* -ENOMEDIUM without a manifest. */
int integrity_get_manifest_info(Integrity *ig, IntegrityManifestInfo *ret);

/* Bounds of VerifyFile(): worker threads (one per online CPU up to this),
 * jobs running or waiting in all, and jobs of one owner. */
#define INTEGRITY_VERIFY_WORKERS_MAX 4U
#define INTEGRITY_VERIFY_QUEUE_MAX 32U
#define INTEGRITY_VERIFY_OWNER_MAX 4U

/* Checks one path (raw bytes, relative to Root=) on a worker thread and
 * calls done on the event loop with state "ok" or a violation kind, the
 * manifest's digest and the digest found (hex, "" when not applicable) or
 * with error < 0 (-ECANCELED when the daemon stops first). At most
 * INTEGRITY_VERIFY_WORKERS_MAX jobs run at once; the others wait, oldest
 * first. owner is an opaque key (the bus layer passes the caller's uid).
 * Returns 0 when started or queued; -ENOMEDIUM without a manifest, -ENOENT
 * when the path is not listed, -EDQUOT when owner already has
 * INTEGRITY_VERIFY_OWNER_MAX jobs, -EBUSY when INTEGRITY_VERIFY_QUEUE_MAX
 * jobs are running or waiting. done is never called when this fails. */
typedef void (*IntegrityVerifyDone)(Integrity *ig, int error, const char *state, const char *expected,
                                    const char *actual, void *userdata);
int integrity_verify_file(Integrity *ig, const char *path, uint64_t owner, IntegrityVerifyDone done,
                          void *userdata);

/* The measurement log of this boot; NULL when it could not be opened. */
const Measurement *integrity_get_measurements(Integrity *ig, size_t *ret_n);

/* For the access policy: 0 when path (absolute, as seen on the running
 * system; a Root= prefix is removed when Root= is not "/") is listed in the
 * installed manifest with a sha256 and the content of fd hashes to it.
 * -ENOMEDIUM without a manifest, -ENOENT when not listed or listed without
 * a sha256, -EKEYREJECTED on a mismatch (or a file that changed while being
 * hashed), other -errno when fd cannot be read. Runs synchronously; meant
 * for executables, which are small. */
int integrity_check_executable(Integrity *ig, int fd, const char *path);
