/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "authority.h"
#include "bus-auth.h"
#include "bus-errors.h"
#include "bus-policy.h"
#include "endpointd/bus.h"
#include "log.h"

static int method_check_access(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *perm;
        char reason[256];
        int r;

        r = sd_bus_message_read(msg, "s", &perm);
        if (r < 0)
                return r;
        if (!policy_permission_is_valid(perm, false))
                return sd_bus_error_setf(
                        error, SD_BUS_ERROR_INVALID_ARGS,
                        "'%.64s' is not a permission like 'status.read' or 'keys.use:NAME'.", perm);
        r = bus_authorize(m, msg, NULL, error);
        if (r < 0)
                return r;
        r = bus_caller_check(m, msg, perm, reason, sizeof(reason));
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot determine the caller's identity: %m");
        return sd_bus_reply_method_return(msg, "bs", r > 0, reason);
}

static int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        char e[512];
        int r;

        r = bus_authorize(m, msg, NULL, error);
        if (r < 0)
                return r;
        EventSubject subject;

        r = bus_event_subject(m, msg, &subject);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Cannot determine the caller's identity: %m");
        r = authority_reload(m->authority, &subject, e, sizeof(e));
        if (r < 0) {
                log_error_errno(r, "Keeping the old access policy: %s", e);
                if (r == -ENOMEM)
                        return r;
                /* endpointd-dbus(7): Malformed when the file does not
                 * parse, NotFound for every reason it cannot be read (a
                 * directory, no permission, an I/O error), not the errno. */
                if (r != -EBADMSG)
                        return bus_error_set_errnof(
                                error, ENOENT,
                                "%s; the policy file cannot be read, the old policy stays "
                                "in force.",
                                e);
                return bus_error_set_errnof(error, r, "%s; the old policy stays in force.", e);
        }
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_get_policy(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(freep) char *text = NULL;
        int r;

        r = bus_authorize(m, msg, NULL, error);
        if (r < 0)
                return r;
        text = policy_format(m->authority->policy);
        if (!text)
                return -ENOMEM;
        return sd_bus_reply_method_return(msg, "ss", policy_path(m->authority->policy), text);
}

static int install(sd_bus_message *msg, Manager *m, TokenType type, sd_bus_error *error) {
        const void *data, *sig;
        size_t len, sig_len;
        EventSubject subject;
        const char *id;
        char e[512] = "";
        int r;

        r = sd_bus_message_read_array(msg, 'y', &data, &len);
        if (r >= 0)
                r = sd_bus_message_read_array(msg, 'y', &sig, &sig_len);
        if (r < 0)
                return r;
        if (len > TOKEN_FILE_MAX || sig_len > SIGNATURE_MAX)
                return bus_error_set_errnof(error, EFBIG, "The %s or its signature is too large.",
                                            type == TOKEN_GRANT ? "grant" : "licence");
        r = bus_authorize(m, msg, NULL, error);
        if (r < 0)
                return r;
        r = bus_event_subject(m, msg, &subject);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Cannot determine the caller's identity: %m");
        r = authority_install(m->authority, &subject, type, data, len, sig, sig_len, &id, e, sizeof(e));
        if (r < 0) {
                return bus_error_set_errnof(error, r, "%s", isempty(e) ? strerror(-r) : e);
        }
        return sd_bus_reply_method_return(msg, "s", id);
}

static int method_install_grant(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return install(msg, userdata, TOKEN_GRANT, error);
}

static int method_install_licence(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return install(msg, userdata, TOKEN_LICENCE, error);
}

static int method_list_grants(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        int r;

        r = bus_authorize(m, msg, NULL, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssstt)");
        for (size_t i = 0; r >= 0 && i < m->authority->n_grants; i++) {
                const Token *t = m->authority->grants[i].token;
                _cleanup_(freep) char *roles = NULL;

                /* Lapsed but not yet removed by the timer: gone already. */
                if (token_check_time(t, authority_now(m->authority)) == -EKEYEXPIRED)
                        continue;
                roles = words_join(t->roles);
                if (!roles)
                        return -ENOMEM;
                r = sd_bus_message_append(reply, "(ssstt)", t->id, t->subject, roles,
                                          (uint64_t) t->not_before, (uint64_t) t->not_after);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_revoke_grant(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        EventSubject subject;
        const char *id;
        int r;

        r = sd_bus_message_read(msg, "s", &id);
        if (r < 0)
                return r;
        if (!name_is_valid(id))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "'%.64s' is not a valid grant id.", id);
        r = bus_authorize(m, msg, NULL, error);
        if (r < 0)
                return r;
        r = bus_event_subject(m, msg, &subject);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Cannot determine the caller's identity: %m");
        r = authority_grant_revoke(m->authority, &subject, id);
        if (r == -ENOENT)
                return bus_error_set_errnof(error, ENOENT, "No grant '%s' is installed.", id);
        if (r < 0)
                return bus_error_set_errnof(error, r, "Cannot revoke grant '%s': %s", id, strerror(-r));
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_list_licences(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        int r;

        r = bus_authorize(m, msg, NULL, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sastt)");
        for (size_t i = 0; r >= 0 && i < m->authority->n_licences; i++) {
                const Token *t = m->authority->licences[i];

                r = sd_bus_message_open_container(reply, 'r', "sastt");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "s", t->id);
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'a', "s");
                for (char **f = t->features; r >= 0 && *f; f++)
                        r = sd_bus_message_append(reply, "s", *f);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "tt", (uint64_t) t->not_before,
                                                  (uint64_t) t->not_after);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_check_feature(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *feature;
        usec_t expires;
        bool enabled;
        int r;

        r = sd_bus_message_read(msg, "s", &feature);
        if (r < 0)
                return r;
        if (!name_is_valid(feature))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "'%.64s' is not a valid feature name.", feature);
        r = bus_authorize(m, msg, NULL, error);
        if (r < 0)
                return r;
        enabled = authority_feature_enabled(m->authority, feature, &expires);
        return sd_bus_reply_method_return(msg, "bt", enabled, (uint64_t) expires);
}

const sd_bus_vtable policy_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("CheckAccess", SD_BUS_ARGS("s", permission),
                                SD_BUS_RESULT("b", allowed, "s", reason), method_check_access,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Reload", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_reload,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetPolicy", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", path, "s", text),
                                method_get_policy, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("InstallGrant", SD_BUS_ARGS("ay", grant, "ay", signature),
                                SD_BUS_RESULT("s", id), method_install_grant, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListGrants", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssstt)", grants),
                                method_list_grants, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RevokeGrant", SD_BUS_ARGS("s", id), SD_BUS_NO_RESULT, method_revoke_grant,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("InstallLicence", SD_BUS_ARGS("ay", licence, "ay", signature),
                                SD_BUS_RESULT("s", id), method_install_licence, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListLicences", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sastt)", licences),
                                method_list_licences, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CheckFeature", SD_BUS_ARGS("s", feature),
                                SD_BUS_RESULT("b", enabled, "t", expires), method_check_feature,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};
