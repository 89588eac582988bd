#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Defects found by an independent tester (from the man pages alone); this
# test failed on the code it was written against. Each step now asserts
# what endpointd-tpm(7) promises after the fixes. Run one step with
# FINDING=N (1-4); by default all run in order.
#   1. An owner authValue set after the first start, as endpointd-tpm(7)
#      advises: without it the daemon has no TPM, says why, and installs no
#      manifest (the NV floor it used is unknown, not 0); given it
#      (OwnerAuthFile=, or the credential tpm-owner-auth), the TPM and the
#      NV floor are back and an install below the floor is a rollback.
#   2. Root lowers 0x01800E42 with the writer's secret (also in every copy
#      of the state directory) and restores an older state directory: the
#      TPM cannot prevent the write, but the daemon notices the floor below
#      the mark it kept, logs it at LOG_CRIT and refuses every install.
#   3. The platform hierarchy (empty authorization on swtpm) undefines the
#      indices even with an owner authValue: a documented requirement on
#      the firmware; the daemon warns at start.
#   4. Lookalike indices (same attributes and policy, the attacker's writer
#      secret: an NV index's name does not depend on its authValue) defined
#      before the first start cannot be told from a wiped state directory:
#      the daemon logs at every start that someone else may hold the
#      writer's secret (documented in endpointd-tpm(7)).
. "$top_srcdir/tests/attack/lib.sh"
. "$top_srcdir/tests/attack/indep-lib.sh"

command -v tpm2_nvreadpublic >/dev/null || ep_skip "tpm2-tools is not installed"
FINDING=${FINDING:-all}
ep_setup
ep_pki_init
ep_config Integrity ScanInterval infinity
echo "pump 4.2" >"$EP_ROOT/pumpd"
export TPM2TOOLS_TCTI=$EP_TCTI_tpm
W=$EP_TMP/work
mkdir -p "$W"
I=org.endpointd.Integrity1
indep_write_helper
install() { call $I InstallManifest hh "(fd(os.open('$W/m$1', os.O_RDONLY)), fd(os.open('$W/m$1.sig', os.O_RDONLY)))"; }
for s in 100 150 200; do
        "$EP_BUILD/endpointctl" manifest create "$EP_ROOT" --serial $s --output "$W/m$s" >/dev/null || ep_fail "manifest create"
        ep_sign "$W/m$s" "$W/m$s.sig"
done
nv() {
        local hex
        hex=$(tpm2_nvread "$1" -C "$1" -s 8 2>/dev/null | od -An -tx1 | tr -d ' \n')
        [ ${#hex} = 16 ] && printf '%u\n' "0x$hex"
}
prop() { ep_busctl get-property org.endpointd.Endpoint1 /org/endpointd/Endpoint1 org.endpointd.Endpoint1 "$1" | cut -d' ' -f2; }
# policy_write HANDLE SECRET-FILE VALUE-FILE: NV_Write under PolicySecret(writer).
# The secret goes as hex: tpm2-tools reads a file: value only up to its first
# NUL byte, and one random 32-byte secret in eight holds one.
hexauth() { printf 'hex:%s' "$(xxd -p -c 64 "$1")"; }
policy_write() {
        tpm2_startauthsession -S "$W/s.ctx" --policy-session >/dev/null &&
        tpm2_policysecret -S "$W/s.ctx" -c 0x01800E40 "$(hexauth "$2")" >/dev/null &&
        tpm2_nvwrite "$1" -C "$1" -P "session:$W/s.ctx" -i "$3"
        local rc=$?
        tpm2_flushcontext "$W/s.ctx" >/dev/null 2>&1
        return $rc
}
printf '\000\000\000\000\000\000\000\000' >"$W/zero"
# fresh: a new TPM state (indices undefined, owner auth empty), no state dir.
fresh() {
        ep_stop
        tpm2_changeauth -c owner -p ownerpw >/dev/null 2>&1
        for h in 0x01800E40 0x01800E41 0x01800E42 0x01800E43 0x01800E44; do
                tpm2_nvundefine $h -C o >/dev/null 2>&1
        done
        rm -rf "$EP_STATE"
}
step() { [ "$FINDING" = all ] || [ "$FINDING" = "$1" ]; }

if step 1; then
        ep_attack "owner authValue set as endpointd-tpm(7) advises, daemon restarted"
        fresh
        ep_start
        indep_expect_ok install 200
        ep_assert_eq "$(nv 0x01800E42)" 200 "NV floor after serial 200"
        indep_expect_ok tpm2_changeauth -c owner ownerpw
        ep_stop
        rm -f "$EP_STATE/manifest-serial-floor" "$EP_STATE/manifest.bundle"
        : >"$EP_TMP/daemon.log"
        ep_start
        ep_assert_eq "$(prop TpmAvailable)" false "TpmAvailable without the owner's authorization"
        grep -q "owner hierarchy refuses the daemon's authorization" "$EP_TMP/daemon.log" ||
                ep_fail "the refused owner authorization is not in the journal"
        ep_ok "the journal says that the owner authorization is missing"
        ep_expect_error org.endpointd.Error.TpmUnavailable install 150
        ep_expect_error org.endpointd.Error.TpmUnavailable install 100
        ep_stop
        printf ownerpw >"$W/ownerauth"
        ep_config TPM OwnerAuthFile "$W/ownerauth"
        ep_start
        ep_assert_eq "$(prop TpmAvailable)" true "TpmAvailable with OwnerAuthFile="
        ep_expect_error org.endpointd.Error.Rollback install 150
        ep_stop
        ep_config_unset TPM OwnerAuthFile
        mkdir -p "$W/creds"
        printf ownerpw >"$W/creds/tpm-owner-auth"
        CREDENTIALS_DIRECTORY="$W/creds" ep_start
        ep_assert_eq "$(prop TpmAvailable)" true "TpmAvailable with the credential tpm-owner-auth"
        ep_expect_error org.endpointd.Error.Rollback install 150
        ep_stop
fi

if step 2; then
        ep_attack "root lowers the NV manifest floor with the writer's secret, then restores an older state directory"
        fresh
        ep_start
        indep_expect_ok install 100
        ep_stop
        cp -a "$EP_STATE" "$W/backup"
        ep_start
        indep_expect_ok install 200
        policy_write 0x01800E42 "$EP_STATE/tpm-nv-writer" "$W/zero" >"$W/tpm.out" 2>&1 ||
                ep_fail "NV write with the writer's secret failed: $(cat "$W/tpm.out")"
        ep_log "root wrote 0 into the manifest floor with the secret from the state directory"
        ep_stop
        rm -rf "$EP_STATE"
        cp -a "$W/backup" "$EP_STATE"
        : >"$EP_TMP/daemon.log"
        ep_start
        ep_expect_error org.endpointd.Error.Rollback install 150
        ep_expect_error org.endpointd.Error.Rollback install 200
        grep -q "The manifest floor in TPM NV index 0x01800e42 went down: it holds 0, endpointd saw 100" \
                "$EP_TMP/daemon.log" || ep_fail "the lowered NV floor is not in the journal"
        ep_ok "the journal says that the NV floor went down"
        ep_stop
fi

if step 3; then
        ep_attack "an owner authValue set; tpm2_nvundefine with platform authorization"
        fresh
        : >"$EP_TMP/daemon.log"
        ep_start
        indep_expect_ok install 200
        ep_stop
        grep -q "platform hierarchy is enabled with an empty authorization" "$EP_TMP/daemon.log" ||
                ep_fail "the daemon did not warn about the open platform hierarchy"
        ep_ok "the daemon warns that the platform hierarchy is open"
        grep -q "owner hierarchy has no authValue" "$EP_TMP/daemon.log" ||
                ep_fail "the daemon did not note the empty owner authValue"
        indep_expect_ok tpm2_changeauth -c owner ownerpw
        : >"$EP_TMP/daemon.log"
        printf ownerpw >"$W/ownerauth"
        ep_config TPM OwnerAuthFile "$W/ownerauth"
        ep_start
        ep_stop
        ep_config_unset TPM OwnerAuthFile
        ! grep -q "owner hierarchy has no authValue" "$EP_TMP/daemon.log" ||
                ep_fail "the daemon says the owner authValue is empty after it was set"
        # The documented limit: the platform hierarchy is the firmware's.
        indep_expect_ok tpm2_nvundefine 0x01800E42 -C p
        ep_ok "the platform hierarchy (left open by swtpm) can undefine the floor, as endpointd-tpm(7) says"
fi

if step 4; then
        ep_attack "lookalike indices with the attacker's writer secret defined before the first start"
        fresh
        head -c 32 /dev/urandom >"$W/mysecret"
        tpm2_nvdefine 0x01800E40 -C o -s 1 -a "authwrite|authread|no_da" -p "$(hexauth "$W/mysecret")" >/dev/null &&
        printf '\000' >"$W/one" && tpm2_nvwrite 0x01800E40 -C 0x01800E40 -P "$(hexauth "$W/mysecret")" -i "$W/one" ||
                ep_fail "could not define the lookalike writer"
        name=$(tpm2_nvreadpublic 0x01800E40 | sed -n 's/^ *name: //p')
        { head -c 32 /dev/zero; printf '\000\000\001\121'; printf '%s' "$name" | xxd -r -p; } |
                openssl dgst -sha256 -binary | openssl dgst -sha256 -binary >"$W/policy"
        for h in 0x01800E42 0x01800E43 0x01800E44; do
                tpm2_nvdefine $h -C o -s 8 -a "policywrite|authread|no_da" -L "$W/policy" >/dev/null &&
                policy_write $h "$W/mysecret" "$W/zero" >/dev/null 2>&1 || ep_fail "could not define lookalike $h"
        done
        : >"$EP_TMP/daemon.log"
        ep_start
        indep_expect_ok install 100
        grep -q "that this state directory never used: planted before the first start" "$EP_TMP/daemon.log" ||
                ep_fail "lookalike indices at the first start are not in the journal"
        ep_ok "the journal says that someone else may hold the floors' writer secret"
        ep_restart
        [ "$(grep -c "this state directory never used" "$EP_TMP/daemon.log")" -ge 2 ] ||
                ep_fail "the lookalike indices are not logged again at the next start"
        ep_ok "and again at the next start"
        ep_stop
        fresh
fi
ep_done
