/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "ctl-config.h"
#include "ctl.h"
#include "log.h"

static void config_warn(const char *file, unsigned line, const char *message, void *userdata) {
        log_warning("%s:%u: %s", file, line, message);
}

int ctl_config_load(Config **ret) {
        _cleanup_(freep) char *bad_file = NULL;
        const char *path = arg_config ?: CONFIG_FILE_DEFAULT;
        ParseError e = {};
        int r;

        r = config_load(path, arg_config ? 0 : CONFIG_LOAD_MISSING_OK, config_warn, NULL, ret, &e,
                        &bad_file);
        if (r < 0) {
                if (e.line > 0)
                        log_error("%s:%u: %s", bad_file ?: path, e.line, e.message);
                else
                        log_error("%s: %s", bad_file ?: path, e.message);
                /* A file endpointd would refuse to start with is bad input, not a usage mistake. */
                return r == -EINVAL ? -EBADMSG : r;
        }
        return 0;
}

int ctl_trust_directory(char **ret) {
        _cleanup_(config_freep) Config *c = NULL;
        int r;

        if (arg_trust) {
                *ret = strdup(arg_trust);
                return *ret ? 0 : log_oom();
        }
        r = ctl_config_load(&c);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c->trust_dir);
        return 0;
}
