#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/*_fuzz.cpp) with clang in build-fuzz and runs each for a
# short while: scripts/fuzz.sh [SECONDS_PER_TARGET, default 20].
# Seeds come from our own encoder and the standard tools, so the fuzzer starts from valid
# frames. Exits non-zero when a target crashes or a sanitizer fires (the reproducer is left in
# build-fuzz/crashes/).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DZSEND_FUZZ=ON -DZSEND_TESTS=OFF >/dev/null
# Only what fuzzing needs: the targets, and a zsend-engine to make the seeds: the release
# tree's when it has one (scripts/test.sh builds it first), else this tree's.
targets=$(ls fuzz/*_fuzz.cpp | xargs -n1 basename | sed 's/\.cpp$//')
seed_engine=build/bin/zsend-engine
[ -x "$seed_engine" ] || { targets="$targets zsend-engine" && seed_engine=build-fuzz/bin/zsend-engine; }
# shellcheck disable=SC2086
cmake --build build-fuzz -j"$(nproc)" --target $targets

seeds=build-fuzz/seeds
rm -rf "$seeds" && mkdir -p "$seeds"/{zstd,gzip,lz4} build-fuzz/crashes
sample=$(mktemp)
trap 'rm -f "$sample"' EXIT
head -c 200000 /usr/share/common-licenses/GPL-3 >"$sample" 2>/dev/null || head -c 200000 /dev/urandom >"$sample"
engine="$seed_engine buffer -q -m 1M -s 16k"
for spec in zstd zstd:-5 auto; do $engine --compress "$spec" <"$sample" >"$seeds/zstd/ours-${spec/:/_}"; done
for spec in gzip:1 gzip:9; do $engine --compress "$spec" <"$sample" >"$seeds/gzip/ours-${spec/:/_}"; done
$engine --compress lz4 <"$sample" >"$seeds/lz4/ours"
if command -v zstd >/dev/null; then zstd -q -c <"$sample" >"$seeds/zstd/tool"; fi
if command -v gzip >/dev/null; then gzip -c <"$sample" >"$seeds/gzip/tool"; fi
if command -v lz4 >/dev/null; then lz4 -q -c <"$sample" >"$seeds/lz4/tool"; fi

status=0
for format in zstd gzip lz4; do
  target=build-fuzz/bin/${format}_decode_fuzz
  echo "== fuzz ${format} for ${seconds}s"
  if ! "$target" -max_total_time="$seconds" -max_len=300000 -rss_limit_mb=1024 -timeout=10 \
    -artifact_prefix=build-fuzz/crashes/"$format"- -print_final_stats=1 \
    "$seeds/$format" 2>build-fuzz/fuzz-"$format".log; then
    echo "fuzz: ${format} target failed; see build-fuzz/fuzz-${format}.log and build-fuzz/crashes/"
    tail -30 build-fuzz/fuzz-"$format".log
    status=1
  else
    grep -E 'stat::number_of_executed_units|Done' build-fuzz/fuzz-"$format".log | tail -2
  fi
done

# The wire protocol: frame parser, handshake reader and dedup decoder, from empty corpora.
for name in frame handshake dedup far_command; do
  target=build-fuzz/bin/${name}_fuzz
  mkdir -p "$seeds/$name"
  echo "== fuzz ${name} for ${seconds}s"
  if ! "$target" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=1024 -timeout=10 \
    -artifact_prefix=build-fuzz/crashes/"$name"- -print_final_stats=1 \
    "$seeds/$name" 2>build-fuzz/fuzz-"$name".log; then
    echo "fuzz: ${name} target failed; see build-fuzz/fuzz-${name}.log and build-fuzz/crashes/"
    tail -30 build-fuzz/fuzz-"$name".log
    status=1
  else
    grep -E 'stat::number_of_executed_units|Done' build-fuzz/fuzz-"$name".log | tail -2
  fi
done
exit $status
