#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Attack run of issue 8, item 6 (written by the authors, test first):
# signer-certificate expiry wipes the integrity state. The stored manifest,
# grants and licences were verified again at every start against the
# current time, so once the release-signing certificate had expired the
# next start refused them all: IntegrityState unverified, ManifestSerial 0,
# licences gone, and an older manifest (serial 3 after 5) was then accepted,
# because the serial floor was the stored manifest's serial: rollback
# protection gone. Replacing the stored manifest by an older one, or
# damaging it, had the same effect.
#
# A stored artefact was judged valid when it was installed; at start only
# its signature and chain are checked again, not the validity period, and
# the highest serial ever installed is kept in a state file of its own that
# never goes down (endpointd-manifest(5)). The daemon's clock is moved two
# days on, past the signers' notAfter, with libfaketime.
. "$top_srcdir/tests/attack/lib.sh"
. "$top_srcdir/tests/integration/test-integrity-lib.sh"

ep_faketime

ep_setup
ep_pki_init
# This month's signers: certificates valid for one day.
ep_pki_signer short-signer ca "/CN=Demo Release Signing 2026-11" manifest -days 1
ep_pki_signer short-grant ca "/CN=Demo Service Grants 2026-11" grant -days 1
ep_pki_signer short-licence ca "/CN=Demo Licensing 2026-11" licence -days 1
ep_config Integrity Watch no
mkdir -p "$EP_ROOT/usr/bin"
echo "pump firmware" >"$EP_ROOT/usr/bin/pumpd"
# The daemon's clocks: real time plus the offset in this file, changed only
# while the daemon is stopped. CLOCK_MONOTONIC moves with the wall clock:
# libfaketime 0.9.10 with FAKETIME_DONT_FAKE_MONOTONIC=1 and a positive
# offset subtracts that offset from absolute monotonic timerfd times, and
# sd-event then fails with EINVAL.
ep_faketime_daemon "$EP_TMP/faketime" --fake-monotonic
ep_start
device=$(ep_ctl device-id)
[ -n "$device" ] || ep_fail "no device id"

FLOOR=$EP_STATE/manifest-serial-floor
iso() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }
bytes() { od -An -tu1 -v "$1" | tr -s ' \n' ',,' | sed 's/^,//; s/,$//'; }
install_token() { # METHOD FILE SIG: "success" or "ERROR.NAME: message"
        local out
        if out=$(dbus-send --system --print-reply --dest=org.endpointd.Endpoint1 /org/endpointd/Endpoint1 \
                "org.endpointd.Policy1.$1" "array:byte:$(bytes "$2")" "array:byte:$(bytes "$3")" 2>&1); then
                echo success
        else
                printf '%s\n' "${out#Error }"
        fi
}
mklicence() { # NAME SIGNER
        printf '[Licence]\nId=%s\nDevice=*\nFeatures=%s-feature\nNotBefore=%s\nNotAfter=%s\n' "$1" "$1" \
                "$(iso '-1 hour')" "$(iso '+30 days')" >"$EP_TMP/$1.licence"
        ep_sign "$EP_TMP/$1.licence" "$EP_TMP/$1.licence.sig" "$2"
}
mkgrant() { # NAME SIGNER
        printf '[Grant]\nId=%s\nDevice=%s\nSubject=user:daemon\nRoles=service\nNotBefore=%s\nNotAfter=%s\n' \
                "$1" "$device" "$(iso '-1 hour')" "$(iso '+30 days')" >"$EP_TMP/$1.grant"
        ep_sign "$EP_TMP/$1.grant" "$EP_TMP/$1.grant.sig" "$2"
}
manifest() { # SERIAL SIGNER: $EP_TMP/mSERIAL and its signature
        it_manifest "$1" "$EP_TMP/m$1"
        ep_sign "$EP_TMP/m$1" "$EP_TMP/m$1.sig" "$2"
}
stop_clean() { # stops the daemon, which must exit cleanly (sanitizers, valgrind)
        ep_stop
        ep_assert_eq "$EP_DAEMON_RC" 0 "daemon exit status"
}
settled_state() { # the IntegrityState once a scan that is running has finished
        local s
        for _ in $(seq 300); do
                s=$(it_prop IntegrityState)
                [ "$s" != scanning ] && break
                sleep 0.1
        done
        echo "$s"
}
expect_install() { # EXPECTED TEXT WHAT OUTPUT
        case $4 in
        "$1"*"$2"*) ep_ok "$3: ${4}" ;;
        *) ep_fail "$3: expected $1 ... '$2', got: $4" ;;
        esac
}

# Installed while this month's signers are valid: manifest serial 3 (kept
# for later), then 5, a licence and a grant.
manifest 3 signer
manifest 5 short-signer
it_install "$EP_TMP/m5" "$EP_TMP/m5.sig" || ep_fail "serial 5 did not install"
ep_assert_eq "$(settled_state)" trusted "state after installing serial 5"
mklicence monthly short-licence
ep_assert_eq "$(install_token InstallLicence "$EP_TMP/monthly.licence" "$EP_TMP/monthly.licence.sig")" success \
        "licence signed by this month's licence signer"
mkgrant visit short-grant
ep_assert_eq "$(install_token InstallGrant "$EP_TMP/visit.grant" "$EP_TMP/visit.grant.sig")" success \
        "grant signed by this month's grant signer"
ep_assert_eq "$(cat "$FLOOR" 2>/dev/null)" 5 "serial floor on disk"

ep_attack "the signers' certificates expire and the daemon restarts"
stop_clean
echo "+2d" >"$EP_TMP/faketime"
ep_start
ep_assert_eq "$(settled_state)" trusted "IntegrityState after the signer expired"
ep_assert_eq "$(it_prop ManifestSerial)" 5 "ManifestSerial after the signer expired"
ep_assert_contains "$(ep_ctl licence list)" monthly "licence still installed"
ep_expect_exit 0 ep_ctl licence check monthly-feature
ep_assert_contains "$(ep_ctl grant list)" visit "grant still installed"
# The control: the daemon's clock really is past the signers' notAfter.
mkgrant late short-grant
expect_install org.endpointd.Error.BadSignature "expired" "the expired grant signer, now" \
        "$(install_token InstallGrant "$EP_TMP/late.grant" "$EP_TMP/late.grant.sig")"

ep_attack "after the signer expired, an older manifest (serial 3 after 5) is offered"
expect_install org.endpointd.Error.Rollback "not above the installed serial 5" "serial 3" \
        "$(it_install_result "$EP_TMP/m3" "$EP_TMP/m3.sig")"
ep_assert_eq "$(it_prop ManifestSerial)" 5 "ManifestSerial after the rollback attempt"

ep_attack "a fresh install signed by the expired certificates"
manifest 7 short-signer
expect_install org.endpointd.Error.BadSignature \
        "signer certificate 'CN=Demo Release Signing 2026-11' expired at " "manifest serial 7" \
        "$(it_install_result "$EP_TMP/m7" "$EP_TMP/m7.sig")"
mklicence fresh short-licence
expect_install org.endpointd.Error.BadSignature "'CN=Demo Licensing 2026-11' expired at " "licence" \
        "$(install_token InstallLicence "$EP_TMP/fresh.licence" "$EP_TMP/fresh.licence.sig")"
# endpointctl's local checker says the same, on a machine whose clock is as late.
ep_expect_exit 1 env LD_PRELOAD="$FAKETIME_LIB" FAKETIME="+2d" \
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
        "$EP_BUILD/endpointctl" manifest check "$EP_TMP/m7" "$EP_TMP/m7.sig" --trust "$EP_TRUST"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "'CN=Demo Release Signing 2026-11' expired at " "manifest check"
ep_assert_eq "$(it_prop ManifestSerial)" 5 "ManifestSerial after the refusals"

ep_attack "the stored manifest is damaged, then older serials are offered"
cp "$EP_STATE/manifest.bundle" "$EP_TMP/bundle.5"
stop_clean
ep_flip_byte "$EP_STATE/manifest.bundle" 120
ep_start
ep_assert_eq "$(it_prop IntegrityState)" unverified "IntegrityState with a damaged manifest"
ep_assert_eq "$(it_prop ManifestSerial)" 0 "ManifestSerial with a damaged manifest"
expect_install org.endpointd.Error.Rollback "not above the installed serial 5" "serial 3" \
        "$(it_install_result "$EP_TMP/m3" "$EP_TMP/m3.sig")"
manifest 5 signer
expect_install org.endpointd.Error.Rollback "not above the installed serial 5" "serial 5 again" \
        "$(it_install_result "$EP_TMP/m5" "$EP_TMP/m5.sig")"
ep_assert_eq "$(cat "$FLOOR")" 5 "serial floor on disk"
# The control: a newer release by a valid signer installs and raises the floor.
manifest 6 signer
ep_assert_eq "$(it_install_result "$EP_TMP/m6" "$EP_TMP/m6.sig")" success "serial 6 by a valid signer"
ep_assert_eq "$(settled_state)" trusted "IntegrityState after serial 6"
ep_assert_eq "$(cat "$FLOOR")" 6 "serial floor on disk"

ep_attack "the stored manifest is swapped for an older, validly signed one (serial 5 after 6)"
stop_clean
cp "$EP_STATE/manifest.bundle" "$EP_TMP/bundle.6"
cp "$EP_TMP/bundle.5" "$EP_STATE/manifest.bundle"
ep_start
ep_assert_eq "$(it_prop ManifestSerial)" 0 "ManifestSerial with the older manifest stored"
ep_assert_eq "$(it_prop IntegrityState)" unverified "IntegrityState with the older manifest stored"
ep_assert_contains "$(cat "$EP_TMP/daemon.log")" "serial 5 is below the highest serial ever installed, 6" \
        "the daemon says why"
expect_install org.endpointd.Error.Rollback "not above the installed serial 6" "serial 5" \
        "$(it_install_result "$EP_TMP/m5" "$EP_TMP/m5.sig")"
ep_assert_eq "$(cat "$FLOOR")" 6 "serial floor on disk"

ep_attack "the serial floor's own record is damaged"
stop_clean
cp "$EP_TMP/bundle.6" "$EP_STATE/manifest.bundle"
printf 'garbage\n' >"$FLOOR"
ep_start
ep_assert_contains "$(cat "$EP_TMP/daemon.log")" "Cannot read the manifest serial floor" "the daemon says why"
ep_assert_eq "$(it_prop IntegrityState)" unverified "IntegrityState without a floor (fails closed)"
manifest 7 signer
expect_install org.endpointd.Error.Rollback "serial floor is damaged" "serial 7" \
        "$(it_install_result "$EP_TMP/m7" "$EP_TMP/m7.sig")"
ep_assert_eq "$(cat "$FLOOR")" garbage "the damaged record is left as it is"
# The documented recovery: remove it with the daemon stopped; the stored
# manifest's serial becomes the floor.
stop_clean
rm "$FLOOR"
ep_start
ep_assert_eq "$(settled_state)" trusted "IntegrityState after the recovery"
ep_assert_eq "$(cat "$FLOOR")" 6 "serial floor on disk after the recovery"
expect_install org.endpointd.Error.Rollback "not above the installed serial 6" "serial 5" \
        "$(it_install_result "$EP_TMP/m5" "$EP_TMP/m5.sig")"

stop_clean
ep_done
