#!/usr/bin/env bash
# Benchmark: `omflow-upgrade apply` of an update that replaces FILES files (about SIZE_MB
# in all) on a demo installation, against its physical limit, `tar xzf` of the same
# package into an empty folder followed by `sync` (apply makes what it wrote durable
# before it renames; tar alone does not), in turn with it, RUNS times; then `rollback` of
# each apply against that apply. Ratios are taken pair by pair, so that a machine whose
# speed drifts still compares like with like. Every figure as min / median / max; each
# ratio against its limit: apply <= 1.3 x (tar xzf + sync), rollback <= 0.3 x apply.
# On ext4 without a journal, apply and tar each start 35 s after the last mass deletion
# (settle, scripts/lib-stats.sh), so that neither pays for the other's unlinks.
# Usage: scripts/bench-apply.sh [FILES] [SIZE_MB] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib-stats.sh
. scripts/lib-payload.sh
files=${1:-20000}; size_mb=${2:-300}; runs=${3:-5}
bench_setup bench-apply "$files" "$size_mb"
root="$work/omflow"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
declare -a t_apply t_tar t_tarsync t_rollback r_apply r_rollback downtime
settle_for "$work"
for _ in $(seq 1 "$runs"); do
	sync; settle
	s=$(date +%s%N); "$BIN" apply -root "$root" -pubkey "$work/keys/omflow-upgrade.pub" -accept-license -json "$work/update.tar.gz" >"$work/apply.json"; e=$(date +%s%N)
	a=$(ms "$s" "$e")
	downtime+=("$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["downtime_ms"])' "$work/apply.json")")
	s=$(date +%s%N); "$BIN" rollback -root "$root" -json >/dev/null; e=$(date +%s%N)
	r=$(ms "$s" "$e")
	mkdir "$work/x"; sync; settle
	s=$(date +%s%N); tar xzf "$work/update.tar.gz" -C "$work/x"; e=$(date +%s%N)
	sync; e2=$(date +%s%N)
	t=$(ms "$s" "$e"); ts=$(ms "$s" "$e2")
	rm -rf "$work/x"
	t_apply+=("$a"); t_rollback+=("$r"); t_tar+=("$t"); t_tarsync+=("$ts")
	r_apply+=("$(ratio "$a" "$ts")"); r_rollback+=("$(ratio "$r" "$a")")
done
figure "apply" ms "" "${t_apply[@]}"
figure "  of it OMFLOW not answering (downtime_ms)" ms "" "${downtime[@]}"
figure "tar xzf" ms "" "${t_tar[@]}"
figure "tar xzf + sync" ms "" "${t_tarsync[@]}"
figure "rollback" ms "" "${t_rollback[@]}"
figure "apply / (tar xzf + sync), pair by pair" "" 1.3 "${r_apply[@]}"
figure "rollback / apply, pair by pair" "" 0.3 "${r_rollback[@]}"
