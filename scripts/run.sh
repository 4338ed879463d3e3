#!/usr/bin/env bash
# The README's first command. With a display, the wizard opens: on the OMFLOW installed
# at /opt/omflow when there is one, else on a demo installation it makes (-demo). Without
# a display, the headless command shows the installation's status, or runs the whole
# upgrade on a demo installation (scripts/demo.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
real=/opt/omflow/server/omflow/syscom/version.bin
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -d cmd/omflow-upgrade-wizard ]; then
	make --no-print-directory wizard
	if [ -f "$real" ]; then exec bin/omflow-upgrade-wizard "$@"; fi
	exec bin/omflow-upgrade-wizard -demo "$@"
fi
if [ -f "$real" ]; then
	echo "OMFLOW is installed at /opt/omflow; its status (no display, so no wizard):"
	exec bin/omflow-upgrade status -root /opt/omflow
fi
exec scripts/demo.sh
