/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A TCTI for swtpm's TCP or unix socket (the "swtpm:" tctildr strings,
 * "host=H,port=P" or "path=SOCKET") that keeps one connection open for
 * all the commands of one operation. tpm2-tss's tcti-swtpm connects anew
 * for every command, which costs a TCP handshake on both sides per TPM
 * command; swtpm serves any number of commands on one connection, but only
 * one connection at a time, so between operations the connection is closed
 * and other clients (tpm2-tools next to the daemon) get their turn. A
 * command that does not
 * complete within a fixed bound (two minutes) fails as an I/O error, which
 * the tpm module reports as a lost TPM. Private to the tpm module. */

#include <stdbool.h>
#include <tss2/tss2_tcti.h>

#include "macro.h"

/* Connects to the swtpm named by tcti. Returns -EOPNOTSUPP when tcti is not
 * a "swtpm" string (use tctildr then), -EINVAL for a malformed one,
 * -ECONNREFUSED / -EHOSTUNREACH / -errno when nothing answers. */
int tpm_tcti_swtpm_new(const char *tcti, TSS2_TCTI_CONTEXT **ret);

/* Closes the connection and frees ctx. NULL-safe; returns NULL. */
TSS2_TCTI_CONTEXT *tpm_tcti_swtpm_free(TSS2_TCTI_CONTEXT *ctx);

/* hold: keep the connection open after each response until called again
 * with false, which closes it. Not held, a connection lasts one command.
 * A no-op for other TCTIs. */
void tpm_tcti_swtpm_hold(TSS2_TCTI_CONTEXT *ctx, bool hold);

/* Whether ctx was made by tpm_tcti_swtpm_new(). */
bool tpm_tcti_is_swtpm(TSS2_TCTI_CONTEXT *ctx);
