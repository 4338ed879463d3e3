#!/usr/bin/env bash
# Installs what building and testing the OMFLOW Upgrade Wizard needs on a fresh Debian
# machine (the Go toolchain itself is expected on PATH). Idempotent: packages already
# installed are not asked for again. Usage: scripts/deps.sh [test|wayland|django]
set -euo pipefail
pkgs=(
	# Fyne's cgo build (GLFW, OpenGL, X11)
	gcc pkg-config libgl1-mesa-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev
)
if [ "${1:-}" = wayland ]; then
	pkgs+=(libwayland-dev libxkbcommon-dev wayland-protocols)   # Fyne's native Wayland build
fi
if [ "${1:-}" = django ]; then
	pkgs=(python3 python3-django)   # OMFLOW's real releases run under Debian's Django (make run-real)
fi
if [ "${1:-}" = test ]; then
	pkgs+=(
		xvfb xauth imagemagick   # real windows and screenshots
		minisign                 # the standard tool checks our signatures
		jq git tmux              # CLI contract, git merge-file expectations, terminal progress
		python3 python3-venv python3-pip python3-django   # real Python environments, OMFLOW's real releases
		ansible-core             # the fleet rollout's playbook, run for real
		e2fsprogs util-linux     # chattr +i (read-only folders), unshare (no-font test)
		osslsigncode openssl curl   # the Windows .exe signed and checked (wine64 and mingw-w64: scripts/wine-env.sh)
	)
fi
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}"
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v go >/dev/null || { echo "Go is not on PATH: install Go 1.26 (https://go.dev/dl) first" >&2; exit 1; }
