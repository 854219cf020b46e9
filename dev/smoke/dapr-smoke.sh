#!/usr/bin/env bash
# Smoke test of the Dapr path without the Rust functions: Kafka + Redis + one daprd (our build,
# our dapr/ resources) in front of a Python stand-in for on_task_event.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${TODO_CACHE_DIR:-$ROOT/.cache}"
HERE="$ROOT/dev/smoke"
LOG_DIR="${TODO_LOG_DIR:-$CACHE/logs}"
WORK="$CACHE/smoke"

APP_PORT="${SMOKE_APP_PORT:-18106}"
DAPR_HTTP_PORT="${SMOKE_DAPR_HTTP_PORT:-13506}"
DAPR_GRPC_PORT="${SMOKE_DAPR_GRPC_PORT:-15006}"
DAPR_INTERNAL_PORT="${SMOKE_DAPR_INTERNAL_PORT:-16006}"
DAPR_METRICS_PORT="${SMOKE_DAPR_METRICS_PORT:-19106}"
SMOKE_TIMEOUT="${SMOKE_TIMEOUT:-300}"
SMOKE_EVENTS="${SMOKE_EVENTS:-20}"

usage() {
  cat <<EOF
Usage: dev/smoke/dapr-smoke.sh [--outage] [--help]

Builds daprd (dev/daprd.sh build), starts Kafka (dev/kafka.sh) and Redis (dev/services/redis.sh)
unless they already run, starts the stand-in app (dev/smoke/standin_app.py) on :$APP_PORT with
its own daprd (app-id on-task-event, resources from dapr/), then checks:
  - publish of a structured CloudEvent through daprd -> delivered by the declarative subscription
    (id/type/source kept, topic/pubsubname added), $SMOKE_EVENTS more with delivery latency
  - DROP -> task-events-dlq; RETRY -> redelivered by the resiliency policy
  - state API against Redis: first-write create-only save, 409 on the second, TTL, keyPrefix name
  - both cron bindings reach their routes; dapr-api-token enforced both ways
  - every published record is in Kafka, keyed by its partitionKey
  --outage (only when this script started Kafka itself): stops Kafka, checks that a publish fails
    fast (the outbox relay's case) and daprd stays healthy, restarts Kafka, checks that publishing
    and the subscription resume
Stops everything it started (Kafka and Redis only if it started them). Exits non-zero on any
failure; the whole run is bounded by SMOKE_TIMEOUT=${SMOKE_TIMEOUT}s.
Logs: $LOG_DIR/smoke-*.log
EOF
}

OUTAGE=0
case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  --outage) OUTAGE=1 ;;
  "") ;;
  *) usage >&2; exit 2 ;;
esac

log() { echo "dapr-smoke: $*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

mkdir -p "$WORK" "$LOG_DIR"
STARTED_KAFKA=0
STARTED_REDIS=0
APP_PID=""
DAPRD_PID=""
WATCHDOG_PID=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$WATCHDOG_PID" ]]; then
    pkill -P "$WATCHDOG_PID" 2>/dev/null || true  # its sleep
    kill "$WATCHDOG_PID" 2>/dev/null || true
  fi
  if [[ -n "$DAPRD_PID" ]] && kill -0 "$DAPRD_PID" 2>/dev/null; then
    kill -TERM "$DAPRD_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$DAPRD_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$DAPRD_PID" 2>/dev/null || true
  fi
  if [[ -n "$APP_PID" ]]; then kill -TERM "$APP_PID" 2>/dev/null || true; fi
  if ((STARTED_KAFKA)); then "$ROOT/dev/kafka.sh" stop || true; fi
  if ((STARTED_REDIS)); then "$REDIS_SH" stop || true; fi
  if ((rc == 0)); then log "PASSED"; else log "FAILED (exit $rc); logs in $LOG_DIR/smoke-*.log"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Watchdog: the whole run is bounded even if some step hangs.
(sleep "$SMOKE_TIMEOUT"; log "timed out after ${SMOKE_TIMEOUT}s"; kill -TERM $$) 2>/dev/null &
WATCHDOG_PID=$!

for p in "$APP_PORT" "$DAPR_HTTP_PORT" "$DAPR_GRPC_PORT" "$DAPR_INTERNAL_PORT" "$DAPR_METRICS_PORT"; do
  if port_open "$p"; then log "port $p is already in use"; exit 1; fi
done

T_ALL=$(now)

# 1. daprd
t=$(now)
"$ROOT/dev/daprd.sh" build >&2
DAPRD="$CACHE/bin/daprd"
log "daprd ready to run ($(elapsed "$t")s)"

# 2. Redis (the lead's service script) and Kafka.
REDIS_SH="$ROOT/dev/services/redis.sh"
[[ -x "$REDIS_SH" ]] || { log "$REDIS_SH is missing"; exit 1; }
if ! "$REDIS_SH" status >/dev/null 2>&1; then
  t=$(now)
  "$REDIS_SH" start
  STARTED_REDIS=1
  log "Redis started ($(elapsed "$t")s)"
fi
REDIS_URL="$("$REDIS_SH" url)"
REDIS_HOSTPORT="${REDIS_URL#redis://}"
REDIS_HOSTPORT="${REDIS_HOSTPORT%%/*}"
REDIS_HOSTPORT="${REDIS_HOSTPORT##*@}"

KAFKA_BROKERS="${KAFKA_HOST:-127.0.0.1}:${KAFKA_PORT:-9092}"
if ! "$ROOT/dev/kafka.sh" status >/dev/null 2>&1; then
  t=$(now)
  "$ROOT/dev/kafka.sh" start
  STARTED_KAFKA=1
  log "Kafka started ($(elapsed "$t")s)"
else
  "$ROOT/dev/kafka.sh" topics
fi

# 3. The stand-in app and its sidecar.
APP_TOKEN="smoke-app-$RANDOM$RANDOM"
DAPR_TOKEN="smoke-dapr-$RANDOM$RANDOM"
RECORD="$WORK/received.jsonl"
: >"$RECORD"
APP_API_TOKEN="$APP_TOKEN" python3 "$HERE/standin_app.py" --port "$APP_PORT" --record "$RECORD" \
  >>"$LOG_DIR/smoke-app.log" 2>&1 &
APP_PID=$!
deadline=$((SECONDS + 20))
until port_open "$APP_PORT"; do
  ((SECONDS < deadline)) || { log "stand-in app did not listen on $APP_PORT"; exit 1; }
  kill -0 "$APP_PID" 2>/dev/null || { log "stand-in app exited"; exit 1; }
  sleep 0.1
done

t=$(now)
: >"$LOG_DIR/smoke-daprd.log"
KAFKA_BROKERS="$KAFKA_BROKERS" REDIS_HOST="$REDIS_HOSTPORT" REDIS_PASSWORD="" \
  APP_API_TOKEN="$APP_TOKEN" DAPR_API_TOKEN="$DAPR_TOKEN" \
  "$DAPRD" --app-id on-task-event --app-port "$APP_PORT" --app-channel-address 127.0.0.1 \
  --dapr-http-port "$DAPR_HTTP_PORT" --dapr-grpc-port "$DAPR_GRPC_PORT" \
  --dapr-internal-grpc-port "$DAPR_INTERNAL_PORT" --dapr-listen-addresses 127.0.0.1 \
  --metrics-port "$DAPR_METRICS_PORT" --resources-path "$ROOT/dapr" \
  --enable-app-health-check --app-health-check-path /health --app-health-probe-interval 2 \
  --log-level info >>"$LOG_DIR/smoke-daprd.log" 2>&1 &
DAPRD_PID=$!
deadline=$((SECONDS + 60))
until [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$DAPR_HTTP_PORT/v1.0/healthz" || true)" == 204 ]]; do
  if ! kill -0 "$DAPRD_PID" 2>/dev/null; then
    tail -n 30 "$LOG_DIR/smoke-daprd.log" >&2
    log "daprd exited"
    exit 1
  fi
  ((SECONDS < deadline)) || { tail -n 30 "$LOG_DIR/smoke-daprd.log" >&2; log "daprd not healthy after 60s"; exit 1; }
  sleep 0.1
done
log "daprd healthy ($(elapsed "$t")s after start)"
if grep -E 'level=(error|fatal)' "$LOG_DIR/smoke-daprd.log" | grep -v 'nr\.mdns\|name resolution\|nameResolution\|mdns'; then
  log "daprd logged errors (above)"
fi

# 4. The checks.
redis_port="${REDIS_HOSTPORT##*:}"
redis_host="${REDIS_HOSTPORT%:*}"
PUBLISHED="$WORK/published.tsv"
: >"$PUBLISHED"
python3 "$HERE/smoke_driver.py" --dapr-http "http://127.0.0.1:$DAPR_HTTP_PORT" --record "$RECORD" \
  --token "$DAPR_TOKEN" --events "$SMOKE_EVENTS" --redis-cli "redis-cli -h $redis_host -p $redis_port" \
  --published "$PUBLISHED"

# 5. The Kafka records themselves: each event keyed by the partitionKey it was published with.
t=$(now)
DUMP="$WORK/task-events.dump"
timeout 60 "$ROOT/dev/kafka.sh" tool org.apache.kafka.tools.consumer.ConsoleConsumer \
  --bootstrap-server "$KAFKA_BROKERS" --topic task-events --from-beginning --timeout-ms 5000 \
  --property print.key=true --property key.separator=$'\t' >"$DUMP" 2>>"$LOG_DIR/smoke-kafka-dump.log" || true
python3 "$HERE/smoke_driver.py" --check-keys-only --record "$RECORD" --dapr-http unused \
  --published "$PUBLISHED" --kafka-dump "$DUMP"
log "Kafka keys checked ($(elapsed "$t")s)"

if ((OUTAGE)); then
  if ((STARTED_KAFKA)); then
    t=$(now)
    "$ROOT/dev/kafka.sh" stop
    python3 "$HERE/smoke_driver.py" --phase outage --dapr-http "http://127.0.0.1:$DAPR_HTTP_PORT" \
      --record "$RECORD" --token "$DAPR_TOKEN"
    "$ROOT/dev/kafka.sh" start
    python3 "$HERE/smoke_driver.py" --phase recovered --dapr-http "http://127.0.0.1:$DAPR_HTTP_PORT" \
      --record "$RECORD" --token "$DAPR_TOKEN"
    log "Kafka outage phase ($(elapsed "$t")s)"
  else
    log "skipping --outage: Kafka was already running before this script (not ours to stop)"
  fi
fi

log "total $(elapsed "$T_ALL")s"
