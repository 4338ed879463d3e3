#!/usr/bin/env bash
# bench-python-move.sh: the downtime of an update that moves OMFLOW to a new Python
# (issue 15, item 3), on the Linux demo: from the service's stop to OMFLOW answering
# again, as `apply -json` reports it (downtime_ms). The demo's python/ is made a Python
# 3.8 environment with OMFLOW's packages (a venv of Debian's python3.11 whose pyvenv.cfg
# says 3.8.18, the stand-in the tests use); the update 1.2.0.0 requires Python 3.11, so
# apply makes the new venv beside it and installs the release's packages and the old
# extras from a folder of wheels while OMFLOW runs, then stops the service for the
# renames and Apache's django.conf (a copy in the bench's folder). The same demo also
# gets a plain update (1.1.6.3, no Python move) for comparison. Each is applied and
# rolled back RUNS times, alternating; the script prints min / median / max of each.
#
# Environment: RUNS (5), OMFLOW_UPGRADE_BIN. Needs: go, python3.11 with venv and pip
# (Debian's python3.11, python3-venv).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
PY=${PYTHON311:-/usr/bin/python3.11}
"$PY" -c 'import venv, ensurepip' 2>/dev/null || { echo "bench-python-move: $PY with venv and ensurepip is needed (apt-get install python3.11 python3.11-venv)" >&2; exit 1; }
T=$(mktemp -d)
root=$T/omflow
trap '[ -x "$root/server/omflow_server" ] && "$root/server/omflow_server" stop >/dev/null 2>&1; rm -rf "$T"' EXIT
if [ -n "${OMFLOW_UPGRADE_BIN:-}" ]; then
	BIN=$OMFLOW_UPGRADE_BIN
else
	CGO_ENABLED=0 go build -o "$T/omflow-upgrade" ./cmd/omflow-upgrade
	BIN=$T/omflow-upgrade
fi

"$BIN" demo -root "$root" -version 1.1.6.1 >/dev/null
# OMFLOW's Python 3.8 environment, and Apache's django.conf pointing at it.
"$PY" -m venv --without-pip "$root/python"
sed -i 's/^version.*/version = 3.8.18/' "$root/python/pyvenv.cfg"
cp upgrade/pyenv/testdata/apache/django.conf "$T/django.conf"
python3 - "$root" "$T" <<'PY'
import base64, hashlib, glob, json, os, sys, zipfile
root, tmp = sys.argv[1], sys.argv[2]
site = glob.glob(os.path.join(root, "python", "lib", "python3*", "site-packages"))[0]
for name, ver in [("Django", "2.2.28"), ("ldap3", "2.9.1"), ("mod_wsgi", "4.9.0"), ("openpyxl", "3.0.9"), ("pytz", "2021.3"), ("python_dateutil", "2.8.2")]:
    d = os.path.join(site, "%s-%s.dist-info" % (name, ver))
    os.makedirs(d)
    open(os.path.join(d, "METADATA"), "w").write("Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, ver))
# Wheels of the release's packages and the old extras, for the new Python, offline.
wheels = os.path.join(tmp, "wheels")
os.makedirs(wheels)
for name, ver, extra in [("Django", "4.2", {}), ("ldap3", "2.9.1", {}), ("openpyxl", "3.1.2", {}), ("wheel", "0.38.4", {}),
                         ("pytz", "2021.3", {}), ("python_dateutil", "2.8.2", {}),
                         ("mod_wsgi", "4.9.4", {"mod_wsgi/__init__.py": "", "mod_wsgi/server/mod_wsgi-py311.cpython-311-x86_64-linux-gnu.so": "stand-in"})]:
    info = "%s-%s.dist-info" % (name, ver)
    files = {name.lower() + "_mod.py": "VERSION = %r\n" % ver,
             info + "/METADATA": "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, ver),
             info + "/WHEEL": "Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    files.update(extra)
    record = ""
    with zipfile.ZipFile(os.path.join(wheels, "%s-%s-py3-none-any.whl" % (name, ver)), "w") as z:
        for n, c in sorted(files.items()):
            z.writestr(n, c)
            digest = base64.urlsafe_b64encode(hashlib.sha256(c.encode()).digest()).rstrip(b"=").decode()
            record += "%s,sha256=%s,%d\n" % (n, digest, len(c))
        z.writestr(info + "/RECORD", record + info + "/RECORD,,\n")
cfg = os.path.join(root, "omflow-upgrade.json")
c = json.load(open(cfg))
c["apache_conf"] = os.path.join(tmp, "django.conf")
json.dump(c, open(cfg, "w"), indent=2)
PY

"$BIN" keygen -out "$T/keys" >/dev/null
for v in 1.1.6.3 1.2.0.0; do
	mkdir -p "$T/src-$v/server/omflow"
	printf '# OMFLOW %s\n' "$v" >"$T/src-$v/server/omflow/views.py"
done
"$BIN" pack -key "$T/keys/omflow-upgrade.key" -version 1.1.6.3 -out "$T/plain.tar.gz" "$T/src-1.1.6.3" >/dev/null
"$BIN" pack -key "$T/keys/omflow-upgrade.key" -version 1.2.0.0 -from 1.1.6 -python 3.11 -out "$T/move.tar.gz" "$T/src-1.2.0.0" >/dev/null

# apply PACKAGE [ARGS]: one apply and its rollback; prints the downtime in ms.
apply() {
	local pkg=$1 out
	shift
	out=$("$BIN" apply -root "$root" -pubkey "$T/keys/omflow-upgrade.pub" -accept-license -json "$@" "$pkg") || {
		echo "apply $pkg failed:" >&2
		echo "$out" >&2
		exit 1
	}
	python3 -c 'import json,sys; print(json.load(sys.stdin)["downtime_ms"])' <<<"$out"
	"$BIN" rollback -root "$root" -json >/dev/null || { echo "rollback after $pkg failed" >&2; exit 1; }
}
move=() plain=()
for _ in $(seq "$RUNS"); do
	move+=("$(apply "$T/move.tar.gz" -wheels "$T/wheels")")
	plain+=("$(apply "$T/plain.tar.gz")")
done
stats() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:int((a[NR/2]+a[NR/2+1])/2); printf "min %d / median %d / max %d ms", a[1], m, a[NR]}'; }
echo "downtime, update moving Python 3.8 -> 3.11 (new venv, 7 packages): $(stats "${move[@]}")"
echo "downtime, the same demo, update without a Python move:           $(stats "${plain[@]}")"
echo "($RUNS runs each, $(nproc) cores, $(date +%F))"
