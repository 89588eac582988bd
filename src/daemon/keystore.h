/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Named sealed secrets and data keys in StateDirectory/keys, the data-key
 * envelope (AES-256-GCM) and the cache of unsealed data keys.
 *
 * A key file NAME.key (NAME as name_is_valid() allows: 1..64 bytes of
 * [A-Za-z0-9_.-], not starting with '.') is written atomically and holds
 * (version 2, documented in endpointd-dbus(7), KEY FILES):
 *
 *   off len
 *     0   4  magic "EPKS"
 *     4   1  version (2)
 *     5   1  kind: 1 sealed secret, 2 data key
 *     6   1  flags: bit 0 exportable, bit 1 signed policy
 *     7   1  reserved, 0
 *     8   4  PCR mask of the sha256 bank (big endian)
 *    12   8  creation time, µs since the epoch (big endian)
 *    20  16  key id (random; data keys' envelopes name it)
 *    36  32  SHA-256 of the SRK's name: the TPM it is bound to
 *    68   8  generation (big endian; 0 until a TPM counter backs it)
 *    76  32  SHA-256 of the PCR values at sealing time; with a signed
 *            policy (PCR mask 0): the digest of the PCR-policy key's Name
 *   108   4  length of the TPM part (big endian)
 *   112   n  marshalled TPM2B_PUBLIC + TPM2B_PRIVATE of the sealed object
 *
 * The header is not secret. It is bound to the sealed object together with
 * the name: the object's authPolicy is PolicyPCR followed by PolicySecret
 * whose policyRef is SHA-256 over the name and header bytes 0..107 (see
 * key_file_binding() and tpm.h's TpmPolicy). The TPM checks the integrity
 * of the public area, authPolicy included, when it loads the object, and
 * demands the policy before Unseal; the key store compares the authPolicy
 * with the header before it acts on any header field. A file edited,
 * renamed, copied or swapped with another key's is refused as tampered
 * (-EKEYREJECTED), never reported as changed PCRs. Not covered: an old
 * copy of the same name's file restored after it was deleted and sealed
 * again (see key_generation_check()). Version 1 files, which bound no
 * name, are refused with -EPROTONOSUPPORT and must be re-created.
 *
 * Envelope of Encrypt/Decrypt (version 1, documented in endpointd-dbus(7)):
 *
 *     0   3  magic "EPE"
 *     3   1  version (1)
 *     4  16  key id of the data key
 *    20  12  random nonce
 *    32   n  AES-256-GCM ciphertext
 *  32+n  16  GCM tag
 *
 * The 32 header bytes followed by the caller's AAD are the GCM AAD. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tpm.h"
#include "util.h"

#define KEY_FILE_VERSION 2U
#define KEY_FILE_HEADER_SIZE 112U
#define KEY_ID_SIZE 16U
#define DATA_KEY_SIZE 32U
#define ENVELOPE_VERSION 1U
#define ENVELOPE_HEADER_SIZE 32U
#define ENVELOPE_TAG_SIZE 16U
#define ENVELOPE_OVERHEAD (ENVELOPE_HEADER_SIZE + ENVELOPE_TAG_SIZE)
/* Limits of one Encrypt call (documented in endpointd-dbus(7)). */
#define KEYSTORE_PLAINTEXT_MAX (1024U * 1024U)
#define KEYSTORE_AAD_MAX (64U * 1024U)
#define KEYSTORE_FILE_MAX (64U * 1024U)

typedef enum KeyKind {
        KEY_KIND_SECRET = 1,
        KEY_KIND_DATA = 2,
        _KEY_KIND_MAX,
        _KEY_KIND_INVALID = -EINVAL,
} KeyKind;

const char *key_kind_to_string(KeyKind k) _pure_;

typedef struct KeyInfo {
        char name[65];
        KeyKind kind;
        bool exportable;
        bool signed_policy; /* sealed under PolicyAuthorize (pcr_mask is 0) */
        uint32_t pcr_mask;
        usec_t created;
} KeyInfo;

typedef struct KeyStore KeyStore;

/* Opens (creating, mode 0700) the key directory dir. Unsealed data keys
 * are kept for cache_timeout (0: not at all). */
int keystore_new(const char *dir, usec_t cache_timeout, KeyStore **ret);
KeyStore *keystore_free(KeyStore *ks);
DEFINE_TRIVIAL_CLEANUP_FUNC(KeyStore *, keystore_free);

void keystore_set_cache_timeout(KeyStore *ks, usec_t timeout);

/* Wipes cached keys whose time is up (all with now = USEC_INFINITY).
 * Returns when the next one is due, USEC_INFINITY when none is cached. */
usec_t keystore_cache_expire(KeyStore *ks, usec_t now);

/* Makes a 256-bit key from the TPM's RNG and seals it to pcr_mask.
 * -EINVAL bad name, -EEXIST name taken, plus the tpm errors. */
int keystore_create_key(KeyStore *ks, Tpm *t, const char *name, uint32_t pcr_mask, bool exportable);

/* The _signed variants seal with a signed policy under the PCR-policy key
 * whose TPM Name (TPM_KEY_NAME_SIZE bytes) is key_name (tpm-policy.h), or
 * to pcr_mask when key_name is NULL. Unsealing needs an installed
 * approval (keystore_set_approval_dir()): -ENOKEY when there is none, or
 * when the TPM refuses it (below the floor, another key), -EBADE when the
 * PCRs are not what it approves. */
int keystore_create_key_signed(KeyStore *ks, Tpm *t, const char *name, uint32_t pcr_mask,
                               const uint8_t *key_name, bool exportable);
int keystore_seal_signed(KeyStore *ks, Tpm *t, const char *name, uint32_t pcr_mask, const uint8_t *key_name,
                         const void *secret, size_t len);

/* Whether name's key file says it was sealed with a signed policy (for
 * messages; not verified). */
bool keystore_is_signed(KeyStore *ks, const char *name);

/* Where the installed approval is ("approval", "approval.ticket"). */
int keystore_set_approval_dir(KeyStore *ks, const char *dir);

/* Seals 1..TPM_SEAL_MAX bytes under name. -EINVAL bad name or empty
 * secret, -EFBIG too long, -EEXIST name taken. */
int keystore_seal(KeyStore *ks, Tpm *t, const char *name, uint32_t pcr_mask, const void *secret, size_t len);

/* Returns a sealed secret or an exportable data key in
 * OPENSSL_secure_malloc'ed memory (OPENSSL_secure_clear_free() it).
 * -ENOENT unknown, -EPERM a data key made without exportable, -EXDEV sealed
 * by another TPM, -EKEYREJECTED the header does not belong to the sealed
 * object or the file not to this name, -EUCLEAN the file or object is
 * damaged, -EPROTONOSUPPORT another key file version, -EBADE PCRs changed. */
int keystore_unseal(KeyStore *ks, Tpm *t, const char *name, uint8_t **ret, size_t *ret_len);

/* Why the last call on ks that failed with -EUCLEAN refused the key file
 * before reading it, as words to follow "The key file of 'NAME' ", e.g.
 * "is not a regular file (fifo)"; NULL when that refusal was about the
 * file's content (or the call did not fail so). Key files are opened
 * without following symlinks and without blocking, and anything but a
 * regular file of at most KEYSTORE_FILE_MAX bytes is refused with -EUCLEAN
 * by keystore_unseal(), keystore_encrypt(), keystore_decrypt() and
 * keystore_delete() (a directory). Valid until the next call on ks. */
const char *keystore_refusal(const KeyStore *ks);

/* Deletes a key or secret (and its cached copy). -ENOENT, -EINVAL,
 * -EUCLEAN a directory in the key file's place. */
int keystore_delete(KeyStore *ks, const char *name);

/* All keys, sorted by name; malloc'ed array. Unreadable files and other
 * versions are skipped. What it reports is the header as written: it is
 * verified when the key is used, not here. */
int keystore_list(KeyStore *ks, KeyInfo **ret, size_t *ret_n);

/* Encrypts/decrypts with data key name. -EFBIG plaintext or AAD over the
 * limits, -EMEDIUMTYPE name is a sealed secret, -ENOENT, plus
 * envelope_decrypt()'s and keystore_unseal()'s errors. */
int keystore_encrypt(KeyStore *ks, Tpm *t, const char *name, const void *plain, size_t len, const void *aad,
                     size_t aad_len, uint8_t **ret, size_t *ret_len);
int keystore_decrypt(KeyStore *ks, Tpm *t, const char *name, const void *env, size_t len, const void *aad,
                     size_t aad_len, uint8_t **ret, size_t *ret_len);

/* The envelope itself. decrypt: -EBADMSG too short or bad magic,
 * -EPROTONOSUPPORT unknown version, -ENOKEY made with another key,
 * -EUCLEAN authentication failed (changed byte, wrong AAD). */
int envelope_encrypt(const uint8_t key[DATA_KEY_SIZE], const uint8_t key_id[KEY_ID_SIZE], const void *plain,
                     size_t len, const void *aad, size_t aad_len, uint8_t **ret, size_t *ret_len);
int envelope_decrypt(const uint8_t key[DATA_KEY_SIZE], const uint8_t key_id[KEY_ID_SIZE], const void *env,
                     size_t len, const void *aad, size_t aad_len, uint8_t **ret, size_t *ret_len);
