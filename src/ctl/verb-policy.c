/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <sys/stat.h>

#include "ctl-bus.h"
#include "ctl-config.h"
#include "ctl.h"
#include "endpointd/bus.h"
#include "fileio.h"
#include "log.h"
#include "policy.h"
#include "signature.h"
#include "table.h"
#include "token.h"

static int parse_failed(const char *reply_what, int r) {
        return log_error_errno(r, "Failed to parse the reply to %s: %m", reply_what);
}

/* ---- policy -------------------------------------------------------------- */

static void verify_warn(const char *file, unsigned line, const char *message, void *userdata) {
        log_warning("%s:%u: warning: %s", file, line, message);
}

/* The confirmation of a change: the sentence, or with --json the object o
 * (whose reference this takes). */
static int print_done(json_object *o, const char *sentence) {
        if (!o)
                return log_oom();
        if (!arg_json) {
                json_object_put(o);
                printf("%s\n", sentence);
                return 0;
        }
        return json_print(o, stdout) < 0 ? log_oom() : 0;
}

/* { key: value } with one string, or NULL on OOM. */
static json_object *json_string_object(const char *key, const char *value) {
        json_object *o = json_object_new_object();

        if (o && json_object_object_add(o, key, json_object_new_string(value)) < 0)
                return json_object_put(o), NULL;
        return o;
}

int verb_policy_verify(int argc, char *argv[], void *userdata) {
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_(freep) char *sentence = NULL;
        _cleanup_(config_freep) Config *c = NULL;
        const char *path = argv[1];
        json_object *o;
        ParseError e = {};
        int r;

        /* Without FILE: the policy the daemon reads, [Policy] File= of its configuration. */
        if (argc < 2) {
                r = ctl_config_load(&c);
                if (r < 0)
                        return r;
                path = c->policy_file;
        }

        /* The daemon's own parser, so the verdict is the daemon's. */
        r = policy_load(path, verify_warn, NULL, &p, &e);
        if (r < 0) {
                if (e.line > 0)
                        log_error("%s:%u: %s", path, e.line, e.message);
                else
                        log_error("%s: %s", path, e.message);
                return r == -EINVAL ? -EBADMSG : r;
        }
        o = json_string_object("file", path);
        if (!o || json_object_object_add(o, "valid", json_object_new_boolean(true)) < 0 ||
            asprintf(&sentence, "%s: OK", path) < 0) {
                json_object_put(o);
                return log_oom();
        }
        return print_done(o, sentence);
}

static json_object *json_string_array(char *const *l) {
        json_object *a = json_object_new_array();

        for (char *const *w = l; a && w && *w; w++)
                if (json_object_array_add(a, json_object_new_string(*w)) < 0)
                        return json_object_put(a), NULL;
        return a;
}

/* The policy as roles and subjects: the daemon's rendering parsed again
 * with the daemon's parser. NULL if it does not parse. */
static json_object *policy_to_json(const char *path, const char *text) {
        _cleanup_(policy_freep) Policy *p = NULL;
        json_object *o = NULL, *roles = NULL, *subjects = NULL;
        ParseError e = {};
        char *const *l;
        const char *name, *exe;
        const PolicySubject *sub;
        bool ok;

        if (policy_parse(path, text, strlen(text), NULL, NULL, &p, &e) < 0)
                return NULL;
        o = json_object_new_object();
        roles = json_object_new_array();
        subjects = json_object_new_array();
        ok = o && roles && subjects;
        for (size_t i = 0; ok && (name = policy_role(p, i, &l)); i++) {
                json_object *r = json_object_new_object();
                ok = r && json_object_array_add(roles, r) >= 0;
                if (!ok)
                        json_object_put(r);
                ok = ok && json_object_object_add(r, "name", json_object_new_string(name)) >= 0 &&
                     json_object_object_add(r, "permissions", json_string_array(l)) >= 0;
        }
        for (size_t i = 0; ok && (sub = policy_subject(p, i, &l, &exe)); i++) {
                json_object *r = json_object_new_object();
                ok = r && json_object_array_add(subjects, r) >= 0;
                if (!ok)
                        json_object_put(r);
                ok = ok && json_object_object_add(r, "subject", json_object_new_string(sub->name)) >= 0 &&
                     json_object_object_add(r, "roles", json_string_array(l)) >= 0 &&
                     json_object_object_add(r, "executable", exe ? json_object_new_string(exe) : NULL) >=
                             0 &&
                     json_object_object_add(r, "exists", json_object_new_boolean(sub->resolved)) >= 0;
        }
        ok = ok && json_object_object_add(o, "path", json_object_new_string(path)) >= 0;
        if (ok && json_object_object_add(o, "roles", roles) >= 0)
                roles = NULL;
        else
                ok = false;
        if (ok && json_object_object_add(o, "subjects", subjects) >= 0)
                subjects = NULL;
        else
                ok = false;
        json_object_put(roles);
        json_object_put(subjects);
        if (!ok)
                return json_object_put(o), NULL;
        return o;
}

int verb_policy_show(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path, *text;
        json_object *o;
        int r;

        r = ctl_call(userdata, ENDPOINTD_IFACE_POLICY, "GetPolicy", &reply, "show the policy", NULL);
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "ss", &path, &text);
        if (r < 0)
                return parse_failed("GetPolicy", r);
        if (!arg_json) {
                fputs(text, stdout);
                return 0;
        }
        o = policy_to_json(path, text);
        if (!o) {
                /* A rendering this endpointctl cannot parse (another
                 * version): still JSON, with the text in one field. */
                o = json_string_object("path", path);
                if (o && json_object_object_add(o, "text", json_object_new_string(text)) < 0)
                        o = (json_object_put(o), NULL);
        }
        return json_print(o, stdout) < 0 ? log_oom() : 0;
}

/* Refuses a permission the daemon never checks, with the nearest one. */
static int permission_check_known(const char *perm) {
        const char *best = NULL, *name;
        size_t best_d = SIZE_MAX, n = strcspn(perm, ":");
        _cleanup_(freep) char *base = strndup(perm, n);
        bool object;
        int r;

        if (!base)
                return log_oom();
        r = policy_permission_known(perm);
        if (r == 0)
                return 0;
        for (size_t i = 0; (name = policy_permission_name(i, &object)); i++) {
                size_t d = string_distance(base, name);
                if (d < best_d) {
                        best_d = d;
                        best = name;
                }
                if (streq(base, name) && object) {
                        log_error("Permission '%s' needs an object, as in '%s:NAME' (no wildcards).", perm,
                                  name);
                        return -EINVAL;
                }
                if (streq(base, name)) {
                        log_error("Permission '%s' takes no object.", base);
                        return -EINVAL;
                }
        }
        if (best && best_d <= 2)
                log_error("Unknown permission '%s'; did you mean '%s'?", perm, best);
        else
                log_error("Unknown permission '%s'; see endpointd-policy(5) for the permissions.", perm);
        return -EINVAL;
}

/* Checks the name before it connects, so it connects itself. */
int verb_policy_check(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        const char *reason, *perm = argv[1];
        int allowed, r;

        r = permission_check_known(perm);
        if (r < 0)
                return r;
        r = ctl_bus_connect(&bus);
        if (r < 0)
                return r;
        r = ctl_call(bus, ENDPOINTD_IFACE_POLICY, "CheckAccess", &reply, "check access", "s", perm);
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "bs", &allowed, &reason);
        if (r < 0)
                return parse_failed("CheckAccess", r);
        t = table_new(true, "Field", "Value");
        if (!t)
                return log_oom();
        if (table_add(t, CELL_STRING, arg_json ? "permission" : "Permission") < 0 ||
            table_add(t, CELL_STRING, perm) < 0 ||
            table_add(t, CELL_STRING, arg_json ? "allowed" : "Allowed") < 0 ||
            table_add(t, CELL_BOOLEAN, allowed) < 0 ||
            table_set_color(t, allowed ? TABLE_COLOR_GOOD : TABLE_COLOR_BAD) < 0 ||
            table_add(t, CELL_STRING, arg_json ? "reason" : "Reason") < 0 ||
            table_add(t, CELL_STRING, reason) < 0)
                return log_oom();
        r = table_print(t, arg_json, stdout);
        if (r < 0)
                return log_oom();
        /* Scripts branch on the exit status: 4 as for any denial. */
        return allowed ? 0 : -EACCES;
}

int verb_policy_reload(int argc, char *argv[], void *userdata) {
        json_object *o;
        int r;

        r = ctl_call(userdata, ENDPOINTD_IFACE_POLICY, "Reload", NULL, "reload the policy", NULL);
        if (r != 0)
                return r;
        o = json_object_new_object();
        if (o && json_object_object_add(o, "reloaded", json_object_new_boolean(true)) < 0)
                o = (json_object_put(o), NULL);
        return print_done(o, "Access policy reloaded.");
}

/* ---- grants and licences ------------------------------------------------- */

static int token_install(sd_bus *bus, TokenType type, const char *file, const char *sigfile) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(freep) char *data = NULL, *sig = NULL;
        const char *what = type == TOKEN_GRANT ? "install the grant" : "install the licence", *id;
        size_t len, sig_len;
        int r;

        r = read_full_file(file, TOKEN_FILE_MAX, &data, &len);
        if (r < 0)
                return log_error_errno(r, "Cannot read %s: %m", file);
        r = read_full_file(sigfile, SIGNATURE_MAX, &sig, &sig_len);
        if (r < 0)
                return log_error_errno(r, "Cannot read %s: %m", sigfile);
        r = ctl_new_method_call(bus, ENDPOINTD_IFACE_POLICY,
                                type == TOKEN_GRANT ? "InstallGrant" : "InstallLicence", &m);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', data, len);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', sig, sig_len);
        if (r < 0)
                return ctl_bus_error(r, NULL, what);
        r = ctl_call_message(bus, m, &reply, what);
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "s", &id);
        if (r < 0)
                return parse_failed(what, r);
        /* The id alone, so that scripts can take it. */
        return print_done(json_string_object("id", id), id);
}

/* With a signature: the daemon's one verifier, against the trust directory
 * and this machine's clock; the device binding is left to the daemon. */
static int token_check_signature(TokenType type, const char *file, const char *data, size_t len,
                                 const char *sig_file, const char *trust_dir) {
        _cleanup_(trust_store_freep) TrustStore *trust = NULL;
        _cleanup_(token_freep) Token *t = NULL;
        _cleanup_(freep) char *sig = NULL;
        char error[512] = "";
        size_t sig_len;
        int r;

        r = read_full_file(sig_file, SIGNATURE_MAX, &sig, &sig_len);
        if (r < 0)
                return log_error_errno(r, "Cannot read %s: %m", sig_file);
        r = trust_store_load(trust_dir, &trust, error, sizeof(error));
        if (r < 0)
                return log_error_errno(r, "Cannot load the trust directory '%s': %s", trust_dir, error);
        r = token_verify(trust, data, len, sig, sig_len, type, NULL, now_usec(CLOCK_REALTIME), &t, error,
                         sizeof(error));
        if (r < 0) {
                log_error("%s: %s", file, error);
                return r == -EINVAL ? -EBADMSG : r;
        }
        return 0;
}

static int token_print_json(const Token *t, const char *list, bool verified) {
        json_object *o = json_object_new_object();

        if (!o ||
            json_object_object_add(o, "type", json_object_new_string(token_type_to_string(t->type))) < 0 ||
            json_object_object_add(o, "id", json_object_new_string(t->id)) < 0 ||
            json_object_object_add(o, "device", json_object_new_string(t->device)) < 0 ||
            json_object_object_add(o, "subject", t->subject ? json_object_new_string(t->subject) : NULL) <
                    0 ||
            json_object_object_add(o, t->type == TOKEN_GRANT ? "roles" : "features",
                                   json_object_new_string(list)) < 0 ||
            json_object_object_add(o, "notBefore", json_object_new_uint64(t->not_before)) < 0 ||
            json_object_object_add(o, "notAfter", json_object_new_uint64(t->not_after)) < 0 ||
            json_object_object_add(o, "signatureVerified", json_object_new_boolean(verified)) < 0) {
                json_object_put(o);
                return log_oom();
        }
        return json_print(o, stdout) < 0 ? log_oom() : 0;
}

/* "check FILE [SIG] [--trust DIR]": parses a token locally with the daemon's
 * parser and, given SIG, verifies it as the daemon would. */
static int token_check_file(TokenType type, int argc, char *argv[]) {
        _cleanup_(freep) char *data = NULL;
        _cleanup_(token_freep) Token *t = NULL;
        _cleanup_(freep) char *list = NULL;
        const char *file = argv[1], *sig_file = argc > 2 ? argv[2] : NULL;
        char nb[32], na[32];
        ParseError e = {};
        size_t len;
        int r;

        if (arg_trust && !sig_file)
                return verb_usage_error("--trust needs a signature to check");
        r = read_full_file(file, TOKEN_FILE_MAX, &data, &len);
        if (r < 0)
                return log_error_errno(r, "Cannot read %s: %m", file);
        r = token_parse(data, len, type, &t, &e);
        if (r < 0) {
                log_error("%s:%u: %s", file, e.line, e.message);
                return r == -EINVAL ? -EBADMSG : r;
        }
        if (sig_file) {
                _cleanup_(freep) char *trust = NULL;

                r = ctl_trust_directory(&trust);
                if (r >= 0)
                        r = token_check_signature(type, file, data, len, sig_file, trust);
                if (r < 0)
                        return r;
        }
        list = words_join(type == TOKEN_GRANT ? t->roles : t->features);
        if (!list)
                return log_oom();
        if (arg_json)
                return token_print_json(t, list, sig_file != NULL);
        printf("%s: OK%s: %s '%s' for device %s%s%s, %s: %s, valid %s to %s\n", file,
               sig_file ? " (signature verified)" : "", token_type_to_string(t->type), t->id, t->device,
               t->subject ? ", subject " : "", strempty(t->subject),
               type == TOKEN_GRANT ? "roles" : "features", list,
               format_iso8601(nb, sizeof(nb), t->not_before), format_iso8601(na, sizeof(na), t->not_after));
        return 0;
}

int verb_grant_list(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        sd_bus *bus = userdata;
        const char *id, *subject, *roles;
        uint64_t nb, na;
        int r;

        r = ctl_call(bus, ENDPOINTD_IFACE_POLICY, "ListGrants", &reply, "list grants", NULL);
        if (r != 0)
                return r;
        t = table_new(false, "Id", "Subject", "Roles", "Not before", "Not after");
        if (!t)
                return log_oom();
        r = sd_bus_message_enter_container(reply, 'a', "(ssstt)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ssstt)", &id, &subject, &roles, &nb, &na)) > 0)
                if (table_add(t, CELL_STRING, id) < 0 || table_add(t, CELL_STRING, subject) < 0 ||
                    table_add(t, CELL_STRING, roles) < 0 || table_add(t, CELL_TIMESTAMP, nb) < 0 ||
                    table_add(t, CELL_TIMESTAMP, na) < 0)
                        return log_oom();
        if (r < 0)
                return parse_failed("ListGrants", r);
        r = table_print(t, arg_json, stdout);
        return r < 0 ? log_oom() : 0;
}

int verb_grant_install(int argc, char *argv[], void *userdata) {
        return token_install(userdata, TOKEN_GRANT, argv[1], argv[2]);
}

int verb_grant_check(int argc, char *argv[], void *userdata) {
        return token_check_file(TOKEN_GRANT, argc, argv);
}

int verb_grant_revoke(int argc, char *argv[], void *userdata) {
        _cleanup_(freep) char *sentence = NULL;
        json_object *o;
        int r;

        r = ctl_call(userdata, ENDPOINTD_IFACE_POLICY, "RevokeGrant", NULL, "revoke the grant", "s",
                     argv[1]);
        if (r != 0)
                return r;
        o = json_string_object("id", argv[1]);
        if (!o || json_object_object_add(o, "revoked", json_object_new_boolean(true)) < 0 ||
            asprintf(&sentence, "Grant '%s' revoked.", argv[1]) < 0) {
                json_object_put(o);
                return log_oom();
        }
        return print_done(o, sentence);
}

int verb_licence_list(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        sd_bus *bus = userdata;
        int r;

        r = ctl_call(bus, ENDPOINTD_IFACE_POLICY, "ListLicences", &reply, "list licences", NULL);
        if (r != 0)
                return r;
        t = table_new(false, "Id", "Features", "Not before", "Not after");
        if (!t)
                return log_oom();
        r = sd_bus_message_enter_container(reply, 'a', "(sastt)");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'r', "sastt")) > 0) {
                _cleanup_(words_freep) char **features = NULL;
                _cleanup_(freep) char *joined = NULL;
                const char *id;
                uint64_t nb, na;

                r = sd_bus_message_read(reply, "s", &id);
                if (r >= 0)
                        r = sd_bus_message_read_strv(reply, &features);
                if (r >= 0)
                        r = sd_bus_message_read(reply, "tt", &nb, &na);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        break;
                joined = words_join(features);
                if (!joined || table_add(t, CELL_STRING, id) < 0 || table_add(t, CELL_STRING, joined) < 0 ||
                    table_add(t, CELL_TIMESTAMP, nb) < 0 || table_add(t, CELL_TIMESTAMP, na) < 0)
                        return log_oom();
        }
        if (r < 0)
                return parse_failed("ListLicences", r);
        r = table_print(t, arg_json, stdout);
        return r < 0 ? log_oom() : 0;
}

int verb_licence_check(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        const char *feature = argv[1];
        sd_bus *bus = userdata;
        uint64_t expires;
        int enabled, r;

        r = ctl_call(bus, ENDPOINTD_IFACE_POLICY, "CheckFeature", &reply, "check the feature", "s", feature);
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "bt", &enabled, &expires);
        if (r < 0)
                return parse_failed("CheckFeature", r);
        t = table_new(true, "Field", "Value");
        if (!t || table_add(t, CELL_STRING, arg_json ? "feature" : "Feature") < 0 ||
            table_add(t, CELL_STRING, feature) < 0 ||
            table_add(t, CELL_STRING, arg_json ? "enabled" : "Enabled") < 0 ||
            table_add(t, CELL_BOOLEAN, enabled) < 0 ||
            table_set_color(t, enabled ? TABLE_COLOR_GOOD : TABLE_COLOR_WARN) < 0 ||
            table_add(t, CELL_STRING, arg_json ? "expires" : "Expires") < 0 ||
            table_add(t, CELL_TIMESTAMP, expires) < 0)
                return log_oom();
        r = table_print(t, arg_json, stdout);
        if (r < 0)
                return log_oom();
        /* Not enabled is an answer, already printed: exit 1, no message. */
        return enabled ? 0 : -ENOPKG;
}

int verb_licence_install(int argc, char *argv[], void *userdata) {
        return token_install(userdata, TOKEN_LICENCE, argv[1], argv[2]);
}

int verb_licence_verify(int argc, char *argv[], void *userdata) {
        return token_check_file(TOKEN_LICENCE, argc, argv);
}
