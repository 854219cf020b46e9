#!/usr/bin/env bash
# PostgreSQL for development and tests: Debian's server, a private cluster under .cache/pg,
# listening on 127.0.0.1:$PG_PORT (default 55432), trust auth on loopback only.
#   dev/services/postgres.sh start|stop|status|url|admin-url|drop-test-dbs
set -euo pipefail
# shellcheck source=../common.sh
source "$(dirname "$0")/../common.sh"

PG_PORT="${PG_PORT:-55432}"
PGDATA_DIR="$CACHE/pg/data"
PGRUN="$CACHE/pg/run"
PGLOG="$CACHE/logs/postgres.log"

usage() { sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; }

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$d" ]; then
    apt_install postgresql postgresql-contrib
    d=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$d"
}

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

ready() { "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; }

start() {
  BIN=$(pg_bin)
  # pg_trgm lives in contrib; Debian ships it with the server from version 10 on.
  [ -f "$(dirname "$BIN")/lib/pg_trgm.so" ] || apt_install postgresql-contrib
  if ready; then log "already running on $PG_PORT"; return 0; fi
  mkdir -p "$PGDATA_DIR" "$PGRUN"
  [ "$(id -u)" = 0 ] && chown -R postgres: "$CACHE/pg" && touch "$PGLOG" && chown postgres: "$PGLOG"
  if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
    log "initialising a cluster in $PGDATA_DIR"
    as_pg "$BIN/initdb" -D "$PGDATA_DIR" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGLOG" -w -t 30 \
    -o "-h 127.0.0.1 -p $PG_PORT -k $PGRUN -c max_connections=200 -c fsync=on -c shared_buffers=128MB" start >/dev/null
  wait_for "postgres" 30 ready
  "$BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='todo'" | grep -q 1 \
    || "$BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres todo
  log "running on 127.0.0.1:$PG_PORT"
}

stop() {
  BIN=$(pg_bin)
  if [ -f "$PGDATA_DIR/postmaster.pid" ]; then as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null || true; fi
}

# The tests make a database per test (t_ and 32 hex digits, lib/tests/support) and leave it for
# a look after a failure; the suite drops earlier runs' before it starts. Only databases nobody
# is connected to and made over 10 minutes ago: clones share this server (same port), and another
# clone's suite may be running.
drop_test_dbs() {
  BIN=$(pg_bin)
  local psql=("$BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAq)
  local n=0 db
  for db in $("${psql[@]}" -c "SELECT datname FROM pg_database d WHERE datname ~ '^t_[0-9a-f]{32}\$'
      AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datid = d.oid)
      AND (pg_stat_file('base/' || d.oid || '/PG_VERSION')).modification < now() - interval '10 minutes'"); do
    "${psql[@]}" -c "DROP DATABASE IF EXISTS \"$db\"" && n=$((n + 1))
  done
  log "dropped $n test databases"
}

case "${1:-}" in
  start) start ;;
  drop-test-dbs) drop_test_dbs ;;
  stop) stop ;;
  status) BIN=$(pg_bin); ready && echo running || { echo stopped; exit 1; } ;;
  url) echo "postgres://postgres@127.0.0.1:$PG_PORT/todo" ;;
  admin-url) echo "postgres://postgres@127.0.0.1:$PG_PORT/postgres" ;;
  -h|--help|help) usage ;;
  *) usage; exit 2 ;;
esac
