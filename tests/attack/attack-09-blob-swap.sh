#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Attack 9 of issue 8 (written by the authors, test first): key names were
# not bound to sealed blobs. Someone who can write StateDirectory/keys but
# cannot talk to the TPM (a backup restored by hand, a copied disk, a
# service account with the wrong file permissions) renames, swaps or copies
# key files, or edits their headers:
#
#   - swapping alpha.key and bravo.key made "Unseal alpha" return bravo's
#     secret (and the same for data keys with Encrypt/Decrypt);
#   - copying a protected key over a name that an unprivileged uid holds
#     keys.unseal:NAME / keys.use:NAME for gave that uid the protected
#     secret, or let it decrypt what the protected key encrypted;
#   - editing the header's kind, flags or PCR selection either went
#     through or was reported as "PCR values differ" (PcrMismatch);
#   - setting the exportable flag of a non-exportable data key in the file
#     was refused only by a second mark, with AccessDenied.
#
# Each of these must now fail with org.endpointd.Error.Tampered and return
# nothing, and the genuine files must keep working (so a refusal is the
# binding at work, not a broken store).
#
# Not in this suite: a single blob restored after delete and re-seal (or
# re-create) still unseals its old secret. Refusing it needs state the
# attacker cannot roll back with the files, i.e. a TPM NV counter, which the
# key-lifecycle work adds; the key file already carries a generation number
# bound like the rest of the header, checked in one place
# (key_generation_check() in keystore.c) for that counter to back. Without
# the counter nothing can be asserted about it, so there is no test for it.
. "$top_srcdir/tests/attack/lib.sh"
. "$top_srcdir/tests/integration/test-keys-lib.sh"

ep_setup
# PCR 16 is the debug PCR: nothing extends it during the test.
ep_config TPM PCRs 16
# No cache: every call reads the key file and unseals it, as after a restart.
ep_config TPM KeyCacheTimeout 0
# uid 65534 is an application that may unseal 'public' and use data key
# 'pubdata', and nothing else.
printf '\n[Role]\nName=app\nPermissions=keys.unseal:public keys.use:pubdata\n' >>"$EP_POLICY"
printf '\n[Subject]\nUID=65534\nRoles=app\n' >>"$EP_POLICY"
ep_start
K=$EP_STATE/keys
T=$EP_TMP

# app_call METHOD ARGS...: a Keys1 call by uid 65534 that prints the D-Bus
# error name on failure.
app_call() {
        ep_as 65534 gdbus call --system -d org.endpointd.Endpoint1 -o /org/endpointd/Endpoint1 \
                -m "org.endpointd.Keys1.$1" "${@:2}"
}

# set_byte FILE OFFSET VALUE: writes one byte; fails the test if the file
# already had that value there (the edit would change nothing).
set_byte() {
        local old
        old=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
        [ -n "$old" ] && [ "$old" != "$3" ] || ep_fail "set_byte: $1 offset $2 is '$old' already"
        printf "\\$(printf '%03o' "$3")" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# swap A B: exchanges two key files, as an attacker with write access can.
swap() {
        mv "$K/$1.key" "$T/swap.tmp" && mv "$K/$2.key" "$K/$1.key" && mv "$T/swap.tmp" "$K/$2.key" ||
                ep_fail "cannot swap $1.key and $2.key"
}

# expect_tampered CMD...: CMD fails with Tampered, saying that the key file
# does not belong to its name or object, and prints none of the secrets of
# this test.
expect_tampered() {
        local out rc=0
        out=$("$@" 2>&1) || rc=$?
        [ $rc -ne 0 ] || ep_fail "$* succeeded: $out"
        case $out in
        *org.endpointd.Error.Tampered*"does not belong to this name"*) ;;
        *) ep_fail "expected org.endpointd.Error.Tampered (key file not bound) from: $* (got: $out)" ;;
        esac
        case $out in
        *-secret* | *record*) ep_fail "$* printed a secret: $out" ;;
        esac
        ep_ok "$* -> Tampered"
}

# unseals_to NAME SECRET: root unseals NAME and gets SECRET.
unseals_to() {
        ep_assert_eq "$(ep_ctl unseal "$1")" "$2" "'$1' unseals to its own secret"
}

printf 'alpha-secret' | ep_ctl seal alpha || ep_fail "seal alpha"
printf 'bravo-secret' | ep_ctl seal bravo || ep_fail "seal bravo"
printf 'vault-secret' | ep_ctl seal vault || ep_fail "seal vault"
printf 'public-secret' | ep_ctl seal public || ep_fail "seal public"
ep_ctl key create dk-alpha >/dev/null && ep_ctl key create dk-bravo >/dev/null || ep_fail "key create"
ep_ctl key create vaultkey >/dev/null && ep_ctl key create pubdata >/dev/null || ep_fail "key create"
ep_ctl key create kx --exportable >/dev/null || ep_fail "key create kx"
for f in "$K"/*.key; do cp "$f" "$T/$(basename "$f").orig"; done
restore() { cp "$T/$1.key.orig" "$K/$1.key"; }

printf 'alpha record' | ep_ctl encrypt dk-alpha >"$T/ct-alpha" || ep_fail "encrypt dk-alpha"
printf 'bravo record' | ep_ctl encrypt dk-bravo >"$T/ct-bravo" || ep_fail "encrypt dk-bravo"
printf 'patient record' | ep_ctl encrypt vaultkey >"$T/ct-vault" || ep_fail "encrypt vaultkey"
# The application's rights before any attack: it gets 'public' and not
# 'vault', and cannot open the vault key's envelope with its own key.
ep_assert_eq "$(ep_as 65534 "$EP_BUILD/endpointctl" unseal public)" "public-secret" "the app unseals 'public'"
ep_expect_error org.freedesktop.DBus.Error.AccessDenied app_call Unseal vault
ep_expect_error org.freedesktop.DBus.Error.AccessDenied app_call Decrypt vaultkey "$(k_ay_file "$T/ct-vault")" "@ay []"
ep_expect_error org.endpointd.Error.Tampered app_call Decrypt pubdata "$(k_ay_file "$T/ct-vault")" "@ay []"

# --- sealed secrets ---------------------------------------------------------
ep_attack "swap alpha.key and bravo.key: Unseal alpha must not return bravo's secret"
swap alpha bravo
expect_tampered k_call Unseal alpha
expect_tampered k_call Unseal bravo
swap alpha bravo
unseals_to alpha alpha-secret
unseals_to bravo bravo-secret

ep_attack "copy vault.key (no rights for uid 65534) over public.key (keys.unseal:public)"
cp "$K/vault.key" "$K/public.key"
expect_tampered app_call Unseal public
expect_tampered k_call Unseal public
restore public
ep_assert_eq "$(ep_as 65534 "$EP_BUILD/endpointctl" unseal public)" "public-secret" "the app unseals 'public' again"

ep_attack "copy alpha.key to a new name: a key file only opens under the name it was sealed as"
cp "$K/alpha.key" "$K/alpha2.key"
expect_tampered k_call Unseal alpha2
rm -f "$K/alpha2.key"

# --- data keys ----------------------------------------------------------------
ep_attack "swap dk-alpha.key and dk-bravo.key: Encrypt/Decrypt with a swapped data key"
swap dk-alpha dk-bravo
expect_tampered k_call Decrypt dk-alpha "$(k_ay_file "$T/ct-bravo")" "@ay []"
expect_tampered k_call Decrypt dk-bravo "$(k_ay_file "$T/ct-alpha")" "@ay []"
expect_tampered k_call Encrypt dk-alpha "$(k_ay x)" "@ay []"
expect_tampered k_call Encrypt dk-bravo "$(k_ay x)" "@ay []"
swap dk-alpha dk-bravo
ep_assert_eq "$(ep_ctl decrypt dk-alpha <"$T/ct-alpha")" "alpha record" "dk-alpha decrypts its own envelope"
ep_assert_eq "$(ep_ctl decrypt dk-bravo <"$T/ct-bravo")" "bravo record" "dk-bravo decrypts its own envelope"

ep_attack "copy vaultkey.key (no rights for uid 65534) over pubdata.key (keys.use:pubdata)"
cp "$K/vaultkey.key" "$K/pubdata.key"
expect_tampered app_call Decrypt pubdata "$(k_ay_file "$T/ct-vault")" "@ay []"
expect_tampered app_call Encrypt pubdata "$(k_ay x)" "@ay []"
restore pubdata
printf 'x' | ep_as 65534 "$EP_BUILD/endpointctl" encrypt pubdata >/dev/null || ep_fail "the app cannot use pubdata"
ep_ok "the app uses pubdata again"
ep_assert_eq "$(ep_ctl decrypt vaultkey <"$T/ct-vault")" "patient record" "vaultkey still decrypts"

# --- the header ---------------------------------------------------------------
# Offsets of endpointd-dbus(7), KEY FILES: 5 kind, 6 flags, 8..11 PCR mask.
ep_attack "edit the header's kind (secret -> data key, data key -> secret)"
set_byte "$K/alpha.key" 5 2
expect_tampered k_call Unseal alpha
expect_tampered k_call Encrypt alpha "$(k_ay x)" "@ay []"
restore alpha
set_byte "$K/dk-alpha.key" 5 1
expect_tampered k_call Unseal dk-alpha
restore dk-alpha
set_byte "$K/kx.key" 5 1
expect_tampered k_call Unseal kx
restore kx

ep_attack "edit the header's flags of a sealed secret (exportable 1 -> 0)"
set_byte "$K/alpha.key" 6 0
expect_tampered k_call Unseal alpha
restore alpha

ep_attack "edit the header's PCR selection (PCR 16 -> 7; 16 -> 15+16): Tampered, not PcrMismatch"
# Big endian mask 0x00010000 (PCR 16): byte 9 is 0x01.
set_byte "$K/alpha.key" 9 0
set_byte "$K/alpha.key" 11 128
expect_tampered k_call Unseal alpha
restore alpha
set_byte "$K/alpha.key" 10 128
expect_tampered k_call Unseal alpha
restore alpha
set_byte "$K/dk-alpha.key" 9 0
set_byte "$K/dk-alpha.key" 11 128
expect_tampered k_call Decrypt dk-alpha "$(k_ay_file "$T/ct-alpha")" "@ay []"
restore dk-alpha

ep_attack "exportable flag of a non-exportable data key set in the file: the raw key must not come out"
set_byte "$K/vaultkey.key" 6 1
expect_tampered k_call Unseal vaultkey
restore vaultkey
k_refused org.freedesktop.DBus.Error.AccessDenied k_call Unseal vaultkey
ep_assert_eq "$(ep_ctl unseal kx | wc -c)" 32 "an exportable data key still unseals"

ep_attack "flip every byte of a key file's header in turn: never accepted, never PcrMismatch"
# Version 2 header: 112 bytes. The version byte gives Malformed (a format
# this daemon does not read) and the SRK id (36..67) WrongDevice (the file
# names another TPM); every other byte is Tampered.
for off in $(seq 0 111); do
        ep_flip_byte "$K/alpha.key" "$off"
        rc=0
        out=$(k_call Unseal alpha 2>&1) || rc=$?
        [ $rc -ne 0 ] || ep_fail "header byte $off flipped: Unseal succeeded: $out"
        case $off in
        4) want=org.endpointd.Error.Malformed ;;
        3[6-9] | [4-5][0-9] | 6[0-7]) want=org.endpointd.Error.WrongDevice ;;
        *) want=org.endpointd.Error.Tampered ;;
        esac
        case $out in
        *"$want"*) ;;
        *) ep_fail "header byte $off flipped: expected $want, got: $out" ;;
        esac
        restore alpha
done
ep_ok "each of the 112 header bytes flipped is refused with the expected error"
unseals_to alpha alpha-secret

# Refusals flush what they loaded: only the SRK and the device key remain.
ep_assert_eq "$(k_transient)" 2 "two transient objects after the attacks"
ep_done
