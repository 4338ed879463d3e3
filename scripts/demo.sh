#!/usr/bin/env bash
# Runs the headless upgrade end to end on a demo installation: a stand-in OMFLOW 1.1.6.1
# with a real service, a signed demo update 1.1.6.3, the compatibility check, the update,
# status, and the rollback. Everything lives in one temporary folder, removed at the end
# (KEEP=1 keeps it).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${OMFLOW_UPGRADE:-bin/omflow-upgrade}
work=$(mktemp -d "${TMPDIR:-/tmp}/omflow-demo.XXXXXX")
root="$work/omflow"
cleanup() {
	[ -x "$root/server/omflow_server" ] && "$root/server/omflow_server" stop >/dev/null 2>&1 || true
	if [ "${KEEP:-0}" = 1 ]; then echo "kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }

run "$bin" demo -root "$root" -version 1.1.6.1
run "$bin" keygen -root -out "$work/root"      # the offline root key
run "$bin" keygen -out "$work/keys"            # a release key, trusted through keys.json
run "$bin" keys init -root-key "$work/root/omflow-upgrade-root.key" -add "$work/keys/omflow-upgrade.pub" -out "$work/keys.json"
# The demo update: a changed view, a new file, a removed file.
mkdir -p "$work/src/server/omflow"
echo "# OMFLOW 1.1.6.3" >"$work/src/server/omflow/views.py"
echo "new in 1.1.6.3" >"$work/src/server/omflow/release-notes.txt"
echo "server/omflow/urls.py" >"$work/delete.txt"
run "$bin" pack -key "$work/keys/omflow-upgrade.key" -keys "$work/keys.json" -version 1.1.6.3 -delete "$work/delete.txt" -out "$work/omflow_update_1_1_6_3.tar.gz" "$work/src"
run "$bin" check -root "$root" -pubkey "$work/root/omflow-upgrade-root.pub" -files "$work/omflow_update_1_1_6_3.tar.gz"
run "$bin" apply -root "$root" -pubkey "$work/root/omflow-upgrade-root.pub" -accept-license "$work/omflow_update_1_1_6_3.tar.gz"
run "$bin" status -root "$root"
run "$bin" rollback -root "$root"
run "$bin" status -root "$root"
