#!/usr/bin/env bash
# Two (or more) engine builds side by side on loopback tcp, to tell the code from the machine:
#
#   bench/engine_ab.sh [-r ROUNDS] [-i INPUT] [-c CODEC] LABEL=PATH/zsend-engine ...
#
# Each round runs every build once, interleaved (a slow moment of the machine hits all of them):
# the build's own `recv --listen 127.0.0.1:0 --once --announce -o /dev/null` and its own
# `send --connect` with the announced key, moving INPUT (default: the 1 GiB zfs stream of
# bench/make_stream.sh). Prints each build's MB/s per round and the median, then the fixed cost
# per transfer: ten 1 KB transfers back to back, in milliseconds each.
set -euo pipefail
rounds=7
input=${ZSEND_BENCH_DIR:-/dev/shm/zsend-bench}/zfs-stream-1g.bin
codec=none
while getopts r:i:c: opt; do
  case $opt in
  r) rounds=$OPTARG ;;
  i) input=$OPTARG ;;
  c) codec=$OPTARG ;;
  *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: bench/engine_ab.sh [-r N] [-i FILE] [-c CODEC] LABEL=ENGINE..." >&2; exit 2; }
[ -r "$input" ] || { echo "engine_ab: no input $input (run bench/make_stream.sh 1024)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"${1#*=}" keygen -o "$work/key" >/dev/null 2>&1 || { echo "engine_ab: keygen failed" >&2; exit 1; }

# One transfer of FILE from ENGINE to itself; prints MB/s of FILE moved.
transfer() { # ENGINE FILE
  local engine=$1 file=$2 line port pub t0 t1 pid
  coproc receiver { "$engine" recv --listen 127.0.0.1:0 --once --announce -q \
    --authorize "$(cat "$work/key.pub")" -o /dev/null; }
  pid=$receiver_PID # bash unsets receiver_PID once the receiver has ended
  read -r line <&"${receiver[0]}"
  port=$(sed -E 's/.*"port":([0-9]+).*/\1/' <<<"$line")
  pub=$(sed -E 's/.*"pubkey":"([^"]+)".*/\1/' <<<"$line")
  t0=$(date +%s%N)
  "$engine" send -q --connect "127.0.0.1:$port" --peer "$pub" --key "$work/key" --codec "$codec" -i "$file"
  wait "$pid"
  t1=$(date +%s%N)
  echo $(($(stat -c %s "$file") * 1000 / (t1 - t0)))
}

declare -A runs
for ((r = 1; r <= rounds; r++)); do
  for build in "$@"; do runs[$build]+="$(transfer "${build#*=}" "$input") "; done
done
head -c 1000 /dev/urandom >"$work/small"
for build in "$@"; do
  median=$(tr ' ' '\n' <<<"${runs[$build]}" | grep . | sort -n | sed -n "$(((rounds + 1) / 2))p")
  t0=$(date +%s%N)
  for i in 1 2 3 4 5 6 7 8 9 10; do transfer "${build#*=}" "$work/small" >/dev/null; done
  echo "${build%%=*}: MB/s ${runs[$build]}median $median; $((($(date +%s%N) - t0) / 10000000)) ms per 1 KB transfer"
done
