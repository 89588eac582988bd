#!/bin/bash
# make install respects the admin: the shipped configuration goes to
# $(pkgdatadir)/ and is copied to $(sysconfdir)/endpointd/ only where no
# file is; a second install keeps an edited policy.conf and endpointd.conf;
# make uninstall leaves the edited files; the installed unit passes
# systemd-analyze verify.
. "$top_srcdir/tests/integration/lib.sh"

EP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/endpointd-test.XXXXXX")
root=$EP_TMP/root
# A make of its own: not the flags or jobserver of a "make check" around us.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKE_TERMOUT MAKE_TERMERR

# makevar NAME: a variable of the build's Makefile, expanded.
makevar() {
        printf 'print-var:\n\t@echo $(%s)\n' "$1" |
                make -s --no-print-directory -C "$EP_BUILD" -f Makefile -f - print-var
}
sysconfdir=$(makevar sysconfdir)
pkgdatadir=$(makevar pkgdatadir)
unitdir=$(makevar systemdsystemunitdir)
sbindir=$(makevar sbindir)
[ -n "$sysconfdir" ] && [ -n "$pkgdatadir" ] && [ -n "$unitdir" ] || ep_fail "cannot read the install dirs"
etc=$root$sysconfdir/endpointd

install_once() {
        make -C "$EP_BUILD" install DESTDIR="$root" >"$EP_TMP/install.log" 2>&1 ||
                ep_fail "make install failed: $(tail -20 "$EP_TMP/install.log")"
}

install_once
for f in endpointd.conf policy.conf; do
        cmp -s "$EP_SRC/conf/$f" "$root$pkgdatadir/$f" || ep_fail "$pkgdatadir/$f is not the shipped $f"
        cmp -s "$EP_SRC/conf/$f" "$etc/$f" || ep_fail "a first install did not put $f into $sysconfdir/endpointd"
done
ep_ok "a first install puts the shipped files into $pkgdatadir and copies them to $sysconfdir/endpointd"

# The admin edits both files, then installs again (an upgrade).
printf '\n# edited by the admin\n' >>"$etc/policy.conf"
printf '\n[Integrity]\nScanInterval=2h\n' >>"$etc/endpointd.conf"
cp "$etc/policy.conf" "$EP_TMP/policy.edited"
cp "$etc/endpointd.conf" "$EP_TMP/endpointd.edited"
install_once
cmp -s "$EP_TMP/policy.edited" "$etc/policy.conf" || ep_fail "make install overwrote the edited policy.conf"
cmp -s "$EP_TMP/endpointd.edited" "$etc/endpointd.conf" || ep_fail "make install overwrote the edited endpointd.conf"
grep -q "Keeping $etc/policy.conf" "$EP_TMP/install.log" || ep_fail "install does not say it kept policy.conf"
cmp -s "$EP_SRC/conf/policy.conf" "$root$pkgdatadir/policy.conf" || ep_fail "the shipped copy changed"
ep_ok "a second install keeps the edited policy.conf and endpointd.conf"

# The edited configuration is what endpointd reads.
ep_expect_exit 0 "$EP_BUILD/endpointd" --config "$etc/endpointd.conf" --check-config

# A file the admin removed comes back; one the admin kept is left alone.
rm "$etc/endpointd.conf"
install_once
cmp -s "$EP_SRC/conf/endpointd.conf" "$etc/endpointd.conf" || ep_fail "a missing endpointd.conf was not installed"
ep_ok "a missing file is installed again"

# The unit as installed.
unit=$root$unitdir/endpointd.service
[ -f "$unit" ] || ep_fail "no unit at $unitdir"
grep -q "^ExecStart=$sbindir/endpointd" "$unit" || ep_fail "ExecStart= is not $sbindir/endpointd: $(grep ExecStart "$unit")"
if command -v systemd-analyze >/dev/null; then
        # verify looks up ExecStart= on this machine: point it at the installed binary.
        sed "s|^ExecStart=$sbindir/endpointd|ExecStart=$root$sbindir/endpointd|" "$unit" >"$EP_TMP/endpointd.service"
        out=$(systemd-analyze verify --man=no "$EP_TMP/endpointd.service" 2>&1) || ep_fail "systemd-analyze verify: $out"
        [ -z "$out" ] || ep_fail "systemd-analyze verify complains about the installed unit: $out"
        ep_ok "systemd-analyze verify is clean on the installed unit"
fi

# Uninstall removes what is as shipped and keeps what the admin edited.
make -C "$EP_BUILD" uninstall DESTDIR="$root" >"$EP_TMP/uninstall.log" 2>&1 ||
        ep_fail "make uninstall failed: $(tail -20 "$EP_TMP/uninstall.log")"
cmp -s "$EP_TMP/policy.edited" "$etc/policy.conf" || ep_fail "make uninstall removed the edited policy.conf"
[ ! -e "$etc/endpointd.conf" ] || ep_fail "make uninstall left the unedited endpointd.conf"
[ ! -e "$root$pkgdatadir/policy.conf" ] || ep_fail "make uninstall left $pkgdatadir/policy.conf"
ep_ok "make uninstall keeps only the edited file"

ep_done
