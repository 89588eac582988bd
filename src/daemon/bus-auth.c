/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>

#include "authority.h"
#include "bus-auth.h"
#include "bus-errors.h"
#include "endpointd/bus.h"
#include "integrity.h"
#include "log.h"
#include "process.h"

/* What the bus daemon told us about a connection; valid for the life of the
 * unique name (dbus-daemon records it when the connection is made), so it
 * is kept per sender until NameOwnerChanged says the name left the bus. It
 * holds identity only, never a decision. */
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

struct BusAuth {
        CallerInfo *callers[CALLER_CACHE_SLOTS];
        size_t n_callers;
        sd_bus_slot *name_watch;
        /* The Get or GetAll call whose property reads were authorized: a
         * GetAll calls every getter of the interface, and the call is one
         * decision. Keyed on the message object (referenced here, so no
         * later message can have its address), never on anything the
         * client chose, such as the serial. */
        sd_bus_message *property_call;
        const char *property_permission;
};

/* Every member and every interface's properties map to exactly one
 * permission. Keep in sync with the table in endpointd-dbus(7). */
static const struct {
        const char *interface;
        const char *member; /* NULL: property reads of the interface */
        const char *permission;
} permission_table[] = {
        { ENDPOINTD_IFACE_ENDPOINT, NULL, "status.read" },
        { ENDPOINTD_IFACE_KEYS, "CreateKey", "keys.create" },
        { ENDPOINTD_IFACE_KEYS, "DeleteKey", "keys.delete" },
        { ENDPOINTD_IFACE_KEYS, "ListKeys", "keys.list" },
        { ENDPOINTD_IFACE_KEYS, "Encrypt", "keys.use" },        /* keys.use:NAME */
        { ENDPOINTD_IFACE_KEYS, "Decrypt", "keys.use" },        /* keys.use:NAME */
        { ENDPOINTD_IFACE_KEYS, "Seal", "keys.create" },
        { ENDPOINTD_IFACE_KEYS, "Unseal", "keys.unseal" },      /* keys.unseal:NAME */
        { ENDPOINTD_IFACE_KEYS, "InstallApproval", "keys.approve" },
        { ENDPOINTD_IFACE_KEYS, "Sign", "device.sign" },
        { ENDPOINTD_IFACE_KEYS, "GetDevicePublicKey", "status.read" },
        { ENDPOINTD_IFACE_KEYS, "GetAttestationPublicKey", "status.read" },
        { ENDPOINTD_IFACE_KEYS, "Attest", "device.attest" },
        { ENDPOINTD_IFACE_KEYS, "GetEndorsementPublicKey", "status.read" },
        { ENDPOINTD_IFACE_KEYS, "GetAttestationKeyPublic", "status.read" },
        { ENDPOINTD_IFACE_KEYS, "ActivateCredential", "device.attest" },
        { ENDPOINTD_IFACE_INTEGRITY, "Scan", "integrity.scan" },
        { ENDPOINTD_IFACE_INTEGRITY, "GetViolations", "integrity.read" },
        { ENDPOINTD_IFACE_INTEGRITY, "VerifyFile", "integrity.read" },
        { ENDPOINTD_IFACE_INTEGRITY, "GetManifest", "integrity.read" },
        { ENDPOINTD_IFACE_INTEGRITY, "GetMeasurements", "integrity.read" },
        { ENDPOINTD_IFACE_INTEGRITY, "InstallManifest", "integrity.install" },
        { ENDPOINTD_IFACE_INTEGRITY, "Subscribe", "integrity.read" },
        { ENDPOINTD_IFACE_INTEGRITY, "Unsubscribe", "integrity.read" },
        { ENDPOINTD_IFACE_POLICY, "CheckAccess", "policy.read" },
        { ENDPOINTD_IFACE_POLICY, "GetPolicy", "policy.read" },
        { ENDPOINTD_IFACE_POLICY, "Reload", "policy.reload" },
        { ENDPOINTD_IFACE_POLICY, "InstallGrant", "grants.install" },
        { ENDPOINTD_IFACE_POLICY, "ListGrants", "policy.read" },
        { ENDPOINTD_IFACE_POLICY, "RevokeGrant", "grants.revoke" },
        { ENDPOINTD_IFACE_POLICY, "InstallLicence", "licence.install" },
        { ENDPOINTD_IFACE_POLICY, "ListLicences", "licence.read" },
        { ENDPOINTD_IFACE_POLICY, "CheckFeature", "licence.read" },
        { ENDPOINTD_IFACE_AUDIT, "ReadEvents", "audit.read" },
        { ENDPOINTD_IFACE_AUDIT, "Verify", "audit.verify" },
        { ENDPOINTD_IFACE_AUDIT, "Subscribe", "audit.read" },
        { ENDPOINTD_IFACE_AUDIT, "Unsubscribe", "audit.read" },
};

const char *bus_permission_lookup(const char *interface, const char *member) {
        for (size_t i = 0; i < ELEMENTSOF(permission_table); i++)
                if (streq(permission_table[i].interface, interface) &&
                    streq_ptr(permission_table[i].member, member))
                        return permission_table[i].permission;
        return NULL;
}

/* ---- the caller cache ---------------------------------------------------- */

static CallerInfo *caller_info_free(CallerInfo *c) {
        if (!c)
                return NULL;
        free(c->sender);
        free(c->gids);
        free(c);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(CallerInfo *, caller_info_free);

static size_t caller_slot(const char *sender) {
        uint32_t h = 2166136261U;

        /* FNV-1a: unique names are short and chosen by the bus daemon. */
        for (const char *p = sender; *p; p++)
                h = (h ^ (uint8_t) *p) * 16777619U;
        return h % CALLER_CACHE_SLOTS;
}

static CallerInfo *callers_find(BusAuth *ba, const char *sender) {
        for (CallerInfo *c = ba->callers[caller_slot(sender)]; c; c = c->next)
                if (streq(c->sender, sender))
                        return c;
        return NULL;
}

static void callers_clear(BusAuth *ba) {
        for (size_t i = 0; i < CALLER_CACHE_SLOTS; i++)
                while (ba->callers[i]) {
                        CallerInfo *c = ba->callers[i];

                        ba->callers[i] = c->next;
                        caller_info_free(c);
                }
        ba->n_callers = 0;
}

static void callers_add(BusAuth *ba, CallerInfo *info) {
        size_t slot = caller_slot(info->sender);

        /* Entries normally leave with NameOwnerChanged; the bound only
         * matters if those signals were lost. */
        if (ba->n_callers >= CALLER_CACHE_MAX)
                callers_clear(ba);
        info->next = ba->callers[slot];
        ba->callers[slot] = info;
        ba->n_callers++;
}

static void callers_drop(BusAuth *ba, const char *sender) {
        for (CallerInfo **c = &ba->callers[caller_slot(sender)]; *c; c = &(*c)->next)
                if (streq((*c)->sender, sender)) {
                        CallerInfo *gone = *c;

                        *c = gone->next;
                        caller_info_free(gone);
                        ba->n_callers--;
                        return;
                }
}

static int on_name_owner_changed(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        BusAuth *ba = userdata;
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(msg, "sss", &name, &old_owner, &new_owner) < 0)
                return 0;
        if (name[0] == ':' && isempty(new_owner))
                callers_drop(ba, name);
        return 0;
}

int bus_auth_new(sd_bus *bus, BusAuth **ret) {
        _cleanup_(bus_auth_freep) BusAuth *ba = calloc(1, sizeof(BusAuth));
        int r;

        if (!ba)
                return -ENOMEM;
        /* Installed before any call is served, so no cached sender can
         * leave the bus unnoticed (and its name be reused). */
        r = sd_bus_match_signal_async(bus, &ba->name_watch, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                      "org.freedesktop.DBus", "NameOwnerChanged", on_name_owner_changed,
                                      NULL, ba);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(ba);
        return 0;
}

BusAuth *bus_auth_free(BusAuth *ba) {
        if (!ba)
                return NULL;
        sd_bus_slot_unref(ba->name_watch);
        sd_bus_message_unref(ba->property_call);
        callers_clear(ba);
        free(ba);
        return NULL;
}

/* sd-bus (v252) does not turn dbus-daemon's UnixGroupIDs into
 * SD_BUS_CREDS_SUPPLEMENTARY_GIDS; ask the bus daemon for them directly.
 * dbus-daemon 1.14 lists the primary group (SO_PEERCRED) and the
 * supplementary ones (SO_PEERGROUPS), as of connection time. -ENODATA when
 * it does not say. */
static int bus_query_group_ids(sd_bus *bus, const char *sender, gid_t **ret, size_t *ret_n) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) gid_t *gids = NULL;
        size_t n = 0;
        int r;

        r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "GetConnectionCredentials", NULL, &reply, "s", sender);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *key;
                const void *ids;
                size_t size;

                r = sd_bus_message_read(reply, "s", &key);
                if (r < 0)
                        return r;
                if (streq(key, "UnixGroupIDs")) {
                        r = sd_bus_message_enter_container(reply, 'v', "au");
                        if (r >= 0)
                                r = sd_bus_message_read_array(reply, 'u', &ids, &size);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(reply);
                        if (r < 0)
                                return r;
                        free(gids);
                        n = size / sizeof(uint32_t);
                        gids = reallocarray(NULL, MAX(n, 1U), sizeof(gid_t));
                        if (!gids)
                                return -ENOMEM;
                        for (size_t i = 0; i < n; i++)
                                gids[i] = (gid_t) ((const uint32_t *) ids)[i];
                } else if ((r = sd_bus_message_skip(reply, "v")) < 0)
                        return r;
                r = sd_bus_message_exit_container(reply);
        }
        if (r < 0)
                return r;
        if (!gids)
                return -ENODATA;
        *ret = TAKE_PTR(gids);
        *ret_n = n;
        return 0;
}

static int caller_query(sd_bus_message *msg, const char *sender, CallerInfo **ret) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        _cleanup_(caller_info_freep) CallerInfo *c = calloc(1, sizeof(CallerInfo));
        gid_t *gids = NULL;
        int r, n;

        if (!c)
                return -ENOMEM;
        /* Only what the bus daemon vouches for: no SD_BUS_CREDS_AUGMENT,
         * which would read /proc and race with pid reuse. */
        r = sd_bus_query_sender_creds(msg,
                                      SD_BUS_CREDS_UID | SD_BUS_CREDS_EUID | SD_BUS_CREDS_GID |
                                              SD_BUS_CREDS_SUPPLEMENTARY_GIDS | SD_BUS_CREDS_PID,
                                      &creds);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_uid(creds, &c->uid);
        if (r < 0)
                r = sd_bus_creds_get_euid(creds, &c->uid);
        if (r < 0)
                return r;
        if (sd_bus_creds_get_pid(creds, &c->pid) < 0)
                c->pid = 0;
        /* dbus-daemon reports no primary gid of its own; UnixGroupIDs below
         * include it. */
        if (sd_bus_creds_get_gid(creds, &c->gid) < 0)
                c->gid = (gid_t) -1;
        n = sd_bus_creds_get_supplementary_gids(creds, (const gid_t **) &gids);
        if (n == -ENODATA) {
                r = bus_query_group_ids(sd_bus_message_get_bus(msg), sender, &c->gids, &c->n_gids);
                if (r < 0 && r != -ENODATA)
                        return r;
                n = (int) c->n_gids;
        }
        log_debug("Caller %s: creds mask %llx, uid %u, gid %d, %d supplementary gid(s), pid %d.", sender,
                  (unsigned long long) sd_bus_creds_get_mask(creds), (unsigned) c->uid, (int) c->gid, n,
                  (int) c->pid);
        if (n > 0 && !c->gids) {
                c->gids = reallocarray(NULL, (size_t) n, sizeof(gid_t));
                if (!c->gids)
                        return -ENOMEM;
                memcpy(c->gids, gids, (size_t) n * sizeof(gid_t));
                c->n_gids = (size_t) n;
        }
        c->sender = strdup(sender);
        if (!c->sender)
                return -ENOMEM;
        *ret = TAKE_PTR(c);
        return 0;
}

static int caller_get(Manager *m, sd_bus_message *msg, const CallerInfo **ret) {
        const char *sender = sd_bus_message_get_sender(msg);
        CallerInfo *c;
        int r;

        if (!sender)
                return -ESRCH;
        c = callers_find(m->bus_auth, sender);
        if (!c) {
                r = caller_query(msg, sender, &c);
                if (r < 0)
                        return r;
                callers_add(m->bus_auth, c);
        }
        *ret = c;
        return 0;
}

/* ---- Unit= bindings -------------------------------------------------------- */

/* The caller's process, read at most once per decision, when a Unit=
 * binding would allow the call. */
typedef struct ProcessCheck {
        Manager *m;
        const CallerInfo *caller;
        bool read;
        int error;
        ProcessInfo info;
        char why[192]; /* why the last Unit= binding did not apply */
} ProcessCheck;

static int process_check_refuse(ProcessCheck *pc, int error, const char *fmt, ...) _printf_(3, 4);
static int process_check_refuse(ProcessCheck *pc, int error, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(pc->why, sizeof(pc->why), fmt, ap);
        va_end(ap);
        return error;
}

/* PolicyProcessCheck: see endpointd-policy(5), "Unit=". Measured at the
 * call, from what the process cannot change without leaving the unit or
 * becoming open to others: its cgroups, uids, dumpability, tracer. */
static int process_check(const char *unit, const char *executable, void *userdata) {
        ProcessCheck *pc = userdata;
        const ProcessInfo *i = &pc->info;
        _cleanup_(closep) int fd = -EBADF;
        int r;

        if (!pc->read) {
                pc->read = true;
                pc->error = process_info_read(pc->caller->pid, &pc->info);
        }
        if (pc->error < 0)
                return process_check_refuse(pc, pc->error, "its process cannot be examined: %s",
                                            strerror(-pc->error));
        if (!process_info_has_uid(i, pc->caller->uid))
                return process_check_refuse(pc, -EPERM, "%s", "its process changed its uid");
        if (!process_info_in_unit(i, unit))
                return process_check_refuse(pc, -EPERM, "its process is not in %s", unit);
        if (i->dumpable)
                return process_check_refuse(
                        pc, -EPERM, "%s",
                        "its process is dumpable: other processes of its uid could take it over");
        if (i->tracer != 0)
                return process_check_refuse(pc, -EPERM, "%s", "its process is being traced");
        if (!executable)
                return 0;
        /* The file the unit runs, by path, at the call: a replaced binary
         * loses the rights. (Its image in the process cannot be read
         * without ptrace rights, and need not be: the unit says what runs.) */
        fd = open(executable, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0)
                return process_check_refuse(pc, -errno, "%s cannot be opened", executable);
        r = integrity_check_executable(pc->m->integrity, fd, executable);
        if (r < 0)
                return process_check_refuse(pc, r, "%s does not match the manifest", executable);
        return 0;
}

static bool permission_is_read(const char *perm) {
        const char *colon = strchr(perm, ':');
        size_t n = colon ? (size_t) (colon - perm) : strlen(perm);

        return n >= 5 && strncmp(perm + n - 5, ".read", 5) == 0;
}

/* Decides for caller c; fills reason (with why a Unit= binding did not
 * apply, if one would have). Returns 1 or 0. */
static int caller_decide(Manager *m, const CallerInfo *c, const char *permission, char *reason,
                         size_t reason_len) {
        ProcessCheck pc = { .m = m, .caller = c };
        PolicyCaller caller = { .uid = c->uid, .gid = c->gid, .gids = c->gids, .n_gids = c->n_gids };
        bool allowed;

        allowed = authority_check(m->authority, &caller, permission, process_check, &pc, reason, reason_len);
        if (!allowed && !isempty(pc.why) && reason) {
                size_t n = strlen(reason);

                (void) snprintf(reason + n, reason_len - n, ": %s", pc.why);
        }
        process_info_done(&pc.info);
        return allowed;
}

int bus_caller_check(Manager *m, sd_bus_message *msg, const char *permission, char *reason,
                     size_t reason_len) {
        const CallerInfo *c;
        int r;

        r = caller_get(m, msg, &c);
        if (r < 0)
                return r;
        return caller_decide(m, c, permission, reason, reason_len);
}

static EventSubject caller_subject(const CallerInfo *c) {
        return (EventSubject){ .uid = c->uid, .gid = c->gid, .pid = c->pid, .bus_name = c->sender };
}

static int deny(Manager *m, const CallerInfo *c, const char *full, const char *reason, sd_bus_error *error) {
        EventSubject subject = caller_subject(c);

        events_emit(m->events, EVENT_ACCESS_DENIED, &subject, full, -EACCES,
                    EVENT_FIELDS({ "PERMISSION", full }, { "REASON", reason }),
                    "Denied %s to uid %u (pid %d): %s.", full, (unsigned) c->uid, (int) c->pid, reason);
        if (ratelimit_note_denial(m->authority->ratelimit, c->uid, now_usec(CLOCK_MONOTONIC))) {
                char burst[16], window[16];

                (void) snprintf(burst, sizeof(burst), "%u", RATELIMIT_DENIAL_BURST);
                (void) snprintf(window, sizeof(window), "%llu",
                                (unsigned long long) (RATELIMIT_DENIAL_WINDOW / USEC_PER_SEC));
                events_emit(m->events, EVENT_ABUSE_SUSPECTED, &subject, full, 0,
                            EVENT_FIELDS({ "DENIALS", burst }, { "WINDOW_SEC", window }),
                            "Possible abuse: uid %u was denied %s times within %s s.", (unsigned) c->uid,
                            burst, window);
        }
        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "Permission '%s' denied.", full);
}

/* Every call is decided on its own: nothing of an earlier decision is
 * reused, so a lapsed grant, a reload, a revocation or a changed process
 * takes effect at the next call, and each call is counted by the rate
 * limiter. */
static int authorize(Manager *m, sd_bus_message *msg, const char *permission, const char *object,
                     sd_bus_error *error) {
        Authority *a = m->authority;
        const CallerInfo *c;
        char full[POLICY_PERMISSION_MAX + 80], reason[512];
        EventsAllowedLevel level;
        bool first = false;
        int r;

        if (!permission)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "No permission is defined for this call; denied by default.");
        if (object && !name_is_valid(object))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "'%.64s' is not a valid name.",
                                         object);
        (void) snprintf(full, sizeof(full), "%s%s%s", permission, object ? ":" : "", strempty(object));
        if (!a || !m->bus_auth)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Permission '%s' denied: no policy.", full);

        r = caller_get(m, msg, &c);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot determine the caller's identity: %m");
        /* root is not limited: it can stop or ptrace the daemon anyway, so
         * a limit would protect nothing and only break administration. */
        if (c->uid != 0 && !ratelimit_take(a->ratelimit, c->uid, now_usec(CLOCK_MONOTONIC), &first)) {
                if (first) {
                        EventSubject subject = caller_subject(c);

                        events_emit(m->events, EVENT_RATE_LIMITED, &subject, full, -EDQUOT, EVENT_NO_FIELDS,
                                    "Rate limit reached for uid %u (pid %d); refusing its calls for now.",
                                    (unsigned) c->uid, (int) c->pid);
                }
                return bus_error_set_errnof(error, EDQUOT, "Too many calls from uid %u; try again later.",
                                            (unsigned) c->uid);
        }
        if (!caller_decide(m, c, full, reason, sizeof(reason)))
                return deny(m, c, full, reason, error);

        /* [Audit] AllowedCalls= says which allowed calls are events. Reading
         * the audit log itself never is: each page read would add a record
         * to the log it reads, and a reader paging until the array is empty
         * (endpointd-dbus(7)) would never finish. */
        level = events_get_allowed_level(m->events);
        if (!streq(full, "audit.read") &&
            (level == EVENTS_ALLOWED_ALL || (level == EVENTS_ALLOWED_CHANGES && !permission_is_read(full)))) {
                EventSubject subject = caller_subject(c);

                events_emit(m->events, EVENT_ACCESS_ALLOWED, &subject, full, 0,
                            EVENT_FIELDS({ "PERMISSION", full }, { "REASON", reason }),
                            "Allowed %s to uid %u (pid %d): %s.", full, (unsigned) c->uid, (int) c->pid,
                            reason);
        } else
                log_debug("Allowed %s to uid %u: %s.", full, (unsigned) c->uid, reason);
        return 0;
}

int bus_authorize(Manager *m, sd_bus_message *msg, const char *object, sd_bus_error *error) {
        return authorize(
                m, msg,
                bus_permission_lookup(sd_bus_message_get_interface(msg), sd_bus_message_get_member(msg)),
                object, error);
}

int bus_authorize_property(Manager *m, sd_bus *bus, const char *interface, sd_bus_error *error) {
        sd_bus_message *msg = sd_bus_get_current_message(bus);
        BusAuth *ba = m->bus_auth;
        const char *permission = bus_permission_lookup(interface, NULL);
        int r;

        /* Getters also run when sd-bus builds a PropertiesChanged signal;
         * only a Get/GetAll call is a read by a caller. */
        if (!msg || !streq_ptr(sd_bus_message_get_interface(msg), "org.freedesktop.DBus.Properties"))
                return 0;
        if (ba && msg == ba->property_call && permission == ba->property_permission)
                return 0;
        r = authorize(m, msg, permission, NULL, error);
        if (r < 0)
                return r;
        sd_bus_message_unref(ba->property_call);
        ba->property_call = sd_bus_message_ref(msg);
        ba->property_permission = permission;
        return 0;
}

int bus_event_subject(Manager *m, sd_bus_message *msg, EventSubject *ret) {
        const CallerInfo *c;
        int r;

        r = caller_get(m, msg, &c);
        if (r < 0)
                return r;
        *ret = caller_subject(c);
        return 0;
}

int bus_caller_uid(Manager *m, sd_bus_message *msg, uid_t *ret) {
        const CallerInfo *c;
        int r;

        r = caller_get(m, msg, &c);
        if (r < 0)
                return r;
        *ret = c->uid;
        return 0;
}
