#!/usr/bin/env bash
# Benchmark of the wizard under Xvfb: the time from starting the process to its first
# frame, and the resident memory of the idle wizard (its first screen shown, nothing
# running), over RUNS starts. Usage: scripts/bench-wizard.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
bin=bin/omflow-upgrade-wizard
if [ "${INNER:-}" = 1 ]; then work=$WORK; fi
if [ "${INNER:-}" != 1 ]; then
[ -x "$bin" ] || make --no-print-directory wizard
work=$(mktemp -d "${TMPDIR:-/tmp}/omflow-bench-wizard.XXXXXX")
cleanup() { [ -x "$work/omflow/server/omflow_server" ] && "$work/omflow/server/omflow_server" stop >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
CGO_ENABLED=0 go build -o "$work/omflow-upgrade" ./cmd/omflow-upgrade
"$work/omflow-upgrade" demo -root "$work/omflow" -version 1.1.6.1 >/dev/null
"$work/omflow-upgrade" keygen -out "$work/keys" >/dev/null
mkdir -p "$work/src/server/omflow"; echo "# 1.1.6.3" >"$work/src/server/omflow/views.py"
"$work/omflow-upgrade" pack -key "$work/keys/omflow-upgrade.key" -version 1.1.6.3 -out "$work/omflow_update_1_1_6_3.tar.gz" "$work/src" >/dev/null
fi

measure() {
	rm -f "$work/frame"
	local start pid rss=""
	start=$(date +%s%N)
	OMFLOW_WIZARD_FIRST_FRAME="$work/frame" "$bin" -root "$work/omflow" -pubkey "$work/keys/omflow-upgrade.pub" -lang en "$work/omflow_update_1_1_6_3.tar.gz" >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 1 600); do [ -s "$work/frame" ] && break; sleep 0.05; done
	[ -s "$work/frame" ] || { kill $pid; echo "no first frame within 30 s" >&2; return 1; }
	echo "frame $(( ($(cat "$work/frame") - start) / 1000000 ))"
	sleep 3 # idle
	rss=$(awk '/^VmRSS/ {print $2}' /proc/$pid/status)
	echo "rss $(( rss / 1024 ))"
	kill $pid; wait $pid 2>/dev/null || true
}
# One X server for all runs: this script again, under xvfb-run, does the measuring.
if [ "${INNER:-}" = 1 ]; then
	for _ in $(seq 1 "$runs"); do measure; done
	exit 0
fi
out=$(INNER=1 WORK="$work" xvfb-run -a -s "-screen 0 1280x800x24" "$0" "$runs")
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
frames=$(echo "$out" | awk '/^frame/ {print $2}')
rsss=$(echo "$out" | awk '/^rss/ {print $2}')
echo "wizard start to first frame: median $(echo "$frames" | median) ms (runs: $(echo $frames))"
echo "idle wizard resident memory: median $(echo "$rsss" | median) MiB (runs: $(echo $rsss))"
