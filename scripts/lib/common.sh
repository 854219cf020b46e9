#!/usr/bin/env bash
# Shared helpers for scripts/*.sh (sourced). Provides logging, dry-run aware command execution and
# tool checks. Callers set DRY_RUN=0|1 before using run/apply_stdin.

# shellcheck disable=SC2034  # REPO_ROOT is used by the sourcing scripts
REPO_ROOT="${REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
DRY_RUN="${DRY_RUN:-0}"
# kubectl and helm invocations; use_context adds --context/--kube-context to both.
KUBECTL=(kubectl)
HELM=(helm)

use_context() {
  if [[ -n "${1:-}" ]]; then
    KUBECTL=(kubectl --context "$1")
    HELM=(helm --kube-context "$1")
  fi
}

if [[ -t 2 ]]; then
  _C_INFO=$'\033[1;34m' _C_WARN=$'\033[1;33m' _C_ERR=$'\033[1;31m' _C_OFF=$'\033[0m'
else
  _C_INFO='' _C_WARN='' _C_ERR='' _C_OFF=''
fi
log() { printf '%s==>%s %s\n' "$_C_INFO" "$_C_OFF" "$*" >&2; }
warn() { printf '%swarning:%s %s\n' "$_C_WARN" "$_C_OFF" "$*" >&2; }
die() {
  printf '%serror:%s %s\n' "$_C_ERR" "$_C_OFF" "$*" >&2
  exit 1
}

# Print a command (shell-quoted), then run it unless this is a dry run.
run() {
  printf '+' >&2
  printf ' %q' "$@" >&2
  printf '\n' >&2
  if [[ "$DRY_RUN" -eq 0 ]]; then "$@"; fi
}

# Like run, but hides arguments that follow a --set-string/--set of a secret (KEY contains
# "password", "token", "url" or "secret") when printing.
run_redacted() {
  local shown=() after_set=0 arg key
  for arg in "$@"; do
    if [[ "$after_set" -eq 1 ]]; then
      after_set=0
      key="${arg%%=*}"
      shopt -s nocasematch
      if [[ "$key" =~ (password|token|url)$ ]]; then arg="$key=***"; fi
      shopt -u nocasematch
    fi
    shown+=("$arg")
    if [[ "$arg" == --set-string || "$arg" == --set ]]; then after_set=1; fi
  done
  printf '+' >&2
  printf ' %q' "${shown[@]}" >&2
  printf '\n' >&2
  if [[ "$DRY_RUN" -eq 0 ]]; then "$@"; fi
}

# Apply the manifest on stdin with kubectl (dry run: print it instead).
apply_stdin() {
  if [[ "$DRY_RUN" -eq 1 ]]; then
    printf '+ kubectl apply -f - <<EOF\n' >&2
    cat
    printf 'EOF\n' >&2
  else
    "${KUBECTL[@]}" apply -f -
  fi
}

# A Namespace with Pod Security labels, applied idempotently: ensure_namespace NAME ENFORCE-LEVEL
ensure_namespace() {
  apply_stdin <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: $1
  labels:
    pod-security.kubernetes.io/enforce: $2
    pod-security.kubernetes.io/enforce-version: latest
    pod-security.kubernetes.io/warn: restricted
    pod-security.kubernetes.io/audit: restricted
EOF
}

require() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' is required (not found on PATH)"
  done
}

# require, but only warn during a dry run (so --dry-run works on a laptop without the tools).
require_unless_dry() {
  if [[ "$DRY_RUN" -eq 1 ]]; then
    local tool
    for tool in "$@"; do
      command -v "$tool" >/dev/null 2>&1 || warn "'$tool' not found (fine for --dry-run)"
    done
  else
    require "$@"
  fi
}

# The major version of the helm on PATH (3 or 4); 4 when unknown.
helm_major() {
  local v
  v="$(helm version --template '{{.Version}}' 2>/dev/null || echo v4)"
  v="${v#v}"
  echo "${v%%.*}"
}
