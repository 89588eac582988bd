/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The integrity manifest: an mtree(5) specification as written by
 * `bsdtar --format=mtree` and NetBSD `mtree -c`, plus one comment line
 * "# endpointd: serial=N product=NAME version=V". Documented in
 * endpointd-manifest(5). The parser is strict: anything it does not
 * understand is an error with the line number, never a guess. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

#define MANIFEST_FILE_MAX (256U * 1024U * 1024U)

typedef enum EntryType {
        ENTRY_FILE,
        ENTRY_DIR,
        ENTRY_LINK,
        ENTRY_FIFO,
        ENTRY_CHAR,
        ENTRY_BLOCK,
        ENTRY_SOCKET,
        _ENTRY_TYPE_MAX,
        _ENTRY_TYPE_INVALID = -EINVAL,
} EntryType;

const char *entry_type_to_string(EntryType t) _pure_;     /* mtree names: "file", "dir", "link", ... */
EntryType entry_type_from_string(const char *s) _pure_;

/* Which keywords an entry carries (a keyword absent from the manifest is
 * not checked). */
enum {
        MANIFEST_HAS_TYPE   = 1U << 0,
        MANIFEST_HAS_MODE   = 1U << 1,
        MANIFEST_HAS_UID    = 1U << 2,
        MANIFEST_HAS_GID    = 1U << 3,
        MANIFEST_HAS_SIZE   = 1U << 4,
        MANIFEST_HAS_LINK   = 1U << 5,
        MANIFEST_HAS_SHA256 = 1U << 6,
};

typedef struct ManifestEntry {
        char *path;          /* relative to Root=, unescaped, no "./" prefix; "." is the root itself */
        EntryType type;
        uint32_t has;        /* MANIFEST_HAS_* */
        mode_t mode;         /* permission bits incl. setuid/setgid/sticky (07777) */
        uid_t uid;
        gid_t gid;
        uint64_t size;
        char *link;          /* unescaped symlink target */
        uint8_t sha256[32];
        bool optional;       /* may be missing */
        bool ignore;         /* do not descend; unlisted children are fine */
} ManifestEntry;

typedef struct Manifest {
        ManifestEntry *entries; /* sorted by path (strcmp), no duplicates */
        size_t n_entries;
        uint64_t serial;
        char *product;
        char *version;
        uint8_t digest[32];     /* SHA-256 of the manifest file's bytes */
} Manifest;

/* Parses len bytes. Returns 0, or -EBADMSG (syntax, bad escape, unknown
 * keyword or type, path with "..", missing release line), -EEXIST
 * (duplicate path), -E2BIG (too large) with error filled (file line).
 * Also -EBADMSG: NUL bytes, a last line without newline or a directory of
 * the mtree -c dialect never closed with ".." (truncation). -ENOMEM and
 * -EIO (digest) with line 0. On failure *ret is untouched: nothing is
 * handed out partially. The message never contains control characters. */
int manifest_parse(const char *data, size_t len, Manifest **ret, ParseError *error);

/* Reads path (a regular file, never blocking on a FIFO or device) and
 * parses it. Errors as manifest_parse(); I/O errors (-ENOENT, -EBADFD, ...)
 * with error->line 0. */
int manifest_load(const char *path, Manifest **ret, ParseError *error);

/* Whether s may be a product= or version= value of the release line:
 * 1..128 bytes of printable ASCII without ' ', '=' and '\\'. */
bool manifest_release_value_is_valid(const char *s) _pure_;

/* Binary search by path; NULL when not listed. */
const ManifestEntry *manifest_find(const Manifest *m, const char *path);

/* The entries below one directory: entries[lo..hi) all begin with the
 * same skip bytes ("DIR/"; none for the root "."), so a child is found by
 * its name alone, in a shorter search. */
typedef struct ManifestRange {
        size_t lo, hi, skip;
} ManifestRange;

/* The range below dir (a listed path or "."). Returns 0 or -ENOMEM. */
int manifest_subtree(const Manifest *m, const char *dir, ManifestRange *ret);
/* The entry dir/name of the range, or NULL. */
const ManifestEntry *manifest_find_child(const Manifest *m, const ManifestRange *r, const char *name);

Manifest *manifest_free(Manifest *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manifest *, manifest_free);
