#!/bin/sh
# armature's engines beside qemu-aarch64: builds the C workloads of benches/programs with
# aarch64-linux-gnu-gcc -O2 -static (and natively with cc -O2), runs each under qemu-aarch64
# and `armature run --engine interp` (the pre-decoded interpreter) and `--engine jit` in the
# same run, checks that they print the same output, then does the same for applets of
# Debian's arm64 busybox-static (scripts/fetch-arm64.sh; sha256sum of a large file, gzip -9,
# sort, where "native" is the host's own sha256sum, gzip and sort), and prints one table: wall times (median of REPS runs,
# which interleave the four commands), each engine's speed as a fraction of qemu-aarch64's
# (qemu time / armature time), the lowest and highest of the reps' JIT fractions (how much
# the machine's noise moves it), the interpreter's guest MIPS, and the JIT's compile time per
# compiled guest instruction; then the median of each engine's fraction over the rows, which
# is what the speed bars of issues 3 and 5 are about, and the same median of the rows' lowest
# JIT fractions: the bar read against the slowest rep of every row.
#
# Usage: scripts/bench-run.sh [PROGRAM...]   (REPS=5 by default; set REPS=1 for a quick look)
# PROGRAM names a C workload (hash, sort, ...) or an applet (bb-sha256sum, bb-gzip, bb-sort).
set -eu
cd "$(dirname "$0")/.."
REPS=${REPS:-5}
OUT=target/bench-programs
mkdir -p "$OUT"
for tool in aarch64-linux-gnu-gcc qemu-aarch64 cc; do
    command -v "$tool" >/dev/null || {
        echo "bench-run: $tool is missing (apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user gcc)" >&2
        exit 1
    }
done
cargo build --release --quiet --bin armature
ARMATURE=target/release/armature

# The workload and its argument, sized so that qemu-aarch64 takes about a second.
workloads="hash:3000 sort:1000000 matrix:500 bytecode:10000000 strings:400 malloc:100"
applets="bb-sha256sum bb-gzip bb-sort"
if [ $# -gt 0 ]; then
    sel=""
    for w in $workloads; do
        for p in "$@"; do [ "${w%%:*}" = "$p" ] && sel="$sel $w"; done
    done
    workloads=$sel
    sel=""
    for a in $applets; do
        for p in "$@"; do [ "$a" = "$p" ] && sel="$sel $a"; done
    done
    applets=$sel
fi

# Prints the wall time in seconds of one run of the command.
wall() {
    s=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || true
    e=$(date +%s.%N)
    awk "BEGIN { print $e - $s }"
}

# Prints the median of the numbers on standard input.
median_in() {
    sort -n | awk '{ t[NR] = $1 } END { if (NR % 2) m = t[(NR + 1) / 2]; else m = (t[NR / 2] + t[NR / 2 + 1]) / 2; printf "%.3f", m }'
}

# Prints one row: `row LABEL NATIVE... -- GUEST...` runs the native command and the aarch64
# command GUEST (under qemu-aarch64 and both engines), after checking that both engines
# print what qemu-aarch64 prints.
row() {
    label=$1
    shift
    native_cmd=""
    while [ "$1" != "--" ]; do
        native_cmd="$native_cmd $1"
        shift
    done
    shift
    want=$(qemu-aarch64 "$@" | cksum)
    for engine in interp jit; do
        got=$("$ARMATURE" run --engine $engine -- "$@" | cksum) || true
        if [ "$want" != "$got" ]; then
            echo "bench-run: $label: armature --engine $engine printed other output than qemu-aarch64" >&2
            exit 1
        fi
    done
    # The reps interleave the four commands, so that a slow spell of the machine hits them
    # alike; each rep's qemu time over its own JIT time is one sample of the JIT's fraction.
    # The native command's words have no spaces of their own.
    : >"$TIMES"
    for _ in $(seq "$REPS"); do
        # shellcheck disable=SC2086
        echo "$(wall $native_cmd) $(wall qemu-aarch64 "$@") $(wall "$ARMATURE" run --engine interp -- "$@") $(wall "$ARMATURE" run --engine jit -- "$@")" >>"$TIMES"
    done
    native=$(awk '{ print $1 }' "$TIMES" | median_in)
    qemu=$(awk '{ print $2 }' "$TIMES" | median_in)
    interp=$(awk '{ print $3 }' "$TIMES" | median_in)
    jit=$(awk '{ print $4 }' "$TIMES" | median_in)
    # The lowest and highest of the reps' JIT fractions.
    jlow=$(awk '{ print $2 / $4 }' "$TIMES" | sort -n | head -1)
    jhigh=$(awk '{ print $2 / $4 }' "$TIMES" | sort -n | tail -1)
    # "JIT: B blocks of I instructions compiled in S s"
    compile=$("$ARMATURE" run --engine jit --stats -- "$@" 2>&1 >/dev/null |
        sed -n 's/^armature: JIT: [0-9]* blocks of \([0-9]*\) instructions compiled in \([0-9.]*\) s/\1 \2/p')
    per_insn=$(echo "$compile" | awk '{ if ($1 > 0) printf "%.1f", $2 / $1 * 1000000; else print "-" }')
    n=$("$ARMATURE" run --engine interp --stats -- "$@" 2>&1 >/dev/null |
        sed -n 's/^armature: \([0-9]*\) instructions.*/\1/p')
    ratio=$(awk "BEGIN { print $qemu / $interp }")
    jratio=$(awk "BEGIN { print $qemu / $jit }")
    mips=$(awk "BEGIN { print $n / $interp / 1000000 }")
    jrange=$(awk "BEGIN { printf \"%.3f-%.3f\", $jlow, $jhigh }")
    printf '%-12s %9s %9s %9s %9s %12.3f %10.3f %13s %12.1f %14s\n' "$label" "$native" "$qemu" "$interp" "$jit" "$ratio" "$jratio" "$jrange" "$mips" "$per_insn"
    echo "$ratio $jratio $jlow" >>"$RATIOS"
}

# Prints the median of column $1 of the rows' fractions.
median_of() {
    awk -v c="$1" '{ print $c }' "$RATIOS" | sort -n |
        awk '{ t[NR] = $1 } END { if (NR % 2) m = t[(NR + 1) / 2]; else m = (t[NR / 2] + t[NR / 2 + 1]) / 2; printf "%.3f", m }'
}

summary() {
    [ -s "$RATIOS" ] || return 0
    echo "median over $(wc -l <"$RATIOS") rows: interp/qemu $(median_of 1) (bar 0.25), jit/qemu $(median_of 2) (bar 1.5)"
    echo "median over the rows of each row's slowest rep: jit/qemu $(median_of 3)"
}
RATIOS=$OUT/ratios.txt
TIMES=$OUT/times.txt
: >"$RATIOS"

printf '%-12s %9s %9s %9s %9s %12s %10s %13s %12s %14s\n' program native_s qemu_s interp_s jit_s interp/qemu jit/qemu jit_reps interp_MIPS jit_us/insn
for w in $workloads; do
    name=${w%%:*}
    arg=${w#*:}
    src=benches/programs/$name.c
    aarch64-linux-gnu-gcc -O2 -static -o "$OUT/$name" "$src"
    cc -O2 -o "$OUT/$name.native" "$src"
    row "$name" "./$OUT/$name.native" "$arg" -- "$OUT/$name" "$arg"
done

# Busybox applets, on inputs generated here (deterministic); native is the host's own tool.
[ -z "$applets" ] && summary && exit 0
[ -x target/busybox/bin/busybox ] || scripts/fetch-arm64.sh
BB=target/busybox/bin/busybox
if [ ! -e "$OUT/random.bin" ]; then
    head -c 16777216 /dev/zero | openssl enc -aes-128-ctr -nosalt -pass pass:armature 2>/dev/null >"$OUT/random.bin" ||
        awk 'BEGIN { srand(1); for (i = 0; i < 2000000; i++) printf "%08x", int(rand() * 4294967296) }' >"$OUT/random.bin"
    awk 'BEGIN { srand(2); for (i = 0; i < 300000; i++) printf "%d %s\n", int(rand() * 1000000000), "line" i }' >"$OUT/lines.txt"
fi
for a in $applets; do
    case $a in
    bb-sha256sum) set -- sha256sum "$OUT/random.bin" ;;
    bb-gzip) set -- gzip -9 -c "$OUT/lines.txt" ;;
    bb-sort) set -- sort "$OUT/lines.txt" ;;
    esac
    row "$a" "$@" -- "$BB" "$@"
done
summary
