#!/usr/bin/env bash
# The doctl alternative to the Terraform in this folder: a DOKS cluster with an autoscaling node pool
# on the newest Kubernetes version DigitalOcean offers, the container registry (integrated with the
# cluster) and, optionally, managed PostgreSQL and Valkey (Redis-compatible) clusters.
set -euo pipefail

NAME="${NAME:-todo}"
REGION="${REGION:-nyc1}"
NODE_SIZE="${NODE_SIZE:-s-2vcpu-4gb}"
MIN_NODES="${MIN_NODES:-2}"
MAX_NODES="${MAX_NODES:-5}"
VERSION_PREFIX="${K8S_VERSION_PREFIX:-}"
REGISTRY_TIER="${REGISTRY_TIER:-basic}"
REGISTRY_NAME="${REGISTRY_NAME:-}"
WITH_POSTGRES=0
WITH_VALKEY=0
DRY_RUN=0

usage() {
  cat <<EOF
Usage: infra/setup-doks.sh [options]

Creates (idempotently: existing resources are kept):
  * DOKS cluster $NAME-cluster in $REGION, newest Kubernetes version (or the newest matching
    --version-prefix), node pool of $NODE_SIZE autoscaling between $MIN_NODES and $MAX_NODES nodes
  * container registry (tier $REGISTRY_TIER), integrated with the cluster for image pulls
  * with --postgres: managed PostgreSQL $NAME-pg, database and user "todo", reachable from the cluster only
  * with --valkey:   managed Valkey $NAME-valkey (the Dapr state store), reachable from the cluster only
and saves the kubeconfig (current context: the new cluster).

Needs doctl, authenticated (doctl auth init, or DIGITALOCEAN_ACCESS_TOKEN).

Options (environment variable in brackets):
      --name NAME            resource name prefix [NAME] ($NAME)
      --region REGION        region [REGION] ($REGION)
      --node-size SLUG       node droplet size [NODE_SIZE] ($NODE_SIZE)
      --min-nodes N          autoscaler minimum [MIN_NODES] ($MIN_NODES)
      --max-nodes N          autoscaler maximum [MAX_NODES] ($MAX_NODES)
      --version-prefix P     Kubernetes version prefix, e.g. 1.34 [K8S_VERSION_PREFIX] (newest)
      --registry-name NAME   registry name, globally unique [REGISTRY_NAME] ($NAME-registry)
      --registry-tier TIER   starter, basic or professional [REGISTRY_TIER] ($REGISTRY_TIER)
      --postgres             also create managed PostgreSQL
      --valkey               also create managed Valkey
  -d, --dry-run              print the doctl commands, change nothing
  -h, --help                 this help

Then: scripts/setup-kafka.sh, scripts/setup-dapr.sh, scripts/deploy-doks.sh --cluster $NAME-cluster.
EOF
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --name) NAME="${2:?}"; shift 2 ;;
    --region) REGION="${2:?}"; shift 2 ;;
    --node-size) NODE_SIZE="${2:?}"; shift 2 ;;
    --min-nodes) MIN_NODES="${2:?}"; shift 2 ;;
    --max-nodes) MAX_NODES="${2:?}"; shift 2 ;;
    --version-prefix) VERSION_PREFIX="${2:?}"; shift 2 ;;
    --registry-name) REGISTRY_NAME="${2:?}"; shift 2 ;;
    --registry-tier) REGISTRY_TIER="${2:?}"; shift 2 ;;
    --postgres) WITH_POSTGRES=1; shift ;;
    --valkey) WITH_VALKEY=1; shift ;;
    -d | --dry-run) DRY_RUN=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

log() { printf '==> %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}
run() {
  printf '+' >&2
  printf ' %q' "$@" >&2
  printf '\n' >&2
  if [[ "$DRY_RUN" -eq 0 ]]; then "$@"; fi
}

[[ "$MIN_NODES" =~ ^[1-9][0-9]*$ && "$MAX_NODES" =~ ^[1-9][0-9]*$ ]] || die "node counts must be positive integers"
((MAX_NODES >= MIN_NODES)) || die "--max-nodes must be >= --min-nodes"
CLUSTER="$NAME-cluster"
REGISTRY_NAME="${REGISTRY_NAME:-$NAME-registry}"

if [[ "$DRY_RUN" -eq 0 ]]; then
  command -v doctl >/dev/null 2>&1 || die "doctl is required"
  doctl account get >/dev/null || die "doctl is not authenticated (doctl auth init)"
fi

# Newest matching version slug, e.g. 1.34.1-do.0 (doctl lists them newest first).
if [[ "$DRY_RUN" -eq 1 ]] && ! command -v doctl >/dev/null 2>&1; then
  VERSION="<newest${VERSION_PREFIX:+ $VERSION_PREFIX.x}>"
else
  VERSION="$(doctl kubernetes options versions --format Slug --no-header |
    awk -v p="$VERSION_PREFIX" 'p == "" || index($1, p ".") == 1 { print; exit }')"
  [[ -n "$VERSION" ]] || die "no DOKS version matches prefix '$VERSION_PREFIX'"
fi
log "Kubernetes version: $VERSION"

exists() { [[ "$DRY_RUN" -eq 0 ]] && "$@" >/dev/null 2>&1; }

log "container registry $REGISTRY_NAME ($REGISTRY_TIER)"
if exists doctl registry get; then
  log "a registry already exists on this account (one per account): keeping it"
else
  run doctl registry create "$REGISTRY_NAME" --subscription-tier "$REGISTRY_TIER" --region "$REGION"
fi

log "cluster $CLUSTER"
if exists doctl kubernetes cluster get "$CLUSTER"; then
  log "cluster exists: keeping it"
else
  run doctl kubernetes cluster create "$CLUSTER" \
    --region "$REGION" \
    --version "$VERSION" \
    --auto-upgrade=true \
    --surge-upgrade=true \
    --maintenance-window "sunday=04:00" \
    --tag "todo" \
    --node-pool "name=$NAME-pool;size=$NODE_SIZE;count=$MIN_NODES;auto-scale=true;min-nodes=$MIN_NODES;max-nodes=$MAX_NODES;tag=todo" \
    --wait
fi
run doctl kubernetes cluster kubeconfig save "$CLUSTER"
# Lets every namespace of the cluster pull from the registry (creates the pull secret for us).
run doctl kubernetes cluster registry add "$CLUSTER"
# Database firewall rules name the cluster by id.
if [[ "$DRY_RUN" -eq 1 ]]; then
  cluster_id="<id of $CLUSTER>"
else
  cluster_id="$(doctl kubernetes cluster get "$CLUSTER" --format ID --no-header)"
fi

if [[ "$WITH_POSTGRES" -eq 1 ]]; then
  log "managed PostgreSQL $NAME-pg"
  if exists doctl databases get "$NAME-pg"; then
    log "exists: keeping it"
  else
    run doctl databases create "$NAME-pg" --engine pg --version 17 --size db-s-1vcpu-2gb \
      --num-nodes 1 --region "$REGION" --wait
  fi
  if [[ "$DRY_RUN" -eq 1 ]]; then
    db_id="<id of $NAME-pg>"
  else
    db_id="$(doctl databases list --format Name,ID --no-header | awk -v n="$NAME-pg" '$1 == n { print $2 }')"
  fi
  exists doctl databases db get "$db_id" todo || run doctl databases db create "$db_id" todo
  exists doctl databases user get "$db_id" todo || run doctl databases user create "$db_id" todo
  run doctl databases firewalls append "$db_id" --rule "k8s:$cluster_id"
  log "DATABASE_URL: doctl databases connection $db_id --private (user todo: doctl databases user get $db_id todo)"
fi

if [[ "$WITH_VALKEY" -eq 1 ]]; then
  log "managed Valkey $NAME-valkey"
  if exists doctl databases get "$NAME-valkey"; then
    log "exists: keeping it"
  else
    run doctl databases create "$NAME-valkey" --engine valkey --version 8 --size db-s-1vcpu-1gb \
      --num-nodes 1 --region "$REGION" --wait
  fi
  if [[ "$DRY_RUN" -eq 1 ]]; then
    kv_id="<id of $NAME-valkey>"
  else
    kv_id="$(doctl databases list --format Name,ID --no-header | awk -v n="$NAME-valkey" '$1 == n { print $2 }')"
  fi
  run doctl databases firewalls append "$kv_id" --rule "k8s:$cluster_id"
  log "redis.host / password: doctl databases connection $kv_id --private (set redis.tls=true)"
fi

log "done. Registry prefix: registry.digitalocean.com/$REGISTRY_NAME"
