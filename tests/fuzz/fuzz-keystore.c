/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness for what the key store reads from outside: Decrypt's
 * envelope (from any client with keys.use) and key files (version 2, from
 * the state directory). Without a TPM the key-file path ends after parsing
 * and computing the name binding, where the TPM would be asked (the SRK's
 * name is needed to check the binding), which is the part that handles
 * untrusted bytes in our code; the TPM part is unmarshalled by tss2-mu.
 * Seeds: tests/fuzz/corpus/keystore (real files from swtpm, one in the
 * refused version 1 layout, an envelope). */
#include <stdio.h>
#include <stdlib.h>

#include "fileio.h"
#include "keystore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t key[DATA_KEY_SIZE] = { 1, 2, 3 };

static void fuzz_envelope(const uint8_t *data, size_t size) {
        uint8_t id[KEY_ID_SIZE] = {}, *plain = NULL, *copy;
        size_t len;

        if (envelope_decrypt(key, id, data, size, "aad", 3, &plain, &len) == 0)
                abort(); /* nobody but the key holder can forge a tag */
        /* Again with the key id the input names, to get past it to GCM. */
        if (size < ENVELOPE_HEADER_SIZE)
                return;
        memcpy(id, data + 4, KEY_ID_SIZE);
        copy = malloc(size);
        if (!copy)
                return;
        memcpy(copy, data, size);
        if (envelope_decrypt(key, id, copy, size, NULL, 0, &plain, &len) == 0)
                abort();
        free(copy);
}

static void fuzz_key_file(const uint8_t *data, size_t size) {
        static char dir[] = "/tmp/fuzz-keystore.XXXXXX";
        static KeyStore *ks;
        char path[sizeof(dir) + 16];
        uint8_t *secret = NULL, *env = NULL;
        KeyInfo *list = NULL;
        size_t n, len;
        int r;

        if (!ks && (!mkdtemp(dir) || keystore_new(dir, 0, &ks) < 0))
                abort();
        snprintf(path, sizeof(path), "%s/f.key", dir);
        if (write_file_atomic(path, data, size, 0600) < 0)
                return;
        r = keystore_unseal(ks, NULL, "f", &secret, &len);
        if (r == 0)
                abort(); /* there is no TPM to unseal with */
        if (keystore_encrypt(ks, NULL, "f", "x", 1, NULL, 0, &env, &len) == 0)
                abort(); /* nor to unseal a data key */
        if (keystore_list(ks, &list, &n) == 0) {
                for (size_t i = 0; i < n; i++)
                        if ((list[i].kind != KEY_KIND_SECRET && list[i].kind != KEY_KIND_DATA) ||
                            list[i].pcr_mask >> TPM_PCR_MAX)
                                abort();
                free(list);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        fuzz_envelope(data, size);
        fuzz_key_file(data, size);
        return 0;
}
