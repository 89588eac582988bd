# SPDX-License-Identifier: LGPL-2.1-or-later
# The grants and licences part of the README demo (sourced by demo/run.sh,
# after the policy part has loaded conf/policy.conf): the manufacturer signs
# a time-limited maintenance grant for a technician's account and a licence
# for a feature, both bound to this device; the device installs and checks
# them; the grant is revoked when the visit ends.

demo_grants() {
        local id rc
        id=$(endpointctl device-id) || return 1

        say "Maintenance grant: the technician (uid 1, "daemon", group adm: the monitor role) may not scan yet"
        rc=0
        run setpriv --reuid=1 --regid=adm --clear-groups endpointctl policy check integrity.scan || rc=$?
        echo "(exit status $rc: 4 means not allowed)"
        [ "$rc" = 4 ] || return 1

        say "The manufacturer writes a grant for this device and signs it (openssl cms)"
        printf '[Grant]\nId=visit-0420\nDevice=%s\nSubject=user:daemon\nRoles=service\nNotBefore=%s\nNotAfter=%s\n' \
                "$id" "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" "$(date -u -d '+8 hours' +%Y-%m-%dT%H:%M:%SZ)" \
                >visit.grant
        run cat visit.grant
        run openssl cms -sign -binary -outform DER -md sha256 -nosmimecap -in visit.grant -out visit.grant.sig \
                -signer pki/signer-grant.pem -inkey pki/signer-grant.key || return 1
        run endpointctl grant check visit.grant visit.grant.sig --config=endpointd.conf || return 1

        say "The device installs it; the technician may scan until the grant ends"
        run endpointctl grant install visit.grant visit.grant.sig || return 1
        run endpointctl grant list || return 1
        run setpriv --reuid=1 --regid=adm --clear-groups endpointctl policy check integrity.scan || return 1

        say "The visit is over: revoke the grant (the same file cannot be installed again)"
        run endpointctl grant revoke visit-0420 || return 1
        rc=0
        run setpriv --reuid=1 --regid=adm --clear-groups endpointctl policy check integrity.scan || rc=$?
        [ "$rc" = 4 ] || return 1
        rc=0
        run endpointctl grant install visit.grant visit.grant.sig || rc=$?
        echo "(exit status $rc: refused)"
        [ "$rc" = 1 ] || return 1

        say "Licence: the manufacturer enables the 'remote-monitoring' feature on this device"
        printf '[Licence]\nId=lic-2026-001\nDevice=%s\nFeatures=remote-monitoring\nNotBefore=%s\nNotAfter=%s\n' \
                "$id" "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" "$(date -u -d '+365 days' +%Y-%m-%dT%H:%M:%SZ)" \
                >remote.licence
        run openssl cms -sign -binary -outform DER -md sha256 -nosmimecap -in remote.licence -out remote.licence.sig \
                -signer pki/signer-licence.pem -inkey pki/signer-licence.key || return 1
        rc=0
        run endpointctl licence check remote-monitoring || rc=$?
        echo "(exit status $rc: not licensed yet)"
        [ "$rc" = 1 ] || return 1
        run endpointctl licence install remote.licence remote.licence.sig || return 1
        run endpointctl licence list || return 1
        run endpointctl licence check remote-monitoring || return 1
}
