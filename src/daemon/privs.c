/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <grp.h>
#include <pwd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "log.h"
#include "privs.h"

DEFINE_CLEANUP_FUNC(cap_t, cap_free, cap_freep)

static int keep_only_dac_read_search(void) {
        _cleanup_(cap_freep) cap_t caps = cap_init();
        const cap_value_t keep[] = { CAP_DAC_READ_SEARCH };

        if (!caps)
                return -ENOMEM;
        if (cap_set_flag(caps, CAP_PERMITTED, 1, keep, CAP_SET) < 0 ||
            cap_set_flag(caps, CAP_EFFECTIVE, 1, keep, CAP_SET) < 0)
                return negative_errno();
        if (cap_set_proc(caps) < 0)
                return negative_errno();
        /* Nothing we exec (we exec nothing) may regain capabilities. */
        for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
                if (c != CAP_DAC_READ_SEARCH && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
                        return negative_errno();
        return 0;
}

int privs_drop(const char *user, const char *state_dir) {
        struct passwd *pw;
        struct group *tss;
        gid_t groups[2];
        size_t n_groups = 0;
        int r;

        if (geteuid() != 0 || streq(user, "root"))
                return 0;
        errno = 0;
        pw = getpwnam(user);
        if (!pw)
                return log_error_errno(errno ?: ESRCH,
                                       "User '%s' (User= in the configuration) does not exist; "
                                       "create it with systemd-sysusers.", user);
        if (pw->pw_uid == 0)
                return 0;

        if (chown(state_dir, pw->pw_uid, pw->pw_gid) < 0)
                return log_error_errno(errno, "Failed to hand state directory '%s' to %s: %m", state_dir, user);

        groups[n_groups++] = pw->pw_gid;
        tss = getgrnam("tss");
        if (tss && tss->gr_gid != pw->pw_gid)
                groups[n_groups++] = tss->gr_gid;

        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setgroups(n_groups, groups) < 0 ||
            setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
            setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
                return log_error_errno(errno, "Failed to switch to user %s: %m", user);
        r = keep_only_dac_read_search();
        if (r < 0)
                return log_error_errno(r, "Failed to drop capabilities: %m");
        (void) prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
        log_debug("Running as %s (uid %u) with CAP_DAC_READ_SEARCH only.", user, (unsigned) pw->pw_uid);
        return 0;
}
