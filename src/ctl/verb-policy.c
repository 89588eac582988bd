/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "ctl-bus.h"
#include "ctl.h"
#include "endpointd/bus.h"
#include "fileio.h"
#include "log.h"
#include "policy.h"
#include "signature.h"
#include "table.h"
#include "token.h"

static int usage(const char *group, const char *synopsis) {
        log_error("Usage: endpointctl %s %s", group, synopsis);
        return EXIT_USAGE;
}

static int parse_failed(const char *reply_what, int r) {
        return log_error_errno(r, "Failed to parse the reply to %s: %m", reply_what);
}

/* ---- policy -------------------------------------------------------------- */

static void verify_warn(const char *file, unsigned line, const char *message, void *userdata) {
        log_warning("%s:%u: warning: %s", file, line, message);
}

static int ctl_policy_verify(const char *path) {
        _cleanup_(policy_freep) Policy *p = NULL;
        ParseError e = {};
        int r;

        /* The daemon's own parser, so the verdict is the daemon's. */
        r = policy_load(path, verify_warn, NULL, &p, &e);
        if (r < 0) {
                if (e.line > 0)
                        log_error("%s:%u: %s", path, e.line, e.message);
                else
                        log_error("%s: %s", path, e.message);
                return EXIT_FAILED;
        }
        if (!arg_quiet)
                printf("%s: OK\n", path);
        return EXIT_OK;
}

static int ctl_policy_show(sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        const char *path, *text;
        int r;

        r = ctl_call(bus, ENDPOINTD_IFACE_POLICY, "GetPolicy", &reply, "show the policy", NULL);
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "ss", &path, &text);
        if (r < 0)
                return parse_failed("GetPolicy", r);
        if (!arg_json) {
                fputs(text, stdout);
                return EXIT_OK;
        }
        t = table_new(true, "Field", "Value");
        if (!t || table_add(t, CELL_STRING, "path") < 0 || table_add(t, CELL_STRING, path) < 0 ||
            table_add(t, CELL_STRING, "text") < 0 || table_add(t, CELL_STRING, text) < 0)
                return log_oom();
        r = table_print(t, true, stdout);
        return r < 0 ? r : EXIT_OK;
}

static int ctl_policy_check(sd_bus *bus, const char *perm) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        const char *reason;
        int allowed, r;

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
            table_add(t, CELL_STRING, arg_json ? "reason" : "Reason") < 0 ||
            table_add(t, CELL_STRING, reason) < 0)
                return log_oom();
        if (!arg_quiet) {
                r = table_print(t, arg_json, stdout);
                if (r < 0)
                        return r;
        }
        /* Scripts branch on the exit status: 4 as for any denial. */
        return allowed ? EXIT_OK : EXIT_DENIED;
}

int verb_policy(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *sub = argv[1];
        int r;

        if (streq(sub, "verify"))
                return argc == 3 ? ctl_policy_verify(argv[2]) : usage("policy", "verify FILE");
        if (!streq(sub, "show") && !streq(sub, "check") && !streq(sub, "reload"))
                return usage("policy", "show|check PERMISSION|reload|verify FILE");
        if (argc != (streq(sub, "check") ? 3 : 2))
                return usage("policy", streq(sub, "check") ? "check PERMISSION" : sub);
        r = ctl_bus_connect(&bus);
        if (r < 0)
                return -r;
        if (streq(sub, "show"))
                return ctl_policy_show(bus);
        if (streq(sub, "check"))
                return ctl_policy_check(bus, argv[2]);
        r = ctl_call(bus, ENDPOINTD_IFACE_POLICY, "Reload", NULL, "reload the policy", NULL);
        if (r == 0 && !arg_quiet)
                printf("Access policy reloaded.\n");
        return r;
}

/* ---- grants and licences ------------------------------------------------- */

static int token_install(TokenType type, const char *file, const char *sigfile) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
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
        r = ctl_bus_connect(&bus);
        if (r < 0)
                return -r;
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
        if (!arg_quiet)
                printf("%s\n", id);
        return EXIT_OK;
}

#define TRUST_DIRECTORY_DEFAULT SYSCONFDIR "/endpointd/trust"

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
                return EXIT_FAILED;
        }
        return EXIT_OK;
}

/* "check FILE [SIG] [--trust DIR]": parses a token locally with the daemon's
 * parser and, given SIG, verifies it as the daemon would. */
static int token_check_file(TokenType type, int argc, char *argv[]) {
        _cleanup_(freep) char *data = NULL;
        _cleanup_(token_freep) Token *t = NULL;
        _cleanup_(freep) char *list = NULL;
        const char *file = NULL, *sig_file = NULL, *trust_dir = NULL;
        char nb[32], na[32];
        ParseError e = {};
        size_t len;
        int r;

        for (int i = 2; i < argc; i++) {
                if (streq(argv[i], "--trust") && i + 1 < argc)
                        trust_dir = argv[++i];
                else if (strncmp(argv[i], "--trust=", 8) == 0)
                        trust_dir = argv[i] + 8;
                else if (!file)
                        file = argv[i];
                else if (!sig_file)
                        sig_file = argv[i];
                else {
                        file = NULL; /* one argument too many: usage */
                        break;
                }
        }
        if (!file || (trust_dir && !sig_file))
                return usage(type == TOKEN_GRANT ? "grant" : "licence",
                             type == TOKEN_GRANT ? "check FILE [SIG] [--trust DIR]"
                                                 : "verify FILE [SIG] [--trust DIR]");
        r = read_full_file(file, TOKEN_FILE_MAX, &data, &len);
        if (r < 0)
                return log_error_errno(r, "Cannot read %s: %m", file);
        r = token_parse(data, len, type, &t, &e);
        if (r < 0) {
                log_error("%s:%u: %s", file, e.line, e.message);
                return EXIT_FAILED;
        }
        if (sig_file) {
                r = token_check_signature(type, file, data, len, sig_file,
                                          trust_dir ?: TRUST_DIRECTORY_DEFAULT);
                if (r != EXIT_OK)
                        return r;
        }
        list = words_join(type == TOKEN_GRANT ? t->roles : t->features);
        if (!list)
                return log_oom();
        if (!arg_quiet)
                printf("%s: OK%s: %s '%s' for device %s%s%s, %s: %s, valid %s to %s\n", file,
                       sig_file ? " (signature verified)" : "", token_type_to_string(t->type), t->id,
                       t->device, t->subject ? ", subject " : "", strempty(t->subject),
                       type == TOKEN_GRANT ? "roles" : "features", list,
                       format_iso8601(nb, sizeof(nb), t->not_before),
                       format_iso8601(na, sizeof(na), t->not_after));
        return EXIT_OK;
}

static int grant_list(sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        const char *id, *subject, *roles;
        uint64_t nb, na;
        int r;

        r = ctl_call(bus, ENDPOINTD_IFACE_POLICY, "ListGrants", &reply, "list grants", NULL);
        if (r != 0)
                return r;
        t = table_new(false, "Id", "Subject", "Roles", "NotBefore", "NotAfter");
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
        return r < 0 ? r : EXIT_OK;
}

int verb_grant(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *sub = argv[1];
        int r;

        if (streq(sub, "install"))
                return argc == 4 ? token_install(TOKEN_GRANT, argv[2], argv[3])
                                 : usage("grant", "install FILE SIG");
        if (streq(sub, "check"))
                return token_check_file(TOKEN_GRANT, argc, argv);
        if (streq(sub, "list") && argc != 2)
                return usage("grant", "list");
        if (streq(sub, "revoke") && argc != 3)
                return usage("grant", "revoke ID");
        if (!streq(sub, "list") && !streq(sub, "revoke"))
                return usage("grant", "install FILE SIG|list|revoke ID|check FILE [SIG] [--trust DIR]");
        r = ctl_bus_connect(&bus);
        if (r < 0)
                return -r;
        if (streq(sub, "list"))
                return grant_list(bus);
        r = ctl_call(bus, ENDPOINTD_IFACE_POLICY, "RevokeGrant", NULL, "revoke the grant", "s", argv[2]);
        if (r == 0 && !arg_quiet)
                printf("Grant '%s' revoked.\n", argv[2]);
        return r;
}

static int licence_list(sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        int r;

        r = ctl_call(bus, ENDPOINTD_IFACE_POLICY, "ListLicences", &reply, "list licences", NULL);
        if (r != 0)
                return r;
        t = table_new(false, "Id", "Features", "NotBefore", "NotAfter");
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
        return r < 0 ? r : EXIT_OK;
}

static int licence_check(sd_bus *bus, const char *feature) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
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
            table_add(t, CELL_STRING, arg_json ? "expires" : "Expires") < 0 ||
            table_add(t, CELL_TIMESTAMP, expires) < 0)
                return log_oom();
        if (!arg_quiet) {
                r = table_print(t, arg_json, stdout);
                if (r < 0)
                        return r;
        }
        return enabled ? EXIT_OK : EXIT_FAILED;
}

int verb_licence(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *sub = argv[1];
        int r;

        if (streq(sub, "install"))
                return argc == 4 ? token_install(TOKEN_LICENCE, argv[2], argv[3])
                                 : usage("licence", "install FILE SIG");
        if (streq(sub, "verify"))
                return token_check_file(TOKEN_LICENCE, argc, argv);
        if (streq(sub, "list") && argc != 2)
                return usage("licence", "list");
        if (streq(sub, "check") && argc != 3)
                return usage("licence", "check FEATURE");
        if (!streq(sub, "list") && !streq(sub, "check"))
                return usage("licence",
                             "install FILE SIG|list|check FEATURE|verify FILE [SIG] [--trust DIR]");
        r = ctl_bus_connect(&bus);
        if (r < 0)
                return -r;
        return streq(sub, "list") ? licence_list(bus) : licence_check(bus, argv[2]);
}
