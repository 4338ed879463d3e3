#!/usr/bin/env bash
# Signs a Windows program (Authenticode) with osslsigncode. Sign last: after the update
# package is bundled into the program (the signature then covers it too).
#
#   scripts/windows/sign.sh -cert CERT.pem -key KEY.pem [-pass FILE] [-ts URL] IN.exe OUT.exe
#   scripts/windows/sign.sh -pkcs12 CERT.p12 [-pass FILE] [-ts URL] IN.exe OUT.exe
#
# -ts adds an RFC 3161 timestamp (the signature then outlives the certificate); a release
# needs one, tests run offline without.
set -euo pipefail
usage() { echo "usage: $0 (-cert CERT.pem -key KEY.pem | -pkcs12 FILE.p12) [-pass FILE] [-ts URL] IN.exe OUT.exe" >&2; exit 2; }
cred=() extra=()
while [ $# -gt 2 ]; do
	case "$1" in
	-cert) cred+=(-certs "$2"); shift 2 ;;
	-key) cred+=(-key "$2"); shift 2 ;;
	-pkcs12) cred+=(-pkcs12 "$2"); shift 2 ;;
	-pass) extra+=(-readpass "$2"); shift 2 ;;
	-ts) extra+=(-ts "$2"); shift 2 ;;
	*) usage ;;
	esac
done
[ $# -eq 2 ] && [ "${#cred[@]}" -gt 0 ] || usage
command -v osslsigncode >/dev/null || { echo "$0: osslsigncode missing: apt-get install osslsigncode" >&2; exit 1; }
in="$1" out="$2"
[ "$in" != "$out" ] || { echo "$0: IN and OUT must differ" >&2; exit 2; }
osslsigncode sign "${cred[@]}" "${extra[@]}" -h sha256 -n "OMFLOW Upgrade Wizard" \
	-in "$in" -out "$out"
