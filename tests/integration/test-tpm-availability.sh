#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# No TPM at start, a TPM that appears, goes away and comes back: the daemon
# keeps serving, TpmAvailable follows, TPM calls fail with TpmUnavailable,
# and the identity and sealed secrets survive restarts and a wiped state.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-keys-lib.sh"

ep_setup
k_swtpm_stop tpm
ep_start
ep_assert_eq "$(k_prop TpmAvailable)" "b false" "TpmAvailable without a TPM"
ep_assert_eq "$(k_prop DeviceId)" 's ""' "DeviceId without a TPM"
ep_expect_error org.endpointd.Error.TpmUnavailable k_call Sign "$(k_ay data)"
ep_expect_error org.endpointd.Error.TpmUnavailable k_call CreateKey k1 "{}"
ep_expect_error org.endpointd.Error.TpmUnavailable k_call Seal s1 "$(k_ay x)" "{}"
ep_expect_error org.endpointd.Error.TpmUnavailable k_call Attest "$(k_ay n)" "@au []"
ep_expect_error org.endpointd.Error.TpmUnavailable k_call GetDevicePublicKey
ep_expect_exit 1 ep_ctl device-id
ep_ctl status >/dev/null || ep_fail "status fails without a TPM"
ep_ok "the daemon serves without a TPM"

# The TPM appears: picked up by the retry timer, announced by
# PropertiesChanged naming TpmAvailable and DeviceId (the values are read
# with Get, which needs status.read).
gdbus monitor --system -d org.endpointd.Endpoint1 -o /org/endpointd/Endpoint1 >"$EP_TMP/monitor.log" 2>&1 &
monitor=$!
EP_PIDS+=("$monitor")
for _ in $(seq 100); do grep -q "^Monitoring" "$EP_TMP/monitor.log" && break; sleep 0.1; done
k_swtpm_restart tpm
k_wait_prop TpmAvailable "b true"
for _ in $(seq 100); do grep -q "DeviceId" "$EP_TMP/monitor.log" && break; sleep 0.1; done
kill "$monitor" 2>/dev/null
ep_assert_contains "$(grep PropertiesChanged "$EP_TMP/monitor.log")" "'TpmAvailable'" "PropertiesChanged"
ep_assert_contains "$(grep PropertiesChanged "$EP_TMP/monitor.log")" "'DeviceId'" "PropertiesChanged"
case $(cat "$EP_TMP/monitor.log") in *"<true>"* | *"'DeviceId': <"*) ep_fail "PropertiesChanged carried a value" ;; esac
ep_ok "PropertiesChanged carries no value"
id=$(ep_ctl device-id) || ep_fail "device-id after the TPM appeared"
printf 'survivor' | ep_ctl seal s1 || ep_fail "seal after the TPM appeared"

# The TPM goes away while the daemon runs.
k_swtpm_stop tpm
ep_expect_error org.endpointd.Error.TpmUnavailable k_call Sign "$(k_ay data)"
ep_assert_eq "$(k_prop TpmAvailable)" "b false" "TpmAvailable after the TPM went away"
ep_expect_error org.endpointd.Error.TpmUnavailable k_call Unseal s1

# ... and comes back (same state, fresh power-on): SRK and device key are
# re-created, the secret unseals, the identity is unchanged.
k_swtpm_restart tpm
k_wait_prop TpmAvailable "b true"
ep_assert_eq "$(ep_ctl unseal s1)" "survivor" "secret unseals after the TPM restarted"
ep_assert_eq "$(ep_ctl device-id)" "$id" "device id after the TPM restarted"

# A TPM reset between two calls (swtpm restarted at once, so the next
# command reaches a fresh TPM that lacks the SRK and the device key): that
# call may fail with TpmUnavailable, the next ones work again.
lost=$(grep -c "Lost the TPM" "$EP_TMP/daemon.log")
k_swtpm_stop tpm
k_swtpm_restart tpm
ep_expect_error org.endpointd.Error.TpmUnavailable k_call Sign "$(k_ay data)"
[ "$(grep -c "Lost the TPM" "$EP_TMP/daemon.log")" -gt "$lost" ] || ep_fail "the reset was not noticed"
ep_assert_eq "$(ep_ctl unseal s1)" "survivor" "secret unseals after a TPM reset between calls"
printf 'data' | ep_ctl sign >/dev/null || ep_fail "sign after a TPM reset between calls"
ep_assert_eq "$(k_prop TpmAvailable)" "b true" "TpmAvailable after a TPM reset between calls"

# A daemon restart with a wiped state dir: same identity.
ep_stop
rm -rf "$EP_STATE"
ep_start
ep_assert_eq "$(ep_ctl device-id)" "$id" "device id after a wiped state dir"
ep_expect_error org.endpointd.Error.NotFound k_call Unseal s1
ep_done
