/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "config.h"

/* Installs the system call allowlist on every thread of the process
 * (SECCOMP_FILTER_FLAG_TSYNC). Call once, after initialisation: the TCTI
 * modules are dlopen'ed and the bus is connected before it. In
 * SECCOMP_MODE_ENFORCE a call outside the list writes one line naming the
 * system call to stderr (the journal under systemd) and kills the process;
 * in SECCOMP_MODE_LOG the kernel logs it and the call goes through. Some
 * calls that libraries merely try are refused with EPERM instead ("deny
 * softly"). Returns 0 or a negative errno (already logged). */
int sandbox_install(SeccompMode mode);
