#!/usr/bin/env bash
# Builds the web UI into ui/out when it is missing or older than its sources.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
cd "$REPO/ui"
stamp=out/index.html
if [ -f "$stamp" ] && [ -z "$(find src public package.json package-lock.json next.config.* -newer "$stamp" -print -quit 2>/dev/null)" ]; then
  log "ui/out is up to date"
  exit 0
fi
command -v npm >/dev/null || die "npm is needed to build the UI (Node.js 20+)"
[ -d node_modules ] && [ node_modules -nt package-lock.json ] || npm ci --no-audit --no-fund
npm run build
