/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "idle.h"
#include "log.h"
#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(FILE *, fclose)

struct IdleTrim {
        sd_event_source *timer, *post;
        usec_t delay;
        bool just_trimmed;
};

/* A mapping that may be released: private, not writable, of a file. Its
 * pages are then the file's, unless the mapping was written before it was
 * made read-only (relocations in a RELRO segment, a debugger's
 * breakpoint): those pages are anonymous copies, which a release would
 * throw away. smaps' "Anonymous:" counts them; only a mapping with none is
 * released. */
typedef struct Mapping {
        uintptr_t start, end;
        bool candidate;
        unsigned long rss_kib;
} Mapping;

int idle_trim(void) {
        _cleanup_(fclosep) FILE *f = NULL;
        _cleanup_(freep) char *line = NULL;
        Mapping m = {};
        size_t n = 0;
        unsigned long released_kib = 0;
        int released = 0;

        (void) malloc_trim(0);
        f = fopen("/proc/self/smaps", "re");
        if (!f)
                return log_debug_errno(errno, "Cannot read /proc/self/smaps, nothing released: %m");
        while (getline(&line, &n, f) > 0) {
                unsigned long start, end, inode, kib;
                char perms[5];

                /* "start-end perms offset dev inode [path]" opens a mapping;
                 * "Name: value kB" lines describe it. */
                if (sscanf(line, "%lx-%lx %4s %*s %*s %lu", &start, &end, perms, &inode) == 4) {
                        m = (Mapping){
                                .start = start,
                                .end = end,
                                .candidate = inode != 0 && perms[1] == '-' && perms[3] == 'p',
                        };
                        continue;
                }
                if (!m.candidate)
                        continue;
                if (sscanf(line, "Rss: %lu kB", &kib) == 1)
                        m.rss_kib = kib;
                else if (sscanf(line, "Anonymous: %lu kB", &kib) == 1) {
                        m.candidate = false;
                        if (kib != 0 || m.rss_kib == 0)
                                continue;
                        if (madvise((void *) m.start, m.end - m.start, MADV_DONTNEED) < 0) {
                                log_debug_errno(errno, "madvise(%#" PRIxPTR "-%#" PRIxPTR "): %m", m.start,
                                                m.end);
                                continue;
                        }
                        released++;
                        released_kib += m.rss_kib;
                }
        }
        log_debug("Idle: released %d clean file mappings (%lu KiB resident) and the free heap.", released,
                  released_kib);
        return released;
}

static int on_idle(sd_event_source *s, uint64_t usec, void *userdata) {
        IdleTrim *t = userdata;

        (void) idle_trim();
        t->just_trimmed = true;
        return 0;
}

/* After every dispatch but the trim's own: the loop had work, so the idle
 * time starts again. */
static int on_dispatched(sd_event_source *s, void *userdata) {
        IdleTrim *t = userdata;
        int r;

        if (t->just_trimmed) {
                t->just_trimmed = false;
                return 0;
        }
        r = sd_event_source_set_time_relative(t->timer, t->delay);
        if (r >= 0)
                r = sd_event_source_set_enabled(t->timer, SD_EVENT_ONESHOT);
        if (r < 0)
                log_debug_errno(r, "Cannot re-arm the idle trim: %m");
        return 0;
}

IdleTrim *idle_trim_free(IdleTrim *t) {
        if (!t)
                return NULL;
        sd_event_source_disable_unref(t->post);
        sd_event_source_disable_unref(t->timer);
        free(t);
        return NULL;
}

int idle_trim_new(sd_event *e, usec_t delay, IdleTrim **ret) {
        _cleanup_(idle_trim_freep) IdleTrim *t = calloc(1, sizeof(IdleTrim));
        int r;

        if (!t)
                return -ENOMEM;
        t->delay = delay;
        /* Coarse: the trim is housekeeping; let the kernel batch its wake-up. */
        r = sd_event_add_time_relative(e, &t->timer, CLOCK_MONOTONIC, delay, USEC_PER_SEC, on_idle, t);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(t->timer, "idle-trim");
        r = sd_event_source_set_enabled(t->timer, SD_EVENT_ONESHOT);
        if (r < 0)
                return r;
        r = sd_event_add_post(e, &t->post, on_dispatched, t);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(t->post, "idle-rearm");
        *ret = TAKE_PTR(t);
        return 0;
}
