#!/usr/bin/env bash
# The README Quick start's main job, as root on Debian 12: installs the dependencies, builds,
# starts zfs-fuse, makes two pools on files, copies real files into a dataset, marks it with
# zsend:demo=true and runs `zsend backup demo DST` twice (full, then incremental after some
# changes), showing each run's result and that the received files are identical. Exits non-zero
# if any step fails.
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

scripts/install-deps.sh
scripts/build.sh build
scripts/zfs-fuse-up.sh
zsend=$PWD/build/bin/zsend
[ -x "$zsend" ] || fail "$zsend was not built"

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
# The job: back up every dataset with zsend:demo=true into $dst_pool (--strip-path 1 drops the
# source pool's name). The copies are received read-only (the default), so reading them changes
# nothing (atime) and the next incremental run applies.
zfs set zsend:demo=true "$src_pool/$dataset"
backup() {
  "$zsend" backup demo "$dst_pool" --strip-path 1 --snapshot-name "$1" -v \
    --state-dir "$work/state"
}

say "zsend backup demo $dst_pool --strip-path 1   (first run: full)"
start_us=${EPOCHREALTIME/./}
backup run1 2>&1 | sed 's/^/  /'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "the first zsend backup failed"
elapsed_ms=$(((${EPOCHREALTIME/./} - start_us) / 1000))
say "first run in $((elapsed_ms / 1000)).$(printf '%03d' $((elapsed_ms % 1000))) s"

# Some changes, then the second run sends only them (one -I stream).
changed_dir="$src_mnt/zsend-demo-changes"
mkdir -p "$changed_dir"
head -c 3000000 /dev/urandom >"$changed_dir/new-file.bin"
date >"$changed_dir/when.txt"
say "added $(du -sh --apparent-size "$changed_dir" | cut -f1) of new files; second run (incremental)"
start_us=${EPOCHREALTIME/./}
backup run2 2>&1 | sed 's/^/  /'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "the second zsend backup failed"
elapsed_ms=$(((${EPOCHREALTIME/./} - start_us) / 1000))
say "second run in $((elapsed_ms / 1000)).$(printf '%03d' $((elapsed_ms % 1000))) s"

for snap in demo-run1 demo-run2; do
  zfs list -H -t snapshot -o name "$dst_pool/$dataset@$snap" >/dev/null ||
    fail "$dst_pool/$dataset@$snap was not received"
done
say "held on the source: $(zfs get -H -o name,value userrefs "$src_pool/$dataset@demo-run2" | tr '\t' ' ')"
dst_mnt=$(zfs get -H -o value mountpoint "$dst_pool/$dataset")

# Contents (without following symlinks), then names, types, modes, owners, sizes, link targets.
diff -r --no-dereference "$src_mnt" "$dst_mnt" >"$work/diff.txt" ||
  fail "received files differ: $(head -3 "$work/diff.txt")"
listing() { (cd "$1" && find . -printf '%p %y %m %u %g %s %l\n' | LC_ALL=C sort); }
cmp -s <(listing "$src_mnt") <(listing "$dst_mnt") ||
  fail "received file metadata differs (modes, owners, sizes or links)"

received_files=$(find "$dst_mnt" -type f | wc -l)
say "received $dst_pool/$dataset@demo-run2: $received_files files ($(du -sh --apparent-size "$dst_mnt" | cut -f1))"
say "identical: every file, directory and symlink matches (contents, modes, owners, sizes)"
