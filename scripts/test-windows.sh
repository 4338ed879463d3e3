#!/usr/bin/env bash
# The Windows tests, on Linux under Wine (issue 10): `make test-windows` runs this.
#
#   1. go vet of the whole module for Windows;
#   2. the Windows tests of the core (go test -exec scripts/wine-exec.sh): the SCM, the
#      in-use finder, the reboot registry, elevation, the bundled program, and whole
#      upgrades of Windows-layout demo installations through the real SCM (TestWindows*;
#      the other tests of those packages use Unix control scripts and t.TempDir, which
#      cannot clean up under Wine, so -run selects);
#   3. the real omflow-upgrade.exe, built with its resources by scripts/windows/build.sh
#      and checked by scripts/check-exe.sh, run under Wine: demo, keygen, pack,
#      check -json, apply -json, status -json, rollback -json, each JSON field and exit
#      code as SPEC 5 says;
#   4. when WIZARD=1: the wizard's .exe (cgo, mingw-w64) built, bundled with a package,
#      signed with a test certificate made here by openssl, and checked (GUI subsystem,
#      requireAdministrator, version, icon, package, osslsigncode verify).
#
# Needs: wine64, gcc-mingw-w64-x86-64 (scripts/wine-env.sh installs both as root),
# osslsigncode and openssl (step 4), python3 (reads the JSON).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."
GO="${GO:-go}"
eval "$("$here/wine-env.sh")"
export OMFLOW_UNDER_WINE=1
unset DISPLAY WAYLAND_DISPLAY
exec_wrapper="$here/wine-exec.sh"
log() { printf '\n== %s\n' "$*"; }

log "go vet (GOOS=windows)"
GOOS=windows "$GO" vet ./upgrade/... ./cmd/omflow-upgrade/

log "Windows tests under Wine"
GOOS=windows "$GO" test -count=1 -exec "$exec_wrapper" ./upgrade/inuse/ ./upgrade/reboot/ ./upgrade/elevate/ ./upgrade/rmtree/
GOOS=windows "$GO" test -count=1 -exec "$exec_wrapper" -run Windows ./upgrade/svc/ ./upgrade/bundle/ ./upgrade/install/ ./cmd/omflow-upgrade/

log "omflow-upgrade.exe under Wine"
tmp="$(mktemp -d)"
keeper="" sleeper=""
service=""
cleanup() {
	# The demo's service goes first, then the process that kept the wineserver up.
	if [ -n "$service" ]; then
		"$WINE" sc stop "$service" >/dev/null 2>&1 || true
		"$WINE" sc delete "$service" >/dev/null 2>&1 || true
	fi
	[ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null || true
	[ -n "$keeper" ] && wait "$keeper" 2>/dev/null || true
	rm -rf "$tmp" "${base:-/nonexistent}"
}
trap cleanup EXIT
exe="$tmp/omflow-upgrade.exe"
"$here/windows/build.sh" cli "$exe"
"$here/check-exe.sh" -console -invoker "$exe"

# Services live as long as the wineserver, which ends a few seconds after its last
# process: a Wine process that waits on a pipe keeps it up between the commands below
# (otherwise each command would boot the prefix again, restarting the service).
# The pipe's only writer is a sleep of our own: a file descriptor of this shell would be
# inherited by every Wine process started below, the wineserver included, and the pipe
# would never end.
mkfifo "$tmp/keep"
sleep 86400 >"$tmp/keep" &
sleeper=$!
"$WINE" cmd /c pause <"$tmp/keep" >/dev/null 2>&1 &
keeper=$!

win() { "$WINE" "$exe" "$@"; }
# Runs omflow-upgrade.exe, checks its exit code, and keeps its JSON in $tmp/out.json.
run() {
	local want="$1"; shift
	local code=0
	win "$@" >"$tmp/out.json" 2>"$tmp/err.txt" || code=$?
	if [ "$code" != "$want" ]; then
		echo "FAIL: omflow-upgrade $* exited $code, want $want" >&2
		cat "$tmp/out.json" "$tmp/err.txt" >&2
		exit 1
	fi
	echo "ok    omflow-upgrade $1: exit $code"
}
# json EXPR: a Python expression over j (the JSON) that must be true.
json() {
	python3 - "$tmp/out.json" "$1" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
if not eval(sys.argv[2], {"j": j}):
    sys.exit("FAIL: %s\n%s" % (sys.argv[2], json.dumps(j, indent=2)))
PY
}
health() {
	local body
	body="$(curl -fsS "$url")" || { echo "FAIL: $url does not answer" >&2; exit 1; }
	grep -q "OMFLOW $1<" <<<"$body" || { echo "FAIL: $url answers $body, want OMFLOW $1" >&2; exit 1; }
	echo "ok    $url answers OMFLOW $1"
}

# A folder on the prefix's C: drive, seen from both sides.
base="$WINEPREFIX/drive_c/omflow-exe-test-$$" wbase="C:\\omflow-exe-test-$$"
root="$wbase\\OMFLOW Server"
mkdir -p "$base"
run 0 demo -root "$root" -version 1.1.6.1 -port 0 -json
json 'j["ok"] and j["service"].startswith("OMFLOWServer-") and j["version"] == "1.1.6.1"'
service="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["service"])' "$tmp/out.json")"
url="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$tmp/out.json")"
health 1.1.6.1

run 0 keygen -out "$wbase\\keys"
mkdir -p "$base/src/omflow/omflow"
printf '# OMFLOW 1.1.6.3\r\n' >"$base/src/omflow/omflow/views.py"
pkg="$wbase\\omflow_update_1_1_6_3.tar.gz" pub="$wbase\\keys\\omflow-upgrade.pub"
run 0 pack -key "$wbase\\keys\\omflow-upgrade.key" -version 1.1.6.3 -out "$pkg" "$wbase\\src"

run 0 check -root "$root" -pubkey "$pub" -files -json "$pkg"
json 'j["allowed"] is True and j["installed"] == "1.1.6.1" and j["update"] == "1.1.6.3" and j["reason"] == "fix-release" and len(j["checks"]) > 0 and j["files"][0]["action"] == "replace"'
run 2 apply -root "$root" -pubkey "$pub" -json "$pkg"
run 0 apply -root "$root" -pubkey "$pub" -accept-license -json "$pkg"
json 'j["ok"] is True and j["version"] == "1.1.6.3" and j["rolled_back"] is False and j["exit"] == 0 and "downtime_ms" in j and j["backup"]'
health 1.1.6.3
run 0 status -root "$root" -json
json 'j["version"] == "1.1.6.3" and j["service"] == "running" and j["healthy"] is True and j["pending"] is None and len(j["backups"]) == 1'
run 0 rollback -root "$root" -json
json 'j["ok"] is True and j["action"] == "rolled-back" and j["version"] == "1.1.6.1"'
health 1.1.6.1
run 3 rollback -root "$root" -json
run 0 status -root "$root" -json
json 'j["version"] == "1.1.6.1" and j["service"] == "running" and j["healthy"] is True and j["backups"] == []'

if [ "${WIZARD:-0}" = 1 ]; then
	log "the wizard's .exe: build, bundle, sign, check"
	"$here/windows/build.sh" wizard "$tmp/omflow-upgrade-wizard.exe"
	"$GO" run "$here/windows/bundle.go" -exe "$tmp/omflow-upgrade-wizard.exe" \
		-package "$base/omflow_update_1_1_6_3.tar.gz" -out "$tmp/bundled.exe"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/test-key.pem" -out "$tmp/test-cert.pem" -days 1 \
		-subj "/CN=OMFLOW Upgrade Test Signing" -addext extendedKeyUsage=codeSigning 2>/dev/null
	"$here/windows/sign.sh" -cert "$tmp/test-cert.pem" -key "$tmp/test-key.pem" "$tmp/bundled.exe" "$tmp/omflow_update_1_1_6_3.exe"
	"$here/check-exe.sh" -gui -admin -bundled -ca "$tmp/test-cert.pem" "$tmp/omflow_update_1_1_6_3.exe"
fi
echo
echo "test-windows: all passed"
