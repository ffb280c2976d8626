//! Tests of the loader, the initial stack and the system calls, on hand-made programs run with
//! a tiny semantics table of their own (MOVZ, MOVK, SVC, BRK), so they do not need extensions.

use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use super::elf::{self, LoadError, PIE_BASE};
use super::stack::{self, hwcaps};
use super::syscall::nr;
use super::{Exit, Process, MMAP_BASE};
use crate::interp::Interp;
use crate::isa::{EncodingId, Feature, FeatureSet};
use crate::mem::{FaultKind, Memory};
use crate::sem::{Sem, SemTable, Stop};

fn hello_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/hello.elf")
}

fn hello() -> Vec<u8> {
    std::fs::read(hello_path()).expect("examples/hello.elf")
}

/// A unique scratch path under the system temporary directory.
fn scratch(name: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("armature-linux-{}-{n}-{name}", std::process::id()))
}

/// One program header of a hand-made ELF file.
struct Ph {
    ptype: u32,
    flags: u32,
    vaddr: u64,
    data: Vec<u8>,
    memsz: u64,
}

fn load_seg(flags: u32, vaddr: u64, data: Vec<u8>) -> Ph {
    let memsz = data.len() as u64;
    Ph {
        ptype: 1,
        flags,
        vaddr,
        data,
        memsz,
    }
}

const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;

/// A little-endian ELF64 aarch64 file of type `etype` with these program headers; segment data
/// is placed at file offsets congruent to the addresses modulo the page size.
fn build_elf(etype: u16, entry: u64, phs: &[Ph]) -> Vec<u8> {
    let mut f = vec![0u8; 64 + 56 * phs.len()];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 2; // ELFCLASS64
    f[5] = 1; // little endian
    f[6] = 1; // EV_CURRENT
    f[16..18].copy_from_slice(&etype.to_le_bytes());
    f[18..20].copy_from_slice(&183u16.to_le_bytes());
    f[20..24].copy_from_slice(&1u32.to_le_bytes());
    f[24..32].copy_from_slice(&entry.to_le_bytes());
    f[32..40].copy_from_slice(&64u64.to_le_bytes());
    f[52..54].copy_from_slice(&64u16.to_le_bytes());
    f[54..56].copy_from_slice(&56u16.to_le_bytes());
    f[56..58].copy_from_slice(&(phs.len() as u16).to_le_bytes());
    for (i, ph) in phs.iter().enumerate() {
        let mut offset = (f.len() as u64).div_ceil(4096) * 4096 + ph.vaddr % 4096;
        if ph.data.is_empty() {
            offset = 0;
        }
        f.resize(offset as usize, 0);
        f.extend(&ph.data);
        let h = 64 + 56 * i;
        f[h..h + 4].copy_from_slice(&ph.ptype.to_le_bytes());
        f[h + 4..h + 8].copy_from_slice(&ph.flags.to_le_bytes());
        f[h + 8..h + 16].copy_from_slice(&offset.to_le_bytes());
        f[h + 16..h + 24].copy_from_slice(&ph.vaddr.to_le_bytes());
        f[h + 24..h + 32].copy_from_slice(&ph.vaddr.to_le_bytes());
        f[h + 32..h + 40].copy_from_slice(&(ph.data.len() as u64).to_le_bytes());
        f[h + 40..h + 48].copy_from_slice(&ph.memsz.to_le_bytes());
        f[h + 48..h + 56].copy_from_slice(&4096u64.to_le_bytes());
    }
    f
}

fn words(code: &[u32]) -> Vec<u8> {
    code.iter().flat_map(|w| w.to_le_bytes()).collect()
}

fn movz(rd: u32, imm: u16, hw: u32) -> u32 {
    0xd280_0000 | hw << 21 | u32::from(imm) << 5 | rd
}

fn movk(rd: u32, imm: u16, hw: u32) -> u32 {
    0xf280_0000 | hw << 21 | u32::from(imm) << 5 | rd
}

/// `rd = value` with MOVZ and three MOVKs.
fn mov64(rd: u32, value: u64) -> [u32; 4] {
    [
        movz(rd, value as u16, 0),
        movk(rd, (value >> 16) as u16, 1),
        movk(rd, (value >> 32) as u16, 2),
        movk(rd, (value >> 48) as u16, 3),
    ]
}

const SVC: u32 = 0xd400_0001;
const BRK_1: u32 = 0xd420_0020;
const ADD_X0_X0_1: u32 = 0x9100_0400;

fn sem_movz(s: &mut Interp, w: u32) -> Result<(), Stop> {
    let imm = u64::from((w >> 5) & 0xffff) << (16 * ((w >> 21) & 3));
    let v = s.imm(imm);
    s.set_x(w & 31, v);
    Ok(())
}

fn sem_movk(s: &mut Interp, w: u32) -> Result<(), Stop> {
    let shift = 16 * ((w >> 21) & 3);
    let old = s.x(w & 31);
    let v = old & !(0xffff << shift) | u64::from((w >> 5) & 0xffff) << shift;
    s.set_x(w & 31, v);
    Ok(())
}

fn sem_svc(_: &mut Interp, w: u32) -> Result<(), Stop> {
    Err(Stop::Syscall(((w >> 5) & 0xffff) as u16))
}

fn sem_brk(_: &mut Interp, w: u32) -> Result<(), Stop> {
    Err(Stop::Breakpoint(((w >> 5) & 0xffff) as u16))
}

fn tiny_table() -> SemTable<Interp> {
    let mut t = SemTable::default();
    let id = |name| EncodingId::from_name(name).expect(name);
    t.set(id("MOVZ_64_movewide"), sem_movz);
    t.set(id("MOVK_64_movewide"), sem_movk);
    t.set(id("SVC_EX_exception"), sem_svc);
    t.set(id("BRK_EX_exception"), sem_brk);
    t
}

/// Writes `image` to a scratch file and loads it with `args`.
fn process(image: &[u8], args: &[&str]) -> Process {
    let path = scratch("prog");
    std::fs::write(&path, image).expect("write scratch program");
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let p = Process::load(&path, &args, &["A=1".to_string()], FeatureSet::base()).expect("load");
    std::fs::remove_file(&path).ok();
    p
}

const CODE: u64 = 0x40_0000;
const DATA: u64 = 0x41_0000;

/// A program whose code is `code` at [`CODE`] and whose data is `data` at [`DATA`].
fn program(code: &[u32], data: &[u8]) -> Vec<u8> {
    build_elf(
        2,
        CODE,
        &[
            load_seg(PF_R | PF_X, CODE, words(code)),
            load_seg(PF_R | PF_W, DATA, data.to_vec()),
        ],
    )
}

// ---- loader ----

#[test]
fn loads_hello() {
    let mut mem = Memory::default();
    let info = elf::load(&hello(), &mut mem).expect("hello.elf loads");
    assert_eq!(info.entry, 0x21_0134);
    assert_eq!(info.phdr, 0x20_0040);
    assert_eq!((info.phent, info.phnum), (56, 4));
    assert_eq!(info.load_bias, 0);
    assert_eq!(info.brk, 0x21_1000);
    // The first instruction is `mov x0, #1`; the text is executable and read-only.
    assert_eq!(mem.fetch(info.entry), Ok(0xd280_0020));
    assert_eq!(
        mem.write_u64(info.entry, 4, 0).map_err(|f| f.kind),
        Err(FaultKind::Permission)
    );
    // The ELF header is visible at the start of the first segment.
    assert_eq!(mem.read_u64(0x20_0000, 4), Ok(0x464c_457f));
    let mut text = vec![0u8; 0x200];
    mem.read(0x20_0000, &mut text).expect("rodata is readable");
    assert!(text.windows(19).any(|w| w == b"Hello from aarch64!"));
    assert!(mem.fetch(0x20_0000).is_err(), "rodata is not executable");
}

fn load_err(image: &[u8]) -> LoadError {
    elf::load(image, &mut Memory::default()).expect_err("the image is refused")
}

#[test]
fn refuses_malformed_files() {
    let good = hello();
    assert!(matches!(load_err(&good[..10]), LoadError::NotElf));
    assert!(matches!(
        load_err(b"#!/bin/sh\necho hi\n"),
        LoadError::NotElf
    ));
    assert!(
        matches!(load_err(&good[..40]), LoadError::Malformed(_)),
        "{}",
        load_err(&good[..40])
    );
    assert!(
        matches!(load_err(&good[..100]), LoadError::Malformed(_)),
        "{}",
        load_err(&good[..100])
    );
    // Cut inside the text segment.
    assert!(
        matches!(load_err(&good[..0x150]), LoadError::Malformed(_)),
        "{}",
        load_err(&good[..0x150])
    );

    let patched = |off: usize, bytes: &[u8]| {
        let mut v = good.clone();
        v[off..off + bytes.len()].copy_from_slice(bytes);
        load_err(&v)
    };
    assert!(matches!(patched(4, &[1]), LoadError::WrongClass));
    assert!(matches!(patched(5, &[2]), LoadError::WrongEndian));
    let e = patched(18, &62u16.to_le_bytes());
    assert!(matches!(e, LoadError::WrongMachine(62)));
    assert!(e.to_string().contains("not an aarch64 program"), "{e}");
    assert!(matches!(
        patched(16, &1u16.to_le_bytes()),
        LoadError::WrongType(1)
    ));
    let e = patched(24, &0x100u64.to_le_bytes());
    assert!(matches!(e, LoadError::EntryOutside(0x100)), "{e}");
    // A program header table beyond the end of the file.
    assert!(matches!(
        patched(32, &0xffff_0000u64.to_le_bytes()),
        LoadError::Malformed(_)
    ));
}

#[test]
fn refuses_bad_segments() {
    let code = words(&[SVC]);
    let overlap = build_elf(
        2,
        CODE,
        &[
            load_seg(PF_R | PF_X, CODE, code.clone()),
            Ph {
                memsz: 0x2000,
                ..load_seg(PF_R, CODE - 0x1000, vec![1; 8])
            },
        ],
    );
    let e = load_err(&overlap);
    assert!(matches!(e, LoadError::Overlap { .. }), "{e}");
    assert!(e.to_string().contains("overlap"), "{e}");

    let huge = build_elf(
        2,
        CODE,
        &[Ph {
            memsz: 1 << 40,
            ..load_seg(PF_R | PF_X, CODE, code.clone())
        }],
    );
    assert!(matches!(load_err(&huge), LoadError::BadSegment { .. }));
    let high = build_elf(
        2,
        u64::MAX - 8,
        &[load_seg(PF_R | PF_X, u64::MAX - 8, code.clone())],
    );
    assert!(matches!(load_err(&high), LoadError::BadSegment { .. }));
    let none = build_elf(2, CODE, &[]);
    assert!(matches!(load_err(&none), LoadError::NoSegments));
    let mut too_much_file = build_elf(2, CODE, &[load_seg(PF_R | PF_X, CODE, code.clone())]);
    too_much_file[64 + 40..64 + 48].copy_from_slice(&1u64.to_le_bytes()); // memsz < filesz
    assert!(matches!(
        load_err(&too_much_file),
        LoadError::FileSizeTooLarge { .. }
    ));

    let dynamic = build_elf(
        2,
        CODE,
        &[
            Ph {
                ptype: 3,
                flags: PF_R,
                vaddr: 0x30_0000,
                data: b"/lib/ld-linux-aarch64.so.1\0".to_vec(),
                memsz: 27,
            },
            load_seg(PF_R | PF_X, CODE, code),
        ],
    );
    let info = elf::load(&dynamic, &mut Memory::default()).expect("a dynamic program loads");
    assert_eq!(info.interp.as_deref(), Some("/lib/ld-linux-aarch64.so.1"));
}

#[test]
fn no_single_byte_corruption_panics() {
    let good = hello();
    for i in 0..good.len().min(0x300) {
        for v in [0x00, 0x01, 0x7f, 0x80, 0xff] {
            let mut bad = good.clone();
            bad[i] = v;
            let _ = elf::load(&bad, &mut Memory::default());
        }
    }
}

#[test]
fn loads_static_pie_at_the_fixed_base() {
    let image = build_elf(
        3,
        0x1000,
        &[
            load_seg(PF_R | PF_X, 0x1000, words(&[SVC])),
            load_seg(PF_R | PF_W, 0x2000, vec![7; 16]),
        ],
    );
    let mut mem = Memory::default();
    let info = elf::load(&image, &mut mem).expect("static-pie loads");
    // The lowest segment lands at the base.
    assert_eq!(info.load_bias, PIE_BASE - 0x1000);
    assert_eq!(info.entry, PIE_BASE);
    assert_eq!(mem.fetch(PIE_BASE), Ok(SVC));
    assert_eq!(mem.read_u64(PIE_BASE + 0x1000, 1), Ok(7));
    assert_eq!(info.brk, PIE_BASE + 0x2000);
}

#[test]
fn segments_sharing_a_page_get_both_permissions_and_zeroed_bss() {
    let image = build_elf(
        2,
        CODE,
        &[
            load_seg(PF_R | PF_X, CODE, words(&[SVC; 4])),
            Ph {
                memsz: 0x3000,
                ..load_seg(PF_R | PF_W, CODE + 0x800, vec![9; 8])
            },
        ],
    );
    let mut mem = Memory::default();
    let info = elf::load(&image, &mut mem).expect("loads");
    assert_eq!(mem.fetch(CODE), Ok(SVC));
    assert_eq!(mem.read_u64(CODE + 0x800, 1), Ok(9));
    mem.write_u64(CODE + 0x900, 8, 5)
        .expect("the shared page is writable too");
    assert_eq!(mem.read_u64(CODE + 0x2000, 8), Ok(0), "bss is zero");
    assert_eq!(info.brk, CODE + 0x4000);
}

// ---- stack ----

#[test]
fn initial_stack_holds_argc_argv_envp_auxv() {
    let mut p = Process::load(
        &hello_path(),
        &["hello".into(), "a b".into()],
        &["X=1".into(), "Y=".into()],
        FeatureSet::base(),
    )
    .expect("load hello");
    let sp = p.machine.cpu.sp;
    assert_eq!(sp % 16, 0);
    assert_eq!(p.machine.cpu.pc, 0x21_0134);
    let mem = &mut p.machine.mem;
    let word = |i: u64| mem.read_u64(sp + 8 * i, 8).expect("stack word");
    assert_eq!(word(0), 2);
    let (a0, a1, null1, e0, e1, null2) = (word(1), word(2), word(3), word(4), word(5), word(6));
    assert_eq!((null1, null2), (0, 0));
    let mut auxv = Vec::new();
    let mut i = 7;
    loop {
        let (k, v) = (word(i), word(i + 1));
        i += 2;
        if k == 0 {
            break;
        }
        auxv.push((k, v));
    }
    let cstr = |addr: u64| {
        let mut s = Vec::new();
        while let Ok(b) = p.machine.mem.read_u64(addr + s.len() as u64, 1) {
            if b == 0 {
                break;
            }
            s.push(b as u8);
        }
        String::from_utf8(s).expect("utf-8")
    };
    assert_eq!(
        (cstr(a0), cstr(a1)),
        ("hello".to_string(), "a b".to_string())
    );
    assert_eq!((cstr(e0), cstr(e1)), ("X=1".to_string(), "Y=".to_string()));
    let aux = |k: u64| auxv.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
    assert_eq!(aux(stack::AT_PAGESZ), Some(4096));
    assert_eq!(aux(stack::AT_PHDR), Some(0x20_0040));
    assert_eq!(aux(stack::AT_PHENT), Some(56));
    assert_eq!(aux(stack::AT_PHNUM), Some(4));
    assert_eq!(aux(stack::AT_ENTRY), Some(0x21_0134));
    assert_eq!(aux(stack::AT_BASE), Some(0));
    assert_eq!(aux(stack::AT_SECURE), Some(0));
    assert_eq!(aux(stack::AT_CLKTCK), Some(100));
    assert_eq!(aux(stack::AT_HWCAP), Some(1 << 11), "HWCAP_CPUID");
    assert_eq!(
        aux(stack::AT_UID),
        Some(u64::from(unsafe { libc::getuid() }))
    );
    assert_eq!(
        cstr(aux(stack::AT_PLATFORM).expect("AT_PLATFORM")),
        "aarch64"
    );
    assert_eq!(
        cstr(aux(stack::AT_EXECFN).expect("AT_EXECFN")),
        hello_path().to_string_lossy()
    );
    let random = aux(stack::AT_RANDOM).expect("AT_RANDOM");
    let mut bytes = [0u8; 16];
    p.machine
        .mem
        .read(random, &mut bytes)
        .expect("16 random bytes");
    assert_ne!(bytes, [0; 16]);
    // The strings lie above the tables.
    assert!(a0 > sp + 8 * i && random > sp + 8 * i);
}

#[test]
fn hwcaps_follow_the_features() {
    // CPUID (HWCAP bit 11) and ECV (HWCAP2 bit 19) do not depend on the decoder's features.
    const CPUID: u64 = 1 << 11;
    const ECV: u64 = 1 << 19;
    assert_eq!(hwcaps(&FeatureSet::base()), (CPUID, ECV));
    let fp_simd = FeatureSet::base()
        .with(Feature::FEAT_FP)
        .with(Feature::FEAT_AdvSIMD);
    assert_eq!(hwcaps(&fp_simd), (CPUID | 3, ECV));
    assert_eq!(
        hwcaps(&FeatureSet::base().with(Feature::FEAT_AdvSIMD)).0,
        CPUID,
        "ASIMD needs FP"
    );
    let (h, h2) = hwcaps(&fp_simd.with(Feature::FEAT_LSE).with(Feature::FEAT_SVE2));
    assert_eq!(h, CPUID | 3 | 1 << 8);
    assert_eq!(h2, ECV, "SVE2 without SVE is not reported");
    let (h, h2) = hwcaps(&FeatureSet::all());
    assert_ne!(h & 1 << 22, 0);
    assert_ne!(h2 & 2, 0);
}

// ---- running ----

#[test]
fn runs_a_program_that_writes_and_exits() {
    let out = scratch("out");
    let file = std::fs::File::create(&out).expect("create output");
    let fd = file.as_raw_fd() as u64;
    let msg = b"hi from the guest\n";
    let mut code = vec![movz(0, fd as u16, 0)];
    code.extend(mov64(1, DATA));
    code.extend([
        movz(2, msg.len() as u16, 0),
        movz(8, nr::WRITE as u16, 0),
        SVC,
    ]);
    code.extend([movz(0, 42, 0), movz(8, nr::EXIT_GROUP as u16, 0), SVC]);
    let mut p = process(&program(&code, msg), &["prog"]);
    assert_eq!(p.run(&tiny_table()), Exit::Exited(42));
    drop(file);
    assert_eq!(std::fs::read(&out).expect("output"), msg);
    std::fs::remove_file(&out).ok();
}

#[test]
fn unimplemented_instruction_is_sigill_naming_the_encoding() {
    let mut p = process(&program(&[movz(0, 1, 0), ADD_X0_X0_1], &[0]), &["prog"]);
    match p.run(&tiny_table()) {
        Exit::Signaled {
            signal: 4,
            pc,
            reason,
            ..
        } => {
            assert_eq!(pc, CODE + 4);
            assert!(
                reason.contains("ADD_64_addsub_imm") && reason.contains("0x400004"),
                "{reason}"
            );
        }
        other => panic!("expected SIGILL, got {other:?}"),
    }
}

#[test]
fn running_off_the_code_is_sigsegv_and_brk_is_sigtrap() {
    // The code ends at a page end: the next fetch is unmapped.
    let at = CODE + 0xff8;
    let image = build_elf(
        2,
        at,
        &[load_seg(
            PF_R | PF_X,
            at,
            words(&[movz(0, 1, 0), movz(1, 2, 0)]),
        )],
    );
    match process(&image, &["prog"]).run(&tiny_table()) {
        Exit::Signaled {
            signal: 11,
            fault_addr: Some(0x40_1000),
            pc: 0x40_1000,
            ..
        } => {}
        other => panic!("expected SIGSEGV, got {other:?}"),
    }
    match process(&program(&[BRK_1], &[0]), &["prog"]).run(&tiny_table()) {
        Exit::Signaled {
            signal: 5,
            pc: CODE,
            ..
        } => {}
        other => panic!("expected SIGTRAP, got {other:?}"),
    }
}

// ---- system calls, called directly ----

/// A loaded process with a scratch RW page at [`DATA`].
fn sys_process() -> Process {
    process(&program(&[SVC], &[0; 4096]), &["prog"])
}

fn call(p: &mut Process, n: u64, args: &[u64]) -> i64 {
    p.machine.cpu.x[8] = n;
    for (i, &a) in args.iter().enumerate() {
        p.machine.cpu.x[i] = a;
    }
    assert_eq!(p.syscall(), None, "syscall {n} does not exit");
    p.machine.cpu.x[0] as i64
}

fn put_str(p: &mut Process, addr: u64, s: &str) -> u64 {
    let mut b = s.as_bytes().to_vec();
    b.push(0);
    p.machine.mem.write(addr, &b).expect("scratch is writable");
    addr
}

/// Writes `struct iovec`s (base, length) at `addr`.
fn put_iovecs(p: &mut Process, addr: u64, iov: &[(u64, u64)]) {
    for (i, &(base, len)) in iov.iter().enumerate() {
        let at = addr + 16 * i as u64;
        p.machine.mem.write_u64(at, 8, base).expect("iov");
        p.machine.mem.write_u64(at + 8, 8, len).expect("iov");
    }
}

const AT_FDCWD: u64 = -100i64 as u64;
const EFAULT: i64 = -14;

#[test]
fn brk_grows_and_shrinks() {
    let mut p = sys_process();
    let start = call(&mut p, nr::BRK, &[0]) as u64;
    assert_eq!(start, DATA + 0x1000);
    assert_eq!(
        call(&mut p, nr::BRK, &[start + 0x2500]) as u64,
        start + 0x2500
    );
    p.machine
        .mem
        .write_u64(start + 0x2ff8, 8, 1)
        .expect("the heap is writable");
    assert_eq!(call(&mut p, nr::BRK, &[start + 0x10]) as u64, start + 0x10);
    assert!(
        p.machine.mem.write_u64(start + 0x2000, 8, 1).is_err(),
        "shrunk"
    );
    assert_eq!(
        call(&mut p, nr::BRK, &[0x1000]) as u64,
        start + 0x10,
        "below the start: unchanged"
    );
}

#[test]
fn mmap_munmap_mprotect() {
    let mut p = sys_process();
    let a = call(&mut p, nr::MMAP, &[0, 0x3000, 3, 0x22, u64::MAX, 0]) as u64;
    assert!(a >= MMAP_BASE && a.is_multiple_of(4096));
    p.machine.mem.write_u64(a + 0x2ff8, 8, 1).expect("RW");
    assert_eq!(call(&mut p, nr::MPROTECT, &[a, 0x1000, 1]), 0);
    assert!(p.machine.mem.write_u64(a, 8, 1).is_err());
    assert_eq!(call(&mut p, nr::MUNMAP, &[a + 0x1000, 0x1000]), 0);
    assert!(p.machine.mem.read_u64(a + 0x1000, 8).is_err());
    let b = call(&mut p, nr::MMAP, &[0, 0x1000, 3, 0x22, u64::MAX, 0]) as u64;
    assert_eq!(b, a + 0x1000, "the hole is reused");
    assert_eq!(call(&mut p, nr::MMAP, &[0, 0, 3, 0x22, u64::MAX, 0]), -22);
    // MAP_FIXED_NOREPLACE over a mapping.
    assert_eq!(
        call(&mut p, nr::MMAP, &[a, 0x1000, 3, 0x10_0022, u64::MAX, 0]),
        -17
    );
    assert_eq!(
        call(&mut p, nr::MMAP, &[a, 0x1000, 3, 0x32, u64::MAX, 0]) as u64,
        a,
        "MAP_FIXED replaces"
    );
    assert_eq!(call(&mut p, nr::MPROTECT, &[0x7000_0000, 0x1000, 1]), -12);
}

#[test]
fn madvise_dontneed_zeroes_private_anonymous_memory() {
    let mut p = sys_process();
    let anon = call(&mut p, nr::MMAP, &[0, 0x3000, 3, 0x22, u64::MAX, 0]) as u64;
    let shared = call(&mut p, nr::MMAP, &[0, 0x1000, 3, 0x21, u64::MAX, 0]) as u64;
    assert_eq!(call(&mut p, nr::MUNMAP, &[anon + 0x2000, 0x1000]), 0);
    for at in [anon, anon + 0x1000, shared, DATA] {
        p.machine.mem.write_u64(at + 8, 8, 0x55).expect("RW");
    }
    assert_eq!(call(&mut p, nr::MADVISE, &[anon + 0x1000, 1, 4]), 0);
    assert_eq!(call(&mut p, nr::MADVISE, &[shared, 0x1000, 4]), 0);
    assert_eq!(call(&mut p, nr::MADVISE, &[DATA, 0x1000, 4]), 0);
    let read = |p: &Process, at: u64| p.machine.mem.read_u64(at + 8, 8);
    assert_eq!(read(&p, anon), Ok(0x55), "before the range");
    assert_eq!(
        read(&p, anon + 0x1000),
        Ok(0),
        "a partial page counts whole"
    );
    assert_eq!(read(&p, shared), Ok(0x55), "MAP_SHARED keeps its contents");
    assert_eq!(read(&p, DATA), Ok(0x55), "so does a file-backed segment");
    assert_eq!(
        call(&mut p, nr::MADVISE, &[anon, 0x3000, 4]),
        -12,
        "ENOMEM past the mapping"
    );
    assert_eq!(read(&p, anon), Ok(0), "after discarding what is mapped");
}

#[test]
fn file_calls_openat_fstat_mmap_read_lseek_close() {
    let mut p = sys_process();
    let path = hello_path();
    let size = std::fs::metadata(&path).expect("hello.elf").len();
    let name = put_str(&mut p, DATA, &path.to_string_lossy());
    let fd = call(&mut p, nr::OPENAT, &[AT_FDCWD, name, 0, 0]);
    assert!(fd >= 3, "openat: {fd}");
    let fd = fd as u64;
    let st = DATA + 0x400;
    assert_eq!(call(&mut p, nr::FSTAT, &[fd, st]), 0);
    assert_eq!(p.machine.mem.read_u64(st + 48, 8), Ok(size));
    assert_eq!(
        p.machine.mem.read_u64(st + 16, 4).map(|m| m & 0o170000),
        Ok(0o100000)
    );
    assert_eq!(
        call(&mut p, nr::NEWFSTATAT, &[AT_FDCWD, name, st + 0x100, 0]),
        0
    );
    assert_eq!(p.machine.mem.read_u64(st + 0x100 + 48, 8), Ok(size));
    let m = call(&mut p, nr::MMAP, &[0, size, 1, 2, fd, 0]) as u64;
    assert_eq!(p.machine.mem.read_u64(m, 4), Ok(0x464c_457f));
    assert!(p.machine.mem.write_u64(m, 1, 0).is_err(), "PROT_READ");
    assert_eq!(call(&mut p, nr::LSEEK, &[fd, 1, 0]), 1);
    assert_eq!(call(&mut p, nr::READ, &[fd, DATA + 0x800, 3]), 3);
    assert_eq!(p.machine.mem.read_u64(DATA + 0x800, 3), Ok(0x46_4c45));
    assert_eq!(call(&mut p, nr::PREAD64, &[fd, DATA + 0x800, 4, 0]), 4);
    assert_eq!(p.machine.mem.read_u64(DATA + 0x800, 4), Ok(0x464c_457f));
    // Reading into read-only memory or an unmapped buffer faults, and the data stays unread.
    assert_eq!(call(&mut p, nr::READ, &[fd, CODE, 4]), EFAULT);
    assert_eq!(call(&mut p, nr::READ, &[fd, 0x10, 4]), EFAULT);
    assert_eq!(call(&mut p, nr::LSEEK, &[fd, 0, 1]), 4);
    assert_eq!(call(&mut p, nr::CLOSE, &[fd]), 0);
    assert_eq!(call(&mut p, nr::CLOSE, &[fd]), -9);
    let missing = put_str(&mut p, DATA, "/nonexistent/armature");
    assert_eq!(call(&mut p, nr::OPENAT, &[AT_FDCWD, missing, 0, 0]), -2);
    assert_eq!(
        call(&mut p, nr::OPENAT, &[AT_FDCWD, 0xdead_0000, 0, 0]),
        EFAULT
    );
}

#[test]
fn writev_pwrite_getdents_mkdir_unlink_access() {
    let mut p = sys_process();
    let dir = scratch("dir");
    let dname = put_str(&mut p, DATA, &dir.to_string_lossy());
    assert_eq!(call(&mut p, nr::MKDIRAT, &[AT_FDCWD, dname, 0o755]), 0);
    assert_eq!(call(&mut p, nr::MKDIRAT, &[AT_FDCWD, dname, 0o755]), -17);
    let file = dir.join("f");
    let fname = put_str(&mut p, DATA + 0x100, &file.to_string_lossy());
    let fd = call(
        &mut p,
        nr::OPENAT,
        &[
            AT_FDCWD, fname, 0o1102, /* O_RDWR|O_CREAT|O_TRUNC */
            0o644,
        ],
    ) as u64;
    put_str(&mut p, DATA + 0x200, "abc");
    put_str(&mut p, DATA + 0x210, "defg");
    put_iovecs(
        &mut p,
        DATA + 0x300,
        &[(DATA + 0x200, 3), (DATA + 0x210, 4)],
    );
    assert_eq!(call(&mut p, nr::WRITEV, &[fd, DATA + 0x300, 2]), 7);
    assert_eq!(call(&mut p, nr::PWRITE64, &[fd, DATA + 0x200, 1, 6]), 1);
    assert_eq!(std::fs::read(&file).expect("written"), b"abcdefa");
    assert_eq!(call(&mut p, nr::WRITE, &[fd, 0xdead_0000, 4]), EFAULT);
    // readv back in two pieces.
    assert_eq!(call(&mut p, nr::LSEEK, &[fd, 0, 0]), 0);
    p.machine
        .mem
        .write_u64(DATA + 0x300, 8, DATA + 0x400)
        .expect("iov");
    p.machine
        .mem
        .write_u64(DATA + 0x310, 8, DATA + 0x500)
        .expect("iov");
    assert_eq!(call(&mut p, nr::READV, &[fd, DATA + 0x300, 2]), 7);
    assert_eq!(p.machine.mem.read_u64(DATA + 0x400, 3), Ok(0x63_6261));
    assert_eq!(p.machine.mem.read_u64(DATA + 0x500, 4), Ok(0x6166_6564));
    call(&mut p, nr::CLOSE, &[fd]);

    assert_eq!(call(&mut p, nr::FACCESSAT, &[AT_FDCWD, fname, 4]), 0);
    let dfd = call(
        &mut p,
        nr::OPENAT,
        &[AT_FDCWD, dname, 0x4000 /* aarch64 O_DIRECTORY */, 0],
    );
    assert!(dfd >= 0, "open directory: {dfd}");
    let n = call(&mut p, nr::GETDENTS64, &[dfd as u64, DATA + 0x800, 0x400]);
    assert!(n > 0);
    let mut ents = vec![0u8; n as usize];
    p.machine
        .mem
        .read(DATA + 0x800, &mut ents)
        .expect("dirents");
    assert!(ents.windows(2).any(|w| w == b"f\0"));
    call(&mut p, nr::CLOSE, &[dfd as u64]);
    // O_DIRECTORY on a file fails: the flag was translated.
    assert_eq!(call(&mut p, nr::OPENAT, &[AT_FDCWD, fname, 0x4000, 0]), -20);
    assert_eq!(call(&mut p, nr::UNLINKAT, &[AT_FDCWD, fname, 0]), 0);
    assert_eq!(call(&mut p, nr::FACCESSAT, &[AT_FDCWD, fname, 0]), -2);
    assert_eq!(
        call(
            &mut p,
            nr::UNLINKAT,
            &[AT_FDCWD, dname, 0x200 /* AT_REMOVEDIR */]
        ),
        0
    );
}

#[test]
fn process_information_calls() {
    let mut p = sys_process();
    assert_eq!(call(&mut p, nr::UNAME, &[DATA]), 0);
    let mut uts = vec![0u8; 390];
    p.machine.mem.read(DATA, &mut uts).expect("utsname");
    assert_eq!(&uts[..6], b"Linux\0");
    assert_eq!(&uts[4 * 65..4 * 65 + 8], b"aarch64\0");
    assert_eq!(call(&mut p, nr::UNAME, &[CODE]), EFAULT);

    let cwd = std::env::current_dir().expect("cwd");
    let n = call(&mut p, nr::GETCWD, &[DATA, 4096]);
    assert_eq!(n as usize, cwd.as_os_str().len() + 1);
    assert_eq!(call(&mut p, nr::GETCWD, &[DATA, 1]), -34);

    let exe = put_str(&mut p, DATA, "/proc/self/exe");
    let n = call(&mut p, nr::READLINKAT, &[AT_FDCWD, exe, DATA + 0x100, 4096]);
    let mut link = vec![0u8; n as usize];
    p.machine.mem.read(DATA + 0x100, &mut link).expect("link");
    assert!(
        String::from_utf8_lossy(&link).contains("armature-linux-"),
        "{}",
        String::from_utf8_lossy(&link)
    );

    assert_eq!(call(&mut p, nr::GETRANDOM, &[DATA, 32, 0]), 32);
    assert_eq!(call(&mut p, nr::CLOCK_GETTIME, &[0, DATA]), 0);
    assert!(p.machine.mem.read_u64(DATA, 8).expect("tv_sec") > 1_600_000_000);
    assert_eq!(call(&mut p, nr::GETTIMEOFDAY, &[DATA, 0]), 0);
    assert_eq!(call(&mut p, nr::CLOCK_GETTIME, &[0, 0]), EFAULT);
    let pid = i64::from(std::process::id());
    assert_eq!(call(&mut p, nr::GETPID, &[]), pid);
    assert_eq!(call(&mut p, nr::GETTID, &[]), pid);
    assert_eq!(call(&mut p, nr::SET_TID_ADDRESS, &[DATA]), pid);
    assert_eq!(
        call(&mut p, nr::GETUID, &[]),
        i64::from(unsafe { libc::getuid() })
    );
    assert_eq!(call(&mut p, nr::SET_ROBUST_LIST, &[DATA, 24]), 0);
    assert_eq!(call(&mut p, nr::RSEQ, &[DATA, 32, 0, 0]), -38);
    assert_eq!(call(&mut p, nr::PRLIMIT64, &[0, 3, 0, DATA]), 0);
    assert_ne!(p.machine.mem.read_u64(DATA, 8), Ok(0), "a stack limit");
    // The host's CPU set: the kernel's mask size, at least one CPU in it.
    let size = call(&mut p, nr::SCHED_GETAFFINITY, &[0, 128, DATA]);
    assert!(size >= 8 && size % 8 == 0, "mask size {size}");
    assert_ne!(p.machine.mem.read_u64(DATA, 8), Ok(0));
    assert_eq!(call(&mut p, nr::SCHED_GETAFFINITY, &[0, 4, DATA]), -22);
    // TCGETS on a file that is no terminal; a closed descriptor is EBADF before anything.
    let file = std::fs::File::open(hello_path()).expect("hello.elf");
    let fd = file.as_raw_fd() as u64;
    assert_eq!(call(&mut p, nr::IOCTL, &[fd, 0x5401, DATA]), -25);
    assert_eq!(call(&mut p, nr::IOCTL, &[u64::MAX, 0x5401, DATA]), -9);
    assert_eq!(call(&mut p, nr::IOCTL, &[u64::MAX, 0x541b, 0]), -9);
    assert_eq!(
        call(&mut p, nr::IOCTL, &[fd, 0x541b, 0]),
        EFAULT,
        "FIONREAD"
    );
    assert_eq!(call(&mut p, nr::IOCTL, &[fd, 0x5421, 0]), EFAULT, "FIONBIO");
    assert_eq!(call(&mut p, nr::MADVISE, &[DATA, 4096, 4]), 0);
    // Futexes of a single thread.
    p.machine.mem.write_u64(DATA, 4, 5).expect("futex word");
    assert_eq!(call(&mut p, nr::FUTEX, &[DATA, 129, 1, 0, 0, 0]), 0);
    assert_eq!(call(&mut p, nr::FUTEX, &[DATA, 128, 4, 0, 0, 0]), -11);
    // Unknown system calls.
    assert_eq!(call(&mut p, 4000, &[]), -38);
    assert_eq!(call(&mut p, 4000, &[]), -38);
}

#[test]
fn signal_state_is_recorded() {
    let mut p = sys_process();
    let act = [0x40_0000u64, 0x0400_0000, 0x40_0010, 1 << 9];
    for (i, w) in act.iter().enumerate() {
        p.machine
            .mem
            .write_u64(DATA + 8 * i as u64, 8, *w)
            .expect("act");
    }
    assert_eq!(call(&mut p, nr::RT_SIGACTION, &[10, DATA, 0, 8]), 0);
    assert_eq!(call(&mut p, nr::RT_SIGACTION, &[10, 0, DATA + 0x100, 8]), 0);
    for (i, w) in act.iter().enumerate() {
        assert_eq!(
            p.machine.mem.read_u64(DATA + 0x100 + 8 * i as u64, 8),
            Ok(*w)
        );
    }
    assert_eq!(call(&mut p, nr::RT_SIGACTION, &[9, DATA, 0, 8]), -22);
    assert_eq!(call(&mut p, nr::RT_SIGACTION, &[65, 0, 0, 8]), -22);
    p.machine.mem.write_u64(DATA, 8, 0b110).expect("set");
    assert_eq!(call(&mut p, nr::RT_SIGPROCMASK, &[0, DATA, 0, 8]), 0);
    assert_eq!(call(&mut p, nr::RT_SIGPROCMASK, &[2, 0, DATA + 8, 8]), 0);
    assert_eq!(p.machine.mem.read_u64(DATA + 8, 8), Ok(0b110));
    assert_eq!(p.signals.mask, 0b110);
}

#[test]
fn exit_and_exit_group_end_the_process() {
    let mut p = sys_process();
    p.machine.cpu.x[8] = nr::EXIT_GROUP;
    p.machine.cpu.x[0] = 0x1_07;
    assert_eq!(p.syscall(), Some(Exit::Exited(7)));
    // `exit` of the only thread ends the process with its code.
    let mut p = sys_process();
    p.machine.cpu.x[8] = nr::EXIT;
    p.machine.cpu.x[0] = 3;
    assert_eq!(p.syscall(), Some(Exit::Exited(3)));
}

#[test]
fn missing_program_is_an_io_error() {
    let e = Process::load(Path::new("/nonexistent/prog"), &[], &[], FeatureSet::base())
        .err()
        .expect("error");
    assert!(matches!(e, LoadError::Io { .. }));
    assert!(e.to_string().contains("/nonexistent/prog"), "{e}");
}

// ---- signals ----

#[test]
fn a_signal_frame_is_built_and_rt_sigreturn_restores_it() {
    use super::signal::{self, SigFields, SigInfo};
    // The interrupted code: exit with the X0 the handler leaves in the frame.
    let code = [movz(8, nr::EXIT as u16, 0), SVC];
    let mut p = process(&program(&code, &[0; 4096]), &["prog"]);
    let handler = 0x40_1230;
    let act = [handler, signal::SA_SIGINFO, 0, 1 << 9];
    for (i, w) in act.iter().enumerate() {
        p.machine
            .mem
            .write_u64(DATA + 8 * i as u64, 8, *w)
            .expect("act");
    }
    assert_eq!(call(&mut p, nr::RT_SIGACTION, &[11, DATA, 0, 8]), 0);
    let cpu = &mut p.machine.cpu;
    cpu.x = std::array::from_fn(|i| 0x100 + i as u64);
    cpu.sp = 0x7f_fe90_0008; // not 16-byte aligned: the frame is
    cpu.pc = CODE;
    cpu.nzcv = 0x6000_0000;
    cpu.v[31] = 0x1234_5678_9abc_def0_0fed_cba9_8765_4321;
    cpu.fpcr = 0x0300_0000;
    cpu.fpsr = 0x10;
    let info = SigInfo {
        signo: 11,
        code: signal::SEGV_ACCERR,
        fields: SigFields::Fault { addr: 0xdead_0000 },
    };
    assert_eq!(p.force_signal(info, String::new()), None);
    let cpu = &p.machine.cpu;
    let frame = cpu.sp;
    // The frame record {fp, lr} sits just below the old SP, and the 4688-byte frame below it.
    assert_eq!(cpu.x[29], 0x7f_fe8f_fff0);
    assert_eq!(frame, 0x7f_fe8f_fff0 - 4688);
    assert_eq!(
        (cpu.x[0], cpu.x[1], cpu.x[2]),
        (11, frame, frame + 128),
        "signo, &siginfo, &ucontext"
    );
    assert_eq!(
        cpu.x[30],
        signal::SIGTRAMP,
        "no SA_RESTORER: the trampoline"
    );
    assert_eq!(cpu.pc, handler);
    assert_eq!(
        p.signals.mask,
        1 << 10 | 1 << 9,
        "the signal and sa_mask are blocked"
    );
    let r = |off: u64, size: usize| p.machine.mem.read_u64(frame + off, size).expect("frame");
    assert_eq!(
        (r(0, 4), r(8, 4), r(16, 8)),
        (11, 2, 0xdead_0000),
        "siginfo"
    );
    assert_eq!(r(168, 8), 0, "uc_sigmask: the mask before");
    assert_eq!(r(152, 4), 2, "uc_stack.ss_flags: SS_DISABLE");
    assert_eq!(r(304, 8), 0xdead_0000, "fault_address");
    assert_eq!(
        (r(312, 8), r(304 + 8 + 30 * 8, 8)),
        (0x100, 0x11e),
        "regs[0], regs[30]"
    );
    assert_eq!(
        (r(560, 8), r(568, 8), r(576, 8)),
        (0x7f_fe90_0008, CODE, 0x6000_0000)
    );
    assert_eq!(
        (r(592, 4), r(596, 4)),
        (0x4650_8001, 528),
        "fpsimd_context header"
    );
    assert_eq!((r(600, 4), r(604, 4)), (0x10, 0x0300_0000), "fpsr, fpcr");
    assert_eq!(
        r(608 + 31 * 16 + 8, 8),
        0x1234_5678_9abc_def0,
        "vregs[31] high half"
    );
    assert_eq!((r(1120, 4), r(1124, 4)), (0, 0), "the terminating record");
    assert_eq!(
        (r(0x7f_fe8f_fff0 - frame, 8), r(0x7f_fe8f_fff8 - frame, 8)),
        (0x11d, 0x11e),
        "frame record: old x29, x30"
    );
    // The handler changes X0 in the frame and returns through the trampoline.
    p.machine.mem.write_u64(frame + 312, 8, 77).expect("frame");
    p.machine.cpu.v[31] = 0;
    p.machine.cpu.pc = signal::SIGTRAMP;
    assert_eq!(p.run(&tiny_table()), Exit::Exited(77));
    let cpu = &p.machine.cpu;
    assert_eq!(cpu.sp, 0x7f_fe90_0008);
    assert_eq!(cpu.x[1], 0x101);
    assert_eq!(cpu.nzcv, 0x6000_0000);
    assert_eq!(cpu.v[31], 0x1234_5678_9abc_def0_0fed_cba9_8765_4321);
    assert_eq!((cpu.fpcr, cpu.fpsr), (0x0300_0000, 0x10));
    assert_eq!(p.signals.mask, 0, "the mask is restored");
}

#[test]
fn a_bad_sigreturn_frame_and_a_blocked_fault_kill() {
    let mut p = sys_process();
    p.machine.cpu.sp = DATA + 8; // misaligned
    p.machine.cpu.x[8] = nr::RT_SIGRETURN;
    assert!(matches!(
        p.syscall(),
        Some(Exit::Signaled { signal: 11, .. })
    ));
    p.machine.cpu.sp = DATA; // aligned, but no FP/SIMD record
    assert!(matches!(
        p.syscall(),
        Some(Exit::Signaled { signal: 11, reason, .. }) if reason.contains("bad frame")
    ));
}

#[test]
fn sigaltstack_and_kill_to_self() {
    let mut p = sys_process();
    // stack_t {ss_sp, ss_flags, ss_size}
    for (off, v) in [(0, DATA + 0x1000), (8, 0), (16, 4096)] {
        p.machine.mem.write_u64(DATA + off, 8, v).expect("ss");
    }
    assert_eq!(
        call(&mut p, nr::SIGALTSTACK, &[DATA, 0]),
        -12,
        "below MINSIGSTKSZ"
    );
    p.machine.mem.write_u64(DATA + 16, 8, 8192).expect("ss");
    assert_eq!(call(&mut p, nr::SIGALTSTACK, &[DATA, DATA + 0x100]), 0);
    assert_eq!(
        p.machine.mem.read_u64(DATA + 0x108, 4),
        Ok(2),
        "was disabled"
    );
    assert_eq!(call(&mut p, nr::SIGALTSTACK, &[0, DATA + 0x100]), 0);
    assert_eq!(p.machine.mem.read_u64(DATA + 0x100, 8), Ok(DATA + 0x1000));
    assert_eq!(p.machine.mem.read_u64(DATA + 0x110, 8), Ok(8192));
    // A blocked SIGUSR1 sent to itself stays pending; SIGCHLD is ignored by default.
    p.machine.mem.write_u64(DATA, 8, 1 << 9).expect("set");
    assert_eq!(call(&mut p, nr::RT_SIGPROCMASK, &[0, DATA, 0, 8]), 0);
    let pid = u64::from(std::process::id());
    assert_eq!(call(&mut p, nr::KILL, &[pid, 10]), 0);
    assert_eq!(
        call(&mut p, nr::KILL, &[u64::MAX, 10]),
        -1,
        "kill(-1) stays inside"
    );
    assert_eq!(call(&mut p, nr::KILL, &[pid, 65]), -22);
    assert_eq!(call(&mut p, nr::KILL, &[0, 0]), 0, "signal 0 only checks");
    assert_eq!(call(&mut p, nr::TGKILL, &[pid, pid, 17]), 0);
    assert_eq!(call(&mut p, nr::TGKILL, &[pid + 1, pid, 10]), -3);
    assert_eq!(call(&mut p, nr::RT_SIGPENDING, &[DATA, 8]), 0);
    assert_eq!(p.machine.mem.read_u64(DATA, 8), Ok(1 << 9));
    assert_eq!(p.deliver_pending(), None, "still blocked");
    p.signals.mask = 0;
    assert!(matches!(
        p.deliver_pending(),
        Some(Exit::Signaled { signal: 10, .. })
    ));
}

#[test]
fn a_dynamic_program_gets_its_interpreter() {
    // The "interpreter": an ET_DYN image whose code exits with status 9.
    let interp = build_elf(
        3,
        0x10,
        &[load_seg(
            PF_R | PF_X,
            0,
            words(&[0, 0, 0, 0, movz(0, 9, 0), movz(8, nr::EXIT as u16, 0), SVC]),
        )],
    );
    let root = scratch("root");
    std::fs::create_dir_all(root.join("lib")).expect("root");
    std::fs::write(root.join("lib/ld.so"), interp).expect("interpreter");
    let image = build_elf(
        2,
        CODE,
        &[
            Ph {
                ptype: 3,
                flags: PF_R,
                vaddr: 0x30_0000,
                data: b"/lib/ld.so\0".to_vec(),
                memsz: 11,
            },
            load_seg(PF_R | PF_X, CODE, words(&[SVC])),
        ],
    );
    let path = scratch("dynprog");
    std::fs::write(&path, &image).expect("program");
    let args = ["prog".to_string()];
    let mut p = Process::load_with_root(&path, Some(&root), &args, &[], FeatureSet::base())
        .expect("loads with the interpreter");
    assert_eq!(
        p.machine.cpu.pc,
        elf::INTERP_BASE + 0x10,
        "starts in the interpreter"
    );
    // AT_BASE and AT_ENTRY on the stack.
    let sp = p.machine.cpu.sp;
    let mut auxv = Vec::new();
    let mut i = 4; // argc, argv[0], NULL, envp NULL
    loop {
        let k = p.machine.mem.read_u64(sp + 8 * i, 8).expect("auxv");
        let v = p.machine.mem.read_u64(sp + 8 * i + 8, 8).expect("auxv");
        if k == 0 {
            break;
        }
        auxv.push((k, v));
        i += 2;
    }
    assert!(
        auxv.contains(&(stack::AT_BASE, elf::INTERP_BASE)),
        "{auxv:x?}"
    );
    assert!(auxv.contains(&(stack::AT_ENTRY, CODE)), "{auxv:x?}");
    assert_eq!(p.run(&tiny_table()), Exit::Exited(9));
    // Absolute paths are looked up under the root first (this one exists only there).
    let name = put_str(&mut p, sp - 0x1000, "/lib/ld.so");
    let st = sp - 0x800;
    assert_eq!(call(&mut p, nr::NEWFSTATAT, &[AT_FDCWD, name, st, 0]), 0);
    assert_eq!(call(&mut p, nr::FACCESSAT, &[AT_FDCWD, name, 4]), 0);
    let fd = call(&mut p, nr::OPENAT, &[AT_FDCWD, name, 0, 0]);
    assert!(fd >= 0, "{fd}");
    call(&mut p, nr::CLOSE, &[fd as u64]);
    let e = Process::load_with_root(&path, None, &args, &[], FeatureSet::base())
        .err()
        .expect("no interpreter outside the root");
    assert!(
        matches!(&e, LoadError::Interpreter { path, .. } if path == "/lib/ld.so"),
        "{e}"
    );
    std::fs::remove_file(&path).ok();
    std::fs::remove_dir_all(&root).ok();
}

#[test]
fn prctl_names_the_thread() {
    let mut p = sys_process();
    let name = |p: &mut Process| {
        assert_eq!(call(p, nr::PRCTL, &[16, DATA + 0x100]), 0, "PR_GET_NAME");
        let mut b = [0u8; 16];
        p.machine.mem.read(DATA + 0x100, &mut b).expect("scratch");
        b
    };
    // The program's file name, NUL-terminated within 16 bytes.
    assert_eq!(name(&mut p)[15], 0);
    put_str(&mut p, DATA, "a-rather-long-thread-name");
    assert_eq!(call(&mut p, nr::PRCTL, &[15, DATA]), 0, "PR_SET_NAME");
    assert_eq!(&name(&mut p), b"a-rather-long-t\0");
    assert_eq!(call(&mut p, nr::PRCTL, &[15, 0]), EFAULT);
    // PR_SET_DUMPABLE and the like would change the host process: refused.
    assert_eq!(call(&mut p, nr::PRCTL, &[4, 0]), -22);
}

#[test]
fn mremap_shrinks_grows_and_moves() {
    let mut p = sys_process();
    let a = call(&mut p, nr::MMAP, &[0, 0x2000, 3, 0x22, u64::MAX, 0]) as u64;
    p.machine.mem.write_u64(a + 0x1ff8, 8, 0x1234).expect("RW");
    // Grows in place while the pages after it are free.
    assert_eq!(
        call(&mut p, nr::MREMAP, &[a, 0x2000, 0x3000, 1, 0]) as u64,
        a
    );
    p.machine
        .mem
        .write_u64(a + 0x2ff8, 8, 1)
        .expect("the new page is RW");
    // Something mapped right after it: growing again must move, keeping the contents.
    let fixed = a + 0x3000;
    assert_eq!(
        call(&mut p, nr::MMAP, &[fixed, 0x1000, 3, 0x32, u64::MAX, 0]) as u64,
        fixed
    );
    assert_eq!(
        call(&mut p, nr::MREMAP, &[a, 0x3000, 0x5000, 0, 0]),
        -12,
        "no MAYMOVE"
    );
    let b = call(&mut p, nr::MREMAP, &[a, 0x3000, 0x5000, 1, 0]) as u64;
    assert_ne!(b, a);
    assert_eq!(p.machine.mem.read_u64(b + 0x1ff8, 8), Ok(0x1234));
    assert!(
        !p.machine.mem.is_mapped(a, 0x3000),
        "the old mapping is gone"
    );
    // Shrinks in place.
    assert_eq!(
        call(&mut p, nr::MREMAP, &[b, 0x5000, 0x1000, 0, 0]) as u64,
        b
    );
    assert!(!p.machine.mem.is_mapped(b + 0x1000, 0x4000));
    // Unmapped, misaligned and unsupported requests.
    assert_eq!(call(&mut p, nr::MREMAP, &[a, 0x1000, 0x2000, 1, 0]), EFAULT);
    assert_eq!(
        call(&mut p, nr::MREMAP, &[b + 1, 0x1000, 0x2000, 1, 0]),
        -22
    );
    assert_eq!(call(&mut p, nr::MREMAP, &[b, 0x1000, 0x2000, 3, 0]), -22);
}

#[test]
fn errno_order_of_pipe2_madvise_set_robust_list_prlimit64() {
    let mut p = sys_process();
    // Invalid flags come before the bad pointer.
    assert_eq!(call(&mut p, nr::PIPE2, &[0, 1]), -22);
    assert_eq!(call(&mut p, nr::PIPE2, &[0, 0o2000000]), EFAULT);
    assert_eq!(
        call(&mut p, nr::MADVISE, &[DATA, 4096, 4]),
        0,
        "MADV_DONTNEED"
    );
    assert_eq!(
        call(&mut p, nr::MADVISE, &[DATA, 4096, 14]),
        0,
        "MADV_HUGEPAGE"
    );
    assert_eq!(call(&mut p, nr::MADVISE, &[DATA, 4096, 7]), -22);
    assert_eq!(call(&mut p, nr::MADVISE, &[DATA, 4096, 999]), -22);
    assert_eq!(call(&mut p, nr::MADVISE, &[DATA + 1, 4096, 0]), -22);
    assert_eq!(call(&mut p, nr::SET_ROBUST_LIST, &[DATA, 16]), -22);
    assert_eq!(call(&mut p, nr::PRLIMIT64, &[0, 7, 0x10, 0]), EFAULT);
    assert_eq!(call(&mut p, nr::PRLIMIT64, &[0, 7, 0, 0x10]), EFAULT);
    assert_eq!(call(&mut p, nr::PRLIMIT64, &[0, 99, 0, DATA]), -22);
    // Setting the limit it has leaves it as it was.
    assert_eq!(call(&mut p, nr::PRLIMIT64, &[0, 7, 0, DATA]), 0);
    assert_eq!(call(&mut p, nr::PRLIMIT64, &[0, 7, DATA, DATA + 16]), 0);
    assert_eq!(
        p.machine.mem.read_u64(DATA, 8),
        p.machine.mem.read_u64(DATA + 16, 8)
    );
}

#[test]
fn more_file_calls_fill_guest_structures_or_fault() {
    let mut p = sys_process();
    let dir = scratch("more");
    std::fs::create_dir(&dir).expect("scratch directory");
    let file = dir.join("f");
    std::fs::write(&file, b"0123456789").expect("write");
    let name = put_str(&mut p, DATA, &file.to_string_lossy());
    // statfs: the f_namelen field, then a bad buffer.
    assert_eq!(call(&mut p, nr::STATFS, &[name, DATA + 0x100]), 0);
    assert_ne!(p.machine.mem.read_u64(DATA + 0x100 + 64, 8), Ok(0));
    assert_eq!(call(&mut p, nr::STATFS, &[name, CODE]), EFAULT);
    assert_eq!(call(&mut p, nr::STATFS, &[0x10, DATA + 0x100]), EFAULT);
    // statx: stx_size at 40.
    assert_eq!(
        call(&mut p, nr::STATX, &[AT_FDCWD, name, 0, 0x7ff, DATA + 0x200]),
        0
    );
    assert_eq!(p.machine.mem.read_u64(DATA + 0x200 + 40, 8), Ok(10));
    assert_eq!(
        call(&mut p, nr::STATX, &[AT_FDCWD, name, 0, 0x7ff, CODE]),
        EFAULT
    );
    // truncate, then preadv of two pieces at an offset.
    assert_eq!(call(&mut p, nr::TRUNCATE, &[name, 6]), 0);
    let fd = call(&mut p, nr::OPENAT, &[AT_FDCWD, name, 2, 0]) as u64;
    put_iovecs(
        &mut p,
        DATA + 0x300,
        &[(DATA + 0x400, 2), (DATA + 0x410, 8)],
    );
    assert_eq!(call(&mut p, nr::PREADV, &[fd, DATA + 0x300, 2, 1]), 5);
    assert_eq!(p.machine.mem.read_u64(DATA + 0x400, 2), Ok(0x3231));
    assert_eq!(p.machine.mem.read_u64(DATA + 0x410, 3), Ok(0x35_3433));
    assert_eq!(call(&mut p, nr::PREADV, &[fd, 0x10, 2, 0]), EFAULT);
    // pwritev2 with RWF_DSYNC, then preadv2 at the file's position (-1) and with flags: the
    // RWF_* flags reach the host (qemu-aarch64 refuses them all, so only this test has them).
    const RWF_DSYNC: u64 = 2;
    const RWF_NOWAIT: u64 = 8;
    put_str(&mut p, DATA + 0x500, "ab");
    put_iovecs(&mut p, DATA + 0x300, &[(DATA + 0x500, 2)]);
    assert_eq!(
        call(
            &mut p,
            nr::PWRITEV2,
            &[fd, DATA + 0x300, 1, 0, 0, RWF_DSYNC]
        ),
        2
    );
    put_iovecs(&mut p, DATA + 0x300, &[(DATA + 0x400, 3)]);
    assert_eq!(
        call(
            &mut p,
            nr::PREADV2,
            &[fd, DATA + 0x300, 1, u64::MAX, 0, RWF_NOWAIT]
        ),
        3
    );
    assert_eq!(
        p.machine.mem.read_u64(DATA + 0x400, 3),
        Ok(0x32_6261),
        "\"ab2\""
    );
    assert_eq!(
        call(&mut p, nr::PREADV2, &[fd, DATA + 0x300, 1, 0, 0, 0x4000]),
        -95,
        "EOPNOTSUPP for an unknown flag"
    );
    assert_eq!(call(&mut p, nr::PREADV2, &[fd, 0x10, 1, 0, 0, 0]), EFAULT);
    assert_eq!(call(&mut p, nr::FSTATFS, &[fd, DATA + 0x100]), 0);
    assert_eq!(call(&mut p, nr::FSYNC, &[fd]), 0);
    assert_eq!(call(&mut p, nr::FCHMOD, &[fd, 0o600]), 0);
    assert_eq!(call(&mut p, nr::CLOSE, &[fd]), 0);
    assert_eq!(call(&mut p, nr::FSYNC, &[fd]), -9);
    std::fs::remove_dir_all(&dir).ok();
    // Structures of the process.
    assert_eq!(call(&mut p, nr::GETRUSAGE, &[0, DATA]), 0);
    assert_eq!(call(&mut p, nr::GETRUSAGE, &[0, CODE]), EFAULT);
    assert!(call(&mut p, nr::TIMES, &[0]) >= 0);
    assert_eq!(call(&mut p, nr::TIMES, &[CODE]), EFAULT);
    assert_eq!(call(&mut p, nr::GETRESUID, &[DATA, DATA + 4, DATA + 8]), 0);
    assert_eq!(
        p.machine.mem.read_u64(DATA, 4),
        Ok(u64::from(unsafe { libc::getuid() }))
    );
    assert_eq!(call(&mut p, nr::GETRESGID, &[DATA, CODE, DATA + 8]), EFAULT);
    assert_eq!(call(&mut p, nr::CLOCK_GETRES, &[1, CODE]), EFAULT);
    assert_eq!(call(&mut p, nr::MEMFD_CREATE, &[0x10, 0]), EFAULT);
}

#[test]
fn epoll_pwait2_waits_to_the_timespec() {
    // qemu-aarch64 7.2 has no epoll_pwait2, so this is not in the program tests.
    let mut p = sys_process();
    let ep = call(&mut p, nr::EPOLL_CREATE1, &[0]) as u64;
    assert_eq!(call(&mut p, nr::PIPE2, &[DATA, 0]), 0);
    let r = p.machine.mem.read_u64(DATA, 4).expect("fd");
    let w = p.machine.mem.read_u64(DATA + 4, 4).expect("fd");
    // struct epoll_event { u32 events; (4 bytes of padding on aarch64) u64 data; }
    p.machine.mem.write_u64(DATA + 0x10, 4, 1).expect("EPOLLIN");
    p.machine
        .mem
        .write_u64(DATA + 0x18, 8, 0xfeed_f00d)
        .expect("data");
    assert_eq!(call(&mut p, nr::EPOLL_CTL, &[ep, 1, r, DATA + 0x10]), 0);
    let (events, timeout) = (DATA + 0x100, DATA + 0x200);
    let wait2 = |p: &mut Process, t: u64| call(p, nr::EPOLL_PWAIT2, &[ep, events, 4, t, 0, 8]);
    // Nothing ready: a 20 ms timespec waits about that long.
    p.machine.mem.write_u64(timeout, 8, 0).expect("tv_sec");
    p.machine
        .mem
        .write_u64(timeout + 8, 8, 20_000_000)
        .expect("tv_nsec");
    let start = std::time::Instant::now();
    assert_eq!(wait2(&mut p, timeout), 0);
    assert!(start.elapsed() >= std::time::Duration::from_millis(20));
    put_str(&mut p, DATA + 0x300, "x");
    assert_eq!(call(&mut p, nr::WRITE, &[w, DATA + 0x300, 1]), 1);
    // Ready: the event in aarch64's layout, with a zero timespec and with none (NULL).
    p.machine.mem.write_u64(timeout + 8, 8, 0).expect("tv_nsec");
    assert_eq!(wait2(&mut p, timeout), 1);
    assert_eq!(p.machine.mem.read_u64(events, 4), Ok(1));
    assert_eq!(p.machine.mem.read_u64(events + 8, 8), Ok(0xfeed_f00d));
    assert_eq!(wait2(&mut p, 0), 1);
    p.machine
        .mem
        .write_u64(timeout + 8, 8, 1_000_000_000)
        .expect("tv_nsec");
    assert_eq!(wait2(&mut p, timeout), -22, "EINVAL for a bad timespec");
    assert_eq!(wait2(&mut p, CODE + 0x10_0000), EFAULT);
}

#[test]
fn proc_self_maps_marks_shared_mappings() {
    // qemu-aarch64 7.2 prints `p` for every mapping, so this is not in the program tests.
    let mut p = sys_process();
    let shared = call(&mut p, nr::MMAP, &[0, 0x2000, 3, 0x21, u64::MAX, 0]) as u64;
    let private = call(&mut p, nr::MMAP, &[0, 0x1000, 3, 0x22, u64::MAX, 0]) as u64;
    let maps = String::from_utf8(p.proc_file(b"/proc/self/maps").expect("maps")).expect("text");
    let perms = |addr: u64| {
        maps.lines()
            .find(|l| l.starts_with(&format!("{addr:08x}-")))
            .and_then(|l| l.split(' ').nth(1))
            .unwrap_or_else(|| panic!("{addr:#x} in {maps}"))
            .to_string()
    };
    assert_eq!(perms(shared), "rw-s", "{maps}");
    assert_eq!(perms(private), "rw-p", "{maps}");
    // A shared line is not merged with a private neighbour of the same permissions.
    assert!(
        maps.lines()
            .any(|l| l.starts_with(&format!("{shared:08x}-{:08x} ", shared + 0x2000))),
        "{maps}"
    );
}

#[test]
fn memory_range_calls_check_the_mapping() {
    let mut p = sys_process();
    let a = call(&mut p, nr::MMAP, &[0, 0x3000, 3, 0x22, u64::MAX, 0]) as u64;
    assert_eq!(call(&mut p, nr::MSYNC, &[a, 0x3000, 4]), 0);
    assert_eq!(call(&mut p, nr::MSYNC, &[a + 1, 0x1000, 4]), -22);
    assert_eq!(call(&mut p, nr::MSYNC, &[a, 0x1000, 5]), -22);
    assert_eq!(call(&mut p, nr::MINCORE, &[a, 0x3000, DATA]), 0);
    assert_eq!(p.machine.mem.read_u64(DATA, 4), Ok(0x0001_0101));
    assert_eq!(call(&mut p, nr::MINCORE, &[a, 0x3000, CODE]), EFAULT);
    assert_eq!(call(&mut p, nr::MLOCK, &[a + 8, 16]), 0);
    const MLOCK_ONFAULT: u64 = 1;
    assert_eq!(call(&mut p, nr::MLOCK2, &[a, 16, MLOCK_ONFAULT]), 0);
    assert_eq!(call(&mut p, nr::MLOCK2, &[a, 16, 2]), -22);
    assert_eq!(call(&mut p, nr::MUNMAP, &[a + 0x1000, 0x1000]), 0);
    assert_eq!(call(&mut p, nr::MSYNC, &[a, 0x3000, 0]), -12);
    assert_eq!(call(&mut p, nr::MINCORE, &[a, 0x3000, DATA]), -12);
    assert_eq!(call(&mut p, nr::MUNLOCK, &[a, 0x3000]), -12);
    assert_eq!(call(&mut p, nr::MLOCKALL, &[0]), -22);
}

#[test]
fn sockets_move_addresses_and_messages_through_guest_memory() {
    let mut p = sys_process();
    // AF_UNIX, SOCK_STREAM.
    assert_eq!(call(&mut p, nr::SOCKETPAIR, &[1, 1, 0, DATA]), 0);
    let a = p.machine.mem.read_u64(DATA, 4).expect("fd");
    let b = p.machine.mem.read_u64(DATA + 4, 4).expect("fd");
    assert_eq!(call(&mut p, nr::SOCKETPAIR, &[1, 1, 0, CODE]), EFAULT);
    // sendmsg of two pieces, recvmsg into one: a msghdr with only iov and iovlen.
    put_str(&mut p, DATA + 0x100, "abc");
    put_str(&mut p, DATA + 0x110, "de");
    let iov = [DATA + 0x100, 3, DATA + 0x110, 2];
    for (i, w) in iov.iter().enumerate() {
        p.machine
            .mem
            .write_u64(DATA + 0x200 + 8 * i as u64, 8, *w)
            .expect("iov");
    }
    let msg = [0, 0, DATA + 0x200, 2, 0, 0, 0];
    for (i, w) in msg.iter().enumerate() {
        p.machine
            .mem
            .write_u64(DATA + 0x300 + 8 * i as u64, 8, *w)
            .expect("msghdr");
    }
    assert_eq!(call(&mut p, nr::SENDMSG, &[a, DATA + 0x300, 0]), 5);
    p.machine
        .mem
        .write_u64(DATA + 0x200, 8, DATA + 0x500)
        .expect("iov");
    p.machine.mem.write_u64(DATA + 0x208, 8, 16).expect("iov");
    p.machine.mem.write_u64(DATA + 0x318, 8, 1).expect("iovlen");
    assert_eq!(call(&mut p, nr::RECVMSG, &[b, DATA + 0x300, 0]), 5);
    assert_eq!(p.machine.mem.read_u64(DATA + 0x500, 5), Ok(0x65_6463_6261));
    assert_eq!(call(&mut p, nr::SENDMSG, &[a, CODE + 0x10_0000, 0]), EFAULT);
    assert_eq!(call(&mut p, nr::RECVMSG, &[b, CODE, 0]), EFAULT);
    // getsockname of an unbound AF_UNIX socket: the family only.
    p.machine.mem.write_u64(DATA + 0x600, 4, 128).expect("len");
    assert_eq!(
        call(&mut p, nr::GETSOCKNAME, &[a, DATA + 0x700, DATA + 0x600]),
        0
    );
    assert_eq!(p.machine.mem.read_u64(DATA + 0x600, 4), Ok(2));
    assert_eq!(
        call(&mut p, nr::GETSOCKNAME, &[a, DATA + 0x700, 0x10]),
        EFAULT
    );
    // Options whose values would hold a host pointer are refused.
    assert_eq!(call(&mut p, nr::SETSOCKOPT, &[a, 1, 26, DATA, 16]), -92);
    assert_eq!(
        call(&mut p, nr::SETSOCKOPT, &[a, 1, 2, DATA, u64::MAX]),
        -22
    );
    // A closed descriptor is EBADF before the address is read.
    assert_eq!(call(&mut p, nr::CLOSE, &[b]), 0);
    assert_eq!(call(&mut p, nr::CONNECT, &[b, 0x10, 16]), -9);
    assert_eq!(call(&mut p, nr::CLOSE, &[a]), 0);
}
