#!/usr/bin/env bash
# Benchmark of the wizard (issue 19's limits): under Xvfb, RUNS starts of the wizard on a
# demo installation and package, each measured from starting the process to its first
# frame (the wizard writes the time it drew it into the file OMFLOW_WIZARD_FIRST_FRAME
# names) and, 3 s later, the resident memory of the idle wizard (its first screen shown,
# the installation and package read behind it), each start paired with a start of the
# smallest Fyne program (scripts/fyne-floor: one window, one label) under the same X
# server, which is what any Fyne window costs here; then the size of the Linux program and,
# when mingw-w64 is installed, of the Windows .exe. Each figure as min / median / max and
# its median against its limit. Usage: scripts/bench-wizard.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib-stats.sh
runs=${1:-5}
bin=bin/omflow-upgrade-wizard
if [ "${INNER:-}" = 1 ]; then work=$WORK; fi
if [ "${INNER:-}" != 1 ]; then
make --no-print-directory wizard fyne-floor >/dev/null
work=$(mktemp -d "${TMPDIR:-/tmp}/omflow-bench-wizard.XXXXXX")
cleanup() { [ -x "$work/omflow/server/omflow_server" ] && "$work/omflow/server/omflow_server" stop >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
CGO_ENABLED=0 go build -o "$work/omflow-upgrade" ./cmd/omflow-upgrade
"$work/omflow-upgrade" demo -root "$work/omflow" -version 1.1.6.1 >/dev/null
"$work/omflow-upgrade" keygen -out "$work/keys" >/dev/null
mkdir -p "$work/src/server/omflow"; echo "# 1.1.6.3" >"$work/src/server/omflow/views.py"
"$work/omflow-upgrade" pack -key "$work/keys/omflow-upgrade.key" -version 1.1.6.3 -out "$work/omflow_update_1_1_6_3.tar.gz" "$work/src" >/dev/null
fi

# measure NAME COMMAND...: one start of a program that reports its first frame.
measure() {
	local name=$1 start pid frame
	shift
	rm -f "$work/frame"; mkfifo "$work/frame"
	start=$(date +%s%N)
	OMFLOW_WIZARD_FIRST_FRAME="$work/frame" "$@" >/dev/null 2>&1 &
	pid=$!
	# The program writes into the pipe once it has drawn; read waits for it (no polling).
	if ! read -r -t 30 frame <"$work/frame"; then kill $pid; echo "$name: no first frame within 30 s" >&2; return 1; fi
	echo "$name frame $(( (frame - start) / 1000000 ))"
	sleep 3 # idle
	awk -v n="$name" '/^VmRSS/ {print n, "rss", $2 / 1024} /^RssAnon/ {print n, "anon", $2 / 1024}' /proc/$pid/status
	kill $pid; wait $pid 2>/dev/null || true
}
# One X server for all runs: this script again, under xvfb-run, does the measuring, the
# wizard and the smallest Fyne program (scripts/fyne-floor) in turn.
if [ "${INNER:-}" = 1 ]; then
	for _ in $(seq 1 "$runs"); do
		measure wizard "$bin" -root "$work/omflow" -pubkey "$work/keys/omflow-upgrade.pub" -lang en "$work/omflow_update_1_1_6_3.tar.gz"
		measure floor bin/fyne-floor
	done
	exit 0
fi
out=$(INNER=1 WORK="$work" xvfb-run -a -s "-screen 0 1280x800x24" "$0" "$runs")
echo "wizard on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), under Xvfb (Mesa's software OpenGL)"
col() { echo "$out" | awk -v n="$1" -v k="$2" '$1 == n && $2 == k {print $3}'; }
# shellcheck disable=SC2046
figure "start to first frame" ms 500 $(col wizard frame)
# shellcheck disable=SC2046
figure "idle resident memory (VmRSS)" MiB 80 $(col wizard rss)
# shellcheck disable=SC2046
figure "  of it private (RssAnon: heap, stacks, buffers)" MiB "" $(col wizard anon)
# shellcheck disable=SC2046
figure "the smallest Fyne program (one label), start to first frame" ms "" $(col floor frame)
# shellcheck disable=SC2046
figure "the smallest Fyne program, idle resident memory (VmRSS)" MiB "" $(col floor rss)
# shellcheck disable=SC2046
figure "the wizard's own: its VmRSS less the smallest program's, pair by pair" MiB "" \
	$(paste <(col wizard rss) <(col floor rss) | awk '{printf "%.2f\n", $1 - $2}')
# One build, one figure: MB as a file manager shows them (10^6 bytes).
size() { awk -v name="$1" -v b="$(stat -c %s "$2")" -v limit="$3" 'BEGIN {
	printf "%s: %.1f MB", name, b / 1e6; if (limit != "") printf "; /limit %.2f (limit %s MB)", b / 1e6 / limit, limit; print "" }'; }
size "Linux program (make wizard)" "$bin" ""
if command -v x86_64-w64-mingw32-gcc >/dev/null; then
	scripts/windows/build.sh wizard "$work/omflow-upgrade-wizard.exe" >/dev/null
	size "Windows program (make windows-wizard), CJK font inside" "$work/omflow-upgrade-wizard.exe" 45
else
	echo "Windows program: not built (apt-get install gcc-mingw-w64-x86-64)"
fi
