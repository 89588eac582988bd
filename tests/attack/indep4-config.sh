#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Written by an independent tester from the man pages alone, without reading
# the implementation.
#
# The configuration (endpointd.conf(5): syntax, drop-ins, reload) and
# endpointctl's --config, --trust, exit codes and --json, attacked by an
# admin who makes honest mistakes and by an unprivileged user:
#   1. syntax: a duplicate key, a NUL byte, non-UTF-8, a line over 4096
#      bytes, a broken header, an assignment outside a section, quotes,
#      a relative or '..' path: refused with file:line (exit 1); unknown
#      sections and keys warn and are ignored; CRLF and a missing last
#      newline are read
#   2. --config naming a FIFO, /dev/zero or a directory: refused, no hang
#   3. drop-ins: byte order of names, later wins, skipped names, a mask
#      to /dev/null, a broken/unreadable/FIFO/directory/dangling drop-in
#   4. a drop-in directory with 10,000 drop-ins
#   5. endpointctl --config: a missing FILE, a broken FILE, JSON output
#   6. endpointctl exit codes, options anywhere, --
#   7. reload (SIGHUP) with a broken, a FIFO and a directory drop-in:
#      the old configuration stays, the daemon answers
#   8. TrustDirectory= with hostile contents (junk, a huge file, a
#      symlink loop, a FIFO named *.pem, a private key), wrong-EKU signers
#      (expired signers: attack-06-signer-expiry.sh)
. "$top_srcdir/tests/attack/lib.sh"
. "$top_srcdir/tests/attack/indep-lib.sh"

ep_setup --no-tpm
ep_pki_init
ep_config Integrity ScanInterval infinity
W=$EP_TMP/w
mkdir -p "$W"
D=$EP_BUILD/endpointd
# Under valgrind (EP_DAEMON_WRAPPER) the parser runs in it too.
CHK() { timeout 120 $EP_DAEMON_WRAPPER "$D" --check-config --config "$@"; }

# A finding (behaviour the man pages contradict) is logged, the remaining
# attacks still run, and the test fails at the end.
FINDINGS=0
finding() {
        FINDINGS=$((FINDINGS + 1))
        ep_log "FINDING $FINDINGS: $*"
}

# check_refused FILE WHAT [NAMED]: --check-config exits 1 and names
# NAMED:LINE (default: FILE's base name).
check_refused() {
        local out rc=0 named=${3:-$(basename "$1")}
        out=$(CHK "$1" 2>&1) || rc=$?
        [ $rc = 1 ] || ep_fail "$2: --check-config exit $rc, expected 1 (endpointd.conf(5): refuse and name file:line): $out"
        case $out in
        *"$named":[0-9]*) ep_ok "$2 refused: $out" ;;
        *) ep_fail "$2: refusal does not name file:line: $out" ;;
        esac
}
check_ok() {
        local out rc=0
        out=$(CHK "$1" 2>&1) || rc=$?
        [ $rc = 0 ] || ep_fail "$2: --check-config exit $rc, expected 0: $out"
        ep_ok "$2 accepted"
}

ep_attack "syntax errors, NUL, non-UTF-8 and long lines are refused with file:line"
printf '[Daemon]\nLogLevel=debug\nLogLevel=info\n' >"$W/dup.conf"
check_refused "$W/dup.conf" "duplicate key"
printf '[Daemon]\nLogLevel=debug\n[Daemon]\nLogLevel=info\n' >"$W/dupsec.conf"
check_refused "$W/dupsec.conf" "duplicate key in a repeated section"
printf '[Daemon]\nLogLevel=de\0bug\n' >"$W/nul.conf"
check_refused "$W/nul.conf" "NUL byte"
printf '[Daemon]\nLogLevel=\xff\xfe\n' >"$W/utf.conf"
check_refused "$W/utf.conf" "non-UTF-8 value"
printf '# \xc0\xaf\n[Daemon]\n' >"$W/utfc.conf"
check_refused "$W/utfc.conf" "overlong UTF-8 in a comment"
{ printf '[Daemon]\nLogLevel=debug'; head -c 5000 /dev/zero | tr '\0' ' '; echo; } >"$W/long.conf"
check_refused "$W/long.conf" "line of 5000 bytes (trailing blanks)"
printf '[Daemon\nLogLevel=debug\n' >"$W/hdr.conf"
check_refused "$W/hdr.conf" "unterminated section header"
printf 'LogLevel=debug\n' >"$W/nosec.conf"
check_refused "$W/nosec.conf" "assignment outside a section"
printf '[Integrity]\nRoot="/x"\n' >"$W/q.conf"
check_refused "$W/q.conf" "quoted path"
printf '[Integrity]\nRoot=/a/../etc\n' >"$W/dd.conf"
check_refused "$W/dd.conf" "path with .."
printf '[Integrity]\nTrustDirectory=trust\n' >"$W/rel.conf"
check_refused "$W/rel.conf" "relative path"
printf '[Daemon]\nLogLevel=\n' >"$W/empty.conf"
check_refused "$W/empty.conf" "empty LogLevel="
printf '[Audit]\nMaxFileSize=1K\n' >"$W/small.conf"
check_refused "$W/small.conf" "MaxFileSize below 64K"
printf '[TPM]\nPCRs=24\n' >"$W/pcr.conf"
check_refused "$W/pcr.conf" "PCR 24"
printf '[Integrity]\nScanThreads=99999999999999999999999\n' >"$W/ovf.conf"
check_refused "$W/ovf.conf" "ScanThreads overflowing 64 bits"
printf '[Bogus]\nX=1\n[Daemon]\nFoo=1\n' >"$W/unk.conf"
out=$(CHK "$W/unk.conf" 2>&1) || ep_fail "unknown section/key must only warn: $out"
ep_assert_contains "$out" "unk.conf:4" "warning for the unknown key"
printf '[Daemon]\r\nLogLevel=debug\r\n' >"$W/crlf.conf"
check_ok "$W/crlf.conf" "CRLF line ends"
printf '[Daemon]\nLogLevel=debug' >"$W/noeol.conf"
check_ok "$W/noeol.conf" "no newline at the end"

ep_attack "values the page does not rule out, noted when --check-config accepts them"
for v in 'Integrity/ScanInterval=0' 'Audit/CheckpointInterval=0' 'Daemon/User=nosuchuser-indep4' 'Daemon/StateDirectory=/' 'TPM/PCRs=7,7'; do
        printf '[%s]\n%s\n' "${v%%/*}" "${v#*/}" >"$W/v.conf"
        if CHK "$W/v.conf" >/dev/null 2>&1; then
                ep_log "undocumented: --check-config accepts ${v#*/} in [${v%%/*}]"
        fi
        ep_ok "${v#*/}: no crash"
done

ep_attack "line length at the 4096-byte limit; a UTF-8 byte order mark"
for n in 4096 4097; do
        { printf '[Daemon]\n#'; head -c $((n - 1)) /dev/zero | tr '\0' a; echo; } >"$W/l$n.conf"
done
check_ok "$W/l4096.conf" "a line of 4096 bytes"
check_refused "$W/l4097.conf" "a line of 4097 bytes"
printf '\xef\xbb\xbf[Daemon]\nLogLevel=debug\n' >"$W/bom.conf"
rc=0
out=$(CHK "$W/bom.conf" 2>&1) || rc=$?
[ $rc = 0 ] || ep_log "undocumented: a file starting with a UTF-8 byte order mark (valid UTF-8; systemd skips it) is refused (exit $rc): $out"
ep_ok "byte order mark: exit $rc"

ep_attack "--config naming a FIFO, /dev/zero or a directory is refused without hanging"
mkfifo "$W/fifo.conf"
for f in "$W/fifo.conf" /dev/zero "$W"; do
        rc=0
        out=$(CHK "$f" 2>&1) || rc=$?
        [ $rc = 1 ] || ep_fail "--config $f: exit $rc (124 = hung), expected 1: $out"
        ep_ok "--config $f refused: $out"
done

# mkconf NAME: a main file NAME.conf (policy = the good one) and an empty NAME.conf.d/.
cp "$EP_POLICY" "$W/good.policy"
printf 'not a policy\n' >"$W/bad.policy"
mkconf() {
        rm -rf "$W/$1.conf" "$W/$1.conf.d"
        printf '[Policy]\nFile=%s\n' "$W/good.policy" >"$W/$1.conf"
        mkdir "$W/$1.conf.d"
}
dropin() { printf '[Policy]\nFile=%s\n' "$W/$3.policy" >"$W/$1.conf.d/$2"; }

ep_attack "drop-ins are read in byte order of their names and the later one wins"
mkconf o
dropin o 10-site.conf good
dropin o 9-lab.conf bad
ep_expect_error "bad.policy" ep_ctl --config "$W/o.conf" policy verify
mkconf o
dropin o 10-site.conf bad
dropin o 9-lab.conf good
ep_expect_exit 0 ep_ctl --config "$W/o.conf" policy verify
mkconf o
dropin o B.conf good
dropin o a.conf bad
ep_expect_error "bad.policy" ep_ctl --config "$W/o.conf" policy verify

ep_attack "skipped names and a drop-in masked by /dev/null are not read"
mkconf s
printf '[Daemon]\nLogLevel=bogus\n' >"$W/s.conf.d/site.conf~"
printf '[Daemon]\nLogLevel=bogus\n' >"$W/s.conf.d/.hidden.conf"
printf '[Daemon]\nLogLevel=bogus\n' >"$W/s.conf.d/site.conf.dpkg-new"
printf '[Daemon]\nLogLevel=bogus\n' >"$W/s.conf.d/site.CONF"
ln -s /dev/null "$W/s.conf.d/50-masked.conf"
check_ok "$W/s.conf" "backup names, dot names and a /dev/null mask"
ep_expect_exit 0 ep_ctl --config "$W/s.conf" policy verify

ep_attack "a broken, unreadable, FIFO, directory, /dev/zero or dangling drop-in is refused, no hang"
mkconf b
printf '[Daemon]\nLogLevel=bogus\n' >"$W/b.conf.d/20-broken.conf"
check_refused "$W/b.conf" "a drop-in that does not parse" 20-broken.conf
ep_expect_error "20-broken.conf:2" ep_ctl --config "$W/b.conf" policy verify
for kind in fifo dir zero dangling loop unreadable; do
        mkconf b
        case $kind in
        fifo) mkfifo "$W/b.conf.d/20-x.conf" ;;
        dir) mkdir "$W/b.conf.d/20-x.conf" ;;
        zero) ln -s /dev/zero "$W/b.conf.d/20-x.conf" ;;
        dangling) ln -s "$W/nonexistent" "$W/b.conf.d/20-x.conf" ;;
        loop) ln -s 20-x.conf "$W/b.conf.d/20-x.conf" ;;
        unreadable) printf '[Daemon]\n' >"$W/b.conf.d/20-x.conf"; chmod 000 "$W/b.conf.d/20-x.conf"
                chmod 755 "$W" "$W/b.conf.d"; chmod 644 "$W/b.conf" ;;
        esac
        rc=0
        if [ $kind = unreadable ]; then
                out=$(chmod o+x "$EP_TMP"; ep_as 65534 timeout 30 "$D" --check-config --config "$W/b.conf" 2>&1) || rc=$?
        else
                out=$(CHK "$W/b.conf" 2>&1) || rc=$?
        fi
        [ $rc = 1 ] || ep_fail "$kind drop-in: --check-config exit $rc (124 = hung), expected 1: $out"
        ep_assert_contains "$out" "20-x.conf" "$kind drop-in refused, named"
done

ep_attack "a drop-in directory with 10,000 drop-ins"
# Finding of this test's first run: 10,000 drop-ins were refused with "Argument
# list too long", and endpointd.conf(5) documented no limit. The page now
# says: at most 1024 drop-ins, more refuse the configuration, with a message
# that says so.
mkconf many
for i in $(seq 10000); do : >"$W/many.conf.d/$i.conf"; done
rc=0
out=$(CHK "$W/many.conf" 2>&1) || rc=$?
[ $rc = 1 ] || ep_fail "10,000 drop-ins: --check-config exit $rc, expected 1 (endpointd.conf(5): at most 1024): $out"
ep_assert_contains "$out" "more than 1024 drop-ins" "10,000 drop-ins refused with the documented limit named"
rm -f "$W"/many.conf.d/1???.conf "$W"/many.conf.d/?????.conf "$W"/many.conf.d/[2-9]???.conf
n=$(find "$W/many.conf.d" -name '*.conf' | wc -l)
rc=0
out=$(CHK "$W/many.conf" 2>&1) || rc=$?
[ $rc = 0 ] || ep_fail "$n drop-ins (at most 1024): --check-config exit $rc: $out"
ep_ok "$n drop-ins read"
rm -rf "$W/many.conf.d"

ep_attack "endpointctl --config: a missing or broken FILE is refused with exit 1; --json output is JSON"
ep_expect_exit 1 ep_ctl --config "$W/nonexistent.conf" policy verify
ep_expect_exit 1 ep_ctl --config "$W/dup.conf" policy verify
ep_expect_error "dup.conf:3" ep_ctl --config "$W/dup.conf" policy verify
ep_expect_exit 1 ep_ctl --config "$W/fifo.conf" policy verify
mkconf j
out=$(ep_ctl --json=short --config "$W/j.conf" policy verify) || ep_fail "policy verify --json failed"
printf '%s' "$out" | jq -e . >/dev/null || ep_fail "policy verify --json is not JSON: $out"
ep_ok "policy verify --json: $out"
rc=0
out=$(ep_ctl --json=short --config "$W/dup.conf" policy verify 2>/dev/null) || rc=$?
[ $rc = 1 ] || ep_fail "broken --config with --json: exit $rc"
[ -z "$out" ] || printf '%s' "$out" | jq -e . >/dev/null || ep_fail "error with --json printed non-JSON on stdout: $out"
ep_ok "an error with --json prints no non-JSON on standard output"

ep_attack "exit codes, options after the verb, --"
ep_expect_exit 2 ep_ctl lst
ep_expect_exit 2 ep_ctl --json=bogus status
ep_expect_exit 2 ep_ctl status --no-such-option
ep_expect_exit 2 ep_ctl status extra-argument
ep_expect_exit 0 ep_ctl policy verify --config "$W/j.conf"
ep_expect_exit 0 ep_ctl policy --json=short verify "$W/good.policy"
# After --, "--help" is an argument (a file name), not the option.
cp "$W/good.policy" "$W/--help"
( cd "$W" && ep_expect_exit 0 ep_ctl policy verify -- --help )
long=$(head -c 100000 /dev/zero | tr '\0' a)
rc=0; ep_ctl policy verify "/$long" >/dev/null 2>&1 || rc=$?
[ $rc = 1 ] || ep_fail "policy verify of a 100,000-byte path: exit $rc, expected 1"
rc=0; ep_ctl "$long" >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] || ep_fail "a 100,000-byte verb: exit $rc, expected 2"
ep_ok "100,000-byte arguments: exit 1 and 2"
rc=0
out=$(DBUS_SYSTEM_BUS_ADDRESS=unix:path=$W/no-bus timeout 30 "$EP_BUILD/endpointctl" --json=short status 2>/dev/null) || rc=$?
[ $rc = 3 ] || ep_fail "status without a bus: exit $rc, expected 3 (endpointctl(1) EXIT STATUS)"
[ -z "$out" ] || printf '%s' "$out" | jq -e . >/dev/null || ep_fail "status --json without a bus printed non-JSON: $out"
ep_ok "status without a bus: exit 3, no non-JSON output"

ep_attack "SIGHUP with a broken drop-in keeps the old configuration and the daemon answers"
ep_start
mkdir -p "$EP_CONF.d"
printf '[Daemon]\nLogLevel=bogus\n' >"$EP_CONF.d/30-broken.conf"
kill -HUP "$EP_DAEMON_PID"
sleep 1
indep_alive
ep_expect_exit 0 timeout 30 "$EP_BUILD/endpointctl" status
grep -q "30-broken.conf:2" "$EP_TMP/daemon.log" || ep_fail "the refused reload does not name 30-broken.conf:2: $(tail -5 "$EP_TMP/daemon.log")"
ep_ok "the refused reload names 30-broken.conf:2"
for kind in fifo dir; do
        rm -rf "$EP_CONF.d/30-broken.conf"
        case $kind in
        fifo) mkfifo "$EP_CONF.d/30-broken.conf" ;;
        dir) mkdir "$EP_CONF.d/30-broken.conf" ;;
        esac
        kill -HUP "$EP_DAEMON_PID"
        sleep 1
        indep_alive
        ep_expect_exit 0 timeout 30 "$EP_BUILD/endpointctl" status
done
ep_attack "SIGHUP: a drop-in naming a policy that does not parse keeps the old policy; a valid one takes effect"
rm -rf "$EP_CONF.d/30-broken.conf"
printf 'not a policy\n' >"$EP_TMP/bad.policy"
printf '[Policy]\nFile=%s\n' "$EP_TMP/bad.policy" >"$EP_CONF.d/30-policy.conf"
kill -HUP "$EP_DAEMON_PID"
sleep 1
indep_alive
ep_expect_exit 0 timeout 30 "$EP_BUILD/endpointctl" status
# An empty policy: default deny, for root too (endpointd(8): Default deny).
: >"$EP_TMP/empty.policy"
printf '[Policy]\nFile=%s\n' "$EP_TMP/empty.policy" >"$EP_CONF.d/30-policy.conf"
kill -HUP "$EP_DAEMON_PID"
sleep 1
kill -0 "$EP_DAEMON_PID" || ep_fail "endpointd died on SIGHUP with an empty policy"
rc=0
out=$(timeout 30 "$EP_BUILD/endpointctl" status 2>&1) || rc=$?
[ $rc = 4 ] || finding "after SIGHUP with a drop-in naming an empty policy, status as root exits $rc, expected 4 (denied): the drop-in was not applied on reload: $out"
ep_ok "the drop-in's policy is in force after SIGHUP: exit $rc"
rm -rf "$EP_CONF.d"
kill -HUP "$EP_DAEMON_PID"
sleep 1
ep_expect_exit 0 timeout 30 "$EP_BUILD/endpointctl" status

ep_attack "undocumented: a world-writable or foreign-owned drop-in, control characters in messages"
mkdir -p "$EP_CONF.d"
printf '[Daemon]\nLogLevel=debug\n' >"$EP_CONF.d/60-ww.conf"
chmod 666 "$EP_CONF.d/60-ww.conf"
chown 65534:65534 "$EP_CONF.d/60-ww.conf"
rc=0
out=$(CHK "$EP_CONF" 2>&1) || rc=$?
case $out in
*60-ww.conf*) ep_ok "a world-writable drop-in owned by uid 65534 is named: $out" ;;
*) ep_log "undocumented: a world-writable drop-in owned by uid 65534 is read without a word (exit $rc): $out; endpointd(8) assumes the configuration is writable by root only" ;;
esac
rm -rf "$EP_CONF.d"
printf '[Daemon]\nX\033[2J=1\n' >"$W/esc.conf"
out=$(CHK "$W/esc.conf" 2>&1) || true
case $out in
*$'\033'*) ep_log "undocumented: a configuration error message carries the raw ESC byte of the file (terminal escape reaches the journal/terminal): $(printf '%s' "$out" | cat -v)" ;;
*) ep_ok "control characters in configuration messages are escaped" ;;
esac
printf '[Role]\nName=a\033[2Jb\nPermissions=status.read\n' >"$W/esc.policy"
out=$(ep_ctl policy verify "$W/esc.policy" 2>&1) || true
case $out in
*$'\033'*) ep_log "undocumented: endpointctl policy verify prints the raw ESC byte of the file: $(printf '%s' "$out" | cat -v)" ;;
*) ep_ok "control characters in policy verify messages are escaped" ;;
esac
ep_stop
[ "$EP_DAEMON_RC" = 0 ] || ep_fail "endpointd exit $EP_DAEMON_RC after SIGTERM"

ep_attack "endpointd does not start with a broken drop-in and names it"
mkdir -p "$EP_CONF.d"
printf '[TPM]\nPCRs=7,99\n' >"$EP_CONF.d/40-pcr.conf"
ep_write_config
rc=0
out=$(timeout 60 "$D" --config "$EP_CONF" 2>&1) || rc=$?
[ $rc = 1 ] || ep_fail "endpointd with a broken drop-in: exit $rc, expected 1 (endpointd(8) EXIT STATUS): $out"
ep_assert_contains "$out" "40-pcr.conf:2" "start refused"
rm -rf "$EP_CONF.d"

ep_attack "TrustDirectory= with junk, a huge file, a symlink loop and a FIFO named *.pem"
echo "pump 4.2" >"$EP_ROOT/pumpd"
ep_ctl manifest create "$EP_ROOT" --serial 1 --product pump --version 4.2 --output "$W/m" >/dev/null || ep_fail "manifest create"
ep_sign "$W/m" "$W/m.sig"
ep_sign "$W/m" "$W/m.rogue" rogue
# trustdir KIND: the manufacturer CA plus one hostile entry.
trustdir() {
        T=$W/trust-$1
        mkdir "$T"
        cp "$EP_PKI/ca.pem" "$T/ca.pem"
        case $1 in
        junk) printf 'not a certificate\n' >"$T/junk.pem" ;;
        huge) head -c 3000000 /dev/urandom | base64 >"$T/huge.pem" ;;
        loop) ln -s loop.pem "$T/loop.pem" ;;
        fifo) mkfifo "$T/fifo.pem" ;;
        dir) mkdir "$T/sub.pem" ;;
        key) cp "$EP_PKI/rogue.key" "$T/key.pem" ;;
        empty) : >"$T/empty.pem" ;;
        leaf) cp "$EP_PKI/rogue.pem" "$T/leaf.pem" ;;
        esac
}
for kind in junk huge loop fifo dir key empty; do
        trustdir $kind
        rc=0
        out=$(timeout 60 "$EP_BUILD/endpointctl" manifest check "$W/m" "$W/m.sig" --trust="$T" 2>&1) || rc=$?
        [ $rc != 124 ] || ep_fail "manifest check hangs on a trust directory with a $kind entry"
        [ $rc = 0 ] || ep_log "undocumented: one $kind *.pem in the trust directory makes the genuine signature fail (exit $rc): $out"
        rc=0
        out=$(timeout 60 "$EP_BUILD/endpointctl" manifest check "$W/m" "$W/m.rogue" --trust="$T" 2>&1) || rc=$?
        [ $rc = 1 ] || ep_fail "a rogue signature with a $kind entry in the trust directory: exit $rc, expected 1: $out"
        ep_ok "trust directory with a $kind entry: no hang, rogue signature refused"
done

ep_attack "only *.pem in the trust directory are anchors: a rogue CA as .crt, backup or dot file is not trusted"
# endpointd.conf(5): "Directory of manufacturer trust anchors (*.pem, X.509 CA certificates)".
T=$W/trust-names
mkdir "$T"
cp "$EP_PKI/ca.pem" "$T/ca.pem"
cp "$EP_PKI/rogue-ca.pem" "$T/rogue.crt"
cp "$EP_PKI/rogue-ca.pem" "$T/rogue.pem~"
cp "$EP_PKI/rogue-ca.pem" "$T/rogue.pem.dpkg-old"
rc=0
out=$(timeout 60 "$EP_BUILD/endpointctl" manifest check "$W/m" "$W/m.rogue" --trust="$T" 2>&1) || rc=$?
[ $rc = 1 ] || finding "a rogue CA saved as rogue.crt / rogue.pem~ / rogue.pem.dpkg-old in the trust directory is trusted (exit $rc): $out; endpointd.conf(5) names *.pem"
ep_ok "rogue CA outside *.pem names not trusted: exit $rc"
ep_expect_exit 0 ep_ctl manifest check "$W/m" "$W/m.sig" --trust="$T"

ep_attack "a signer (leaf) certificate in the trust directory is not an anchor for its own signatures"
trustdir leaf
rc=0
out=$(timeout 60 "$EP_BUILD/endpointctl" manifest check "$W/m" "$W/m.rogue" --trust="$T" 2>&1) || rc=$?
[ $rc = 1 ] || ep_log "undocumented: a non-CA signer certificate copied into the trust directory makes its own signatures trusted (exit $rc): $out"
ep_ok "leaf certificate as anchor: exit $rc"

ep_attack "signers of the wrong role, without an EKU, and the CA itself as signer are refused"
ep_sign "$W/m" "$W/m.grant" signer-grant
ep_pki_cert noeku ca "/CN=No EKU" "keyUsage=critical,digitalSignature"
ep_sign "$W/m" "$W/m.noeku" noeku
ep_sign "$W/m" "$W/m.ca" ca
for s in grant noeku ca; do
        [ -f "$W/m.$s" ] || { ep_log "skip $s (openssl could not make it)"; continue; }
        rc=0
        out=$(timeout 60 "$EP_BUILD/endpointctl" manifest check "$W/m" "$W/m.$s" --trust="$EP_TRUST" 2>&1) || rc=$?
        [ $rc = 1 ] || ep_fail "manifest signed by the $s certificate: exit $rc, expected 1 (endpointd-manifest(5): a code-signing signer valid now): $out"
        ep_ok "$s signer refused: $out"
done
ep_expect_exit 0 ep_ctl manifest check "$W/m" "$W/m.sig" --trust="$EP_TRUST"

[ $FINDINGS = 0 ] || ep_fail "$FINDINGS finding(s) above (FINDING n:)"
ep_done
