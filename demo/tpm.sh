# SPDX-License-Identifier: LGPL-2.1-or-later
# The TPM part of the README demo (sourced by demo/run.sh, which provides
# say, run, ep_* and a running endpointd on swtpm).

demo_tpm() {
        local d=demo-tpm
        mkdir -p "$d"

        say "Device identity: SHA-256 of the TPM device key's public key"
        run endpointctl device-id || return 1

        say "Seal a secret to the TPM and PCR 7, then unseal it"
        printf 'pump-service-password\n' >"$d/secret"
        show "endpointctl seal pump-password --pcrs=7 < $d/secret"
        endpointctl seal pump-password --pcrs=7 <"$d/secret" || return 1
        run endpointctl unseal pump-password || return 1
        run endpointctl key list || return 1

        say "Encrypt a record with a TPM-sealed data key (AES-256-GCM)"
        run endpointctl key create records || return 1
        printf 'patient 4711: 5 ml/h\n' >"$d/record"
        show "endpointctl encrypt records --aad=bed-12 < $d/record > $d/record.enc"
        endpointctl encrypt records --aad=bed-12 <"$d/record" >"$d/record.enc" || return 1
        show "endpointctl decrypt records --aad=bed-12 < $d/record.enc"
        endpointctl decrypt records --aad=bed-12 <"$d/record.enc" || return 1

        say "Quote PCRs 0 and 7 and verify it as a remote verifier would (tpm2_checkquote)"
        local nonce
        nonce=$(openssl rand -hex 16)
        run endpointctl attest --nonce "$nonce" --pcrs 0,7 --output "$d/quote" || return 1
        if command -v tpm2_checkquote >/dev/null; then
                (cd "$d/quote" && run tpm2_checkquote -u ak.pem -m quote.msg -s quote.sig -f quote.pcrs \
                        -l sha256:0,7 -g sha256 -q "$nonce") || return 1
        else
                echo "(tpm2_checkquote is not installed; skipping the verification)"
        fi

        say "Enrolment: prove the attestation key lives in the endorsement key's TPM (MakeCredential)"
        run endpointctl device-ek --output="$d/ek.pem" || return 1
        run endpointctl device-ak --output="$d/ak.pub" || return 1
        if command -v tpm2_makecredential >/dev/null; then
                # The verifier's side, without a TPM: the AK's Name from its
                # public area, a random secret wrapped for that EK and Name.
                local name
                name=000b$(tail -c +3 "$d/ak.pub" | openssl dgst -sha256 -binary | od -An -v -tx1 | tr -d ' \n')
                head -c 32 /dev/urandom >"$d/challenge"
                run tpm2_makecredential -T none -u "$d/ek.pem" -G ecc -s "$d/challenge" -n "$name" \
                        -o "$d/cred" || return 1
                run endpointctl activate-credential "$d/cred" --output="$d/challenge.out" || return 1
                run cmp "$d/challenge" "$d/challenge.out" || return 1
                echo "The device returned the verifier's secret: the attestation key is in that TPM."
        else
                echo "(tpm2_makecredential is not installed; skipping the verifier's side)"
        fi
}
