#!/usr/bin/env bash
# A Debian 12 guest with real OpenZFS 2.1 (Debian's zfs-dkms + zfsutils-linux from `contrib`),
# booted under qemu for the `openzfs` test suite (docs/openzfs.md).
#
#   scripts/openzfs-vm.sh up       build the image unless cached, boot it, wait for ssh, copy
#                                  zsend and zsend-engine (from $ZSEND_VM_BIN, default build/bin)
#                                  to /usr/local/bin in the guest. Idempotent: when the guest
#                                  already runs it only copies the binaries again.
#   scripts/openzfs-vm.sh down     stop the guest (SIGTERM, then SIGKILL); never fails when none runs
#   scripts/openzfs-vm.sh ssh ARGS run ARGS in the guest as root (stdin, stdout, exit code pass through)
#   scripts/openzfs-vm.sh status   "running PORT IMAGE" and exit 0 when ssh answers, else exit 3
#   scripts/openzfs-vm.sh image    build the image unless cached and print its directory; `up`
#                                  with ZSEND_VM_IMAGE=that directory skips the version check
#
# The image is built once with debootstrap from the Debian mirror in the host's apt sources (the
# suites the host uses, components main and contrib) and cached in
# /var/cache/zsend/openzfs-vm/<key>/ (override: ZSEND_VM_CACHE), where <key> hashes this recipe
# and the candidate versions of the kernel, OpenZFS, sshd and the runtime libraries: when Debian
# moves one of them, the next `up` builds a new image. Every boot starts from the pristine image
# (qemu -snapshot: the guest's writes go to a temporary overlay that qemu deletes).
# The guest: `-accel tcg -cpu max -smp 2 -m 3072` (nested KVM does not boot here; ZSEND_VM_ACCEL
# overrides), kernel and initrd given directly, root on a virtio raw image, user-mode network
# with the guest's sshd forwarded to a free port on 127.0.0.1 only. The ssh key is generated
# with the image; nothing touches the host's ssh configuration (ssh runs with -F /dev/null).
# The guest's root can ssh to itself (localhost) for zsend's ssh paths.
#
# Run state (pid, port, serial console log, ssh control socket) is in /run/zsend-openzfs-vm
# (override: ZSEND_VM_RUN). Exit codes: 0 ok, 1 failure (message on stderr), 2 usage, 3 not running, 4 a prerequisite
# (root, qemu, debootstrap) missing outside CI.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cache_root=${ZSEND_VM_CACHE:-/var/cache/zsend/openzfs-vm}
run_dir=${ZSEND_VM_RUN:-/run/zsend-openzfs-vm}
bin_dir=${ZSEND_VM_BIN:-$repo/build/bin}
accel=${ZSEND_VM_ACCEL:-tcg}
boot_deadline=${ZSEND_VM_BOOT_SECONDS:-420}
recipe=3 # bump when the image recipe below changes

# What the guest has besides the base system: the kernel, OpenZFS, sshd and ssh for zsend's ssh
# paths, the tools zsend and the tests call, and the runtime libraries of zsend and zsend-engine
# (the same Debian packages the host builds against, so the copied binaries run unchanged).
guest_packages=(
  linux-image-amd64 linux-headers-amd64 zfs-dkms zfsutils-linux
  openssh-server openssh-client mbuffer pv zstd lz4 procps psmisc kmod iproute2 sanoid
  liburing2 libzstd1 zlib1g liblz4-1 libdeflate0 libxxhash0 libsodium23 libssl3 libsqlite3-0
  libcurl4 libstdc++6
)

die() {
  echo "openzfs-vm: $*" >&2
  exit 1
}
log() { echo "openzfs-vm: $*" >&2; }

# A prerequisite this machine lacks: exit 4 (ctest's OpenZfsVm.Up then counts as skipped),
# except in CI (CI=true), where a guest that cannot be built or booted is a failure.
missing() {
  echo "openzfs-vm: $*" >&2
  [ "${CI:-}" = true ] && exit 1
  exit 4
}
[ "$(id -u)" -eq 0 ] || missing "must run as root (debootstrap, /var/cache, /run); run it with sudo"

# --- the host's Debian mirror -------------------------------------------------------------------

codename() { . /etc/os-release && echo "${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}"; }

# Prints "URI SUITE" for every Debian suite of this release in the host's apt sources
# (deb822 *.sources and one-line *.list), e.g. "http://deb.debian.org/debian bookworm".
host_debian_sources() {
  local cn
  cn=$(codename)
  python3 - "$cn" /etc/apt/sources.list /etc/apt/sources.list.d/* <<'EOF'
import sys, re, os
cn, files = sys.argv[1], sys.argv[2:]
wanted = {cn, cn + "-updates", cn + "-security"}
seen = []
def add(uri, suite):
    uri = uri.rstrip("/")
    if suite in wanted and (uri, suite) not in seen:
        seen.append((uri, suite))
for f in files:
    if not os.path.isfile(f):
        continue
    text = open(f, encoding="utf-8", errors="replace").read()
    if f.endswith(".sources"):
        for stanza in re.split(r"\n\s*\n", text):
            fields, key = {}, None
            for line in stanza.splitlines():
                if line.startswith("#") or not line.strip():
                    continue
                if line[0].isspace() and key:
                    fields[key] += " " + line.strip()
                    continue
                key, _, value = line.partition(":")
                key = key.strip().lower()
                fields[key] = value.strip()
            if "deb" not in fields.get("types", "").split():
                continue
            if fields.get("enabled", "yes").lower() == "no":
                continue
            for uri in fields.get("uris", "").split():
                for suite in fields.get("suites", "").split():
                    add(uri, suite)
    elif f.endswith(".list"):
        for line in text.splitlines():
            words = line.split("#", 1)[0].split()
            if len(words) >= 3 and words[0] == "deb":
                words = [w for w in words[1:] if not w.startswith("[")]
                if len(words) >= 2:
                    add(words[0], words[1])
for uri, suite in seen:
    print(uri, suite)
EOF
}

# One-line apt sources (main contrib) for every Debian suite the host uses.
sources_list() {
  local uri suite
  while read -r uri suite; do echo "deb $uri $suite main contrib"; done < <(host_debian_sources)
}

main_mirror() {
  local cn uri suite
  cn=$(codename)
  while read -r uri suite; do
    [ "$suite" = "$cn" ] && { echo "$uri"; return 0; }
  done < <(host_debian_sources)
  return 1
}

# --- the cache key: this recipe and the candidate versions of the guest's packages --------------

# A private apt state (its own lists, the host's keyring) that sees contrib too, so the versions
# are known before anything is built. Prints "package version" lines.
candidate_versions() {
  local apt_dir=$cache_root/apt
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
  sources_list >"$apt_dir/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir" -o "Dir::State::status=/dev/null"
    -o "APT::Architecture=amd64" -o "Debug::NoLocking=1")
  apt-get "${opts[@]}" -qq update >"$apt_dir/update.log" 2>&1 || {
    cat "$apt_dir/update.log" >&2
    return 1
  }
  local p v
  for p in "${guest_packages[@]}"; do
    v=$(apt-cache "${opts[@]}" policy "$p" | awk '/Candidate:/ {print $2}')
    [ -n "$v" ] && [ "$v" != "(none)" ] || { echo "openzfs-vm: no candidate for $p in the host's mirror (with contrib)" >&2; return 1; }
    echo "$p $v"
  done
  # The kernel the metapackage points at (its ABI name is in the dependency).
  apt-cache "${opts[@]}" depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print "kernel", $2; exit}'
}

# Prints the image directory for the current key, building it when missing.
image_dir() {
  local versions key dir
  mkdir -p "$cache_root"
  if ! versions=$(candidate_versions); then
    # No mirror right now: the newest complete image still serves outside CI.
    dir=$(ls -td "$cache_root"/img-*/ 2>/dev/null | while read -r d; do [ -e "$d/complete" ] && echo "${d%/}" && break; done)
    if [ -n "$dir" ] && [ "${CI:-}" != true ]; then
      log "the mirror did not answer; using the cached image $dir"
      echo "$dir"
      return 0
    fi
    die "cannot read package versions from the host's Debian mirror (see $cache_root/apt/update.log)"
  fi
  key=$( (echo "recipe $recipe"; echo "$versions"; sources_list) | sha256sum | cut -c1-16)
  dir=$cache_root/img-$key
  if [ ! -e "$dir/complete" ]; then
    build_image "$dir" "$versions" >&2
  fi
  echo "$dir"
}

# --- building the image --------------------------------------------------------------------------

chroot_mounts=()
unmount_chroot() {
  local i
  for ((i = ${#chroot_mounts[@]} - 1; i >= 0; i--)); do
    umount -l "${chroot_mounts[i]}" 2>/dev/null || true
  done
  chroot_mounts=()
}

build_image() { # DIR VERSIONS
  local dir=$1 versions=$2 mirror tmp root t0
  t0=$(date +%s)
  mirror=$(main_mirror) || die "no Debian '$(codename)' suite in the host's apt sources (/etc/apt/sources.list*)"
  command -v debootstrap >/dev/null || missing "debootstrap is missing; run scripts/install-deps.sh"
  command -v mkfs.ext4 >/dev/null || missing "mkfs.ext4 is missing (e2fsprogs)"
  log "building the guest image $(basename "$dir") from $mirror (a few minutes; once per package versions)"
  tmp=$cache_root/build.$$
  root=$tmp/root
  # A build cut short leaves no mounts and no half image behind.
  trap 'unmount_chroot; rm -rf --one-file-system "$tmp"' EXIT
  rm -rf --one-file-system "$cache_root"/build.* 2>/dev/null || true
  mkdir -p "$root" "$cache_root/debs"
  debootstrap --variant=minbase --components=main,contrib --cache-dir="$cache_root/debs" \
    --include=systemd-sysv,udev,ifupdown,openssh-server,ca-certificates \
    "$(codename)" "$root" "$mirror" >"$tmp.debootstrap.log" 2>&1 || {
    tail -30 "$tmp.debootstrap.log" >&2
    die "debootstrap failed (log above)"
  }
  sources_list >"$root/etc/apt/sources.list"
  # No service starts inside the chroot (sshd would bind the host's port 22).
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod +x "$root/usr/sbin/policy-rc.d"
  mount -t proc proc "$root/proc" && chroot_mounts+=("$root/proc")
  mount -t sysfs sysfs "$root/sys" && chroot_mounts+=("$root/sys")
  mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts" && chroot_mounts+=("$root/dev/pts")
  mount --bind "$cache_root/debs" "$root/var/cache/apt/archives" && chroot_mounts+=("$root/var/cache/apt/archives")
  local kver
  kver=$(awk '$1 == "kernel" {print $2}' <<<"$versions" | sed 's/^linux-image-//')
  [ -n "$kver" ] || die "cannot tell the kernel version from the mirror's linux-image-amd64"
  # Debian's zfs-dkms asks nothing when debconf is noninteractive; dkms builds the module for
  # the guest kernel (its headers are installed), not for the host's running kernel.
  chroot "$root" env DEBIAN_FRONTEND=noninteractive LC_ALL=C bash -euo pipefail -c "
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends ${guest_packages[*]}
    ls /lib/modules/$kver/updates/dkms/zfs.ko* >/dev/null 2>&1 || dkms autoinstall -k $kver
    ls /lib/modules/$kver/updates/dkms/zfs.ko* >/dev/null
    depmod -a $kver
  " >"$tmp.apt.log" 2>&1 || {
    tail -40 "$tmp.apt.log" >&2
    die "installing the guest's packages failed (log above)"
  }
  unmount_chroot
  rm -f "$root/usr/sbin/policy-rc.d"
  configure_guest "$root"
  # The guest's root: kernel and initrd beside a raw ext4 image with room for the tests' pools.
  mkdir -p "$tmp/img"
  cp "$root/boot/vmlinuz-$kver" "$tmp/img/vmlinuz"
  cp "$root/boot/initrd.img-$kver" "$tmp/img/initrd.img"
  cp "$root/root/.ssh/host_access" "$tmp/img/id_ed25519"
  rm -f "$root/root/.ssh/host_access"
  local used_mb
  used_mb=$(du -sm "$root" | cut -f1)
  truncate -s "$((used_mb + 4096))M" "$tmp/img/root.raw"
  mkfs.ext4 -q -F -L zsendvm -d "$root" "$tmp/img/root.raw" || die "mkfs.ext4 -d failed"
  echo "$versions" >"$tmp/img/versions"
  rm -rf --one-file-system "$dir"
  mv "$tmp/img" "$dir"
  unmount_chroot
  rm -rf --one-file-system "$tmp" "$tmp".*.log
  trap - EXIT
  touch "$dir/complete"
  # Older images (other package versions) go.
  local old
  for old in "$cache_root"/img-*; do
    [ "$old" = "$dir" ] || rm -rf --one-file-system "$old"
  done
  log "image built in $(($(date +%s) - t0)) s: $dir"
}

configure_guest() { # ROOT
  local root=$1
  echo zsend-openzfs >"$root/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 zsend-openzfs\n::1 localhost\n' >"$root/etc/hosts"
  printf '/dev/vda / ext4 rw,noatime 0 0\n' >"$root/etc/fstab"
  # Static address on qemu's user-mode network: no DHCP wait at boot.
  cat >"$root/etc/network/interfaces" <<'EOF'
auto lo
iface lo inet loopback
auto eth0
iface eth0 inet static
  address 10.0.2.15/24
  gateway 10.0.2.2
EOF
  echo 'nameserver 10.0.2.3' >"$root/etc/resolv.conf"
  # OpenZFS loads at boot; a small ARC leaves the guest's memory to the tests.
  echo zfs >"$root/etc/modules-load.d/zfs.conf"
  echo 'options zfs zfs_arc_max=268435456' >"$root/etc/modprobe.d/zfs.conf"
  # Fewer things to emulate at boot.
  local unit
  for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer man-db.timer \
    zfs-zed.service zfs-share.service; do
    ln -sf /dev/null "$root/etc/systemd/system/$unit"
  done
  # sshd: keys only, root allowed; host keys are made once here.
  mkdir -p "$root/etc/ssh/sshd_config.d"
  printf 'PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\nMaxStartups 50\nMaxSessions 50\n' \
    >"$root/etc/ssh/sshd_config.d/zsend.conf"
  rm -f "$root"/etc/ssh/ssh_host_*
  chroot "$root" ssh-keygen -A >/dev/null
  # Two keys: one the host uses to reach the guest, one the guest's root uses to reach itself.
  install -d -m 700 "$root/root/.ssh"
  ssh-keygen -q -t ed25519 -N '' -C zsend-openzfs-vm-host -f "$root/root/.ssh/host_access"
  ssh-keygen -q -t ed25519 -N '' -C zsend-openzfs-vm-self -f "$root/root/.ssh/id_ed25519"
  cat "$root/root/.ssh/host_access.pub" "$root/root/.ssh/id_ed25519.pub" >"$root/root/.ssh/authorized_keys"
  rm -f "$root/root/.ssh/host_access.pub"
  printf 'Host localhost 127.0.0.1 zsend-openzfs\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n' \
    >"$root/root/.ssh/config"
  chmod 600 "$root/root/.ssh/"*
}

# --- running the guest ---------------------------------------------------------------------------

ssh_opts() { # the options every ssh to the guest uses
  local port key
  port=$(cat "$run_dir/port")
  key=$(cat "$run_dir/key")
  echo -F /dev/null -i "$key" -p "$port" -o IdentitiesOnly=yes -o BatchMode=yes \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
    -o ConnectTimeout=20 -o ServerAliveInterval=15 -o ServerAliveCountMax=8 \
    -o ControlMaster=auto -o "ControlPath=$run_dir/ctl" -o ControlPersist=yes
}

qemu_pid() { # prints the pid of our qemu when it runs
  local pid
  pid=$(cat "$run_dir/pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'zsend-openzfs-vm' &&
    echo "$pid"
}

guest_ssh() { # ARGS...
  # 9>&-: the persistent control master must not inherit (and keep) the up/down lock.
  # shellcheck disable=SC2046
  ssh $(ssh_opts) root@127.0.0.1 "$@" 9>&-
}

cmd_down() {
  local pid i
  if [ -S "$run_dir/ctl" ] && [ -e "$run_dir/port" ]; then
    # shellcheck disable=SC2046
    timeout 5 ssh $(ssh_opts) -O exit root@127.0.0.1 >/dev/null 2>&1 || true
  fi
  if pid=$(qemu_pid); then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && die "qemu $pid did not stop"
  fi
  rm -f "$run_dir/pid" "$run_dir/port" "$run_dir/ctl"
  return 0
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

copy_binaries() { # only when they changed since the last copy (each test process calls `up`)
  local b sums tmp
  for b in zsend zsend-engine; do
    [ -x "$bin_dir/$b" ] || die "$bin_dir/$b is missing; build first (scripts/build.sh build) or set ZSEND_VM_BIN"
  done
  sums=$(cd "$bin_dir" && sha256sum zsend zsend-engine)
  [ "$(guest_ssh 'cat /usr/local/share/zsend-binaries.sha256 2>/dev/null' || true)" = "$sums" ] && return 0
  # Without debug information: a tenth of the bytes through the emulated network.
  tmp=$(mktemp -d)
  for b in zsend zsend-engine; do
    strip --strip-debug -o "$tmp/$b" "$bin_dir/$b" 2>/dev/null || cp "$bin_dir/$b" "$tmp/$b"
  done
  tar -C "$tmp" -cf - zsend zsend-engine |
    guest_ssh 'tar -C /usr/local/bin --no-same-owner -xf - && mkdir -p /usr/local/share' || {
    rm -rf "$tmp"
    die "copying zsend and zsend-engine into the guest failed"
  }
  rm -rf "$tmp"
  # The same Debian libraries as the host: nothing may be missing.
  local missing
  missing=$(guest_ssh 'ldd /usr/local/bin/zsend /usr/local/bin/zsend-engine | grep "not found" || true')
  [ -z "$missing" ] || die "the guest lacks libraries of zsend: $missing (add their packages to guest_packages)"
  guest_ssh 'cat > /usr/local/share/zsend-binaries.sha256' <<<"$sums"
}

cmd_up() {
  if qemu_pid >/dev/null && guest_ssh true 2>/dev/null; then
    copy_binaries
    return 0
  fi
  cmd_down
  command -v qemu-system-x86_64 >/dev/null || missing "qemu-system-x86_64 is missing; run scripts/install-deps.sh"
  local dir t0 port attempt
  # ZSEND_VM_IMAGE: an image directory this run already built or checked (`image`), so `up`
  # skips the package-version check against the mirror (scripts/test.sh builds it beside the
  # compile).
  if [ -n "${ZSEND_VM_IMAGE:-}" ] && [ -e "$ZSEND_VM_IMAGE/complete" ]; then
    dir=$ZSEND_VM_IMAGE
  else
    dir=$(image_dir)
  fi
  mkdir -p "$run_dir"
  chmod 700 "$run_dir"
  echo "$dir/id_ed25519" >"$run_dir/key"
  t0=$(date +%s)
  for attempt in 1 2 3; do
    port=$(free_port)
    echo "$port" >"$run_dir/port"
    rm -f "$run_dir/pid"
    # -snapshot: the image stays pristine; -no-reboot: a guest reboot or panic ends qemu.
    if qemu-system-x86_64 -name zsend-openzfs-vm -accel "$accel" -cpu max -smp 2 -m 3072 \
      -kernel "$dir/vmlinuz" -initrd "$dir/initrd.img" \
      -append "root=/dev/vda rw console=ttyS0 net.ifnames=0 mitigations=off panic=-1 quiet" \
      -drive "file=$dir/root.raw,format=raw,if=virtio,cache=unsafe" -snapshot \
      -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:22" -device virtio-net-pci,netdev=n0,romfile= \
      -display none -serial "file:$run_dir/console.log" -no-reboot \
      -daemonize -pidfile "$run_dir/pid" 2>"$run_dir/qemu.err" 9>&-; then
      break
    fi
    grep -qi 'hostfwd\|address already in use\|could not set up host forwarding' "$run_dir/qemu.err" ||
      die "qemu failed: $(cat "$run_dir/qemu.err")"
  done
  qemu_pid >/dev/null || die "qemu did not start: $(cat "$run_dir/qemu.err" 2>/dev/null)"
  # On a failure below the guest goes down again: no qemu left behind.
  trap 'cmd_down' EXIT
  log "guest booting (qemu $(cat "$run_dir/pid"), ssh on 127.0.0.1:$port); waiting up to ${boot_deadline} s"
  local deadline=$((t0 + boot_deadline))
  while ! timeout 30 ssh $(ssh_opts) -o ControlMaster=no root@127.0.0.1 true 2>/dev/null; do
    qemu_pid >/dev/null || die "qemu exited while booting; console: $(tail -20 "$run_dir/console.log" 2>/dev/null)"
    (($(date +%s) < deadline)) || die "no ssh from the guest within ${boot_deadline} s; console tail: $(tail -20 "$run_dir/console.log" 2>/dev/null)"
    sleep 2
  done
  guest_ssh 'modprobe zfs && zfs version' >"$run_dir/zfs-version" 2>&1 ||
    die "OpenZFS does not load in the guest: $(cat "$run_dir/zfs-version")"
  copy_binaries
  trap - EXIT
  log "guest up in $(($(date +%s) - t0)) s: $(head -1 "$run_dir/zfs-version")"
}

cmd_status() {
  if qemu_pid >/dev/null && [ -e "$run_dir/port" ] && timeout 30 ssh $(ssh_opts) root@127.0.0.1 true 2>/dev/null; then
    echo "running $(cat "$run_dir/port") $(dirname "$(cat "$run_dir/key")")"
    return 0
  fi
  echo "stopped"
  return 3
}

# One `up`/`down` at a time (tests and scripts may race). Whatever outlives the call (qemu, the
# ssh control master) is started with fd 9 closed, or the next `up` would wait for it forever.
with_lock() {
  mkdir -p "$(dirname "$run_dir")" "$cache_root"
  exec 9>"$cache_root/.lock"
  flock 9
  "$@"
}

case "${1:-}" in
up) with_lock cmd_up ;;
down) with_lock cmd_down ;;
status) cmd_status ;;
image) with_lock image_dir ;;
ssh)
  shift
  qemu_pid >/dev/null || { echo "openzfs-vm: the guest is not running; run 'scripts/openzfs-vm.sh up'" >&2; exit 3; }
  guest_ssh "$@"
  ;;
*)
  echo "usage: scripts/openzfs-vm.sh up|down|status|image|ssh ARGS..." >&2
  exit 2
  ;;
esac
