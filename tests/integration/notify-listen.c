/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A NOTIFY_SOCKET owned by the test: binds a datagram socket at argv[1],
 * writes every message it receives to stdout (one line per assignment),
 * and exits 0 once READY=1 arrived, 1 after argv[2] seconds without it.
 * With a third argument "all" it keeps going until the timeout and exits 0. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd, timeout, all;
        time_t deadline;

        if (argc < 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "usage: notify-listen PATH TIMEOUT_SEC [all]\n");
                return 2;
        }
        timeout = atoi(argv[2]);
        all = argc > 3 && strcmp(argv[3], "all") == 0;
        strcpy(sa.sun_path, argv[1]);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                perror("notify-listen: bind");
                return 2;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        deadline = time(NULL) + timeout;
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                char buf[4096];
                ssize_t n;
                time_t left = deadline - time(NULL);

                if (left <= 0)
                        return all ? 0 : 1;
                if (poll(&p, 1, (int) left * 1000) <= 0)
                        continue;
                n = recv(fd, buf, sizeof(buf) - 1, 0);
                if (n <= 0)
                        continue;
                buf[n] = 0;
                fputs(buf, stdout);
                if (buf[n - 1] != '\n')
                        fputc('\n', stdout);
                if (!all && (strncmp(buf, "READY=1", 7) == 0 || strstr(buf, "\nREADY=1")))
                        return 0;
        }
}
