#!/usr/bin/env bash
# Interleaved A/B of create_task builds on PostgreSQL (docs/benchmarks.md, eighth session): per
# round and binary, a fresh database of 10,000 tasks and VACUUM ANALYZE, then creates at c=16
# closed loop for 6 s and paced at 1,500/s for 8 s, with the CPU ticks the binary and PostgreSQL
# spent meanwhile, and the steal ticks of the whole machine.
#   bench/ab-create.sh ROUNDS BINARY...      e.g. bench/ab-create.sh 4 /tmp/create_task.old target/release/create_task
# NO_BUILD=1 uses target/release/loadgen as it is (say, while another build is in the work tree);
# one built before dabdbb6 paces with Tokio's millisecond timer and adds ~1 ms to each latency.
set -euo pipefail
# shellcheck source=../dev/common.sh
source "$(dirname "$0")/../dev/common.sh"
cd "$REPO"
[ $# -ge 2 ] || { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
rounds=$1; shift
[ "${NO_BUILD:-}" = 1 ] || cargo build --release --locked -p loadgen >&2
LG=target/release/loadgen
[ -x "$LG" ] || { echo "no $LG: build it, or run without NO_BUILD=1" >&2; exit 1; }
bash dev/services/postgres.sh start >&2
PSQL=(psql -q -h 127.0.0.1 -p "${PG_PORT:-55432}" -U postgres)
URL="postgres://postgres@127.0.0.1:${PG_PORT:-55432}/ab_create"
BASE=http://127.0.0.1:18301
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null || true' EXIT
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Ticks the hypervisor gave other guests while this one wanted to run (the host's noise).
steal() { awk '/^cpu /{print $9}' /proc/stat; }
pg_ticks() { local p; for p in $(pgrep -x postgres); do ticks "$p" 2>/dev/null || true; done | awk '{s += $1} END {print s + 0}'; }
for r in $(seq 1 "$rounds"); do
  for bin in "$@"; do
    "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS ab_create" -c "CREATE DATABASE ab_create" >/dev/null 2>&1
    env PORT=18301 HOST=127.0.0.1 DATABASE_URL="$URL" "$bin" >"$CACHE/logs/ab-create.log" 2>&1 &
    pid=$!
    wait_for create_task 20 curl -sf "$BASE/health"
    "$LG" seed --base "$BASE" --count 10000 >/dev/null
    "${PSQL[@]}" -d ab_create -c "VACUUM ANALYZE"
    s0=$(ticks "$pid"); p0=$(pg_ticks); st0=$(steal)
    closed=$("$LG" run --base "$BASE" --scenario create --concurrency 16 --seconds 6)
    paced=$("$LG" run --base "$BASE" --scenario create --concurrency 16 --rate 1500 --seconds 8)
    s1=$(ticks "$pid"); p1=$(pg_ticks); st1=$(steal)
    echo "round $r $bin | $closed | $paced | ticks service=$((s1 - s0)) postgres=$((p1 - p0)) steal=$((st1 - st0))"
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  done
done
