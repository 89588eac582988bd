/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"

DEFINE_CLEANUP_FUNC(scmp_filter_ctx, seccomp_release, seccomp_releasep)

/* What a rule checks in the arguments, besides the system call number. */
typedef enum SandboxArgs {
        ARGS_ANY,
        ARGS_CLONE_THREAD, /* a thread of this process, not a new process or namespace */
        ARGS_IOCTL_TCGETS, /* the request isatty(3) makes */
        ARGS_SELF, /* the first argument is this process's pid */
        ARGS_SOCKET, /* AF_UNIX; with a network TCTI also AF_INET and AF_INET6 streams */
        ARGS_UNIX, /* the first argument is AF_UNIX */
} SandboxArgs;

typedef struct SandboxRule {
        const char *name;
        int error; /* > 0: refused with this errno ("deny softly"); 0: permitted */
        SandboxArgs args;
} SandboxRule;

/* The whole allowlist: first what is refused softly, then what is
 * permitted, each block alphabetical. Everything else kills the process:
 * execve, ptrace, mount, bpf, keyctl, setuid and the like, fork (clone
 * without CLONE_THREAD), prctl, every ioctl but TCGETS, and socket() for
 * any family not named here. It covers endpointd, sd-event/sd-bus/
 * sd-journal, tpm2-tss (device and socket TCTIs), OpenSSL and glibc after
 * initialisation; an strace of the integration suite shows no ioctl() and
 * no prctl() after that point. */
static const SandboxRule rules[] = {
        /* clone3() passes its flags in memory, out of the filter's reach:
         * ENOSYS makes glibc fall back to clone(), whose flags are checked. */
        { "clone3", ENOSYS, ARGS_ANY },
        { "ioctl", ENOTTY, ARGS_IOCTL_TCGETS }, /* isatty(3): "not a terminal" */

        /* Permitted. */
        { "accept4", 0, ARGS_ANY },
        { "access", 0, ARGS_ANY },
        { "brk", 0, ARGS_ANY },
        { "capget", 0, ARGS_ANY }, /* libcap and sd-bus creds augmentation */
        { "clock_getres", 0, ARGS_ANY },
        { "clock_gettime", 0, ARGS_ANY },
        { "clock_nanosleep", 0, ARGS_ANY },
        { "clone", 0, ARGS_CLONE_THREAD }, /* threads only: no new process */
        { "close", 0, ARGS_ANY },
        { "close_range", 0, ARGS_ANY },
        { "connect", 0, ARGS_ANY }, /* TPM reconnects, journal, notify socket */
        { "dup", 0, ARGS_ANY },
        { "dup2", 0, ARGS_ANY },
        { "dup3", 0, ARGS_ANY },
        { "epoll_create1", 0, ARGS_ANY },
        { "epoll_ctl", 0, ARGS_ANY },
        { "epoll_pwait", 0, ARGS_ANY },
        { "epoll_wait", 0, ARGS_ANY },
        { "eventfd2", 0, ARGS_ANY },
        { "exit", 0, ARGS_ANY },
        { "exit_group", 0, ARGS_ANY },
        { "faccessat", 0, ARGS_ANY },
        { "faccessat2", 0, ARGS_ANY },
        { "fadvise64", 0, ARGS_ANY },
        { "fchmod", 0, ARGS_ANY }, /* write_file_atomic() sets the final mode */
        { "fchmodat", 0, ARGS_ANY },
        { "fcntl", 0, ARGS_ANY },
        { "fdatasync", 0, ARGS_ANY },
        { "fgetxattr", 0, ARGS_ANY },
        { "flistxattr", 0, ARGS_ANY },
        { "flock", 0, ARGS_ANY },
        { "fstat", 0, ARGS_ANY },
        { "fstatfs", 0, ARGS_ANY },
        { "fsync", 0, ARGS_ANY },
        { "ftruncate", 0, ARGS_ANY },
        { "futex", 0, ARGS_ANY },
        { "get_robust_list", 0, ARGS_ANY },
        { "getcwd", 0, ARGS_ANY },
        { "getdents64", 0, ARGS_ANY },
        { "getegid", 0, ARGS_ANY },
        { "geteuid", 0, ARGS_ANY },
        { "getgid", 0, ARGS_ANY },
        { "getgroups", 0, ARGS_ANY },
        { "getpeername", 0, ARGS_ANY },
        { "getpid", 0, ARGS_ANY },
        { "getppid", 0, ARGS_ANY },
        { "getrandom", 0, ARGS_ANY },
        { "getresgid", 0, ARGS_ANY },
        { "getresuid", 0, ARGS_ANY },
        { "getrlimit", 0, ARGS_ANY },
        { "getsockname", 0, ARGS_ANY },
        { "getsockopt", 0, ARGS_ANY },
        { "gettid", 0, ARGS_ANY },
        { "gettimeofday", 0, ARGS_ANY },
        { "getuid", 0, ARGS_ANY },
        { "inotify_add_watch", 0, ARGS_ANY },
        { "inotify_init1", 0, ARGS_ANY },
        { "inotify_rm_watch", 0, ARGS_ANY },
        { "kill", 0, ARGS_SELF }, /* this process only */
        { "_llseek", 0, ARGS_ANY },
        { "lseek", 0, ARGS_ANY },
        { "lstat", 0, ARGS_ANY },
        { "madvise", 0, ARGS_ANY },
        { "membarrier", 0, ARGS_ANY },
        { "memfd_create", 0, ARGS_ANY }, /* sd-journal sends large entries as a memfd */
        { "mkdir", 0, ARGS_ANY },
        { "mkdirat", 0, ARGS_ANY },
        { "mlock", 0, ARGS_ANY },
        { "mlock2", 0, ARGS_ANY },
        { "mmap", 0, ARGS_ANY },
        { "mprotect", 0, ARGS_ANY },
        { "mremap", 0, ARGS_ANY },
        { "msync", 0, ARGS_ANY },
        { "munlock", 0, ARGS_ANY },
        { "munmap", 0, ARGS_ANY },
        { "nanosleep", 0, ARGS_ANY },
        { "newfstatat", 0, ARGS_ANY },
        { "open", 0, ARGS_ANY },
        { "openat", 0, ARGS_ANY },
        { "openat2", 0, ARGS_ANY }, /* the scanner's RESOLVE_BENEATH walk */
        { "pidfd_open", 0, ARGS_ANY }, /* caller identity */
        { "pipe2", 0, ARGS_ANY },
        { "poll", 0, ARGS_ANY },
        { "ppoll", 0, ARGS_ANY },
        { "pread64", 0, ARGS_ANY },
        { "preadv", 0, ARGS_ANY },
        { "preadv2", 0, ARGS_ANY },
        { "prlimit64", 0, ARGS_ANY },
        { "pselect6", 0, ARGS_ANY },
        { "pwrite64", 0, ARGS_ANY },
        { "read", 0, ARGS_ANY },
        { "readlink", 0, ARGS_ANY },
        { "readlinkat", 0, ARGS_ANY },
        { "readv", 0, ARGS_ANY },
        { "recvfrom", 0, ARGS_ANY },
        { "recvmmsg", 0, ARGS_ANY },
        { "recvmsg", 0, ARGS_ANY },
        { "rename", 0, ARGS_ANY },
        { "renameat", 0, ARGS_ANY },
        { "renameat2", 0, ARGS_ANY },
        { "restart_syscall", 0, ARGS_ANY },
        { "rseq", 0, ARGS_ANY },
        { "rt_sigaction", 0, ARGS_ANY },
        { "rt_sigprocmask", 0, ARGS_ANY },
        { "rt_sigreturn", 0, ARGS_ANY },
        { "rt_sigtimedwait", 0, ARGS_ANY },
        { "sched_getaffinity", 0, ARGS_ANY },
        { "sched_yield", 0, ARGS_ANY },
        { "select", 0, ARGS_ANY },
        { "sendmmsg", 0, ARGS_ANY },
        { "sendmsg", 0, ARGS_ANY },
        { "sendto", 0, ARGS_ANY },
        { "set_robust_list", 0, ARGS_ANY },
        { "set_tid_address", 0, ARGS_ANY },
        { "setsockopt", 0, ARGS_ANY },
        { "shutdown", 0, ARGS_ANY },
        { "sigaltstack", 0, ARGS_ANY },
        { "signalfd4", 0, ARGS_ANY },
        { "socket", 0, ARGS_SOCKET }, /* AF_UNIX; AF_INET(6) streams for a network TCTI */
        { "socketpair", 0, ARGS_UNIX },
        { "stat", 0, ARGS_ANY },
        { "statfs", 0, ARGS_ANY },
        { "statx", 0, ARGS_ANY },
        { "sysinfo", 0, ARGS_ANY },
        { "tgkill", 0, ARGS_SELF }, /* this process only: raise(3), abort(3) */
        { "timerfd_create", 0, ARGS_ANY },
        { "timerfd_gettime", 0, ARGS_ANY },
        { "timerfd_settime", 0, ARGS_ANY },
        { "umask", 0, ARGS_ANY },
        { "uname", 0, ARGS_ANY },
        { "unlink", 0, ARGS_ANY },
        { "unlinkat", 0, ARGS_ANY },
        { "write", 0, ARGS_ANY },
        { "writev", 0, ARGS_ANY },
};

/* The flags glibc's pthread_create() passes, and the ones a thread must
 * not have: new namespaces, a traced or vfork'ed child, another parent. */
#define CLONE_THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM)
#define CLONE_CHECKED_FLAGS                                                                                 \
        (CLONE_THREAD_FLAGS | CLONE_PARENT | CLONE_PTRACE | CLONE_UNTRACED | CLONE_VFORK | CLONE_NEWNS |    \
         CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)
/* s390 passes the stack first and the flags second. */
#if defined(__s390__) || defined(__s390x__)
#define CLONE_FLAGS_ARG 1
#else
#define CLONE_FLAGS_ARG 0
#endif
/* The kernel's SOCK_TYPE_MASK: socket()'s type without SOCK_CLOEXEC and
 * SOCK_NONBLOCK. */
#define SOCKET_TYPE_MASK 0xfU

/* What the SIGSYS handler reports with. A signal handler gets no userdata,
 * so this is the daemon's one piece of global state; it is written once,
 * before the filter is loaded, and only read afterwards. */
#define SYSCALL_NAME_MAX 32
#define SYSCALL_NR_MAX 1024
static struct {
        uint32_t arch;
        size_t n_names;
        char (*names)[SYSCALL_NAME_MAX];
} sigsys;

bool sandbox_tcti_needs_inet(const char *tcti) {
        size_t n;

        if (!tcti)
                return true;
        n = strcspn(tcti, ":");
        return !((n == strlen("device") && strncmp(tcti, "device", n) == 0) ||
                 (n == strlen("tabrmd") && strncmp(tcti, "tabrmd", n) == 0));
}

/* Async-signal-safe string building for the SIGSYS handler. */
static size_t buf_append(char *buf, size_t size, size_t n, const char *s) {
        while (*s && n + 1 < size)
                buf[n++] = *s++;
        return n;
}

static size_t buf_append_uint(char *buf, size_t size, size_t n, unsigned long v) {
        char digits[24];
        size_t k = 0;

        do {
                digits[k++] = (char) ('0' + v % 10);
                v /= 10;
        } while (v > 0);
        while (k > 0 && n + 1 < size)
                buf[n++] = digits[--k];
        return n;
}

/* Names the forbidden call in one write(2) and dies by SIGSYS, so that the
 * journal has the line and the service manager sees status=31/SYS. Only
 * async-signal-safe calls, all of them in the allowlist. */
static void on_sigsys(int sig, siginfo_t *si, void *ctx) {
        const unsigned long nr = (unsigned long) si->si_syscall;
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        sigset_t mask;
        char buf[160];
        size_t n = 0;

        n = buf_append(buf, sizeof(buf), n, "endpointd: seccomp: forbidden system call ");
        if (si->si_arch != sigsys.arch) {
                n = buf_append_uint(buf, sizeof(buf), n, nr);
                n = buf_append(buf, sizeof(buf), n, " of a foreign architecture");
        } else if (nr < sigsys.n_names && sigsys.names[nr][0]) {
                n = buf_append(buf, sizeof(buf), n, sigsys.names[nr]);
                n = buf_append(buf, sizeof(buf), n, " (");
                n = buf_append_uint(buf, sizeof(buf), n, nr);
                n = buf_append(buf, sizeof(buf), n, ")");
        } else
                n = buf_append_uint(buf, sizeof(buf), n, nr);
        n = buf_append(buf, sizeof(buf), n, "; killing the process.\n");
        (void) !write(STDERR_FILENO, buf, n);

        /* SIGSYS is blocked while this handler runs: queue it with the
         * default action, then unblock it to die of it here. */
        (void) sigaction(SIGSYS, &dfl, NULL);
        (void) raise(SIGSYS);
        sigemptyset(&mask);
        sigaddset(&mask, SIGSYS);
        (void) sigprocmask(SIG_UNBLOCK, &mask, NULL);
        _exit(128 + SIGSYS);
}

static int sigsys_names_build(void) {
        char(*names)[SYSCALL_NAME_MAX] = calloc(SYSCALL_NR_MAX, SYSCALL_NAME_MAX);
        size_t n = 0;

        if (!names)
                return -ENOMEM;
        for (int nr = 0; nr < SYSCALL_NR_MAX; nr++) {
                char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

                if (!name)
                        continue;
                (void) snprintf(names[nr], SYSCALL_NAME_MAX, "%s", name);
                free(name);
                n = (size_t) nr + 1;
        }
        free(sigsys.names);
        sigsys.names = names;
        sigsys.n_names = n;
        sigsys.arch = seccomp_arch_native();
        return 0;
}

static int rule_add(scmp_filter_ctx ctx, const SandboxRule *rule, bool inet, uint32_t action) {
        const scmp_datum_t self = (scmp_datum_t) getpid();
        int nr = seccomp_syscall_resolve_name(rule->name);
        int r;

        /* Not every name exists on every architecture. */
        if (nr == __NR_SCMP_ERROR)
                return 0;
        switch (rule->args) {
        case ARGS_ANY:
                return seccomp_rule_add(ctx, action, nr, 0);
        case ARGS_CLONE_THREAD:
                return seccomp_rule_add(ctx, action, nr, 1,
                                        SCMP_CMP(CLONE_FLAGS_ARG, SCMP_CMP_MASKED_EQ, CLONE_CHECKED_FLAGS,
                                                 CLONE_THREAD_FLAGS));
        case ARGS_IOCTL_TCGETS:
                /* The kernel reads the request as an unsigned int. */
                return seccomp_rule_add(ctx, action, nr, 1,
                                        SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffU, TCGETS));
        case ARGS_SELF:
                return seccomp_rule_add(ctx, action, nr, 1, SCMP_A0(SCMP_CMP_EQ, self));
        case ARGS_UNIX:
                return seccomp_rule_add(ctx, action, nr, 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
        case ARGS_SOCKET:
                r = seccomp_rule_add(ctx, action, nr, 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
                if (r < 0 || !inet)
                        return r;
                r = seccomp_rule_add(ctx, action, nr, 2, SCMP_A0(SCMP_CMP_EQ, AF_INET),
                                     SCMP_A1(SCMP_CMP_MASKED_EQ, SOCKET_TYPE_MASK, SOCK_STREAM));
                if (r < 0)
                        return r;
                return seccomp_rule_add(ctx, action, nr, 2, SCMP_A0(SCMP_CMP_EQ, AF_INET6),
                                        SCMP_A1(SCMP_CMP_MASKED_EQ, SOCKET_TYPE_MASK, SOCK_STREAM));
        }
        return -EINVAL;
}

int sandbox_install(SeccompMode mode, bool inet) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
        uint32_t deny = mode == SECCOMP_MODE_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP;
        int r;

        if (mode == SECCOMP_MODE_OFF) {
                log_notice("System call filter disabled (Seccomp=no).");
                return 0;
        }
        /* TRAP rather than KILL so that the log names the call; the handler
         * then dies of SIGSYS, so the effect is the same. */
        ctx = seccomp_init(deny);
        if (!ctx)
                return log_error_errno(ENOMEM, "Failed to allocate the seccomp filter.");
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
        if (r < 0)
                return log_error_errno(r, "Failed to request a filter for all threads: %m");
        /* A call through another ABI (x32, i386 on x86_64) is not in the
         * allowlist either; the default would kill only the thread. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, deny);
        if (r < 0)
                return log_error_errno(r, "Failed to set the action for foreign system calls: %m");
        for (size_t i = 0; i < ELEMENTSOF(rules); i++) {
                r = rule_add(ctx, &rules[i], inet,
                             rules[i].error > 0 ? SCMP_ACT_ERRNO(rules[i].error) : SCMP_ACT_ALLOW);
                if (r < 0 && r != -EEXIST)
                        return log_error_errno(r, "Failed to add the seccomp rule for %s: %m",
                                               rules[i].name);
        }
        r = sigsys_names_build();
        if (r < 0)
                return log_error_errno(r, "Failed to prepare the system call names: %m");
        if (sigaction(SIGSYS, &sa, NULL) < 0)
                return log_error_errno(errno, "Failed to install the SIGSYS handler: %m");
        r = seccomp_load(ctx);
        if (r < 0)
                return log_error_errno(r, "Failed to install the system call filter: %m");
        log_debug("System call filter installed (%s mode; sockets: AF_UNIX%s).",
                  mode == SECCOMP_MODE_LOG ? "log" : "enforcing", inet ? ", AF_INET, AF_INET6" : "");
        return 0;
}
