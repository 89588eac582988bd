/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "approval.h"
#include "openssl-util.h"
#include "util.h"

#define APPROVAL_MAGIC "EPPA"
#define APPROVAL_FORMAT 1U
/* Command codes and the comparison of TPM 2.0 Part 2 (6.5, 6.9). */
#define CC_POLICY_PCR 0x0000017FU
#define CC_POLICY_NV 0x00000149U
#define CC_POLICY_AUTHORIZE 0x0000016AU
#define EO_UNSIGNED_LE 0x0009U
#define ALG_SHA256 0x000BU

/* nameAlg SHA-256 || SHA-256 of the written index's TPMS_NV_PUBLIC. */
const uint8_t approval_nv_name[APPROVAL_NV_NAME_SIZE] = {
        0x00, 0x0b, 0xe4, 0xab, 0xb9, 0xdf, 0x72, 0x3e, 0x5e, 0x0f, 0xa4, 0x85, 0xcc, 0xd9, 0xcf, 0x0d, 0xb7,
        0x47, 0xa7, 0x75, 0x78, 0x79, 0xaa, 0xe5, 0xd1, 0x89, 0xbb, 0xe2, 0x10, 0xf8, 0x4c, 0xd6, 0x31, 0x1a,
};

uint64_t approval_floor_encode(uint64_t v) {
        if (v == 0)
                return 0;
        return v >= APPROVAL_VERSION_MAX ? UINT64_MAX : UINT64_MAX << (APPROVAL_VERSION_MAX - v);
}

uint64_t approval_floor_decode(uint64_t x, bool *ret_exact) {
        uint64_t v = x == 0 ? 0 : APPROVAL_VERSION_MAX - (uint64_t) __builtin_ctzll(x);

        *ret_exact = approval_floor_encode(v) == x;
        return v;
}

static bool version_valid(uint64_t version) {
        return version >= 1 && version <= APPROVAL_VERSION_MAX;
}

int approval_policy_digest(uint64_t version, uint32_t pcr_mask, const uint8_t pcr_digest[32],
                           uint8_t ret[32]) {
        /* PolicyPCR: H(0^32 || CC || TPML_PCR_SELECTION || pcrDigest), the
         * selection one sha256 bank of three select bytes. */
        uint8_t buf[32 + 4 + 10 + 32 + APPROVAL_NV_NAME_SIZE] = {};
        uint8_t args[8 + 2 + 2], *p;

        if (!version_valid(version))
                return -ERANGE;
        if (pcr_mask == 0 || pcr_mask >> APPROVAL_PCR_MAX)
                return -EINVAL;
        p = buf + 32;
        put_be32(p, CC_POLICY_PCR);
        put_be32(p + 4, 1);
        put_be16(p + 8, ALG_SHA256);
        p[10] = 3;
        p[11] = (uint8_t) pcr_mask;
        p[12] = (uint8_t) (pcr_mask >> 8);
        p[13] = (uint8_t) (pcr_mask >> 16);
        memcpy(p + 14, pcr_digest, 32);
        if (sha256_buffer(buf, 32 + 14 + 32, buf) < 0)
                return -EIO;
        /* PolicyNV: H(d || CC || H(operandB || offset || operation) || nvName),
         * operandB the thermometer code of the version. */
        put_be64(args, approval_floor_encode(version));
        put_be16(args + 8, 0);
        put_be16(args + 10, EO_UNSIGNED_LE);
        put_be32(buf + 32, CC_POLICY_NV);
        if (sha256_buffer(args, sizeof(args), buf + 36) < 0)
                return -EIO;
        memcpy(buf + 68, approval_nv_name, APPROVAL_NV_NAME_SIZE);
        return sha256_buffer(buf, 68 + APPROVAL_NV_NAME_SIZE, ret) < 0 ? -EIO : 0;
}

int approval_authorize_digest(const uint8_t *key_name, size_t key_name_len, uint8_t ret[32]) {
        uint8_t buf[32 + 4 + 66] = {};

        if (key_name_len > sizeof(buf) - 36)
                return -EINVAL;
        put_be32(buf + 32, CC_POLICY_AUTHORIZE);
        memcpy(buf + 36, key_name, key_name_len);
        if (sha256_buffer(buf, 36 + key_name_len, buf) < 0)
                return -EIO;
        memcpy(buf + 32, APPROVAL_POLICY_REF, APPROVAL_POLICY_REF_SIZE);
        return sha256_buffer(buf, 32 + APPROVAL_POLICY_REF_SIZE, ret) < 0 ? -EIO : 0;
}

int approval_parse(const void *data, size_t len, Approval *ret) {
        static const uint8_t zero[3] = {};
        const uint8_t *p = data;
        uint8_t want[32];
        Approval a = {};

        if (len != APPROVAL_FILE_SIZE || memcmp(p, APPROVAL_MAGIC, 4) != 0 || p[4] != APPROVAL_FORMAT ||
            memcmp(p + 5, zero, 3) != 0 ||
            memcmp(p + 84, APPROVAL_POLICY_REF, APPROVAL_POLICY_REF_SIZE) != 0)
                return -EBADMSG;
        a.version = get_be64(p + 8);
        a.pcr_mask = get_be32(p + 16);
        if (!version_valid(a.version) || a.pcr_mask == 0 || a.pcr_mask >> APPROVAL_PCR_MAX)
                return -EBADMSG;
        memcpy(a.pcr_digest, p + 20, 32);
        memcpy(a.policy, p + 52, 32);
        if (approval_policy_digest(a.version, a.pcr_mask, a.pcr_digest, want) < 0)
                return -EIO;
        /* Public values, no secret: memcmp is fine. */
        if (memcmp(want, a.policy, 32) != 0)
                return -EBADMSG;
        *ret = a;
        return 0;
}

int approval_make(uint64_t version, uint32_t pcr_mask, const uint8_t (*values)[32], uint8_t *ret) {
        uint8_t buf[APPROVAL_PCR_MAX * 32];
        size_t n = (size_t) __builtin_popcount(pcr_mask);
        int r;

        if (!version_valid(version))
                return -ERANGE;
        if (pcr_mask == 0 || pcr_mask >> APPROVAL_PCR_MAX)
                return -EINVAL;
        memcpy(buf, values, n * 32);
        memset(ret, 0, APPROVAL_FILE_SIZE);
        memcpy(ret, APPROVAL_MAGIC, 4);
        ret[4] = APPROVAL_FORMAT;
        put_be64(ret + 8, version);
        put_be32(ret + 16, pcr_mask);
        if (sha256_buffer(buf, n * 32, ret + 20) < 0)
                return -EIO;
        r = approval_policy_digest(version, pcr_mask, ret + 20, ret + 52);
        if (r < 0)
                return r;
        memcpy(ret + 84, APPROVAL_POLICY_REF, APPROVAL_POLICY_REF_SIZE);
        return 0;
}
