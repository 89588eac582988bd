/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Makes a running process execute one system call of our choice, for the
 * attack suite (indep7-harden.sh): what code that an attacker got running
 * inside endpointd could call, and whether the daemon's system call filter
 * kills it (endpointd(8), SANDBOX). Needs root (or CAP_SYS_PTRACE): the
 * daemon is not dumpable. x86-64 only.
 *
 *   indep7-inject [--return] PID NR [ARG...]
 *
 * It stops thread PID with PTRACE_SEIZE + PTRACE_INTERRUPT, points its
 * instruction pointer at a `syscall` instruction (the one it is stopped
 * after, or one found in its executable mappings), loads NR and up to six
 * numeric arguments and lets it run. Without --return it detaches at once
 * (the process is expected to die). With --return it single-steps over the
 * call, prints "ret N" (N is the raw return value, -errno on failure),
 * restores the registers (an interrupted system call is restarted as the
 * kernel would) and detaches, so the process goes on as before. If the
 * process receives a signal instead, "signal N" is printed and the signal
 * is delivered as it would have been. Exit status 0 when the call was made,
 * 1 on errors, 2 on usage errors. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#if !defined(__x86_64__)
int main(void) {
        fprintf(stderr, "indep7-inject: x86-64 only\n");
        return 77;
}
#else

/* Errno values the kernel uses for restartable system calls. */
#define K_ERESTARTSYS 512
#define K_ERESTARTNOINTR 513
#define K_ERESTARTNOHAND 514
#define K_ERESTART_RESTARTBLOCK 516

static int read_mem(pid_t pid, uint64_t addr, void *buf, size_t len) {
        char path[64];
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "/proc/%d/mem", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return -1;
        n = fseeko(f, (off_t) addr, SEEK_SET) == 0 ? fread(buf, 1, len, f) : 0;
        fclose(f);
        return n == len ? 0 : -1;
}

/* The address of a `syscall` instruction (0f 05) in an executable mapping. */
static uint64_t find_syscall_insn(pid_t pid) {
        char path[64], line[512];
        uint64_t found = 0;
        FILE *maps;

        snprintf(path, sizeof(path), "/proc/%d/maps", (int) pid);
        maps = fopen(path, "re");
        if (!maps)
                return 0;
        while (!found && fgets(line, sizeof(line), maps)) {
                unsigned long long start, end;
                char perms[8];
                if (sscanf(line, "%llx-%llx %7s", &start, &end, perms) != 3 || perms[2] != 'x')
                        continue;
                for (uint64_t a = start; !found && a < end; a += 65536) {
                        static unsigned char buf[65536 + 1];
                        size_t len = end - a < 65536 ? end - a : 65536;
                        if (read_mem(pid, a, buf, len) < 0)
                                break;
                        for (size_t i = 0; i + 1 < len; i++)
                                if (buf[i] == 0x0f && buf[i + 1] == 0x05) {
                                        found = a + i;
                                        break;
                                }
                }
        }
        fclose(maps);
        return found;
}

int main(int argc, char *argv[]) {
        struct user_regs_struct saved, regs;
        bool want_return = false;
        unsigned char insn[2];
        uint64_t args[6] = { 0 }, addr;
        long nr;
        pid_t pid;
        int status, argi = 1;

        if (argc > 1 && strcmp(argv[1], "--return") == 0) {
                want_return = true;
                argi++;
        }
        if (argc - argi < 2 || argc - argi > 8) {
                fprintf(stderr, "usage: %s [--return] PID NR [ARG...]\n", argv[0]);
                return 2;
        }
        pid = (pid_t) strtol(argv[argi], NULL, 10);
        nr = strtol(argv[argi + 1], NULL, 0);
        for (int i = argi + 2; i < argc; i++)
                args[i - argi - 2] = strtoull(argv[i], NULL, 0);

        if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) < 0 || ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) < 0) {
                fprintf(stderr, "indep7-inject: cannot attach to %d: %s\n", (int) pid, strerror(errno));
                return 1;
        }
        if (waitpid(pid, &status, __WALL) < 0 || !WIFSTOPPED(status)) {
                fprintf(stderr, "indep7-inject: %d did not stop\n", (int) pid);
                return 1;
        }
        if (ptrace(PTRACE_GETREGS, pid, NULL, &saved) < 0) {
                fprintf(stderr, "indep7-inject: GETREGS: %s\n", strerror(errno));
                return 1;
        }
        /* Stopped in an interrupted system call: restart it ourselves when we
         * give the registers back, as the kernel would have. */
        if ((int64_t) saved.orig_rax >= 0) {
                int64_t rax = (int64_t) saved.rax;
                if (rax == -K_ERESTARTSYS || rax == -K_ERESTARTNOINTR || rax == -K_ERESTARTNOHAND) {
                        saved.rax = saved.orig_rax;
                        saved.rip -= 2;
                } else if (rax == -K_ERESTART_RESTARTBLOCK) {
                        saved.rax = 219; /* restart_syscall */
                        saved.rip -= 2;
                }
        }
        saved.orig_rax = (unsigned long long) -1;

        addr = 0;
        if (read_mem(pid, saved.rip, insn, 2) == 0 && insn[0] == 0x0f && insn[1] == 0x05)
                addr = saved.rip;
        else if (read_mem(pid, saved.rip - 2, insn, 2) == 0 && insn[0] == 0x0f && insn[1] == 0x05)
                addr = saved.rip - 2;
        else
                addr = find_syscall_insn(pid);
        if (!addr) {
                fprintf(stderr, "indep7-inject: no syscall instruction found in %d\n", (int) pid);
                ptrace(PTRACE_DETACH, pid, NULL, NULL);
                return 1;
        }

        regs = saved;
        regs.rip = addr;
        regs.rax = (unsigned long long) nr;
        regs.rdi = args[0];
        regs.rsi = args[1];
        regs.rdx = args[2];
        regs.r10 = args[3];
        regs.r8 = args[4];
        regs.r9 = args[5];
        if (ptrace(PTRACE_SETREGS, pid, NULL, &regs) < 0) {
                fprintf(stderr, "indep7-inject: SETREGS: %s\n", strerror(errno));
                return 1;
        }
        printf("injected %ld at 0x%" PRIx64 "\n", nr, addr);
        fflush(stdout);
        if (!want_return) {
                ptrace(PTRACE_DETACH, pid, NULL, NULL);
                return 0;
        }
        if (ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL) < 0 || waitpid(pid, &status, __WALL) < 0) {
                fprintf(stderr, "indep7-inject: single step: %s\n", strerror(errno));
                return 1;
        }
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
                printf("died %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
                return 0;
        }
        if (WIFSTOPPED(status) && WSTOPSIG(status) != SIGTRAP) {
                printf("signal %d\n", WSTOPSIG(status));
                ptrace(PTRACE_DETACH, pid, NULL, (void *) (long) WSTOPSIG(status));
                return 0;
        }
        if (ptrace(PTRACE_GETREGS, pid, NULL, &regs) < 0) {
                fprintf(stderr, "indep7-inject: GETREGS after the call: %s\n", strerror(errno));
                return 1;
        }
        printf("ret %lld\n", (long long) regs.rax);
        if (ptrace(PTRACE_SETREGS, pid, NULL, &saved) < 0) {
                fprintf(stderr, "indep7-inject: restoring the registers: %s\n", strerror(errno));
                return 1;
        }
        ptrace(PTRACE_DETACH, pid, NULL, NULL);
        return 0;
}
#endif
