#!/usr/bin/env bash
# Turns a fresh Debian/Ubuntu machine into a sandbox host: a Docker engine that a farm on another
# machine reaches over mutual TLS and places sandboxes on.
#
#   bash deploy/certs.sh certs 10.0.0.5            # on the farm's machine; copy certs/ here
#   bash deploy/sandbox-host.sh --address 10.0.0.5 --certs certs [--name box1] [--capacity 200]
#        [--data-size-gb 200] [--gvisor] [--image-tar sandbox.tar]
#
# As root, idempotently:
# 1. installs Debian's docker.io if dockerd is missing;
# 2. makes the engine's data-root its own size-limited filesystem (an ext4 image file of
#    --data-size-gb, default 100, loop-mounted at /var/lib/sandfarm/docker and kept in
#    /etc/fstab): a sandbox's burst of writes between two of the farm's disk samples fills that
#    filesystem, never the host's;
# 3. writes /etc/docker/daemon.json: that data-root, the unix socket plus tcp://ADDRESS:2376 with
#    --tlsverify (the CA, and server-ADDRESS-cert.pem / -key.pem that deploy/certs.sh made), and
#    the same flags as the farm's own engine (no bridge, no iptables changes, no IP forwarding);
#    an existing daemon.json is kept as daemon.json.before-sandfarm;
# 4. (re)starts dockerd (systemd when it runs the machine, else dockerd directly) and waits;
# 5. with --gvisor, registers runsc (deploy/gvisor.sh); with --image-tar, loads the sandbox image
#    (`docker save sandfarm/sandbox:VERSION > sandbox.tar` on the farm's machine, or use
#    `sandfarm image push` from the farm later);
# 6. prints the sandbox.engines entry to paste into the farm's config.
#
# For tests on one machine: SANDFARM_HOST_PREFIX puts /etc/docker and /var/lib/sandfarm under a
# directory (nothing in /etc/fstab then), SANDFARM_HOST_NETNS starts dockerd inside that network
# namespace, SANDFARM_HOST_CONTAINERD uses that containerd socket instead of dockerd's own, and
# SANDFARM_HOST_CGROUP_PARENT puts the sandboxes' cgroups under that parent.
set -euo pipefail

say() { printf 'sandbox-host: %s\n' "$*"; }
fail() { printf 'sandbox-host: error: %s\n' "$*" >&2; exit 1; }

# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

address="" certs="" name="" capacity=256 data_size_gb=100 gvisor=0 image_tar=""
usage() {
  sed -n '5,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,3\}//' >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case $1 in
    --address) address=${2:-}; shift 2 ;;
    --certs) certs=${2:-}; shift 2 ;;
    --name) name=${2:-}; shift 2 ;;
    --capacity) capacity=${2:-}; shift 2 ;;
    --data-size-gb) data_size_gb=${2:-}; shift 2 ;;
    --gvisor) gvisor=1; shift ;;
    --image-tar) image_tar=${2:-}; shift 2 ;;
    -h|--help) usage ;;
    *) printf 'sandbox-host: error: unknown option %s\n' "$1" >&2; usage ;;
  esac
done
[ -n "$address" ] || fail "give --address: the IP or DNS name the farm reaches this host at"
[ -n "$certs" ] || fail "give --certs DIR: what 'bash deploy/certs.sh DIR $address' made (ca.pem, server-$address-cert.pem, server-$address-key.pem)"
for file in ca.pem "server-$address-cert.pem" "server-$address-key.pem"; do
  [ -f "$certs/$file" ] || fail "$certs/$file is missing: run 'bash deploy/certs.sh $certs $address' (on the farm's machine, then copy $certs here)"
done
[[ $capacity =~ ^[1-9][0-9]*$ ]] || fail "--capacity must be a whole number of sandboxes, got '$capacity'"
[[ $data_size_gb =~ ^[0-9]+([.][0-9]+)?$ ]] || fail "--data-size-gb must be a number of GB, got '$data_size_gb'"
[ -z "$image_tar" ] || [ -f "$image_tar" ] || fail "--image-tar $image_tar: no such file"
[ "$(id -u)" = 0 ] || fail "run as root: it installs packages, mounts a filesystem and configures dockerd"
name=${name:-$(hostname -s | tr 'A-Z' 'a-z' | tr -c 'a-z0-9_\n-' '-')}
certs=$(cd "$certs" && pwd)

prefix=${SANDFARM_HOST_PREFIX:-}
etc_docker="$prefix/etc/docker"
state="$prefix/var/lib/sandfarm"
data_root="$state/docker"
image_file="$state/data-root.img"
socket="unix:///var/run/docker.sock"
pidfile=/var/run/docker.pid
if [ -n "$prefix" ]; then
  socket="unix://$prefix/docker.sock"
  pidfile="$prefix/docker.pid"
fi

# 1. The engine.
install_debian_package dockerd docker.io "a Docker engine (dockerd 20.10 or newer)"
install_debian_package mkfs.ext4 e2fsprogs "mkfs.ext4, for the data-root filesystem"

# 2. The data-root: its own filesystem, so sandboxes can fill it and nothing else.
mkdir -p "$state" "$data_root"
if mountpoint -q "$data_root"; then
  say "data-root $data_root is already its own filesystem ($(df -h --output=size "$data_root" | tail -1 | tr -d ' '))"
else
  if [ ! -f "$image_file" ]; then
    say "making a ${data_size_gb} GB ext4 filesystem for the data-root ($image_file)"
    truncate -s "$(awk -v gb="$data_size_gb" 'BEGIN { printf "%d", gb * 1024 * 1024 * 1024 }')" "$image_file"
    mkfs.ext4 -q -F -m 0 "$image_file"
  fi
  mount -o loop "$image_file" "$data_root"
  say "mounted it at $data_root"
  if [ -z "$prefix" ] && ! grep -qs " $data_root " /etc/fstab; then
    printf '%s %s ext4 loop,nofail 0 2\n' "$image_file" "$data_root" >> /etc/fstab
    say "added it to /etc/fstab"
  fi
fi

# 3. dockerd's config.
mkdir -p "$etc_docker"
config="$etc_docker/daemon.json"
# Ours names our data-root; anything else is the machine's own and is kept once.
if [ -f "$config" ] && [ ! -f "$config.before-sandfarm" ] && ! grep -qF "\"$data_root\"" "$config"; then
  cp "$config" "$config.before-sandfarm"
  say "kept the old $config as $config.before-sandfarm"
fi
extra=""
if [ -n "$prefix" ]; then
  extra+=$'\n'"  \"exec-root\": \"$prefix/exec\","
  extra+=$'\n'"  \"pidfile\": \"$prefix/docker.pid\","
fi
[ -z "${SANDFARM_HOST_CONTAINERD:-}" ] || extra+=$'\n'"  \"containerd\": \"$SANDFARM_HOST_CONTAINERD\","
[ -z "${SANDFARM_HOST_CGROUP_PARENT:-}" ] || extra+=$'\n'"  \"cgroup-parent\": \"$SANDFARM_HOST_CGROUP_PARENT\","
cat > "$config" <<EOF
{
  "data-root": "$data_root",${extra}
  "hosts": ["$socket", "tcp://$address:2376"],
  "tlsverify": true,
  "tlscacert": "$certs/ca.pem",
  "tlscert": "$certs/server-$address-cert.pem",
  "tlskey": "$certs/server-$address-key.pem",
  "bridge": "none",
  "iptables": false,
  "ip-forward": false
}
EOF
say "wrote $config"

# 4. (Re)start dockerd with it.
answers() { docker -H "$socket" info >/dev/null 2>&1; }
if [ -z "$prefix" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  # The packaged unit passes -H fd://, which dockerd refuses beside "hosts" in daemon.json.
  mkdir -p /etc/systemd/system/docker.service.d
  printf '[Service]\nExecStart=\nExecStart=/usr/sbin/dockerd\n' > /etc/systemd/system/docker.service.d/sandfarm.conf
  systemctl daemon-reload
  systemctl restart docker
else
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill "$(cat "$pidfile")"
    for _ in $(seq 1 30); do kill -0 "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null || break; sleep 1; done
  fi
  rm -f "$pidfile"
  launch=(dockerd --config-file "$config")
  [ -z "${SANDFARM_HOST_NETNS:-}" ] || launch=(nsenter "--net=/var/run/netns/$SANDFARM_HOST_NETNS" "${launch[@]}")
  setsid nohup "${launch[@]}" >> "$state/dockerd.log" 2>&1 < /dev/null &
fi
for _ in $(seq 1 60); do answers && break; sleep 1; done
answers || { tail -n 20 "$state/dockerd.log" >&2 2>/dev/null || true; fail "dockerd did not answer at $socket within 60 s"; }
say "dockerd $(docker -H "$socket" version --format '{{.Server.Version}}') answers at $socket and tcp://$address:2376 (mutual TLS)"

# 5. gVisor and the image.
[ "$gvisor" = 0 ] || bash "$here/gvisor.sh"
if [ -n "$image_tar" ]; then
  say "loading $image_tar"
  docker -H "$socket" load -i "$image_tar" | sed 's/^/sandbox-host: /'
fi

# 6. What the farm's config needs.
cat <<EOF
sandbox-host: ready. In the farm's config (certs: the farm's copy of $certs, with its cert.pem and key.pem):
sandbox:
  engines:
    - name: $name
      host: tcp://$address:2376
      tls: {ca: CERTS/ca.pem, cert: CERTS/cert.pem, key: CERTS/key.pem}
      capacity: $capacity
EOF
