#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Written by an independent tester from the man pages alone, without reading
# the implementation.
#
# Secrets sealed with the signed policy (endpointd-approval(5): TPM2_Policy-
# Authorize under the manufacturer's PCR-policy key), PCR approvals, their
# rollback floor in TPM NV (endpointd-tpm(7)) and the PCR-approval signer
# role, attacked by local users (with and without keys.approve /
# keys.unseal:NAME) and by root with the state directory but without the
# TPM owner's authorization:
#   1. approvals signed by the wrong role (manifest, grant, licence signer, a
#      CA, no EKU, anyExtendedKeyUsage, no digitalSignature, expired, not yet
#      valid, another CA, a self-signed copy of the signer), all with the
#      PCR-policy key itself, so that only the role decides; another key with
#      the right role; signatures with signed attributes or another digest
#   2. approval contents: other bank, other NV index, version mismatching the
#      approved policy, bad magic/format/reserved/mask/policyRef, truncated,
#      extended, trailing data, empty, huge, versions 0/65/max, bit flips,
#      a signed file whose unsigned fields were edited; `approval make`
#      checked against the formula of endpointd-approval(5)
#   3. rollback: version 3 then 2; the state directory restored from before
#      the v3 install; the state directory wiped
#   4. PCR games: covered and uncovered PCRs extended, PCR 16/23 reset, an
#      approval covering more PCRs, a PCR-sealed key next to approvals
#   5. permissions: install / unseal without the permission; a caller who
#      can install approvals but not use the key
#   6. root without the owner's authorization (platform hierarchy closed):
#      undefine / rewrite the approval floor, lower the manifest floor with
#      the writer's secret, edit the installed approval or its ticket in the
#      state directory, put its own PCR-policy key and CA in the trust dir
#   7. 50 installs and 50 unseals: no transient TPM object beyond the SRK and
#      the device key (endpointd(8)), fd count flat; concurrent installs
#   8. what the owner's authorization may do (endpointd-tpm(7)): the floor
#      index undefined, an ordinary index in its place, the bit field
#      defined again from the mark, or reset to T(1) with the writer's secret
. "$top_srcdir/tests/attack/lib.sh"
. "$top_srcdir/tests/attack/indep-lib.sh"
. "$top_srcdir/tests/integration/test-keys-lib.sh"

for t in tpm2_pcrread tpm2_pcrextend tpm2_pcrreset tpm2_getcap tpm2_nvread tpm2_nvreadpublic tpm2_nvundefine \
         tpm2_nvwrite tpm2_nvsetbits tpm2_nvdefine tpm2_changeauth tpm2_hierarchycontrol tpm2_startauthsession \
         tpm2_policysecret tpm2_flushcontext xxd jq; do
        command -v $t >/dev/null || ep_skip "$t is not installed"
done

FINDINGS=0
finding() {
        FINDINGS=$((FINDINGS + 1))
        ep_log "FINDING $FINDINGS: $*"
}
undocumented() { ep_log "undocumented: $*"; }

ep_setup
ep_pki_init
W=$EP_TMP/w
mkdir -p "$W"
chmod 0755 "$W"
export TPM2TOOLS_TCTI=$EP_TCTI_tpm

# The TPM as a device maker leaves it (endpointd-tpm(7), Who can do what):
# an owner authValue that only the daemon gets (OwnerAuthFile=), and the
# platform hierarchy closed, as firmware does on a PC (a bare swtpm leaves
# it open with an empty authorization, which the page says is a
# requirement on the device, not something endpointd can fix).
openssl rand -hex 16 | tr -d '\n' >"$EP_TMP/ownerauth"
chmod 0600 "$EP_TMP/ownerauth"
tpm2_changeauth -c owner "file:$EP_TMP/ownerauth" >/dev/null || ep_fail "tpm2_changeauth -c owner"
tpm2_hierarchycontrol -C p phEnable clear >/dev/null 2>&1 || ep_fail "tpm2_hierarchycontrol -C p phEnable clear"
ep_config TPM OwnerAuthFile "$EP_TMP/ownerauth"

# The PCR-approval signer: its key is the PCR-policy key.
ep_pki_signer approval ca "/CN=Demo Manufacturer PCR Approvals" approval
openssl pkey -in "$EP_PKI/approval.key" -pubout -out "$EP_TRUST/pcr-policy.pub" 2>/dev/null
chmod 0644 "$EP_TRUST/pcr-policy.pub"

ep_config Integrity ScanInterval infinity
ep_config Policy RateLimitBurst 100000
ep_config Policy RateLimitPerSecond 100000
# uid 7 may install approvals, uid 8 may open s1, uid 9 may only look.
for spec in "approver|7|keys.approve status.read" "opener|8|keys.unseal:s1 status.read" \
            "reader|9|status.read keys.list"; do
        IFS='|' read -r role uid perms <<<"$spec"
        printf '\n[Role]\nName=%s\nPermissions=%s\n\n[Subject]\nUID=%s\nRoles=%s\n' "$role" "$perms" "$uid" "$role" >>"$EP_POLICY"
done
chmod 0644 "$EP_POLICY"
ep_start
indep_write_helper
CTL=$EP_BUILD/endpointctl

# ---- helpers ---------------------------------------------------------------
# appr.py: approvals built from the formula of endpointd-approval(5), with
# knobs to break one part at a time.
cat >"$W/appr.py" <<'PYEOF'
import sys, struct, hashlib
N = bytes.fromhex('000be4abb9df723e5e0fa485ccd9cf0db747a7757879aae5d189bbe210f84cd6311a')
REF = b'endpointd PCR approval v1'
h = lambda b: hashlib.sha256(b).digest()
def T(v):
    v = min(v, 64)
    return ((1 << 64) - 1) ^ ((1 << (64 - v)) - 1)
args = dict(a.split('=', 1) for a in sys.argv[2:] if '=' in a and not a[0].isdigit())
pcrs = {int(a.split('=')[0]): bytes.fromhex(a.split('=')[1]) for a in sys.argv[2:] if a[0].isdigit()}
version = int(args.get('version', '2'))
mask = sum(1 << i for i in pcrs)
pd = h(b''.join(pcrs[i] for i in sorted(pcrs)))
bank = int(args.get('bank', '000b'), 16)
sel = struct.pack('>IHB', 1, bank, 3) + bytes([mask & 255, (mask >> 8) & 255, (mask >> 16) & 255])
d1 = h(b'\0' * 32 + bytes.fromhex('0000017f') + sel + pd)
a = h(struct.pack('>Q', T(int(args.get('tv', version)))) + bytes.fromhex('0000' + args.get('op', '0009')))
n = bytes.fromhex(args['name']) if 'name' in args else N
ap = h(d1 + bytes.fromhex('00000149') + a + n)
ref = args.get('ref', REF.decode()).encode()
fmask = int(args.get('mask', str(mask)))
out = (args.get('magic', 'EPPA').encode() + bytes([int(args.get('format', '1'))]) +
       bytes.fromhex(args.get('reserved', '000000')) + struct.pack('>Q', version) +
       struct.pack('>I', fmask) + pd + ap + ref)
open(sys.argv[1], 'wb').write(out)
PYEOF
mkappr() { "$EP_PY" "$W/appr.py" "$@" || ep_fail "appr.py $*"; }

# sign_appr FILE [CERT [KEY [CMS-OPTION...]]]: the detached CMS signature of
# endpointd-approval(5) (over the last 57 bytes, no signed attributes) in
# FILE.sig; CERT and KEY are names in $EP_PKI (default: the approval signer).
sign_appr() {
        local f=$1 cert=${2:-approval} key=${3:-${2:-approval}}
        shift $(($# < 3 ? $# : 3))
        tail -c 57 "$f" >"$f.tbs"
        openssl cms -sign -binary -noattr -md sha256 -outform DER -nosmimecap "$@" -in "$f.tbs" \
                -signer "$EP_PKI/$cert.pem" -inkey "$EP_PKI/$key.key" -out "$f.sig" 2>"$f.err" ||
                ep_fail "openssl cms -sign for $f: $(cat "$f.err")"
}
# cert_with_key NAME ISSUER SUBJECT EXTENSIONS KEY [X509-OPTION...]: a
# certificate for the existing key KEY (a name in $EP_PKI).
cert_with_key() {
        local name=$1 ca=$2 subj=$3 ext=$4 key=$5
        shift 5
        printf '%s\n' "$ext" >"$EP_PKI/$name.ext"
        openssl req -new -key "$EP_PKI/$key.key" -subj "$subj" -out "$EP_PKI/$name.csr" 2>/dev/null &&
        ${EP_OPENSSL_PRE:-} openssl x509 -req -in "$EP_PKI/$name.csr" -CA "$EP_PKI/$ca.pem" -CAkey "$EP_PKI/$ca.key" \
                -CAcreateserial -days 3650 -extfile "$EP_PKI/$name.ext" "$@" -out "$EP_PKI/$name.pem" \
                2>/dev/null || ep_fail "openssl could not make certificate $name"
        cp "$EP_PKI/$key.key" "$EP_PKI/$name.key"
}
# install FILE [SIG] [AS-UID]: Keys1.InstallApproval with the file's bytes.
install() {
        local pre=()
        [ -n "${3:-}" ] && pre=(setpriv --reuid="$3" --regid="$3" --clear-groups --)
        "${pre[@]}" "$EP_PY" "$EP_TMP/call.py" org.endpointd.Keys1 InstallApproval ayay \
                "(ay(open('$1','rb').read()), ay(open('${2:-$1.sig}','rb').read()))" 2>&1
}
# unseal [NAME [AS-UID]]: Keys1.Unseal.
unseal() {
        local pre=()
        [ -n "${2:-}" ] && pre=(setpriv --reuid="$2" --regid="$2" --clear-groups --)
        "${pre[@]}" "$EP_PY" "$EP_TMP/call.py" org.endpointd.Keys1 Unseal s "('${1:-s1}',)" 2>&1
}
SECRET=$(printf 'approval-test-secret-%s' "$RANDOM" | tee "$W/secret")
SECRET_HEX=$(xxd -p -c 256 "$W/secret")
# unseal_ok WHY: s1 opens and gives the secret.
unseal_ok() {
        local r
        r=$(unseal s1)
        [ "$r" = "OK bytes[${#SECRET}]:$SECRET_HEX" ] || ep_fail "s1 does not unseal although it should ($1): $r"
        ep_ok "s1 unseals ($1)"
}
# unseal_refused ERROR WHY [NAME]: the unseal fails with ERROR; an unseal
# that gives the secret is a finding (the state is not approved).
unseal_refused() {
        local r
        r=$(unseal "${3:-s1}")
        case $r in
        OK*) finding "UNSEALED in a state that must not open ($2): $r" ;;
        *"$1"*) ep_ok "unseal refused with $1 ($2)" ;;
        *) finding "unseal refused, but not with the documented $1 ($2): $r" ;;
        esac
}
# appr_state: the installed approval and its ticket, hashed.
appr_state() { (cd "$EP_STATE" && sha256sum approval approval.ticket 2>/dev/null); }
# floor: the approval floor index as tpm2_nvread prints it in hex, or "none".
floor() { local v; v=$(tpm2_nvread 0x01800E44 -s 8 2>/dev/null | xxd -p -c 16); echo "${v:-none}"; }
# refused ERROR WHY FILE [SIG]: the install fails naming ERROR, nothing
# changes in the state directory or the TPM floor, the daemon lives.
refused() {
        local want=$1 why=$2 r before after fb fa
        shift 2
        before=$(appr_state); fb=$(floor)
        r=$(install "$@")
        after=$(appr_state); fa=$(floor)
        case $r in
        OK*) finding "approval INSTALLED ($why): $r" ;;
        *"$want"*) ep_ok "install refused with $want ($why)" ;;
        *) finding "install refused, but not with the documented $want ($why): $r" ;;
        esac
        [ "$before" = "$after" ] || finding "a refused install changed the installed approval ($why)"
        [ "$fb" = "$fa" ] || finding "a refused install changed the approval floor from $fb to $fa ($why)"
        kill -0 "$EP_DAEMON_PID" 2>/dev/null || ep_fail "endpointd died after: $why"
}
audit_count() {
        ep_ctl --json audit show --kind="$1" 2>/dev/null | jq 'length' 2>/dev/null || echo 0
}
pcr() { tpm2_pcrread "sha256:$1" -o "$W/pcr.bin" >/dev/null 2>&1 && xxd -p -c 64 "$W/pcr.bin"; }
transients() { tpm2_getcap handles-transient 2>/dev/null | tr -d '\n '; }
fds() { find "/proc/$EP_DAEMON_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }

# ---- baseline --------------------------------------------------------------
ep_ctl seal s1 --policy=signed <"$W/secret" >/dev/null || ep_fail "seal s1 --policy=signed: $(ep_ctl seal s1 --policy=signed <"$W/secret" 2>&1)"
ep_ok "s1 sealed with policy=signed"
# endpointd(8): "Only the SRK and the device key stay loaded".
T_BASE=$(transients)
ep_log "transient objects after start and a seal: '$T_BASE'"
[ "$(tpm2_getcap handles-transient 2>/dev/null | grep -c '^-')" -le 2 ] || finding "more than the SRK and the device key loaded after a seal: $T_BASE"
P7=$(pcr 7)
P8=$(pcr 8)
P16=$(pcr 16)
[ ${#P7} = 64 ] || ep_fail "tpm2_pcrread sha256:7: '$P7'"
ep_attack "unseal before any approval is installed"
unseal_refused org.endpointd.Error.NotApproved "no approval installed"

ep_attack "endpointctl approval make writes the bytes of the formula in endpointd-approval(5)"
ep_ctl approval make 2 "7=$P7" --output="$W/good2" >"$W/make.out" 2>&1 || ep_fail "approval make: $(cat "$W/make.out")"
mkappr "$W/ref2" version=2 "7=$P7"
if cmp -s "$W/good2" "$W/ref2"; then ep_ok "approval make = formula"; else
        finding "approval make 2 7=PCR7 differs from the formula of endpointd-approval(5): $(xxd -p -c 200 "$W/good2") vs $(xxd -p -c 200 "$W/ref2")"
fi
# The shell recipe of the page (MAKING ONE), run as written.
(
        cd "$W" || exit 1
        PCR7=$P7
        sha() { xxd -r -p | openssl dgst -sha256 -binary | xxd -p -c 64; }
        N=000be4abb9df723e5e0fa485ccd9cf0db747a7757879aae5d189bbe210f84cd6311a
        V=$(printf %016x 2)
        T=c000000000000000
        P=$(printf %s "$PCR7" | sha)
        D1=$(printf '%064d0000017f00000001000b03800000%s' 0 "$P" | sha)
        A=$(printf '%s00000009' "$T" | sha)
        AP=$(printf '%s00000149%s%s' "$D1" "$A" "$N" | sha)
        { printf 'EPPA\001\0\0\0'; printf '%s00000080%s%s' "$V" "$P" "$AP" | xxd -r -p
          printf 'endpointd PCR approval v1'; } >recipe.approval
)
cmp -s "$W/recipe.approval" "$W/ref2" || finding "the shell recipe of endpointd-approval(5) MAKING ONE gives other bytes than the format: $(xxd -p -c 200 "$W/recipe.approval")"
ep_ok "the man page recipe matches"
for v in 0 65 18446744073709551615; do
        rc=0; ep_ctl approval make "$v" "7=$P7" --output="$W/mk$v" >"$W/mk.out" 2>&1 || rc=$?
        [ $rc != 0 ] || finding "approval make $v succeeded (endpointd-approval(5): versions are 1 to 64)"
        [ ! -e "$W/mk$v" ] || finding "approval make $v left $W/mk$v"
        ep_ok "approval make $v refused (exit $rc)"
done
rc=0; ep_ctl approval make 2 "7=$P7" "7=$P8" --output="$W/mkdup" >"$W/mk.out" 2>&1 || rc=$?
[ $rc = 0 ] && undocumented "approval make with PCR 7 given twice succeeds: $(cat "$W/mk.out")"
rc=0; ep_ctl approval make 2 "24=$P7" --output="$W/mk24" >"$W/mk.out" 2>&1 || rc=$?
[ $rc != 0 ] || finding "approval make with PCR 24 succeeded (endpointctl(1): 0 to 23)"
ep_ok "approval make of PCR 24 refused"

# ---- 1. wrong signer roles ---------------------------------------------------
ep_log "--- 1. signer roles"
SUBJ_APPR="/CN=Demo Manufacturer PCR Approvals"
cert_with_key w-manifest ca "/CN=PPK as manifest signer" "$EP_EXT_MANIFEST" approval
cert_with_key w-grant ca "/CN=PPK as grant signer" "$EP_EXT_GRANT" approval
cert_with_key w-licence ca "/CN=PPK as licence signer" "$EP_EXT_LICENCE" approval
cert_with_key w-noeku ca "/CN=PPK without EKU" "keyUsage=critical,digitalSignature" approval
cert_with_key w-any ca "/CN=PPK with anyEKU" $'keyUsage=critical,digitalSignature\nextendedKeyUsage=anyExtendedKeyUsage' approval
cert_with_key w-both ca "/CN=PPK with anyEKU and codeSigning" $'keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning,anyExtendedKeyUsage' approval
cert_with_key w-nodigsig ca "/CN=PPK approval EKU, keyEncipherment" $'keyUsage=critical,keyAgreement\nextendedKeyUsage='"$EP_EKU_APPROVAL" approval
cert_with_key w-ca ca "/CN=PPK as an intermediate CA" $'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,keyCertSign\nextendedKeyUsage='"$EP_EKU_APPROVAL" approval
cert_with_key w-rogue rogue-ca "$SUBJ_APPR" "$EP_EXT_APPROVAL" approval
# Self-signed, with the real signer's subject and the approval EKU.
openssl req -x509 -new -key "$EP_PKI/approval.key" -subj "$SUBJ_APPR" -days 3650 \
        -addext keyUsage=critical,digitalSignature -addext "extendedKeyUsage=$EP_EKU_APPROVAL" \
        -out "$EP_PKI/w-self.pem" 2>/dev/null || ep_fail "self-signed certificate"
cp "$EP_PKI/approval.key" "$EP_PKI/w-self.key"
FT=
for f in /usr/lib/*/faketime/libfaketime.so.1; do [ -f "$f" ] && FT=$f; done
if [ -n "$FT" ]; then
        EP_OPENSSL_PRE="env LD_PRELOAD=$FT FAKETIME=@2020-01-01_00:00:00 FAKETIME_FMT=%Y-%m-%d_%T" \
                cert_with_key w-expired ca "/CN=PPK approval signer, expired" "$EP_EXT_APPROVAL" approval -days 30
        EP_OPENSSL_PRE="env LD_PRELOAD=$FT FAKETIME=+800d" \
                cert_with_key w-future ca "/CN=PPK approval signer, not yet valid" "$EP_EXT_APPROVAL" approval -days 30
        openssl x509 -in "$EP_PKI/w-expired.pem" -noout -enddate | grep -q 2020 || ep_fail "expired certificate not made: $(openssl x509 -in "$EP_PKI/w-expired.pem" -noout -dates)"
else
        ep_log "libfaketime missing: expired / not-yet-valid signers not tried"
fi
# Another key with the right role (another manufacturer's policy key).
ep_pki_signer other-appr ca "/CN=Another PCR-policy key" approval

refused0=$(audit_count approval-refused)
n=0
for c in w-manifest w-grant w-licence w-noeku w-any w-both w-nodigsig w-ca w-rogue w-self \
         ${FT:+w-expired w-future} other-appr signer signer-grant signer-licence rogue ca; do
        ep_attack "approval signed by $c ($(openssl x509 -in "$EP_PKI/$c.pem" -noout -subject 2>/dev/null))"
        cp "$W/good2" "$W/r-$c"
        sign_appr "$W/r-$c" "$c" "$c"
        refused org.endpointd.Error.BadSignature "signer $c" "$W/r-$c"
        n=$((n + 1))
done
ep_attack "approval signature with signed attributes / SHA-1 / SHA-384 / over the whole file / by two signers"
cp "$W/good2" "$W/r-attr"
tail -c 57 "$W/r-attr" >"$W/r-attr.tbs"
openssl cms -sign -binary -md sha256 -outform DER -nosmimecap -in "$W/r-attr.tbs" \
        -signer "$EP_PKI/approval.pem" -inkey "$EP_PKI/approval.key" -out "$W/r-attr.sig" || ep_fail "cms with attributes"
refused org.endpointd.Error.BadSignature "signed attributes" "$W/r-attr"
for md in sha1 sha384; do
        cp "$W/good2" "$W/r-$md"
        tail -c 57 "$W/r-$md" >"$W/r-$md.tbs"
        if openssl cms -sign -binary -noattr -md $md -outform DER -nosmimecap -in "$W/r-$md.tbs" \
                -signer "$EP_PKI/approval.pem" -inkey "$EP_PKI/approval.key" -out "$W/r-$md.sig" 2>/dev/null; then
                refused org.endpointd.Error.BadSignature "CMS digest $md" "$W/r-$md"
        fi
done
cp "$W/good2" "$W/r-whole"
openssl cms -sign -binary -noattr -md sha256 -outform DER -nosmimecap -in "$W/r-whole" \
        -signer "$EP_PKI/approval.pem" -inkey "$EP_PKI/approval.key" -out "$W/r-whole.sig" || ep_fail "cms whole"
refused org.endpointd.Error.BadSignature "signature over all 109 bytes" "$W/r-whole"
cp "$W/good2" "$W/r-two"
sign_appr "$W/r-two" approval approval -signer "$EP_PKI/signer.pem" -inkey "$EP_PKI/signer.key"
r=$(install "$W/r-two")
case $r in OK*) undocumented "an approval signed by the approval signer AND a manifest signer installs: $r" ;;
*) ep_ok "two signers (approval + manifest): $r" ;; esac
[ -e "$EP_STATE/approval" ] && { finding "an approval is installed after the wrong-role attempts"; rm -f "$EP_STATE/approval"; }
refused1=$(audit_count approval-refused)
[ $((refused1 - refused0)) -ge $n ] || finding "only $((refused1 - refused0)) approval-refused audit records for $n refused signers (endpointd-audit(5))"
ep_ok "approval-refused records: $((refused1 - refused0))"
indep_alive "after wrong signers"

# ---- 2. contents -------------------------------------------------------------
ep_log "--- 2. contents"
c_bad() { # NAME WHY APPR.PY-ARGS...: built, signed by the genuine signer, refused Malformed
        local name=$1 why=$2
        shift 2
        mkappr "$W/$name" "$@"
        sign_appr "$W/$name"
        ep_attack "approval with $why (signed by the PCR-approval signer)"
        refused org.endpointd.Error.Malformed "$why" "$W/$name"
}
c_bad c-bank "the PCR selection in another bank (SHA-1) in its approved policy" "7=$P7" bank=0004
mkappr "$W/c-b384" "7=$P7" bank=000c
sign_appr "$W/c-b384"
ep_attack "approval with the SHA-384 bank in its approved policy"
refused org.endpointd.Error.Malformed "SHA-384 bank" "$W/c-b384"
c_bad c-tv "an approved policy for version 1 and version field 5" "7=$P7" version=5 tv=1
c_bad c-tv64 "an approved policy for version 64 and version field 2" "7=$P7" version=2 tv=64
c_bad c-op "PolicyNV with UNSIGNED_GE instead of LE" "7=$P7" op=0008
c_bad c-name "another NV index Name in PolicyNV" "7=$P7" name=000b"$(printf %064d 0)"
c_bad c-ref "another policyRef" "7=$P7" "ref=endpointd PCR approval v2"
c_bad c-magic "magic EPPB" "7=$P7" magic=EPPB
c_bad c-fmt0 "format 0" "7=$P7" format=0
c_bad c-fmt2 "format 2" "7=$P7" format=2
c_bad c-res "reserved bytes not 0" "7=$P7" reserved=000100
c_bad c-mask0 "PCR mask 0 (and the digest of no PCR)" version=2
c_bad c-maskhi "PCR mask with bit 24" "7=$P7" mask=$(( (1 << 24) | 128 ))
c_bad c-maskwrong "PCR mask 0x100 with the policy of PCR 7" "7=$P7" mask=256
for v in 0 65 4294967296 18446744073709551615; do
        c_bad "c-v$v" "version $v" "7=$P7" version=$v
done
ep_attack "the signed v2 approval with its (unsigned) version field edited to 5 and 64"
for v in 5 64; do
        cp "$W/good2" "$W/e-v$v"
        sign_appr "$W/e-v$v"
        printf '%b' "$(printf '\\%03o' "$v")" | dd of="$W/e-v$v" bs=1 seek=15 conv=notrunc status=none
        refused org.endpointd.Error.Malformed "version field edited to $v after signing" "$W/e-v$v" "$W/e-v$v.sig"
done
ep_attack "the signed approval with its PCR digest / mask edited after signing"
cp "$W/good2" "$W/e-pd"; sign_appr "$W/e-pd"; ep_flip_byte "$W/e-pd" 30
refused org.endpointd.Error.Malformed "PCR digest edited after signing" "$W/e-pd"
cp "$W/good2" "$W/e-mask"; sign_appr "$W/e-mask"; ep_flip_byte "$W/e-mask" 18
refused org.endpointd.Error.Malformed "mask edited after signing" "$W/e-mask"
ep_attack "bit flips in the signed part and in the signature"
for off in 60 90 108; do
        cp "$W/good2" "$W/e-f$off"; sign_appr "$W/e-f$off"; ep_flip_byte "$W/e-f$off" $off
        before=$(appr_state)
        r=$(install "$W/e-f$off")
        case $r in
        OK*) finding "approval with byte $off flipped after signing INSTALLED: $r" ;;
        *Error.Malformed*|*Error.BadSignature*) ep_ok "byte $off flipped: $r" ;;
        *) finding "approval with byte $off flipped: neither Malformed nor BadSignature: $r" ;;
        esac
done
cp "$W/good2" "$W/e-sig"; sign_appr "$W/e-sig"
sz=$(stat -c %s "$W/e-sig.sig")
ep_flip_byte "$W/e-sig.sig" $((sz - 3))
refused org.endpointd.Error.BadSignature "a byte of the signature value flipped" "$W/e-sig"
sign_appr "$W/good2"
head -c $((sz / 2)) "$W/good2.sig" >"$W/half.sig"
# A signature that is no CMS at all: endpointd-dbus(7) has BadSignature for
# "signature ... refused" and Malformed for "not an approval"; either is
# taken, Malformed is noted.
badsig_refused() { # WHY APPROVAL SIG
        local r before fb
        before=$(appr_state); fb=$(floor)
        r=$(install "$2" "$3")
        case $r in
        OK*) finding "approval INSTALLED with $1: $r" ;;
        *Error.BadSignature*) ep_ok "$1: BadSignature" ;;
        *Error.Malformed*) undocumented "$1 is Malformed, not BadSignature: $r"; ep_ok "$1: Malformed" ;;
        *) finding "$1: neither BadSignature nor Malformed: $r" ;;
        esac
        [ "$before" = "$(appr_state)" ] && [ "$fb" = "$(floor)" ] || finding "a refused install ($1) changed the approval or the floor"
}
badsig_refused "the signature cut in half" "$W/good2" "$W/half.sig"
: >"$W/empty"
badsig_refused "an empty signature" "$W/good2" "$W/empty"
ep_attack "truncated, extended, trailing data, empty, huge approval files"
head -c 108 "$W/good2" >"$W/t108"; cp "$W/good2.sig" "$W/t108.sig"
refused org.endpointd.Error.Malformed "108 bytes" "$W/t108"
{ cat "$W/good2"; printf 'X'; } >"$W/t110"; cp "$W/good2.sig" "$W/t110.sig"
refused org.endpointd.Error.Malformed "110 bytes (one trailing byte)" "$W/t110"
{ cat "$W/good2"; cat "$W/good2"; } >"$W/t218"; cp "$W/good2.sig" "$W/t218.sig"
refused org.endpointd.Error.Malformed "the file twice" "$W/t218"
refused org.endpointd.Error.Malformed "an empty approval" "$W/empty" "$W/good2.sig"
head -c 4 "$W/good2" >"$W/t4"
refused org.endpointd.Error.Malformed "only the magic" "$W/t4" "$W/good2.sig"
{ cat "$W/good2"; head -c $((4 << 20)) /dev/zero; } >"$W/huge"
before=$(appr_state)
r=$(install "$W/huge" "$W/good2.sig")
case $r in
OK*) finding "a 4 MiB approval file installed: $r" ;;
*Error.Malformed*) ep_ok "4 MiB approval: Malformed" ;;
*Error.TooLarge*) undocumented "a 4 MiB approval is TooLarge (InstallApproval lists Malformed, BadSignature, Rollback)"; ep_ok "4 MiB refused" ;;
*) finding "a 4 MiB approval: $r" ;;
esac
head -c $((4 << 20)) /dev/urandom >"$W/hugesig"
# endpointd-dbus(7) InstallApproval: TooLarge (signature over 256 KiB).
refused org.endpointd.Error.TooLarge "a 4 MiB random signature" "$W/good2" "$W/hugesig"
indep_alive "after malformed approvals"
[ -e "$EP_STATE/approval" ] && finding "an approval is installed after the content attacks"
[ "$(floor)" = none ] || ep_log "approval floor after refusals: $(floor)"
unseal_refused org.endpointd.Error.NotApproved "after only refused installs"

# ---- 5a. permissions ---------------------------------------------------------
ep_log "--- 5. permissions"
ep_attack "uid 9 (no keys.approve) installs the genuine v2 approval"
refused org.freedesktop.DBus.Error.AccessDenied "uid 9 without keys.approve" "$W/good2" "$W/good2.sig" 9
ep_expect_exit 4 ep_as 9 "$CTL" approval install "$W/good2" "$W/good2.sig"
ep_attack "uid 8 (keys.unseal:s1, no keys.approve) installs the genuine v2 approval"
refused org.freedesktop.DBus.Error.AccessDenied "uid 8 without keys.approve" "$W/good2" "$W/good2.sig" 8
ep_attack "uid 7 (keys.approve) installs the genuine v2 approval, then cannot unseal s1"
r=$(install "$W/good2" "$W/good2.sig" 7)
case $r in OK*2*) ep_ok "uid 7 installed v2: $r" ;; *) ep_fail "uid 7 with keys.approve could not install the genuine approval: $r" ;; esac
[ -s "$EP_STATE/approval" ] && [ -s "$EP_STATE/approval.ticket" ] || finding "no approval / approval.ticket in the state directory after an install (endpointd-approval(5))"
[ "$(floor)" = c000000000000000 ] || finding "approval floor after installing v2 is $(floor), not T(2) = c000000000000000"
ep_ok "floor is T(2)"
r=$(unseal s1 7)
case $r in *AccessDenied*) ep_ok "uid 7 cannot unseal s1" ;; OK*) finding "uid 7 (keys.approve only) UNSEALED s1: $r" ;; *) finding "uid 7 unseal: $r" ;; esac
ep_expect_exit 4 ep_as 7 "$CTL" unseal s1
r=$(unseal s1 9)
case $r in *AccessDenied*) ep_ok "uid 9 cannot unseal s1" ;; *) finding "uid 9 unseal: $r" ;; esac
r=$(unseal s1 8)
[ "$r" = "OK bytes[${#SECRET}]:$SECRET_HEX" ] || ep_fail "uid 8 (keys.unseal:s1) could not unseal s1 with v2 installed: $r"
ep_ok "uid 8 unseals s1 with the v2 approval"
ep_expect_exit 0 ep_as 8 "$CTL" -q unseal s1
[ "$(audit_count approval-installed)" -ge 1 ] || finding "no approval-installed audit record"
ep_attack "seal / create under the signed policy without keys.create"
rc=0; ep_as 7 "$CTL" seal s-evil --policy=signed <"$W/secret" >"$W/o" 2>&1 || rc=$?
[ $rc = 4 ] || finding "uid 7 seal --policy=signed: exit $rc: $(cat "$W/o")"
ep_ok "uid 7 cannot seal"
unseal_ok "v2 installed, PCR 7 as approved"

# ---- 4. PCR games ------------------------------------------------------------
ep_log "--- 4. PCR games"
ep_attack "extend PCR 8, which the approval does not cover"
tpm2_pcrextend "8:sha256=$(printf %064d 1)" || ep_fail "pcrextend 8"
unseal_ok "PCR 8 changed, not covered"
ep_attack "a second approval covering PCR 7 and PCR 8 at its old value"
mkappr "$W/a78" version=2 "7=$P7" "8=$P8"; sign_appr "$W/a78"
r=$(install "$W/a78"); case $r in OK*) ep_ok "v2 for PCRs 7,8 installed" ;; *) ep_fail "install a78: $r" ;; esac
unseal_refused org.endpointd.Error.PcrMismatch "approval covers PCR 8 at a value it no longer has"
ep_attack "extend PCR 7 (covered) and use the approval of the state before"
r=$(install "$W/good2"); case $r in OK*) ;; *) ep_fail "reinstall good2: $r" ;; esac
unseal_ok "back to the PCR 7 approval"
tpm2_pcrextend "7:sha256=$(printf %064d 7)" || ep_fail "pcrextend 7"
P7b=$(pcr 7)
unseal_refused org.endpointd.Error.PcrMismatch "PCR 7 extended, approval for the value before"
ep_attack "reset PCRs 16 and 23 and retry"
tpm2_pcrreset 16 >/dev/null 2>&1 || ep_log "pcrreset 16 refused"
tpm2_pcrreset 23 >/dev/null 2>&1 || ep_log "pcrreset 23 refused"
unseal_refused org.endpointd.Error.PcrMismatch "PCR 16/23 reset, PCR 7 still extended"
ep_attack "a PCR-policy key next to approvals: sealed to PCR 7, PCR 7 moves, an approval for the new value does not open it"
ep_ctl seal p1 --pcrs=7 <"$W/secret" >/dev/null || ep_fail "seal p1 --pcrs=7"
mkappr "$W/new2" version=2 "7=$P7b"; sign_appr "$W/new2"
r=$(install "$W/new2"); case $r in OK*) ep_ok "v2 for the new PCR 7 installed" ;; *) ep_fail "install new2: $r" ;; esac
unseal_ok "v2 for the extended PCR 7"
tpm2_pcrextend "7:sha256=$(printf %064d 77)" || ep_fail "pcrextend 7"
P7c=$(pcr 7)
mkappr "$W/new2c" version=2 "7=$P7c"; sign_appr "$W/new2c"
r=$(install "$W/new2c"); case $r in OK*) ;; *) ep_fail "install new2c: $r" ;; esac
unseal_refused org.endpointd.Error.PcrMismatch "a PCR-sealed secret with an approval for the new PCR 7" p1
unseal_ok "v2 for PCR 7 c"
ep_attack "an approval covering PCR 16 too: extend 16, then reset it"
mkappr "$W/a716" version=2 "7=$P7c" "16=$P16"; sign_appr "$W/a716"
r=$(install "$W/a716"); case $r in OK*) ;; *) ep_fail "install a716: $r" ;; esac
unseal_ok "approval of PCRs 7 and 16"
tpm2_pcrextend "16:sha256=$(printf %064d 16)" || ep_fail "pcrextend 16"
unseal_refused org.endpointd.Error.PcrMismatch "PCR 16 extended"
if tpm2_pcrreset 16 >/dev/null 2>&1; then
        r=$(unseal s1)
        case $r in OK*) undocumented "an approval that covers the resettable PCR 16 opens again after tpm2_pcrreset 16 (the TPM's semantics: a manufacturer should not approve PCR 16)" ;;
        *) ep_log "after pcrreset 16: $r" ;; esac
fi
ep_attack "an approval for random PCR 7 values, and for other PCR selections"
mkappr "$W/rnd" version=2 "7=$(openssl rand -hex 32)"; sign_appr "$W/rnd"
r=$(install "$W/rnd"); case $r in OK*) ;; *) ep_fail "install rnd: $r" ;; esac
unseal_refused org.endpointd.Error.PcrMismatch "approval for random PCR 7"
mkappr "$W/sel" version=2 "0=$(pcr 0)" "23=$(pcr 23)"; sign_appr "$W/sel"
r=$(install "$W/sel"); case $r in OK*) ;; *) ep_fail "install sel: $r" ;; esac
unseal_ok "approval for PCRs 0 and 23 (their current values: the approval decides what is covered)"
tpm2_pcrextend "23:sha256=$(printf %064d 23)" || ep_fail "pcrextend 23"
unseal_refused org.endpointd.Error.PcrMismatch "PCR 23 extended"
r=$(install "$W/new2c"); case $r in OK*) ;; *) ep_fail "install new2c: $r" ;; esac
unseal_ok "back to v2 for PCR 7"

# ---- 3. rollback -------------------------------------------------------------
ep_log "--- 3. rollback"
ep_stop
cp -a "$EP_STATE" "$EP_TMP/state-v2"
ep_start
mkappr "$W/v3" version=3 "7=$P7c"; sign_appr "$W/v3"
ep_attack "install version 3"
r=$(install "$W/v3"); case $r in OK*3*) ep_ok "v3 installed: $r" ;; *) ep_fail "install v3: $r" ;; esac
[ "$(floor)" = e000000000000000 ] || finding "floor after v3 is $(floor), not T(3)"
unseal_ok "v3"
ep_attack "then the old v2 approval, and a v2 approval for the current PCRs made after v3"
refused org.endpointd.Error.Rollback "v2 after v3 (old file)" "$W/new2c"
mkappr "$W/v2late" version=2 "7=$P7c" "0=$(pcr 0)"; sign_appr "$W/v2late"
refused org.endpointd.Error.Rollback "v2 after v3 (made after)" "$W/v2late"
rc=0; ep_ctl approval install "$W/v2late" "$W/v2late.sig" >"$W/o" 2>&1 || rc=$?
[ $rc = 1 ] || finding "endpointctl approval install of a rolled-back approval: exit $rc (endpointctl(1): 1 = refused): $(cat "$W/o")"
ep_ok "endpointctl approval install v2 -> exit 1"
unseal_ok "v3 still installed"
ep_attack "root restores the state directory from before the v3 install"
ep_stop
rm -rf "$EP_STATE"; cp -a "$EP_TMP/state-v2" "$EP_STATE"
ep_start
unseal_refused org.endpointd.Error.NotApproved "state directory restored with the v2 approval, floor T(3) in NV"
refused org.endpointd.Error.Rollback "v2 again after the restore" "$W/v2late"
[ "$(floor)" = e000000000000000 ] || finding "floor after the restore is $(floor), not T(3)"
r=$(install "$W/v3"); case $r in OK*) ep_ok "v3 installs again" ;; *) ep_fail "v3 after restore: $r" ;; esac
unseal_ok "v3 after the restore"
ep_attack "root wipes the state directory (keeping the key file of s1)"
ep_stop
t_stop=$(transients)
[ -z "$t_stop" ] || undocumented "after a clean stop the TPM still holds the transient objects '$t_stop' (endpointd(8) only says a killed instance's leftovers are flushed at the next start)"
cp -a "$EP_STATE" "$EP_TMP/state-v3"
rm -rf "$EP_STATE"
mkdir -p "$EP_STATE"
ep_start
grep -q 'read-only for endpointd' "$EP_TMP/daemon.log" || undocumented "no 'NV indices are read-only for endpointd' in the log after a wipe (endpointd-tpm(7))"
refused org.endpointd.Error.Rollback "v2 after a wiped state directory" "$W/v2late"
ep_stop
# The key file of s1 comes back (root kept a copy); the approval files of
# the v2 state too.
(cd "$EP_TMP/state-v2" && find . -maxdepth 2 -type f | sort) >"$W/v2files"
for f in $(cat "$W/v2files"); do
        case $f in ./tpm-nv-*|./audit/*|./manifest*|./clock) continue ;; esac
        mkdir -p "$EP_STATE/$(dirname "$f")"
        cp -p "$EP_TMP/state-v2/$f" "$EP_STATE/$f"
done
ep_start
unseal_refused org.endpointd.Error.NotApproved "wiped state, key file and the v2 approval put back, floor T(3)"
ep_stop
rm -rf "$EP_STATE"; cp -a "$EP_TMP/state-v3" "$EP_STATE"
ep_start
unseal_ok "state with v3 back"

# ---- 6. root without the owner's authorization ---------------------------------
ep_log "--- 6. root, no owner authorization"
ep_attack "root undefines the approval floor index without the owner's authorization"
for h in o p; do
        if tpm2_nvundefine -C $h 0x01800E44 >"$W/o" 2>&1; then
                finding "tpm2_nvundefine -C $h 0x01800E44 succeeded without the owner's authorization"
        else ep_ok "nvundefine -C $h refused"; fi
done
ep_attack "root writes / sets bits in the floor with the writer's secret"
[ -s "$EP_STATE/tpm-nv-writer" ] || ep_fail "no tpm-nv-writer in the state directory"
WSEC=hex:$(xxd -p -c 64 "$EP_STATE/tpm-nv-writer")
nv_policy_session() {
        rm -f "$W/s.ctx"
        tpm2_startauthsession --policy-session -S "$W/s.ctx" >/dev/null 2>&1 &&
        tpm2_policysecret -S "$W/s.ctx" -c 0x01800E40 "$WSEC" >/dev/null 2>&1
}
printf '\x80\0\0\0\0\0\0\0' >"$W/t1.bin"
if nv_policy_session; then
        if tpm2_nvwrite 0x01800E44 -P "session:$W/s.ctx" -i "$W/t1.bin" >"$W/o" 2>&1; then
                finding "tpm2_nvwrite of T(1) to the approval floor succeeded (endpointd-tpm(7): refused, TPM_RC_ATTRIBUTES)"
        else ep_ok "nvwrite on the bits index refused: $(tr '\n' ' ' <"$W/o" | cut -c1-120)"; fi
        tpm2_flushcontext "$W/s.ctx" 2>/dev/null || true
else
        ep_fail "cannot open a PolicySecret session with the writer's secret (test setup)"
fi
for auth in "" "-P hex:00"; do
        # shellcheck disable=SC2086 # no option or one option with its value
        if tpm2_nvsetbits 0x01800E44 $auth -i 0xffffffffffffffff >"$W/o" 2>&1; then
                finding "tpm2_nvsetbits on the approval floor without the writer's secret ($auth) succeeded: any TPM user could raise it to 64"
        else ep_ok "nvsetbits without the writer's secret refused"; fi
done
[ "$(floor)" = e000000000000000 ] || finding "floor after root's attempts is $(floor)"
refused org.endpointd.Error.Rollback "v2 after root's floor attempts" "$W/v2late"
ep_attack "root edits the installed approval file in the state directory (version field, PCR digest)"
ep_stop
cp -p "$EP_STATE/approval" "$W/appr.keep"
printf '\002' | dd of="$EP_STATE/approval" bs=1 seek=15 conv=notrunc status=none
ep_start
unseal_refused org.endpointd.Error.NotApproved "installed approval's version field edited to 2"
ep_stop
cp -p "$W/appr.keep" "$EP_STATE/approval"
# PCR 7 moves; root writes an approval for the new value, with the genuine
# ticket next to it.
tpm2_pcrextend "7:sha256=$(printf %064d 99)" >/dev/null
mkappr "$W/forged" version=3 "7=$(pcr 7)"
cp "$W/forged" "$EP_STATE/approval"
ep_start
r=$(unseal s1)
case $r in OK*) finding "UNSEALED with an approval root wrote into the state directory for an unapproved PCR 7: $r" ;;
*) ep_ok "root's forged approval file does not open s1: $r" ;; esac
ep_stop
cp -p "$W/appr.keep" "$EP_STATE/approval"
ep_start
unseal_refused org.endpointd.Error.PcrMismatch "genuine v3 file back, PCR 7 extended"
mkappr "$W/v3d" version=3 "7=$(pcr 7)"; sign_appr "$W/v3d"
r=$(install "$W/v3d"); case $r in OK*) ;; *) ep_fail "install v3d: $r" ;; esac
unseal_ok "v3 for the current PCR 7"

ep_attack "root edits, truncates or removes approval.ticket in the state directory"
ep_stop
cp -p "$EP_STATE/approval.ticket" "$W/ticket.keep"
tsz=$(stat -c %s "$EP_STATE/approval.ticket")
for how in flip-last flip-first truncate remove; do
        cp -p "$W/ticket.keep" "$EP_STATE/approval.ticket"
        case $how in
        flip-last) ep_flip_byte "$EP_STATE/approval.ticket" $((tsz - 1)) ;;
        flip-first) ep_flip_byte "$EP_STATE/approval.ticket" 0 ;;
        truncate) truncate -s $((tsz / 2)) "$EP_STATE/approval.ticket" ;;
        remove) rm -f "$EP_STATE/approval.ticket" ;;
        esac
        ep_start
        r=$(unseal s1)
        case $r in
        OK*) finding "s1 UNSEALED with approval.ticket $how: $r" ;;
        *Error.NotApproved*) ep_ok "ticket $how: NotApproved" ;;
        *) undocumented "ticket $how: $r (endpointd-dbus(7) has NotApproved for an approval the TPM refused)"; ep_ok "ticket $how refused" ;;
        esac
        indep_alive "ticket $how"
        ep_stop
done
cp -p "$W/ticket.keep" "$EP_STATE/approval.ticket"
ep_start
unseal_ok "genuine ticket back"

ep_attack "root replaces pcr-policy.pub by its own key, adds its CA, installs its approval for the current PCRs"
cp -p "$EP_TRUST/pcr-policy.pub" "$W/ppk.keep"
ep_pki_ca root-ca "/CN=Root's own CA"
ep_pki_signer root-appr root-ca "/CN=Root's PCR approvals" approval
cp "$EP_PKI/root-ca.pem" "$EP_TRUST/root-ca.pem"
openssl pkey -in "$EP_PKI/root-appr.key" -pubout -out "$EP_TRUST/pcr-policy.pub" 2>/dev/null
chmod 0644 "$EP_TRUST/root-ca.pem" "$EP_TRUST/pcr-policy.pub"
kill -HUP "$EP_DAEMON_PID"; ep_ctl status >/dev/null
mkappr "$W/rootappr" version=3 "7=$(pcr 7)"; sign_appr "$W/rootappr" root-appr root-appr
r=$(install "$W/rootappr")
ep_log "root's own approval under its own pcr-policy.pub: $r"
unseal_refused org.endpointd.Error.NotApproved "approval signed by a PCR-policy key root put in the trust directory after s1 was sealed"
[ "$(floor)" = e000000000000000 ] || finding "floor after root's approval is $(floor)"
rm -f "$EP_TRUST/root-ca.pem"; cp -p "$W/ppk.keep" "$EP_TRUST/pcr-policy.pub"
kill -HUP "$EP_DAEMON_PID"; ep_ctl status >/dev/null
r=$(install "$W/v3d"); case $r in OK*) ;; *) ep_fail "install v3d after the trust directory is back: $r" ;; esac
unseal_ok "genuine v3 again"

ep_attack "root lowers the manifest floor in NV with the writer's secret"
ep_ctl manifest create "$EP_ROOT" --serial=5 --output="$W/m5" >/dev/null || ep_fail "manifest create"
ep_sign "$W/m5" "$W/m5.sig"
ep_ctl manifest install "$W/m5" "$W/m5.sig" >/dev/null || ep_fail "manifest install 5"
mfloor=$(tpm2_nvread 0x01800E42 -s 8 2>/dev/null | xxd -p)
[ "$mfloor" = 0000000000000005 ] || ep_log "manifest floor in NV after serial 5: $mfloor"
printf '\0\0\0\0\0\0\0\001' >"$W/one.bin"
if nv_policy_session && tpm2_nvwrite 0x01800E42 -P "session:$W/s.ctx" -i "$W/one.bin" >"$W/o" 2>&1; then
        tpm2_flushcontext "$W/s.ctx" 2>/dev/null || true
        ep_log "root lowered the manifest floor to 1 (endpointd-tpm(7): possible, detected)"
        ep_restart
        grep -q 'went down' "$EP_TMP/daemon.log" || finding "no LOG_CRIT 'went down' after root lowered the manifest floor (endpointd-tpm(7))"
        ep_ctl manifest create "$EP_ROOT" --serial=6 --output="$W/m6" >/dev/null
        ep_sign "$W/m6" "$W/m6.sig"
        r=$(call org.endpointd.Integrity1 InstallManifest hh "(fd(os.open('$W/m6', os.O_RDONLY)), fd(os.open('$W/m6.sig', os.O_RDONLY)))" 2>&1)
        case $r in *Error.Rollback*) ep_ok "manifest installs refused after the floor went down" ;;
        *) finding "manifest install after root lowered the NV manifest floor: $r (endpointd-tpm(7): every install is refused, Rollback)" ;; esac
        unseal_ok "approvals unaffected by the manifest floor"
else
        tpm2_flushcontext "$W/s.ctx" 2>/dev/null || true
        ep_log "root could not write the manifest floor: $(cat "$W/o")"
fi

ep_attack "root lowers the clock floor in NV with the writer's secret"
cfloor=$(tpm2_nvread 0x01800E43 -s 8 2>/dev/null | xxd -p)
if [ -n "$cfloor" ] && nv_policy_session && tpm2_nvwrite 0x01800E43 -P "session:$W/s.ctx" -i "$W/one.bin" >"$W/o" 2>&1; then
        tpm2_flushcontext "$W/s.ctx" 2>/dev/null || true
        ep_restart
        c2=$(tpm2_nvread 0x01800E43 -s 8 2>/dev/null | xxd -p)
        [ $((16#$c2)) -ge $((16#$cfloor)) ] || finding "the clock floor root lowered to 1 stays at $c2 after a restart (endpointd-tpm(7): the clock mark is written back; it was $cfloor)"
        ep_ok "clock floor $cfloor -> 1 -> $c2 after a restart"
        unseal_ok "after the clock floor game"
else
        tpm2_flushcontext "$W/s.ctx" 2>/dev/null || true
        ep_log "clock floor not defined or not writable: '$cfloor' $(cat "$W/o" 2>/dev/null)"
fi

ep_attack "8 concurrent installs of v3 and v4: the highest stays installed"
mkappr "$W/v4" version=4 "7=$(pcr 7)"; sign_appr "$W/v4"
pids=()
for i in 1 2 3 4 5 6 7 8; do
        if [ $((i % 2)) = 0 ]; then install "$W/v4" >"$W/conc$i" & else install "$W/v3d" >"$W/conc$i" & fi
        pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
ep_log "concurrent results: $(cat "$W"/conc? | tr '\n' ' ')"
[ "$(floor)" = f000000000000000 ] || finding "floor after concurrent v3/v4 installs is $(floor), not T(4)"
cmp -s "$EP_STATE/approval" "$W/v4" || finding "after concurrent v3/v4 installs the installed approval is not v4 (endpointd-dbus(7): an approval below the floor is refused, so v4 must stay): $(xxd -p -s 8 -l 8 "$EP_STATE/approval")"
unseal_ok "after concurrent installs"
r=$(install "$W/v3d"); case $r in *Error.Rollback*) ep_ok "v3 after v4: Rollback" ;; *) finding "v3 after v4: $r" ;; esac

# ---- 7. resources --------------------------------------------------------------
ep_log "--- 7. resources"
ep_attack "50 approval installs and 50 unseals in a row, some failing"
unseal s1 >/dev/null
f0=$(fds)
t0=$(transients)
for i in $(seq 50); do
        r=$(install "$W/v4"); case $r in OK*) ;; *) ep_fail "install $i: $r" ;; esac
        r=$(unseal s1); case $r in OK*) ;; *) ep_fail "unseal $i: $r" ;; esac
        if [ $((i % 10)) = 0 ]; then
                install "$W/v3d" >/dev/null; install "$W/e-sig" >/dev/null; unseal p1 >/dev/null
        fi
done
f1=$(fds)
t1=$(transients)
ep_log "fds before $f0 after $f1; transient handles before '$t0' after '$t1'"
# endpointd(8): only the SRK and the device key stay loaded (the kept policy
# session is a session, not an object); a TPM without resource manager has
# three object slots.
[ "$t1" = "$t0" ] || finding "transient objects changed over 50 installs/unseals: '$t0' -> '$t1'"
[ "$(tpm2_getcap handles-transient 2>/dev/null | grep -c '^-')" -le 2 ] || finding "more than 2 transient objects loaded while idle: $t1"
nsess=$(tpm2_getcap handles-loaded-session 2>/dev/null | grep -c '^-' || true)
[ "$nsess" -le 1 ] || finding "$nsess sessions loaded while idle (endpointd(8): the one kept policy session)"
[ "$f1" -le "$f0" ] || finding "the daemon's fd count grew from $f0 to $f1 over 50 installs/unseals"
ep_ok "no TPM handle or fd leak"
unseal_ok "after the loop"
# ---- 8. the owner's authorization (documented powers) -------------------------
ep_log "--- 8. the owner's authorization"
OA=file:$EP_TMP/ownerauth
ep_attack "the owner undefines the approval floor index while the daemon runs"
tpm2_nvreadpublic 0x01800E44 >"$W/pub44" 2>&1 || ep_fail "nvreadpublic 0x01800E44"
# Its attributes as the daemon defined it, without TPMA_NV_WRITTEN.
ATTR44=$(awk '/attributes:/ { f = 1 } f && /value:/ { print $2; exit }' "$W/pub44")
tpm2_nvundefine -C o -P "$OA" 0x01800E44 >/dev/null || ep_fail "owner nvundefine 0x01800E44"
unseal_refused org.endpointd.Error.NotApproved "approval index undefined under the running daemon"
ep_attack "the owner puts an ordinary index at its handle (as an earlier endpointd left), holding 0"
printf '\0\0\0\0\0\0\0\0' >"$W/zero8"
tpm2_nvdefine 0x01800E44 -C o -P "$OA" -s 8 -a "ownerread|ownerwrite|authread|authwrite|no_da" >/dev/null ||
        ep_fail "owner nvdefine ordinary 0x01800E44"
tpm2_nvwrite 0x01800E44 -C 0x01800E44 -i "$W/zero8" >/dev/null || ep_fail "nvwrite ordinary 0x01800E44"
unseal_refused org.endpointd.Error.NotApproved "an ordinary index holding 0 at the approval floor's handle"
ep_restart
unseal_refused org.endpointd.Error.NotApproved "ordinary index, after a restart"
ep_log "unseal with the ordinary index: $(unseal s1)"
ar0=$(audit_count approval-refused)
for f in v4 v2late; do
        r=$(install "$W/$f")
        case $r in
        OK*) finding "approval $f INSTALLED with an ordinary index at 0x01800E44 (endpointd-tpm(7): installs fail until it is undefined): $r" ;;
        *": ."|*": ") finding "install of $f with an ordinary index at 0x01800E44 is refused with an empty reason (endpointd-dbus(7) ERRORS: \"with a message a person understands\"; endpointd-tpm(7) says the index must be undefined with the owner's authorization): $r" ;;
        # endpointd-dbus(7) InstallApproval: Rollback when the floor cannot
        # be read because the index at its handle is not the daemon's.
        *Error.Rollback*"cannot be read"*) ep_ok "install $f refused with the ordinary index there: $r" ;;
        *) finding "install of $f with an ordinary index at 0x01800E44: not Rollback naming the unreadable floor (endpointd-dbus(7)): $r" ;;
        esac
done
ar1=$(audit_count approval-refused)
[ "$ar1" -ge $((ar0 + 2)) ] || finding "2 approvals refused because of the ordinary index at 0x01800E44 left $((ar1 - ar0)) approval-refused audit records (endpointd-audit(5): approval-refused, a PCR approval was refused)"
ep_attack "the owner undefines it: the next install defines the bit field from the mark"
tpm2_nvundefine -C o -P "$OA" 0x01800E44 >/dev/null || ep_fail "owner nvundefine ordinary"
r=$(install "$W/v3d")
case $r in *Error.Rollback*) ep_ok "v3 below the mark: Rollback" ;;
OK*) finding "v3 installed after the approval index was undefined, below the mark 4 (endpointd-tpm(7): the next install defines the bit field, starting from the mark): $r" ;;
*) finding "v3 after the index was undefined: $r" ;; esac
r=$(install "$W/v4"); case $r in OK*) ep_ok "v4 defines the bit field again" ;; *) ep_fail "v4 after the index was undefined: $r" ;; esac
[ "$(floor)" = f000000000000000 ] || finding "floor after v4 into a fresh index is $(floor), not T(4)"
unseal_ok "v4 in the fresh bit field"
name44=$(tpm2_nvreadpublic 0x01800E44 2>/dev/null | sed -n 's/^ *name: *//p' | head -n 1)
[ "$name44" = 000be4abb9df723e5e0fa485ccd9cf0db747a7757879aae5d189bbe210f84cd6311a ] ||
        finding "the approval floor index has the Name $name44, not the one endpointd-approval(5) gives"
ep_ok "approval floor Name as documented"

ep_attack "owner and writer's secret: the bit field defined again with the same Name and only T(1) set"
tpm2_nvreadpublic 0x01800E40 >"$W/pub40" 2>&1
WNAME=$(sed -n 's/^ *name: *//p' "$W/pub40" | head -n 1)
POL=$( { printf '%064d' 0; printf '00000151%s' "$WNAME"; } | xxd -r -p | openssl dgst -sha256 -binary | openssl dgst -sha256 -binary | xxd -p -c 64)
printf '%s' "$POL" | xxd -r -p >"$W/pol44"
tpm2_nvundefine -C o -P "$OA" 0x01800E44 >/dev/null || ep_fail "owner nvundefine bits"
if tpm2_nvdefine 0x01800E44 -C o -P "$OA" -s 8 -a "$(printf '0x%08x' $(( ${ATTR44:-0} & ~0x20000000 )))" -L "$W/pol44" >"$W/o" 2>&1 &&
   nv_policy_session && tpm2_nvsetbits 0x01800E44 -P "session:$W/s.ctx" -i 0x8000000000000000 >>"$W/o" 2>&1; then
        tpm2_flushcontext "$W/s.ctx" 2>/dev/null || true
        n2=$(tpm2_nvreadpublic 0x01800E44 2>/dev/null | sed -n 's/^ *name: *//p' | head -n 1)
        ep_log "floor now $(floor), Name $n2"
        ep_restart
        mkappr "$W/v2now" version=2 "7=$(pcr 7)"; sign_appr "$W/v2now"
        refused org.endpointd.Error.Rollback "v2 after the owner reset the NV floor to T(1): the state directory's floor (endpointd-tpm(7): the higher of the two)" "$W/v2now"
        grep -q -i 'approval.*went down\|went down.*approval\|0x01800e44.*down' "$EP_TMP/daemon.log" ||
                undocumented "no message about the approval floor going below its mark (T(4) -> T(1)) after the owner redefined it (endpointd-tpm(7) documents the LOG_CRIT for the manifest floor only)"
        unseal_ok "v4 still installed after the reset"
        # endpointd-tpm(7): a floor that went down is put back to the mark at
        # the next raise; an approval at the mark still installs.
        ep_attack "v4 installed again over the lowered floor: accepted, the floor back at T(4)"
        r=$(install "$W/v4")
        case $r in OK*) ep_ok "v4 installs over a floor that went down" ;; *) ep_fail "v4 over a floor that went down: $r" ;; esac
        [ "$(floor)" = f000000000000000 ] || ep_fail "the floor after v4 again is $(floor), not T(4) put back"
        ep_ok "the floor is T(4) again"
else
        tpm2_flushcontext "$W/s.ctx" 2>/dev/null || true
        ep_log "could not redefine the bit field (attributes '$ATTR44'): $(cat "$W/o")"
fi

indep_alive "at the end"
# A clean stop: exit 0, and no sanitizer report from this or an earlier stop.
ep_stop
[ "$EP_DAEMON_RC" = 0 ] || finding "endpointd exited with status $EP_DAEMON_RC at a clean stop"
if grep -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$EP_TMP/daemon.log" >"$W/san" 2>/dev/null; then
        finding "sanitizer reports in the daemon's log: $(head -n 5 "$W/san")"
fi
ep_ok "clean stop, no sanitizer report"

[ $FINDINGS = 0 ] || ep_fail "$FINDINGS finding(s) above (FINDING n:)"
ep_done
