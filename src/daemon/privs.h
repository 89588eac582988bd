/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* When started as root and User= names another user: chowns state_dir to
 * that user, switches to its uid, its primary group and the "tss" group
 * (for /dev/tpmrm0) and keeps only CAP_DAC_READ_SEARCH, so that files of
 * other owners can still be hashed. A no-op when not root or when User=
 * is root or the current user. Logs and returns -errno on failure. */
int privs_drop(const char *user, const char *state_dir);
