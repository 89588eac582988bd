/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The measurement event log: one record per PCR extension the integrity
 * component made (PCR index, the 32-byte digest extended into the SHA-256
 * bank, a description, the time). A verifier replays it against a quote:
 * starting from 32 zero bytes, PCR = SHA-256(PCR || digest) for each record
 * of that PCR in order; the result must equal the quoted value.
 *
 * On disk (StateDirectory/measurements.log) the first line names the boot
 * ("boot BOOT_ID"), because PCRs start from zero at every boot; a log of an
 * earlier boot is moved to measurements.log.old. Each record is one line
 * "TIME_USEC PCR HEX_DIGEST DESCRIPTION", appended with a single write()
 * and fdatasync(), so a crash loses at most the record being written, and a
 * torn last line is dropped on load. */

#include <stdint.h>

#include "util.h"

#define MEASURE_LOG_FILE "measurements.log"
#define MEASURE_DESCRIPTION_MAX 512U

typedef struct Measurement {
        unsigned pcr;
        uint8_t digest[32];
        char *description;
        usec_t time; /* CLOCK_REALTIME µs */
} Measurement;

typedef struct MeasureLog MeasureLog;

/* Opens (creating if needed) the log in dir for the current boot. Returns
 * 0 or -errno. */
int measure_log_open(const char *dir, MeasureLog **ret);
MeasureLog *measure_log_free(MeasureLog *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(MeasureLog *, measure_log_free);

/* Appends one record durably. description must be one line of at most
 * MEASURE_DESCRIPTION_MAX bytes. Returns 0, -EINVAL, or -errno of the write. */
int measure_log_append(MeasureLog *l, unsigned pcr, const uint8_t digest[32], const char *description);

/* The records of this boot, oldest first; owned by the log. */
const Measurement *measure_log_get(const MeasureLog *l, size_t *ret_n);

/* Parses one record line; exported for the unit tests. Returns 0 or -EBADMSG. */
int measure_record_parse(const char *line, Measurement *ret);
