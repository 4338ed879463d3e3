#!/usr/bin/env bash
# Cross-builds a Windows program of the project on Linux, with its resources embedded:
# the project's icon (the wizard's, assets/icon.png), a version
# resource and a manifest.
#
#   scripts/windows/build.sh cli    OUT.exe    # headless CLI: console, asInvoker, no cgo
#   scripts/windows/build.sh wizard OUT.exe    # the wizard: GUI subsystem,
#                                              # requireAdministrator, cgo with mingw-w64
#
# VERSION (a.b.c.d, default 1.0.0.0) is the file and product version.
#
# The wizard is built like the Linux one (Makefile, WIZARD_FLAGS): without symbol tables
# (-s -w; a panic still prints its stack), without this machine's paths, and without
# Fyne's colour emoji font (no_emoji).
#
# Why the CLI asks for no elevation: it runs unattended (Ansible over WinRM/SSH, scheduled
# tasks), where a requireAdministrator program cannot start from a non-elevated shell at
# all (CreateProcess fails with ERROR_ELEVATION_REQUIRED); it says "run as
# administrator" itself when the service control manager refuses it. The wizard is what
# an administrator double-clicks: Windows shows the UAC prompt before it starts (SPEC 2).
#
# The resources go into CMD/rsrc_windows_amd64.syso (go-winres, run from the module
# proxy), which go build links in; the .syso is removed afterwards (and gitignored).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/../.."
GO="${GO:-go}"
WINRES="${WINRES:-github.com/tc-hib/go-winres@v0.3.3}"
version="${VERSION:-1.0.0.0}"
icon="${ICON:-assets/icon.png}"

usage() { echo "usage: $0 cli|wizard OUT.exe" >&2; exit 2; }
[ $# -eq 2 ] || usage
kind="$1" out="$2"
case "$kind" in
cli)
	cmd=cmd/omflow-upgrade name=omflow-upgrade manifest=cli admin=()
	desc="OMFLOW upgrade (command line)"
	build=(env GOOS=windows GOARCH=amd64 CGO_ENABLED=0 "$GO" build -trimpath -o "$out" "./$cmd")
	;;
wizard)
	cmd=cmd/omflow-upgrade-wizard name=omflow-upgrade-wizard manifest=gui admin=(--admin)
	desc="OMFLOW Upgrade Wizard"
	command -v x86_64-w64-mingw32-gcc >/dev/null || {
		echo "$0: x86_64-w64-mingw32-gcc missing: apt-get install gcc-mingw-w64-x86-64" >&2
		exit 1
	}
	build=(env GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc
		"$GO" build -trimpath -tags no_emoji -ldflags "-H=windowsgui -s -w" -o "$out" "./$cmd")
	;;
*) usage ;;
esac
[ -f "$icon" ] || { echo "$0: icon $icon missing (ICON=FILE.png)" >&2; exit 1; }
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "$0: VERSION=$version: give a.b.c.d" >&2; exit 2; }

syso="$cmd/rsrc_windows_amd64.syso"
# One build of a command at a time: the .syso sits in the shared source folder.
lock="${TMPDIR:-/tmp}/omflow-upgrade-winres-$(echo "$PWD/$cmd" | sha256sum | cut -c1-12).lock"
exec 9>"$lock"
flock 9
trap 'rm -f "$syso"' EXIT

"$GO" run "$WINRES" simply --arch amd64 --out "$cmd/rsrc" --manifest "$manifest" "${admin[@]}" \
	--icon "$icon" --product-name "OMFLOW Upgrade Wizard" --file-description "$desc" \
	--product-version "$version" --file-version "$version" --original-filename "$name.exe" \
	--copyright "OMFLOW Upgrade Wizard authors"
[ -f "$syso" ] || { echo "$0: go-winres made no $syso" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
"${build[@]}"
echo "built $out ($kind, version $version)"
