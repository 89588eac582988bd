/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The anti-rollback floor of manifest serials: the highest serial ever
 * installed on this device. A manifest is installed only above it, and it
 * never goes down: not when the stored manifest is damaged, replaced by an
 * older one or no longer verifies (endpointd-manifest(5)).
 *
 * Today the floor is a small file in the state directory, replaced
 * atomically. These two functions are the only place that knows where it
 * lives: moving it into a TPM NV counter changes this module and nothing
 * else. */

#include <stdint.h>

#define SERIAL_FLOOR_FILE "manifest-serial-floor"

/* Reads the floor kept in state_dir into *ret: 0 when none was ever
 * recorded. Returns 0; -EBADMSG when the record is damaged (the caller
 * must then fail closed: the floor is unknown, not 0); other -errno when
 * it cannot be read. */
int serial_floor_read(const char *state_dir, uint64_t *ret);

/* Raises the floor kept in state_dir to serial if serial is above it, and
 * durably so before returning. Never lowers it. Returns 1 when raised, 0
 * when serial is not above the floor; -EBADMSG when the record is damaged
 * (it is left as it is), other -errno on I/O (the floor is unchanged). */
int serial_floor_raise(const char *state_dir, uint64_t serial);
