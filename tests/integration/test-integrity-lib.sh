# SPDX-License-Identifier: LGPL-2.1-or-later
# Helpers shared by the tests/integration/test-integrity*.sh tests (sourced
# after lib.sh; not a test itself).

command -v jq >/dev/null || ep_skip "jq is not installed"
command -v bsdtar >/dev/null || ep_skip "bsdtar (libarchive-tools) is not installed"

IT_KEYWORDS='!all,type,mode,uid,gid,size,link,sha256'

# it_manifest SERIAL OUT [DIR]: a bsdtar mtree manifest of DIR (default the
# test's root) with the release line, signed by the trusted signer into OUT.sig.
it_manifest() {
        local serial=$1 out=$2 dir=${3:-$EP_ROOT}
        {
                echo "# endpointd: serial=$serial product=test-pump version=1.$serial"
                bsdtar --format=mtree --options="$IT_KEYWORDS" -cf - -C "$dir" .
        } >"$out" || ep_fail "bsdtar could not write a manifest of $dir"
        ep_sign "$out" "$out.sig"
}

# it_install MANIFEST SIG: InstallManifest(h, h), succeeding.
it_install() {
        local out
        out=$(it_install_result "$1" "$2")
        [ "$out" = success ] || { ep_log "install of $1: $out"; return 1; }
}

it_prop() {
        ep_busctl get-property org.endpointd.Endpoint1 /org/endpointd/Endpoint1 org.endpointd.Endpoint1 "$1" |
                cut -d' ' -f2- | tr -d '"'
}

# it_kind PATH: the violation kind recorded for the (escaped) path, or "none".
it_kind() {
        local k
        k=$(ep_ctl --json violations | jq -r --arg p "$1" '[.[] | select(.path == $p) | .kind] | first // "none"')
        echo "$k"
}

# it_expect_kind PATH KIND
it_expect_kind() {
        ep_assert_eq "$(it_kind "$1")" "$2" "violation kind of '$1'"
}

# it_call ARGS...: calls an Integrity1 method with gdbus, which prints the
# D-Bus error name on failure (endpointctl prints only the sentence).
it_call() {
        gdbus call --system -d org.endpointd.Endpoint1 -o /org/endpointd/Endpoint1 \
                -m "org.endpointd.Integrity1.$1" "${@:2}"
}

# it_install_result MANIFEST SIG: prints "success" or "ERROR.NAME: message".
# gdbus passes the two files as fds (a handle argument is the number of an
# fd of its own) and reports the D-Bus error name (busctl cannot pass fds,
# endpointctl prints only the sentence).
it_install_result() {
        local out
        if out=$(gdbus call --system --timeout 120 -d org.endpointd.Endpoint1 -o /org/endpointd/Endpoint1 \
                -m org.endpointd.Integrity1.InstallManifest "@h 3" "@h 4" 3<"$1" 4<"$2" 2>&1); then
                echo success
        else
                printf '%s\n' "${out#Error: GDBus.Error:}"
        fi
}

# it_expect_reject NAME TEXT MANIFEST SIG: the install fails with the D-Bus
# error NAME and a message containing TEXT, and the installed serial does not change.
it_expect_reject() {
        local name=$1 text=$2 before out
        before=$(it_prop ManifestSerial)
        out=$(it_install_result "$3" "$4")
        ep_log "refused: $out"
        case $out in
        success) ep_fail "installing $3 succeeded, expected $name" ;;
        "$name:"*) ;;
        *) ep_fail "installing $3: expected $name, got: $out" ;;
        esac
        ep_assert_contains "$out" "$text" "rejection of $(basename "$3")"
        ep_assert_eq "$(it_prop ManifestSerial)" "$before" "serial after rejecting $(basename "$3")"
}

# it_subscribe LOG: starts a client (python3-dbus) that calls
# Integrity1.Subscribe() and writes each signal it receives to LOG, one a
# line: "IFACE.MEMBER [args]", e.g.
#   org.endpointd.Integrity1.Violation ['bin/gone', 'missing', '...']
# Returns once it is subscribed. The details of a scan are sent only to
# subscribers (endpointd-dbus(7)); a plain match rule sees none of them.
it_subscribe() {
        local log=$1
        /usr/bin/python3 -c 'import dbus, dbus.mainloop.glib; from gi.repository import GLib' 2>/dev/null ||
                ep_skip "python3-dbus and python3-gi are needed"
        : >"$log"
        /usr/bin/python3 - "$log" <<'PY' &
import dbus, dbus.mainloop.glib, os, sys
from gi.repository import GLib
log = open(sys.argv[1], "a", buffering=1)
dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
bus = dbus.bus.BusConnection(os.environ["DBUS_SYSTEM_BUS_ADDRESS"])
def plain(v):
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return int(v) if isinstance(v, int) else str(v)
def on_message(conn, msg):
    if isinstance(msg, dbus.lowlevel.SignalMessage) and msg.get_interface().startswith("org.endpointd."):
        log.write("%s.%s %r\n" % (msg.get_interface(), msg.get_member(), plain(msg.get_args_list())))
bus.add_message_filter(on_message)
bus.add_match_string("type='signal',sender='org.endpointd.Endpoint1'")
bus.call_blocking("org.endpointd.Endpoint1", "/org/endpointd/Endpoint1", "org.endpointd.Integrity1",
                  "Subscribe", "", [])
log.write("subscribed\n")
GLib.MainLoop().run()
PY
        EP_PIDS+=("$!")
        for _ in $(seq 100); do grep -q '^subscribed' "$log" && return 0; sleep 0.1; done
        ep_fail "the subscriber did not subscribe: $(cat "$log")"
}
