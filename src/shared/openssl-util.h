/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one seam between OpenSSL's error queue and our errnos, plus cleanup
 * helpers for the OpenSSL types we hold. */

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "macro.h"

DEFINE_CLEANUP_FUNC(EVP_PKEY *, EVP_PKEY_free, EVP_PKEY_freep)
DEFINE_CLEANUP_FUNC(EVP_PKEY_CTX *, EVP_PKEY_CTX_free, EVP_PKEY_CTX_freep)
DEFINE_CLEANUP_FUNC(EVP_MD_CTX *, EVP_MD_CTX_free, EVP_MD_CTX_freep)
DEFINE_CLEANUP_FUNC(EVP_CIPHER_CTX *, EVP_CIPHER_CTX_free, EVP_CIPHER_CTX_freep)
DEFINE_CLEANUP_FUNC(X509 *, X509_free, X509_freep)
DEFINE_CLEANUP_FUNC(X509_STORE *, X509_STORE_free, X509_STORE_freep)
DEFINE_CLEANUP_FUNC(BIO *, BIO_free_all, BIO_free_allp)
DEFINE_CLEANUP_FUNC(CMS_ContentInfo *, CMS_ContentInfo_free, CMS_ContentInfo_freep)

/* Empties the calling thread's OpenSSL error queue into buf (the first, most
 * specific error; "" when there was none) and returns buf. */
const char *openssl_errors_drain(char *buf, size_t len);

/* SHA-256 of data into out[32]. Returns 0 or -EIO. */
int sha256_buffer(const void *data, size_t len, unsigned char out[32]);
