#!/usr/bin/env bash
# Downloads Debian's arm64 packages that the tests run and extracts them under target/:
# - busybox-static to target/busybox (the binary is target/busybox/bin/busybox), for
#   tests/busybox.rs;
# - libc6 to target/arm64-root (lib/ld-linux-aarch64.so.1, lib/aarch64-linux-gnu/libc.so.6),
#   the `-L` root of the dynamically linked program test in tests/run.rs.
# It uses a private apt state directory with arm64 as the only architecture, so the host's apt
# configuration and package lists stay as they are (no dpkg --add-architecture). Needs apt-get
# and dpkg-deb (Debian or Ubuntu).
set -euo pipefail
cd "$(dirname "$0")/.."

busybox=target/busybox
root=target/arm64-root
if [ -x "$busybox/bin/busybox" ] && [ -e "$root/lib/ld-linux-aarch64.so.1" ]; then
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
opts=(
  -o APT::Architecture=arm64
  -o APT::Architectures::=arm64
  -o "Dir::State::Lists=$work/lists"
  -o "Dir::Cache=$work/cache"
  -o Dir::State::status=/dev/null
  -o APT::Sandbox::User=root
)
apt-get -qq "${opts[@]}" update
(cd "$work" && apt-get -qq "${opts[@]}" download busybox-static libc6)

# Extracts package $1's .deb into directory $2.
extract() {
  local deb
  deb=$(ls "$work"/"$1"_*_arm64.deb)
  rm -rf "$2"
  mkdir -p "$2"
  dpkg-deb -x "$deb" "$2"
  echo "fetch-arm64: $(basename "$deb") extracted to $2"
}

# Fails unless $1 is an ELF file, 64-bit little-endian, e_machine 0xb7 (AArch64).
check_aarch64() {
  case "$(head -c 20 "$1" | od -An -tx1 | tr -d ' \n')" in
    7f454c460201*00b700) ;;
    *) echo "fetch-arm64: $1 is not an AArch64 ELF file" >&2; exit 1 ;;
  esac
}

extract busybox-static "$busybox"
check_aarch64 "$busybox/bin/busybox"
extract libc6 "$root"
check_aarch64 "$root/lib/aarch64-linux-gnu/libc.so.6"
