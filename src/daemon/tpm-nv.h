/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The daemon's NV indices: values that must outlive the state directory
 * (a restored backup, a wipe) and that nobody but the daemon may move.
 * endpointd-tpm(7) documents handles, attributes and policies; in short:
 *
 *   0x01800E40  writer     ordinary, 1 byte; authValue = a random secret
 *                          kept in STATE/tpm-nv-writer; AUTHREAD|AUTHWRITE|
 *                          NO_DA; empty authPolicy (its auth never changes)
 *   0x01800E41  audit      NV counter           } authValue empty,
 *   0x01800E42  manifest   ordinary, 8 bytes BE } AUTHREAD|POLICYWRITE|NO_DA,
 *   0x01800E43  clock      ordinary, 8 bytes BE } authPolicy =
 *   0x01800E44  approval   bits, T(version)     } PolicySecret(writer)
 *
 * Anyone may read them (empty authValue); only the holder of the writer's
 * secret writes or increments them. They are defined under the owner
 * hierarchy on first use (with the owner authorization the Tpm was given);
 * only the owner's (or platform's) authorization undefines them. The floors
 * never go down through this module.
 *
 * The approval floor is a bit field (TPM_NT_BITS) holding the thermometer
 * code of the version (approval.h): NV_SetBits only ORs bits in, so not
 * even the holder of the writer's secret lowers it; this module reads and
 * raises it in versions. For the ordinary floors the TPM cannot stop a
 * holder of the writer's secret (root can read it) from writing a lower
 * value. So the highest value of each floor this
 * daemon read from or wrote to NV is kept, as a mark, in STATE/tpm-nv-marks
 * (8 bytes big-endian per index, in TpmNvIndex order): a written index
 * below its mark went down, which is logged at LOG_CRIT and reported as
 * -ESTALE, and the mark stands in for it. */

#include <errno.h>
#include <stdint.h>

#include "tpm.h"

typedef enum TpmNvIndex {
        TPM_NV_AUDIT, /* a TPM counter: the audit log's anchor */
        TPM_NV_MANIFEST, /* the highest manifest serial ever installed */
        TPM_NV_CLOCK, /* the time high-water mark, CLOCK_REALTIME seconds */
        TPM_NV_APPROVAL, /* the lowest PCR approval version still accepted */
        _TPM_NV_INDEX_MAX,
        _TPM_NV_INDEX_INVALID = -EINVAL,
} TpmNvIndex;

#define TPM_NV_HANDLE_WRITER 0x01800E40U
#define TPM_NV_WRITER_FILE "tpm-nv-writer"
#define TPM_NV_MARKS_FILE "tpm-nv-marks"

/* The marks kept in state_dir (all 0 without the file): 0, -EBADMSG for a
 * damaged file, other -errno. Needs no TPM. */
int tpm_nv_marks_read(const char *state_dir, uint64_t ret[_TPM_NV_INDEX_MAX]);

/* Whether this state directory has used NV floors on a TPM (the writer's
 * secret or the marks are there): without the TPM their values are then
 * unknown, not 0. */
bool tpm_nv_in_use(const char *state_dir);

const char *tpm_nv_index_to_string(TpmNvIndex i) _pure_;
TpmNvIndex tpm_nv_index_from_string(const char *s) _pure_;

/* The persistent handle of an index (-EINVAL as 0 for an invalid one). */
uint32_t tpm_nv_handle(TpmNvIndex i) _pure_;

/* Makes the writer known to t: reads STATE/tpm-nv-writer, or on the first
 * start (no writer index on this TPM) makes the secret with the TPM's RNG,
 * stores it atomically and defines the writer index with it. Returns 0;
 * -EACCES when the writer index exists but the secret is gone (a wiped
 * state directory): the indices are then read-only for this daemon, and
 * every write fails with -EACCES; -EKEYREJECTED when the writer index is
 * not the one this module defines (someone with owner authorization put
 * another there) or the secret is not its; -EBADMSG when the file is
 * damaged; -EPERM when defining needs an owner authValue. */
int tpm_nv_setup(Tpm *t, const char *state_dir);

/* Reads a counter (TPM_NV_AUDIT): 0 when it was never incremented or is
 * not defined yet. -EINVAL for an index that is not a counter,
 * -EKEYREJECTED when the index at its handle is not the one this module
 * defines (then its value means nothing). */
int tpm_nv_counter_read(Tpm *t, TpmNvIndex which, uint64_t *ret);

/* Increments a counter by one (defining it first if needed) and returns
 * the new value. A new counter starts at no less than the largest value
 * any counter of this TPM ever held (the TPM guarantees that), not at 1.
 * Errors as tpm_nv_counter_read(), and -EACCES without the writer's
 * secret, -EPERM when defining needs an owner authValue, -EBUSY when the
 * TPM rate-limits NV writes. */
int tpm_nv_counter_increment(Tpm *t, TpmNvIndex which, uint64_t *ret_new);

/* Reads a floor (TPM_NV_MANIFEST, _CLOCK, _APPROVAL): the higher of NV
 * and its mark (0 when neither was ever written); for _APPROVAL the level
 * of its thermometer code (bits that are none: the deepest one's level,
 * logged). -EINVAL for the counter,
 * -EKEYREJECTED as above, -EBADMSG when the marks file is damaged,
 * -ESTALE when the written index is below its mark (it was lowered; logged
 * at LOG_CRIT): *ret is then the mark, and the caller decides whether that
 * suffices (the manifest floor does not: every install is refused). */
int tpm_nv_floor_read(Tpm *t, TpmNvIndex which, uint64_t *ret);

/* Raises a floor to value if value is above it (and one that went down
 * back to its mark at least), and its mark with it: returns 1 when value
 * was above the floor, 0 when it already was at or above value. Errors as
 * tpm_nv_counter_increment(), -EBADMSG for a damaged marks file, and
 * -ERANGE for an _APPROVAL value above APPROVAL_VERSION_MAX. */
int tpm_nv_floor_raise(Tpm *t, TpmNvIndex which, uint64_t value);

/* The Name of index which once written (nameAlg SHA-256, 34 bytes): what
 * TPM2_PolicyNV commits a policy to. -EINVAL for an invalid index. */
int tpm_nv_index_name(TpmNvIndex which, uint8_t ret[34]);
