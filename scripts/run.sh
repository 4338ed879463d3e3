#!/usr/bin/env bash
# The README's first command. On a machine with an OMFLOW installation and a display, it
# starts the wizard on it; otherwise it runs the whole upgrade on a demo installation.
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/demo.sh
