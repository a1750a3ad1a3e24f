#!/usr/bin/env bash
# Installs everything zsend needs to build, test and benchmark, from Debian 12 packages only.
# Run as root. Safe to run again.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config git clang libclang-rt-14-dev
  # libraries
  liburing-dev libzstd-dev zlib1g-dev liblz4-dev libdeflate-dev libxxhash-dev libsodium-dev libssl-dev
  libcli11-dev nlohmann-json3-dev libsqlite3-dev libcurl4-openssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # real parts the tests and benchmarks use
  zfs-fuse mbuffer zstd lz4 xxhash gzip pigz pv openssh-server openssh-client iproute2 iputils-ping psmisc procps
  python3 python3-aiosmtpd python3-prometheus-client python3-matplotlib sanoid
  openssl util-linux mount  # STARTTLS test certificate; the --syslog test's mount namespace
  debootstrap qemu-system-x86 e2fsprogs  # the OpenZFS guest (scripts/openzfs-vm.sh)
)

export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all ${#packages[@]} packages present"
fi
