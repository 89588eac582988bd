#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Enrolment (endpointd(8)): endpointctl device-csr makes a PKCS#10 request
# for the TPM device key, signed by the TPM through Keys1.Sign; openssl
# verifies it, its subject is the device id and its key the device key. A
# caller without device.sign gets no request.
. "$top_srcdir/tests/integration/lib.sh"
command -v jq >/dev/null || ep_skip "jq is not installed"

ep_setup
ep_start
ep_ctl device-id >/dev/null || ep_fail "no device id"
id=$(ep_ctl device-id)
ep_ctl device-key >"$EP_TMP/device.pem" || ep_fail "device-key failed"

ep_ctl device-csr >"$EP_TMP/csr.pem" || ep_fail "device-csr failed"
openssl req -in "$EP_TMP/csr.pem" -verify -noout 2>"$EP_TMP/verify.out" ||
        ep_fail "openssl req -verify refused the request: $(cat "$EP_TMP/verify.out")"
ep_assert_contains "$(cat "$EP_TMP/verify.out")" "verify OK" "openssl req -verify"
ep_assert_eq "$(openssl req -in "$EP_TMP/csr.pem" -noout -subject -nameopt RFC2253)" "subject=CN=$id" \
        "the subject is the device id"
ep_assert_eq "$(openssl req -in "$EP_TMP/csr.pem" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum)" \
        "$(openssl pkey -pubin -in "$EP_TMP/device.pem" -outform DER | sha256sum)" "the key is the device key"
ep_assert_eq "$(openssl req -in "$EP_TMP/csr.pem" -noout -text | grep -c 'Signature Algorithm: ecdsa-with-SHA256')" \
        1 "signed with ecdsa-with-SHA256"
# The device id is the SHA-256 of the key's DER SubjectPublicKeyInfo.
ep_assert_eq "$(openssl pkey -pubin -in "$EP_TMP/device.pem" -outform DER | sha256sum | cut -d' ' -f1)" "$id" \
        "the device id names that key"

# --output (atomic write) and --json.
ep_assert_eq "$(ep_ctl device-csr --output="$EP_TMP/out.csr")" \
        "Wrote the certification request of device $id to $EP_TMP/out.csr." "device-csr --output"
openssl req -in "$EP_TMP/out.csr" -verify -noout 2>/dev/null || ep_fail "the --output request does not verify"
ep_ok "the --output request verifies"
ep_ctl --json device-csr >"$EP_TMP/csr.json" || ep_fail "device-csr --json failed"
ep_assert_eq "$(jq -r .deviceId "$EP_TMP/csr.json")" "$id" "--json deviceId"
jq -r .csr "$EP_TMP/csr.json" | openssl req -verify -noout 2>/dev/null || ep_fail "the --json request does not verify"
ep_ok "the --json request verifies"

# A changed byte in what the TPM signed (the device id in the subject).
openssl req -in "$EP_TMP/csr.pem" -outform DER -out "$EP_TMP/csr.der" || ep_fail "cannot convert the request"
off=$(grep -obUa "$id" "$EP_TMP/csr.der" | head -n1 | cut -d: -f1)
[ -n "$off" ] || ep_fail "the device id is not in the request"
ep_flip_byte "$EP_TMP/csr.der" $((off + 5))
if openssl req -inform DER -in "$EP_TMP/csr.der" -verify -noout 2>/dev/null; then
        ep_fail "a tampered request verifies"
fi
ep_ok "a tampered request does not verify"

# Without device.sign (or status.read): no request, exit 4.
ep_expect_exit 4 ep_as 65534 "$EP_BUILD/endpointctl" device-csr
ep_done
