#!/usr/bin/env bash
# Builds the sandbox image, or reuses it when its recipe has not changed.
#
#   bash deploy/image/build.sh              # offline: debootstrap + docker import (no registry)
#   bash deploy/image/build.sh --dockerfile # online: docker build from deploy/image/Dockerfile
#   options: --tag NAME:VERSION  --force (rebuild even when the recipe matches)
#
# The offline build is not reproducible byte for byte (debootstrap), so reuse is keyed on a hash
# of the recipe (packages.txt, finish-rootfs.sh, the suite) stored as the image label
# `sandfarm.recipe`; changes to this script's logging or options do not rebuild. The
# root filesystem stays in $SANDFARM_STATE_DIR/rootfs/<hash> (default /var/lib/sandfarm): the
# local (bubblewrap) backend runs on it.
# Environment: SANDFARM_STATE_DIR, SANDFARM_DEBIAN_MIRROR (default http://deb.debian.org/debian),
#              SANDFARM_DEBIAN_SUITE (default bookworm).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$root/package.json" | head -n 1)
tag="sandfarm/sandbox:${version:?cannot read the version from package.json}"
mode=offline
force=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dockerfile) mode=dockerfile ;;
    --offline) mode=offline ;;
    --tag) tag=${2:?--tag needs NAME:VERSION}; shift ;;
    --force) force=1 ;;
    *) echo "image: unknown option '$1' (use --offline, --dockerfile, --tag NAME:VERSION, --force)" >&2; exit 2 ;;
  esac
  shift
done

say() { printf 'image: %s\n' "$*"; }
fail() { printf 'image: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=deploy/lib.sh
. "$here/../lib.sh"

report_size() {
  local bytes
  bytes=$(docker image inspect --format '{{.Size}}' "$tag")
  say "$tag is ready: $((bytes / 1000000)) MB ($1)"
}

docker info >/dev/null 2>&1 || fail "no Docker engine answers; run 'bash deploy/engine.sh' first"

if [ "$mode" = dockerfile ]; then
  docker build -t "$tag" "$here"
  report_size "built from the Dockerfile"
  exit 0
fi

state_dir=${SANDFARM_STATE_DIR:-/var/lib/sandfarm}
mirror=${SANDFARM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=${SANDFARM_DEBIAN_SUITE:-bookworm}
packages=$(grep -v '^#' "$here/packages.txt" | grep -v '^$' | paste -sd, -)
recipe=$(cat "$here/packages.txt" "$here/finish-rootfs.sh" <(echo "$suite") | sha256sum | cut -c1-16)

current=$(docker image inspect --format '{{index .Config.Labels "sandfarm.recipe"}}' "$tag" 2>/dev/null || true)
rootfs="$state_dir/rootfs/$recipe"
if [ "$force" = 0 ] && [ "$current" = "$recipe" ] && [ -f "$rootfs/.sandfarm-complete" ]; then
  report_size "reused: recipe $recipe unchanged"
  exit 0
fi

if [ "$force" = 1 ] || [ ! -f "$rootfs/.sandfarm-complete" ]; then
  [ "$(id -u)" = 0 ] || fail "the offline build runs debootstrap, which needs root"
  install_debian_package debootstrap debootstrap "debootstrap (the offline image build)"
  work="$rootfs.partial"
  rm -rf "$work"
  mkdir -p "$(dirname "$rootfs")"
  say "debootstrap $suite from $mirror into $work (about 2 minutes)"
  debootstrap --variant=minbase --include="$packages" "$suite" "$work" "$mirror" \
    >"$state_dir/debootstrap-$recipe.log" 2>&1 ||
    { tail -n 20 "$state_dir/debootstrap-$recipe.log" >&2; fail "debootstrap failed; log: $state_dir/debootstrap-$recipe.log"; }
  bash "$here/finish-rootfs.sh" "$work"
  touch "$work/.sandfarm-complete"
  rm -rf "$rootfs"
  mv "$work" "$rootfs"
fi

previous_id=$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
say "importing $rootfs as $tag"
tar -C "$rootfs" --exclude=./.sandfarm-complete -c . |
  docker import \
    --change 'WORKDIR /testbed' \
    --change 'ENV LANG=C.UTF-8 PYTHONUNBUFFERED=1 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "LABEL sandfarm.recipe=$recipe sandfarm.version=$version" \
    --change 'CMD ["bash"]' \
    - "$tag" >/dev/null
# What an older recipe left: its image (now untagged) and its root filesystem.
if [ -n "$previous_id" ] && [ "$previous_id" != "$(docker image inspect --format '{{.Id}}' "$tag")" ]; then
  docker rmi "$previous_id" >/dev/null 2>&1 || true
fi
for stale in "$state_dir"/rootfs/*; do
  [ "$stale" = "$rootfs" ] || rm -rf "$stale"
done
report_size "built offline, recipe $recipe, root filesystem kept in $rootfs"
