/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness for the INI parser and the configuration on top of it. */
#include <stddef.h>
#include <stdint.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(config_freep) Config *c = NULL;
        ParseError e;

        (void) config_parse("fuzz.conf", (const char *) data, size, NULL, NULL, &c, &e);
        return 0;
}
