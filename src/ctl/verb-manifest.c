/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "ctl-bus.h"
#include "ctl.h"
#include "endpointd/bus.h"
#include "fileio.h"
#include "log.h"
#include "manifest.h"
#include "mtree-write.h"
#include "signature.h"
#include "table.h"

#define TRUST_DIRECTORY_DEFAULT SYSCONFDIR "/endpointd/trust"
#define IGNORE_MAX 64

/* Options of the manifest sub-verbs. */
typedef struct ManifestArgs {
        uint64_t serial;
        const char *product;
        const char *version;
        const char *output;
        const char *trust;
        char **args; /* positional arguments after the sub-verb */
        int n_args;
        bool create_options; /* any of --serial, --product, --version, --output, --ignore */
        char *ignore[IGNORE_MAX + 1]; /* --ignore paths, normalised, NULL-terminated */
        size_t n_ignore;
} ManifestArgs;

/* Normalises "./var/log/" to "var/log", the form the writer compares. */
static int add_ignore(ManifestArgs *a, const char *arg) {
        const char *p = arg;
        size_t n;

        while (strncmp(p, "./", 2) == 0)
                p += 2;
        n = strlen(p);
        while (n > 0 && p[n - 1] == '/')
                n--;
        if (n == 0 || streq(p, ".") || p[0] == '/' || strstr(p, "//")) {
                log_error("Invalid --ignore '%s', expected a directory below DIR.", arg);
                return -EXIT_USAGE;
        }
        for (const char *c = p; c < p + n;) {
                size_t k = strcspn(c, "/");

                if ((k == 1 && c[0] == '.') || (k == 2 && c[0] == '.' && c[1] == '.')) {
                        log_error("Invalid --ignore '%s': '.' and '..' are not allowed.", arg);
                        return -EXIT_USAGE;
                }
                c += k + 1;
        }
        if (a->n_ignore >= IGNORE_MAX) {
                log_error("At most %d --ignore options.", IGNORE_MAX);
                return -EXIT_USAGE;
        }
        a->ignore[a->n_ignore] = strndup(p, n);
        if (!a->ignore[a->n_ignore]) {
                log_oom();
                return -EXIT_FAILED;
        }
        a->n_ignore++;
        return 0;
}

static void manifest_args_done(ManifestArgs *a) {
        for (size_t i = 0; i < a->n_ignore; i++)
                free(a->ignore[i]);
}

static int parse_manifest_argv(int argc, char *argv[], ManifestArgs *a) {
        enum { ARG_SERIAL = 0x100, ARG_PRODUCT, ARG_VERSION, ARG_OUTPUT, ARG_TRUST, ARG_IGNORE };
        static const struct option options[] = { { "serial", required_argument, NULL, ARG_SERIAL },
                                                 { "product", required_argument, NULL, ARG_PRODUCT },
                                                 { "version", required_argument, NULL, ARG_VERSION },
                                                 { "output", required_argument, NULL, ARG_OUTPUT },
                                                 { "ignore", required_argument, NULL, ARG_IGNORE },
                                                 { "trust", required_argument, NULL, ARG_TRUST },
                                                 {} };
        int c, r;

        /* argv[0] is the sub-verb; 0 makes getopt start afresh. */
        optind = 0;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_SERIAL:
                        a->create_options = true;
                        if (parse_uint64(optarg, UINT64_MAX, &a->serial) < 0 || a->serial == 0) {
                                log_error("Invalid --serial '%s', expected a number from 1.", optarg);
                                return -EXIT_USAGE;
                        }
                        break;
                case ARG_PRODUCT:
                        a->create_options = true;
                        a->product = optarg;
                        break;
                case ARG_VERSION:
                        a->create_options = true;
                        a->version = optarg;
                        break;
                case ARG_IGNORE:
                        a->create_options = true;
                        r = add_ignore(a, optarg);
                        if (r < 0)
                                return r;
                        break;
                case ARG_OUTPUT:
                        a->create_options = true;
                        a->output = optarg;
                        break;
                case ARG_TRUST:
                        a->trust = optarg;
                        break;
                default:
                        return -EXIT_USAGE;
                }
        a->args = argv + optind;
        a->n_args = argc - optind;
        return 0;
}

static int expect_args(const ManifestArgs *a, const char *verb, int min, int max, const char *usage) {
        if (a->n_args < min || a->n_args > max) {
                log_error("%s arguments for 'manifest %s'; usage: endpointctl manifest %s",
                          a->n_args < min ? "Too few" : "Too many", verb, usage);
                return -EXIT_USAGE;
        }
        return 0;
}

static int manifest_create(ManifestArgs *a) {
        _cleanup_(freep) char *text = NULL, *failed = NULL;
        _cleanup_(closep) int fd = -EBADF;
        const char *dir;
        size_t size = 0;
        FILE *f;
        int r;

        r = expect_args(
                a, "create", 1, 1,
                "create DIR [--serial N] [--product P] [--version V] [--ignore SUBDIR]... [--output FILE]");
        if (r < 0)
                return -r;
        dir = a->args[0];
        /* A default serial that grows with every build keeps anti-rollback
         * working for people who do not count releases themselves. */
        if (a->serial == 0)
                a->serial = (uint64_t) time(NULL);
        if (!manifest_release_value_is_valid(a->product) || !manifest_release_value_is_valid(a->version)) {
                log_error(
                        "--product and --version must be 1..128 printable ASCII characters without spaces, "
                        "'=' or '\\'.");
                return EXIT_USAGE;
        }
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open directory '%s': %m", dir);
        f = open_memstream(&text, &size);
        if (!f)
                return log_oom();
        r = manifest_write_tree(fd, a->serial, a->product, a->version, a->ignore, f, &failed);
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0) {
                /* The path may hold any byte; print it as the manifest would. */
                _cleanup_(freep) char *where = failed ? mtree_escape(failed) : NULL;

                return log_error_errno(r, "Failed to write a manifest of '%s'%s%s%s: %m", dir,
                                       where ? " at './" : "", strempty(where), where ? "'" : "");
        }
        if (!a->output) {
                if (fwrite(text, 1, size, stdout) != size || fflush(stdout) != 0)
                        return log_error_errno(EIO, "Failed to write the manifest to stdout: %m");
                return EXIT_OK;
        }
        r = write_file_atomic(a->output, text, size, 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write '%s': %m", a->output);
        if (!arg_quiet)
                fprintf(stderr, "Wrote %s (serial %" PRIu64 ").\n", a->output, a->serial);
        return EXIT_OK;
}

/* Opens a file to pass to the daemon; only regular files, never blocking. */
static int open_regular(const char *path) {
        _cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        struct stat st;

        if (fd < 0)
                return log_error_errno(errno, "Failed to open '%s': %m", path);
        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "Failed to stat '%s': %m", path);
        if (!S_ISREG(st.st_mode))
                return log_error_errno(EBADFD, "'%s' is not a regular file.", path);
        return TAKE_FD(fd);
}

static int manifest_install(ManifestArgs *a) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(closep) int mfd = -EBADF, sfd = -EBADF;
        int r;

        r = expect_args(a, "install", 2, 2, "install FILE SIG");
        if (r < 0)
                return -r;
        mfd = open_regular(a->args[0]);
        if (mfd < 0)
                return EXIT_FAILED;
        sfd = open_regular(a->args[1]);
        if (sfd < 0)
                return EXIT_FAILED;
        r = ctl_bus_connect(&bus);
        if (r < 0)
                return -r;
        r = ctl_new_method_call(bus, ENDPOINTD_IFACE_INTEGRITY, "InstallManifest", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "hh", mfd, sfd);
        if (r < 0)
                return log_error_errno(r, "Failed to build the request: %m");
        r = ctl_call_message(bus, m, &reply, "install the manifest");
        if (r != 0)
                return r;
        if (!arg_quiet)
                printf("Manifest %s installed.\n", a->args[0]);
        return EXIT_OK;
}

static int add_field(Table *t, const char *key, const char *label, CellType type, ...) {
        va_list ap;
        int r;

        r = table_add(t, CELL_STRING, arg_json ? key : label);
        if (r < 0)
                return r;
        va_start(ap, type);
        if (type == CELL_STRING)
                r = table_add(t, type, va_arg(ap, const char *));
        else
                r = table_add(t, type, va_arg(ap, uint64_t));
        va_end(ap);
        return r;
}

static int print_manifest(uint64_t serial, const char *product, const char *version, uint64_t entries,
                          const char *signer, const char *digest) {
        _cleanup_(table_freep) Table *t = table_new(true, "Field", "Value");
        int r;

        if (!t)
                return log_oom();
        r = add_field(t, "Serial", "Serial", CELL_UINT64, serial);
        if (r >= 0)
                r = add_field(t, "Product", "Product", CELL_STRING, product);
        if (r >= 0)
                r = add_field(t, "Version", "Version", CELL_STRING, version);
        if (r >= 0)
                r = add_field(t, "Entries", "Entries", CELL_UINT64, entries);
        if (r >= 0)
                r = add_field(t, "Signer", "Signer", CELL_STRING,
                              isempty(signer) && !arg_json ? "-" : strempty(signer));
        if (r >= 0)
                r = add_field(t, "Digest", "Digest (SHA-256)", CELL_STRING, digest);
        if (r >= 0)
                r = table_print(t, arg_json, stdout);
        if (r < 0)
                return log_error_errno(r, "Failed to print the manifest: %m");
        return EXIT_OK;
}

/* Loads and parses a local manifest; prints "FILE:LINE: message" on error. */
static int load_local(const char *path, char **ret_data, size_t *ret_len, Manifest **ret) {
        _cleanup_(freep) char *data = NULL;
        ParseError e = {};
        size_t len;
        int r;

        r = read_full_file(path, MANIFEST_FILE_MAX, &data, &len);
        if (r == -EFBIG)
                return log_error_errno(E2BIG, "%s: larger than %u bytes.", path, MANIFEST_FILE_MAX);
        if (r < 0)
                return log_error_errno(r, "Failed to read '%s': %m", path);
        r = manifest_parse(data, len, ret, &e);
        if (r < 0) {
                if (e.line > 0)
                        log_error("%s:%u: %s", path, e.line, e.message);
                else
                        log_error("%s: %s", path, e.message);
                return r;
        }
        *ret_data = TAKE_PTR(data);
        *ret_len = len;
        return 0;
}

static int manifest_show_local(const char *path, const char *signer) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_(freep) char *data = NULL, *hex = NULL;
        size_t len;
        int r;

        r = load_local(path, &data, &len, &m);
        if (r < 0)
                return EXIT_FAILED;
        hex = hexmem(m->digest, sizeof(m->digest));
        if (!hex)
                return log_oom();
        return print_manifest(m->serial, m->product, m->version, m->n_entries, signer, hex);
}

static int manifest_show(ManifestArgs *a) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *product, *version, *signer, *digest;
        uint64_t serial, entries;
        int r;

        r = expect_args(a, "show", 0, 1, "show [FILE]");
        if (r < 0)
                return -r;
        if (a->n_args == 1)
                return manifest_show_local(a->args[0], NULL);
        r = ctl_bus_connect(&bus);
        if (r < 0)
                return -r;
        r = ctl_call(bus, ENDPOINTD_IFACE_INTEGRITY, "GetManifest", &reply, "read the installed manifest",
                     NULL);
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "tsstss", &serial, &product, &version, &entries, &signer, &digest);
        if (r < 0)
                return log_error_errno(r, "Failed to parse the reply: %m");
        return print_manifest(serial, product, version, entries, signer, digest);
}

/* The signature first: nothing in an unsigned manifest is worth reporting. */
static int check_signature(const char *path, const char *sig_path, const char *trust, char **ret_signer) {
        _cleanup_(trust_store_freep) TrustStore *store = NULL;
        _cleanup_(freep) char *data = NULL, *sig = NULL;
        char error[SIGNATURE_ERROR_MAX] = "";
        size_t len, sig_len;
        int r;

        r = trust_store_load(trust, &store, error, sizeof(error));
        if (r < 0)
                return log_error_errno(r, "Failed to load the trust directory '%s': %s", trust,
                                       *error ? error : strerror(-r));
        r = read_full_file(path, MANIFEST_FILE_MAX, &data, &len);
        if (r < 0)
                return log_error_errno(r, "Failed to read '%s': %m", path);
        r = read_full_file(sig_path, SIGNATURE_MAX, &sig, &sig_len);
        if (r < 0)
                return log_error_errno(r, "Failed to read '%s': %m", sig_path);
        /* As the daemon would install it now, by this machine's clock. */
        r = signature_verify(store, SIGNER_ROLE_MANIFEST, now_usec(CLOCK_REALTIME), data, len, sig, sig_len,
                             ret_signer, error, sizeof(error));
        if (r < 0)
                return log_error_errno(r, "%s: signature %s does not verify: %s", path, sig_path,
                                       *error ? error : strerror(-r));
        return 0;
}

static int manifest_check(ManifestArgs *a) {
        _cleanup_(freep) char *signer = NULL;
        int r;

        r = expect_args(a, "check", 1, 2, "check FILE [SIG] [--trust DIR]");
        if (r < 0)
                return -r;
        if (a->trust && a->n_args < 2) {
                log_error("--trust needs a signature to check; usage: endpointctl manifest check FILE SIG "
                          "--trust DIR");
                return EXIT_USAGE;
        }
        if (a->n_args == 2) {
                r = check_signature(a->args[0], a->args[1], a->trust ?: TRUST_DIRECTORY_DEFAULT, &signer);
                if (r < 0)
                        return EXIT_FAILED;
        }
        if (arg_quiet) {
                _cleanup_(manifest_freep) Manifest *m = NULL;
                _cleanup_(freep) char *data = NULL;
                size_t len;

                return load_local(a->args[0], &data, &len, &m) < 0 ? EXIT_FAILED : EXIT_OK;
        }
        return manifest_show_local(a->args[0], signer);
}

int verb_manifest(int argc, char *argv[]) {
        _cleanup_(manifest_args_done) ManifestArgs a = { .product = "device", .version = "0" };
        const char *sub = argv[1];
        int r;

        r = parse_manifest_argv(argc - 1, argv + 1, &a);
        if (r < 0)
                return -r;
        if (a.create_options && !streq(sub, "create")) {
                log_error("--serial, --product, --version, --ignore and --output only go with 'manifest "
                          "create'.");
                return EXIT_USAGE;
        }
        if (a.trust && !streq(sub, "check")) {
                log_error("--trust only goes with 'manifest check'.");
                return EXIT_USAGE;
        }
        if (streq(sub, "create"))
                return manifest_create(&a);
        if (streq(sub, "install"))
                return manifest_install(&a);
        if (streq(sub, "show"))
                return manifest_show(&a);
        if (streq(sub, "check"))
                return manifest_check(&a);
        log_error("Unknown command 'manifest %s'; expected create, install, show or check.", sub);
        return EXIT_USAGE;
}
