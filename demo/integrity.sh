# SPDX-License-Identifier: LGPL-2.1-or-later
# The integrity part of the README demo, sourced by demo/run.sh (which has
# set up swtpm, the bus, endpointd, the demo tree in $EP_ROOT and a demo CA
# with ep_pki_init): sign a manifest of the tree with openssl cms, install
# it, scan with the progress bar, tamper with one file, see the violation,
# put the file back and scan clean again.

demo_integrity() {
        local m=$EP_TMP/demo-manifest.mtree

        say "Integrity: the manufacturer writes a manifest of the release and signs it"
        # The demo tree gets a few more files so that the scan has something to do.
        mkdir -p "$EP_ROOT/usr/share/pump/protocols"
        for i in $(seq -w 1 40); do
                yes "{\"drug\": $i, \"max_ml_h\": $((10#$i * 7))}" | head -c $((65536 * 10#$i)) \
                        >"$EP_ROOT/usr/share/pump/protocols/drug-$i.json"
        done
        run endpointctl manifest create "$EP_ROOT" --serial 1 --product demo-pump --version 4.2 --output "$m" || return 1
        run openssl cms -sign -binary -outform DER -md sha256 -nosmimecap -in "$m" -out "$m.sig" \
                -signer "$EP_PKI/signer.pem" -inkey "$EP_PKI/signer.key" || return 1

        say "Integrity: install it on the device (the daemon checks the signature against its trust dir)"
        run endpointctl manifest install "$m" "$m.sig" || return 1
        run endpointctl manifest show || return 1

        say "Integrity: verify the whole tree"
        run endpointctl scan || return 1

        say "Integrity: an attacker changes the pump's rate limit (same size, mtime restored)"
        cp -p "$EP_ROOT/etc/pump/limits.conf" "$EP_TMP/limits.orig"
        run sed -i 's/max_rate_ml_h=999/max_rate_ml_h=990/' "$EP_ROOT/etc/pump/limits.conf"
        run touch -r "$EP_TMP/limits.orig" "$EP_ROOT/etc/pump/limits.conf"
        local rc=0
        run endpointctl scan || rc=$?
        echo "(exit status $rc: 5 means violations were found)"
        [ "$rc" = 5 ] || return 1
        run endpointctl verify /etc/pump/limits.conf || true

        say "Integrity: the file is restored; the tree verifies clean again"
        run cp -p "$EP_TMP/limits.orig" "$EP_ROOT/etc/pump/limits.conf"
        run endpointctl scan || return 1
        run endpointctl measurements || return 1
}
