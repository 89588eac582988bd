/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>

#include "authority.h"
#include "endpointd/bus.h"
#include "fileio.h"
#include "log.h"
#include "tpm-nv.h"

#define SIGNATURE_SUFFIX ".sig"

static const char *const token_dir[_TOKEN_TYPE_MAX] = {
        [TOKEN_GRANT] = "grants",
        [TOKEN_LICENCE] = "licences",
};
static const char *const token_suffix[_TOKEN_TYPE_MAX] = {
        [TOKEN_GRANT] = ".grant",
        [TOKEN_LICENCE] = ".licence",
};

static void authority_device_changed(Authority *a);

static void authority_access_changed(Authority *a) {
        if (a->sink && a->sink->access_changed)
                a->sink->access_changed(a, a->userdata);
}

static char *token_path(Authority *a, TokenType type, const char *id, bool sig) {
        char *p = NULL;

        if (asprintf(&p, "%s/%s/%s%s%s", a->config->state_dir, token_dir[type], id, token_suffix[type],
                     sig ? SIGNATURE_SUFFIX : "") < 0)
                return NULL;
        return p;
}

/* ---- time high-water mark ------------------------------------------------ */

/* A build without the TPM module (the unit tests) keeps the file only. */
#pragma weak tpm_nv_floor_read
#pragma weak tpm_nv_floor_raise

/* STATE/clock holds "MARK BOOTTIME BOOT_ID": the mark, the CLOCK_BOOTTIME
 * at which it was taken and the boot it was taken in. Older files hold the
 * mark alone. */

usec_t authority_now(const Authority *a) {
        usec_t real = now_usec(CLOCK_REALTIME), boot = now_usec(CLOCK_BOOTTIME);

        return MAX(real, a->clock_mark + (boot > a->clock_boot ? boot - a->clock_boot : 0));
}

/* Moves the mark up to authority_now(), so that a later reboot starts from
 * there. Says once per call when the wall clock is behind it. */
static void clock_advance(Authority *a) {
        usec_t real = now_usec(CLOCK_REALTIME);

        a->clock_mark = authority_now(a);
        a->clock_boot = now_usec(CLOCK_BOOTTIME);
        if (real + AUTHORITY_CLOCK_SLACK_USEC < a->clock_mark) {
                char behind[32];

                (void) snprintf(behind, sizeof(behind), "%" PRIu64, (a->clock_mark - real) / USEC_PER_SEC);
                /* An event once per episode, not at every call. */
                if (!a->clock_behind)
                        events_emit(a->events, EVENT_CLOCK_SET_BACK, EVENT_SUBJECT_DAEMON, NULL, 0,
                                    EVENT_FIELDS({ "BEHIND_SEC", behind }),
                                    "The clock is behind the high-water mark by %s s; using the mark.",
                                    behind);
                a->clock_behind = true;
        } else
                a->clock_behind = false;
}

/* The mark is also kept in TPM NV (TPM_NV_CLOCK, in seconds), which a
 * restored or wiped state directory does not take back. Read whenever the
 * mark is saved and when the TPM appears; written only when the mark is
 * AUTHORITY_CLOCK_NV_STEP_USEC past what NV holds, so at most 24 NV writes
 * a day however often the daemon restarts (endpointd-tpm(7)). */
static void clock_sync_tpm(Authority *a) {
        Tpm *tpm = a && a->sink && a->sink->tpm ? a->sink->tpm(a->userdata) : NULL;
        uint64_t nv, mark;
        int r;

        if (!tpm || !tpm_nv_floor_read || !tpm_nv_floor_raise)
                return;
        r = tpm_nv_floor_read(tpm, TPM_NV_CLOCK, &nv);
        /* -ESTALE: it went down (logged); nv is the mark, written back below. */
        if (r == -ESTALE)
                r = tpm_nv_floor_raise(tpm, TPM_NV_CLOCK, nv);
        if (r < 0)
                return (void) log_debug_errno(r, "Cannot read the time high-water mark from TPM NV: %m");
        if (nv <= UINT64_MAX / USEC_PER_SEC && nv * USEC_PER_SEC > authority_now(a)) {
                log_info("The time high-water mark in TPM NV is %" PRIu64 " s ahead of the state directory's; "
                         "using it.",
                         (nv * USEC_PER_SEC - authority_now(a)) / USEC_PER_SEC);
                a->clock_mark = nv * USEC_PER_SEC;
                a->clock_boot = now_usec(CLOCK_BOOTTIME);
        }
        mark = authority_now(a) / USEC_PER_SEC;
        if (mark < nv + AUTHORITY_CLOCK_NV_STEP_USEC / USEC_PER_SEC)
                return;
        r = tpm_nv_floor_raise(tpm, TPM_NV_CLOCK, mark);
        if (r < 0)
                log_warning_errno(r, "Failed to save the time high-water mark to TPM NV: %m");
}

static void clock_persist(Authority *a) {
        _cleanup_(freep) char *path = strjoin_alloc(a->config->state_dir, "/", "clock");
        char buf[128];
        int r, n;

        if (!path)
                return (void) log_oom();
        clock_sync_tpm(a);
        clock_advance(a);
        n = snprintf(buf, sizeof(buf), "%" PRIu64 " %" PRIu64 " %s\n", a->clock_mark, a->clock_boot,
                     a->boot_id);
        r = write_file_atomic(path, buf, (size_t) n, 0600);
        if (r < 0)
                return (void) log_warning_errno(r, "Failed to save the time high-water mark to %s: %m",
                                                path);
}

static void boot_id_read(Authority *a) {
        _cleanup_(freep) char *data = NULL;
        size_t len;

        /* Without it every start counts as a new boot: the mark is still
         * applied, only the time spent stopped is not added. */
        if (read_full_file("/proc/sys/kernel/random/boot_id", 64, &data, &len) < 0)
                return;
        data[strcspn(data, " \n")] = 0;
        if (strlen(data) < sizeof(a->boot_id))
                strcpy(a->boot_id, data);
}

/* Applies the stored mark. Within the boot it was written in, the time that
 * passed since (the daemon was stopped, nobody could ask) counts too, so a
 * grant that lapsed meanwhile stays lapsed whatever the wall clock says. */
static void clock_load(Authority *a) {
        _cleanup_(freep) char *path = strjoin_alloc(a->config->state_dir, "/", "clock"), *data = NULL;
        char mark[32] = "", boot[32] = "", id[40] = "";
        uint64_t v, b;
        usec_t now_boot = now_usec(CLOCK_BOOTTIME);
        size_t len;

        a->clock_boot = now_boot;
        if (!path || read_full_file(path, 256, &data, &len) < 0)
                return;
        if (sscanf(data, "%31s %31s %39s", mark, boot, id) < 1 || parse_uint64(mark, UINT64_MAX, &v) < 0)
                return (void) log_warning("Ignoring a malformed time high-water mark in %s.", path);
        a->clock_mark = v;
        if (!isempty(a->boot_id) && streq(id, a->boot_id) && parse_uint64(boot, UINT64_MAX, &b) >= 0 &&
            b <= now_boot)
                a->clock_mark += now_boot - b;
}

/* ---- grants -------------------------------------------------------------- */

static void grant_done(Grant *g) {
        token_free(g->token);
        policy_subject_done(&g->subject);
}

static void token_remove_files(Authority *a, TokenType type, const char *id) {
        _cleanup_(freep) char *p = token_path(a, type, id, false), *s = token_path(a, type, id, true);
        int r;

        if (p && (r = unlink_durable(p)) < 0 && r != -ENOENT)
                log_warning_errno(r, "Failed to remove %s: %m", p);
        if (s)
                (void) unlink_durable(s);
}

/* Forgets grant i; its files stay. */
static void grant_unload(Authority *a, size_t i) {
        grant_done(&a->grants[i]);
        memmove(a->grants + i, a->grants + i + 1, (a->n_grants - i - 1) * sizeof(Grant));
        a->n_grants--;
}

static void grant_remove(Authority *a, size_t i) {

        token_remove_files(a, TOKEN_GRANT, a->grants[i].token->id);
        grant_unload(a, i);
}

/* Reports each licence of this device that passed its NotAfter= since the
 * last check (licence-expired); it stays installed, and simply enables
 * nothing any more (authority_feature_enabled()). */
static void licences_expire(Authority *a) {
        usec_t now = authority_now(a);
        char when[32];

        for (size_t i = 0; i < a->n_licences; i++) {
                const Token *t = a->licences[i];

                if (t->not_after <= a->licences_checked || t->not_after > now ||
                    !token_device_matches(t, a->device_id))
                        continue;
                (void) format_iso8601(when, sizeof(when), t->not_after);
                events_emit(a->events, EVENT_LICENCE_EXPIRED, EVENT_SUBJECT_DAEMON, t->id, 0,
                            EVENT_FIELDS({ "LICENCE", t->id }, { "NOT_AFTER", when }),
                            "Licence '%s' expired at %s.", t->id, when);
        }
        a->licences_checked = now;
}

/* Removes the grants that have lapsed by authority_now(): from the timers
 * and at start-up, never on a decision's path. */
static void grants_lapse(Authority *a) {
        usec_t now = authority_now(a);
        bool lapsed = false;
        char when[32];

        licences_expire(a);
        for (size_t i = a->n_grants; i > 0; i--) {
                Token *t = a->grants[i - 1].token;

                if (token_check_time(t, now) != -EKEYEXPIRED)
                        continue;
                (void) format_iso8601(when, sizeof(when), t->not_after);
                events_emit(a->events, EVENT_GRANT_LAPSED, EVENT_SUBJECT_DAEMON, t->id, 0,
                            EVENT_FIELDS({ "GRANT", t->id }, { "GRANT_SUBJECT", t->subject },
                                         { "NOT_AFTER", when }),
                            "Grant '%s' for %s lapsed at %s.", t->id, t->subject, when);
                grant_remove(a, i - 1);
                lapsed = true;
        }
        if (lapsed)
                authority_access_changed(a);
}

static int on_lapse_timer(sd_event_source *s, uint64_t usec, void *userdata);

/* Arms the timer for the earliest NotAfter, so that a grant lapses (and the
 * journal says so) when it ends, not when somebody next asks. It runs on
 * CLOCK_BOOTTIME, as authority_now() does: a clock set back does not
 * postpone it, and one set forward is caught by the clock timer. */
static void lapse_timer_arm(Authority *a) {
        usec_t next = USEC_INFINITY, now = authority_now(a);
        int r;

        for (size_t i = 0; i < a->n_grants; i++)
                next = MIN(next, a->grants[i].token->not_after);
        for (size_t i = 0; i < a->n_licences; i++)
                if (a->licences[i]->not_after > a->licences_checked)
                        next = MIN(next, a->licences[i]->not_after);
        if (!a->lapse_timer) {
                r = sd_event_add_time(a->event, &a->lapse_timer, CLOCK_BOOTTIME, USEC_INFINITY,
                                      USEC_PER_SEC / 4, on_lapse_timer, a);
                if (r < 0)
                        return (void) log_warning_errno(r, "Failed to add the grant expiry timer: %m");
        }
        if (next != USEC_INFINITY)
                (void) sd_event_source_set_time(a->lapse_timer,
                                                now_usec(CLOCK_BOOTTIME) + (next > now ? next - now : 0));
        (void) sd_event_source_set_enabled(a->lapse_timer,
                                           next == USEC_INFINITY ? SD_EVENT_OFF : SD_EVENT_ONESHOT);
}

static int on_lapse_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Authority *a = userdata;

        grants_lapse(a);
        lapse_timer_arm(a);
        return 0;
}

static int on_clock_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Authority *a = userdata;

        clock_persist(a);
        /* Also catches grants that a clock set forward ended early. */
        grants_lapse(a);
        lapse_timer_arm(a);
        (void) sd_event_source_set_time_relative(s, AUTHORITY_CLOCK_TIMER_USEC);
        return 0;
}

static bool revoked(Authority *a, const char *id) {
        return words_contains(a->revoked, id);
}

static int revoked_load(Authority *a) {
        _cleanup_(freep) char *path = strjoin_alloc(a->config->state_dir, "/", "grants-revoked"),
                              *data = NULL;
        size_t len;
        int r;

        if (!path)
                return -ENOMEM;
        r = read_full_file(path, 1024 * 1024, &data, &len);
        if (r == -ENOENT)
                return words_split("", &a->revoked);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", path);
        for (char *c = data; *c; c++)
                if (*c == '\n')
                        *c = ' ';
        return words_split(data, &a->revoked);
}

static int revoked_add(Authority *a, const char *id) {
        _cleanup_(freep) char *path = strjoin_alloc(a->config->state_dir, "/", "grants-revoked"),
                              *data = NULL;
        size_t n = words_length(a->revoked);
        char **l;
        int r;

        if (!path)
                return -ENOMEM;
        l = reallocarray(a->revoked, n + 2, sizeof(char *));
        if (!l)
                return -ENOMEM;
        a->revoked = l;
        l[n] = strdup(id);
        l[n + 1] = NULL;
        if (!l[n])
                return -ENOMEM;
        data = words_join(a->revoked);
        if (!data)
                return -ENOMEM;
        for (char *c = data; *c; c++)
                if (*c == ' ')
                        *c = '\n';
        r = write_file_atomic(path, data, strlen(data), 0600);
        return r < 0 ? r : 0;
}

static int grant_add(Authority *a, Token *t) {
        Grant *n = reallocarray(a->grants, a->n_grants + 1, sizeof(Grant));
        int r;

        if (!n)
                return -ENOMEM;
        a->grants = n;
        r = policy_subject_parse(t->subject, &n[a->n_grants].subject);
        if (r < 0)
                return r;
        n[a->n_grants++].token = t;
        return 0;
}

static int licence_add(Authority *a, Token *t) {
        Token **n = reallocarray(a->licences, a->n_licences + 1, sizeof(Token *));

        if (!n)
                return -ENOMEM;
        a->licences = n;
        n[a->n_licences++] = t;
        return 0;
}

static bool token_installed(Authority *a, TokenType type, const char *id) {
        if (type == TOKEN_GRANT) {
                for (size_t i = 0; i < a->n_grants; i++)
                        if (streq(a->grants[i].token->id, id))
                                return true;
        } else
                for (size_t i = 0; i < a->n_licences; i++)
                        if (streq(a->licences[i]->id, id))
                                return true;
        return false;
}

static int trust_load(Authority *a, TrustStore **ret, char *error, size_t error_len) {
        char buf[256] = "";
        int r = trust_store_load(a->config->trust_dir, ret, buf, sizeof(buf));

        if (r < 0)
                (void) snprintf(error, error_len, "Cannot load the trust store %s: %s", a->config->trust_dir,
                                buf);
        /* No usable trust anchor means nothing can verify: BadSignature,
         * never a policy denial (EPERM from a directory others may write). */
        return r < 0 && r != -ENOMEM ? -EKEYREJECTED : r;
}

/* Loads one stored token: the signature is checked again (the trust store
 * may have changed since), and the device: a token for another device is
 * never loaded (-EXDEV), so it is neither listed nor in the way of this
 * device's token with the same id. While the device id is not known yet,
 * only licences for any device ("*") are loaded; the rest wait for
 * authority_device_changed() (0, nothing loaded). Time is checked at use.
 * A token whose id is loaded already is left alone. */
static int token_load_one(Authority *a, const TrustStore *trust, TokenType type, const char *id) {
        _cleanup_(freep) char *p = token_path(a, type, id, false), *s = token_path(a, type, id, true);
        _cleanup_(freep) char *data = NULL, *sig = NULL;
        _cleanup_(token_freep) Token *t = NULL;
        char error[512] = "";
        size_t len, sig_len;
        int r;

        if (!p || !s)
                return -ENOMEM;
        if (token_installed(a, type, id))
                return 0;
        r = read_full_file(p, TOKEN_FILE_MAX, &data, &len);
        if (r >= 0)
                r = read_full_file(s, SIGNATURE_MAX, &sig, &sig_len);
        if (r < 0)
                return log_warning_errno(r, "Ignoring stored %s '%s': %m", token_dir[type], id);
        r = token_verify(trust, data, len, sig, sig_len, type, NULL, 0, &t, error, sizeof(error));
        if (r < 0)
                return log_warning_errno(r, "Ignoring stored %s: %s", p, error);
        if (!streq(t->id, id))
                return log_warning_errno(EBADMSG, "Ignoring stored %s: its Id= is '%s'.", p, t->id);
        if (isempty(a->device_id) && !token_device_matches(t, NULL)) {
                log_debug("Stored %s waits until the device id is known.", p);
                return 0;
        }
        if (!token_device_matches(t, a->device_id))
                return log_warning_errno(EXDEV,
                                         "Ignoring stored %s: it is for device %s, this is device %s.", p,
                                         t->device, a->device_id);
        r = type == TOKEN_GRANT ? grant_add(a, t) : licence_add(a, t);
        if (r < 0)
                return r;
        TAKE_PTR(t);
        return 0;
}

static int tokens_load(Authority *a, TokenType type) {
        _cleanup_(trust_store_freep) TrustStore *trust = NULL;
        _cleanup_(freep) char *dir = strjoin_alloc(a->config->state_dir, "/", token_dir[type]);
        DIR *d;
        struct dirent *de;
        char error[512];
        int r;

        if (!dir)
                return -ENOMEM;
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", dir);
        d = opendir(dir);
        if (!d)
                return log_error_errno(errno, "Failed to open %s: %m", dir);
        while ((de = readdir(d))) {
                size_t n = strlen(de->d_name), k = strlen(token_suffix[type]);
                char id[256];

                if (n <= k || n - k >= sizeof(id) || !streq(de->d_name + n - k, token_suffix[type]))
                        continue;
                memcpy(id, de->d_name, n - k);
                id[n - k] = 0;
                if (!trust && trust_load(a, &trust, error, sizeof(error)) < 0) {
                        log_warning("Ignoring stored %s: %s", token_dir[type], error);
                        break;
                }
                if (name_is_valid(id))
                        (void) token_load_one(a, trust, type, id);
        }
        closedir(d);
        return 0;
}

void authority_set_device_id(Authority *a, const char *device_id) {
        char *id;

        if (!a || isempty(device_id) || streq_ptr(a->device_id, device_id))
                return;
        id = strdup(device_id);
        if (!id)
                return (void) log_oom();
        free(a->device_id);
        a->device_id = id;
        authority_device_changed(a);
}

static void authority_device_changed(Authority *a) {
        char *id;
        int r;

        if (!a || isempty(a->device_id) || streq_ptr(a->tokens_device, a->device_id))
                return;
        /* Recorded first: grants_lapse() below reports through
         * the access_changed sink, which calls us again. */
        id = strdup(a->device_id);
        if (!id)
                return (void) log_oom();
        free(a->tokens_device);
        a->tokens_device = id;
        /* The TPM is there: its mark counts before any grant is judged. */
        clock_sync_tpm(a);

        /* Loaded for a device id that is no longer ours (another TPM):
         * forgotten, their files kept for the TPM they belong to. */
        for (size_t i = a->n_grants; i > 0; i--)
                if (!token_device_matches(a->grants[i - 1].token, a->device_id)) {
                        log_warning("Unloading grant '%s': it is for device %s, this is device %s.",
                                    a->grants[i - 1].token->id, a->grants[i - 1].token->device,
                                    a->device_id);
                        grant_unload(a, i - 1);
                }
        for (size_t i = a->n_licences; i > 0; i--)
                if (!token_device_matches(a->licences[i - 1], a->device_id)) {
                        log_warning("Unloading licence '%s': it is for device %s, this is device %s.",
                                    a->licences[i - 1]->id, a->licences[i - 1]->device, a->device_id);
                        token_free(a->licences[i - 1]);
                        memmove(a->licences + i - 1, a->licences + i, (a->n_licences - i) * sizeof(Token *));
                        a->n_licences--;
                }

        r = tokens_load(a, TOKEN_GRANT);
        if (r >= 0)
                r = tokens_load(a, TOKEN_LICENCE);
        if (r < 0)
                log_warning_errno(r, "Failed to load the stored grants and licences: %m");
        grants_lapse(a);
        lapse_timer_arm(a);
        log_info("Device id %s known: %zu grant(s), %zu licence(s) installed.", a->device_id, a->n_grants,
                 a->n_licences);
}

/* ---- decisions ----------------------------------------------------------- */

bool authority_check(const Authority *a, const PolicyCaller *c, const char *perm,
                     PolicyProcessCheck check_process, void *userdata, char *reason, size_t reason_len) {
        usec_t now;

        if (policy_check(a->policy, c, perm, check_process, userdata, reason, reason_len))
                return true;
        if (a->n_grants == 0)
                return false;

        now = authority_now(a);
        for (size_t i = 0; i < a->n_grants; i++) {
                const Grant *g = &a->grants[i];

                if (!token_device_matches(g->token, a->device_id) || token_check_time(g->token, now) < 0 ||
                    !policy_subject_match(&g->subject, c))
                        continue;
                for (char **r = g->token->roles; *r; r++)
                        if (policy_role_allows(a->policy, *r, perm)) {
                                if (reason)
                                        (void) snprintf(reason, reason_len,
                                                        "allowed by grant '%s' (role '%s')", g->token->id,
                                                        *r);
                                return true;
                        }
        }
        return false;
}

bool authority_feature_enabled(const Authority *a, const char *feature, usec_t *ret_expires) {
        usec_t now = authority_now(a), expires = 0;

        for (size_t i = 0; i < a->n_licences; i++) {
                const Token *t = a->licences[i];

                if (token_device_matches(t, a->device_id) && token_check_time(t, now) == 0 &&
                    words_contains(t->features, feature))
                        expires = MAX(expires, t->not_after);
        }
        if (ret_expires)
                *ret_expires = expires;
        return expires > 0;
}

/* ---- installing and revoking --------------------------------------------- */

static int token_store(Authority *a, TokenType type, const char *id, const void *data, size_t len,
                       const void *sig, size_t sig_len) {
        _cleanup_(freep) char *p = token_path(a, type, id, false), *s = token_path(a, type, id, true);
        int r;

        if (!p || !s)
                return -ENOMEM;
        /* Signature first: a token file without its signature is ignored
         * on load, so a crash in between leaves nothing half-installed. */
        r = write_file_atomic(s, sig, sig_len, 0600);
        if (r >= 0)
                r = write_file_atomic(p, data, len, 0600);
        return r;
}

static int authority_install_one(Authority *a, const EventSubject *subject, TokenType type, const void *data,
                                 size_t len, const void *sig, size_t sig_len, const char **ret_id,
                                 char *error, size_t error_len) {
        _cleanup_(trust_store_freep) TrustStore *trust = NULL;
        _cleanup_(token_freep) Token *t = NULL;
        const char *what = type == TOKEN_GRANT ? "Grant" : "Licence";
        int r;

        clock_advance(a);
        r = trust_load(a, &trust, error, error_len);
        if (r < 0)
                return r;
        r = token_verify(trust, data, len, sig, sig_len, type, a->device_id, authority_now(a), &t, error,
                         error_len);
        if (r < 0)
                return r;
        if (type == TOKEN_GRANT && revoked(a, t->id)) {
                (void) snprintf(error, error_len, "Grant '%s' was revoked and cannot be installed again.",
                                t->id);
                return -EKEYREVOKED;
        }
        if (token_installed(a, type, t->id)) {
                (void) snprintf(error, error_len, "%s '%s' is already installed.", what, t->id);
                return -EEXIST;
        }
        r = token_store(a, type, t->id, data, len, sig, sig_len);
        if (r < 0) {
                (void) snprintf(error, error_len, "Cannot store %s '%s': %s", what, t->id, strerror(-r));
                token_remove_files(a, type, t->id);
                return r;
        }
        r = type == TOKEN_GRANT ? grant_add(a, t) : licence_add(a, t);
        if (r < 0)
                return r;
        *ret_id = TAKE_PTR(t)->id;
        if (type == TOKEN_GRANT) {
                const Grant *g = &a->grants[a->n_grants - 1];
                char when[32];

                (void) format_iso8601(when, sizeof(when), g->token->not_after);
                events_emit(a->events, EVENT_GRANT_INSTALLED, subject, g->token->id, 0,
                            EVENT_FIELDS({ "GRANT", g->token->id }, { "GRANT_SUBJECT", g->token->subject },
                                         { "NOT_AFTER", when }),
                            "Grant '%s' installed for %s until %s.", g->token->id, g->token->subject, when);
                lapse_timer_arm(a);
        } else {
                const Token *l = a->licences[a->n_licences - 1];
                char when[32];

                (void) format_iso8601(when, sizeof(when), l->not_after);
                events_emit(a->events, EVENT_LICENCE_INSTALLED, subject, *ret_id, 0,
                            EVENT_FIELDS({ "LICENCE", *ret_id }, { "NOT_AFTER", when }),
                            "Licence '%s' installed.", *ret_id);
        }
        /* Worth a durable mark: an install is a security decision in time. */
        clock_persist(a);
        authority_access_changed(a);
        return 0;
}

int authority_install(Authority *a, const EventSubject *subject, TokenType type, const void *data,
                      size_t len, const void *sig, size_t sig_len, const char **ret_id, char *error,
                      size_t error_len) {
        int r;

        r = authority_install_one(a, subject, type, data, len, sig, sig_len, ret_id, error, error_len);
        if (r < 0)
                events_emit(a->events, EVENT_TOKEN_REFUSED, subject, NULL, r,
                            EVENT_FIELDS({ "TOKEN_TYPE", token_type_to_string(type) },
                                         { "REASON", isempty(error) ? strerror(-r) : error }),
                            "Refused to install a %s: %s", type == TOKEN_GRANT ? "grant" : "licence",
                            isempty(error) ? strerror(-r) : error);
        return r;
}

int authority_grant_revoke(Authority *a, const EventSubject *subject, const char *id) {
        int r;

        for (size_t i = 0; i < a->n_grants; i++) {
                if (!streq(a->grants[i].token->id, id))
                        continue;
                /* Remember the id before removing the files: a crash in
                 * between must not leave a revivable grant. */
                r = revoked_add(a, id);
                if (r < 0)
                        return r;
                events_emit(a->events, EVENT_GRANT_REVOKED, subject, id, 0,
                            EVENT_FIELDS({ "GRANT", id }, { "GRANT_SUBJECT", a->grants[i].token->subject }),
                            "Grant '%s' for %s revoked.", id, a->grants[i].token->subject);
                grant_remove(a, i);
                lapse_timer_arm(a);
                authority_access_changed(a);
                return 0;
        }
        return -ENOENT;
}

/* ---- policy -------------------------------------------------------------- */

static void policy_warn(const char *file, unsigned line, const char *message, void *userdata) {
        log_warning("%s:%u: %s", file, line, message);
}

int authority_reload(Authority *a, const EventSubject *subject, char *error, size_t error_len) {
        Policy *p = NULL;
        ParseError e = {};
        int r;

        r = policy_load(a->config->policy_file, policy_warn, NULL, &p, &e);
        if (r < 0) {
                if (e.line > 0)
                        (void) snprintf(error, error_len, "%s:%u: %s", a->config->policy_file, e.line,
                                        e.message);
                else
                        (void) snprintf(error, error_len, "%s: %s", a->config->policy_file, e.message);
                events_emit(a->events, EVENT_POLICY_REFUSED, subject, a->config->policy_file, r,
                            EVENT_FIELDS({ "PATH", a->config->policy_file }, { "REASON", error }),
                            "Access policy refused: %s", error);
                /* Whatever the parser's reason, to a caller the file is malformed. */
                return e.line > 0 && r != -ENOMEM ? -EBADMSG : r;
        }
        policy_free(a->policy);
        a->policy = p;
        /* Names in grants may have been created since they were installed. */
        for (size_t i = 0; i < a->n_grants; i++) {
                PolicySubject s;

                if (policy_subject_parse(a->grants[i].token->subject, &s) >= 0) {
                        policy_subject_done(&a->grants[i].subject);
                        a->grants[i].subject = s;
                }
        }
        ratelimit_configure(a->ratelimit, a->config->rate_limit_burst, a->config->rate_limit_per_sec);
        events_emit(a->events, EVENT_POLICY_RELOADED, subject, a->config->policy_file, 0,
                    EVENT_FIELDS({ "PATH", a->config->policy_file }), "Access policy loaded from %s.",
                    a->config->policy_file);
        authority_access_changed(a);
        return 0;
}

/* ---- construction --------------------------------------------------------- */

Authority *authority_free(Authority *a) {
        if (!a)
                return NULL;
        clock_persist(a);
        sd_event_source_disable_unref(a->clock_timer);
        sd_event_source_disable_unref(a->lapse_timer);
        for (size_t i = 0; i < a->n_grants; i++)
                grant_done(&a->grants[i]);
        free(a->grants);
        for (size_t i = 0; i < a->n_licences; i++)
                token_free(a->licences[i]);
        free(a->licences);
        words_free(a->revoked);
        free(a->tokens_device);
        free(a->device_id);
        ratelimit_free(a->ratelimit);
        policy_free(a->policy);
        free(a);
        return NULL;
}

int authority_new(sd_event *event, const Config *config, Events *events, const AuthoritySink *sink,
                  void *userdata, Authority **ret) {
        _cleanup_(authority_freep) Authority *a = NULL;
        char error[512];
        int r;

        a = calloc(1, sizeof(Authority));
        if (!a)
                return log_oom();
        a->event = event;
        a->config = config;
        a->events = events;
        a->sink = sink;
        a->userdata = userdata;
        r = ratelimit_new(config->rate_limit_burst, config->rate_limit_per_sec, &a->ratelimit);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the rate limiter: %m");
        r = authority_reload(a, EVENT_SUBJECT_DAEMON, error, sizeof(error));
        if (r < 0)
                return log_error_errno(r, "Refusing the access policy: %s", error);
        /* The mark first: every stored grant and licence is judged by it. */
        boot_id_read(a);
        clock_load(a);
        clock_persist(a);
        r = revoked_load(a);
        if (r < 0)
                return r;
        r = tokens_load(a, TOKEN_GRANT);
        if (r >= 0)
                r = tokens_load(a, TOKEN_LICENCE);
        if (r < 0)
                return r;
        grants_lapse(a);
        lapse_timer_arm(a);
        r = sd_event_add_time_relative(a->event, &a->clock_timer, CLOCK_MONOTONIC,
                                       AUTHORITY_CLOCK_TIMER_USEC, USEC_PER_SEC, on_clock_timer, a);
        if (r >= 0)
                r = sd_event_source_set_enabled(a->clock_timer, SD_EVENT_ON);
        if (r < 0)
                return log_error_errno(r, "Failed to add the clock timer: %m");
        /* Normally the device id is not known yet (the TPM starts after
         * us): then this loads what it can and the rest follows with
         * authority_set_device_id(). */
        log_info("Access policy: %zu licence(s) for any device installed; the grants and licences "
                 "for this device follow once the TPM gives its device id.",
                 a->n_licences);
        *ret = TAKE_PTR(a);
        return 0;
}

void authority_set_config(Authority *a, const Config *config) {
        if (a)
                a->config = config;
}

RateLimit *authority_get_ratelimit(Authority *a) {
        return a->ratelimit;
}

Events *authority_get_events(Authority *a) {
        return a ? a->events : NULL;
}
