#!/usr/bin/env python3
"""Generates the data processing tests of extensions/src/base/tests.rs from qemu-aarch64.

Usage: python3 qemu_expect.py qemu_cases.py > generated.rs

Each case is (assembly lines, setup, registers to check). The instructions are assembled with
llvm-mc-19, run under `qemu-aarch64 -cpu max -singlestep -d cpu` after the setup, and the
registers and NZCV are read from the last CPU dump (before a trailing BRK). NZCV is checked
always.

A setup item ("mem", addr, value) stores 8 bytes at addr, and a check ("mem", addr) reads 8
bytes back, through X20-X28, which cases therefore leave alone; the program has a zeroed data
page at 0x10000 (the tests' DATA). A group (name, cases, "all") runs with every feature; an
option "cpu=NAME" runs qemu with that CPU instead of max (for DC ZVA's 64-byte block).
"""
import subprocess, re, sys, importlib.util, tempfile

def encode(lines):
    out = subprocess.run(["llvm-mc-19", "-triple=aarch64", "-mattr=+all", "-show-encoding"], input="\n".join(lines), capture_output=True, text=True, check=True).stdout
    words = []
    for m in re.finditer(r"encoding: \[([^\]]*)\]", out):
        b = [int(x, 16) for x in m.group(1).split(",")]
        words.append(b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24)
    assert len(words) == len(lines), (lines, out)
    return words

def qemu_state(lines, setup, mem_checks=()):
    pre = []
    for item in setup:
        if item[0] == "mem":
            pre += [f"ldr x28, ={item[1]:#x}", f"ldr x27, ={item[2]:#x}", "str x27, [x28]"]
            continue
        r, v = item
        if r == "nzcv":
            pre += [f"ldr x28, ={v:#x}", "msr nzcv, x28"]
        elif r == "sp":
            pre += [f"ldr x28, ={v:#x}", "mov sp, x28"]
        else:
            pre.append(f"ldr x{r}, ={v:#x}")
    post = []
    for i, a in enumerate(mem_checks):
        post += [f"ldr x28, ={a:#x}", f"ldr x{20 + i}, [x28]"]
    src = ".text\n.globl _start\n_start:\n" + "\n".join(pre + lines + post) + "\nbrk #0\n.ltorg\n"
    src += ".data\n.skip 4096\n"
    d = WORK
    open(f"{d}/g.s", "w").write(src)
    subprocess.run(["llvm-mc-19", "-triple=aarch64", "-mattr=+all", "-filetype=obj", f"{d}/g.s", "-o", f"{d}/g.o"], check=True)
    subprocess.run(["ld.lld-19", "--section-start=.data=0x10000", f"{d}/g.o", "-o", f"{d}/g"], check=True)
    r = subprocess.run(["qemu-aarch64", "-cpu", CPU, "-singlestep", "-d", "cpu", "-D", f"{d}/glog", f"{d}/g"], capture_output=True)
    # The program must end at its BRK (SIGTRAP), not at an instruction qemu rejects.
    assert r.returncode == -5, (lines, r.returncode, r.stderr)
    last = "PC=" + open(f"{d}/glog").read().split("PC=")[-1]
    regs = {k: int(v, 16) for k, v in re.findall(r"(X\d\d|SP)=([0-9a-f]{16})", last)}
    pstate = int(re.search(r"PSTATE=([0-9a-f]+)", last).group(1), 16)
    return regs, pstate & 0xf0000000

def rust_reg(r):
    if r == "nzcv": return "Nzcv"
    if r == "sp": return "Sp"
    return f"X({r})"

def hexv(v):
    s = f"{v:x}"
    if len(s) > 4:
        s = "_".join(reversed([s[max(0, i - 4):i] for i in range(len(s), 0, -4)]))
    return "0x" + s

def rust_setup_item(item):
    if item[0] == "mem":
        return f"(Mem({item[1]:#x}, 8), {hexv(item[2])})"
    return f"({rust_reg(item[0])}, {hexv(item[1])})"

def gen(cases, check="check"):
    out = []
    for lines, setup, regs in cases:
        # The interpreter starts with NZCV clear; qemu does not.
        rust_setup = setup
        if not any(i[0] == "nzcv" for i in setup):
            setup = setup + [("nzcv", 0)]
        words = encode(lines)
        mem_checks = [r[1] for r in regs if isinstance(r, tuple)]
        state, nzcv = qemu_state(lines, setup, mem_checks)
        exp = []
        for r in regs:
            if isinstance(r, tuple):
                i = mem_checks.index(r[1])
                exp.append(f"(Mem({r[1]:#x}, 8), {hexv(state[f'X{20 + i}'])})")
                continue
            if r == "nzcv": v = nzcv
            elif r == "sp": v = state["SP"]
            else: v = state[f"X{r:02d}"]
            exp.append(f"({rust_reg(r)}, {hexv(v)})")
        exp.append(f"(Nzcv, {hexv(nzcv)})") if "nzcv" not in regs else None
        st = ", ".join(rust_setup_item(i) for i in rust_setup)
        ws = ", ".join(f"{w:#010x}" for w in words)
        out.append(f"    // {'; '.join(lines)}\n    {check}(&[{ws}], &[{st}], &[{', '.join(exp)}]);")
    return "\n".join(out)

WORK = tempfile.mkdtemp()
spec = importlib.util.spec_from_file_location("cases", sys.argv[1])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
for name, cases, *opts in m.TESTS:
    CPU = next((o[4:] for o in opts if o.startswith("cpu=")), "max")
    print("#[test]")
    print(f"fn {name}() {{")
    print(gen(cases, "check_all" if "all" in opts else "check"))
    print("}\n")
