#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Keys1 end to end against swtpm: device identity, Sign, Attest checked by
# tpm2_checkquote, Seal/Unseal with PCR policy, data keys and their
# envelope, and every refusal with its D-Bus error and an unchanged disk.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-keys-lib.sh"
command -v tpm2_checkquote >/dev/null || ep_skip "tpm2-tools are not installed"

ep_setup
# PCR 16 is the debug PCR: the test may extend it freely.
ep_config TPM PCRs 16
ep_start
T=$EP_TMP

# --- the introspection XML in conf/ is what the daemon serves -------------
k_iface() { sed -n '/<interface name="org.endpointd.Keys1">/,/<\/interface>/p' "$1" | sed 's/^ *//'; }
ep_busctl introspect --xml-interface org.endpointd.Endpoint1 /org/endpointd/Endpoint1 >"$T/served.xml"
[ -n "$(k_iface "$T/served.xml")" ] || ep_fail "the daemon serves no org.endpointd.Keys1"
ep_assert_eq "$(k_iface "$T/served.xml")" "$(k_iface "$EP_SRC/conf/org.endpointd.Keys1.xml")" \
        "conf/org.endpointd.Keys1.xml matches the served interface"

# --- device identity -------------------------------------------------------
id=$(ep_ctl device-id) || ep_fail "device-id failed"
[[ $id =~ ^[0-9a-f]{64}$ ]] || ep_fail "device id is not 64 hex digits: $id"
ep_ctl device-key >"$T/device.pem" || ep_fail "device-key failed"
spki=$(openssl pkey -pubin -in "$T/device.pem" -outform DER | sha256sum | cut -d' ' -f1)
ep_assert_eq "$spki" "$id" "DeviceId is the SHA-256 of the device key's SubjectPublicKeyInfo"
ep_assert_contains "$(openssl pkey -pubin -in "$T/device.pem" -text -noout)" "prime256v1" "device key curve"
ep_assert_eq "$(ep_busctl get-property org.endpointd.Endpoint1 /org/endpointd/Endpoint1 \
        org.endpointd.Endpoint1 TpmAvailable)" "b true" "TpmAvailable"

# --- Sign ------------------------------------------------------------------
printf 'firmware 1.2.3\0with a NUL' >"$T/data"
ep_ctl sign <"$T/data" >"$T/data.sig" || ep_fail "sign failed"
ep_assert_eq "$(openssl dgst -sha256 -verify "$T/device.pem" -signature "$T/data.sig" "$T/data")" \
        "Verified OK" "openssl dgst verifies the device signature"
printf 'firmware 1.2.4\0with a NUL' >"$T/data2"
openssl dgst -sha256 -verify "$T/device.pem" -signature "$T/data.sig" "$T/data2" >/dev/null 2>&1 &&
        ep_fail "signature verified over different data"
ep_ok "signature does not verify over different data"
# The device key also signs the audit log's checkpoints (endpointd-audit(5)):
# data that could be one is refused.
printf 'endpointd audit checkpoint v1\0forged head, seed and counter' >"$T/checkpoint"
ep_expect_error "begins like an audit checkpoint" ep_ctl sign <"$T/checkpoint"

# --- Attest ----------------------------------------------------------------
ep_ctl attest --nonce 0badc0de01 --pcrs 0,7,16 --output "$T/quote" >"$T/attest.out" ||
        ep_fail "attest failed: $(cat "$T/attest.out")"
(cd "$T/quote" && tpm2_checkquote -u ak.pem -m quote.msg -s quote.sig -f quote.pcrs -l sha256:0,7,16 \
        -g sha256 -q 0badc0de01 >/dev/null) || ep_fail "tpm2_checkquote rejected the quote"
ep_ok "tpm2_checkquote verifies the quote"
ep_assert_contains "$(cat "$T/attest.out")" "tpm2_checkquote -u ak.pem -m quote.msg -s quote.sig" "printed command"
(cd "$T/quote" && tpm2_checkquote -u ak.pem -m quote.msg -s quote.sig -f quote.pcrs -l sha256:0,7,16 \
        -g sha256 -q 0badc0de02 >/dev/null 2>&1) && ep_fail "quote verified with another nonce"
ep_ok "quote does not verify with another nonce"
k_tpm2 tpm2_pcrread sha256:0,7,16 -o "$T/pcrs.now" >/dev/null || ep_fail "tpm2_pcrread failed"
cmp -s "$T/pcrs.now" "$T/quote/quote.pcrs" || ep_fail "quoted PCR values differ from tpm2_pcrread"
ep_ok "quoted PCR values are the TPM's"
ep_ctl attest --nonce 00 --output "$T/quote-default" >/dev/null || ep_fail "attest with default PCRs"
ep_assert_eq "$(stat -c %s "$T/quote-default/quote.pcrs")" 32 "default PCR selection (PCRs=16)"
k_refused org.freedesktop.DBus.Error.InvalidArgs k_call Attest "@ay []" "[uint32 0]"
k_refused org.freedesktop.DBus.Error.InvalidArgs k_call Attest "[byte 0x01]" "[uint32 24]"
k_refused org.freedesktop.DBus.Error.InvalidArgs k_call Attest "$(k_ay 0123456789abcdef0123456789abcdefX)" "@au []"
ep_expect_exit 2 ep_ctl attest --nonce xyz --output "$T/q2"

# --- Seal / Unseal ---------------------------------------------------------
printf 'top\0secret\n' >"$T/secret"
ep_ctl seal s1 <"$T/secret" || ep_fail "seal failed"
ep_ctl unseal s1 >"$T/secret.out" || ep_fail "unseal failed"
cmp -s "$T/secret" "$T/secret.out" || ep_fail "unsealed secret differs"
ep_ok "seal/unseal round trip, binary-safe"
head -c 128 /dev/urandom >"$T/s128"
ep_ctl seal s128 --pcrs 0,7 <"$T/s128" || ep_fail "a 128-byte secret was refused"
ep_ctl unseal s128 | cmp -s - "$T/s128" || ep_fail "128-byte secret differs"
ep_ok "128-byte secret"
head -c 129 /dev/urandom >"$T/s129"
k_refused org.endpointd.Error.TooLarge k_call Seal s129 "$(k_ay_file "$T/s129")" "{}"
k_refused org.freedesktop.DBus.Error.InvalidArgs k_call Seal s0 "@ay []" "{}"
k_refused org.endpointd.Error.Exists k_call Seal s1 "$(k_ay x)" "{}"
k_refused org.endpointd.Error.NotFound k_call Unseal nope
k_refused org.freedesktop.DBus.Error.InvalidArgs k_call Unseal "''"
k_refused org.freedesktop.DBus.Error.InvalidArgs k_call Unseal "'a/b'"
k_refused org.freedesktop.DBus.Error.InvalidArgs k_call Unseal "'..'"
k_refused org.freedesktop.DBus.Error.InvalidArgs k_call Seal "'../x'" "$(k_ay x)" "{}"
k_refused org.freedesktop.DBus.Error.InvalidArgs k_call Seal s2 "$(k_ay x)" "{'pcrs': <[uint32 24]>}"
k_refused org.freedesktop.DBus.Error.InvalidArgs k_call Seal s2 "$(k_ay x)" "{'colour': <'red'>}"

# --- data keys ---------------------------------------------------------------
ep_ctl key create k1 >/dev/null || ep_fail "key create k1"
ep_ctl key create kx --exportable --pcrs 0,7 >/dev/null || ep_fail "key create kx"
list=$(ep_ctl --json key list) || ep_fail "key list"
ep_assert_contains "$list" '"name":"k1"' "key list names k1"
ep_assert_contains "$(ep_ctl key list)" "kx" "key list names kx"
head -c 4096 /dev/urandom >"$T/plain"
ep_ctl encrypt k1 --aad=record-42 <"$T/plain" >"$T/ct" || ep_fail "encrypt failed"
ep_assert_eq "$(stat -c %s "$T/ct")" $((4096 + 48)) "envelope size is plaintext + 48"
ep_assert_eq "$(head -c 4 "$T/ct" | od -An -tx1 | tr -d ' ')" "45504501" "envelope magic and version"
ep_ctl decrypt k1 --aad=record-42 <"$T/ct" | cmp -s - "$T/plain" || ep_fail "decrypt differs"
ep_ok "encrypt/decrypt round trip"
ep_ctl encrypt k1 <"$T/plain" >"$T/ct2"
cmp -s "$T/ct" "$T/ct2" && ep_fail "two encryptions are identical (nonce reuse?)"
ep_ok "fresh nonce per encryption"
: | ep_ctl encrypt k1 >"$T/ct-empty" && ep_ctl decrypt k1 <"$T/ct-empty" | cmp -s - /dev/null ||
        ep_fail "empty plaintext"
ep_ok "empty plaintext round trip"

head -c 200 /dev/urandom >"$T/small"
ep_ctl encrypt k1 --aad=a <"$T/small" >"$T/ct-small"
ep_ctl encrypt kx --aad=a <"$T/small" >"$T/ct-kx"
cp "$T/ct-small" "$T/ct-bad"
ep_flip_byte "$T/ct-bad" 100
k_refused org.endpointd.Error.Tampered k_call Decrypt k1 "$(k_ay_file "$T/ct-bad")" "$(k_ay a)"
k_refused org.endpointd.Error.Tampered k_call Decrypt k1 "$(k_ay_file "$T/ct-small")" "$(k_ay b)"
k_refused org.endpointd.Error.Tampered k_call Decrypt k1 "$(k_ay_file "$T/ct-kx")" "$(k_ay a)"
head -c 40 "$T/ct-small" >"$T/ct-trunc"
k_refused org.endpointd.Error.Malformed k_call Decrypt k1 "$(k_ay_file "$T/ct-trunc")" "$(k_ay a)"
head -c 120 "$T/ct-small" >"$T/ct-trunc2"
k_refused org.endpointd.Error.Tampered k_call Decrypt k1 "$(k_ay_file "$T/ct-trunc2")" "$(k_ay a)"
k_refused org.endpointd.Error.NotFound k_call Encrypt nope "$(k_ay x)" "@ay []"
k_refused org.freedesktop.DBus.Error.InvalidArgs k_call Encrypt s1 "$(k_ay x)" "@ay []"
k_refused org.freedesktop.DBus.Error.InvalidArgs k_call CreateKey "''" "{}"
k_refused org.freedesktop.DBus.Error.InvalidArgs k_call CreateKey "'a/b'" "{}"
k_refused org.freedesktop.DBus.Error.InvalidArgs k_call CreateKey "'..'" "{}"
k_refused org.freedesktop.DBus.Error.InvalidArgs k_call CreateKey "'$(printf 'a%.0s' $(seq 65))'" "{}"
k_refused org.endpointd.Error.Exists k_call CreateKey k1 "{}"
k_refused org.endpointd.Error.Exists k_call CreateKey s1 "{}"
k_refused org.freedesktop.DBus.Error.InvalidArgs k_call CreateKey k9 "{'exportable': <'yes'>}"
head -c $((1024 * 1024 + 1)) /dev/zero >"$T/big"
before=$(k_state)
ep_expect_error "Input too large" ep_ctl encrypt k1 <"$T/big"
ep_assert_eq "$(k_state)" "$before" "state unchanged after an oversized plaintext"
head -c $((1024 * 1024)) /dev/zero | ep_ctl encrypt k1 >/dev/null || ep_fail "1 MiB plaintext refused"
ep_ok "1 MiB plaintext accepted"

# Exportable or not: Unseal hands out only exportable keys.
k_refused org.freedesktop.DBus.Error.AccessDenied k_call Unseal k1
ep_assert_eq "$(ep_ctl unseal kx | wc -c)" 32 "an exportable data key unseals to 32 bytes"
# Setting the header's exportable flag does not help: the header is bound
# to the sealed object, so the edited file is refused as tampered.
cp "$EP_STATE/keys/k1.key" "$T/k1.key.orig"
printf '\x01' | dd of="$EP_STATE/keys/k1.key" bs=1 seek=6 conv=notrunc status=none
ep_expect_error org.endpointd.Error.Tampered k_call Unseal k1
cp "$T/k1.key.orig" "$EP_STATE/keys/k1.key"
ep_ctl decrypt k1 --aad=record-42 <"$T/ct" | cmp -s - "$T/plain" || ep_fail "restored k1 does not decrypt"
ep_ok "restored k1 decrypts again"
ep_assert_eq "$(head -c 5 "$EP_STATE/keys/k1.key" | od -An -tx1 | tr -d ' ')" "45504b5302" \
        "key file magic and version 2"

# A tampered sealed object fails the TPM's integrity check.
cp "$EP_STATE/keys/s1.key" "$T/s1.key.orig"
size=$(stat -c %s "$EP_STATE/keys/s1.key")
ep_flip_byte "$EP_STATE/keys/s1.key" $((size - 10))
ep_expect_error org.endpointd.Error.Tampered k_call Unseal s1
head -c 50 "$T/s1.key.orig" >"$EP_STATE/keys/s1.key"
ep_expect_error org.endpointd.Error.Tampered k_call Unseal s1
cp "$T/s1.key.orig" "$EP_STATE/keys/s1.key"
ep_ctl unseal s1 | cmp -s - "$T/secret" || ep_fail "restored blob does not unseal"
ep_ok "restored blob unseals again"

# --- access control ----------------------------------------------------------
ep_expect_exit 4 ep_as 65534 "$EP_BUILD/endpointctl" unseal s1
ep_expect_exit 4 ep_as 65534 "$EP_BUILD/endpointctl" key create intruder
[ -e "$EP_STATE/keys/intruder.key" ] && ep_fail "a denied create left a file"

# --- PCR policy ----------------------------------------------------------------
ep_ctl seal s16 --pcrs 16 <"$T/secret" || ep_fail "seal to PCR 16"
ep_ctl unseal s16 >/dev/null || ep_fail "unseal before extend"
ep_ctl key create k16 --pcrs 16 >/dev/null || ep_fail "key create k16"
k_tpm2 tpm2_pcrextend 16:sha256=$(printf '%064d' 1) || ep_fail "tpm2_pcrextend failed"
k_refused org.endpointd.Error.PcrMismatch k_call Unseal s16
k_refused org.endpointd.Error.PcrMismatch k_call Unseal s1
# k16 was never used, so it is not cached: Encrypt must unseal it.
k_refused org.endpointd.Error.PcrMismatch k_call Encrypt k16 "$(k_ay x)" "@ay []"
ep_ctl unseal s128 | cmp -s - "$T/s128" || ep_fail "a secret sealed to PCRs 0,7 is unaffected"
ep_ok "secret sealed to other PCRs still unseals"

# --- delete ------------------------------------------------------------------
ep_ctl key delete kx >/dev/null || ep_fail "key delete"
[ -e "$EP_STATE/keys/kx.key" ] && ep_fail "kx.key still on disk"
k_refused org.endpointd.Error.NotFound k_call Encrypt kx "$(k_ay x)" "@ay []"
k_refused org.endpointd.Error.NotFound k_call DeleteKey kx
ep_ok "delete removes the key and its cached copy"

# Transient objects: the SRK and the device key, nothing else.
ep_assert_eq "$(k_transient)" 2 "two transient objects while running"
ep_stop
ep_assert_eq "$(k_transient)" 0 "no transient objects after stop"
ep_done
