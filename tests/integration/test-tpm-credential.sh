#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The credential protocol of enrolment (endpointd(8), step 3), verifier side
# with tpm2-tools only: the verifier takes the EK (checked against what
# tpm2_createek derives on the same TPM, standing in for the EK
# certificate) and the attestation key's TPM2B_PUBLIC (attributes checked,
# key compared with the ak.pem of `endpointctl attest`), computes the AK's
# Name itself, and runs `tpm2_makecredential -T none`; the device returns
# the same secret. A credential for another Name, for another TPM's EK,
# altered or garbled fails with the documented error; ten calls in a row,
# failing ones included, leave no object or session loaded; the device key
# is still there afterwards; each call is an audit record; a persistent EK
# at 0x81010002 is used when it has the template and left alone when not;
# a set endorsement authorization is one clear error.
. "$top_srcdir/tests/integration/lib.sh"
for tool in tpm2_makecredential tpm2_createek tpm2_createak tpm2_print tpm2_getcap tpm2_changeauth; do
        command -v $tool >/dev/null || ep_skip "$tool (tpm2-tools) is not installed"
done
. "$top_srcdir/tests/integration/test-keys-lib.sh"

ep_setup
ep_start
V=$EP_TMP/verifier
mkdir -p "$V"
k_sessions() { k_tpm2 tpm2_getcap handles-loaded-session | grep -c '^-' || true; }
# k_tools CMD...: a tpm2-tools command on the daemon's TPM, which has no
# resource manager: the transient objects it leaves are flushed, those of
# the daemon (SRK, device key) left alone.
k_tools() {
        local before h rc=0
        before=" $(k_tpm2 tpm2_getcap handles-transient | sed -n 's/^- //p' | tr '\n' ' ') "
        k_tpm2 "$@" || rc=$?
        for h in $(k_tpm2 tpm2_getcap handles-transient | sed -n 's/^- //p'); do
                case $before in *" $h "*) ;; *) k_tpm2 tpm2_flushcontext "$h" ;; esac
        done
        return $rc
}
a_last() { "$EP_BUILD/audit-dump" "$EP_STATE/audit" | awk -v k="$1" '$2 == k' | tail -n 1; }
a_count() { "$EP_BUILD/audit-dump" "$EP_STATE/audit" | awk -v k="$1" '$2 == k' | wc -l; }
# k_activate FILE: ActivateCredential through gdbus (which prints the error name).
k_activate() { k_call ActivateCredential "$(k_ay_file "$1")"; }
# makecred EK.PEM NAME OUT: the verifier's one command, secret from $V/secret.
makecred() {
        tpm2_makecredential -T none -u "$1" -G ecc -s "$V/secret" -n "$2" -o "$3" >/dev/null 2>"$V/makecred.err" ||
                ep_fail "tpm2_makecredential: $(cat "$V/makecred.err")"
}

# ---- what the device gives the verifier ----------------------------------------
ep_ctl device-ek >"$V/ek.pem" || ep_fail "device-ek"
ep_assert_eq "$(ep_ctl device-ek --output="$V/ek2.pem")" "Wrote the endorsement public key to $V/ek2.pem." \
        "device-ek --output"
cmp -s "$V/ek.pem" "$V/ek2.pem" || ep_fail "device-ek --output wrote another key"
ep_ctl device-ak --output="$V/ak.pub" >"$V/ak.out" || ep_fail "device-ak --output"
ep_ctl attest --nonce=00112233 --output="$V/quote" >/dev/null || ep_fail "attest"
ep_ctl device-ak >"$V/ak-ctl.pem" || ep_fail "device-ak"
cmp -s "$V/ak-ctl.pem" "$V/quote/ak.pem" || ep_fail "device-ak prints another key than attest's ak.pem"
ep_ok "device-ak prints the key of attest's ak.pem"

# ---- the verifier ---------------------------------------------------------------
# The EK is this TPM's: tpm2_createek derives the same key from the TCG template L-2.
k_tools tpm2_createek -G ecc -c "$V/ek.ctx" -u "$V/ek-tools.pem" -f pem || ep_fail "tpm2_createek"
ep_assert_eq "$(openssl pkey -pubin -in "$V/ek.pem" -outform DER | sha256sum)" \
        "$(openssl pkey -pubin -in "$V/ek-tools.pem" -outform DER | sha256sum)" \
        "the EK is what tpm2_createek -G ecc derives"
# The AK's attributes and key.
tpm2_print -t TPM2B_PUBLIC "$V/ak.pub" >"$V/ak.txt" || ep_fail "tpm2_print cannot read the TPM2B_PUBLIC"
attrs=$(awk '/^attributes:/ { getline; print $2 }' "$V/ak.txt")
for a in fixedtpm fixedparent sensitivedataorigin restricted sign; do
        case "|$attrs|" in *"|$a|"*) ;; *) ep_fail "the AK lacks $a: $attrs" ;; esac
done
case "|$attrs|" in *"|decrypt|"*) ep_fail "the AK may decrypt: $attrs" ;; esac
ep_ok "the AK is fixedTPM, fixedParent, restricted, sign: $attrs"
ep_assert_eq "$(tpm2_print -t TPM2B_PUBLIC -f pem "$V/ak.pub" | openssl pkey -pubin -outform DER | sha256sum)" \
        "$(openssl pkey -pubin -in "$V/quote/ak.pem" -outform DER | sha256sum)" \
        "the TPM2B_PUBLIC holds the key of ak.pem"
# The Name: nameAlg (sha256, 0x000b) || SHA-256 of the TPMT_PUBLIC.
name=000b$(tail -c +3 "$V/ak.pub" | openssl dgst -sha256 -binary | od -An -v -tx1 | tr -d ' \n')
ep_assert_eq "$(sed -n 's/^Name: //p' "$V/ak.out")" "$name" "device-ak --output prints the Name the verifier computes"
head -c 32 /dev/urandom >"$V/secret"
makecred "$V/ek.pem" "$name" "$V/cred"

# ---- the device -----------------------------------------------------------------
ep_ctl activate-credential "$V/cred" --output="$EP_TMP/got" || ep_fail "activate-credential"
cmp -s "$V/secret" "$EP_TMP/got" || ep_fail "the recovered secret differs"
ep_ok "activate-credential recovers the verifier's secret"
ep_assert_eq "$(stat -c %a "$EP_TMP/got")" 600 "the secret file is 0600"
ep_ctl activate-credential "$V/cred" | cmp -s - "$V/secret" || ep_fail "activate-credential to stdout"
ep_ok "activate-credential to standard output"
ep_assert_eq "$(ep_ctl --json activate-credential "$V/cred" | jq -r .secret | base64 -d | sha256sum)" \
        "$(sha256sum <"$V/secret")" "activate-credential --json"
rec=$(a_last credential-activated)
ep_assert_contains "$rec" "ENDPOINTD_RESULT=ok" "credential-activated recorded"
ep_assert_contains "$rec" "ENDPOINTD_CREDENTIAL=$(sha256sum <"$V/cred" | cut -d' ' -f1)" \
        "credential-activated names the credential's SHA-256"

# ---- refusals -------------------------------------------------------------------
# Another Name: a key tpm2_createak made under the same EK on the same TPM
# (four objects with EK and SRK: made while the daemon is stopped).
ep_stop
k_tpm2 tpm2_createek -G ecc -c "$V/ek.ctx" >/dev/null || ep_fail "tpm2_createek"
k_tpm2 tpm2_createak -C "$V/ek.ctx" -c "$V/ak2.ctx" -G ecc -g sha256 -s ecdsa -n "$V/ak2.name" >/dev/null ||
        ep_fail "tpm2_createak"
k_tpm2 tpm2_flushcontext -t
ep_start
# And the Name of the AK's public area with one bit of its key changed.
cp "$V/ak.pub" "$V/ak-bit.pub"
ep_flip_byte "$V/ak-bit.pub" $(($(stat -c %s "$V/ak.pub") - 1))
makecred "$V/ek.pem" "000b$(tail -c +3 "$V/ak-bit.pub" | openssl dgst -sha256 -binary | od -An -v -tx1 | tr -d ' \n')" \
        "$V/cred-other-bit"
makecred "$V/ek.pem" "$(od -An -v -tx1 "$V/ak2.name" | tr -d ' \n')" "$V/cred-other-name"
# Another TPM's EK (a second swtpm), with the right Name.
ep_start_swtpm other
TPM2TOOLS_TCTI=$EP_TCTI_other tpm2_createek -G ecc -c "$V/other.ctx" -u "$V/ek-other.pem" -f pem ||
        ep_fail "tpm2_createek on the second TPM"
makecred "$V/ek-other.pem" "$name" "$V/cred-other-tpm"
# Altered on its way: a byte of the encrypted credential, of the point.
cp "$V/cred" "$V/cred-altered"
ep_flip_byte "$V/cred-altered" 50
cp "$V/cred" "$V/cred-point"
ep_flip_byte "$V/cred-point" 100
# Garbled: magic, version, truncated, trailing byte, empty, random.
cp "$V/cred" "$V/bad-magic"
ep_flip_byte "$V/bad-magic" 0
cp "$V/cred" "$V/bad-version"
ep_flip_byte "$V/bad-version" 7
head -c 100 "$V/cred" >"$V/bad-short"
{ cat "$V/cred"; printf 'x'; } >"$V/bad-long"
: >"$V/bad-empty"
head -c 148 /dev/urandom >"$V/bad-random"

for f in cred-other-name cred-other-bit cred-other-tpm cred-altered; do
        k_refused org.endpointd.Error.WrongDevice k_activate "$V/$f"
done
# A point off the curve is refused by the TPM as not for this EK either.
ep_expect_error org.endpointd.Error.WrongDevice k_activate "$V/cred-point"
for f in bad-magic bad-version bad-short bad-long bad-empty bad-random; do
        k_refused org.endpointd.Error.Malformed k_activate "$V/$f"
done
ep_expect_error "Not a credential file of tpm2_makecredential: unknown credential file version" \
        ep_ctl activate-credential "$V/bad-version"
ep_expect_error "was not made for this TPM's endorsement key" ep_ctl activate-credential "$V/cred-other-tpm"
ep_expect_exit 1 ep_ctl activate-credential "$V/cred-other-name"
[ ! -e "$EP_TMP/nothing" ] || ep_fail "unexpected file"
ep_expect_exit 1 ep_ctl activate-credential "$V/cred-other-tpm" --output="$EP_TMP/nothing"
[ ! -e "$EP_TMP/nothing" ] || ep_fail "a refused activation wrote its --output file"
ep_ok "a refused activation writes no --output file"
rec=$(a_last credential-activated)
case $rec in *"ENDPOINTD_RESULT=ok"*) ep_fail "a refused credential recorded as ok: $rec" ;; esac
ep_ok "a refused credential is a failed credential-activated record"
ep_expect_exit 2 ep_ctl activate-credential
ep_expect_exit 1 ep_ctl activate-credential "$V/does-not-exist"

# Permissions: device.attest for ActivateCredential, status.read for the keys.
ep_expect_exit 4 ep_as 65534 "$EP_BUILD/endpointctl" activate-credential "$V/cred"
ep_expect_exit 4 ep_as 65534 "$EP_BUILD/endpointctl" device-ek
ep_expect_exit 4 ep_as 65534 "$EP_BUILD/endpointctl" device-ak

# ---- ten in a row, failing ones included: nothing stays loaded ------------------
for i in $(seq 10); do
        case $((i % 4)) in
        0) ep_ctl activate-credential "$V/cred" --output="$EP_TMP/got$i" || ep_fail "activation $i"
           cmp -s "$V/secret" "$EP_TMP/got$i" || ep_fail "activation $i recovered another secret" ;;
        1) ep_ctl activate-credential "$V/cred-other-tpm" >/dev/null 2>&1 && ep_fail "activation $i succeeded" ;;
        2) ep_ctl activate-credential "$V/cred-other-name" >/dev/null 2>&1 && ep_fail "activation $i succeeded" ;;
        3) ep_ctl device-ek >/dev/null && ep_ctl device-ak --output="$EP_TMP/ak$i" >/dev/null ||
                   ep_fail "device-ek/ak $i" ;;
        esac
done
ep_ok "ten calls in a row, six of them refused"
ep_ctl activate-credential "$V/cred" | cmp -s - "$V/secret" || ep_fail "activation after the ten"
ep_ok "the eleventh activation works"
ep_assert_eq "$(k_transient)" 2 "only the SRK and the device key are loaded"
ep_assert_eq "$(k_sessions)" 0 "no session is loaded"
# The device key was unloaded for each activation and is back, the same key.
ep_ctl device-key >"$EP_TMP/device.pem" || ep_fail "device-key"
printf 'after' >"$EP_TMP/data"
ep_ctl sign <"$EP_TMP/data" >"$EP_TMP/data.sig" || ep_fail "sign after the activations"
openssl dgst -sha256 -verify "$EP_TMP/device.pem" -signature "$EP_TMP/data.sig" "$EP_TMP/data" >/dev/null ||
        ep_fail "the signature after the activations does not verify with the device key"
ep_ok "the device key signs after the activations"
# 20 activations and refusals by the TPM, and the 7 files above that are
# not credentials (endpointd-dbus(7): each refusal is a record).
ep_assert_eq "$(a_count credential-activated)" 27 "every activation and refusal is an audit record"

# ---- a persistent EK at 0x81010002 is used when it has the template --------------
# persistent_ek ALG LOG-LINE WHAT: persists tpm2_createek -G ALG's EK there,
# activates (the same secret), finds LOG-LINE in the daemon's log of that
# call, checks the handle is still there and evicts it.
persistent_ek() {
        local lines
        k_tools tpm2_createek -G "$1" -c 0x81010002 >/dev/null || ep_fail "tpm2_createek -G $1 -c 0x81010002"
        lines=$(wc -l <"$EP_TMP/daemon.log")
        ep_ctl activate-credential "$V/cred" | cmp -s - "$V/secret" || ep_fail "activation: $3"
        tail -n +$((lines + 1)) "$EP_TMP/daemon.log" | grep -q "$2" || ep_fail "no '$2' in the log: $3"
        ep_ok "$3"
        ep_assert_eq "$(k_transient)" 2 "no transient object left"
        ep_assert_eq "$(k_tpm2 tpm2_getcap handles-persistent | grep -c 0x81010002)" 1 "0x81010002 left in place"
        k_tpm2 tpm2_evictcontrol -C o -c 0x81010002 >/dev/null || ep_fail "tpm2_evictcontrol"
}
persistent_ek ecc "Using the persistent EK at 0x81010002" "activation with the persistent EK at 0x81010002"
# Another key there (an RSA EK) is left alone: the primary is made instead.
persistent_ek rsa "is not an EK of template L-2" "a persistent key of another template is not used"

# ---- a set endorsement authorization is one clear error ---------------------------
k_tools tpm2_changeauth -c e endorsement-secret || ep_fail "tpm2_changeauth -c e"
ep_expect_error "endorsement hierarchy has an authorization value" ep_ctl activate-credential "$V/cred"
ep_expect_error org.endpointd.Error.TpmError k_call GetEndorsementPublicKey
printf 'still' | ep_ctl sign >/dev/null || ep_fail "sign with the endorsement authorization set"
ep_ok "the device key still signs"
k_tools tpm2_changeauth -c e -p endorsement-secret || ep_fail "tpm2_changeauth -c e -p"
ep_ctl activate-credential "$V/cred" | cmp -s - "$V/secret" || ep_fail "activation after the auth was cleared"
ep_ok "activation works again once the endorsement authorization is empty"
ep_assert_eq "$(k_transient)" 2 "still only the SRK and the device key are loaded"
# A clean stop (in a sanitizer build also: no leak reported at exit), and
# the daemon's objects go with it.
ep_stop
ep_assert_eq "$EP_DAEMON_RC" 0 "endpointd exits cleanly"
ep_assert_eq "$(k_transient)" 0 "nothing is loaded after the stop"
ep_done
