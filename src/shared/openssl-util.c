/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <openssl/err.h>

#include "openssl-util.h"

const char *openssl_errors_drain(char *buf, size_t len) {
        unsigned long e, first = 0;

        while ((e = ERR_get_error()) != 0)
                if (first == 0)
                        first = e;
        if (first == 0) {
                if (len > 0)
                        buf[0] = 0;
                return buf;
        }
        ERR_error_string_n(first, buf, len);
        return buf;
}

int sha256_buffer(const void *data, size_t len, unsigned char out[32]) {
        unsigned int n = 0;

        if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != 32)
                return -EIO;
        return 0;
}
