#!/usr/bin/env bash
# Redis for development and tests: Debian's redis-server as a plain process on
# 127.0.0.1:$REDIS_PORT (default 56379), data and PID under .cache/redis.
#   dev/services/redis.sh start|stop|status|url
set -euo pipefail
# shellcheck source=../common.sh
source "$(dirname "$0")/../common.sh"

REDIS_PORT="${REDIS_PORT:-56379}"
DIR="$CACHE/redis"
PIDFILE="$DIR/redis.pid"

usage() { sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; }
ready() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

start() {
  command -v redis-server >/dev/null || apt_install redis-server
  if ready; then log "already running on $REDIS_PORT"; return 0; fi
  mkdir -p "$DIR"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$DIR" --daemonize yes --pidfile "$PIDFILE" \
    --logfile "$CACHE/logs/redis.log" --appendonly yes --save "" >/dev/null
  wait_for "redis" 15 ready
  log "running on 127.0.0.1:$REDIS_PORT"
}

stop() { if pid_alive "$PIDFILE"; then kill "$(cat "$PIDFILE")"; fi; }

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) ready && echo running || { echo stopped; exit 1; } ;;
  url) echo "redis://127.0.0.1:$REDIS_PORT" ;;
  -h|--help|help) usage ;;
  *) usage; exit 2 ;;
esac
