/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "log.h"
#include "privs.h"

DEFINE_CLEANUP_FUNC(cap_t, cap_free, cap_freep)

/* The one capability endpointd keeps: hashing files of any owner. */
#define PRIVS_KEEP CAP_DAC_READ_SEARCH

static bool cap_has(cap_t caps, cap_value_t c, cap_flag_t set) {
        cap_flag_value_t v = CAP_CLEAR;

        return cap_get_flag(caps, c, set, &v) == 0 && v == CAP_SET;
}

/* Removes every capability but PRIVS_KEEP from the bounding set. Needs
 * CAP_SETPCAP in the effective set: call it before giving that up. */
static int bounding_set_shrink(void) {
        for (cap_value_t c = 0; c < cap_max_bits(); c++) {
                if (c == PRIVS_KEEP || cap_get_bound(c) <= 0)
                        continue;
                if (cap_drop_bound(c) < 0)
                        return log_error_errno(errno, "Failed to drop %s from the capability bounding set: %m",
                                               cap_to_name(c));
        }
        return 0;
}

/* Leaves PRIVS_KEEP permitted and effective if it was permitted, and
 * nothing else: no other capability, nothing inheritable, nothing ambient.
 * The ambient set only carries capabilities across execve(), and endpointd
 * executes nothing (execve is refused by the system call filter), so it is
 * cleared even when the unit started us with CAP_DAC_READ_SEARCH ambient.
 * Returns whether PRIVS_KEEP is held. */
static int caps_limit(void) {
        _cleanup_(cap_freep) cap_t cur = cap_get_proc(), want = cap_init();
        const cap_value_t keep[] = { PRIVS_KEEP };
        bool have;

        if (!cur || !want)
                return log_oom();
        have = cap_has(cur, PRIVS_KEEP, CAP_PERMITTED);
        if (have && (cap_set_flag(want, CAP_PERMITTED, 1, keep, CAP_SET) < 0 ||
                     cap_set_flag(want, CAP_EFFECTIVE, 1, keep, CAP_SET) < 0))
                return log_error_errno(errno, "Failed to build the capability set: %m");
        if (cap_set_proc(want) < 0)
                return log_error_errno(errno, "Failed to drop capabilities: %m");
        /* Lowering the inheritable set already emptied the ambient set; this
         * makes sure of it (EINVAL: a kernel without ambient capabilities). */
        if (cap_reset_ambient() < 0 && errno != EINVAL)
                return log_error_errno(errno, "Failed to clear the ambient capabilities: %m");
        return have;
}

/* Checks what the kernel now says, so that a step that silently did less
 * than asked cannot leave the daemon running with more. */
static int privs_verify(uid_t uid, gid_t gid, bool have_keep) {
        _cleanup_(cap_freep) cap_t cur = cap_get_proc(), want = cap_init();
        const cap_value_t keep[] = { PRIVS_KEEP };
        uid_t ru, eu, su;
        gid_t rg, eg, sg;

        if (!cur || !want)
                return log_oom();
        if (have_keep && (cap_set_flag(want, CAP_PERMITTED, 1, keep, CAP_SET) < 0 ||
                          cap_set_flag(want, CAP_EFFECTIVE, 1, keep, CAP_SET) < 0))
                return log_error_errno(errno, "Failed to build the capability set: %m");
        if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
                return log_error_errno(errno, "Failed to read back the user and group ids: %m");
        if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid)
                return log_error_errno(EPERM, "Privileges were not dropped: uids %u/%u/%u, gids %u/%u/%u.",
                                       (unsigned) ru, (unsigned) eu, (unsigned) su, (unsigned) rg,
                                       (unsigned) eg, (unsigned) sg);
        if (cap_compare(cur, want) != 0)
                return log_error_errno(EPERM, "Privileges were not dropped: capabilities left over.");
        if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
                return log_error_errno(EPERM, "Privileges were not dropped: no_new_privs is not set.");
        return 0;
}

/* What both ways of starting end with. no_new_privs: nothing this process
 * might still execute gains privileges through setuid bits or file
 * capabilities. Not dumpable: the process holds unsealed data keys, so no
 * core file, and another process of the same uid may not ptrace it or read
 * /proc/PID/mem or environ. */
static int privs_finish(uid_t uid, gid_t gid, bool have_keep) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return log_error_errno(errno, "Failed to set no_new_privs: %m");
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return log_error_errno(errno, "Failed to make the process non-dumpable: %m");
        return privs_verify(uid, gid, have_keep);
}

/* Started as root: the order matters. The bounding set can only shrink
 * while CAP_SETPCAP is effective, i.e. before the uid changes; keep-caps
 * makes the permitted set survive setresuid() (the effective set is
 * cleared by it), and only then is it cut down to PRIVS_KEEP. */
static int privs_drop_root(const char *user, uid_t uid, gid_t gid, const char *state_dir) {
        struct group *tss;
        struct stat st;
        gid_t groups[2];
        size_t n_groups = 0;
        int r;

        groups[n_groups++] = gid;
        errno = 0;
        tss = getgrnam("tss");
        if (tss && tss->gr_gid != gid)
                groups[n_groups++] = tss->gr_gid;
        else if (!tss)
                log_warning("There is no group 'tss'; running without access to /dev/tpmrm0 unless %s "
                            "may open it otherwise.", user);

        /* Handing a directory other users may use (StateDirectory=/ or
         * /var/lib by mistake) to User= would give it the system: only a
         * private directory, or one that is already User='s, is handed. */
        if (stat(state_dir, &st) < 0)
                return log_error_errno(errno, "Failed to look at state directory '%s': %m", state_dir);
        if (!S_ISDIR(st.st_mode))
                return log_error_errno(ENOTDIR, "StateDirectory=%s is not a directory.", state_dir);
        if (st.st_uid != uid && (st.st_mode & 0077) != 0)
                return log_error_errno(EPERM,
                                       "StateDirectory=%s is open to other users (mode %04o) and is not %s's: "
                                       "endpointd hands its state directory to %s and will not do that to a "
                                       "shared directory. Give it a directory of its own with mode 0700.",
                                       state_dir, (unsigned) (st.st_mode & 07777), user, user);
        if (chown(state_dir, uid, gid) < 0)
                return log_error_errno(errno, "Failed to hand state directory '%s' to %s: %m", state_dir, user);

        r = bounding_set_shrink();
        if (r < 0)
                return r;
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return log_error_errno(errno, "Failed to keep capabilities across the user switch: %m");
        if (setgroups(n_groups, groups) < 0)
                return log_error_errno(errno, "Failed to set the supplementary groups of %s: %m", user);
        if (setresgid(gid, gid, gid) < 0)
                return log_error_errno(errno, "Failed to switch to group %u of %s: %m", (unsigned) gid, user);
        if (setresuid(uid, uid, uid) < 0)
                return log_error_errno(errno, "Failed to switch to user %s: %m", user);
        r = caps_limit();
        if (r < 0)
                return r;
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return log_error_errno(errno, "Failed to clear keep-caps: %m");
        r = privs_finish(uid, gid, r > 0);
        if (r < 0)
                return r;
        log_info("Running as %s (uid %u, gid %u) with CAP_DAC_READ_SEARCH only.", user, (unsigned) uid,
                 (unsigned) gid);
        return 0;
}

/* Started as User= already (the unit's way): the uid and groups are the
 * unit's; what is left is to give up whatever is more than PRIVS_KEEP. */
static int privs_limit_user(const char *user, uid_t uid) {
        _cleanup_(cap_freep) cap_t cur = cap_get_proc();
        gid_t gid = getegid();
        bool have;
        int r;

        if (!cur)
                return log_oom();
        /* Make a saved or real uid of another user (root, say) unreachable. */
        if (setresuid(uid, uid, uid) < 0 || setresgid(gid, gid, gid) < 0)
                return log_error_errno(errno, "Failed to pin the user and group ids of %s: %m", user);
        /* Without CAP_SETPCAP the bounding set stays as the unit left it
         * (CapabilityBoundingSet=); with no_new_privs and no execve it
         * grants nothing anyway. */
        if (cap_has(cur, CAP_SETPCAP, CAP_EFFECTIVE)) {
                r = bounding_set_shrink();
                if (r < 0)
                        return r;
        }
        r = caps_limit();
        if (r < 0)
                return r;
        if (r == 0)
                log_warning("Running as %s without CAP_DAC_READ_SEARCH: files %s may not read are reported "
                            "as unreadable.", user, user);
        have = r > 0;
        r = privs_finish(uid, gid, have);
        if (r < 0)
                return r;
        log_info("Running as %s (uid %u, gid %u) with %s.", user, (unsigned) uid, (unsigned) gid,
                 have ? "CAP_DAC_READ_SEARCH only" : "no capabilities");
        return 0;
}

/* Capabilities belong to a thread, not to the process: a thread started
 * before the drop would keep them. Returns the number of threads or -errno. */
static int threads_count(void) {
        _cleanup_(closedirp) DIR *d = opendir("/proc/self/task");
        struct dirent *de;
        int n = 0;

        if (!d)
                return -errno;
        errno = 0;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        if (errno > 0)
                return -errno;
        return n;
}

int privs_drop(const char *user, const char *state_dir) {
        struct passwd *pw;
        uid_t uid, euid = geteuid();
        gid_t gid;
        int r;

        r = threads_count();
        if (r < 0)
                return log_error_errno(r, "Failed to count the threads of the process: %m");
        if (r != 1)
                return log_error_errno(EBUSY, "Cannot drop privileges with %d threads running; "
                                       "capabilities are per thread.", r);

        errno = 0;
        pw = getpwnam(user);
        /* getpwnam(3): these say "no such user", anything else is a failed look-up. */
        if (!pw && (errno == 0 || errno == ENOENT || errno == ESRCH || errno == EBADF || errno == EPERM))
                return log_error_errno(ESRCH,
                                       "User '%s' (User= in the configuration) does not exist; "
                                       "create it with systemd-sysusers.", user);
        if (!pw)
                return log_error_errno(errno, "Failed to look up user '%s' (User= in the configuration): %m",
                                       user);
        uid = pw->pw_uid;
        gid = pw->pw_gid;

        if (euid == 0 && uid == 0) {
                log_notice("Running as root with all privileges (User=%s).", user);
                return 0;
        }
        if (euid == 0)
                return privs_drop_root(user, uid, gid, state_dir);
        if (euid != uid)
                return log_error_errno(EPERM,
                                       "endpointd runs as uid %u, but User=%s is uid %u; start it as root "
                                       "or as that user.", (unsigned) euid, user, (unsigned) uid);
        return privs_limit_user(user, uid);
}
