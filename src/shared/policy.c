/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>

#include "fileio.h"
#include "ini.h"
#include "policy.h"

typedef struct PolicyRole {
        char *name;
        char **permissions;
        unsigned line;
} PolicyRole;

typedef struct PolicyBinding {
        PolicySubject subject;
        bool has_subject;
        char **roles;
        unsigned roles_line;
        char *executable;
        char *unit;
        unsigned line;
} PolicyBinding;

struct Policy {
        char *path;
        PolicyRole *roles;
        size_t n_roles;
        PolicyBinding *bindings;
        size_t n_bindings;
};

/* ---- word lists ---------------------------------------------------------- */

int words_split(const char *s, char ***ret) {
        _cleanup_(words_freep) char **l = calloc(1, sizeof(char *));
        size_t n = 0;

        if (!l)
                return -ENOMEM;
        for (;;) {
                size_t k;
                char **nl;

                s += strspn(s, " \t");
                k = strcspn(s, " \t");
                if (k == 0)
                        break;
                nl = reallocarray(l, n + 2, sizeof(char *));
                if (!nl)
                        return -ENOMEM;
                l = nl;
                l[n] = strndup(s, k);
                if (!l[n])
                        return -ENOMEM;
                l[++n] = NULL;
                s += k;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

char **words_free(char **l) {
        for (char **w = l; w && *w; w++)
                free(*w);
        free(l);
        return NULL;
}

size_t words_length(char *const *l) {
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

bool words_contains(char *const *l, const char *word) {
        for (; l && *l; l++)
                if (streq(*l, word))
                        return true;
        return false;
}

char *words_join(char *const *l) {
        size_t len = 1;
        char *s, *p;

        for (char *const *w = l; w && *w; w++)
                len += strlen(*w) + 1;
        s = p = malloc(len);
        if (!s)
                return NULL;
        *p = 0;
        for (char *const *w = l; w && *w; w++)
                p = stpcpy(stpcpy(p, w == l ? "" : " "), *w);
        return s;
}

/* ---- permissions --------------------------------------------------------- */

#define PERMISSION_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_-"

/* "a.b.c": dot-separated lower-case words, none empty. */
static bool permission_base_is_valid(const char *s, size_t n) {
        bool word = false;

        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '.') {
                        if (!word)
                                return false;
                        word = false;
                } else if (s[i] && strchr(PERMISSION_CHARS, s[i]))
                        word = true;
                else
                        return false;
        }
        return word;
}

bool policy_permission_is_valid(const char *perm, bool patterns) {
        const char *colon;
        size_t n;

        if (isempty(perm) || strlen(perm) > POLICY_PERMISSION_MAX)
                return false;
        if (patterns && streq(perm, "*"))
                return true;
        n = strlen(perm);
        colon = strchr(perm, ':');
        if (!colon) {
                if (patterns && n > 2 && streq(perm + n - 2, ".*"))
                        return permission_base_is_valid(perm, n - 2);
                return permission_base_is_valid(perm, n);
        }
        if (!permission_base_is_valid(perm, (size_t) (colon - perm)))
                return false;
        if (patterns && streq(colon + 1, "*"))
                return true;
        return name_is_valid(colon + 1);
}

/* What the daemon checks (src/daemon/bus-auth.c) and endpointd-policy(5)
 * lists. */
static const struct {
        const char *name;
        bool object;
} known_permissions[] = {
        { "status.read", false },       { "integrity.read", false }, { "integrity.scan", false },
        { "integrity.install", false }, { "keys.create", false },    { "keys.delete", false },
        { "keys.list", false },         { "keys.use", true },        { "keys.unseal", true },
        { "device.sign", false },       { "device.attest", false },  { "policy.read", false },
        { "policy.reload", false },     { "grants.install", false }, { "grants.revoke", false },
        { "licence.install", false },   { "licence.read", false },   { "audit.read", false },
        { "audit.verify", false },      { "keys.approve", false },
};

int policy_permission_known(const char *perm) {
        const char *colon = strchr(strempty(perm), ':');
        size_t n = colon ? (size_t) (colon - perm) : strlen(strempty(perm));

        for (size_t i = 0; i < ELEMENTSOF(known_permissions); i++)
                if (strlen(known_permissions[i].name) == n &&
                    strncmp(known_permissions[i].name, perm, n) == 0)
                        return known_permissions[i].object == !!colon &&
                                               policy_permission_is_valid(perm, false)
                                       ? 0
                                       : -EINVAL;
        return -ENOENT;
}

const char *policy_permission_name(size_t i, bool *ret_object) {
        if (i >= ELEMENTSOF(known_permissions))
                return NULL;
        if (ret_object)
                *ret_object = known_permissions[i].object;
        return known_permissions[i].name;
}

bool policy_permission_match(const char *pattern, const char *perm) {
        size_t n = strlen(pattern);

        if (streq(pattern, "*"))
                return true;
        /* "keys.*" covers everything under "keys.", objects included. */
        if (n >= 2 && streq(pattern + n - 2, ".*") && !strchr(pattern, ':'))
                return strncmp(pattern, perm, n - 1) == 0;
        /* "keys.use:*" covers every object of keys.use, not keys.use itself. */
        if (n >= 2 && streq(pattern + n - 2, ":*"))
                return strncmp(pattern, perm, n - 1) == 0 && perm[n - 1] != 0;
        return streq(pattern, perm);
}

/* ---- subjects ------------------------------------------------------------ */

static const char *const subject_kind_table[_SUBJECT_KIND_MAX] = {
        [SUBJECT_USER] = "user",
        [SUBJECT_GROUP] = "group",
        [SUBJECT_UID] = "uid",
        [SUBJECT_GID] = "gid",
};

const char *subject_kind_to_string(SubjectKind k) {
        return k >= 0 && k < _SUBJECT_KIND_MAX ? subject_kind_table[k] : NULL;
}

SubjectKind subject_kind_from_string(const char *s) {
        for (int i = 0; i < _SUBJECT_KIND_MAX; i++)
                if (streq_ptr(s, subject_kind_table[i]))
                        return (SubjectKind) i;
        return _SUBJECT_KIND_INVALID;
}

static bool account_name_is_valid(const char *s) {
        size_t n = strlen(s);

        /* The portable POSIX name set, as useradd and groupadd accept it. */
        return n > 0 && n <= 32 && s[0] != '-' &&
               strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

static void subject_resolve(PolicySubject *s, const char *value) {
        char buf[4096];
        int r;

        if (s->kind == SUBJECT_USER) {
                struct passwd pw, *res = NULL;

                r = getpwnam_r(value, &pw, buf, sizeof(buf), &res);
                if (r == 0 && res) {
                        s->id = (uint32_t) res->pw_uid;
                        s->resolved = true;
                }
        } else {
                struct group gr, *res = NULL;

                r = getgrnam_r(value, &gr, buf, sizeof(buf), &res);
                if (r == 0 && res) {
                        s->id = (uint32_t) res->gr_gid;
                        s->resolved = true;
                }
        }
}

static int subject_set(PolicySubject *s, SubjectKind kind, const char *value) {
        *s = (PolicySubject){ .kind = kind };
        if (kind == SUBJECT_UID || kind == SUBJECT_GID) {
                uint32_t id;

                /* (uid_t) -1 means "unset" to the kernel; never a subject. */
                if (parse_uint32(value, &id) < 0 || id == UINT32_MAX)
                        return -EINVAL;
                s->id = id;
                s->resolved = true;
        } else {
                if (!account_name_is_valid(value))
                        return -EINVAL;
                subject_resolve(s, value);
        }
        s->name = strjoin_alloc(subject_kind_to_string(kind), ":", value);
        return s->name ? 0 : -ENOMEM;
}

int policy_subject_parse(const char *text, PolicySubject *s) {
        const char *colon = strchr(text, ':');
        char kind[8];
        SubjectKind k;

        if (!colon || (size_t) (colon - text) >= sizeof(kind))
                return -EINVAL;
        memcpy(kind, text, (size_t) (colon - text));
        kind[colon - text] = 0;
        k = subject_kind_from_string(kind);
        if (k < 0)
                return -EINVAL;
        return subject_set(s, k, colon + 1);
}

void policy_subject_done(PolicySubject *s) {
        free(s->name);
        s->name = NULL;
}

bool policy_subject_match(const PolicySubject *s, const PolicyCaller *c) {
        if (!s->resolved)
                return false;
        switch (s->kind) {
        case SUBJECT_USER:
        case SUBJECT_UID:
                return c->uid == (uid_t) s->id;
        case SUBJECT_GROUP:
        case SUBJECT_GID:
                if (c->gid != (gid_t) -1 && c->gid == (gid_t) s->id)
                        return true;
                for (size_t i = 0; i < c->n_gids; i++)
                        if (c->gids[i] == (gid_t) s->id)
                                return true;
                return false;
        default:
                return false;
        }
}

/* ---- parser -------------------------------------------------------------- */

typedef enum SectionType {
        SECTION_NONE,
        SECTION_ROLE,
        SECTION_SUBJECT,
} SectionType;

typedef struct ParseState {
        Policy *policy;
        const char *path;
        PolicyWarn warn;
        void *userdata;
        SectionType section;
        unsigned section_line;
        unsigned seen; /* bit per key already given in this section */
} ParseState;

static const char *const role_keys[] = { "Name", "Permissions", NULL };
/* Indexes matter: subject_assign() goes by them. */
static const char *const subject_keys[] = {
        "User", "Group", "UID", "GID", "Roles", "Executable", "Unit", NULL,
};

static int key_index(const char *const *keys, const char *key) {
        for (int i = 0; keys[i]; i++)
                if (streq(keys[i], key))
                        return i;
        return -1;
}

/* Refuses the bindings that would promise more than the daemon can hold
 * (endpointd-policy(5), THREAT MODEL): a path alone is not an identity,
 * and a unit is one only for a user whose processes all run in units. */
static int binding_check_unit(const PolicyBinding *b, unsigned line, ParseError *e) {
        if (b->executable && !b->unit)
                return parse_error_set(e, line, EINVAL,
                                       "Executable= needs Unit=: any process of %s can pass for a path",
                                       b->subject.name);
        if (!b->unit)
                return 0;
        if (b->subject.kind != SUBJECT_USER && b->subject.kind != SUBJECT_UID)
                return parse_error_set(e, line, EINVAL, "Unit= needs User= or UID=, not %s",
                                       b->subject.name);
        if (b->subject.resolved && (b->subject.id == 0 || b->subject.id > POLICY_SYSTEM_UID_MAX))
                return parse_error_set(
                        e, line, EINVAL,
                        "Unit= needs a system user (uid 1-%u), not uid %u: the other processes "
                        "of %s could take over the unit's",
                        POLICY_SYSTEM_UID_MAX, (unsigned) b->subject.id,
                        b->subject.id == 0 ? "root" : "a login user");
        return 0;
}

static int section_finish(ParseState *st, ParseError *e) {
        Policy *p = st->policy;

        if (st->section == SECTION_ROLE) {
                PolicyRole *r = &p->roles[p->n_roles - 1];

                if (!r->name)
                        return parse_error_set(e, st->section_line, EINVAL, "[Role] section without Name=");
                if (!r->permissions)
                        return parse_error_set(e, st->section_line, EINVAL,
                                               "[Role] '%s' without Permissions=", r->name);
        } else if (st->section == SECTION_SUBJECT) {
                PolicyBinding *b = &p->bindings[p->n_bindings - 1];
                int r;

                if (!b->has_subject)
                        return parse_error_set(e, st->section_line, EINVAL,
                                               "[Subject] section without User=, Group=, UID= or GID=");
                if (!b->roles)
                        return parse_error_set(e, st->section_line, EINVAL,
                                               "[Subject] %s without Roles=", b->subject.name);
                r = binding_check_unit(b, st->section_line, e);
                if (r < 0)
                        return r;
                if (!b->subject.resolved && st->warn)
                        st->warn(st->path, st->section_line,
                                 "subject does not exist on this system and matches nobody", st->userdata);
        }
        st->section = SECTION_NONE;
        return 0;
}

static int section_start(ParseState *st, const char *section, unsigned line, ParseError *e) {
        Policy *p = st->policy;
        int r;

        r = section_finish(st, e);
        if (r < 0)
                return r;
        st->seen = 0;
        st->section_line = line;
        if (streq(section, "Role")) {
                PolicyRole *n = reallocarray(p->roles, p->n_roles + 1, sizeof(PolicyRole));

                if (!n)
                        return -ENOMEM;
                p->roles = n;
                p->roles[p->n_roles++] = (PolicyRole){ .line = line };
                st->section = SECTION_ROLE;
        } else if (streq(section, "Subject")) {
                PolicyBinding *n = reallocarray(p->bindings, p->n_bindings + 1, sizeof(PolicyBinding));

                if (!n)
                        return -ENOMEM;
                p->bindings = n;
                p->bindings[p->n_bindings++] = (PolicyBinding){ .line = line };
                st->section = SECTION_SUBJECT;
        } else
                return parse_error_set(e, line, EBADMSG,
                                       "unknown section [%.64s]; expected [Role] or [Subject]", section);
        return 0;
}

static int role_assign(ParseState *st, PolicyRole *role, int k, const char *value, unsigned line,
                       ParseError *e) {
        Policy *p = st->policy;

        if (k == 0) {
                if (!name_is_valid(value))
                        return parse_error_set(e, line, EINVAL, "'%.64s' is not a valid role name", value);
                for (size_t i = 0; i + 1 < p->n_roles; i++)
                        if (streq_ptr(p->roles[i].name, value))
                                return parse_error_set(e, line, EEXIST,
                                                       "role '%s' already defined on line %u", value,
                                                       p->roles[i].line);
                role->name = strdup(value);
                return role->name ? 0 : -ENOMEM;
        }
        if (words_split(value, &role->permissions) < 0)
                return -ENOMEM;
        if (!role->permissions[0])
                return parse_error_set(e, line, EINVAL, "Permissions= is empty");
        for (char **w = role->permissions; *w; w++)
                if (!policy_permission_is_valid(*w, true))
                        return parse_error_set(e, line, EINVAL, "'%.64s' is not a valid permission", *w);
        return 0;
}

static int executable_is_valid(const char *v) {
        size_t n = strlen(v);

        return v[0] == '/' && n < 4096 && v[n - 1] != '/' && !strstr(v, "/../") && !strstr(v, "/./") &&
               !strstr(v, "//") && !(n >= 3 && streq(v + n - 3, "/..")) &&
               !(n >= 2 && streq(v + n - 2, "/."));
}

bool policy_unit_name_is_valid(const char *name) {
        size_t n = strlen(name), k = strlen(".service");

        return n > k && n <= 255 && streq(name + n - k, ".service") && name[0] != '.' &&
               name[n - k - 1] != '@' &&
               strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:_.@-") == n;
}

static int subject_assign(PolicyBinding *b, int k, const char *value, unsigned line, ParseError *e) {
        static const SubjectKind kinds[] = { SUBJECT_USER, SUBJECT_GROUP, SUBJECT_UID, SUBJECT_GID };
        int r;

        if (k < 4) {
                if (b->has_subject)
                        return parse_error_set(e, line, EEXIST, "[Subject] already names %s",
                                               b->subject.name);
                r = subject_set(&b->subject, kinds[k], value);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return parse_error_set(e, line, EINVAL, "'%.64s' is not a valid %s", value,
                                               k < 2 ? "name" : "numeric id");
                b->has_subject = true;
                return 0;
        }
        if (k == 4) {
                if (words_split(value, &b->roles) < 0)
                        return -ENOMEM;
                if (!b->roles[0])
                        return parse_error_set(e, line, EINVAL, "Roles= is empty");
                b->roles_line = line;
                return 0;
        }
        if (k == 6) {
                if (!policy_unit_name_is_valid(value))
                        return parse_error_set(e, line, EINVAL, "'%.64s' is not a service unit name", value);
                b->unit = strdup(value);
                return b->unit ? 0 : -ENOMEM;
        }
        if (!executable_is_valid(value))
                return parse_error_set(e, line, EINVAL, "'%.64s' is not a normalised absolute path", value);
        b->executable = strdup(value);
        return b->executable ? 0 : -ENOMEM;
}

static int parse_handler(const char *section, const char *key, const char *value, unsigned line,
                         void *userdata, ParseError *e) {
        ParseState *st = userdata;
        const char *const *keys;
        int k;

        if (!key)
                return section_start(st, section, line, e);
        keys = st->section == SECTION_ROLE ? role_keys : subject_keys;
        k = key_index(keys, key);
        if (k < 0)
                return parse_error_set(e, line, EINVAL, "unknown key '%.64s' in [%s]", key, section);
        if (st->seen & (1U << k))
                return parse_error_set(e, line, EEXIST, "duplicate key '%s'", key);
        st->seen |= 1U << k;
        if (st->section == SECTION_ROLE)
                return role_assign(st, &st->policy->roles[st->policy->n_roles - 1], k, value, line, e);
        return subject_assign(&st->policy->bindings[st->policy->n_bindings - 1], k, value, line, e);
}

static int policy_resolve_roles(Policy *p, ParseError *e) {
        for (size_t i = 0; i < p->n_bindings; i++)
                for (char **w = p->bindings[i].roles; w && *w; w++)
                        if (!policy_has_role(p, *w))
                                return parse_error_set(e, p->bindings[i].roles_line, ENOENT,
                                                       "role '%.64s' is not defined", *w);
        return 0;
}

int policy_parse(const char *path, const char *data, size_t len, PolicyWarn warn, void *userdata,
                 Policy **ret, ParseError *error) {
        _cleanup_(policy_freep) Policy *p = calloc(1, sizeof(Policy));
        ParseState st = { .path = path, .warn = warn, .userdata = userdata };
        int r;

        if (!p)
                return -ENOMEM;
        p->path = strdup(path);
        if (!p->path)
                return -ENOMEM;
        st.policy = p;
        if (len > POLICY_FILE_MAX)
                return parse_error_set(error, 0, EFBIG, "file larger than %u bytes", POLICY_FILE_MAX);
        r = ini_parse(data, len, parse_handler, &st, error);
        if (r < 0)
                return r;
        r = section_finish(&st, error);
        if (r < 0)
                return r;
        r = policy_resolve_roles(p, error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

int policy_load(const char *path, PolicyWarn warn, void *userdata, Policy **ret, ParseError *error) {
        _cleanup_(freep) char *data = NULL;
        const char *why = NULL;
        size_t len;
        int r;

        r = read_trusted_file(path, POLICY_FILE_MAX, &data, &len, &why);
        if (r == -EPERM && why)
                return parse_error_set(error, 0, EPERM, "refused: %s (see endpointd-policy(5))", why);
        if (r < 0)
                return parse_error_set(error, 0, -r, "cannot read: %s", strerror(-r));
        return policy_parse(path, data, len, warn, userdata, ret, error);
}

Policy *policy_free(Policy *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_roles; i++) {
                free(p->roles[i].name);
                words_free(p->roles[i].permissions);
        }
        for (size_t i = 0; i < p->n_bindings; i++) {
                policy_subject_done(&p->bindings[i].subject);
                words_free(p->bindings[i].roles);
                free(p->bindings[i].executable);
                free(p->bindings[i].unit);
        }
        free(p->roles);
        free(p->bindings);
        free(p->path);
        free(p);
        return NULL;
}

/* ---- decisions ----------------------------------------------------------- */

static const PolicyRole *role_find(const Policy *p, const char *name) {
        for (size_t i = 0; i < p->n_roles; i++)
                if (streq_ptr(p->roles[i].name, name))
                        return &p->roles[i];
        return NULL;
}

bool policy_has_role(const Policy *p, const char *name) {
        return role_find(p, name) != NULL;
}

bool policy_role_allows(const Policy *p, const char *name, const char *perm) {
        const PolicyRole *r = role_find(p, name);

        for (char **w = r ? r->permissions : NULL; w && *w; w++)
                if (policy_permission_match(*w, perm))
                        return true;
        return false;
}

static const char *binding_allows(const Policy *p, const PolicyBinding *b, const char *perm) {
        for (char **w = b->roles; w && *w; w++)
                if (policy_role_allows(p, *w, perm))
                        return *w;
        return NULL;
}

bool policy_check(const Policy *p, const PolicyCaller *c, const char *perm, PolicyProcessCheck check_process,
                  void *userdata, char *reason, size_t reason_len) {
        const PolicyBinding *refused = NULL;

        /* Two passes: unit-bound subjects cost reads of the caller's /proc
         * entries (and a digest), so they are only consulted when nothing
         * cheaper already allows the call. */
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < p->n_bindings; i++) {
                        const PolicyBinding *b = &p->bindings[i];
                        const char *role;

                        if (!!b->unit != (pass == 1) || !policy_subject_match(&b->subject, c))
                                continue;
                        role = binding_allows(p, b, perm);
                        if (!role)
                                continue;
                        if (b->unit &&
                            (!check_process || check_process(b->unit, b->executable, userdata) < 0)) {
                                refused = b;
                                continue;
                        }
                        if (reason)
                                (void) snprintf(reason, reason_len, "allowed by role '%s' of %s%s%s%s%s",
                                                role, b->subject.name, b->unit ? " in " : "",
                                                strempty(b->unit), b->executable ? " running " : "",
                                                strempty(b->executable));
                        return true;
                }
        /* The caller of policy_check() knows why check_process refused. */
        if (reason && refused)
                (void) snprintf(reason, reason_len, "%s would allow '%s' only in %s%s%s",
                                refused->subject.name, perm, refused->unit,
                                refused->executable ? " running " : "", strempty(refused->executable));
        else if (reason)
                (void) snprintf(reason, reason_len, "no role of uid %u allows '%s'", (unsigned) c->uid,
                                perm);
        return false;
}

char *policy_format(const Policy *p) {
        _cleanup_(freep) char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        fprintf(f, "# %s\n", p->path);
        for (size_t i = 0; i < p->n_roles; i++) {
                fprintf(f, "\n[Role]\nName=%s\nPermissions=", p->roles[i].name);
                for (char **w = p->roles[i].permissions; *w; w++)
                        fprintf(f, "%s%s", w == p->roles[i].permissions ? "" : " ", *w);
                fputc('\n', f);
        }
        for (size_t i = 0; i < p->n_bindings; i++) {
                const PolicyBinding *b = &p->bindings[i];
                const char *colon = strchr(b->subject.name, ':');
                static const char *const keys[] = { "User", "Group", "UID", "GID" };

                fprintf(f, "\n[Subject]\n%s=%s\nRoles=", keys[b->subject.kind], colon + 1);
                for (char **w = b->roles; *w; w++)
                        fprintf(f, "%s%s", w == b->roles ? "" : " ", *w);
                fputc('\n', f);
                if (b->unit)
                        fprintf(f, "Unit=%s\n", b->unit);
                if (b->executable)
                        fprintf(f, "Executable=%s\n", b->executable);
                if (!b->subject.resolved)
                        fprintf(f, "# %s does not exist on this system\n", b->subject.name);
        }
        if (fclose(f) != 0)
                return NULL;
        return TAKE_PTR(buf);
}

const char *policy_role(const Policy *p, size_t i, char *const **ret_permissions) {
        if (i >= p->n_roles)
                return NULL;
        if (ret_permissions)
                *ret_permissions = p->roles[i].permissions;
        return p->roles[i].name;
}

const PolicySubject *policy_subject(const Policy *p, size_t i, char *const **ret_roles,
                                    const char **ret_executable) {
        if (i >= p->n_bindings)
                return NULL;
        if (ret_roles)
                *ret_roles = p->bindings[i].roles;
        if (ret_executable)
                *ret_executable = p->bindings[i].executable;
        return &p->bindings[i].subject;
}

const char *policy_path(const Policy *p) {
        return p->path;
}
