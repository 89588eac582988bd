/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The Authority: everything the daemon needs to decide who may do what.
 * It holds the access policy in force, the installed grants and licences,
 * the per-uid rate limiter and the time high-water mark, and it persists
 * grants, licences, revocations and the mark in the state directory:
 *
 *   STATE/grants/ID.grant, ID.grant.sig      installed grants, as signed
 *   STATE/licences/ID.licence, ID.licence.sig
 *   STATE/grants-revoked                     revoked grant ids, one a line
 *   STATE/clock                              time high-water mark, µs
 *
 * It knows nothing of D-Bus: bus-auth.c and bus-policy.c translate. */

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "manager.h"
#include "policy.h"
#include "ratelimit.h"
#include "token.h"

/* The mark is written to disk when it has advanced this far since the last
 * write, and by the periodic timer; a crash loses at most this much. */
#define AUTHORITY_CLOCK_PERSIST_USEC (10 * USEC_PER_SEC)
#define AUTHORITY_CLOCK_TIMER_USEC (30 * USEC_PER_SEC)

typedef struct Grant {
        Token *token;
        PolicySubject subject; /* token->subject, resolved when loaded */
} Grant;

/* What the bus daemon told us about a connection; valid for the life of the
 * unique name, so it is cached per sender. */
typedef struct CallerInfo {
        struct CallerInfo *next;
        char *sender;
        uid_t uid;
        gid_t gid; /* (gid_t) -1 when the bus did not say */
        gid_t *gids;
        size_t n_gids;
        pid_t pid; /* 0 when the bus did not say */
} CallerInfo;

#define CALLER_CACHE_SLOTS 1024U
#define CALLER_CACHE_MAX 8192U

typedef struct Authority {
        Policy *policy;
        Grant *grants;
        size_t n_grants;
        Token **licences;
        size_t n_licences;
        char **revoked;
        RateLimit *ratelimit;

        usec_t clock_mark;
        usec_t clock_persisted;
        sd_event_source *clock_timer;
        sd_event_source *lapse_timer;

        CallerInfo *callers[CALLER_CACHE_SLOTS];
        size_t n_callers;
        bool name_watch; /* NameOwnerChanged match installed (bus-auth.c) */
        /* The last message that was allowed: a GetAll calls every getter,
         * and each would otherwise authorize (and be rate-limited) again. */
        char *allowed_sender;
        uint64_t allowed_cookie;
        const char *allowed_permission;
} Authority;

extern const Component authority_component;

/* CLOCK_REALTIME, but never earlier than the highest time seen before (also
 * across restarts): setting the clock back does not revive anything. */
usec_t authority_now(Manager *m);

/* Whether caller c holds perm (no wildcards), by the policy or by an active
 * grant. check_exe resolves Executable= bindings (see policy_check()).
 * reason receives a sentence. Grants found lapsed are removed (and logged). */
bool authority_check(Manager *m, const PolicyCaller *c, const char *perm, PolicyExecutableCheck check_exe,
                     void *userdata, char *reason, size_t reason_len);

/* Re-reads the policy file. On failure the old policy stays in force and
 * error holds "file:line: message"; returns -EBADMSG when the file does not
 * parse, -ENOENT etc. when it cannot be read. */
int authority_reload(Manager *m, char *error, size_t error_len);

/* Verifies (token_verify()) and installs a grant or licence; *ret_id is
 * the token's id (borrowed from the stored token). -EEXIST when that id is
 * installed, -EKEYREVOKED for a revoked grant id, the verifier's errors,
 * -EIO etc. on disk errors. error receives a sentence. */
int authority_install(Manager *m, TokenType type, const void *data, size_t len, const void *sig,
                      size_t sig_len, const char **ret_id, char *error, size_t error_len);

/* Revokes a grant for good (its id can never be installed again). -ENOENT
 * when no such grant is installed. */
int authority_grant_revoke(Manager *m, const char *id);

/* Whether an installed, valid licence for this device enables feature;
 * *ret_expires is the latest NotAfter among those that do (0 if none). */
bool authority_feature_enabled(Manager *m, const char *feature, usec_t *ret_expires);

/* Caller cache (see CallerInfo). _get returns NULL when sender is unknown;
 * _put takes ownership of info; _drop forgets a sender that left the bus. */
CallerInfo *authority_caller_get(Authority *a, const char *sender);
void authority_caller_put(Authority *a, CallerInfo *info);
void authority_caller_drop(Authority *a, const char *sender);
CallerInfo *caller_info_free(CallerInfo *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(CallerInfo *, caller_info_free);
