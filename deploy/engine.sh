#!/usr/bin/env bash
# Makes a Docker engine reachable for sandfarm, idempotently.
#
#   bash deploy/engine.sh
#
# 1. If an engine answers (DOCKER_HOST, else the default socket), there is nothing to do.
# 2. Otherwise, as root: install Debian's docker.io if dockerd is missing, remove a stale pid file
#    left by an unclean stop, start dockerd with no bridge, no iptables and no IP forwarding (this
#    machine must never route traffic to private ranges), and wait until it answers.
# Environment: SANDFARM_DOCKERD_LOG (default /var/log/sandfarm-dockerd.log),
#              SANDFARM_DOCKERD_ARGS (extra dockerd flags), SANDFARM_ENGINE_WAIT_S (default 60).
set -euo pipefail

log_file=${SANDFARM_DOCKERD_LOG:-/var/log/sandfarm-dockerd.log}
wait_s=${SANDFARM_ENGINE_WAIT_S:-60}

say() { printf 'engine: %s\n' "$*"; }
fail() { printf 'engine: error: %s\n' "$*" >&2; exit 1; }

# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

engine_answers() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }
# /proc instead of pgrep: procps is not on every minimal machine.
dockerd_running() { grep -qsx dockerd /proc/[0-9]*/comm; }

if engine_answers; then
  say "a Docker engine answers at ${DOCKER_HOST:-unix:///var/run/docker.sock} ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
  exit 0
fi
if [ -n "${DOCKER_HOST:-}" ]; then
  fail "DOCKER_HOST=$DOCKER_HOST does not answer. Start that engine, or unset DOCKER_HOST so this script starts a local one."
fi
if [ "$(id -u)" != 0 ] && [ -S /var/run/docker.sock ] && [ ! -w /var/run/docker.sock ]; then
  fail "an engine listens on /var/run/docker.sock but this user may not use it. Add the user to the 'docker' group, or run as root."
fi
if [ "$(id -u)" != 0 ]; then
  fail "no Docker engine answers and starting one needs root. Run this script as root, or start Docker yourself and set DOCKER_HOST."
fi

install_debian_package dockerd docker.io "a Docker engine (dockerd 20.10 or newer)"

if dockerd_running; then
  say "dockerd is running but does not answer yet; waiting"
else
  if [ -f /var/run/docker.pid ]; then
    say "removing stale /var/run/docker.pid (no dockerd runs)"
    rm -f /var/run/docker.pid
  fi
  say "starting dockerd (log: $log_file)"
  # shellcheck disable=SC2086 # SANDFARM_DOCKERD_ARGS is a list of flags.
  setsid nohup dockerd --bridge=none --iptables=false --ip-forward=false ${SANDFARM_DOCKERD_ARGS:-} \
    >>"$log_file" 2>&1 </dev/null &
fi

for _ in $(seq 1 "$wait_s"); do
  if engine_answers; then
    say "dockerd $(docker version --format '{{.Server.Version}}') answers at unix:///var/run/docker.sock (log: $log_file)"
    exit 0
  fi
  sleep 1
done
tail -n 20 "$log_file" >&2 || true
fail "dockerd did not answer within ${wait_s}s; its log is $log_file"
