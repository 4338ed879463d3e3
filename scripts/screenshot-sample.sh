#!/usr/bin/env bash
# Renders the sample wizard (wizard/screenshot/sample_test.go) in every language to
# DIR/LANG/*.png, with Fyne's software painter: no display needed. Run as root, the
# pictures are made with the machine's font folders hidden (unshare --mount), so they
# show what a machine with no CJK font installed shows.
#   scripts/screenshot-sample.sh [DIR]      (default: docs/screenshots/sample)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
dir="$(realpath -m "${1:-$here/docs/screenshots/sample}")"
mkdir -p "$dir"
cd "$here"
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
	SCREENSHOT_DIR="$dir" go test -count=1 -run '^TestCJKRendersWithNoFontInstalled$' ./wizard/screenshot/
else
	echo "screenshot-sample: not root: the machine's own fonts may take part" >&2
	SCREENSHOT_DIR="$dir" go test -count=1 -run '^TestSampleScreenshots$' ./wizard/screenshot/
fi
find "$dir" -name '*.png' | sort
