/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"

DEFINE_CLEANUP_FUNC(scmp_filter_ctx, seccomp_release, seccomp_releasep)

/* Refused with EPERM: things libraries try but endpointd never needs. */
static const char *const deny_softly[] = {
        "execve",      /* we never run programs */
        "execveat",
        "ptrace",
        "setgid",      /* privileges are dropped before the filter */
        "setgroups",
        "setresgid",
        "setresuid",
        "setuid",
};

/* Everything endpointd, sd-event/sd-bus, tpm2-tss (device and socket
 * TCTIs), OpenSSL and glibc use after initialisation. Alphabetical. */
static const char *const permit[] = {
        "_llseek",
        "accept4",
        "access",
        "brk",
        "capget",              /* libcap and sd-bus creds augmentation */
        "clock_getres",
        "clock_gettime",
        "clock_nanosleep",
        "clone",               /* hashing threads */
        "clone3",
        "close",
        "close_range",
        "connect",             /* TPM reconnects, journal, notify socket */
        "dup",
        "dup2",
        "dup3",
        "epoll_create1",
        "epoll_ctl",
        "epoll_pwait",
        "epoll_wait",
        "eventfd2",
        "exit",
        "exit_group",
        "faccessat",
        "faccessat2",
        "fadvise64",
        "fcntl",
        "fchmod",              /* write_file_atomic() sets the final mode */
        "fchmodat",
        "fdatasync",
        "flock",
        "fgetxattr",
        "flistxattr",
        "fstat",
        "fstatfs",
        "fsync",
        "ftruncate",
        "futex",
        "get_robust_list",
        "getcwd",
        "getdents64",
        "getegid",
        "geteuid",
        "getgid",
        "getgroups",
        "getpeername",
        "getpid",
        "getppid",
        "getrandom",
        "getresgid",
        "getresuid",
        "getrlimit",
        "getsockname",
        "getsockopt",
        "gettid",
        "gettimeofday",
        "getuid",
        "inotify_add_watch",
        "inotify_init1",
        "inotify_rm_watch",
        "ioctl",               /* FIONREAD on sockets, TCGETS on stdio */
        "kill",                /* only ever our own process, by sd-event */
        "lseek",
        "lstat",
        "madvise",
        "membarrier",
        "memfd_create",        /* sd-journal sends large entries as a memfd */
        "mkdir",
        "mkdirat",
        "mlock",
        "mlock2",
        "mmap",
        "mprotect",
        "mremap",
        "msync",
        "munlock",
        "munmap",
        "nanosleep",
        "newfstatat",
        "open",
        "openat",
        "openat2",             /* the scanner's RESOLVE_BENEATH walk */
        "pidfd_open",          /* caller identity */
        "pipe2",
        "poll",
        "ppoll",
        "prctl",
        "pread64",
        "preadv",
        "preadv2",
        "prlimit64",
        "pselect6",
        "pwrite64",
        "read",
        "readlink",
        "readlinkat",
        "readv",
        "recvfrom",
        "recvmmsg",
        "recvmsg",
        "rename",
        "renameat",
        "renameat2",
        "restart_syscall",
        "rseq",
        "rt_sigaction",
        "rt_sigprocmask",
        "rt_sigreturn",
        "rt_sigtimedwait",
        "sched_getaffinity",
        "sched_yield",
        "select",
        "sendmmsg",
        "sendmsg",
        "sendto",
        "set_robust_list",
        "set_tid_address",
        "setsockopt",
        "shutdown",
        "sigaltstack",
        "signalfd4",
        "socket",
        "socketpair",
        "stat",
        "statfs",
        "statx",
        "sysinfo",
        "tgkill",              /* abort() */
        "timerfd_create",
        "timerfd_gettime",
        "timerfd_settime",
        "umask",
        "uname",
        "unlink",
        "unlinkat",
        "write",
        "writev",
};

static void on_sigsys(int sig, siginfo_t *si, void *ctx) {
        char buf[160];
        int n;

        /* Async-signal-safe: format by hand-limited snprintf into a stack
         * buffer (glibc's snprintf with %d is safe in practice), one write. */
        n = snprintf(buf, sizeof(buf),
                     "endpointd: seccomp: forbidden system call %d (scmp_sys_resolver %d); exiting.\n",
                     si->si_syscall, si->si_syscall);
        if (n > 0)
                (void) !write(STDERR_FILENO, buf, (size_t) MIN(n, (int) sizeof(buf) - 1));
        _exit(128 + SIGSYS);
}

static int add_rules(scmp_filter_ctx ctx, const char *const *names, size_t n, uint32_t action) {
        for (size_t i = 0; i < n; i++) {
                int nr = seccomp_syscall_resolve_name(names[i]);
                int r;

                /* Not every name exists on every architecture. */
                if (nr == __NR_SCMP_ERROR)
                        continue;
                r = seccomp_rule_add(ctx, action, nr, 0);
                if (r < 0 && r != -EEXIST)
                        return log_error_errno(r, "Failed to add seccomp rule for %s: %m", names[i]);
        }
        return 0;
}

int sandbox_install(SeccompMode mode) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
        int r;

        if (mode == SECCOMP_MODE_OFF) {
                log_notice("System call filter disabled (Seccomp=no).");
                return 0;
        }
        /* TRAP rather than KILL so that the log names the call; the handler
         * exits, so the effect is the same. */
        ctx = seccomp_init(mode == SECCOMP_MODE_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP);
        if (!ctx)
                return log_error_errno(ENOMEM, "Failed to allocate the seccomp filter.");
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
        if (r < 0)
                return log_error_errno(r, "Failed to request a filter for all threads: %m");
        r = add_rules(ctx, deny_softly, ELEMENTSOF(deny_softly), SCMP_ACT_ERRNO(EPERM));
        if (r < 0)
                return r;
        r = add_rules(ctx, permit, ELEMENTSOF(permit), SCMP_ACT_ALLOW);
        if (r < 0)
                return r;
        if (sigaction(SIGSYS, &sa, NULL) < 0)
                return log_error_errno(errno, "Failed to install the SIGSYS handler: %m");
        r = seccomp_load(ctx);
        if (r < 0)
                return log_error_errno(r, "Failed to install the system call filter: %m");
        log_debug("System call filter installed (%s mode).", mode == SECCOMP_MODE_LOG ? "log" : "enforcing");
        return 0;
}
