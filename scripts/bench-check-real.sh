#!/usr/bin/env bash
# bench-check-real.sh: what the database preflight adds to `check` on OMFLOW's real
# releases. A real 1.0.0.1 runs under Django's server (demo -real); the real 1.1.0.0 is
# packed twice from the same tree: as released (its db.omflow and migrations: check
# copies the site's database, brings the copy to the release's schema, and sets the new
# code's Django up against it) and without db.omflow and migrations/ (check reads the
# package and the installation only). Both are checked RUNS times, alternating; the
# script prints min / median / max of each and the difference of the medians.
#
# Environment: RUNS (5), OMFLOW_REAL (the folder of OMFLOW's releases), OMFLOW_UPGRADE_BIN.
# Needs: go, python3-django (Debian).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
real=${OMFLOW_REAL:-../shared/omflow-real}
T=$(mktemp -d)
root=$T/omflow
trap '[ -x "$root/server/omflow_server" ] && "$root/server/omflow_server" stop >/dev/null 2>&1; rm -rf "$T"' EXIT
if [ -n "${OMFLOW_UPGRADE_BIN:-}" ]; then
	BIN=$OMFLOW_UPGRADE_BIN
else
	CGO_ENABLED=0 go build -o "$T/omflow-upgrade" ./cmd/omflow-upgrade
	BIN=$T/omflow-upgrade
fi

"$BIN" demo -real "$real/omflow-1.0.0.1.tar.gz" -root "$root" >/dev/null
"$BIN" keygen -out "$T/keys" >/dev/null
for v in 1.0.0.1 1.1.0.0; do mkdir "$T/rel-$v" && tar xzf "$real/omflow-$v.tar.gz" -C "$T/rel-$v"; done
cp -a "$T/rel-1.1.0.0" "$T/plain"
rm -f "$T/plain/server/db.omflow"
find "$T/plain" -type d -name migrations -prune -exec rm -rf {} +
"$BIN" pack -key "$T/keys/omflow-upgrade.key" -version 1.1.0.0 -base "$T/rel-1.0.0.1" -out "$T/full.tar.gz" "$T/rel-1.1.0.0" >/dev/null
"$BIN" pack -key "$T/keys/omflow-upgrade.key" -version 1.1.0.0 -base "$T/rel-1.0.0.1" -out "$T/plain.tar.gz" "$T/plain" >/dev/null

ms() { local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
check() { "$BIN" check -root "$root" -pubkey "$T/keys/omflow-upgrade.pub" -json "$1" | grep -q '"allowed": true'; }
check "$T/full.tar.gz" || { echo "check of the real 1.1.0.0 is not allowed" >&2; exit 1; }
full=() plain=()
for _ in $(seq "$RUNS"); do
	full+=("$(ms check "$T/full.tar.gz")")
	plain+=("$(ms check "$T/plain.tar.gz")")
done
stats() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:int((a[NR/2]+a[NR/2+1])/2); printf "min %d / median %d / max %d ms", a[1], m, a[NR]}'; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2)?a[(NR+1)/2]:int((a[NR/2]+a[NR/2+1])/2)}'; }
echo "check, real 1.1.0.0 with the database preflight:  $(stats "${full[@]}")"
echo "check, the same without db.omflow and migrations: $(stats "${plain[@]}")"
echo "the preflight adds $(($(median "${full[@]}") - $(median "${plain[@]}"))) ms (median of $RUNS, $(nproc) cores, $(date +%F))"
