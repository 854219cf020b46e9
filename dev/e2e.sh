#!/usr/bin/env bash
# End-to-end tests of the distributed mode on the real topology that dev/up.sh starts:
# PostgreSQL, Redis, Kafka (KRaft), every function with its own daprd (create_task twice), the
# nginx gateway. Builds what it needs (idempotent), brings the topology up on a fresh database and
# a fresh Kafka, runs dev/e2e/driver.py, and always tears down what it started.
#
#   dev/e2e.sh                  every test (the `distributed` stage of dev/test-all.sh)
#   dev/e2e.sh TEST...          some tests (names: TESTS in dev/e2e/driver.py, e.g. kafka_outage)
#   dev/e2e.sh bench            the load run of docs/benchmarks-distributed.md (release build)
#
# Environment: E2E_PROFILE (debug; bench: release), E2E_KAFKA_PORT (29092; its own broker and data,
# reset every run), E2E_DB (todo_e2e, dropped and created every run), CREATE_TASK_REPLICAS (2; bench: 1),
# E2E_TIMEOUT (900 s for the driver), E2E_SKIP="name ..." (tests to skip), E2E_KEEP=1 (leave the topology up afterwards, for debugging),
# E2E_WEBHOOK_PORT (29180: the driver's notification webhook, behind on-task-event's bindings.http),
# BENCH_RATE (200), BENCH_SECONDS (20), BENCH_CONCURRENCY (16).
# Ends with the line `e2e: N passed, M failed` (a failed set-up or tear-down counts as a failure).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CACHE="${TODO_CACHE_DIR:-$ROOT/.cache}"
OUT="$CACHE/e2e"
mkdir -p "$OUT"

MODE=test
TESTS=()
case "${1:-}" in
  -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  bench) MODE=bench; shift ;;
esac
TESTS=("$@")

if [[ "$MODE" == bench ]]; then
  export E2E_PROFILE="${E2E_PROFILE:-release}"
  export CREATE_TASK_REPLICAS="${CREATE_TASK_REPLICAS:-1}"
else
  export E2E_PROFILE="${E2E_PROFILE:-debug}"
  export CREATE_TASK_REPLICAS="${CREATE_TASK_REPLICAS:-2}"
fi
# A broker of its own (own port, data and PID file): its topics and consumer groups start empty.
export KAFKA_PORT="${E2E_KAFKA_PORT:-29092}"
export KAFKA_CONTROLLER_PORT="${E2E_KAFKA_CONTROLLER_PORT:-29093}"
export TODO_LOG_DIR="$CACHE/logs/e2e"
# Notifications go out through the real bindings.http component (dapr/optional) to a loopback
# webhook that dev/e2e/driver.py serves on this port.
export E2E_WEBHOOK_PORT="${E2E_WEBHOOK_PORT:-29180}"
export NOTIFY_WEBHOOK_URL="http://127.0.0.1:$E2E_WEBHOOK_PORT/notify"
E2E_DB="${E2E_DB:-todo_e2e}"
E2E_TIMEOUT="${E2E_TIMEOUT:-900}"
mkdir -p "$TODO_LOG_DIR"

passed=0
failed=0
skipped=0
started=0
T0=$SECONDS
say() { echo "e2e.sh: $*" >&2; }

finish() {
  trap - EXIT INT TERM HUP
  if ((started)); then
    if [[ "${E2E_KEEP:-0}" == 1 ]]; then
      say "E2E_KEEP=1: leaving the topology up (stop it with: KAFKA_PORT=$KAFKA_PORT dev/down.sh)"
    elif bash dev/up.sh down >>"$OUT/teardown.log" 2>&1; then
      say "torn down (log: $OUT/teardown.log)"
    else
      say "tear-down FAILED (log: $OUT/teardown.log)"
      failed=$((failed + 1))
    fi
  fi
  say "took $((SECONDS - T0))s; logs in $TODO_LOG_DIR and $OUT"
  if ((skipped)); then echo "e2e: $passed passed, $failed failed, $skipped skipped"; else echo "e2e: $passed passed, $failed failed"; fi
  ((failed == 0 && passed > 0)) || exit 1
  exit 0
}
trap finish EXIT
trap 'say "interrupted"; failed=$((failed + 1)); exit 130' INT TERM HUP

setup_failed() { # what
  say "set-up failed: $*"
  failed=$((failed + 1))
  exit 1
}

step() { # name cmd...: runs a set-up step, its output in $OUT/<name>.log
  local name="$1" t=$SECONDS
  shift
  if "$@" >"$OUT/$name.log" 2>&1; then
    say "$name: ok ($((SECONDS - t))s)"
  else
    tail -n 30 "$OUT/$name.log" >&2
    setup_failed "$name (log: $OUT/$name.log)"
  fi
}

# --- refuse to take over a topology someone else started ------------------------------------------
if [[ -s "$CACHE/run/up/started" ]] && bash dev/up.sh status 2>/dev/null | grep -q ': running'; then
  bash dev/up.sh status >&2
  setup_failed "a topology started by dev/up.sh is running (ports are fixed): stop it with dev/down.sh first"
fi

# This run's logs start empty; the previous run's are kept next to them.
rm -rf "$TODO_LOG_DIR.prev"
[[ -d "$TODO_LOG_DIR" ]] && mv "$TODO_LOG_DIR" "$TODO_LOG_DIR.prev"
mkdir -p "$TODO_LOG_DIR"

# --- build what is needed (each step skips what is up to date) -------------------------------------
cargo_flags=(--workspace --bins)
[[ "$E2E_PROFILE" == release ]] && cargo_flags+=(--release)
step cargo-build cargo build "${cargo_flags[@]}"
step daprd-build bash dev/daprd.sh build
step kafka-fetch bash dev/kafka.sh fetch
step nginx-install bash dev/nginx.sh install

# --- bring the topology up --------------------------------------------------------------------------
started=1
step kafka-reset bash dev/kafka.sh reset
step infra-up bash dev/up.sh --infra-only
pg_url="$(bash dev/services/postgres.sh url)"
admin_url="$(bash dev/services/postgres.sh admin-url)"
export DATABASE_URL="${pg_url%/*}/$E2E_DB"
step database psql -X -q -v ON_ERROR_STOP=1 "$admin_url" \
  -c "DROP DATABASE IF EXISTS $E2E_DB WITH (FORCE)" -c "CREATE DATABASE $E2E_DB"
step up bash dev/up.sh --profile "$E2E_PROFILE"
# shellcheck disable=SC1091
source "$CACHE/run/up/env"
say "topology up after $((SECONDS - T0))s (profile $E2E_PROFILE, create_task x$CREATE_TASK_REPLICAS, Kafka :$KAFKA_PORT, db $E2E_DB)"

# --- run -----------------------------------------------------------------------------------------------
rm -f "$OUT/result"
if [[ "$MODE" == bench ]]; then
  timeout "$E2E_TIMEOUT" python3 dev/e2e/bench.py --result "$OUT/result"
else
  timeout "$E2E_TIMEOUT" python3 dev/e2e/driver.py --result "$OUT/result" "${TESTS[@]}"
fi
drc=$?
if [[ -s "$OUT/result" ]]; then
  read -r p f k _ <"$OUT/result"
  passed=$((passed + p))
  failed=$((failed + f))
  [[ "$k" =~ ^[0-9]+$ ]] && skipped=$((skipped + k))
else
  say "the driver ended without a result (exit $drc; 124 = E2E_TIMEOUT ${E2E_TIMEOUT}s)"
  failed=$((failed + 1))
fi
if ((failed)); then
  say "failures: see the FAIL lines above; logs: $TODO_LOG_DIR (<function>.log, <function>.daprd.log, kafka-$KAFKA_PORT.log)"
fi
