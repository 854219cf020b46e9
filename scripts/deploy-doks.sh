#!/usr/bin/env bash
# Build and push the images, install or upgrade the Helm release on DigitalOcean Kubernetes, wait for
# the rollout and smoke-test the API through the Gateway API route.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

REGISTRY="${REGISTRY:-}"
TAG="${TAG:-}"
NAMESPACE="${NAMESPACE:-todo}"
RELEASE="${RELEASE:-todo}"
CLUSTER="${CLUSTER:-}"
CONTEXT=""
HOSTNAME_="${APP_HOSTNAME:-}"
TIMEOUT="${TIMEOUT:-10m}"
EXISTING_SECRET="${EXISTING_SECRET:-}"
BUILD=1
SMOKE=1
HELM_TEST=1
VALUES=()
SETS=()

usage() {
  cat <<EOF
Usage: scripts/deploy-doks.sh [options]

  1. builds and pushes every image (docker/build-images.sh --push) to the registry
  2. creates the namespace (Pod Security "restricted" enforced) and the registry pull secret
  3. helm upgrade --install helm/todo-app (waits for the resources to be ready)
  4. waits for every Deployment's rollout
  5. smoke-tests through the Gateway: list, create, read, complete, delete a task; then helm test

Prerequisites: a cluster (infra/), Kafka (scripts/setup-kafka.sh), Dapr (scripts/setup-dapr.sh),
PostgreSQL and Redis reachable from the cluster; docker with buildx, kubectl, helm, doctl, curl.

Options (environment variable in brackets):
  -r, --registry REG      image registry prefix, e.g. registry.digitalocean.com/todo-registry [REGISTRY] (required)
  -t, --tag TAG           image tag [TAG] (default: git describe --always --dirty)
      --cluster NAME      DOKS cluster: runs 'doctl kubernetes cluster kubeconfig save NAME' first [CLUSTER]
      --context CTX       kubectl/helm context (default: the current one)
  -n, --namespace NS      namespace [NAMESPACE] ($NAMESPACE)
      --release NAME      Helm release [RELEASE] ($RELEASE)
  -f, --values FILE       extra values file (repeatable), e.g. helm/todo-app/ci/doks-managed-values.yaml
      --set KEY=VALUE     extra Helm --set (repeatable)
      --host NAME         hostname the routes answer [APP_HOSTNAME] (default: the chart's, todo.local)
      --existing-secret S use Secret S (keys database-url, redis-password, kafka-password) [EXISTING_SECRET]
                          otherwise DATABASE_URL (required), REDIS_PASSWORD and KAFKA_PASSWORD are read
                          from the environment and stored in the chart's Secret
      --skip-build        deploy images already pushed with this tag
      --skip-smoke        no smoke test through the route
      --skip-helm-test    no 'helm test'
      --timeout DUR       rollout/helm timeout [TIMEOUT] ($TIMEOUT)
  -d, --dry-run           print every command, change nothing (secrets are masked)
  -h, --help              this help

Example:
  export DATABASE_URL='postgres://doadmin:...@db-pg-nyc1-...:25060/todo?sslmode=require'
  scripts/deploy-doks.sh -r registry.digitalocean.com/todo-registry --cluster todo-cluster
EOF
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    -r | --registry) REGISTRY="${2:?}"; shift 2 ;;
    -t | --tag) TAG="${2:?}"; shift 2 ;;
    --cluster) CLUSTER="${2:?}"; shift 2 ;;
    --context) CONTEXT="${2:?}"; shift 2 ;;
    -n | --namespace) NAMESPACE="${2:?}"; shift 2 ;;
    --release) RELEASE="${2:?}"; shift 2 ;;
    -f | --values) VALUES+=(-f "${2:?}"); shift 2 ;;
    --set) SETS+=(--set "${2:?}"); shift 2 ;;
    --host) HOSTNAME_="${2:?}"; shift 2 ;;
    --existing-secret) EXISTING_SECRET="${2:?}"; shift 2 ;;
    --skip-build) BUILD=0; shift ;;
    --skip-smoke) SMOKE=0; shift ;;
    --skip-helm-test) HELM_TEST=0; shift ;;
    --timeout) TIMEOUT="${2:?}"; shift 2 ;;
    -d | --dry-run) DRY_RUN=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

[[ -n "$REGISTRY" ]] || die "--registry (or REGISTRY) is required, e.g. registry.digitalocean.com/todo-registry"
TAG="${TAG:-$(git -C "$REPO_ROOT" describe --always --dirty 2>/dev/null || echo dev)}"
if [[ -z "$EXISTING_SECRET" && -z "${DATABASE_URL:-}" ]]; then
  if [[ "$DRY_RUN" -eq 1 ]]; then
    warn "DATABASE_URL is not set (required for a real run)"
  else
    die "set DATABASE_URL (postgres://...) or pass --existing-secret"
  fi
fi

require_unless_dry kubectl helm curl
if [[ "$BUILD" -eq 1 ]]; then require_unless_dry docker; fi
if [[ -n "$CLUSTER" || "$REGISTRY" == registry.digitalocean.com/* ]]; then require_unless_dry doctl; fi

# 0. Cluster credentials.
if [[ -n "$CLUSTER" ]]; then
  log "kubeconfig for DOKS cluster $CLUSTER"
  run doctl kubernetes cluster kubeconfig save "$CLUSTER"
  CONTEXT="${CONTEXT:-do-$(doctl kubernetes cluster get "$CLUSTER" --format Region --no-header 2>/dev/null || echo region)-$CLUSTER}"
fi
use_context "$CONTEXT"

# 1. Images.
if [[ "$BUILD" -eq 1 ]]; then
  if [[ "$REGISTRY" == registry.digitalocean.com/* ]]; then
    log "logging in to DigitalOcean Container Registry"
    run doctl registry login --expiry-seconds 3600
  fi
  log "building and pushing images $REGISTRY/todo-*:$TAG"
  build_args=(--registry "$REGISTRY" --tag "$TAG" --push)
  if [[ "$DRY_RUN" -eq 1 ]]; then build_args+=(--dry-run); fi
  "$REPO_ROOT/docker/build-images.sh" "${build_args[@]}"
fi

# 2. Namespace and pull secret.
log "namespace $NAMESPACE (Pod Security: restricted)"
ensure_namespace "$NAMESPACE" restricted
PULL_SECRET_ARGS=()
if [[ "$REGISTRY" == registry.digitalocean.com/* ]]; then
  registry_name="${REGISTRY#registry.digitalocean.com/}"
  registry_name="${registry_name%%/*}"
  pull_secret="registry-$registry_name"
  log "image pull secret $pull_secret"
  if [[ "$DRY_RUN" -eq 1 ]]; then
    run doctl registry kubernetes-manifest --namespace "$NAMESPACE" --name "$pull_secret"
  else
    doctl registry kubernetes-manifest --namespace "$NAMESPACE" --name "$pull_secret" | apply_stdin
  fi
  PULL_SECRET_ARGS=(--set "imagePullSecrets[0].name=$pull_secret")
fi

# 3. Helm release.
log "helm upgrade --install $RELEASE (tag $TAG)"
HELM_ARGS=(upgrade --install "$RELEASE" "$REPO_ROOT/helm/todo-app"
  --namespace "$NAMESPACE"
  --set "image.registry=$REGISTRY" --set-string "image.tag=$TAG"
  --wait --timeout "$TIMEOUT")
if [[ "$(helm_major)" -ge 4 ]]; then
  HELM_ARGS+=(--rollback-on-failure)
else
  HELM_ARGS+=(--atomic)
fi
HELM_ARGS+=(${VALUES[@]+"${VALUES[@]}"} ${SETS[@]+"${SETS[@]}"} ${PULL_SECRET_ARGS[@]+"${PULL_SECRET_ARGS[@]}"})
if [[ -n "$HOSTNAME_" ]]; then HELM_ARGS+=(--set "hostnames[0]=$HOSTNAME_"); fi
if [[ -n "$EXISTING_SECRET" ]]; then
  HELM_ARGS+=(--set secrets.create=false --set "secrets.existingSecret=$EXISTING_SECRET")
else
  HELM_ARGS+=(--set-string "secrets.databaseUrl=${DATABASE_URL:-}")
  if [[ -n "${REDIS_PASSWORD:-}" ]]; then HELM_ARGS+=(--set-string "secrets.redisPassword=$REDIS_PASSWORD"); fi
  if [[ -n "${KAFKA_PASSWORD:-}" ]]; then HELM_ARGS+=(--set-string "secrets.kafkaPassword=$KAFKA_PASSWORD"); fi
fi
run_redacted "${HELM[@]}" "${HELM_ARGS[@]}"

# 4. Rollout.
log "waiting for every Deployment of the release"
if [[ "$DRY_RUN" -eq 1 ]]; then
  run "${KUBECTL[@]}" -n "$NAMESPACE" rollout status deployment -l "app.kubernetes.io/instance=$RELEASE" --timeout="$TIMEOUT"
else
  mapfile -t deployments < <("${KUBECTL[@]}" -n "$NAMESPACE" get deployment \
    -l "app.kubernetes.io/instance=$RELEASE" -o name)
  [[ ${#deployments[@]} -gt 0 ]] || die "no Deployments found for release $RELEASE"
  for d in "${deployments[@]}"; do
    run "${KUBECTL[@]}" -n "$NAMESPACE" rollout status "$d" --timeout="$TIMEOUT"
  done
fi

# 5. Smoke test through the Gateway (the same path a user's request takes).
if [[ "$SMOKE" -eq 1 ]]; then
  # The Gateway the release's routes attach to (created by the chart or shared), from an HTTPRoute.
  # ... and the hostname it answers (the first of the route's hostnames unless --host is given).
  parent="$("${KUBECTL[@]}" -n "$NAMESPACE" get httproute -l "app.kubernetes.io/instance=$RELEASE" \
    -o 'jsonpath={.items[0].spec.parentRefs[0].name} {.items[0].spec.parentRefs[0].namespace} {.items[0].spec.hostnames[0]}' 2>/dev/null || true)"
  read -r gw_name gw_ns route_host <<<"$parent" || true
  gw_name="${gw_name:-$RELEASE-todo-app}"
  gw_ns="${gw_ns:-$NAMESPACE}"
  host="${HOSTNAME_:-${route_host:-todo.local}}"
  log "smoke test through Gateway $gw_ns/$gw_name (Host: $host)"
  if [[ "$DRY_RUN" -eq 1 ]]; then
    run "${KUBECTL[@]}" -n "$gw_ns" get gateway "$gw_name" -o 'jsonpath={.status.addresses[0].value}'
    run curl -fsS -H "Host: $host" "http://<gateway-address>/api/tasks"
  else
    addr=""
    for _ in $(seq 1 60); do # the load balancer can take a few minutes to get an address
      addr="$("${KUBECTL[@]}" -n "$gw_ns" get gateway "$gw_name" -o 'jsonpath={.status.addresses[0].value}' 2>/dev/null || true)"
      [[ -n "$addr" ]] && break
      sleep 10
    done
    [[ -n "$addr" ]] || die "Gateway $gw_ns/$gw_name has no address after 10 minutes"
    base="http://$addr"
    call() { # call METHOD PATH [JSON] -> sets CODE and BODY
      local args=(-sS --max-time 20 -o /tmp/deploy-doks-body.$$ -w '%{http_code}' -H "Host: $host" -X "$1")
      if [[ $# -ge 3 ]]; then args+=(-H 'Content-Type: application/json' -d "$3"); fi
      CODE="$(curl "${args[@]}" "$base$2" || echo 000)"
      BODY="$(cat /tmp/deploy-doks-body.$$ 2>/dev/null || true)"
    }
    expect() { [[ "$CODE" == "$1" ]] || die "$2: HTTP $CODE (expected $1): $BODY"; log "ok: $2"; }
    for _ in $(seq 1 30); do # the route can need a moment after the address appears
      call GET /api/tasks
      [[ "$CODE" == 200 ]] && break
      sleep 5
    done
    expect 200 "GET /api/tasks"
    call POST /api/tasks '{"title":"deploy-doks smoke test"}'
    expect 201 "POST /api/tasks"
    id="$(printf '%s' "$BODY" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
    call GET "/api/tasks/$id"
    expect 200 "GET /api/tasks/{id}"
    call POST "/api/tasks/$id/complete"
    expect 200 "POST /api/tasks/{id}/complete"
    call DELETE "/api/tasks/$id"
    expect 204 "DELETE /api/tasks/{id}"
    call GET /
    expect 200 "GET / (UI)"
    rm -f /tmp/deploy-doks-body.$$
  fi
fi

if [[ "$HELM_TEST" -eq 1 ]]; then
  log "helm test (in-cluster, through the route)"
  run "${HELM[@]}" test "$RELEASE" -n "$NAMESPACE" --timeout 5m
fi

log "deployed $RELEASE ($TAG) to namespace $NAMESPACE"
