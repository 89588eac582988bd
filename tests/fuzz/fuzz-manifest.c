/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness for the mtree manifest parser. Beyond "does not
 * crash", every accepted input must satisfy the parser's contract (sorted,
 * unique, no ".." or absolute paths, manifest_find finds every entry) and
 * survive a trip through manifest_write() unchanged. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "manifest.h"
#include "mtree-write.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool path_is_safe(const char *p) {
        if (streq(p, "."))
                return true;
        if (*p == '/' || *p == 0)
                return false;
        for (;;) {
                size_t k = strcspn(p, "/");

                if (k == 0 || (k == 1 && p[0] == '.') || (k == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                if (!p[k])
                        return true;
                p += k + 1;
        }
}

static bool entries_equal(const ManifestEntry *a, const ManifestEntry *b) {
        return streq(a->path, b->path) && a->has == b->has &&
               (!(a->has & MANIFEST_HAS_TYPE) || a->type == b->type) &&
               (!(a->has & MANIFEST_HAS_MODE) || a->mode == b->mode) &&
               (!(a->has & MANIFEST_HAS_UID) || a->uid == b->uid) &&
               (!(a->has & MANIFEST_HAS_GID) || a->gid == b->gid) &&
               (!(a->has & MANIFEST_HAS_SIZE) || a->size == b->size) &&
               (!(a->has & MANIFEST_HAS_LINK) || streq(a->link, b->link)) &&
               (!(a->has & MANIFEST_HAS_SHA256) || memcmp(a->sha256, b->sha256, 32) == 0) &&
               a->optional == b->optional && a->ignore == b->ignore;
}

/* Every entry is found by its name in the range of its parent directory
 * (the scanner's lookup of a listed name), and every range holds only
 * entries below that directory. */
static void check_subtrees(const Manifest *m) {
        for (size_t i = 0; i < m->n_entries; i++) {
                const char *p = m->entries[i].path, *slash = strrchr(p, '/');
                _cleanup_(freep) char *dir = slash ? strndup(p, (size_t) (slash - p)) : strdup(".");
                ManifestRange r;

                if (!dir || streq(p, "."))
                        continue;
                if (manifest_subtree(m, dir, &r) < 0)
                        abort();
                if (manifest_find_child(m, &r, slash ? slash + 1 : p) != m->entries + i)
                        abort();
                for (size_t j = r.lo; j < r.hi && slash; j++)
                        if (strncmp(m->entries[j].path, p, r.skip) != 0)
                                abort();
        }
}

static void check_round_trip(const Manifest *m) {
        _cleanup_(manifest_freep) Manifest *m2 = NULL;
        _cleanup_(freep) char *text = NULL;
        size_t len = 0;
        ParseError e;
        FILE *f = open_memstream(&text, &len);

        if (!f)
                return;
        if (manifest_write(m, f) < 0)
                abort();
        fclose(f);
        if (manifest_parse(text, len, &m2, &e) < 0) {
                fprintf(stderr, "re-parse failed at %u: %s\n%s\n", e.line, e.message, text);
                abort();
        }
        if (m2->n_entries != m->n_entries || m2->serial != m->serial || !streq(m2->product, m->product) ||
            !streq(m2->version, m->version))
                abort();
        for (size_t i = 0; i < m->n_entries; i++)
                if (!entries_equal(m->entries + i, m2->entries + i))
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        ParseError e;

        if (manifest_parse((const char *) data, size, &m, &e) < 0) {
                if (m || e.message[0] == 0)
                        abort();
                return 0;
        }
        for (size_t i = 0; i < m->n_entries; i++) {
                if (!path_is_safe(m->entries[i].path))
                        abort();
                if (i > 0 && strcmp(m->entries[i - 1].path, m->entries[i].path) >= 0)
                        abort();
                if (manifest_find(m, m->entries[i].path) != m->entries + i)
                        abort();
        }
        check_subtrees(m);
        check_round_trip(m);
        return 0;
}
