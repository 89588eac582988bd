/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Per-uid token buckets for bus calls, plus a counter of denials per uid
 * that flags a burst as possible abuse. Each uid has its own bucket, so a
 * flood from one uid uses up only that uid's tokens. The table is bounded:
 * when it is full, the least recently used bucket is reused (an idle
 * bucket has refilled anyway). */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

/* Denials within this window count towards one abuse report. */
#define RATELIMIT_DENIAL_WINDOW (10 * USEC_PER_SEC)
#define RATELIMIT_DENIAL_BURST 20U
#define RATELIMIT_BUCKETS_MAX 1024U

typedef struct RateLimit RateLimit;

/* burst: bucket size; per_sec: refill rate. -EINVAL if either is 0. */
int ratelimit_new(uint32_t burst, uint32_t per_sec, RateLimit **ret);
RateLimit *ratelimit_free(RateLimit *rl);
DEFINE_TRIVIAL_CLEANUP_FUNC(RateLimit *, ratelimit_free);

/* Changes the limits; existing buckets keep their level, capped. */
void ratelimit_configure(RateLimit *rl, uint32_t burst, uint32_t per_sec);

/* Takes one token for uid at now (CLOCK_MONOTONIC µs). Returns true when
 * the call may proceed. When it may not, *ret_first (if non-NULL) says
 * whether this is the first refusal since uid last got through, so that a
 * flood is logged once, not once per call. */
bool ratelimit_take(RateLimit *rl, uid_t uid, usec_t now, bool *ret_first);

/* Records a denial for uid. Returns true exactly once per window in which
 * uid collected RATELIMIT_DENIAL_BURST denials: report it as possible abuse. */
bool ratelimit_note_denial(RateLimit *rl, uid_t uid, usec_t now);
