/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The TPM's life cycle: connect, notice the loss, reconnect, and the
 * device id derived from the device identity key. A Device owns the one
 * Tpm context (tpm.h) while there is one and decides when to look for the
 * TPM again; nothing else connects or drops it. It knows nothing of D-Bus
 * or of the Manager: what happens is reported through DeviceEvents.
 *
 * One housekeeping timer (on the event loop) looks for the TPM every
 * DEVICE_RETRY_USEC while there is none and calls the sink's housekeeping
 * hook at the interval set with device_set_housekeeping_interval(), so
 * that other periodic chores (the key cache's expiry) need no timer of
 * their own. */

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "events.h"
#include "tpm.h"
#include "util.h"

/* How often to look for a TPM that is absent or went away. */
#define DEVICE_RETRY_USEC (2 * USEC_PER_SEC)

typedef struct Device Device;

typedef struct DeviceEvents {
        /* The TPM appeared (available, with its device id, a 64-character
         * hex string) or went away (!available; the device id stays what
         * it was). The Tpm of device_tpm() is valid until the next call. */
        void (*changed)(Device *d, bool available, const char *device_id, void *userdata);
        /* Called by the housekeeping timer, TPM or not. May be NULL. */
        void (*housekeeping)(Device *d, void *userdata);
} DeviceEvents;

/* The name of the systemd credential ($CREDENTIALS_DIRECTORY) that holds
 * the owner hierarchy's authValue when OwnerAuthFile= is not set. */
#define DEVICE_OWNER_AUTH_CREDENTIAL "tpm-owner-auth"

/* Makes the device and tries the TPM once through tcti (a tctildr string),
 * with the owner authValue read from owner_auth_file (NULL: from the
 * credential DEVICE_OWNER_AUTH_CREDENTIAL if there is one; else empty) at
 * every connection; without one it keeps looking. On every connection it sets up the NV
 * writer (tpm_nv_setup()) with the secret kept in state_dir. The sink is called for the first time
 * from here when the TPM answers. The TPM's appearance, loss and errors
 * (device_check_lost()) are events (tpm-available, tpm-lost, tpm-error)
 * made through events (may be NULL). Returns -ENOMEM, or the error of adding
 * the timer to e. */
int device_new(sd_event *e, const char *tcti, const char *owner_auth_file, const char *state_dir, Events *events,
               const DeviceEvents *sink, void *userdata, Device **ret);

/* Drops the TPM (without calling the sink) and the timer. NULL-safe. */
Device *device_free(Device *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(Device *, device_free);

/* The TPM context, or NULL while there is none. Owned by d. */
Tpm *device_tpm(const Device *d);

/* The device id ("" until a TPM was seen once). */
const char *device_id(const Device *d);

/* Tries to connect now if there is no TPM, so that a TPM that came back
 * is used at once rather than at the next tick. Returns 0 when a TPM is
 * there afterwards, -ENODEV otherwise. */
int device_ensure(Device *d);

/* To be called after a TPM operation failed with r: if the failure says
 * the TPM went away (r is -ENODEV or the context is marked lost), drops
 * the context, reports it, and looks for the TPM again soon (a TPM that
 * was merely reset is back before the next call). Returns true when the
 * TPM was lost in this call. */
bool device_check_lost(Device *d, int r);

/* A new TCTI string: if it differs, drops the connection and tries the new
 * one at once (reporting the loss when that fails). -ENOMEM. */
int device_set_tcti(Device *d, const char *tcti);

/* A new OwnerAuthFile= (NULL: the credential): used from the next
 * connection on; tried at once when there is no TPM. -ENOMEM. */
int device_set_owner_auth_file(Device *d, const char *path);

/* How often the sink's housekeeping hook runs (0 or USEC_INFINITY: every
 * 10 s); clamped to 1..10 s. */
void device_set_housekeeping_interval(Device *d, usec_t usec);
