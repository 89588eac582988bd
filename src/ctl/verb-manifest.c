/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "ctl-bus.h"
#include "ctl-config.h"
#include "ctl.h"
#include "endpointd/bus.h"
#include "fileio.h"
#include "log.h"
#include "manifest.h"
#include "mtree-write.h"
#include "signature.h"
#include "table.h"

#define IGNORE_MAX 64

/* --ignore paths of "manifest create", normalised, NULL-terminated. */
typedef struct IgnoreList {
        char *ignore[IGNORE_MAX + 1];
        size_t n_ignore;
} IgnoreList;

/* Normalises "./var/log/" to "var/log", the form the writer compares. */
static int add_ignore(IgnoreList *a, const char *arg) {
        const char *p = arg;
        size_t n;

        while (strncmp(p, "./", 2) == 0)
                p += 2;
        n = strlen(p);
        while (n > 0 && p[n - 1] == '/')
                n--;
        if (n == 0 || streq(p, ".") || p[0] == '/' || strstr(p, "//"))
                return verb_usage_error("Invalid --ignore '%s', expected a directory below DIR", arg);
        for (const char *c = p; c < p + n;) {
                size_t k = strcspn(c, "/");

                if ((k == 1 && c[0] == '.') || (k == 2 && c[0] == '.' && c[1] == '.'))
                        return verb_usage_error("Invalid --ignore '%s': '.' and '..' are not allowed", arg);
                c += k + 1;
        }
        if (a->n_ignore >= IGNORE_MAX)
                return verb_usage_error("At most %d --ignore options", IGNORE_MAX);
        a->ignore[a->n_ignore] = strndup(p, n);
        if (!a->ignore[a->n_ignore])
                return log_oom();
        a->n_ignore++;
        return 0;
}

static void ignore_list_done(IgnoreList *a) {
        for (size_t i = 0; i < a->n_ignore; i++)
                free(a->ignore[i]);
}

/* --json: what was written, with the manifest itself when it went nowhere else. */
static int print_create_json(uint64_t serial, const char *product, const char *version, const char *text,
                             size_t size) {
        json_object *o = json_object_new_object();

        if (!o || json_object_object_add(o, "serial", json_object_new_uint64(serial)) < 0 ||
            json_object_object_add(o, "product", json_object_new_string(product)) < 0 ||
            json_object_object_add(o, "version", json_object_new_string(version)) < 0 ||
            json_object_object_add(o, "output", arg_output ? json_object_new_string(arg_output) : NULL) <
                    0 ||
            (!arg_output &&
             json_object_object_add(o, "manifest", json_object_new_string_len(text, (int) size)) < 0)) {
                json_object_put(o);
                return log_oom();
        }
        return json_print(o, stdout) < 0 ? log_oom() : 0;
}

int verb_manifest_create(int argc, char *argv[], void *userdata) {
        _cleanup_(ignore_list_done) IgnoreList a = {};
        _cleanup_(freep) char *text = NULL, *failed = NULL;
        _cleanup_(closep) int fd = -EBADF;
        const char *dir = argv[1], *product = arg_product ?: "device", *version = arg_release_version ?: "0";
        uint64_t serial = arg_serial;
        size_t size = 0;
        FILE *f;
        int r;

        for (char **i = arg_ignore; i && *i; i++) {
                r = add_ignore(&a, *i);
                if (r < 0)
                        return r;
        }
        /* A default serial that grows with every build keeps anti-rollback
         * working for people who do not count releases themselves. */
        if (serial == 0)
                serial = (uint64_t) time(NULL);
        if (!manifest_release_value_is_valid(product) || !manifest_release_value_is_valid(version))
                return verb_usage_error("--product and --version must be 1..128 printable ASCII characters "
                                        "without spaces, '=' or '\\'");
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open directory '%s': %m", dir);
        f = open_memstream(&text, &size);
        if (!f)
                return log_oom();
        r = manifest_write_tree(fd, serial, product, version, a.ignore, f, &failed);
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0) {
                /* The path may hold any byte; print it as the manifest would. */
                _cleanup_(freep) char *where = failed ? mtree_escape(failed) : NULL;

                return log_error_errno(r, "Failed to write a manifest of '%s'%s%s%s: %m", dir,
                                       where ? " at './" : "", strempty(where), where ? "'" : "");
        }
        if (arg_output) {
                r = write_file_atomic(arg_output, text, size, 0644);
                if (r < 0)
                        return log_error_errno(r, "Failed to write '%s': %m", arg_output);
        }
        if (arg_json)
                return print_create_json(serial, product, version, text, size);
        if (!arg_output) {
                if (fwrite(text, 1, size, stdout) != size || fflush(stdout) != 0)
                        return log_error_errno(EIO, "Failed to write the manifest to stdout: %m");
                return 0;
        }
        printf("Wrote %s (serial %" PRIu64 ").\n", arg_output, serial);
        return 0;
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

/* Checks the files before it connects, so it connects itself. */
int verb_manifest_install(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(closep) int mfd = -EBADF, sfd = -EBADF;
        struct stat mst, sst;
        json_object *o;
        int r;

        mfd = open_regular(argv[1]);
        if (mfd < 0)
                return mfd;
        sfd = open_regular(argv[2]);
        if (sfd < 0)
                return sfd;
        /* The manifest given as its own signature would only earn a
         * puzzling refusal from the daemon. */
        if (fstat(mfd, &mst) < 0 || fstat(sfd, &sst) < 0)
                return log_error_errno(errno, "Failed to stat the manifest or its signature: %m");
        if (mst.st_dev == sst.st_dev && mst.st_ino == sst.st_ino) {
                log_error("'%s' and '%s' are the same file: give the manifest, then its detached signature.",
                          argv[1], argv[2]);
                return -EINVAL;
        }
        r = ctl_bus_connect(&bus);
        if (r < 0)
                return r;
        r = ctl_new_method_call(bus, ENDPOINTD_IFACE_INTEGRITY, "InstallManifest", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "hh", mfd, sfd);
        if (r < 0)
                return log_error_errno(r, "Failed to build the request: %m");
        r = ctl_call_message(bus, m, &reply, "install the manifest");
        if (r != 0)
                return r;
        if (!arg_json) {
                printf("Manifest %s installed.\n", argv[1]);
                return 0;
        }
        o = json_object_new_object();
        if (!o || json_object_object_add(o, "file", json_object_new_string(argv[1])) < 0 ||
            json_object_object_add(o, "installed", json_object_new_boolean(true)) < 0) {
                json_object_put(o);
                return log_oom();
        }
        return json_print(o, stdout) < 0 ? log_oom() : 0;
}

static int add_field(Table *t, const char *key, const char *label, CellType type, ...) {
        va_list ap;
        int r;

        r = table_add(t, CELL_STRING, arg_json ? key : label);
        if (r < 0)
                return r;
        va_start(ap, type);
        if (type == CELL_STRING || type == CELL_DIGEST)
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
                r = add_field(t, "Digest", "Digest (SHA-256)", CELL_DIGEST, digest);
        if (r >= 0)
                r = table_print(t, arg_json, stdout);
        if (r < 0)
                return log_error_errno(r, "Failed to print the manifest: %m");
        return 0;
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
                return r == -EINVAL ? -EBADMSG : r;
        hex = hexmem(m->digest, sizeof(m->digest));
        if (!hex)
                return log_oom();
        return print_manifest(m->serial, m->product, m->version, m->n_entries, signer, hex);
}

/* Needs the bus only without FILE, so it connects itself (VERB_BUS_LATE). */
int verb_manifest_show(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *product, *version, *signer, *digest;
        uint64_t serial, entries;
        int r;

        if (argc == 2)
                return manifest_show_local(argv[1], NULL);
        r = ctl_bus_connect(&bus);
        if (r < 0)
                return r;
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

int verb_manifest_check(int argc, char *argv[], void *userdata) {
        _cleanup_(freep) char *signer = NULL;
        int r;

        if (arg_trust && argc < 3)
                return verb_usage_error("--trust needs a signature to check");
        if (argc == 3) {
                _cleanup_(freep) char *trust = NULL;

                r = ctl_trust_directory(&trust);
                if (r < 0)
                        return r;
                r = check_signature(argv[1], argv[2], trust, &signer);
                if (r < 0)
                        return r == -EINVAL ? -EBADMSG : r;
        }
        return manifest_show_local(argv[1], signer);
}
