#!/usr/bin/env bash
# Downloads Debian's busybox-static for arm64 and extracts it to target/busybox (the binary is
# target/busybox/bin/busybox), for tests/busybox.rs. It uses a private apt state directory with
# arm64 as the only architecture, so the host's apt configuration and package lists stay as
# they are (no dpkg --add-architecture). Needs apt-get and dpkg-deb (Debian or Ubuntu).
set -euo pipefail
cd "$(dirname "$0")/.."

dest=target/busybox
if [ -x "$dest/bin/busybox" ]; then
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
(cd "$work" && apt-get -qq "${opts[@]}" download busybox-static)
deb=$(ls "$work"/busybox-static_*_arm64.deb)
rm -rf "$dest"
mkdir -p "$dest"
dpkg-deb -x "$deb" "$dest"
file_magic=$(head -c 20 "$dest/bin/busybox" | od -An -tx1 | tr -d ' \n')
# An ELF file (7f 45 4c 46), 64-bit little-endian, e_machine 0xb7 (AArch64).
case "$file_magic" in
  7f454c460201*00b700) ;;
  *) echo "fetch-busybox: $dest/bin/busybox is not an AArch64 ELF file" >&2; exit 1 ;;
esac
echo "fetch-busybox: $(basename "$deb") extracted to $dest/bin/busybox"
