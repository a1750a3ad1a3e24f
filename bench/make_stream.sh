#!/usr/bin/env bash
# Makes the benchmark inputs in $ZSEND_BENCH_DIR (default /dev/shm/zsend-bench):
#   zfs-stream.bin  a real `zfs send` stream of ~SIZE_MIB MiB of system files, made with zfs-fuse
#   random.bin      incompressible random data of the same size
# Usage: bench/make_stream.sh [SIZE_MIB]   (default 3072). Reuses files that already exist.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-3072}
dir=${ZSEND_BENCH_DIR:-/dev/shm/zsend-bench}
mkdir -p "$dir"

if [ ! -s "$dir/random.bin" ]; then
  head -c "$((size_mib << 20))" /dev/urandom >"$dir/random.bin"
fi
[ -s "$dir/zfs-stream.bin" ] && exit 0

scripts/zfs-fuse-up.sh
pool="zsendbench$$"
work=$(mktemp -d /var/tmp/zsend-bench-pool.XXXXXX)
cleanup() { zpool destroy -f "$pool" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
truncate -s "$((size_mib * 2))M" "$work/pool.img"
zpool create -m "$work/mnt" "$pool" "$work/pool.img"
zfs create "$pool/data"
# Real files: libraries, documentation, headers and tools, until the size is reached.
copied=0
for src in /usr/lib /usr/share /usr/include /usr/bin /opt; do
  while IFS= read -r -d '' f; do
    ((copied >= size_mib << 20)) && break 2
    rel=${f#/}
    mkdir -p "$work/mnt/data/$(dirname "$rel")"
    cp -a "$f" "$work/mnt/data/$rel" 2>/dev/null || continue
    copied=$((copied + $(stat -c %s "$f")))
  done < <(find "$src" -xdev -type f -print0 2>/dev/null)
done
zfs snapshot "$pool/data@bench"
zfs send "$pool/data@bench" >"$dir/zfs-stream.bin"
ls -l "$dir"
