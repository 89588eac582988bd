#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The README's quick-start demo (demo/run.sh) runs to its end: every
# capability's part succeeds and endpointd stops with status 0.
. "$top_srcdir/tests/integration/lib.sh"

out=$(NO_COLOR=1 "$top_srcdir/demo/run.sh" "$top_builddir" 2>&1)
rc=$?
[ "$rc" -eq 0 ] || ep_fail "demo/run.sh exited $rc: $(tail -n 20 <<<"$out")"
ep_ok "demo/run.sh exit 0"
ep_assert_contains "$out" "Demo complete." "the demo's last line"
ep_assert_contains "$out" "Integrity state: trusted" "the demo device ends trusted"
ep_assert_contains "$out" "The device returned the verifier's secret" "the enrolment step"
ep_assert_contains "$out" "endpointd exited with status 0" "a clean stop"
ep_done
