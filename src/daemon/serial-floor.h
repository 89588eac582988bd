/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The anti-rollback floor of manifest serials: the highest serial ever
 * installed on this device. A manifest is installed only above it, and it
 * never goes down: not when the stored manifest is damaged, replaced by an
 * older one or no longer verifies (endpointd-manifest(5)).
 *
 * The floor is kept twice: in a small file in the state directory,
 * replaced atomically, and in the TPM's NV index for it (tpm-nv.h), which
 * a state directory restored from an old backup, or wiped, does not take
 * back. The floor is the higher of the two. Without a TPM (t NULL, or a
 * build without it) the file alone holds it. These two functions are the
 * only place that knows where it lives. */

#include <stdint.h>

#include "tpm.h"

#define SERIAL_FLOOR_FILE "manifest-serial-floor"

/* Reads the floor kept in state_dir and in t's NV into *ret: 0 when none
 * was ever recorded. Returns 0; -EBADMSG when the file is damaged or the
 * NV index is not the daemon's, -ESTALE when the NV floor went down below
 * what the daemon saw there (tpm-nv.h; the caller must then fail closed:
 * the floor is unknown, not 0); other -errno when the file cannot be read.
 * Returns 1 when this state directory has used the NV floor but the TPM
 * cannot be asked now (t NULL, gone, busy, refusing the owner's
 * authorization): *ret is then the higher of the file and the last value
 * seen in NV, and the real floor may be higher (no install may rely on
 * it). A state directory that never used NV floors has the file's only. */
int serial_floor_read(const char *state_dir, Tpm *t, uint64_t *ret);

/* Raises the floor kept in state_dir and in t's NV to serial if serial is
 * above it, and durably so before returning. Never lowers it. Returns 1
 * when raised, 0 when serial is not above the floor; -EBADMSG when the
 * file is damaged (it is left as it is), other -errno on I/O (the floor is
 * unchanged), or the NV index's error (tpm-nv.h; the file was raised). An
 * NV write happens only when the serial is above the NV floor, so there
 * are never more NV writes than installs of a newer manifest. */
int serial_floor_raise(const char *state_dir, Tpm *t, uint64_t serial);
