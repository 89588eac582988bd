/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The idle trim releases clean pages of read-only file mappings and keeps
 * everything else: a mapping that was written before it was made
 * read-only (as RELRO relocations are) keeps its bytes. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check-main.h"
#include "idle.h"

#define PAGES 64

/* Resident KiB of the mapping that starts at addr, from smaps. */
static long rss_kib(const void *addr) {
        char line[512], head[32];
        FILE *f = fopen("/proc/self/smaps", "re");
        bool in = false;
        long kib = -1;

        ck_assert_ptr_nonnull(f);
        snprintf(head, sizeof(head), "%lx-", (unsigned long) (uintptr_t) addr);
        while (fgets(line, sizeof(line), f)) {
                if (strchr(line, '-') && line[0] != ' ' && strstr(line, " r"))
                        in = strncmp(line, head, strlen(head)) == 0;
                if (in && sscanf(line, "Rss: %ld kB", &kib) == 1)
                        break;
        }
        fclose(f);
        return kib;
}

START_TEST(test_trim) {
        char path[] = "/tmp/test-idle-XXXXXX";
        long page = sysconf(_SC_PAGESIZE);
        size_t len = (size_t) page * PAGES;
        uint8_t *buf = malloc(len), *clean, *relro;
        volatile uint8_t sum = 0;
        int fd = mkstemp(path);

        ck_assert_int_ge(fd, 0);
        ck_assert_ptr_nonnull(buf);
        for (size_t i = 0; i < len; i++)
                buf[i] = (uint8_t) (i * 7 + 1);
        ck_assert_int_eq(write(fd, buf, len), (ssize_t) len);

        /* Like a library's code: read-only, private, only read. */
        clean = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        ck_assert_ptr_ne(clean, MAP_FAILED);
        /* Like RELRO: written while writable, then made read-only. */
        relro = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        ck_assert_ptr_ne(relro, MAP_FAILED);
        for (size_t i = 0; i < len; i += (size_t) page)
                relro[i] = 0xAA;
        ck_assert_int_eq(mprotect(relro, len, PROT_READ), 0);
        for (size_t i = 0; i < len; i++)
                sum += clean[i];
        ck_assert_int_ge(rss_kib(clean), (long) (len / 1024));

        ck_assert_int_ge(idle_trim(), 1);
        ck_assert_int_eq(rss_kib(clean), 0);
        ck_assert_int_ge(rss_kib(relro), (long) (len / 1024));
        /* Both read as before: the clean pages come back from the file,
         * the written ones were kept. */
        ck_assert_int_eq(memcmp(clean, buf, len), 0);
        for (size_t i = 0; i < len; i++)
                ck_assert_uint_eq(relro[i], i % (size_t) page == 0 ? 0xAA : buf[i]);
        (void) sum;

        ck_assert_int_eq(munmap(clean, len), 0);
        ck_assert_int_eq(munmap(relro, len), 0);
        free(buf);
        close(fd);
        unlink(path);
}
END_TEST

static Suite *make_suite(void) {
        Suite *s = suite_create("idle");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_trim);
        suite_add_tcase(s, tc);
        return s;
}
