#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# endpointctl as a command-line tool (issue 10): options anywhere, --help of
# every verb, one precise line per usage mistake, the documented exit
# codes, JSON from every read verb, -q silent, one stream for
# confirmations, upper-case headers, and on a terminal nothing wider than
# the terminal. The verb table, --help and endpointctl(1) list the same verbs.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/test-integrity-lib.sh"
command -v script >/dev/null || ep_skip "script (util-linux) is not installed"

ep_setup
ep_pki_init
ep_config Integrity Watch no
R=$EP_ROOT
LONG=this-file-name-is-long-enough-to-need-ellipsizing-on-an-eighty-column-terminal.bin
mkdir -p "$R/bin"
echo ok >"$R/bin/ok"
digest=$(sha256sum <"$R/bin/ok" | cut -d' ' -f1) # what the manifest expects
head -c 2000000 /dev/urandom >"$R/bin/$LONG"
ep_start

CTL=$EP_BUILD/endpointctl
# run CMD...: sets RC, OUT and ERR.
run() {
        RC=0
        "$@" >"$EP_TMP/run.out" 2>"$EP_TMP/run.err" || RC=$?
        OUT=$(cat "$EP_TMP/run.out")
        ERR=$(cat "$EP_TMP/run.err")
}
# expect CODE CMD...: the exit status of CMD is CODE.
expect() {
        run "${@:2}"
        [ "$RC" = "$1" ] || ep_fail "expected exit $1 from: ${*:2} (got $RC; stdout: $OUT; stderr: $ERR)"
        ep_ok "${*:2} -> exit $1"
}
# expect_usage LINE CMD...: exit 2, nothing on stdout, exactly LINE on stderr.
expect_usage() {
        expect 2 "${@:2}"
        ep_assert_eq "$ERR" "endpointctl: $1" "the one line for: ${*:2}"
        ep_assert_eq "$OUT" "" "stdout of: ${*:2}"
}
# expect_json CMD...: stdout parses (jq -e .) whatever the exit status.
expect_json() {
        run "$@"
        jq -e . <<<"$OUT" >/dev/null || ep_fail "not JSON from: $* (exit $RC): $OUT $ERR"
        ep_ok "JSON from: $*"
}

it_manifest 1 "$EP_TMP/m1"
ep_ctl manifest install "$EP_TMP/m1" "$EP_TMP/m1.sig" >/dev/null || ep_fail "manifest install"
ep_ctl --no-progress scan >/dev/null || ep_fail "the first scan"

# ---- the reproductions of issue 10 -----------------------------------------
expect 0 ep_ctl status --json
ep_assert_eq "$(jq -r .integrityState <<<"$OUT")" trusted "status --json (option after the verb)"
expect 0 ep_ctl scan --no-progress
ep_assert_contains "$OUT" "finished: trusted, 0 violations" "scan --no-progress"
expect 0 ep_ctl status --help
ep_assert_eq "$(head -n1 <<<"$OUT")" "Usage: endpointctl status" "status --help"
expect 0 ep_ctl key list --json
ep_assert_eq "$(jq -r type <<<"$OUT")" array "key list --json"
expect 0 ep_ctl seal --help
ep_assert_eq "$(head -n1 <<<"$OUT")" "Usage: endpointctl seal NAME [--pcrs=LIST] [--policy=signed]" "seal --help"
ep_assert_eq "$ERR" "" "seal --help complains about nothing"
expect 0 ep_ctl --json device-key
ep_assert_eq "$(jq -r .publicKey <<<"$OUT" | head -n1)" "-----BEGIN PUBLIC KEY-----" "device-key --json holds the PEM"
expect 0 ep_ctl --json policy show
ep_assert_eq "$(jq -r '.roles[0].name' <<<"$OUT")" admin "policy show --json: roles"
ep_assert_eq "$(jq -r '.roles[0].permissions[0]' <<<"$OUT")" "*" "policy show --json: permissions"
ep_assert_eq "$(jq -r '.subjects[0].subject' <<<"$OUT")" user:root "policy show --json: subjects"
expect 0 ep_ctl --json policy verify "$EP_POLICY"
ep_assert_eq "$(jq -r .valid <<<"$OUT")" true "policy verify --json"
expect 0 ep_ctl --json attest --nonce 0badc0de --pcrs 0,7
ep_assert_eq "$(jq -c .pcrs <<<"$OUT")" "[0,7]" "attest --json: PCRs"
jq -r .quote <<<"$OUT" | base64 -d >"$EP_TMP/quote.msg" || ep_fail "attest --json: quote is not base64"
[ "$(od -An -tx1 -N4 "$EP_TMP/quote.msg" | tr -d ' ')" = ff544347 ] || ep_fail "attest --json: quote is no TPMS_ATTEST"
ep_ok "attest --json: the quote starts with TPM_GENERATED_VALUE"
expect 0 ep_ctl --json key create d2 --pcrs 7
ep_assert_eq "$(jq -c '[.name, .kind, .exportable, .pcrs]' <<<"$OUT")" '["d2","data",false,"7"]' "key create --json"
expect 0 ep_ctl -q status
ep_assert_eq "$OUT$ERR" "" "-q status prints nothing"
expect_usage "Unknown permission 'foo.bar'; see endpointd-policy(5) for the permissions." ep_ctl policy check foo.bar
expect_usage "Unknown permission 'status.reed'; did you mean 'status.read'?" ep_ctl policy check status.reed
expect 0 ep_ctl policy check status.read
expect_usage "'$EP_TMP/m1' and '$EP_TMP/m1' are the same file: give the manifest, then its detached signature." \
        ep_ctl manifest install "$EP_TMP/m1" "$EP_TMP/m1"
expect_usage "Unknown verb 'lst'; did you mean 'list'?" ep_ctl key lst
expect_usage "Unknown verb 'stauts'; did you mean 'status'?" ep_ctl stauts
# Confirmations of changes: stdout, nothing on stderr.
run ep_ctl seal s1 <<<"secret"
ep_assert_eq "$RC:$OUT:$ERR" "0:Sealed 's1'.:" "seal confirms on stdout"
run ep_ctl key create d1
ep_assert_eq "$RC:$OUT:$ERR" "0:Created data key 'd1'.:" "key create confirms on stdout"
run ep_ctl key delete d2
ep_assert_eq "$RC:$OUT:$ERR" "0:Deleted key 'd2'.:" "key delete confirms on stdout"
run ep_ctl policy reload
ep_assert_eq "$RC:$OUT:$ERR" "0:Access policy reloaded.:" "policy reload confirms on stdout"
# Upper-case headers, as systemd's tools print them.
header=$(ep_ctl key list | head -n1)
ep_assert_eq "$header" "$(tr a-z A-Z <<<"$header")" "key list header in upper case"
ep_assert_contains "$header" "NAME" "key list header"
header=$(ep_ctl measurements | head -n1)
ep_assert_eq "$header" "$(tr a-z A-Z <<<"$header")" "measurements header in upper case"

# ---- options anywhere, one precise line per mistake ------------------------
expect 0 ep_ctl key create --pcrs 0,7 d3 --exportable
ep_assert_eq "$(ep_ctl --json key list | jq -r '.[] | select(.name == "d3") | "\(.exportable) \(.pcrs)"')" \
        "true 0,7" "verb options before and after the argument"
expect_usage "Unexpected argument '--json' for 'status'; usage: endpointctl status" ep_ctl status -- --json
expect_usage "Option --aad does not apply to 'seal'; it goes with 'encrypt', 'decrypt'." ep_ctl seal s9 --aad=x
expect_usage "Missing argument for 'seal'; usage: endpointctl seal NAME [--pcrs=LIST] [--policy=signed]" ep_ctl seal
expect_usage "Unknown option '--jsno'; did you mean '--json'?" ep_ctl --jsno status
expect_usage "Option '--aad' needs a value." ep_ctl encrypt d1 --aad
expect_usage "Invalid --json mode 'fancy'; expected pretty, short or off." ep_ctl status --json=fancy
expect_usage "'key' needs a verb: create, list or delete; see 'endpointctl key --help'." ep_ctl key
expect_usage "Unknown verb 'frobnicate'; see --help." ep_ctl frobnicate
expect 0 ep_ctl key --help
ep_assert_contains "$OUT" "key delete NAME" "key --help lists the group's verbs"
expect 0 ep_ctl key create --help
ep_assert_eq "$(head -n1 <<<"$OUT")" "Usage: endpointctl key create NAME [--pcrs=LIST] [--exportable] [--policy=signed]" "key create --help"
expect 0 ep_ctl
ep_assert_contains "$OUT" "Integrity state: trusted" "no verb shows the status"
ep_assert_eq "$(ep_ctl --json=short status | wc -l)" 1 "--json=short is one line"
[ "$(ep_ctl --json=pretty status | wc -l)" -gt 3 ] || ep_fail "--json=pretty is not indented"
ep_ok "--json=pretty is indented"
ep_assert_contains "$(ep_ctl status --json=off)" "Integrity state: trusted" "--json=off"
ep_assert_eq "$(ep_ctl manifest create "$R" --serial 7 --version 2.5 --product pump | grep '^# endpointd:')" \
        "# endpointd: serial=7 product=pump version=2.5" "manifest create --version V after the verb"

# ---- JSON from every verb that prints data ----------------------------------
printf '[Grant]\nId=g1\nDevice=%s\nSubject=user:daemon\nRoles=admin\nNotBefore=2020-01-01T00:00:00Z\nNotAfter=2099-01-01T00:00:00Z\n' \
        "$(ep_ctl device-id)" >"$EP_TMP/g1.grant"
ep_sign_grant "$EP_TMP/g1.grant" "$EP_TMP/g1.sig"
printf '[Licence]\nId=l1\nDevice=*\nFeatures=basic\nNotBefore=2020-01-01T00:00:00Z\nNotAfter=2099-01-01T00:00:00Z\n' \
        >"$EP_TMP/l1.licence"
ep_sign_licence "$EP_TMP/l1.licence" "$EP_TMP/l1.sig"
expect_json ep_ctl --json grant install "$EP_TMP/g1.grant" "$EP_TMP/g1.sig"
ep_assert_eq "$(jq -r .id <<<"$OUT")" g1 "grant install --json"
for verb in status device-id device-key "key list" violations "verify bin/ok" measurements "manifest show" \
        "manifest show $EP_TMP/m1" "manifest check $EP_TMP/m1 $EP_TMP/m1.sig --trust $EP_TRUST" "policy show" \
        "policy check status.read" "policy verify $EP_POLICY" "grant list" "grant check $EP_TMP/g1.grant" \
        "licence list" "licence check basic" "licence verify $EP_TMP/l1.licence" scan "attest --nonce 00"; do
        # shellcheck disable=SC2086 # the verb and its arguments are words
        expect_json ep_ctl --json $verb
done
echo plain >"$EP_TMP/plain"
expect_json ep_ctl --json encrypt d1 <"$EP_TMP/plain"
jq -r .envelope <<<"$OUT" | base64 -d >"$EP_TMP/ct" || ep_fail "encrypt --json: not base64"
ep_assert_eq "$(ep_ctl decrypt d1 <"$EP_TMP/ct")" plain "the envelope from --json decrypts"
expect_json ep_ctl --json unseal s1
ep_assert_eq "$(jq -r .secret <<<"$OUT" | base64 -d)" secret "unseal --json"

# ---- -q: nothing on stdout, for every verb; errors still on stderr ----------
for verb in status device-id device-key "key list" "verify bin/ok" measurements "manifest show" "policy show" \
        "policy check status.read" "policy verify $EP_POLICY" "grant list" "licence list" "unseal s1" \
        "key create q1" "key delete q1" "policy reload" "--json status" "attest --nonce 00 --output $EP_TMP/q" \
        "manifest create $R --output $EP_TMP/m.q" "manifest check $EP_TMP/m1"; do
        # shellcheck disable=SC2086
        run ep_ctl -q $verb
        ep_assert_eq "$RC:$OUT:$ERR" "0::" "-q $verb"
done
run ep_ctl -q seal q2 <<<"x"
ep_assert_eq "$RC:$OUT:$ERR" "0::" "-q seal"
run ep_ctl -q key delete nope
[ "$RC" = 1 ] && [ -z "$OUT" ] && [ -n "$ERR" ] || ep_fail "-q key delete nope: exit $RC, '$OUT', '$ERR'"
ep_ok "-q still reports errors on stderr"

# ---- the CLI reads endpointd.conf (and endpointd.conf.d/) as the daemon does --------
# The daemon's configuration names the trust directory: no --trust needed.
expect 0 ep_ctl --config "$EP_CONF" manifest check "$EP_TMP/m1" "$EP_TMP/m1.sig"
ep_assert_contains "$OUT" "Signer:" "manifest check against TrustDirectory= of --config"
[ "$(grep -c . <<<"$(grep Signer: <<<"$OUT")")" = 1 ] && ! grep -q "Signer: *-$" <<<"$OUT" ||
        ep_fail "manifest check did not name the signer: $OUT"
# A trust directory someone else could add a CA to is refused (endpointd-manifest(5)).
chmod 0777 "$EP_TRUST"
expect 1 ep_ctl --config "$EP_CONF" manifest check "$EP_TMP/m1" "$EP_TMP/m1.sig"
ep_assert_contains "$ERR" "writable by its group or by others" "a trust directory writable by others"
chmod 0755 "$EP_TRUST"
expect 0 ep_ctl --config "$EP_CONF" grant check "$EP_TMP/g1.grant" "$EP_TMP/g1.sig"
expect 0 ep_ctl licence verify --config="$EP_CONF" "$EP_TMP/l1.licence" "$EP_TMP/l1.sig"
# A drop-in moves TrustDirectory= to a directory without the manufacturer's CA.
cp "$EP_CONF" "$EP_TMP/cli.conf"
mkdir -p "$EP_TMP/cli.conf.d" "$EP_TMP/other-trust"
printf '[Integrity]\nTrustDirectory=%s\n' "$EP_TMP/other-trust" >"$EP_TMP/cli.conf.d/50-trust.conf"
expect 1 ep_ctl --config "$EP_TMP/cli.conf" manifest check "$EP_TMP/m1" "$EP_TMP/m1.sig"
ep_assert_contains "$ERR" "$EP_TMP/other-trust" "manifest check uses TrustDirectory= of the drop-in"
expect 1 ep_ctl --config "$EP_TMP/cli.conf" grant check "$EP_TMP/g1.grant" "$EP_TMP/g1.sig"
ep_assert_contains "$ERR" "$EP_TMP/other-trust" "grant check uses TrustDirectory= of the drop-in"
# --trust overrides the configuration.
expect 0 ep_ctl --config "$EP_TMP/cli.conf" manifest check "$EP_TMP/m1" "$EP_TMP/m1.sig" --trust "$EP_TRUST"
expect 0 ep_ctl --config "$EP_TMP/cli.conf" grant check "$EP_TMP/g1.grant" "$EP_TMP/g1.sig" --trust="$EP_TRUST"
# A later drop-in wins (byte order of the names); policy verify without FILE reads File=.
printf '[Integrity]\nTrustDirectory=%s\n' "$EP_TRUST" >"$EP_TMP/cli.conf.d/60-back.conf"
expect 0 ep_ctl --config "$EP_TMP/cli.conf" manifest check "$EP_TMP/m1" "$EP_TMP/m1.sig"
expect 0 ep_ctl --config "$EP_TMP/cli.conf" policy verify
ep_assert_eq "$OUT" "$EP_POLICY: OK" "policy verify without FILE checks [Policy] File="
# A configuration the daemon would refuse: refused the same way, with file:line.
printf '[Integrity]\nRoot=/\nTrustDirectory=trust\n' >"$EP_TMP/cli.conf.d/70-bad.conf"
expect 1 ep_ctl --config "$EP_TMP/cli.conf" manifest check "$EP_TMP/m1" "$EP_TMP/m1.sig"
ep_assert_eq "$ERR" "endpointctl: $EP_TMP/cli.conf.d/70-bad.conf:3: 'trust' is not an absolute path" \
        "a bad drop-in is named with file:line"
ep_expect_exit 1 "$EP_BUILD/endpointd" --config "$EP_TMP/cli.conf" --check-config
ep_assert_contains "$(cat "$EP_TMP/last.out")" "$EP_TMP/cli.conf.d/70-bad.conf:3:" "endpointd names the same drop-in"
expect 1 ep_ctl --config "$EP_TMP/missing.conf" manifest check "$EP_TMP/m1" "$EP_TMP/m1.sig"
ep_assert_contains "$ERR" "$EP_TMP/missing.conf: cannot read: No such file or directory" "a missing --config"
# Without a signature nothing needs the configuration: a bad one is not read.
expect 0 ep_ctl --config "$EP_TMP/cli.conf" manifest check "$EP_TMP/m1"

# ---- exit codes -------------------------------------------------------------
expect 4 ep_as 65534 "$CTL" status
ep_assert_contains "$ERR" "access denied" "exit 4 says why"
expect 4 ep_as 65534 "$CTL" policy check status.read
echo changed >>"$R/bin/ok"
echo changed >>"$R/bin/$LONG"
expect 5 ep_ctl --no-progress scan
expect 5 ep_ctl --json scan
ep_assert_eq "$(jq -r '"\(.state) \(.violationCount) \(.violations[0].path) \(.violations[0].kind)"' <<<"$OUT")" \
        "violated 2 bin/ok modified" "scan --json: the verdict with its violations"
expect 5 ep_ctl violations
expect 5 ep_ctl -q violations
ep_assert_eq "$OUT" "" "-q violations"

# ---- tables for people ----------------------------------------------------------
ep_ctl key create "k-this-key-name-is-sixty-four-characters-long-to-test-ellipsis-x" >/dev/null ||
        ep_fail "long key name"
# Created shows in local time; --utc in UTC.
ep_assert_contains "$(TZ=Asia/Kolkata ep_ctl key list)" " IST" "times in local time"
ep_assert_contains "$(TZ=Asia/Kolkata ep_ctl --utc key list)" " UTC" "--utc"
case $(TZ=Asia/Kolkata ep_ctl --utc key list) in *IST*) ep_fail "--utc still printed local time" ;; esac
ep_ok "--utc prints no local time"
ep_assert_eq "$(ep_ctl --no-legend key list | grep -c NAME)" 0 "--no-legend drops the header"
ep_assert_eq "$(ep_ctl --no-legend key list | wc -l)" "$(ep_ctl --json key list | jq length)" "--no-legend: one line a key"

# The test data needs fitting: without a terminal these lines are wider.
[ -n "$(ep_ctl key list | awk 'length > 80')" ] || ep_fail "key list is not wider than 80 columns off a terminal"
[ -n "$(ep_ctl status | awk 'length > 60')" ] || ep_fail "status is not wider than 60 columns off a terminal"
[ -n "$(ep_ctl violations | awk 'length > 80')" ] || ep_fail "violations are not wider than 80 columns off a terminal"
ep_ok "off a terminal, tables are printed in full"
ep_assert_contains "$(ep_ctl verify bin/ok)" "Expected: $digest" "full digests off a terminal"

# tty COLS ARGS...: endpointctl ARGS on a terminal of COLS columns; the
# output split at every \r and \n, escape sequences dropped, in tty.out.
# The pager is $EP_TMP/pager (unless SYSTEMD_PAGER is set): it notes its
# environment in pager.env and passes the output through.
cat >"$EP_TMP/pager" <<PAGER
#!/bin/sh
echo "paged LESS=\$LESS LESSSECURE=\$LESSSECURE COLUMNS=\$COLUMNS" >"$EP_TMP/pager.env"
exec cat
PAGER
chmod +x "$EP_TMP/pager"
tty() {
        local cols=$1
        shift
        local vars=(SYSTEMD_PAGER="${SYSTEMD_PAGER-$EP_TMP/pager}")
        [ -n "${NO_SYSTEMD_PAGER:-}" ] && vars=()
        [ "${SYSTEMD_PAGERSECURE-}" = unset ] || vars+=(SYSTEMD_PAGERSECURE="${SYSTEMD_PAGERSECURE-0}")
        rm -f "$EP_TMP/pager.env"
        env -u COLUMNS -u SYSTEMD_PAGER -u SYSTEMD_PAGERSECURE "${vars[@]}" LC_ALL=C TERM="${TERM_FOR_TTY:-xterm}" \
                script -qec "stty cols $cols rows 50; $CTL $*" /dev/null >"$EP_TMP/tty.raw" 2>&1
        tr '\r' '\n' <"$EP_TMP/tty.raw" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' >"$EP_TMP/tty.out"
}
# fits COLS WHAT: no line of tty.out is wider than COLS.
fits() {
        local wide
        wide=$(LC_ALL=C awk -v c="$1" 'length($0) > c' "$EP_TMP/tty.out")
        [ -z "$wide" ] || ep_fail "$2 on $1 columns, lines wider than the terminal: $wide"
        ep_ok "$2 fits $1 columns"
}
for cols in 80 60; do
        tty "$cols" status
        ep_assert_contains "$(cat "$EP_TMP/tty.out")" "Integrity state:" "status on a terminal"
        fits "$cols" status
        tty "$cols" key list
        ep_assert_contains "$(cat "$EP_TMP/tty.out")" "k-this" "key list on a terminal"
        fits "$cols" "key list"
        tty "$cols" violations
        ep_assert_contains "$(cat "$EP_TMP/tty.out")" "bin/ok" "violations on a terminal"
        fits "$cols" violations
        tty "$cols" scan
        ep_assert_contains "$(cat "$EP_TMP/tty.out")" "] 100%" "scan progress on a terminal ends at 100%"
        fits "$cols" "scan progress"
done
# The pager: on a terminal only, for the verbs with long output, with
# systemd's LESS flags and the terminal's width kept (tty runs with
# SYSTEMD_PAGERSECURE=0: secure mode is tested below).
tty 80 violations
ep_assert_contains "$(cat "$EP_TMP/pager.env" 2>/dev/null)" "paged LESS=FRSXMK LESSSECURE= COLUMNS=80" \
        "violations on a terminal go through \$SYSTEMD_PAGER"
ep_assert_contains "$(cat "$EP_TMP/tty.out")" "bin/ok" "the pager shows the violations"
fits 80 "violations through the pager"
SYSTEMD_LESS=FRX tty 60 key list
ep_assert_contains "$(cat "$EP_TMP/pager.env" 2>/dev/null)" "paged LESS=FRX " "\$SYSTEMD_LESS replaces the LESS flags"
fits 60 "key list through the pager"
NO_SYSTEMD_PAGER=1 PAGER="$EP_TMP/pager" tty 80 measurements
[ -f "$EP_TMP/pager.env" ] || ep_fail "\$PAGER is not used without \$SYSTEMD_PAGER"
ep_ok "\$PAGER is the pager without \$SYSTEMD_PAGER"
# Secure mode (SYSTEMD_PAGERSECURE=1, or unset as root): only less, which
# honours LESSSECURE, may run; $SYSTEMD_PAGER and $PAGER are not, and
# without less in PATH there is no pager at all (more has no secure mode:
# here "more" is the noting pager).
secure_modes=(1)
[ "$(id -u)" = 0 ] && secure_modes+=(unset)
mkdir -p "$EP_TMP/noless"
ln -sf "$EP_TMP/pager" "$EP_TMP/noless/more"
for tool in script stty sh bash env rm tr sed cat; do
        ln -sf "$(command -v $tool)" "$EP_TMP/noless/$tool"
done
for SECURE in "${secure_modes[@]}"; do
        SYSTEMD_PAGERSECURE=$SECURE tty 80 violations
        [ ! -f "$EP_TMP/pager.env" ] || ep_fail "secure mode ($SECURE): \$SYSTEMD_PAGER was started"
        ep_assert_contains "$(cat "$EP_TMP/tty.out")" "bin/ok" "secure mode ($SECURE): output shown"
        SYSTEMD_PAGERSECURE=$SECURE NO_SYSTEMD_PAGER=1 PAGER="$EP_TMP/pager" tty 80 violations
        [ ! -f "$EP_TMP/pager.env" ] || ep_fail "secure mode ($SECURE): \$PAGER was started"
        SYSTEMD_PAGERSECURE=$SECURE NO_SYSTEMD_PAGER=1 PATH="$EP_TMP/noless" tty 80 violations
        [ ! -f "$EP_TMP/pager.env" ] || ep_fail "secure mode ($SECURE), no less in PATH: more was started"
        ep_assert_contains "$(cat "$EP_TMP/tty.out")" "bin/ok" "secure mode ($SECURE), no less: output shown directly"
done
SYSTEMD_PAGERSECURE=0 NO_SYSTEMD_PAGER=1 PATH="$EP_TMP/noless" tty 80 violations
[ -f "$EP_TMP/pager.env" ] || ep_fail "without secure mode and less, more is not the pager"
ep_ok "secure mode runs no pager but less; more without it"
for case in "--no-pager violations" "-q violations" "violations --no-pager" "verify bin/ok"; do
        tty 80 "$case"
        [ ! -f "$EP_TMP/pager.env" ] || ep_fail "a pager was started for '$case'"
done
TERM_FOR_TTY=dumb tty 80 violations
[ ! -f "$EP_TMP/pager.env" ] || ep_fail "a pager was started with TERM=dumb"
for p in cat ''; do
        SYSTEMD_PAGER=$p tty 80 violations
        [ ! -f "$EP_TMP/pager.env" ] || ep_fail "SYSTEMD_PAGER='$p' started a pager"
        ep_assert_contains "$(cat "$EP_TMP/tty.out")" "bin/ok" "SYSTEMD_PAGER='$p' prints directly"
done
rm -f "$EP_TMP/pager.env"
SYSTEMD_PAGER="$EP_TMP/pager" ep_ctl violations >/dev/null
[ ! -f "$EP_TMP/pager.env" ] || ep_fail "a pager was started off a terminal"
SYSTEMD_PAGER="$EP_TMP/pager" ep_ctl --json violations | jq -e . >/dev/null || ep_fail "--json to a pipe is not JSON"
[ ! -f "$EP_TMP/pager.env" ] || ep_fail "a pager was started for --json to a pipe"
ep_ok "no pager with --no-pager, -q, TERM=dumb, SYSTEMD_PAGER=cat or empty, off a terminal, or for short verbs"
# The real less, as an admin has it: the output fits one screen, so -F ends it at once.
if command -v less >/dev/null; then
        NO_SYSTEMD_PAGER=1 timeout 300 env -u PAGER bash -c "$(declare -f tty); CTL='$CTL' EP_TMP='$EP_TMP' tty 80 violations" ||
                ep_fail "less did not end by itself on one screen of output"
        ep_assert_contains "$(cat "$EP_TMP/tty.out")" "bin/ok" "less shows the violations"
        fits 80 "violations through less"
fi

# Colour on a terminal only, and not with NO_COLOR.
tty 80 verify bin/ok
grep -q $'\033\[0;1;31mmodified' "$EP_TMP/tty.raw" || ep_fail "no red 'modified' on a terminal: $(cat -v "$EP_TMP/tty.raw")"
ep_ok "colour on a terminal"
NO_COLOR=1 tty 80 verify bin/ok
! grep -q $'\033\[0;1;31m' "$EP_TMP/tty.raw" || ep_fail "colour despite NO_COLOR"
ep_ok "no colour with NO_COLOR"
ep_assert_eq "$(ep_ctl verify bin/ok | grep -c $'\033')" 0 "no escape sequences off a terminal"
tty 200 verify bin/ok
case $(cat "$EP_TMP/tty.out") in *"$digest"*) ep_fail "the digest was not shortened on a terminal" ;; esac
ep_ok "digests shortened on a terminal"
tty 200 --full verify bin/ok
ep_assert_contains "$(cat "$EP_TMP/tty.out")" "$digest" "--full shows the whole digest on a terminal"
tty 60 -l key list
[ -n "$(LC_ALL=C awk 'length > 60' "$EP_TMP/tty.out")" ] || ep_fail "-l still ellipsized"
ep_ok "-l does not ellipsize"

# ---- the verb table, --help and endpointctl(1) list the same verbs -------------
# Whole synopses, arguments and verb options included: the lines of
# --help up to the description, the .TP lines of COMMANDS without fonts.
help_syn=$(ep_ctl --help | awk '/^Verbs:/ { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/' |
        sed -e 's/^  //' -e 's/   *[A-Z].*$//' | sort)
man_syn=$(awk '/^\.SH COMMANDS/ { on = 1; next } on && /^\.SH/ { exit } on && prev == ".TP" { print } { prev = $0 }' \
        "$EP_SRC/man/endpointctl.1" | sed -e 's/^\.[A-Z]* //' -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' -e 's/"//g' \
        -e 's/  */ /g' -e 's/ $//' | sort)
[ "$(wc -l <<<"$help_syn")" -ge 30 ] || ep_fail "too few verbs in --help: $help_syn"
if [ "$help_syn" != "$man_syn" ]; then
        diff <(echo "$man_syn") <(echo "$help_syn") >&2
        ep_fail "endpointctl(1) and --help differ in verbs or their synopses (diff above: < man, > --help)"
fi
ep_ok "endpointctl(1) and --help list the same $(wc -l <<<"$help_syn") verbs with the same synopses"
man_verbs=$(awk '{ s = ""; for (i = 1; i <= NF && $i ~ /^[a-z][a-z-]*$/; i++) s = s (s ? " " : "") $i; print s }' \
        <<<"$man_syn")
while read -r verb; do
        # shellcheck disable=SC2086
        run ep_ctl $verb --help
        case $RC:$OUT in
        "0:Usage: endpointctl $verb"*) ;;
        *) ep_fail "'$verb --help' (exit $RC): $OUT $ERR" ;;
        esac
done <<<"$man_verbs"
ep_ok "every verb of endpointctl(1) is in the verb table and has its --help"

# ---- bash completion, from --help and key list ----------------------------------
# completes WORD... : what the completion offers for the last word.
completes() {
        bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _endpointctl
                printf "%s\n" "${COMPREPLY[@]}"' _ "$EP_SRC/shell-completion/endpointctl.bash" "$CTL" "$@" | sort | xargs
}
ep_assert_eq "$(completes sta)" "status" "completion of a verb"
ep_assert_eq "$(completes key "")" "create delete list" "completion of a group's verbs"
ep_assert_eq "$(completes -q unseal s)" "s1" "completion of a key name"
ep_assert_eq "$(completes status --no-l)" "--no-legend" "completion of an option"

# ---- the daemon gone: 3 -----------------------------------------------------------
ep_stop
expect 3 ep_ctl status
ep_assert_contains "$ERR" "endpointd is not running" "exit 3 says why"
expect 3 ep_ctl
expect_usage "Unknown permission 'foo.bar'; see endpointd-policy(5) for the permissions." ep_ctl policy check foo.bar

ep_done
