/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness for the CMS verifier: the first byte says how many of
 * the following bytes are the signed data, the rest is the signature. The
 * trust store holds one fixed CA; the seed corpus has a valid signature by
 * a code-signing certificate under it (valid-ecdsa) and one by the CA's own
 * key (ca-signed, refused for its role), so the parsing, the chain and the
 * role paths are all reached. The keys are not kept: new seeds need a new
 * CA here. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "signature.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fuzz_ca[] =
        "-----BEGIN CERTIFICATE-----\n"
        "MIIBizCCATGgAwIBAgIUCw9WDARZYLCfmF5TRMXlUvWcHOIwCgYIKoZIzj0EAwIw\n"
        "EjEQMA4GA1UEAwwHZnV6eiBDQTAgFw0yNjExMzAyMzQzMzVaGA8yMTI2MTEwNjIz\n"
        "NDMzNVowEjEQMA4GA1UEAwwHZnV6eiBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEH\n"
        "A0IABGvnKHiS90f74PNoVRbPCZykluSqmJXuCbha2CwgTTc2/E6UzDz6shblG4OE\n"
        "UqiY4THugTcsUFk6uyO/WYyArYajYzBhMB0GA1UdDgQWBBTfns/hyGy0GvA2QVIO\n"
        "jih/0UhXiDAfBgNVHSMEGDAWgBTfns/hyGy0GvA2QVIOjih/0UhXiDAPBgNVHRMB\n"
        "Af8EBTADAQH/MA4GA1UdDwEB/wQEAwICBDAKBggqhkjOPQQDAgNIADBFAiEAixJr\n"
        "OVzLIKW8o4XRlJ1xk/mpH3ehfbDm9j38RxrqBHUCIAYM0pM9+PnIZ8QzP0WDJK3z\n"
        "lwsuddSL+2WtPOzoF7Sa\n"
        "-----END CERTIFICATE-----\n";

static TrustStore *store;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        char dir[] = "/tmp/fuzz-signature-XXXXXX", path[64], err[SIGNATURE_ERROR_MAX];
        FILE *f;

        if (!mkdtemp(dir))
                abort();
        snprintf(path, sizeof(path), "%s/ca.pem", dir);
        f = fopen(path, "we");
        if (!f || fputs(fuzz_ca, f) < 0 || fclose(f) != 0)
                abort();
        if (trust_store_load(dir, &store, err, sizeof(err)) < 0)
                abort();
        (void) unlink(path);
        (void) rmdir(dir);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(freep) char *signer = NULL;
        char err[SIGNATURE_ERROR_MAX];
        size_t n;

        if (size < 1)
                return 0;
        n = MIN((size_t) data[0], size - 1);
        /* Stored: no wall clock, so that a crash reproduces. */
        (void) signature_verify(store, SIGNER_ROLE_MANIFEST, SIGNATURE_TIME_STORED, data + 1, n, data + 1 + n,
                                size - 1 - n, &signer, err, sizeof(err));
        return 0;
}
