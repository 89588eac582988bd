#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Defects found by an independent tester (from the man pages alone): this
# test FAILS on the code it was written against. Each step asserts what
# endpointd-tpm(7) promises; the message of the first failing one names the
# defect. Run one step with FINDING=N (1-4); by default all run in order.
#   1. endpointd-tpm(7) tells the device maker to set an owner authValue
#      after the first start (tpm2_changeauth -c owner). Done, the daemon
#      finds no TPM at all at its next start (CreatePrimary of the SRK fails
#      with an authorization failure): TpmAvailable false, and an install
#      below the NV floor is accepted (the NV floor is not read).
#   2. "Root ... can read the writer's secret and raise the floors (a denial
#      of service)": with that secret (also in every backup copy of the
#      state directory) root lowers 0x01800E42 to 0; with an older copy of
#      the state directory restored, an older manifest installs (rollback),
#      and nothing in the journal says that the NV floor went down.
#   3. "cannot undefine them while the owner hierarchy has an authValue":
#      tpm2_nvundefine -C p (platform authorization, empty on a TPM whose
#      firmware does not take the platform hierarchy) undefines them with an
#      owner authValue set.
#   4. "an index at one of the handles that is not the daemon's makes it
#      refuse every manifest": indices defined before the first start with
#      the same attributes and policy but the attacker's writer secret (an
#      NV index's name does not depend on its authValue) are taken for the
#      daemon's own ("read-only for endpointd") and manifests install; the
#      attacker keeps a secret that writes the floors.
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
policy_write() {
        tpm2_startauthsession -S "$W/s.ctx" --policy-session >/dev/null &&
        tpm2_policysecret -S "$W/s.ctx" -c 0x01800E40 "file:$2" >/dev/null &&
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
        ep_start
        sleep 5
        ep_assert_eq "$(prop TpmAvailable)" true "TpmAvailable after an owner authValue was set"
        ep_expect_error org.endpointd.Error.Rollback install 150
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
        ep_start
        ep_expect_error org.endpointd.Error.Rollback install 150
fi

if step 3; then
        ep_attack "an owner authValue set; tpm2_nvundefine with platform authorization"
        fresh
        ep_start
        indep_expect_ok install 200
        ep_stop
        indep_expect_ok tpm2_changeauth -c owner ownerpw
        if tpm2_nvundefine 0x01800E42 -C p >"$W/tpm.out" 2>&1; then
                ep_fail "the manifest floor index was undefined without the owner's authorization (platform hierarchy)"
        fi
        ep_ok "the platform hierarchy cannot undefine the floor"
fi

if step 4; then
        ep_attack "lookalike indices with the attacker's writer secret defined before the first start"
        fresh
        head -c 32 /dev/urandom >"$W/mysecret"
        tpm2_nvdefine 0x01800E40 -C o -s 1 -a "authwrite|authread|no_da" -p "file:$W/mysecret" >/dev/null &&
        printf '\000' >"$W/one" && tpm2_nvwrite 0x01800E40 -C 0x01800E40 -P "file:$W/mysecret" -i "$W/one" ||
                ep_fail "could not define the lookalike writer"
        name=$(tpm2_nvreadpublic 0x01800E40 | sed -n 's/^ *name: //p')
        { head -c 32 /dev/zero; printf '\000\000\001\121'; printf '%s' "$name" | xxd -r -p; } |
                openssl dgst -sha256 -binary | openssl dgst -sha256 -binary >"$W/policy"
        for h in 0x01800E42 0x01800E43 0x01800E44; do
                tpm2_nvdefine $h -C o -s 8 -a "policywrite|authread|no_da" -L "$W/policy" >/dev/null &&
                policy_write $h "$W/mysecret" "$W/zero" >/dev/null 2>&1 || ep_fail "could not define lookalike $h"
        done
        ep_start
        if install 100 >"$W/install.out" 2>&1; then
                ep_fail "a manifest installed with floor indices that are not the daemon's (their writer secret is the attacker's)"
        fi
        ep_ok "manifest refused with foreign floor indices: $(cat "$W/install.out")"
fi
ep_done
