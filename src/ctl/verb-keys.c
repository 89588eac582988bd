/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* endpointctl verbs of org.endpointd.Keys1: device-id, device-key, key
 * create|list|delete, encrypt, decrypt, seal, unseal, sign, attest. */
#include <fcntl.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <sys/stat.h>

#include "ctl-bus.h"
#include "ctl.h"
#include "endpointd/bus.h"
#include "fileio.h"
#include "log.h"
#include "table.h"
#include "util.h"

/* What endpointctl reads from stdin at most; the daemon enforces the real
 * limits (endpointd-dbus(7)) and says so. */
#define STDIN_MAX (4U * 1024U * 1024U)

typedef struct KeyOptions {
        const char *aad;
        const char *nonce;
        const char *output;
        uint32_t pcr_mask;
        bool pcrs_set;
        bool exportable;
} KeyOptions;

/* Parses the options of a key verb; argv[0] is the verb. Returns the index
 * of the first positional argument, or -EXIT_USAGE. */
static int parse_key_options(int argc, char *argv[], const char *allowed, KeyOptions *o) {
        enum { ARG_PCRS = 0x100, ARG_EXPORTABLE, ARG_AAD, ARG_NONCE, ARG_OUTPUT };
        static const struct option options[] = { { "pcrs", required_argument, NULL, ARG_PCRS },
                                                 { "exportable", no_argument, NULL, ARG_EXPORTABLE },
                                                 { "aad", required_argument, NULL, ARG_AAD },
                                                 { "nonce", required_argument, NULL, ARG_NONCE },
                                                 { "output", required_argument, NULL, ARG_OUTPUT },
                                                 {} };
        int c, idx, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "", options, &idx)) >= 0) {
                if (c == '?')
                        return -EXIT_USAGE;
                if (!strstr(allowed, options[idx].name)) {
                        log_error("'%s' does not take --%s.", argv[0], options[idx].name);
                        return -EXIT_USAGE;
                }
                switch (c) {
                case ARG_PCRS:
                        r = parse_pcr_list(optarg, &o->pcr_mask);
                        if (r < 0) {
                                log_error("Invalid PCR list '%s': use indices 0-23 like 0,7 or 0-7.",
                                          optarg);
                                return -EXIT_USAGE;
                        }
                        o->pcrs_set = true;
                        break;
                case ARG_EXPORTABLE:
                        o->exportable = true;
                        break;
                case ARG_AAD:
                        o->aad = optarg;
                        break;
                case ARG_NONCE:
                        o->nonce = optarg;
                        break;
                case ARG_OUTPUT:
                        o->output = optarg;
                        break;
                }
        }
        return optind;
}

static int append_pcr_array(sd_bus_message *m, uint32_t mask) {
        uint32_t pcrs[24];
        size_t n = 0;

        for (unsigned i = 0; i < 24; i++)
                if (mask & (1U << i))
                        pcrs[n++] = i;
        return sd_bus_message_append_array(m, 'u', pcrs, n * sizeof(uint32_t));
}

/* a{sv} with "pcrs" (when set) and "exportable" (when set). */
static int append_options(sd_bus_message *m, const KeyOptions *o) {
        int r = sd_bus_message_open_container(m, 'a', "{sv}");

        if (r >= 0 && o->pcrs_set) {
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "pcrs");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "au");
                if (r >= 0)
                        r = append_pcr_array(m, o->pcr_mask);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0 && o->exportable)
                r = sd_bus_message_append(m, "{sv}", "exportable", "b", 1);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static int write_all(int fd, const void *p, size_t len) {
        const uint8_t *b = p;

        while (len > 0) {
                ssize_t n = write(fd, b, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                b += n;
                len -= (size_t) n;
        }
        return 0;
}

static int read_stdin(char **ret, size_t *ret_len) {
        int r = read_full_fd(STDIN_FILENO, STDIN_MAX, ret, ret_len);

        if (r == -EFBIG)
                return log_error_errno(r, "Standard input is larger than %u bytes.", STDIN_MAX);
        if (r < 0)
                return log_error_errno(r, "Cannot read standard input: %m");
        return 0;
}

/* Calls a method whose reply is one "ay" and writes it to stdout. */
static int call_bytes_to_stdout(sd_bus *bus, sd_bus_message *m, const char *what, bool sensitive) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const void *p;
        size_t n;
        int r;

        r = ctl_call_message(bus, m, &reply, what);
        if (r != 0)
                return r;
        if (sensitive)
                (void) sd_bus_message_sensitive(reply);
        r = sd_bus_message_read_array(reply, 'y', &p, &n);
        if (r < 0)
                return log_error_errno(r, "Cannot parse the reply: %m");
        r = write_all(STDOUT_FILENO, p, n);
        if (r < 0)
                return log_error_errno(r, "Cannot write to standard output: %m");
        return EXIT_OK;
}

int verb_device_id(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        const char *id;
        int r;

        r = ctl_bus_connect(&bus);
        if (r < 0)
                return -r;
        r = ctl_call(bus, "org.freedesktop.DBus.Properties", "Get", &reply, "read the device id", "ss",
                     ENDPOINTD_IFACE_ENDPOINT, "DeviceId");
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "v", "s", &id);
        if (r < 0)
                return log_error_errno(r, "Cannot parse the reply: %m");
        if (isempty(id)) {
                log_error("The device id is not known yet: no TPM has been available since endpointd "
                          "started.");
                return EXIT_FAILED;
        }
        if (!arg_json) {
                printf("%s\n", id);
                return EXIT_OK;
        }
        t = table_new(true, "Field", "Value");
        if (!t || table_add(t, CELL_STRING, "DeviceId") < 0 || table_add(t, CELL_STRING, id) < 0)
                return log_oom();
        return table_print(t, true, stdout) < 0 ? EXIT_FAILED : EXIT_OK;
}

static int print_pem_of(const char *method, const char *what) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *pem;
        int r;

        r = ctl_bus_connect(&bus);
        if (r < 0)
                return -r;
        r = ctl_call(bus, ENDPOINTD_IFACE_KEYS, method, &reply, what, NULL);
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "s", &pem);
        if (r < 0)
                return log_error_errno(r, "Cannot parse the reply: %m");
        fputs(pem, stdout);
        return EXIT_OK;
}

int verb_device_key(int argc, char *argv[]) {
        return print_pem_of("GetDevicePublicKey", "read the device public key");
}

static int key_create(sd_bus *bus, int argc, char *argv[]) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        KeyOptions o = {};
        int i, r;

        i = parse_key_options(argc, argv, "pcrs exportable", &o);
        if (i < 0)
                return -i;
        if (argc - i != 1) {
                log_error("Usage: key create NAME [--pcrs=LIST] [--exportable]");
                return EXIT_USAGE;
        }
        r = ctl_new_method_call(bus, ENDPOINTD_IFACE_KEYS, "CreateKey", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", argv[i]);
        if (r >= 0)
                r = append_options(m, &o);
        if (r < 0)
                return log_error_errno(r, "Cannot build the call: %m");
        r = ctl_call_message(bus, m, NULL, "create the key");
        if (r != 0)
                return r;
        if (!arg_quiet)
                printf("Created data key '%s'.\n", argv[i]);
        return EXIT_OK;
}

static int key_list_entry(Table *t, sd_bus_message *reply) {
        const char *name, *key, *kind = "";
        const uint32_t *pcrs = NULL;
        size_t pcrs_size = 0;
        uint64_t created = 0;
        uint32_t mask = 0;
        char buf[80];
        int exportable = 0, r;

        r = sd_bus_message_read(reply, "s", &name);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                r = sd_bus_message_read(reply, "s", &key);
                if (r >= 0 && streq(key, "kind"))
                        r = sd_bus_message_read(reply, "v", "s", &kind);
                else if (r >= 0 && streq(key, "exportable"))
                        r = sd_bus_message_read(reply, "v", "b", &exportable);
                else if (r >= 0 && streq(key, "created"))
                        r = sd_bus_message_read(reply, "v", "t", &created);
                else if (r >= 0 && streq(key, "pcrs")) {
                        r = sd_bus_message_enter_container(reply, 'v', "au");
                        if (r >= 0)
                                r = sd_bus_message_read_array(reply, 'u', (const void **) &pcrs, &pcrs_size);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(reply);
                } else if (r >= 0)
                        r = sd_bus_message_skip(reply, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return r;
        for (size_t i = 0; i < pcrs_size / sizeof(uint32_t); i++)
                if (pcrs[i] < 24)
                        mask |= 1U << pcrs[i];
        if (table_add(t, CELL_STRING, name) < 0 || table_add(t, CELL_STRING, kind) < 0 ||
            table_add(t, CELL_BOOLEAN, exportable) < 0 ||
            table_add(t, CELL_STRING, format_pcr_list(buf, sizeof(buf), mask)) < 0 ||
            table_add(t, CELL_TIMESTAMP, created) < 0)
                return -ENOMEM;
        return 0;
}

static int key_list(sd_bus *bus, int argc, char *argv[]) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        int r;

        if (argc != 1) {
                log_error("Usage: key list");
                return EXIT_USAGE;
        }
        r = ctl_call(bus, ENDPOINTD_IFACE_KEYS, "ListKeys", &reply, "list keys", NULL);
        if (r != 0)
                return r;
        t = table_new(false, "Name", "Kind", "Exportable", "Pcrs", "Created");
        if (!t)
                return log_oom();
        r = sd_bus_message_enter_container(reply, 'a', "(sa{sv})");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'r', "sa{sv}")) > 0) {
                r = key_list_entry(t, reply);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        if (r < 0)
                return log_error_errno(r, "Cannot parse the reply: %m");
        return table_print(t, arg_json, stdout) < 0 ? EXIT_FAILED : EXIT_OK;
}

static int key_delete(sd_bus *bus, int argc, char *argv[]) {
        int r;

        if (argc != 2) {
                log_error("Usage: key delete NAME");
                return EXIT_USAGE;
        }
        r = ctl_call(bus, ENDPOINTD_IFACE_KEYS, "DeleteKey", NULL, "delete the key", "s", argv[1]);
        if (r != 0)
                return r;
        if (!arg_quiet)
                printf("Deleted key '%s'.\n", argv[1]);
        return EXIT_OK;
}

int verb_key(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        if (argc < 2 ||
            (!streq(argv[1], "create") && !streq(argv[1], "list") && !streq(argv[1], "delete"))) {
                log_error("Usage: key create|list|delete ...");
                return EXIT_USAGE;
        }
        r = ctl_bus_connect(&bus);
        if (r < 0)
                return -r;
        if (streq(argv[1], "create"))
                return key_create(bus, argc - 1, argv + 1);
        if (streq(argv[1], "list"))
                return key_list(bus, argc - 1, argv + 1);
        return key_delete(bus, argc - 1, argv + 1);
}

static int crypt_verb(int argc, char *argv[], const char *method, const char *what, bool sensitive) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(freep) char *in = NULL;
        KeyOptions o = {};
        size_t len;
        int i, r;

        i = parse_key_options(argc, argv, "aad", &o);
        if (i < 0)
                return -i;
        if (argc - i != 1) {
                log_error("Usage: %s NAME [--aad=STRING] <INPUT >OUTPUT", argv[0]);
                return EXIT_USAGE;
        }
        r = read_stdin(&in, &len);
        if (r < 0)
                return EXIT_FAILED;
        r = ctl_bus_connect(&bus);
        if (r < 0)
                return -r;
        r = ctl_new_method_call(bus, ENDPOINTD_IFACE_KEYS, method, &m);
        if (r >= 0 && sensitive)
                (void) sd_bus_message_sensitive(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", argv[i]);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', in, len);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', strempty(o.aad), strlen(strempty(o.aad)));
        OPENSSL_cleanse(in, len);
        if (r < 0)
                return log_error_errno(r, "Cannot build the call: %m");
        return call_bytes_to_stdout(bus, m, what, !sensitive);
}

int verb_encrypt(int argc, char *argv[]) {
        return crypt_verb(argc, argv, "Encrypt", "encrypt", true);
}

int verb_decrypt(int argc, char *argv[]) {
        return crypt_verb(argc, argv, "Decrypt", "decrypt", false);
}

int verb_seal(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(freep) char *in = NULL;
        KeyOptions o = {};
        size_t len;
        int i, r;

        i = parse_key_options(argc, argv, "pcrs", &o);
        if (i < 0)
                return -i;
        if (argc - i != 1) {
                log_error("Usage: seal NAME [--pcrs=LIST] <SECRET");
                return EXIT_USAGE;
        }
        r = read_stdin(&in, &len);
        if (r < 0)
                return EXIT_FAILED;
        r = ctl_bus_connect(&bus);
        if (r < 0)
                return -r;
        r = ctl_new_method_call(bus, ENDPOINTD_IFACE_KEYS, "Seal", &m);
        if (r >= 0) {
                (void) sd_bus_message_sensitive(m);
                r = sd_bus_message_append(m, "s", argv[i]);
        }
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', in, len);
        OPENSSL_cleanse(in, len);
        if (r >= 0)
                r = append_options(m, &o);
        if (r < 0)
                return log_error_errno(r, "Cannot build the call: %m");
        r = ctl_call_message(bus, m, NULL, "seal the secret");
        if (r != 0)
                return r;
        if (!arg_quiet)
                fprintf(stderr, "Sealed '%s'.\n", argv[i]);
        return EXIT_OK;
}

int verb_unseal(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = ctl_bus_connect(&bus);
        if (r < 0)
                return -r;
        r = ctl_new_method_call(bus, ENDPOINTD_IFACE_KEYS, "Unseal", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", argv[1]);
        if (r < 0)
                return log_error_errno(r, "Cannot build the call: %m");
        return call_bytes_to_stdout(bus, m, "unseal", true);
}

int verb_sign(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(freep) char *in = NULL;
        size_t len;
        int r;

        r = read_stdin(&in, &len);
        if (r < 0)
                return EXIT_FAILED;
        r = ctl_bus_connect(&bus);
        if (r < 0)
                return -r;
        r = ctl_new_method_call(bus, ENDPOINTD_IFACE_KEYS, "Sign", &m);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', in, len);
        if (r < 0)
                return log_error_errno(r, "Cannot build the call: %m");
        return call_bytes_to_stdout(bus, m, "sign", false);
}

static int write_output_file(int dirfd, const char *name, const void *p, size_t len) {
        _cleanup_(closep) int fd =
                openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);

        if (fd < 0)
                return log_error_errno(errno, "Cannot create %s: %m", name);
        if (write_all(fd, p, len) < 0)
                return log_error_errno(errno, "Cannot write %s: %m", name);
        return 0;
}

/* The sha256 PCR selection a quote covers, read from its TPMS_ATTEST
 * (TPM 2.0 Part 2, 10.12.12): magic, type, qualifiedSigner, extraData,
 * clockInfo, firmwareVersion, then TPMS_QUOTE_INFO's TPML_PCR_SELECTION. */
static int quote_pcr_mask(const uint8_t *q, size_t len, uint32_t *ret) {
        size_t off = 6;
        uint32_t count, mask = 0;

        for (int i = 0; i < 2; i++) { /* two TPM2B: name, extra data */
                if (off + 2 > len)
                        return -EBADMSG;
                off += 2 + ((size_t) q[off] << 8 | q[off + 1]);
        }
        off += 17 + 8; /* TPMS_CLOCK_INFO, firmwareVersion */
        if (off + 4 > len)
                return -EBADMSG;
        count = (uint32_t) q[off] << 24 | (uint32_t) q[off + 1] << 16 | (uint32_t) q[off + 2] << 8 |
                q[off + 3];
        off += 4;
        for (uint32_t i = 0; i < count; i++) {
                uint16_t hash;
                uint8_t n;

                if (off + 3 > len)
                        return -EBADMSG;
                hash = (uint16_t) (q[off] << 8 | q[off + 1]);
                n = q[off + 2];
                off += 3;
                if (off + n > len)
                        return -EBADMSG;
                for (unsigned b = 0; hash == 0x000B && b < 24 && b / 8 < n; b++)
                        if (q[off + b / 8] & (1U << (b % 8)))
                                mask |= 1U << b;
                off += n;
        }
        *ret = mask;
        return 0;
}

/* Writes what tpm2_checkquote takes: quote.msg (-m), quote.sig (-s),
 * quote.pcrs (-f, with -l sha256:LIST), ak.pem (-u) and nonce.hex (-q). */
static int attest_write(sd_bus *bus, sd_bus_message *reply, const KeyOptions *o) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *akr = NULL;
        _cleanup_(closep) int dirfd = -EBADF;
        const void *part[3];
        size_t len[3];
        const char *ak;
        char pcrs[80];
        uint32_t mask;
        int r;

        for (int i = 0; i < 3; i++) {
                r = sd_bus_message_read_array(reply, 'y', &part[i], &len[i]);
                if (r < 0)
                        return log_error_errno(r, "Cannot parse the reply: %m");
        }
        r = ctl_call(bus, ENDPOINTD_IFACE_KEYS, "GetAttestationPublicKey", &akr, "read the attestation key",
                     NULL);
        if (r != 0)
                return r;
        r = sd_bus_message_read(akr, "s", &ak);
        if (r < 0)
                return log_error_errno(r, "Cannot parse the reply: %m");
        (void) mkdir(o->output, 0755);
        dirfd = open(o->output, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return log_error_errno(errno, "Cannot open directory %s: %m", o->output);
        if (write_output_file(dirfd, "quote.msg", part[0], len[0]) < 0 ||
            write_output_file(dirfd, "quote.sig", part[1], len[1]) < 0 ||
            write_output_file(dirfd, "quote.pcrs", part[2], len[2]) < 0 ||
            write_output_file(dirfd, "ak.pem", ak, strlen(ak)) < 0 ||
            write_output_file(dirfd, "nonce.hex", o->nonce, strlen(o->nonce)) < 0)
                return EXIT_FAILED;
        if (quote_pcr_mask(part[0], len[0], &mask) < 0)
                return log_error_errno(EBADMSG, "The quote does not parse.");
        format_pcr_list(pcrs, sizeof(pcrs), mask);
        if (!arg_quiet)
                printf("Verify with:\n  cd %s && tpm2_checkquote -u ak.pem -m quote.msg -s quote.sig "
                       "-f quote.pcrs -l sha256:%s -g sha256 -q %s\n",
                       o->output, pcrs, o->nonce);
        return EXIT_OK;
}

int verb_attest(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(freep) void *nonce = NULL;
        KeyOptions o = {};
        size_t nonce_len;
        int i, r;

        i = parse_key_options(argc, argv, "nonce pcrs output", &o);
        if (i < 0)
                return -i;
        if (argc != i || !o.nonce || !o.output) {
                log_error("Usage: attest --nonce=HEX [--pcrs=LIST] --output=DIR");
                return EXIT_USAGE;
        }
        if (unhexmem(o.nonce, &nonce, &nonce_len) < 0) {
                log_error("Invalid nonce '%s': expected hex digits.", o.nonce);
                return EXIT_USAGE;
        }
        r = ctl_bus_connect(&bus);
        if (r < 0)
                return -r;
        r = ctl_new_method_call(bus, ENDPOINTD_IFACE_KEYS, "Attest", &m);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', nonce, nonce_len);
        if (r >= 0)
                r = append_pcr_array(m, o.pcr_mask);
        if (r < 0)
                return log_error_errno(r, "Cannot build the call: %m");
        r = ctl_call_message(bus, m, &reply, "attest");
        if (r != 0)
                return r;
        return attest_write(bus, reply, &o);
}
