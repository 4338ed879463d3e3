#!/usr/bin/env bash
# The wizard's Windows .exe, started under Wine on Xvfb with -demo (a Windows-layout demo
# installation whose service is registered in Wine's service control manager), and a
# screenshot of its first screen: docs/screenshots/wine/1-language-under-wine.png.
# Needs what scripts/wine-env.sh installs, xvfb and imagemagick.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/wine-env.sh)"
export WINEDEBUG=-all
work=$(mktemp -d)
# Asked of the running registry: system.reg is written only when the wineserver ends.
services() { "$WINE" reg query 'HKLM\System\CurrentControlSet\Services' 2>/dev/null | tr -d '\r' | grep -o 'OMFLOWServer-[0-9]*$' | sort -u; }
before=$(services || true)
cleanup() {
	# The demo's service goes with the run: stop and delete the ones it registered.
	for s in $(comm -13 <(echo "$before") <(services || true)); do
		"$WINE" sc stop "$s" >/dev/null 2>&1 || true
		"$WINE" sc delete "$s" >/dev/null 2>&1 || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
scripts/windows/build.sh wizard "$work/omflow-upgrade-wizard.exe"
cat >"$work/shoot.sh" <<INNER
#!/usr/bin/env bash
"$WINE" "$work/omflow-upgrade-wizard.exe" -demo -lang en >"$work/out.txt" 2>&1 &
pid=\$!
for _ in \$(seq 1 120); do grep -q 'demo package' "$work/out.txt" 2>/dev/null && break; sleep 0.5; done
sleep 8   # the window draws after the demo is made
import -window root "$work/shot.png"
kill \$pid 2>/dev/null || true
INNER
chmod +x "$work/shoot.sh"
xvfb-run -a -s "-screen 0 1280x800x24" "$work/shoot.sh"
mkdir -p docs/screenshots/wine
cp "$work/shot.png" docs/screenshots/wine/1-language-under-wine.png
echo "wrote docs/screenshots/wine/1-language-under-wine.png"
