#!/usr/bin/env bash
# Server-side validation of rendered manifests against a real, local, throw-away kube-apiserver:
# etcd + kube-apiserver on loopback (built from the Go module proxy by tools/deploycheck/kube), the
# Dapr and Gateway API CRDs installed, a namespace with Pod Security "restricted" enforced and
# warned, then `kubectl apply --dry-run=server` of every file. This exercises what offline schemas
# cannot: the API server's own defaulting and validation, CRD structural schemas and their CEL
# rules (x-kubernetes-validations), and Pod Security admission on every pod template.
#
# With --chart DIR (and --values FILE), also installs the chart for real with helm (no controllers
# run, so no pods start) and upgrades it: the generated Dapr tokens must survive the upgrade (lookup),
# an unchanged upgrade must not roll the Deployments, a config change must (checksum annotations).
#
# Usage: apiserver_check.sh BIN_DIR WORK_DIR --crds DIR [--crds DIR...] [--must-reject FILE]
#                           [--chart DIR [--values FILE]] -- FILE...
# Exits non-zero on any rejected object or any Pod Security warning in FILE..., and when any
# document of the --must-reject fixture is accepted without a warning (so the check cannot pass by
# checking nothing). Stops what it started (by PID).
set -euo pipefail

BIN="$1"
WORK="$2"
shift 2
CRD_DIRS=()
MUST_REJECT=""
CHART=""
CHART_VALUES=""
while [[ $# -gt 0 && "$1" != "--" ]]; do
  case "$1" in
    --crds) CRD_DIRS+=("$2"); shift 2 ;;
    --must-reject) MUST_REJECT="$2"; shift 2 ;;
    --chart) CHART="$2"; shift 2 ;;
    --values) CHART_VALUES="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
shift # --
FILES=("$@")
[[ ${#FILES[@]} -gt 0 ]] || { echo "no files to validate" >&2; exit 2; }

command -v openssl >/dev/null 2>&1 || { echo "openssl is required (apt-get install openssl)"; exit 1; }
rm -rf "$WORK"
mkdir -p "$WORK/etcd" "$WORK/certs"
PIDS=()
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  # The API server first (it talks to etcd while it shuts down), each given 10 s, then killed.
  local i pid
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid="${PIDS[$i]}"
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
ETCD_PORT="$(free_port)"
ETCD_PEER_PORT="$(free_port)"
API_PORT="$(free_port)"
TOKEN="check-deploy-$RANDOM$RANDOM"

"$BIN/etcd" --name check --data-dir "$WORK/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "check=http://127.0.0.1:$ETCD_PEER_PORT" \
  --log-level error >"$WORK/etcd.log" 2>&1 &
PIDS+=($!)

openssl genrsa -out "$WORK/certs/sa.key" 2048 2>/dev/null
echo "$TOKEN,check-deploy,check-deploy,system:masters" >"$WORK/tokens.csv"

# ServiceAccount admission is off: nothing runs the controllers that create default accounts, and a
# dry run never creates the chart's own account. Everything else is the API server's default set,
# Pod Security included.
"$BIN/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
  --cert-dir "$WORK/certs" \
  --token-auth-file "$WORK/tokens.csv" --authorization-mode RBAC \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$WORK/certs/sa.key" --service-account-signing-key-file "$WORK/certs/sa.key" \
  --service-cluster-ip-range 10.96.0.0/16 \
  --disable-admission-plugins ServiceAccount \
  --storage-media-type application/json \
  --v 0 >"$WORK/apiserver.log" 2>&1 &
PIDS+=($!)

cat >"$WORK/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: check
    cluster:
      server: https://127.0.0.1:$API_PORT
      insecure-skip-tls-verify: true
users:
  - name: check
    user:
      token: $TOKEN
contexts:
  - name: check
    context: {cluster: check, user: check}
current-context: check
EOF
export KUBECONFIG="$WORK/kubeconfig"
K=("$BIN/kubectl" --request-timeout=30s)

ready=0
for _ in $(seq 1 120); do
  if "${K[@]}" get --raw /readyz >/dev/null 2>&1; then ready=1; break; fi
  if ! kill -0 "${PIDS[1]}" 2>/dev/null; then break; fi
  sleep 1
done
if [[ "$ready" -ne 1 ]]; then
  echo "kube-apiserver did not become ready:"
  tail -n 30 "$WORK/apiserver.log"
  tail -n 10 "$WORK/etcd.log"
  exit 1
fi
echo "kube-apiserver $("${K[@]}" version -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["serverVersion"]["gitVersion"])') ready on 127.0.0.1:$API_PORT"

# CRDs (only the CustomResourceDefinition documents of each folder).
for dir in "${CRD_DIRS[@]}"; do
  for f in "$dir"/*.yaml; do
    if grep -q '^kind: CustomResourceDefinition' "$f"; then
      "${K[@]}" apply --server-side -f "$f" >/dev/null
    fi
  done
done
"${K[@]}" wait --for condition=Established --timeout=60s crd --all >/dev/null
echo "CRDs established: $("${K[@]}" get crd -o name | wc -l)"

# Namespaces the manifests use, with Pod Security "restricted" enforced and warned.
mapfile -t namespaces < <(python3 - "${FILES[@]}" ${MUST_REJECT:+"$MUST_REJECT"} <<'PYEOF'
import sys, re
names = set()
for path in sys.argv[1:]:
    for m in re.finditer(r"^  namespace: ([a-z0-9-]+)$", open(path).read(), re.M):
        names.add(m.group(1))
print("\n".join(sorted(names or {"default"})))
PYEOF
)
for ns in "${namespaces[@]}"; do
  "${K[@]}" create namespace "$ns" --dry-run=client -o yaml | "${K[@]}" apply -f - >/dev/null
  "${K[@]}" label namespace "$ns" --overwrite pod-security.kubernetes.io/enforce=restricted \
    pod-security.kubernetes.io/warn=restricted pod-security.kubernetes.io/enforce-version=latest \
    pod-security.kubernetes.io/warn-version=latest >/dev/null
done

rc=0
for f in "${FILES[@]}"; do
  out="$WORK/$(basename "$f").out"
  if "${K[@]}" apply --dry-run=server -f "$f" >"$out" 2>&1; then
    if grep -qi 'warning' "$out"; then
      echo "FAIL $f: warnings:"
      grep -i 'warning' "$out"
      rc=1
    else
      echo "ok   $f: $(grep -c 'server dry run' "$out") objects accepted"
    fi
  else
    echo "FAIL $f:"
    grep -v 'server dry run' "$out" | head -n 20
    rc=1
  fi
done

if [[ -n "$CHART" ]]; then
  H=("$BIN/helm" --kubeconfig "$KUBECONFIG" --namespace todo)
  V=()
  if [[ -n "$CHART_VALUES" ]]; then V=(-f "$CHART_VALUES"); fi
  generation() { "${K[@]}" -n todo get deployment todo-todo-app-create-task -o 'jsonpath={.metadata.generation}'; }
  token() { "${K[@]}" -n todo get secret todo-todo-app-dapr-api-token -o 'jsonpath={.data.token}'; }
  if "${H[@]}" install todo "$CHART" "${V[@]}" >"$WORK/helm-install.out" 2>&1; then
    tok1="$(token)"
    gen1="$(generation)"
    "${H[@]}" upgrade todo "$CHART" "${V[@]}" >"$WORK/helm-upgrade.out" 2>&1
    tok2="$(token)"
    gen2="$(generation)"
    "${H[@]}" upgrade todo "$CHART" "${V[@]}" --set config.rustLog=debug >"$WORK/helm-upgrade2.out" 2>&1
    gen3="$(generation)"
    "${H[@]}" uninstall todo >"$WORK/helm-uninstall.out" 2>&1
    kept="$("${K[@]}" -n todo get secret todo-todo-app-dapr-api-token -o name 2>/dev/null || true)"
    if [[ -z "$tok1" || "$tok1" != "$tok2" ]]; then
      echo "FAIL helm: the Dapr API token changed on upgrade"
      rc=1
    elif [[ "$gen1" != "$gen2" ]]; then
      echo "FAIL helm: an unchanged upgrade rolled the Deployments (generation $gen1 -> $gen2)"
      rc=1
    elif [[ "$gen3" == "$gen2" ]]; then
      echo "FAIL helm: a ConfigMap change did not roll the Deployments (checksum annotation)"
      rc=1
    elif [[ -z "$kept" ]]; then
      echo "FAIL helm: the Dapr token Secret was deleted on uninstall (resource-policy keep)"
      rc=1
    else
      echo "ok   helm install/upgrade/uninstall: tokens kept across upgrades and uninstall, no roll on an unchanged upgrade, roll on a config change"
    fi
  else
    echo "FAIL helm install:"
    tail -n 20 "$WORK/helm-install.out"
    rc=1
  fi
fi

if [[ -n "$MUST_REJECT" ]]; then
  mkdir -p "$WORK/reject"
  # One file per document, so each must fail on its own.
  awk -v dir="$WORK/reject" 'BEGIN { n = 0; f = sprintf("%s/%03d.yaml", dir, n) }
    /^---$/ { n++; f = sprintf("%s/%03d.yaml", dir, n); next } { print > f }' "$MUST_REJECT"
  for doc in "$WORK"/reject/*.yaml; do
    grep -q '^kind:' "$doc" || continue
    name="$(sed -n 's/^kind: //p' "$doc")/$(sed -n 's/^  name: //p' "$doc" | head -n 1)"
    if "${K[@]}" apply --dry-run=server -f "$doc" >"$doc.out" 2>&1 && ! grep -qi warning "$doc.out"; then
      echo "FAIL must-reject $name was accepted"
      rc=1
    else
      echo "ok   must-reject $name: $(grep -v 'server dry run' "$doc.out" | head -n 1 | cut -c1-160)"
    fi
  done
fi
exit "$rc"
