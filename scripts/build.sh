#!/usr/bin/env bash
# Configures and builds one tree: scripts/build.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZSEND_WERROR=ON "$@" >/dev/null
# ZSEND_TARGET builds one target instead of everything.
cmake --build "$dir" -j"$(nproc)" ${ZSEND_TARGET:+--target "$ZSEND_TARGET"}
