/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The tpm module against a real swtpm that this test starts itself (Unix
 * socket, temp state dir), and the data-key envelope format. */
#include <check.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "approval.h"
#include "check-main.h"
#include "fileio.h"
#include "keystore.h"
#include "openssl-util.h"
#include "tpm-nv.h"
#include "tpm.h"

static char tmpdir[] = "/tmp/test-tpm.XXXXXX";
static char tcti[512];
static pid_t swtpm_pid = -1;

static bool socket_ready(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM, 0), r;

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        r = connect(fd, (struct sockaddr *) &sa, sizeof(sa));
        close(fd);
        return r == 0;
}

/* Starts swtpm on a Unix socket; the swtpm TCTI talks to path and
 * path.ctrl. Returns false when swtpm is not installed. */
static bool swtpm_start(void) {
        char state[300], sock[300], ctrl[320], server[340], ctrlarg[340], statearg[320];

        if (access("/usr/bin/swtpm", X_OK) < 0)
                return false;
        if (!mkdtemp(tmpdir))
                return false;
        snprintf(state, sizeof(state), "%s/state", tmpdir);
        snprintf(sock, sizeof(sock), "%s/tpm.sock", tmpdir);
        snprintf(ctrl, sizeof(ctrl), "%s.ctrl", sock);
        snprintf(server, sizeof(server), "type=unixio,path=%s", sock);
        snprintf(ctrlarg, sizeof(ctrlarg), "type=unixio,path=%s", ctrl);
        snprintf(statearg, sizeof(statearg), "dir=%s", state);
        mkdir(state, 0700);
        swtpm_pid = fork();
        if (swtpm_pid == 0) {
                int devnull = open("/dev/null", O_WRONLY);
                dup2(devnull, STDOUT_FILENO);
                dup2(devnull, STDERR_FILENO);
                execl("/usr/bin/swtpm", "swtpm", "socket", "--tpm2", "--server", server, "--ctrl", ctrlarg,
                      "--flags", "not-need-init,startup-clear", "--tpmstate", statearg, (char *) NULL);
                _exit(127);
        }
        for (int i = 0; i < 100 && !socket_ready(sock); i++)
                usleep(50000);
        snprintf(tcti, sizeof(tcti), "swtpm:path=%s", sock);
        return socket_ready(sock);
}

static void swtpm_stop(void) {
        char cmd[400];

        if (swtpm_pid > 0) {
                kill(swtpm_pid, SIGTERM);
                waitpid(swtpm_pid, NULL, 0);
                swtpm_pid = -1;
        }
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
                fprintf(stderr, "Could not remove %s\n", tmpdir);
}

static Tpm *tpm_open(void) {
        Tpm *t = NULL;

        ck_assert_int_eq(tpm_new(tcti, &t), 0);
        return t;
}

/* A policy over mask that holds now, bound to SHA-256 of what. */
static TpmPolicy policy_now(Tpm *t, uint32_t mask, const char *what) {
        TpmPolicy p = { .pcr_mask = mask };

        ck_assert_int_eq(tpm_pcr_digest(t, mask, p.pcr_digest), 0);
        ck_assert_int_eq(sha256_buffer(what, strlen(what), p.binding), 0);
        return p;
}

START_TEST(test_no_tpm) {
        Tpm *t = NULL;
        uint8_t d[32] = {};

        ck_assert_int_eq(tpm_new("swtpm:path=/nonexistent/tpm.sock", &t), -ENODEV);
        ck_assert_ptr_null(t);
        ck_assert_int_eq(tpm_pcr_extend(NULL, 14, d), -ENODEV);
        ck_assert_int_eq(tpm_pcr_read(NULL, 14, d), -ENODEV);
        ck_assert_int_eq(tss2_to_errno(0), 0);
}
END_TEST

START_TEST(test_tss2_to_errno) {
        /* Format-one codes carry the parameter/session/handle number. */
        ck_assert_int_eq(tss2_to_errno(0x99d), -EBADE); /* POLICY_FAIL, session 1 */
        ck_assert_int_eq(tss2_to_errno(0x1df), -EUCLEAN); /* INTEGRITY, parameter 1 */
        ck_assert_int_eq(tss2_to_errno(0x902), -EBUSY); /* OBJECT_MEMORY */
        ck_assert_int_eq(tss2_to_errno(0x922), -EBUSY); /* RETRY */
        ck_assert_int_eq(tss2_to_errno(0x100), -ENODEV); /* INITIALIZE */
        ck_assert_int_eq(tss2_to_errno(0x18b), -ENODEV); /* HANDLE 1: our object is gone */
        ck_assert_int_eq(tss2_to_errno(0x910), -ENODEV); /* REFERENCE_H0 */
        ck_assert_int_eq(tss2_to_errno(TSS2_TCTI_RC_IO_ERROR), -ENODEV);
        ck_assert_int_eq(tss2_to_errno(TSS2_ESYS_RC_MEMORY), -ENOMEM);
        ck_assert_int_eq(tss2_to_errno(TSS2_ESYS_RC_BAD_VALUE), -EINVAL);
        ck_assert_int_eq(tss2_to_errno(0x1c4), -EPROTO); /* VALUE, parameter 1 */
        ck_assert_int_eq(tss2_to_errno(TSS2_ESYS_RC_RSP_AUTH_FAILED), -EPROTO);
}
END_TEST

START_TEST(test_pcr_extend_read) {
        _cleanup_(tpm_freep) Tpm *t = tpm_open();
        uint8_t before[32], after[32], digest[32], expect[32], buf[64];

        memset(digest, 0xab, sizeof(digest));
        ck_assert_int_eq(tpm_pcr_read(t, 16, before), 0);
        ck_assert_int_eq(tpm_pcr_extend(t, 16, digest), 0);
        ck_assert_int_eq(tpm_pcr_read(t, 16, after), 0);
        memcpy(buf, before, 32);
        memcpy(buf + 32, digest, 32);
        ck_assert_int_eq(sha256_buffer(buf, 64, expect), 0);
        ck_assert_mem_eq(after, expect, 32);
        ck_assert_int_eq(tpm_pcr_extend(t, 24, digest), -EINVAL);
        ck_assert_int_eq(tpm_pcr_read(t, 99, after), -EINVAL);
}
END_TEST

START_TEST(test_pcr_read_many) {
        _cleanup_(tpm_freep) Tpm *t = tpm_open();
        uint8_t all[24][32], one[32];

        /* More than the eight digests one PCR_Read returns. */
        ck_assert_int_eq(tpm_pcr_read_mask(t, 0xFFFFFF, all), 0);
        for (unsigned i = 0; i < 24; i += 5) {
                ck_assert_int_eq(tpm_pcr_read(t, i, one), 0);
                ck_assert_mem_eq(all[i], one, 32);
        }
}
END_TEST

START_TEST(test_seal_unseal) {
        _cleanup_(tpm_freep) Tpm *t = tpm_open();
        _cleanup_(freep) uint8_t *blob = NULL;
        uint8_t *out = NULL, big[TPM_SEAL_MAX] = {}, d[32] = { 1 };
        size_t blob_len, out_len;
        bool no_export = true;
        TpmPolicy p = policy_now(t, 1U << 16, "s"), q;

        ck_assert_int_eq(tpm_seal(t, &p, false, "hunter2", 7, &blob, &blob_len), 0);
        ck_assert_int_eq(tpm_check_policy(t, &p, blob, blob_len), 0);
        ck_assert_int_eq(tpm_unseal(t, &p, blob, blob_len, &out, &out_len, &no_export), 0);
        ck_assert_uint_eq(out_len, 7);
        ck_assert_mem_eq(out, "hunter2", 7);
        ck_assert(!no_export);
        OPENSSL_secure_clear_free(out, out_len);

        /* Tampered blob: one flipped bit in the private part. */
        blob[blob_len - 5] ^= 1;
        ck_assert_int_eq(tpm_unseal(t, &p, blob, blob_len, &out, &out_len, &no_export), -EUCLEAN);
        blob[blob_len - 5] ^= 1;
        ck_assert_int_eq(tpm_unseal(t, &p, blob, blob_len - 1, &out, &out_len, &no_export), -EBADMSG);
        ck_assert_int_eq(tpm_check_policy(t, &p, blob, blob_len - 1), -EBADMSG);

        /* Another binding, PCR selection or PCR digest is not the object's
         * policy: refused before the TPM sees it. */
        q = p;
        q.binding[31] ^= 1;
        ck_assert_int_eq(tpm_check_policy(t, &q, blob, blob_len), -EKEYREJECTED);
        ck_assert_int_eq(tpm_unseal(t, &q, blob, blob_len, &out, &out_len, &no_export), -EKEYREJECTED);
        q = p;
        q.pcr_mask |= 1U << 15;
        ck_assert_int_eq(tpm_unseal(t, &q, blob, blob_len, &out, &out_len, &no_export), -EKEYREJECTED);
        q = p;
        q.pcr_digest[0] ^= 1;
        ck_assert_int_eq(tpm_unseal(t, &q, blob, blob_len, &out, &out_len, &no_export), -EKEYREJECTED);

        /* PCR 16 moves on: the policy no longer holds. With the right
         * binding that is a PCR mismatch; with a wrong one, still a
         * rejected binding, never a PCR mismatch. */
        ck_assert_int_eq(tpm_pcr_extend(t, 16, d), 0);
        ck_assert_int_eq(tpm_unseal(t, &p, blob, blob_len, &out, &out_len, &no_export), -EBADE);
        q = p;
        q.binding[0] ^= 1;
        ck_assert_int_eq(tpm_unseal(t, &q, blob, blob_len, &out, &out_len, &no_export), -EKEYREJECTED);

        p = policy_now(t, 1U << 7, "big");
        ck_assert_int_eq(tpm_seal(t, &p, true, big, sizeof(big), &out, &out_len), 0);
        free(out);
        ck_assert_int_eq(tpm_seal(t, &p, false, big, sizeof(big) + 1, &out, &out_len), -EINVAL);
        ck_assert_int_eq(tpm_seal(t, &p, false, big, 0, &out, &out_len), -EINVAL);
        p.pcr_mask = 1U << 24;
        ck_assert_int_eq(tpm_seal(t, &p, false, big, 1, &out, &out_len), -EINVAL);
        ck_assert_int_eq(tpm_pcr_digest(t, 1U << 24, p.pcr_digest), -EINVAL);
}
END_TEST

START_TEST(test_no_export_mark) {
        _cleanup_(tpm_freep) Tpm *t = tpm_open();
        _cleanup_(freep) uint8_t *blob = NULL;
        uint8_t *out = NULL;
        size_t blob_len, out_len;
        bool no_export = false;
        TpmPolicy p = policy_now(t, 1U << 7, "k");

        ck_assert_int_eq(tpm_seal(t, &p, true, "k", 1, &blob, &blob_len), 0);
        ck_assert_int_eq(tpm_unseal(t, &p, blob, blob_len, &out, &out_len, &no_export), 0);
        ck_assert(no_export);
        OPENSSL_secure_clear_free(out, out_len);
}
END_TEST

START_TEST(test_sign_verify) {
        _cleanup_(tpm_freep) Tpm *t = tpm_open();
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
        _cleanup_(freep) uint8_t *sig = NULL;
        uint8_t digest[32];
        size_t sig_len;

        ck_assert_int_eq(sha256_buffer("hello", 5, digest), 0);
        ck_assert_int_eq(tpm_sign_digest(t, digest, &sig, &sig_len), 0);
        ck_assert_int_eq(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, tpm_device_key(t)), 1);
        ck_assert_int_eq(EVP_DigestVerify(md, sig, sig_len, (const unsigned char *) "hello", 5), 1);
}
END_TEST

START_TEST(test_device_key_stable) {
        Tpm *t = tpm_open();
        EVP_PKEY *k1 = tpm_device_key(t);

        EVP_PKEY_up_ref(k1);
        tpm_free(t);
        t = tpm_open();
        ck_assert_int_eq(EVP_PKEY_eq(k1, tpm_device_key(t)), 1);
        EVP_PKEY_free(k1);
        tpm_free(t);
}
END_TEST

START_TEST(test_quote) {
        _cleanup_(tpm_freep) Tpm *t = tpm_open();
        _cleanup_(freep) uint8_t *quote = NULL, *sig = NULL, *pcrs = NULL;
        size_t quote_len, sig_len, pcrs_len;
        EVP_PKEY *ak = NULL;

        ck_assert_int_eq(tpm_quote(t, "nonce", 5, (1U << 0) | (1U << 7), &quote, &quote_len, &sig, &sig_len,
                                   &pcrs, &pcrs_len),
                         0);
        ck_assert_uint_eq(pcrs_len, 64);
        ck_assert_uint_gt(quote_len, 0);
        ck_assert_uint_gt(sig_len, 0);
        ck_assert_int_eq(tpm_attestation_key(t, &ak), 0);
        ck_assert_ptr_nonnull(ak);
        ck_assert_int_eq(tpm_quote(t, "", 0, 1, &quote, &quote_len, &sig, &sig_len, &pcrs, &pcrs_len),
                         -EINVAL);
}
END_TEST

START_TEST(test_no_leaks) {
        _cleanup_(tpm_freep) Tpm *t = tpm_open();
        uint8_t digest[32] = {}, *out = NULL;
        unsigned n;
        TpmPolicy good = policy_now(t, 1U << 7, "x"), other = good, stale = good;

        /* other is not the object's policy (refused before the TPM); stale is,
         * but its PCR digest never held (fails at Unseal, after Load,
         * PolicyPCR and PolicySecret). */
        other.pcr_mask = 1U << 8;
        stale.pcr_digest[0] ^= 1;

        /* Two objects stay loaded: the SRK and the device key. Many
         * operations in a row must neither add to them nor fail for lack
         * of the third slot. */
        for (int i = 0; i < 30; i++) {
                _cleanup_(freep) uint8_t *blob = NULL, *sig = NULL, *q = NULL, *s = NULL, *p = NULL;
                size_t blob_len, out_len, sig_len, ql, sl, pl;
                bool ne;

                ck_assert_int_eq(tpm_seal(t, &good, false, "x", 1, &blob, &blob_len), 0);
                ck_assert_int_eq(tpm_unseal(t, &good, blob, blob_len, &out, &out_len, &ne), 0);
                OPENSSL_secure_clear_free(out, out_len);
                blob[blob_len - 3] ^= 1;
                ck_assert_int_lt(tpm_unseal(t, &good, blob, blob_len, &out, &out_len, &ne), 0);
                ck_assert_int_lt(tpm_unseal(t, &other, blob, blob_len, &out, &out_len, &ne), 0);
                free(TAKE_PTR(blob));
                ck_assert_int_eq(tpm_seal(t, &stale, false, "x", 1, &blob, &blob_len), 0);
                ck_assert_int_eq(tpm_unseal(t, &stale, blob, blob_len, &out, &out_len, &ne), -EBADE);
                ck_assert_int_eq(tpm_sign_digest(t, digest, &sig, &sig_len), 0);
                ck_assert_int_eq(tpm_quote(t, "n", 1, 1, &q, &ql, &s, &sl, &p, &pl), 0);
        }
        ck_assert_int_eq(tpm_count_transient(t, &n), 0);
        ck_assert_uint_eq(n, 2);
}
END_TEST

START_TEST(test_envelope) {
        uint8_t key[32], other[32], id[16] = { 1 }, id2[16] = { 2 };
        _cleanup_(freep) uint8_t *env = NULL, *plain = NULL;
        size_t env_len, plain_len;

        memset(key, 7, sizeof(key));
        memset(other, 8, sizeof(other));
        ck_assert_int_eq(envelope_encrypt(key, id, "secret data", 11, "aad", 3, &env, &env_len), 0);
        ck_assert_uint_eq(env_len, 11 + ENVELOPE_OVERHEAD);
        ck_assert_int_eq(env[3], ENVELOPE_VERSION);
        ck_assert_int_eq(envelope_decrypt(key, id, env, env_len, "aad", 3, &plain, &plain_len), 0);
        ck_assert_uint_eq(plain_len, 11);
        ck_assert_mem_eq(plain, "secret data", 11);
        free(TAKE_PTR(plain));

        /* Empty plaintext and empty AAD are fine. */
        {
                _cleanup_(freep) uint8_t *e2 = NULL, *p2 = NULL;
                size_t l2, pl2;
                ck_assert_int_eq(envelope_encrypt(key, id, "", 0, NULL, 0, &e2, &l2), 0);
                ck_assert_int_eq(envelope_decrypt(key, id, e2, l2, NULL, 0, &p2, &pl2), 0);
                ck_assert_uint_eq(pl2, 0);
        }

        ck_assert_int_eq(envelope_decrypt(key, id, env, env_len, "aaX", 3, &plain, &plain_len), -EUCLEAN);
        ck_assert_int_eq(envelope_decrypt(key, id, env, env_len, "", 0, &plain, &plain_len), -EUCLEAN);
        ck_assert_int_eq(envelope_decrypt(other, id, env, env_len, "aad", 3, &plain, &plain_len), -EUCLEAN);
        ck_assert_int_eq(envelope_decrypt(key, id2, env, env_len, "aad", 3, &plain, &plain_len), -ENOKEY);
        ck_assert_int_eq(envelope_decrypt(key, id, env, ENVELOPE_OVERHEAD - 1, "aad", 3, &plain, &plain_len),
                         -EBADMSG);
        ck_assert_int_eq(envelope_decrypt(key, id, env, env_len - 1, "aad", 3, &plain, &plain_len),
                         -EUCLEAN);
        for (size_t i = 0; i < env_len; i++) {
                if (i >= 4 && i < 20)
                        continue; /* the key id: -ENOKEY, checked above */
                env[i] ^= 0x40;
                ck_assert_int_lt(envelope_decrypt(key, id, env, env_len, "aad", 3, &plain, &plain_len), 0);
                env[i] ^= 0x40;
        }
        env[3] = 99;
        ck_assert_int_eq(envelope_decrypt(key, id, env, env_len, "aad", 3, &plain, &plain_len),
                         -EPROTONOSUPPORT);
}
END_TEST

START_TEST(test_keystore_cache) {
        _cleanup_(tpm_freep) Tpm *t = tpm_open();
        _cleanup_(keystore_freep) KeyStore *ks = NULL;
        _cleanup_(freep) uint8_t *env = NULL, *plain = NULL;
        _cleanup_(freep) KeyInfo *list = NULL;
        char dir[400];
        uint8_t *secret = NULL;
        size_t env_len, plain_len, n, len;

        snprintf(dir, sizeof(dir), "%s/keys-%d", tmpdir, (int) getpid());
        ck_assert_int_eq(keystore_new(dir, 60 * USEC_PER_SEC, &ks), 0);
        ck_assert_int_eq(keystore_create_key(ks, t, "k", 1U << 7, false), 0);
        ck_assert_int_eq(keystore_create_key(ks, t, "k", 1U << 7, false), -EEXIST);
        ck_assert_int_eq(keystore_create_key(ks, t, "../k", 1U << 7, false), -EINVAL);
        ck_assert_int_eq(keystore_seal(ks, t, "s", 1U << 7, "pw", 2), 0);
        ck_assert_int_eq(keystore_encrypt(ks, t, "s", "x", 1, NULL, 0, &env, &env_len), -EMEDIUMTYPE);
        ck_assert_int_eq(keystore_unseal(ks, t, "k", &secret, &len), -EPERM);
        ck_assert_int_eq(keystore_unseal(ks, t, "s", &secret, &len), 0);
        ck_assert_mem_eq(secret, "pw", 2);
        OPENSSL_secure_clear_free(secret, len);

        /* Unsealed once, the key serves without the TPM from the cache... */
        ck_assert_int_eq(keystore_encrypt(ks, t, "k", "hello", 5, "a", 1, &env, &env_len), 0);
        ck_assert_int_eq(keystore_decrypt(ks, NULL, "k", env, env_len, "a", 1, &plain, &plain_len), 0);
        ck_assert_mem_eq(plain, "hello", 5);
        /* ... until its time is up: then it needs the TPM again. */
        ck_assert_uint_eq(keystore_cache_expire(ks, USEC_INFINITY), USEC_INFINITY);
        free(TAKE_PTR(plain));
        ck_assert_int_eq(keystore_decrypt(ks, NULL, "k", env, env_len, "a", 1, &plain, &plain_len), -ENODEV);
        ck_assert_int_eq(keystore_decrypt(ks, t, "k", env, env_len, "a", 1, &plain, &plain_len), 0);
        /* Deleting drops the cached copy too. */
        ck_assert_int_eq(keystore_delete(ks, "k"), 0);
        free(TAKE_PTR(plain));
        ck_assert_int_eq(keystore_decrypt(ks, t, "k", env, env_len, "a", 1, &plain, &plain_len), -ENOENT);
        ck_assert_int_eq(keystore_delete(ks, "k"), -ENOENT);
        ck_assert_int_eq(keystore_list(ks, &list, &n), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(list[0].name, "s");
        ck_assert_int_eq(list[0].kind, KEY_KIND_SECRET);
}
END_TEST

/* Key files read and written by the tests below. */
static void key_file_get(const char *dir, const char *name, char **ret, size_t *ret_len) {
        _cleanup_(freep) char *path = NULL;

        ck_assert_int_ge(asprintf(&path, "%s/%s.key", dir, name), 0);
        ck_assert_int_eq(read_full_file(path, KEYSTORE_FILE_MAX, ret, ret_len), 0);
}

static void key_file_put(const char *dir, const char *name, const void *data, size_t len) {
        _cleanup_(freep) char *path = NULL;

        ck_assert_int_ge(asprintf(&path, "%s/%s.key", dir, name), 0);
        ck_assert_int_eq(write_file_atomic(path, data, len, 0600), 0);
}

static int unseal_rc(KeyStore *ks, Tpm *t, const char *name) {
        uint8_t *secret = NULL;
        size_t len;
        int r = keystore_unseal(ks, t, name, &secret, &len);

        if (r == 0)
                OPENSSL_secure_clear_free(secret, len);
        return r;
}

/* A key file belongs to its name and its header to its object: swapped,
 * copied or edited files are refused as -EKEYREJECTED (Tampered), also
 * when the PCRs have changed as well. */
START_TEST(test_keystore_binding) {
        _cleanup_(tpm_freep) Tpm *t = tpm_open();
        _cleanup_(keystore_freep) KeyStore *ks = NULL;
        _cleanup_(freep) char *a = NULL, *b = NULL, *k = NULL, *x = NULL;
        _cleanup_(freep) uint8_t *env = NULL, *plain = NULL;
        size_t a_len, b_len, k_len, x_len, env_len, plain_len;
        uint8_t *secret = NULL, d[32] = { 2 };
        char dir[400];
        size_t len;

        snprintf(dir, sizeof(dir), "%s/bind-%d", tmpdir, (int) getpid());
        ck_assert_int_eq(keystore_new(dir, 0, &ks), 0);
        ck_assert_int_eq(keystore_seal(ks, t, "a", 1U << 16, "alpha", 5), 0);
        ck_assert_int_eq(keystore_seal(ks, t, "b", 1U << 16, "bravo", 5), 0);
        ck_assert_int_eq(keystore_create_key(ks, t, "k", 1U << 16, false), 0);
        ck_assert_int_eq(keystore_create_key(ks, t, "x", 1U << 16, true), 0);
        key_file_get(dir, "a", &a, &a_len);
        key_file_get(dir, "b", &b, &b_len);
        key_file_get(dir, "k", &k, &k_len);
        key_file_get(dir, "x", &x, &x_len);
        ck_assert_uint_eq((uint8_t) a[4], 2);

        /* Swapped and copied files. */
        key_file_put(dir, "a", b, b_len);
        key_file_put(dir, "b", a, a_len);
        ck_assert_int_eq(unseal_rc(ks, t, "a"), -EKEYREJECTED);
        ck_assert_int_eq(unseal_rc(ks, t, "b"), -EKEYREJECTED);
        key_file_put(dir, "b", b, b_len);
        key_file_put(dir, "a", a, a_len);
        ck_assert_int_eq(keystore_unseal(ks, t, "a", &secret, &len), 0);
        ck_assert_mem_eq(secret, "alpha", 5);
        OPENSSL_secure_clear_free(secret, len);
        key_file_put(dir, "k2", k, k_len);
        ck_assert_int_eq(keystore_encrypt(ks, t, "k2", "p", 1, NULL, 0, &env, &env_len), -EKEYREJECTED);
        ck_assert_int_eq(keystore_encrypt(ks, t, "k", "p", 1, NULL, 0, &env, &env_len), 0);
        ck_assert_int_eq(keystore_decrypt(ks, t, "k2", env, env_len, NULL, 0, &plain, &plain_len),
                         -EKEYREJECTED);
        key_file_put(dir, "k2", a, a_len);
        ck_assert_int_eq(unseal_rc(ks, t, "k2"), -EKEYREJECTED);

        /* Header edits that parse: kind, exportable, PCR mask, creation
         * time, key id, generation, PCR digest. */
        {
                static const struct {
                        size_t off;
                        uint8_t flip;
                } edits[] = { { 5, 3 },  { 6, 1 },  { 9, 1 },  { 11, 0x80 }, { 12, 0x80 },
                              { 20, 1 }, { 75, 1 }, { 76, 1 }, { 107, 1 } };
                for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
                        char copy[KEYSTORE_FILE_MAX];

                        memcpy(copy, a, a_len);
                        copy[edits[i].off] ^= (char) edits[i].flip;
                        key_file_put(dir, "a", copy, a_len);
                        ck_assert_msg(unseal_rc(ks, t, "a") == -EKEYREJECTED, "offset %zu", edits[i].off);
                }
        }
        /* A non-exportable data key: setting the flag or calling it a
         * secret is tampering, not a way out. */
        k[6] = 1;
        key_file_put(dir, "k", k, k_len);
        ck_assert_int_eq(unseal_rc(ks, t, "k"), -EKEYREJECTED);
        k[6] = 0;
        k[5] = KEY_KIND_SECRET;
        key_file_put(dir, "k", k, k_len);
        ck_assert_int_eq(unseal_rc(ks, t, "k"), -EKEYREJECTED);
        k[5] = KEY_KIND_DATA;
        key_file_put(dir, "k", k, k_len);
        ck_assert_int_eq(unseal_rc(ks, t, "k"), -EPERM);
        /* An exportable data key called a secret (Encrypt refuses
         * secrets) or a secret called a data key. */
        x[5] = KEY_KIND_SECRET;
        key_file_put(dir, "x", x, x_len);
        ck_assert_int_eq(keystore_encrypt(ks, t, "x", "p", 1, NULL, 0, &plain, &plain_len), -EKEYREJECTED);
        x[5] = KEY_KIND_DATA;
        key_file_put(dir, "x", x, x_len);
        ck_assert_int_eq(unseal_rc(ks, t, "x"), 0);
        a[5] = KEY_KIND_DATA;
        key_file_put(dir, "a", a, a_len);
        ck_assert_int_eq(keystore_encrypt(ks, t, "a", "p", 1, NULL, 0, &plain, &plain_len), -EKEYREJECTED);
        a[5] = KEY_KIND_SECRET;
        key_file_put(dir, "a", a, a_len);

        /* Another TPM named in the header: WrongDevice. */
        a[40] ^= 1;
        key_file_put(dir, "a", a, a_len);
        ck_assert_int_eq(unseal_rc(ks, t, "a"), -EXDEV);
        a[40] ^= 1;
        key_file_put(dir, "a", a, a_len);

        /* The PCRs move on: the genuine file is a PCR mismatch, an edited
         * one still tampered. */
        ck_assert_int_eq(tpm_pcr_extend(t, 16, d), 0);
        ck_assert_int_eq(unseal_rc(ks, t, "a"), -EBADE);
        key_file_put(dir, "a", b, b_len);
        ck_assert_int_eq(unseal_rc(ks, t, "a"), -EKEYREJECTED);
        a[10] ^= 0x80;
        key_file_put(dir, "a", a, a_len);
        ck_assert_int_eq(unseal_rc(ks, t, "a"), -EKEYREJECTED);

        /* Nothing of this left an object or a session loaded. */
        {
                unsigned n;
                ck_assert_int_eq(tpm_count_transient(t, &n), 0);
                ck_assert_uint_eq(n, 2);
        }
}
END_TEST

/* Key files that must not parse, without a TPM: every one is refused
 * before anything would be asked of it. */
/* Whatever stands in a key file's place that is not a regular file is
 * refused as tampering (-EUCLEAN) without following it or waiting on it,
 * and keystore_refusal() says what it is; also a symlink to a file that
 * would parse. Needs no TPM: the refusal comes before the TPM is asked. */
START_TEST(test_keystore_odd_files) {
        _cleanup_(keystore_freep) KeyStore *ks = NULL;
        _cleanup_(freep) uint8_t *env = NULL, *plain = NULL, *big = NULL;
        _cleanup_(freep) KeyInfo *list = NULL;
        _cleanup_(closep) int sock = -EBADF;
        char dir[] = "/tmp/test-keystore.XXXXXX", path[256], cmd[64];
        uint8_t good[KEY_FILE_HEADER_SIZE + 8] = "EPKS\x02\x01\x01";
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t env_len, plain_len, n;
        static const struct {
                const char *name, *what;
        } odd[] = {
                { "fifo", "is not a regular file (fifo)" },
                { "zero", "is not a regular file (symbolic link)" },
                { "link", "is not a regular file (symbolic link)" },
                { "dir", "is not a regular file (directory)" },
                { "sock", "is not a regular file (socket)" },
                { "big", "is larger than any key file" },
        };

        ck_assert_ptr_nonnull(mkdtemp(dir));
        ck_assert_int_eq(keystore_new(dir, 0, &ks), 0);
        good[8 + 1] = 1; /* PCR 16 */
        good[KEY_FILE_HEADER_SIZE - 1] = 8;
        key_file_put(dir, "good", good, sizeof(good));
        ck_assert_int_eq(unseal_rc(ks, NULL, "good"), -ENODEV);

        snprintf(path, sizeof(path), "%s/fifo.key", dir);
        ck_assert_int_eq(mkfifo(path, 0600), 0);
        snprintf(path, sizeof(path), "%s/zero.key", dir);
        ck_assert_int_eq(symlink("/dev/zero", path), 0);
        snprintf(path, sizeof(path), "%s/link.key", dir);
        ck_assert_int_eq(symlink("good.key", path), 0);
        snprintf(path, sizeof(path), "%s/dir.key", dir);
        ck_assert_int_eq(mkdir(path, 0700), 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock.key", dir);
        sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(sock, 0);
        ck_assert_int_eq(bind(sock, (struct sockaddr *) &sa, sizeof(sa)), 0);
        big = calloc(1, KEYSTORE_FILE_MAX + 1);
        ck_assert_ptr_nonnull(big);
        memcpy(big, good, sizeof(good));
        key_file_put(dir, "big", big, KEYSTORE_FILE_MAX + 1);

        for (size_t i = 0; i < ELEMENTSOF(odd); i++) {
                ck_assert_msg(unseal_rc(ks, NULL, odd[i].name) == -EUCLEAN, "unseal %s", odd[i].name);
                ck_assert_ptr_nonnull(keystore_refusal(ks));
                ck_assert_msg(strncmp(keystore_refusal(ks), odd[i].what, strlen(odd[i].what)) == 0, "%s: %s",
                              odd[i].name, keystore_refusal(ks));
                ck_assert_int_eq(keystore_encrypt(ks, NULL, odd[i].name, "x", 1, NULL, 0, &env, &env_len),
                                 -EUCLEAN);
                ck_assert_ptr_nonnull(keystore_refusal(ks));
        }
        /* A refusal for the content says nothing about the file's kind, and
         * no earlier refusal lingers into it. */
        key_file_put(dir, "garbage", "EPKS", 4);
        ck_assert_int_eq(unseal_rc(ks, NULL, "garbage"), -EUCLEAN);
        ck_assert_ptr_null(keystore_refusal(ks));
        ck_assert_int_eq(keystore_delete(ks, "dir"), -EUCLEAN);
        ck_assert_ptr_nonnull(keystore_refusal(ks));
        ck_assert_int_eq(keystore_decrypt(ks, NULL, "fifo", good, sizeof(good), NULL, 0, &plain, &plain_len),
                         -EUCLEAN);
        /* Listed are only the regular files that parse. */
        ck_assert_int_eq(keystore_list(ks, &list, &n), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(list[0].name, "good");
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_keystore_malformed) {
        _cleanup_(keystore_freep) KeyStore *ks = NULL;
        _cleanup_(freep) KeyInfo *list = NULL;
        char dir[] = "/tmp/test-keystore.XXXXXX", cmd[64];
        uint8_t good[KEY_FILE_HEADER_SIZE + 8] = "EPKS\x02\x01\x01";
        uint8_t f[sizeof(good)];
        size_t n;

        ck_assert_ptr_nonnull(mkdtemp(dir));
        ck_assert_int_eq(keystore_new(dir, 0, &ks), 0);
        /* A header that parses, with 8 bytes of TPM part: only the TPM
         * could refuse it. */
        good[8 + 1] = 1; /* PCR 16 */
        good[KEY_FILE_HEADER_SIZE - 1] = 8;
        key_file_put(dir, "f", good, sizeof(good));
        ck_assert_int_eq(unseal_rc(ks, NULL, "f"), -ENODEV);

        key_file_put(dir, "f", "", 0);
        ck_assert_int_eq(unseal_rc(ks, NULL, "f"), -EUCLEAN);
        key_file_put(dir, "f", "EPKS", 4);
        ck_assert_int_eq(unseal_rc(ks, NULL, "f"), -EUCLEAN);
        key_file_put(dir, "f", good, KEY_FILE_HEADER_SIZE - 1);
        ck_assert_int_eq(unseal_rc(ks, NULL, "f"), -EUCLEAN);
        key_file_put(dir, "f", good, sizeof(good) - 1);
        ck_assert_int_eq(unseal_rc(ks, NULL, "f"), -EUCLEAN);
#define EDIT(off, val, want)                                                                                \
        do {                                                                                                \
                memcpy(f, good, sizeof(good));                                                              \
                f[off] = (val);                                                                             \
                key_file_put(dir, "f", f, sizeof(f));                                                       \
                ck_assert_msg(unseal_rc(ks, NULL, "f") == (want), "offset %d", (int) (off));                \
        } while (0)
        EDIT(0, 'X', -EUCLEAN); /* magic */
        EDIT(4, 1, -EPROTONOSUPPORT); /* version 1: names were not bound */
        EDIT(4, 3, -EPROTONOSUPPORT); /* a later version */
        EDIT(5, 0, -EUCLEAN); /* kind */
        EDIT(5, 3, -EUCLEAN);
        EDIT(6, 2, -EUCLEAN); /* unknown flag */
        EDIT(7, 1, -EUCLEAN); /* reserved */
        EDIT(8, 1, -EUCLEAN); /* PCR 24 */
        EDIT(KEY_FILE_HEADER_SIZE - 1, 9, -EUCLEAN); /* TPM part length */
        EDIT(KEY_FILE_HEADER_SIZE - 4, 1, -EUCLEAN);
#undef EDIT
        /* A version 1 file as written before names were bound (72-byte
         * header) is refused by its version, not misread. */
        memcpy(f, good, 72);
        f[4] = 1;
        key_file_put(dir, "f", f, 72);
        ck_assert_int_eq(unseal_rc(ks, NULL, "f"), -EPROTONOSUPPORT);
        ck_assert_int_eq(keystore_list(ks, &list, &n), 0);
        ck_assert_uint_eq(n, 0);
        free(TAKE_PTR(list));
        key_file_put(dir, "f", good, sizeof(good));
        ck_assert_int_eq(keystore_list(ks, &list, &n), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_int_eq(list[0].kind, KEY_KIND_SECRET);
        ck_assert_uint_eq(list[0].pcr_mask, 1U << 16);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static void setup(void) {
        /* Expected failures (tampered blobs, PCR mismatches) are asserted
         * here; the library need not print them too. */
        setenv("TSS2_LOG", "all+none", 1);
        if (!swtpm_start())
                ck_abort_msg("swtpm did not start");
}

static void nv_dir(char *dir, const void *writer, size_t len) {
        char path[300];

        ck_assert_ptr_nonnull(mkdtemp(dir));
        if (writer) {
                snprintf(path, sizeof(path), "%s/%s", dir, TPM_NV_WRITER_FILE);
                ck_assert_int_eq(write_file_atomic(path, writer, len, 0600), 0);
        }
}

/* The NV indices: defined on first use, floors that only go up, a counter,
 * and a daemon whose state directory was wiped (or holds another secret)
 * reads them but cannot move them. */
START_TEST(test_nv) {
        _cleanup_(tpm_freep) Tpm *t = tpm_open(), *u = NULL;
        char dir[] = "/tmp/test-tpm-nv.XXXXXX", wiped[] = "/tmp/test-tpm-nv.XXXXXX",
             other[] = "/tmp/test-tpm-nv.XXXXXX", bad[] = "/tmp/test-tpm-nv.XXXXXX", cmd[400];
        uint8_t secret[32];
        uint64_t v, c1, c2;
        unsigned n;

        nv_dir(dir, NULL, 0);
        ck_assert_int_eq(tpm_nv_floor_read(t, TPM_NV_MANIFEST, &v), 0);
        ck_assert_uint_eq(v, 0);
        ck_assert_int_eq(tpm_nv_counter_read(t, TPM_NV_AUDIT, &v), 0);
        ck_assert_uint_eq(v, 0);
        /* Before the writer is set up, nothing is written. */
        ck_assert_int_eq(tpm_nv_floor_raise(t, TPM_NV_MANIFEST, 5), -EACCES);
        ck_assert_int_eq(tpm_nv_setup(t, dir), 0);

        ck_assert_int_eq(tpm_nv_floor_raise(t, TPM_NV_MANIFEST, 5), 1);
        ck_assert_int_eq(tpm_nv_floor_read(t, TPM_NV_MANIFEST, &v), 0);
        ck_assert_uint_eq(v, 5);
        ck_assert_int_eq(tpm_nv_floor_raise(t, TPM_NV_MANIFEST, 3), 0);
        ck_assert_int_eq(tpm_nv_floor_raise(t, TPM_NV_MANIFEST, 5), 0);
        ck_assert_int_eq(tpm_nv_floor_read(t, TPM_NV_MANIFEST, &v), 0);
        ck_assert_uint_eq(v, 5);
        ck_assert_int_eq(tpm_nv_floor_raise(t, TPM_NV_MANIFEST, UINT64_C(1) << 40), 1);
        ck_assert_int_eq(tpm_nv_floor_read(t, TPM_NV_MANIFEST, &v), 0);
        ck_assert_uint_eq(v, UINT64_C(1) << 40);
        /* The floors are independent of each other. */
        ck_assert_int_eq(tpm_nv_floor_read(t, TPM_NV_CLOCK, &v), 0);
        ck_assert_uint_eq(v, 0);

        ck_assert_int_eq(tpm_nv_counter_increment(t, TPM_NV_AUDIT, &c1), 0);
        ck_assert_int_eq(tpm_nv_counter_increment(t, TPM_NV_AUDIT, &c2), 0);
        ck_assert_uint_eq(c2, c1 + 1);
        ck_assert_int_eq(tpm_nv_counter_read(t, TPM_NV_AUDIT, &v), 0);
        ck_assert_uint_eq(v, c2);

        ck_assert_int_eq(tpm_nv_counter_read(t, TPM_NV_MANIFEST, &v), -EINVAL);
        ck_assert_int_eq(tpm_nv_counter_increment(t, TPM_NV_CLOCK, &v), -EINVAL);
        ck_assert_int_eq(tpm_nv_floor_read(t, TPM_NV_AUDIT, &v), -EINVAL);
        ck_assert_int_eq(tpm_nv_floor_raise(t, _TPM_NV_INDEX_MAX, 1), -EINVAL);
        ck_assert_int_eq(tpm_nv_floor_raise(NULL, TPM_NV_CLOCK, 1), -ENODEV);
        ck_assert_str_eq(tpm_nv_index_to_string(TPM_NV_APPROVAL), "approval");
        ck_assert_int_eq(tpm_nv_index_from_string("clock"), TPM_NV_CLOCK);
        ck_assert_int_eq(tpm_nv_index_from_string("nope"), -EINVAL);
        ck_assert_uint_eq(tpm_nv_handle(TPM_NV_AUDIT), 0x01800E41);

        /* A wiped state directory: the floors hold and read, nothing moves. */
        u = tpm_open();
        nv_dir(wiped, NULL, 0);
        ck_assert_int_eq(tpm_nv_setup(u, wiped), -EACCES);
        ck_assert_int_eq(tpm_nv_floor_read(u, TPM_NV_MANIFEST, &v), 0);
        ck_assert_uint_eq(v, UINT64_C(1) << 40);
        ck_assert_int_eq(tpm_nv_floor_raise(u, TPM_NV_MANIFEST, UINT64_C(1) << 41), -EACCES);
        ck_assert_int_eq(tpm_nv_counter_increment(u, TPM_NV_AUDIT, &v), -EACCES);
        u = tpm_free(u);

        /* Another secret (another device's state directory): refused. */
        u = tpm_open();
        ck_assert_int_eq(tpm_get_random(u, secret, sizeof(secret)), 0);
        nv_dir(other, secret, sizeof(secret));
        ck_assert_int_eq(tpm_nv_setup(u, other), 0);
        ck_assert_int_eq(tpm_nv_floor_raise(u, TPM_NV_MANIFEST, UINT64_C(1) << 41), -EKEYREJECTED);
        ck_assert_int_eq(tpm_nv_counter_increment(u, TPM_NV_AUDIT, &v), -EKEYREJECTED);
        ck_assert_int_eq(tpm_nv_counter_read(u, TPM_NV_AUDIT, &v), 0);
        ck_assert_uint_eq(v, c2);
        u = tpm_free(u);

        /* A damaged secret file. */
        u = tpm_open();
        nv_dir(bad, "short", 5);
        ck_assert_int_eq(tpm_nv_setup(u, bad), -EBADMSG);
        u = tpm_free(u);

        /* The same state directory again (a restart): it writes. */
        u = tpm_open();
        ck_assert_int_eq(tpm_nv_setup(u, dir), 0);
        ck_assert_int_eq(tpm_nv_floor_raise(u, TPM_NV_APPROVAL, 2), 1);
        ck_assert_int_eq(tpm_nv_floor_read(t, TPM_NV_APPROVAL, &v), 0);
        ck_assert_uint_eq(v, 2);
        /* A bit field holding T(v): raising it lower or to the same level
         * changes nothing, past 64 versions is refused. */
        ck_assert_int_eq(tpm_nv_floor_raise(u, TPM_NV_APPROVAL, 1), 0);
        ck_assert_int_eq(tpm_nv_floor_raise(u, TPM_NV_APPROVAL, 2), 0);
        ck_assert_int_eq(tpm_nv_floor_raise(u, TPM_NV_APPROVAL, APPROVAL_VERSION_MAX + 1), -ERANGE);
        ck_assert_int_eq(tpm_nv_floor_raise(u, TPM_NV_APPROVAL, 5), 1);
        ck_assert_int_eq(tpm_nv_floor_read(t, TPM_NV_APPROVAL, &v), 0);
        ck_assert_uint_eq(v, 5);
        /* Every session and handle was flushed. */
        ck_assert_int_eq(tpm_count_transient(u, &n), 0);
        ck_assert_uint_eq(n, 2); /* the SRK and the device key */
        u = tpm_free(u);

        snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s' '%s' '%s'", dir, wiped, other, bad);
        ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* approval.c hard-codes the Name of the APPROVAL index (src/shared has no
 * TSS marshalling); it must be the Name tpm-nv.c defines the index with, or
 * every approval's PolicyNV step commits to an index that does not exist. */
START_TEST(test_approval_nv_name) {
        uint8_t name[34];

        ck_assert_uint_eq(APPROVAL_NV_NAME_SIZE, sizeof(name));
        ck_assert_int_eq(tpm_nv_index_name(TPM_NV_APPROVAL, name), 0);
        ck_assert_int_eq(memcmp(name, approval_nv_name, sizeof(name)), 0);
        ck_assert_int_eq(tpm_nv_index_name(TPM_NV_MANIFEST, name), 0);
        ck_assert_int_ne(memcmp(name, approval_nv_name, sizeof(name)), 0);
        ck_assert_int_eq(tpm_nv_index_name(_TPM_NV_INDEX_MAX, name), -EINVAL);
}
END_TEST

static Suite *make_suite(void) {
        Suite *s = suite_create("tpm");
        TCase *tc = tcase_create("swtpm"), *te = tcase_create("envelope");

        tcase_add_unchecked_fixture(tc, setup, swtpm_stop);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_no_tpm);
        tcase_add_test(tc, test_pcr_extend_read);
        tcase_add_test(tc, test_pcr_read_many);
        tcase_add_test(tc, test_seal_unseal);
        tcase_add_test(tc, test_no_export_mark);
        tcase_add_test(tc, test_sign_verify);
        tcase_add_test(tc, test_device_key_stable);
        tcase_add_test(tc, test_quote);
        tcase_add_test(tc, test_no_leaks);
        tcase_add_test(tc, test_keystore_cache);
        tcase_add_test(tc, test_keystore_binding);
        tcase_add_test(tc, test_nv);
        /* Without swtpm only the parts that need no TPM can run. */
        if (access("/usr/bin/swtpm", X_OK) == 0)
                suite_add_tcase(s, tc);
        else
                fprintf(stderr, "swtpm is not installed: skipping the TPM tests.\n");
        tcase_add_test(te, test_envelope);
        tcase_add_test(te, test_keystore_malformed);
        tcase_add_test(te, test_keystore_odd_files);
        tcase_add_test(te, test_tss2_to_errno);
        tcase_add_test(te, test_approval_nv_name);
        suite_add_tcase(s, te);
        return s;
}
