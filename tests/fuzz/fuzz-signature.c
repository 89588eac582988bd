/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness for the CMS verifier: the first byte says how many of
 * the following bytes are the signed data, the rest is the signature. The
 * trust store holds one fixed CA (the seed corpus has a valid signature
 * by it), so both the parsing and the verification paths are reached. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "signature.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fuzz_ca[] =
        "-----BEGIN CERTIFICATE-----\n"
        "MIIBfDCCASGgAwIBAgIUOYSk3Kixo1pOAXZg7Nnq33tYujIwCgYIKoZIzj0EAwIw\n"
        "EjEQMA4GA1UEAwwHZnV6eiBDQTAgFw0yNjExMjMxMzAxMDlaGA8yMTI2MTAzMDEz\n"
        "MDEwOVowEjEQMA4GA1UEAwwHZnV6eiBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEH\n"
        "A0IABECQMbgJ+5YYlUXEH0KQvE2Rt3hxIGQePfeu2aT/HTma144oEbx61yT33NWw\n"
        "hlMrNb8ke3omcLWJNukuCzKRhmOjUzBRMB0GA1UdDgQWBBTj0rKPZWuMEcxgqXJ5\n"
        "5ZboLPNiGTAfBgNVHSMEGDAWgBTj0rKPZWuMEcxgqXJ55ZboLPNiGTAPBgNVHRMB\n"
        "Af8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQCjdvh7MDHrUXalEWV+prtF0BG2\n"
        "3Hv1Dsass5U2vvoTUwIhAMnhM998H74Gu94e1yUTEQ9vATcTp2b+M7rjkJ+U8wKg\n"
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
