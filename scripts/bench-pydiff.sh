#!/usr/bin/env bash
# bench-pydiff.sh: how much faster `omflow-upgrade pydiff` finds the packages a new Python
# lacks than `pip list --format=json` on both environments plus a set difference.
#
# Two real venvs (made by python3 -m venv, each with its own pip) get N distributions each,
# written as installers leave them (NAME-VER.dist-info/METADATA in site-packages), some
# spelled differently in the two (Bench_Pkg.7 / bench-pkg-7) and some only in the old one.
# Each way runs RUNS times; the script prints the median time of each and the median
# ratio, and fails when the two ways disagree on the missing set or the ratio is below
# GOAL.
#
# Environment: PYTHON (default /usr/bin/python3), N (300), RUNS (7), GOAL (20),
# OMFLOW_UPGRADE_BIN (a built CLI; default: build ./cmd/omflow-upgrade).
# Needs: go, python3-venv, python3-pip (Debian).
set -euo pipefail

cd "$(dirname "$0")/.."
PY=${PYTHON:-/usr/bin/python3}
N=${N:-300}
RUNS=${RUNS:-7}
GOAL=${GOAL:-20}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

if [ -n "${OMFLOW_UPGRADE_BIN:-}" ]; then
	BIN=$OMFLOW_UPGRADE_BIN
else
	CGO_ENABLED=0 go build -o "$T/omflow-upgrade" ./cmd/omflow-upgrade
	BIN=$T/omflow-upgrade
fi

# The machine's pip settings must not slow or change either side.
unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

echo "making two venvs of $N packages in $T"
"$PY" -m venv "$T/old"
"$PY" -m venv "$T/new"
"$PY" - "$T" "$N" <<'PYEOF'
import glob, os, sys
t, n = sys.argv[1], int(sys.argv[2])
def site(v):
    return glob.glob(os.path.join(t, v, "lib", "python3*", "site-packages"))[0]
def write(v, name, version):
    d = os.path.join(site(v), "%s-%s.dist-info" % (name.replace("-", "_"), version))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: bench\n\n" % (name, version))
    with open(os.path.join(d, "RECORD"), "w") as f:
        f.write("")
# Both have pip and setuptools already: N - 2 more each.
for i in range(n - 2):
    # old: every package; one in seven only there (the missing ones)
    old_name = "Bench_Pkg.%d" % i if i % 3 == 0 else "bench-pkg-%d" % i
    write("old", old_name, "1.%d.0" % i)
    if i % 7 == 3:
        write("new", "new-only-%d" % i, "2.0")  # keeps the new one at N too
    else:
        write("new", "bench-pkg-%d" % i, "1.%d.1" % i)
PYEOF

# now_ns prints the time in nanoseconds.
now_ns() { date +%s%N; }

pydiff_once() {
	local rc=0
	"$BIN" pydiff -old "$T/old/bin/python" -new "$T/new/bin/python" -json >"$T/pydiff.json" 2>"$T/pydiff.err" || rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
		echo "pydiff failed (exit $rc):" >&2
		cat "$T/pydiff.json" "$T/pydiff.err" >&2
		exit 1
	fi
}

piplist_once() {
	"$T/old/bin/python" -m pip list --format=json >"$T/old.json"
	"$T/new/bin/python" -m pip list --format=json >"$T/new.json"
	"$PY" - "$T/old.json" "$T/new.json" >"$T/piplist.missing" <<'PYEOF'
import json, re, sys
norm = lambda s: re.sub(r"[-_.]+", "-", s).lower()
old = {norm(p["name"]) for p in json.load(open(sys.argv[1]))}
new = {norm(p["name"]) for p in json.load(open(sys.argv[2]))}
for name in sorted(old - new - {"pip", "setuptools", "wheel"}):
    print(name)
PYEOF
}

declare -a tp tq ratios
for ((r = 0; r < RUNS; r++)); do
	a=$(now_ns); pydiff_once; b=$(now_ns)
	piplist_once; c=$(now_ns)
	tp+=($((b - a))); tq+=($((c - b)))
	ratios+=("$(awk -v p=$((b - a)) -v q=$((c - b)) 'BEGIN { printf "%.2f", q / p }')")
done

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Both ways must find the same missing set (names compared PEP 503-normalised).
"$PY" - "$T/pydiff.json" >"$T/pydiff.missing" <<'PYEOF'
import json, re, sys
norm = lambda s: re.sub(r"[-_.]+", "-", s).lower()
for name in sorted(norm(p["name"]) for p in json.load(open(sys.argv[1]))["missing"]):
    print(name)
PYEOF
if ! diff -u "$T/piplist.missing" "$T/pydiff.missing"; then
	echo "FAIL: pydiff and pip list disagree on the missing set (above: - pip list, + pydiff)" >&2
	exit 1
fi
count=$(wc -l <"$T/pydiff.missing")
[ "$count" -gt 0 ] || { echo "FAIL: no missing package found; the benchmark compares nothing" >&2; exit 1; }

mp=$(median "${tp[@]}"); mq=$(median "${tq[@]}"); mr=$(median "${ratios[@]}")
printf 'packages: %d per venv, missing: %d, runs: %d\n' "$N" "$count" "$RUNS"
printf 'pydiff -json (interpreters): median %.1f ms\n' "$(awk -v n="$mp" 'BEGIN { print n / 1e6 }')"
printf 'pip list x2 + difference:    median %.1f ms\n' "$(awk -v n="$mq" 'BEGIN { print n / 1e6 }')"
printf 'median ratio: %.1fx (goal %sx)\n' "$mr" "$GOAL"
if awk -v r="$mr" -v g="$GOAL" 'BEGIN { exit !(r < g) }'; then
	echo "FAIL: below the goal" >&2
	exit 1
fi
