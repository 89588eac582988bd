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
 *   STATE/clock                              time high-water mark, see
 *                                            authority_now()
 *
 * It knows nothing of D-Bus: bus-auth.c and bus-policy.c translate. */

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "manager.h"
#include "policy.h"
#include "ratelimit.h"
#include "token.h"

/* The mark is written to disk by a timer this often (and on every install
 * and at shutdown); a crash loses at most this much of it across a reboot.
 * Within one boot nothing is lost: see authority_now(). */
#define AUTHORITY_CLOCK_TIMER_USEC (30 * USEC_PER_SEC)
/* The mark in TPM NV is written only when it moved this far: its
 * granularity, and the NV write budget (24 a day). */
#define AUTHORITY_CLOCK_NV_STEP_USEC (3600 * USEC_PER_SEC)
/* A wall clock this far behind the mark is worth a line in the journal. */
#define AUTHORITY_CLOCK_SLACK_USEC (10 * USEC_PER_SEC)

typedef struct Grant {
        Token *token;
        PolicySubject subject; /* token->subject, resolved when loaded */
} Grant;

typedef struct Authority {
        Policy *policy;
        Grant *grants;
        size_t n_grants;
        Token **licences;
        size_t n_licences;
        char **revoked;
        RateLimit *ratelimit;
        /* The device id the stored grants and licences were loaded for;
         * NULL while it is not known (only "*" licences are loaded then). */
        char *tokens_device;

        /* The time high-water mark: at CLOCK_BOOTTIME clock_boot the time
         * was at least clock_mark (CLOCK_REALTIME µs). */
        usec_t clock_mark;
        usec_t clock_boot;
        char boot_id[40]; /* this boot's /proc/sys/kernel/random/boot_id */
        sd_event_source *clock_timer;
        sd_event_source *lapse_timer;
} Authority;

extern const Component authority_component;

/* The time validity is checked against: CLOCK_REALTIME, but never earlier
 * than the mark plus the time that has passed since it was taken, as
 * CLOCK_BOOTTIME measures it (which setting the date does not change, and
 * which counts suspend). So a clock set back neither revives an expired
 * grant nor stops the clock of one in force; within one boot this also
 * holds across a restart of the daemon. Pure: changes nothing. */
usec_t authority_now(const Authority *a);

/* Whether caller c holds perm (no wildcards), by the policy or by an active
 * grant. check_process answers Unit= bindings (see policy_check()). reason
 * receives a sentence. A decision only: it changes no state (lapsed grants
 * are skipped here and removed by a timer). */
bool authority_check(const Manager *m, const PolicyCaller *c, const char *perm,
                     PolicyProcessCheck check_process, void *userdata, char *reason, size_t reason_len);

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

/* Brings the loaded grants and licences in line with m->device_id: once
 * it is known (or when it changes, with another TPM) the stored tokens for
 * this device are loaded and those for any other device are unloaded (their
 * files stay) with a warning. Cheap when the id has not changed, so it is
 * called on every manager_access_changed(). */
void authority_device_changed(Manager *m);

/* Whether an installed, valid licence for this device enables feature;
 * *ret_expires is the latest NotAfter among those that do (0 if none). */
bool authority_feature_enabled(const Manager *m, const char *feature, usec_t *ret_expires);
