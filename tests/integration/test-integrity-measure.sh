#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# PCR measurement: the measurement log, replayed as a verifier would,
# reproduces the MeasurementPCR= value the TPM reports in a quote; each scan
# entry's digest is the SHA-256 of its description; the install entry's is
# the manifest file's.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-integrity-lib.sh"

/usr/bin/python3 -c 'import dbus' 2>/dev/null || ep_skip "python3-dbus is needed to call Attest"
ep_setup
ep_pki_init
ep_config Integrity Watch no
ep_config TPM MeasurementPCR 15
mkdir -p "$EP_ROOT/bin"
echo "pump" >"$EP_ROOT/bin/pumpd"
ep_start
ep_assert_eq "$(it_prop TpmAvailable)" true "the TPM is there"

it_manifest 1 "$EP_TMP/m"
it_install "$EP_TMP/m" "$EP_TMP/m.sig" || ep_fail "install failed"
ep_expect_exit 0 ep_ctl --no-progress scan
echo tampered >>"$EP_ROOT/bin/pumpd"
ep_expect_exit 5 ep_ctl --no-progress scan
ep_ctl --json measurements >"$EP_TMP/log.json" || ep_fail "measurements failed"
# install, the scan it starts, perhaps a second clean scan, the violated one
[ "$(jq length "$EP_TMP/log.json")" -ge 3 ] || ep_fail "too few log entries: $(cat "$EP_TMP/log.json")"
ep_assert_contains "$(jq -r '.[-1].description' "$EP_TMP/log.json")" "verdict=violated violations=1" "the last entry"
ep_assert_eq "$(jq -r '.[0].digest' "$EP_TMP/log.json")" "$(sha256sum "$EP_TMP/m" | cut -d' ' -f1)" \
        "the install entry is the manifest's SHA-256"
ep_assert_eq "$(jq -r '[.[] | .pcr] | unique | join(",")' "$EP_TMP/log.json")" 15 "all entries name PCR 15"

out=$(/usr/bin/python3 - "$EP_TMP/log.json" <<'PY'
import dbus, hashlib, json, os, sys
log = json.load(open(sys.argv[1]))
pcr = bytes(32)
for e in log:
    if e["description"].endswith("[not extended]"):
        continue
    d = bytes.fromhex(e["digest"])
    if e["description"].startswith("scan ") and hashlib.sha256(e["description"].encode()).digest() != d:
        print("scan entry digest is not the SHA-256 of its description"); sys.exit(0)
    pcr = hashlib.sha256(pcr + d).digest()
bus = dbus.bus.BusConnection(os.environ["DBUS_SYSTEM_BUS_ADDRESS"])
keys = dbus.Interface(bus.get_object("org.endpointd.Endpoint1", "/org/endpointd/Endpoint1"), "org.endpointd.Keys1")
quote, sig, values = keys.Attest(dbus.ByteArray(os.urandom(16)), dbus.Array([dbus.UInt32(15)], signature="u"))
tpm = bytes(values)
print("replay=%s tpm=%s" % (pcr.hex(), tpm.hex()))
PY
) || ep_fail "the replay script failed"
ep_log "$out"
replay=${out#replay=}; replay=${replay%% *}
ep_assert_eq "${out##*tpm=}" "$replay" "the replayed log equals the quoted PCR 15"
ep_done
