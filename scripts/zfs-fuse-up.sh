#!/usr/bin/env bash
# Starts the zfs-fuse daemon unless it already runs, and waits until `zpool list` answers.
# A pidfile left by a daemon that no longer runs (a machine restored from a snapshot, a killed
# session) makes zfs-fuse exit 1 without a word, so a stale one is removed first. A daemon that
# dies while starting (an old one still shutting down) is started again, up to three times.
set -euo pipefail
pidfile=/run/zfs-fuse.pid
[ -e /dev/fuse ] || { echo "zfs-fuse-up: /dev/fuse is missing; load the fuse module" >&2; exit 1; }

start() {
  rm -f "$pidfile" /var/run/zfs-fuse.pid
  zfs-fuse --pidfile "$pidfile" || echo "zfs-fuse-up: zfs-fuse exited $? while starting" >&2
}

starts=0
for _ in $(seq 1 100); do
  if ! pgrep -x zfs-fuse >/dev/null; then
    if ((starts == 3)); then
      echo "zfs-fuse-up: zfs-fuse would not stay up after 3 starts; run 'zfs-fuse --no-daemon' to see why" >&2
      exit 1
    fi
    start
    starts=$((starts + 1))
  fi
  zpool list >/dev/null 2>&1 && exit 0
  sleep 0.2
done
echo "zfs-fuse-up: zfs-fuse did not answer within 20 s" >&2
exit 1
