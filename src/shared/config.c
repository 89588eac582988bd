/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <syslog.h>

#include "config.h"
#include "fileio.h"
#include "ini.h"
#include "log.h"
#include "policy.h"

static const char *const seccomp_mode_table[_SECCOMP_MODE_MAX] = {
        [SECCOMP_MODE_ENFORCE] = "yes",
        [SECCOMP_MODE_LOG] = "log",
        [SECCOMP_MODE_OFF] = "no",
};

const char *seccomp_mode_to_string(SeccompMode m) {
        return m >= 0 && m < _SECCOMP_MODE_MAX ? seccomp_mode_table[m] : NULL;
}

static const char *const allowed_levels[_EVENTS_ALLOWED_MAX] = {
        [EVENTS_ALLOWED_NONE] = "none",
        [EVENTS_ALLOWED_CHANGES] = "changes",
        [EVENTS_ALLOWED_ALL] = "all",
};

const char *events_allowed_level_to_string(EventsAllowedLevel l) {
        return l >= 0 && l < _EVENTS_ALLOWED_MAX ? allowed_levels[l] : NULL;
}

EventsAllowedLevel events_allowed_level_from_string(const char *s) {
        for (EventsAllowedLevel l = 0; s && l < _EVENTS_ALLOWED_MAX; l++)
                if (streq(allowed_levels[l], s))
                        return l;
        return _EVENTS_ALLOWED_INVALID;
}

SeccompMode seccomp_mode_from_string(const char *s) {
        for (int i = 0; i < _SECCOMP_MODE_MAX; i++)
                if (streq(s, seccomp_mode_table[i]))
                        return (SeccompMode) i;
        return _SECCOMP_MODE_INVALID;
}

typedef int (*ConfigParser)(const char *value, void *field, ParseError *e, unsigned line);

static int replace_string(char **field, const char *value) {
        char *s = strdup(value);

        if (!s)
                return -ENOMEM;
        free(*field);
        *field = s;
        return 0;
}

static int parse_path(const char *value, void *field, ParseError *e, unsigned line) {
        if (value[0] != '/')
                return parse_error_set(e, line, EINVAL, "'%s' is not an absolute path", value);
        if (strstr(value, "/../") || (strlen(value) >= 3 && streq(value + strlen(value) - 3, "/..")))
                return parse_error_set(e, line, EINVAL, "path '%s' contains '..'", value);
        if (strlen(value) >= 4096)
                return parse_error_set(e, line, EINVAL, "path too long");
        return replace_string(field, value);
}

static int parse_nonempty_string(const char *value, void *field, ParseError *e, unsigned line) {
        if (isempty(value))
                return parse_error_set(e, line, EINVAL, "value must not be empty");
        return replace_string(field, value);
}

static int parse_user(const char *value, void *field, ParseError *e, unsigned line) {
        size_t n = strlen(value);

        /* The portable POSIX user name set, as useradd accepts it. */
        if (n == 0 || n > 32 || value[0] == '-' ||
            strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != n)
                return parse_error_set(e, line, EINVAL, "'%s' is not a valid user name", value);
        return replace_string(field, value);
}

static int parse_pcrs(const char *value, void *field, ParseError *e, unsigned line) {
        int r = parse_pcr_list(value, field);

        if (r == -ERANGE)
                return parse_error_set(e, line, ERANGE, "PCR index in '%s' is above 23", value);
        if (r < 0)
                return parse_error_set(e, line, EINVAL, "'%s' is not a PCR list like '7' or '0,2-4'", value);
        return 0;
}

static int parse_pcr_index(const char *value, void *field, ParseError *e, unsigned line) {
        uint64_t v;
        int r = parse_uint64(value, 23, &v);

        if (r < 0)
                return parse_error_set(e, line, r == -ERANGE ? ERANGE : EINVAL,
                                       "'%s' is not a PCR index between 0 and 23", value);
        *(unsigned *) field = (unsigned) v;
        return 0;
}

static int parse_span(const char *value, void *field, ParseError *e, unsigned line) {
        int r = parse_timespan(value, field);

        if (r < 0)
                return parse_error_set(e, line, r == -ERANGE ? ERANGE : EINVAL,
                                       "'%s' is not a time span like '1h', '30min' or '90s'", value);
        return 0;
}

/* A span for which 0 would have no sensible meaning (it would be read as
 * "never" or as the default, not as "continuously"): refused. */
static int parse_span_nonzero(const char *value, void *field, ParseError *e, unsigned line) {
        usec_t v;
        int r = parse_span(value, &v, e, line);

        if (r < 0)
                return r;
        if (v == 0)
                return parse_error_set(e, line, ERANGE, "'%s' must be longer than 0 (infinity means never)",
                                       value);
        *(usec_t *) field = v;
        return 0;
}

/* CheckpointMinInterval=: 0 (no minimum) up to an hour; longer would leave
 * the tail of the log unanchored for longer than anyone should expect. */
static int parse_checkpoint_min_interval(const char *value, void *field, ParseError *e, unsigned line) {
        usec_t v;
        int r = parse_span(value, &v, e, line);

        if (r < 0)
                return r;
        if (v > USEC_PER_HOUR)
                return parse_error_set(e, line, ERANGE, "'%s' is longer than 1h", value);
        *(usec_t *) field = v;
        return 0;
}

static int parse_unsigned(const char *value, void *field, ParseError *e, unsigned line) {
        uint64_t v;
        int r = parse_uint64(value, 1U << 20, &v);

        if (r < 0)
                return parse_error_set(e, line, r == -ERANGE ? ERANGE : EINVAL,
                                       "'%s' is not a number between 0 and %u", value, 1U << 20);
        *(unsigned *) field = (unsigned) v;
        return 0;
}

static int parse_positive_u32(const char *value, void *field, ParseError *e, unsigned line) {
        uint32_t v;
        int r = parse_uint32(value, &v);

        if (r < 0 || v == 0)
                return parse_error_set(e, line, r == -ERANGE ? ERANGE : EINVAL,
                                       "'%s' is not a positive number", value);
        *(uint32_t *) field = v;
        return 0;
}

static int parse_bool(const char *value, void *field, ParseError *e, unsigned line) {
        int r = parse_boolean(value);

        if (r < 0)
                return parse_error_set(e, line, EINVAL, "'%s' is not a boolean (yes/no)", value);
        *(bool *) field = r;
        return 0;
}

static int parse_log_level(const char *value, void *field, ParseError *e, unsigned line) {
        int l = log_level_from_string(value);

        if (l < 0)
                return parse_error_set(e, line, EINVAL,
                                       "'%s' is not a log level (err, warning, notice, info, debug)", value);
        *(int *) field = l;
        return 0;
}

static int parse_seccomp(const char *value, void *field, ParseError *e, unsigned line) {
        SeccompMode m = seccomp_mode_from_string(value);

        if (m < 0)
                return parse_error_set(e, line, EINVAL, "'%s' is not one of yes, log, no", value);
        *(SeccompMode *) field = m;
        return 0;
}

static int parse_allowed_calls(const char *value, void *field, ParseError *e, unsigned line) {
        EventsAllowedLevel l = events_allowed_level_from_string(value);

        if (l < 0)
                return parse_error_set(e, line, EINVAL, "'%s' is not one of none, changes, all", value);
        *(EventsAllowedLevel *) field = l;
        return 0;
}

/* A size in bytes with an optional K, M or G (powers of 1024), at least
 * 64K and at most 1T: "8M", "65536". */
static int parse_size(const char *value, void *field, ParseError *e, unsigned line) {
        static const struct {
                char suffix;
                unsigned shift;
        } units[] = { { 'K', 10 }, { 'M', 20 }, { 'G', 30 } };
        char digits[32];
        unsigned shift = 0;
        size_t n = strlen(value);
        uint64_t v;
        int r;

        for (size_t i = 0; n > 0 && i < ELEMENTSOF(units); i++)
                if (value[n - 1] == units[i].suffix) {
                        shift = units[i].shift;
                        n--;
                }
        if (n == 0 || n >= sizeof(digits))
                return parse_error_set(e, line, EINVAL, "'%s' is not a size like '8M' or '65536'", value);
        memcpy(digits, value, n);
        digits[n] = 0;
        r = parse_uint64(digits, UINT64_C(1) << (40 - shift), &v);
        if (r == -ERANGE || (r >= 0 && (v << shift) < 64U * 1024U))
                return parse_error_set(e, line, ERANGE, "'%s' is not a size between 64K and 1024G", value);
        if (r < 0)
                return parse_error_set(e, line, EINVAL, "'%s' is not a size like '8M' or '65536'", value);
        *(uint64_t *) field = v << shift;
        return 0;
}

static const struct ConfigItem {
        const char *section;
        const char *key;
        ConfigParser parse;
        size_t offset;
} config_items[] = {
        { "Daemon", "StateDirectory", parse_path, offsetof(Config, state_dir) },
        { "Daemon", "RuntimeDirectory", parse_path, offsetof(Config, runtime_dir) },
        { "Daemon", "User", parse_user, offsetof(Config, user) },
        { "Daemon", "LogLevel", parse_log_level, offsetof(Config, log_level) },
        { "Daemon", "Seccomp", parse_seccomp, offsetof(Config, seccomp) },
        { "TPM", "TCTI", parse_nonempty_string, offsetof(Config, tcti) },
        { "TPM", "OwnerAuthFile", parse_path, offsetof(Config, owner_auth_file) },
        { "TPM", "PCRs", parse_pcrs, offsetof(Config, pcr_mask) },
        { "TPM", "MeasurementPCR", parse_pcr_index, offsetof(Config, measurement_pcr) },
        { "TPM", "KeyCacheTimeout", parse_span, offsetof(Config, key_cache_timeout) },
        { "Integrity", "Root", parse_path, offsetof(Config, root) },
        { "Integrity", "TrustDirectory", parse_path, offsetof(Config, trust_dir) },
        { "Integrity", "ScanInterval", parse_span_nonzero, offsetof(Config, scan_interval) },
        { "Integrity", "ScanThreads", parse_unsigned, offsetof(Config, scan_threads) },
        { "Integrity", "Watch", parse_bool, offsetof(Config, watch) },
        { "Policy", "File", parse_path, offsetof(Config, policy_file) },
        { "Policy", "RateLimitBurst", parse_positive_u32, offsetof(Config, rate_limit_burst) },
        { "Policy", "RateLimitPerSecond", parse_positive_u32, offsetof(Config, rate_limit_per_sec) },
        { "Audit", "Enabled", parse_bool, offsetof(Config, audit) },
        { "Audit", "CheckpointRecords", parse_positive_u32, offsetof(Config, audit_checkpoint_records) },
        { "Audit", "CheckpointInterval", parse_span_nonzero, offsetof(Config, audit_checkpoint_interval) },
        { "Audit", "CheckpointMinInterval", parse_checkpoint_min_interval,
          offsetof(Config, audit_checkpoint_min_interval) },
        { "Audit", "SyncInterval", parse_span, offsetof(Config, audit_sync_interval) },
        { "Audit", "MaxFileSize", parse_size, offsetof(Config, audit_max_file_size) },
        { "Audit", "MaxTotalSize", parse_size, offsetof(Config, audit_max_total_size) },
        { "Audit", "AllowedCalls", parse_allowed_calls, offsetof(Config, audit_allowed_calls) },
};

int config_new_default(Config **ret) {
        _cleanup_(config_freep) Config *c = calloc(1, sizeof(Config));

        if (!c)
                return -ENOMEM;
        c->state_dir = strdup(LOCALSTATEDIR "/lib/endpointd");
        c->runtime_dir = strdup("/run/endpointd");
        c->user = strdup("endpointd");
        c->tcti = strdup("device:/dev/tpmrm0");
        c->root = strdup("/");
        c->trust_dir = strdup(SYSCONFDIR "/endpointd/trust");
        c->policy_file = strdup(SYSCONFDIR "/endpointd/policy.conf");
        if (!c->state_dir || !c->runtime_dir || !c->user || !c->tcti || !c->root || !c->trust_dir ||
            !c->policy_file)
                return -ENOMEM;
        c->log_level = LOG_INFO;
        c->seccomp = SECCOMP_MODE_ENFORCE;
        c->pcr_mask = 1U << 7;
        c->measurement_pcr = 14;
        c->key_cache_timeout = 5 * USEC_PER_MINUTE;
        c->scan_interval = USEC_PER_HOUR;
        c->watch = true;
        c->rate_limit_burst = 200;
        c->rate_limit_per_sec = 100;
        c->audit = true;
        c->audit_checkpoint_records = 1000;
        c->audit_checkpoint_interval = 5 * USEC_PER_MINUTE;
        c->audit_checkpoint_min_interval = 10 * USEC_PER_SEC;
        /* Written at once (a SIGKILL loses nothing), synced within 1 s: one
         * fdatasync per record would let a flood of events (10000
         * violations) stall the daemon for minutes. */
        c->audit_sync_interval = USEC_PER_SEC;
        c->audit_max_file_size = 8U * 1024U * 1024U;
        c->audit_max_total_size = 64U * 1024U * 1024U;
        c->audit_allowed_calls = EVENTS_ALLOWED_CHANGES;
        *ret = TAKE_PTR(c);
        return 0;
}

typedef struct ParseState {
        Config *config;
        const char *path;
        ConfigWarn warn;
        void *userdata;
        bool known_section;
        unsigned seen_line[ELEMENTSOF(config_items)];
} ParseState;

static void warn_at(ParseState *s, unsigned line, const char *section, const char *key) {
        char msg[256];

        if (!s->warn)
                return;
        if (key)
                (void) snprintf(msg, sizeof(msg), "Unknown key %s= in section [%s], ignoring.", key,
                                section);
        else
                (void) snprintf(msg, sizeof(msg), "Unknown section [%s], ignoring.", section);
        s->warn(s->path, line, msg, s->userdata);
}

static int config_handler(const char *section, const char *key, const char *value, unsigned line,
                          void *userdata, ParseError *error) {
        ParseState *s = userdata;

        if (!key) {
                s->known_section = false;
                for (size_t i = 0; i < ELEMENTSOF(config_items); i++)
                        if (streq(config_items[i].section, section))
                                s->known_section = true;
                if (!s->known_section)
                        warn_at(s, line, section, NULL);
                return 0;
        }
        if (!s->known_section)
                return 0;

        for (size_t i = 0; i < ELEMENTSOF(config_items); i++) {
                const struct ConfigItem *item = config_items + i;

                if (!streq(item->section, section) || !streq(item->key, key))
                        continue;
                if (s->seen_line[i] > 0)
                        return parse_error_set(error, line, EEXIST,
                                               "duplicate key %s=, first set on line %u", key,
                                               s->seen_line[i]);
                s->seen_line[i] = line;
                return item->parse(value, (uint8_t *) s->config + item->offset, error, line);
        }
        warn_at(s, line, section, key);
        return 0;
}

/* Parses one file's text over c: a key set twice in the same file is an
 * error, a key of an earlier file is overridden. */
static int config_parse_into(Config *c, const char *path, const char *data, size_t len, ConfigWarn warn,
                             void *userdata, ParseError *error) {
        ParseState s = { .config = c, .path = path, .warn = warn, .userdata = userdata };

        return ini_parse(data, len, config_handler, &s, error);
}

int config_parse(const char *path, const char *data, size_t len, ConfigWarn warn, void *userdata,
                 Config **ret, ParseError *error) {
        _cleanup_(config_freep) Config *c = NULL;
        int r;

        r = config_new_default(&c);
        if (r < 0)
                return parse_error_set(error, 0, -r, "out of memory");
        r = config_parse_into(c, path, data, len, warn, userdata, error);
        if (r < 0)
                return r;
        c->path = strdup(path);
        if (!c->path)
                return parse_error_set(error, 0, ENOMEM, "out of memory");
        *ret = TAKE_PTR(c);
        return 0;
}

static int config_load_file(Config *c, const char *path, ConfigWarn warn, void *userdata,
                            ParseError *error) {
        _cleanup_(freep) char *data = NULL;
        const char *why = NULL;
        size_t len;
        int r;

        r = read_trusted_file(path, CONFIG_FILE_MAX, &data, &len, &why);
        if (r == -EFBIG)
                return parse_error_set(error, 0, EFBIG, "file larger than %u bytes", CONFIG_FILE_MAX);
        if (r == -EPERM && why)
                return parse_error_set(error, 0, EPERM, "refused: %s (see endpointd.conf(5))", why);
        if (r < 0)
                return parse_error_set(error, 0, -r, "cannot read: %s", strerror(-r));
        return config_parse_into(c, path, data, len, warn, userdata, error);
}

static int dropin_filter(const struct dirent *d) {
        size_t n = strlen(d->d_name);

        /* "name.conf", not hidden: editors' and package managers' leftovers
         * (".#x.conf", "x.conf~", "x.conf.dpkg-new") are skipped. */
        return d->d_name[0] != '.' && n > 5 && streq(d->d_name + n - 5, ".conf");
}

static int dropin_compare(const struct dirent **a, const struct dirent **b) {
        /* Byte order, whatever the locale: the order must not depend on who reads. */
        return strcmp((*a)->d_name, (*b)->d_name);
}

/* A drop-in that is a symlink to /dev/null is masked, as with systemd. */
static bool dropin_masked(const char *path) {
        struct stat st;

        return stat(path, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
}

static void dirents_free(struct dirent **entries, int n) {
        for (int i = 0; i < n; i++)
                free(entries[i]);
        free(entries);
}

int config_dropin_files(const char *path, char ***ret) {
        _cleanup_(words_freep) char **l = NULL;
        _cleanup_(freep) char *dir = NULL;
        struct dirent **entries = NULL;
        size_t k = 0;
        int n;

        if (asprintf(&dir, "%s.d", path) < 0)
                return -ENOMEM;
        n = scandir(dir, &entries, dropin_filter, dropin_compare);
        if (n < 0 && errno != ENOENT && errno != ENOTDIR)
                return -errno;

        n = MAX(n, 0);
        if ((unsigned) n > CONFIG_DROPINS_MAX) {
                dirents_free(entries, n);
                return -E2BIG;
        }
        l = calloc((size_t) n + 1, sizeof(char *));
        for (int i = 0; l && i < n; i++) {
                char *p;

                if (asprintf(&p, "%s/%s", dir, entries[i]->d_name) < 0) {
                        l = words_free(l);
                        break;
                }
                if (dropin_masked(p))
                        free(p);
                else
                        l[k++] = p;
        }
        dirents_free(entries, n);
        if (!l)
                return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

int config_load(const char *path, ConfigLoadFlags flags, ConfigWarn warn, void *userdata, Config **ret,
                ParseError *error, char **ret_error_file) {
        _cleanup_(config_freep) Config *c = NULL;
        char **dropins = NULL;
        const char *failed = path;
        int r;

        r = config_new_default(&c);
        if (r < 0)
                return parse_error_set(error, 0, -r, "out of memory");
        c->path = strdup(path);
        if (!c->path)
                return parse_error_set(error, 0, ENOMEM, "out of memory");
        r = config_load_file(c, path, warn, userdata, error);
        if (r == -ENOENT && (flags & CONFIG_LOAD_MISSING_OK))
                r = 0;
        if (r >= 0) {
                _cleanup_(freep) char *dir = NULL;
                const char *why = NULL;

                /* Whoever may write the directory may add a drop-in. */
                if (asprintf(&dir, "%s.d", path) < 0)
                        return parse_error_set(error, 0, ENOMEM, "out of memory");
                if (dir_check_trusted(dir, &why) == -EPERM)
                        r = parse_error_set(error, 0, EPERM, "%s/ refused: %s (see endpointd.conf(5))", dir, why);
                else {
                        r = config_dropin_files(path, &dropins);
                        if (r == -E2BIG)
                                r = parse_error_set(error, 0, E2BIG, "more than %u drop-ins in %s/",
                                                    CONFIG_DROPINS_MAX, dir);
                        else if (r < 0)
                                r = parse_error_set(error, 0, -r, "cannot list %s/: %s", dir, strerror(-r));
                }
        }
        for (size_t i = 0; r >= 0 && dropins && dropins[i]; i++) {
                failed = dropins[i];
                r = config_load_file(c, dropins[i], warn, userdata, error);
        }
        if (r < 0 && ret_error_file)
                *ret_error_file = strdup(failed);
        words_free(dropins);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

Config *config_free(Config *c) {
        if (!c)
                return NULL;
        free(c->path);
        free(c->state_dir);
        free(c->runtime_dir);
        free(c->user);
        free(c->tcti);
        free(c->owner_auth_file);
        free(c->root);
        free(c->trust_dir);
        free(c->policy_file);
        free(c);
        return NULL;
}
