/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Writes an integrity manifest for a directory tree: the full-path mtree
 * dialect of `bsdtar --format=mtree` with type, mode, uid, gid, size, link
 * and sha256digest, and the "# endpointd:" release line, escaped so that
 * manifest_parse() reads every name back byte for byte. */

#include <stdint.h>
#include <stdio.h>

#include "manifest.h"

/* Escapes s for an mtree name or link= value: every byte that is not
 * printable ASCII, and ' ', '#', '=', '\\', becomes a three-digit octal
 * escape. Returns a malloc'ed string or NULL on OOM. */
char *mtree_escape(const char *s);

/* Writes m back in the same full-path dialect, each entry with exactly
 * the keywords it has, so that manifest_parse() yields an equal Manifest
 * (the digest aside). Returns 0, -EINVAL when the release values cannot be
 * written, -EIO when out fails. */
int manifest_write(const Manifest *m, FILE *out);

/* Walks the tree below root_fd (which stays open and unmoved) depth first,
 * names sorted bytewise, and writes the manifest to out. Never follows a
 * symlink (the root fd itself excepted), never opens anything but regular
 * files and directories, and refuses a file that changes while it is
 * hashed. ignore (NULL-terminated, may be NULL) names directories, as
 * paths relative to the root without "./" or trailing '/', that are
 * listed with the "ignore" keyword and not walked. Returns 0; -EINVAL for
 * a product or version the release line cannot hold or serial 0; -ESTALE
 * when a file changed during the walk; -ELOOP when the tree is deeper than
 * 256 levels; -ENOTDIR when an ignore path is not a directory, -ENOENT
 * when it is not in the tree; -EIO when out fails; other -errno from the
 * file system. On failure and if error_path is non-NULL, *error_path is
 * set to the relative path (malloc'ed) where it failed, or NULL. */
int manifest_write_tree(int root_fd, uint64_t serial, const char *product, const char *version,
                        char *const *ignore, FILE *out, char **error_path);
