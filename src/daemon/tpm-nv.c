/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <openssl/crypto.h>
#include <tss2/tss2_mu.h>
#include <unistd.h>

#include "approval.h"
#include "fileio.h"
#include "log.h"
#include "openssl-util.h"
#include "tpm-internal.h"
#include "tpm-nv.h"
#include "util.h"

static const char *const index_names[_TPM_NV_INDEX_MAX] = {
        [TPM_NV_AUDIT] = "audit",
        [TPM_NV_MANIFEST] = "manifest",
        [TPM_NV_CLOCK] = "clock",
        [TPM_NV_APPROVAL] = "approval",
};

const char *tpm_nv_index_to_string(TpmNvIndex i) {
        return i >= 0 && i < _TPM_NV_INDEX_MAX ? index_names[i] : NULL;
}

TpmNvIndex tpm_nv_index_from_string(const char *s) {
        for (int i = 0; s && i < _TPM_NV_INDEX_MAX; i++)
                if (streq(s, index_names[i]))
                        return (TpmNvIndex) i;
        return _TPM_NV_INDEX_INVALID;
}

uint32_t tpm_nv_handle(TpmNvIndex i) {
        return i >= 0 && i < _TPM_NV_INDEX_MAX ? TPM_NV_HANDLE_WRITER + 1 + (uint32_t) i : 0;
}

static bool index_is_counter(TpmNvIndex i) {
        return i == TPM_NV_AUDIT;
}

/* The APPROVAL floor is a bit field (TPM_NT_BITS) holding a thermometer
 * code (approval.h): NV_SetBits only ORs bits in, so nothing but the
 * owner's undefining lowers it. */
static bool index_is_bits(TpmNvIndex i) {
        return i == TPM_NV_APPROVAL;
}

static TPM2_NT index_type(TpmNvIndex i) {
        return index_is_counter(i) ? TPM2_NT_COUNTER : index_is_bits(i) ? TPM2_NT_BITS : TPM2_NT_ORDINARY;
}

/* ---- the public areas this module defines --------------------------------- */

#define NV_TYPE(nt) ((TPMA_NV) (nt) << TPMA_NV_TPM2_NT_SHIFT)

static void writer_public(TPM2B_NV_PUBLIC *ret) {
        *ret = (TPM2B_NV_PUBLIC){
                .nvPublic = {
                        .nvIndex = TPM_NV_HANDLE_WRITER,
                        .nameAlg = TPM2_ALG_SHA256,
                        /* No policy: its authValue cannot be changed
                         * (NV_ChangeAuth needs the ADMIN role, a policy). */
                        .attributes = NV_TYPE(TPM2_NT_ORDINARY) | TPMA_NV_AUTHWRITE | TPMA_NV_AUTHREAD |
                                      TPMA_NV_NO_DA,
                        .dataSize = 1,
                },
        };
}

int tpm_nv_public_name(const TPM2B_NV_PUBLIC *pub, TPM2B_NAME *ret) {
        uint8_t buf[sizeof(TPMS_NV_PUBLIC)];
        size_t off = 0;

        if (Tss2_MU_TPMS_NV_PUBLIC_Marshal(&pub->nvPublic, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS)
                return -EPROTO;
        ret->size = 2 + 32;
        ret->name[0] = TPM2_ALG_SHA256 >> 8;
        ret->name[1] = TPM2_ALG_SHA256 & 0xff;
        return sha256_buffer(buf, off, ret->name + 2);
}

/* The writer once written: the name every index's policy names. */
static int writer_name(TPM2B_NAME *ret) {
        TPM2B_NV_PUBLIC pub;

        writer_public(&pub);
        pub.nvPublic.attributes |= TPMA_NV_WRITTEN;
        return tpm_nv_public_name(&pub, ret);
}

/* authPolicy of the indices: TPM2_PolicySecret naming the writer, with an
 * empty policyRef:
 *   H(H(0^32 || TPM_CC_PolicySecret || name of the writer) || "") */
static int index_policy(TPM2B_DIGEST *ret) {
        uint8_t buf[32 + 4 + sizeof(TPMU_NAME)] = {};
        TPM2B_NAME name;
        size_t off = 32;
        int r;

        r = writer_name(&name);
        if (r < 0)
                return r;
        if (Tss2_MU_UINT32_Marshal(TPM2_CC_PolicySecret, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS)
                return -EPROTO;
        memcpy(buf + off, name.name, name.size);
        if (sha256_buffer(buf, off + name.size, buf) < 0)
                return -EIO;
        ret->size = 32;
        return sha256_buffer(buf, 32, ret->buffer);
}

static int index_public(TpmNvIndex i, TPM2B_NV_PUBLIC *ret) {
        *ret = (TPM2B_NV_PUBLIC){
                .nvPublic = {
                        .nvIndex = tpm_nv_handle(i),
                        .nameAlg = TPM2_ALG_SHA256,
                        .attributes = NV_TYPE(index_type(i)) |
                                      TPMA_NV_AUTHREAD | TPMA_NV_POLICYWRITE | TPMA_NV_NO_DA,
                        .dataSize = 8,
                },
        };
        return index_policy(&ret->nvPublic.authPolicy);
}

int tpm_nv_index_name(TpmNvIndex which, uint8_t ret[34]) {
        TPM2B_NV_PUBLIC pub;
        TPM2B_NAME name;
        int r;

        if (which < 0 || which >= _TPM_NV_INDEX_MAX)
                return -EINVAL;
        r = index_public(which, &pub);
        if (r < 0)
                return r;
        pub.nvPublic.attributes |= TPMA_NV_WRITTEN;
        r = tpm_nv_public_name(&pub, &name);
        if (r < 0)
                return r;
        memcpy(ret, name.name, 34);
        return 0;
}

/* ---- talking to the TPM ---------------------------------------------------- */

#define rc_is tpm_rc_is

static void index_close(Tpm *t, ESYS_TR *tr) {
        (void) Esys_TR_Close(tpm_esys(t), tr);
}

/* A handle for the index at handle, checked against the public area we
 * define (want): 0 and *ret_written; -ENOENT when nothing is defined
 * there; -EKEYREJECTED when something else is. *ret is closed by the
 * caller with Esys_TR_Close. */
static int index_open(Tpm *t, const TPM2B_NV_PUBLIC *want, ESYS_TR *ret, bool *ret_written) {
        TPM2B_NV_PUBLIC written = *want;
        TPM2B_NAME expect, expect_written, *name = NULL;
        ESYS_TR tr = ESYS_TR_NONE;
        TSS2_RC rc;
        bool is_written;
        int r;

        written.nvPublic.attributes |= TPMA_NV_WRITTEN;
        r = tpm_nv_public_name(want, &expect);
        if (r >= 0)
                r = tpm_nv_public_name(&written, &expect_written);
        if (r < 0)
                return tpm_record_error(t, r, "Cannot compute an NV index name");
        rc = Esys_TR_FromTPMPublic(tpm_esys(t), want->nvPublic.nvIndex, ESYS_TR_NONE, ESYS_TR_NONE,
                                   ESYS_TR_NONE, &tr);
        /* An undefined index is not a TPM failure (and must not be taken
         * for a lost TPM, which TPM_RC_HANDLE otherwise means). */
        if (rc_is(rc, TPM2_RC_HANDLE))
                return -ENOENT;
        if (rc != TSS2_RC_SUCCESS)
                return tpm_record_failure(t, rc, "NV_ReadPublic");
        rc = Esys_TR_GetName(tpm_esys(t), tr, &name);
        if (rc != TSS2_RC_SUCCESS) {
                index_close(t, &tr);
                return tpm_record_failure(t, rc, "TR_GetName");
        }
        is_written = name->size == expect_written.size &&
                     memcmp(name->name, expect_written.name, name->size) == 0;
        if (!is_written && (name->size != expect.size || memcmp(name->name, expect.name, name->size) != 0)) {
                Esys_Free(name);
                index_close(t, &tr);
                return tpm_record_error(
                        t, -EKEYREJECTED,
                        "An NV index with other attributes or another policy is at our handle");
        }
        Esys_Free(name);
        *ret = tr;
        *ret_written = is_written;
        return 0;
}

static int owner_define(Tpm *t, const TPM2B_AUTH *auth, const TPM2B_NV_PUBLIC *pub, ESYS_TR *ret) {
        TSS2_RC rc;

        rc = Esys_NV_DefineSpace(tpm_esys(t), ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                 auth, pub, ret);
        if (rc_is(rc, TPM2_RC_BAD_AUTH) || rc_is(rc, TPM2_RC_AUTH_FAIL)) {
                (void) tpm_record_failure(t, rc, "NV_DefineSpace (the owner hierarchy has an authValue)");
                return -EPERM;
        }
        if (rc != TSS2_RC_SUCCESS)
                return tpm_record_failure(t, rc, "NV_DefineSpace");
        return 0;
}

static int nv_read_u64(Tpm *t, ESYS_TR tr, uint64_t *ret) {
        TPM2B_MAX_NV_BUFFER *data = NULL;
        size_t off = 0;
        TSS2_RC rc;

        rc = Esys_NV_Read(tpm_esys(t), tr, tr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, 8, 0, &data);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_record_failure(t, rc, "NV_Read");
        rc = Tss2_MU_UINT64_Unmarshal(data->buffer, data->size, &off, ret);
        Esys_Free(data);
        return rc == TSS2_RC_SUCCESS ? 0 : tpm_record_error(t, -EPROTO, "NV_Read returned too few bytes");
}

static int index_read(Tpm *t, TpmNvIndex which, uint64_t *ret) {
        TPM2B_NV_PUBLIC pub;
        ESYS_TR tr;
        bool written;
        int r;

        r = index_public(which, &pub);
        if (r < 0)
                return r;
        r = index_open(t, &pub, &tr, &written);
        if (r == -ENOENT) {
                *ret = 0;
                return 0;
        }
        if (r < 0)
                return r;
        r = written ? nv_read_u64(t, tr, ret) : 0;
        if (!written)
                *ret = 0;
        index_close(t, &tr);
        return r;
}

/* A policy session that satisfies the indices' authPolicy: PolicySecret
 * with the writer's secret. The session is used once (no continueSession),
 * so the TPM flushes it after the command it authorizes. */
static int writer_session(Tpm *t, ESYS_TR *ret) {
        static const TPMT_SYM_DEF no_symmetric = { .algorithm = TPM2_ALG_NULL };
        TPM2B_NV_PUBLIC wpub;
        TPM2B_AUTH auth = { .size = 32 };
        TPM2B_NONCE empty_nonce = {};
        TPM2B_DIGEST empty = {};
        TPM2B_TIMEOUT *timeout = NULL;
        TPMT_TK_AUTH *ticket = NULL;
        ESYS_TR writer = ESYS_TR_NONE, session = ESYS_TR_NONE;
        bool written;
        TSS2_RC rc;
        int r;

        if (!tpm_nv_auth(t))
                return tpm_record_error(t, -EACCES, "The NV writer's secret is not known");
        writer_public(&wpub);
        r = index_open(t, &wpub, &writer, &written);
        if (r == -ENOENT)
                return tpm_record_error(t, -EACCES, "The NV writer index is not defined");
        if (r < 0)
                return r;
        memcpy(auth.buffer, tpm_nv_auth(t), 32);
        rc = Esys_TR_SetAuth(tpm_esys(t), writer, &auth);
        OPENSSL_cleanse(&auth, sizeof(auth));
        if (rc == TSS2_RC_SUCCESS)
                rc = Esys_StartAuthSession(tpm_esys(t), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                           ESYS_TR_NONE, ESYS_TR_NONE, NULL, TPM2_SE_POLICY, &no_symmetric,
                                           TPM2_ALG_SHA256, &session);
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm_record_failure(t, rc, "StartAuthSession");
                goto out;
        }
        rc = Esys_PolicySecret(tpm_esys(t), writer, session, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                               &empty_nonce, &empty, &empty_nonce, 0, &timeout, &ticket);
        Esys_Free(timeout);
        Esys_Free(ticket);
        if (rc != TSS2_RC_SUCCESS) {
                r = rc_is(rc, TPM2_RC_BAD_AUTH) || rc_is(rc, TPM2_RC_AUTH_FAIL)
                            ? tpm_record_error(t, -EKEYREJECTED, "The NV writer's secret is not this TPM's")
                            : tpm_record_failure(t, rc, "PolicySecret");
                tpm_flush(t, session);
                goto out;
        }
        rc = Esys_TRSess_SetAttributes(tpm_esys(t), session, 0, TPMA_SESSION_CONTINUESESSION);
        if (rc != TSS2_RC_SUCCESS) {
                r = tpm_record_failure(t, rc, "TRSess_SetAttributes");
                tpm_flush(t, session);
                goto out;
        }
        *ret = session;
        r = 0;
out:
        (void) Esys_TR_Close(tpm_esys(t), &writer);
        return r;
}

/* Opens the index, defining it first when it is not there. */
static int index_open_or_define(Tpm *t, TpmNvIndex which, ESYS_TR *ret, bool *ret_written) {
        TPM2B_NV_PUBLIC pub;
        TPM2B_AUTH none = {};
        int r;

        r = index_public(which, &pub);
        if (r < 0)
                return r;
        r = index_open(t, &pub, ret, ret_written);
        if (r != -ENOENT)
                return r;
        if (!tpm_nv_auth(t))
                return tpm_record_error(t, -EACCES, "The NV writer's secret is not known");
        r = owner_define(t, &none, &pub, ret);
        if (r < 0)
                return r;
        log_debug("Defined NV index 0x%08x (%s).", tpm_nv_handle(which), tpm_nv_index_to_string(which));
        *ret_written = false;
        return 0;
}

/* Runs NV_Write (value), NV_SetBits (value, on a bit field) or
 * NV_Increment (increment) under the writer's policy. */
static int index_update(Tpm *t, TpmNvIndex which, ESYS_TR tr, bool increment, uint64_t value) {
        TPM2B_MAX_NV_BUFFER data = { .size = 8 };
        ESYS_TR session = ESYS_TR_NONE;
        size_t off = 0;
        TSS2_RC rc;
        int r;

        r = writer_session(t, &session);
        if (r < 0)
                return r;
        if (increment)
                rc = Esys_NV_Increment(tpm_esys(t), tr, tr, session, ESYS_TR_NONE, ESYS_TR_NONE);
        else if (index_is_bits(which))
                rc = Esys_NV_SetBits(tpm_esys(t), tr, tr, session, ESYS_TR_NONE, ESYS_TR_NONE, value);
        else {
                (void) Tss2_MU_UINT64_Marshal(value, data.buffer, sizeof(data.buffer), &off);
                rc = Esys_NV_Write(tpm_esys(t), tr, tr, session, ESYS_TR_NONE, ESYS_TR_NONE, &data, 0);
        }
        if (rc != TSS2_RC_SUCCESS) {
                tpm_flush(t, session);
                return tpm_record_failure(t, rc,
                                          increment              ? "NV_Increment"
                                          : index_is_bits(which) ? "NV_SetBits"
                                                                 : "NV_Write");
        }
        /* Used without continueSession: the TPM flushed it. */
        (void) Esys_TR_Close(tpm_esys(t), &session);
        return 0;
}

/* ---- the marks: the highest value of each floor this daemon saw in NV ------ */

#define MARKS_SIZE (8U * _TPM_NV_INDEX_MAX)

int tpm_nv_marks_read(const char *state_dir, uint64_t ret[_TPM_NV_INDEX_MAX]) {
        _cleanup_(freep) char *path = strjoin_alloc(state_dir, "/", TPM_NV_MARKS_FILE), *data = NULL;
        size_t len, off = 0;
        int r;

        memset(ret, 0, MARKS_SIZE);
        if (!path)
                return -ENOMEM;
        r = read_full_file(path, MARKS_SIZE, &data, &len);
        if (r == -ENOENT)
                return 0;
        if (r == -EFBIG)
                return -EBADMSG;
        if (r < 0)
                return r;
        if (len != MARKS_SIZE)
                return -EBADMSG;
        for (int i = 0; i < _TPM_NV_INDEX_MAX; i++)
                if (Tss2_MU_UINT64_Unmarshal((const uint8_t *) data, len, &off, &ret[i]) != TSS2_RC_SUCCESS)
                        return -EBADMSG;
        return 0;
}

bool tpm_nv_in_use(const char *state_dir) {
        _cleanup_(freep) char *writer = strjoin_alloc(state_dir, "/", TPM_NV_WRITER_FILE);
        _cleanup_(freep) char *marks = strjoin_alloc(state_dir, "/", TPM_NV_MARKS_FILE);

        /* Out of memory: in use (the caller then fails closed). */
        return !writer || !marks || access(writer, F_OK) >= 0 || access(marks, F_OK) >= 0;
}

/* Raises the mark of which to value (atomically; nothing when it is there). */
static int marks_raise(Tpm *t, TpmNvIndex which, uint64_t value) {
        _cleanup_(freep) char *path = NULL;
        const char *dir = tpm_nv_state_dir(t);
        uint64_t marks[_TPM_NV_INDEX_MAX];
        uint8_t buf[MARKS_SIZE];
        size_t off = 0;
        int r;

        if (!dir)
                return 0;
        r = tpm_nv_marks_read(dir, marks);
        if (r < 0)
                return r;
        if (value <= marks[which])
                return 0;
        marks[which] = value;
        for (int i = 0; i < _TPM_NV_INDEX_MAX; i++)
                (void) Tss2_MU_UINT64_Marshal(marks[i], buf, sizeof(buf), &off);
        path = strjoin_alloc(dir, "/", TPM_NV_MARKS_FILE);
        if (!path)
                return -ENOMEM;
        return write_file_atomic(path, buf, sizeof(buf), 0600);
}

/* Holds what NV has (*v; written tells whether the index was ever
 * written) against the mark. Raises the mark to a higher value. A written
 * index below the mark was lowered: said loudly, *v becomes the mark,
 * -ESTALE. An index never written (new, or defined afresh after the
 * owner undefined it or the TPM was cleared) starts from the mark. */
static int floor_check(Tpm *t, TpmNvIndex which, bool written, uint64_t *v) {
        const char *dir = tpm_nv_state_dir(t);
        uint64_t marks[_TPM_NV_INDEX_MAX];
        int r;

        if (!dir)
                return 0;
        r = tpm_nv_marks_read(dir, marks);
        if (r < 0)
                return tpm_record_error(t, r, "The marks of the NV floors are damaged or unreadable");
        if (written && *v < marks[which]) {
                log_full(LOG_CRIT,
                         "The %s floor in TPM NV index 0x%08x went down: it holds %" PRIu64
                         ", endpointd saw %" PRIu64 " there before. Someone with the NV writer's secret "
                         "(root can read it) lowered it, or this state directory belongs to another TPM. "
                         "See endpointd-tpm(7).",
                         tpm_nv_index_to_string(which), tpm_nv_handle(which), *v, marks[which]);
                *v = marks[which];
                return tpm_record_error(t, -ESTALE, "An NV floor went down");
        }
        if (!written || *v <= marks[which]) {
                *v = MAX(*v, marks[which]);
                return 0;
        }
        r = marks_raise(t, which, *v);
        if (r < 0)
                log_warning_errno(r, "Cannot record the %s floor %" PRIu64 " read from TPM NV in %s/%s: %m",
                                  tpm_nv_index_to_string(which), *v, dir, TPM_NV_MARKS_FILE);
        return 0;
}

/* Reads the floor of a written index: the value, or for the bit field the
 * level of its thermometer code (*ret_raw: the bits as they are). Bits
 * that are no thermometer code were set by someone else with the writer's
 * secret; setting bits only raises, so the deepest one counts. */
static int floor_value_read(Tpm *t, TpmNvIndex which, ESYS_TR tr, uint64_t *ret, uint64_t *ret_raw) {
        bool exact;
        uint64_t raw;
        int r;

        r = nv_read_u64(t, tr, &raw);
        if (r < 0)
                return r;
        *ret_raw = raw;
        if (!index_is_bits(which)) {
                *ret = raw;
                return 0;
        }
        *ret = approval_floor_decode(raw, &exact);
        if (!exact)
                log_warning("The %s floor in TPM NV index 0x%08x holds 0x%016" PRIx64
                            ", not a thermometer code: someone with the NV writer's secret set bits in it. "
                            "Taken as level %" PRIu64 ", its deepest bit; see endpointd-tpm(7).",
                            tpm_nv_index_to_string(which), tpm_nv_handle(which), raw, *ret);
        return 0;
}

/* ---- the API ---------------------------------------------------------------- */

/* -EINVAL unless which is an index of the kind asked for, -ENODEV without
 * a TPM. */
static int index_check(const Tpm *t, TpmNvIndex which, bool counter) {
        if (which < 0 || which >= _TPM_NV_INDEX_MAX || index_is_counter(which) != counter)
                return -EINVAL;
        return t ? 0 : -ENODEV;
}

int tpm_nv_counter_read(Tpm *t, TpmNvIndex which, uint64_t *ret) {
        int r = index_check(t, which, true);

        return r < 0 ? r : index_read(t, which, ret);
}

int tpm_nv_counter_increment(Tpm *t, TpmNvIndex which, uint64_t *ret_new) {
        ESYS_TR tr;
        bool written;
        uint64_t v;
        int r;

        r = index_check(t, which, true);
        if (r < 0)
                return r;
        r = index_open_or_define(t, which, &tr, &written);
        if (r < 0)
                return r;
        r = index_update(t, which, tr, true, 0);
        if (r >= 0)
                r = nv_read_u64(t, tr, &v);
        index_close(t, &tr);
        if (r < 0)
                return r;
        if (ret_new)
                *ret_new = v;
        return 0;
}

int tpm_nv_floor_read(Tpm *t, TpmNvIndex which, uint64_t *ret) {
        TPM2B_NV_PUBLIC pub;
        ESYS_TR tr;
        bool written = false;
        uint64_t v = 0, raw;
        int r;

        r = index_check(t, which, false);
        if (r >= 0)
                r = index_public(which, &pub);
        if (r < 0)
                return r;
        r = index_open(t, &pub, &tr, &written);
        if (r >= 0) {
                r = written ? floor_value_read(t, which, tr, &v, &raw) : 0;
                index_close(t, &tr);
        } else if (r == -ENOENT)
                r = 0;
        if (r < 0)
                return r;
        r = floor_check(t, which, written, &v);
        if (r >= 0 || r == -ESTALE)
                *ret = v;
        return r;
}

int tpm_nv_floor_raise(Tpm *t, TpmNvIndex which, uint64_t value) {
        ESYS_TR tr;
        bool written, update;
        uint64_t cur = 0, raw = 0, floor;
        int r;

        r = index_check(t, which, false);
        if (r < 0)
                return r;
        if (index_is_bits(which) && value > APPROVAL_VERSION_MAX)
                return -ERANGE;
        r = index_open_or_define(t, which, &tr, &written);
        if (r < 0)
                return r;
        if (written)
                r = floor_value_read(t, which, tr, &cur, &raw);
        floor = cur;
        /* A floor that went down is put back to the mark (at least). */
        if (r >= 0) {
                r = floor_check(t, which, written, &floor);
                if (r == -ESTALE)
                        r = 0;
        }
        /* The bit field gets T(target) ORed in, also to complete bits that
         * are no thermometer code. */
        update = index_is_bits(which) ? (raw | approval_floor_encode(MAX(value, floor))) != raw
                                      : MAX(value, floor) > cur;
        if (r >= 0 && update)
                r = index_update(t, which, tr, false,
                                 index_is_bits(which) ? approval_floor_encode(MAX(value, floor))
                                                      : MAX(value, floor));
        index_close(t, &tr);
        if (r < 0)
                return r;
        r = marks_raise(t, which, MAX(value, floor));
        if (r < 0)
                log_warning_errno(r, "Cannot record the %s floor in %s/%s: %m",
                                  tpm_nv_index_to_string(which), tpm_nv_state_dir(t), TPM_NV_MARKS_FILE);
        return value > floor;
}

/* ---- the writer ------------------------------------------------------------- */

static int writer_define(Tpm *t, const uint8_t secret[32]) {
        TPM2B_NV_PUBLIC pub;
        TPM2B_AUTH auth = { .size = 32 };
        TPM2B_MAX_NV_BUFFER one = { .size = 1 };
        ESYS_TR tr = ESYS_TR_NONE;
        TSS2_RC rc;
        int r;

        writer_public(&pub);
        memcpy(auth.buffer, secret, 32);
        r = owner_define(t, &auth, &pub, &tr);
        if (r < 0) {
                OPENSSL_cleanse(&auth, sizeof(auth));
                return r;
        }
        /* Written once, so that its name (which the indices' policy names)
         * is the written one from now on. */
        rc = Esys_TR_SetAuth(tpm_esys(t), tr, &auth);
        OPENSSL_cleanse(&auth, sizeof(auth));
        if (rc == TSS2_RC_SUCCESS)
                rc = Esys_NV_Write(tpm_esys(t), tr, tr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &one,
                                   0);
        index_close(t, &tr);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_record_failure(t, rc, "NV_Write (writer)");
        log_info("Defined the NV writer index 0x%08x.", TPM_NV_HANDLE_WRITER);
        return 0;
}

int tpm_nv_setup(Tpm *t, const char *state_dir) {
        _cleanup_(freep) char *path = strjoin_alloc(state_dir, "/", TPM_NV_WRITER_FILE);
        _cleanup_(freep) char *data = NULL;
        TPM2B_NV_PUBLIC wpub;
        uint8_t secret[32];
        ESYS_TR tr = ESYS_TR_NONE;
        bool written, defined;
        size_t len;
        int r;

        if (!t)
                return -ENODEV;
        if (!path)
                return -ENOMEM;
        r = tpm_set_nv_state_dir(t, state_dir);
        if (r < 0)
                return r;
        writer_public(&wpub);
        r = index_open(t, &wpub, &tr, &written);
        if (r < 0 && r != -ENOENT)
                return r;
        defined = r >= 0;
        if (defined)
                index_close(t, &tr);
        if (defined && !written)
                return tpm_record_error(t, -EKEYREJECTED, "The NV writer index was never written");

        r = read_full_file(path, 64, &data, &len);
        if (r == -ENOENT) {
                if (defined && !tpm_nv_in_use(state_dir))
                        /* Nothing tells these apart: a planted writer has
                         * the same attributes, policy and name. */
                        return tpm_record_error(
                                t, -EACCES,
                                "NV indices are at endpointd's handles that this state directory never "
                                "used: planted before the first start, or left by an earlier installation "
                                "whose state directory was wiped. Whoever holds their writer's secret can "
                                "move the floors, also down; with the owner's authorization, undefine them "
                                "so that endpointd defines its own");
                if (defined)
                        return tpm_record_error(t, -EACCES,
                                                "The NV writer index exists but its secret is not in the "
                                                "state directory");
                r = tpm_get_random(t, secret, sizeof(secret));
                if (r < 0)
                        return r;
                /* The file first: a crash before the index is defined
                 * leaves a secret that the next start defines it with. */
                r = write_file_atomic(path, secret, sizeof(secret), 0600);
                if (r < 0) {
                        OPENSSL_cleanse(secret, sizeof(secret));
                        return r;
                }
        } else if (r < 0)
                return r;
        else if (len != sizeof(secret)) {
                OPENSSL_cleanse(data, len);
                return -EBADMSG;
        } else {
                memcpy(secret, data, sizeof(secret));
                OPENSSL_cleanse(data, len);
        }
        r = defined ? 0 : writer_define(t, secret);
        if (r >= 0)
                tpm_set_nv_auth(t, secret);
        OPENSSL_cleanse(secret, sizeof(secret));
        return r;
}
