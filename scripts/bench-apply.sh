#!/usr/bin/env bash
# Benchmark: `omflow-upgrade apply` of an update that replaces FILES files (about SIZE_MB
# in all) on a demo installation, against `tar xzf` of the same package into an empty
# folder, in the same run, RUNS times each, alternating. Prints the medians and the
# ratio apply/tar (goal: at most 1.3), and rollback against apply.
# Usage: scripts/bench-apply.sh [FILES] [SIZE_MB] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-20000}; size_mb=${2:-300}; runs=${3:-5}
work=$(mktemp -d "${TMPDIR:-/tmp}/omflow-bench.XXXXXX")
bin="$work/omflow-upgrade"
root="$work/omflow"
cleanup() { [ -x "$root/server/omflow_server" ] && "$root/server/omflow_server" stop >/dev/null 2>&1; rm -rf "$work"; }
[ "${KEEP:-0}" = 1 ] || trap cleanup EXIT
CGO_ENABLED=0 go build -o "$bin" ./cmd/omflow-upgrade

# The payload: FILES files under server/omflow/, text-like (compressible about 3:1 like
# Python sources), each also present in the installation so that every one is replaced.
python3 - "$work/src" "$root" "$files" "$size_mb" <<'PY'
import os, random, sys
src, root, n, size_mb = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
per = size_mb * 1024 * 1024 // n
rnd = random.Random(1)
words = [("".join(rnd.choice("abcdefghijklmnopqrstuvwxyz_") for _ in range(rnd.randint(2, 12)))) for _ in range(4000)]
for i in range(n):
    rel = os.path.join("server", "omflow", "app%03d" % (i % 200), "mod%05d.py" % i)
    p = os.path.join(src, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    out, total = [], 0
    while total < per:
        line = " ".join(rnd.choice(words) for _ in range(8)) + "\n"
        out.append(line); total += len(line)
    with open(p, "w") as f:
        f.write("".join(out)[:per])
PY
"$bin" demo -root "$root" -version 1.1.6.1 -port 0 >/dev/null
# The installed copies: same paths, older content.
(cd "$work/src" && find . -type f) | while read -r f; do mkdir -p "$root/$(dirname "$f")"; echo "# old" >"$root/$f"; done
"$bin" keygen -out "$work/keys" >/dev/null
"$bin" pack -key "$work/keys/omflow-upgrade.key" -version 1.1.6.3 -out "$work/update.tar.gz" "$work/src" >/dev/null
pkgsize=$(du -m "$work/update.tar.gz" | cut -f1)
echo "package: $files files, $(du -sm "$work/src" | cut -f1) MB of payload, $pkgsize MB compressed"

now() { date +%s%N; }
declare -a t_apply t_tar t_tarsync t_rollback
for i in $(seq 1 "$runs"); do
	sync
	s=$(now); "$bin" apply -root "$root" -pubkey "$work/keys/omflow-upgrade.pub" -accept-license -json "$work/update.tar.gz" >"$work/apply.json"; e=$(now)
	t_apply+=($(( (e - s) / 1000000 )))
	s=$(now); "$bin" rollback -root "$root" -json >/dev/null; e=$(now)
	t_rollback+=($(( (e - s) / 1000000 )))
	mkdir "$work/x"; sync
	s=$(now); tar xzf "$work/update.tar.gz" -C "$work/x"; e=$(now)
	t_tar+=($(( (e - s) / 1000000 )))
	sync; e2=$(now) # apply makes what it wrote durable before it renames; tar does not
	t_tarsync+=($(( (e2 - s) / 1000000 )))
	rm -rf "$work/x"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
ma=$(median "${t_apply[@]}"); mt=$(median "${t_tar[@]}"); mr=$(median "${t_rollback[@]}"); ms=$(median "${t_tarsync[@]}")
echo "apply     median ${ma} ms   (runs: ${t_apply[*]})"
echo "tar xzf   median ${mt} ms   (runs: ${t_tar[*]})"
echo "tar+sync  median ${ms} ms   (runs: ${t_tarsync[*]})"
echo "rollback  median ${mr} ms   (runs: ${t_rollback[*]})"
echo "downtime of the last apply: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["downtime_ms"])' "$work/apply.json") ms"
awk -v a="$ma" -v t="$mt" -v r="$mr" -v s="$ms" 'BEGIN { printf "ratio apply/tar: %.2f (goal <= 1.30)\nratio apply/(tar+sync): %.2f\nratio rollback/apply: %.2f\n", a/t, a/s, r/a }'
