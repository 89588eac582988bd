#!/bin/bash
# endpointctl status and busctl against a real daemon on a private bus.
. "$top_srcdir/tests/integration/lib.sh"

ep_setup
ep_start

out=$(ep_ctl status) || ep_fail "endpointctl status failed"
ep_assert_contains "$out" "Integrity state: unverified" "status table"
ep_assert_contains "$out" "Version: " "status table"
ep_assert_contains "$out" "Manifest serial: 0" "status table"
ep_assert_contains "$out" "Last scan: never" "status table"

json=$(ep_ctl --json status) || ep_fail "endpointctl --json status failed"
ep_assert_eq "$(jq -r .integrityState <<<"$json")" unverified "JSON integrityState"
ep_assert_eq "$(jq -r .manifestSerial <<<"$json")" 0 "JSON manifestSerial is a number"
ep_assert_eq "$(jq -r '.tpmAvailable | type' <<<"$json")" boolean "JSON tpmAvailable type"
ep_assert_eq "$(jq -r .version <<<"$json")" "$(ep_ctl --version | awk '{print $2}')" "JSON version"

intro=$(ep_busctl introspect org.endpointd.Endpoint1 /org/endpointd/Endpoint1 org.endpointd.Endpoint1) ||
        ep_fail "busctl introspect failed"
for p in Version DeviceId TpmAvailable IntegrityState LastScan ManifestSerial; do
        ep_assert_contains "$intro" ".$p " "introspection"
done
ep_assert_eq "$(ep_busctl get-property org.endpointd.Endpoint1 /org/endpointd/Endpoint1 \
        org.endpointd.Endpoint1 IntegrityState)" 's "unverified"' "busctl get-property"

# The introspection XML in conf/ is the contract: each interface the daemon
# serves must match its file line by line (whitespace and comments aside).
xml=$(ep_busctl introspect --xml-interface org.endpointd.Endpoint1 /org/endpointd/Endpoint1) ||
        ep_fail "busctl introspect --xml-interface failed"
iface_block() { # FILE-or-STDIN IFACE: the <interface> element, trimmed, no comments
        sed -e 's/<!--.*-->//' | awk -v name="$1" '
                $0 ~ "<interface name=\"" name "\">" { on = 1 }
                on { gsub(/^[ \t]+|[ \t]+$/, ""); if ($0 != "") print }
                on && /<\/interface>/ { exit }'
}
for f in "$EP_SRC"/conf/org.endpointd.*.xml; do
        iface=$(basename "$f" .xml)
        want=$(iface_block "$iface" <"$f")
        got=$(iface_block "$iface" <<<"$xml")
        [ -n "$want" ] || ep_fail "$f has no <interface name=\"$iface\">"
        if [ "$want" != "$got" ]; then
                diff <(echo "$want") <(echo "$got") >&2
                ep_fail "$f differs from what the daemon serves (diff above: < file, > daemon)"
        fi
        ep_ok "$iface matches conf/$iface.xml"
done

ep_done
