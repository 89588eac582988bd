/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* endpointctl: options shared by the verbs, exit codes, and the verb
 * handlers. Documented in endpointctl(1). */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

#include "macro.h"
#include "util.h"

/* Exit codes (also in endpointctl(1)). Verbs never return these: they
 * return 0, a negative errno or VERB_VIOLATIONS, and run() maps them in
 * one place (exit_status_from_verb() in endpointctl.c):
 *   -EINVAL        EXIT_USAGE       (bad command line, or InvalidArgs from the daemon)
 *   -EHOSTUNREACH  EXIT_UNREACHABLE (no bus, or endpointd is not on it; only ctl-bus.c makes it)
 *   -EACCES        EXIT_DENIED      (AccessDenied, or "policy check" answered no)
 *   VERB_VIOLATIONS EXIT_VIOLATED   (integrity violations were found)
 *   other < 0      EXIT_FAILED
 * A verb that judged a local file bad (it does not parse, its signature
 * does not verify) returns -EBADMSG, never the parser's -EINVAL. */
#define EXIT_OK          0
#define EXIT_FAILED      1   /* the operation was refused or failed */
#define EXIT_USAGE       2   /* bad command line */
#define EXIT_UNREACHABLE 3   /* the daemon or the bus cannot be reached */
#define EXIT_DENIED      4   /* the access policy denied the call */
#define EXIT_VIOLATED    5   /* integrity violations were found */

/* The one positive verb result: the verb worked and found violations. */
#define VERB_VIOLATIONS 1

typedef enum JsonFormat {
        JSON_OFF,
        JSON_PRETTY,
        JSON_SHORT,
        _JSON_FORMAT_MAX,
        _JSON_FORMAT_INVALID = -EINVAL,
} JsonFormat;

/* Global options. */
extern JsonFormat arg_json;
extern bool arg_no_progress;
extern bool arg_quiet;
extern bool arg_full;
extern bool arg_legend;
extern bool arg_utc;
extern const char *arg_config; /* --config=FILE; NULL: the default file */

/* Verb options; endpointctl.c checks that the verb takes each one given. */
extern uint32_t arg_pcr_mask;
extern bool arg_pcrs_set;
extern bool arg_exportable;
extern const char *arg_aad;
extern const char *arg_nonce;
extern const char *arg_output;
extern uint64_t arg_serial; /* 0: not given */
extern const char *arg_product;
extern const char *arg_release_version; /* manifest create --version */
extern const char *arg_trust;
extern bool arg_policy_signed; /* --policy=signed (seal, key create) */
extern char **arg_ignore; /* NULL-terminated, normalised ("var/log") */
extern usec_t arg_since; /* audit show --since: CLOCK_REALTIME µs, 0: not given */
extern const char *arg_kind; /* audit show --kind */
extern bool arg_follow; /* audit show, violations --follow */
extern const char *arg_audit_dir;  /* audit verify --dir */
extern const char *arg_device_key; /* audit verify --device-key (PEM public key) */
extern uint64_t arg_counter;       /* audit verify --counter */
extern bool arg_counter_set;

/* Handlers get the verb's arguments with argv[0] the verb's last word
 * ("create" for "key create"), so argv[1] is the first argument; argc was
 * checked against the table. userdata is the connected sd_bus for verbs
 * flagged VERB_BUS, NULL otherwise. They return 0, VERB_VIOLATIONS or a
 * negative errno, having printed what went wrong. */
typedef int (*VerbFunction)(int argc, char *argv[], void *userdata);

int verb_status(int argc, char *argv[], void *userdata);
int verb_device_id(int argc, char *argv[], void *userdata);
int verb_device_key(int argc, char *argv[], void *userdata);
int verb_device_csr(int argc, char *argv[], void *userdata);
int verb_device_ek(int argc, char *argv[], void *userdata);
int verb_device_ak(int argc, char *argv[], void *userdata);
int verb_activate_credential(int argc, char *argv[], void *userdata);
int verb_key_create(int argc, char *argv[], void *userdata);
int verb_key_list(int argc, char *argv[], void *userdata);
int verb_key_delete(int argc, char *argv[], void *userdata);
int verb_encrypt(int argc, char *argv[], void *userdata);
int verb_decrypt(int argc, char *argv[], void *userdata);
int verb_seal(int argc, char *argv[], void *userdata);
int verb_unseal(int argc, char *argv[], void *userdata);
int verb_sign(int argc, char *argv[], void *userdata);
int verb_attest(int argc, char *argv[], void *userdata);
int verb_approval_make(int argc, char *argv[], void *userdata);
int verb_approval_install(int argc, char *argv[], void *userdata);
int verb_scan(int argc, char *argv[], void *userdata);
int verb_violations(int argc, char *argv[], void *userdata);
int verb_verify(int argc, char *argv[], void *userdata);
int verb_measurements(int argc, char *argv[], void *userdata);
int verb_manifest_create(int argc, char *argv[], void *userdata);
int verb_manifest_install(int argc, char *argv[], void *userdata);
int verb_manifest_show(int argc, char *argv[], void *userdata);
int verb_manifest_check(int argc, char *argv[], void *userdata);
int verb_policy_show(int argc, char *argv[], void *userdata);
int verb_policy_check(int argc, char *argv[], void *userdata);
int verb_policy_reload(int argc, char *argv[], void *userdata);
int verb_policy_verify(int argc, char *argv[], void *userdata);
int verb_grant_install(int argc, char *argv[], void *userdata);
int verb_grant_list(int argc, char *argv[], void *userdata);
int verb_grant_revoke(int argc, char *argv[], void *userdata);
int verb_grant_check(int argc, char *argv[], void *userdata);
int verb_licence_install(int argc, char *argv[], void *userdata);
int verb_licence_list(int argc, char *argv[], void *userdata);
int verb_licence_check(int argc, char *argv[], void *userdata);
int verb_licence_verify(int argc, char *argv[], void *userdata);
int verb_audit_show(int argc, char *argv[], void *userdata);
int verb_monitor(int argc, char *argv[], void *userdata);
/* violations --follow (verb-events.c) */
int verb_violations_follow(sd_bus *bus);

/* --since TIME: "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]" (also with T; local
 * time, UTC with --utc or a trailing Z), "@SECONDS" since the epoch, or
 * "-SPAN" before now (e.g. -1h, -30min). Returns 0 or -EINVAL. */
int parse_since(const char *s, usec_t *ret);
int verb_audit_verify(int argc, char *argv[], void *userdata);

/* Helpers the Keys1 and approval verbs share (verb-keys.c). */
typedef struct json_object json_object;
typedef struct sd_bus sd_bus;
typedef struct sd_bus_message sd_bus_message;
/* Adds key: base64 of p (n bytes) to o; adds key: [PCR indices of mask]
 * to o. Both return 0 or -ENOMEM. */
int json_add_base64(json_object *o, const char *key, const void *p, size_t n);
int json_add_pcrs(json_object *o, const char *key, uint32_t mask);
/* Reads the DeviceId property: 0 with *ret_id pointing into *ret_reply
 * (the caller unrefs it), or a negative errno, printed (-ENODEV while no
 * TPM has been seen). */
int ctl_device_id_read(sd_bus *bus, sd_bus_message **ret_reply, const char **ret_id);

/* Prints one usage mistake: "MESSAGE; usage: endpointctl VERB ARGS" for the
 * verb being run, and returns -EINVAL. */
int verb_usage_error(const char *format, ...) _printf_(1, 2);
