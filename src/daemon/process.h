/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the daemon can learn about a bus caller's process from /proc
 * without ptrace rights, so also when it runs as its own user: the files
 * read here ("status", "cgroup") are readable by everybody, and "stat"'s
 * owner says whether the process is dumpable. Every read is pinned to one
 * process with a pidfd. Knows nothing of D-Bus. */

#include <stdbool.h>
#include <sys/types.h>

#include "macro.h"

typedef struct ProcessInfo {
        uid_t uids[4]; /* real, effective, saved, filesystem */
        pid_t tracer; /* TracerPid:, 0 when not traced */
        bool dumpable; /* false after prctl(PR_SET_DUMPABLE, 0) or a setuid exec */
        char *cgroup; /* the cgroup2 ("0::") path, or NULL */
        char *cgroup_systemd; /* the "name=systemd" v1 path (hybrid and legacy), or NULL */
} ProcessInfo;

/* Reads pid's entries. Returns 0, -ESRCH when there is no such process or
 * it exited while being read (its pid could then be somebody else's),
 * -EBADMSG on contents we cannot parse, -ENOMEM, or the errno of a failed
 * read (e.g. -ENOENT under hidepid=). On success info owns strings; release
 * with process_info_done(). */
int process_info_read(pid_t pid, ProcessInfo *info);
void process_info_done(ProcessInfo *info);

/* Whether all four uids of the process are uid. */
bool process_info_has_uid(const ProcessInfo *info, uid_t uid) _pure_;

/* Whether the process runs in the system service unit (e.g.
 * "pump.service"): each cgroup path systemd keeps for it is exactly
 * /system.slice/UNIT or below it. An unprivileged process can neither
 * enter nor leave those cgroups. A cgroup2 path of "/" is ignored when a
 * name=systemd path is there (legacy mode: the unified hierarchy is
 * unused); at least one path must be there. */
bool process_info_in_unit(const ProcessInfo *info, const char *unit) _pure_;
