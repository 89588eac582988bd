/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <malloc.h>
#include <pwd.h>
#include <stdio.h>

#include "config.h"
#include "log.h"
#include "manager.h"

static const char *arg_config = CONFIG_FILE_DEFAULT;
static bool arg_check_config = false;

static void help(void) {
        printf("Usage: %s [OPTIONS]\n\n"
               "The endpoint protection daemon: TPM-rooted keys, software integrity,\n"
               "access policy, served on the system bus as " "org.endpointd.Endpoint1.\n\n"
               "  -c --config=FILE    Read configuration from FILE\n"
               "                      (default: %s)\n"
               "     --check-config   Parse the configuration, report problems and exit\n"
               "  -h --help           Show this help and exit\n"
               "     --version        Show the version and exit\n\n"
               "See endpointd(8) and endpointd.conf(5).\n",
               program_invocation_short_name, CONFIG_FILE_DEFAULT);
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_CHECK_CONFIG };
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "check-config", no_argument, NULL, ARG_CHECK_CONFIG },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "c:h", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        arg_config = optarg;
                        break;
                case ARG_CHECK_CONFIG:
                        arg_check_config = true;
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("endpointd %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        /* getopt_long already printed what was wrong. */
                        return -EINVAL;
                }
        if (optind < argc)
                return log_error_errno(EINVAL, "Unexpected argument '%s'; see --help.", argv[optind]);
        return 1;
}

static void config_warn(const char *file, unsigned line, const char *message, void *userdata) {
        log_warning("%s:%u: %s", file, line, message);
}

static int run(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        _cleanup_(config_freep) Config *config = NULL;
        _cleanup_(freep) char *bad_file = NULL;
        ParseError e = {};
        int r;

        log_setup("endpointd");
        /* glibc raises its mmap threshold to the size of the largest block
         * freed (up to 32 MiB); blocks below it then come from the heap and
         * stay there. One ~30 MiB message, which any local user may send,
         * left the daemon that much larger for good. A fixed threshold keeps
         * every large block (bus message buffers above all) in a mapping of
         * its own that free() returns to the system. */
        (void) mallopt(M_MMAP_THRESHOLD, 128 * 1024);
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r;

        r = config_load(arg_config, 0, config_warn, NULL, &config, &e, &bad_file);
        if (r < 0) {
                if (e.line > 0)
                        return log_error_errno(r, "%s:%u: %s", bad_file ?: arg_config, e.line, e.message);
                return log_error_errno(r, "%s: %s", bad_file ?: arg_config, e.message);
        }
        if (arg_check_config) {
                /* A warning only: a configuration may be checked on the
                 * machine that builds the image, before the user exists. */
                if (!getpwnam(config->user))
                        log_warning("User '%s' (User=) does not exist on this system: the daemon would not "
                                    "start here.", config->user);
                printf("%s: OK\n", arg_config);
                return 0;
        }
        if (!getenv("ENDPOINTD_LOG_LEVEL"))
                log_set_max_level(config->log_level);

        r = manager_new(arg_config, TAKE_PTR(config), &m);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the manager: %m");
        r = manager_startup(m);
        if (r < 0)
                return r;
        return manager_run(m);
}

int main(int argc, char *argv[]) {
        int r = run(argc, argv);
        return r < 0 ? EXIT_FAILURE : r;
}
