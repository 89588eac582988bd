/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The "aligned floor" of a scan: the least a verifier of file contents has
 * to do, with nothing of endpointd's checks. THREADS threads take the paths
 * of LIST (one per line, relative to ROOT, in the order given: the
 * manifest's) one at a time and for each: openat() beneath ROOT, read()
 * into a page-aligned 256 KiB buffer until end of file, SHA-256 (OpenSSL
 * EVP), close(). Prints "seconds cpu_seconds files bytes".
 *
 *   floor ROOT LIST THREADS
 *
 * Built and run by bench/scan/run.sh. */
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define BUFFER_SIZE (256U * 1024U)

static int root_fd;
static char **paths;
static size_t n_paths;
static atomic_size_t next_path;
static atomic_ullong total_bytes;
static EVP_MD *sha256;

static void *worker(void *arg) {
        unsigned char *buf = aligned_alloc(4096, BUFFER_SIZE), digest[32];
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned long long bytes = 0;

        (void) arg;
        if (!buf || !ctx)
                abort();
        for (;;) {
                size_t i = atomic_fetch_add(&next_path, 1);
                int fd;

                if (i >= n_paths)
                        break;
                fd = openat(root_fd, paths[i], O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0) {
                        perror(paths[i]);
                        continue;
                }
                if (EVP_DigestInit_ex2(ctx, sha256, NULL) != 1)
                        abort();
                for (;;) {
                        ssize_t k = read(fd, buf, BUFFER_SIZE);
                        if (k <= 0)
                                break;
                        if (EVP_DigestUpdate(ctx, buf, (size_t) k) != 1)
                                abort();
                        bytes += (unsigned long long) k;
                }
                if (EVP_DigestFinal_ex(ctx, digest, NULL) != 1)
                        abort();
                close(fd);
        }
        atomic_fetch_add(&total_bytes, bytes);
        EVP_MD_CTX_free(ctx);
        free(buf);
        return NULL;
}

static double now(clockid_t c) {
        struct timespec ts;
        clock_gettime(c, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int main(int argc, char *argv[]) {
        size_t cap = 0, len = 0;
        char *line = NULL;
        ssize_t n;
        FILE *f;
        pthread_t *threads;
        unsigned n_threads;
        double t0, c0;

        if (argc != 4)
                return 2;
        root_fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        f = fopen(argv[2], "re");
        n_threads = (unsigned) atoi(argv[3]);
        sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
        if (root_fd < 0 || !f || n_threads == 0 || !sha256)
                return 1;
        while ((n = getline(&line, &len, f)) > 0) {
                if (line[n - 1] == '\n')
                        line[n - 1] = 0;
                if (n_paths == cap) {
                        cap = cap ? 2 * cap : 4096;
                        char **grown = realloc(paths, cap * sizeof(char *));
                        if (!grown)
                                return 1;
                        paths = grown;
                }
                paths[n_paths++] = strdup(line[0] == '.' && line[1] == '/' ? line + 2 : line);
        }
        fclose(f);
        threads = calloc(n_threads, sizeof(pthread_t));
        if (!threads)
                return 1;
        t0 = now(CLOCK_MONOTONIC);
        c0 = now(CLOCK_PROCESS_CPUTIME_ID);
        for (unsigned i = 0; i < n_threads; i++)
                if (pthread_create(&threads[i], NULL, worker, NULL) != 0)
                        return 1;
        for (unsigned i = 0; i < n_threads; i++)
                pthread_join(threads[i], NULL);
        printf("%.3f %.3f %zu %llu\n", now(CLOCK_MONOTONIC) - t0, now(CLOCK_PROCESS_CPUTIME_ID) - c0,
               n_paths, (unsigned long long) atomic_load(&total_bytes));
        return 0;
}
