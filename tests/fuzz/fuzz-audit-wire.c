/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness for the parser of Audit1 subject and detail strings
 * (audit-wire.h), which endpointctl runs on what the bus gives it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit-wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_pair(const char *name, const char *value, void *userdata) {
        size_t *n = userdata;

        *n += strlen(name) + strlen(value);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s = malloc(size + 1);
        size_t n = 0;

        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = 0;
        (void) audit_wire_parse(s, on_pair, &n);
        free(s);
        return 0;
}
