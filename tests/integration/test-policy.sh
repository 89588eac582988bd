#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Access policy with real unprivileged callers: users, uids, groups
# (primary and supplementary), per-key permissions, default deny, reload
# (method and SIGHUP) keeping the old policy on errors, local verification.
. "$top_srcdir/tests/integration/lib.sh"

ep_setup --no-tpm
cat >>"$EP_POLICY" <<'EOF'

[Role]
Name=viewer
Permissions=status.read policy.read

[Role]
Name=keyuser
Permissions=policy.read keys.use:k1

[Subject]
User=daemon
Roles=viewer

[Subject]
UID=2
Roles=viewer

[Subject]
Group=backup
Roles=keyuser
EOF
ep_start

# Allowed: by user name (daemon = uid 1) and by numeric uid.
ep_expect_exit 0 ep_as 1 "$EP_BUILD/endpointctl" status
ep_expect_exit 0 ep_as 2 "$EP_BUILD/endpointctl" status
# Root keeps everything through the test policy's admin role.
ep_expect_exit 0 ep_ctl policy check integrity.install

# Denied by default: a uid nobody mentions; the denial names the permission.
ep_expect_error org.freedesktop.DBus.Error.AccessDenied \
        ep_as 9 dbus-send --system --print-reply --dest=org.endpointd.Endpoint1 /org/endpointd/Endpoint1 \
        org.freedesktop.DBus.Properties.Get string:org.endpointd.Endpoint1 string:Version
ep_expect_exit 4 ep_as 9 "$EP_BUILD/endpointctl" status
ep_assert_contains "$(cat "$EP_TMP/last.out")" "status.read" "denial names the permission"
# Allowed one thing is not allowed another.
ep_expect_exit 4 ep_as 1 "$EP_BUILD/endpointctl" policy reload
ep_assert_contains "$(cat "$EP_TMP/last.out")" "policy.reload" "denial names the permission"
ep_expect_error org.freedesktop.DBus.Error.AccessDenied \
        ep_as 1 dbus-send --system --print-reply --dest=org.endpointd.Endpoint1 /org/endpointd/Endpoint1 \
        org.endpointd.Policy1.InstallGrant array:byte:65 array:byte:66

# CheckAccess for the caller: uid 1 may read the status but not install a manifest.
ep_expect_exit 0 ep_as 1 "$EP_BUILD/endpointctl" policy check status.read
ep_expect_exit 4 ep_as 1 "$EP_BUILD/endpointctl" policy check integrity.install
ep_assert_contains "$(cat "$EP_TMP/last.out")" "no role" "CheckAccess gives a reason"

# A permission on one key name but not another, through the primary group ...
ep_expect_exit 0 ep_as 7:34 "$EP_BUILD/endpointctl" policy check keys.use:k1
ep_expect_exit 4 ep_as 7:34 "$EP_BUILD/endpointctl" policy check keys.use:k2
ep_expect_exit 4 ep_as 7:34 "$EP_BUILD/endpointctl" status
# ... and through a supplementary group, as the bus daemon reports it.
ep_expect_exit 0 setpriv --reuid=8 --regid=8 --groups=34 "$EP_BUILD/endpointctl" policy check keys.use:k1
ep_expect_exit 4 setpriv --reuid=8 --regid=8 --groups=34 "$EP_BUILD/endpointctl" policy check keys.use:k2
# Without the group, nothing.
ep_expect_exit 4 ep_as 7 "$EP_BUILD/endpointctl" policy check keys.use:k1
ep_expect_exit 2 ep_ctl policy check 'keys.use:*'

# The policy in force, as the daemon parsed it.
out=$(ep_ctl policy show)
ep_assert_contains "$out" "Name=keyuser" "policy show"
ep_assert_contains "$out" "Group=backup" "policy show"

# Local verification with the daemon's parser: file:line on errors.
ep_expect_exit 0 ep_ctl policy verify "$EP_POLICY"
printf '[Role]\nName=x\nPermissions=status.read\n\n[Subject]\nUID=7\nRoles=x y\n' >"$EP_TMP/bad.conf"
ep_expect_exit 1 ep_ctl policy verify "$EP_TMP/bad.conf"
ep_assert_contains "$(cat "$EP_TMP/last.out")" "$EP_TMP/bad.conf:7: role 'y' is not defined" "file:line"

# Reload with a broken policy: refused with file:line, the old one stays.
cp "$EP_POLICY" "$EP_TMP/good.conf"
printf '\n[Subject]\nUID=9\nRoles=viewer\nBogus=1\n' >>"$EP_POLICY"
ep_expect_error org.endpointd.Error.Malformed dbus-send --system --print-reply --dest=org.endpointd.Endpoint1 \
        /org/endpointd/Endpoint1 org.endpointd.Policy1.Reload
ep_expect_exit 1 ep_ctl policy reload
ep_assert_contains "$(cat "$EP_TMP/last.out")" "$EP_POLICY:$(wc -l <"$EP_POLICY"): unknown key 'Bogus'" \
        "reload error has file:line"
ep_expect_exit 4 ep_as 9 "$EP_BUILD/endpointctl" status
ep_expect_exit 0 ep_as 1 "$EP_BUILD/endpointctl" status
# SIGHUP with a broken policy also keeps the old one.
kill -HUP "$EP_DAEMON_PID"
for _ in $(seq 50); do grep -q "Keeping the old access policy" "$EP_TMP/daemon.log" && break; sleep 0.1; done
ep_expect_exit 0 ep_as 1 "$EP_BUILD/endpointctl" status

# A good one takes effect on Reload() and on SIGHUP.
cp "$EP_TMP/good.conf" "$EP_POLICY"
printf '\n[Subject]\nUID=9\nRoles=viewer\n' >>"$EP_POLICY"
ep_expect_exit 0 ep_ctl policy reload
ep_expect_exit 0 ep_as 9 "$EP_BUILD/endpointctl" status
cp "$EP_TMP/good.conf" "$EP_POLICY"
n=$(grep -c "Access policy loaded" "$EP_TMP/daemon.log")
kill -HUP "$EP_DAEMON_PID"
for _ in $(seq 50); do [ "$(grep -c "Access policy loaded" "$EP_TMP/daemon.log")" -gt "$n" ] && break; sleep 0.1; done
ep_expect_exit 4 ep_as 9 "$EP_BUILD/endpointctl" status

# Denials are journal events with their MESSAGE_ID; a burst is flagged.
for _ in $(seq 25); do ep_as 9 "$EP_BUILD/endpointctl" status >/dev/null 2>&1; done
ep_assert_contains "$(cat "$EP_TMP/daemon.log")" "Denied status.read to uid 9" "denial logged"
ep_assert_contains "$(cat "$EP_TMP/daemon.log")" "Possible abuse: uid 9" "burst of denials logged"

# Every member of every interface (conf/*.xml, the contract) has exactly one
# permission in bus-auth.c, and endpointd-dbus(7) lists it.
for f in "$EP_SRC"/conf/org.endpointd.*.xml; do
        iface=$(basename "$f" .xml)
        short=${iface#org.endpointd.}
        macro=$(echo "${short%1}" | tr a-z A-Z)
        for m in $(sed -n 's/.*<method name="\([A-Za-z]*\)".*/\1/p' "$f"); do
                n=$(grep -c "{ ENDPOINTD_IFACE_$macro, \"$m\"," "$EP_SRC/src/daemon/bus-auth.c")
                [ "$n" = 1 ] || ep_fail "$iface.$m has $n rows in permission_table[]"
                grep -q "^$short	$m	" "$EP_SRC/man/endpointd-dbus.7" || ep_fail "$iface.$m missing in endpointd-dbus(7)"
        done
        if grep -q "<property" "$f"; then
                grep -q "{ ENDPOINTD_IFACE_$macro, NULL," "$EP_SRC/src/daemon/bus-auth.c" ||
                        ep_fail "$iface has properties but no permission for reading them"
                grep -q "^$short	(properties)	" "$EP_SRC/man/endpointd-dbus.7" ||
                        ep_fail "$iface properties missing in endpointd-dbus(7)"
        fi
        ep_ok "$iface: every member has a permission, documented"
done

# A policy that does not parse at start-up is refused with file:line.
ep_stop
ep_assert_eq "$EP_DAEMON_RC" 0 "daemon exit status"
printf '[Role]\nName=a\n' >"$EP_POLICY"
: >"$EP_TMP/daemon.log"
ep_write_config
rc=0
"$EP_BUILD/endpointd" --config "$EP_CONF" >"$EP_TMP/start.log" 2>&1 || rc=$?
[ $rc -ne 0 ] || ep_fail "endpointd started with a broken policy"
ep_assert_contains "$(cat "$EP_TMP/start.log")" "$EP_POLICY:1: [Role] 'a' without Permissions=" "start refused"

ep_done
