#!/usr/bin/env bash
# The benchmark harness: release builds, a real PostgreSQL, the loadgen in bench/loadgen on the
# same machine. Prints every measurement and saves them to .cache/bench/results.txt; the
# numbers in docs/benchmarks.md come from this script.
#   bench/run.sh                 everything (about 6 minutes)
#   BENCH_SECONDS=5 bench/run.sh shorter runs
set -euo pipefail
# shellcheck source=../dev/common.sh
source "$(dirname "$0")/../dev/common.sh"
cd "$REPO"

SECS="${BENCH_SECONDS:-8}"
OUT="$CACHE/bench"; mkdir -p "$OUT"
RESULTS="$OUT/results.txt"; : > "$RESULTS"
BIN=target/release
LG="$BIN/loadgen"
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

say() { echo "$*" | tee -a "$RESULTS"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }

cargo build --release --workspace --locked >&2
bash dev/services/postgres.sh start
PSQL=(psql -q -h 127.0.0.1 -p "${PG_PORT:-55432}" -U postgres -d postgres)
"${PSQL[@]}" -c "DROP DATABASE IF EXISTS bench" -c "CREATE DATABASE bench"
PGURL="postgres://postgres@127.0.0.1:${PG_PORT:-55432}/bench"

start() { # start NAME PORT ENV... : runs $BIN/NAME in the background, waits for /health, sets LAST_PID
  local name=$1 port=$2; shift 2
  env "$@" PORT="$port" HOST=127.0.0.1 "$BIN/$name" >"$CACHE/logs/bench-$name.log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
  wait_for "$name" 20 curl -sf "http://127.0.0.1:$port/health"
}

half_rate() { # half_rate LABEL SCENARIO URL : the scenario at half its closed-loop c=16 rate
  local rps
  rps=$(grep "^$1 $2 c=16 " "$RESULTS" | sed -E 's/.*rps=([0-9]+).*/\1/')
  say "$1 half-rate $("$LG" run --base "$3" --scenario "$2" --concurrency 16 --rate "$((rps / 2))" --seconds "$SECS")"
}

at_rate() { # at_rate LABEL SCENARIO URL RATE : the p99 at a fixed rate (the targets' half rates)
  say "$1 at-target-half $("$LG" run --base "$3" --scenario "$2" --concurrency 16 --rate "$4" --seconds "$SECS")"
}

suite() { # suite LABEL WRITE_URL READ_URL [postgres]
  local label=$1 w=$2 r=$3
  say "## $label"
  "$LG" seed --base "$w" --count 10000
  # A database that has just taken 10,000 inserts has not been vacuumed yet; autovacuum would do
  # it within a minute (PostgreSQL 13+ vacuums after inserts). Until then every index-only scan
  # visits the table too. Measure the steady state, not that first minute.
  if [ "${4:-}" = postgres ]; then psql -q -h 127.0.0.1 -p "${PG_PORT:-55432}" -U postgres -d bench -c "VACUUM ANALYZE"; fi
  for c in 1 16 64; do
    for s in get list search; do say "$label $("$LG" run --base "$r" --scenario "$s" --concurrency "$c" --seconds "$SECS")"; done
  done
  # The reads' p99 at half their rate, before the creates below grow the table past 10,000.
  if [ "${4:-}" = postgres ]; then
    half_rate "$label" list "$r"; half_rate "$label" search "$r"; at_rate "$label" list "$r" 2500
    # The same list with the page cache off (LIST_CACHE_BYTES=0): every request reads the page
    # and (unless its snapshot is unchanged) counts; what a list costs right after a write.
    for s in list search; do
      say "$label uncached $("$LG" run --base "$UNCACHED" --scenario "$s" --concurrency 16 --seconds "$SECS")"
    done
    rps=$(grep "^$label uncached search c=16 " "$RESULTS" | sed -E 's/.*rps=([0-9]+).*/\1/')
    say "$label uncached half-rate $("$LG" run --base "$UNCACHED" --scenario search --concurrency 16 --rate "$((rps / 2))" --seconds "$SECS")"
    # The list while another process creates 200 tasks a second: every commit moves the
    # snapshot, so a kept page rarely serves; the kept task renderings do (ADR 0005).
    "$LG" run --base "$w" --scenario create --concurrency 4 --rate 200 --seconds "$((SECS + 1))" >"$OUT/background.txt" &
    bg=$!
    say "$label list-while-creating $("$LG" run --base "$r" --scenario list --concurrency 16 --seconds "$SECS")"
    wait "$bg"
    say "$label list-while-creating background $(cat "$OUT/background.txt")"
  fi
  for c in 1 16 64; do say "$label $("$LG" run --base "$w" --scenario create --concurrency "$c" --seconds "$SECS")"; done
  if [ "${4:-}" = postgres ]; then half_rate "$label" create "$w"; at_rate "$label" create "$w" 1500; fi
}

say "# $(date -u +%FT%TZ) $(nproc) cores, $(uname -r)"
# The kernel's writeback settings: with the defaults, the dirty pages of a burst of writes that
# stays under the background threshold go to the disk together ~30 s later, and commits wait
# behind them (ADR 0005 §9). Reported, not changed.
wb() { echo "vm.$1=$(cat "/proc/sys/vm/$1" 2>/dev/null)"; }
say "# writeback: $(wb dirty_background_bytes) $(wb dirty_background_ratio) $(wb dirty_bytes) $(wb dirty_ratio) $(wb dirty_expire_centisecs) $(wb dirty_writeback_centisecs)"
say "## binary sizes (stripped, release)"
for b in create_task update_task complete_task delete_task list_tasks todo; do say "size $b $(stat -c %s "$BIN/$b") bytes"; done

say "## start-to-first-response (5 runs each)"
for i in 1 2 3 4 5; do
  say "startup list_tasks(postgres) $("$LG" startup --url http://127.0.0.1:18190/health -- env PORT=18190 HOST=127.0.0.1 DATABASE_URL="$PGURL" "$BIN/list_tasks")"
  d=$(mktemp -d)
  say "startup todo(sqlite) $("$LG" startup --url http://127.0.0.1:18191/health -- env PORT=18191 DATA_DIR="$d" UI_DIR=/nonexistent "$BIN/todo")"
  rm -rf "$d"
done

# One function process per role on PostgreSQL.
start create_task 18101 DATABASE_URL="$PGURL"; create_pid=$LAST_PID
start list_tasks 18105 DATABASE_URL="$PGURL"; list_pid=$LAST_PID
start list_tasks 18106 DATABASE_URL="$PGURL" LIST_CACHE_BYTES=0; uncached_pid=$LAST_PID
UNCACHED=http://127.0.0.1:18106
sleep 1
say "rss idle create_task $(rss_kb "$create_pid") kB, list_tasks $(rss_kb "$list_pid") kB"
suite "functions-postgres" http://127.0.0.1:18101 http://127.0.0.1:18105 postgres
say "rss peak create_task $(hwm_kb "$create_pid") kB, list_tasks $(hwm_kb "$list_pid") kB"
kill "$create_pid" "$list_pid" "$uncached_pid"

# The all-in-one on SQLite.
DATA=$(mktemp -d)
start todo 18100 DATA_DIR="$DATA" UI_DIR=/nonexistent; aio_pid=$LAST_PID
sleep 1
say "rss idle todo $(rss_kb "$aio_pid") kB"
suite "all-in-one-sqlite" http://127.0.0.1:18100 http://127.0.0.1:18100
say "rss peak todo $(hwm_kb "$aio_pid") kB"
# Create -> audit entry through the in-process pipeline, at a steady 200 creates/s.
say "all-in-one-sqlite paced $("$LG" run --base http://127.0.0.1:18100 --scenario create --concurrency 8 --rate 200 --seconds "$SECS")"
say "all-in-one-sqlite $("$LG" audit-latency --base http://127.0.0.1:18100 --events 1000)"
kill "$aio_pid"; rm -rf "$DATA"
say "# done"
