/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "config.h"
#include "ctl-bus.h"
#include "ctl.h"
#include "log.h"
#include "pager.h"
#include "util.h"

JsonFormat arg_json = JSON_OFF;
bool arg_no_progress = false;
bool arg_quiet = false;
bool arg_full = false;
bool arg_legend = true;
bool arg_utc = false;
const char *arg_config = NULL;

uint32_t arg_pcr_mask = 0;
bool arg_pcrs_set = false;
bool arg_exportable = false;
const char *arg_aad = NULL;
const char *arg_nonce = NULL;
const char *arg_output = NULL;
uint64_t arg_serial = 0;
const char *arg_product = NULL;
const char *arg_release_version = NULL;
const char *arg_trust = NULL;
bool arg_policy_signed = false;
char **arg_ignore = NULL;
const char *arg_audit_dir = NULL;
const char *arg_device_key = NULL;
uint64_t arg_counter = 0;
bool arg_counter_set = false;
usec_t arg_since = 0;
const char *arg_kind = NULL;
bool arg_follow = false;

static bool arg_help = false;
static bool arg_no_pager = false;
static bool arg_show_version = false;

/* Options that only some verbs take. One getopt_long pass reads them all
 * wherever they are on the line; the verb table says which verb takes
 * which, checked once the verb is known. */
typedef enum VerbOption {
        OPT_PCRS = 1U << 0,
        OPT_EXPORTABLE = 1U << 1,
        OPT_AAD = 1U << 2,
        OPT_NONCE = 1U << 3,
        OPT_OUTPUT = 1U << 4,
        OPT_SERIAL = 1U << 5,
        OPT_PRODUCT = 1U << 6,
        OPT_VERSION = 1U << 7,
        OPT_IGNORE = 1U << 8,
        OPT_TRUST = 1U << 9,
        OPT_POLICY = 1U << 10,
        OPT_DIR = 1U << 11,
        OPT_DEVICE_KEY = 1U << 12,
        OPT_COUNTER = 1U << 13,
        OPT_SINCE = 1U << 14,
        OPT_KIND = 1U << 15,
        OPT_FOLLOW = 1U << 16,
        _OPT_COUNT = 17,
} VerbOption;

static const char *const verb_option_names[_OPT_COUNT] = {
        "--pcrs",       "--exportable", "--aad",    "--nonce", "--output", "--serial",
        "--product",    "--version",    "--ignore", "--trust", "--policy", "--dir",
        "--device-key", "--counter",    "--since",  "--kind",  "--follow",
};

typedef enum VerbFlags {
        VERB_BUS = 1U << 0, /* talks to endpointd: the dispatcher connects and passes the sd_bus */
        /* With VERB_BUS: the verb first checks local input (a file, a
         * permission name) and connects itself, so that a usage mistake is
         * reported even with the daemon down. */
        VERB_BUS_LATE = 1U << 1,
        VERB_DEFAULT = 1U << 2, /* run when no verb is given */
        VERB_PAGER = 1U << 3, /* output may be long: through the pager on a terminal */
} VerbFlags;

typedef struct Verb {
        const char *name; /* one word, or "group verb" */
        const char *args; /* usage after the name: arguments and verb options */
        unsigned min_args;
        unsigned max_args;
        VerbFlags flags;
        unsigned options; /* VerbOption bits it takes */
        VerbFunction run;
        const char *help; /* one line, as in endpointctl(1) */
} Verb;

/* Every verb, in the order --help and endpointctl(1) list them. */
static const Verb verbs[] = {
        { "status", "", 0, 0, VERB_PAGER | VERB_BUS | VERB_DEFAULT, 0, verb_status,
          "Show the daemon's status (the default)" },
        { "device-id", "", 0, 0, VERB_BUS, 0, verb_device_id, "Print the TPM-rooted device ID" },
        { "device-key", "", 0, 0, VERB_BUS, 0, verb_device_key, "Print the device public key (PEM)" },
        { "device-csr", "[--output=FILE]", 0, 0, VERB_BUS, OPT_OUTPUT, verb_device_csr,
          "Print a PKCS#10 request signed by the TPM device key" },
        { "device-ek", "[--output=FILE]", 0, 0, VERB_BUS, OPT_OUTPUT, verb_device_ek,
          "Print the TPM's endorsement public key (PEM)" },
        { "device-ak", "[--output=FILE]", 0, 0, VERB_BUS, OPT_OUTPUT, verb_device_ak,
          "Print the attestation key (PEM), or write its TPM2B_PUBLIC" },
        { "activate-credential", "FILE [--output=FILE]", 1, 1, VERB_BUS | VERB_BUS_LATE, OPT_OUTPUT,
          verb_activate_credential, "Recover a verifier's secret from a tpm2_makecredential file" },
        { "key create", "NAME [--pcrs=LIST] [--exportable] [--policy=signed]", 1, 1, VERB_BUS,
          OPT_PCRS | OPT_EXPORTABLE | OPT_POLICY, verb_key_create, "Create a data key sealed to the TPM" },
        { "key list", "", 0, 0, VERB_PAGER | VERB_BUS, 0, verb_key_list,
          "List sealed secrets and data keys" },
        { "key delete", "NAME", 1, 1, VERB_BUS, 0, verb_key_delete, "Delete a key or sealed secret" },
        { "encrypt", "NAME [--aad=STRING]", 1, 1, VERB_BUS, OPT_AAD, verb_encrypt,
          "Encrypt standard input with a data key" },
        { "decrypt", "NAME [--aad=STRING]", 1, 1, VERB_BUS, OPT_AAD, verb_decrypt,
          "Decrypt standard input with a data key" },
        { "seal", "NAME [--pcrs=LIST] [--policy=signed]", 1, 1, VERB_BUS, OPT_PCRS | OPT_POLICY, verb_seal,
          "Seal the secret on standard input to the TPM" },
        { "unseal", "NAME", 1, 1, VERB_BUS, 0, verb_unseal, "Print a sealed secret" },
        { "sign", "", 0, 0, VERB_BUS, 0, verb_sign, "Sign standard input with the device key" },
        { "attest", "--nonce=HEX [--pcrs=LIST] [--output=DIR]", 0, 0, VERB_BUS,
          OPT_NONCE | OPT_PCRS | OPT_OUTPUT, verb_attest, "Have the TPM quote PCRs" },
        { "approval make", "VERSION PCR=HEX... [--output=FILE]", 2, 1 + 24, 0, OPT_OUTPUT,
          verb_approval_make, "Write an unsigned PCR approval of expected PCR values" },
        { "approval install", "FILE SIG", 2, 2, VERB_BUS | VERB_BUS_LATE, 0, verb_approval_install,
          "Install a signed PCR approval" },
        { "scan", "", 0, 0, VERB_BUS, 0, verb_scan, "Verify the tree against the manifest now" },
        { "violations", "[--follow]", 0, 0, VERB_PAGER | VERB_BUS, OPT_FOLLOW, verb_violations,
          "List the integrity violations (and follow new ones)" },
        { "verify", "PATH", 1, 1, VERB_BUS, 0, verb_verify, "Check one file against the manifest" },
        { "measurements", "", 0, 0, VERB_PAGER | VERB_BUS, 0, verb_measurements,
          "Show the PCR measurement log" },
        { "manifest create",
          "DIR [--serial=N] [--product=P] [--version=V] [--ignore=SUBDIR]... [--output=FILE]", 1, 1, 0,
          OPT_SERIAL | OPT_PRODUCT | OPT_VERSION | OPT_IGNORE | OPT_OUTPUT, verb_manifest_create,
          "Write a manifest of a directory tree" },
        { "manifest install", "FILE SIG", 2, 2, VERB_BUS | VERB_BUS_LATE, 0, verb_manifest_install,
          "Install a signed manifest" },
        { "manifest show", "[FILE]", 0, 1, VERB_PAGER | VERB_BUS | VERB_BUS_LATE, 0, verb_manifest_show,
          "Show the installed manifest, or FILE without the daemon" },
        { "manifest check", "FILE [SIG] [--trust=DIR]", 1, 2, 0, OPT_TRUST, verb_manifest_check,
          "Parse a manifest and verify its signature" },
        { "policy show", "", 0, 0, VERB_PAGER | VERB_BUS, 0, verb_policy_show,
          "Show the access policy in force" },
        { "policy check", "PERMISSION", 1, 1, VERB_BUS | VERB_BUS_LATE, 0, verb_policy_check,
          "Whether the caller holds a permission" },
        { "policy reload", "", 0, 0, VERB_BUS, 0, verb_policy_reload, "Re-read the policy file" },
        { "policy verify", "[FILE]", 0, 1, 0, 0, verb_policy_verify,
          "Parse a policy file (the configured one by default) locally" },
        { "grant install", "FILE SIG", 2, 2, VERB_BUS, 0, verb_grant_install,
          "Install a signed maintenance grant" },
        { "grant list", "", 0, 0, VERB_PAGER | VERB_BUS, 0, verb_grant_list, "List the installed grants" },
        { "grant revoke", "ID", 1, 1, VERB_BUS, 0, verb_grant_revoke, "Remove a grant for good" },
        { "grant check", "FILE [SIG] [--trust=DIR]", 1, 2, 0, OPT_TRUST, verb_grant_check,
          "Parse and verify a grant locally" },
        { "licence install", "FILE SIG", 2, 2, VERB_BUS, 0, verb_licence_install,
          "Install a signed licence" },
        { "licence list", "", 0, 0, VERB_PAGER | VERB_BUS, 0, verb_licence_list,
          "List the installed licences" },
        { "licence check", "FEATURE", 1, 1, VERB_BUS, 0, verb_licence_check,
          "Whether a licence enables a feature" },
        { "licence verify", "FILE [SIG] [--trust=DIR]", 1, 2, 0, OPT_TRUST, verb_licence_verify,
          "Parse and verify a licence locally" },
        { "audit verify", "[--dir=DIR] [--device-key=PEM] [--counter=N]", 0, 0, 0,
          OPT_DIR | OPT_DEVICE_KEY | OPT_COUNTER, verb_audit_verify,
          "Verify the audit log offline: chain, checkpoints, counter" },
        { "audit show", "[--since=TIME] [--kind=KIND] [--follow]", 0, 0, VERB_PAGER | VERB_BUS,
          OPT_SINCE | OPT_KIND | OPT_FOLLOW, verb_audit_show, "Show the audit log (and follow it)" },
        { "monitor", "", 0, 0, VERB_BUS, 0, verb_monitor,
          "Print every event the caller may see as it happens" },
};

/* The verb being run, for verb_usage_error(). */
static const Verb *current_verb = NULL;

static size_t verb_words(const Verb *v) {
        return strchr(v->name, ' ') ? 2 : 1;
}

/* Whether word is the first word of a two-word verb ("key"). */
static bool is_group(const char *word) {
        size_t n = strlen(word);

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strncmp(verbs[i].name, word, n) == 0 && verbs[i].name[n] == ' ')
                        return true;
        return false;
}

static void print_usage_line(FILE *f, const Verb *v) {
        fprintf(f, "%s%s%s", v->name, isempty(v->args) ? "" : " ", v->args);
}

static void help_verb_list(const char *group) {
        size_t n = group ? strlen(group) : 0;

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                const Verb *v = verbs + i;
                int len;

                if (group && (strncmp(v->name, group, n) != 0 || v->name[n] != ' '))
                        continue;
                len = (int) (strlen(v->name) + (isempty(v->args) ? 0 : 1 + strlen(v->args)));
                printf("  ");
                print_usage_line(stdout, v);
                /* Long synopses put their description on a line of its own. */
                if (len <= 34)
                        printf("%*s%s\n", 36 - len, "", v->help);
                else
                        printf("\n%38s%s\n", "", v->help);
        }
}

static void help(void) {
        printf("Usage: %s [OPTIONS...] [VERB [ARGS...]]\n\n"
               "Administer endpointd, the endpoint protection daemon. Options may go anywhere\n"
               "on the line; '--' ends them. Without a verb, shows the status.\n\nVerbs:\n",
               program_invocation_short_name);
        help_verb_list(NULL);
        printf("\nOptions:\n"
               "  -j                        Same as --json=pretty on a terminal, --json=short otherwise\n"
               "     --json=MODE            Print JSON: pretty, short or off\n"
               "  -q --quiet                Print nothing on success (errors still go to stderr)\n"
               "  -l --full                 Do not shorten digests or ellipsize table cells\n"
               "     --no-legend            Do not print the column headers\n"
               "     --utc                  Show times in UTC instead of local time\n"
               "     --no-progress          Do not show progress bars\n"
               "     --no-pager             Do not pipe long output into a pager\n"
               "     --config=FILE          Read FILE (and FILE.d/) instead of " CONFIG_FILE_DEFAULT "\n"
               "  -h --help                 Show this help, or a verb's with VERB --help\n"
               "     --version              Show the version and exit\n\n"
               "Exit status: 0 success, 1 failure, 2 usage error, 3 daemon not reachable,\n"
               "4 access denied, 5 integrity violations found. See endpointctl(1).\n");
}

static void help_of_verb(const Verb *v) {
        printf("Usage: %s ", program_invocation_short_name);
        print_usage_line(stdout, v);
        printf("\n\n%s.\n", v->help);
        printf("%s\nSee endpointctl(1) for details and the global options.\n",
               v->flags & VERB_BUS ? "Asks endpointd over the system bus." : "Needs no daemon.");
}

static void help_of_group(const char *group) {
        printf("Usage: %s [OPTIONS...] %s VERB [ARGS...]\n\nVerbs:\n", program_invocation_short_name, group);
        help_verb_list(group);
        printf("\nSee endpointctl(1) for details and the global options.\n");
}

int verb_usage_error(const char *format, ...) {
        char buf[512];
        va_list ap;

        va_start(ap, format);
        (void) vsnprintf(buf, sizeof(buf), format, ap);
        va_end(ap);
        if (current_verb)
                log_error("%s; usage: %s %s%s%s", buf, program_invocation_short_name, current_verb->name,
                          isempty(current_verb->args) ? "" : " ", current_verb->args);
        else
                log_error("%s.", buf);
        return -EINVAL;
}

/* The candidate nearest to word, if near enough to be a typo. */
static const char *nearest(const char *word, const char *const *candidates, size_t n) {
        const char *best = NULL;
        size_t best_d = SIZE_MAX, len = strlen(word);

        for (size_t i = 0; i < n; i++) {
                size_t d = string_distance(word, candidates[i]);
                if (d < best_d) {
                        best_d = d;
                        best = candidates[i];
                }
        }
        /* One edit in a short word, two in a longer one. */
        return best && best_d <= (len <= 4 ? 1U : 2U) && best_d < len ? best : NULL;
}

/* Reports a word that is no verb: "Unknown verb 'lst'; did you mean 'list'?" */
static int unknown_verb(const char *group, const char *word) {
        const char *names[ELEMENTSOF(verbs)];
        size_t n = 0, gl = group ? strlen(group) : 0;
        const char *hint;

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                const char *name = verbs[i].name, *sp = strchr(name, ' ');
                static char first[ELEMENTSOF(verbs)][32];

                if (group) {
                        if (strncmp(name, group, gl) == 0 && name[gl] == ' ')
                                names[n++] = name + gl + 1;
                } else {
                        (void) snprintf(first[i], sizeof(first[i]), "%.*s",
                                        (int) (sp ? (size_t) (sp - name) : strlen(name)), name);
                        names[n++] = first[i];
                }
        }
        hint = nearest(word, names, n);
        if (hint)
                log_error("Unknown verb '%s'; did you mean '%s'?", word, hint);
        else if (group)
                log_error("Unknown verb '%s' for '%s'; see '%s %s --help'.", word, group,
                          program_invocation_short_name, group);
        else
                log_error("Unknown verb '%s'; see --help.", word);
        return -EINVAL;
}

/* "key" alone: "'key' needs a verb: create, list or delete." */
static int missing_sub_verb(const char *group) {
        char list[256] = "";
        size_t gl = strlen(group), count = 0, k = 0;

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strncmp(verbs[i].name, group, gl) == 0 && verbs[i].name[gl] == ' ')
                        count++;
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strncmp(verbs[i].name, group, gl) == 0 && verbs[i].name[gl] == ' ') {
                        k++;
                        (void) snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
                                        k == 1       ? ""
                                        : k == count ? " or "
                                                     : ", ",
                                        verbs[i].name + gl + 1);
                }
        log_error("'%s' needs a verb: %s; see '%s %s --help'.", group, list, program_invocation_short_name,
                  group);
        return -EINVAL;
}

/* Finds the verb that argv starts with and how many words it took. With
 * no argv, the default verb. Prints a usage error and returns -EINVAL when
 * there is none; returns 0 with *ret NULL for a bare group name ("key"). */
static int verb_find(int argc, char *argv[], const Verb **ret, size_t *ret_words) {
        *ret = NULL;
        *ret_words = 0;
        if (argc == 0) {
                for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                        if (verbs[i].flags & VERB_DEFAULT)
                                *ret = verbs + i;
                return 0;
        }
        if (is_group(argv[0])) {
                size_t gl = strlen(argv[0]);

                if (argc < 2)
                        return 0;
                for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                        if (strncmp(verbs[i].name, argv[0], gl) == 0 && verbs[i].name[gl] == ' ' &&
                            streq(verbs[i].name + gl + 1, argv[1])) {
                                *ret = verbs + i;
                                *ret_words = 2;
                                return 0;
                        }
                return unknown_verb(argv[0], argv[1]);
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (verb_words(verbs + i) == 1 && streq(verbs[i].name, argv[0])) {
                        *ret = verbs + i;
                        *ret_words = 1;
                        return 0;
                }
        return unknown_verb(NULL, argv[0]);
}

static int unknown_option(const char *arg, const struct option *options) {
        const char *names[32];
        size_t n = 0;
        _cleanup_(freep) char *word = strndup(arg, strcspn(arg, "="));
        const char *hint;

        if (!word)
                return log_oom();
        for (const struct option *o = options; o->name && n < ELEMENTSOF(names); o++) {
                static char buf[32][32];
                (void) snprintf(buf[n], sizeof(buf[n]), "--%s", o->name);
                names[n] = buf[n];
                n++;
        }
        hint = word[0] == '-' && word[1] == '-' ? nearest(word, names, n) : NULL;
        if (hint)
                log_error("Unknown option '%s'; did you mean '%s'?", word, hint);
        else
                log_error("Unknown option '%s'; see --help.", word);
        return -EINVAL;
}

static int parse_json_mode(const char *s) {
        if (!s)
                arg_json = isatty(STDOUT_FILENO) ? JSON_PRETTY : JSON_SHORT;
        else if (streq(s, "pretty"))
                arg_json = JSON_PRETTY;
        else if (streq(s, "short"))
                arg_json = JSON_SHORT;
        else if (streq(s, "off"))
                arg_json = JSON_OFF;
        else {
                log_error("Invalid --json mode '%s'; expected pretty, short or off.", s);
                return -EINVAL;
        }
        return 0;
}

static int add_ignore_arg(const char *arg) {
        size_t n = 0;
        char **l;

        while (arg_ignore && arg_ignore[n])
                n++;
        l = reallocarray(arg_ignore, n + 2, sizeof(char *));
        if (!l)
                return log_oom();
        l[n] = (char *) arg;
        l[n + 1] = NULL;
        arg_ignore = l;
        return 0;
}

/* One pass over all options, permuting so that they may follow the verb.
 * Sets *ret_given to the VerbOption bits seen. "--version" is the only name
 * shared by a global option (print the version) and a verb option
 * ("manifest create --version V"): without "=V" its value, if any, is the
 * next argument, resolved in run() once the verb is known. */
static int parse_argv(int argc, char *argv[], unsigned *ret_given, char **ret_version_next) {
        enum {
                ARG_VERSION = 0x100,
                ARG_JSON,
                ARG_NO_PROGRESS,
                ARG_NO_LEGEND,
                ARG_UTC,
                ARG_PCRS,
                ARG_EXPORTABLE,
                ARG_AAD,
                ARG_NONCE,
                ARG_OUTPUT,
                ARG_SERIAL,
                ARG_PRODUCT,
                ARG_IGNORE,
                ARG_TRUST,
                ARG_DIR,
                ARG_DEVICE_KEY,
                ARG_COUNTER,
                ARG_CONFIG,
                ARG_NO_PAGER,
                ARG_POLICY,
                ARG_SINCE,
                ARG_KIND,
                ARG_FOLLOW,
        };
        static const struct option options[] = { { "json", optional_argument, NULL, ARG_JSON },
                                                 { "no-progress", no_argument, NULL, ARG_NO_PROGRESS },
                                                 { "quiet", no_argument, NULL, 'q' },
                                                 { "full", no_argument, NULL, 'l' },
                                                 { "no-legend", no_argument, NULL, ARG_NO_LEGEND },
                                                 { "utc", no_argument, NULL, ARG_UTC },
                                                 { "help", no_argument, NULL, 'h' },
                                                 { "version", optional_argument, NULL, ARG_VERSION },
                                                 { "pcrs", required_argument, NULL, ARG_PCRS },
                                                 { "exportable", no_argument, NULL, ARG_EXPORTABLE },
                                                 { "aad", required_argument, NULL, ARG_AAD },
                                                 { "nonce", required_argument, NULL, ARG_NONCE },
                                                 { "output", required_argument, NULL, ARG_OUTPUT },
                                                 { "serial", required_argument, NULL, ARG_SERIAL },
                                                 { "product", required_argument, NULL, ARG_PRODUCT },
                                                 { "ignore", required_argument, NULL, ARG_IGNORE },
                                                 { "trust", required_argument, NULL, ARG_TRUST },
                                                 { "dir", required_argument, NULL, ARG_DIR },
                                                 { "device-key", required_argument, NULL, ARG_DEVICE_KEY },
                                                 { "counter", required_argument, NULL, ARG_COUNTER },
                                                 { "config", required_argument, NULL, ARG_CONFIG },
                                                 { "no-pager", no_argument, NULL, ARG_NO_PAGER },
                                                 { "policy", required_argument, NULL, ARG_POLICY },
                                                 { "since", required_argument, NULL, ARG_SINCE },
                                                 { "kind", required_argument, NULL, ARG_KIND },
                                                 { "follow", no_argument, NULL, ARG_FOLLOW },
                                                 {} };
        unsigned given = 0;
        int c, r;

        *ret_version_next = NULL;
        opterr = 0;
        /* ':' first: a missing value is reported as ':' apart from unknown options. */
        while ((c = getopt_long(argc, argv, ":jqlh", options, NULL)) >= 0)
                switch (c) {
                case 'j':
                        r = parse_json_mode(NULL);
                        if (r < 0)
                                return r;
                        break;
                case ARG_JSON:
                        r = parse_json_mode(optarg);
                        if (r < 0)
                                return r;
                        break;
                case ARG_NO_PROGRESS:
                        arg_no_progress = true;
                        break;
                case 'q':
                        arg_quiet = true;
                        break;
                case 'l':
                        arg_full = true;
                        break;
                case ARG_NO_LEGEND:
                        arg_legend = false;
                        break;
                case ARG_UTC:
                        arg_utc = true;
                        break;
                case 'h':
                        arg_help = true;
                        break;
                case ARG_VERSION:
                        if (optarg) {
                                arg_release_version = optarg;
                                given |= OPT_VERSION;
                        } else {
                                arg_show_version = true;
                                *ret_version_next = optind < argc ? argv[optind] : NULL;
                        }
                        break;
                case ARG_PCRS:
                        if (parse_pcr_list(optarg, &arg_pcr_mask) < 0) {
                                log_error("Invalid --pcrs '%s': use indices 0-23 like 0,7 or 0-7.", optarg);
                                return -EINVAL;
                        }
                        arg_pcrs_set = true;
                        given |= OPT_PCRS;
                        break;
                case ARG_EXPORTABLE:
                        arg_exportable = true;
                        given |= OPT_EXPORTABLE;
                        break;
                case ARG_AAD:
                        arg_aad = optarg;
                        given |= OPT_AAD;
                        break;
                case ARG_NONCE:
                        arg_nonce = optarg;
                        given |= OPT_NONCE;
                        break;
                case ARG_OUTPUT:
                        arg_output = optarg;
                        given |= OPT_OUTPUT;
                        break;
                case ARG_SERIAL:
                        if (parse_uint64(optarg, UINT64_MAX, &arg_serial) < 0 || arg_serial == 0) {
                                log_error("Invalid --serial '%s', expected a number from 1.", optarg);
                                return -EINVAL;
                        }
                        given |= OPT_SERIAL;
                        break;
                case ARG_PRODUCT:
                        arg_product = optarg;
                        given |= OPT_PRODUCT;
                        break;
                case ARG_IGNORE:
                        r = add_ignore_arg(optarg);
                        if (r < 0)
                                return r;
                        given |= OPT_IGNORE;
                        break;
                case ARG_TRUST:
                        arg_trust = optarg;
                        given |= OPT_TRUST;
                        break;
                case ARG_DIR:
                        arg_audit_dir = optarg;
                        given |= OPT_DIR;
                        break;
                case ARG_DEVICE_KEY:
                        arg_device_key = optarg;
                        given |= OPT_DEVICE_KEY;
                        break;
                case ARG_COUNTER:
                        if (parse_uint64(optarg, UINT64_MAX, &arg_counter) < 0) {
                                log_error("Invalid --counter '%s', expected the NV counter's value.",
                                          optarg);
                                return -EINVAL;
                        }
                        arg_counter_set = true;
                        given |= OPT_COUNTER;
                        break;
                case ARG_CONFIG:
                        arg_config = optarg;
                        break;
                case ARG_NO_PAGER:
                        arg_no_pager = true;
                        break;
                case ARG_POLICY:
                        if (!streq(optarg, "pcr") && !streq(optarg, "signed")) {
                                log_error("Invalid --policy '%s': expected pcr or signed.", optarg);
                                return -EINVAL;
                        }
                        arg_policy_signed = streq(optarg, "signed");
                        given |= OPT_POLICY;
                        break;
                case ARG_SINCE:
                        if (parse_since(optarg, &arg_since) < 0) {
                                log_error("Invalid --since '%s': use YYYY-MM-DD [HH:MM[:SS]], @SECONDS or "
                                          "-SPAN (e.g. -1h).",
                                          optarg);
                                return -EINVAL;
                        }
                        given |= OPT_SINCE;
                        break;
                case ARG_KIND:
                        arg_kind = optarg;
                        given |= OPT_KIND;
                        break;
                case ARG_FOLLOW:
                        arg_follow = true;
                        given |= OPT_FOLLOW;
                        break;
                case ':':
                        log_error("Option '%s' needs a value.", argv[optind - 1]);
                        return -EINVAL;
                case '?':
                        if (optopt > 0 && optopt < 0x100) {
                                char s[3] = { '-', (char) optopt, 0 };
                                return unknown_option(s, options);
                        }
                        return unknown_option(argv[optind - 1], options);
                default:
                        return -EINVAL;
                }
        *ret_given = given;
        return 0;
}

/* Checks the argument count and the verb options; one line on a mistake. */
static int verb_check(const Verb *v, int argc, char *argv[], unsigned given) {
        unsigned n = (unsigned) argc;

        if (n < v->min_args)
                return verb_usage_error("Missing argument for '%s'", v->name);
        if (n > v->max_args)
                return verb_usage_error("Unexpected argument '%s' for '%s'", argv[v->max_args], v->name);
        for (unsigned bit = 0; bit < _OPT_COUNT; bit++) {
                char takers[256] = "";

                if (!(given & (1U << bit)) || (v->options & (1U << bit)))
                        continue;
                for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                        if (verbs[i].options & (1U << bit))
                                (void) snprintf(takers + strlen(takers), sizeof(takers) - strlen(takers),
                                                "%s'%s'", *takers ? ", " : "", verbs[i].name);
                log_error("Option %s does not apply to '%s'; it goes with %s.", verb_option_names[bit],
                          v->name, takers);
                return -EINVAL;
        }
        return 0;
}

/* "manifest create DIR --version 1.3": takes "1.3" out of the arguments. */
static int take_release_version(int *argc, char *argv[], char *next, unsigned *given) {
        for (int i = 0; next && i < *argc; i++)
                if (argv[i] == next) {
                        arg_release_version = next;
                        memmove(argv + i, argv + i + 1, (size_t) (*argc - i - 1) * sizeof(char *));
                        (*argc)--;
                        *given |= OPT_VERSION;
                        arg_show_version = false;
                        return 0;
                }
        log_error("Option '--version' needs a value with 'manifest create'.");
        return -EINVAL;
}

static int exit_status_from_verb(int r) {
        if (r == VERB_VIOLATIONS)
                return EXIT_VIOLATED;
        if (r >= 0)
                return EXIT_OK;
        switch (r) {
        case -EINVAL:
                return EXIT_USAGE;
        case -EHOSTUNREACH:
                return EXIT_UNREACHABLE;
        case -EACCES:
                return EXIT_DENIED;
        default:
                return EXIT_FAILED;
        }
}

/* -q: nothing at all on standard output, whatever the verb. */
static int silence_stdout(void) {
        int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

        if (fd < 0)
                return log_error_errno(errno, "Cannot open /dev/null: %m");
        if (dup2(fd, STDOUT_FILENO) < 0) {
                int e = errno;
                close(fd);
                return log_error_errno(e, "Cannot redirect standard output: %m");
        }
        close(fd);
        /* Warnings and notices are not errors. */
        if (!getenv("ENDPOINTD_LOG_LEVEL"))
                log_set_max_level(LOG_ERR);
        return 0;
}

static int run(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        char *version_next = NULL, **args;
        const Verb *v = NULL;
        unsigned given = 0;
        size_t words = 0;
        int n, r;

        log_setup("endpointctl");
        /* Before the bus connection exists: no other process of our uid may
         * attach to us (ptrace, pidfd_getfd(), /proc/PID/mem) and act on
         * it. endpointd requires this of callers bound with Unit= (see
         * endpointd-policy(5)). */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return log_error_errno(errno, "Failed to make the process non-dumpable: %m");
        /* Only the character set: numbers and times stay locale-independent. */
        (void) setlocale(LC_CTYPE, "");
        r = parse_argv(argc, argv, &given, &version_next);
        if (r < 0)
                return r;
        args = argv + optind;
        n = argc - optind;
        if (arg_show_version && !arg_help &&
            !(n >= 2 && streq(args[0], "manifest") && streq(args[1], "create"))) {
                printf("endpointctl %s\n", PACKAGE_VERSION);
                return 0;
        }
        r = verb_find(n, args, &v, &words);
        if (r < 0)
                return r;
        if (!v) { /* a group alone */
                if (arg_help) {
                        (void) pager_open(arg_no_pager);
                        help_of_group(args[0]);
                        return 0;
                }
                return missing_sub_verb(args[0]);
        }
        if (arg_help) {
                (void) pager_open(arg_no_pager);
                if (n == 0)
                        help();
                else
                        help_of_verb(v);
                return 0;
        }
        current_verb = v;
        args += words;
        n -= (int) words;
        if (arg_show_version) {
                r = take_release_version(&n, args, version_next, &given);
                if (r < 0)
                        return r;
        }
        r = verb_check(v, n, args, given);
        if (r < 0)
                return r;
        if (arg_quiet) {
                r = silence_stdout();
                if (r < 0)
                        return r;
        }
        /* Before the bus connection: the pager gets no fd of it. Lines
         * that follow the daemon go straight out, as they happen. */
        if ((v->flags & VERB_PAGER) && !arg_follow) {
                r = pager_open(arg_no_pager);
                if (r < 0)
                        return r;
        }
        if ((v->flags & (VERB_BUS | VERB_BUS_LATE)) == VERB_BUS) {
                r = ctl_bus_connect(&bus);
                if (r < 0)
                        return r;
        }
        /* argv[0] is the verb's last word; argv[1] its first argument. */
        return v->run(n + 1, args - 1, bus);
}

int main(int argc, char *argv[]) {
        int r = run(argc, argv);

        pager_close();
        free(arg_ignore);
        return exit_status_from_verb(r);
}
