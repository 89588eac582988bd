/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* endpointd.conf: every key is documented in endpointd.conf(5). */

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

#define CONFIG_FILE_DEFAULT SYSCONFDIR "/endpointd/endpointd.conf"
#define CONFIG_FILE_MAX (1024U * 1024U)

typedef enum SeccompMode {
        SECCOMP_MODE_ENFORCE,
        SECCOMP_MODE_LOG,
        SECCOMP_MODE_OFF,
        _SECCOMP_MODE_MAX,
        _SECCOMP_MODE_INVALID = -EINVAL,
} SeccompMode;

const char *seccomp_mode_to_string(SeccompMode m) _pure_;
SeccompMode seccomp_mode_from_string(const char *s) _pure_;

/* [Audit] AllowedCalls=: which allowed privileged calls are events
 * (events.h): none, only those that change something (the default), or
 * every one (also reads). */
typedef enum EventsAllowedLevel {
        EVENTS_ALLOWED_NONE,
        EVENTS_ALLOWED_CHANGES,
        EVENTS_ALLOWED_ALL,
        _EVENTS_ALLOWED_MAX,
        _EVENTS_ALLOWED_INVALID = -EINVAL,
} EventsAllowedLevel;

const char *events_allowed_level_to_string(EventsAllowedLevel l) _pure_;
EventsAllowedLevel events_allowed_level_from_string(const char *s) _pure_;

typedef struct Config {
        char *path;

        /* [Daemon] */
        char *state_dir;
        char *runtime_dir;
        char *user;
        int log_level;
        SeccompMode seccomp;

        /* [TPM] */
        char *tcti;
        char *owner_auth_file; /* NULL: the credential tpm-owner-auth, if any */
        uint32_t pcr_mask;
        unsigned measurement_pcr;
        usec_t key_cache_timeout;

        /* [Integrity] */
        char *root;
        char *trust_dir;
        usec_t scan_interval;
        unsigned scan_threads; /* 0: one per online CPU */
        bool watch;

        /* [Policy] */
        char *policy_file;
        uint32_t rate_limit_burst;
        uint32_t rate_limit_per_sec;

        /* [Audit] */
        bool audit; /* Enabled= */
        uint32_t audit_checkpoint_records; /* CheckpointRecords= */
        usec_t audit_checkpoint_interval; /* CheckpointInterval= */
        usec_t audit_checkpoint_min_interval; /* CheckpointMinInterval=, 0: none */
        usec_t audit_sync_interval; /* SyncInterval=, 0: every record */
        uint64_t audit_max_file_size; /* MaxFileSize= (bytes) */
        uint64_t audit_max_total_size; /* MaxTotalSize= (bytes) */
        EventsAllowedLevel audit_allowed_calls; /* AllowedCalls= */
} Config;

/* Called for each tolerated problem (unknown section or key). */
typedef void (*ConfigWarn)(const char *file, unsigned line, const char *message, void *userdata);

/* Returns a Config with every default filled in. */
int config_new_default(Config **ret);

/* How many drop-ins of endpointd.conf.d/ are read at the most. */
#define CONFIG_DROPINS_MAX 1024U

typedef enum ConfigLoadFlags {
        CONFIG_LOAD_MISSING_OK = 1U << 0, /* no file at path: the defaults (and the drop-ins) */
} ConfigLoadFlags;

/* Loads the configuration as endpointd and endpointctl both read it: the
 * defaults, then the file at path, then the drop-ins PATH.d/NAME.conf in
 * byte order of their names (see config_dropin_files()). A later file
 * overrides a key an earlier one set; a key twice in one file is an error.
 * Returns -ENOENT etc. on I/O errors (-ENOENT for path only without
 * CONFIG_LOAD_MISSING_OK), -EBADMSG/-E2BIG on syntax, -EINVAL/-ERANGE on a
 * bad value and -EEXIST on a duplicate key, each with error filled (line 0
 * for I/O) and, if ret_error_file is non-NULL, *ret_error_file set to a
 * malloc'ed copy of the file's path (the caller frees it). c->path is
 * path. */
int config_load(const char *path, ConfigLoadFlags flags, ConfigWarn warn, void *userdata, Config **ret,
                ParseError *error, char **ret_error_file);

/* The drop-ins of the configuration file at path, in the order they are
 * read: the regular files "*.conf" of the directory "PATH.d", names not
 * starting with '.', sorted bytewise; one that is a symlink to /dev/null
 * masks the name and is left out. No directory: an empty list. Returns 0
 * with a NULL-terminated list the caller frees with words_free(), -E2BIG
 * above CONFIG_DROPINS_MAX names, -ENOMEM or the errno of reading the
 * directory. */
int config_dropin_files(const char *path, char ***ret);
/* Same, for a buffer; path is used in messages only. */
int config_parse(const char *path, const char *data, size_t len, ConfigWarn warn, void *userdata,
                 Config **ret, ParseError *error);

Config *config_free(Config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Config *, config_free);
