/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"

bool arg_json = false;
bool arg_no_progress = false;
bool arg_quiet = false;

/* Verbs in the order --help lists them. A verb with a sub-verb ("key
 * create") is one entry whose handler dispatches on argv[1]. */
static const struct Verb {
        const char *name;
        unsigned min_args; /* not counting the verb itself */
        unsigned max_args;
        VerbFunction run;
        const char *synopsis;
} verbs[] = {
        { "status", 0, 0, verb_status, "status                  Show the daemon's status" },
        { "device-id", 0, 0, verb_device_id, "device-id               Print the TPM-rooted device id" },
        { "device-key", 0, 0, verb_device_key, "device-key              Print the device public key (PEM)" },
        { "key", 1, 6, verb_key, "key create NAME [--pcrs=LIST] [--exportable] | list | delete NAME" },
        { "encrypt", 1, 3, verb_encrypt, "encrypt NAME [--aad=STR] Encrypt stdin with a data key" },
        { "decrypt", 1, 3, verb_decrypt, "decrypt NAME [--aad=STR] Decrypt stdin with a data key" },
        { "seal", 1, 3, verb_seal, "seal NAME [--pcrs=LIST]  Seal the secret on stdin to the TPM" },
        { "unseal", 1, 1, verb_unseal, "unseal NAME             Print a sealed secret" },
        { "sign", 0, 0, verb_sign, "sign                    Sign stdin with the device key (DER)" },
        { "attest", 2, 6, verb_attest, "attest --nonce=HEX [--pcrs=LIST] --output=DIR  TPM quote" },
        { "scan", 0, 0, verb_scan, "scan                    Verify the tree against the manifest now" },
        { "violations", 0, 0, verb_violations,
          "violations              List the integrity violations found" },
        { "verify", 1, 1, verb_verify, "verify PATH             Check one file against the manifest" },
        { "measurements", 0, 0, verb_measurements, "measurements            Show the PCR measurement log" },
        { "manifest", 1, 16, verb_manifest,
          "manifest create DIR [--serial N] [--product P] [--version V] [--ignore SUBDIR]...\n"
          "                  [--output FILE]\n"
          "                          Write a manifest of a directory tree\n"
          "  manifest install FILE SIG  Install a signed manifest\n"
          "  manifest show [FILE]    Show the installed manifest (or a local file)\n"
          "  manifest check FILE [SIG] [--trust DIR]\n"
          "                          Parse a manifest and verify its signature" },
        { "policy", 1, 2, verb_policy,
          "policy show|check PERMISSION|reload|verify FILE\n"
          "                          Show, query, reload or check the access policy" },
        { "grant", 1, 5, verb_grant,
          "grant install FILE SIG|list|revoke ID|check FILE [SIG] [--trust DIR]\n"
          "                          Manage signed maintenance grants" },
        { "licence", 1, 5, verb_licence,
          "licence install FILE SIG|list|check FEATURE|verify FILE [SIG] [--trust DIR]\n"
          "                          Manage signed device licences" },
};

static void help(void) {
        printf("Usage: %s [OPTIONS] COMMAND ...\n\n"
               "Administer endpointd, the endpoint protection daemon.\n\nCommands:\n",
               program_invocation_short_name);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %s\n", verbs[i].synopsis);
        printf("\nOptions:\n"
               "  -j --json          Print JSON instead of tables\n"
               "     --no-progress   Do not show progress bars\n"
               "  -q --quiet         Print nothing on success\n"
               "  -h --help          Show this help and exit\n"
               "     --version       Show the version and exit\n\n"
               "Exit status: 0 success, 1 failure, 2 usage error, 3 daemon not reachable,\n"
               "4 access denied, 5 integrity violations found. See endpointctl(1).\n");
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_NO_PROGRESS };
        static const struct option options[] = {
                { "json", no_argument, NULL, 'j' },
                { "no-progress", no_argument, NULL, ARG_NO_PROGRESS },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {}
        };
        int c;

        /* "+": options end at the verb, so verbs may have options of their own. */
        while ((c = getopt_long(argc, argv, "+jqh", options, NULL)) >= 0)
                switch (c) {
                case 'j':
                        arg_json = true;
                        break;
                case ARG_NO_PROGRESS:
                        arg_no_progress = true;
                        break;
                case 'q':
                        arg_quiet = true;
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("endpointctl %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        return -EXIT_USAGE;
                }
        return 1;
}

/* The usage part of a synopsis: up to the gap before its description. */
static int synopsis_usage_len(const char *synopsis) {
        const char *gap = strstr(synopsis, "  ");
        return (int) (gap ? (size_t) (gap - synopsis) : strlen(synopsis));
}

static int dispatch(int argc, char *argv[]) {
        const struct Verb *v = NULL;
        unsigned n;

        if (argc <= 0) {
                log_error("No command given; see --help.");
                return EXIT_USAGE;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, argv[0]))
                        v = verbs + i;
        if (!v) {
                log_error("Unknown command '%s'; see --help.", argv[0]);
                return EXIT_USAGE;
        }
        n = (unsigned) argc - 1;
        if (n < v->min_args) {
                log_error("Too few arguments for '%s'; usage: endpointctl %.*s", v->name,
                          synopsis_usage_len(v->synopsis), v->synopsis);
                return EXIT_USAGE;
        }
        if (n > v->max_args) {
                log_error("Too many arguments for '%s'; usage: endpointctl %.*s", v->name,
                          synopsis_usage_len(v->synopsis), v->synopsis);
                return EXIT_USAGE;
        }
        return v->run(argc, argv);
}

static int run(int argc, char *argv[]) {
        int r;

        log_setup("endpointctl");
        /* Before the bus connection exists: no other process of our uid may
         * attach to us (ptrace, pidfd_getfd(), /proc/PID/mem) and act on
         * it. endpointd requires this of callers bound with Unit= (see
         * endpointd-policy(5)). */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return log_error_errno(errno, "Failed to make the process non-dumpable: %m"), EXIT_FAILED;
        r = parse_argv(argc, argv);
        if (r <= 0)
                return -r;
        r = dispatch(argc - optind, argv + optind);
        return r < 0 ? EXIT_FAILED : r;
}

int main(int argc, char *argv[]) {
        return run(argc, argv);
}
