#!/usr/bin/env bash
# Installs what armature's tests need (Debian packages, Rust components) and runs them.
# This is the command CI runs (.ci/run) and the README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."

# Reference tools: llvm-mc-19 for the disassembler cross-check, qemu-aarch64 for runs, and
# aarch64-linux-gnu-gcc and clang-19 with lld-19 to build the C programs they run.
need=()
command -v llvm-mc-19 >/dev/null 2>&1 || need+=(llvm-19)
command -v clang-19 >/dev/null 2>&1 || need+=(clang-19)
command -v ld.lld-19 >/dev/null 2>&1 || need+=(lld-19)
command -v qemu-aarch64 >/dev/null 2>&1 || need+=(qemu-user)
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || need+=(gcc-aarch64-linux-gnu)
# tests/threads.rs checks the atomics builds with objdump and gives qemu a private
# binfmt_misc (unshare) so that guest execve works under the reference too.
command -v aarch64-linux-gnu-objdump >/dev/null 2>&1 || need+=(binutils-aarch64-linux-gnu)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
# The cross C library's headers and static archives: only a Recommends of the cross gcc, so
# `--no-install-recommends` (and a machine that had gcc alone) leaves them out.
[ -e /usr/aarch64-linux-gnu/include/stdio.h ] || need+=(libc6-dev-arm64-cross)
if ((${#need[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing ${need[*]} from Debian"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
if command -v rustup >/dev/null 2>&1; then
  rustup component add rustfmt clippy >/dev/null 2>&1 || echo "warning: rustup could not add rustfmt/clippy"
fi

# Debian's busybox-static for arm64, which tests/busybox.rs runs beside qemu-aarch64.
scripts/fetch-arm64.sh

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
