/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "fileio.h"
#include "manifest.h"
#include "openssl-util.h"

/* The grammar accepted here is documented in endpointd-manifest(5). In
 * short: a manifest is a sequence of lines; a backslash before a newline
 * continues the line; a line whose first non-blank byte is '#' is a
 * comment; every other line is "/set KW=V...", "/unset KW...", ".." or
 * "NAME KW[=V]...". NAME and link= values are vis(3)-encoded. */

#define BLANKS " \t"

static const char *const entry_type_table[_ENTRY_TYPE_MAX] = {
        [ENTRY_FILE] = "file", [ENTRY_DIR] = "dir",     [ENTRY_LINK] = "link",     [ENTRY_FIFO] = "fifo",
        [ENTRY_CHAR] = "char", [ENTRY_BLOCK] = "block", [ENTRY_SOCKET] = "socket",
};

const char *entry_type_to_string(EntryType t) {
        if (t < 0 || t >= _ENTRY_TYPE_MAX)
                return NULL;
        return entry_type_table[t];
}

EntryType entry_type_from_string(const char *s) {
        if (!s)
                return _ENTRY_TYPE_INVALID;
        for (size_t i = 0; i < ELEMENTSOF(entry_type_table); i++)
                if (streq(entry_type_table[i], s))
                        return (EntryType) i;
        return _ENTRY_TYPE_INVALID;
}

/* Keywords with a meaning for us. Everything in ignored_keywords is what
 * bsdtar and NetBSD mtree emit by default or with "all" and carries nothing
 * we verify (times change on copies, link counts and inode numbers differ
 * per file system, weaker digests add nothing to sha256). */
typedef enum Keyword {
        KW_TYPE,
        KW_MODE,
        KW_UID,
        KW_GID,
        KW_SIZE,
        KW_LINK,
        KW_SHA256,
        KW_OPTIONAL,
        KW_IGNORE,
        KW_IGNORED,
        _KW_MAX,
        _KW_INVALID = -EINVAL,
} Keyword;

static const char *const ignored_keywords[] = {
        "cksum",  "device",       "flags",           "gname",        "gid_name",
        "inode",  "md5",          "md5digest",       "nlink",        "resdevice",
        "rmd160", "rmd160digest", "ripemd160digest", "sha1",         "sha1digest",
        "sha384", "sha384digest", "sha512",          "sha512digest", "tags",
        "time",   "uname",
};

static Keyword keyword_from_string(const char *s) {
        static const struct {
                const char *name;
                Keyword kw;
        } table[] = {
                { "type", KW_TYPE },     { "mode", KW_MODE },           { "uid", KW_UID },
                { "gid", KW_GID },       { "size", KW_SIZE },           { "link", KW_LINK },
                { "sha256", KW_SHA256 }, { "sha256digest", KW_SHA256 }, { "optional", KW_OPTIONAL },
                { "ignore", KW_IGNORE },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(table[i].name, s))
                        return table[i].kw;
        for (size_t i = 0; i < ELEMENTSOF(ignored_keywords); i++)
                if (streq(ignored_keywords[i], s))
                        return KW_IGNORED;
        return _KW_INVALID;
}

typedef struct Item {
        ManifestEntry entry;
        unsigned line;
} Item;
/* items_to_entries() relies on the entry being the first member. */
_Static_assert(offsetof(Item, entry) == 0, "entry must come first");

typedef struct Parser {
        const char *p, *end;
        unsigned line; /* physical line the cursor is on */
        unsigned start_line; /* where the current logical line began */
        char *buf; /* the current logical line, continuations joined */
        size_t buf_size;
        ManifestEntry defaults; /* from /set; path unused */
        char **dirs; /* directory stack of the mtree -c dialect */
        size_t n_dirs, n_dirs_alloc;
        Item *items;
        size_t n_items, n_items_alloc;
        bool have_release;
        uint64_t serial;
        char *product, *version;
        ParseError *error;
} Parser;

static void entry_done(ManifestEntry *e) {
        free(e->path);
        free(e->link);
        e->path = e->link = NULL;
}

static int fail(Parser *ps, int error, const char *format, ...) _printf_(3, 4);
static int fail(Parser *ps, int error, const char *format, ...) {
        char msg[sizeof(ps->error->message)];
        va_list ap;

        va_start(ap, format);
        (void) vsnprintf(msg, sizeof(msg), format, ap);
        va_end(ap);
        return parse_error_set(ps->error, ps->start_line, error, "%s", msg);
}

static int vis_control(int c) {
        if (c == '?')
                return 0x7f;
        if (c >= '@' && c <= '_')
                return c & 0x1f;
        return -1;
}

/* Decodes one escape after a backslash (s points past it) into *ret and
 * returns the number of bytes consumed, or -1 when malformed. Octal (three
 * digits, as bsdtar writes), C style, "\s", "\^X", "\M-X", "\M^X" and a
 * backslash before punctuation, as vis(3)/strsvis write them. */
static int unvis_one(const char *s, unsigned char *ret) {
        static const char cstyle_from[] = "abtnvfrsE\\";
        static const char cstyle_to[] = "\a\b\t\n\v\f\r \033\\";
        const char *q;
        int c;

        if (s[0] >= '0' && s[0] <= '3') {
                if (s[1] < '0' || s[1] > '7' || s[2] < '0' || s[2] > '7')
                        return -1;
                *ret = (unsigned char) ((s[0] - '0') * 64 + (s[1] - '0') * 8 + (s[2] - '0'));
                return 3;
        }
        if (s[0] && (q = strchr(cstyle_from, s[0]))) {
                *ret = (unsigned char) cstyle_to[q - cstyle_from];
                return 1;
        }
        if (s[0] == '^') {
                c = vis_control(s[1]);
                if (c < 0)
                        return -1;
                *ret = (unsigned char) c;
                return 2;
        }
        if (s[0] == 'M' && s[1] == '-' && s[2] >= 0x20 && s[2] <= 0x7e) {
                *ret = (unsigned char) (s[2] | 0x80);
                return 3;
        }
        if (s[0] == 'M' && s[1] == '^') {
                c = vis_control(s[2]);
                if (c < 0)
                        return -1;
                *ret = (unsigned char) (c | 0x80);
                return 3;
        }
        if (s[0] > 0x20 && s[0] < 0x7f && !(s[0] >= '0' && s[0] <= '9') &&
            !((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z')) {
                *ret = (unsigned char) s[0];
                return 1;
        }
        return -1;
}

/* Unescapes a token into a new string. -EBADMSG (with the message set) on
 * a malformed escape or an escape that yields a NUL byte. */
static int unvis_token(Parser *ps, const char *s, const char *what, char **ret) {
        _cleanup_(freep) char *out = malloc(strlen(s) + 1);
        size_t n = 0;

        if (!out)
                return -ENOMEM;
        for (const char *p = s; *p;) {
                unsigned char c;
                int k;

                if (*p != '\\') {
                        out[n++] = *p++;
                        continue;
                }
                k = unvis_one(p + 1, &c);
                if (k < 0)
                        return fail(ps, EBADMSG, "malformed escape '\\%.4s' in %s", p + 1, what);
                if (c == 0)
                        return fail(ps, EBADMSG, "escape in %s yields a NUL byte", what);
                out[n++] = (char) c;
                p += 1 + k;
        }
        out[n] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

static int buf_put(Parser *ps, size_t n, char c) {
        if (n + 1 >= ps->buf_size) {
                size_t m = MAX(ps->buf_size * 2, (size_t) 256);
                char *b = realloc(ps->buf, m);
                if (!b)
                        return -ENOMEM;
                ps->buf = b;
                ps->buf_size = m;
        }
        ps->buf[n] = c;
        return 0;
}

/* Reads the next logical line into ps->buf, joining "\<newline>"
 * continuations; a comment line is returned as is (comments do not
 * continue). Returns 1 with a line, 0 at the end. */
static int next_line(Parser *ps) {
        const char *q;
        bool comment;
        size_t n = 0;
        int r;

        if (ps->p >= ps->end)
                return 0;
        /* Cannot run past the end: the last byte is known to be '\n'. */
        q = ps->p + strspn(ps->p, BLANKS);
        comment = *q == '#';
        ps->start_line = ++ps->line;
        while (ps->p < ps->end && *ps->p != '\n') {
                char c = *ps->p++;

                if (c == '\\' && !comment) {
                        /* The file is known to end in '\n', so p < end here. */
                        if (*ps->p == '\n') {
                                ps->p++;
                                ps->line++;
                                if (ps->p >= ps->end)
                                        return fail(ps, EBADMSG,
                                                    "line continued past the end, file truncated?");
                                continue;
                        }
                        r = buf_put(ps, n++, c);
                        if (r < 0)
                                return r;
                        c = *ps->p++;
                }
                r = buf_put(ps, n++, c);
                if (r < 0)
                        return r;
        }
        ps->p++; /* the newline */
        r = buf_put(ps, n, 0);
        return r < 0 ? r : 1;
}

bool manifest_release_value_is_valid(const char *s) {
        size_t n;

        if (!s)
                return false;
        n = strlen(s);

        if (n == 0 || n > 128)
                return false;
        for (const char *p = s; *p; p++)
                if (*p <= 0x20 || *p >= 0x7f || *p == '\\' || *p == '=')
                        return false;
        return true;
}

/* "# endpointd: serial=N product=NAME version=V", each key exactly once. */
static int parse_release(Parser *ps, char *s) {
        char *tok, *save = NULL;
        int r;

        if (ps->have_release)
                return fail(ps, EBADMSG, "second '# endpointd:' release line");
        for (tok = strtok_r(s, BLANKS, &save); tok; tok = strtok_r(NULL, BLANKS, &save)) {
                char *eq = strchr(tok, '=');
                char **dst = NULL;

                if (!eq)
                        return fail(ps, EBADMSG, "release line: '%.64s' is not key=value", tok);
                *eq++ = 0;
                if (streq(tok, "serial")) {
                        if (ps->serial != 0)
                                return fail(ps, EBADMSG, "release line: serial given twice");
                        r = parse_uint64(eq, UINT64_MAX, &ps->serial);
                        if (r < 0 || ps->serial == 0)
                                return fail(ps, EBADMSG,
                                            "release line: serial '%.32s' is not a number from 1", eq);
                        continue;
                }
                if (streq(tok, "product"))
                        dst = &ps->product;
                else if (streq(tok, "version"))
                        dst = &ps->version;
                else
                        return fail(ps, EBADMSG, "release line: unknown key '%.64s'", tok);
                if (*dst)
                        return fail(ps, EBADMSG, "release line: %s given twice", tok);
                if (!manifest_release_value_is_valid(eq))
                        return fail(ps, EBADMSG, "release line: invalid %s '%.64s'", tok, eq);
                *dst = strdup(eq);
                if (!*dst)
                        return -ENOMEM;
        }
        if (ps->serial == 0 || !ps->product || !ps->version)
                return fail(ps, EBADMSG, "release line needs serial=, product= and version=");
        ps->have_release = true;
        return 0;
}

static int parse_comment(Parser *ps, char *s) {
        s += strspn(s, BLANKS);
        s++; /* '#' */
        s += strspn(s, BLANKS);
        if (strncmp(s, "endpointd", 9) != 0)
                return 0;
        if (s[9] != ':')
                return fail(ps, EBADMSG, "malformed release line, expected '# endpointd: serial=N ...'");
        return parse_release(ps, s + 10);
}

static int parse_number(Parser *ps, const char *kw, const char *v, uint64_t max, uint64_t *ret) {
        if (parse_uint64(v, max, ret) < 0)
                return fail(ps, EBADMSG, "invalid %s '%.32s'", kw, v);
        return 0;
}

static int parse_mode(Parser *ps, const char *v, mode_t *ret) {
        unsigned m = 0;

        if (isempty(v) || strlen(v) > 6)
                return fail(ps, EBADMSG, "invalid mode '%.32s', expected octal up to 07777", v);
        for (const char *p = v; *p; p++) {
                if (*p < '0' || *p > '7')
                        return fail(ps, EBADMSG, "invalid mode '%.32s', expected octal up to 07777", v);
                m = m * 8 + (unsigned) (*p - '0');
        }
        if (m > 07777)
                return fail(ps, EBADMSG, "invalid mode '%.32s', expected octal up to 07777", v);
        *ret = (mode_t) m;
        return 0;
}

static int parse_sha256(Parser *ps, const char *v, uint8_t out[32]) {
        _cleanup_(freep) void *d = NULL;
        size_t n;

        if (strlen(v) != 64 || unhexmem(v, &d, &n) < 0 || n != 32)
                return fail(ps, EBADMSG, "invalid sha256 '%.70s', expected 64 hex digits", v);
        memcpy(out, d, 32);
        return 0;
}

/* Applies "kw=v" (v NULL for a bare keyword) to e. */
static int entry_apply(Parser *ps, ManifestEntry *e, Keyword kw, const char *name, const char *v) {
        uint64_t u;
        int r = 0;

        if ((kw == KW_OPTIONAL || kw == KW_IGNORE) != !v)
                return fail(ps, EBADMSG, v ? "keyword '%s' takes no value" : "keyword '%s' needs a value",
                            name);
        switch (kw) {
        case KW_TYPE:
                e->type = entry_type_from_string(v);
                if (e->type < 0)
                        return fail(ps, EBADMSG, "unknown type '%.32s'", v);
                e->has |= MANIFEST_HAS_TYPE;
                return 0;
        case KW_MODE:
                r = parse_mode(ps, v, &e->mode);
                e->has |= MANIFEST_HAS_MODE;
                return r;
        case KW_UID:
        case KW_GID:
                /* (uid_t) -1 means "no change" to chown(); it cannot be an owner. */
                r = parse_number(ps, name, v, UINT32_MAX - 1, &u);
                if (r < 0)
                        return r;
                if (kw == KW_UID)
                        e->uid = (uid_t) u;
                else
                        e->gid = (gid_t) u;
                e->has |= kw == KW_UID ? MANIFEST_HAS_UID : MANIFEST_HAS_GID;
                return 0;
        case KW_SIZE:
                r = parse_number(ps, name, v, INT64_MAX, &e->size);
                e->has |= MANIFEST_HAS_SIZE;
                return r;
        case KW_LINK:
                free(e->link);
                e->link = NULL;
                r = unvis_token(ps, v, "link target", &e->link);
                if (r < 0)
                        return r;
                if (isempty(e->link) || strlen(e->link) >= PATH_MAX)
                        return fail(ps, EBADMSG, "link target is empty or too long");
                e->has |= MANIFEST_HAS_LINK;
                return 0;
        case KW_SHA256:
                r = parse_sha256(ps, v, e->sha256);
                e->has |= MANIFEST_HAS_SHA256;
                return r;
        case KW_OPTIONAL:
                e->optional = true;
                return 0;
        case KW_IGNORE:
                e->ignore = true;
                return 0;
        default:
                return 0;
        }
}

/* Parses the keyword tokens of a /set line or an entry line into e. */
static int apply_keywords(Parser *ps, ManifestEntry *e, char *save) {
        unsigned seen = 0;
        char *tok;

        while ((tok = strtok_r(NULL, BLANKS, &save))) {
                char *v = strchr(tok, '=');
                Keyword kw;
                int r;

                if (v)
                        *v++ = 0;
                kw = keyword_from_string(tok);
                if (kw < 0)
                        return fail(ps, EBADMSG, "unknown keyword '%.64s'", tok);
                if (kw == KW_IGNORED) {
                        if (!v)
                                return fail(ps, EBADMSG, "keyword '%s' needs a value", tok);
                        continue;
                }
                if (seen & (1U << kw))
                        return fail(ps, EBADMSG, "keyword '%s' given twice", tok);
                seen |= 1U << kw;
                r = entry_apply(ps, e, kw, tok, v);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_unset(Parser *ps, char *save) {
        static const uint32_t has_bits[_KW_MAX] = {
                [KW_TYPE] = MANIFEST_HAS_TYPE,     [KW_MODE] = MANIFEST_HAS_MODE,
                [KW_UID] = MANIFEST_HAS_UID,       [KW_GID] = MANIFEST_HAS_GID,
                [KW_SIZE] = MANIFEST_HAS_SIZE,     [KW_LINK] = MANIFEST_HAS_LINK,
                [KW_SHA256] = MANIFEST_HAS_SHA256,
        };
        ManifestEntry *d = &ps->defaults;
        char *tok;

        while ((tok = strtok_r(NULL, BLANKS, &save))) {
                Keyword kw;

                if (streq(tok, "all")) {
                        entry_done(d);
                        *d = (ManifestEntry){};
                        continue;
                }
                kw = keyword_from_string(tok);
                if (kw < 0)
                        return fail(ps, EBADMSG, "unknown keyword '%.64s' in /unset", tok);
                d->has &= ~has_bits[kw];
                if (kw == KW_LINK) {
                        free(d->link);
                        d->link = NULL;
                } else if (kw == KW_OPTIONAL)
                        d->optional = false;
                else if (kw == KW_IGNORE)
                        d->ignore = false;
        }
        return 0;
}

/* Checks a path relative to the root: no empty, "." or ".." components. */
static int path_check(Parser *ps, const char *path) {
        size_t n = strlen(path);

        if (n == 0 || n >= PATH_MAX)
                return fail(ps, EBADMSG, "path is empty or longer than %d bytes", PATH_MAX - 1);
        if (streq(path, "."))
                return 0;
        if (path[0] == '/')
                return fail(ps, EBADMSG, "absolute path '%.128s'", path);
        for (const char *p = path;;) {
                size_t k = strcspn(p, "/");

                if (k == 0)
                        return fail(ps, EBADMSG, "empty component in path '%.128s'", path);
                if (k == 1 && p[0] == '.')
                        return fail(ps, EBADMSG, "'.' component in path '%.128s'", path);
                if (k == 2 && p[0] == '.' && p[1] == '.')
                        return fail(ps, EBADMSG, "'..' component in path '%.128s'", path);
                if (k > NAME_MAX)
                        return fail(ps, EBADMSG, "path component longer than %d bytes", NAME_MAX);
                if (!p[k])
                        return 0;
                p += k + 1;
        }
}

/* Turns an unescaped name into a path relative to the root: a name with a
 * '/' is a full path ("./usr/bin/x", bsdtar); one without is relative to
 * the current directory of the mtree -c dialect. */
static int resolve_path(Parser *ps, const char *name, char **ret) {
        const char *cwd = ps->n_dirs > 0 ? ps->dirs[ps->n_dirs - 1] : NULL;
        char *path;
        int r;

        if (strchr(name, '/')) {
                if (strncmp(name, "./", 2) == 0)
                        name += 2;
                path = strdup(name);
        } else if (streq(name, "."))
                path = cwd ? NULL : strdup(".");
        else
                path = cwd ? strjoin_alloc(cwd, "/", name) : strdup(name);
        if (!path) {
                if (cwd && streq(name, "."))
                        return fail(ps, EBADMSG, "'.' inside a subdirectory");
                return -ENOMEM;
        }
        r = path_check(ps, path);
        if (r < 0) {
                free(path);
                return r;
        }
        *ret = path;
        return 0;
}

static int push_item(Parser *ps, ManifestEntry *e) {
        if (ps->n_items >= ps->n_items_alloc) {
                size_t m = MAX(ps->n_items_alloc * 2, (size_t) 64);
                Item *n = reallocarray(ps->items, m, sizeof(Item));
                if (!n)
                        return -ENOMEM;
                ps->items = n;
                ps->n_items_alloc = m;
        }
        ps->items[ps->n_items++] = (Item){ .entry = *e, .line = ps->start_line };
        *e = (ManifestEntry){};
        return 0;
}

static int push_dir(Parser *ps, const char *path) {
        if (ps->n_dirs >= ps->n_dirs_alloc) {
                size_t m = MAX(ps->n_dirs_alloc * 2, (size_t) 16);
                char **n = reallocarray(ps->dirs, m, sizeof(char *));
                if (!n)
                        return -ENOMEM;
                ps->dirs = n;
                ps->n_dirs_alloc = m;
        }
        ps->dirs[ps->n_dirs] = strdup(path);
        if (!ps->dirs[ps->n_dirs])
                return -ENOMEM;
        ps->n_dirs++;
        return 0;
}

static int entry_validate(Parser *ps, const ManifestEntry *e) {
        if (!(e->has & MANIFEST_HAS_TYPE))
                return 0;
        if ((e->has & MANIFEST_HAS_SHA256) && e->type != ENTRY_FILE)
                return fail(ps, EBADMSG, "sha256 given for an entry of type %s",
                            entry_type_to_string(e->type));
        if ((e->has & MANIFEST_HAS_LINK) && e->type != ENTRY_LINK)
                return fail(ps, EBADMSG, "link given for an entry of type %s",
                            entry_type_to_string(e->type));
        return 0;
}

static int parse_entry(Parser *ps, const char *raw_name, char *save) {
        _cleanup_(freep) char *name = NULL;
        ManifestEntry e = ps->defaults;
        bool descend;
        int r;

        e.path = NULL;
        e.link = NULL;
        if (ps->defaults.link) {
                e.link = strdup(ps->defaults.link);
                if (!e.link)
                        return -ENOMEM;
        }
        r = unvis_token(ps, raw_name, "name", &name);
        if (r >= 0)
                r = resolve_path(ps, name, &e.path);
        if (r >= 0)
                r = apply_keywords(ps, &e, save);
        if (r >= 0)
                r = entry_validate(ps, &e);
        if (r < 0) {
                entry_done(&e);
                return r;
        }
        /* In the mtree -c dialect a directory named without a '/' becomes
         * the current directory until the matching "..". */
        descend = !strchr(name, '/') && !streq(name, ".") && (e.has & MANIFEST_HAS_TYPE) &&
                  e.type == ENTRY_DIR;
        if (descend) {
                r = push_dir(ps, e.path);
                if (r < 0) {
                        entry_done(&e);
                        return r;
                }
        }
        r = push_item(ps, &e);
        if (r < 0)
                entry_done(&e);
        return r;
}

static int parse_line(Parser *ps) {
        char *save = NULL, *first, *s = ps->buf;

        if (s[strspn(s, BLANKS)] == '#')
                return parse_comment(ps, s);
        for (char *p = s; *p; p++)
                if ((unsigned char) *p >= 0x7f || ((unsigned char) *p < 0x20 && *p != '\t'))
                        return fail(ps, EBADMSG, "unescaped byte 0x%02x, names must be vis(3)-encoded",
                                    (unsigned char) *p);
        first = strtok_r(s, BLANKS, &save);
        if (!first)
                return 0;
        if (streq(first, "/set"))
                return apply_keywords(ps, &ps->defaults, save);
        if (streq(first, "/unset"))
                return parse_unset(ps, save);
        if (first[0] == '/')
                return fail(ps, EBADMSG, "unknown special command '%.32s' or absolute path", first);
        if (streq(first, "..")) {
                if (strtok_r(NULL, BLANKS, &save))
                        return fail(ps, EBADMSG, "'..' takes no keywords");
                if (ps->n_dirs == 0)
                        return fail(ps, EBADMSG, "'..' above the root");
                free(ps->dirs[--ps->n_dirs]);
                return 0;
        }
        return parse_entry(ps, first, save);
}

static int item_compare(const void *a, const void *b) {
        const Item *x = a, *y = b;
        int c = strcmp(x->entry.path, y->entry.path);

        if (c != 0)
                return c;
        return x->line < y->line ? -1 : x->line > y->line;
}

static void parser_done(Parser *ps) {
        free(ps->buf);
        entry_done(&ps->defaults);
        for (size_t i = 0; i < ps->n_dirs; i++)
                free(ps->dirs[i]);
        free(ps->dirs);
        for (size_t i = 0; i < ps->n_items; i++)
                entry_done(&ps->items[i].entry);
        free(ps->items);
        free(ps->product);
        free(ps->version);
}

/* Cheap whole-file checks before any line is parsed. */
static int check_raw(const char *data, size_t len, ParseError *error) {
        const char *nul;
        unsigned line = 1;

        if (len > MANIFEST_FILE_MAX)
                return parse_error_set(error, 0, E2BIG, "manifest larger than %u bytes", MANIFEST_FILE_MAX);
        nul = memchr(data, 0, len);
        if (nul) {
                for (const char *q = data; q < nul; q++)
                        line += *q == '\n';
                return parse_error_set(error, line, EBADMSG, "NUL byte in manifest");
        }
        if (len > 0 && data[len - 1] != '\n') {
                for (const char *q = data; q < data + len; q++)
                        line += *q == '\n';
                return parse_error_set(error, line, EBADMSG, "last line has no newline, file truncated?");
        }
        return 0;
}

/* Turns the sorted items into the entry array in place: entry i never
 * lies beyond item i, so copying front to back overwrites only items that
 * were already moved. Saves a second array of 100k entries at the peak.
 * Returns NULL on OOM with the items untouched. */
static ManifestEntry *items_to_entries(Parser *ps) {
        ManifestEntry *entries;

        if (ps->n_items == 0) {
                entries = calloc(1, sizeof(ManifestEntry));
                if (entries)
                        free(TAKE_PTR(ps->items));
                return entries;
        }
        entries = (ManifestEntry *) ps->items;
        for (size_t i = 0; i < ps->n_items; i++) {
                ManifestEntry e = ps->items[i].entry; /* may overlap entries[i] */

                entries[i] = e;
        }
        ps->items = NULL;
        ps->n_items_alloc = 0;
        /* Shrinking cannot fail in a way that loses the data. */
        return realloc(entries, ps->n_items * sizeof(ManifestEntry)) ?: entries;
}

static int finish(Parser *ps, Manifest **ret) {
        _cleanup_(manifest_freep) Manifest *m = NULL;

        ps->start_line = ps->line;
        if (ps->n_dirs > 0)
                return fail(ps, EBADMSG, "directory '%.128s' not closed with '..', file truncated?",
                            ps->dirs[ps->n_dirs - 1]);
        if (!ps->have_release)
                return parse_error_set(ps->error, 0, EBADMSG,
                                       "no '# endpointd: serial=N product=NAME version=V' release line");
        if (ps->n_items > 0) /* qsort() wants a non-NULL base even for nothing */
                qsort(ps->items, ps->n_items, sizeof(Item), item_compare);
        for (size_t i = 1; i < ps->n_items; i++)
                if (streq(ps->items[i - 1].entry.path, ps->items[i].entry.path))
                        return parse_error_set(ps->error, ps->items[i].line, EEXIST,
                                               "'%.128s' already listed on line %u", ps->items[i].entry.path,
                                               ps->items[i - 1].line);
        m = calloc(1, sizeof(Manifest));
        if (!m)
                return -ENOMEM;
        m->entries = items_to_entries(ps);
        if (!m->entries)
                return -ENOMEM;
        m->n_entries = ps->n_items;
        ps->n_items = 0;
        m->serial = ps->serial;
        m->product = TAKE_PTR(ps->product);
        m->version = TAKE_PTR(ps->version);
        *ret = TAKE_PTR(m);
        return 0;
}

int manifest_parse(const char *data, size_t len, Manifest **ret, ParseError *error) {
        Parser ps = { .p = data, .end = data + len, .error = error };
        Manifest *m = NULL;
        int r;

        r = check_raw(data, len, error);
        if (r < 0)
                return r;
        for (;;) {
                r = next_line(&ps);
                if (r <= 0)
                        break;
                r = parse_line(&ps);
                if (r < 0)
                        break;
        }
        if (r == 0)
                r = finish(&ps, &m);
        parser_done(&ps);
        if (r < 0 && error)
                /* Messages quote decoded names; keep terminals safe from them. */
                for (char *c = error->message; *c; c++)
                        if ((unsigned char) *c < 0x20 || *c == 0x7f)
                                *c = '?';
        if (r == -ENOMEM)
                return parse_error_set(error, 0, ENOMEM, "out of memory");
        if (r < 0)
                return r;
        r = sha256_buffer(data, len, m->digest);
        if (r < 0) {
                manifest_free(m);
                return parse_error_set(error, 0, r, "cannot compute the manifest digest");
        }
        *ret = m;
        return 0;
}

int manifest_load(const char *path, Manifest **ret, ParseError *error) {
        _cleanup_(freep) char *data = NULL;
        size_t len;
        int r;

        r = read_full_file(path, MANIFEST_FILE_MAX, &data, &len);
        if (r == -EFBIG)
                return parse_error_set(error, 0, E2BIG, "manifest larger than %u bytes", MANIFEST_FILE_MAX);
        if (r < 0)
                return parse_error_set(error, 0, r, "cannot read the file: %s", strerror(-r));
        return manifest_parse(data, len, ret, error);
}

const ManifestEntry *manifest_find(const Manifest *m, const char *path) {
        if (!m || !path)
                return NULL;
        return manifest_find_child(m, &(const ManifestRange){ .hi = m->n_entries }, path);
}

/* The first entry in [lo, hi) whose path is not below key (strcmp). */
static size_t lower_bound(const Manifest *m, size_t lo, size_t hi, const char *key) {
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (strcmp(m->entries[mid].path, key) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

int manifest_subtree(const Manifest *m, const char *dir, ManifestRange *ret) {
        _cleanup_(freep) char *prefix = NULL;
        size_t l;

        if (streq(dir, ".")) {
                *ret = (ManifestRange){ .hi = m->n_entries };
                return 0;
        }
        /* Every path that begins with "dir/" sorts at or after "dir/" and
         * before "dir0" ('0' follows '/'). */
        l = strlen(dir);
        prefix = strjoin_alloc(dir, "/", NULL);
        if (!prefix)
                return -ENOMEM;
        ret->skip = l + 1;
        ret->lo = lower_bound(m, 0, m->n_entries, prefix);
        prefix[l] = '/' + 1;
        ret->hi = lower_bound(m, ret->lo, m->n_entries, prefix);
        return 0;
}

const ManifestEntry *manifest_find_child(const Manifest *m, const ManifestRange *r, const char *name) {
        size_t lo = r->lo, hi = r->hi;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(name, m->entries[mid].path + r->skip);

                if (c == 0)
                        return m->entries + mid;
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return NULL;
}

Manifest *manifest_free(Manifest *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n_entries; i++)
                entry_done(m->entries + i);
        free(m->entries);
        free(m->product);
        free(m->version);
        free(m);
        return NULL;
}
