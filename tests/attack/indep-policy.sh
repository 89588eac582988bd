#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Written by an independent tester from the man pages and the D-Bus contract
# alone, without reading the implementation.
#
# Policy1, grants and licences (endpointd-policy(5), endpointd-dbus(7)),
# attacked by uid 1 (policy.read only), uid 3 (odd permission patterns),
# uid 65534 (nothing) and someone who can write the state directory:
#   1. CheckAccess with wildcards, empty, padded, over-long and multi-colon
#      permission strings: InvalidArgs, never "allowed"
#   2. pattern semantics: keys.use:k1 does not cover k1x, K1, k1.bak or
#      keys.unseal:k1; status.* does not cover statusx.read
#   3. Reload by callers without policy.reload; a policy that would make
#      nobody admin but fails to parse further down, a missing policy file:
#      refused, the old policy stays, nothing of the bad file applies
#   4. grants for another device, for "*", with the id in upper case or cut
#      short: WrongDevice/Malformed, nothing stored
#   5. expired and not-yet-valid grants: Expired / NotYetValid
#   6. malformed grants: bad times (offsets, Feb 30, leap second, 24:00,
#      fractions, before 1970, year 99999), inverted validity, duplicate
#      keys, two sections, bad ids and subjects, a licence as a grant
#   7. oversized: a grant over 64 KiB, a signature over 256 KiB (TooLarge)
#   8. badly signed grants: rogue CA, content changed after signing
#   9. a revoked grant replayed, also after a restart: Revoked
#  10. id collision: a second grant with an installed id is Exists and
#      does not replace the first
#  11. revocation takes the rights away at once; grant install/revoke by
#      callers without permission; odd ids to RevokeGrant
#  12. state-directory writer plants a validly signed but expired grant and
#      a rogue-signed one in grants/ and restarts: neither applies
#  13. licences: another device, expired, rogue-signed, a grant passed as a
#      licence; CheckFeature of unlicensed and odd feature names
#  14. clock set back (libfaketime) while the daemon runs, without a
#      restart: a grant that lapsed is not accepted again
. "$top_srcdir/tests/attack/lib.sh"
. "$top_srcdir/tests/attack/indep-lib.sh"

ep_setup
ep_pki_init
FAKE=$EP_TMP/faketime
# Set after ep_setup, so the daemon keeps its system call filter.
ep_faketime_daemon "$FAKE"
cat >>"$EP_POLICY" <<'POL'

[Role]
Name=reader
Permissions=policy.read status.read licence.read

[Subject]
UID=1
Roles=reader

[Role]
Name=odd
Permissions=keys.use keys.use:k1 status.* policy.read

[Subject]
UID=3
Roles=odd

[Role]
Name=service
Permissions=policy.read policy.reload integrity.scan
POL
cp "$EP_POLICY" "$EP_TMP/policy.good"
ep_start
indep_write_helper
P=org.endpointd.Policy1
W=$EP_TMP/work
mkdir -p "$W"
DEV=$(ep_ctl device-id) || ep_fail "device-id"
[ ${#DEV} -eq 64 ] || ep_fail "device id: $DEV"
OTHER=$(printf '%s' "other device" | sha256sum | cut -d' ' -f1)
past=2020-01-01T00:00:00Z
future=2099-01-01T00:00:00Z
grants_stored() { (cd "$EP_STATE/grants" 2>/dev/null && ls -A | sort | tr '\n' ' '); }
check_as() { ep_as "$1" "$EP_PY" "$EP_TMP/call.py" $P CheckAccess s "(\"$2\",)"; }

ep_attack "CheckAccess with wildcards, empty, padded, over-long and multi-colon permission strings"
long=$(printf 'a%.0s' $(seq 5000))
for p in '*' 'keys.*' 'keys.use:*' '' ' ' 'status.read ' ' status.read' 'status.read\n' 'Status.Read' 'keys.use:' 'keys.use:k1:k1' \
         'keys.use:../k1' 'keys.use:k 1' '.read' 'status..read' "$long" "keys.use:$long"; do
        ep_expect_error org.freedesktop.DBus.Error.InvalidArgs check_as 1 "$p"
done
ep_expect_error org.freedesktop.DBus.Error.AccessDenied check_as 65534 'status.read'
ep_expect_exit 4 ep_as 65534 "$EP_BUILD/endpointctl" policy check status.read
indep_expect_ok check_as 1 status.read
ep_assert_contains "$INDEP_OUT" "OK (true, " "uid 1 holds status.read"
indep_expect_ok check_as 1 keys.use:k1
ep_assert_contains "$INDEP_OUT" "OK (false, " "uid 1 does not hold keys.use:k1"
indep_alive "odd permission strings"

ep_attack "pattern semantics: an object, prefix or case that only looks like a granted permission"
for p in keys.use:k1x keys.use:k keys.use:K1 keys.use:k1.bak keys.unseal:k1 statusx.read status integrity.read keys.create; do
        indep_expect_ok check_as 3 "$p"
        ep_assert_contains "$INDEP_OUT" "OK (false, " "uid 3 does not hold $p"
done
for p in keys.use:k1 keys.use status.read status.anything:obj; do
        indep_expect_ok check_as 3 "$p"
        ep_assert_contains "$INDEP_OUT" "OK (true, " "uid 3 holds $p"
done
# And the real calls agree with CheckAccess.
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 3 "$EP_PY" "$EP_TMP/call.py" org.endpointd.Keys1 Unseal s '("k1",)'
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 3 "$EP_PY" "$EP_TMP/call.py" org.endpointd.Keys1 Encrypt sayay '("K1", ay(b"x"), ay(b""))'

ep_attack "Reload by callers without policy.reload; a half-valid policy that would make nobody admin; a missing policy file"
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $P Reload '' ''
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 1 "$EP_PY" "$EP_TMP/call.py" $P Reload '' ''
ep_expect_exit 4 ep_as 1 "$EP_BUILD/endpointctl" policy reload
for tail in 'this line is not INI' '[Frobnicate]' '[Subject]
UID=65534
Roles=admin
Roles=admin' '[Subject]
UID=65534
Roles=no-such-role' '[Role]
Name=admin
Permissions=*' "[Role]
Name=x
Permissions=$(printf 'a.b%.0s ' $(seq 2000))"; do
        cp "$EP_TMP/policy.good" "$EP_POLICY"
        printf '\n[Subject]\nUID=65534\nRoles=admin\n\n%s\n' "$tail" >>"$EP_POLICY"
        ep_expect_error org.endpointd.Error.Malformed call $P Reload '' ''
        ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $P Reload '' ''
done
printf '\0' >>"$EP_POLICY"
ep_expect_error org.endpointd.Error.Malformed call $P Reload '' ''
rm -f "$EP_POLICY"
ep_expect_error org.endpointd.Error.NotFound call $P Reload '' ''
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $P CheckAccess s '("status.read",)'
indep_expect_ok check_as 1 status.read
ep_assert_contains "$INDEP_OUT" "OK (true, " "the old policy is still in force"
cp "$EP_TMP/policy.good" "$EP_POLICY"
indep_expect_ok call $P Reload '' ''
indep_alive "bad policies"

ep_attack "grants for another device, for any device (*), with the device id in upper case or cut short"
grant wd wd "$OTHER" uid:65534 service "$past" "$future"
ep_expect_error org.endpointd.Error.WrongDevice install_grant wd
grant star star '*' uid:65534 service "$past" "$future"
out=$(install_grant star 2>&1) && ep_fail "a grant for any device (*) was installed: $out"
case $out in *WrongDevice*|*Malformed*) ep_ok "Device=* refused for a grant: $out" ;; *) ep_fail "Device=*: $out" ;; esac
grant upper upper "${DEV^^}" uid:65534 service "$past" "$future"
out=$(install_grant upper 2>&1) && ep_fail "a grant with the device id in upper case was installed: $out"
case $out in *WrongDevice*|*Malformed*) ep_ok "upper-case device id refused" ;; *) ep_fail "upper-case device id: $out" ;; esac
grant short short "${DEV:0:63}" uid:65534 service "$past" "$future"
out=$(install_grant short 2>&1) && ep_fail "a grant with a 63-digit device id was installed: $out"
case $out in *WrongDevice*|*Malformed*) ep_ok "shortened device id refused" ;; *) ep_fail "short device id: $out" ;; esac
grant long long "${DEV}00" uid:65534 service "$past" "$future"
out=$(install_grant long 2>&1) && ep_fail "a grant with the device id and 00 appended was installed: $out"
ep_assert_eq "$(grants_stored)" "" "nothing stored"
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $P Reload '' ''

ep_attack "expired and not-yet-valid grants"
grant exp exp "$DEV" uid:65534 service 2020-01-01T00:00:00Z 2020-01-02T00:00:00Z
ep_expect_error org.endpointd.Error.Expired install_grant exp
grant nyv nyv "$DEV" uid:65534 service 2098-01-01T00:00:00Z "$future"
ep_expect_error org.endpointd.Error.NotYetValid install_grant nyv
now=$(date -u +%s)
grant edge edge "$DEV" uid:65534 service "$past" "$(date -u -d @$((now - 1)) +%Y-%m-%dT%H:%M:%SZ)"
ep_expect_error org.endpointd.Error.Expired install_grant edge
ep_assert_eq "$(grants_stored)" "" "nothing stored"

ep_attack "malformed grants: odd times, inverted validity, duplicate keys, two sections, bad ids and subjects, a licence as a grant"
i=0
malformed() {
        i=$((i + 1))
        printf '%s\n' "$@" >"$W/mal$i"
        ep_sign "$W/mal$i" "$W/mal$i.sig" signer-grant
        ep_expect_error org.endpointd.Error.Malformed install_grant "mal$i"
}
ok_lines() { printf 'Device=%s\nSubject=uid:65534\nRoles=service\n' "$DEV"; }
for t in 2020-01-01T00:00:00+01:00 2020-02-30T00:00:00Z 2020-01-01T23:59:60Z 2020-01-01T24:00:00Z 2020-01-01T00:00:00.5Z \
         1969-12-31T23:59:59Z 2020-01-01T00:00:00 2020-1-1T00:00:00Z '2020-01-01 00:00:00Z' 1577836800 ' '; do
        malformed '[Grant]' Id=t$i "$(ok_lines)" "NotBefore=$t" "NotAfter=$future"
done
malformed '[Grant]' Id=y10k "$(ok_lines)" "NotBefore=$past" NotAfter=99999-01-01T00:00:00Z
malformed '[Grant]' Id=inv "$(ok_lines)" "NotBefore=$future" "NotAfter=$past"
malformed '[Grant]' Id=same "$(ok_lines)" "NotBefore=$past" "NotAfter=$past"
malformed '[Grant]' Id=dup Id=dup2 "$(ok_lines)" "NotBefore=$past" "NotAfter=$future"
malformed '[Grant]' Id=two "$(ok_lines)" "NotBefore=$past" "NotAfter=$future" '[Grant]' Id=two2 "Device=$DEV" Subject=uid:0 Roles=admin "NotBefore=$past" "NotAfter=$future"
malformed '[Grant]' "Id=$(printf 'i%.0s' $(seq 65))" "$(ok_lines)" "NotBefore=$past" "NotAfter=$future"
malformed '[Grant]' 'Id=../../clock' "$(ok_lines)" "NotBefore=$past" "NotAfter=$future"
malformed '[Grant]' 'Id=.hidden' "$(ok_lines)" "NotBefore=$past" "NotAfter=$future"
malformed '[Grant]' 'Id=' "$(ok_lines)" "NotBefore=$past" "NotAfter=$future"
for s in uid:-1 uid:4294967295 uid:0x10 root user: 'user:a b' gid: 'uid:1 uid:2'; do
        malformed '[Grant]' Id=s$i "Device=$DEV" "Subject=$s" Roles=service "NotBefore=$past" "NotAfter=$future"
done
malformed '[Grant]' Id=nodev Subject=uid:65534 Roles=service "NotBefore=$past" "NotAfter=$future"
malformed '[Grant]' Id=noafter "$(ok_lines)" "NotBefore=$past"
malformed '[Grant]' Id=extra "$(ok_lines)" "NotBefore=$past" "NotAfter=$future" Executable=/bin/sh
malformed '[Licence]' Id=lic "Device=$DEV" Features=a "NotBefore=$past" "NotAfter=$future"
malformed 'Id=nosection' "$(ok_lines)" "NotBefore=$past" "NotAfter=$future"
ep_assert_eq "$(grants_stored)" "" "nothing stored"
indep_alive "malformed grants"

ep_attack "oversized grant (64 KiB + 1) and signature (256 KiB + 1); an over-long line below the size limit"
{ printf '[Grant]\nId=big\n'; ok_lines; printf 'NotBefore=%s\nNotAfter=%s\n' "$past" "$future"; printf '#%.0s' $(seq 65536); echo; } >"$W/big"
ep_sign "$W/big" "$W/big.sig" signer-grant
ep_expect_error org.endpointd.Error.TooLarge install_grant big
grant small small "$DEV" uid:65534 service "$past" "$future"
head -c $((256 * 1024 + 1)) /dev/zero >"$W/huge.sig"
ep_expect_error org.endpointd.Error.TooLarge install_grant small huge.sig
ep_expect_error org.endpointd.Error.TooLarge call $P InstallLicence ayay '(ay(b"[Licence]\n" + b"#" * 65536 + b"\n"), ay(b"x"))'
{ printf '[Grant]\nId=longline\n'; ok_lines; printf 'NotBefore=%s\nNotAfter=%s\n#' "$past" "$future"; printf 'x%.0s' $(seq 5000); echo; } >"$W/longline"
ep_sign "$W/longline" "$W/longline.sig" signer-grant
ep_expect_error org.endpointd.Error.Malformed install_grant longline
ep_assert_eq "$(grants_stored)" "" "nothing stored"
indep_alive "oversized grants"

ep_attack "badly signed grants: rogue CA, content changed after signing, empty and garbage signatures"
grant rogue rogue "$DEV" uid:65534 admin "$past" "$future" rogue
ep_expect_error org.endpointd.Error.BadSignature install_grant rogue
grant chg chg "$DEV" uid:65534 service "$past" "$future"
sed -i 's/Roles=service/Roles=admin/' "$W/chg"
ep_expect_error org.endpointd.Error.BadSignature install_grant chg
: >"$W/empty.sig"
ep_expect_error org.endpointd.Error.BadSignature install_grant small empty.sig
head -c 600 /dev/urandom >"$W/garbage.sig"
ep_expect_error org.endpointd.Error.BadSignature install_grant small garbage.sig
ep_assert_eq "$(grants_stored)" "" "nothing stored"

ep_attack "a revoked grant replayed, before and after a restart"
grant g1 g1 "$DEV" uid:65534 service "$past" "$future"
indep_expect_ok install_grant g1
ep_assert_eq "$INDEP_OUT" "OK g1" "g1 installed"
indep_expect_ok call $P RevokeGrant s '("g1",)'
ep_expect_error org.endpointd.Error.Revoked install_grant g1
ep_restart
ep_expect_error org.endpointd.Error.Revoked install_grant g1
# Same id, newly signed with other content: the id is revoked, not the file.
grant g1b g1 "$DEV" uid:65534 service "$past" 2098-01-01T00:00:00Z
ep_expect_error org.endpointd.Error.Revoked install_grant g1b
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $P Reload '' ''

ep_attack "id collision: a second grant with an installed id does not replace the first"
grant g2 g2 "$DEV" uid:65534 service "$past" "$future"
indep_expect_ok install_grant g2
grant g2evil g2 "$DEV" uid:1 admin "$past" "$future"
ep_expect_error org.endpointd.Error.Exists install_grant g2evil
ep_expect_error org.endpointd.Error.Exists install_grant g2
indep_expect_ok call $P ListGrants '' ''
ep_assert_contains "$INDEP_OUT" "(g2, uid:65534, service, " "g2 is still the first grant"
case $INDEP_OUT in *admin*) ep_fail "the colliding grant's roles show up: $INDEP_OUT" ;; esac
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 1 "$EP_PY" "$EP_TMP/call.py" org.endpointd.Keys1 ListKeys '' ''

ep_attack "revocation takes effect at once; install and revoke by callers without permission; odd ids to RevokeGrant"
indep_expect_ok ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $P Reload '' ''
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $P RevokeGrant s '("g2",)'
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 1 "$EP_PY" "$EP_TMP/call.py" $P RevokeGrant s '("g2",)'
grant g3 g3 "$DEV" uid:65534 admin "$past" "$future"
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $P InstallGrant ayay "(ay(open('$W/g3','rb').read()), ay(open('$W/g3.sig','rb').read()))"
ep_expect_exit 4 ep_as 1 "$EP_BUILD/endpointctl" grant install "$W/g3" "$W/g3.sig"
cp "$EP_STATE/grants-revoked" "$W/revoked.before"
for id in '' '.' '..' '../clock' '../../etc/passwd' 'g2/' "$(printf 'i%.0s' $(seq 65))" 'g 2'; do
        ep_expect_error org.freedesktop.DBus.Error.InvalidArgs call $P RevokeGrant s "(\"$id\",)"
done
ep_expect_error org.endpointd.Error.NotFound call $P RevokeGrant s '("nosuch",)'
[ -f "$EP_STATE/clock" ] || ep_fail "the clock file is gone"
cmp -s "$EP_STATE/grants-revoked" "$W/revoked.before" || ep_fail "grants-revoked changed by refused revocations"
indep_expect_ok call $P RevokeGrant s '("g2",)'
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $P Reload '' ''
ep_ok "uid 65534 lost policy.reload with the revocation"

ep_attack "state-directory writer plants a validly signed but expired grant and a rogue-signed one, then restarts"
# (A planted grant for another device is in findings-policy.sh.)
mkdir -p "$EP_STATE/grants"
cp "$W/exp" "$EP_STATE/grants/exp.grant"; cp "$W/exp.sig" "$EP_STATE/grants/exp.grant.sig"
cp "$W/rogue" "$EP_STATE/grants/rogue.grant"; cp "$W/rogue.sig" "$EP_STATE/grants/rogue.grant.sig"
ep_restart
indep_alive "planted grants"
indep_expect_ok call $P ListGrants '' ''
ep_assert_eq "$INDEP_OUT" "OK ()" "no planted grant is listed"
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $P Reload '' ''
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 65534 "$EP_PY" "$EP_TMP/call.py" org.endpointd.Keys1 ListKeys '' ''

ep_attack "licences: another device, expired, rogue-signed, a grant passed as a licence; CheckFeature of odd names"
licence lwd lwd "$OTHER" bolus "$past" "$future"
ep_expect_error org.endpointd.Error.WrongDevice install_licence lwd
licence lexp lexp "$DEV" bolus 2020-01-01T00:00:00Z 2020-01-02T00:00:00Z
ep_expect_error org.endpointd.Error.Expired install_licence lexp
licence lrogue lrogue '*' bolus "$past" "$future" rogue
ep_expect_error org.endpointd.Error.BadSignature install_licence lrogue
# A grant is not a licence: signed by the grant signer it lacks the licence
# role; signed by the licence signer its content does not parse as one.
ep_expect_error org.endpointd.Error.BadSignature install_licence g3
ep_sign "$W/g3" "$W/g3.lsig" signer-licence
ep_expect_error org.endpointd.Error.Malformed install_licence g3 g3.lsig
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 1 "$EP_PY" "$EP_TMP/call.py" $P InstallLicence ayay "(ay(open('$W/lwd','rb').read()), ay(open('$W/lwd.sig','rb').read()))"
licence lany lany '*' 'basal' "$past" "$future"
indep_expect_ok install_licence lany
for f in bolus '' '*' 'basal ' 'bas' 'BASAL' "$long"; do
        out=$(ep_as 1 "$EP_PY" "$EP_TMP/call.py" $P CheckFeature s "(\"$f\",)" 2>&1)
        case $out in
        "OK (false, 0)"|*InvalidArgs*) ep_ok "CheckFeature '${f:0:20}': $out" ;;
        *) ep_fail "CheckFeature '${f:0:20}' by uid 1: $out" ;;
        esac
done
indep_expect_ok ep_as 1 "$EP_PY" "$EP_TMP/call.py" $P CheckFeature s '("basal",)'
ep_assert_eq "$INDEP_OUT" "OK (true, $(($(date -u -d $future +%s) * 1000000)))" "basal licensed until 2099"
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $P CheckFeature s '("basal",)'
indep_alive "licences"

ep_attack "clock set back while the daemon runs (no restart): a grant that lapsed is not accepted again"
now=$(date -u +%s)
grant short5 short5 "$DEV" uid:65534 service "$past" "$(date -u -d @$((now + 4)) +%Y-%m-%dT%H:%M:%SZ)"
indep_expect_ok install_grant short5
indep_expect_ok ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $P Reload '' ''
sleep 6
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $P Reload '' ''
# Back by 5 s: the daemon's clock is inside the grant's validity again
# (and still after the signer certificate was made at the start).
echo "-5" >"$FAKE"
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $P Reload '' ''
ep_expect_error org.endpointd.Error.Expired install_grant short5
indep_expect_ok call $P ListGrants '' ''
case $INDEP_OUT in *short5*) ep_fail "the lapsed grant is listed again with the clock set back: $INDEP_OUT" ;; esac
ep_ok "lapsed grant stays lapsed with the clock set back"
echo "+0" >"$FAKE"
indep_alive "end"

ep_log "$EP_ATTACKS attacks"
ep_done
