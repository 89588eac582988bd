#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Written by an independent tester from the man pages and the D-Bus contract
# alone, without reading the implementation.
#
# Someone who can write the state directory (while endpointd is stopped),
# the clock high-water mark, the manifest serial floor, version 2 key files
# and signer roles (endpointd-policy(5) CLOCK and SIGNER CERTIFICATES,
# endpointd-manifest(5) RELEASE LINE and VALIDITY AND RESTARTS,
# endpointd-dbus(7) KEY FILES):
#   1. a grant with seconds left, daemon restarted with the clock set back
#      an hour: the grant still lapses on time, and cannot be installed again
#   2. a grant lapses while the daemon is stopped; restarted with the clock
#      set back: it stays lapsed
#   3. manifest.bundle deleted, then an older signed bundle put back: the
#      serial floor still refuses the older serial (at start and at install)
#   4. the serial floor damaged (garbage, empty, trailing junk, negative,
#      2^64, a directory): the stored manifest and every install are refused
#   5. key files: a copy under another name, two files swapped, a symbolic
#      link, every header field edited: Tampered (WrongDevice for the TPM
#      id), never the key; a version 1 and a version 3 file: Malformed and
#      a version 1 file not listed
#   6. signer roles: grant/licence/manifest signers crossed, anyExtendedKeyUsage,
#      no EKU, no digitalSignature, a CA certificate as signer, the root's own
#      key, RSA-1024 signer or intermediate, a SHA-1 certificate, a SHA-1 CMS
#      digest, a second untrusted signer: BadSignature, nothing installed
#   7. signers that expire 25 s after they signed (restart after that):
#      stored grant and manifest stay, new artefacts by them are refused
#   8. clock once set forward (50 min), then back (restart): a grant valid
#      by the real clock is refused as Expired (the mark does not go back)
. "$top_srcdir/tests/attack/lib.sh"
. "$top_srcdir/tests/attack/indep-lib.sh"

ep_setup
ep_pki_init
FAKE=$EP_TMP/faketime
ep_faketime_daemon "$FAKE"
ep_config Integrity ScanInterval infinity
ep_config TPM KeyCacheTimeout 0
cat >>"$EP_POLICY" <<'POL'

[Role]
Name=service
Permissions=policy.reload status.read

[Role]
Name=nothing
Permissions=none.at.all

[Subject]
UID=7
Roles=nothing
POL
echo "pump 4.2" >"$EP_ROOT/pumpd"
ep_start
indep_write_helper
P=org.endpointd.Policy1
I=org.endpointd.Integrity1
K=org.endpointd.Keys1
E=org.endpointd.Endpoint1
W=$EP_TMP/work
mkdir -p "$W"
DEV=$(ep_ctl device-id) || ep_fail "device-id"
utc() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
install() { call $I InstallManifest hh "(fd(os.open('$W/$1', os.O_RDONLY)), fd(os.open('$W/${2:-$1.sig}', os.O_RDONLY)))"; }
reload_as() { ep_as "$1" "$EP_PY" "$EP_TMP/call.py" $P Reload '' ''; }
prop() { ep_busctl get-property org.endpointd.Endpoint1 /org/endpointd/Endpoint1 $E "$1" | cut -d' ' -f2-; }
# mk_manifest SERIAL FILE [SIGNER]
mk_manifest() {
        ep_ctl manifest create "$EP_ROOT" --serial "$1" --output "$W/$2" >/dev/null || ep_fail "manifest create"
        ep_sign "$W/$2" "$W/$2.sig" "${3:-signer}"
}
restart_at() { echo "$1" >"$FAKE"; ep_restart; }

ep_attack "a grant with seconds left, daemon restarted with the clock set back an hour: it still lapses on time"
now=$(date -u +%s)
grant g1 visit-1 "$DEV" uid:7 service "$(utc $((now - 60)))" "$(utc $((now + 12)))"
indep_expect_ok install_grant g1
indep_expect_ok reload_as 7
restart_at -3600
indep_expect_ok call $P ListGrants '' ''
ep_assert_contains "$INDEP_OUT" visit-1 "the grant survives the restart"
while [ "$(date -u +%s)" -le $((now + 14)) ]; do sleep 1; done
ep_expect_error org.freedesktop.DBus.Error.AccessDenied reload_as 7
indep_expect_ok call $P ListGrants '' ''
case $INDEP_OUT in *visit-1*) ep_fail "grant still listed after its NotAfter with the clock set back: $INDEP_OUT" ;; esac
ep_expect_error org.endpointd.Error.Expired install_grant g1
indep_alive "clock back at restart"

ep_attack "a grant lapses while the daemon is stopped; restarted with the clock set back it stays lapsed"
restart_at +0
now=$(date -u +%s)
grant g2 visit-2 "$DEV" uid:7 service "$(utc $((now - 60)))" "$(utc $((now + 6)))"
indep_expect_ok install_grant g2
indep_expect_ok reload_as 7
ep_stop
sleep 9
echo "-120" >"$FAKE"
ep_start
ep_expect_error org.freedesktop.DBus.Error.AccessDenied reload_as 7
ep_expect_error org.endpointd.Error.Expired install_grant g2
indep_alive "lapsed while stopped"
echo "+0" >"$FAKE"

ep_attack "manifest.bundle deleted or replaced by an older signed bundle: the serial floor refuses the older serial"
mk_manifest 10 m10
mk_manifest 15 m15
mk_manifest 20 m20
mk_manifest 30 m30
indep_expect_ok install m10
cp "$EP_STATE/manifest.bundle" "$W/bundle10"
indep_expect_ok install m20
ep_assert_eq "$(prop ManifestSerial)" 20 "serial 20 installed"
ep_stop
rm -f "$EP_STATE/manifest.bundle"
ep_start
ep_assert_eq "$(prop ManifestSerial)" 0 "no manifest after the bundle was deleted"
ep_expect_error org.endpointd.Error.Rollback install m15
ep_stop
cp "$W/bundle10" "$EP_STATE/manifest.bundle"
ep_start
ep_assert_eq "$(prop ManifestSerial)" 0 "the older bundle put back is refused at start"
ep_expect_error org.endpointd.Error.Rollback install m15
ep_expect_error org.endpointd.Error.Rollback install m20
indep_expect_ok install m30
ep_assert_eq "$(prop ManifestSerial)" 30 "a higher serial installs"
indep_alive "serial floor"

ep_attack "the serial floor damaged: garbage, empty, trailing junk, negative, 2^64, a directory: fail closed"
FLOOR=$EP_STATE/manifest-serial-floor
cp "$FLOOR" "$W/floor.good"
mk_manifest 40 m40
for bad in garbage empty junk negative huge dir; do
        ep_stop
        rm -rf "$FLOOR"
        case $bad in
        garbage) printf 'xyz\n' >"$FLOOR" ;;
        empty) : >"$FLOOR" ;;
        junk) printf '30 and more\n' >"$FLOOR" ;;
        negative) printf -- '-5\n' >"$FLOOR" ;;
        huge) printf '18446744073709551616\n' >"$FLOOR" ;;
        dir) mkdir "$FLOOR" ;;
        esac
        ep_start
        ep_assert_eq "$(prop ManifestSerial)" 0 "floor '$bad': the stored manifest is refused"
        out=$(install m40 2>&1) && ep_fail "floor '$bad': an install succeeded: $out"
        ep_ok "floor '$bad': install refused (${out:0:80})"
        indep_alive "floor $bad"
done
ep_stop
rm -rf "$FLOOR"
cp "$W/floor.good" "$FLOOR"
ep_start
ep_assert_eq "$(prop ManifestSerial)" 30 "the good floor back: serial 30 served"

ep_attack "key files copied, swapped, linked and every header field edited: Tampered (WrongDevice for the TPM id); version 1 and 3 files Malformed"
KEYS=$EP_STATE/keys
indep_expect_ok call $K CreateKey 'sa{sv}' '("k1", {})'
indep_expect_ok call $K CreateKey 'sa{sv}' '("k2", {"exportable": dbus.Boolean(True)})'
indep_expect_ok call $K Seal 'saya{sv}' '("s1", ay(b"alpha"), {})'
indep_expect_ok call $K Seal 'saya{sv}' '("s2", ay(b"beta"), {})'
cp -a "$KEYS" "$W/keys.orig"
restore_keys() { rm -rf "$KEYS"; cp -a "$W/keys.orig" "$KEYS"; }
ALPHA=$(printf alpha | od -An -tx1 | tr -d ' \n')
BETA=$(printf beta | od -An -tx1 | tr -d ' \n')
cp "$KEYS/k1.key" "$KEYS/k3.key"
ep_expect_error org.endpointd.Error.Tampered call $K Encrypt sayay '("k3", ay(b"x"), ay(b""))'
cp "$KEYS/k2.key" "$KEYS/k4.key"
ep_expect_error org.endpointd.Error.Tampered call $K Unseal s '("k4",)'
mv "$KEYS/s1.key" "$W/tmp.key"; mv "$KEYS/s2.key" "$KEYS/s1.key"; mv "$W/tmp.key" "$KEYS/s2.key"
ep_expect_error org.endpointd.Error.Tampered call $K Unseal s '("s1",)'
ep_expect_error org.endpointd.Error.Tampered call $K Unseal s '("s2",)'
restore_keys
ln -s s1.key "$KEYS/s3.key"
out=$(call $K Unseal s '("s3",)' 2>&1) && ep_fail "a symbolic link s3.key -> s1.key unseals: $out"
case $out in *"$ALPHA"*) ep_fail "the link gave the secret away: $out" ;; esac
ep_ok "s3.key -> s1.key refused: $out"
restore_keys
# setbyte FILE OFFSET VALUE
setbyte() { printf "\\$(printf '%03o' "$3")" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
# kind: a data key relabelled as a sealed secret, and the exportable flag set.
setbyte "$KEYS/k1.key" 5 1
ep_expect_error org.endpointd.Error.Tampered call $K Unseal s '("k1",)'
restore_keys
setbyte "$KEYS/k1.key" 6 1
ep_expect_error org.endpointd.Error.Tampered call $K Unseal s '("k1",)'
restore_keys
for off in 7 8 11 12 19 20 35 68 75 76 107 108 111; do
        ep_flip_byte "$KEYS/k2.key" "$off"
        out=$(call $K Unseal s '("k2",)' 2>&1) && ep_fail "k2.key with byte $off flipped unseals: $out"
        case $out in *org.endpointd.Error.Tampered*) ep_ok "header byte $off flipped: Tampered" ;;
        *) ep_fail "k2.key byte $off flipped: expected Tampered, got $out" ;; esac
        restore_keys
done
for off in 36 67; do
        ep_flip_byte "$KEYS/s1.key" "$off"
        out=$(call $K Unseal s '("s1",)' 2>&1) && ep_fail "s1.key with TPM id byte $off flipped unseals: $out"
        case $out in *org.endpointd.Error.WrongDevice*|*org.endpointd.Error.Tampered*) ep_ok "TPM id byte $off flipped: ${out:4:40}" ;;
        *) ep_fail "s1.key byte $off flipped: expected WrongDevice, got $out" ;; esac
        restore_keys
done
setbyte "$KEYS/s1.key" 4 3
ep_expect_error org.endpointd.Error.Malformed call $K Unseal s '("s1",)'
restore_keys
# A version 1 file: the 68 bytes before generation, then length and TPM part.
{ head -c 4 "$W/keys.orig/s2.key"; printf '\001'; tail -c +6 "$W/keys.orig/s2.key" | head -c 63; tail -c +109 "$W/keys.orig/s2.key"; } >"$KEYS/s2.key"
ep_expect_error org.endpointd.Error.Malformed call $K Unseal s '("s2",)'
indep_expect_ok call $K ListKeys '' ''
case $INDEP_OUT in *"s2,"*|*"(s2"*) ep_fail "a version 1 file is listed: $INDEP_OUT" ;; esac
ep_ok "a version 1 file is not listed"
restore_keys
indep_expect_ok call $K Unseal s '("s1",)'
ep_assert_contains "$INDEP_OUT" "$ALPHA" "restored s1 unseals"
indep_expect_ok call $K Unseal s '("s2",)'
ep_assert_contains "$INDEP_OUT" "$BETA" "restored s2 unseals"
indep_alive "key files"

ep_attack "signer roles: crossed roles, anyExtendedKeyUsage, no EKU, no digitalSignature, CA as signer, weak keys, SHA-1, two signers"
ep_pki_cert any ca "/CN=Any EKU" $'keyUsage=critical,digitalSignature\nextendedKeyUsage=anyExtendedKeyUsage'
ep_pki_cert noeku ca "/CN=No EKU" 'keyUsage=critical,digitalSignature'
ep_pki_cert nods ca "/CN=No digitalSignature" $'keyUsage=critical,keyEncipherment\nextendedKeyUsage=codeSigning'
ep_pki_cert caeku ca "/CN=CA with codeSigning" $'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,keyCertSign\nextendedKeyUsage=codeSigning,'"$EP_EKU_GRANT"
ep_pki_cert rsa1024 ca "/CN=RSA 1024" "$EP_EXT_MANIFEST" "rsa:1024"
ep_pki_cert sha1 ca "/CN=SHA-1 certificate" "$EP_EXT_MANIFEST" "" -sha1
ep_pki_cert weakca ca "/CN=Weak intermediate" $'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign' "rsa:1024"
ep_pki_cert underweak weakca "/CN=Signer under weak intermediate" "$EP_EXT_MANIFEST"
mk_manifest 1000 mx
before=$(prop ManifestSerial)
for s in signer-grant signer-licence any noeku nods caeku ca rsa1024 sha1; do
        ep_sign "$W/mx" "$W/mx.$s" "$s"
        ep_expect_error org.endpointd.Error.BadSignature install mx mx.$s
done
openssl cms -sign -binary -outform DER -md sha256 -nosmimecap -in "$W/mx" -out "$W/mx.chain" \
        -signer "$EP_PKI/underweak.pem" -inkey "$EP_PKI/underweak.key" -certfile "$EP_PKI/weakca.pem" || ep_fail "cms chain"
ep_expect_error org.endpointd.Error.BadSignature install mx mx.chain
openssl cms -sign -binary -outform DER -md sha1 -nosmimecap -in "$W/mx" -out "$W/mx.md1" \
        -signer "$EP_PKI/signer.pem" -inkey "$EP_PKI/signer.key" || ep_fail "cms sha1"
ep_expect_error org.endpointd.Error.BadSignature install mx mx.md1
openssl cms -sign -binary -outform DER -md sha256 -nosmimecap -in "$W/mx" -out "$W/mx.two" \
        -signer "$EP_PKI/signer.pem" -inkey "$EP_PKI/signer.key" \
        -signer "$EP_PKI/rogue.pem" -inkey "$EP_PKI/rogue.key" || ep_fail "cms two signers"
ep_expect_error org.endpointd.Error.BadSignature install mx mx.two
ep_assert_eq "$(prop ManifestSerial)" "$before" "no manifest installed by a wrong signer"
now=$(date -u +%s)
for s in signer signer-licence any caeku ca; do
        grant "gx.$s" "x-$s" "$DEV" uid:7 service "$(utc $((now - 60)))" 2099-01-01T00:00:00Z "$s"
        ep_expect_error org.endpointd.Error.BadSignature install_grant "gx.$s"
done
for s in signer signer-grant caeku; do
        licence "lx.$s" "l-$s" "$DEV" basal "$(utc $((now - 60)))" 2099-01-01T00:00:00Z "$s"
        ep_expect_error org.endpointd.Error.BadSignature install_licence "lx.$s"
done
indep_expect_ok call $P ListGrants '' ''
ep_assert_eq "$INDEP_OUT" "OK ()" "no grant installed by a wrong signer"
indep_expect_ok call $P ListLicences '' ''
ep_assert_eq "$INDEP_OUT" "OK ()" "no licence installed by a wrong signer"
indep_alive "signer roles"

ep_attack "signers that expire: stored grant and manifest stay across a restart, new artefacts by them are refused"
# short_signer NAME ROLE-EXTENSIONS SECONDS: a signer certificate under ca
# that expires SECONDS from now (openssl ca takes exact dates).
CADIR=$W/cadir
mkdir -p "$CADIR"
: >"$CADIR/index.txt"
echo 1000 >"$CADIR/serial"
cat >"$CADIR/ca.cnf" <<CNF
[ca]
default_ca=d
[d]
database=$CADIR/index.txt
new_certs_dir=$CADIR
serial=$CADIR/serial
policy=p
default_md=sha256
email_in_dn=no
unique_subject=no
[p]
commonName=supplied
CNF
short_signer() {
        printf '%s\n' "$2" >"$EP_PKI/$1.ext"
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
                -keyout "$EP_PKI/$1.key" -out "$EP_PKI/$1.csr" 2>/dev/null &&
        openssl ca -batch -config "$CADIR/ca.cnf" -cert "$EP_PKI/ca.pem" -keyfile "$EP_PKI/ca.key" \
                -in "$EP_PKI/$1.csr" -out "$EP_PKI/$1.pem" -notext -extfile "$EP_PKI/$1.ext" \
                -startdate "$(date -u -d @$(($(date +%s) - 120)) +%Y%m%d%H%M%SZ)" \
                -enddate "$(date -u -d @$(($(date +%s) + $3)) +%Y%m%d%H%M%SZ)" 2>/dev/null ||
                ep_fail "openssl ca could not make $1"
}
short_signer short-m "$EP_EXT_MANIFEST" 25
short_signer short-g "$EP_EXT_GRANT" 25
expiry=$(($(date +%s) + 25))
mk_manifest 50 m50 short-m
mk_manifest 60 m60 short-m
now=$(date -u +%s)
grant g5 visit-5 "$DEV" uid:7 service "$(utc $((now - 60)))" 2099-01-01T00:00:00Z short-g
grant g6 visit-6 "$DEV" uid:7 service "$(utc $((now - 60)))" 2099-01-01T00:00:00Z short-g
indep_expect_ok install m50
indep_expect_ok install_grant g5
while [ "$(date +%s)" -le $((expiry + 2)) ]; do sleep 1; done
ep_restart
ep_assert_eq "$(prop ManifestSerial)" 50 "the manifest of a signer that expired since stays after a restart"
indep_expect_ok reload_as 7
ep_ok "the grant of a signer that expired since still applies"
ep_expect_error org.endpointd.Error.BadSignature install m60
ep_expect_error org.endpointd.Error.BadSignature install_grant g6
ep_assert_eq "$(prop ManifestSerial)" 50 "serial still 50"
indep_alive "expired signers"

ep_attack "clock once set forward 50 minutes, then back (restart): a grant valid by the real clock is Expired"
# (+3000 s, not days: libfaketime also shifts the daemon's absolute
# CLOCK_MONOTONIC timers by the offset, which must stay above zero.)
now=$(date -u +%s)
grant g7 visit-7 "$DEV" uid:7 service "$(utc $((now - 7200)))" "$(utc $((now + 1800)))"
restart_at +3000
ep_expect_error org.endpointd.Error.Expired install_grant g7
restart_at +0
ep_expect_error org.endpointd.Error.Expired install_grant g7
indep_expect_ok call $P ListGrants '' ''
case $INDEP_OUT in *visit-7*) ep_fail "visit-7 installed: $INDEP_OUT" ;; esac
indep_alive "clock forward then back"

ep_log "$EP_ATTACKS attacks"
ep_done
