#!/usr/bin/env bash
# Build (and locate) the project's slim daprd from tools/daprd/ into .cache/bin/daprd.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${TODO_CACHE_DIR:-$ROOT/.cache}"
SRC="$ROOT/tools/daprd"
BIN="$CACHE/bin/daprd"
STAMP="$CACHE/bin/daprd.stamp"

usage() {
  cat <<EOF
Usage: dev/daprd.sh <command>

Commands:
  build      build tools/daprd into $BIN (skipped when up to date with
             go.mod, go.sum, *.go and the Go version; FORCE=1 rebuilds)
  path       print the binary's path (builds it first if needed)
  version    print the built daprd's version and components
  -h, --help this help

The Go module cache and build cache are Go's own (go env GOMODCACHE GOCACHE), shared by
every clone on the machine: a second clone (CI's) builds from them in seconds and adds no
3 GB of its own, and a rebuild after a change in main.go takes seconds, not minutes. A cold
build compiles about 9 CPU-minutes of Go (dapr's runtime and its dependencies).
Environment: DAPRD_GOMODCACHE, DAPRD_GOCACHE (a directory of this clone's own, if wanted),
TODO_CACHE_DIR (moves all of .cache), GOFLAGS (extra flags kept), GOPROXY as configured.
EOF
}

# Key of everything the binary depends on: sources, module files, Go version, build flags.
source_key() {
  {
    go version
    echo "ldflags=$(ldflags)"
    cat "$SRC/go.mod" "$SRC/go.sum" "$SRC"/*.go
  } | sha256sum | cut -d' ' -f1
}

dapr_version() {
  awk '$1 == "require" && $2 == "github.com/dapr/dapr" { print $3 } $1 == "github.com/dapr/dapr" && $2 ~ /^v/ { print $2 }' "$SRC/go.mod" | head -n1
}

ldflags() {
  local v
  v="$(dapr_version)"
  echo "-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=${v#v} -X github.com/dapr/dapr/pkg/buildinfo.gitversion=$v"
}

go_env() {
  # Go's defaults unless told otherwise: shared by clones (see usage).
  if [[ -n "${DAPRD_GOMODCACHE:-}" ]]; then export GOMODCACHE="$DAPRD_GOMODCACHE"; fi
  if [[ -n "${DAPRD_GOCACHE:-}" ]]; then export GOCACHE="$DAPRD_GOCACHE"; fi
  # -modcacherw: the module cache stays deletable with a plain rm -rf
  export GOFLAGS="${GOFLAGS:-} -modcacherw -buildvcs=false -trimpath"
}

build() {
  command -v go >/dev/null || { echo "daprd.sh: go is not installed" >&2; exit 1; }
  go_env
  local key
  key="$(source_key)"
  if [[ "${FORCE:-0}" != 1 && -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$key" ]]; then
    echo "daprd.sh: $BIN is up to date"
    return 0
  fi
  mkdir -p "$(dirname "$BIN")"
  echo "daprd.sh: building daprd (dapr $(dapr_version)) -> $BIN"
  local start end
  start=$(date +%s)
  (cd "$SRC" && go build -mod=readonly -ldflags "$(ldflags)" -o "$BIN.tmp" .)
  mv -f "$BIN.tmp" "$BIN"
  echo "$key" >"$STAMP"
  end=$(date +%s)
  echo "daprd.sh: built in $((end - start))s, size $(du -h "$BIN" | cut -f1)"
}

case "${1:-}" in
  build) build ;;
  path) build >&2; echo "$BIN" ;;
  version) build >&2; "$BIN" --build-info ;;
  -h | --help | help) usage ;;
  "") usage; exit 2 ;;
  *) echo "daprd.sh: unknown command '$1'" >&2; usage >&2; exit 2 ;;
esac
