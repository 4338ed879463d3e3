# Sourced by scripts/bench-*.sh: one figure over several runs as min / median / max and
# the ratio of its median to its limit.
#
#   figure "apply / (tar xzf + sync)" "" 1.30 1.41 1.38 1.52 ...
#   figure "first frame" ms 500 612 588 640
#
# prints "first frame: min 588 / median 612 / max 640 ms (3 runs); median/limit 1.22 (limit 500 ms)".
# An empty limit prints no ratio. The median of an even count is the mean of the middle two.
figure() {
	local name=$1 unit=$2 limit=$3
	shift 3
	printf '%s\n' "$@" | sort -g | awk -v name="$name" -v unit="$unit" -v limit="$limit" '
		{ v[NR] = $1 }
		END {
			med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			u = (unit == "") ? "" : " " unit
			line = sprintf("%s: min %s / median %s / max %s%s (%d runs)", name, fmt(v[1]), fmt(med), fmt(v[NR]), u, NR)
			if (limit != "") line = line sprintf("; median/limit %.2f (limit %s%s)", med / limit, limit, u)
			print line
		}
		function fmt(x) { return (x == int(x)) ? sprintf("%d", x) : sprintf("%.2f", x) }'
}

# settle waits, on a file system that needs it, until the inodes freed by the last mass
# deletion no longer slow the creation of new files: ext4 without a journal (as this
# project's build machine has) makes each new file skip, one by one, the inodes freed in
# the last 30 seconds, so a step timed right after 20,000 unlinks pays for them. A
# journaled file system (ext4's default) needs no wait. SETTLE=N sets the wait.
#
#   settle_for DIR   sets SETTLE for the file system of DIR and says why
#   settle           waits SETTLE seconds
settle_for() {
	local dev
	dev=$(basename "$(df --output=source "$1" | tail -1)")
	if [ -z "${SETTLE:-}" ]; then
		if [ "$(df --output=fstype "$1" | tail -1)" = ext4 ] && ! ls /proc/fs/jbd2 2>/dev/null | grep -q "^$dev-"; then
			SETTLE=35
		else
			SETTLE=0
		fi
	fi
	[ "$SETTLE" = 0 ] || echo "$dev is ext4 without a journal: each timed step that creates files starts $SETTLE s after the last deletion"
}
settle() { [ "${SETTLE:-0}" = 0 ] || sleep "$SETTLE"; }
