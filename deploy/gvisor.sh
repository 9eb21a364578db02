#!/usr/bin/env bash
# Registers gVisor's runsc with the Docker engine, idempotently, so sandboxes can run with
# sandbox.runtime = "runsc" (a user-space kernel between the model and the host's).
#
#   bash deploy/gvisor.sh
#
# Installs Debian's runsc if missing, sets it under "runtimes" in /etc/docker/daemon.json, and
# makes dockerd reload its config (SIGHUP). Its arguments:
#   --network=none        this engine has no bridge for runsc's own netstack to configure;
#   --file-access=shared  files sandfarm writes from outside (documents, editor edits) must be
#                         seen inside; gVisor otherwise caches the root filesystem and keeps
#                         showing a file's old content after it is rewritten from outside.
set -euo pipefail

say() { printf 'gvisor: %s\n' "$*"; }
fail() { printf 'gvisor: error: %s\n' "$*" >&2; exit 1; }

# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

registered() { docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q '"runsc"'; }
wanted_args='["--network=none","--file-access=shared"]'
configured() {
  [ -f /etc/docker/daemon.json ] && node -e '
    const c = JSON.parse(require("fs").readFileSync("/etc/docker/daemon.json", "utf8"));
    process.exit(JSON.stringify(c.runtimes?.runsc?.runtimeArgs) === process.argv[1] ? 0 : 1);
  ' "$wanted_args"
}

docker info >/dev/null 2>&1 || fail "no Docker engine answers; run 'bash deploy/engine.sh' first"
if registered && configured; then
  say "runsc is registered with the engine"
  exit 0
fi
[ "$(id -u)" = 0 ] || fail "registering a runtime edits /etc/docker/daemon.json and needs root"
install_debian_package runsc runsc "gVisor's runsc"
mkdir -p /etc/docker
node -e '
  const fs = require("fs");
  const file = "/etc/docker/daemon.json";
  const config = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8") || "{}") : {};
  config.runtimes = { ...(config.runtimes ?? {}), runsc: { path: process.argv[1], runtimeArgs: JSON.parse(process.argv[2]) } };
  fs.writeFileSync(file, JSON.stringify(config, null, 2) + "\n");
' "$(command -v runsc)" "$wanted_args"
pid=$(cat /var/run/docker.pid 2>/dev/null || true)
[ -n "$pid" ] || fail "cannot find dockerd's pid in /var/run/docker.pid to make it reload its config"
kill -HUP "$pid"
for _ in $(seq 1 20); do
  if registered; then
    say "runsc $(runsc --version 2>/dev/null | head -n 1 | awk '{print $3}') registered with the engine"
    exit 0
  fi
  sleep 0.5
done
fail "dockerd did not pick up runsc; see /etc/docker/daemon.json and the dockerd log"
