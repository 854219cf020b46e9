#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs and starts what the tests need (PostgreSQL,
# Redis, and for the later stages Chromium, Kafka, daprd, nginx), then runs every stage and
# prints one closing line. `make test` runs this; so does .ci/run.
#   dev/test-all.sh            all stages
#   STAGES="rust ui" dev/test-all.sh   only some (rust, ui, deploy, distributed)
set -uo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
cd "$REPO"

STAGES="${STAGES:-rust ui deploy distributed}"
LOGDIR="$CACHE/logs/test"
mkdir -p "$LOGDIR"
# A one-off build keeps no incremental state (about 1.5 GB less in target/).
if [[ "${CI:-}" == true ]]; then export CARGO_INCREMENTAL=0; fi

# The suite needs roughly 8 GB of disk in a fresh clone (target/ about 4 GB, Kafka, PostgreSQL,
# the UI's node_modules, the deploy tools), plus 3 GB of Go caches the first time on a machine.
disk_report() {
  local avail_kb
  avail_kb=$(df -Pk "$REPO" | awk 'NR == 2 { print $4 }')
  echo "disk: $((avail_kb / 1024 / 1024)) GB free where the repo is ($1)"
  if [[ "$1" == start && "$avail_kb" -lt $((10 * 1024 * 1024)) ]]; then
    echo "disk: WARNING: under 10 GB free; a stage may fail with 'no space left on device'" >&2
  fi
}
disk_report start
passed=0; failed=0; failures=()

# stage NAME CMD...: runs one stage, its output to the terminal and to $LOGDIR/NAME.log.
stage() {
  local name="$1"; shift
  local start=$SECONDS
  printf '\n==== %s ====\n' "$name"
  if "$@" 2>&1 | tee "$LOGDIR/$name.log"; then
    passed=$((passed + 1)); printf '==== %s: ok (%ss)\n' "$name" $((SECONDS - start))
  else
    failed=$((failed + 1)); failures+=("$name"); printf '==== %s: FAILED (%ss), log: %s\n' "$name" $((SECONDS - start)) "$LOGDIR/$name.log"
  fi
}

want() { [[ " $STAGES " == *" $1 "* ]]; }

services() {
  bash dev/services/postgres.sh start && bash dev/services/redis.sh start
}

rust() {
  export TEST_DATABASE_URL; TEST_DATABASE_URL="$(bash dev/services/postgres.sh admin-url)"
  export CI="${CI:-local}"
  bash dev/services/postgres.sh drop-test-dbs
  cargo fmt --all -- --check &&
    cargo clippy --workspace --all-targets --locked -- -D warnings &&
    cargo test --workspace --locked --no-fail-fast
}

ui() {
  bash ui/scripts/ensure-chromium.sh &&
    (cd ui && npm ci --no-audit --no-fund && npm run typecheck && npm test && npm run build && npm run size) &&
    cargo build --locked -p all_in_one &&
    (cd ui && E2E_REQUIRE_EVENTS=1 TODO_BIN="$REPO/target/debug/todo" npm run test:e2e)
}

stage services services
if want rust; then stage rust rust; fi
if want ui && [ -f ui/package.json ]; then stage ui ui; fi
if want deploy && [ -x scripts/check-deploy.sh ]; then stage deploy bash scripts/check-deploy.sh; fi
if want distributed && [ -x dev/e2e.sh ]; then stage distributed bash dev/e2e.sh; fi

disk_report end
cargo_line=$(grep -h '^test result:' "$LOGDIR/rust.log" 2>/dev/null \
  | awk '{p+=$4; f+=$6} END {printf "%d passed, %d failed", p, f}')
[ -n "$cargo_line" ] && echo "cargo tests: $cargo_line"
[ ${#failures[@]} -gt 0 ] && echo "failed stages: ${failures[*]}"
echo "stages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
