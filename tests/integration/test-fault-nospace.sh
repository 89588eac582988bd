#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fault: the state directory's file system fills up. The state dir is a
# tiny tmpfs (mounted by the test, in a mount namespace of its own); once it
# is full, every call that would store something (CreateKey, Seal,
# InstallManifest, InstallGrant) fails with org.endpointd.Error.NoSpace,
# every state file keeps its bytes, no temp file is left behind, the daemon
# stays up and serves what it already stored; with space freed the calls
# work again, and after a restart nothing that was acknowledged is lost.
if [ -z "${EP_FAULT_UNSHARED:-}" ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
        # The tmpfs disappears with the namespace, also if the test is killed.
        EP_FAULT_UNSHARED=1 exec unshare -m --propagation private "$BASH" "$0" "$@"
fi
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-keys-lib.sh"
. "$top_srcdir/tests/integration/test-integrity-lib.sh"
. "$top_srcdir/tests/integration/test-fault-lib.sh"
[ "$(id -u)" = 0 ] || ep_skip "mounting a tmpfs needs root"

f_setup
mkdir -p "$EP_STATE"
mount -t tmpfs -o size=512k,mode=0700 endpointd-fault "$EP_STATE" || ep_skip "cannot mount a tmpfs"
# Unmounted before lib.sh removes the temp dir (lazily: the daemon may
# still hold it when a check fails).
trap 'rc=$?; umount -l "$EP_STATE" 2>/dev/null; (exit $rc); ep_cleanup' EXIT
ep_start
T=$EP_TMP

# What is stored before the disk fills: a data key, a sealed secret, a
# ciphertext made with the key (kept outside the state dir), a manifest.
k_call CreateKey k1 "{}" >/dev/null || ep_fail "CreateKey k1"
k_call Seal s1 "$(k_ay 'infusion rate table v1')" "{}" >/dev/null || ep_fail "Seal s1"
ep_ctl encrypt k1 <<<"patient 42" >"$T/ct" || ep_fail "encrypt with k1"
it_manifest 1 "$T/m1"
it_install "$T/m1" "$T/m1.sig" || ep_fail "manifest 1 not installed"
ep_assert_eq "$(it_prop ManifestSerial)" "1" "serial before the disk fills"

# f_state: names and hashes of the state files (the filler left out).
f_state() { k_state | grep -v '/filler$'; }

# Fill the file system: blocks first, then what a small file still gets.
dd if=/dev/zero of="$EP_STATE/filler" bs=4k status=none 2>/dev/null
ep_assert_eq "$(df --output=avail -k "$EP_STATE" | tail -n 1 | tr -d ' ')" 0 "free KiB on the full state fs"
before=$(f_state)

# f_nospace CMD...: CMD fails with NoSpace and the state files are unchanged.
f_nospace() {
        ep_expect_error org.endpointd.Error.NoSpace "$@"
        ep_assert_eq "$(f_state)" "$before" "state files after '$*'"
        [ -z "$(find "$EP_STATE" -name '*.tmp-*')" ] || ep_fail "temp files left: $(find "$EP_STATE" -name '*.tmp-*')"
}
f_nospace k_call CreateKey k2 "{}"
f_nospace k_call Seal s2 "$(k_ay 'a new secret')" "{}"
mkdir -p "$EP_ROOT/lib"
head -c 3000 /dev/urandom >"$EP_ROOT/lib/libpump.so"
it_manifest 2 "$T/m2"
out=$(it_install_result "$T/m2" "$T/m2.sig")
ep_assert_contains "$out" "org.endpointd.Error.NoSpace" "InstallManifest on a full disk"
ep_assert_eq "$(f_state)" "$before" "state files after InstallManifest"
ep_assert_eq "$(it_prop ManifestSerial)" "1" "serial after the refused install"
device=$(ep_ctl device-id) || ep_fail "device-id"
printf '[Grant]\nId=visit-1\nDevice=%s\nSubject=user:daemon\nRoles=service\nNotBefore=%s\nNotAfter=%s\n' \
        "$device" "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" "$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)" \
        >"$T/g.grant"
ep_sign_grant "$T/g.grant" "$T/g.sig"
cat >>"$EP_POLICY" <<'EOF'

[Role]
Name=service
Permissions=policy.reload
EOF
ep_expect_exit 0 ep_ctl policy reload
f_grant() {
        gdbus call --system -d org.endpointd.Endpoint1 -o /org/endpointd/Endpoint1 \
                -m org.endpointd.Policy1.InstallGrant "$(k_ay_file "$T/g.grant")" "$(k_ay_file "$T/g.sig")"
}
f_nospace f_grant

# The daemon is up and serves what it stored before.
kill -0 "$EP_DAEMON_PID" || ep_fail "endpointd died on a full disk"
ep_assert_eq "$(ep_ctl decrypt k1 <"$T/ct")" "patient 42" "decrypt with k1 on a full disk"
ep_assert_contains "$(k_call Unseal s1)" "0x69, 0x6e, 0x66" "unseal s1 on a full disk"

# Space again: the same calls work, and a restart keeps all of them.
rm -f "$EP_STATE/filler"
ep_expect_exit 0 k_call CreateKey k2 "{}"
ep_expect_exit 0 k_call Seal s2 "$(k_ay 'a new secret')" "{}"
ep_assert_eq "$(it_install_result "$T/m2" "$T/m2.sig")" success "InstallManifest with space"
ep_assert_eq "$(ep_ctl grant install "$T/g.grant" "$T/g.sig")" visit-1 "grant installed with space"
ep_restart
ep_assert_eq "$(ep_ctl decrypt k1 <"$T/ct")" "patient 42" "decrypt with k1 after restart"
ep_ctl encrypt k2 <<<"x" >/dev/null || ep_fail "k2 lost across the restart"
ep_ok "k2 works after the restart"
ep_assert_contains "$(k_call Unseal s2)" "0x61, 0x20, 0x6e" "unseal s2 after restart"
ep_assert_eq "$(it_prop ManifestSerial)" "2" "serial after restart"
ep_assert_contains "$(ep_ctl grant list)" "visit-1" "grant after restart"
ep_done
