#!/usr/bin/env bash
# Starts the zfs-fuse daemon unless it already runs, and waits until `zpool list` answers.
# A pidfile left by a daemon that no longer runs (a machine restored from a snapshot, a killed
# session) makes zfs-fuse exit 1 without a word, so a stale one is removed first. A daemon that
# dies while starting (an old one still shutting down) is started again, up to three times.
#
# A daemon whose filesystems stopped answering (zfs-fuse's FUSE side can deadlock while its
# command socket still answers: every stat of a mount then waits forever) is restarted: its
# mounts are aborted and dropped, and its pools forgotten (their image files stay). The tests
# run this before each zfs test, so one wedge costs the test it happened in, not the rest of
# the run. Each restart is appended to /run/zfs-fuse-restarts (ZSEND_ZFS_FUSE_RESTARTS) for
# scripts/test.sh to report.
set -euo pipefail
pidfile=/run/zfs-fuse.pid
[ -e /dev/fuse ] || { echo "zfs-fuse-up: /dev/fuse is missing; load the fuse module" >&2; exit 1; }

start() {
  rm -f "$pidfile" /var/run/zfs-fuse.pid
  zfs-fuse --pidfile "$pidfile" || echo "zfs-fuse-up: zfs-fuse exited $? while starting" >&2
}

# zfs-fuse's mounts, deepest first (mount points hold no spaces here: /proc/mounts escapes them).
zfs_fuse_mounts() {
  awk '$3 == "fuse.zfs" {print $2}' /proc/mounts | sort -r
}

wait_s=${ZSEND_ZFS_FUSE_WAIT:-10}

# What did not answer, when a mount's statfs (up to three mounts; statfs always goes to the
# daemon) takes over ZSEND_ZFS_FUSE_WAIT seconds (10); nothing when they answer. A mount whose statfs says
# "Transport endpoint is not connected" belongs to a daemon that is gone and is dropped. With
# no mount to ask, a small pool of the script's own is made, asked and destroyed (about 0.1 s).
# (stat's stderr goes to a file: a pipe would keep this waiting for a stat the kill cannot end.)
wedged_mount() {
  local mnt rc asked=0
  for mnt in $(zfs_fuse_mounts | head -3); do
    rc=0
    LC_ALL=C timeout -s KILL "$wait_s" stat -f -- "$mnt" >/dev/null 2>"$probe_dir/stat.err" || rc=$?
    if [ "$rc" -eq 137 ]; then
      echo "statfs of $mnt took over $wait_s s"
      return 0
    fi
    if [ "$rc" -eq 0 ]; then
      asked=1
    elif grep -q "not connected" "$probe_dir/stat.err"; then
      umount -l -- "$mnt" 2>/dev/null || true
    fi
  done
  [ "$asked" -eq 0 ] || return 0
  local name=zsendprobe$$
  truncate -s 64M "$probe_dir/pool.img"
  rc=0
  timeout -s KILL 20 zpool create -m "$probe_dir/mnt" "$name" "$probe_dir/pool.img" >/dev/null 2>&1 ||
    rc=$?
  if [ "$rc" -eq 137 ]; then
    echo "zpool create of a probe pool took over 20 s"
    return 0
  fi
  [ "$rc" -eq 0 ] || return 0 # no pool: the `zpool list` below tells what is wrong
  rc=0
  timeout -s KILL "$wait_s" stat -f -- "$probe_dir/mnt" >/dev/null 2>&1 || rc=$?
  if [ "$rc" -eq 137 ]; then
    echo "statfs of a probe pool's $probe_dir/mnt took over $wait_s s"
    return 0
  fi
  timeout -s KILL 20 zpool destroy -f "$name" >/dev/null 2>&1 || true
}

# Aborts the FUSE connections of zfs-fuse's mounts (fuse.zfs and its /zfs-kstat) and no other
# file system's: their waiting requests fail (ENOTCONN), so no process stays stuck in them.
# A connection is named by its mount's device minor (mountinfo's third field, 0:MINOR).
abort_connections() {
  mountpoint -q /sys/fs/fuse/connections || mount -t fusectl fusectl /sys/fs/fuse/connections || true
  local minor
  for minor in $(awk '{
      for (i = 7; i <= NF && $i != "-"; i++) {}
      split($3, dev, ":")
      if (dev[1] == 0 && ($(i + 1) == "fuse.zfs" || $5 == "/zfs-kstat")) print dev[2]
    }' /proc/self/mountinfo); do
    if [ -e "/sys/fs/fuse/connections/$minor/abort" ]; then
      echo 1 >"/sys/fs/fuse/connections/$minor/abort" 2>/dev/null || true
    fi
  done
}

# Takes down a daemon that cannot serve its mounts (REASON), and the mounts with it.
drop_daemon() { # REASON
  echo "zfs-fuse-up: $1; restarting zfs-fuse, dropping its mounts and forgetting its pools" >&2
  echo "$(date -u +%FT%TZ) $1" >>"${ZSEND_ZFS_FUSE_RESTARTS:-/run/zfs-fuse-restarts}"
  abort_connections
  pkill -KILL -x zfs-fuse || true
  for _ in $(seq 1 50); do pgrep -x zfs-fuse >/dev/null || break; sleep 0.1; done
  local mnt
  for mnt in $(zfs_fuse_mounts) /zfs-kstat; do umount -l -- "$mnt" 2>/dev/null || true; done
  rm -f /var/lib/zfs/zpool.cache /etc/zfs/zpool.cache
}

if pgrep -x zfs-fuse >/dev/null; then
  probe_dir=$(mktemp -d /tmp/zsend-zfs-fuse-probe.XXXXXX)
  stuck=$(wedged_mount)
  [ -z "$stuck" ] || drop_daemon "zfs-fuse stopped answering ($stuck)"
  umount -l "$probe_dir/mnt" 2>/dev/null || true # a probe pool the daemon could not destroy
  rm -rf --one-file-system "$probe_dir" 2>/dev/null || true
elif [ -n "$(zfs_fuse_mounts)" ]; then
  # A daemon that died left its mounts: a new one would import its pools over them.
  drop_daemon "zfs-fuse is not running but $(zfs_fuse_mounts | wc -l) of its mounts remain"
fi

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
  rc=0
  timeout -s KILL 20 zpool list >/dev/null 2>&1 || rc=$?
  [ "$rc" -eq 0 ] && exit 0
  [ "$rc" -eq 137 ] && drop_daemon "zfs-fuse stopped answering (zpool list took over 20 s)"
  sleep 0.2
done
echo "zfs-fuse-up: zfs-fuse did not answer 100 times in a row" >&2
exit 1
