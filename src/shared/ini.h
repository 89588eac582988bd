/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one parser for systemd-style INI files: configuration, policy, grants
 * and licences. Input is untrusted: it must be UTF-8 without NUL bytes, lines
 * are at most INI_LINE_MAX bytes, "#" and ";" start comment lines, keys are
 * [A-Za-z0-9_.-]+, every key lives in a section. Values are trimmed; there
 * are no quotes, escapes or continuation lines. */

#include <stddef.h>

#include "util.h"

#define INI_LINE_MAX 4096U

/* Called for each section header (key == NULL, value == NULL) and each
 * assignment. Returns < 0 to stop parsing; it then fills error itself. */
typedef int (*IniHandler)(const char *section, const char *key, const char *value,
                          unsigned line, void *userdata, ParseError *error);

/* Parses len bytes of data. Returns 0, the handler's error, or -EBADMSG
 * (syntax, NUL, bad UTF-8) / -E2BIG (line too long) with error filled. */
int ini_parse(const char *data, size_t len, IniHandler handler, void *userdata, ParseError *error);
