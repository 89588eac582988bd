/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ratelimit.h"

typedef struct Bucket {
        uid_t uid;
        bool used;
        bool refusing; /* refused since the last call that got through */
        bool reported; /* abuse already reported in this window */
        uint64_t level; /* tokens in millionths, so refill needs no floats */
        usec_t refilled;
        usec_t last_seen;
        usec_t window_start;
        unsigned denials;
} Bucket;

struct RateLimit {
        uint64_t burst; /* in millionths */
        uint64_t per_sec; /* tokens per second */
        size_t n_buckets;
        Bucket buckets[RATELIMIT_BUCKETS_MAX];
};

#define TOKEN_UNIT 1000000ULL

int ratelimit_new(uint32_t burst, uint32_t per_sec, RateLimit **ret) {
        RateLimit *rl;

        if (burst == 0 || per_sec == 0)
                return -EINVAL;
        rl = calloc(1, sizeof(RateLimit));
        if (!rl)
                return -ENOMEM;
        ratelimit_configure(rl, burst, per_sec);
        *ret = rl;
        return 0;
}

RateLimit *ratelimit_free(RateLimit *rl) {
        free(rl);
        return NULL;
}

void ratelimit_configure(RateLimit *rl, uint32_t burst, uint32_t per_sec) {
        rl->burst = (uint64_t) MAX(burst, 1U) * TOKEN_UNIT;
        rl->per_sec = MAX(per_sec, 1U);
        for (size_t i = 0; i < rl->n_buckets; i++)
                rl->buckets[i].level = MIN(rl->buckets[i].level, rl->burst);
}

static Bucket *bucket_get(RateLimit *rl, uid_t uid, usec_t now) {
        Bucket *lru = NULL;

        /* A linear scan: the number of distinct uids talking to the daemon
         * is small, and a scan of a few cache lines beats a hash here. */
        for (size_t i = 0; i < rl->n_buckets; i++) {
                if (rl->buckets[i].uid == uid)
                        return &rl->buckets[i];
                if (!lru || rl->buckets[i].last_seen < lru->last_seen)
                        lru = &rl->buckets[i];
        }
        if (rl->n_buckets < RATELIMIT_BUCKETS_MAX)
                lru = &rl->buckets[rl->n_buckets++];
        *lru = (Bucket){
                .uid = uid, .used = true, .level = rl->burst, .refilled = now, .window_start = now
        };
        return lru;
}

bool ratelimit_take(RateLimit *rl, uid_t uid, usec_t now, bool *ret_first) {
        Bucket *b = bucket_get(rl, uid, now);
        bool first;

        b->last_seen = now;
        if (now > b->refilled) {
                /* elapsed µs * tokens/s = millionths of a token. */
                uint64_t elapsed = now - b->refilled, add;

                add = elapsed > UINT64_MAX / rl->per_sec ? rl->burst : elapsed * rl->per_sec;
                b->level = add >= rl->burst - b->level ? rl->burst : b->level + add;
                b->refilled = now;
        }
        if (b->level >= TOKEN_UNIT) {
                b->level -= TOKEN_UNIT;
                b->refusing = false;
                return true;
        }
        first = !b->refusing;
        b->refusing = true;
        if (ret_first)
                *ret_first = first;
        return false;
}

bool ratelimit_note_denial(RateLimit *rl, uid_t uid, usec_t now) {
        Bucket *b = bucket_get(rl, uid, now);

        b->last_seen = now;
        if (now - b->window_start >= RATELIMIT_DENIAL_WINDOW) {
                b->window_start = now;
                b->denials = 0;
                b->reported = false;
        }
        if (++b->denials < RATELIMIT_DENIAL_BURST || b->reported)
                return false;
        b->reported = true;
        return true;
}
