#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Written by an independent tester from the man pages and the D-Bus contract
# alone, without reading the implementation.
#
# Endpoint1 status and properties (endpointd-dbus(7), endpointctl(1)):
#   1. uid 65534 (no role) reads every property with Get and GetAll, and
#      runs endpointctl status: AccessDenied / exit 4, no value leaks
#   2. GetAll and Get with an empty interface name (all interfaces, per the
#      D-Bus spec) by uid 65534: no value leaks
#   3. Properties.Set on every (read-only) property, also with the wrong
#      type, by root: refused, values unchanged
#   4. the TPM goes away (swtpm killed) and comes back: status still
#      answers at once, TpmAvailable false, TPM methods TpmUnavailable;
#      then the TPM is found again and DeviceId is unchanged
#   5. identity binding: DeviceId is the SHA-256 of the device key's DER,
#      Sign output verifies with it; Sign() of a forged TPMS_ATTEST never
#      verifies as a quote under the attestation key
#   6. a reader with only status.read cannot reach integrity, keys or
#      policy data through the status permission
#   7. someone who can write the state directory replaces the clock file,
#      manifest.bundle, measurements.log and stored grants and licences
#      with FIFOs and symlinks to /dev/zero, and waits for a restart: the
#      daemon starts within the harness's 60 s, answers status, runs
#      unverified and lists no grants or licences
. "$top_srcdir/tests/attack/lib.sh"
. "$top_srcdir/tests/attack/indep-lib.sh"

ep_setup
cat >>"$EP_POLICY" <<'POL'

[Role]
Name=status
Permissions=status.read

[Subject]
UID=1
Roles=status
POL
ep_start
indep_write_helper
E=org.endpointd.Endpoint1
PI=org.freedesktop.DBus.Properties
PROPS="Version DeviceId TpmAvailable IntegrityState LastScan ManifestSerial"
W=$EP_TMP/work
mkdir -p "$W"
DEV=$(ep_ctl device-id) || ep_fail "device-id"

ep_attack "uid 65534 reads every Endpoint1 property with Get and GetAll, and runs endpointctl status"
for p in $PROPS; do
        out=$(ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $PI Get ss "(\"$E\", \"$p\")" 2>&1) && ep_fail "uid 65534 read $p: $out"
        ep_assert_contains "$out" "ERR org.freedesktop.DBus.Error.AccessDenied" "Get $p by uid 65534"
done
out=$(ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $PI GetAll s "(\"$E\",)" 2>&1) && ep_fail "uid 65534 read GetAll: $out"
ep_assert_contains "$out" "ERR org.freedesktop.DBus.Error.AccessDenied" "GetAll by uid 65534"
case $out in *"$DEV"*) ep_fail "the device id leaks in a denial: $out" ;; esac
ep_expect_exit 4 ep_as 65534 "$EP_BUILD/endpointctl" status
ep_expect_exit 4 ep_as 65534 "$EP_BUILD/endpointctl" device-id
ep_expect_exit 4 ep_as 65534 "$EP_BUILD/endpointctl" --json status
grep -q "$DEV" "$EP_TMP/last.out" && ep_fail "the device id leaks to uid 65534"
indep_expect_ok ep_as 1 "$EP_BUILD/endpointctl" status
ep_assert_contains "$INDEP_OUT" "$DEV" "uid 1 (status.read) sees the device id"

ep_attack "GetAll and Get with an empty interface name by uid 65534"
out=$(ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $PI GetAll s '("",)' 2>&1)
case $out in
"OK {}") ep_ok "GetAll('') gives nothing" ;;
ERR*) ep_ok "GetAll('') refused: ${out:0:80}" ;;
*) ep_fail "GetAll('') by uid 65534: $out" ;;
esac
case $out in *"$DEV"*|*unverified*|*0.1*) ep_fail "GetAll('') leaks values: $out" ;; esac
for p in $PROPS; do
        out=$(ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $PI Get ss "(\"\", \"$p\")" 2>&1) && ep_fail "uid 65534 read $p through interface '': $out"
        ep_ok "Get('', $p) refused"
done
for i in org.endpointd.Keys1 org.endpointd.Integrity1 org.endpointd.Policy1 org.freedesktop.DBus.Properties; do
        out=$(ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $PI GetAll s "(\"$i\",)" 2>&1)
        case $out in "OK {}"|ERR*) ep_ok "GetAll($i): ${out:0:60}" ;; *) ep_fail "GetAll($i) by uid 65534: $out" ;; esac
done

ep_attack "Properties.Set on every read-only property, with the right and the wrong type"
before=$(call $PI GetAll s "(\"$E\",)")
for p in $PROPS; do
        ep_expect_error org.freedesktop.DBus.Error.PropertyReadOnly call $PI Set ssv "(\"$E\", \"$p\", dbus.String(\"trusted\", variant_level=1))"
        out=$(call $PI Set ssv "(\"$E\", \"$p\", dbus.UInt64(99, variant_level=1))" 2>&1) && ep_fail "Set $p with a number succeeded"
        out=$(ep_as 65534 "$EP_PY" "$EP_TMP/call.py" $PI Set ssv "(\"$E\", \"$p\", dbus.Boolean(True, variant_level=1))" 2>&1) && ep_fail "uid 65534 Set $p succeeded"
        ep_ok "Set $p refused"
done
ep_expect_error org.freedesktop.DBus.Error.UnknownProperty call $PI Set ssv "(\"$E\", \"NewProperty\", dbus.String(\"x\", variant_level=1))"
after=$(call $PI GetAll s "(\"$E\",)")
ep_assert_eq "$after" "$before" "properties unchanged"
indep_alive "Set"

ep_attack "the TPM goes away and comes back: status answers, TPM calls fail cleanly, the identity is unchanged"
kill "$EP_SWTPM_PID_tpm"
wait "$EP_SWTPM_PID_tpm" 2>/dev/null
out=$(call org.endpointd.Keys1 Sign ay '(ay(b"x"),)' 2>&1) && ep_fail "Sign without a TPM: $out"
ep_assert_contains "$out" "org.endpointd.Error.TpmUnavailable" "Sign without a TPM"
ep_expect_error org.endpointd.Error.TpmUnavailable call org.endpointd.Keys1 Attest ayau '(ay(b"n"), au([]))'
ep_expect_error org.endpointd.Error.TpmUnavailable call org.endpointd.Keys1 CreateKey 'sa{sv}' '("k", {})'
start=$(date +%s%N)
indep_expect_ok timeout 10 "$EP_BUILD/endpointctl" status
ms=$((($(date +%s%N) - start) / 1000000))
[ "$ms" -lt 3000 ] || ep_fail "status took $ms ms without a TPM"
ep_ok "status answers in $ms ms without a TPM"
ep_assert_eq "$(ep_busctl get-property org.endpointd.Endpoint1 /org/endpointd/Endpoint1 $E TpmAvailable)" "b false" "TpmAvailable false"
[ -z "$(ls -A "$EP_STATE/keys" 2>/dev/null)" ] || ep_fail "a key file appeared without a TPM"
# The TPM comes back on the same port with the same state.
port=$EP_SWTPM_PORT_tpm
swtpm socket --tpm2 --server "type=tcp,port=$port,bindaddr=127.0.0.1" \
        --ctrl "type=tcp,port=$((port + 1)),bindaddr=127.0.0.1" \
        --flags not-need-init,startup-clear --tpmstate "dir=$EP_TMP/tpm" \
        --log "file=$EP_TMP/tpm/swtpm2.log" >"$EP_TMP/tpm/stdout2" 2>&1 &
EP_PIDS+=("$!")
for _ in $(seq 60); do
        [ "$(ep_busctl get-property org.endpointd.Endpoint1 /org/endpointd/Endpoint1 $E TpmAvailable 2>/dev/null)" = "b true" ] && break
        call org.endpointd.Keys1 GetDevicePublicKey '' '' >/dev/null 2>&1
        sleep 0.5
done
ep_assert_eq "$(ep_busctl get-property org.endpointd.Endpoint1 /org/endpointd/Endpoint1 $E TpmAvailable)" "b true" "TPM found again"
ep_assert_eq "$(ep_ctl device-id)" "$DEV" "device id unchanged after the TPM came back"
indep_expect_ok call org.endpointd.Keys1 Sign ay '(ay(b"x"),)'
indep_alive "TPM away and back"

ep_attack "identity binding: DeviceId, the device key, Sign; a forged TPMS_ATTEST signed by Sign is no quote"
ep_ctl device-key >"$W/device.pem" || ep_fail "device-key"
ep_assert_eq "$(openssl pkey -pubin -in "$W/device.pem" -outform DER | sha256sum | cut -d' ' -f1)" "$DEV" "DeviceId = SHA-256 of the key's DER"
printf 'dose=4.2' >"$W/data"
ep_ctl sign <"$W/data" >"$W/data.sig" || ep_fail "sign"
openssl dgst -sha256 -verify "$W/device.pem" -signature "$W/data.sig" "$W/data" >/dev/null || ep_fail "Sign output does not verify"
printf 'dose=9.9' >"$W/data2"
openssl dgst -sha256 -verify "$W/device.pem" -signature "$W/data.sig" "$W/data2" >/dev/null 2>&1 && ep_fail "a signature verifies for other data"
ep_ok "Sign output verifies for its data only"
mkdir -p "$W/q"
ep_ctl attest --nonce=00112233 --pcrs=7 --output="$W/q" >/dev/null || ep_fail "attest"
cmp -s "$W/q/ak.pem" "$W/device.pem" && ep_fail "the attestation key is the device key (Sign could forge quotes)"
# Have the device key sign the real quote body: as a quote signature it must not verify.
ep_ctl sign <"$W/q/quote.msg" >"$W/forged.der" || ep_fail "sign of a quote body"
tpm2_checkquote -u "$W/q/ak.pem" -m "$W/q/quote.msg" -s "$W/q/quote.sig" -f "$W/q/quote.pcrs" -l sha256:7 -g sha256 -q 00112233 >/dev/null 2>&1 ||
        ep_fail "the genuine quote does not verify"
openssl dgst -sha256 -verify "$W/q/ak.pem" -signature "$W/forged.der" "$W/q/quote.msg" >/dev/null 2>&1 &&
        ep_fail "a Sign() signature verifies under the attestation key"
ep_ok "Sign() cannot produce a signature the attestation key would vouch for"

ep_attack "a caller with only status.read reaches no integrity, keys or policy data"
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 1 "$EP_PY" "$EP_TMP/call.py" org.endpointd.Integrity1 GetViolations '' ''
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 1 "$EP_PY" "$EP_TMP/call.py" org.endpointd.Integrity1 GetMeasurements '' ''
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 1 "$EP_PY" "$EP_TMP/call.py" org.endpointd.Keys1 ListKeys '' ''
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 1 "$EP_PY" "$EP_TMP/call.py" org.endpointd.Policy1 GetPolicy '' ''
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 1 "$EP_PY" "$EP_TMP/call.py" org.endpointd.Policy1 ListGrants '' ''
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 1 "$EP_PY" "$EP_TMP/call.py" org.endpointd.Integrity1 Scan '' ''
indep_expect_ok ep_as 1 "$EP_PY" "$EP_TMP/call.py" org.endpointd.Keys1 GetDevicePublicKey '' ''
indep_expect_ok ep_as 1 "$EP_PY" "$EP_TMP/call.py" org.endpointd.Keys1 GetAttestationPublicKey '' ''

ep_attack "state files replaced by FIFOs and /dev/zero symlinks before a restart"
mkdir -p "$EP_STATE/grants" "$EP_STATE/licences"
rm -f "$EP_STATE/clock" "$EP_STATE/manifest.bundle" "$EP_STATE/measurements.log"
mkfifo "$EP_STATE/clock"
ln -s /dev/zero "$EP_STATE/manifest.bundle"
mkfifo "$EP_STATE/measurements.log"
ln -s /dev/zero "$EP_STATE/grants/z.grant"
ln -s /dev/zero "$EP_STATE/grants/z.grant.sig"
mkfifo "$EP_STATE/licences/f.licence" "$EP_STATE/licences/f.licence.sig"
ep_restart
indep_alive "odd state files"
ep_assert_eq "$(ep_busctl get-property org.endpointd.Endpoint1 /org/endpointd/Endpoint1 $E IntegrityState)" 's "unverified"' "runs unverified"
ep_assert_eq "$(ep_busctl get-property org.endpointd.Endpoint1 /org/endpointd/Endpoint1 $E ManifestSerial)" "t 0" "no manifest"
indep_expect_ok call org.endpointd.Policy1 ListGrants '' ''
ep_assert_eq "$INDEP_OUT" "OK ()" "no grant loaded"
indep_expect_ok call org.endpointd.Policy1 ListLicences '' ''
ep_assert_eq "$INDEP_OUT" "OK ()" "no licence loaded"
ep_assert_eq "$(ep_ctl device-id)" "$DEV" "same device id"
indep_alive "end"

ep_log "$EP_ATTACKS attacks"
ep_done
