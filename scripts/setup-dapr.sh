#!/usr/bin/env bash
# Install the Dapr control plane on Kubernetes with Helm (no Dapr CLI needed) and, optionally, apply
# the Todo service's Dapr resources (Components, Subscription, Resiliency, Configuration) from the chart.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

DAPR_VERSION="${DAPR_VERSION:-1.18.0}"
DAPR_NAMESPACE="${DAPR_NAMESPACE:-dapr-system}"
HA="${DAPR_HA:-true}"
APP_NAMESPACE="${APP_NAMESPACE:-todo}"
RELEASE="${RELEASE:-todo}"
CONTEXT=""
APPLY_RESOURCES=1
VALUES=()

usage() {
  cat <<EOF
Usage: scripts/setup-dapr.sh [options]

Installs Dapr $DAPR_VERSION (chart dapr/dapr from the Dapr Helm repository) into $DAPR_NAMESPACE with
JSON logs, mTLS and, by default, the HA control plane (3 replicas each; needs >= 3 nodes), then waits
for it. Idempotent: re-running upgrades in place.

Then it applies the Todo service's Dapr resources (Kafka pub/sub, Redis state store with
keyPrefix=name, cron bindings, the Subscription with its dead-letter topic, Resiliency,
Configuration) into the app namespace. They are rendered from the Helm chart helm/todo-app (pass the
same -f values files you deploy with) and annotated so the Helm release of scripts/deploy-doks.sh
adopts and from then on owns them. --no-resources skips this.

Options (environment variable in brackets):
      --dapr-version V     Dapr runtime/chart version [DAPR_VERSION] ($DAPR_VERSION)
      --namespace NS       control-plane namespace [DAPR_NAMESPACE] ($DAPR_NAMESPACE)
      --no-ha              single-replica control plane (small or dev clusters) [DAPR_HA=false]
      --no-resources       install the control plane only (the chart applies the resources at deploy)
      --app-namespace NS   app namespace for the resources [APP_NAMESPACE] ($APP_NAMESPACE)
      --release NAME       Helm release name the resources are adopted by [RELEASE] ($RELEASE)
  -f, --values FILE        values file for rendering the resources (repeatable)
      --context CTX        kubectl/helm context (default: the current one)
  -d, --dry-run            print every command and manifest, change nothing
  -h, --help               this help
EOF
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --dapr-version) DAPR_VERSION="${2:?}"; shift 2 ;;
    --namespace) DAPR_NAMESPACE="${2:?}"; shift 2 ;;
    --no-ha) HA=false; shift ;;
    --apply-resources) APPLY_RESOURCES=1; shift ;;
    --no-resources) APPLY_RESOURCES=0; shift ;;
    --app-namespace) APP_NAMESPACE="${2:?}"; shift 2 ;;
    --release) RELEASE="${2:?}"; shift 2 ;;
    -f | --values) VALUES+=(-f "${2:?}"); shift 2 ;;
    --context) CONTEXT="${2:?}"; shift 2 ;;
    -d | --dry-run) DRY_RUN=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

[[ "$DAPR_VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "--dapr-version must look like 1.18.0"
require_unless_dry kubectl helm
use_context "$CONTEXT"

log "Dapr $DAPR_VERSION control plane in $DAPR_NAMESPACE (HA: $HA)"
# The control plane (operator, sentry, placement, scheduler, injector) meets "baseline".
ensure_namespace "$DAPR_NAMESPACE" baseline
run "${HELM[@]}" repo add dapr https://dapr.github.io/helm-charts/ --force-update
run "${HELM[@]}" repo update dapr
run "${HELM[@]}" upgrade --install dapr dapr/dapr --version "$DAPR_VERSION" \
  --namespace "$DAPR_NAMESPACE" \
  --set global.ha.enabled="$HA" \
  --set global.logAsJson=true \
  --set global.mtls.enabled=true \
  --wait --timeout 10m

log "waiting for the control plane"
run "${KUBECTL[@]}" -n "$DAPR_NAMESPACE" rollout status deployment/dapr-operator --timeout=5m
run "${KUBECTL[@]}" -n "$DAPR_NAMESPACE" rollout status deployment/dapr-sentry --timeout=5m
run "${KUBECTL[@]}" -n "$DAPR_NAMESPACE" rollout status deployment/dapr-sidecar-injector --timeout=5m
run "${KUBECTL[@]}" -n "$DAPR_NAMESPACE" rollout status statefulset/dapr-placement-server --timeout=5m
run "${KUBECTL[@]}" -n "$DAPR_NAMESPACE" rollout status statefulset/dapr-scheduler-server --timeout=5m

if [[ "$APPLY_RESOURCES" -eq 1 ]]; then
  log "the Todo service's Dapr resources into $APP_NAMESPACE (adopted by Helm release $RELEASE later)"
  ensure_namespace "$APP_NAMESPACE" restricted
  # Render only the Dapr resources from the chart, with the ownership annotations Helm checks when
  # it adopts existing objects on `helm upgrade --install` (the labels already say managed-by Helm).
  if [[ "$DRY_RUN" -eq 1 ]] && ! command -v helm >/dev/null 2>&1; then
    run "${HELM[@]}" template "$RELEASE" "$REPO_ROOT/helm/todo-app" --namespace "$APP_NAMESPACE" \
      ${VALUES[@]+"${VALUES[@]}"} --show-only templates/dapr.yaml
    exit 0
  fi
  "${HELM[@]}" template "$RELEASE" "$REPO_ROOT/helm/todo-app" --namespace "$APP_NAMESPACE" \
    ${VALUES[@]+"${VALUES[@]}"} --show-only templates/dapr.yaml \
    --set-string "commonAnnotations.meta\\.helm\\.sh/release-name=$RELEASE" \
    --set-string "commonAnnotations.meta\\.helm\\.sh/release-namespace=$APP_NAMESPACE" | apply_stdin
fi

log "done. Sidecars are injected into pods annotated dapr.io/enabled=\"true\" (the chart does this)."
