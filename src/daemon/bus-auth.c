/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "authority.h"
#include "bus-auth.h"
#include "bus-errors.h"
#include "endpointd/bus.h"
#include "integrity.h"
#include "log.h"

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
        { ENDPOINTD_IFACE_KEYS, "Sign", "device.sign" },
        { ENDPOINTD_IFACE_KEYS, "GetDevicePublicKey", "status.read" },
        { ENDPOINTD_IFACE_KEYS, "GetAttestationPublicKey", "status.read" },
        { ENDPOINTD_IFACE_KEYS, "Attest", "device.attest" },
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
};

const char *bus_permission_lookup(const char *interface, const char *member) {
        for (size_t i = 0; i < ELEMENTSOF(permission_table); i++)
                if (streq(permission_table[i].interface, interface) &&
                    streq_ptr(permission_table[i].member, member))
                        return permission_table[i].permission;
        return NULL;
}

/* What a caller runs, resolved at most once per decision. */
typedef struct ExeCheck {
        Manager *m;
        pid_t pid;
        uid_t uid;
        bool resolved;
        int error;
        int fd;
        char path[PATH_MAX];
} ExeCheck;

static int pidfd_open_compat(pid_t pid) {
        return (int) syscall(SYS_pidfd_open, pid, 0);
}

static bool pidfd_alive(int pidfd) {
        struct pollfd p = { .fd = pidfd, .events = POLLIN };

        /* A pidfd becomes readable when its process exits. */
        return poll(&p, 1, 0) == 0;
}

/* Resolves the caller's executable from the pid the bus daemon recorded.
 * The pidfd pins the process, so that the /proc lookups below are known to
 * be about it if it is still alive afterwards; the process must also still
 * belong to the caller's uid. What remains is the window between the
 * caller connecting and pidfd_open(): see endpointd-policy(5). */
/* The start time (clock ticks after boot) of the process whose /proc
 * directory is open at dirfd: field 22 of "stat", counted after the ")"
 * that ends the command name (which may itself hold spaces and ")"). */
static int proc_start_time(int dirfd, unsigned long long *ret) {
        _cleanup_(closep) int fd = openat(dirfd, "stat", O_RDONLY | O_CLOEXEC);
        char buf[1024], *p;
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return n < 0 ? -errno : -EIO;
        buf[n] = 0;
        p = strrchr(buf, ')');
        for (int field = 2; p && field < 22; field++)
                p = strchr(p + 1, ' ');
        if (!p || sscanf(p + 1, "%llu", ret) != 1)
                return -EBADMSG;
        return 0;
}

static int exe_resolve(ExeCheck *ec) {
        _cleanup_(closep) int pidfd = -EBADF, dirfd = -EBADF, fd = -EBADF;
        unsigned long long start = 0, again = 0;
        char proc[64];
        struct stat st;
        ssize_t n;
        int r;

        if (ec->pid <= 0)
                return -ESRCH;
        pidfd = pidfd_open_compat(ec->pid);
        /* Without pidfd_open() (before Linux 5.3, or under valgrind) the
         * process's start time, read before and after, pins it instead. */
        if (pidfd < 0 && errno != ENOSYS)
                return -errno;
        (void) snprintf(proc, sizeof(proc), "/proc/%d", (int) ec->pid);
        dirfd = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0 || fstat(dirfd, &st) < 0)
                return -errno;
        if (pidfd < 0 && (r = proc_start_time(dirfd, &start)) < 0)
                return r;
        if (st.st_uid != ec->uid)
                return -ESRCH;
        n = readlinkat(dirfd, "exe", ec->path, sizeof(ec->path) - 1);
        if (n < 0)
                return -errno;
        ec->path[n] = 0;
        fd = openat(dirfd, "exe", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (pidfd >= 0 ? !pidfd_alive(pidfd) : (proc_start_time(dirfd, &again) < 0 || again != start))
                return -ESRCH;
        ec->fd = TAKE_FD(fd);
        return 0;
}

static int exe_check(const char *path, void *userdata) {
        ExeCheck *ec = userdata;
        int r;

        if (!ec->resolved) {
                ec->resolved = true;
                ec->error = exe_resolve(ec);
                if (ec->error < 0)
                        log_debug_errno(ec->error, "Cannot resolve the executable of pid %d: %m",
                                        (int) ec->pid);
        }
        if (ec->error < 0)
                return ec->error;
        /* A binary replaced on disk shows as "PATH (deleted)" here. */
        if (!streq(ec->path, path))
                return -EPERM;
        if (lseek(ec->fd, 0, SEEK_SET) < 0)
                return -errno;
        r = integrity_check_executable(ec->m, ec->fd, path);
        if (r < 0)
                log_struct(
                        LOG_WARNING, ENDPOINTD_MESSAGE_ACCESS_DENIED,
                        "Executable %s of pid %d does not match the manifest (%s); its rights do not apply.",
                        path, (int) ec->pid, strerror(-r));
        return r;
}

static int on_name_owner_changed(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        Manager *m = userdata;
        const char *name, *old_owner, *new_owner;

        if (!m->authority || sd_bus_message_read(msg, "sss", &name, &old_owner, &new_owner) < 0)
                return 0;
        if (name[0] == ':' && isempty(new_owner))
                authority_caller_drop(m->authority, name);
        return 0;
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

static int caller_query(Manager *m, sd_bus_message *msg, const char *sender, CallerInfo **ret) {
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
        if (!m->authority->name_watch) {
                r = sd_bus_match_signal_async(sd_bus_message_get_bus(msg), NULL, "org.freedesktop.DBus",
                                              "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                              "NameOwnerChanged", on_name_owner_changed, NULL, m);
                if (r < 0)
                        return r;
                m->authority->name_watch = true;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

static int caller_get(Manager *m, sd_bus_message *msg, const CallerInfo **ret) {
        const char *sender = sd_bus_message_get_sender(msg);
        CallerInfo *c;
        int r;

        if (!sender)
                return -ESRCH;
        c = authority_caller_get(m->authority, sender);
        if (!c) {
                r = caller_query(m, msg, sender, &c);
                if (r < 0)
                        return r;
                authority_caller_put(m->authority, c);
        }
        *ret = c;
        return 0;
}

static bool permission_is_read(const char *perm) {
        const char *colon = strchr(perm, ':');
        size_t n = colon ? (size_t) (colon - perm) : strlen(perm);

        return n >= 5 && strncmp(perm + n - 5, ".read", 5) == 0;
}

int bus_caller_check(Manager *m, sd_bus_message *msg, const char *permission, char *reason,
                     size_t reason_len) {
        const CallerInfo *c;
        PolicyCaller pc;
        ExeCheck ec = { .m = m, .fd = -EBADF };
        bool allowed;
        int r;

        r = caller_get(m, msg, &c);
        if (r < 0)
                return r;
        pc = (PolicyCaller){ .uid = c->uid, .gid = c->gid, .gids = c->gids, .n_gids = c->n_gids };
        ec.pid = c->pid;
        ec.uid = c->uid;
        allowed = authority_check(m, &pc, permission, exe_check, &ec, reason, reason_len);
        ec.fd = safe_close(ec.fd);
        return allowed;
}

static int deny(Manager *m, const CallerInfo *c, const char *full, const char *reason, sd_bus_error *error) {
        log_struct(LOG_NOTICE, ENDPOINTD_MESSAGE_ACCESS_DENIED, "Denied %s to uid %u (pid %d): %s.", full,
                   (unsigned) c->uid, (int) c->pid, reason);
        if (ratelimit_note_denial(m->authority->ratelimit, c->uid, now_usec(CLOCK_MONOTONIC)))
                log_struct(LOG_WARNING, ENDPOINTD_MESSAGE_ACCESS_DENIED,
                           "Possible abuse: uid %u was denied %u times within %llu s.", (unsigned) c->uid,
                           RATELIMIT_DENIAL_BURST,
                           (unsigned long long) (RATELIMIT_DENIAL_WINDOW / USEC_PER_SEC));
        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "Permission '%s' denied.", full);
}

static int authorize(Manager *m, sd_bus_message *msg, const char *permission, const char *object,
                     sd_bus_error *error) {
        Authority *a = m->authority;
        const CallerInfo *c;
        char full[POLICY_PERMISSION_MAX + 80], reason[256];
        uint64_t cookie = 0;
        bool first = false;
        int r;

        if (!permission)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "No permission is defined for this call; denied by default.");
        if (object && !name_is_valid(object))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "'%.64s' is not a valid name.",
                                         object);
        (void) snprintf(full, sizeof(full), "%s%s%s", permission, object ? ":" : "", strempty(object));
        if (!a)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Permission '%s' denied: no policy.", full);

        (void) sd_bus_message_get_cookie(msg, &cookie);
        if (a->allowed_sender && cookie == a->allowed_cookie && a->allowed_permission == permission &&
            !object && streq_ptr(a->allowed_sender, sd_bus_message_get_sender(msg)))
                return 0;

        r = caller_get(m, msg, &c);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot determine the caller's identity: %m");
        /* root is not limited: it can stop or ptrace the daemon anyway, so
         * a limit would protect nothing and only break administration. */
        if (c->uid != 0 && !ratelimit_take(a->ratelimit, c->uid, now_usec(CLOCK_MONOTONIC), &first)) {
                if (first)
                        log_struct(LOG_WARNING, ENDPOINTD_MESSAGE_RATE_LIMITED,
                                   "Rate limit reached for uid %u (pid %d); refusing its calls for now.",
                                   (unsigned) c->uid, (int) c->pid);
                return bus_error_set_errnof(error, EDQUOT, "Too many calls from uid %u; try again later.",
                                            (unsigned) c->uid);
        }
        r = bus_caller_check(m, msg, full, reason, sizeof(reason));
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot determine the caller's identity: %m");
        if (r == 0)
                return deny(m, c, full, reason, error);

        if (permission_is_read(full))
                log_debug("Allowed %s to uid %u: %s.", full, (unsigned) c->uid, reason);
        else
                log_struct(LOG_INFO, ENDPOINTD_MESSAGE_ACCESS_ALLOWED, "Allowed %s to uid %u (pid %d): %s.",
                           full, (unsigned) c->uid, (int) c->pid, reason);
        if (!object && (!a->allowed_sender || !streq(a->allowed_sender, c->sender))) {
                free(a->allowed_sender);
                a->allowed_sender = strdup(c->sender);
        }
        a->allowed_cookie = cookie;
        a->allowed_permission = permission;
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

        /* Getters also run when sd-bus builds a PropertiesChanged signal;
         * only a Get/GetAll call is a read by a caller. */
        if (!msg || !streq_ptr(sd_bus_message_get_interface(msg), "org.freedesktop.DBus.Properties"))
                return 0;
        return authorize(m, msg, bus_permission_lookup(interface, NULL), NULL, error);
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
