#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The daemon's layering rule (STYLE.md, issue 9): a module of src/daemon
# knows nothing of the bus or the manager. Only the bus layer (bus-*.c,
# bus-*.h), the composition root (manager.c, manager.h) and main.c may
# include <systemd/sd-bus.h>, a bus-*.h or manager.h. Modules report what
# happens through the sinks they were given (events.h and their own sink
# structs). Fails naming each file and line that breaks the rule.
set -eu
srcdir=${top_srcdir:-$(dirname "$0")/..}
status=0
for f in "$srcdir"/src/daemon/*.c "$srcdir"/src/daemon/*.h; do
        base=${f##*/}
        case "$base" in
        bus-*.c | bus-*.h | manager.c | manager.h | main.c) continue ;;
        esac
        if grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]((systemd/)?sd-bus\.h|bus-[^">]*\.h|manager\.h)[">]' "$f" >"${TMPDIR:-/tmp}/layers.$$" 2>/dev/null; then
                while IFS= read -r line; do
                        echo "src/daemon/$base:$line: a module must not include the bus layer or the manager" >&2
                done <"${TMPDIR:-/tmp}/layers.$$"
                status=1
        fi
        # Nor call up into them.
        if grep -nE '\b(manager_[a-z_]+|bus_[a-z_]+)\(' "$f" | grep -vE 'bus_errors?_' >"${TMPDIR:-/tmp}/layers.$$"; then
                while IFS= read -r line; do
                        echo "src/daemon/$base:$line: a module must not call into the bus layer or the manager" >&2
                done <"${TMPDIR:-/tmp}/layers.$$"
                status=1
        fi
done
rm -f "${TMPDIR:-/tmp}/layers.$$"
[ "$status" -eq 0 ] && echo "check-daemon-layers: every module of src/daemon keeps out of the bus layer and the manager"
exit "$status"
