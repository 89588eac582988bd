/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Memory given back when the daemon is idle. A daemon that sleeps for
 * hours between calls need not keep resident what its last call touched:
 * IDLE_TRIM_DELAY after the event loop last had work, it returns the free
 * heap (malloc_trim) and unmaps the clean pages of its read-only file
 * mappings (the code and constants of the program and its libraries, e.g.
 * the 3-4 MiB of libcrypto an OpenSSL 3 algorithm fetch touches). Those
 * stay in the page cache, shared with every other process; the next call
 * maps them again with minor faults, no disk read. What stays resident is
 * the daemon's own data and the few pages its idle loop runs. */

#include <systemd/sd-event.h>

#include "macro.h"
#include "util.h"

#define IDLE_TRIM_DELAY (5 * USEC_PER_SEC)

typedef struct IdleTrim IdleTrim;

/* Attaches the trim to the event loop: re-armed after every dispatch,
 * run once the loop was idle for delay. -ENOMEM or -errno from sd-event. */
int idle_trim_new(sd_event *e, usec_t delay, IdleTrim **ret);
IdleTrim *idle_trim_free(IdleTrim *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(IdleTrim *, idle_trim_free);

/* Does the trim now. Returns the number of mappings released; logs at
 * debug level what it gave back. Call only from the thread that loads
 * code (dlopen), which is the event loop's: a mapping read here and
 * released below must not be replaced in between. */
int idle_trim(void);
