#!/usr/bin/env bash
# Runs the headless upgrade end to end on a real OMFLOW: OMFLOW's own release 1.0.0.1
# installed and served by Django (demo -real), an update to its release 1.1.0.0 packed
# from the two release trees, the compatibility check, the update, status, the login
# page, and the rollback. The releases come from the shared folder next to the
# repository (OMFLOW_REAL overrides it). Everything lives in one temporary folder, kept
# at the end for a look; the service is stopped.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
real=${OMFLOW_REAL:-$here/../../shared/omflow-real}
cd "$here/.."
bin=${OMFLOW_UPGRADE:-bin/omflow-upgrade}
python=/usr/bin/python3

if ! "$python" -c 'import django' 2>/dev/null; then
	echo "run-real: $python cannot import django; OMFLOW needs it: apt-get install python3-django" >&2
	exit 1
fi
for v in 1.0.0.1 1.1.0.0; do
	if [ ! -f "$real/omflow-$v.tar.gz" ]; then
		echo "run-real: $real/omflow-$v.tar.gz is missing (OMFLOW_REAL names the folder of OMFLOW's releases)" >&2
		exit 1
	fi
done
real=$(cd "$real" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/omflow-real.XXXXXX")
root="$work/omflow"
cleanup() {
	[ -x "$root/server/omflow_server" ] && "$root/server/omflow_server" stop >/dev/null 2>&1 || true
	echo "service stopped; everything is in $work"
}
trap cleanup EXIT
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }
login() {
	local url
	url=$(sed -n 's/.*"health_url": *"\([^"]*\)".*/\1/p' "$root/omflow-upgrade.json")
	say "curl $url"
	local code
	code=$(curl -s -o "$work/login.html" -m 10 -w '%{http_code}' "$url") || code="no answer"
	# OMFLOW's login page names its version in its asset links (omflow.css?version=...).
	echo "login page: HTTP $code, $(grep -o -m1 'omflow.css?version=[0-9.]*' "$work/login.html" 2>/dev/null | sed 's/.*=/OMFLOW /' || echo 'no OMFLOW version in it')"
}

run "$bin" demo -real "$real/omflow-1.0.0.1.tar.gz" -root "$root"
run "$bin" keygen -out "$work/keys"
for v in 1.0.0.1 1.1.0.0; do
	mkdir "$work/rel-$v"
	run tar xzf "$real/omflow-$v.tar.gz" -C "$work/rel-$v"
done
# The release tarballs have no control script; the update carries the installation's.
run cp "$root/server/omflow_server" "$work/rel-1.1.0.0/server/"
pkg="$work/omflow_update_1_1_0_0.tar.gz"
run "$bin" pack -key "$work/keys/omflow-upgrade.key" -version 1.1.0.0 -base "$work/rel-1.0.0.1" -out "$pkg" "$work/rel-1.1.0.0"
run "$bin" check -root "$root" -pubkey "$work/keys/omflow-upgrade.pub" -files "$pkg"

apply=0
run "$bin" apply -root "$root" -pubkey "$work/keys/omflow-upgrade.pub" -accept-license "$pkg" || apply=$?
if [ "$apply" != 0 ]; then
	printf '\n\033[1;31mAPPLY FAILED (exit %s)\033[0m' "$apply"
	[ "$apply" = 4 ] && printf ': the update was rolled back'
	printf '\nthe end of the service log (%s):\n' "$root/.omflow-demo/service.log"
	tail -n 5 "$root/.omflow-demo/service.log" || true
fi
run "$bin" status -root "$root"
login
if [ "$apply" = 0 ]; then
	run "$bin" rollback -root "$root"
	run "$bin" status -root "$root"
	login
else
	echo "(no rollback: apply did not finish)"
	printf '\n\033[1;31mrun-real: apply failed with exit %s\033[0m\n' "$apply"
	exit "$apply"
fi
