#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Executable= binding: rights bound to one binary hold only for a caller
# running that path with the content the signed manifest lists. The same
# uid running another binary, or the same path with changed content, does
# not get them.
. "$top_srcdir/tests/integration/lib.sh"

ep_setup --no-tpm
ep_pki_init
ep_config Integrity Watch no
mkdir -p "$EP_ROOT/bin"
cp "$EP_BUILD/endpointctl" "$EP_ROOT/bin/pump-ui"
cp "$EP_BUILD/endpointctl" "$EP_ROOT/bin/other-tool"
chmod 0755 "$EP_ROOT" "$EP_ROOT/bin" "$EP_ROOT/bin/pump-ui" "$EP_ROOT/bin/other-tool"
{
        printf '\n[Role]\nName=asker\nPermissions=policy.read\n'
        printf '\n[Role]\nName=pump\nPermissions=status.read keys.use:infusion\n'
        printf '\n[Subject]\nUser=sys\nRoles=asker\n'
        printf '\n[Subject]\nUser=sys\nRoles=pump\nExecutable=%s\n' "$EP_ROOT/bin/pump-ui"
} >>"$EP_POLICY"
ep_start

# No manifest yet: nothing can match, the binding gives nothing.
ep_expect_exit 4 ep_as 3 "$EP_ROOT/bin/pump-ui" status

ep_ctl manifest create "$EP_ROOT" --serial 1 --output "$EP_TMP/manifest" >/dev/null ||
        ep_fail "manifest create failed"
ep_sign "$EP_TMP/manifest" "$EP_TMP/manifest.sig"
ep_expect_exit 0 ep_ctl manifest install "$EP_TMP/manifest" "$EP_TMP/manifest.sig"

# The allowed binary gets in ...
ep_expect_exit 0 ep_as 3 "$EP_ROOT/bin/pump-ui" status
ep_expect_exit 0 ep_as 3 "$EP_ROOT/bin/pump-ui" policy check keys.use:infusion
ep_assert_contains "$(cat "$EP_TMP/last.out")" "running $EP_ROOT/bin/pump-ui" "reason names the binary"
# ... another binary of the same uid does not (also one listed in the manifest) ...
ep_expect_exit 4 ep_as 3 "$EP_ROOT/bin/other-tool" status
ep_expect_exit 4 ep_as 3 "$EP_BUILD/endpointctl" status
ep_expect_exit 4 ep_as 3 "$EP_BUILD/endpointctl" policy check keys.use:infusion
# ... nor another uid running the allowed binary.
ep_expect_exit 4 ep_as 1 "$EP_ROOT/bin/pump-ui" status

# The same path with changed content: the digest no longer matches.
cp "$EP_ROOT/bin/pump-ui" "$EP_TMP/pump-ui.new"
printf 'x' >>"$EP_TMP/pump-ui.new"
chmod 0755 "$EP_TMP/pump-ui.new"
mv "$EP_TMP/pump-ui.new" "$EP_ROOT/bin/pump-ui"
ep_expect_exit 4 ep_as 3 "$EP_ROOT/bin/pump-ui" status
ep_assert_contains "$(cat "$EP_TMP/daemon.log")" "does not match the manifest" "mismatch logged"
# Its unbound rights are unaffected.
ep_expect_exit 0 ep_as 3 "$EP_ROOT/bin/pump-ui" policy check policy.read

# A clean exit (also: no memcheck errors when run under valgrind).
ep_stop
ep_assert_eq "$EP_DAEMON_RC" 0 "daemon exit status"

ep_done
