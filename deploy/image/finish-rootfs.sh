#!/usr/bin/env bash
# Finishes a debootstrapped root filesystem into the sandbox image's contents. Part of the image
# recipe: build.sh hashes this file with packages.txt, so a change here rebuilds the image.
#   bash deploy/image/finish-rootfs.sh ROOTFS
set -euo pipefail
rootfs=${1:?usage: finish-rootfs.sh ROOTFS}
# Downloaded .debs are dead weight.
rm -f "$rootfs"/var/cache/apt/archives/*.deb
# pip must install into the system Python: installing packages is one of the capabilities the
# model is meant to use, and the sandbox is thrown away after the episode.
rm -f "$rootfs"/usr/lib/python3*/EXTERNALLY-MANAGED
mkdir -p "$rootfs/testbed"
