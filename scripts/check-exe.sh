#!/usr/bin/env bash
# Checks a built Windows program (the release checklist, in CI):
#
#   scripts/check-exe.sh [-gui|-console] [-admin|-invoker] [-version A.B.C.D]
#                        [-bundled] [-ca CERT.pem] PROGRAM.exe
#
#   -gui / -console     the PE subsystem: 2 (Windows GUI, no console window) or 3
#   -admin / -invoker   the manifest's requestedExecutionLevel: requireAdministrator
#                       (Windows asks for elevation, UAC, before starting it) or asInvoker
#   -version            the version resource's file version
#   -bundled            an update package is appended and its bytes are whole
#   -ca                 signed, and osslsigncode verify accepts the signature with this
#                       CA certificate (a test certificate is its own CA)
# Always: a version resource and an icon (RT_ICON and RT_GROUP_ICON) are present.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
GO="${GO:-go}"
subsystem="" level="" version="" bundled="" ca=""
usage() { echo "usage: $0 [-gui|-console] [-admin|-invoker] [-version A.B.C.D] [-bundled] [-ca CERT.pem] PROGRAM.exe" >&2; exit 2; }
while [ $# -gt 1 ]; do
	case "$1" in
	-gui) subsystem=2 ;;
	-console) subsystem=3 ;;
	-admin) level=requireAdministrator ;;
	-invoker) level=asInvoker ;;
	-version) version="$2"; shift ;;
	-bundled) bundled=1 ;;
	-ca) ca="$2"; shift ;;
	*) usage ;;
	esac
	shift
done
[ $# -eq 1 ] || usage
exe="$1"
[ -f "$exe" ] || { echo "check-exe: $exe: no such file" >&2; exit 2; }

info="$(cd "$here/.." && "$GO" run ./scripts/windows/peinfo.go "$(realpath "$exe")")"
get() { sed -n "s/^$1=//p" <<<"$info"; }
failures=0
check() { # name, ok?, detail
	if [ "$2" = 1 ]; then
		echo "ok    $1: $3"
	else
		echo "FAIL  $1: $3"
		failures=$((failures + 1))
	fi
}
is() { [ "$1" = "$2" ] && echo 1 || echo 0; }

if [ -n "$subsystem" ]; then
	check subsystem "$(is "$(get subsystem)" "$subsystem")" "$(get subsystem) (want $subsystem: 2 GUI, 3 console)"
fi
if [ -n "$level" ]; then
	check manifest "$(is "$(get execution-level)" "$level")" "requestedExecutionLevel $(get execution-level) (want $level)"
fi
v="$(get file-version)"
check version-resource "$([ "$v" != none ] && echo 1 || echo 0)" "file version $v"
if [ -n "$version" ]; then
	check version "$(is "$v" "$version")" "$v (want $version)"
fi
icons="$(get icons)" groups="$(get icon-groups)"
check icon "$([ "$icons" -gt 0 ] && [ "$groups" -gt 0 ] && echo 1 || echo 0)" "$icons icon images in $groups group(s)"
if [ -n "$bundled" ]; then
	if out="$(cd "$here/.." && "$GO" run ./scripts/windows/bundle.go -find "$(realpath "$exe")" 2>&1)"; then
		check bundled 1 "$out"
	else
		check bundled 0 "$out"
	fi
fi
if [ -n "$ca" ]; then
	check signature "$(is "$(get signature)" present)" "Authenticode table $(get signature)"
	if out="$(osslsigncode verify -CAfile "$ca" -in "$exe" 2>&1)"; then
		check osslsigncode-verify 1 "$(grep -m1 -i 'signature verification' <<<"$out" || echo accepted)"
	else
		check osslsigncode-verify 0 "$(tail -n 3 <<<"$out" | tr '\n' ' ')"
	fi
fi
[ "$failures" -eq 0 ] || { echo "check-exe: $exe: $failures check(s) failed" >&2; exit 1; }
echo "check-exe: $exe: all checks passed"
