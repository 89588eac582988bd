/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The access policy, policy.conf (endpointd-policy(5)): roles are sets of
 * permission patterns, subjects (users, groups, uids, gids; a system user
 * optionally narrowed to one service unit and its executable) are bound to
 * roles. Default deny: whatever no
 * role of a matching subject allows is refused. The daemon and endpointctl
 * both use this parser, so "endpointctl policy verify" says exactly what
 * the daemon would say. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

#define POLICY_FILE_MAX (1024U * 1024U)
/* Longest permission string we accept, "keys.use:" plus a 64-byte name fits. */
#define POLICY_PERMISSION_MAX 128U

typedef enum SubjectKind {
        SUBJECT_USER,
        SUBJECT_GROUP,
        SUBJECT_UID,
        SUBJECT_GID,
        _SUBJECT_KIND_MAX,
        _SUBJECT_KIND_INVALID = -EINVAL,
} SubjectKind;

/* "user", "group", "uid", "gid". */
const char *subject_kind_to_string(SubjectKind k) _pure_;
SubjectKind subject_kind_from_string(const char *s) _pure_;

/* Who is asking, as the bus daemon vouches for it. */
typedef struct PolicyCaller {
        uid_t uid;
        gid_t gid; /* primary gid, or (gid_t) -1 when the bus did not say */
        const gid_t *gids; /* supplementary gids */
        size_t n_gids;
} PolicyCaller;

/* A subject: "user:NAME", "group:NAME", "uid:N" or "gid:N". Names are
 * resolved to ids when parsed; an unknown name never matches anybody. */
typedef struct PolicySubject {
        SubjectKind kind;
        char *name; /* as written, "user:alice" */
        uint32_t id;
        bool resolved;
} PolicySubject;

/* Parses "KIND:VALUE" into s (contents owned by s, release with
 * policy_subject_done()). -EINVAL on bad syntax; an unknown user or group is
 * not an error but leaves s->resolved false. */
int policy_subject_parse(const char *text, PolicySubject *s);
void policy_subject_done(PolicySubject *s);
bool policy_subject_match(const PolicySubject *s, const PolicyCaller *c) _pure_;

/* Whether perm is a syntactically valid permission: "a.b", "a.b:OBJECT",
 * and with patterns true also "*", "a.*" and "a.b:*". */
bool policy_permission_is_valid(const char *perm, bool patterns) _pure_;
/* Whether perm (no wildcards) is one the daemon checks: a name of its
 * permission table, with ":OBJECT" exactly for those that take one
 * ("keys.use:NAME"). Returns 0, -ENOENT for a name the daemon does not
 * know, -EINVAL when the object is missing or not allowed. */
int policy_permission_known(const char *perm);
/* The i-th known permission name ("keys.use" for "keys.use:NAME"), and
 * whether it takes an object; NULL past the end. */
const char *policy_permission_name(size_t i, bool *ret_object);

/* Whether pattern covers perm (see endpointd-policy(5) for wildcards). */
bool policy_permission_match(const char *pattern, const char *perm) _pure_;

typedef struct Policy Policy;

/* Called for each tolerated problem (a user or group that does not exist). */
typedef void (*PolicyWarn)(const char *file, unsigned line, const char *message, void *userdata);

/* Parses a policy. Returns 0, or -EBADMSG/-E2BIG on syntax, -EINVAL on a
 * bad value or missing key, -EEXIST on a duplicate key or role, -ENOENT when
 * a subject names a role that is not defined, each with error filled. */
int policy_parse(const char *path, const char *data, size_t len, PolicyWarn warn, void *userdata,
                 Policy **ret, ParseError *error);
/* Same for a file; I/O errors are returned with line 0, -EFBIG above
 * POLICY_FILE_MAX. */
int policy_load(const char *path, PolicyWarn warn, void *userdata, Policy **ret, ParseError *error);
Policy *policy_free(Policy *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Policy *, policy_free);

/* Highest uid a Unit= binding accepts: system users, which no login
 * session runs as (SYS_UID_MAX of login.defs(5) on Debian). */
#define POLICY_SYSTEM_UID_MAX 999U

/* Answers a Unit= binding for the caller: returns 0 when the caller's
 * process runs in the system service unit (endpointd-policy(5) says what
 * exactly is checked) and, when executable is non-NULL, the file at that
 * path matches the installed manifest; a negative errno otherwise. */
typedef int (*PolicyProcessCheck)(const char *unit, const char *executable, void *userdata);

/* Decides whether the caller holds perm (no wildcards) through the policy.
 * Subjects with Unit= are considered only if no other subject allows it,
 * and only when check_process accepts the caller's process (a NULL
 * check_process ignores those subjects). Returns true or false; reason (if
 * non-NULL) receives a sentence for CheckAccess and the journal. No side
 * effects but what check_process does. */
bool policy_check(const Policy *p, const PolicyCaller *c, const char *perm, PolicyProcessCheck check_process,
                  void *userdata, char *reason, size_t reason_len);

/* Whether name is a unit name Unit= accepts: "NAME.service", NAME made of
 * [A-Za-z0-9:_.@-], not a template without instance. */
bool policy_unit_name_is_valid(const char *name) _pure_;

/* Whether the role called name exists, and whether it allows perm. Grants
 * name roles of the policy in force. */
bool policy_has_role(const Policy *p, const char *name) _pure_;
bool policy_role_allows(const Policy *p, const char *name, const char *perm) _pure_;

/* Writes a normalised rendering of the policy (roles, then subjects) into
 * a malloc'ed string, for "endpointctl policy show". NULL on OOM. */
char *policy_format(const Policy *p);
/* Roles and subjects in file order, for structured output. Out of range:
 * NULL. Returned pointers belong to p. */
const char *policy_role(const Policy *p, size_t i, char *const **ret_permissions);
const PolicySubject *policy_subject(const Policy *p, size_t i, char *const **ret_roles,
                                    const char **ret_executable);

/* Path the policy was parsed from. */
const char *policy_path(const Policy *p) _pure_;

/* NULL-terminated word lists, as Permissions=, Roles= and Features= hold
 * them (whitespace-separated). words_split() returns -ENOMEM or 0. */
int words_split(const char *s, char ***ret);
char **words_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, words_free);
size_t words_length(char *const *l) _pure_;
bool words_contains(char *const *l, const char *word) _pure_;
/* Joins with single spaces; NULL on OOM. */
char *words_join(char *const *l);
