/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness for the credential file parser (tpm-credential.h):
 * Keys1.ActivateCredential takes the file from any caller with
 * device.attest, and what parses goes to the TPM. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "tpm-credential.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *why = NULL;
        TpmCredential c;

        if (tpm_credential_parse(data, size, &c, &why) < 0) {
                /* Every refusal says why. */
                if (!why)
                        abort();
                return 0;
        }
        /* The invariants the TPM call relies on: the whole input is the
         * two structures after magic and version, the HMAC a SHA-256
         * digest, the secret a P-256 point (two coordinates of 1 to 32
         * bytes each, as tpm2_makecredential writes them). */
        if ((size_t) 8 + 2 + c.blob.size + 2 + c.secret.size != size || c.blob.size < 2 + 32 + 3 ||
            c.secret.size < 2 + 1 + 2 + 1 || c.secret.size > 2 + 32 + 2 + 32)
                abort();
        return 0;
}
