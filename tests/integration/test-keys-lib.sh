# SPDX-License-Identifier: LGPL-2.1-or-later
# Helpers of the Keys1 integration tests (sourced after lib.sh).

command -v gdbus >/dev/null || ep_skip "gdbus is not installed"

# k_call METHOD ARGS...: calls a Keys1 method with gdbus, which prints the
# D-Bus error name on failure (endpointctl prints only the sentence).
k_call() {
        gdbus call --system -d org.endpointd.Endpoint1 -o /org/endpointd/Endpoint1 \
                -m "org.endpointd.Keys1.$1" "${@:2}"
}

# k_state: a listing with hashes of the key store, to prove a refused call
# changed nothing on disk.
k_state() {
        # The audit log is left out: a refused call is (rightly) a record there.
        (cd "$EP_STATE" && find . -path ./audit -prune -o -print0 | sort -z | xargs -0 -r sh -c \
                'for f; do if [ -f "$f" ]; then sha256sum "$f"; else echo "dir $f"; fi; done' sh)
}

# k_refused NAME CMD...: CMD fails naming NAME and the state dir is unchanged.
k_refused() {
        local before after
        before=$(k_state)
        ep_expect_error "$@"
        after=$(k_state)
        [ "$before" = "$after" ] || ep_fail "state changed by refused call: $*"
}

k_tpm2() { TPM2TOOLS_TCTI=$EP_TCTI_tpm "$@"; }

# k_transient: number of transient objects loaded in the test's swtpm.
k_transient() { k_tpm2 tpm2_getcap handles-transient | grep -c '^-' || true; }

# k_ay_file FILE / k_ay STRING: a GVariant "ay" literal for gdbus.
k_ay_file() {
        local bytes
        bytes=$(od -An -v -tx1 "$1" | tr -s ' \n' ' ' | sed -e 's/^ //' -e 's/ $//' -e 's/ /, 0x/g')
        if [ -z "$bytes" ]; then echo "@ay []"; else echo "[byte 0x$bytes]"; fi
}
k_ay() { printf '%s' "$1" >"$EP_TMP/ay.tmp"; k_ay_file "$EP_TMP/ay.tmp"; }

# k_prop NAME: an Endpoint1 property as busctl prints it ("b true").
k_prop() {
        ep_busctl get-property org.endpointd.Endpoint1 /org/endpointd/Endpoint1 org.endpointd.Endpoint1 "$1"
}

# k_wait_prop NAME VALUE: waits (up to 60 s) until the property has VALUE.
k_wait_prop() {
        for _ in $(seq 600); do
                [ "$(k_prop "$1" 2>/dev/null)" = "$2" ] && { ep_ok "$1 became $2"; return 0; }
                sleep 0.1
        done
        ep_fail "$1 did not become $2 (is $(k_prop "$1"))"
}

# k_swtpm_stop NAME / k_swtpm_restart NAME: stop the swtpm lib.sh started
# as NAME, and start it again on the same port with the same state.
k_swtpm_stop() {
        local pidvar="EP_SWTPM_PID_$1"
        kill -TERM "${!pidvar}" 2>/dev/null
        wait "${!pidvar}" 2>/dev/null
        return 0
}

k_swtpm_restart() {
        local portvar="EP_SWTPM_PORT_$1"
        ep_start_swtpm "$1" "${!portvar}"
}
