/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness for the grant/licence parser (the signature check comes
 * first in token_verify(), but the parser must stand on its own). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(token_freep) Token *t = NULL;
        ParseError e;

        if (token_parse((const char *) data, size, _TOKEN_TYPE_INVALID, &t, &e) < 0)
                return 0;
        /* The invariants the rest of the daemon relies on. */
        if (!t->id || !t->device || t->not_after <= t->not_before ||
            (t->type == TOKEN_GRANT && (!t->subject || !t->roles || !t->roles[0])) ||
            (t->type == TOKEN_LICENCE && (!t->features || !t->features[0])))
                abort();
        (void) token_check_time(t, t->not_before);
        (void) token_device_matches(t, "dev");
        return 0;
}
