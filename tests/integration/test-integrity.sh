#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A signed bsdtar manifest installs and the tree verifies clean; then each
# kind of tampering is reported with its violation kind in one full scan.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-integrity-lib.sh"

ep_setup
ep_pki_init
ep_config Integrity Watch no

R=$EP_ROOT
mkdir -p "$R/bin" "$R/etc" "$R/weird"
head -c 8388608 /dev/urandom >"$R/bin/big"
for f in trunc gone suid owned tolink fifo devnode ok; do echo "content of $f" >"$R/bin/$f"; done
ln -s ok "$R/bin/ln"
echo "setting=1" >"$R/etc/pump.conf"
printf 'latin-1 name\n' >"$R/weird/$(printf 'caf\xe9')"
printf 'spaces and a newline\n' >"$R/weird/$(printf 'a b\nc')"
echo "secret" >"$EP_TMP/outside"

ep_start
ep_assert_eq "$(it_prop IntegrityState)" unverified "state without a manifest"
# What a plain client listening on the bus sees, and what a subscriber
# gets, for the checks at the end.
gdbus monitor --system -d org.endpointd.Endpoint1 -o /org/endpointd/Endpoint1 >"$EP_TMP/monitor.log" 2>&1 &
EP_PIDS+=("$!")
it_subscribe "$EP_TMP/subscriber.log"
sleep 0.5
ep_expect_error org.endpointd.Error.NoManifest it_call Scan
ep_expect_exit 1 ep_ctl scan

it_manifest 1 "$EP_TMP/m1"
it_install "$EP_TMP/m1" "$EP_TMP/m1.sig" || ep_fail "the manifest did not install"
ep_ok "a signed bsdtar manifest installs"
ep_assert_eq "$(it_prop ManifestSerial)" 1 "ManifestSerial"
ep_expect_exit 0 ep_ctl --no-progress scan
ep_assert_eq "$(it_prop IntegrityState)" trusted "state after a clean scan"
[ "$(it_prop LastScan)" -gt 0 ] || ep_fail "LastScan not set"
ep_ok "LastScan is set"
ep_expect_exit 0 ep_ctl verify /bin/big
ep_expect_exit 0 ep_ctl verify "weird/caf\\351"

# The tampering, one kind per path.
python3 - "$R/bin/big" <<'PY' 2>/dev/null || dd if=/dev/zero of="$R/bin/big" bs=1 seek=4194304 count=1 conv=notrunc
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(4194304); b = f.read(1); f.seek(4194304); f.write(bytes([b[0] ^ 0xff]))
PY
touch -r "$R/bin/ok" "$R/bin/big"
: >"$R/bin/trunc"
rm "$R/bin/gone"
echo planted >"$R/etc/evil.conf"
chmod u+s "$R/bin/suid"
chown 1234:1234 "$R/bin/owned"
rm "$R/bin/tolink" && ln -s "$EP_TMP/outside" "$R/bin/tolink"
ln -sfn gone "$R/bin/ln"
rm "$R/bin/fifo" && mkfifo "$R/bin/fifo"
# A device node (/dev/null's numbers) where a file was; a container may
# forbid mknod, then the file is simply deleted (missing).
rm "$R/bin/devnode"
devkind=missing
mknod "$R/bin/devnode" c 1 3 2>/dev/null && devkind=type
printf 'LATIN-1 NAME\n' >"$R/weird/$(printf 'caf\xe9')"
printf 'spaces and a newlinE\n' >"$R/weird/$(printf 'a b\nc')"

ep_expect_exit 5 ep_ctl --no-progress scan
ep_assert_eq "$(it_prop IntegrityState)" violated "state after tampering"
it_expect_kind bin/big modified
it_expect_kind bin/trunc modified
it_expect_kind bin/gone missing
it_expect_kind etc/evil.conf unexpected
it_expect_kind bin/suid metadata
it_expect_kind bin/owned metadata
it_expect_kind bin/tolink type
it_expect_kind bin/ln modified
it_expect_kind bin/fifo type
it_expect_kind bin/devnode "$devkind"
it_expect_kind 'weird/caf\351' modified
it_expect_kind 'weird/a b\012c' modified
it_expect_kind bin/ok none
ep_assert_contains "$(ep_ctl --json violations | jq -r '.[] | select(.path == "bin/tolink") | .detail')" \
        "$EP_TMP/outside" "the type violation names the link target"
ep_assert_eq "$(ep_ctl --json violations | jq length)" 12 "number of violations"

ep_expect_exit 5 ep_ctl violations
ep_expect_exit 5 ep_ctl verify bin/big
ep_assert_contains "$(ep_ctl verify bin/big)" modified "verify names the kind"
ep_expect_error org.endpointd.Error.NotFound it_call VerifyFile bin/not-listed
ep_expect_exit 1 ep_ctl verify bin/not-listed
ep_expect_exit 0 ep_ctl verify bin/ok

# On a terminal, scan draws a progress bar (files, MB, MB/s, ETA); the
# daemon's final ScanProgress makes it appear even for a short scan.
if command -v script >/dev/null; then
        out=$(script -qec "$EP_BUILD/endpointctl scan" /dev/null 2>&1)
        ep_assert_contains "$out" " files " "progress bar"
        ep_assert_contains "$out" "MB/s" "progress bar rate"
        ep_assert_contains "$out" "ETA" "progress bar ETA"
        out=$(script -qec "$EP_BUILD/endpointctl --no-progress scan" /dev/null 2>&1)
        case $out in *MB/s*) ep_fail "--no-progress still drew a bar: $out" ;; esac
        ep_ok "--no-progress draws no bar"
fi
ep_expect_exit 5 ep_ctl --json scan
ep_assert_eq "$(jq '.violations | length' "$EP_TMP/last.out")" 12 "scan --json lists the violations"

# Default deny: a user the policy does not mention may do none of it.
ep_expect_exit 4 ep_as 65534 "$EP_BUILD/endpointctl" --no-progress scan
ep_expect_exit 4 ep_as 65534 "$EP_BUILD/endpointctl" violations
ep_expect_exit 4 ep_as 65534 "$EP_BUILD/endpointctl" verify bin/ok
ep_expect_error org.freedesktop.DBus.Error.AccessDenied ep_as 65534 gdbus call --system -d org.endpointd.Endpoint1 \
        -o /org/endpointd/Endpoint1 -m org.endpointd.Integrity1.GetMeasurements

# What a plain client listening on the bus saw: which properties changed,
# never their values, and none of the scan's details.
mon=$(cat "$EP_TMP/monitor.log")
ep_assert_contains "$mon" "'ManifestSerial'" "PropertiesChanged ManifestSerial"
ep_assert_contains "$mon" "'IntegrityState'" "PropertiesChanged IntegrityState"
ep_assert_contains "$mon" "'LastScan'" "PropertiesChanged LastScan"
for word in "<'violated'>" "<'trusted'>" "<uint64 1>" ScanProgress ScanFinished Violation bin/gone; do
        case $mon in *"$word"*) ep_fail "a plain match rule saw '$word'" ;; esac
done
ep_ok "a plain match rule sees no property value and no scan detail"
# What the subscriber got.
sub=$(cat "$EP_TMP/subscriber.log")
ep_assert_contains "$sub" "org.endpointd.Integrity1.ScanProgress [" "ScanProgress signal"
ep_assert_contains "$sub" "org.endpointd.Integrity1.ScanFinished [" "ScanFinished signal"
ep_assert_contains "$sub" "org.endpointd.Integrity1.Violation ['bin/gone', 'missing'" "Violation signal"

# The measurement log has the install and both verdicts.
out=$(ep_ctl measurements)
ep_assert_contains "$out" "manifest serial=1 product=test-pump" "measurement of the install"
ep_assert_contains "$out" "verdict=trusted violations=0" "measurement of the clean scan"
ep_assert_contains "$out" "verdict=violated violations=12" "measurement of the tampered scan"
ep_done
