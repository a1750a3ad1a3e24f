#!/bin/sh
# Re-records tests/data/openzfs-golden/recorded.txt from real OpenZFS in the guest of
# scripts/openzfs-vm.sh: boots it when it is not running (and stops it again afterwards), runs
# commands.txt on the pool of scenario.sh and rewrites the recording. Run it after changing
# commands.txt or scenario.sh, or when Debian moves OpenZFS; review the diff, then make the fake
# zfs answer the same (`zsend_tests --gtest_filter='FakeZfsGolden.*'`).
# Usage: scripts/record-openzfs-golden.sh [BUILD_DIR]   (default: build)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$root/build"}
cmake --build "$build" --target zsend_openzfs_tests zsend zsend-engine
started=no
if ! "$root/scripts/openzfs-vm.sh" status >/dev/null; then
  ZSEND_VM_BIN="$build/bin" "$root/scripts/openzfs-vm.sh" up
  started=yes
fi
status=0
ZSEND_RECORD_GOLDEN=1 "$build/bin/zsend_openzfs_tests" --gtest_filter='OpenZfsGolden.*' || status=$?
[ "$started" = no ] || "$root/scripts/openzfs-vm.sh" down
exit "$status"
