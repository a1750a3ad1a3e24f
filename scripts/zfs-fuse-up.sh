#!/usr/bin/env bash
# Starts the zfs-fuse daemon unless it already runs, and waits until `zpool list` answers.
set -euo pipefail
if ! pgrep -x zfs-fuse >/dev/null; then
  [ -e /dev/fuse ] || { echo "zfs-fuse-up: /dev/fuse is missing; load the fuse module" >&2; exit 1; }
  zfs-fuse --pidfile /run/zfs-fuse.pid
fi
for _ in $(seq 1 50); do
  zpool list >/dev/null 2>&1 && exit 0
  sleep 0.2
done
echo "zfs-fuse-up: zfs-fuse did not answer within 10 s" >&2
exit 1
