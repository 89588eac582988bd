#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Manifests made by the tools a manufacturer already has: bsdtar
# --format=mtree, NetBSD `mtree -c` and `endpointctl manifest create`, over
# one tree with awkward names, each signed with `openssl cms`. All three
# parse and verify with `endpointctl manifest check`, describe the same
# entries, and -- when the daemon serves InstallManifest -- install and
# verify the tree as trusted.
. "$top_srcdir/tests/integration/lib.sh"

command -v bsdtar >/dev/null || ep_skip "bsdtar (libarchive-tools) is not installed"
command -v mtree >/dev/null || ep_skip "mtree (mtree-netbsd) is not installed"

ep_setup --no-tpm
ep_pki_init
ep_config Integrity Watch no
R=$EP_ROOT
M=$EP_TMP/m
mkdir -p "$R/usr/bin" "$R/usr/lib/pump" "$R/etc/with space" "$R/var/empty"
printf 'pump firmware\n' >"$R/usr/bin/pumpd"
chmod 4755 "$R/usr/bin/pumpd"
head -c 300000 /dev/urandom >"$R/usr/lib/pump/table.bin"
ln -s pumpd "$R/usr/bin/pump"
ln -s "../lib/pump/table.bin" "$R/usr/bin/link with space"
printf 'a\n' >"$R/etc/with space/new
line"
printf 'b\n' >"$R/etc/back\\slash"
printf 'c\n' >"$R/etc/#hash=eq"
printf 'd\n' >"$R/etc/$(printf 'caf\351')"
printf 'e\n' >"$R/etc/tab	stop"
mkfifo "$R/var/fifo"
# (No directory name with a newline: mtree -c writes directory names
# unescaped into its comment lines, see endpointd-manifest(5).)

release() { echo "# endpointd: serial=$1 product=tools-test version=1.$1"; }

{
        echo "#mtree"
        release 1
        bsdtar --format=mtree --options='!all,type,mode,uid,gid,size,link,sha256' -cf - -C "$R" .
} >"$M.bsdtar" || ep_fail "bsdtar failed"
{
        release 2
        mtree -c -K sha256 -p "$R"
} >"$M.mtree" || ep_fail "mtree -c failed"
ep_ctl manifest create "$R" --serial 3 --product tools-test --version 1.3 --output "$M.ctl" ||
        ep_fail "endpointctl manifest create failed"
ep_ok "bsdtar, mtree -c and endpointctl manifest create wrote manifests"
grep -q 'new\\012line' "$M.bsdtar" || ep_fail "bsdtar did not escape the newline as expected"
grep -q 'new\\nline' "$M.mtree" || ep_fail "mtree -c did not escape the newline as expected"
ep_ok "the tools used their two escape styles"

# The other way round: NetBSD mtree verifies the tree against the manifest
# endpointctl wrote (escapes, links, the FIFO, sha256digest), and notices a
# change.
mtree -f "$M.ctl" -p "$R" >"$EP_TMP/mtree.out" 2>&1 ||
        ep_fail "mtree -f rejected endpointctl's manifest: $(cat "$EP_TMP/mtree.out")"
ep_ok "mtree -f verifies the tree against endpointctl's manifest"
cp -a "$R" "$EP_TMP/copy"
ep_expect_exit 0 mtree -f "$M.ctl" -p "$EP_TMP/copy"
printf 'x' >>"$EP_TMP/copy/etc/back\\slash"
ep_expect_exit 2 mtree -f "$M.ctl" -p "$EP_TMP/copy"
rm -rf "$EP_TMP/copy"

for t in bsdtar mtree ctl; do
        ep_sign "$M.$t" "$M.$t.sig"
        out=$(ep_ctl --json manifest check "$M.$t" "$M.$t.sig" --trust "$EP_TRUST") ||
                ep_fail "manifest check refused the $t manifest: $out"
        ep_assert_contains "$out" '"signer":"' "$t manifest: signer"
        ep_assert_contains "$out" 'Demo Manufacturer Release Signing' "$t manifest: signer name"
        entries=$(printf '%s' "$out" | sed -n 's/.*"entries":\([0-9]*\).*/\1/p' | head -1)
        eval "entries_$t=\$entries"
done
# ., usr, usr/bin, usr/lib, usr/lib/pump, etc, etc/with space, var, var/empty,
# 3 files and 2 links in usr, 4 files in etc, 1 file in etc/with space, a FIFO.
ep_assert_eq "$entries_bsdtar" 19 "entries in the bsdtar manifest"
ep_assert_eq "$entries_mtree" 19 "entries in the mtree -c manifest"
ep_assert_eq "$entries_ctl" 19 "entries in the endpointctl manifest"

ep_ctl manifest show "$M.mtree" >/dev/null || ep_fail "manifest show of a local file failed"
ep_ok "manifest show FILE reads a local file"

# Refusals, each with file:line or a sentence, exit 1.
ep_sign "$M.bsdtar" "$M.rogue.sig" rogue
ep_expect_exit 1 ep_ctl manifest check "$M.bsdtar" "$M.rogue.sig" --trust "$EP_TRUST"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "does not verify" "untrusted signer"
sed 's/serial=1 /serial=9 /' "$M.bsdtar" >"$M.changed"
ep_expect_exit 1 ep_ctl manifest check "$M.changed" "$M.bsdtar.sig" --trust "$EP_TRUST"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "does not verify" "changed content"
head -c $(($(stat -c %s "$M.bsdtar") - 10)) "$M.bsdtar" >"$M.trunc"
lines=$(wc -l <"$M.trunc")
ep_expect_exit 1 ep_ctl manifest check "$M.trunc"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "$M.trunc:$((lines + 1)): last line has no newline" "truncated"
{ cat "$M.bsdtar"; echo './usr/../../etc/shadow type=file'; } >"$M.dotdot"
ep_expect_exit 1 ep_ctl manifest check "$M.dotdot"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "$M.dotdot:$(($(wc -l <"$M.bsdtar") + 1)): '..' component" "dotdot"
{ cat "$M.bsdtar"; echo './usr/bin/pumpd type=file'; } >"$M.dup"
ep_expect_exit 1 ep_ctl manifest check "$M.dup"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "already listed" "duplicate"
{ cat "$M.bsdtar"; echo './a\9 type=file'; } >"$M.esc"
ep_expect_exit 1 ep_ctl manifest check "$M.esc"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "malformed escape" "malformed escape"
ep_expect_exit 2 ep_ctl manifest check "$M.bsdtar" --trust "$EP_TRUST"
ep_expect_exit 2 ep_ctl manifest install "$M.bsdtar"

# The daemon side: install each manifest in turn and verify the tree.
ep_start
if ! ep_busctl introspect org.endpointd.Endpoint1 /org/endpointd/Endpoint1 org.endpointd.Integrity1 2>/dev/null |
        grep -q '^\.InstallManifest '; then
        ep_log "NOTE: the daemon does not serve Integrity1.InstallManifest yet; install checks skipped"
        ep_done
fi
state() {
        ep_busctl get-property org.endpointd.Endpoint1 /org/endpointd/Endpoint1 org.endpointd.Endpoint1 \
                IntegrityState | cut -d' ' -f2 | tr -d '"'
}
for t in bsdtar mtree ctl; do
        ep_ctl -q manifest install "$M.$t" "$M.$t.sig" || ep_fail "the $t manifest did not install"
        ep_ok "the $t manifest installed"
        ep_expect_exit 0 ep_ctl --no-progress scan
        ep_assert_eq "$(state)" trusted "IntegrityState after the $t manifest"
done
out=$(ep_ctl --json manifest show) || ep_fail "manifest show failed: $out"
ep_assert_contains "$out" '"serial":3' "installed serial"
ep_assert_contains "$out" 'Demo Manufacturer Release Signing' "installed signer"
ep_expect_exit 1 ep_ctl manifest install "$M.mtree" "$M.mtree.sig"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "serial" "rollback to serial 2 refused"

# --ignore: the directory is listed with "ignore", new entries in it are
# fine, new entries elsewhere are not.
ep_expect_exit 2 ep_ctl manifest create "$R" --ignore /var
ep_expect_exit 2 ep_ctl manifest create "$R" --ignore var/../etc
ep_expect_exit 1 ep_ctl manifest create "$R" --ignore nope
ep_assert_contains "$(cat "$EP_TMP/last.out")" "at './nope'" "an --ignore that matches nothing is named"
ep_ctl manifest create "$R" --serial 4 --ignore ./var/ --output "$M.ign" || ep_fail "create --ignore failed"
grep -q '^\./var type=dir .* ignore$' "$M.ign" || ep_fail "var is not listed with ignore: $(grep '^./var' "$M.ign")"
grep -q '^\./var/' "$M.ign" && ep_fail "entries below an ignored directory were listed"
ep_ok "create --ignore lists the directory with ignore and nothing below it"
ep_sign "$M.ign" "$M.ign.sig"
ep_ctl -q manifest install "$M.ign" "$M.ign.sig" || ep_fail "the --ignore manifest did not install"
echo new >"$R/var/new.log"
ep_expect_exit 0 ep_ctl --no-progress scan
ep_assert_eq "$(state)" trusted "IntegrityState with a new file in an ignored directory"
echo new >"$R/etc/intruder"
ep_expect_exit 5 ep_ctl --no-progress scan
ep_assert_eq "$(state)" violated "IntegrityState with a new file in a listed directory"
rm "$R/etc/intruder"
ep_expect_exit 0 ep_ctl --no-progress scan

# A changed byte is seen.
printf 'X' | dd of="$R/usr/lib/pump/table.bin" bs=1 seek=150000 conv=notrunc 2>/dev/null
ep_expect_exit 5 ep_ctl --no-progress scan
ep_assert_eq "$(state)" violated "IntegrityState after a changed byte"
ep_done
