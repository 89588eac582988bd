#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/manifest: parsing a manifest of ~100k entries (100,000 files in
# 1,100 directories, both dialects, deterministic) with the daemon's own
# parser (`endpointctl manifest check`, which also computes the file's
# SHA-256), with and without CMS signature verification, against
# libarchive's mtree reader (`bsdtar -tf`) and `sha256sum` of the same file
# as the floor for reading the bytes. Best of 3 runs each, wall time and
# peak RSS from GNU time. Prints a markdown table.
#
#   bench/manifest/run.sh [BUILD_DIR] [FILES]     (defaults: ./build, 100000)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$top_srcdir/build}" && pwd)
files=${2:-100000}
ctl=$build/endpointctl
command -v bsdtar >/dev/null || { echo "bsdtar (libarchive-tools) is needed" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time (package time) is needed" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-manifest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

python3 "$here/gen.py" "$files" "$tmp/m"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=Bench CA" \
        -keyout "$tmp/ca.key" -out "$tmp/ca.pem" -addext basicConstraints=critical,CA:TRUE 2>/dev/null
mkdir "$tmp/trust" && cp "$tmp/ca.pem" "$tmp/trust/"
# A release-signing certificate: the CA's own key signs no manifest.
printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' >"$tmp/signer.ext"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=Bench Release Signing" \
        -keyout "$tmp/signer.key" -out "$tmp/signer.csr" 2>/dev/null
openssl x509 -req -in "$tmp/signer.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial -days 30 \
        -extfile "$tmp/signer.ext" -out "$tmp/signer.pem" 2>/dev/null
openssl cms -sign -binary -outform DER -md sha256 -nosmimecap -in "$tmp/m.bsdtar" -out "$tmp/m.sig" \
        -signer "$tmp/signer.pem" -inkey "$tmp/signer.key"
# The timed runs do not look at the exit status: make sure this one succeeds.
"$ctl" --quiet manifest check "$tmp/m.bsdtar" "$tmp/m.sig" --trust "$tmp/trust" ||
        { echo "the benchmark's signed manifest does not verify" >&2; exit 1; }
entries=$("$ctl" --json manifest check "$tmp/m.bsdtar" | sed -n 's/.*"entries":\([0-9]*\).*/\1/p')
cat "$tmp/m.bsdtar" "$tmp/m.mtree" >/dev/null # warm the page cache

# best NAME CMD...: best wall time (s) and its peak RSS (MiB) of 3 runs.
best() {
        local name=$1 t rss bt=999999 brss=0
        shift
        for _ in 1 2 3; do
                /usr/bin/time -f '%e %M' -o "$tmp/time" "$@" >/dev/null
                read -r t rss <"$tmp/time"
                if [ "$(echo "$t < $bt" | bc -l)" = 1 ]; then bt=$t; brss=$rss; fi
        done
        printf '%s|%s|%s\n' "$name" "$bt" "$(echo "scale=1; $brss / 1024" | bc -l)"
}

{
        best "endpointctl manifest check (bsdtar dialect)" "$ctl" manifest check "$tmp/m.bsdtar"
        best "endpointctl manifest check (mtree -c dialect)" "$ctl" manifest check "$tmp/m.mtree"
        best "endpointctl manifest check + CMS signature" "$ctl" manifest check "$tmp/m.bsdtar" "$tmp/m.sig" \
                --trust "$tmp/trust"
        best "bsdtar -tf (libarchive mtree reader)" bsdtar -tf "$tmp/m.bsdtar"
        best "sha256sum (read + hash only)" sha256sum "$tmp/m.bsdtar"
} >"$tmp/results"

ref=$(head -1 "$tmp/results" | cut -d'|' -f2)
printf 'Manifest: %s entries, %s MB (bsdtar dialect), %s MB (mtree -c dialect); %s cores\n\n' "$entries" \
        "$(echo "scale=1; $(stat -c %s "$tmp/m.bsdtar") / 1000000" | bc -l)" \
        "$(echo "scale=1; $(stat -c %s "$tmp/m.mtree") / 1000000" | bc -l)" "$(nproc)"
echo "| command | wall s (best of 3) | peak RSS MiB | time / endpointctl |"
echo "| --- | ---: | ---: | ---: |"
while IFS='|' read -r name t rss; do
        printf '| %s | %s | %s | %s |\n' "$name" "$t" "$rss" "$(echo "scale=2; $t / $ref" | bc -l)"
done <"$tmp/results"
