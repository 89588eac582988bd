/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <sys/inotify.h>

#include "integrity-watch.h"
#include "log.h"
#include "scanner.h"

struct TreeWatch {
        int root_fd; /* borrowed from the caller, never closed here */
        int inotify_fd; /* owned */
        sd_event_source *source;
        char **paths; /* indexed by watch descriptor */
        size_t n_paths;
        TreeWatchChanged changed;
        void *userdata;
};

TreeWatch *tree_watch_free(TreeWatch *w) {
        if (!w)
                return NULL;
        sd_event_source_disable_unref(w->source);
        w->inotify_fd = safe_close(w->inotify_fd);
        for (size_t i = 0; i < w->n_paths; i++)
                free(w->paths[i]);
        free(w->paths);
        free(w);
        return NULL;
}

static void tree_watch_event(TreeWatch *w, const struct inotify_event *e) {
        const char *dir;
        char *p;

        if (e->mask & IN_Q_OVERFLOW) {
                log_notice("inotify queue overflowed; everything is checked again.");
                w->changed(NULL, w->userdata);
                return;
        }
        if (e->wd < 0 || (size_t) e->wd >= w->n_paths || !w->paths[e->wd])
                return;
        dir = w->paths[e->wd];
        if (e->len > 0 && e->name[0])
                p = streq(dir, ".") ? strdup(e->name) : strjoin_alloc(dir, "/", e->name);
        else
                p = strdup(dir);
        if (!p)
                return (void) log_oom();
        if (e->mask & IN_IGNORED) {
                /* The directory went away; it is rechecked, and watched
                 * again after the next full scan if it comes back. */
                free(w->paths[e->wd]);
                w->paths[e->wd] = NULL;
        }
        w->changed(p, w->userdata);
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        TreeWatch *w = userdata;
        union {
                struct inotify_event e;
                uint8_t raw[64 * 1024];
        } buf;

        for (;;) {
                ssize_t n = read(fd, &buf, sizeof(buf));

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                log_warning_errno(errno, "Failed to read inotify events: %m");
                        return 0;
                }
                for (uint8_t *p = buf.raw; p < buf.raw + n;) {
                        const struct inotify_event *e = (const struct inotify_event *) p;
                        tree_watch_event(w, e);
                        p += sizeof(struct inotify_event) + e->len;
                }
        }
}

static int tree_watch_add(TreeWatch *w, const char *path) {
        _cleanup_(closep) int fd = -EBADF;
        char proc[64];
        int wd;

        fd = streq(path, ".") ? fcntl(w->root_fd, F_DUPFD_CLOEXEC, 3)
                              : scan_open_beneath(w->root_fd, path, O_PATH | O_DIRECTORY);
        if (fd < 0)
                return fd == -1 ? -errno : fd;
        /* Through /proc/self/fd the watch lands on the very directory the
         * safe lookup found, not on whatever a path would resolve to. */
        (void) snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        wd = inotify_add_watch(w->inotify_fd, proc,
                               IN_ATTRIB | IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE |
                                       IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF |
                                       IN_ONLYDIR | IN_EXCL_UNLINK);
        if (wd < 0)
                return -errno;
        if ((size_t) wd >= w->n_paths) {
                size_t na = MAX((size_t) wd + 1, w->n_paths * 2);
                char **n = reallocarray(w->paths, na, sizeof(char *));
                if (!n)
                        return -ENOMEM;
                memset(n + w->n_paths, 0, (na - w->n_paths) * sizeof(char *));
                w->paths = n;
                w->n_paths = na;
        }
        free(w->paths[wd]);
        w->paths[wd] = strdup(path);
        return w->paths[wd] ? 0 : -ENOMEM;
}

int tree_watch_new(sd_event *e, int root_fd, const Manifest *m, TreeWatchChanged changed, void *userdata,
                   TreeWatch **ret) {
        _cleanup_(tree_watch_freep) TreeWatch *w = calloc(1, sizeof(TreeWatch));
        bool warned = false;
        int r;

        if (!w)
                return -ENOMEM;
        *w = (TreeWatch){
                .root_fd = root_fd, .inotify_fd = -EBADF, .changed = changed, .userdata = userdata
        };
        w->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (w->inotify_fd < 0)
                return -errno;
        r = sd_event_add_io(e, &w->source, w->inotify_fd, EPOLLIN, on_inotify, w);
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_entries; i++) {
                if (m->entries[i].type != ENTRY_DIR)
                        continue;
                r = tree_watch_add(w, m->entries[i].path);
                if (r < 0 && r != -ENOENT && !warned) {
                        log_warning_errno(r, "Cannot watch all directories (first failure: %s): %m",
                                          m->entries[i].path);
                        warned = true;
                }
        }
        *ret = TAKE_PTR(w);
        return 0;
}
