/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Signed tokens: maintenance grants and device licences. One parser and one
 * verifier for both (endpointd-policy(5)): a small INI file with exactly one
 * [Grant] or [Licence] section plus a detached CMS signature, checked with
 * signature_verify() against the trust store. */

#include <stdbool.h>
#include <stddef.h>

#include "signature.h"
#include "util.h"

#define TOKEN_FILE_MAX (64U * 1024U)
#define TOKEN_DEVICE_MAX 128U

typedef enum TokenType {
        TOKEN_GRANT,
        TOKEN_LICENCE,
        _TOKEN_TYPE_MAX,
        _TOKEN_TYPE_INVALID = -EINVAL,
} TokenType;

/* "Grant", "Licence" (the section names). */
const char *token_type_to_string(TokenType t) _pure_;
TokenType token_type_from_string(const char *s) _pure_;

typedef struct Token {
        TokenType type;
        char *id; /* name_is_valid() */
        char *device; /* a device id, or "*" (licences only) */
        char *subject; /* grants: "user:NAME", "uid:N", "group:NAME", "gid:N" */
        char **roles; /* grants: role names of the policy */
        char **features; /* licences: feature names */
        usec_t not_before; /* CLOCK_REALTIME µs */
        usec_t not_after; /* exclusive */
} Token;

/* Parses a token. expected is TOKEN_GRANT, TOKEN_LICENCE or
 * _TOKEN_TYPE_INVALID for either. Returns 0, or -EBADMSG/-E2BIG on syntax,
 * -EINVAL on a bad or missing value or the wrong type, -EEXIST on a
 * duplicate key or section, -EFBIG above TOKEN_FILE_MAX, with error filled. */
int token_parse(const char *data, size_t len, TokenType expected, Token **ret, ParseError *error);
Token *token_free(Token *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Token *, token_free);

/* The one verifier. expected is TOKEN_GRANT or TOKEN_LICENCE (else
 * -EINVAL). Checks, in this order, the signature over exactly data by a
 * signer certificate of expected's role, valid at now (signature_verify();
 * -EKEYREJECTED: untrusted, expired or weak signer, wrong role, changed
 * byte, not a CMS signature), the content (-EBADMSG: does not parse or is
 * of the other type), the device binding (-EXDEV: Device= is neither
 * device_id nor, for licences, "*"; an empty device_id matches no grant)
 * and the validity at now (-ETIME before NotBefore, -EKEYEXPIRED at or
 * after NotAfter). error receives a sentence. A NULL device_id skips the
 * binding; a now of 0 (SIGNATURE_TIME_STORED) skips every validity period,
 * the token's and the certificates': both are for reloading stored tokens,
 * judged when they were installed, whose binding and time are checked at
 * use. On success *ret owns the parsed token. */
int token_verify(const TrustStore *trust, const void *data, size_t len, const void *sig, size_t sig_len,
                 TokenType expected, const char *device_id, usec_t now, Token **ret, char *error,
                 size_t error_len);

/* Whether the token's Device= accepts device_id. */
bool token_device_matches(const Token *t, const char *device_id) _pure_;

/* Validity at now: 0, -ETIME or -EKEYEXPIRED. */
int token_check_time(const Token *t, usec_t now) _pure_;

/* UTC ISO 8601 "2026-11-23T10:00:00Z" (exactly this form). -EINVAL on
 * anything else, including impossible dates. */
int parse_iso8601(const char *s, usec_t *ret);
/* Formats into buf (at least 21 bytes) and returns buf. */
const char *format_iso8601(char *buf, size_t len, usec_t t);
