//! risu trace files for aarch64, and their replay in armature.
//!
//! risu (Linaro's "random instruction sequence" tester) runs a test image, a blob of aarch64
//! code and data made by risugen, and stops it at checkpoints: the image asks for one with the
//! permanently undefined word `0x00005af0 | op` (a "risuop"), whose SIGILL risu catches. Any
//! other SIGILL is a checkpoint too. `risu --master -t FILE` writes what it saw at each
//! checkpoint to FILE, so a trace recorded on real hardware can be compared elsewhere.
//!
//! # The file
//!
//! A sequence of records, each a header and a payload, in the recording host's byte order
//! (little-endian on aarch64 Linux):
//!
//! | bytes | header field                                    |
//! |-------|-------------------------------------------------|
//! | 0..4  | magic `0x52495355` (`'R'<<24 \| 'I'<<16 \| 'S'<<8 \| 'U'`) |
//! | 4..8  | size of the payload                             |
//! | 8..12 | op: -1 SIGILL, 0 COMPARE, 1 TESTEND, 2 SETMEMBLOCK, 3 GETMEMBLOCK, 4 COMPAREMEM |
//! | 12..16| padding (the PC is 8-byte aligned)             |
//! | 16..24| PC of the checkpoint, as an offset from the start of the image |
//!
//! COMPARE, TESTEND and SIGILL carry a `struct reginfo`; COMPAREMEM carries the 8192-byte
//! memory block; SETMEMBLOCK and GETMEMBLOCK carry nothing. The reginfo:
//!
//! | bytes    | field                                                        |
//! |----------|--------------------------------------------------------------|
//! | 0..8     | fault_address (kernel state, not compared here)              |
//! | 8..256   | X0-X30                                                       |
//! | 256..264 | SP: always `0xdeadbeefdeadbeef` (risu runs on its own stack) |
//! | 264..272 | PC, as an offset from the start of the image                 |
//! | 272..276 | flags: PSTATE.{N,Z,C,V} in bits 31..28                       |
//! | 276..280 | the faulting instruction word                                |
//! | 280..284 | FPSR                                                         |
//! | 284..288 | FPCR                                                         |
//! | 288..290 | SVE vector length in bytes (0 without `--test-sve`)          |
//! | 290..292 | SVCR (bit 0 SM, bit 1 ZA; risu with `--test-za`)             |
//! | 292..304 | padding (the register area is 16-byte aligned)              |
//! | 304..    | V0-V31 (512 bytes); with SVE instead Z0-Z31, P0-P15 and FFR in the kernel's signal-frame layout (546 × VQ bytes rounded up to 16), then ZA (VQ×16 squared bytes) when SVCR.ZA is set |
//!
//! The payload size must equal the size the reginfo's own vector length implies (risu checks
//! the same). This is the layout of current risu (the header with op and PC, the reginfo with
//! an `extra` register area); [`parse`] rejects anything else with a [`RisuError`], never a
//! panic. risu built with zlib writes the file gzip-compressed; [`parse`] reads both.
//!
//! # The replay
//!
//! [`replay`] runs the same image in armature and compares at every checkpoint:
//!
//! - The image is mapped read-write-execute at [`IMAGE_BASE`] (risu maps it likewise at an
//!   address of the host's choosing: risugen code addresses its data PC-relatively, so the base
//!   does not matter). An ELF image starts at its `e_entry`, taken as an offset into the file
//!   as risu does; a raw image at offset 0.
//! - The registers start from the first register record of the trace (X, NZCV, FPCR, FPSR, V)
//!   and armature runs the image from its start, so the set-up code risugen writes before the
//!   first checkpoint runs too; registers the set-up code does not write (V when risugen ran
//!   without FP) keep the master's values.
//! - armature runs until an instruction stops it. A risuop or another UNDEFINED word is a
//!   checkpoint; it must be at the offset and of the op of the next record. A register record
//!   is compared (X0-X30, PC, NZCV, FPCR, FPSR, V0-V31), COMPAREMEM compares the 8192 bytes at
//!   the memory block, SETMEMBLOCK takes X0 as the memory block's address and GETMEMBLOCK adds
//!   it to X0, as risu does. Then armature goes on after the checkpoint's word.
//! - The first difference is reported with the instructions run since the previous checkpoint
//!   (one, for risugen's instructions that do not access memory), their encoding ids and
//!   disassembly, the state at the previous checkpoint, and expected against actual values.
//!
//! Limits: SP is not compared (risu does not record it), nor fault_address, SVE P registers,
//! FFR, the Z bits above 128 or ZA (armature's compared state has V0-V31 only); a checkpoint
//! that raised another signal on the master (SIGSEGV, SIGBUS) ends risu's trace without
//! TESTEND, and the replay then checks the checkpoints the trace has. Before a checkpoint is
//! compared, the trace is checked against the image: each register record's faulting
//! instruction must be the image's word at its PC, so a trace replayed with the wrong image is
//! an error rather than a divergence.

use std::collections::VecDeque;
use std::fmt;
use std::io::Read;

use armature_core::interp::Interp;
use armature_core::isa::FeatureSet;
use armature_core::mem::{Perms, PAGE_SIZE};
use armature_core::sem::{SemTable, Stop};
use thiserror::Error;

use crate::armature::snapshot;
use crate::check::{brief_state, describe};
use crate::program::State;

/// The first word of every record.
pub const RISU_MAGIC: u32 = 0x5249_5355;
/// The size of a record header.
pub const HEADER_SIZE: usize = 24;
/// The size of the reginfo before its register area (`offsetof(struct reginfo, extra)`).
pub const REGINFO_FIXED: usize = 304;
/// The size of the memory block COMPAREMEM compares.
pub const MEMBLOCK_LEN: usize = 8192;
/// A risuop is this word with the op in bits 3..0.
pub const RISUOP_KEY: u32 = 0x0000_5af0;
/// What risu records as SP.
pub const SP_PLACEHOLDER: u64 = 0xdead_beef_dead_beef;
/// Where the replay maps the image.
pub const IMAGE_BASE: u64 = 0x4000_0000;
/// The largest image the replay maps (below the stack).
const MAX_IMAGE: u64 = 0x1000_0000;
/// The stack the replay gives SP (risu's code under test runs on risu's own stack).
const STACK: (u64, u64) = (0x7ff0_0000, 0x1_0000);
/// Instructions armature may run between two checkpoints before the replay gives up.
pub const STEP_LIMIT: usize = 1_000_000;
/// Instructions kept for the report of a divergence (the last ones before the checkpoint).
const KEPT: usize = 32;
/// Bytes of V0-V31.
const SIMD_REGS_SIZE: usize = 32 * 16;

/// What a checkpoint asks of risu.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// A SIGILL of a word that is not a risuop.
    Sigill,
    Compare,
    TestEnd,
    SetMemBlock,
    GetMemBlock,
    CompareMem,
}

impl Op {
    /// The op of a header's op field.
    pub fn from_code(code: u32) -> Option<Op> {
        Some(match code {
            0xffff_ffff => Op::Sigill,
            0 => Op::Compare,
            1 => Op::TestEnd,
            2 => Op::SetMemBlock,
            3 => Op::GetMemBlock,
            4 => Op::CompareMem,
            _ => return None,
        })
    }

    pub fn code(self) -> u32 {
        match self {
            Op::Sigill => 0xffff_ffff,
            Op::Compare => 0,
            Op::TestEnd => 1,
            Op::SetMemBlock => 2,
            Op::GetMemBlock => 3,
            Op::CompareMem => 4,
        }
    }

    /// The op an UNDEFINED word asks for; `None` for a risuop with a reserved op (5-15), on
    /// which risu aborts.
    pub fn of_word(word: u32) -> Option<Op> {
        if word & !0xf == RISUOP_KEY {
            Op::from_code(word & 0xf)
        } else {
            Some(Op::Sigill)
        }
    }

    /// The risuop word of this op (`None` for SIGILL, which has no word of its own).
    pub fn word(self) -> Option<u32> {
        (self != Op::Sigill).then(|| RISUOP_KEY | self.code())
    }

    /// The name risu prints.
    pub fn name(self) -> &'static str {
        match self {
            Op::Sigill => "SIGILL",
            Op::Compare => "COMPARE",
            Op::TestEnd => "TESTEND",
            Op::SetMemBlock => "SETMEMBLOCK",
            Op::GetMemBlock => "GETMEMBLOCK",
            Op::CompareMem => "COMPAREMEM",
        }
    }

    fn has_regs(self) -> bool {
        matches!(self, Op::Sigill | Op::Compare | Op::TestEnd)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The registers of one checkpoint (risu's `struct reginfo` for aarch64).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegInfo {
    pub fault_address: u64,
    pub x: [u64; 31],
    /// Always [`SP_PLACEHOLDER`] in risu's traces.
    pub sp: u64,
    /// The PC as an offset from the start of the image.
    pub pc: u64,
    /// PSTATE.{N,Z,C,V} in bits 31..28.
    pub flags: u32,
    pub faulting_insn: u32,
    pub fpsr: u32,
    pub fpcr: u32,
    /// The SVE vector length in bytes; 0 when the record holds V0-V31 only.
    pub sve_vl: u16,
    pub svcr: u16,
    /// V0-V31 (with SVE, the low 128 bits of Z0-Z31).
    pub v: [u128; 32],
    /// With SVE, the register area as recorded (Z, P, FFR, ZA); empty otherwise.
    pub sve: Vec<u8>,
}

/// SVCR.ZA: the record holds ZA after the SVE registers.
const SVCR_ZA: u16 = 2;

/// The bytes of Z0-Z31, P0-P15 and FFR for `vq` quadwords, rounded up to 16.
fn sve_regs_size(vq: usize) -> usize {
    (546 * vq).div_ceil(16) * 16
}

impl RegInfo {
    /// The reginfo of a state: `pc` is the image offset; SP is recorded as risu does.
    pub fn from_state(s: &State, pc: u64, faulting_insn: u32) -> RegInfo {
        RegInfo {
            fault_address: 0,
            x: s.x,
            sp: SP_PLACEHOLDER,
            pc,
            flags: (s.nzcv & 0xf000_0000) as u32,
            faulting_insn,
            fpsr: s.fpsr as u32,
            fpcr: s.fpcr as u32,
            sve_vl: 0,
            svcr: 0,
            v: s.v,
            sve: Vec::new(),
        }
    }

    /// The state in the compared form, with the image at `base`.
    pub fn state(&self, base: u64) -> State {
        State {
            x: self.x,
            sp: self.sp,
            pc: base.wrapping_add(self.pc),
            nzcv: self.flags as u64,
            fpcr: self.fpcr as u64,
            fpsr: self.fpsr as u64,
            v: self.v,
            sve: None,
        }
    }

    /// The payload size this reginfo has in a trace, or why its vector length is invalid.
    pub fn size(&self) -> Result<usize, String> {
        Ok(REGINFO_FIXED + self.area_size()?)
    }

    fn area_size(&self) -> Result<usize, String> {
        if self.sve_vl == 0 {
            return Ok(SIMD_REGS_SIZE);
        }
        let vl = self.sve_vl as usize;
        if !vl.is_multiple_of(16) || vl > 256 {
            return Err(format!(
                "SVE vector length {vl} is not a multiple of 16 bytes up to 256"
            ));
        }
        let vq = vl / 16;
        let za = if self.svcr & SVCR_ZA != 0 { vl * vl } else { 0 };
        Ok(sve_regs_size(vq) + za)
    }

    fn to_bytes(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.fault_address.to_le_bytes());
        for x in &self.x {
            out.extend_from_slice(&x.to_le_bytes());
        }
        for v in [self.sp, self.pc] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in [self.flags, self.faulting_insn, self.fpsr, self.fpcr] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&self.sve_vl.to_le_bytes());
        out.extend_from_slice(&self.svcr.to_le_bytes());
        out.resize(out.len() + (REGINFO_FIXED - 292), 0);
        if self.sve_vl == 0 {
            for v in &self.v {
                out.extend_from_slice(&v.to_le_bytes());
            }
            return;
        }
        let mut area = self.sve.clone();
        area.resize(self.area_size().unwrap_or(0), 0);
        let zsize = self.sve_vl as usize;
        for (i, v) in self.v.iter().enumerate() {
            if let Some(z) = area.get_mut(i * zsize..i * zsize + 16) {
                z.copy_from_slice(&v.to_le_bytes());
            }
        }
        out.extend_from_slice(&area);
    }

    /// Reads a reginfo from a payload whose size the caller checked against the fixed part.
    fn from_bytes(b: &[u8]) -> RegInfo {
        let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().expect("8 bytes"));
        let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().expect("4 bytes"));
        let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
        let mut x = [0u64; 31];
        for (i, r) in x.iter_mut().enumerate() {
            *r = u64_at(8 + 8 * i);
        }
        let sve_vl = u16_at(288);
        let area = &b[REGINFO_FIXED..];
        // V registers are 16 bytes apart; without SVE, Z registers are a vector length apart.
        let stride = if sve_vl == 0 { 16 } else { sve_vl as usize };
        let mut v = [0u128; 32];
        for (i, r) in v.iter_mut().enumerate() {
            if let Some(bytes) = area.get(i * stride..i * stride + 16) {
                *r = u128::from_le_bytes(bytes.try_into().expect("16 bytes"));
            }
        }
        RegInfo {
            fault_address: u64_at(0),
            x,
            sp: u64_at(256),
            pc: u64_at(264),
            flags: u32_at(272),
            faulting_insn: u32_at(276),
            fpsr: u32_at(280),
            fpcr: u32_at(284),
            sve_vl,
            svcr: u16_at(290),
            v,
            sve: if sve_vl == 0 {
                Vec::new()
            } else {
                area.to_vec()
            },
        }
    }
}

/// What a record carries after its header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    /// SETMEMBLOCK and GETMEMBLOCK.
    None,
    /// COMPARE, TESTEND and SIGILL.
    Regs(Box<RegInfo>),
    /// COMPAREMEM: the memory block.
    Memory(Vec<u8>),
}

/// One checkpoint of a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub op: Op,
    /// The checkpoint's PC as an offset from the start of the image.
    pub pc: u64,
    pub payload: Payload,
}

impl Record {
    /// The registers, for the ops that carry them.
    pub fn regs(&self) -> Option<&RegInfo> {
        match &self.payload {
            Payload::Regs(r) => Some(r),
            _ => None,
        }
    }
}

/// Why a trace or an image cannot be read or replayed.
#[derive(Debug, Error)]
pub enum RisuError {
    #[error("the trace is gzip-compressed but cannot be decompressed: {0}")]
    Gzip(String),
    #[error("the trace is empty")]
    Empty,
    #[error(
        "record {index} (byte {offset}): bad magic {found:#010x}; a risu record starts with \
         {RISU_MAGIC:#010x} (\"RISU\"){hint}"
    )]
    BadMagic {
        index: usize,
        offset: usize,
        found: u32,
        hint: &'static str,
    },
    #[error(
        "record {index} (byte {offset}): truncated: its {what} needs {need} bytes, the file \
         has {have} left"
    )]
    Truncated {
        index: usize,
        offset: usize,
        what: &'static str,
        need: usize,
        have: usize,
    },
    #[error("record {index} (byte {offset}): unknown risu op {op:#x}")]
    UnknownOp {
        index: usize,
        offset: usize,
        op: u32,
    },
    #[error("record {index} (byte {offset}): a {op} payload of {size} bytes; {expected}")]
    BadSize {
        index: usize,
        offset: usize,
        op: Op,
        size: u32,
        expected: String,
    },
    #[error("record {index} (byte {offset}): {what}")]
    Inconsistent {
        index: usize,
        offset: usize,
        what: String,
    },
    #[error("the image: {0}")]
    Image(String),
    #[error(
        "the trace does not belong to this image: record {index} ({op}) saw the word \
         {trace_word:#010x} at image offset {pc:#x}, the image has {image}"
    )]
    WrongImage {
        index: usize,
        op: Op,
        pc: u64,
        trace_word: u32,
        image: String,
    },
    #[error("record {index}: {what}")]
    Replay { index: usize, what: String },
    #[error("the trace has no COMPARE, TESTEND or SIGILL record to start from")]
    NoRegisters,
}

/// The most bytes a compressed trace may expand to.
const MAX_TRACE: u64 = 1 << 32;

/// Reads a whole trace file, gzip-compressed (as risu built with zlib writes it) or not.
pub fn parse(bytes: &[u8]) -> Result<Vec<Record>, RisuError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut raw = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .take(MAX_TRACE)
            .read_to_end(&mut raw)
            .map_err(|e| RisuError::Gzip(e.to_string()))?;
        return parse_raw(&raw);
    }
    parse_raw(bytes)
}

fn parse_raw(bytes: &[u8]) -> Result<Vec<Record>, RisuError> {
    if bytes.is_empty() {
        return Err(RisuError::Empty);
    }
    let mut records = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let index = records.len();
        let offset = at;
        let rest = &bytes[at..];
        let truncated = |what, need| RisuError::Truncated {
            index,
            offset,
            what,
            need,
            have: rest.len(),
        };
        let header = rest
            .get(..HEADER_SIZE)
            .ok_or(truncated("header", HEADER_SIZE))?;
        let u32_at = |o: usize| u32::from_le_bytes(header[o..o + 4].try_into().expect("4 bytes"));
        let magic = u32_at(0);
        if magic != RISU_MAGIC {
            let hint = if magic == RISU_MAGIC.swap_bytes() {
                ": this trace is big-endian; only little-endian aarch64 traces are read"
            } else {
                ""
            };
            return Err(RisuError::BadMagic {
                index,
                offset,
                found: magic,
                hint,
            });
        }
        let size = u32_at(4);
        let code = u32_at(8);
        let pc = u64::from_le_bytes(header[16..24].try_into().expect("8 bytes"));
        let op = Op::from_code(code).ok_or(RisuError::UnknownOp {
            index,
            offset,
            op: code,
        })?;
        let bad_size = |expected: String| RisuError::BadSize {
            index,
            offset,
            op,
            size,
            expected,
        };
        let body = &rest[HEADER_SIZE..];
        let need = size as usize;
        let payload = if op.has_regs() {
            if need < REGINFO_FIXED {
                return Err(bad_size(format!(
                    "a register record has at least {REGINFO_FIXED}"
                )));
            }
            let b = body
                .get(..need)
                .ok_or(truncated("register payload", HEADER_SIZE + need))?;
            let ri = RegInfo::from_bytes(b);
            let want = ri.size().map_err(|what| RisuError::Inconsistent {
                index,
                offset,
                what,
            })?;
            if want != need {
                return Err(bad_size(format!(
                    "its vector length {} and SVCR {:#x} make {want}",
                    ri.sve_vl, ri.svcr
                )));
            }
            if ri.pc != pc {
                return Err(RisuError::Inconsistent {
                    index,
                    offset,
                    what: format!(
                        "the header's PC {pc:#x} differs from the registers' PC {:#x}",
                        ri.pc
                    ),
                });
            }
            Payload::Regs(Box::new(ri))
        } else if op == Op::CompareMem {
            if need != MEMBLOCK_LEN {
                return Err(bad_size(format!("a memory block has {MEMBLOCK_LEN}")));
            }
            let b = body
                .get(..need)
                .ok_or(truncated("memory block", HEADER_SIZE + need))?;
            Payload::Memory(b.to_vec())
        } else {
            if need != 0 {
                return Err(bad_size("this op has no payload".to_string()));
            }
            Payload::None
        };
        records.push(Record { op, pc, payload });
        at += HEADER_SIZE + need;
    }
    Ok(records)
}

/// Writes records in the format [`parse`] reads (and risu writes on a little-endian host).
pub fn write(records: &[Record]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        let mut payload = Vec::new();
        match &r.payload {
            Payload::None => {}
            Payload::Regs(ri) => ri.to_bytes(&mut payload),
            Payload::Memory(m) => payload.extend_from_slice(m),
        }
        out.extend_from_slice(&RISU_MAGIC.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&r.op.code().to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&r.pc.to_le_bytes());
        out.extend_from_slice(&payload);
    }
    out
}

/// A test image as risu loads it.
#[derive(Clone, Debug)]
pub struct Image {
    pub bytes: Vec<u8>,
    /// Where execution starts, as an offset into `bytes`.
    pub entry: u64,
}

impl Image {
    /// A raw image starts at offset 0; an ELF image (what current risugen links) at its
    /// `e_entry`, which risu takes as an offset into the file.
    pub fn new(bytes: Vec<u8>) -> Result<Image, RisuError> {
        if bytes.is_empty() {
            return Err(RisuError::Image("the file is empty".to_string()));
        }
        if bytes.len() as u64 > MAX_IMAGE {
            return Err(RisuError::Image(format!(
                "{} bytes; the replay maps at most {MAX_IMAGE:#x}",
                bytes.len()
            )));
        }
        let entry = if bytes.starts_with(b"\x7fELF") {
            use object::read::elf::FileHeader as _;
            let header = object::elf::FileHeader64::<object::LittleEndian>::parse(&bytes[..])
                .map_err(|_| {
                    RisuError::Image(
                        "an ELF file shorter than its header, or not 64-bit little-endian"
                            .to_string(),
                    )
                })?;
            let machine = header.e_machine(object::LittleEndian);
            if machine != object::elf::EM_AARCH64 {
                return Err(RisuError::Image(format!(
                    "an ELF file for machine {machine}, not aarch64 (183)"
                )));
            }
            header.e_entry(object::LittleEndian)
        } else {
            0
        };
        if entry % 4 != 0 || entry >= bytes.len() as u64 {
            return Err(RisuError::Image(format!(
                "the entry offset {entry:#x} is not an instruction of the {}-byte image",
                bytes.len()
            )));
        }
        Ok(Image { bytes, entry })
    }

    /// The word at image offset `off`, if the image holds it.
    pub fn word(&self, off: u64) -> Option<u32> {
        let o = usize::try_from(off).ok()?;
        let b = self.bytes.get(o..o.checked_add(4)?)?;
        Some(u32::from_le_bytes(b.try_into().expect("4 bytes")))
    }
}

/// What a replay found.
#[derive(Debug)]
pub struct Replay {
    /// Checkpoints that agreed.
    pub checkpoints: usize,
    /// Instructions armature ran.
    pub instructions: u64,
    /// Whether the trace ends with TESTEND (risu stops early when the master crashes).
    pub complete: bool,
    /// The first divergence.
    pub divergence: Option<Box<Divergence>>,
}

/// The first checkpoint where armature and the trace disagree.
#[derive(Clone, Debug)]
pub struct Divergence {
    /// The index of the trace record.
    pub record: usize,
    pub op: Op,
    /// The last instructions run since the previous register record (image offset, word), at
    /// most 32; with risugen's instructions that do not access memory, the one under test.
    pub executed: Vec<(u64, u32)>,
    /// How many instructions ran since the previous register record.
    pub count: usize,
    /// The state at the previous register record.
    pub before: State,
    pub expected: Option<State>,
    pub actual: Option<State>,
    /// What differs, one line each.
    pub what: Vec<String>,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.executed.as_slice() {
            [(off, word)] if self.count == 1 => {
                let (id, text) = describe(*word, *off);
                writeln!(
                    f,
                    "{id} {word:#010x} `{text}` at image offset {off:#x} diverges \
                     (risu trace record {} != armature):",
                    self.record
                )?;
            }
            [] => writeln!(
                f,
                "the state at risu trace record {} ({}) diverges (risu trace != armature):",
                self.record, self.op
            )?,
            list => {
                writeln!(
                    f,
                    "the {} instructions before risu trace record {} ({}) diverge \
                     (risu trace != armature):",
                    self.count, self.record, self.op
                )?;
                if list.len() < self.count {
                    writeln!(f, "  ... (the last {} shown)", list.len())?;
                }
                for (off, word) in list {
                    let (id, text) = describe(*word, *off);
                    writeln!(f, "  {off:#x}: {id} {word:#010x} `{text}`")?;
                }
            }
        }
        for w in &self.what {
            writeln!(f, "  {w}")?;
        }
        write!(f, "  input state: {}", brief_state(&self.before))
    }
}

/// Adds an executed instruction to the report's list, keeping the last [`KEPT`].
fn keep(executed: &mut VecDeque<(u64, u32)>, pc: u64, word: u32) {
    if executed.len() == KEPT {
        executed.pop_front();
    }
    executed.push_back((pc.wrapping_sub(IMAGE_BASE), word));
}

/// Checks that each register record's faulting instruction is the image's word at its PC and
/// asks for the record's op.
fn check_image(records: &[Record], image: &Image) -> Result<(), RisuError> {
    for (index, r) in records.iter().enumerate() {
        let Some(ri) = r.regs() else { continue };
        let wrong = |image: String| RisuError::WrongImage {
            index,
            op: r.op,
            pc: r.pc,
            trace_word: ri.faulting_insn,
            image,
        };
        match image.word(r.pc) {
            Some(w) if w == ri.faulting_insn => {}
            Some(w) => return Err(wrong(format!("{w:#010x}"))),
            None => return Err(wrong(format!("only {} bytes", image.bytes.len()))),
        }
        if Op::of_word(ri.faulting_insn) != Some(r.op) {
            return Err(RisuError::Replay {
                index,
                what: format!(
                    "a {} record for the word {:#010x}, which asks for {}",
                    r.op,
                    ri.faulting_insn,
                    Op::of_word(ri.faulting_insn).map_or("a reserved op", Op::name)
                ),
            });
        }
    }
    if let Some(i) = records.iter().position(|r| r.op == Op::TestEnd) {
        if i + 1 < records.len() {
            return Err(RisuError::Replay {
                index: i + 1,
                what: "a record after TESTEND".to_string(),
            });
        }
    }
    Ok(())
}

/// Replays `records` on `image` in armature (the model is in the module doc).
pub fn replay(
    records: &[Record],
    image: &Image,
    table: &SemTable<Interp>,
    features: &FeatureSet,
) -> Result<Replay, RisuError> {
    check_image(records, image)?;
    let seed = records
        .iter()
        .find_map(Record::regs)
        .ok_or(RisuError::NoRegisters)?;
    let mut m = Interp::default();
    let len = (image.bytes.len() as u64).div_ceil(PAGE_SIZE) * PAGE_SIZE;
    let rwx = Perms {
        read: true,
        write: true,
        exec: true,
    };
    m.mem
        .map(IMAGE_BASE, len, rwx)
        .expect("an image read from a file fits in the 1 TiB guest space");
    m.mem
        .poke(IMAGE_BASE, &image.bytes)
        .expect("the image is mapped");
    m.mem
        .map(STACK.0, STACK.1, Perms::RW)
        .expect("the stack is inside the guest space");
    let start = seed.state(IMAGE_BASE);
    m.cpu.x = start.x;
    m.cpu.nzcv = start.nzcv & 0xf000_0000;
    m.cpu.fpcr = start.fpcr;
    m.cpu.fpsr = start.fpsr;
    m.cpu.v = start.v;
    m.cpu.sp = STACK.0 + STACK.1 / 2;
    m.cpu.pc = IMAGE_BASE + image.entry;
    let mut memblock: Option<u64> = None;
    let mut out = Replay {
        checkpoints: 0,
        instructions: 0,
        complete: false,
        divergence: None,
    };
    // Registers are compared at register records only, so a report covers the instructions
    // since the previous one (a memory access and risugen's code around it, for example).
    let mut before = snapshot(&m);
    let mut executed = VecDeque::with_capacity(KEPT);
    let mut count = 0;
    for (index, rec) in records.iter().enumerate() {
        let stop = loop {
            if count == STEP_LIMIT {
                break None;
            }
            let pc = m.cpu.pc;
            let word = m.mem.fetch(pc).unwrap_or(0);
            match m.step(table, features) {
                Ok(()) => {
                    keep(&mut executed, pc, word);
                    count += 1;
                    out.instructions += 1;
                }
                Err(stop) => break Some((stop, pc, word)),
            }
        };
        let diverge = |executed: &VecDeque<(u64, u32)>,
                       count: usize,
                       what: Vec<String>,
                       expected: Option<State>,
                       actual: Option<State>| {
            Some(Box::new(Divergence {
                record: index,
                op: rec.op,
                executed: executed.iter().copied().collect(),
                count,
                before: before.clone(),
                expected,
                actual,
                what,
            }))
        };
        let want = format!("{} at image offset {:#x}", rec.op, rec.pc);
        let Some((stop, pc, word)) = stop else {
            out.divergence = diverge(
                &executed,
                count,
                vec![format!(
                    "armature ran {STEP_LIMIT} instructions without reaching a checkpoint; the \
                     trace has {want}"
                )],
                None,
                None,
            );
            return Ok(out);
        };
        let off = pc.wrapping_sub(IMAGE_BASE);
        let op = match stop {
            Stop::Undefined | Stop::NotImplemented(_) => Op::of_word(word),
            _ => None,
        };
        if op != Some(rec.op) || off != rec.pc {
            let got = match (&stop, op) {
                (Stop::NotImplemented(id), _) => format!(
                    "stopped at image offset {off:#x}: armature has no semantics for {}",
                    id.name()
                ),
                (Stop::Undefined, Some(op)) => format!("reached {op} at image offset {off:#x}"),
                (Stop::Undefined, None) => {
                    format!("reached the reserved risuop {word:#010x} at image offset {off:#x}")
                }
                (other, _) => format!("stopped at image offset {off:#x}: {other:?}"),
            };
            // The word that stopped armature is the culprit unless it is a risuop.
            if !(matches!(stop, Stop::Undefined) && word & !0xf == RISUOP_KEY) {
                keep(&mut executed, pc, word);
                count += 1;
            }
            out.divergence = diverge(
                &executed,
                count,
                vec![format!("armature {got}; the trace has {want}")],
                None,
                Some(snapshot(&m)),
            );
            return Ok(out);
        }
        match &rec.payload {
            Payload::Regs(ri) => {
                let actual = snapshot(&m);
                let mut expected = ri.state(IMAGE_BASE);
                expected.sp = actual.sp;
                let d = expected.diff(&actual);
                if !d.is_empty() {
                    out.divergence = diverge(&executed, count, d, Some(expected), Some(actual));
                    return Ok(out);
                }
            }
            Payload::Memory(want) => {
                let Some(addr) = memblock else {
                    return Err(RisuError::Replay {
                        index,
                        what: "COMPAREMEM before any SETMEMBLOCK".to_string(),
                    });
                };
                let mut got = vec![0u8; MEMBLOCK_LEN];
                let what = match m.mem.read(addr, &mut got) {
                    Err(e) => vec![format!(
                        "the memory block at {addr:#x} (X0 at SETMEMBLOCK) cannot be read in \
                         armature: {e:?}"
                    )],
                    Ok(()) => {
                        let differing: Vec<usize> =
                            (0..MEMBLOCK_LEN).filter(|&k| got[k] != want[k]).collect();
                        match differing.first() {
                            None => Vec::new(),
                            Some(&k) => vec![format!(
                                "memory block +{k:#x} ({:#x}): {:#04x} != {:#04x} (the first of \
                                 {} differing bytes)",
                                addr + k as u64,
                                want[k],
                                got[k],
                                differing.len()
                            )],
                        }
                    }
                };
                if !what.is_empty() {
                    out.divergence = diverge(&executed, count, what, None, None);
                    return Ok(out);
                }
            }
            Payload::None => match rec.op {
                Op::SetMemBlock => memblock = Some(m.cpu.x[0]),
                // risu's memory block pointer starts as NULL.
                _ => m.cpu.x[0] = m.cpu.x[0].wrapping_add(memblock.unwrap_or(0)),
            },
        }
        out.checkpoints += 1;
        m.cpu.pc = pc + 4;
        if rec.op.has_regs() {
            before = snapshot(&m);
            executed.clear();
            count = 0;
        }
        if rec.op == Op::TestEnd {
            out.complete = true;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regs(pc: u64, op: Op) -> Record {
        let mut s = State::default();
        s.x[3] = 0x1234;
        s.v[31] = u128::MAX - 1;
        s.nzcv = 0x6000_0000;
        Record {
            op,
            pc,
            payload: Payload::Regs(Box::new(RegInfo::from_state(
                &s,
                pc,
                op.word().unwrap_or(0),
            ))),
        }
    }

    #[test]
    fn layout_matches_risu() {
        // "RISU" as risu's RISU_MAGIC macro builds it.
        let magic = (b'R' as u32) << 24 | (b'I' as u32) << 16 | (b'S' as u32) << 8 | b'U' as u32;
        assert_eq!(magic, RISU_MAGIC);
        let ri = RegInfo::from_state(&State::default(), 0x40, RISUOP_KEY);
        assert_eq!(ri.size(), Ok(816));
        let mut b = Vec::new();
        ri.to_bytes(&mut b);
        assert_eq!(b.len(), 816);
        assert_eq!(&b[256..264], &SP_PLACEHOLDER.to_le_bytes());
        assert_eq!(&b[264..272], &0x40u64.to_le_bytes());
        assert_eq!(&b[276..280], &RISUOP_KEY.to_le_bytes());
        // SVE with VQ=2: 546*2 = 1092 bytes rounded up to 1104; ZA adds 32*32 bytes.
        let sve = RegInfo {
            sve_vl: 32,
            ..ri.clone()
        };
        assert_eq!(sve.size(), Ok(REGINFO_FIXED + 1104));
        let za = RegInfo { svcr: 2, ..sve };
        assert_eq!(za.size(), Ok(REGINFO_FIXED + 1104 + 1024));
        assert!(RegInfo { sve_vl: 17, ..ri }.size().is_err());
    }

    #[test]
    fn records_round_trip() {
        let mut sve = regs(0x44, Op::Compare);
        if let Payload::Regs(ri) = &mut sve.payload {
            ri.sve_vl = 32;
            ri.sve = vec![0; sve_regs_size(2)];
        }
        let records = vec![
            Record {
                op: Op::SetMemBlock,
                pc: 0x10,
                payload: Payload::None,
            },
            regs(0x40, Op::Compare),
            sve,
            Record {
                op: Op::CompareMem,
                pc: 0x48,
                payload: Payload::Memory((0..MEMBLOCK_LEN).map(|i| i as u8).collect()),
            },
            regs(0x4c, Op::TestEnd),
        ];
        let bytes = write(&records);
        let back = parse(&bytes).unwrap();
        // The same records through gzip, as risu built with zlib writes them.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &bytes).unwrap();
        assert_eq!(parse(&gz.finish().unwrap()).unwrap(), back);
        assert_eq!(back.len(), records.len());
        assert_eq!(back[..2], records[..2]);
        assert_eq!(back[3..], records[3..]);
        let (a, b) = (back[2].regs().unwrap(), records[2].regs().unwrap());
        assert_eq!((a.v, a.sve_vl, a.x), (b.v, b.sve_vl, b.x));
    }

    #[test]
    fn bad_files_are_errors() {
        let good = write(&[regs(0x40, Op::Compare), regs(0x44, Op::TestEnd)]);
        let check = |bytes: &[u8], want: &str| {
            let e = parse(bytes).expect_err(want).to_string();
            assert!(e.contains(want), "{e:?} lacks {want:?}");
        };
        check(&[], "empty");
        check(
            &[0x1f, 0x8b, 8, 0],
            "gzip-compressed but cannot be decompressed",
        );
        check(&good[..good.len() - 1], "record 1 (byte 840): truncated");
        check(&good[..10], "record 0 (byte 0): truncated: its header");
        let mut bad = good.clone();
        bad[0] ^= 1;
        check(&bad, "bad magic 0x52495354");
        let mut swapped = good.clone();
        swapped[..4].copy_from_slice(&RISU_MAGIC.to_be_bytes());
        check(&swapped, "big-endian");
        let mut op = good.clone();
        op[8] = 9;
        check(&op, "unknown risu op 0x9");
        let mut size = good.clone();
        size[4..8].copy_from_slice(&820u32.to_le_bytes());
        check(&size, "make 816");
        let mut pc = good.clone();
        pc[16] = 0x48;
        check(&pc, "header's PC 0x48");
        let mut mem = write(&[Record {
            op: Op::CompareMem,
            pc: 0,
            payload: Payload::Memory(vec![0; MEMBLOCK_LEN]),
        }]);
        mem[4..8].copy_from_slice(&8000u32.to_le_bytes());
        check(&mem, "a memory block has 8192");
    }

    #[test]
    fn no_byte_change_or_cut_panics() {
        let good = write(&[
            regs(0x40, Op::Compare),
            Record {
                op: Op::SetMemBlock,
                pc: 0x44,
                payload: Payload::None,
            },
            regs(0x48, Op::TestEnd),
        ]);
        let mut r = crate::SplitMix64(7);
        let mut ok = 0;
        for _ in 0..2000 {
            let mut b = good.clone();
            let i = (r.next_u64() % b.len() as u64) as usize;
            b[i] = r.next_u64() as u8;
            let cut = (r.next_u64() % (b.len() as u64 + 1)) as usize;
            // Whatever the damage, a parse is an error or records of exactly the bytes read.
            if let Ok(records) = parse(&b[..cut]) {
                assert_eq!(write(&records).len(), cut);
                ok += 1;
            }
        }
        assert!(ok > 0 && ok < 2000, "{ok} of 2000 damaged traces parsed");
    }

    #[test]
    fn ops_of_words() {
        assert_eq!(Op::of_word(0x0000_5af0), Some(Op::Compare));
        assert_eq!(Op::of_word(0x0000_5af4), Some(Op::CompareMem));
        assert_eq!(Op::of_word(0x0000_5af7), None);
        assert_eq!(Op::of_word(0x0000_0000), Some(Op::Sigill));
        assert_eq!(Op::TestEnd.word(), Some(0x0000_5af1));
    }
}
