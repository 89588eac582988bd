#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Unit= and Executable= bindings: rights bound to a system service unit
# hold only for callers of that uid whose process runs in the unit, and,
# with Executable=, only while the file the unit runs matches the signed
# manifest. The same uid outside the unit, another uid inside it, or the
# unit with its binary changed on disk, do not get them.
. "$top_srcdir/tests/integration/lib.sh"

ep_setup --no-tpm
ep_pki_init
ep_unit_create pump
ep_config Integrity Watch no
mkdir -p "$EP_ROOT/bin"
cp "$EP_BUILD/endpointctl" "$EP_ROOT/bin/pump-ui"
cp "$EP_BUILD/endpointctl" "$EP_ROOT/bin/other-tool"
chmod 0755 "$EP_ROOT" "$EP_ROOT/bin" "$EP_ROOT/bin/pump-ui" "$EP_ROOT/bin/other-tool"
{
        printf '\n[Role]\nName=asker\nPermissions=policy.read\n'
        printf '\n[Role]\nName=pump\nPermissions=status.read keys.use:infusion\n'
        printf '\n[Subject]\nUser=sys\nRoles=asker\n'
        printf '\n[Subject]\nUser=sys\nRoles=pump\nUnit=%s\nExecutable=%s\n' "$EP_UNIT" "$EP_ROOT/bin/pump-ui"
} >>"$EP_POLICY"
ep_start

# No manifest yet: nothing can match, the binding gives nothing.
ep_expect_exit 4 ep_in_unit "$EP_UNIT" 3 "$EP_ROOT/bin/pump-ui" status

ep_ctl manifest create "$EP_ROOT" --serial 1 --output "$EP_TMP/manifest" >/dev/null ||
        ep_fail "manifest create failed"
ep_sign "$EP_TMP/manifest" "$EP_TMP/manifest.sig"
ep_expect_exit 0 ep_ctl manifest install "$EP_TMP/manifest" "$EP_TMP/manifest.sig"

# The unit's program gets in ...
ep_expect_exit 0 ep_in_unit "$EP_UNIT" 3 "$EP_ROOT/bin/pump-ui" status
ep_expect_exit 0 ep_in_unit "$EP_UNIT" 3 "$EP_ROOT/bin/pump-ui" policy check keys.use:infusion
ep_assert_contains "$(cat "$EP_TMP/last.out")" "in $EP_UNIT running $EP_ROOT/bin/pump-ui" "reason names unit and binary"
# ... so does any program in the unit: what runs there is the unit's
# configuration's business; Executable= checks the file it names ...
ep_expect_exit 0 ep_in_unit "$EP_UNIT" 3 "$EP_ROOT/bin/other-tool" status
# ... the same uid outside the unit does not, whatever it runs ...
ep_expect_exit 4 ep_as 3 "$EP_ROOT/bin/pump-ui" status
ep_expect_exit 4 ep_as 3 "$EP_BUILD/endpointctl" policy check keys.use:infusion
ep_assert_contains "$(cat "$EP_TMP/last.out")" "is not in $EP_UNIT" "reason says why"
# ... nor another uid in the unit.
ep_expect_exit 4 ep_in_unit "$EP_UNIT" 1 "$EP_ROOT/bin/pump-ui" status

# The binary changed on disk: the digest no longer matches.
cp "$EP_ROOT/bin/pump-ui" "$EP_TMP/pump-ui.new"
printf 'x' >>"$EP_TMP/pump-ui.new"
chmod 0755 "$EP_TMP/pump-ui.new"
mv "$EP_TMP/pump-ui.new" "$EP_ROOT/bin/pump-ui"
ep_expect_exit 4 ep_in_unit "$EP_UNIT" 3 "$EP_ROOT/bin/other-tool" status
ep_assert_contains "$(cat "$EP_TMP/daemon.log")" "does not match the manifest" "mismatch logged"
# Its unbound rights are unaffected.
ep_expect_exit 0 ep_in_unit "$EP_UNIT" 3 "$EP_ROOT/bin/pump-ui" policy check policy.read

# A clean exit (also: no memcheck errors when run under valgrind).
ep_stop
ep_assert_eq "$EP_DAEMON_RC" 0 "daemon exit status"

ep_done
