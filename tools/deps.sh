#!/bin/bash
# Installs every Debian 12 package endpointd needs to build, test, run the
# demo and the benchmarks. One list, used by tools/quickstart and .ci/run.
set -euo pipefail

PACKAGES=(
        # build
        build-essential autoconf automake libtool pkg-config git
        libsystemd-dev libssl-dev libtss2-dev libseccomp-dev libjson-c-dev libcap-dev check
        # run and test against real parts
        systemd dbus dbus-bin swtpm swtpm-tools tpm2-tools openssl util-linux procps
        jq libarchive-tools mtree-netbsd faketime valgrind cppcheck
        # the pager tests run the real less; indep2-units traces a client with strace
        less strace
        # tools/static-analysis: clang-tidy, and scan-build from clang-tools
        clang-tidy clang-tools
        # gdbus: the key, TPM and integrity tests call the bus with it;
        # python3-dbus: test-integrity-measure and bench/scan call Attest with it;
        # python3-gi (only recommended by python3-dbus): the GLib main loop of
        # the Subscribe and flood clients (it_subscribe, attack-07, attack-08)
        libglib2.0-bin python3 python3-dbus python3-gi
        # make distcheck in .ci/run (dist-xz)
        xz-utils
        # fuzzing and sanitizers
        clang libclang-rt-14-dev
        # benchmarks
        aide hyperfine
        # bench/manifest and bench/scan: /usr/bin/time, bc
        time bc
)

if [ "$(id -u)" -ne 0 ]; then
        echo "tools/deps.sh: run as root (it installs Debian packages)" >&2
        exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
