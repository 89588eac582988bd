/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* For the tpm module's companions (tpm-nv.c) only: the ESYS context that
 * tpm.c owns and its one error seam. Nothing outside src/daemon/tpm*.c
 * includes this. */

#include <tss2/tss2_esys.h>

#include "tpm.h"

/* The ESYS context; owned by t. */
ESYS_CONTEXT *tpm_esys(Tpm *t);

/* Records a failed TSS2 call (decoded text for tpm_last_error(), the loss
 * of the TPM) and returns its errno, as tss2_to_errno(). */
int tpm_record_failure(Tpm *t, TSS2_RC rc, const char *what);

/* Records what failed without a TSS2 code and returns r. */
int tpm_record_error(Tpm *t, int r, const char *what);

/* The NV writer's secret (32 bytes) kept with the context, NULL when it is
 * not known; see tpm-nv.h. */
const uint8_t *tpm_nv_auth(const Tpm *t);
void tpm_set_nv_auth(Tpm *t, const uint8_t auth[32]);

/* The state directory whose marks of the NV floors (tpm-nv.h) this context
 * keeps up to date, NULL until tpm_nv_setup(). */
const char *tpm_nv_state_dir(const Tpm *t);
int tpm_set_nv_state_dir(Tpm *t, const char *dir);
