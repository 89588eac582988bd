/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the bench clients (bench/bus/bus-load.c, bench/load/load.c) share:
 * a monotonic clock in seconds and the comparison that sorts latencies. */
#pragma once

#include <stdint.h>
#include <time.h>

static inline double now_sec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* qsort() comparison of uint32_t latencies. */
static inline int cmp_u32(const void *a, const void *b) {
        uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

        return x < y ? -1 : x > y;
}
