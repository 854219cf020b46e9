#!/usr/bin/env bash
# Helpers that build or install the offline tool chain used by scripts/check-deploy.sh.
# Everything lands under "$CACHE_DIR" (default: <repo>/.cache/deploy-tools) and is reused on later runs.
# Sourced, not executed. Requires: go (module proxy), python3 (PyPI), apt-get (shellcheck) when missing.

# shellcheck disable=SC2034  # variables are consumed by the sourcing script

REPO_ROOT="${REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
CACHE_DIR="${CACHE_DIR:-$REPO_ROOT/.cache/deploy-tools}"
TOOLS_BIN="$CACHE_DIR/bin"
HELM_VERSION="${HELM_VERSION:-v4.3.1}"
KUBECONFORM_VERSION="${KUBECONFORM_VERSION:-v0.8.0}"
# The Kubernetes release whose OpenAPI document the rendered manifests are checked against.
KUBERNETES_VERSION="${KUBERNETES_VERSION:-v1.35.4}"
DAPR_VERSION="${DAPR_VERSION:-v1.18.0}"
# v1.7 needs Go 1.27 in its go.mod, which `go mod download` here (Go 1.26, GOTOOLCHAIN=local) refuses.
GATEWAY_API_VERSION="${GATEWAY_API_VERSION:-v1.6.3}"
COMPOSE_GO_VERSION="${COMPOSE_GO_VERSION:-v2.16.2}"
TERRAFORM_VERSION="${TERRAFORM_VERSION:-v1.13.3}"

mkdir -p "$TOOLS_BIN"

log() { printf '[check-deploy] %s\n' "$*" >&2; }

# go_module_dir MODULE VERSION -> prints the extracted module directory (downloads it once).
go_module_dir() {
  local module="$1" version="$2" dir
  dir="$(cd "$REPO_ROOT/tools/deploycheck" && go mod download -json "$module@$version" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
  [[ -d "$dir" ]] || { log "module $module@$version has no directory"; return 1; }
  printf '%s\n' "$dir"
}

ensure_helm() {
  local stamp="$TOOLS_BIN/.helm-$HELM_VERSION"
  if [[ -x "$TOOLS_BIN/helm" && -f "$stamp" ]]; then return 0; fi
  log "building helm $HELM_VERSION from the Go module proxy (tools/helm)"
  (cd "$REPO_ROOT/tools/helm" && go build -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION -X helm.sh/helm/v4/internal/version.gitTreeState=clean" \
    -o "$TOOLS_BIN/helm" helm.sh/helm/v4/cmd/helm)
  touch "$stamp"
}

ensure_kubeconform() {
  local stamp="$TOOLS_BIN/.kubeconform-$KUBECONFORM_VERSION"
  if [[ -x "$TOOLS_BIN/kubeconform" && -f "$stamp" ]]; then return 0; fi
  log "building kubeconform $KUBECONFORM_VERSION from the Go module proxy (tools/deploycheck)"
  (cd "$REPO_ROOT/tools/deploycheck" && go build -trimpath -ldflags "-s -w" \
    -o "$TOOLS_BIN/kubeconform" github.com/yannh/kubeconform/cmd/kubeconform)
  touch "$stamp"
}

ensure_shellcheck() {
  if command -v shellcheck >/dev/null 2>&1; then SHELLCHECK="$(command -v shellcheck)"; return 0; fi
  log "installing shellcheck (Debian package)"
  if [[ "$(id -u)" -eq 0 ]]; then
    apt-get install -y -qq shellcheck >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq shellcheck >/dev/null; }
  else
    sudo apt-get install -y -qq shellcheck >/dev/null 2>&1 || { sudo apt-get update -qq >/dev/null && sudo apt-get install -y -qq shellcheck >/dev/null; }
  fi
  SHELLCHECK="$(command -v shellcheck)"
}

# A Python venv with jsonschema, PyYAML and python-hcl2 (pinned in tools/deploycheck/requirements.txt).
ensure_venv() {
  local venv="$CACHE_DIR/venv" req="$REPO_ROOT/tools/deploycheck/requirements.txt" stamp
  stamp="$venv/.req-$(sha256sum "$req" | cut -c1-16)"
  if [[ -x "$venv/bin/python" && -f "$stamp" ]]; then PY="$venv/bin/python"; return 0; fi
  log "creating the Python venv for the checks"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
  touch "$stamp"
  PY="$venv/bin/python"
}

# Terraform: the one on PATH, else built from the Go module proxy.
ensure_terraform() {
  if command -v terraform >/dev/null 2>&1; then TERRAFORM="$(command -v terraform)"; return 0; fi
  if [[ ! -x "$TOOLS_BIN/terraform" ]]; then
    log "building terraform $TERRAFORM_VERSION from the Go module proxy (a few minutes, once)"
    GOBIN="$TOOLS_BIN" go install "github.com/hashicorp/terraform@$TERRAFORM_VERSION"
  fi
  TERRAFORM="$TOOLS_BIN/terraform"
}

# etcd, kube-apiserver and kubectl of $KUBERNETES_VERSION, built from tools/deploycheck/kube.
ensure_kube() {
  local stamp="$TOOLS_BIN/.kube-$KUBERNETES_VERSION"
  if [[ -x "$TOOLS_BIN/kube-apiserver" && -x "$TOOLS_BIN/etcd" && -x "$TOOLS_BIN/kubectl" && -f "$stamp" ]]; then
    return 0
  fi
  log "building etcd, kube-apiserver and kubectl $KUBERNETES_VERSION from the Go module proxy (tools/deploycheck/kube)"
  local v="${KUBERNETES_VERSION#v}" ldflags
  ldflags="-s -w"
  ldflags+=" -X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION"
  ldflags+=" -X k8s.io/component-base/version.gitMajor=${v%%.*}"
  ldflags+=" -X k8s.io/component-base/version.gitMinor=$(echo "$v" | cut -d. -f2)"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitMajor=${v%%.*}"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitMinor=$(echo "$v" | cut -d. -f2)"
  (
    cd "$REPO_ROOT/tools/deploycheck/kube" || exit 1
    go build -trimpath -ldflags "-s -w" -o "$TOOLS_BIN/etcd" go.etcd.io/etcd/server/v3
    go build -trimpath -ldflags "$ldflags" -o "$TOOLS_BIN/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
    go build -trimpath -ldflags "$ldflags" -o "$TOOLS_BIN/kubectl" k8s.io/kubernetes/cmd/kubectl
  )
  touch "$stamp"
}
