#!/usr/bin/env bash
# Build (and optionally push) every image of the Todo service:
#   <registry>/todo-<function>:<tag>   one per functions/<function>/ (static Rust on distroless)
#   <registry>/todo-ui:<tag>           UI + gateway (unprivileged nginx)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  cat <<EOF
Usage: docker/build-images.sh [options] [function ...]

Builds docker/Dockerfile.function once per function (default: every folder under functions/ with a
Cargo.toml) and docker/Dockerfile.ui, tagging <registry>/todo-<name>:<tag> (underscores become dashes).

Options:
  -r, --registry REG   image name prefix (default: \$REGISTRY or "todo")
  -t, --tag TAG        image tag (default: \$TAG or "git describe --always --dirty", else "dev")
  -p, --platform P     target platform(s) passed to buildx (e.g. linux/amd64,linux/arm64)
      --push           push after building (buildx --push; needs a registry login, e.g. doctl registry login)
      --no-ui          skip the UI/gateway image
      --latest         also tag :latest
  -n, --dry-run        print the commands, run nothing
  -h, --help           this help

Examples:
  docker/build-images.sh                                    # local images todo/todo-*:<git sha>
  docker/build-images.sh -r registry.digitalocean.com/todo-registry -t 0.1.0 --push
  docker/build-images.sh create_task list_tasks --no-ui
EOF
}

REGISTRY="${REGISTRY:-todo}"
TAG="${TAG:-}"
PLATFORM=""
PUSH=0
UI=1
LATEST=0
DRY_RUN=0
FUNCTIONS=()

while [[ $# -gt 0 ]]; do
  case "$1" in
    -r | --registry) REGISTRY="${2:?--registry needs a value}"; shift 2 ;;
    -t | --tag) TAG="${2:?--tag needs a value}"; shift 2 ;;
    -p | --platform) PLATFORM="${2:?--platform needs a value}"; shift 2 ;;
    --push) PUSH=1; shift ;;
    --no-ui) UI=0; shift ;;
    --latest) LATEST=1; shift ;;
    -n | --dry-run) DRY_RUN=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    *) FUNCTIONS+=("$1"); shift ;;
  esac
done

if [[ -z "$TAG" ]]; then
  TAG="$(git -C "$REPO_ROOT" describe --always --dirty 2>/dev/null || echo dev)"
fi

if [[ ${#FUNCTIONS[@]} -eq 0 ]]; then
  for manifest in "$REPO_ROOT"/functions/*/Cargo.toml; do
    [[ -f "$manifest" ]] || continue
    FUNCTIONS+=("$(basename "$(dirname "$manifest")")")
  done
fi
if [[ ${#FUNCTIONS[@]} -eq 0 ]]; then
  echo "no functions found under functions/" >&2
  exit 1
fi

run() {
  printf '+'
  printf ' %q' "$@"
  printf '\n'
  if [[ "$DRY_RUN" -eq 0 ]]; then "$@"; fi
}

if [[ "$DRY_RUN" -eq 0 ]] && ! docker info >/dev/null 2>&1; then
  echo "no Docker engine reachable (docker info failed); use --dry-run to see the commands" >&2
  exit 1
fi

# buildx is needed for --platform/--push; plain `docker build` (BuildKit) otherwise.
build() { # build DOCKERFILE IMAGE [--build-arg ...]
  local dockerfile="$1" image="$2"
  shift 2
  local tags=(-t "$image:$TAG")
  if [[ "$LATEST" -eq 1 ]]; then tags+=(-t "$image:latest"); fi
  if [[ -n "$PLATFORM" || "$PUSH" -eq 1 ]]; then
    local extra=()
    if [[ -n "$PLATFORM" ]]; then extra+=(--platform "$PLATFORM"); fi
    if [[ "$PUSH" -eq 1 ]]; then extra+=(--push); else extra+=(--load); fi
    run docker buildx build -f "$REPO_ROOT/$dockerfile" "${tags[@]}" "${extra[@]}" "$@" "$REPO_ROOT"
  else
    DOCKER_BUILDKIT=1 run docker build -f "$REPO_ROOT/$dockerfile" "${tags[@]}" "$@" "$REPO_ROOT"
  fi
}

started=$SECONDS
built=()
for fn in "${FUNCTIONS[@]}"; do
  if [[ ! -f "$REPO_ROOT/functions/$fn/Cargo.toml" ]]; then
    echo "unknown function '$fn' (no functions/$fn/Cargo.toml)" >&2
    exit 1
  fi
  image="$REGISTRY/todo-${fn//_/-}"
  build docker/Dockerfile.function "$image" --build-arg "FUNCTION=$fn"
  built+=("$image:$TAG")
done
if [[ "$UI" -eq 1 ]]; then
  build docker/Dockerfile.ui "$REGISTRY/todo-ui"
  built+=("$REGISTRY/todo-ui:$TAG")
fi

echo "built ${#built[@]} image(s) in $((SECONDS - started))s:"
printf '  %s\n' "${built[@]}"
if [[ "$DRY_RUN" -eq 0 && "$PUSH" -eq 0 ]]; then
  # Show sizes so the 30 MB budget per function image is visible at a glance.
  for image in "${built[@]}"; do
    docker image inspect --format '{{.Size}}' "$image" 2>/dev/null |
      awk -v i="$image" '{ printf "  %-60s %6.1f MB\n", i, $1 / 1e6 }'
  done
fi
