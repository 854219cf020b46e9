# Shared helpers for the dev/ scripts. Source it; it defines functions and REPO/CACHE only.
# shellcheck shell=bash

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${TODO_CACHE_DIR:-$REPO/.cache}"
mkdir -p "$CACHE/logs" "$CACHE/run"

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# apt_install PKG...: installs Debian packages that are missing (runs apt-get update once per run).
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]} from Debian"
  if [ ! -f "$CACHE/run/apt-updated" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 && touch "$CACHE/run/apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# wait_for DESCRIPTION SECONDS CMD...: polls CMD every 0.2 s until it succeeds or time runs out.
wait_for() {
  local what="$1" secs="$2"; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -ge "$deadline" ] && die "$what not ready after ${secs}s"
    sleep 0.2
  done
}

# pid_alive FILE: the process named in a PID file is running.
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
