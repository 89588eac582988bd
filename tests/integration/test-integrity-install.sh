#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# InstallManifest: every kind of bad manifest is refused with a clear error
# and nothing is installed; a good one survives a restart; a manifest of
# 100k entries installs; bsdtar and `mtree -c` manifests verify the same tree.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-integrity-lib.sh"

ep_setup --no-tpm
ep_pki_init
ep_config Integrity Watch no
R=$EP_ROOT
mkdir -p "$R/usr/bin" "$R/etc"
echo "pump firmware" >"$R/usr/bin/pumpd"
echo "rate=5" >"$R/etc/pump.conf"
ln -s pumpd "$R/usr/bin/pump"
ep_start

M=$EP_TMP/m
it_manifest 5 "$M.good"
it_install "$M.good" "$M.good.sig" || ep_fail "the good manifest did not install"
ep_ok "serial 5 installs"
ep_expect_exit 0 ep_ctl --no-progress scan
cp "$EP_STATE/manifest.bundle" "$EP_TMP/bundle.before"

# Signer not in the trust directory.
it_manifest 6 "$M.rogue"
ep_sign "$M.rogue" "$M.rogue.sig" rogue
it_expect_reject org.endpointd.Error.BadSignature "does not verify" "$M.rogue" "$M.rogue.sig"

# Trusted signer, content changed after signing.
it_manifest 6 "$M.changed"
sed -i 's/rate/RATE/; s/serial=6/serial=60/' "$M.changed"
it_expect_reject org.endpointd.Error.BadSignature "does not verify" "$M.changed" "$M.changed.sig"

# Signature of another file.
it_manifest 6 "$M.other"
it_expect_reject org.endpointd.Error.BadSignature "does not verify" "$M.other" "$M.good.sig"

# Lower and equal serials.
it_manifest 4 "$M.lower"
it_expect_reject org.endpointd.Error.Rollback "not above the installed serial 5" "$M.lower" "$M.lower.sig"
it_manifest 5 "$M.equal"
it_expect_reject org.endpointd.Error.Rollback "not above the installed serial 5" "$M.equal" "$M.equal.sig"

# A truncated file: cut in the middle of the last digest, then signed (and,
# separately, truncated after signing).
it_manifest 6 "$M.trunc"
head -c $(($(stat -c %s "$M.trunc") - 20)) "$M.trunc" >"$M.trunc2" && mv "$M.trunc2" "$M.trunc"
ep_sign "$M.trunc" "$M.trunc.sig"
it_expect_reject org.endpointd.Error.Malformed "line" "$M.trunc" "$M.trunc.sig"
it_manifest 6 "$M.cut"
truncate -s 100 "$M.cut"
it_expect_reject org.endpointd.Error.BadSignature "does not verify" "$M.cut" "$M.cut.sig"

# Malformed escape, a path with "..", a duplicate path: signed, still refused.
mk_signed() { # NAME LINE: the good manifest with LINE appended, signed
        { sed 's/serial=5/serial=6/' "$M.good"; printf '%s\n' "$2"; } >"$M.$1"
        ep_sign "$M.$1" "$M.$1.sig"
}
mk_signed escape './etc/bad\9name type=file mode=644'
it_expect_reject org.endpointd.Error.Malformed "line" "$M.escape" "$M.escape.sig"
mk_signed dotdot './etc/../../outside type=file mode=644'
it_expect_reject org.endpointd.Error.Malformed "line" "$M.dotdot" "$M.dotdot.sig"
mk_signed dup "$(grep '^./etc/pump.conf ' "$M.good")"
it_expect_reject org.endpointd.Error.Malformed "line" "$M.dup" "$M.dup.sig"

cmp -s "$EP_STATE/manifest.bundle" "$EP_TMP/bundle.before" || ep_fail "a refused manifest changed the stored bundle"
ep_ok "the stored bundle is unchanged after every refusal"
ep_assert_eq "$(it_prop IntegrityState)" trusted "state after the refusals"

# A restart keeps the installed manifest, verified again.
ep_restart
ep_assert_eq "$(it_prop ManifestSerial)" 5 "serial after a restart"
out=$(it_call GetManifest)
ep_assert_contains "$out" "'test-pump'" "GetManifest product"
ep_assert_contains "$out" "Demo Manufacturer Release Signing" "GetManifest signer"
ep_assert_contains "$out" "$(sha256sum "$M.good" | cut -d' ' -f1)" "GetManifest digest"
ep_expect_exit 0 ep_ctl --no-progress scan

# The stored bundle is verified at start: tampering with it is refused.
ep_stop
sed -i 's/rate/RATE/' "$EP_STATE/manifest.bundle" 2>/dev/null
sed -i 's/serial=5/serial=9/' "$EP_STATE/manifest.bundle"
ep_start
ep_assert_eq "$(it_prop ManifestSerial)" 0 "a tampered bundle is not believed"
ep_assert_eq "$(it_prop IntegrityState)" unverified "state with a tampered bundle"
cp "$EP_TMP/bundle.before" "$EP_STATE/manifest.bundle"
ep_restart
ep_assert_eq "$(it_prop ManifestSerial)" 5 "the genuine bundle is believed again"

# NetBSD `mtree -c` writes the other dialect; it verifies the same tree.
if command -v mtree >/dev/null; then
        { echo "# endpointd: serial=7 product=test-pump version=1.7"
          mtree -c -k type,mode,uid,gid,size,link,sha256digest -p "$R"; } >"$M.netbsd"
        ep_sign "$M.netbsd" "$M.netbsd.sig"
        it_install "$M.netbsd" "$M.netbsd.sig" || ep_fail "the mtree -c manifest did not install"
        ep_ok "an mtree -c manifest installs"
        ep_expect_exit 0 ep_ctl --no-progress scan
        ep_assert_eq "$(it_prop IntegrityState)" trusted "mtree -c manifest verifies the tree"
fi

# ScanInterval=: full scans happen by themselves.
ep_config Integrity ScanInterval 1s
ep_restart
last=$(it_prop LastScan)
for _ in $(seq 300); do
        [ "$(it_prop LastScan)" != "$last" ] && [ "$last" != 0 ] && break
        last=$(it_prop LastScan)
        sleep 0.1
done
first=$(it_prop LastScan)
for _ in $(seq 300); do [ "$(it_prop LastScan)" != "$first" ] && break; sleep 0.1; done
[ "$(it_prop LastScan)" != "$first" ] || ep_fail "no periodic scan within 30 s (LastScan stays $first)"
ep_ok "ScanInterval=1s rescans without a Scan() call"
ep_config Integrity ScanInterval 1h
ep_restart

# 100k entries install (optional ones: the files need not exist).
{
        echo "# endpointd: serial=100 product=test-pump version=big"
        echo "#mtree"
        echo ". type=dir mode=755 ignore"
        awk 'BEGIN { for (i = 0; i < 100000; i++)
                printf "./big/f%06d type=file mode=644 size=1 sha256digest=%064d optional\n", i, i }'
} >"$M.big"
ep_sign "$M.big" "$M.big.sig"
it_install "$M.big" "$M.big.sig" || ep_fail "the 100k-entry manifest did not install"
ep_assert_eq "$(it_call GetManifest | cut -d, -f4 | sed "s/.*uint64 //")" 100001 "entries of the big manifest (with \".\")"
ep_expect_exit 0 ep_ctl --no-progress scan
ep_done
