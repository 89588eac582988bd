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
        bool audit;                          /* Enabled= */
        uint32_t audit_checkpoint_records;   /* CheckpointRecords= */
        usec_t audit_checkpoint_interval;    /* CheckpointInterval= */
        usec_t audit_sync_interval;          /* SyncInterval=, 0: every record */
        uint64_t audit_max_file_size;        /* MaxFileSize= (bytes) */
        uint64_t audit_max_total_size;       /* MaxTotalSize= (bytes) */
        EventsAllowedLevel audit_allowed_calls; /* AllowedCalls= */
} Config;

/* Called for each tolerated problem (unknown section or key). */
typedef void (*ConfigWarn)(const char *file, unsigned line, const char *message, void *userdata);

/* Returns a Config with every default filled in. */
int config_new_default(Config **ret);

/* Parses the file at path over the defaults. Returns -ENOENT etc. on I/O
 * errors, -EBADMSG/-E2BIG on syntax, -EINVAL/-ERANGE on a bad value and
 * -EEXIST on a duplicate key, each with error filled (line 0 for I/O). */
int config_load(const char *path, ConfigWarn warn, void *userdata, Config **ret, ParseError *error);
/* Same, for a buffer; path is used in messages only. */
int config_parse(const char *path, const char *data, size_t len, ConfigWarn warn, void *userdata,
                 Config **ret, ParseError *error);

Config *config_free(Config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Config *, config_free);
