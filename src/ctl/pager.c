/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "pager.h"
#include "table.h"
#include "util.h"

static pid_t pager_pid = 0;

bool on_terminal(int fd) {
        return (fd == STDOUT_FILENO && pager_pid > 0) || isatty(fd);
}

/* The pager named by the environment; NULL for the default, "" for none. */
static const char *pager_from_env(void) {
        const char *p = getenv("SYSTEMD_PAGER");

        if (!p)
                p = getenv("PAGER");
        if (p && (streq(p, "cat") || strspn(p, " \t") == strlen(p)))
                return "";
        return p;
}

/* In the child: no pager could be run, so copy the output through as it is. */
_noreturn_ static void copy_through(void) {
        char buf[4096];
        ssize_t n;

        while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0)
                for (ssize_t done = 0; done < n;) {
                        ssize_t w = write(STDOUT_FILENO, buf + done, (size_t) (n - done));

                        if (w <= 0)
                                _exit(EXIT_FAILURE);
                        done += w;
                }
        _exit(n < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}

/* Secure mode, as systemd's: $SYSTEMD_PAGERSECURE if it is a boolean, else
 * on when endpointctl runs as root or with another effective uid (an
 * unparsable value counts as on). */
static bool pager_secure(void) {
        const char *s = getenv("SYSTEMD_PAGERSECURE");
        int r = s ? parse_boolean(s) : -ENXIO;

        if (r >= 0)
                return r;
        return s || geteuid() == 0 || geteuid() != getuid();
}

_noreturn_ static void pager_exec(int read_fd, const char *pager) {
        const char *less = getenv("SYSTEMD_LESS");
        bool secure = pager_secure();

        if (dup2(read_fd, STDIN_FILENO) < 0)
                _exit(EXIT_FAILURE);
        if (read_fd != STDIN_FILENO)
                close(read_fd);
        /* Ends with endpointctl, should that be killed. */
        (void) prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
        (void) setenv("LESS", less ?: "FRSXMK", 1);
        /* A pager run as root could otherwise start a shell ("!sh" in less).
         * Only less honours LESSSECURE: in secure mode no other pager runs
         * (more, say, has no secure mode), not even one named by $PAGER,
         * which sudo may have kept from the invoking user. */
        if (secure) {
                (void) setenv("LESSSECURE", "1", 1);
                execlp("less", "less", (char *) NULL);
        } else if (pager)
                execl("/bin/sh", "sh", "-c", pager, (char *) NULL);
        else {
                execlp("less", "less", (char *) NULL);
                execlp("more", "more", (char *) NULL);
        }
        copy_through();
}

int pager_open(bool no_pager) {
        const char *pager = pager_from_env(), *term = getenv("TERM");
        char columns[16];
        int fds[2];
        pid_t pid;

        if (no_pager || pager_pid > 0 || (pager && !*pager) || !isatty(STDOUT_FILENO) || !term ||
            streq(term, "dumb"))
                return 0;
        (void) snprintf(columns, sizeof(columns), "%u", terminal_columns(STDOUT_FILENO));
        if (setenv("COLUMNS", columns, 1) < 0)
                return log_oom();
        if (fflush(stdout) != 0 || pipe2(fds, O_CLOEXEC) < 0)
                return log_error_errno(errno, "Failed to start the pager: %m");
        pid = fork();
        if (pid < 0) {
                int e = errno;

                close(fds[0]);
                close(fds[1]);
                return log_error_errno(e, "Failed to start the pager: %m");
        }
        if (pid == 0) {
                close(fds[1]);
                pager_exec(fds[0], pager);
        }
        close(fds[0]);
        if (dup2(fds[1], STDOUT_FILENO) < 0) {
                int e = errno;

                close(fds[1]);
                (void) kill(pid, SIGTERM);
                (void) waitpid(pid, NULL, 0);
                return log_error_errno(e, "Failed to start the pager: %m");
        }
        close(fds[1]);
        /* Quitting the pager early is no error of ours: writes then fail quietly. */
        (void) signal(SIGPIPE, SIG_IGN);
        pager_pid = pid;
        return 0;
}

void pager_close(void) {
        int fd;

        if (pager_pid <= 0)
                return;
        (void) fflush(stdout);
        /* EOF for the pager; standard output stays a valid fd. */
        fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
                (void) close(STDOUT_FILENO);
        if (fd >= 0)
                (void) close(fd);
        while (waitpid(pager_pid, NULL, 0) < 0 && errno == EINTR)
                ;
        pager_pid = 0;
}
