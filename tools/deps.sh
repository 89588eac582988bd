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
        # fuzzing and sanitizers
        clang libclang-rt-14-dev
        # benchmarks
        aide hyperfine
)

if [ "$(id -u)" -ne 0 ]; then
        echo "tools/deps.sh: run as root (it installs Debian packages)" >&2
        exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
