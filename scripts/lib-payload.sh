# Sourced by scripts/bench-apply.sh and bench-check.sh: the benchmark's update.
#
#   payload WORK FILES SIZE_MB
#
# makes WORK/src, FILES files under server/omflow/ (about SIZE_MB in all, text-like and
# compressible about 3:1 like Python sources), a demo installation WORK/omflow of
# 1.1.6.1 holding older copies of every one of them (so that every file is replaced), a
# key pair WORK/keys and the signed package WORK/update.tar.gz of 1.1.6.3. BIN is the
# omflow-upgrade program to use.
payload() {
	local work=$1 files=$2 size_mb=$3
	"$BIN" demo -root "$work/omflow" -version 1.1.6.1 -port 0 >/dev/null
	python3 - "$work/src" "$work/omflow" "$files" "$size_mb" <<'PY'
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
    # The installed copy: same path, older content.
    old = os.path.join(root, rel)
    os.makedirs(os.path.dirname(old), exist_ok=True)
    with open(old, "w") as f:
        f.write("# old\n")
PY
	"$BIN" keygen -out "$work/keys" >/dev/null
	"$BIN" pack -key "$work/keys/omflow-upgrade.key" -version 1.1.6.3 -out "$work/update.tar.gz" "$work/src" >/dev/null
	echo "package: $files files, $(du -sm "$work/src" | cut -f1) MB of payload, $(du -m "$work/update.tar.gz" | cut -f1) MB compressed"
}

# bench_setup NAME FILES SIZE_MB makes the benchmark's private folder $work (removed on
# exit, its demo's service stopped first, unless KEEP=1), builds the command into $BIN
# and lays out the update with payload; then prints the machine's cores and load.
bench_setup() {
	work=$(mktemp -d "${TMPDIR:-/tmp}/omflow-$1.XXXXXX")
	BIN="$work/omflow-upgrade"
	[ "${KEEP:-0}" = 1 ] || trap bench_cleanup EXIT
	CGO_ENABLED=0 go build -o "$BIN" ./cmd/omflow-upgrade
	payload "$work" "$2" "$3"
	echo "on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
bench_cleanup() {
	[ -x "$work/omflow/server/omflow_server" ] && "$work/omflow/server/omflow_server" stop >/dev/null 2>&1
	rm -rf "$work"
}

# ms START END: the milliseconds between two `date +%s%N` readings.
ms() { echo $(( ($2 - $1) / 1000000 )); }
