#!/usr/bin/env bash
# The README Quick start's main job (until the zsend orchestrator exists), as root on Debian 12:
# installs the dependencies, builds, starts zfs-fuse, makes two pools on files, copies real
# files into a dataset, snapshots it, moves
#   zfs send SRC@snap | zsend-engine buffer --hash sha256 | zfs recv DST
# and shows that the received files are identical. Exits non-zero if any step fails.
# Pools: zsend-demo-src / zsend-demo-dst (left-overs of an earlier run are destroyed first;
# both are destroyed at exit). ZSEND_DEMO_SOURCE picks another source directory.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "demo: $*"; }
fail() {
  echo "demo: FAILED: $*" >&2
  exit 1
}
[ "$(id -u)" -eq 0 ] || fail "run as root (zfs-fuse and zpool need it): sudo $0"

source_dir=${ZSEND_DEMO_SOURCE:-/usr/share/doc}
limit_mib=200 # copy at most this much, so the demo stays under a minute
src_pool=zsend-demo-src
dst_pool=zsend-demo-dst
dataset=data
snapshot=demo

scripts/install-deps.sh
scripts/build.sh build
scripts/zfs-fuse-up.sh
engine=$PWD/build/bin/zsend-engine
[ -x "$engine" ] || fail "$engine was not built"

# Destroys the demo's pools (left-overs too), then the temporary directories that held their
# backing files: only after every pool is gone, so rm never walks into a mounted dataset.
destroy_pools() {
  local pool vdev dirs=()
  for pool in "$dst_pool" "$src_pool"; do
    zpool list "$pool" >/dev/null 2>&1 || continue
    vdev=$(zpool status "$pool" | awk '$1 ~ /^\/.*\/zsend-demo\.[^/]*\/[^/]*$/ {print $1; exit}')
    [ -n "$vdev" ] && dirs+=("$(dirname "$vdev")")
    # zfs-fuse may hold the mount busy for a moment after the last file was read.
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      zpool destroy -f "$pool" 2>/dev/null && break
      sleep 0.5
    done
    ! zpool list "$pool" >/dev/null 2>&1 || fail "cannot destroy pool $pool; is a shell using its files?"
  done
  ((${#dirs[@]} == 0)) || rm -rf -- "${dirs[@]}"
}

work=""
cleanup() {
  local rc=$?
  destroy_pools || rc=1
  [ -n "$work" ] && rm -rf -- "$work"
  [ "$rc" -eq 0 ] || echo "demo: FAILED (exit $rc); the pools were destroyed" >&2
  exit "$rc"
}
trap cleanup EXIT

destroy_pools
work=$(mktemp -d /var/tmp/zsend-demo.XXXXXX)
for pool in "$src_pool" "$dst_pool"; do
  truncate -s 1G "$work/$pool.img"
  zpool create -m "$work/$pool" "$pool" "$work/$pool.img" 2>/dev/null ||
    fail "cannot create pool $pool on $work/$pool.img"
done
zfs create "$src_pool/$dataset"
src_mnt=$(zfs get -H -o value mountpoint "$src_pool/$dataset")

# Real files: $source_dir, taking files (in find's order) while they fit in $limit_mib MiB.
[ -d "$source_dir" ] || fail "$source_dir does not exist; set ZSEND_DEMO_SOURCE"
limit_bytes=$((limit_mib << 20))
total=0
while IFS=$'\t' read -r -d '' type size path; do
  if [ "$type" = f ]; then
    [ $((total + size)) -le "$limit_bytes" ] || continue
    total=$((total + size))
  fi
  printf '%s\0' "$path"
done < <(find "$source_dir" -mindepth 1 -printf '%y\t%s\t%P\0') >"$work/files.list"
tar -C "$source_dir" --null --no-recursion -T "$work/files.list" -cf - |
  tar -C "$src_mnt" -xpf - || fail "cannot copy $source_dir into $src_mnt"
files=$(find "$src_mnt" -type f | wc -l)
[ "$files" -gt 0 ] || fail "no files copied from $source_dir"
say "copied $files files ($(du -sh --apparent-size "$src_mnt" | cut -f1)) of $source_dir into $src_pool/$dataset"
zfs snapshot "$src_pool/$dataset@$snapshot"

say "zfs send $src_pool/$dataset@$snapshot | zsend-engine buffer --hash sha256 | zfs recv $dst_pool/$dataset"
start_us=${EPOCHREALTIME/./}
set +e
zfs send "$src_pool/$dataset@$snapshot" |
  "$engine" buffer --hash sha256 2>"$work/buffer.log" |
  zfs recv "$dst_pool/$dataset"
status=("${PIPESTATUS[@]}")
set -e
sed 's/^/  /' "$work/buffer.log"
[ "${status[0]}" -eq 0 ] || fail "zfs send exited ${status[0]}"
[ "${status[1]}" -eq 0 ] || fail "zsend-engine buffer exited ${status[1]}"
[ "${status[2]}" -eq 0 ] || fail "zfs recv exited ${status[2]}"
elapsed_ms=$(((${EPOCHREALTIME/./} - start_us) / 1000))
say "moved in $((elapsed_ms / 1000)).$(printf '%03d' $((elapsed_ms % 1000))) s"

zfs list -H -t snapshot -o name "$dst_pool/$dataset@$snapshot" >/dev/null ||
  fail "$dst_pool/$dataset@$snapshot was not received"
dst_mnt=$(zfs get -H -o value mountpoint "$dst_pool/$dataset")

# Contents (without following symlinks), then names, types, modes, owners, sizes, link targets.
diff -r --no-dereference "$src_mnt" "$dst_mnt" >"$work/diff.txt" ||
  fail "received files differ: $(head -3 "$work/diff.txt")"
listing() { (cd "$1" && find . -printf '%p %y %m %u %g %s %l\n' | LC_ALL=C sort); }
cmp -s <(listing "$src_mnt") <(listing "$dst_mnt") ||
  fail "received file metadata differs (modes, owners, sizes or links)"

received_files=$(find "$dst_mnt" -type f | wc -l)
say "received $dst_pool/$dataset@$snapshot: $received_files files ($(du -sh --apparent-size "$dst_mnt" | cut -f1))"
say "identical: every file, directory and symlink matches (contents, modes, owners, sizes)"
