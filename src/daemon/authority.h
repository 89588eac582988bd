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

#include "config.h"
#include "events.h"
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

typedef struct Authority Authority;

/* What the Authority reports to whoever built it, besides its events. */
typedef struct AuthoritySink {
        /* What a caller may do can have changed (policy reloaded, a grant
         * or licence installed, revoked or lapsed, the device id known):
         * whatever lasts on the strength of an earlier decision is to be
         * checked again. */
        void (*access_changed)(Authority *a, void *userdata);
        /* The TPM now (the time high-water mark is also kept in its NV), or
         * NULL while there is none. May be NULL. */
        struct Tpm *(*tpm)(void *userdata);
} AuthoritySink;

struct Authority {
        sd_event *event;
        const Config *config;
        Events *events;
        const AuthoritySink *sink;
        void *userdata;
        char *device_id; /* NULL until authority_set_device_id() */
        bool clock_behind; /* the clock-set-back event was made for this episode */

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
        /* Licences whose NotAfter= is up to here were reported expired (a
         * licence stays installed after it expires; it is reported once a
         * run, when it passes NotAfter= or at the first check after start). */
        usec_t licences_checked;
};

/* Loads the policy (refusing to start on a bad one), the time mark, the
 * revoked ids and the stored licences for any device; the device's own
 * grants and licences follow with authority_set_device_id(). config must
 * stay valid until authority_set_config() passes another. */
int authority_new(sd_event *event, const Config *config, Events *events, const AuthoritySink *sink,
                  void *userdata, Authority **ret);
/* Saves the time mark. */
Authority *authority_free(Authority *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(Authority *, authority_free);
void authority_set_config(Authority *a, const Config *config);
RateLimit *authority_get_ratelimit(Authority *a);
Events *authority_get_events(Authority *a);

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
bool authority_check(const Authority *a, const PolicyCaller *c, const char *perm,
                     PolicyProcessCheck check_process, void *userdata, char *reason, size_t reason_len);

/* Re-reads the policy file. On failure the old policy stays in force and
 * error holds "file:line: message"; returns -EBADMSG when the file does not
 * parse, -ENOENT etc. when it cannot be read. */
int authority_reload(Authority *a, const EventSubject *subject, char *error, size_t error_len);

/* Verifies (token_verify()) and installs a grant or licence; *ret_id is
 * the token's id (borrowed from the stored token). -EEXIST when that id is
 * installed, -EKEYREVOKED for a revoked grant id, the verifier's errors,
 * -EIO etc. on disk errors. error receives a sentence. */
int authority_install(Authority *a, const EventSubject *subject, TokenType type, const void *data,
                      size_t len, const void *sig, size_t sig_len, const char **ret_id, char *error,
                      size_t error_len);

/* Revokes a grant for good (its id can never be installed again). -ENOENT
 * when no such grant is installed. */
int authority_grant_revoke(Authority *a, const EventSubject *subject, const char *id);

/* Brings the loaded grants and licences in line with device_id: once
 * it is known (or when it changes, with another TPM) the stored tokens for
 * this device are loaded and those for any other device are unloaded (their
 * files stay) with a warning. Cheap when the id has not changed, so it is
 * called whenever access may have changed. */
void authority_set_device_id(Authority *a, const char *device_id);

/* Whether an installed, valid licence for this device enables feature;
 * *ret_expires is the latest NotAfter among those that do (0 if none). */
bool authority_feature_enabled(const Authority *a, const char *feature, usec_t *ret_expires);
