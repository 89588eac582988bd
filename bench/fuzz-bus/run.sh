#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The bus fuzzer for longer than CI runs it: tests/integration/
# test-fault-fuzz-bus.sh (root and an unprivileged uid at once) for SECONDS
# (default 600), from SEED if given. Usage: bench/fuzz-bus/run.sh BUILD_DIR [SECONDS] [SEED]
set -euo pipefail
build=$(cd "${1:?usage: run.sh BUILD_DIR [SECONDS] [SEED]}" && pwd)
secs=${2:-600}
make -C "$build" fuzz-bus >/dev/null
EP_FUZZ_BUS_SECONDS=$secs ${3:+EP_FUZZ_BUS_SEED=$3} \
        make -C "$build" check TESTS=tests/integration/test-fault-fuzz-bus.sh
grep -E '^fuzz-bus:|^  org\.(freedesktop|endpointd)\.(DBus\.)?Error|^  \(success\)' \
        "$build/tests/integration/test-fault-fuzz-bus.log"
