#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A blob copied to another device (a second swtpm and daemon) fails with
# WrongDevice; one whose TPM binding was forged to match fails the TPM's
# integrity check (Tampered). Never garbage.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-keys-lib.sh"

ep_setup
ep_start_swtpm other
ep_start
printf 'only here' | ep_ctl seal s1 || ep_fail "seal"
ep_ctl key create k1 >/dev/null || ep_fail "key create"
printf 'patient record' | ep_ctl encrypt k1 >"$EP_TMP/ct" || ep_fail "encrypt"
id1=$(ep_ctl device-id)
ep_stop

# The other device: its own TPM and state, the first device's key files.
mkdir -p "$EP_TMP/state2/keys"
cp "$EP_STATE/keys/s1.key" "$EP_STATE/keys/k1.key" "$EP_TMP/state2/keys/"
ep_config Daemon StateDirectory "$EP_TMP/state2"
ep_config TPM TCTI "$EP_TCTI_other"
ep_start
id2=$(ep_ctl device-id)
[ "$id1" != "$id2" ] || ep_fail "two TPMs gave the same device id"
ep_ok "another TPM, another device id"
ep_expect_error org.endpointd.Error.WrongDevice k_call Unseal s1
ep_expect_error org.endpointd.Error.WrongDevice k_call Decrypt k1 "$(k_ay_file "$EP_TMP/ct")" "@ay []"

# Forge the binding: copy this TPM's SRK id (bytes 36..67) into the blob.
printf 'x' | ep_ctl seal local >/dev/null || ep_fail "seal on the other device"
dd if="$EP_TMP/state2/keys/local.key" of="$EP_TMP/state2/keys/s1.key" bs=1 skip=36 seek=36 count=32 \
        conv=notrunc status=none
ep_expect_error org.endpointd.Error.Tampered k_call Unseal s1
ep_done
