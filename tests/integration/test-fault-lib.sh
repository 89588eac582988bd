# SPDX-License-Identifier: LGPL-2.1-or-later
# Helpers of the tests/integration/test-fault-*.sh tests (sourced after
# lib.sh, test-keys-lib.sh and test-integrity-lib.sh; not a test itself).

# f_setup: a test's parts with a trust store, sealing to the debug PCR 16,
# no inotify watch (the faults are injected by hand), and a device tree of
# one file, bin/pumpd. The caller may add ep_config lines before ep_start.
f_setup() {
        ep_setup
        ep_pki_init
        ep_config TPM PCRs 16
        ep_config Integrity Watch no
        mkdir -p "$EP_ROOT/bin"
        echo pump >"$EP_ROOT/bin/pumpd"
}
