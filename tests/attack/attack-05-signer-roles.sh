#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Attack run of issue 8, item 5 (written by the authors, test first): any
# certificate under the trust anchor may sign anything. The verifier took
# every certificate that chains to TrustDirectory= as a signer of every
# kind of artefact: certificates without an extended key usage, with only
# serverAuth or emailProtection, with keyUsage keyAgreement or cRLSign
# only, without any extension, the CA's own key, RSA-512 and RSA-1024 keys
# and certificates signed with SHA-1 all signed manifests, grants and
# licences that were accepted, and so did a code-signing certificate for
# grants and a grant certificate for manifests.
#
# Each kind of artefact has its own signer role now (keyUsage
# digitalSignature plus codeSigning, endpointd-grant or endpointd-licence),
# nothing in the chain is below 112-bit security, the CMS digest is SHA-256
# or stronger, and every refusal names what the certificate lacks, on the
# bus and in endpointctl, whose local checkers use the same verifier.
. "$top_srcdir/tests/attack/lib.sh"
. "$top_srcdir/tests/integration/test-integrity-lib.sh"

ep_setup
ep_pki_init
ep_config Integrity Watch no
mkdir -p "$EP_ROOT/usr/bin"
echo "pump firmware" >"$EP_ROOT/usr/bin/pumpd"
ep_start
device=$(ep_ctl device-id)
[ -n "$device" ] || ep_fail "no device id"

P=$EP_PKI
ALL_EKUS="codeSigning,$EP_EKU_GRANT,$EP_EKU_LICENCE"
iso() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }
bytes() { od -An -tu1 -v "$1" | tr -s ' \n' ',,' | sed 's/^,//; s/,$//'; }

# sign_as SIGNER FILE [DIGEST [CHAIN]]: FILE.sig by SIGNER's key, with the
# intermediate certificate CHAIN included when given.
sign_as() {
        local -a chain=()
        [ -n "${4:-}" ] && chain=(-certfile "$P/$4.pem")
        openssl cms -sign -binary -outform DER -md "${3:-sha256}" -nosmimecap -in "$2" -out "$2.sig" \
                -signer "$P/$1.pem" -inkey "$P/$1.key" "${chain[@]}" 2>"$EP_TMP/cms.err" ||
                ep_fail "openssl cms -sign as $1 failed: $(cat "$EP_TMP/cms.err")"
}

# mk_artefact KIND SIGNER [DIGEST [CHAIN]]: writes a new, valid artefact of
# KIND (manifest, grant, licence) signed by SIGNER; its path is in $F (not
# printed: the counter must not be bumped in a subshell).
# Manifests get ever higher serials, tokens fresh ids, so only the
# signature can be the reason for a refusal.
N=10
mk_artefact() {
        local kind=$1 f
        N=$((N + 1))
        f=$EP_TMP/a$N.$kind
        case $kind in
        manifest) it_manifest "$N" "$f" ;;
        grant) printf '[Grant]\nId=g%s\nDevice=%s\nSubject=user:daemon\nRoles=service\nNotBefore=%s\nNotAfter=%s\n' \
                "$N" "$device" "$(iso '-1 hour')" "$(iso '+1 day')" >"$f" ;;
        licence) printf '[Licence]\nId=l%s\nDevice=*\nFeatures=f%s\nNotBefore=%s\nNotAfter=%s\n' \
                "$N" "$N" "$(iso '-1 hour')" "$(iso '+1 day')" >"$f" ;;
        esac
        sign_as "$2" "$f" "${3:-}" "${4:-}"
        F=$f
}

# install KIND FILE: prints "success" or "ERROR.NAME: message".
install() {
        local out
        case $1 in
        manifest) it_install_result "$2" "$2.sig"; return ;;
        grant) set -- InstallGrant "$2" ;;
        licence) set -- InstallLicence "$2" ;;
        esac
        if out=$(dbus-send --system --print-reply --dest=org.endpointd.Endpoint1 /org/endpointd/Endpoint1 \
                "org.endpointd.Policy1.$1" "array:byte:$(bytes "$2")" "array:byte:$(bytes "$2.sig")" 2>&1); then
                echo success
        else
                printf '%s\n' "${out#Error }"
        fi
}

# refused KIND SIGNER TEXT [DIGEST [CHAIN]]: an artefact of KIND signed by
# SIGNER is refused with BadSignature and a message containing TEXT.
refused() {
        local out
        mk_artefact "$1" "$2" "${4:-}" "${5:-}"
        out=$(install "$1" "$F")
        case $out in
        "org.endpointd.Error.BadSignature: "*"$3"*) ep_ok "$1 signed by $2 refused: ${out#*: }" ;;
        *) ep_fail "$1 signed by $2: expected BadSignature naming '$3', got: $out" ;;
        esac
}

# accepted KIND SIGNER [DIGEST [CHAIN]]: the positive control.
accepted() {
        local out
        mk_artefact "$1" "$2" "${3:-}" "${4:-}"
        out=$(install "$1" "$F")
        [ "$out" = success ] || ep_fail "$1 signed by $2 was refused: $out"
        ep_ok "$1 signed by $2 installed"
}

lacks_eku() { # SIGNER: refused for each kind, each time naming that kind's EKU
        refused manifest "$1" "lacks extended key usage codeSigning (1.3.6.1.5.5.7.3.3)"
        refused grant "$1" "lacks extended key usage endpointd-grant ($EP_EKU_GRANT)"
        refused licence "$1" "lacks extended key usage endpointd-licence ($EP_EKU_LICENCE)"
}

refused_all() { # SIGNER TEXT [DIGEST [CHAIN]]
        for kind in manifest grant licence; do
                refused "$kind" "$@"
        done
}

KU=keyUsage=critical,digitalSignature

# --- positive controls: each role signs its own kind ---------------------------
ep_attack "control: each signer role signs its own kind of artefact"
accepted manifest signer
accepted grant signer-grant
accepted licence signer-licence
accepted manifest signer sha384
ep_pki_cert rsa2048 ca "/CN=RSA-2048 Signer" "$KU"$'\n'"extendedKeyUsage=$ALL_EKUS" "rsa:2048"
ep_pki_cert p384 ca "/CN=P-384 Signer" "$KU"$'\n'"extendedKeyUsage=$ALL_EKUS" \
        "ec -pkeyopt ec_paramgen_curve:P-384" -sha384
for kind in manifest grant licence; do
        accepted "$kind" rsa2048
        accepted "$kind" p384 sha512
done
# An intermediate CA of the manufacturer's, sent along in the signature.
ep_pki_cert inter ca "/CN=Demo Manufacturer Issuing CA" \
        $'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign'
ep_pki_cert inter-signer inter "/CN=Signer under the issuing CA" "$KU"$'\n'"extendedKeyUsage=$ALL_EKUS"
for kind in manifest grant licence; do
        accepted "$kind" inter-signer "" inter
done

# --- certificates issued for something else -------------------------------------
ep_attack "a certificate without extended key usage signs manifests, grants and licences"
ep_pki_cert no-eku ca "/CN=No EKU" "$KU"
lacks_eku no-eku

ep_attack "a TLS server certificate (EKU serverAuth only) signs manifests, grants and licences"
ep_pki_cert server ca "/CN=device.example.com" "$KU"$'\nextendedKeyUsage=serverAuth'
lacks_eku server

ep_attack "an S/MIME certificate (EKU emailProtection only) signs manifests, grants and licences"
ep_pki_cert email ca "/CN=Service Desk Mail" "$KU"$'\nextendedKeyUsage=emailProtection'
lacks_eku email

ep_attack "a certificate with EKU anyExtendedKeyUsage signs manifests, grants and licences"
ep_pki_cert any-eku ca "/CN=Any EKU" "$KU"$'\nextendedKeyUsage=anyExtendedKeyUsage'
lacks_eku any-eku

ep_attack "a key-agreement certificate (keyUsage keyAgreement only, every role's EKU) signs"
ep_pki_cert keyagree ca "/CN=Key Agreement" $'keyUsage=critical,keyAgreement\n'"extendedKeyUsage=$ALL_EKUS"
refused_all keyagree "lacks key usage digitalSignature"

ep_attack "a CRL-signing certificate (keyUsage cRLSign only, every role's EKU) signs"
ep_pki_cert crlsign ca "/CN=CRL Signer" $'keyUsage=critical,cRLSign\n'"extendedKeyUsage=$ALL_EKUS"
refused_all crlsign "lacks key usage digitalSignature"

ep_attack "a certificate without any extension signs manifests, grants and licences"
ep_pki_cert no-ext ca "/CN=No Extensions" ""
refused_all no-ext "lacks key usage digitalSignature"

ep_attack "the trust anchor's own key (the root CA) signs manifests, grants and licences"
refused_all ca "'CN=Demo Manufacturer Root CA' is a CA certificate"

# --- weak keys and weak hashes --------------------------------------------------
ep_attack "an RSA-512 signer certificate (every role's EKU) signs"
ep_pki_cert rsa512 ca "/CN=RSA-512 Signer" "$KU"$'\n'"extendedKeyUsage=$ALL_EKUS" "rsa:512"
refused_all rsa512 "has a 512-bit RSA key"

ep_attack "an RSA-1024 signer certificate (every role's EKU) signs"
ep_pki_cert rsa1024 ca "/CN=RSA-1024 Signer" "$KU"$'\n'"extendedKeyUsage=$ALL_EKUS" "rsa:1024"
refused_all rsa1024 "has a 1024-bit RSA key"

ep_attack "an EC P-224 signer certificate (every role's EKU) signs"
ep_pki_cert p224 ca "/CN=P-224 Signer" "$KU"$'\n'"extendedKeyUsage=$ALL_EKUS" \
        "ec -pkeyopt ec_paramgen_curve:P-224"
refused_all p224 "has an EC key on curve secp224r1"

ep_attack "a signer certificate signed by the CA with SHA-1 signs"
ep_pki_cert sha1cert ca "/CN=SHA-1 Certified Signer" "$KU"$'\n'"extendedKeyUsage=$ALL_EKUS" "" -sha1
refused_all sha1cert "'CN=SHA-1 Certified Signer' is signed with SHA1"

ep_attack "an RSA-1024 intermediate CA in the chain issues a good signer"
ep_pki_cert weak-inter ca "/CN=Weak Issuing CA" $'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign' \
        "rsa:1024"
ep_pki_cert weak-inter-signer weak-inter "/CN=Signer under the weak CA" "$KU"$'\n'"extendedKeyUsage=$ALL_EKUS"
refused_all weak-inter-signer "certificate 'CN=Weak Issuing CA' in the signer's chain has a 1024-bit RSA key" "" \
        weak-inter

ep_attack "the right signer signs with a SHA-1 CMS digest"
refused manifest signer "digest SHA1" sha1
refused grant signer-grant "digest SHA1" sha1
refused licence signer-licence "digest SHA1" sha1

# --- the right certificate for the wrong artefact -------------------------------
ep_attack "the release-signing (codeSigning) certificate signs a grant and a licence"
refused grant signer "'CN=Demo Manufacturer Release Signing' lacks extended key usage endpointd-grant ($EP_EKU_GRANT)"
refused licence signer "lacks extended key usage endpointd-licence ($EP_EKU_LICENCE)"

ep_attack "the grant-signing certificate signs a manifest and a licence"
refused manifest signer-grant "'CN=Demo Manufacturer Service Grants' lacks extended key usage codeSigning"
refused licence signer-grant "lacks extended key usage endpointd-licence"

ep_attack "the licence-signing certificate signs a manifest and a grant"
refused manifest signer-licence "'CN=Demo Manufacturer Licensing' lacks extended key usage codeSigning"
refused grant signer-licence "lacks extended key usage endpointd-grant"

ep_attack "the refusal reaches the user through endpointctl, which names what is lacking"
mk_artefact grant signer
ep_expect_exit 1 ep_ctl grant install "$F" "$F.sig"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "lacks extended key usage endpointd-grant ($EP_EKU_GRANT)" \
        "endpointctl grant install"
mk_artefact manifest signer-licence
ep_expect_exit 1 ep_ctl manifest install "$F" "$F.sig"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "lacks extended key usage codeSigning" "endpointctl manifest install"

ep_attack "endpointctl's local checkers accept what the daemon refuses"
mk_artefact manifest signer-grant
ep_expect_exit 1 ep_ctl manifest check "$F" "$F.sig" --trust "$EP_TRUST"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "lacks extended key usage codeSigning" "manifest check"
mk_artefact manifest rsa1024
ep_expect_exit 1 ep_ctl manifest check "$F" "$F.sig" --trust "$EP_TRUST"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "1024-bit RSA key" "manifest check"
mk_artefact grant signer-licence
ep_expect_exit 1 ep_ctl grant check "$F" "$F.sig" --trust "$EP_TRUST"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "lacks extended key usage endpointd-grant" "grant check"
mk_artefact grant ca
ep_expect_exit 1 ep_ctl grant check "$F" "$F.sig" --trust "$EP_TRUST"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "is a CA certificate" "grant check"
mk_artefact licence signer-grant
ep_expect_exit 1 ep_ctl licence verify "$F" "$F.sig" --trust "$EP_TRUST"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "lacks extended key usage endpointd-licence" "licence verify"
mk_artefact licence sha1cert
ep_expect_exit 1 ep_ctl licence verify "$F" "$F.sig" --trust "$EP_TRUST"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "signed with SHA1" "licence verify"
# ... and what it accepts, each with the right role.
mk_artefact manifest signer
ep_expect_exit 0 ep_ctl manifest check "$F" "$F.sig" --trust "$EP_TRUST"
mk_artefact grant signer-grant
ep_expect_exit 0 ep_ctl grant check "$F" "$F.sig" --trust "$EP_TRUST"
mk_artefact licence signer-licence
ep_expect_exit 0 ep_ctl licence verify "$F" "$F.sig" --trust "$EP_TRUST"

# Nothing refused was installed on the way: only the controls are.
ep_assert_eq "$(ep_ctl --json licence list | jq length)" 4 "licences installed (the controls only)"
ep_assert_eq "$(ep_ctl --json grant list | jq length)" 4 "grants installed (the controls only)"

ep_stop
ep_assert_eq "$EP_DAEMON_RC" 0 "daemon exit status"
ep_done
