/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "fileio.h"
#include "keystore.h"
#include "log.h"
#include "openssl-util.h"
#include "tpm-policy.h"

#define KEY_FILE_MAGIC "EPKS"
/* The header bytes bound into the sealed object: all but the length of
 * the TPM part, which the TPM part itself authenticates. */
#define KEY_FILE_BOUND_SIZE 108U
/* Domain separation of the binding digest (see key_file_binding()). */
#define KEY_FILE_BINDING_LABEL "endpointd key file binding v2"
#define KEY_FILE_SUFFIX ".key"
/* Flags (header byte 6). */
#define KEY_FLAG_EXPORTABLE 1U
#define KEY_FLAG_SIGNED 2U
/* nameAlg of a TPM Name: SHA-256. */
#define KEY_NAME_ALG 0x000BU
/* The installed approval and its ticket, in the approval directory. */
#define APPROVAL_NAME "approval"
#define APPROVAL_TICKET_NAME "approval.ticket"
#define APPROVAL_TICKET_MAX 512U
#define ENVELOPE_MAGIC "EPE"
#define ENVELOPE_NONCE_SIZE 12U
/* Room for a few dozen cached keys; beyond it OpenSSL falls back to the
 * normal heap and we mlock() ourselves. */
#define SECURE_HEAP_SIZE (16U * 1024U)

typedef struct CachedKey {
        struct CachedKey *next;
        char name[65];
        uint8_t key_id[KEY_ID_SIZE];
        uint8_t *key; /* DATA_KEY_SIZE bytes of secure, locked memory */
        usec_t expires;
} CachedKey;

struct KeyStore {
        char *dir;
        char *approval_dir;
        usec_t cache_timeout;
        CachedKey *cache;
        /* Why the last key file was refused before its content was read
         * (see keystore_refusal()); "" when it was not. */
        char refusal[96];
};

/* A parsed key file; tpm points into the file's buffer. policy is what
 * the sealed object must have been made with if the header is genuine and
 * the file is under the name it was sealed as. */
typedef struct KeyFile {
        KeyInfo info;
        uint8_t key_id[KEY_ID_SIZE];
        uint8_t srk_id[32];
        uint64_t generation;
        TpmPolicy policy;
        /* Used instead of policy when info.signed_policy. */
        TpmSignedPolicy signed_policy;
        const uint8_t *tpm;
        size_t tpm_len;
} KeyFile;

static const char *const key_kind_table[_KEY_KIND_MAX] = {
        [KEY_KIND_SECRET] = "secret",
        [KEY_KIND_DATA] = "data",
};

const char *key_kind_to_string(KeyKind k) {
        return k > 0 && k < _KEY_KIND_MAX ? key_kind_table[k] : NULL;
}

/* ---- envelope ------------------------------------------------------------ */

static int gcm_run(bool enc, const uint8_t key[DATA_KEY_SIZE], const uint8_t *header, const void *aad,
                   size_t aad_len, const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag) {
        _cleanup_(EVP_CIPHER_CTX_freep) EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        int n;

        if (!ctx)
                return -ENOMEM;
        if (EVP_CipherInit_ex2(ctx, EVP_aes_256_gcm(), key, header + 20, enc, NULL) != 1 ||
            EVP_CipherUpdate(ctx, NULL, &n, header, ENVELOPE_HEADER_SIZE) != 1 ||
            (aad_len > 0 && EVP_CipherUpdate(ctx, NULL, &n, aad, (int) aad_len) != 1) ||
            (len > 0 && EVP_CipherUpdate(ctx, out, &n, in, (int) len) != 1))
                return -EIO;
        if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, ENVELOPE_TAG_SIZE, tag) != 1)
                return -EIO;
        if (EVP_CipherFinal_ex(ctx, out + len, &n) != 1)
                return enc ? -EIO : -EUCLEAN;
        if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, ENVELOPE_TAG_SIZE, tag) != 1)
                return -EIO;
        return 0;
}

int envelope_encrypt(const uint8_t key[DATA_KEY_SIZE], const uint8_t key_id[KEY_ID_SIZE], const void *plain,
                     size_t len, const void *aad, size_t aad_len, uint8_t **ret, size_t *ret_len) {
        _cleanup_(freep) uint8_t *env = NULL;
        int r;

        if (len > KEYSTORE_PLAINTEXT_MAX || aad_len > KEYSTORE_AAD_MAX)
                return -EFBIG;
        env = malloc(len + ENVELOPE_OVERHEAD);
        if (!env)
                return -ENOMEM;
        memcpy(env, ENVELOPE_MAGIC, 3);
        env[3] = ENVELOPE_VERSION;
        memcpy(env + 4, key_id, KEY_ID_SIZE);
        if (RAND_bytes(env + 20, ENVELOPE_NONCE_SIZE) != 1)
                return -EIO;
        r = gcm_run(true, key, env, aad, aad_len, plain, len, env + ENVELOPE_HEADER_SIZE,
                    env + ENVELOPE_HEADER_SIZE + len);
        if (r < 0)
                return r;
        *ret_len = len + ENVELOPE_OVERHEAD;
        *ret = TAKE_PTR(env);
        return 0;
}

int envelope_decrypt(const uint8_t key[DATA_KEY_SIZE], const uint8_t key_id[KEY_ID_SIZE], const void *env,
                     size_t len, const void *aad, size_t aad_len, uint8_t **ret, size_t *ret_len) {
        const uint8_t *e = env;
        _cleanup_(freep) uint8_t *plain = NULL;
        size_t n;
        int r;

        if (len < ENVELOPE_OVERHEAD || memcmp(e, ENVELOPE_MAGIC, 3) != 0)
                return -EBADMSG;
        if (e[3] != ENVELOPE_VERSION)
                return -EPROTONOSUPPORT;
        if (CRYPTO_memcmp(e + 4, key_id, KEY_ID_SIZE) != 0)
                return -ENOKEY;
        if (aad_len > KEYSTORE_AAD_MAX)
                return -EFBIG;
        n = len - ENVELOPE_OVERHEAD;
        plain = malloc(MAX(n, 1));
        if (!plain)
                return -ENOMEM;
        r = gcm_run(false, key, e, aad, aad_len, e + ENVELOPE_HEADER_SIZE, n, plain,
                    (uint8_t *) e + ENVELOPE_HEADER_SIZE + n);
        if (r < 0) {
                OPENSSL_cleanse(plain, n);
                return r;
        }
        *ret_len = n;
        *ret = TAKE_PTR(plain);
        return 0;
}

/* ---- cache --------------------------------------------------------------- */

static void cached_key_free(CachedKey *c) {
        if (!c)
                return;
        if (!CRYPTO_secure_allocated(c->key))
                (void) munlock(c->key, DATA_KEY_SIZE);
        OPENSSL_secure_clear_free(c->key, DATA_KEY_SIZE);
        free(c);
}

static void cache_drop(KeyStore *ks, const char *name) {
        for (CachedKey **p = &ks->cache; *p;) {
                CachedKey *c = *p;
                if (!name || streq(c->name, name)) {
                        *p = c->next;
                        cached_key_free(c);
                } else
                        p = &c->next;
        }
}

usec_t keystore_cache_expire(KeyStore *ks, usec_t now) {
        usec_t next = USEC_INFINITY;

        for (CachedKey **p = &ks->cache; *p;) {
                CachedKey *c = *p;
                if (now == USEC_INFINITY || c->expires <= now) {
                        *p = c->next;
                        log_debug("Wiped cached key '%s'.", c->name);
                        cached_key_free(c);
                } else {
                        next = MIN(next, c->expires);
                        p = &c->next;
                }
        }
        return next;
}

static usec_t cache_deadline(KeyStore *ks) {
        if (ks->cache_timeout == USEC_INFINITY)
                return USEC_INFINITY - 1;
        return now_usec(CLOCK_MONOTONIC) + ks->cache_timeout;
}

/* A hit counts as a use: the key stays for KeyCacheTimeout= after it. */
static CachedKey *cache_find(KeyStore *ks, const char *name) {
        usec_t now = now_usec(CLOCK_MONOTONIC);

        for (CachedKey *c = ks->cache; c; c = c->next)
                if (streq(c->name, name) && c->expires > now) {
                        c->expires = cache_deadline(ks);
                        return c;
                }
        return NULL;
}

static void cache_put(KeyStore *ks, const char *name, const uint8_t id[KEY_ID_SIZE], const uint8_t *key) {
        CachedKey *c;

        if (ks->cache_timeout == 0)
                return;
        cache_drop(ks, name);
        c = calloc(1, sizeof(CachedKey));
        if (!c)
                return;
        c->key = OPENSSL_secure_malloc(DATA_KEY_SIZE);
        if (!c->key) {
                free(c);
                return;
        }
        /* Outside the secure heap, lock the page ourselves: a data key must
         * not reach swap. Failing that, do not cache. */
        if (!CRYPTO_secure_allocated(c->key) && mlock(c->key, DATA_KEY_SIZE) < 0) {
                OPENSSL_secure_clear_free(c->key, DATA_KEY_SIZE);
                free(c);
                return;
        }
        snprintf(c->name, sizeof(c->name), "%s", name);
        memcpy(c->key_id, id, KEY_ID_SIZE);
        memcpy(c->key, key, DATA_KEY_SIZE);
        c->expires = cache_deadline(ks);
        c->next = ks->cache;
        ks->cache = c;
}

/* ---- store --------------------------------------------------------------- */

int keystore_new(const char *dir, usec_t cache_timeout, KeyStore **ret) {
        _cleanup_(keystore_freep) KeyStore *ks = calloc(1, sizeof(KeyStore));
        int r;

        if (!ks)
                return -ENOMEM;
        ks->dir = strdup(dir);
        if (!ks->dir)
                return -ENOMEM;
        ks->cache_timeout = cache_timeout;
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        /* The secure heap is mlock'ed and guarded; without it (e.g. a low
         * RLIMIT_MEMLOCK) cache_put() locks each key itself. */
        if (!CRYPTO_secure_malloc_initialized() && CRYPTO_secure_malloc_init(SECURE_HEAP_SIZE, 32) == 0)
                log_debug("OpenSSL secure heap unavailable, locking cached keys individually.");
        *ret = TAKE_PTR(ks);
        return 0;
}

KeyStore *keystore_free(KeyStore *ks) {
        if (!ks)
                return NULL;
        cache_drop(ks, NULL);
        free(ks->dir);
        free(ks->approval_dir);
        free(ks);
        return NULL;
}

void keystore_set_cache_timeout(KeyStore *ks, usec_t timeout) {
        ks->cache_timeout = timeout;
        if (timeout == 0)
                cache_drop(ks, NULL);
}

static int key_path(KeyStore *ks, const char *name, char **ret) {
        if (!name_is_valid(name))
                return -EINVAL;
        if (asprintf(ret, "%s/%s" KEY_FILE_SUFFIX, ks->dir, name) < 0)
                return -ENOMEM;
        return 0;
}

/* The digest a key file's sealed object is bound to (TpmPolicy.binding):
 *
 *   SHA-256(KEY_FILE_BINDING_LABEL || NUL || len(name) || name ||
 *           header bytes 0..KEY_FILE_BOUND_SIZE-1)
 *
 * The name is not stored in the file: it is taken from the file's name, so
 * a file renamed, copied or swapped with another key's no longer matches
 * its object. The header bytes carry kind, flags (exportable), PCR mask
 * and digest, key id, TPM id and generation; changing any of them breaks
 * the match too. The name's length is one byte (names are at most 64) and
 * comes first, so no two (name, header) pairs hash the same input. */
static int key_file_binding(const char *name, const uint8_t *header, uint8_t ret[32]) {
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
        size_t n = strlen(name);
        uint8_t len = (uint8_t) n;

        if (!md)
                return -ENOMEM;
        if (n == 0 || n > 64)
                return -EINVAL;
        if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
            EVP_DigestUpdate(md, KEY_FILE_BINDING_LABEL, sizeof(KEY_FILE_BINDING_LABEL)) != 1 ||
            EVP_DigestUpdate(md, &len, 1) != 1 || EVP_DigestUpdate(md, name, n) != 1 ||
            EVP_DigestUpdate(md, header, KEY_FILE_BOUND_SIZE) != 1 || EVP_DigestFinal_ex(md, ret, NULL) != 1)
                return -EIO;
        return 0;
}

/* -EUCLEAN not a key file (or one that cannot be genuine), -EPROTONOSUPPORT
 * another version; version 1 files (before names were bound) are refused
 * this way too. */
static int key_file_parse(const char *name, const uint8_t *p, size_t len, KeyFile *ret) {
        uint32_t tpm_len;
        int r;

        if (len < 5 || memcmp(p, KEY_FILE_MAGIC, 4) != 0)
                return -EUCLEAN;
        if (p[4] != KEY_FILE_VERSION)
                return -EPROTONOSUPPORT;
        if (len < KEY_FILE_HEADER_SIZE)
                return -EUCLEAN;
        tpm_len = get_be32(p + 108);
        if ((p[5] != KEY_KIND_SECRET && p[5] != KEY_KIND_DATA) ||
            (p[6] & ~(KEY_FLAG_EXPORTABLE | KEY_FLAG_SIGNED)) || p[7] || get_be32(p + 8) >> TPM_PCR_MAX ||
            ((p[6] & KEY_FLAG_SIGNED) && get_be32(p + 8) != 0) || tpm_len != len - KEY_FILE_HEADER_SIZE)
                return -EUCLEAN;
        *ret = (KeyFile) {
                .info = {
                        .kind = p[5],
                        .exportable = p[6] & KEY_FLAG_EXPORTABLE,
                        .signed_policy = p[6] & KEY_FLAG_SIGNED,
                        .pcr_mask = get_be32(p + 8),
                        .created = get_be64(p + 12),
                },
                .generation = get_be64(p + 68),
                .policy.pcr_mask = get_be32(p + 8),
                .tpm = p + KEY_FILE_HEADER_SIZE,
                .tpm_len = tpm_len,
        };
        snprintf(ret->info.name, sizeof(ret->info.name), "%s", name);
        memcpy(ret->key_id, p + 20, KEY_ID_SIZE);
        memcpy(ret->srk_id, p + 36, 32);
        memcpy(ret->policy.pcr_digest, p + 76, 32);
        r = key_file_binding(name, p, ret->policy.binding);
        if (r < 0)
                return r;
        /* A signed policy's header keeps the PCR-policy key's Name (its
         * digest) where a PCR policy keeps the PCR digest. */
        ret->signed_policy.key_name[0] = KEY_NAME_ALG >> 8;
        ret->signed_policy.key_name[1] = KEY_NAME_ALG & 0xff;
        memcpy(ret->signed_policy.key_name + 2, p + 76, 32);
        memcpy(ret->signed_policy.binding, ret->policy.binding, 32);
        return 0;
}

static const char *file_type_name(mode_t mode) {
        switch (mode & S_IFMT) {
        case S_IFDIR:
                return "directory";
        case S_IFIFO:
                return "fifo";
        case S_IFSOCK:
                return "socket";
        case S_IFCHR:
                return "character device";
        case S_IFBLK:
                return "block device";
        case S_IFLNK:
                return "symbolic link";
        default:
                return "unknown type";
        }
}

/* Opens name's file for reading, refusing anything that is not a regular
 * file of a size a key file can have. The state directory is ours, so
 * whatever else stands there was put there by someone else: it is never
 * followed (a symlink to /dev/zero or to another file), never waited on (a
 * FIFO) and refused as tampering (-EUCLEAN, with ks->refusal saying why).
 * -ENOENT when there is no such file. */
static int key_file_open(KeyStore *ks, const char *path, int *ret_fd) {
        _cleanup_(closep) int fd = -EBADF;
        struct stat st;

        fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
                int e = errno;

                /* ELOOP: a symlink (O_NOFOLLOW); ENXIO, ENODEV: a socket or
                 * a device without a driver. Other errors are not the
                 * file's. */
                if (e != ELOOP && e != ENXIO && e != ENODEV && e != EOPNOTSUPP)
                        return -e;
                (void) snprintf(ks->refusal, sizeof(ks->refusal), "is not a regular file (%s)",
                                lstat(path, &st) == 0 ? file_type_name(st.st_mode) : strerror(e));
                return -EUCLEAN;
        }
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode)) {
                (void) snprintf(ks->refusal, sizeof(ks->refusal), "is not a regular file (%s)",
                                file_type_name(st.st_mode));
                return -EUCLEAN;
        }
        if (st.st_size > (off_t) KEYSTORE_FILE_MAX) {
                (void) snprintf(ks->refusal, sizeof(ks->refusal), "is larger than any key file (%lld bytes)",
                                (long long) st.st_size);
                return -EUCLEAN;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

const char *keystore_refusal(const KeyStore *ks) {
        return ks->refusal[0] ? ks->refusal : NULL;
}

/* Reads and parses name's file; *ret_buf owns what kf points into. */
static int key_file_load(KeyStore *ks, const char *name, char **ret_buf, KeyFile *kf) {
        _cleanup_(freep) char *path = NULL, *buf = NULL;
        _cleanup_(closep) int fd = -EBADF;
        size_t len;
        int r;

        ks->refusal[0] = 0;
        r = key_path(ks, name, &path);
        if (r < 0)
                return r;
        r = key_file_open(ks, path, &fd);
        if (r < 0)
                return r;
        r = read_full_fd(fd, KEYSTORE_FILE_MAX, &buf, &len);
        if (r == -EFBIG)
                return -EUCLEAN;
        if (r < 0)
                return r;
        r = key_file_parse(name, (const uint8_t *) buf, len, kf);
        if (r < 0)
                return r;
        *ret_buf = TAKE_PTR(buf);
        return 0;
}

/* The seam for rollback protection of single key files. Restoring an
 * old copy of NAME.key (after DeleteKey and a new Seal or CreateKey under
 * the same name) brings back the old secret: the file is genuine, only
 * stale, and nothing in the state directory can tell, because whoever
 * restores the file can restore any other file with it. What can tell is
 * a TPM NV counter: the generation a file was sealed with (bound into the
 * object like the rest of the header) compared with what the counter-backed
 * record holds for NAME. Until that counter exists every file is sealed
 * with generation 0 and key_generation_check() accepts every generation;
 * it is the one place the counter will back, returning -ESTALE for a
 * generation older than the record's. */
static uint64_t key_generation_next(KeyStore *ks, const char *name) {
        (void) ks;
        (void) name;
        return 0;
}

static int key_generation_check(KeyStore *ks, const char *name, uint64_t generation) {
        (void) ks;
        (void) name;
        (void) generation;
        return 0;
}

/* Writes name's key file for data sealed to pcr_mask, or with a signed
 * policy under the PCR-policy key key_name when that is not NULL. */
static int key_file_write(KeyStore *ks, Tpm *t, const char *name, KeyKind kind, bool exportable,
                          uint32_t pcr_mask, const uint8_t *key_name, const uint8_t *data, size_t len) {
        _cleanup_(freep) char *path = NULL;
        _cleanup_(freep) uint8_t *tpm_blob = NULL, *file = NULL;
        uint8_t header[KEY_FILE_HEADER_SIZE] = {};
        TpmPolicy policy = { .pcr_mask = pcr_mask };
        size_t tpm_len;
        int r;

        ks->refusal[0] = 0;
        r = key_path(ks, name, &path);
        if (r < 0)
                return r;
        if (access(path, F_OK) == 0)
                return -EEXIST;
        if (pcr_mask >> TPM_PCR_MAX)
                return -EINVAL;
        /* The header first: the object is sealed to a digest of it. */
        if (key_name) {
                if (key_name[0] != KEY_NAME_ALG >> 8 || key_name[1] != (KEY_NAME_ALG & 0xff))
                        return -EINVAL;
                policy.pcr_mask = pcr_mask = 0;
                memcpy(policy.pcr_digest, key_name + 2, 32);
        } else {
                r = tpm_pcr_digest(t, pcr_mask, policy.pcr_digest);
                if (r < 0)
                        return r;
        }
        memcpy(header, KEY_FILE_MAGIC, 4);
        header[4] = KEY_FILE_VERSION;
        header[5] = (uint8_t) kind;
        header[6] = (exportable ? KEY_FLAG_EXPORTABLE : 0) | (key_name ? KEY_FLAG_SIGNED : 0);
        put_be32(header + 8, pcr_mask);
        put_be64(header + 12, now_usec(CLOCK_REALTIME));
        if (RAND_bytes(header + 20, KEY_ID_SIZE) != 1)
                return -EIO;
        memcpy(header + 36, tpm_srk_id(t), 32);
        put_be64(header + 68, key_generation_next(ks, name));
        memcpy(header + 76, policy.pcr_digest, 32);
        r = key_file_binding(name, header, policy.binding);
        if (r < 0)
                return r;
        /* A data key without exportable is also marked inside the TPM
         * object (older files relied on that mark alone). */
        if (key_name) {
                TpmSignedPolicy sp = {};

                memcpy(sp.key_name, key_name, TPM_KEY_NAME_SIZE);
                memcpy(sp.binding, policy.binding, 32);
                r = tpm_seal_signed(t, &sp, kind == KEY_KIND_DATA && !exportable, data, len, &tpm_blob,
                                    &tpm_len);
        } else
                r = tpm_seal(t, &policy, kind == KEY_KIND_DATA && !exportable, data, len, &tpm_blob,
                             &tpm_len);
        if (r < 0)
                return r;
        if (tpm_len > KEYSTORE_FILE_MAX - KEY_FILE_HEADER_SIZE)
                return -EFBIG;
        file = malloc(KEY_FILE_HEADER_SIZE + tpm_len);
        if (!file)
                return -ENOMEM;
        put_be32(header + 108, (uint32_t) tpm_len);
        memcpy(file, header, KEY_FILE_HEADER_SIZE);
        memcpy(file + KEY_FILE_HEADER_SIZE, tpm_blob, tpm_len);
        return write_file_atomic(path, file, KEY_FILE_HEADER_SIZE + tpm_len, 0600);
}

int keystore_create_key(KeyStore *ks, Tpm *t, const char *name, uint32_t pcr_mask, bool exportable) {
        return keystore_create_key_signed(ks, t, name, pcr_mask, NULL, exportable);
}

int keystore_create_key_signed(KeyStore *ks, Tpm *t, const char *name, uint32_t pcr_mask,
                               const uint8_t *key_name, bool exportable) {
        uint8_t key[DATA_KEY_SIZE];
        int r;

        if (!name_is_valid(name))
                return -EINVAL;
        if (!t)
                return -ENODEV;
        r = tpm_get_random(t, key, sizeof(key));
        if (r >= 0)
                r = key_file_write(ks, t, name, KEY_KIND_DATA, exportable, pcr_mask, key_name, key,
                                   sizeof(key));
        OPENSSL_cleanse(key, sizeof(key));
        return r;
}

int keystore_seal(KeyStore *ks, Tpm *t, const char *name, uint32_t pcr_mask, const void *secret,
                  size_t len) {
        return keystore_seal_signed(ks, t, name, pcr_mask, NULL, secret, len);
}

int keystore_seal_signed(KeyStore *ks, Tpm *t, const char *name, uint32_t pcr_mask, const uint8_t *key_name,
                         const void *secret, size_t len) {
        if (!name_is_valid(name) || len == 0)
                return -EINVAL;
        if (len > TPM_SEAL_MAX)
                return -EFBIG;
        if (!t)
                return -ENODEV;
        return key_file_write(ks, t, name, KEY_KIND_SECRET, true, pcr_mask, key_name, secret, len);
}

/* Checks, before anything is unsealed or refused for what the header
 * says, that the header belongs to the object and the file to its name:
 * -ENODEV no TPM, -EXDEV the file names another TPM, -EKEYREJECTED header
 * and object disagree (edited header; file renamed, copied or swapped),
 * -EUCLEAN the TPM part does not parse, -ESTALE rolled back (not yet: see
 * key_generation_check()). The check is software only: it compares the
 * object's authPolicy with the header's; key_file_unseal() has the TPM
 * prove that the authPolicy is the object's own. */
static int key_file_verify(KeyStore *ks, Tpm *t, const KeyFile *kf) {
        int r;

        if (!t)
                return -ENODEV;
        if (CRYPTO_memcmp(kf->srk_id, tpm_srk_id(t), 32) != 0)
                return -EXDEV;
        if (kf->info.signed_policy)
                r = tpm_check_signed(t, &kf->signed_policy, kf->tpm, kf->tpm_len);
        else
                r = tpm_check_policy(t, &kf->policy, kf->tpm, kf->tpm_len);
        if (r == -EBADMSG)
                return -EUCLEAN;
        if (r < 0)
                return r;
        return key_generation_check(ks, kf->info.name, kf->generation);
}

/* The installed approval and its ticket. -ENOKEY when none is installed
 * (or it no longer parses: the TPM would refuse it anyway). */
static int approval_load(KeyStore *ks, Approval *ret, char **ret_ticket, size_t *ret_ticket_len) {
        _cleanup_(freep) char *path = NULL, *tpath = NULL, *data = NULL, *ticket = NULL;
        size_t len, tlen;
        int r;

        if (!ks->approval_dir)
                return -ENOKEY;
        path = strjoin_alloc(ks->approval_dir, "/", APPROVAL_NAME);
        tpath = strjoin_alloc(ks->approval_dir, "/", APPROVAL_TICKET_NAME);
        if (!path || !tpath)
                return -ENOMEM;
        r = read_full_file(path, APPROVAL_FILE_SIZE, &data, &len);
        if (r >= 0)
                r = read_full_file(tpath, APPROVAL_TICKET_MAX, &ticket, &tlen);
        if (r == -ENOENT || r == -EFBIG)
                return -ENOKEY;
        if (r < 0)
                return r;
        if (approval_parse(data, len, ret) < 0)
                return -ENOKEY;
        *ret_ticket = TAKE_PTR(ticket);
        *ret_ticket_len = tlen;
        return 0;
}

/* Unseals the object of a verified key file. */
static int key_file_unseal(KeyStore *ks, Tpm *t, const KeyFile *kf, uint8_t **ret, size_t *ret_len,
                           bool *ret_no_export) {
        _cleanup_(freep) char *ticket = NULL;
        size_t ticket_len;
        Approval a;
        int r;

        if (kf->info.signed_policy) {
                r = approval_load(ks, &a, &ticket, &ticket_len);
                if (r < 0)
                        return r;
                r = tpm_unseal_signed(t, &kf->signed_policy, &a, (const uint8_t *) ticket, ticket_len,
                                      kf->tpm, kf->tpm_len, ret, ret_len, ret_no_export);
        } else
                r = tpm_unseal(t, &kf->policy, kf->tpm, kf->tpm_len, ret, ret_len, ret_no_export);
        return r == -EBADMSG ? -EUCLEAN : r;
}

bool keystore_is_signed(KeyStore *ks, const char *name) {
        _cleanup_(freep) char *buf = NULL;
        KeyFile kf;

        return key_file_load(ks, name, &buf, &kf) >= 0 && kf.info.signed_policy;
}

int keystore_set_approval_dir(KeyStore *ks, const char *dir) {
        char *copy = strdup(dir);

        if (!copy)
                return -ENOMEM;
        free(ks->approval_dir);
        ks->approval_dir = copy;
        return 0;
}

int keystore_unseal(KeyStore *ks, Tpm *t, const char *name, uint8_t **ret, size_t *ret_len) {
        _cleanup_(freep) char *buf = NULL;
        uint8_t *secret = NULL;
        size_t len;
        bool no_export;
        KeyFile kf;
        int r;

        r = key_file_load(ks, name, &buf, &kf);
        if (r < 0)
                return r;
        /* Verified first, so that an edited kind or flag is reported as
         * tampering, not acted on. */
        r = key_file_verify(ks, t, &kf);
        if (r < 0)
                return r;
        if (kf.info.kind == KEY_KIND_DATA && !kf.info.exportable)
                return -EPERM;
        r = key_file_unseal(ks, t, &kf, &secret, &len, &no_export);
        if (r < 0)
                return r;
        /* The header is bound to the object, so this mark agrees with it;
         * it is checked anyway, as the last word on what may leave. */
        if (no_export) {
                OPENSSL_secure_clear_free(secret, len);
                return -EPERM;
        }
        *ret = secret;
        *ret_len = len;
        return 0;
}

int keystore_delete(KeyStore *ks, const char *name) {
        _cleanup_(freep) char *path = NULL;
        int r;

        ks->refusal[0] = 0;
        r = key_path(ks, name, &path);
        if (r < 0)
                return r;
        cache_drop(ks, name);
        r = unlink_durable(path);
        if (r == -EISDIR) {
                /* Not a key file, and not ours to remove recursively. */
                (void) snprintf(ks->refusal, sizeof(ks->refusal), "is not a regular file (directory)");
                return -EUCLEAN;
        }
        return r;
}

static int keyinfo_compare(const void *a, const void *b) {
        return strcmp(((const KeyInfo *) a)->name, ((const KeyInfo *) b)->name);
}

int keystore_list(KeyStore *ks, KeyInfo **ret, size_t *ret_n) {
        _cleanup_(freep) KeyInfo *list = NULL;
        DIR *d;
        struct dirent *de;
        size_t n = 0, allocated = 0;

        d = opendir(ks->dir);
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                _cleanup_(freep) char *buf = NULL;
                char name[65];
                size_t l = strlen(de->d_name);
                KeyFile kf;

                /* Only NAME.key; temporary files of an interrupted write
                 * end in .key.tmp-XXXXXX and are not keys. */
                if (l <= strlen(KEY_FILE_SUFFIX) || l - strlen(KEY_FILE_SUFFIX) >= sizeof(name) ||
                    !streq(de->d_name + l - strlen(KEY_FILE_SUFFIX), KEY_FILE_SUFFIX))
                        continue;
                memcpy(name, de->d_name, l - strlen(KEY_FILE_SUFFIX));
                name[l - strlen(KEY_FILE_SUFFIX)] = 0;
                if (!name_is_valid(name) || key_file_load(ks, name, &buf, &kf) < 0)
                        continue;
                if (n == allocated) {
                        KeyInfo *p = reallocarray(list, MAX(allocated * 2, 8U), sizeof(KeyInfo));
                        if (!p) {
                                closedir(d);
                                return -ENOMEM;
                        }
                        list = p;
                        allocated = MAX(allocated * 2, 8U);
                }
                list[n++] = kf.info;
        }
        closedir(d);
        if (n > 0)
                qsort(list, n, sizeof(KeyInfo), keyinfo_compare);
        *ret = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}

/* The data key name, from the cache or unsealed (and then cached). */
static int data_key_get(KeyStore *ks, Tpm *t, const char *name, uint8_t key[DATA_KEY_SIZE],
                        uint8_t key_id[KEY_ID_SIZE]) {
        _cleanup_(freep) char *buf = NULL;
        CachedKey *c;
        uint8_t *secret = NULL;
        size_t len;
        bool no_export;
        KeyFile kf;
        int r;

        ks->refusal[0] = 0;
        if (!name_is_valid(name))
                return -EINVAL;
        c = cache_find(ks, name);
        if (c) {
                memcpy(key, c->key, DATA_KEY_SIZE);
                memcpy(key_id, c->key_id, KEY_ID_SIZE);
                return 0;
        }
        r = key_file_load(ks, name, &buf, &kf);
        if (r < 0)
                return r;
        r = key_file_verify(ks, t, &kf);
        if (r < 0)
                return r;
        if (kf.info.kind != KEY_KIND_DATA)
                return -EMEDIUMTYPE;
        r = key_file_unseal(ks, t, &kf, &secret, &len, &no_export);
        if (r < 0)
                return r;
        if (len != DATA_KEY_SIZE) {
                OPENSSL_secure_clear_free(secret, len);
                return -EUCLEAN;
        }
        memcpy(key, secret, DATA_KEY_SIZE);
        memcpy(key_id, kf.key_id, KEY_ID_SIZE);
        cache_put(ks, name, kf.key_id, secret);
        OPENSSL_secure_clear_free(secret, len);
        return 0;
}

int keystore_encrypt(KeyStore *ks, Tpm *t, const char *name, const void *plain, size_t len, const void *aad,
                     size_t aad_len, uint8_t **ret, size_t *ret_len) {
        uint8_t key[DATA_KEY_SIZE], id[KEY_ID_SIZE];
        int r;

        if (len > KEYSTORE_PLAINTEXT_MAX || aad_len > KEYSTORE_AAD_MAX)
                return -EFBIG;
        r = data_key_get(ks, t, name, key, id);
        if (r < 0)
                return r;
        r = envelope_encrypt(key, id, plain, len, aad, aad_len, ret, ret_len);
        OPENSSL_cleanse(key, sizeof(key));
        return r;
}

int keystore_decrypt(KeyStore *ks, Tpm *t, const char *name, const void *env, size_t len, const void *aad,
                     size_t aad_len, uint8_t **ret, size_t *ret_len) {
        uint8_t key[DATA_KEY_SIZE], id[KEY_ID_SIZE];
        int r;

        if (len > KEYSTORE_PLAINTEXT_MAX + ENVELOPE_OVERHEAD || aad_len > KEYSTORE_AAD_MAX)
                return -EFBIG;
        r = data_key_get(ks, t, name, key, id);
        if (r < 0)
                return r;
        r = envelope_decrypt(key, id, env, len, aad, aad_len, ret, ret_len);
        OPENSSL_cleanse(key, sizeof(key));
        return r;
}
