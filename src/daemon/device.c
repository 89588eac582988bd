/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "device.h"
#include "events.h"
#include "fileio.h"
#include "log.h"
#include "openssl-util.h"
#include "tpm-nv.h"

struct Device {
        sd_event_source *timer;
        char *tcti;
        char *owner_auth_file;
        bool owner_auth_warned;
        char *state_dir;
        Tpm *tpm;
        char *id;
        usec_t housekeeping_usec;
        Events *events;
        const DeviceEvents *sink;
        void *userdata;
};

/* The device id: SHA-256 of the device key's SubjectPublicKeyInfo (DER),
 * in hex; the same for as long as the endorsement seed stays. */
static int device_id_from_key(EVP_PKEY *pkey, char **ret) {
        unsigned char *der = NULL;
        uint8_t digest[32];
        int n, r;

        n = i2d_PUBKEY(pkey, &der);
        if (n <= 0)
                return -EIO;
        r = sha256_buffer(der, (size_t) n, digest);
        OPENSSL_free(der);
        if (r < 0)
                return r;
        *ret = hexmem(digest, sizeof(digest));
        return *ret ? 0 : -ENOMEM;
}

static void device_report(Device *d, bool available) {
        if (d->sink && d->sink->changed)
                d->sink->changed(d, available, d->id, d->userdata);
}

/* The owner hierarchy's authValue: the bytes of OwnerAuthFile=, else of the
 * credential tpm-owner-auth when systemd passed one, else empty. */
static int device_owner_auth(Device *d, char **ret, size_t *ret_len) {
        _cleanup_(freep) char *cred = NULL;
        const char *dir = getenv("CREDENTIALS_DIRECTORY"), *path = d->owner_auth_file;
        int r;

        *ret = NULL;
        *ret_len = 0;
        if (!path && !isempty(dir)) {
                cred = strjoin_alloc(dir, "/", DEVICE_OWNER_AUTH_CREDENTIAL);
                if (!cred)
                        return -ENOMEM;
                path = cred;
        }
        if (!path)
                return 0;
        r = read_full_file(path, TPM_OWNER_AUTH_MAX, ret, ret_len);
        if (r == -ENOENT && cred)
                return 0;
        if (r < 0 && !d->owner_auth_warned) {
                d->owner_auth_warned = true;
                log_error("Cannot read the TPM owner authorization from '%s' (%s); see endpointd-tpm(7).",
                          path, r == -EFBIG ? "longer than 64 bytes" : strerror(-r));
        }
        return r;
}

/* Who else could undefine the NV indices (endpointd-tpm(7)): said at every
 * connection, since the daemon cannot change it. */
static void tpm_hierarchy_warn(Tpm *t) {
        bool owner_auth_set, platform_open;

        if (tpm_hierarchy_status(t, &owner_auth_set, &platform_open) < 0)
                return (void) log_debug("Cannot tell how the TPM's hierarchies are protected: %s",
                                        tpm_last_error(t));
        if (platform_open)
                log_warning(
                        "The TPM's platform hierarchy is enabled with an empty authorization: anyone with "
                        "access to the TPM can undefine the NV floors. The firmware must disable it or set "
                        "a random authorization at boot; see endpointd-tpm(7).");
        if (!owner_auth_set)
                log_notice("The TPM's owner hierarchy has no authValue: anyone with access to the TPM can "
                           "undefine the NV floors; see endpointd-tpm(7).");
}

static int device_connect(Device *d) {
        _cleanup_(tpm_freep) Tpm *t = NULL;
        _cleanup_(freep) char *auth = NULL;
        size_t auth_len;
        char *id = NULL;
        bool auth_has_nul;
        int r;

        r = device_owner_auth(d, &auth, &auth_len);
        if (r < 0)
                return r;
        /* tpm2-tools reads "file:" up to the first NUL byte: a binary secret
         * with one sets a shorter authValue than the file holds. */
        auth_has_nul = auth && memchr(auth, 0, auth_len);
        r = tpm_new_with_owner_auth(d->tcti, auth, auth_len, &t);
        if (auth)
                OPENSSL_cleanse(auth, auth_len);
        if (r == -EACCES && !d->owner_auth_warned) {
                /* Once: the TPM is tried again every few seconds. */
                d->owner_auth_warned = true;
                events_emit(
                        d->events, EVENT_TPM_ERROR, EVENT_SUBJECT_DAEMON, "owner-auth", r,
                        EVENT_FIELDS({ "OPERATION", "owner-auth" },
                                     { "REASON", "the owner hierarchy refuses the authorization given" }),
                        "The TPM's owner hierarchy refuses the daemon's authorization: it has an authValue "
                        "that was not given to endpointd (OwnerAuthFile= in [TPM], or the credential %s), "
                        "so there are no keys, measurements or NV floors.%s See endpointd-tpm(7).",
                        DEVICE_OWNER_AUTH_CREDENTIAL,
                        auth_has_nul ? " The authorization given holds a NUL byte, which tpm2-tools does not "
                                       "read from a file: use a text secret."
                                     : "");
        }
        if (r < 0)
                return r;
        d->owner_auth_warned = false;
        r = device_id_from_key(tpm_device_key(t), &id);
        if (r < 0)
                return r;
        /* The NV indices stay readable without the writer's secret; only
         * raising a floor then fails (and says why). */
        r = tpm_nv_setup(t, d->state_dir);
        if (r < 0 && r != -ENODEV && r != -EBUSY)
                events_emit(d->events, EVENT_TPM_ERROR, EVENT_SUBJECT_DAEMON, "nv-setup", r,
                            EVENT_FIELDS({ "OPERATION", "nv-setup" }, { "REASON", tpm_last_error(t) }),
                            "The TPM's NV indices are read-only for endpointd (%s): %s. See endpointd-tpm(7).",
                            strerror(-r), tpm_last_error(t));
        else if (r < 0) {
                free(id);
                return r;
        }
        tpm_hierarchy_warn(t);
        d->tpm = TAKE_PTR(t);
        free(d->id);
        d->id = id;
        events_emit(d->events, EVENT_TPM_AVAILABLE, EVENT_SUBJECT_DAEMON, NULL, 0,
                    EVENT_FIELDS({ "TCTI", d->tcti }, { "DEVICE_ID", d->id }),
                    "TPM available via '%s'; device id %s.", d->tcti, d->id);
        device_report(d, true);
        return 0;
}

static void device_lost(Device *d) {
        events_emit(d->events, EVENT_TPM_LOST, EVENT_SUBJECT_DAEMON, NULL, -ENODEV,
                    EVENT_FIELDS({ "TCTI", d->tcti }, { "REASON", tpm_last_error(d->tpm) }),
                    "Lost the TPM (%s); looking for it every %llus.", tpm_last_error(d->tpm),
                    (unsigned long long) (DEVICE_RETRY_USEC / USEC_PER_SEC));
        d->tpm = tpm_free(d->tpm);
        device_report(d, false);
}

/* A context marked lost by a call that otherwise succeeded (tpm.h: a
 * flush on its way out found the connection broken) is dropped here, so
 * that the next user gets a new one. */
static void device_drop_lost(Device *d) {
        if (d->tpm && tpm_is_lost(d->tpm))
                device_lost(d);
}

static usec_t device_next_tick(const Device *d) {
        usec_t t = d->housekeeping_usec, next;

        /* At most every 10 s also while the TPM is there, so that the
         * housekeeping hook keeps its pace. */
        next = t == 0 || t == USEC_INFINITY ? 10 * USEC_PER_SEC
                                            : MIN(MAX(t / 10, USEC_PER_SEC), 10 * USEC_PER_SEC);
        if (!d->tpm)
                next = MIN(next, DEVICE_RETRY_USEC);
        return next;
}

static int on_housekeeping(sd_event_source *s, uint64_t usec, void *userdata) {
        Device *d = userdata;

        device_drop_lost(d);
        if (!d->tpm)
                (void) device_connect(d);
        if (d->sink && d->sink->housekeeping)
                d->sink->housekeeping(d, d->userdata);
        (void) sd_event_source_set_time_relative(s, device_next_tick(d));
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

/* Brings the next tick forward to now: the loss was noticed in a call, and
 * a TPM that was reset is usually back already. */
static void device_retry_soon(Device *d) {
        if (!d->timer)
                return;
        (void) sd_event_source_set_time_relative(d->timer, 0);
        (void) sd_event_source_set_enabled(d->timer, SD_EVENT_ONESHOT);
}

int device_new(sd_event *e, const char *tcti, const char *owner_auth_file, const char *state_dir,
               Events *events, const DeviceEvents *sink, void *userdata, Device **ret) {
        _cleanup_(device_freep) Device *d = calloc(1, sizeof(Device));
        int r;

        if (!d)
                return -ENOMEM;
        d->tcti = strdup(strempty(tcti));
        d->id = strdup("");
        d->state_dir = strdup(state_dir);
        if (!d->tcti || !d->id || !d->state_dir)
                return -ENOMEM;
        if (owner_auth_file) {
                d->owner_auth_file = strdup(owner_auth_file);
                if (!d->owner_auth_file)
                        return -ENOMEM;
        }
        d->events = events;
        d->sink = sink;
        d->userdata = userdata;
        /* Every TSS2 error reaches the journal once, decoded, through
         * tss2_to_errno(); the library's own stderr chatter would repeat
         * it. An explicit TSS2_LOG (e.g. tcti+trace) still wins. */
        (void) setenv("TSS2_LOG", "all+none", false);
        r = sd_event_add_time_relative(e, &d->timer, CLOCK_MONOTONIC, DEVICE_RETRY_USEC, USEC_PER_SEC / 10,
                                       on_housekeeping, d);
        if (r < 0)
                return r;
        r = device_connect(d);
        if (r < 0) {
                /* Not fatal: the device keeps working without its TPM and
                 * picks it up when it appears. */
                events_emit(d->events, EVENT_TPM_LOST, EVENT_SUBJECT_DAEMON, NULL, r,
                            EVENT_FIELDS({ "TCTI", d->tcti }, { "REASON", strerror(-r) }),
                            "No TPM via '%s' (%s); retrying every %llus.", d->tcti, strerror(-r),
                            (unsigned long long) (DEVICE_RETRY_USEC / USEC_PER_SEC));
        }
        *ret = TAKE_PTR(d);
        return 0;
}

Device *device_free(Device *d) {
        if (!d)
                return NULL;
        sd_event_source_disable_unref(d->timer);
        tpm_free(d->tpm);
        free(d->tcti);
        free(d->owner_auth_file);
        free(d->state_dir);
        free(d->id);
        free(d);
        return NULL;
}

Tpm *device_tpm(const Device *d) {
        return d ? d->tpm : NULL;
}

const char *device_id(const Device *d) {
        return d ? d->id : "";
}

int device_ensure(Device *d) {
        if (!d)
                return -ENODEV;
        device_drop_lost(d);
        if (!d->tpm)
                (void) device_connect(d);
        return d->tpm ? 0 : -ENODEV;
}

/* A failure the TPM itself reported (tpm.h: -EPROTO, -EBUSY) is a
 * tpm-error event; tpm_last_error() reads "operation: decoded TSS2 code". */
static void device_error(Device *d, int r) {
        const char *text = tpm_last_error(d->tpm), *colon = strstr(text, ": ");
        char op[64];

        (void) snprintf(op, sizeof(op), "%.*s", colon ? (int) (colon - text) : (int) strlen(text), text);
        events_emit(d->events, EVENT_TPM_ERROR, EVENT_SUBJECT_DAEMON, op, r,
                    EVENT_FIELDS({ "OPERATION", op }, { "REASON", text }), "TPM error: %s.", text);
}

bool device_check_lost(Device *d, int r) {
        if (!d || !d->tpm)
                return false;
        if (r != -ENODEV && !tpm_is_lost(d->tpm)) {
                if (r == -EPROTO || r == -EBUSY)
                        device_error(d, r);
                return false;
        }
        device_lost(d);
        device_retry_soon(d);
        return true;
}

int device_set_tcti(Device *d, const char *tcti) {
        char *n;

        if (streq(d->tcti, strempty(tcti)))
                return 0;
        n = strdup(strempty(tcti));
        if (!n)
                return -ENOMEM;
        free(d->tcti);
        d->tcti = n;
        if (!d->tpm)
                return 0;
        /* Drop the old connection; the new one answers now or the timer
         * picks it up. */
        d->tpm = tpm_free(d->tpm);
        if (device_connect(d) < 0)
                device_report(d, false);
        return 0;
}

int device_set_owner_auth_file(Device *d, const char *path) {
        char *n = NULL;

        if (streq(strempty(d->owner_auth_file), strempty(path)))
                return 0;
        if (path) {
                n = strdup(path);
                if (!n)
                        return -ENOMEM;
        }
        free(d->owner_auth_file);
        d->owner_auth_file = n;
        d->owner_auth_warned = false;
        /* Without a TPM (perhaps for want of this), try at once. */
        if (!d->tpm)
                (void) device_connect(d);
        return 0;
}

void device_set_housekeeping_interval(Device *d, usec_t usec) {
        d->housekeeping_usec = usec;
}
