/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness for the PCR approval parser (endpointd-approval(5)).
 * InstallApproval checks the CMS signature first, but the approval file in
 * the state directory is read again at every unseal, so the parser must
 * stand on its own. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "approval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint8_t want[32];
        Approval a;

        if (approval_parse(data, size, &a) < 0)
                return 0;
        /* The invariants unsealing relies on: what parses is exactly what
         * approval_make() writes for its fields, and its approved policy
         * commits to its version, mask and PCR digest. */
        if (size != APPROVAL_FILE_SIZE || a.version == 0 || a.version > APPROVAL_VERSION_MAX ||
            a.pcr_mask == 0 || a.pcr_mask >> APPROVAL_PCR_MAX)
                abort();
        if (approval_policy_digest(a.version, a.pcr_mask, a.pcr_digest, want) < 0 ||
            memcmp(want, a.policy, 32) != 0)
                abort();
        /* The signed bytes begin with that policy. */
        if (memcmp(data + APPROVAL_SIGNED_OFFSET, a.policy, 32) != 0)
                abort();
        return 0;
}
