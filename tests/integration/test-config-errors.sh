#!/bin/bash
# A malformed configuration refuses to start and names file:line; usage
# errors of both programs are one precise line.
. "$top_srcdir/tests/integration/lib.sh"

ep_setup --no-tpm
ep_write_config

expect_refusal() { # LINE MESSAGE CONTENT
        printf '%b' "$3" >"$EP_TMP/bad.conf"
        local rc=0 out
        out=$("$EP_BUILD/endpointd" --config "$EP_TMP/bad.conf" 2>&1) || rc=$?
        [ $rc -eq 1 ] || ep_fail "endpointd started (rc=$rc) with: $3"
        ep_assert_contains "$out" "$EP_TMP/bad.conf:$1: $2" "refusal"
}
expect_refusal 2 "missing '='" '[Daemon]\nUser root\n'
expect_refusal 3 "unterminated section header" '[Daemon]\nUser=root\n[TPM\n'
expect_refusal 2 "'soon' is not a time span" '[Integrity]\nScanInterval=soon\n'
expect_refusal 3 "duplicate key User=, first set on line 2" '[Daemon]\nUser=root\nUser=root\n'
expect_refusal 2 "PCR index in '25' is above 23" '[TPM]\nPCRs=25\n'
expect_refusal 2 "line contains a NUL byte" '[Daemon]\nUser=ro\0ot\n'
expect_refusal 2 "line is not valid UTF-8" '[Daemon]\nUser=r\xffoot\n'

# --check-config agrees, without starting anything.
ep_expect_exit 0 "$EP_BUILD/endpointd" --config "$EP_CONF" --check-config
ep_expect_exit 1 "$EP_BUILD/endpointd" --config "$EP_TMP/bad.conf" --check-config
ep_expect_exit 1 "$EP_BUILD/endpointd" --config "$EP_TMP/does-not-exist.conf" --check-config
ep_assert_contains "$(cat "$EP_TMP/last.out")" "No such file or directory" "missing config"
# Configuration that someone else could have written is refused, with the
# file and the reason (endpointd.conf(5)).
mkdir -p "$EP_CONF.d"
chmod 0777 "$EP_CONF.d"
ep_expect_exit 1 "$EP_BUILD/endpointd" --config "$EP_CONF" --check-config
ep_assert_contains "$(cat "$EP_TMP/last.out")" "endpointd.conf.d/ refused: writable by its group or by others" \
        "a drop-in directory writable by others"
chmod 0755 "$EP_CONF.d"
chmod 0666 "$EP_CONF"
ep_expect_exit 1 "$EP_BUILD/endpointd" --config "$EP_CONF" --check-config
ep_assert_contains "$(cat "$EP_TMP/last.out")" "refused: writable by its group or by others" \
        "a configuration file writable by others"
chmod 0644 "$EP_CONF"
ep_expect_exit 0 "$EP_BUILD/endpointd" --config "$EP_CONF" --check-config
# A User= that does not exist here is a warning (the configuration may be
# checked where the image is built), saying the daemon would not start.
printf '[Daemon]\nUser=nosuchuser-cc\n' >"$EP_TMP/nouser.conf"
ep_expect_exit 0 "$EP_BUILD/endpointd" --config "$EP_TMP/nouser.conf" --check-config
ep_assert_contains "$(cat "$EP_TMP/last.out")" "User 'nosuchuser-cc' (User=) does not exist on this system" \
        "a missing User= warned about"

# An unknown key is a warning with file:line, and the daemon starts.
ep_config Daemon FutureOption yes
ep_start
ep_assert_contains "$(cat "$EP_TMP/daemon.log")" \
        "Unknown key FutureOption= in section [Daemon], ignoring." "warning"
grep -q "$EP_CONF:[0-9]*: Unknown key FutureOption=" "$EP_TMP/daemon.log" || ep_fail "warning without file:line"
ep_ok "unknown key warns with file:line"
ep_stop

# Usage errors: exit 2 (endpointctl) with one line; --help and --version work.
ep_expect_exit 2 ep_ctl frobnicate
ep_assert_eq "$(cat "$EP_TMP/last.out")" "endpointctl: Unknown verb 'frobnicate'; see --help." "unknown verb"
ep_expect_exit 2 ep_ctl status extra
# No verb is "status", as with systemd's tools; the daemon is stopped here.
ep_expect_exit 3 ep_ctl
ep_expect_exit 2 ep_ctl --bogus
ep_expect_exit 0 ep_ctl --help
ep_assert_contains "$(cat "$EP_TMP/last.out")" "status" "endpointctl --help"
ep_expect_exit 0 ep_ctl --version
ep_expect_exit 0 "$EP_BUILD/endpointd" --help
ep_expect_exit 0 "$EP_BUILD/endpointd" --version
ep_expect_exit 1 "$EP_BUILD/endpointd" --bogus
ep_expect_exit 1 "$EP_BUILD/endpointd" stray-argument

ep_done
