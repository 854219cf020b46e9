#!/usr/bin/env bash
# Local launcher of the distributed mode: PostgreSQL, Redis, Kafka, every function binary with
# its own daprd sidecar, and the nginx gateway, as plain processes on loopback.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${TODO_CACHE_DIR:-$ROOT/.cache}"
LOG_DIR="${TODO_LOG_DIR:-$CACHE/logs}"
STATE="$CACHE/run/up"          # manifest of what `up` started, PID files, env file
MANIFEST="$STATE/started"
ENV_FILE="$STATE/env"
DAPRD="$CACHE/bin/daprd"
START_TIMEOUT="${UP_START_TIMEOUT:-90}"

# function  app-id  app-port  daprd-http  daprd-grpc   (functions/README.md)
FUNCTIONS="
create_task   create-task   8101 3501 50001
update_task   update-task   8102 3502 50002
complete_task complete-task 8103 3503 50003
delete_task   delete-task   8104 3504 50004
list_tasks    list-tasks    8105 3505 50005
on_task_event on-task-event 8106 3506 50006
"

usage() {
  cat <<EOF
Usage: dev/up.sh [up|down|status|stop NAME|pid NAME] [options]   (dev/down.sh = dev/up.sh down)

up (default): start, in order and each only if not already running,
  PostgreSQL (dev/services/postgres.sh), Redis (dev/services/redis.sh), Kafka (dev/kafka.sh),
  daprd (built by dev/daprd.sh), each function binary found in target/{release,debug}
  with its own daprd, and the gateway (dev/nginx.sh) on http://127.0.0.1:\${GATEWAY_PORT:-8080}.
  Missing function binaries are skipped with a warning. Waits (bounded, ${START_TIMEOUT}s) until
  every started function answers GET /health and every daprd GET /v1.0/healthz.
down: stop exactly what 'up' started (by PID / by the service's own script), newest first.
status: list what 'up' started and whether each is alive.
stop NAME: stop one instance (e.g. create_task.daprd, on_task_event); 'up' starts it again.
pid NAME: print one instance's PID (for fault-injection tests: kill -9 \$(dev/up.sh pid NAME)).

Options (up):
  --infra-only      only PostgreSQL, Redis, Kafka (no functions, no gateway)
  --no-gateway      everything but the gateway
  --profile P       take binaries from target/P only (release|debug); default: the newer of both

Environment:
  <FUNCTION>_REPLICAS   e.g. CREATE_TASK_REPLICAS=2: extra instances on ports +10, +20, ...
                        (app 8111, daprd 3511/50011), all behind the gateway
  APP_API_TOKEN, DAPR_API_TOKEN   tokens (generated once and kept in $ENV_FILE otherwise)
  LOG_FORMAT (json), RUST_LOG (info), GATEWAY_PORT (8080), KAFKA_PORT (9092)
  NOTIFY_WEBHOOK_URL    if set, on-task-event's daprd also loads dapr/optional (notify-webhook) and
                        on-task-event delivers notifications through it (NOTIFY_BINDING)
  UP_START_TIMEOUT      seconds to wait for health ($START_TIMEOUT)

Logs: $LOG_DIR/<function>.log, <function>.daprd.log, kafka.log, gateway.*.log, ...
Tests can 'source $ENV_FILE' for DATABASE_URL, REDIS_HOST, KAFKA_BROKERS, the tokens and ports.
EOF
}

log() { echo "up.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- process bookkeeping: "<name> <pid> <start-time>" so a reused PID is never killed ---------
proc_start_time() { awk '{ print $22 }' "/proc/$1/stat" 2>/dev/null; }

record_pid() { # name pid
  local st
  st="$(proc_start_time "$2")"
  echo "$2 $st" >"$STATE/$1.pid"
  manifest_has "proc $1" || echo "proc $1" >>"$MANIFEST"
}

tracked_alive() { # name -> 0 if the recorded process is still the one we started
  local f="$STATE/$1.pid" pid st
  [[ -f "$f" ]] || return 1
  read -r pid st <"$f"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && [[ "$(proc_start_time "$pid")" == "$st" ]] &&
    [[ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" != Z ]] # a killed, not yet reaped process
}

stop_tracked() { # name
  local f="$STATE/$1.pid" pid st
  [[ -f "$f" ]] || return 0
  read -r pid st <"$f"
  if tracked_alive "$1"; then
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 15))
    while kill -0 "$pid" 2>/dev/null && [[ "$(proc_start_time "$pid")" == "$st" ]]; do
      if ((SECONDS >= deadline)); then
        log "$1 (pid $pid) ignored SIGTERM for 15s; SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.2
    done
    log "stopped $1 (pid $pid)"
  fi
  rm -f "$f"
}

manifest_has() { [[ -f "$MANIFEST" ]] && grep -qx "$1" "$MANIFEST"; }

# --- services -----------------------------------------------------------------------------------
start_service() { # name script
  local name="$1" script="$2"
  if [[ ! -x "$script" ]]; then
    log "warning: $script not found; $name not started"
    return 1
  fi
  if "$script" status >/dev/null 2>&1; then
    if manifest_has "service $name $script"; then
      log "$name already running (started by dev/up.sh)"
    else
      log "$name already running (not started by dev/up.sh; 'down' will leave it)"
    fi
    return 0
  fi
  local t0=$SECONDS
  "$script" start
  manifest_has "service $name $script" || echo "service $name $script" >>"$MANIFEST"
  log "$name started in $((SECONDS - t0))s"
}

url_hostport() { # redis://[user@]host:port[/db] -> host:port
  local u="${1#*://}"
  u="${u##*@}"
  echo "${u%%/*}"
}

# --- tokens and env ------------------------------------------------------------------------------
load_or_make_env() {
  local app_token="${APP_API_TOKEN:-}" dapr_token="${DAPR_API_TOKEN:-}"
  if [[ -f "$ENV_FILE" ]]; then
    local old_app old_dapr
    old_app="$(sed -n 's/^export APP_API_TOKEN=//p' "$ENV_FILE")"
    old_dapr="$(sed -n 's/^export DAPR_API_TOKEN=//p' "$ENV_FILE")"
    app_token="${app_token:-$old_app}"
    dapr_token="${dapr_token:-$old_dapr}"
  fi
  app_token="${app_token:-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')}"
  dapr_token="${dapr_token:-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')}"
  APP_API_TOKEN="$app_token"
  DAPR_API_TOKEN="$dapr_token"
}

write_env_file() {
  umask 077
  cat >"$ENV_FILE" <<EOF
# Written by dev/up.sh: the local distributed mode's endpoints and tokens.
export DATABASE_URL=$DATABASE_URL
export REDIS_HOST=$REDIS_HOST
export KAFKA_BROKERS=$KAFKA_BROKERS
export APP_API_TOKEN=$APP_API_TOKEN
export DAPR_API_TOKEN=$DAPR_API_TOKEN
export GATEWAY_URL=http://127.0.0.1:${GATEWAY_PORT:-8080}
export TODO_LOG_DIR=$LOG_DIR
EOF
  umask 022
}

# --- functions -----------------------------------------------------------------------------------
find_binary() { # name -> path of the binary to run, or nothing
  local name="$1" rel dbg target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
  rel="$target_dir/release/$name"
  dbg="$target_dir/debug/$name"
  case "${PROFILE:-}" in
    release) [[ -x "$rel" ]] && echo "$rel" ;;
    debug) [[ -x "$dbg" ]] && echo "$dbg" ;;
    *)
      if [[ -x "$rel" && -x "$dbg" ]]; then
        if [[ "$rel" -nt "$dbg" ]]; then echo "$rel"; else echo "$dbg"; fi
      elif [[ -x "$rel" ]]; then echo "$rel"
      elif [[ -x "$dbg" ]]; then echo "$dbg"
      fi
      ;;
  esac
}

replicas_of() { # create_task -> $CREATE_TASK_REPLICAS or 1
  local var
  var="$(echo "$1" | tr '[:lower:]' '[:upper:]')_REPLICAS"
  echo "${!var:-1}"
}

WAIT_HEALTH=()   # "kind name url"

start_function() { # fn app-id app-port dapr-http dapr-grpc instance-name
  local fn="$1" app_id="$2" port="$3" dhttp="$4" dgrpc="$5" inst="$6" bin="$7"
  local dinternal=$((dgrpc + 100)) dmetrics=$((dhttp + 6000))

  if tracked_alive "$inst"; then
    log "$inst already running"
  else
    port_open "$port" && die "port $port (for $inst) is in use by another process"
    # With a webhook configured, on-task-event delivers notifications through its binding.
    local notify_binding=""
    if [[ "$app_id" == on-task-event && -n "${NOTIFY_WEBHOOK_URL:-}" ]]; then
      notify_binding=notify-webhook
    fi
    PORT="$port" HOST=127.0.0.1 DATABASE_URL="$DATABASE_URL" \
      DAPR_HTTP_PORT="$dhttp" DAPR_GRPC_PORT="$dgrpc" \
      APP_API_TOKEN="$APP_API_TOKEN" DAPR_API_TOKEN="$DAPR_API_TOKEN" NOTIFY_BINDING="$notify_binding" \
      APP_ID="$app_id" LOG_FORMAT="${LOG_FORMAT:-json}" RUST_LOG="${RUST_LOG:-info}" \
      nohup "$bin" >>"$LOG_DIR/$inst.log" 2>&1 </dev/null &
    record_pid "$inst" $!
    log "started $inst ($bin) on 127.0.0.1:$port, pid $!"
  fi
  WAIT_HEALTH+=("app $inst http://127.0.0.1:$port/health")

  if tracked_alive "$inst.daprd"; then
    log "$inst.daprd already running"
  else
    port_open "$dhttp" && die "port $dhttp (daprd of $inst) is in use by another process"
    local extra=()
    if [[ "$app_id" == on-task-event && -n "${NOTIFY_WEBHOOK_URL:-}" ]]; then
      extra+=(--resources-path "$ROOT/dapr/optional")
    fi
    KAFKA_BROKERS="$KAFKA_BROKERS" REDIS_HOST="$REDIS_HOST" REDIS_PASSWORD="${REDIS_PASSWORD:-}" \
      APP_API_TOKEN="$APP_API_TOKEN" DAPR_API_TOKEN="$DAPR_API_TOKEN" \
      NOTIFY_WEBHOOK_URL="${NOTIFY_WEBHOOK_URL:-}" \
      nohup "$DAPRD" --app-id "$app_id" --app-port "$port" --app-channel-address 127.0.0.1 \
      --dapr-http-port "$dhttp" --dapr-grpc-port "$dgrpc" --dapr-internal-grpc-port "$dinternal" \
      --dapr-listen-addresses 127.0.0.1 --metrics-port "$dmetrics" \
      --resources-path "$ROOT/dapr" "${extra[@]}" \
      --enable-app-health-check --app-health-check-path /health --app-health-probe-interval 3 \
      --log-level "${DAPR_LOG_LEVEL:-info}" >>"$LOG_DIR/$inst.daprd.log" 2>&1 </dev/null &
    record_pid "$inst.daprd" $!
    log "started $inst.daprd (app-id $app_id) http :$dhttp grpc :$dgrpc metrics :$dmetrics, pid $!"
  fi
  WAIT_HEALTH+=("daprd $inst.daprd http://127.0.0.1:$dhttp/v1.0/healthz")
}

wait_health() {
  local deadline=$((SECONDS + START_TIMEOUT)) pending=("${WAIT_HEALTH[@]}") next entry kind name url code
  while ((${#pending[@]})); do
    next=()
    for entry in "${pending[@]}"; do
      read -r kind name url <<<"$entry"
      if ! tracked_alive "$name"; then
        tail -n 20 "$LOG_DIR/$name.log" >&2 || true
        die "$name exited during start-up (log: $LOG_DIR/$name.log)"
      fi
      code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" || true)"
      if [[ "$code" == 200 || "$code" == 204 ]]; then
        log "$name healthy"
      else
        next+=("$entry")
      fi
    done
    pending=("${next[@]+"${next[@]}"}")
    ((${#pending[@]})) || break
    if ((SECONDS >= deadline)); then
      die "not healthy after ${START_TIMEOUT}s: $(printf '%s ' "${pending[@]}" | awk '{ for (i = 2; i <= NF; i += 3) printf "%s ", $i }')"
    fi
    sleep 0.5
  done
}

# daprd's gRPC ports (50001-, internal 50101-) lie inside Linux's ephemeral range (32768-60999):
# an outgoing connection can hold one as its local port just when a daprd binds it ("bind: address
# already in use", seen here). Reserve them so the kernel never hands them out (root only; harmless
# elsewhere: a warning, and a bind may then still collide now and then).
reserve_ports() {
  local f=/proc/sys/net/ipv4/ip_local_reserved_ports want="50001-50099,50101-50199" cur
  cur="$(cat "$f" 2>/dev/null)" || return 0
  [[ ",$cur," == *",$want,"* || "$cur" == *"50001-50099"*"50101-50199"* ]] && return 0
  if echo "${cur:+$cur,}$want" >"$f" 2>/dev/null; then
    log "reserved ports $want (net.ipv4.ip_local_reserved_ports) for daprd's gRPC listeners"
  else
    log "warning: could not reserve ports $want in $f; a daprd may now and then fail to bind its gRPC port"
  fi
}

gateway_upstreams() { # writes an upstreams file with the extra replicas, prints its path
  local src="$ROOT/gateway/upstreams.local.conf" out="$STATE/upstreams.conf" line fn n r port
  cp "$src" "$out"
  while read -r fn _ port _ _; do
    [[ -n "$fn" ]] || continue
    n="$(replicas_of "$fn")"
    for ((r = 2; r <= n; r++)); do
      line="server 127.0.0.1:$((port + 10 * (r - 1)));"
      sed -i -E "s/^(upstream $fn +\{ server [^;]+;)/\1 $line/" "$out"
    done
  done <<<"$FUNCTIONS"
  echo "$out"
}

# --- commands ------------------------------------------------------------------------------------
cmd_up() {
  local infra_only=0 gateway=1
  while (($#)); do
    case "$1" in
      --infra-only) infra_only=1 ;;
      --no-gateway) gateway=0 ;;
      --profile) PROFILE="${2:?}"; shift ;;
      -h | --help) usage; exit 0 ;;
      *) die "unknown option $1" ;;
    esac
    shift
  done
  mkdir -p "$STATE" "$LOG_DIR"
  touch "$MANIFEST"
  local t0=$SECONDS

  start_service postgres "$ROOT/dev/services/postgres.sh" || true
  start_service redis "$ROOT/dev/services/redis.sh" || true
  start_service kafka "$ROOT/dev/kafka.sh"

  DATABASE_URL="${DATABASE_URL:-$("$ROOT/dev/services/postgres.sh" url 2>/dev/null || echo postgres://postgres@127.0.0.1:55432/todo)}"
  REDIS_HOST="${REDIS_HOST:-$(url_hostport "$("$ROOT/dev/services/redis.sh" url 2>/dev/null || echo redis://127.0.0.1:56379)")}"
  KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:${KAFKA_PORT:-9092}}"
  load_or_make_env
  write_env_file

  if ((infra_only)); then
    log "infrastructure up in $((SECONDS - t0))s; env in $ENV_FILE"
    return 0
  fi

  "$ROOT/dev/daprd.sh" build >&2
  reserve_ports
  local fn app_id port dhttp dgrpc bin n r started=0
  while read -r fn app_id port dhttp dgrpc; do
    [[ -n "$fn" ]] || continue
    bin="$(find_binary "$fn")"
    if [[ -z "$bin" ]]; then
      log "warning: no binary for $fn in target/{release,debug} (cargo build -p $fn); skipped"
      continue
    fi
    n="$(replicas_of "$fn")"
    for ((r = 1; r <= n; r++)); do
      local off=$((10 * (r - 1))) inst="$fn"
      ((r > 1)) && inst="$fn.$r"
      start_function "$fn" "$app_id" $((port + off)) $((dhttp + off)) $((dgrpc + off)) "$inst" "$bin"
      started=$((started + 1))
    done
  done <<<"$FUNCTIONS"
  ((started)) && wait_health

  if ((gateway)); then
    if manifest_has "service gateway $ROOT/dev/nginx.sh" || ! "$ROOT/dev/nginx.sh" status >/dev/null 2>&1; then
      GATEWAY_UPSTREAMS="$(gateway_upstreams)" "$ROOT/dev/nginx.sh" start
      manifest_has "service gateway $ROOT/dev/nginx.sh" || echo "service gateway $ROOT/dev/nginx.sh" >>"$MANIFEST"
    else
      log "gateway already running (not started by this launcher)"
    fi
  fi
  log "up in $((SECONDS - t0))s: $started function instance(s); gateway http://127.0.0.1:${GATEWAY_PORT:-8080}"
  log "logs: $LOG_DIR   env: source $ENV_FILE   stop: dev/down.sh"
}

cmd_down() {
  [[ -f "$MANIFEST" ]] || { log "nothing started by dev/up.sh"; return 0; }
  local lines=() line kind name script
  mapfile -t lines < <(tac "$MANIFEST")
  # Gateway first, then the functions and sidecars, then the services (newest first).
  for line in "${lines[@]}"; do
    read -r kind name script <<<"$line"
    [[ "$kind $name" == "service gateway" ]] && { "$script" stop || true; }
  done
  for line in "${lines[@]}"; do
    read -r kind name _ <<<"$line"
    [[ "$kind" == proc ]] && stop_tracked "$name"
  done
  for line in "${lines[@]}"; do
    read -r kind name script <<<"$line"
    if [[ "$kind" == service && "$name" != gateway ]]; then
      log "stopping $name"
      "$script" stop || log "warning: $script stop failed"
    fi
  done
  rm -f "$MANIFEST"
  log "down"
}

cmd_status() {
  [[ -f "$MANIFEST" ]] || { echo "nothing started by dev/up.sh"; return 0; }
  local kind name script
  while read -r kind name script; do
    if [[ "$kind" == proc ]]; then
      if tracked_alive "$name"; then echo "$name: running (pid $(cut -d' ' -f1 "$STATE/$name.pid"))"; else echo "$name: DEAD"; fi
    else
      echo "$name: $("$script" status 2>&1 | head -n1 || true)"
    fi
  done <"$MANIFEST"
}

case "${1:-up}" in
  up) shift || true; cmd_up "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  stop)
    [[ -n "${2:-}" ]] || die "usage: dev/up.sh stop <instance> (e.g. create_task, create_task.daprd)"
    stop_tracked "$2" ;;
  pid)
    [[ -n "${2:-}" ]] || die "usage: dev/up.sh pid <instance>"
    tracked_alive "$2" || die "$2 is not running"
    cut -d' ' -f1 "$STATE/$2.pid" ;;
  -h | --help | help) usage ;;
  --*) cmd_up "$@" ;;
  *) usage >&2; exit 2 ;;
esac
