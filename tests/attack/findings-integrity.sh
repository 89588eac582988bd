#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Written by an independent tester from the man pages and the D-Bus contract
# alone, without reading the implementation.
#
# Findings on Integrity1: attacks the daemon did not resist when they were found.
# Each test asserts the documented behaviour; they failed until the daemon
# was fixed and now run in the suite (mk/attack.am) as regression tests.
#   1. InstallManifest with an O_PATH descriptor and with a write-only
#      descriptor of a regular file: endpointd-dbus(7) allows only
#      InvalidArgs for "not a regular file or a finished pipe" (and only
#      AccessDenied, InvalidArgs or org.endpointd.Error.* names at all);
#      the daemon answers System.Error.EBADF.
#   2. a listed file replaced, again and again, by a FIFO, a character
#      device or a symlink to /dev/zero, each time checked with VerifyFile:
#      endpointd(8) says such a file is lstat'ed first and reported, never
#      opened, and endpointctl(1) calls that kind "type"; about one call in
#      sixty answers "unreadable" instead (for a FIFO and for a symlink that
#      stay in place during the whole call), and once in 120 calls the
#      reply did not come within python-dbus's 60 s (NoReply)
#   3. rollback through the state directory: someone who can write it
#      deletes manifest.bundle (the only place the installed serial is
#      kept) and waits for a restart; then an older, validly signed
#      manifest installs again. DESIGN.md: "The serial must grow with every
#      install (anti-rollback)"; endpointd-manifest(5) only compares with
#      "the installed one", so the man pages do not promise more: a gap
#      between the threat model and the documented behaviour
. "$top_srcdir/tests/attack/lib.sh"
. "$top_srcdir/tests/attack/indep-lib.sh"

ep_setup
ep_pki_init
ep_config Integrity ScanInterval infinity
echo "pump firmware 4.2" >"$EP_ROOT/pumpd"
mkdir -p "$EP_ROOT/etc"
echo "rate=4" >"$EP_ROOT/etc/pump.conf"
ep_start
indep_write_helper
I=org.endpointd.Integrity1
W=$EP_TMP/work
mkdir -p "$W"
ep_ctl manifest create "$EP_ROOT" --serial 20 --output "$W/m20" >/dev/null || ep_fail "manifest create"
ep_sign "$W/m20" "$W/m20.sig"
# Each attack's checks run in a subshell, so that one attack that is not
# resisted does not hide the others; the script fails if any was not.
INDEP_FINDINGS=0
finding() { ( "$@" ) || INDEP_FINDINGS=$((INDEP_FINDINGS + 1)); }

opath() {
ep_expect_error org.freedesktop.DBus.Error.InvalidArgs call $I InstallManifest hh "(fd(os.open('$W/m20', os.O_PATH)), fd(os.open('$W/m20.sig', os.O_RDONLY)))"
ep_expect_error org.freedesktop.DBus.Error.InvalidArgs call $I InstallManifest hh "(fd(os.open('$W/m20', os.O_RDONLY)), fd(os.open('$W/m20.sig', os.O_PATH)))"
ep_expect_error org.freedesktop.DBus.Error.InvalidArgs call $I InstallManifest hh "(fd(os.open('$W/m20', os.O_WRONLY)), fd(os.open('$W/m20.sig', os.O_RDONLY)))"
ep_assert_eq "$(ep_busctl get-property org.endpointd.Endpoint1 /org/endpointd/Endpoint1 org.endpointd.Endpoint1 ManifestSerial)" "t 0" "nothing installed"
}
ep_attack "InstallManifest with an O_PATH descriptor and a write-only descriptor of a regular file"
finding opath
indep_alive "O_PATH descriptors"

ep_ctl manifest install "$W/m20" "$W/m20.sig" >/dev/null || ep_fail "manifest install"
special() {
        local F=$EP_ROOT/etc/pump.conf bad=0 kind out
        cp -a "$F" "$W/pump.conf.orig"
        for round in $(seq 60); do
                for kind in fifo chardev symlink; do
                        rm -f "$F"
                        case $kind in
                        fifo) mkfifo "$F" ;;
                        chardev) mknod "$F" c 1 5 ;;
                        symlink) ln -s /dev/zero "$F" ;;
                        esac
                        out=$(timeout 10 "$EP_PY" "$EP_TMP/call.py" org.endpointd.Integrity1 VerifyFile s '("etc/pump.conf",)' 2>&1)
                        case $out in
                        "OK (type, "*) ;;
                        *) ep_log "round $round, $kind in a file's place: expected type within 10 s, got: ${out:-no answer}"; bad=1 ;;
                        esac
                        rm -f "$F"
                        cp -a "$W/pump.conf.orig" "$F"
                done
        done
        [ $bad = 0 ] || ep_fail "VerifyFile did not always answer type at once"
        ep_ok "180 special files reported as type"
}
ep_attack "a listed file replaced 180 times by a FIFO, a device node or a symlink, each checked with VerifyFile"
finding special
indep_alive "special files"

ep_ctl manifest create "$EP_ROOT" --serial 30 --output "$W/m30" >/dev/null || ep_fail "manifest create"
ep_sign "$W/m30" "$W/m30.sig"
ep_ctl manifest install "$W/m30" "$W/m30.sig" >/dev/null || ep_fail "install of serial 30"
rm -f "$EP_STATE/manifest.bundle"
ep_restart
rollback() {
        ep_expect_error org.endpointd.Error.Rollback call $I InstallManifest hh "(fd(os.open('$W/m20', os.O_RDONLY)), fd(os.open('$W/m20.sig', os.O_RDONLY)))"
}
ep_attack "rollback after the state-directory writer deleted manifest.bundle: serial 20 after serial 30"
finding rollback
indep_alive "rollback"

[ "$INDEP_FINDINGS" -eq 0 ] || ep_fail "$INDEP_FINDINGS of $EP_ATTACKS attacks not resisted"
ep_log "$EP_ATTACKS attacks"
ep_done
