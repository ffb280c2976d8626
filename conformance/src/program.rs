//! Test programs: machine state, test cases, and the static aarch64 ELF that runs them.
//!
//! One program holds many independent cases. Each case is a set-up block that loads the whole
//! initial state (X0-X30, SP, NZCV, FPCR, FPSR, V0-V31) from the case's state block, followed by
//! the instructions under test, and, when one of them is a branch, the landing NOPs its target
//! lies on ([`crate::gen::landing_len`]). When one of them is a backward immediate branch, the
//! set-up block ends with a `B` over [`crate::gen::BACK`] backward landing pads placed just
//! before the instructions ([`crate::gen::back_len`]); each pad is a `B` to the end of the case,
//! so a backward branch runs one pad and leaves the case instead of looping:
//!
//! ```text
//! set-up (40)  B test_pc  pad: B end  pad: B end ...  test_pc: words...  NOP x4  end: next case
//! ```
//!
//! After the last case the program writes the scratch memory to standard output and exits, so
//! that the reference and armature see the same memory at the end.
//!
//! Layout (all fixed, the ELF is static):
//!
//! - `CODE_BASE`: one read-execute segment with the code.
//! - `DATA_BASE`: one read-write segment: the scratch memory (`SCRATCH_MARGIN` bytes, then one
//!   `REGION_SIZE` region per case, then `SCRATCH_MARGIN` bytes), then the state blocks.

use serde::{Deserialize, Serialize};

/// The address of the code segment.
pub const CODE_BASE: u64 = 0x40_0000;
/// The address of the data segment (scratch memory first).
pub const DATA_BASE: u64 = 0x1000_0000;
/// Scratch bytes before the first and after the last case region.
pub const SCRATCH_MARGIN: u64 = 0x1_0000;
/// Scratch bytes per case; base registers point into the middle of the case's region.
pub const REGION_SIZE: u64 = 0x1000;
/// The size of one state block (see [`State::to_block`]).
pub const STATE_BLOCK: u64 = 800;

const OFF_SP: u32 = 248;
const OFF_NZCV: u32 = 256;
const OFF_V: u32 = 288;

/// The architectural state armature and the reference are compared on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    #[serde(with = "hex_array")]
    pub x: [u64; 31],
    #[serde(with = "hex")]
    pub sp: u64,
    #[serde(with = "hex")]
    pub pc: u64,
    /// PSTATE.{N,Z,C,V} in bits 31..28.
    #[serde(with = "hex")]
    pub nzcv: u64,
    #[serde(with = "hex")]
    pub fpcr: u64,
    #[serde(with = "hex")]
    pub fpsr: u64,
    #[serde(with = "hex_v")]
    pub v: [u128; 32],
    /// The SVE registers, when the state was logged by a reference with SVE (qemu-aarch64
    /// `-cpu max`). armature's own states leave it out for now, and [`State::diff`] compares it
    /// only when both states have it, so cases compare as before until armature has SVE state.
    #[serde(skip)]
    pub sve: Option<Box<Sve>>,
}

/// The SVE registers: Z0-Z31, P0-P15 and FFR, each as 64-bit limbs, least significant first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sve {
    /// The vector length in bytes (8 times the limbs of a Z register).
    pub vl: usize,
    /// 32 registers of `vl / 8` limbs.
    pub z: Vec<Vec<u64>>,
    /// 16 registers of `vl / 64` limbs (at least one: a predicate has a bit per byte).
    pub p: Vec<Vec<u64>>,
    pub ffr: Vec<u64>,
}

impl Sve {
    /// The registers that differ from `other`, as `name: self != other` lines (limbs most
    /// significant first, as qemu prints them).
    pub fn diff(&self, other: &Sve) -> Vec<String> {
        let text = |limbs: &[u64]| {
            let l: Vec<String> = limbs.iter().rev().map(|x| format!("{x:016x}")).collect();
            l.join(":")
        };
        let mut d = Vec::new();
        if self.vl != other.vl {
            d.push(format!("VL: {} != {} bytes", self.vl, other.vl));
            return d;
        }
        let named = self
            .z
            .iter()
            .zip(&other.z)
            .enumerate()
            .map(|(i, (a, b))| (format!("Z{i}"), a, b))
            .chain(
                self.p
                    .iter()
                    .zip(&other.p)
                    .enumerate()
                    .map(|(i, (a, b))| (format!("P{i}"), a, b)),
            )
            .chain([("FFR".to_string(), &self.ffr, &other.ffr)]);
        for (name, a, b) in named {
            if a != b {
                d.push(format!("{name}: {} != {}", text(a), text(b)));
            }
        }
        d
    }
}

impl State {
    /// The state block the set-up code loads: X0-X30, SP, NZCV, FPCR, padding, V0-V31.
    pub fn to_block(&self) -> Vec<u8> {
        let mut b = vec![0u8; STATE_BLOCK as usize];
        for (i, x) in self.x.iter().enumerate() {
            b[i * 8..i * 8 + 8].copy_from_slice(&x.to_le_bytes());
        }
        let put = |b: &mut Vec<u8>, off: u32, v: u64| {
            b[off as usize..off as usize + 8].copy_from_slice(&v.to_le_bytes())
        };
        put(&mut b, OFF_SP, self.sp);
        put(&mut b, OFF_NZCV, self.nzcv);
        put(&mut b, OFF_NZCV + 8, self.fpcr);
        for (i, v) in self.v.iter().enumerate() {
            let o = OFF_V as usize + i * 16;
            b[o..o + 16].copy_from_slice(&v.to_le_bytes());
        }
        b
    }

    /// The registers that differ from `other`, as `name: self != other` lines.
    pub fn diff(&self, other: &State) -> Vec<String> {
        let mut d = Vec::new();
        for i in 0..31 {
            if self.x[i] != other.x[i] {
                d.push(format!("X{i}: {:#018x} != {:#018x}", self.x[i], other.x[i]));
            }
        }
        let mut one = |name: &str, a: u64, b: u64| {
            if a != b {
                d.push(format!("{name}: {a:#x} != {b:#x}"));
            }
        };
        one("SP", self.sp, other.sp);
        one("PC", self.pc, other.pc);
        one("NZCV", self.nzcv, other.nzcv);
        one("FPCR", self.fpcr, other.fpcr);
        one("FPSR", self.fpsr, other.fpsr);
        for i in 0..32 {
            if self.v[i] != other.v[i] {
                d.push(format!("V{i}: {:#034x} != {:#034x}", self.v[i], other.v[i]));
            }
        }
        if let (Some(a), Some(b)) = (&self.sve, &other.sve) {
            d.extend(a.diff(b));
        }
        d
    }
}

/// One test case: instructions and the state they start from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    #[serde(with = "hex_words")]
    pub words: Vec<u32>,
    pub state: State,
}

/// A program built from cases, with the addresses the comparison needs.
#[derive(Clone, Debug)]
pub struct Program {
    pub code: Vec<u8>,
    pub data: Vec<u8>,
    pub entry: u64,
    /// Per case: the address of its set-up code.
    pub setup_pc: Vec<u64>,
    /// Per case: the address of its first instruction under test.
    pub test_pc: Vec<u64>,
    /// Per case: the address of the first instruction the comparison logs: its first backward
    /// landing pad, or its first instruction under test when it has none.
    pub case_pc: Vec<u64>,
    /// Per case: the address after its instructions and landing NOPs (the instruction every
    /// path of the case ends at).
    pub test_end: Vec<u64>,
    /// The address of the first instruction after the last case (the exit sequence).
    pub end_pc: u64,
    /// The scratch memory: address and length (written to standard output at the end).
    pub scratch: (u64, u64),
}

/// Parses a hex number written with or without `0x`.
pub fn parse_hex(s: &str) -> Result<u64, String> {
    hex::parse(s)
}

/// The address of the middle of case `i`'s scratch region.
pub fn region_mid(i: usize) -> u64 {
    DATA_BASE + SCRATCH_MARGIN + i as u64 * REGION_SIZE + REGION_SIZE / 2
}

/// The initial scratch contents: a fixed pattern, so that loads read known non-zero bytes.
pub fn scratch_pattern(len: u64) -> Vec<u8> {
    let mut r = crate::SplitMix64(0x5eed_5c7a_7c40_0001);
    let mut v = Vec::with_capacity(len as usize);
    while (v.len() as u64) < len {
        v.extend_from_slice(&r.next_u64().to_le_bytes());
    }
    v.truncate(len as usize);
    v
}

/// The initial scratch bytes at `addr` (a scratch address), as a little-endian `u64`: what
/// [`scratch_pattern`] put there.
pub fn scratch_u64(addr: u64) -> u64 {
    let off = addr.wrapping_sub(DATA_BASE);
    let word = |i: u64| {
        // The generator's (i + 1)-th output: splitmix64 steps its state by a constant.
        let mut r = crate::SplitMix64(
            0x5eed_5c7a_7c40_0001u64.wrapping_add(i.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
        );
        r.next_u64()
    };
    let (i, shift) = (off / 8, off % 8 * 8);
    match shift {
        0 => word(i),
        _ => word(i) >> shift | word(i + 1) << (64 - shift),
    }
}

/// Encoders of the few instructions the set-up and exit code use.
pub mod enc {
    /// `MOVZ Xd, #imm, LSL #(hw*16)`.
    pub fn movz(rd: u32, imm: u16, hw: u32) -> u32 {
        0xd280_0000 | hw << 21 | (imm as u32) << 5 | rd
    }
    /// `MOVK Xd, #imm, LSL #(hw*16)`.
    pub fn movk(rd: u32, imm: u16, hw: u32) -> u32 {
        0xf280_0000 | hw << 21 | (imm as u32) << 5 | rd
    }
    /// `LDP Xt1, Xt2, [Xn, #off]` (signed offset, a multiple of 8).
    pub fn ldp_x(rt: u32, rt2: u32, rn: u32, off: u32) -> u32 {
        0xa940_0000 | ((off / 8) & 0x7f) << 15 | rt2 << 10 | rn << 5 | rt
    }
    /// `LDP Qt1, Qt2, [Xn, #off]` (signed offset, a multiple of 16).
    pub fn ldp_q(rt: u32, rt2: u32, rn: u32, off: u32) -> u32 {
        0xad40_0000 | ((off / 16) & 0x7f) << 15 | rt2 << 10 | rn << 5 | rt
    }
    /// `LDR Xt, [Xn, #off]` (unsigned offset, a multiple of 8).
    pub fn ldr_x(rt: u32, rn: u32, off: u32) -> u32 {
        0xf940_0000 | (off / 8) << 10 | rn << 5 | rt
    }
    /// `MSR NZCV, Xt`.
    pub fn msr_nzcv(rt: u32) -> u32 {
        0xd51b_4200 | rt
    }
    /// `MSR FPCR, Xt`.
    pub fn msr_fpcr(rt: u32) -> u32 {
        0xd51b_4400 | rt
    }
    /// `MSR FPSR, Xt`.
    pub fn msr_fpsr(rt: u32) -> u32 {
        0xd51b_4420 | rt
    }
    /// `MOV SP, Xn` (`ADD SP, Xn, #0`).
    pub fn mov_sp(rn: u32) -> u32 {
        0x9100_0000 | rn << 5 | 31
    }
    /// `SVC #0`.
    pub const SVC0: u32 = 0xd400_0001;
    /// `NOP`.
    pub const NOP: u32 = 0xd503_201f;
    /// `ADR Xd, .+off` (off within ±1 MiB).
    pub fn adr(rd: u32, off: i32) -> u32 {
        let off = off as u32;
        0x1000_0000 | (off & 3) << 29 | ((off >> 2) & 0x7_ffff) << 5 | rd
    }
    /// `ADD Xd, Xn, #imm` (imm < 4096).
    pub fn add_imm(rd: u32, rn: u32, imm: u32) -> u32 {
        0x9100_0000 | (imm & 0xfff) << 10 | rn << 5 | rd
    }
    /// `SUB Xd, Xn, Xm`.
    pub fn sub_reg(rd: u32, rn: u32, rm: u32) -> u32 {
        0xcb00_0000 | rm << 16 | rn << 5 | rd
    }
    /// `B .+off` (off a multiple of 4 within ±128 MiB).
    pub fn b(off: i32) -> u32 {
        0x1400_0000 | ((off >> 2) as u32 & 0x3ff_ffff)
    }
}

/// Loads the 32-bit address `addr` into `Xrd`.
fn mov_addr(code: &mut Vec<u32>, rd: u32, addr: u64) {
    assert!(addr < 1 << 32, "the program lives below 4 GiB");
    code.push(enc::movz(rd, addr as u16, 0));
    code.push(enc::movk(rd, (addr >> 16) as u16, 1));
}

/// The set-up code of one case: loads every register from the state block at `block`.
pub fn setup_code(block: u64) -> Vec<u32> {
    let mut c = Vec::with_capacity(SETUP_LEN as usize);
    mov_addr(&mut c, 0, block);
    for k in 0..16 {
        c.push(enc::ldp_q(2 * k, 2 * k + 1, 0, OFF_V + 32 * k));
    }
    c.push(enc::ldp_x(1, 2, 0, OFF_NZCV));
    c.push(enc::msr_nzcv(1));
    c.push(enc::msr_fpcr(2));
    c.push(enc::msr_fpsr(31));
    c.push(enc::ldr_x(1, 0, OFF_SP));
    c.push(enc::mov_sp(1));
    for k in 0..15 {
        c.push(enc::ldp_x(2 * k + 1, 2 * k + 2, 0, 8 * (2 * k + 1)));
    }
    c.push(enc::ldr_x(0, 0, 0));
    debug_assert_eq!(c.len() as u64, SETUP_LEN);
    c
}

/// The number of instructions of [`setup_code`].
const SETUP_LEN: u64 = 40;

/// The address of each case's first instruction under test in the program of `cases`.
pub fn test_pcs(cases: &[Case]) -> Vec<u64> {
    let mut pc = CODE_BASE;
    cases
        .iter()
        .map(|c| {
            let back = crate::gen::back_len(&c.words);
            let test = pc + 4 * (SETUP_LEN + if back > 0 { 1 + u64::from(back) } else { 0 });
            pc = test + 4 * (c.words.len() as u64 + u64::from(crate::gen::landing_len(&c.words)));
            test
        })
        .collect()
}

impl Program {
    /// Builds the program running `cases` one after the other.
    pub fn build(cases: &[Case]) -> Program {
        let scratch_len = 2 * SCRATCH_MARGIN + cases.len() as u64 * REGION_SIZE;
        let blocks = DATA_BASE + scratch_len;
        let mut data = scratch_pattern(scratch_len);
        let mut code: Vec<u32> = Vec::new();
        let mut test_pc = Vec::with_capacity(cases.len());
        let mut test_end = Vec::with_capacity(cases.len());
        let mut setup_pc = Vec::with_capacity(cases.len());
        let mut case_pc = Vec::with_capacity(cases.len());
        for (i, case) in cases.iter().enumerate() {
            data.extend_from_slice(&case.state.to_block());
            setup_pc.push(CODE_BASE + 4 * code.len() as u64);
            code.extend(setup_code(blocks + i as u64 * STATE_BLOCK));
            let back = crate::gen::back_len(&case.words) as i32;
            let landing = crate::gen::landing_len(&case.words) as i32;
            let words = case.words.len() as i32;
            if back > 0 {
                code.push(enc::b(4 * (1 + back)));
                // Pad j jumps over the pads after it, the words and the landing NOPs.
                code.extend((0..back).map(|j| enc::b(4 * (back - j + words + landing))));
            }
            case_pc.push(CODE_BASE + 4 * (code.len() as u64 - back as u64));
            test_pc.push(CODE_BASE + 4 * code.len() as u64);
            code.extend_from_slice(&case.words);
            code.extend((0..landing).map(|_| enc::NOP));
            test_end.push(CODE_BASE + 4 * code.len() as u64);
        }
        debug_assert_eq!(test_pc, test_pcs(cases));
        let end_pc = CODE_BASE + 4 * code.len() as u64;
        // write(1, scratch, len); exit(0).
        code.push(enc::movz(0, 1, 0));
        mov_addr(&mut code, 1, DATA_BASE);
        mov_addr(&mut code, 2, scratch_len);
        code.push(enc::movz(8, 64, 0));
        code.push(enc::SVC0);
        code.push(enc::movz(0, 0, 0));
        code.push(enc::movz(8, 93, 0));
        code.push(enc::SVC0);
        Program {
            code: code.iter().flat_map(|w| w.to_le_bytes()).collect(),
            data,
            entry: CODE_BASE,
            setup_pc,
            test_pc,
            case_pc,
            test_end,
            end_pc,
            scratch: (DATA_BASE, scratch_len),
        }
    }

    /// The code word at `pc`, if `pc` is in the code.
    pub fn word_at(&self, pc: u64) -> Option<u32> {
        let off = usize::try_from(pc.checked_sub(CODE_BASE)?).ok()?;
        let b = self.code.get(off..off + 4)?;
        Some(u32::from_le_bytes(b.try_into().ok()?))
    }

    /// The program as a static little-endian aarch64 ELF executable with two segments: the
    /// code (read-execute) and the data (read-write).
    pub fn to_elf(&self) -> Vec<u8> {
        elf(
            self.entry,
            &[
                Segment {
                    addr: CODE_BASE,
                    perms: SegmentPerms::RX,
                    bytes: &self.code,
                },
                Segment {
                    addr: DATA_BASE,
                    perms: SegmentPerms::RW,
                    bytes: &self.data,
                },
            ],
        )
    }
}

/// The permissions of an ELF segment (`p_flags`).
#[derive(Clone, Copy, Debug)]
pub enum SegmentPerms {
    RX = 5,
    RW = 6,
    RWX = 7,
}

/// One loadable segment of an ELF file.
#[derive(Clone, Copy, Debug)]
pub struct Segment<'a> {
    pub addr: u64,
    pub perms: SegmentPerms,
    pub bytes: &'a [u8],
}

/// A static little-endian aarch64 ELF executable: an ELF header, one program header per
/// segment, then the segments, each at a 64 KiB-aligned offset.
pub fn elf(entry: u64, segments: &[Segment<'_>]) -> Vec<u8> {
    const PAGE: u64 = 0x1_0000;
    let align = |n: u64| n.div_ceil(PAGE) * PAGE;
    let mut f = Vec::new();
    // e_ident: ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_SYSV.
    f.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let h16 = |f: &mut Vec<u8>, v: u16| f.extend_from_slice(&v.to_le_bytes());
    let h32 = |f: &mut Vec<u8>, v: u32| f.extend_from_slice(&v.to_le_bytes());
    let h64 = |f: &mut Vec<u8>, v: u64| f.extend_from_slice(&v.to_le_bytes());
    h16(&mut f, 2); // ET_EXEC
    h16(&mut f, 183); // EM_AARCH64
    h32(&mut f, 1); // EV_CURRENT
    h64(&mut f, entry);
    h64(&mut f, 64); // e_phoff
    h64(&mut f, 0); // e_shoff
    h32(&mut f, 0); // e_flags
    h16(&mut f, 64); // e_ehsize
    h16(&mut f, 56); // e_phentsize
    h16(&mut f, segments.len() as u16); // e_phnum
    h16(&mut f, 64); // e_shentsize
    h16(&mut f, 0); // e_shnum
    h16(&mut f, 0); // e_shstrndx
    let mut off = PAGE;
    let mut offsets = Vec::with_capacity(segments.len());
    for s in segments {
        let len = s.bytes.len() as u64;
        h32(&mut f, 1); // PT_LOAD
        h32(&mut f, s.perms as u32);
        h64(&mut f, off);
        h64(&mut f, s.addr);
        h64(&mut f, s.addr);
        h64(&mut f, len);
        h64(&mut f, len);
        h64(&mut f, PAGE);
        offsets.push(off);
        off += align(len);
    }
    for (s, off) in segments.iter().zip(offsets) {
        f.resize(off as usize, 0);
        f.extend_from_slice(s.bytes);
    }
    f
}

mod hex {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{v:#x}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).map_err(serde::de::Error::custom)
    }

    pub fn parse(s: &str) -> Result<u64, String> {
        let t = s.strip_prefix("0x").unwrap_or(s);
        u64::from_str_radix(t, 16).map_err(|e| format!("{s:?}: {e}"))
    }
}

mod hex_array {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u64; 31], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|x| format!("{x:#x}")))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u64; 31], D::Error> {
        let v = Vec::<String>::deserialize(d)?;
        let mut out = [0u64; 31];
        if v.len() != 31 {
            return Err(serde::de::Error::custom("expected 31 X registers"));
        }
        for (o, s) in out.iter_mut().zip(&v) {
            *o = super::hex::parse(s).map_err(serde::de::Error::custom)?;
        }
        Ok(out)
    }
}

mod hex_v {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u128; 32], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|x| format!("{x:#x}")))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u128; 32], D::Error> {
        let v = Vec::<String>::deserialize(d)?;
        let mut out = [0u128; 32];
        if v.len() != 32 {
            return Err(serde::de::Error::custom("expected 32 V registers"));
        }
        for (o, s) in out.iter_mut().zip(&v) {
            let t = s.strip_prefix("0x").unwrap_or(s);
            *o = u128::from_str_radix(t, 16).map_err(serde::de::Error::custom)?;
        }
        Ok(out)
    }
}

mod hex_words {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u32], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|x| format!("{x:#010x}")))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
        let v = Vec::<String>::deserialize(d)?;
        v.iter()
            .map(|s| {
                super::hex::parse(s)
                    .map(|x| x as u32)
                    .map_err(serde::de::Error::custom)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use armature_core::disas::{disassemble, Style};

    fn text(w: u32) -> String {
        disassemble(w, 0, Style::Relative)
            .map(|d| d.text)
            .unwrap_or_else(|| format!("<{w:#x}>"))
    }

    #[test]
    fn encoders_match_the_disassembler() {
        let cases = [
            (enc::movz(3, 0x1234, 1), "mov\tx3, #305397760"),
            (enc::movk(0, 0x1000, 1), "movk\tx0, #4096, lsl #16"),
            (enc::ldp_x(29, 30, 0, 232), "ldp\tx29, x30, [x0, #232]"),
            (enc::ldp_q(30, 31, 0, 768), "ldp\tq30, q31, [x0, #768]"),
            (enc::ldr_x(1, 0, 248), "ldr\tx1, [x0, #248]"),
            (enc::msr_nzcv(1), "msr\tNZCV, x1"),
            (enc::msr_fpcr(2), "msr\tFPCR, x2"),
            (enc::msr_fpsr(31), "msr\tFPSR, xzr"),
            (enc::mov_sp(1), "mov\tsp, x1"),
            (enc::SVC0, "svc\t#0"),
            (enc::NOP, "nop"),
            (enc::adr(1, -8), "adr\tx1, #-8"),
            (enc::adr(0, 0x2003), "adr\tx0, #8195"),
            (enc::add_imm(0, 0, 512), "add\tx0, x0, #512"),
            (enc::sub_reg(3, 3, 0), "sub\tx3, x3, x0"),
            (enc::b(-16), "b\t#-16"),
            (enc::b(0x100), "b\t#256"),
        ];
        for (w, want) in cases {
            assert_eq!(text(w), want, "{w:#010x}");
        }
    }

    #[test]
    fn scratch_words_are_the_pattern() {
        let pattern = scratch_pattern(4096);
        for off in [0u64, 8, 13, 800, 4088] {
            let mut b = [0u8; 8];
            b.copy_from_slice(&pattern[off as usize..off as usize + 8]);
            assert_eq!(scratch_u64(DATA_BASE + off), u64::from_le_bytes(b), "{off}");
        }
    }

    #[test]
    fn state_round_trips_through_json() {
        let mut s = State::default();
        s.x[3] = u64::MAX;
        s.v[31] = u128::MAX - 5;
        s.nzcv = 0x6000_0000;
        let case = Case {
            words: vec![0x8b02_0020],
            state: s,
        };
        let j = serde_json::to_string(&case).unwrap();
        assert_eq!(serde_json::from_str::<Case>(&j).unwrap(), case);
    }
}
