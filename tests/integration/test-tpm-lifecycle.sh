#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The device's life cycle with update-aware sealing (endpointd-approval(5)):
# a secret sealed with a signed policy survives a signed update (new PCR
# values, new approval), an unapproved state and an older approval cannot
# open it, refused unseals leave nothing loaded in the TPM, and the
# rollback floors hold against a restored or wiped state directory.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-integrity-lib.sh"
. "$top_srcdir/tests/integration/test-keys-lib.sh"

command -v tpm2_pcrextend >/dev/null || ep_skip "tpm2-tools is not installed"
command -v xxd >/dev/null || ep_skip "xxd is not installed"
command -v jq >/dev/null || ep_skip "jq is not installed"

NV_APPROVAL=0x01800E44
# The Name of the APPROVAL floor index (endpointd-approval(5)).
NV_NAME=000be4abb9df723e5e0fa485ccd9cf0db747a7757879aae5d189bbe210f84cd6311a
# The APPROVAL floor is a bit field holding the thermometer code of the
# lowest version accepted: T(v), the top v of 64 bits set
# (endpointd-approval(5)). nv_hex: the index's 8 bytes in hex.
therm() { printf '%016x\n' $(($1 == 0 ? 0 : -1 << (64 - $1))); }
nv_hex() { k_tpm2 tpm2_nvread "$1" -s 8 | od -An -tx1 -v | tr -d ' \n'; }
hex() { od -An -tx1 -v | tr -d ' \n'; }
sha() { xxd -r -p | openssl dgst -sha256 -binary | hex; }

# approval_make VERSION PCR7-HEX OUT: the approval file of PCR 7 holding
# PCR7-HEX, made with openssl as endpointd-approval(5) describes, and its
# signature OUT.sig by SIGNER (default signer-approval).
approval_make() {
        local version pcrdigest d1 args approved signer=${4:-signer-approval}
        version=$(printf '%016x' "$1")
        pcrdigest=$(printf '%s' "$2" | sha)
        d1=$(printf '%064d%s%s%s%s' 0 0000017f 00000001 000b 03800000 | sed "s/\$/$pcrdigest/" | sha)
        args=$(printf '%s00000009' "$(therm "$1")" | sha)
        approved=$(printf '%s00000149%s%s' "$d1" "$args" "$NV_NAME" | sha)
        { printf 'EPPA\001\0\0\0'; printf '%s00000080%s%s' "$version" "$pcrdigest" "$approved" | xxd -r -p
          printf 'endpointd PCR approval v1'; } >"$3"
        tail -c 57 "$3" >"$3.tbs"
        openssl cms -sign -binary -noattr -outform DER -md sha256 -in "$3.tbs" -out "$3.sig" \
                -signer "$EP_PKI/$signer.pem" -inkey "$EP_PKI/$signer.key" -nosmimecap ||
                ep_fail "openssl cms -sign failed for $3"
}
# install_approval FILE: through gdbus, for the D-Bus error name on refusal.
install_approval() { k_call InstallApproval "$(k_ay_file "$1")" "$(k_ay_file "$1.sig")"; }
pcr7() { k_tpm2 tpm2_pcrread sha256:7 -o "$EP_TMP/pcr7.bin" >/dev/null && hex <"$EP_TMP/pcr7.bin"; }
unseal() { k_call Unseal secret; }
# ctl_unsealed: the secret as endpointctl unseal prints it.
ctl_unsealed() { ep_assert_eq "$(ep_ctl unseal secret)" s3cr3t "$1"; }

ep_setup
ep_pki_init
ep_pki_signer signer-approval ca "/CN=Demo Manufacturer PCR Approvals" approval
openssl pkey -in "$EP_PKI/signer-approval.key" -pubout -out "$EP_TRUST/pcr-policy.pub" 2>/dev/null ||
        ep_fail "cannot write the PCR-policy key"
ep_config Integrity Watch no
mkdir -p "$EP_ROOT/usr/bin"
echo "pump firmware 1" >"$EP_ROOT/usr/bin/pumpd"
ep_start

# Release 1: its manifest, its approval of today's PCR 7.
M=$EP_TMP/m
it_manifest 5 "$M.5"
it_install "$M.5" "$M.5.sig" || ep_fail "serial 5 did not install"
approval_make 1 "$(pcr7)" "$EP_TMP/a1"
ep_assert_contains "$(install_approval "$EP_TMP/a1")" "uint64 1" "approval 1 installed"
ep_assert_eq "$(nv_hex $NV_APPROVAL)" "$(therm 1)" "approval floor in NV"
printf s3cr3t | ep_ctl seal secret --policy=signed >/dev/null || ep_fail "endpointctl seal --policy=signed failed"
ep_assert_eq "$(ep_ctl --json key list | jq -r '.[] | select(.name == "secret") | .policy')" signed \
        "key list reports the signed policy"
ep_assert_eq "$(ep_ctl --no-legend key list | awk '$1 == "secret" { print $4 }')" signed "key list shows it"
ep_assert_contains "$(unseal)" "0x73, 0x33, 0x63, 0x72, 0x33, 0x74" "unsealed under approval 1"
ctl_unsealed "endpointctl unseals under approval 1"
ep_ctl key create dk --policy=signed --exportable >/dev/null || ep_fail "key create --policy=signed failed"
ep_assert_eq "$(ep_ctl --json key list | jq -r '.[] | select(.name == "dk") | "\(.kind) \(.policy)"')" \
        "data signed" "a data key with a signed policy"
ep_assert_eq "$(printf 'rec' | ep_ctl encrypt dk | ep_ctl decrypt dk)" rec "the signed-policy data key works"
cp -a "$EP_STATE" "$EP_TMP/state.old"

# The update: new software, PCR 7 moves, release 2's manifest and approval.
k_tpm2 tpm2_pcrextend 7:sha256=$(printf 'update 2' | openssl dgst -sha256 -r | cut -c1-64) ||
        ep_fail "cannot extend PCR 7"
ep_expect_error org.endpointd.Error.PcrMismatch unseal
ep_ok "after the PCR change, approval 1 no longer opens it"
echo "pump firmware 2" >"$EP_ROOT/usr/bin/pumpd"
it_manifest 6 "$M.6"
it_install "$M.6" "$M.6.sig" || ep_fail "serial 6 did not install"
# Release 2's approval made by endpointctl, the same bytes as the openssl
# recipe's; signed with openssl, installed with endpointctl.
approval_make 2 "$(pcr7)" "$EP_TMP/a2"
ep_ctl approval make 2 "7=$(pcr7)" --output="$EP_TMP/a2ctl" >"$EP_TMP/make.out" ||
        ep_fail "endpointctl approval make failed"
cmp "$EP_TMP/a2" "$EP_TMP/a2ctl" || ep_fail "endpointctl approval make and the openssl recipe differ"
ep_assert_contains "$(cat "$EP_TMP/make.out")" "openssl cms -sign" "approval make prints the signing command"
ep_assert_eq "$(ep_ctl approval make 2 "7=$(pcr7)" | cmp - "$EP_TMP/a2" && echo same)" same \
        "approval make to standard output"
ep_assert_eq "$(ep_ctl --json approval make 2 "7=$(pcr7)" | jq -r '"\(.version) \(.pcrs)" | gsub("\\s"; "")')" \
        '2[7]' "approval make --json"
ep_expect_exit 2 ep_ctl approval make 0 "7=$(pcr7)"
ep_expect_exit 2 ep_ctl approval make 65 "7=$(pcr7)"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "security version from 1 to 64" "approval make says the limit"
ep_expect_exit 2 ep_ctl approval make 2 "24=$(pcr7)"
ep_expect_exit 2 ep_ctl approval make 2 "7=abcd"
ep_expect_exit 2 ep_ctl approval make 2 "7=$(pcr7)" "7=$(pcr7)"
ep_expect_exit 1 ep_ctl approval install "$EP_TMP/a2.sig" "$EP_TMP/a2.sig"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "is not a PCR approval" "a signature given as the approval"
ep_assert_eq "$(nv_hex $NV_APPROVAL)" "$(therm 1)" "approval floor after the local refusals"
ep_assert_eq "$(ep_ctl approval install "$EP_TMP/a2" "$EP_TMP/a2.sig")" "Installed PCR approval version 2." \
        "approval 2 installed by endpointctl"
ep_assert_eq "$(nv_hex $NV_APPROVAL)" "$(therm 2)" "approval floor raised"
ep_assert_contains "$(unseal)" "0x73, 0x33, 0x63, 0x72, 0x33, 0x74" "the secret survived the signed update"
ctl_unsealed "endpointctl unseals after the signed update"
ep_assert_eq "$(printf 'rec' | ep_ctl encrypt dk | ep_ctl decrypt dk)" rec "the data key survived it too"

# 20 signed unseals in a row, most of them failing at a different command
# of the policy (PolicyPCR: an approval of release 1's PCR values;
# PolicyNV: an approval of today's values below the floor; PolicyAuthorize:
# a ticket that is not the TPM's), all in the session the daemon keeps:
# every failure flushes it, nothing stays loaded (swtpm has three object
# slots, two taken by the SRK and the device key, and three session
# slots), and a PCR-policy unseal works after them.
cp "$EP_STATE/approval" "$EP_TMP/a2.installed"
cp "$EP_STATE/approval.ticket" "$EP_TMP/a2.ticket"
approval_make 1 "$(pcr7)" "$EP_TMP/a1today"
# The ticket's HMAC with its last byte flipped.
last=$(tail -c 1 "$EP_TMP/a2.ticket" | od -An -tu1 | tr -d ' ')
{ head -c -1 "$EP_TMP/a2.ticket"; printf "\\$(printf '%03o' $((last ^ 1)))"; } >"$EP_TMP/a2.badticket"
cmp -s "$EP_TMP/a2.ticket" "$EP_TMP/a2.badticket" && ep_fail "the ticket was not changed"
use_approval() { cp "$1" "$EP_STATE/approval" && cp "$2" "$EP_STATE/approval.ticket"; }
why="No installed PCR approval opens 'secret'"
printf plain | ep_ctl seal plain >/dev/null || ep_fail "endpointctl seal plain failed"
for i in $(seq 20); do
        case $((i % 4)) in
        0) use_approval "$EP_TMP/a2.installed" "$EP_TMP/a2.ticket"
           [ "$(ep_ctl unseal secret)" = s3cr3t ] || ep_fail "signed unseal $i failed" ;;
        1) use_approval "$EP_TMP/a1" "$EP_TMP/a2.ticket"
           ep_expect_error org.endpointd.Error.PcrMismatch unseal ;;
        2) use_approval "$EP_TMP/a1today" "$EP_TMP/a2.ticket"
           ep_expect_error "NotApproved: $why (The approval's version is below the approval floor" unseal ;;
        3) use_approval "$EP_TMP/a2.installed" "$EP_TMP/a2.badticket"
           ep_expect_error "NotApproved: $why (The approval is not signed by the key" unseal ;;
        esac
done
ep_ok "20 signed unseals, 15 of them refused at PolicyPCR, PolicyNV or PolicyAuthorize"
ep_assert_eq "$(k_transient)" 2 "only the SRK and the device key stay loaded after them"
ep_assert_eq "$(k_tpm2 tpm2_getcap handles-loaded-session | grep -c '^-')" 1 \
        "one session loaded after them: the kept one"
ep_assert_eq "$(ep_ctl unseal plain)" plain "a PCR-policy unseal after them"
ep_assert_eq "$(k_transient)" 2 "and nothing left loaded after it"

# A state nobody approved.
k_tpm2 tpm2_pcrextend 7:sha256=$(printf 'rogue' | openssl dgst -sha256 -r | cut -c1-64)
ep_expect_error org.endpointd.Error.PcrMismatch unseal
ep_ok "an unapproved PCR state cannot unseal"

# The old approval after the new one: refused at install; and approval 2's
# state again with approval 1 restored by hand: refused by the TPM.
ep_expect_error org.endpointd.Error.Rollback install_approval "$EP_TMP/a1"
ep_ok "approval 1 after approval 2 is refused"
ep_expect_exit 1 ep_ctl approval install "$EP_TMP/a1" "$EP_TMP/a1.sig"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "refused" "endpointctl says why"

# An approval signed with a manifest-signer certificate.
approval_make 3 "$(pcr7)" "$EP_TMP/a3m" signer
ep_expect_error org.endpointd.Error.BadSignature install_approval "$EP_TMP/a3m"
ep_ok "an approval signed by the manifest signer is refused"
ep_assert_eq "$(nv_hex $NV_APPROVAL)" "$(therm 2)" "approval floor after refusals"

# Restore the state directory from before the update: the old manifest
# and the old approval are refused, the NV floors are the TPM's.
ep_stop
rm -rf "$EP_STATE"
cp -a "$EP_TMP/state.old" "$EP_STATE"
ep_start
it_expect_reject org.endpointd.Error.Rollback "not above the installed serial 6" "$M.5" "$M.5.sig"
ep_ok "restored state dir: the old manifest is refused"
# Back in release 1's PCR state with approval 1 in the restored state dir:
# PCRs match, PolicyNV fails against floor 2.
approval_make 1 "$(pcr7)" "$EP_TMP/a1now"
cp "$EP_TMP/a1now" "$EP_STATE/approval"
ep_expect_error org.endpointd.Error.NotApproved unseal
ep_ok "an approval below the floor is refused by the TPM (PolicyNV)"

# Root with the NV writer's secret (in the state directory) tries to lower
# the floor so that approval 1 opens the secret again: the index is a bit
# field, NV_Write is refused and NV_SetBits can only add bits.
W=$EP_TMP/root
mkdir -p "$W"
hexauth() { printf 'hex:%s' "$(xxd -p -c 64 "$1")"; }
# as_writer COMMAND ARGS...: COMMAND on the floor under PolicySecret(writer).
as_writer() {
        local rc
        k_tpm2 tpm2_startauthsession -S "$W/s.ctx" --policy-session >/dev/null &&
                k_tpm2 tpm2_policysecret -S "$W/s.ctx" -c 0x01800E40 \
                        "$(hexauth "${WRITER:-$EP_STATE/tpm-nv-writer}")" >/dev/null &&
                k_tpm2 "$@" -C $NV_APPROVAL -P "session:$W/s.ctx" $NV_APPROVAL
        rc=$?
        k_tpm2 tpm2_flushcontext "$W/s.ctx" >/dev/null 2>&1
        return $rc
}
# The writer's secret is right: raising with it works (T(1) is already in).
as_writer tpm2_nvsetbits -i 0x8000000000000000 >"$W/out" 2>&1 || ep_fail "NV_SetBits with the writer's secret: $(cat "$W/out")"
therm 1 | xxd -r -p >"$W/t1"
ep_expect_exit 1 as_writer tpm2_nvwrite -i "$W/t1"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "attributes" "the TPM refuses NV_Write on a bit field"
ep_assert_eq "$(nv_hex $NV_APPROVAL)" "$(therm 2)" "NV_Write of T(1) refused by the TPM"
printf '\0\0\0\0\0\0\0\0' >"$W/zero"
ep_expect_exit 1 as_writer tpm2_nvwrite -i "$W/zero"
ep_assert_eq "$(nv_hex $NV_APPROVAL)" "$(therm 2)" "NV_Write of 0 refused by the TPM"
as_writer tpm2_nvsetbits -i 0 >/dev/null 2>&1
ep_assert_eq "$(nv_hex $NV_APPROVAL)" "$(therm 2)" "NV_SetBits cannot clear bits"
ep_expect_error org.endpointd.Error.NotApproved unseal
ep_ok "root with the writer's secret cannot lower the approval floor; approval 1 still fails"

# Wipe the state directory: the floors hold.
ep_stop
rm -rf "$EP_STATE"
ep_start
it_expect_reject org.endpointd.Error.Rollback "not above the installed serial 6" "$M.5" "$M.5.sig"
ep_expect_error org.endpointd.Error.Rollback install_approval "$EP_TMP/a1"
ep_assert_eq "$(nv_hex $NV_APPROVAL)" "$(therm 2)" "approval floor after a wipe"
ep_ok "wiped state dir: the floors hold"

# Root sets a stray bit with the writer's secret (kept in the old copy):
# c000.. | 1000.. is no thermometer code; the daemon takes the deepest bit's
# level (4), logs it, and refuses approval 2.
WRITER=$EP_TMP/state.old/tpm-nv-writer as_writer tpm2_nvsetbits -i 0x1000000000000000 >"$W/out" 2>&1 ||
        ep_fail "NV_SetBits of a stray bit: $(cat "$W/out")"
ep_assert_eq "$(nv_hex $NV_APPROVAL)" d000000000000000 "a stray bit set"
ep_expect_error org.endpointd.Error.Rollback install_approval "$EP_TMP/a2"
ep_assert_contains "$(cat "$EP_TMP/daemon.log")" "not a thermometer code" "the daemon logs the stray bit"
ep_assert_contains "$(cat "$EP_TMP/daemon.log")" "Taken as level 4" "and reads it as level 4"
ep_done
