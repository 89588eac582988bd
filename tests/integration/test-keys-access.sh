#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Keys1 permissions narrowed to a key name: an application (uid 65534) that
# may use data key k1 and unseal secret s1 gets exactly that, and nothing of
# k2, s2, key creation, listing or attestation.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-keys-lib.sh"

ep_setup
printf '\n[Role]\nName=app\nPermissions=status.read keys.use:k1 keys.unseal:s1 device.sign\n' >>"$EP_POLICY"
printf '\n[Subject]\nUID=65534\nRoles=app\n' >>"$EP_POLICY"
ep_start
app() { ep_as 65534 "$EP_BUILD/endpointctl" "$@"; }

ep_ctl key create k1 >/dev/null && ep_ctl key create k2 >/dev/null || ep_fail "key create"
printf 's1' | ep_ctl seal s1 && printf 's2' | ep_ctl seal s2 || ep_fail "seal"

printf 'record' | app encrypt k1 >"$EP_TMP/ct" || ep_fail "the app cannot use k1"
ep_assert_eq "$(app decrypt k1 <"$EP_TMP/ct")" "record" "the app decrypts with k1"
ep_assert_eq "$(app unseal s1)" "s1" "the app unseals s1"
printf 'x' | app sign >/dev/null || ep_fail "the app cannot sign"
ep_ok "the app signs"
app device-id >/dev/null || ep_fail "the app cannot read the device id"
ep_ok "the app reads the device id"

before=$(k_state)
ep_expect_exit 4 app encrypt k2 <<<"record"
ep_expect_exit 4 app unseal s2
ep_expect_exit 4 app unseal k1
ep_expect_exit 4 app key create k3
ep_expect_exit 4 app key delete k1
ep_expect_exit 4 app key list
ep_expect_exit 4 app seal s3 <<<"secret"
ep_expect_exit 4 app attest --nonce 00 --output "$EP_TMP/q"
ep_assert_eq "$(k_state)" "$before" "denied calls changed nothing on disk"
ep_assert_contains "$(app unseal s2 2>&1)" "keys.unseal:s2" "the denial names the permission"
ep_done
