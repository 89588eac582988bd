/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>

#include "approvals.h"
#include "audit-log.h"
#include "bus-auth.h"
#include "bus-errors.h"
#include "bus-keys.h"
#include "device.h"
#include "fileio.h"
#include "endpointd/bus.h"
#include "endpointd/errors.h"
#include "events.h"
#include "keystore.h"
#include "log.h"
#include "openssl-util.h"
#include "signature.h"
#include "tpm-credential.h"
#include "tpm-policy.h"
#include "tpm.h"

/* An event about key, caused by the sender of msg (the daemon when msg is
 * NULL or its sender cannot be identified). A macro, so that the journal's
 * CODE_FILE/CODE_LINE/CODE_FUNC are those of the handler, not of a helper. */
#define keys_event(m, msg, kind, key, fields, ...)                                                          \
        keys_event_result(m, msg, kind, key, 0, fields, __VA_ARGS__)
/* The same for an action that failed with result (a -errno). */
#define keys_event_result(m, msg, kind, key, result, fields, ...)                                           \
        do {                                                                                                \
                EventSubject _subject;                                                                      \
                bool _known = (msg) && bus_event_subject((m), (msg), &_subject) >= 0;                       \
                events_emit((m)->events, (kind), _known ? &_subject : EVENT_SUBJECT_DAEMON, (key),          \
                            (result), (fields), __VA_ARGS__);                                               \
        } while (0)

/* ---- the TPM component: the device's sink ----------------------------------- */

static void on_device_changed(Device *d, bool available, const char *id, void *userdata) {
        Manager *m = userdata;
        char *copy;

        m->tpm = device_tpm(d);
        m->tpm_available = available;
        if (!available) {
                manager_emit_endpoint_changed(m, "TpmAvailable");
                return;
        }
        copy = strdup(id);
        if (copy) {
                free(m->device_id);
                m->device_id = copy;
        }
        manager_emit_endpoint_changed(m, "TpmAvailable", "DeviceId");
        /* Grants are bound to the device id. */
        manager_access_changed(m);
}

/* Wipes cached data keys whose time is up; the housekeeping timer runs at
 * a tenth of the cache timeout, so a key outlives it by at most 10%. */
static void on_device_housekeeping(Device *d, void *userdata) {
        Manager *m = userdata;

        if (m->keys)
                (void) keystore_cache_expire(m->keys, now_usec(CLOCK_MONOTONIC));
}

static const DeviceEvents device_events = {
        .changed = on_device_changed,
        .housekeeping = on_device_housekeeping,
};

static int tpm_start(Manager *m) {
        _cleanup_(freep) char *dir = strjoin_alloc(m->config->state_dir, "/", "keys");
        int r;

        if (!dir)
                return -ENOMEM;
        r = keystore_new(dir, m->config->key_cache_timeout, &m->keys);
        if (r >= 0)
                r = keystore_set_approval_dir(m->keys, m->config->state_dir);
        if (r < 0)
                return log_error_errno(r, "Cannot open the key store '%s': %m", dir);
        r = device_new(m->event, m->config->tcti, m->config->owner_auth_file, m->config->state_dir, m->events,
                       &device_events, m, &m->device);
        if (r < 0)
                return log_error_errno(r, "Cannot start the housekeeping timer: %m");
        device_set_housekeeping_interval(m->device, m->config->key_cache_timeout);
        return 0;
}

static void tpm_stop(Manager *m) {
        m->keys = keystore_free(m->keys);
        m->device = device_free(m->device);
        m->tpm = NULL;
        m->tpm_available = false;
}

static int tpm_reload(Manager *m, const Config *old) {
        if (m->keys)
                keystore_set_cache_timeout(m->keys, m->config->key_cache_timeout);
        if (!m->device)
                return 0;
        device_set_housekeeping_interval(m->device, m->config->key_cache_timeout);
        if (device_set_owner_auth_file(m->device, m->config->owner_auth_file) < 0)
                return -ENOMEM;
        return device_set_tcti(m->device, m->config->tcti);
}

const Component tpm_component = {
        .name = "TPM",
        .start = tpm_start,
        .stop = tpm_stop,
        .reload = tpm_reload,
};

/* ---- helpers of the handlers --------------------------------------------- */

/* Turns a module error into the bus error a client can act on. name is the
 * key concerned (or NULL); lost tells whether the TPM went away during the
 * call (device_check_lost()). Pure: what to do about a lost TPM is the
 * device's decision, taken before this is called. */
static int keys_error(Manager *m, int r, bool lost, const char *name, sd_bus_error *error) {
        const char *n = strempty(name);

        if (lost)
                return bus_error_set_errnof(error, ENODEV,
                                            "The TPM was reset or disconnected during the call; try again.");
        if (r == -ENODEV)
                return bus_error_set_errnof(error, ENODEV, "The TPM is not available.");
        switch (r) {
        case -ENOENT:
                return bus_error_set_errnof(error, ENOENT, "Key '%s' does not exist.", n);
        case -EEXIST:
                return bus_error_set_errnof(error, EEXIST, "Key '%s' already exists.", n);
        case -EINVAL:
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid argument for key '%s'.",
                                         n);
        case -EFBIG:
                return bus_error_set_errnof(error, EFBIG, "Input too large (see endpointd-dbus(7) for limits).");
        case -EMEDIUMTYPE:
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "'%s' is a sealed secret, not a data key.", n);
        case -EPERM:
                return sd_bus_error_setf(
                        error, SD_BUS_ERROR_ACCESS_DENIED,
                        "Key '%s' was created without 'exportable'; it never leaves endpointd.", n);
        case -EBADE:
                if (m->keys && keystore_is_signed(m->keys, n))
                        return bus_error_set_errnof(
                                error, EBADE,
                                "The PCR values are not those the installed approval covers ('%s'); refusing.",
                                n);
                return bus_error_set_errnof(error, EBADE, "The PCR values differ from when '%s' was sealed; refusing.",
                                 n);
        case -EXDEV:
                return bus_error_set_errnof(error, EXDEV, "Key '%s' was sealed by another TPM.", n);
        case -EKEYREJECTED:
                /* Tampered, whatever the PCRs hold: the header or the
                 * file's name was checked against the object first. */
                return bus_error_set_errnof(
                        error, EUCLEAN,
                        "The key file of '%s' was changed or does not belong to this name "
                        "(edited header, or a file renamed, copied or swapped with another "
                        "key's); refusing.",
                        n);
        case -EUCLEAN:
                if (m->keys && keystore_refusal(m->keys))
                        return bus_error_set_errnof(error, EUCLEAN, "The key file of '%s' %s; refusing.", n,
                                                    keystore_refusal(m->keys));
                return bus_error_set_errnof(error, EUCLEAN,
                                 "Integrity check failed for '%s': the data or the key file was "
                                 "changed, or the AAD differs.",
                                 n);
        case -ESTALE:
                return bus_error_set_errnof(
                        error, ESTALE,
                        "The key file of '%s' is older than the last one sealed under this name "
                        "(restored from a copy?); refusing.",
                        n);
        case -ENOKEY:
                return bus_error_set_errnof(error, ENOKEY,
                                            "No installed PCR approval opens '%s' (%s); refusing.", n,
                                            tpm_last_error(m->tpm));
        case -EBADMSG:
                return bus_error_set_errnof(error, EBADMSG, "Not an endpointd envelope (truncated or garbage).");
        case -EPROTONOSUPPORT:
                return bus_error_set_errnof(
                        error, EBADMSG,
                        "Unsupported envelope or key file version for '%s' (a version 1 key file, "
                        "which bound no name, must be deleted and created again).",
                        n);
        case -EBUSY:
                return bus_error_set_errnof(error, EBUSY, "The TPM is busy (%s); try again.", tpm_last_error(m->tpm));
        case -EPROTO:
                return bus_error_set_errnof(error, EPROTO, "TPM error: %s.", tpm_last_error(m->tpm));
        default:
                return bus_error_set_errnof(error, -r, "Key operation failed: %s.", strerror(-r));
        }
}

/* Tells the device about a failed call (it drops a TPM that went away and
 * looks for it again), then maps the error. */
static int keys_fail(Manager *m, int r, const char *name, sd_bus_error *error) {
        bool lost = device_check_lost(m->device, r);

        return keys_error(m, r, lost, name, error);
}

/* A TPM that came back is used at once, not at the next tick. */
static void tpm_ensure(Manager *m) {
        (void) device_ensure(m->device);
}

static int require_tpm(Manager *m, sd_bus_error *error) {
        tpm_ensure(m);
        if (m->tpm)
                return 0;
        return bus_error_set_errnof(error, ENODEV, "The TPM is not available.");
}

/* The caller's permission first (a denied caller learns nothing about the
 * TPM), then the TPM. */
static int authorize_with_tpm(Manager *m, sd_bus_message *msg, sd_bus_error *error) {
        int r = bus_authorize(m, msg, NULL, error);

        if (r < 0)
                return r;
        return require_tpm(m, error);
}

static int read_name(sd_bus_message *msg, const char **ret, sd_bus_error *error) {
        int r = sd_bus_message_read(msg, "s", ret);

        if (r < 0)
                return r;
        if (!name_is_valid(*ret))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Invalid key name '%s': use 1-64 characters of A-Z a-z 0-9 _ . - "
                                         "not starting with '.'.",
                                         *ret);
        return 0;
}

static int read_pcrs(sd_bus_message *msg, uint32_t *ret, sd_bus_error *error) {
        const uint32_t *p;
        size_t size;
        uint32_t mask = 0;
        int r;

        r = sd_bus_message_read_array(msg, 'u', (const void **) &p, &size);
        if (r < 0)
                return r;
        for (size_t i = 0; i < size / sizeof(uint32_t); i++) {
                if (p[i] >= TPM_PCR_MAX)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "PCR index %u out of range (0-23).", p[i]);
                mask |= 1U << p[i];
        }
        *ret = mask;
        return 0;
}

/* Reads the a{sv} options: "pcrs" (au), "exportable" (b) and "policy" (s:
 * "pcr", the default, or "signed"). */
static int read_options(sd_bus_message *msg, uint32_t *pcr_mask, bool *exportable, bool *signed_policy,
                        sd_bus_error *error) {
        const char *key, *v;
        int r, b;

        r = sd_bus_message_enter_container(msg, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
                r = sd_bus_message_read(msg, "s", &key);
                if (r < 0)
                        return r;
                if (streq(key, "pcrs")) {
                        r = sd_bus_message_enter_container(msg, 'v', "au");
                        if (r < 0)
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                         "Option 'pcrs' must be of type au.");
                        r = read_pcrs(msg, pcr_mask, error);
                } else if (streq(key, "exportable")) {
                        r = sd_bus_message_enter_container(msg, 'v', "b");
                        if (r < 0)
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                         "Option 'exportable' must be of type b.");
                        r = sd_bus_message_read(msg, "b", &b);
                        *exportable = b;
                } else if (streq(key, "policy")) {
                        r = sd_bus_message_enter_container(msg, 'v', "s");
                        if (r >= 0)
                                r = sd_bus_message_read(msg, "s", &v);
                        if (r < 0 || (!streq(v, "pcr") && !streq(v, "signed")))
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                         "Option 'policy' must be the string 'pcr' or "
                                                         "'signed'.");
                        *signed_policy = streq(v, "signed");
                } else
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown option '%s'.",
                                                 key);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(msg);
                if (r >= 0)
                        r = sd_bus_message_exit_container(msg);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(msg);
}

/* The PCR-policy key's Name for a seal with a signed policy. */
static int signed_key_name(Manager *m, bool signed_policy, uint8_t *ret, sd_bus_error *error) {
        int r;

        if (!signed_policy)
                return 0;
        r = approvals_policy_key_name(m->config->trust_dir, ret);
        if (r < 0)
                return bus_error_set_errnof(error, ENOENT,
                                            "No usable PCR-policy key %s/%s for a signed policy (%s).",
                                            m->config->trust_dir, APPROVALS_KEY_FILE,
                                            r == -EPERM ? UNTRUSTED_FILE : strerror(-r));
        return 0;
}

static int reply_bytes(sd_bus_message *msg, const void *p, size_t len, bool sensitive) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        if (sensitive)
                (void) sd_bus_message_sensitive(reply);
        r = sd_bus_message_append_array(reply, 'y', p, len);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* ---- methods ------------------------------------------------------------- */

static int method_create_key(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *name;
        uint32_t pcrs = m->config->pcr_mask;
        bool exportable = false, signed_policy = false;
        uint8_t key_name[TPM_KEY_NAME_SIZE];
        int r;

        r = read_name(msg, &name, error);
        if (r < 0)
                return r;
        r = read_options(msg, &pcrs, &exportable, &signed_policy, error);
        if (r < 0)
                return r;
        r = authorize_with_tpm(m, msg, error);
        if (r < 0)
                return r;
        r = signed_key_name(m, signed_policy, key_name, error);
        if (r < 0)
                return r;
        r = keystore_create_key_signed(m->keys, m->tpm, name, pcrs, signed_policy ? key_name : NULL,
                                       exportable);
        if (r < 0)
                return keys_fail(m, r, name, error);
        keys_event(m, msg, EVENT_KEY_CREATED, name,
                   EVENT_FIELDS({ "KEY", name }, { "EXPORTABLE", exportable ? "yes" : "no" }),
                   "Created data key '%s'%s.", name, exportable ? " (exportable)" : "");
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_delete_key(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *name;
        int r;

        r = read_name(msg, &name, error);
        if (r < 0)
                return r;
        r = bus_authorize(m, msg, NULL, error);
        if (r < 0)
                return r;
        r = keystore_delete(m->keys, name);
        if (r < 0)
                return keys_fail(m, r, name, error);
        keys_event(m, msg, EVENT_KEY_DELETED, name, EVENT_FIELDS({ "KEY", name }), "Deleted key '%s'.",
                   name);
        return sd_bus_reply_method_return(msg, NULL);
}

static int append_key_info(sd_bus_message *reply, const KeyInfo *k) {
        uint32_t pcrs[TPM_PCR_MAX];
        size_t n = 0;
        int r;

        for (unsigned i = 0; i < TPM_PCR_MAX; i++)
                if (k->pcr_mask & (1U << i))
                        pcrs[n++] = i;
        r = sd_bus_message_open_container(reply, 'r', "sa{sv}");
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", k->name);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}{sv}{sv}{sv}", "kind", "s",
                                          key_kind_to_string(k->kind), "exportable", "b", k->exportable,
                                          "created", "t", (uint64_t) k->created, "policy", "s",
                                          k->signed_policy ? "signed" : "pcr");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", "pcrs");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'v', "au");
        if (r >= 0)
                r = sd_bus_message_append_array(reply, 'u', pcrs, n * sizeof(uint32_t));
        for (int i = 0; i < 4 && r >= 0; i++)
                r = sd_bus_message_close_container(reply);
        return r;
}

static int method_list_keys(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) KeyInfo *keys = NULL;
        Manager *m = userdata;
        size_t n;
        int r;

        r = bus_authorize(m, msg, NULL, error);
        if (r < 0)
                return r;
        r = keystore_list(m->keys, &keys, &n);
        if (r < 0)
                return keys_fail(m, r, NULL, error);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sa{sv})");
        for (size_t i = 0; i < n && r >= 0; i++)
                r = append_key_info(reply, keys + i);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_crypt(sd_bus_message *msg, Manager *m, bool encrypt, sd_bus_error *error) {
        _cleanup_(freep) uint8_t *out = NULL;
        const void *in, *aad;
        size_t in_len, aad_len, out_len = 0;
        const char *name;
        int r;

        r = read_name(msg, &name, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read_array(msg, 'y', &in, &in_len);
        if (r >= 0)
                r = sd_bus_message_read_array(msg, 'y', &aad, &aad_len);
        if (r < 0)
                return r;
        r = bus_authorize(m, msg, name, error);
        if (r < 0)
                return r;
        tpm_ensure(m);
        if (encrypt)
                r = keystore_encrypt(m->keys, m->tpm, name, in, in_len, aad, aad_len, &out, &out_len);
        else
                r = keystore_decrypt(m->keys, m->tpm, name, in, in_len, aad, aad_len, &out, &out_len);
        if (r == -ENOKEY)
                return bus_error_set_errnof(error, EUCLEAN, "The ciphertext was not made with key '%s'.", name);
        if (r < 0)
                return keys_fail(m, r, name, error);
        r = reply_bytes(msg, out, out_len, !encrypt);
        if (!encrypt)
                OPENSSL_cleanse(out, out_len);
        keys_event(m, msg, EVENT_KEY_USED, name,
                   EVENT_FIELDS({ "KEY", name }, { "OPERATION", encrypt ? "encrypt" : "decrypt" }),
                   "%s with data key '%s' for a client.", encrypt ? "Encrypted" : "Decrypted", name);
        return r;
}

static int method_encrypt(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        /* The plaintext is what the key protects: wipe it with the message. */
        (void) sd_bus_message_sensitive(msg);
        return method_crypt(msg, userdata, true, error);
}

static int method_decrypt(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        (void) sd_bus_message_sensitive(msg);
        return method_crypt(msg, userdata, false, error);
}

static int method_seal(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *name;
        const void *secret;
        size_t len;
        uint32_t pcrs = m->config->pcr_mask;
        bool exportable = true, signed_policy = false;
        uint8_t key_name[TPM_KEY_NAME_SIZE];
        int r;

        (void) sd_bus_message_sensitive(msg);
        r = read_name(msg, &name, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read_array(msg, 'y', &secret, &len);
        if (r < 0)
                return r;
        r = read_options(msg, &pcrs, &exportable, &signed_policy, error);
        if (r < 0)
                return r;
        if (!exportable)
                return sd_bus_error_setf(
                        error, SD_BUS_ERROR_INVALID_ARGS,
                        "A sealed secret exists to be unsealed; 'exportable' must be true.");
        if (len == 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "The secret is empty.");
        if (len > TPM_SEAL_MAX)
                return bus_error_set_errnof(error, EFBIG, "Secrets are limited to %u bytes, got %zu.", TPM_SEAL_MAX,
                                 len);
        r = authorize_with_tpm(m, msg, error);
        if (r < 0)
                return r;
        r = signed_key_name(m, signed_policy, key_name, error);
        if (r < 0)
                return r;
        r = keystore_seal_signed(m->keys, m->tpm, name, pcrs, signed_policy ? key_name : NULL, secret, len);
        if (r < 0)
                return keys_fail(m, r, name, error);
        keys_event(m, msg, EVENT_KEY_SEALED, name, EVENT_FIELDS({ "KEY", name }), "Sealed secret '%s'.",
                   name);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_unseal(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *name;
        uint8_t *secret = NULL;
        size_t len;
        int r;

        r = read_name(msg, &name, error);
        if (r < 0)
                return r;
        r = bus_authorize(m, msg, name, error);
        if (r < 0)
                return r;
        tpm_ensure(m);
        r = keystore_unseal(m->keys, m->tpm, name, &secret, &len);
        if (r < 0)
                return keys_fail(m, r, name, error);
        r = reply_bytes(msg, secret, len, true);
        OPENSSL_secure_clear_free(secret, len);
        keys_event(m, msg, EVENT_KEY_UNSEALED, name, EVENT_FIELDS({ "KEY", name }),
                   "Unsealed '%s' for a client.", name);
        return r;
}

static int method_sign(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(freep) uint8_t *sig = NULL;
        Manager *m = userdata;
        const void *data;
        size_t len, sig_len;
        uint8_t digest[32];
        int r;

        r = sd_bus_message_read_array(msg, 'y', &data, &len);
        if (r < 0)
                return r;
        if (len > KEYSTORE_PLAINTEXT_MAX)
                return bus_error_set_errnof(error, EFBIG, "Sign takes at most %u bytes.", KEYSTORE_PLAINTEXT_MAX);
        /* The device key also signs the audit log's checkpoints, whose
         * signed part begins with this domain string: a client must not get
         * such data signed, or it could forge checkpoints (endpointd-audit(5)). */
        if (len >= strlen(AUDIT_CHECKPOINT_DOMAIN) &&
            memcmp(data, AUDIT_CHECKPOINT_DOMAIN, strlen(AUDIT_CHECKPOINT_DOMAIN)) == 0)
                return bus_error_set_errnof(error, EINVAL,
                                            "Data that begins like an audit checkpoint is not signed.");
        r = authorize_with_tpm(m, msg, error);
        if (r < 0)
                return r;
        r = sha256_buffer(data, len, digest);
        if (r >= 0)
                r = tpm_sign_digest(m->tpm, digest, &sig, &sig_len);
        if (r < 0)
                return keys_fail(m, r, NULL, error);
        {
                _cleanup_(freep) char *hex = hexmem(digest, sizeof(digest));

                keys_event(m, msg, EVENT_DEVICE_SIGNED, NULL, EVENT_FIELDS({ "DIGEST", hex }),
                           "Signed data with the device key for a client.");
        }
        return reply_bytes(msg, sig, sig_len, false);
}

static int pem_of(EVP_PKEY *pkey, char **ret) {
        _cleanup_(BIO_free_allp) BIO *b = BIO_new(BIO_s_mem());
        char *p;
        long n;

        if (!b || PEM_write_bio_PUBKEY(b, pkey) != 1)
                return -EIO;
        n = BIO_get_mem_data(b, &p);
        *ret = strndup(p, (size_t) n);
        return *ret ? 0 : -ENOMEM;
}

static int reply_pem(Manager *m, sd_bus_message *msg, EVP_PKEY *pkey, sd_bus_error *error) {
        _cleanup_(freep) char *pem = NULL;
        int r = pem_of(pkey, &pem);

        if (r < 0)
                return keys_fail(m, r, NULL, error);
        return sd_bus_reply_method_return(msg, "s", pem);
}

static int method_get_device_public_key(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = authorize_with_tpm(m, msg, error);
        if (r < 0)
                return r;
        return reply_pem(m, msg, tpm_device_key(m->tpm), error);
}

static int method_get_attestation_public_key(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        EVP_PKEY *ak;
        int r;

        r = authorize_with_tpm(m, msg, error);
        if (r < 0)
                return r;
        r = tpm_attestation_key(m->tpm, &ak);
        if (r < 0)
                return keys_fail(m, r, NULL, error);
        return reply_pem(m, msg, ak, error);
}

/* ---- the credential protocol (tpm-credential.h) ----------------------------- */

/* keys_fail() for the endorsement hierarchy's one failure of its own. */
static int credential_fail(Manager *m, int r, sd_bus_error *error) {
        if (r == -EACCES)
                return bus_error_set_errnof(error, EPROTO,
                                            "The TPM's endorsement hierarchy has an authorization value; "
                                            "endpointd needs the empty one (endpointd(8), TPM).");
        return keys_fail(m, r, NULL, error);
}

static int method_get_endorsement_public_key(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *ek = NULL;
        Manager *m = userdata;
        int r;

        r = authorize_with_tpm(m, msg, error);
        if (r < 0)
                return r;
        r = tpm_credential_ek_public(m->tpm, &ek);
        if (r < 0)
                return credential_fail(m, r, error);
        return reply_pem(m, msg, ek, error);
}

static int method_get_attestation_key_public(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(freep) uint8_t *pub = NULL;
        Manager *m = userdata;
        size_t len;
        int r;

        r = authorize_with_tpm(m, msg, error);
        if (r < 0)
                return r;
        r = tpm_credential_ak_public(m->tpm, &pub, &len);
        if (r < 0)
                return credential_fail(m, r, error);
        return reply_bytes(msg, pub, len, false);
}

/* Every activation and every refusal is a credential-activated record,
 * named by the SHA-256 of the file (endpointd(8), endpointd-audit(5)). */
static void credential_event(Manager *m, sd_bus_message *msg, const void *data, size_t len, int r,
                             const char *text) {
        _cleanup_(freep) char *hex = NULL;
        uint8_t digest[32];

        /* Not the hash of what is too large to be a credential: a client
         * must not make the loop hash megabytes per call for a record. */
        if (len <= TPM_CREDENTIAL_MAX && sha256_buffer(data, len, digest) >= 0)
                hex = hexmem(digest, sizeof(digest));
        keys_event_result(m, msg, EVENT_CREDENTIAL_ACTIVATED, NULL, r, EVENT_FIELDS({ "CREDENTIAL", hex ?: "" }),
                          "%s", text);
}

static int method_activate_credential(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        TpmCredential cred;
        const char *why = "";
        const void *data;
        uint8_t *secret = NULL;
        size_t len, secret_len = 0;
        int r;

        r = sd_bus_message_read_array(msg, 'y', &data, &len);
        if (r < 0)
                return r;
        if (len > TPM_CREDENTIAL_MAX) {
                credential_event(m, msg, data, len, -EFBIG, "Refused a credential file too large to be one.");
                return bus_error_set_errnof(error, EFBIG,
                                            "A credential file has at most %zu bytes, got %zu.",
                                            (size_t) TPM_CREDENTIAL_MAX, len);
        }
        r = tpm_credential_parse(data, len, &cred, &why);
        if (r < 0) {
                credential_event(m, msg, data, len, -EBADMSG, "Refused a file that is not a credential.");
                return bus_error_set_errnof(error, EBADMSG,
                                            "Not a credential file of tpm2_makecredential: %s.", why);
        }
        r = authorize_with_tpm(m, msg, error);
        if (r < 0)
                return r;
        r = tpm_credential_activate(m->tpm, &cred, &secret, &secret_len);
        OPENSSL_cleanse(&cred, sizeof(cred));
        if (r == 0 || r == -EXDEV)
                credential_event(m, msg, data, len, r,
                                 r == 0 ? "Activated a credential for a client."
                                        : "Refused a credential not made for this TPM's endorsement key and "
                                          "attestation key.");
        if (r == -EXDEV)
                return bus_error_set_errnof(error, EXDEV,
                                            "The credential was not made for this TPM's endorsement key and "
                                            "the attestation key's Name, or was altered (%s).",
                                            tpm_last_error(m->tpm));
        if (r < 0)
                return credential_fail(m, r, error);
        r = reply_bytes(msg, secret, secret_len, true);
        OPENSSL_secure_clear_free(secret, secret_len);
        return r;
}

static int method_attest(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) uint8_t *quote = NULL, *sig = NULL, *pcrs = NULL;
        Manager *m = userdata;
        const void *nonce;
        size_t nonce_len, quote_len, sig_len, pcrs_len;
        uint32_t mask = 0;
        int r;

        r = sd_bus_message_read_array(msg, 'y', &nonce, &nonce_len);
        if (r < 0)
                return r;
        r = read_pcrs(msg, &mask, error);
        if (r < 0)
                return r;
        if (nonce_len == 0 || nonce_len > TPM_NONCE_MAX)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "The nonce must be 1-%u bytes, got %zu.", TPM_NONCE_MAX, nonce_len);
        if (mask == 0)
                mask = m->config->pcr_mask;
        r = authorize_with_tpm(m, msg, error);
        if (r < 0)
                return r;
        r = tpm_quote(m->tpm, nonce, nonce_len, mask, &quote, &quote_len, &sig, &sig_len, &pcrs, &pcrs_len);
        if (r < 0)
                return keys_fail(m, r, NULL, error);
        {
                char pcrlist[16];

                (void) snprintf(pcrlist, sizeof(pcrlist), "0x%06x", (unsigned) mask);
                keys_event(m, msg, EVENT_DEVICE_ATTESTED, NULL, EVENT_FIELDS({ "PCRS", pcrlist }),
                           "Quoted PCRs for a client.");
        }
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_append_array(reply, 'y', quote, quote_len);
        if (r >= 0)
                r = sd_bus_message_append_array(reply, 'y', sig, sig_len);
        if (r >= 0)
                r = sd_bus_message_append_array(reply, 'y', pcrs, pcrs_len);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_install_approval(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const void *data, *sig;
        size_t len, sig_len;
        char why[SIGNATURE_ERROR_MAX] = "";
        uint64_t version = 0;
        int r;

        r = sd_bus_message_read_array(msg, 'y', &data, &len);
        if (r >= 0)
                r = sd_bus_message_read_array(msg, 'y', &sig, &sig_len);
        if (r < 0)
                return r;
        r = authorize_with_tpm(m, msg, error);
        if (r < 0)
                return r;
        if (sig_len > SIGNATURE_MAX) {
                (void) snprintf(why, sizeof(why), "its signature is larger than %u bytes", SIGNATURE_MAX);
                r = -EFBIG;
        } else
                r = approvals_install(m->tpm, m->config->trust_dir, m->config->state_dir, data, len, sig,
                                      sig_len, &version, why, sizeof(why));
        if (r < 0 && r != -ENOENT && why[0])
                keys_event(m, msg, EVENT_APPROVAL_REFUSED, "approval", EVENT_FIELDS({ "REASON", why }),
                           "Refused a PCR approval: %s.", why);
        switch (r) {
        case 0:
                break;
        case -EBADMSG:
                return bus_error_set_errnof(error, EBADMSG, "Not a PCR approval: %s.", why);
        case -EKEYREJECTED:
                return bus_error_set_errnof(error, EKEYREJECTED, "The PCR approval is refused: %s.", why);
        case -ESTALE:
                return bus_error_set_errnof(error, ESTALE, "The PCR approval is refused: %s.", why);
        case -ENOENT:
                return bus_error_set_errnof(error, ENOENT, "No trust anchors: %s.", why);
        case -EFBIG:
                return bus_error_set_errnof(error, EFBIG, "The PCR approval is refused: %s.", why);
        case -ENOSPC:
                return bus_error_set_errnof(error, ENOSPC, "The PCR approval was not installed: %s.", why);
        default:
                return keys_fail(m, r, NULL, error);
        }
        char v[32];
        (void) snprintf(v, sizeof(v), "%" PRIu64, version);
        keys_event(m, msg, EVENT_APPROVAL_INSTALLED, "approval", EVENT_FIELDS({ "APPROVAL_VERSION", v }),
                   "Installed PCR approval version %s.", v);
        return sd_bus_reply_method_return(msg, "t", version);
}

const sd_bus_vtable keys_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("CreateKey", SD_BUS_ARGS("s", name, "a{sv}", options), SD_BUS_NO_RESULT,
                                method_create_key, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DeleteKey", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT, method_delete_key,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListKeys", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sa{sv})", keys),
                                method_list_keys, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Encrypt", SD_BUS_ARGS("s", name, "ay", plaintext, "ay", aad),
                                SD_BUS_RESULT("ay", ciphertext), method_encrypt, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Decrypt", SD_BUS_ARGS("s", name, "ay", ciphertext, "ay", aad),
                                SD_BUS_RESULT("ay", plaintext), method_decrypt, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Seal", SD_BUS_ARGS("s", name, "ay", secret, "a{sv}", options),
                                SD_BUS_NO_RESULT, method_seal, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Unseal", SD_BUS_ARGS("s", name), SD_BUS_RESULT("ay", secret), method_unseal,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("InstallApproval", SD_BUS_ARGS("ay", approval, "ay", signature),
                                SD_BUS_RESULT("t", version), method_install_approval,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Sign", SD_BUS_ARGS("ay", data), SD_BUS_RESULT("ay", signature), method_sign,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetDevicePublicKey", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", pem),
                                method_get_device_public_key, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetAttestationPublicKey", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", pem),
                                method_get_attestation_public_key, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Attest", SD_BUS_ARGS("ay", nonce, "au", pcrs),
                                SD_BUS_RESULT("ay", quote, "ay", signature, "ay", pcr_values), method_attest,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetEndorsementPublicKey", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", pem),
                                method_get_endorsement_public_key, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetAttestationKeyPublic", SD_BUS_NO_ARGS, SD_BUS_RESULT("ay", public_area),
                                method_get_attestation_key_public, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ActivateCredential", SD_BUS_ARGS("ay", credential),
                                SD_BUS_RESULT("ay", secret), method_activate_credential,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};
