/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Gives up every privilege endpointd does not need. Call it before any
 * thread is started (capabilities are per thread; it refuses with -EBUSY
 * otherwise) and before the system call filter is installed.
 *
 * Started as root with User= naming another user: hands state_dir to that
 * user, shrinks the capability bounding set to CAP_DAC_READ_SEARCH while
 * CAP_SETPCAP is still effective, switches to the user's uid, its primary
 * group and the "tss" group (for /dev/tpmrm0), and keeps CAP_DAC_READ_SEARCH
 * permitted and effective, so that files of other owners can still be
 * hashed. Started as User= already (as the unit starts it, with ambient
 * CAP_DAC_READ_SEARCH): keeps at most CAP_DAC_READ_SEARCH. Both ways end
 * with nothing inheritable or ambient, no_new_privs set and the process not
 * dumpable, and verify the result with the kernel. With User=root and
 * started as root nothing is dropped (the test suite's setting).
 *
 * Returns 0, or (already logged): -ESRCH if User= does not exist, -EPERM if
 * started as a user other than root and User=, or if a step did not take
 * effect, -EBUSY if threads are running, another -errno if a call failed. */
int privs_drop(const char *user, const char *state_dir);
