#!/bin/sh
# Rebuilds the bundled example ELF from its source with LLVM (apt-get install llvm-19 lld-19).
set -eu
cd "$(dirname "$0")"
llvm-mc-19 -triple=aarch64-linux-gnu -filetype=obj -o hello.o hello.S
ld.lld-19 -static -o hello.elf hello.o
rm hello.o
