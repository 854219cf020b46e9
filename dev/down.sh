#!/usr/bin/env bash
# Stop what dev/up.sh started (and only that), newest first. Same as `dev/up.sh down`.
set -euo pipefail
case "${1:-}" in
  -h | --help)
    echo "Usage: dev/down.sh    stop the gateway, the functions and their daprd sidecars, then Kafka,"
    echo "                      Redis and PostgreSQL, each only if dev/up.sh started it (by PID)."
    exit 0 ;;
  "") ;;
  *) echo "dev/down.sh: no arguments expected (see --help)" >&2; exit 2 ;;
esac
exec "$(dirname "${BASH_SOURCE[0]}")/up.sh" down
