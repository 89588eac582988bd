/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness for the policy parser: parse, decide, render, and
 * check that the rendering parses again. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(policy_freep) Policy *p = NULL, *q = NULL;
        _cleanup_(freep) char *text = NULL;
        gid_t gids[] = { 4, 50 };
        PolicyCaller c = { .uid = 1000, .gid = 100, .gids = gids, .n_gids = 2 };
        ParseError e;

        if (policy_parse("fuzz.conf", (const char *) data, size, NULL, NULL, &p, &e) < 0)
                return 0;
        (void) policy_check(p, &c, "keys.use:k1", NULL, NULL, NULL, 0);
        text = policy_format(p);
        if (text && policy_parse("fuzz.conf", text, strlen(text), NULL, NULL, &q, &e) < 0)
                abort(); /* what we print must parse */
        return 0;
}
