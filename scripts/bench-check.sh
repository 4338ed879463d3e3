#!/usr/bin/env bash
# Benchmark: `omflow-upgrade check` of a package of FILES files (about SIZE_MB of
# payload) against its physical limit, hashing the payload once (`sha256sum` of every
# payload file), RUNS times each, in turn (check, sha256sum, check, ...), the ratio taken
# pair by pair so that a machine whose speed drifts still compares like with like. Every
# figure as min / median / max; the ratio against its limit, 1.2. gzip -dc of the package
# is printed beside them: check must decompress as well as hash.
# Usage: scripts/bench-check.sh [FILES] [SIZE_MB] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib-stats.sh
. scripts/lib-payload.sh
files=${1:-20000}; size_mb=${2:-300}; runs=${3:-5}
bench_setup bench-check "$files" "$size_mb"

hash_payload() { (cd "$work/src" && find . -type f -print0 | xargs -0 sha256sum >/dev/null); }
declare -a t_check t_sum t_gunzip ratio
# One of each first, not counted: the package and the payload in the page cache for both.
"$BIN" check -root "$work/omflow" -pubkey "$work/keys/omflow-upgrade.pub" "$work/update.tar.gz" >/dev/null 2>&1 || true
hash_payload
for _ in $(seq 1 "$runs"); do
	s=$(date +%s%N)
	# check exits 1 on warnings (the demo's service runs); only its time counts here.
	"$BIN" check -root "$work/omflow" -pubkey "$work/keys/omflow-upgrade.pub" "$work/update.tar.gz" >"$work/check.out" 2>&1 || true
	e=$(date +%s%N); c=$(ms "$s" "$e")
	s=$(date +%s%N); hash_payload; e=$(date +%s%N); h=$(ms "$s" "$e")
	s=$(date +%s%N); gzip -dc "$work/update.tar.gz" >/dev/null; e=$(date +%s%N)
	t_check+=("$c"); t_sum+=("$h"); t_gunzip+=("$(ms "$s" "$e")")
	ratio+=("$(awk -v a="$c" -v b="$h" 'BEGIN { printf "%.3f", a / b }')")
done
figure "check" ms "" "${t_check[@]}"
figure "sha256sum of the payload" ms "" "${t_sum[@]}"
figure "gzip -dc of the package (what check must do besides hashing)" ms "" "${t_gunzip[@]}"
figure "check / sha256sum, pair by pair" "" 1.2 "${ratio[@]}"
