/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* inotify watches on every directory a manifest lists, for the integrity
 * component: each change is handed on as the raw path (relative to the
 * root) that was touched, so that only that path is rechecked. */

#include <systemd/sd-event.h>

#include "manifest.h"

typedef struct TreeWatch TreeWatch;

/* path: malloc'ed, owned by the callee; NULL when events were lost (queue
 * overflow) and everything must be looked at again. */
typedef void (*TreeWatchChanged)(char *path, void *userdata);

/* Watches each ENTRY_DIR of m that exists below root_fd (resolved safely,
 * never through a symbolic link). Directories that cannot be watched (gone,
 * out of inotify watches) are skipped with one warning. Returns 0 or
 * -errno (no inotify at all). m is not kept. */
int tree_watch_new(sd_event *e, int root_fd, const Manifest *m, TreeWatchChanged changed, void *userdata,
                   TreeWatch **ret);
TreeWatch *tree_watch_free(TreeWatch *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(TreeWatch *, tree_watch_free);
