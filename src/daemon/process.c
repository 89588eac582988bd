/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "process.h"
#include "util.h"

#define PROC_FILE_MAX (64U * 1024U)

static int pidfd_open_compat(pid_t pid) {
        return (int) syscall(SYS_pidfd_open, pid, 0);
}

static bool pidfd_alive(int pidfd) {
        struct pollfd p = { .fd = pidfd, .events = POLLIN };

        /* A pidfd becomes readable when its process exits. */
        return poll(&p, 1, 0) == 0;
}

/* Reads a /proc file of dirfd into a NUL-terminated malloc'ed buffer.
 * /proc files report size 0, so this reads until EOF. */
static int proc_read(int dirfd, const char *name, char **ret) {
        _cleanup_(closep) int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        _cleanup_(freep) char *buf = NULL;
        size_t len = 0;

        if (fd < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        buf = malloc(PROC_FILE_MAX + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, buf + len, PROC_FILE_MAX - len);

                if (n < 0)
                        return errno == ESRCH ? -ESRCH : -errno;
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len == PROC_FILE_MAX)
                        return -EFBIG;
        }
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* The start time (clock ticks after boot): field 22 of "stat", counted
 * after the ")" that ends the command name (which may hold spaces and ")").
 * Pins the process where pidfd_open() is missing (before Linux 5.3, or
 * under valgrind). */
static int proc_start_time(int dirfd, unsigned long long *ret) {
        _cleanup_(freep) char *buf = NULL;
        char *p;
        int r = proc_read(dirfd, "stat", &buf);

        if (r < 0)
                return r;
        p = strrchr(buf, ')');
        for (int field = 2; p && field < 22; field++)
                p = strchr(p + 1, ' ');
        if (!p || sscanf(p + 1, "%llu", ret) != 1)
                return -EBADMSG;
        return 0;
}

static int status_parse(const char *status, ProcessInfo *info) {
        const char *uid = strstr(status, "\nUid:"), *tracer = strstr(status, "\nTracerPid:");
        unsigned u[4];
        int t;

        if (!uid || !tracer || sscanf(uid + 5, "%u %u %u %u", &u[0], &u[1], &u[2], &u[3]) != 4 ||
            sscanf(tracer + 11, "%d", &t) != 1)
                return -EBADMSG;
        for (size_t i = 0; i < 4; i++)
                info->uids[i] = (uid_t) u[i];
        info->tracer = (pid_t) t;
        return 0;
}

/* "ID:CONTROLLERS:PATH" lines; keeps the paths systemd tracks units by. */
static int cgroup_parse(char *data, ProcessInfo *info) {
        char *save_line = NULL;

        for (char *line = strtok_r(data, "\n", &save_line); line; line = strtok_r(NULL, "\n", &save_line)) {
                char *c = strchr(line, ':'), *path = c ? strchr(c + 1, ':') : NULL, *save = NULL;
                char **slot = NULL;

                if (!path)
                        return -EBADMSG;
                *path++ = 0;
                if (streq(line, "0:"))
                        slot = &info->cgroup;
                else
                        for (char *w = strtok_r(c + 1, ",", &save); w && !slot;
                             w = strtok_r(NULL, ",", &save))
                                if (streq(w, "name=systemd"))
                                        slot = &info->cgroup_systemd;
                if (!slot)
                        continue;
                if (*slot)
                        return -EBADMSG;
                *slot = strdup(path);
                if (!*slot)
                        return -ENOMEM;
        }
        return 0;
}

int process_info_read(pid_t pid, ProcessInfo *info) {
        _cleanup_(closep) int pidfd = -EBADF, dirfd = -EBADF;
        _cleanup_(freep) char *status = NULL, *cgroup = NULL;
        unsigned long long start = 0, again = 0;
        ProcessInfo i = {};
        char proc[64];
        struct stat st;
        int r;

        if (pid <= 0)
                return -ESRCH;
        pidfd = pidfd_open_compat(pid);
        if (pidfd < 0 && errno != ENOSYS)
                return errno == EINVAL ? -ESRCH : -errno;
        (void) snprintf(proc, sizeof(proc), "/proc/%d", (int) pid);
        dirfd = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        if (pidfd < 0 && (r = proc_start_time(dirfd, &start)) < 0)
                return r;
        r = proc_read(dirfd, "status", &status);
        if (r >= 0)
                r = proc_read(dirfd, "cgroup", &cgroup);
        if (r < 0)
                return r;
        /* Entries other than the directory belong to root while the
         * process is not dumpable (proc(5), PR_SET_DUMPABLE). */
        if (fstatat(dirfd, "stat", &st, 0) < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        if (pidfd >= 0 ? !pidfd_alive(pidfd) : (proc_start_time(dirfd, &again) < 0 || again != start))
                return -ESRCH;
        r = status_parse(status, &i);
        if (r >= 0)
                r = cgroup_parse(cgroup, &i);
        if (r < 0) {
                process_info_done(&i);
                return r;
        }
        i.dumpable = st.st_uid != 0;
        *info = i;
        return 0;
}

void process_info_done(ProcessInfo *info) {
        free(info->cgroup);
        free(info->cgroup_systemd);
        info->cgroup = info->cgroup_systemd = NULL;
}

bool process_info_has_uid(const ProcessInfo *info, uid_t uid) {
        for (size_t i = 0; i < 4; i++)
                if (info->uids[i] != uid)
                        return false;
        return true;
}

static bool cgroup_in_unit(const char *path, const char *unit) {
        static const char slice[] = "/system.slice/";
        size_t n = strlen(unit);

        /* The whole path from the root: a unit of the same name in a
         * user's delegated subtree (/user.slice/.../pump.service) is not
         * the system's. */
        if (strncmp(path, slice, sizeof(slice) - 1) != 0)
                return false;
        path += sizeof(slice) - 1;
        return strncmp(path, unit, n) == 0 && (path[n] == 0 || path[n] == '/');
}

bool process_info_in_unit(const ProcessInfo *info, const char *unit) {
        bool checked = false;

        if (info->cgroup_systemd) {
                if (!cgroup_in_unit(info->cgroup_systemd, unit))
                        return false;
                checked = true;
        }
        if (info->cgroup && !(info->cgroup_systemd && streq(info->cgroup, "/"))) {
                if (!cgroup_in_unit(info->cgroup, unit))
                        return false;
                checked = true;
        }
        return checked;
}
