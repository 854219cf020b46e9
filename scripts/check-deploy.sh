#!/usr/bin/env bash
# Offline validation of everything under docker/, helm/, infra/ and scripts/ (no cluster, no Docker
# engine, no internet beyond the package registries). Installs or builds what it needs once, under
# .cache/deploy-tools, so warm runs take well under a minute.
#
#   helm lint; helm template with the default values and every helm/todo-app/ci/*.yaml;
#   values.schema.json up to date and rejecting bad values;
#   kubeconform (strict) against Kubernetes, Dapr and Gateway API schemas generated offline;
#   Pod Security "restricted" + project policy on every pod template;
#   compose file against the Compose Specification schema + project rules;
#   nginx -t on the UI and gateway configurations (when nginx is installed);
#   terraform fmt -check, terraform validate (or, without the provider, an HCL parse + structure check);
#   every script linted (shellcheck), and run with --help and --dry-run.
# Exit status: 0 when every check passed, 1 otherwise.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT

usage() {
  cat <<EOF
Usage: scripts/check-deploy.sh [options]

Options:
  -k, --keep      keep the rendered manifests (printed path) for inspection
  -o, --only RE   run only the checks whose name matches the regular expression RE
  -h, --help      this help

Environment: CHECK_DEPLOY_APISERVER=0 skips the local kube-apiserver dry run (its first build takes
minutes); CACHE_DIR (default .cache/deploy-tools), HELM_VERSION, KUBECONFORM_VERSION,
KUBERNETES_VERSION, DAPR_VERSION, GATEWAY_API_VERSION, COMPOSE_GO_VERSION (see scripts/lib/tools.sh).
EOF
}

KEEP=0
ONLY=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    -k | --keep) KEEP=1; shift ;;
    -o | --only) ONLY="${2:?}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done

# shellcheck source=scripts/lib/tools.sh
source "$REPO_ROOT/scripts/lib/tools.sh"

CHART="$REPO_ROOT/helm/todo-app"
OUT="$CACHE_DIR/rendered"
rm -rf "$OUT"
mkdir -p "$OUT"
LOGS="$OUT/logs"
mkdir -p "$LOGS"
PASSED=0
FAILED=0
FAILED_NAMES=()
RUN_STARTED=$SECONDS

# check NAME COMMAND...: runs one check in a subshell with errexit on (so a failing step inside a
# check fails it), its output to a log file that is shown when it fails.
check() {
  local name="$1"
  shift
  if [[ -n "$ONLY" && ! "$name" =~ $ONLY ]]; then return 0; fi
  local started=$SECONDS log="$LOGS/${name//[^A-Za-z0-9_.-]/_}.log" rc
  set +e
  (
    set -euo pipefail
    "$@"
  ) >"$log" 2>&1
  rc=$?
  set -e
  if [[ "$rc" -eq 0 ]]; then
    PASSED=$((PASSED + 1))
    printf 'PASS  %-52s %4ss\n' "$name" "$((SECONDS - started))"
  else
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("$name")
    printf 'FAIL  %-52s %4ss\n' "$name" "$((SECONDS - started))"
    sed 's/^/      | /' "$log" | tail -n 60
  fi
  return 0
}

# ---------------------------------------------------------------- tools and schemas

SCHEMAS=""
COMPOSE_SCHEMA=""

prepare_tools() {
  ensure_venv
  ensure_helm
  ensure_kubeconform
  ensure_shellcheck
  ensure_terraform
}

# Sets SCHEMAS (generated schema folder) and COMPOSE_SCHEMA; downloads the modules when needed.
schema_paths() {
  local compose_dir
  SCHEMAS="$CACHE_DIR/schemas/k8s-$KUBERNETES_VERSION.dapr-$DAPR_VERSION.gw-$GATEWAY_API_VERSION.gen-$(sha256sum "$REPO_ROOT/tools/deploycheck/gen_schemas.py" | cut -c1-12)"
  compose_dir="$(go_module_dir github.com/compose-spec/compose-go/v2 "$COMPOSE_GO_VERSION")"
  COMPOSE_SCHEMA="$compose_dir/schema/compose-spec.json"
}

prepare_schemas() {
  local k8s_dir dapr_dir gw_dir
  schema_paths
  [[ -f "$COMPOSE_SCHEMA" ]] || { echo "no compose-spec.json at $COMPOSE_SCHEMA"; return 1; }
  if [[ -f "$SCHEMAS/.done" ]]; then
    echo "cached: $SCHEMAS"
    return 0
  fi
  k8s_dir="$(go_module_dir k8s.io/kubernetes "$KUBERNETES_VERSION")"
  dapr_dir="$(go_module_dir github.com/dapr/dapr "$DAPR_VERSION")"
  gw_dir="$(go_module_dir sigs.k8s.io/gateway-api "$GATEWAY_API_VERSION")"
  rm -rf "$SCHEMAS"
  "$PY" "$REPO_ROOT/tools/deploycheck/gen_schemas.py" \
    --swagger "$k8s_dir/api/openapi-spec/swagger.json" \
    --crd "$dapr_dir/charts/dapr/crds" \
    --crd "$gw_dir/config/crd/standard" \
    --out "$SCHEMAS"
  touch "$SCHEMAS/.done"
}

# ---------------------------------------------------------------- helm

VALUES_SETS=()

helm_values_sets() {
  VALUES_SETS=(default)
  local f
  for f in "$CHART"/ci/*.yaml; do
    [[ -f "$f" ]] && VALUES_SETS+=("$(basename "$f" .yaml)")
  done
}

values_args() { # values_args NAME -> the -f arguments for that value set
  if [[ "$1" != default ]]; then printf '%s\n' -f "$CHART/ci/$1.yaml"; fi
}

helm_values_schema_current() {
  "$PY" "$REPO_ROOT/tools/deploycheck/gen_values_schema.py" --check "$CHART/values.schema.json"
}

helm_values_documented() {
  "$PY" "$REPO_ROOT/tools/deploycheck/values_docs.py" "$CHART/values.yaml" "$CHART/README.md" --check
}

helm_lint() {
  local set args
  for set in "${VALUES_SETS[@]}"; do
    mapfile -t args < <(values_args "$set")
    echo "--- helm lint ($set)"
    "$TOOLS_BIN/helm" lint --strict "$CHART" ${args[@]+"${args[@]}"} --namespace todo
  done
}

helm_render() {
  local set args
  for set in "${VALUES_SETS[@]}"; do
    mapfile -t args < <(values_args "$set")
    echo "--- helm template ($set)"
    "$TOOLS_BIN/helm" template todo "$CHART" ${args[@]+"${args[@]}"} --namespace todo \
      --kube-version "${KUBERNETES_VERSION#v}" >"$OUT/$set.yaml"
    grep -c '^kind:' "$OUT/$set.yaml" | sed "s/^/$set: resources: /"
    # NOTES.txt is only rendered by install: a client-side dry run (no cluster) checks it too.
    "$TOOLS_BIN/helm" install todo "$CHART" ${args[@]+"${args[@]}"} --namespace todo --dry-run=client \
      >"$OUT/$set.install.txt"
    grep -q '^NOTES:' "$OUT/$set.install.txt"
  done
  # The expected shape of the default render: one Deployment/Service per function + the UI, the
  # routes, the Dapr resources. Counting keeps an accidental `if` from silently dropping objects.
  "$PY" - "$OUT/default.yaml" <<'PYEOF'
import sys, yaml, collections
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
kinds = collections.Counter(d["kind"] for d in docs)
want = {"Deployment": 7, "Service": 7, "HorizontalPodAutoscaler": 6, "PodDisruptionBudget": 7,
        "HTTPRoute": 6, "Gateway": 1, "Subscription": 1, "Resiliency": 1, "Configuration": 1,
        "Component": 4, "NetworkPolicy": 5, "ServiceAccount": 1, "ConfigMap": 1, "Secret": 3, "Pod": 1}
bad = {k: (kinds.get(k, 0), n) for k, n in want.items() if kinds.get(k, 0) != n}
print(dict(kinds))
if bad:
    sys.exit(f"unexpected resource counts (got, want): {bad}")
hpa = {d["metadata"]["name"]: d["spec"]["minReplicas"] for d in docs if d["kind"] == "HorizontalPodAutoscaler"}
assert hpa["todo-todo-app-on-task-event"] >= 1, hpa
routes = [m for d in docs if d["kind"] == "HTTPRoute" for r in d["spec"]["rules"] for m in r["matches"]]
methods = {(m["path"]["value"], m.get("method")) for m in routes}
for need in [("/api/tasks", "POST"), ("/api/tasks/", "PATCH"), ("/api/tasks/", "DELETE"), ("/api/", "GET")]:
    assert need in methods, f"missing route {need}"
assert all(d["spec"].get("parentRefs") for d in docs if d["kind"] == "HTTPRoute"), "HTTPRoute without parentRefs"
sub = next(d for d in docs if d["kind"] == "Subscription")
assert sub["spec"]["deadLetterTopic"], "subscription without a dead-letter topic"
pubsub = next(d for d in docs if d["kind"] == "Component" and d["spec"]["type"] == "pubsub.kafka")
assert any(m["name"] == "version" for m in pubsub["spec"]["metadata"]), "pubsub.kafka without an explicit version"
state = next(d for d in docs if d["kind"] == "Component" and d["spec"]["type"] == "state.redis")
assert {"name": "keyPrefix", "value": "name"} in state["spec"]["metadata"], "state store keyPrefix must be name"
print("render shape ok")
PYEOF
}

# Values that the schema or the templates must refuse.
helm_rejects_bad_values() {
  local bad=(
    "functions.create-task.replicaz=2"
    "functions.on-task-event.replicas=0"
    "functions.create-task.routes[0].methods[0]=FETCH"
    "kafka.authType=kerberos"
    "gatewy.create=false"
    "config.notifyBinding=no-such-binding"
    "functions.Bad_Name.enabled=true"
  )
  local b
  for b in "${bad[@]}"; do
    if "$TOOLS_BIN/helm" template todo "$CHART" --set "$b" >/dev/null 2>"$OUT/reject.err"; then
      echo "accepted bad value: $b"
      return 1
    fi
    echo "rejected as expected: $b ($(grep -m1 -o 'at .*\|Error: .*' "$OUT/reject.err" | cut -c1-120))"
  done
  # Secret settings that must fail at render time.
  if "$TOOLS_BIN/helm" template todo "$CHART" --set secrets.create=false >/dev/null 2>&1; then
    echo "accepted secrets.create=false without secrets.existingSecret"
    return 1
  fi
  echo "rejected as expected: secrets.create=false without existingSecret"
}

# Requests resolved against the rendered HTTPRoutes with Gateway API precedence (exact > longest
# prefix > method), for every value set that enables all functions.
routes_resolve() {
  local set
  for set in default doks-managed-values existing-gateway-values; do
    echo "--- $set"
    "$PY" "$REPO_ROOT/tools/deploycheck/route_check.py" "$OUT/$set.yaml"
  done
}

kubeconform_rendered() {
  local files=("$OUT"/*.yaml)
  [[ ${#files[@]} -eq ${#VALUES_SETS[@]} ]] || { echo "expected ${#VALUES_SETS[@]} rendered files, found ${#files[@]}"; return 1; }
  "$TOOLS_BIN/kubeconform" -strict -summary -output text \
    -kubernetes-version "${KUBERNETES_VERSION#v}" \
    -schema-location "$SCHEMAS/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json" \
    "${files[@]}"
}

kubeconform_rejects_invalid() {
  local fixture="$REPO_ROOT/tools/deploycheck/testdata/invalid-manifests.yaml" expected invalid
  expected="$(grep -c '^kind:' "$fixture")"
  if "$TOOLS_BIN/kubeconform" -strict -summary -output text \
    -schema-location "$SCHEMAS/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json" \
    "$fixture" >"$OUT/invalid.out" 2>&1; then
    cat "$OUT/invalid.out"
    echo "kubeconform accepted invalid manifests"
    return 1
  fi
  cat "$OUT/invalid.out"
  invalid="$(grep -c ' is invalid: ' "$OUT/invalid.out" || true)"
  [[ "$invalid" -eq "$expected" ]] || { echo "expected $expected invalid resources, got $invalid"; return 1; }
}

# Server-side dry run against a real local kube-apiserver (CRD CEL rules, Pod Security admission).
apiserver_dry_run() {
  local dapr_dir gw_dir
  ensure_kube
  dapr_dir="$(go_module_dir github.com/dapr/dapr "$DAPR_VERSION")"
  gw_dir="$(go_module_dir sigs.k8s.io/gateway-api "$GATEWAY_API_VERSION")"
  bash "$REPO_ROOT/tools/deploycheck/apiserver_check.sh" "$TOOLS_BIN" "$OUT/apiserver" \
    --crds "$dapr_dir/charts/dapr/crds" --crds "$gw_dir/config/crd/standard" \
    --must-reject "$REPO_ROOT/tools/deploycheck/testdata/apiserver-rejects.yaml" \
    --chart "$CHART" --values "$CHART/ci/default-values.yaml" -- "$OUT"/*.yaml
}

policy_rendered() {
  "$PY" "$REPO_ROOT/tools/deploycheck/policy_check.py" "$OUT"/*.yaml
}

policy_rejects_insecure() {
  if "$PY" "$REPO_ROOT/tools/deploycheck/policy_check.py" "$REPO_ROOT/tools/deploycheck/testdata/insecure-pod.yaml"; then
    echo "policy check accepted an insecure pod"
    return 1
  fi
}

# ---------------------------------------------------------------- images, compose, nginx

dockerfiles() {
  "$PY" "$REPO_ROOT/tools/deploycheck/dockerfile_check.py" "$REPO_ROOT"
  # The distroless images' health probe is plain std Rust: it must compile (and pass clippy-free
  # warnings) with the toolchain the Dockerfile uses.
  if command -v rustc >/dev/null 2>&1; then
    rustc --edition 2021 -D warnings -C opt-level=s -o "$OUT/healthcheck" "$REPO_ROOT/docker/healthcheck/healthcheck.rs"
    echo "healthcheck probe compiles ($(stat -c %s "$OUT/healthcheck") bytes)"
  else
    echo "SKIP: rustc not installed; healthcheck.rs not compiled"
  fi
}

compose_schema() {
  "$PY" "$REPO_ROOT/tools/deploycheck/compose_check.py" --schema "$COMPOSE_SCHEMA" "$REPO_ROOT/docker/compose.yaml"
}

compose_rejects_invalid() {
  if "$PY" "$REPO_ROOT/tools/deploycheck/compose_check.py" --schema "$COMPOSE_SCHEMA" \
    "$REPO_ROOT/tools/deploycheck/testdata/bad-compose.yaml"; then
    echo "compose check accepted an invalid file"
    return 1
  fi
}

# nginx -t on both modes of the UI image, with the image's paths mapped into a temp prefix.
nginx_configs() {
  if ! command -v nginx >/dev/null 2>&1; then
    echo "SKIP: nginx not installed (dev/nginx.sh installs it); configs not syntax-checked"
    return 0
  fi
  local t="$OUT/nginx" html="$OUT/nginx/html"
  mkdir -p "$t/ui/conf.d" "$t/gateway" "$html" "$t/tmp"
  echo ok >"$html/index.html"
  # UI mode: a stock-like main config around docker/nginx/ui.conf.
  sed "s#/usr/share/nginx/html#$html#" "$REPO_ROOT/docker/nginx/ui.conf" >"$t/ui/conf.d/default.conf"
  cat >"$t/ui/nginx.conf" <<EOF
pid $t/tmp/ui.pid;
error_log stderr;
events {}
http {
  include /etc/nginx/mime.types;
  client_body_temp_path $t/tmp/b; proxy_temp_path $t/tmp/p; fastcgi_temp_path $t/tmp/f;
  uwsgi_temp_path $t/tmp/u; scgi_temp_path $t/tmp/s;
  access_log off;
  include $t/ui/conf.d/*.conf;
}
EOF
  nginx -t -p "$t/ui" -c "$t/ui/nginx.conf" -e stderr
  # Gateway mode: docker/nginx/gateway.nginx.conf with the repository's gateway files.
  sed -e "s#/tmp/#$t/tmp/#g" -e "s#/dev/stderr#stderr#" -e "s#/dev/stdout#$t/tmp/access.log#" \
    "$REPO_ROOT/docker/nginx/gateway.nginx.conf" >"$t/gateway/nginx.conf"
  cp "$REPO_ROOT/gateway/todo.conf" "$t/gateway/todo.conf"
  cp "$REPO_ROOT/gateway/upstreams.compose.conf" "$t/gateway/todo-upstreams.conf"
  sed "s#/usr/share/nginx/html#$html#" "$REPO_ROOT/gateway/ui-root.compose.conf" >"$t/gateway/todo-ui-root.conf"
  # Compose service names do not resolve here: map them to loopback for the syntax check only.
  sed -i -E 's/server [a-z-]+:([0-9]+)/server 127.0.0.1:\1/' "$t/gateway/todo-upstreams.conf"
  nginx -t -p "$t/gateway" -c "$t/gateway/nginx.conf" -e stderr
}

# ---------------------------------------------------------------- terraform

terraform_checks() {
  local tfwork="$OUT/terraform" rc=0
  export TF_CLI_CONFIG_FILE="$CACHE_DIR/terraformrc"
  : >"$TF_CLI_CONFIG_FILE"
  echo "--- terraform fmt -check"
  "$TERRAFORM" -chdir="$REPO_ROOT/infra" fmt -check -diff -recursive || rc=1
  # validate needs the provider; the registry is unreachable here, so fall back when init fails.
  mkdir -p "$tfwork"
  cp "$REPO_ROOT"/infra/*.tf "$tfwork/"
  export TF_DATA_DIR="$CACHE_DIR/terraform-data"
  if timeout 60 "$TERRAFORM" -chdir="$tfwork" init -backend=false -input=false >"$tfwork/init.log" 2>&1; then
    echo "--- terraform validate"
    "$TERRAFORM" -chdir="$tfwork" validate || rc=1
  else
    echo "--- terraform init could not fetch the digitalocean provider (no registry access):"
    grep -m1 -i 'error\|failed' "$tfwork/init.log" || true
    echo "--- fallback: HCL parse (python-hcl2) + reference/structure check"
  fi
  "$PY" "$REPO_ROOT/tools/deploycheck/tf_check.py" "$REPO_ROOT/infra" || rc=1
  return "$rc"
}

# ---------------------------------------------------------------- scripts

SCRIPTS=()
collect_scripts() {
  local f
  for f in "$REPO_ROOT"/scripts/*.sh "$REPO_ROOT"/scripts/lib/*.sh "$REPO_ROOT"/infra/*.sh "$REPO_ROOT"/docker/*.sh \
    "$REPO_ROOT"/tools/deploycheck/*.sh; do
    [[ -f "$f" ]] && SCRIPTS+=("$f")
  done
}

shellcheck_scripts() {
  (cd "$REPO_ROOT" && "$SHELLCHECK" -x -S style "${SCRIPTS[@]}")
  echo "shellcheck: ${#SCRIPTS[@]} scripts clean"
}

scripts_help_and_dry_run() {
  local s
  for s in scripts/setup-kafka.sh scripts/setup-dapr.sh scripts/deploy-doks.sh infra/setup-doks.sh docker/build-images.sh; do
    echo "--- $s --help"
    "$REPO_ROOT/$s" --help >/dev/null
    if [[ "$(sed -n 2,10p "$REPO_ROOT/$s")" != *"set -euo pipefail"* && "$(head -n 20 "$REPO_ROOT/$s")" != *"set -euo pipefail"* ]]; then
      echo "$s: no 'set -euo pipefail'"
      return 1
    fi
  done
  # Dry runs must work without a cluster, doctl or Docker, and print what they would do.
  PATH="$TOOLS_BIN:$PATH" "$REPO_ROOT/scripts/setup-kafka.sh" --dry-run -r 3 >/dev/null
  PATH="$TOOLS_BIN:$PATH" "$REPO_ROOT/scripts/setup-dapr.sh" --dry-run >/dev/null
  PATH="$TOOLS_BIN:$PATH" DATABASE_URL=postgres://u:p@h/d "$REPO_ROOT/scripts/deploy-doks.sh" \
    --dry-run -r registry.digitalocean.com/todo-registry -t check >"$OUT/deploy-dry-run.txt" 2>&1
  if grep -q 'postgres://u:p@h/d' "$OUT/deploy-dry-run.txt"; then
    echo "deploy-doks.sh --dry-run printed the database URL"
    return 1
  fi
  "$REPO_ROOT/infra/setup-doks.sh" --dry-run --postgres --valkey >/dev/null 2>&1
  "$REPO_ROOT/docker/build-images.sh" --dry-run >/dev/null
  # The Strimzi manifests are YAML that describes a KRaft cluster with node pools and both topics.
  "$REPO_ROOT/scripts/setup-kafka.sh" --print-manifests -r 3 | "$PY" -c '
import sys, yaml
docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
kinds = sorted(d["kind"] for d in docs)
assert kinds == ["Kafka", "KafkaNodePool", "KafkaTopic", "KafkaTopic"], kinds
pool = next(d for d in docs if d["kind"] == "KafkaNodePool")
assert set(pool["spec"]["roles"]) == {"controller", "broker"}
topics = {d["metadata"]["name"] for d in docs if d["kind"] == "KafkaTopic"}
assert topics == {"task-events", "task-events-dlq"}, topics
assert "zookeeper" not in str(docs).lower()
print("strimzi manifests ok:", kinds)
'
}

# ---------------------------------------------------------------- run

echo "check-deploy: repository $REPO_ROOT, cache $CACHE_DIR"
check "tools (helm, kubeconform, shellcheck, terraform, venv)" prepare_tools
if [[ "$FAILED" -eq 0 ]]; then
  # Cheap when cached: sets PY, SHELLCHECK and TERRAFORM in this shell for the checks below.
  ensure_venv && ensure_shellcheck && ensure_terraform
  check "schemas (k8s $KUBERNETES_VERSION, dapr $DAPR_VERSION, gateway-api $GATEWAY_API_VERSION)" prepare_schemas
  schema_paths
  helm_values_sets
  collect_scripts
  check "helm values.schema.json up to date" helm_values_schema_current
  check "helm values documented (@param, README table)" helm_values_documented
  check "helm lint --strict (${#VALUES_SETS[@]} value sets)" helm_lint
  check "helm template (${#VALUES_SETS[@]} value sets)" helm_render
  check "helm rejects bad values" helm_rejects_bad_values
  check "routes: requests reach the right function" routes_resolve
  check "kubeconform -strict: rendered manifests" kubeconform_rendered
  check "kubeconform rejects invalid manifests" kubeconform_rejects_invalid
  if [[ "${CHECK_DEPLOY_APISERVER:-1}" != 0 ]]; then
    check "kube-apiserver dry run (CEL, Pod Security)" apiserver_dry_run
  fi
  check "policy: Pod Security restricted + ours" policy_rendered
  check "policy rejects an insecure pod" policy_rejects_insecure
  check "dockerfiles: pinned bases, non-root, healthcheck" dockerfiles
  check "compose: Compose spec schema + rules" compose_schema
  check "compose check rejects an invalid file" compose_rejects_invalid
  check "nginx -t: UI and gateway configs" nginx_configs
  check "terraform fmt + validate (or HCL parse)" terraform_checks
  check "shellcheck" shellcheck_scripts
  check "scripts: --help, --dry-run" scripts_help_and_dry_run
fi

echo "check-deploy: finished in $((SECONDS - RUN_STARTED))s"
if [[ "$KEEP" -eq 1 ]]; then echo "rendered manifests and logs: $OUT"; fi
if [[ "$FAILED" -gt 0 ]]; then
  printf 'failed: %s\n' "${FAILED_NAMES[@]}"
fi
echo "check-deploy: $PASSED passed, $FAILED failed"
[[ "$FAILED" -eq 0 ]]
