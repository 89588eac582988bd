/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bus-level fuzzer: reads the introspection XML of endpointd's interfaces
 * and calls every method and property on the running daemon with random
 * and boundary arguments, of the right types most of the time and of wrong
 * types (and counts) otherwise. It fails when the daemon
 *   - leaves the bus (its unique name no longer owns org.endpointd.Endpoint1),
 *   - does not answer a call within the timeout (a hang), or
 *   - answers with an error name that endpointd-dbus(7) does not document.
 *
 *   fuzz-bus [-s SEED] [-n CALLS] [-d SECONDS] [-t TIMEOUT_S] -m MANPAGE XML...
 *
 * Runs until CALLS calls or SECONDS have passed, whichever comes first.
 * Prints one line per error name and method at the end. The same seed makes
 * the same sequence of calls (the daemon's answers may still differ). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#define BUS_NAME "org.endpointd.Endpoint1"
#define OBJECT_PATH "/org/endpointd/Endpoint1"
#define MAX_MEMBERS 128
#define MAX_NAMES 128
#define MAX_DEPTH 4

typedef struct Member {
        char *interface;
        char *name;
        char *signature; /* in-arguments of a method, type of a property */
        bool property;
        bool writable;
        unsigned long calls;
} Member;

typedef struct ErrorCount {
        char *name;
        unsigned long n;
} ErrorCount;

static Member members[MAX_MEMBERS];
static size_t n_members;
static char *documented[MAX_NAMES];
static size_t n_documented;
static ErrorCount seen[MAX_NAMES];
static size_t n_seen;
static uint64_t rng_state = 88172645463325252ULL;

static uint64_t rnd(void) {
        /* xorshift64: fast, and the same sequence for the same seed. */
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return rng_state;
}

static unsigned rnd_below(unsigned n) {
        return n ? (unsigned) (rnd() % n) : 0;
}

static char *read_file(const char *path) {
        FILE *f = fopen(path, "re");
        char *buf = NULL;
        size_t len = 0;

        if (!f)
                return NULL;
        if (getdelim(&buf, &len, '\0', f) < 0) {
                free(buf);
                buf = NULL;
        }
        fclose(f);
        return buf;
}

/* attr(tag, "name"): a copy of the attribute's value inside one tag. */
static char *attr(const char *tag, const char *end, const char *name) {
        size_t n = strlen(name);

        for (const char *p = tag; p && p < end; p = strchr(p + 1, ' ')) {
                while (*p == ' ' || *p == '\n' || *p == '\t')
                        p++;
                if (strncmp(p, name, n) == 0 && p[n] == '=' && p[n + 1] == '"') {
                        const char *q = strchr(p + n + 2, '"');
                        return q && q < end ? strndup(p + n + 2, (size_t) (q - p - n - 2)) : NULL;
                }
        }
        return NULL;
}

static void add_member(char *iface, char *name, char *sig, bool property, bool writable) {
        if (n_members >= MAX_MEMBERS) {
                fprintf(stderr, "fuzz-bus: too many members\n");
                exit(2);
        }
        members[n_members++] = (Member){ .interface = strdup(iface),
                                         .name = name,
                                         .signature = sig,
                                         .property = property,
                                         .writable = writable };
}

/* A small reader of the introspection format: <interface name>, <method
 * name> with <arg type direction="in">, <property name type access>. The
 * files are ours and simple; this is no general XML parser. */
static int parse_xml(const char *path) {
        char *xml = read_file(path), *iface = NULL, *method = NULL;
        char sig[256] = "";

        if (!xml)
                return -errno;
        for (char *p = strchr(xml, '<'); p; p = strchr(p + 1, '<')) {
                char *end = strchr(p, '>');
                if (!end)
                        break;
                if (strncmp(p, "<interface ", 11) == 0) {
                        free(iface);
                        iface = attr(p + 10, end, "name");
                } else if (strncmp(p, "<method ", 8) == 0 && iface) {
                        method = attr(p + 7, end, "name");
                        sig[0] = 0;
                        if (end[-1] == '/') {
                                add_member(iface, method, strdup(""), false, false);
                                method = NULL;
                        }
                } else if (strncmp(p, "<arg ", 5) == 0 && method) {
                        char *type = attr(p + 4, end, "type"), *dir = attr(p + 4, end, "direction");
                        if (type && (!dir || strcmp(dir, "in") == 0) &&
                            strlen(sig) + strlen(type) < sizeof(sig))
                                strcat(sig, type);
                        free(type);
                        free(dir);
                } else if (strncmp(p, "</method>", 9) == 0 && method) {
                        add_member(iface, method, strdup(sig), false, false);
                        method = NULL;
                } else if (strncmp(p, "<property ", 10) == 0 && iface) {
                        char *access = attr(p + 9, end, "access");
                        add_member(iface, attr(p + 9, end, "name"), attr(p + 9, end, "type"), true,
                                   access && strstr(access, "write"));
                        free(access);
                }
        }
        free(iface);
        free(xml);
        return 0;
}

/* Every org.endpointd.Error.* and org.freedesktop.DBus.Error.* name the
 * man page mentions. */
static int parse_manpage(const char *path) {
        char *text = read_file(path);
        static const char *prefixes[] = { "org.endpointd.Error.", "org.freedesktop.DBus.Error." };

        if (!text)
                return -errno;
        for (size_t k = 0; k < 2; k++)
                for (char *p = strstr(text, prefixes[k]); p; p = strstr(p + 1, prefixes[k])) {
                        size_t n = strlen(prefixes[k]);
                        while ((p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= 'a' && p[n] <= 'z'))
                                n++;
                        char *name = strndup(p, n);
                        bool dup = false;
                        for (size_t i = 0; i < n_documented; i++)
                                dup = dup || strcmp(documented[i], name) == 0;
                        if (dup || n_documented >= MAX_NAMES)
                                free(name);
                        else
                                documented[n_documented++] = name;
                }
        free(text);
        return 0;
}

static bool is_documented(const char *name) {
        for (size_t i = 0; i < n_documented; i++)
                if (strcmp(documented[i], name) == 0)
                        return true;
        return false;
}

static void count_error(const char *name) {
        for (size_t i = 0; i < n_seen; i++)
                if (strcmp(seen[i].name, name) == 0) {
                        seen[i].n++;
                        return;
                }
        if (n_seen < MAX_NAMES)
                seen[n_seen++] = (ErrorCount){ strdup(name), 1 };
}

/* ---- argument generation ------------------------------------------------ */

static const char *const words[] = {
        "",
        "status.read",
        "keys.use:k1",
        "keys.create",
        "integrity.read",
        "policy.reload",
        "k1",
        "s1",
        "fuzz",
        "..",
        ".",
        "/",
        "a/b",
        "../etc/passwd",
        "k\n1",
        "bin/pumpd",
        "/bin/pumpd",
        "pcrs",
        "exportable",
        "feature",
        "*",
        "a b",
        "\xc3\xa9t\xc3\xa9",
        "keys.use:",
        ":",
        "visit-1",
        "0",
};

static void rnd_string(char *buf, size_t size) {
        unsigned kind = rnd_below(6);
        size_t len;

        if (kind < 3) {
                snprintf(buf, size, "%s", words[rnd_below(sizeof(words) / sizeof(words[0]))]);
                return;
        }
        len = kind == 5 ? size - 1 : rnd_below(kind == 4 ? (unsigned) size - 1 : 16);
        for (size_t i = 0; i < len; i++)
                buf[i] = (char) (0x20 + rnd_below(0x5f)); /* printable ASCII: always valid UTF-8 */
        buf[len] = 0;
}

static uint64_t rnd_integer(void) {
        static const uint64_t edges[] = { 0,
                                          1,
                                          2,
                                          7,
                                          16,
                                          23,
                                          24,
                                          31,
                                          32,
                                          127,
                                          128,
                                          255,
                                          256,
                                          65535,
                                          65536,
                                          INT32_MAX,
                                          (uint64_t) INT32_MAX + 1,
                                          UINT32_MAX,
                                          INT64_MAX,
                                          (uint64_t) INT64_MAX + 1,
                                          UINT64_MAX };
        return rnd_below(3) ? edges[rnd_below(sizeof(edges) / sizeof(edges[0]))] : rnd();
}

/* Length of the single complete type at sig. */
static size_t type_len(const char *sig) {
        size_t depth = 0, i = 0;

        while (sig[i] == 'a')
                i++;
        do {
                if (sig[i] == 0)
                        return i;
                if (sig[i] == '(' || sig[i] == '{')
                        depth++;
                else if (sig[i] == ')' || sig[i] == '}')
                        depth--;
                i++;
        } while (depth > 0);
        return i;
}

static int append_type(sd_bus_message *m, const char *t, size_t len, unsigned depth);

static int append_fd(sd_bus_message *m) {
        int fd, r;
        char path[] = "/tmp/fuzz-bus-XXXXXX";

        switch (rnd_below(3)) {
        case 0:
                fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                break;
        case 1: {
                int p[2];
                if (pipe2(p, O_CLOEXEC) < 0)
                        return -errno;
                /* A write end left open: a reader that waits for EOF must not hang the daemon. */
                if (write(p[1], "# endpointd: serial=1\n", 22) < 0)
                        fprintf(stderr, "fuzz-bus: write to a pipe: %m\n");
                fd = p[0];
                r = sd_bus_message_append_basic(m, 'h', &fd);
                close(p[0]);
                close(p[1]);
                return r;
        }
        default:
                fd = mkostemp(path, O_CLOEXEC);
                if (fd >= 0) {
                        char buf[512];
                        size_t n = rnd_below(sizeof(buf));
                        for (size_t i = 0; i < n; i++)
                                buf[i] = (char) rnd();
                        if (write(fd, buf, n) != (ssize_t) n)
                                fprintf(stderr, "fuzz-bus: write to a temp file: %m\n");
                        (void) lseek(fd, 0, SEEK_SET);
                        unlink(path);
                }
        }
        if (fd < 0)
                return -errno;
        r = sd_bus_message_append_basic(m, 'h', &fd);
        close(fd);
        return r;
}

static int append_basic(sd_bus_message *m, char t) {
        char s[4200];
        uint64_t v = rnd_integer();
        double d;
        int b;

        switch (t) {
        case 's':
                rnd_string(s, rnd_below(4) ? 300 : sizeof(s));
                return sd_bus_message_append_basic(m, 's', s);
        case 'o':
                return sd_bus_message_append_basic(m, 'o', rnd_below(2) ? "/" : OBJECT_PATH);
        case 'g':
                return sd_bus_message_append_basic(m, 'g', rnd_below(2) ? "" : "a{sv}");
        case 'h':
                return append_fd(m);
        case 'b':
                b = (int) rnd_below(2);
                return sd_bus_message_append_basic(m, 'b', &b);
        case 'd':
                d = rnd_below(2) ? (double) (int64_t) v : -1.5;
                return sd_bus_message_append_basic(m, 'd', &d);
        default: /* y n q i u x t: the low bytes of a 64-bit value, little endian */
                return sd_bus_message_append_basic(m, t, &v);
        }
}

static int append_array(sd_bus_message *m, const char *elem, size_t elen, unsigned depth) {
        char sig[64];
        unsigned n;
        int r;

        snprintf(sig, sizeof(sig), "%.*s", (int) elen, elem);
        if (elen == 1 && elem[0] == 'y') {
                /* Byte arrays: empty, small, around the documented limits, random bytes. */
                static const size_t sizes[] = { 0, 1, 16, 32, 33, 64, 128, 129, 4096, 65536, 65537 };
                size_t len =
                        rnd_below(4) ? rnd_below(300) : sizes[rnd_below(sizeof(sizes) / sizeof(sizes[0]))];
                uint8_t *buf = malloc(len + 1);
                if (!buf)
                        return -ENOMEM;
                for (size_t i = 0; i < len; i++)
                        buf[i] = (uint8_t) rnd();
                if (len >= 4 && rnd_below(2))
                        memcpy(buf, "EPE\x01", 4); /* an envelope's magic, to get past the first check */
                r = sd_bus_message_append_array(m, 'y', buf, len);
                free(buf);
                return r;
        }
        r = sd_bus_message_open_container(m, 'a', sig);
        if (r < 0)
                return r;
        n = depth >= MAX_DEPTH ? 0 : rnd_below(rnd_below(8) ? 4 : 40);
        for (unsigned i = 0; i < n && r >= 0; i++)
                r = append_type(m, elem, elen, depth + 1);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(m);
}

static const char *const variant_types[] = { "b", "u", "s", "au", "ay", "t", "i", "as", "a{sv}" };

static int append_type(sd_bus_message *m, const char *t, size_t len, unsigned depth) {
        int r;

        switch (t[0]) {
        case 'a':
                return append_array(m, t + 1, len - 1, depth);
        case '(':
        case '{': {
                char inner[64];
                snprintf(inner, sizeof(inner), "%.*s", (int) len - 2, t + 1);
                r = sd_bus_message_open_container(m, t[0] == '(' ? 'r' : 'e', inner);
                for (size_t i = 0; r >= 0 && i < len - 2; i += type_len(inner + i))
                        r = append_type(m, inner + i, type_len(inner + i), depth + 1);
                return r < 0 ? r : sd_bus_message_close_container(m);
        }
        case 'v': {
                const char *vt = variant_types[rnd_below(sizeof(variant_types) / sizeof(variant_types[0]))];
                if (depth >= MAX_DEPTH)
                        vt = "u";
                r = sd_bus_message_open_container(m, 'v', vt);
                if (r >= 0)
                        r = append_type(m, vt, strlen(vt), depth + 1);
                return r < 0 ? r : sd_bus_message_close_container(m);
        }
        default:
                return append_basic(m, t[0]);
        }
}

static int append_signature(sd_bus_message *m, const char *sig) {
        int r = 0;

        for (size_t i = 0; r >= 0 && sig[i]; i += type_len(sig + i))
                r = append_type(m, sig + i, type_len(sig + i), 0);
        return r;
}

/* A signature for the wrong-type calls: none, fewer or more arguments, or
 * other types. */
static void wrong_signature(const char *right, char *buf, size_t size) {
        static const char *const parts[] = { "s",     "u", "t", "b",    "ay", "au",
                                             "a{sv}", "h", "i", "(ss)", "as", "v" };
        unsigned n;

        switch (rnd_below(4)) {
        case 0:
                buf[0] = 0;
                return;
        case 1: /* one argument more */
                snprintf(buf, size, "%s%s", right, parts[rnd_below(sizeof(parts) / sizeof(parts[0]))]);
                return;
        default:
                buf[0] = 0;
                n = rnd_below(4);
                for (unsigned i = 0; i < n; i++)
                        strncat(buf, parts[rnd_below(sizeof(parts) / sizeof(parts[0]))],
                                size - strlen(buf) - 1);
        }
}

/* ---- the calls ---------------------------------------------------------------- */

static char *owner;

static int check_owner(sd_bus *bus, const char *after) {
        sd_bus_message *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *now = NULL;
        int r;

        r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "GetNameOwner", &error, &reply, "s", BUS_NAME);
        if (r >= 0)
                r = sd_bus_message_read(reply, "s", &now);
        if (r < 0 || (owner && strcmp(owner, now) != 0)) {
                fprintf(stderr, "fuzz-bus: FAIL: %s no longer owns %s after %s (%s)\n",
                        owner ? owner : "the daemon", BUS_NAME, after, error.message ? error.message : "");
                r = -ESRCH;
        } else if (!owner)
                owner = strdup(now);
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        return r < 0 ? r : 0;
}

static int fuzz_one(sd_bus *bus, unsigned long i, uint64_t timeout_us, bool verbose) {
        Member *mb = &members[rnd_below((unsigned) n_members)];
        sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        char sig[256], what[512];
        bool wrong = rnd_below(5) == 0;
        int r;

        mb->calls++;
        if (mb->property) {
                unsigned op = rnd_below(4);
                const char *iface = rnd_below(8) ? mb->interface : "org.endpointd.Nope1";
                static const char *const ops[] = { "Get", "GetAll", "Set", "Get" };
                r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, OBJECT_PATH,
                                                   "org.freedesktop.DBus.Properties", ops[op]);
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", iface);
                const char *prop = rnd_below(8) ? mb->name : "Nope";
                if (r >= 0 && op != 1)
                        r = sd_bus_message_append(m, "s", prop);
                if (r >= 0 && op == 2) {
                        const char *vt = rnd_below(2) ? mb->signature : "s";
                        r = sd_bus_message_open_container(m, 'v', vt);
                        if (r >= 0)
                                r = append_signature(m, vt);
                        if (r >= 0)
                                r = sd_bus_message_close_container(m);
                }
                snprintf(what, sizeof(what), "#%lu Properties.%s(%s, %s)", i, ops[op], iface, prop);
        } else {
                if (wrong)
                        wrong_signature(mb->signature, sig, sizeof(sig));
                else
                        snprintf(sig, sizeof(sig), "%s", mb->signature);
                r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, OBJECT_PATH, mb->interface, mb->name);
                if (r >= 0)
                        r = append_signature(m, sig);
                snprintf(what, sizeof(what), "#%lu %s.%s(%s)%s", i, mb->interface, mb->name, sig,
                         wrong ? " [wrong types]" : "");
        }
        if (r < 0) {
                fprintf(stderr, "fuzz-bus: could not build %s: %s\n", what, strerror(-r));
                sd_bus_message_unref(m);
                return r;
        }
        r = sd_bus_call(bus, m, timeout_us, &error, &reply);
        if (r < 0 && !sd_bus_error_is_set(&error)) {
                fprintf(stderr, "fuzz-bus: FAIL: %s: no answer (%s)%s\n", what, strerror(-r),
                        r == -ETIMEDOUT ? ": the daemon hangs" : "");
                goto out;
        }
        if (r < 0) {
                count_error(error.name);
                if (strcmp(error.name, SD_BUS_ERROR_NO_REPLY) == 0 ||
                    strcmp(error.name, SD_BUS_ERROR_TIMEOUT) == 0) {
                        fprintf(stderr, "fuzz-bus: FAIL: %s: %s: %s (the daemon hangs or died)\n", what,
                                error.name, error.message);
                        goto out;
                }
                if (!is_documented(error.name)) {
                        fprintf(stderr, "fuzz-bus: FAIL: %s: undocumented error %s: %s\n", what, error.name,
                                error.message);
                        r = -EBADMSG;
                        goto out;
                }
                if (verbose)
                        fprintf(stderr, "%s -> %s: %s\n", what, error.name, error.message);
        } else {
                count_error("(success)");
                if (verbose)
                        fprintf(stderr, "%s -> ok\n", what);
        }
        r = 0;
out:
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        sd_bus_message_unref(m);
        return r;
}

static double now_sec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int main(int argc, char *argv[]) {
        unsigned long calls = 1000000, i;
        double seconds = 60, start;
        uint64_t seed = (uint64_t) time(NULL), timeout_s = 120;
        const char *manpage = NULL;
        bool verbose = false;
        sd_bus *bus = NULL;
        int c, r = 0;

        while ((c = getopt(argc, argv, "s:n:d:t:m:v")) >= 0)
                switch (c) {
                case 's':
                        seed = strtoull(optarg, NULL, 0);
                        break;
                case 'n':
                        calls = strtoul(optarg, NULL, 0);
                        break;
                case 'd':
                        seconds = strtod(optarg, NULL);
                        break;
                case 't':
                        timeout_s = strtoull(optarg, NULL, 0);
                        break;
                case 'm':
                        manpage = optarg;
                        break;
                case 'v':
                        verbose = true;
                        break;
                default:
                        return 2;
                }
        if (!manpage || optind >= argc) {
                fprintf(stderr, "usage: fuzz-bus [-s SEED] [-n CALLS] [-d SECONDS] [-t TIMEOUT_S] [-v] -m "
                                "MANPAGE XML...\n");
                return 2;
        }
        for (int k = optind; k < argc; k++)
                if (parse_xml(argv[k]) < 0) {
                        fprintf(stderr, "fuzz-bus: cannot read %s: %m\n", argv[k]);
                        return 2;
                }
        if (parse_manpage(manpage) < 0 || n_documented == 0 || n_members == 0) {
                fprintf(stderr, "fuzz-bus: no members or no documented errors (%s)\n", manpage);
                return 2;
        }
        rng_state = seed ? seed : 1;
        printf("fuzz-bus: seed %" PRIu64 ", uid %u, %zu members, %zu documented error names\n", seed,
               getuid(), n_members, n_documented);
        r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "fuzz-bus: cannot connect to the system bus: %s\n", strerror(-r));
                return 2;
        }
        if (check_owner(bus, "start") < 0)
                return 1;
        start = now_sec();
        for (i = 0; i < calls && now_sec() - start < seconds; i++) {
                r = fuzz_one(bus, i, timeout_s * 1000000, verbose);
                if (r < 0)
                        break;
                if (i % 64 == 63 && (r = check_owner(bus, "a call")) < 0)
                        break;
        }
        if (r >= 0)
                r = check_owner(bus, "the last call");
        printf("fuzz-bus: %lu calls in %.1f s, %s\n", i, now_sec() - start,
               r < 0 ? "FAILED" : "no defect found");
        for (size_t k = 0; k < n_seen; k++)
                printf("  %-45s %lu\n", seen[k].name, seen[k].n);
        for (size_t k = 0; k < n_members; k++)
                printf("  %s.%s%s %lu\n", members[k].interface, members[k].name,
                       members[k].property ? " (property)" : "", members[k].calls);
        sd_bus_flush_close_unref(bus);
        return r < 0 ? 1 : 0;
}
