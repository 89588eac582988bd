#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The salted policy session that Unseal keeps between calls (issue 12): one
# loaded session while the daemon idles, no transient object left behind,
# the TPM free for other clients between operations (swtpm serves one
# connection at a time), a fresh session after a failed Unseal, none left
# after a clean stop, and the one a killed daemon kept flushed at the next
# start.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-keys-lib.sh"
command -v tpm2_getcap >/dev/null || ep_skip "tpm2-tools are not installed"

# k_sessions: number of sessions loaded in the test's swtpm.
k_sessions() { k_tpm2 timeout 60 tpm2_getcap handles-loaded-session | grep -c '^-' || true; }

ep_setup
ep_start
head -c 48 /dev/urandom >"$EP_TMP/secret"
ep_ctl seal s1 <"$EP_TMP/secret" || ep_fail "seal"
ep_ctl seal s16 --pcrs 16 <"$EP_TMP/secret" || ep_fail "seal to PCR 16"
ep_assert_eq "$(k_sessions)" 0 "Seal leaves no session loaded"
for i in 1 2 3; do
        ep_ctl unseal s1 | cmp -s - "$EP_TMP/secret" || ep_fail "unseal $i differs"
done
ep_ok "three Unseals in one kept session give the secret"
ep_assert_eq "$(k_sessions)" 1 "one session kept while idle"
ep_assert_eq "$(k_transient)" 2 "only the SRK and the device key stay loaded"

# Between operations the connection is closed: a tool gets its turn (the
# getcap calls above already depend on it), also right after an Unseal.
ep_ctl unseal s1 >/dev/null || ep_fail "unseal"
k_tpm2 timeout 60 tpm2_pcrread sha256:16 >/dev/null || ep_fail "tpm2_pcrread after an Unseal did not get the TPM"
ep_ok "the TPM answers another client between the daemon's operations"

# A failed Unseal (policy): the session is dropped, the next one starts anew.
k_tpm2 tpm2_pcrextend 16:sha256=$(printf '%064d' 1) || ep_fail "tpm2_pcrextend failed"
ep_expect_error org.endpointd.Error.PcrMismatch k_call Unseal s16
ep_assert_eq "$(k_sessions)" 0 "the session is flushed after a failed Unseal"
ep_ctl unseal s1 | cmp -s - "$EP_TMP/secret" || ep_fail "unseal after a failure differs"
ep_assert_eq "$(k_sessions)" 1 "a new session after the failure"

ep_stop
ep_assert_eq "$(k_sessions)" 0 "a stopped daemon flushes its session"

# A killed daemon cannot flush; the next start does.
ep_start
ep_ctl unseal s1 >/dev/null || ep_fail "unseal"
ep_stop KILL
ep_assert_eq "$(k_sessions)" 1 "a killed daemon leaves its session"
ep_start
ep_assert_contains "$(cat "$EP_TMP/daemon.log")" "Flushed 3 transient TPM objects or sessions left behind by an earlier process." \
        "start-up flushes it (and the SRK and device key the killed daemon kept)"
ep_assert_eq "$(k_sessions)" 0 "no session loaded after the restart"
ep_ctl unseal s1 | cmp -s - "$EP_TMP/secret" || ep_fail "unseal after the restart differs"
ep_ok "unseal after the restart"
ep_done
