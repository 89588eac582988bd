/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The system call filter, installed for real in a forked child: what it
 * permits works, what it refuses softly gets its errno, and a forbidden call
 * kills the child by SIGSYS after one line on stderr naming the call. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check-main.h"
#include "sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifdef SANITIZED
/* The forked filter tests are compiled but not registered in a sanitizer
 * build (make_suite()), whose runtime makes system calls the filter kills. */
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wunused-function"
#endif

typedef struct Child {
        int status;
        char err[4096];
} Child;

/* Runs fn in a child under the filter (mode, inet) with stderr on a pipe;
 * fn's return value is the child's exit status. */
static void run_sandboxed(SeccompMode mode, bool inet, int (*fn)(void), Child *ret) {
        int p[2];
        size_t n = 0;
        ssize_t k;
        pid_t pid;

        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                if (dup2(p[1], STDERR_FILENO) < 0)
                        _exit(90);
                if (sandbox_install(mode, inet) < 0)
                        _exit(91);
                _exit(fn());
        }
        close(p[1]);
        while ((k = read(p[0], ret->err + n, sizeof(ret->err) - 1 - n)) > 0)
                n += (size_t) k;
        ret->err[n] = 0;
        close(p[0]);
        ck_assert_int_eq(waitpid(pid, &ret->status, 0), pid);
}

static size_t count(const char *haystack, const char *needle) {
        size_t n = 0;

        for (const char *p = haystack; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

/* The child died by SIGSYS and said so once, naming the call. */
static void assert_killed_for(const Child *c, const char *name, long nr) {
        char line[128];

        ck_assert_msg(WIFSIGNALED(c->status) && WTERMSIG(c->status) == SIGSYS,
                      "child not killed by SIGSYS (status 0x%x); stderr: %s", (unsigned) c->status, c->err);
        (void) snprintf(line, sizeof(line), "forbidden system call %s (%ld); killing the process.\n", name,
                        nr);
        ck_assert_msg(count(c->err, line) == 1, "expected one '%s' in: %s", line, c->err);
        ck_assert_uint_eq(count(c->err, "forbidden system call"), 1);
}

static void assert_exited_ok(const Child *c) {
        ck_assert_msg(WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0, "child status 0x%x; stderr: %s",
                      (unsigned) c->status, c->err);
}

static int call_getpgid(void) {
        /* Not in the allowlist; harmless if it ran. */
        return syscall(SYS_getpgid, 0) < 0 ? 1 : 0;
}

static int call_socket_unix(void) {
        if (socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) < 0)
                return 1;
        return socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0) < 0 ? 2 : 0;
}

static int call_socket_inet(void) {
        return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) >= 0 ? 0 : 1;
}

static int call_socket_inet6(void) {
        /* A kernel without IPv6 answers EAFNOSUPPORT; the filter let it through. */
        return socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0) >= 0 || errno == EAFNOSUPPORT ? 0 : 1;
}

static int call_socket_inet_dgram(void) {
        return socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) >= 0 ? 0 : 1;
}

static int call_socket_netlink(void) {
        return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0) >= 0 ? 0 : 1;
}

static void *thread_main(void *arg) {
        return arg;
}

static int call_thread(void) {
        pthread_t t;
        void *res = NULL;

        if (pthread_create(&t, NULL, thread_main, (void *) 42) != 0 || pthread_join(t, &res) != 0)
                return 1;
        return res == (void *) 42 ? 0 : 2;
}

static int call_clone3(void) {
        return syscall(SYS_clone3, NULL, 0) < 0 && errno == ENOSYS ? 0 : 1;
}

static int call_fork(void) {
        /* clone() as fork(2) makes it: no CLONE_THREAD. */
        long pid = syscall(SYS_clone, (unsigned long) SIGCHLD, 0, 0, 0, 0);

        if (pid == 0)
                _exit(0);
        return 1;
}

static int call_prctl(void) {
        return prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) >= 0 ? 0 : 1;
}

static int ptmx = -EBADF;

static int call_ioctl_tcgets(void) {
        char termios[256]; /* larger than any struct termios */

        /* A pty master is a terminal, so ENOTTY comes from the filter. */
        return ioctl(ptmx, TCGETS, termios) < 0 && errno == ENOTTY ? 0 : 1;
}

static int call_ioctl_fionread(void) {
        int n;

        return ioctl(ptmx, FIONREAD, &n) < 0 ? 1 : 0;
}

static int call_kill_self(void) {
        return kill(getpid(), 0) == 0 ? 0 : 1;
}

static int call_kill_parent(void) {
        return kill(getppid(), 0) == 0 ? 0 : 1;
}

static int call_execve(void) {
        char *const argv[] = { (char *) "true", NULL };

        (void) execve("/bin/true", argv, NULL);
        return 1;
}

#if defined(__x86_64__)
static int call_i386_getpid(void) {
        long ret = 20; /* getpid in the i386 table */

        __asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
        return ret > 0 ? 0 : 1;
}
#endif

START_TEST(test_forbidden_call_kills) {
        Child c = {};

        run_sandboxed(SECCOMP_MODE_ENFORCE, false, call_getpgid, &c);
        assert_killed_for(&c, "getpgid", SYS_getpgid);
        run_sandboxed(SECCOMP_MODE_ENFORCE, false, call_execve, &c);
        assert_killed_for(&c, "execve", SYS_execve);
        run_sandboxed(SECCOMP_MODE_ENFORCE, false, call_prctl, &c);
        assert_killed_for(&c, "prctl", SYS_prctl);
#if defined(__x86_64__)
        /* Another ABI kills the process too, not just the thread. A kernel
         * without IA32 emulation answers int 0x80 with SIGSEGV instead. */
        run_sandboxed(SECCOMP_MODE_ENFORCE, false, call_i386_getpid, &c);
        if (!(WIFSIGNALED(c.status) && WTERMSIG(c.status) == SIGSEGV)) {
                ck_assert_msg(WIFSIGNALED(c.status) && WTERMSIG(c.status) == SIGSYS,
                              "status 0x%x; stderr: %s", (unsigned) c.status, c.err);
                ck_assert_uint_eq(count(c.err, "forbidden system call 20 of a foreign architecture; "
                                               "killing the process.\n"),
                                  1);
        }
#endif
}
END_TEST

START_TEST(test_log_mode_lets_it_through) {
        Child c = {};

        run_sandboxed(SECCOMP_MODE_LOG, false, call_getpgid, &c);
        assert_exited_ok(&c);
        ck_assert_ptr_null(strstr(c.err, "forbidden system call"));
        run_sandboxed(SECCOMP_MODE_LOG, false, call_socket_inet, &c);
        assert_exited_ok(&c);
}
END_TEST

START_TEST(test_socket_families) {
        Child c = {};

        /* device: TCTI */
        run_sandboxed(SECCOMP_MODE_ENFORCE, false, call_socket_unix, &c);
        assert_exited_ok(&c);
        run_sandboxed(SECCOMP_MODE_ENFORCE, false, call_socket_inet, &c);
        assert_killed_for(&c, "socket", SYS_socket);
        run_sandboxed(SECCOMP_MODE_ENFORCE, false, call_socket_inet6, &c);
        assert_killed_for(&c, "socket", SYS_socket);
        /* swtpm:/mssim: TCTI */
        run_sandboxed(SECCOMP_MODE_ENFORCE, true, call_socket_unix, &c);
        assert_exited_ok(&c);
        run_sandboxed(SECCOMP_MODE_ENFORCE, true, call_socket_inet, &c);
        assert_exited_ok(&c);
        run_sandboxed(SECCOMP_MODE_ENFORCE, true, call_socket_inet6, &c);
        assert_exited_ok(&c);
        run_sandboxed(SECCOMP_MODE_ENFORCE, true, call_socket_inet_dgram, &c);
        assert_killed_for(&c, "socket", SYS_socket);
        run_sandboxed(SECCOMP_MODE_ENFORCE, true, call_socket_netlink, &c);
        assert_killed_for(&c, "socket", SYS_socket);
}
END_TEST

START_TEST(test_threads_but_no_processes) {
        Child c = {};

        run_sandboxed(SECCOMP_MODE_ENFORCE, false, call_clone3, &c);
        assert_exited_ok(&c);
        run_sandboxed(SECCOMP_MODE_ENFORCE, false, call_thread, &c);
        assert_exited_ok(&c);
        run_sandboxed(SECCOMP_MODE_ENFORCE, false, call_fork, &c);
        assert_killed_for(&c, "clone", SYS_clone);
}
END_TEST

START_TEST(test_ioctl) {
        Child c = {};

        ptmx = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (ptmx < 0)
                return; /* no pty support here: nothing to test with */
        run_sandboxed(SECCOMP_MODE_ENFORCE, false, call_ioctl_tcgets, &c);
        assert_exited_ok(&c);
        run_sandboxed(SECCOMP_MODE_ENFORCE, false, call_ioctl_fionread, &c);
        assert_killed_for(&c, "ioctl", SYS_ioctl);
        close(ptmx);
}
END_TEST

START_TEST(test_kill_only_self) {
        Child c = {};

        run_sandboxed(SECCOMP_MODE_ENFORCE, false, call_kill_self, &c);
        assert_exited_ok(&c);
        run_sandboxed(SECCOMP_MODE_ENFORCE, false, call_kill_parent, &c);
        assert_killed_for(&c, "kill", SYS_kill);
}
END_TEST

START_TEST(test_tcti_needs_inet) {
        ck_assert(!sandbox_tcti_needs_inet("device:/dev/tpmrm0"));
        ck_assert(!sandbox_tcti_needs_inet("device"));
        ck_assert(!sandbox_tcti_needs_inet("tabrmd:bus_type=system"));
        ck_assert(sandbox_tcti_needs_inet("swtpm:host=127.0.0.1,port=2321"));
        ck_assert(sandbox_tcti_needs_inet("mssim"));
        ck_assert(sandbox_tcti_needs_inet("devices:/dev/tpmrm0"));
        ck_assert(sandbox_tcti_needs_inet(""));
        ck_assert(sandbox_tcti_needs_inet(NULL));
}
END_TEST

static Suite *make_suite(void) {
        Suite *s = suite_create("sandbox");
        TCase *tc = tcase_create("filter");

        tcase_add_test(tc, test_tcti_needs_inet);
#ifndef SANITIZED
        /* The ASan runtime makes system calls of its own (and LeakSanitizer
         * ptraces); the filter is tested in the plain build. */
        tcase_add_test(tc, test_forbidden_call_kills);
        tcase_add_test(tc, test_log_mode_lets_it_through);
        tcase_add_test(tc, test_socket_families);
        tcase_add_test(tc, test_threads_but_no_processes);
        tcase_add_test(tc, test_ioctl);
        tcase_add_test(tc, test_kill_only_self);
#endif
        suite_add_tcase(s, tc);
        return s;
}
