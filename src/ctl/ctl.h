/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* endpointctl: options shared by the verbs, exit codes, and the verb
 * handlers. Documented in endpointctl(1). */

#include <stdbool.h>

/* Exit codes (also in endpointctl(1)). */
#define EXIT_OK          0
#define EXIT_FAILED      1   /* the operation was refused or failed */
#define EXIT_USAGE       2   /* bad command line */
#define EXIT_UNREACHABLE 3   /* the daemon or the bus cannot be reached */
#define EXIT_DENIED      4   /* the access policy denied the call */
#define EXIT_VIOLATED    5   /* integrity violations were found */

extern bool arg_json;
extern bool arg_no_progress;
extern bool arg_quiet;

/* Verb handlers return an exit code (>= 0) or a negative errno, which the
 * dispatcher turns into EXIT_FAILED. */
typedef int (*VerbFunction)(int argc, char *argv[]);

int verb_status(int argc, char *argv[]);
int verb_device_id(int argc, char *argv[]);
int verb_device_key(int argc, char *argv[]);
int verb_key(int argc, char *argv[]);
int verb_encrypt(int argc, char *argv[]);
int verb_decrypt(int argc, char *argv[]);
int verb_seal(int argc, char *argv[]);
int verb_unseal(int argc, char *argv[]);
int verb_sign(int argc, char *argv[]);
int verb_attest(int argc, char *argv[]);
int verb_scan(int argc, char *argv[]);
int verb_violations(int argc, char *argv[]);
int verb_verify(int argc, char *argv[]);
int verb_measurements(int argc, char *argv[]);
int verb_manifest(int argc, char *argv[]);
int verb_policy(int argc, char *argv[]);
int verb_grant(int argc, char *argv[]);
int verb_licence(int argc, char *argv[]);
