/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* org.endpointd.Integrity1: thin handlers over src/daemon/integrity.c.
 *
 * For `endpointctl manifest show` (NAME = manifest helper): call
 *   GetManifest() -> (t serial, s product, s version, t entries, s signer, s digest)
 * on ENDPOINTD_IFACE_INTEGRITY; permission integrity.read; without an
 * installed manifest it fails with org.endpointd.Error.NoManifest (ENOMEDIUM).
 * digest is the lower-case hex SHA-256 of the manifest file, signer the
 * signing certificate's subject. `manifest install FILE SIG` calls
 *   InstallManifest(h manifest, h signature)
 * with both files opened read-only (regular files; a pipe only if it was
 * completely written and closed). Errors: BadSignature, Malformed ("line N:
 * ..."), Rollback, TooLarge, InvalidArgs.
 *
 * Paths cross the bus as text: backslash, control bytes, DEL and (for names
 * that are not UTF-8) bytes >= 0x80 are written as \ooo (see
 * scan_path_escape()); VerifyFile() accepts the same form. */

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "bus-auth.h"
#include "bus-errors.h"
#include "bus-integrity.h"
#include "bus-subscribe.h"
#include "endpointd/bus.h"
#include "endpointd/errors.h"
#include "integrity.h"
#include "log.h"
#include "signature.h"

static int method_scan(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        uint64_t id;
        int r;

        r = bus_authorize(m, msg, NULL, error);
        if (r < 0)
                return r;
        r = integrity_scan(m->integrity, &id);
        if (r == -ENOMEDIUM)
                return bus_error_set_errnof(error, r, "No manifest is installed; there is nothing to scan against.");
        if (r < 0)
                return bus_error_set_errnof(error, r, "Failed to start a scan: %m");
        return sd_bus_reply_method_return(msg, "t", id);
}

static int method_get_violations(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        const ScanViolation *v;
        size_t n;
        int r;

        r = bus_authorize(m, msg, NULL, error);
        if (r < 0)
                return r;
        v = integrity_get_violations(m->integrity, &n);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssst)");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_(freep) char *p = scan_path_escape(v[i].path);
                r = p ? sd_bus_message_append(reply, "(ssst)", p, violation_kind_to_string(v[i].kind),
                                              v[i].detail, (uint64_t) v[i].detected)
                      : -ENOMEM;
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static void verify_done(Integrity *ig, int error, const char *state, const char *expected,
                        const char *actual, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = userdata;

        if (error < 0) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                (void) bus_error_set_errnof(&e, error, "Failed to verify the file: %s", strerror(-error));
                (void) sd_bus_reply_method_error(msg, &e);
        } else
                (void) sd_bus_reply_method_return(msg, "sss", state, expected, actual);
}

/* "/usr/bin/x", "./usr/bin/x" and "usr/bin/x" all name the manifest's
 * "usr/bin/x"; "/" and "." the root. */
static int path_from_bus(const char *s, char **ret) {
        _cleanup_(freep) char *raw = NULL;
        const char *p;
        int r;

        r = scan_path_unescape(s, &raw);
        if (r < 0)
                return r;
        p = raw;
        while (*p == '/' || (p[0] == '.' && p[1] == '/'))
                p += *p == '/' ? 1 : 2;
        *ret = strdup(*p ? p : ".");
        return *ret ? 0 : -ENOMEM;
}

/* An escaped path is at most four times as long as the raw one (\ooo), and
 * the raw one at most PATH_MAX: anything longer cannot be listed, and is
 * refused before a copy of it is made. */
#define VERIFY_PATH_TEXT_MAX (4U * PATH_MAX)

static int method_verify_file(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(freep) char *path = NULL;
        Manager *m = userdata;
        const char *s;
        uid_t uid;
        int r;

        r = sd_bus_message_read(msg, "s", &s);
        if (r < 0)
                return r;
        if (strnlen(s, VERIFY_PATH_TEXT_MAX + 1) > VERIFY_PATH_TEXT_MAX)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "The path is longer than %u bytes.", VERIFY_PATH_TEXT_MAX);
        if (path_from_bus(s, &path) < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Bad escape in path '%.200s'.",
                                         s);
        r = bus_authorize(m, msg, NULL, error);
        if (r < 0)
                return r;
        r = bus_caller_uid(m, msg, &uid);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot determine the caller's identity: %m");
        r = integrity_verify_file(m->integrity, path, uid, verify_done, sd_bus_message_ref(msg));
        if (r < 0) {
                sd_bus_message_unref(msg);
                if (r == -ENOMEDIUM)
                        return bus_error_set_errnof(error, r, "No manifest is installed.");
                if (r == -ENOENT)
                        return bus_error_set_errnof(error, r, "'%.200s' is not listed in the manifest.", s);
                if (r == -EDQUOT)
                        return bus_error_set_errnof(
                                error, r,
                                "uid %u already has %u VerifyFile calls in flight; wait for their replies.",
                                (unsigned) uid, INTEGRITY_VERIFY_OWNER_MAX);
                if (r == -EBUSY)
                        return bus_error_set_errnof(
                                error, r, "%u VerifyFile calls are queued already; try again shortly.",
                                INTEGRITY_VERIFY_QUEUE_MAX);
                return bus_error_set_errnof(error, r, "Failed to verify '%.200s': %m", s);
        }
        return 1;
}

/* Reads a passed fd without ever blocking: a regular file from offset 0
 * (the sender's offset is left alone), or a pipe that was completely
 * written and closed. -EFBIG above max, -EAGAIN for a pipe still open for
 * writing with nothing more in it, -EBADF for a descriptor not open for
 * reading (O_PATH or O_WRONLY), -EBADFD for anything else. */
static int read_passed_fd(int fd, size_t max, char **ret, size_t *ret_len) {
        _cleanup_(freep) char *buf = NULL;
        _cleanup_(closep) int pfd = -EBADF;
        struct stat st;
        size_t len = 0, cap;
        char proc[64];
        int flags;

        /* Checked before anything is read: an O_PATH or write-only
         * descriptor fails the read with EBADF, which would read as if the
         * daemon had lost the descriptor, not as the caller's mistake. A
         * write-only pipe end is refused too: we would hold its writer
         * open ourselves, so it could never be finished. */
        flags = fcntl(fd, F_GETFL);
        if (flags < 0)
                return -errno;
        if ((flags & O_PATH) || (flags & O_ACCMODE) == O_WRONLY)
                return -EBADF;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISREG(st.st_mode)) {
                if ((uint64_t) st.st_size > max)
                        return -EFBIG;
        } else if (S_ISFIFO(st.st_mode)) {
                /* A description of our own, so that O_NONBLOCK does not
                 * change the sender's. */
                (void) snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
                pfd = open(proc, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
                if (pfd < 0)
                        return -errno;
        } else
                return -EBADFD;

        /* Sized by the file, not by max: a board with overcommit disabled
         * must not need MANIFEST_FILE_MAX of address space per install. */
        cap = S_ISREG(st.st_mode) ? (size_t) st.st_size + 1 : 64U * 1024U;
        buf = malloc(cap);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n;

                if (len == cap) {
                        size_t ncap = cap > (max + 1) / 2 ? max + 1 : cap * 2;
                        char *p;

                        if (cap > max)
                                return -EFBIG;
                        p = realloc(buf, ncap);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                        cap = ncap;
                }
                n = pfd >= 0 ? read(pfd, buf + len, cap - len) : pread(fd, buf + len, cap - len, (off_t) len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len > max)
                        return -EFBIG;
        }
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

/* read_passed_fd() for the argument called what, with the bus error a
 * caller can act on: which argument, and why it cannot be used. */
static int read_passed_fd_arg(int fd, const char *what, size_t max, char **ret, size_t *ret_len,
                              sd_bus_error *error) {
        int r = read_passed_fd(fd, max, ret, ret_len);

        switch (r) {
        case 0:
                return 0;
        case -EFBIG:
                return sd_bus_error_setf(error, ENDPOINTD_ERROR_TOO_LARGE,
                                         "The %s is larger than %zu bytes.", what, max);
        case -EBADF:
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "The %s descriptor is not open for reading (O_PATH or write-only); "
                                         "pass it opened read-only.",
                                         what);
        case -EBADFD:
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "The %s descriptor is neither a regular file nor a pipe; pass a "
                                         "regular file, or a pipe that was completely written and closed.",
                                         what);
        case -EAGAIN:
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "The %s pipe is still open for writing; close its write end first.",
                                         what);
        case -ENOMEM:
                return r;
        default:
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "The %s cannot be read: %s.",
                                         what, strerror(-r));
        }
}

static int install_error(int r, const ParseError *e, sd_bus_error *error) {
        char msg[sizeof(e->message) + 32]; /* "line N: " + the message */

        if (e->line > 0)
                (void) snprintf(msg, sizeof(msg), "line %u: %s", e->line, e->message);
        else
                (void) snprintf(msg, sizeof(msg), "%s", *e->message ? e->message : strerror(-r));
        switch (r) {
        case -EKEYREJECTED:
                return sd_bus_error_set(error, ENDPOINTD_ERROR_BAD_SIGNATURE, msg);
        case -EBADMSG:
        case -EEXIST:
                return sd_bus_error_set(error, ENDPOINTD_ERROR_MALFORMED, msg);
        case -ESTALE:
                return sd_bus_error_set(error, ENDPOINTD_ERROR_ROLLBACK, msg);
        case -EFBIG:
        case -E2BIG:
                return sd_bus_error_set(error, ENDPOINTD_ERROR_TOO_LARGE, msg);
        default:
                return bus_error_set_errnof(error, r, "%s", msg);
        }
}

static void install_done(Integrity *ig, int r, const ParseError *e, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = userdata;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        if (r >= 0) {
                (void) sd_bus_reply_method_return(msg, NULL);
                return;
        }
        (void) install_error(r, e, &error);
        (void) sd_bus_reply_method_error(msg, &error);
}

/* The reply comes once a thread has verified and parsed the manifest. */
static int method_install_manifest(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(freep) char *data = NULL, *sig = NULL;
        Manager *m = userdata;
        EventSubject subject;
        size_t len, sig_len;
        int fd, sfd, r;

        r = sd_bus_message_read(msg, "hh", &fd, &sfd);
        if (r < 0)
                return r;
        r = bus_authorize(m, msg, NULL, error);
        if (r < 0)
                return r;
        r = read_passed_fd_arg(fd, "manifest", MANIFEST_FILE_MAX, &data, &len, error);
        if (r >= 0)
                r = read_passed_fd_arg(sfd, "signature", SIGNATURE_MAX, &sig, &sig_len, error);
        if (r < 0)
                return r;
        r = bus_event_subject(m, msg, &subject);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Cannot determine the caller's identity: %m");
        r = integrity_install(m->integrity, &subject, TAKE_PTR(data), len, TAKE_PTR(sig), sig_len,
                              install_done, sd_bus_message_ref(msg));
        if (r < 0) {
                sd_bus_message_unref(msg);
                if (r == -EBUSY)
                        return bus_error_set_errnof(error, r, "Another manifest is being installed; try again.");
                return bus_error_set_errnof(error, r, "Failed to install the manifest: %m");
        }
        return 1;
}

static int method_get_manifest(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        IntegrityManifestInfo info;
        int r;

        r = bus_authorize(m, msg, NULL, error);
        if (r < 0)
                return r;
        r = integrity_get_manifest_info(m->integrity, &info);
        if (r < 0)
                return bus_error_set_errnof(error, r, "No manifest is installed.");
        return sd_bus_reply_method_return(msg, "tsstss", info.serial, info.product, info.version,
                                          info.n_entries, info.signer, info.digest);
}

static int method_get_measurements(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        const Measurement *ms;
        size_t n;
        int r;

        r = bus_authorize(m, msg, NULL, error);
        if (r < 0)
                return r;
        ms = integrity_get_measurements(m->integrity, &n);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(uayst)");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = sd_bus_message_open_container(reply, 'r', "uayst");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "u", (uint32_t) ms[i].pcr);
                if (r >= 0)
                        r = sd_bus_message_append_array(reply, 'y', ms[i].digest, 32);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "st", ms[i].description, (uint64_t) ms[i].time);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* --- subscriptions (bus-subscribe.h) -------------------------------------
 *
 * ScanProgress, ScanFinished and Violation tell paths, digests and verdicts,
 * which only callers holding integrity.read may know: they go only to
 * subscribers (m->integrity_subscriptions). */

typedef struct SignalArgs {
        const char *types;
        va_list ap;
} SignalArgs;

static int signal_append_args(sd_bus_message *s, void *userdata) {
        SignalArgs *a = userdata;
        va_list ap;
        int r;

        va_copy(ap, a->ap);
        r = sd_bus_message_appendv(s, a->types, ap);
        va_end(ap);
        return r;
}

/* Sends one signal to every subscriber, each its own copy addressed to it. */
static void subscribers_emit(Manager *m, const char *member, const char *types, ...) {
        SignalArgs a = { .types = types };

        va_start(a.ap, types);
        bus_subscriptions_emit(m->integrity_subscriptions, member, signal_append_args, &a);
        va_end(a.ap);
}

void bus_integrity_emit_progress(Manager *m, uint64_t scan_id, const ScanProgress *p) {
        subscribers_emit(m, "ScanProgress", "ttttt", scan_id, p->files_done, p->files_total, p->bytes_done,
                         p->bytes_total);
}

/* The events that are Integrity1 signals: ScanFinished and Violation, made
 * from the event's fields (see the kinds table in events.c). */
void bus_integrity_event(Manager *m, const Event *e) {
        uint64_t id = 0;
        uint32_t n = 0;

        switch (e->kind) {
        case EVENT_SCAN_FINISHED:
                (void) parse_uint64(strempty(event_field(e, "SCAN_ID")), UINT64_MAX, &id);
                (void) parse_uint32(strempty(event_field(e, "VIOLATIONS")), &n);
                subscribers_emit(m, "ScanFinished", "tsu", id, strempty(event_field(e, "STATE")), n);
                break;
        case EVENT_VIOLATION:
                subscribers_emit(m, "Violation", "sss", strempty(event_field(e, "PATH")),
                                 strempty(event_field(e, "VIOLATION")), strempty(event_field(e, "DETAIL")));
                break;
        default:
                break;
        }
}

const sd_bus_vtable integrity_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("Scan", SD_BUS_NO_ARGS, SD_BUS_RESULT("t", scan_id), method_scan,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetViolations", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssst)", violations),
                                method_get_violations, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("VerifyFile", SD_BUS_ARGS("s", path),
                                SD_BUS_RESULT("s", state, "s", expected, "s", actual), method_verify_file,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("InstallManifest", SD_BUS_ARGS("h", manifest, "h", signature),
                                SD_BUS_NO_RESULT, method_install_manifest, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetManifest", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("t", serial, "s", product, "s", version, "t", entries, "s",
                                              signer, "s", digest),
                                method_get_manifest, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetMeasurements", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(uayst)", measurements),
                                method_get_measurements, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Subscribe", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, bus_method_subscribe,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Unsubscribe", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, bus_method_unsubscribe,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("ScanProgress",
                                SD_BUS_ARGS("t", scan_id, "t", files_done, "t", files_total, "t", bytes_done,
                                            "t", bytes_total),
                                0),
        SD_BUS_SIGNAL_WITH_ARGS("ScanFinished", SD_BUS_ARGS("t", scan_id, "s", state, "u", violations), 0),
        SD_BUS_SIGNAL_WITH_ARGS("Violation", SD_BUS_ARGS("s", path, "s", kind, "s", detail), 0),
        SD_BUS_VTABLE_END
};
