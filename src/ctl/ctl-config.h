/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* endpointctl reads endpointd.conf (and its drop-ins) with the daemon's own
 * loader, for the settings a local check needs: TrustDirectory=,
 * [Policy] File= and StateDirectory= (audit verify). */

#include "config.h"

/* The configuration endpointd would run with: --config=FILE if given (it
 * must exist), otherwise the default file, which may be absent (the
 * defaults and any drop-ins then apply). Unknown keys warn with file:line
 * as the daemon's do. Returns 0, or a negative errno having printed
 * "file:line: reason" (-EBADMSG for a file that does not parse). */
int ctl_config_load(Config **ret);

/* The trust directory for a local signature check: --trust=DIR, else the
 * configuration's TrustDirectory=. Returns 0 with a malloc'ed path, or a
 * negative errno having printed why. */
int ctl_trust_directory(char **ret);
