#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The audit log's costs: appends per second with fdatasync per record (the
# default durability of endpointd-audit(5)) and with sync interval 50 ms, and
# offline verification in MiB/s.
#
#   bench/audit/run.sh [BUILDDIR] [DIR]   (defaults: ./build, a temp dir in /var/tmp)
set -eu
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
builddir=$(cd "${1:-$top_srcdir/build}" && pwd)
make -C "$builddir" audit-bench >/dev/null
dir=$(mktemp -d "${2:-/var/tmp}/ep-audit-bench-XXXXXX")
trap 'rm -rf "$dir"' EXIT
echo "### Audit log ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg), $(df -T "$dir" | awk 'NR==2 {print $2}') at $(dirname "$dir"))"
"$builddir/audit-bench" "$dir" "${SECONDS_PER_RUN:-3}" "${SIZE_MIB:-64}"
