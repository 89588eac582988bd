/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "config.h"

/* Whether the TCTI string reaches the TPM over the network: false for the
 * device and tabrmd TCTIs (a character device, the system bus), true for
 * swtpm, mssim and any TCTI this function does not know. Decides whether
 * the system call filter permits AF_INET and AF_INET6 sockets. */
bool sandbox_tcti_needs_inet(const char *tcti) _pure_;

/* Installs the system call allowlist on every thread of the process
 * (SECCOMP_FILTER_FLAG_TSYNC). Call once, after initialisation: the TCTI
 * modules are dlopen'ed and the bus is connected before it, and the
 * process never executes or forks afterwards. socket() is permitted for
 * AF_UNIX, and with inet also for AF_INET and AF_INET6 stream sockets.
 *
 * In SECCOMP_MODE_ENFORCE a call outside the list writes one line naming
 * the system call to stderr (the journal under systemd) and the process
 * dies by SIGSYS; in SECCOMP_MODE_LOG the kernel logs it and the call goes
 * through. A few calls that libraries merely try are refused with an errno
 * instead ("deny softly"). Returns 0 or a negative errno (already logged). */
int sandbox_install(SeccompMode mode, bool inet);
