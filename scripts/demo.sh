#!/usr/bin/env bash
# The main job on its built-in default: a two-namespace lab, Debian's lldpad as the
# adjacent EVB bridge on one side and the vdpd station daemon on the other. It associates
# a few VSIs, shows the bridge's view, keeps them alive past a keep-alive, de-associates
# and tears everything down. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node dist/src/lab/demo.js "$@"
