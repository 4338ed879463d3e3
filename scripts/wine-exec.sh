#!/usr/bin/env bash
# go test -exec wrapper: runs a Windows test binary under the project's Wine prefix.
#
#   GOOS=windows go test -exec "$PWD/scripts/wine-exec.sh" ./upgrade/svc/...
#
# (go runs the wrapper from each package's folder, so give it as an absolute path.)
# The prefix is set up on first use by wine-env.sh; later runs only check it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
eval "$("$here/wine-env.sh")"
# Tests that need Wine's quirks (no svc.IsWindowsService, stub Restart Manager) look here.
export OMFLOW_UNDER_WINE=1
# Headless, even on a desktop: no Wine window may pop up during tests.
unset DISPLAY WAYLAND_DISPLAY
exec "$WINE" "$@"
