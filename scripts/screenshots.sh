#!/bin/sh
# Regenerates docs/screenshots: every screen of the wizard in every language, rendered
# with Fyne's software renderer on real demo upgrades (no display needed).
set -eu
cd "$(dirname "$0")/.."
out="$PWD/docs/screenshots"
mkdir -p "$out"
SCREENSHOT_DIR="$out" go test -count=1 -run '^(TestScreenshots|TestRealOMFLOWUpdateThroughTheWizard|TestRollbackAsksAboutDataEnteredSinceTheUpdate)$' ./app/
ls "$out"/*/*.png
