#!/usr/bin/env bash
# Sets up a private, headless Wine prefix for running the Windows tests of the upgrade core
# on Linux (issue 10), then prints the environment to use it, for eval:
#
#   eval "$(scripts/wine-env.sh)"
#   GOOS=windows go test -exec "$PWD/scripts/wine-exec.sh" ./upgrade/svc/...
#
# What it does, each step only when not done yet:
#   - installs wine64 and gcc-mingw-w64-x86-64 from Debian (as root; otherwise it says what
#     to install and fails);
#   - makes a Wine prefix of its own (WINEPREFIX, default ~/.cache/omflow-upgrade/wine64,
#     or $OMFLOW_WINEPREFIX) with `wineboot -i`, no display, no Mono/Gecko download dialogs;
#   - builds scripts/wine/processprng.c into bcryptprimitives.dll and puts it in the
#     prefix's windows/system32: Go programs (Go 1.26 here) need ProcessPrng from that DLL, and
#     Wine 8 (Debian 12) has no bcryptprimitives.dll at all.
# Everything it writes is under the prefix; it leaves no process running but wineserver,
# which ends by itself.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
prefix="${OMFLOW_WINEPREFIX:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/omflow-upgrade/wine64}"

log() { printf 'wine-env: %s\n' "$*" >&2; }

find_wine() {
	# Debian's wine64 package puts the loader in /usr/lib/wine; the `wine` package adds
	# /usr/bin/wine (and wine64) wrappers. Either will do.
	for w in "${WINE:-}" "$(command -v wine64 || true)" /usr/lib/wine/wine64 "$(command -v wine || true)"; do
		if [ -n "$w" ] && [ -x "$w" ]; then
			printf '%s\n' "$w"
			return 0
		fi
	done
	return 1
}

need=()
find_wine >/dev/null || need+=(wine64)
command -v x86_64-w64-mingw32-gcc >/dev/null || need+=(gcc-mingw-w64-x86-64)
if [ "${#need[@]}" -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		log "missing: ${need[*]}; install them (apt-get install --no-install-recommends ${need[*]}) or run this as root"
		exit 1
	fi
	log "installing ${need[*]}"
	# Another apt run may hold the lock for a while (a shared machine, CI's own installs).
	apt_install() {
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 \
			--no-install-recommends "${need[@]}" >&2
	}
	# A fresh machine may have no package lists yet.
	apt_install || { apt-get update -q >&2 && apt_install; }
fi
wine="$(find_wine)"
wineserver=""
for w in "$(command -v wineserver || true)" "$(dirname "$wine")/wineserver" /usr/lib/wine/wineserver64 /usr/lib/wine/wineserver; do
	if [ -n "$w" ] && [ -x "$w" ]; then
		wineserver="$w"
		break
	fi
done

export WINEPREFIX="$prefix"
export WINEARCH=win64
export WINEDEBUG=-all
# No Mono or Gecko installer dialogs, no desktop integration (menus, file associations).
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
# Headless: with no DISPLAY Wine uses no graphics driver; console programs and services
# do not need one. (Only here: the printed environment leaves the caller's DISPLAY alone;
# wine-exec.sh unsets it for the tests.)
unset DISPLAY WAYLAND_DISPLAY

mkdir -p "$(dirname "$prefix")"
# One set-up at a time: go test runs several test binaries at once.
exec 9>"$prefix.lock"
flock 9

if [ ! -f "$prefix/system.reg" ]; then
	log "creating the Wine prefix $prefix"
	"$wine" wineboot -i >/dev/null 2>&1
	# Let the first boot finish writing the registry before anyone uses the prefix.
	if [ -n "$wineserver" ]; then "$wineserver" -w; fi
fi
[ -f "$prefix/system.reg" ] || { log "wineboot did not create $prefix"; exit 1; }

dll="$prefix/drive_c/windows/system32/bcryptprimitives.dll"
src="$here/wine/processprng.c"
stamp="$prefix/.processprng.sha256"
want="$(sha256sum "$src" | cut -d' ' -f1)"
# Rebuilt when the source changed. A prefix whose Wine brings its own
# bcryptprimitives.dll (Wine 9 and later) would still take ours: ours only adds
# ProcessPrng, which is all Go asks of it.
if [ ! -f "$dll" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
	log "building bcryptprimitives.dll (ProcessPrng shim) into $dll"
	tmp="$(mktemp -d)"
	x86_64-w64-mingw32-gcc -shared -O2 -Wall -Werror -s -Wl,--no-insert-timestamp \
		-o "$tmp/bcryptprimitives.dll" "$src" -ladvapi32
	install -m 0644 "$tmp/bcryptprimitives.dll" "$dll"
	rm -rf "$tmp"
	printf '%s\n' "$want" >"$stamp"
fi

flock -u 9
printf 'export WINEPREFIX=%q WINEARCH=win64 WINEDEBUG=-all WINEDLLOVERRIDES=%q WINE=%q\n' \
	"$WINEPREFIX" "$WINEDLLOVERRIDES" "$wine"
