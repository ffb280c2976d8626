#!/usr/bin/env python3
"""Generates extensions/src/advsimd/tests/generated.rs from qemu-aarch64.

Usage: python3 qemu_simd.py qemu_simd_cases.py > ../src/advsimd/tests/generated.rs

Every case starts from the same state (DEFAULT_V, DEFAULT_X, the DATA page holding
MEM_PATTERN, FPSR and NZCV zero), which the Rust side builds in `simd_setup`; a case adds
setup items ("vN", lo, hi), ("xN", value), ("fpsr", value), ("mem", addr, value) and names
what to check: "vN", "xN", "fpsr" or ("mem", addr) (8 bytes, read through X20-X27, which
cases leave alone). The instructions are assembled with llvm-mc-19 and run under
`qemu-aarch64 -cpu max -singlestep -d cpu,fpu`; values come from the last dump, before the
trailing BRK, and a case that does not reach its BRK is an error.
"""
import importlib.util, re, subprocess, sys, tempfile

DATA = 0x10000
DEFAULT_V = [
    (0xfedcba9876543210, 0x0123456789abcdef),
    (0x8000ffff00110022, 0x00ff7f8001fe1234),
    (0x7fff0001ff110023, 0x00ff00800200ffff),
    (0x0706050403020100, 0x0f0e0d0c0b0a0908),
    (0x8081828384858687, 0x7f7e7d7c7b7a7978),
    (0x001f10203f40ff05, 0x2f0e3e1d4c5b6a00),
    (0xffffffff80000000, 0x000000007fffffff),
    (0x0000000100000002, 0xfffffffefffffffd),
]
DEFAULT_X = {1: 0x1122334455667788, 3: DATA, 4: 16}
MEM_PATTERN = bytes((i * 0x1d + 0x11) & 0xff for i in range(128))

def encode(lines):
    out = subprocess.run(["llvm-mc-19", "-triple=aarch64", "-mattr=+all", "-show-encoding"], input="\n".join(lines), capture_output=True, text=True, check=True).stdout
    words = []
    for m in re.finditer(r"encoding: \[([^\]]*)\]", out):
        b = [int(x, 16) for x in m.group(1).split(",")]
        words.append(b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24)
    assert len(words) == len(lines), (lines, out)
    return words

def set_v(n, lo, hi):
    return [f"ldr x28, ={lo:#x}", f"fmov d{n}, x28", f"ldr x28, ={hi:#x}", f"mov v{n}.d[1], x28"]

def qemu_state(lines, setup, mem_checks):
    pre = ["ldr x28, =0", "msr fpsr, x28", "msr nzcv, x28"]
    for n, (lo, hi) in enumerate(DEFAULT_V):
        pre += set_v(n, lo, hi)
    for n, v in DEFAULT_X.items():
        pre.append(f"ldr x{n}, ={v:#x}")
    for item in setup:
        k = item[0]
        if k == "mem":
            pre += [f"ldr x28, ={item[1]:#x}", f"ldr x27, ={item[2]:#x}", "str x27, [x28]"]
        elif k == "fpsr":
            pre += [f"ldr x28, ={item[1]:#x}", "msr fpsr, x28"]
        elif k[0] == "v":
            pre += set_v(int(k[1:]), item[1], item[2])
        else:
            pre.append(f"ldr x{int(k[1:])}, ={item[1]:#x}")
    post = []
    for i, a in enumerate(mem_checks):
        post += [f"ldr x28, ={a:#x}", f"ldr x{20 + i}, [x28]"]
    src = ".text\n.globl _start\n_start:\n" + "\n".join(pre + lines + post) + "\nbrk #0\n.ltorg\n"
    src += ".data\n" + "".join(f".byte {b}\n" for b in MEM_PATTERN) + ".skip 3968\n"
    d = WORK
    open(f"{d}/g.s", "w").write(src)
    subprocess.run(["llvm-mc-19", "-triple=aarch64", "-mattr=+all", "-filetype=obj", f"{d}/g.s", "-o", f"{d}/g.o"], check=True)
    subprocess.run(["ld.lld-19", "--section-start=.data=0x10000", f"{d}/g.o", "-o", f"{d}/g"], check=True)
    r = subprocess.run(["qemu-aarch64", "-cpu", "max", "-singlestep", "-d", "cpu,fpu", "-D", f"{d}/glog", f"{d}/g"], capture_output=True)
    assert r.returncode == -5, (lines, r.returncode, r.stderr)
    last = "PC=" + open(f"{d}/glog").read().split("PC=")[-1]
    x = {int(k): int(v, 16) for k, v in re.findall(r"X(\d\d)=([0-9a-f]{16})", last)}
    v = {}
    for m in re.finditer(r"Z(\d\d)\[3-2\]=\S+\n\s+\[1-0\]=[0-9a-f]{16}:[0-9a-f]{16}:([0-9a-f]{16}):([0-9a-f]{16})", last):
        v[int(m.group(1))] = (int(m.group(3), 16), int(m.group(2), 16))
    fpsr = int(re.search(r"FPSR=([0-9a-f]+)", last).group(1), 16)
    return x, v, fpsr

def hexv(v):
    s = f"{v:x}"
    if len(s) > 4:
        s = "_".join(reversed([s[max(0, i - 4):i] for i in range(len(s), 0, -4)]))
    return "0x" + s

def rust_setup(item):
    k = item[0]
    if k == "mem":
        return [f"(Mem({item[1]:#x}, 8), {hexv(item[2])})"]
    if k == "fpsr":
        return [f"(Fpsr, {hexv(item[1])})"]
    if k[0] == "v":
        n = int(k[1:])
        return [f"(Vh({n}, 0), {hexv(item[1])})", f"(Vh({n}, 1), {hexv(item[2])})"]
    return [f"(X({int(k[1:])}), {hexv(item[1])})"]

def gen(cases):
    out = []
    for lines, setup, checks in cases:
        words = encode(lines)
        mem_checks = [c[1] for c in checks if isinstance(c, tuple)]
        x, v, fpsr = qemu_state(lines, setup, mem_checks)
        exp = []
        for c in checks:
            if isinstance(c, tuple):
                exp.append(f"(Mem({c[1]:#x}, 8), {hexv(x[20 + mem_checks.index(c[1])])})")
            elif c == "fpsr":
                exp.append(f"(Fpsr, {hexv(fpsr)})")
            elif c[0] == "v":
                n = int(c[1:])
                exp += [f"(Vh({n}, 0), {hexv(v[n][0])})", f"(Vh({n}, 1), {hexv(v[n][1])})"]
            else:
                exp.append(f"(X({int(c[1:])}), {hexv(x[int(c[1:])])})")
        st = ", ".join(i for item in setup for i in rust_setup(item))
        ws = ", ".join(f"{w:#010x}" for w in words)
        out.append(f"    // {'; '.join(lines)}\n    check_simd(&[{ws}], &[{st}], &[{', '.join(exp)}]);")
    return "\n".join(out)

WORK = tempfile.mkdtemp()
spec = importlib.util.spec_from_file_location("cases", sys.argv[1])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
print("//! Generated by extensions/scripts/qemu_simd.py from qemu_simd_cases.py; do not edit.")
print("//! Expected values come from qemu-aarch64 running the same instructions.\n")
print("use super::*;\n")
for name, cases in m.TESTS:
    print("#[test]")
    print(f"fn {name}() {{")
    print(gen(cases))
    print("}\n")
