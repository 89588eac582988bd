/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* endpointctl verbs of org.endpointd.Keys1: device-id, device-key, key
 * create|list|delete, encrypt, decrypt, seal, unseal, sign, attest. */
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
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

static int append_pcr_array(sd_bus_message *m, uint32_t mask) {
        uint32_t pcrs[24];
        size_t n = 0;

        for (unsigned i = 0; i < 24; i++)
                if (mask & (1U << i))
                        pcrs[n++] = i;
        return sd_bus_message_append_array(m, 'u', pcrs, n * sizeof(uint32_t));
}

/* a{sv} with "pcrs" (when --pcrs is given), "exportable" (when
 * --exportable is) and "policy" (when --policy=signed is). */
static int append_options(sd_bus_message *m) {
        int r = sd_bus_message_open_container(m, 'a', "{sv}");

        if (r >= 0 && arg_pcrs_set) {
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "pcrs");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "au");
                if (r >= 0)
                        r = append_pcr_array(m, arg_pcr_mask);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0 && arg_exportable)
                r = sd_bus_message_append(m, "{sv}", "exportable", "b", 1);
        if (r >= 0 && arg_policy_signed)
                r = sd_bus_message_append(m, "{sv}", "policy", "s", "signed");
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

int json_add_base64(json_object *o, const char *key, const void *p, size_t n) {
        _cleanup_(freep) char *b = malloc(4 * ((n + 2) / 3) + 1);

        if (!b)
                return -ENOMEM;
        (void) EVP_EncodeBlock((unsigned char *) b, p, (int) n);
        return json_object_object_add(o, key, json_object_new_string(b));
}

int json_add_pcrs(json_object *o, const char *key, uint32_t mask) {
        json_object *a = json_object_new_array();

        for (unsigned i = 0; a && i < 24; i++)
                if ((mask & (1U << i)) && json_object_array_add(a, json_object_new_int((int) i)) < 0)
                        break;
        if (!a || json_object_object_add(o, key, a) < 0) {
                json_object_put(a);
                return -ENOMEM;
        }
        return 0;
}

/* Prints { key: base64 } for --json. */
static int print_bytes_json(const char *key, const void *p, size_t n) {
        json_object *o = json_object_new_object();

        if (!o || json_add_base64(o, key, p, n) < 0) {
                json_object_put(o);
                return log_oom();
        }
        return json_print(o, stdout) < 0 ? log_oom() : 0;
}

/* The confirmation of a change: the sentence, or with --json the fields. */
static int print_done(json_object *fields, const char *sentence) {
        if (!fields)
                return log_oom();
        if (!arg_json) {
                json_object_put(fields);
                printf("%s\n", sentence);
                return 0;
        }
        return json_print(fields, stdout) < 0 ? log_oom() : 0;
}

static json_object *key_fields(const char *name, const char *kind) {
        json_object *o = json_object_new_object();
        char buf[80];

        if (!o || json_object_object_add(o, "name", json_object_new_string(name)) < 0 ||
            json_object_object_add(o, "kind", json_object_new_string(kind)) < 0 ||
            json_object_object_add(o, "exportable", json_object_new_boolean(arg_exportable)) < 0 ||
            json_object_object_add(o, "policy",
                                   json_object_new_string(arg_policy_signed ? "signed" : "pcr")) < 0 ||
            /* null: the daemon's default, PCRs= of endpointd.conf */
            json_object_object_add(
                    o, "pcrs",
                    arg_pcrs_set ? json_object_new_string(format_pcr_list(buf, sizeof(buf), arg_pcr_mask))
                                 : NULL) < 0)
                return json_object_put(o), NULL;
        return o;
}

static int read_stdin(char **ret, size_t *ret_len) {
        int r = read_full_fd(STDIN_FILENO, STDIN_MAX, ret, ret_len);

        if (r == -EFBIG)
                return log_error_errno(r, "Standard input is larger than %u bytes.", STDIN_MAX);
        if (r < 0)
                return log_error_errno(r, "Cannot read standard input: %m");
        return 0;
}

/* Calls a method whose reply is one "ay" and writes it to stdout, or with
 * --json as { json_key: base64 }. */
static int call_bytes_to_stdout(sd_bus *bus, sd_bus_message *m, const char *what, bool sensitive,
                                const char *json_key) {
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
        if (arg_json)
                return print_bytes_json(json_key, p, n);
        r = write_all(STDOUT_FILENO, p, n);
        if (r < 0)
                return log_error_errno(r, "Cannot write to standard output: %m");
        return 0;
}

int ctl_device_id_read(sd_bus *bus, sd_bus_message **ret_reply, const char **ret_id) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *id = NULL;
        int r;

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
                return -ENODEV;
        }
        *ret_reply = TAKE_PTR(reply);
        *ret_id = id;
        return 0;
}

int verb_device_id(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        const char *id;
        int r;

        r = ctl_device_id_read(userdata, &reply, &id);
        if (r != 0)
                return r;
        if (!arg_json) {
                printf("%s\n", id);
                return 0;
        }
        t = table_new(true, "Field", "Value");
        if (!t || table_add(t, CELL_STRING, "DeviceId") < 0 || table_add(t, CELL_STRING, id) < 0)
                return log_oom();
        return table_print(t, arg_json, stdout) < 0 ? log_oom() : 0;
}

int verb_device_key(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        json_object *o;
        const char *pem;
        int r;

        r = ctl_call(userdata, ENDPOINTD_IFACE_KEYS, "GetDevicePublicKey", &reply,
                     "read the device public key", NULL);
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "s", &pem);
        if (r < 0)
                return log_error_errno(r, "Cannot parse the reply: %m");
        if (!arg_json) {
                fputs(pem, stdout);
                return 0;
        }
        o = json_object_new_object();
        if (!o || json_object_object_add(o, "publicKey", json_object_new_string(pem)) < 0) {
                json_object_put(o);
                return log_oom();
        }
        return json_print(o, stdout) < 0 ? log_oom() : 0;
}

int verb_key_create(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(freep) char *sentence = NULL;
        sd_bus *bus = userdata;
        int r;

        r = ctl_new_method_call(bus, ENDPOINTD_IFACE_KEYS, "CreateKey", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", argv[1]);
        if (r >= 0)
                r = append_options(m);
        if (r < 0)
                return log_error_errno(r, "Cannot build the call: %m");
        r = ctl_call_message(bus, m, NULL, "create the key");
        if (r != 0)
                return r;
        if (asprintf(&sentence, "Created data key '%s'.", argv[1]) < 0)
                return log_oom();
        return print_done(key_fields(argv[1], "data"), sentence);
}

static int key_list_entry(Table *t, sd_bus_message *reply) {
        const char *name, *key, *kind = "", *policy = "pcr";
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
                else if (r >= 0 && streq(key, "policy"))
                        r = sd_bus_message_read(reply, "v", "s", &policy);
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
            table_add(t, CELL_STRING,
                      !arg_json && streq(policy, "signed") ? "signed"
                                                           : format_pcr_list(buf, sizeof(buf), mask)) < 0 ||
            (arg_json && table_add(t, CELL_STRING, policy) < 0) || table_add(t, CELL_TIMESTAMP, created) < 0)
                return -ENOMEM;
        return 0;
}

int verb_key_list(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        sd_bus *bus = userdata;
        int r;

        r = ctl_call(bus, ENDPOINTD_IFACE_KEYS, "ListKeys", &reply, "list keys", NULL);
        if (r != 0)
                return r;
        /* For people a signed policy shows in the Pcrs column (it has no
         * PCR list of its own); JSON has a field for it. */
        t = arg_json ? table_new(false, "Name", "Kind", "Exportable", "Pcrs", "Policy", "Created")
                     : table_new(false, "Name", "Kind", "Exportable", "Pcrs", "Created");
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
        return table_print(t, arg_json, stdout) < 0 ? log_oom() : 0;
}

int verb_key_delete(int argc, char *argv[], void *userdata) {
        _cleanup_(freep) char *sentence = NULL;
        json_object *o;
        int r;

        r = ctl_call(userdata, ENDPOINTD_IFACE_KEYS, "DeleteKey", NULL, "delete the key", "s", argv[1]);
        if (r != 0)
                return r;
        o = json_object_new_object();
        if (!o || json_object_object_add(o, "name", json_object_new_string(argv[1])) < 0 ||
            json_object_object_add(o, "deleted", json_object_new_boolean(true)) < 0 ||
            asprintf(&sentence, "Deleted key '%s'.", argv[1]) < 0) {
                json_object_put(o);
                return log_oom();
        }
        return print_done(o, sentence);
}

static int crypt_verb(sd_bus *bus, const char *name, const char *method, const char *what, bool sensitive,
                      const char *json_key) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(freep) char *in = NULL;
        size_t len;
        int r;

        r = read_stdin(&in, &len);
        if (r < 0)
                return r;
        r = ctl_new_method_call(bus, ENDPOINTD_IFACE_KEYS, method, &m);
        if (r >= 0 && sensitive)
                (void) sd_bus_message_sensitive(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", name);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', in, len);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', strempty(arg_aad), strlen(strempty(arg_aad)));
        OPENSSL_cleanse(in, len);
        if (r < 0)
                return log_error_errno(r, "Cannot build the call: %m");
        return call_bytes_to_stdout(bus, m, what, !sensitive, json_key);
}

int verb_encrypt(int argc, char *argv[], void *userdata) {
        return crypt_verb(userdata, argv[1], "Encrypt", "encrypt", true, "envelope");
}

int verb_decrypt(int argc, char *argv[], void *userdata) {
        return crypt_verb(userdata, argv[1], "Decrypt", "decrypt", false, "plaintext");
}

int verb_seal(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(freep) char *in = NULL, *sentence = NULL;
        sd_bus *bus = userdata;
        size_t len;
        int r;

        r = read_stdin(&in, &len);
        if (r < 0)
                return r;
        r = ctl_new_method_call(bus, ENDPOINTD_IFACE_KEYS, "Seal", &m);
        if (r >= 0) {
                (void) sd_bus_message_sensitive(m);
                r = sd_bus_message_append(m, "s", argv[1]);
        }
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', in, len);
        OPENSSL_cleanse(in, len);
        if (r >= 0)
                r = append_options(m);
        if (r < 0)
                return log_error_errno(r, "Cannot build the call: %m");
        r = ctl_call_message(bus, m, NULL, "seal the secret");
        if (r != 0)
                return r;
        if (asprintf(&sentence, "Sealed '%s'.", argv[1]) < 0)
                return log_oom();
        return print_done(key_fields(argv[1], "secret"), sentence);
}

int verb_unseal(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        sd_bus *bus = userdata;
        int r;

        r = ctl_new_method_call(bus, ENDPOINTD_IFACE_KEYS, "Unseal", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", argv[1]);
        if (r < 0)
                return log_error_errno(r, "Cannot build the call: %m");
        return call_bytes_to_stdout(bus, m, "unseal", true, "secret");
}

int verb_sign(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(freep) char *in = NULL;
        sd_bus *bus = userdata;
        size_t len;
        int r;

        r = read_stdin(&in, &len);
        if (r < 0)
                return r;
        r = ctl_new_method_call(bus, ENDPOINTD_IFACE_KEYS, "Sign", &m);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', in, len);
        if (r < 0)
                return log_error_errno(r, "Cannot build the call: %m");
        return call_bytes_to_stdout(bus, m, "sign", false, "signature");
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
static int attest_write(const char *dir, const void *const part[3], const size_t len[3], const char *ak) {
        _cleanup_(closep) int dirfd = -EBADF;

        (void) mkdir(dir, 0755);
        dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return log_error_errno(errno, "Cannot open directory %s: %m", dir);
        if (write_output_file(dirfd, "quote.msg", part[0], len[0]) < 0 ||
            write_output_file(dirfd, "quote.sig", part[1], len[1]) < 0 ||
            write_output_file(dirfd, "quote.pcrs", part[2], len[2]) < 0 ||
            write_output_file(dirfd, "ak.pem", ak, strlen(ak)) < 0 ||
            write_output_file(dirfd, "nonce.hex", arg_nonce, strlen(arg_nonce)) < 0)
                return -EIO;
        return 0;
}

/* --json: the quote's parts in base64, the PCRs it covers, the key and the nonce. */
static int attest_print_json(const void *const part[3], const size_t len[3], const char *ak, uint32_t mask) {
        json_object *o = json_object_new_object();
        bool ok = o && json_object_object_add(o, "nonce", json_object_new_string(arg_nonce)) >= 0 &&
                  json_add_pcrs(o, "pcrs", mask) >= 0;

        ok = ok && json_add_base64(o, "quote", part[0], len[0]) >= 0 &&
             json_add_base64(o, "signature", part[1], len[1]) >= 0 &&
             json_add_base64(o, "pcrValues", part[2], len[2]) >= 0 &&
             json_object_object_add(o, "attestationKey", json_object_new_string(ak)) >= 0 &&
             json_object_object_add(o, "output", arg_output ? json_object_new_string(arg_output) : NULL) >=
                     0;
        if (!ok) {
                json_object_put(o);
                return log_oom();
        }
        return json_print(o, stdout) < 0 ? log_oom() : 0;
}

int verb_attest(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL, *akr = NULL;
        _cleanup_(freep) void *nonce = NULL;
        sd_bus *bus = userdata;
        const void *part[3];
        size_t nonce_len, len[3];
        const char *ak;
        char pcrs[80];
        uint32_t mask;
        int r;

        if (!arg_nonce)
                return verb_usage_error("'attest' needs --nonce=HEX");
        if (!arg_output && !arg_json)
                return verb_usage_error("'attest' needs --output=DIR (or --json)");
        if (unhexmem(arg_nonce, &nonce, &nonce_len) < 0)
                return verb_usage_error("Invalid --nonce '%s': expected hex digits", arg_nonce);
        r = ctl_new_method_call(bus, ENDPOINTD_IFACE_KEYS, "Attest", &m);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', nonce, nonce_len);
        if (r >= 0)
                r = append_pcr_array(m, arg_pcr_mask);
        if (r < 0)
                return log_error_errno(r, "Cannot build the call: %m");
        r = ctl_call_message(bus, m, &reply, "attest");
        if (r != 0)
                return r;
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
        if (quote_pcr_mask(part[0], len[0], &mask) < 0)
                return log_error_errno(EBADMSG, "The quote does not parse.");
        if (arg_output) {
                r = attest_write(arg_output, part, len, ak);
                if (r < 0)
                        return r;
        }
        if (arg_json)
                return attest_print_json(part, len, ak, mask);
        format_pcr_list(pcrs, sizeof(pcrs), mask);
        printf("Verify with:\n  cd %s && tpm2_checkquote -u ak.pem -m quote.msg -s quote.sig "
               "-f quote.pcrs -l sha256:%s -g sha256 -q %s\n",
               arg_output, pcrs, arg_nonce);
        return 0;
}
