//! The initial process stack, laid out as Linux's `create_elf_tables` does: from the stack
//! pointer up, argc, argv[], NULL, envp[], NULL, the auxiliary vector, then the strings.

use crate::isa::{Feature, FeatureSet};
use crate::mem::{Fault, Memory, Perms, PAGE_SIZE};

use super::elf::LoadInfo;

/// The first byte above the stack.
pub const STACK_TOP: u64 = 0x7f_ff00_0000;
/// The stack size (8 MiB, Linux's default RLIMIT_STACK).
pub const STACK_SIZE: u64 = 8 << 20;

pub const AT_NULL: u64 = 0;
pub const AT_PHDR: u64 = 3;
pub const AT_PHENT: u64 = 4;
pub const AT_PHNUM: u64 = 5;
pub const AT_PAGESZ: u64 = 6;
pub const AT_BASE: u64 = 7;
pub const AT_FLAGS: u64 = 8;
pub const AT_ENTRY: u64 = 9;
pub const AT_UID: u64 = 11;
pub const AT_EUID: u64 = 12;
pub const AT_GID: u64 = 13;
pub const AT_EGID: u64 = 14;
pub const AT_PLATFORM: u64 = 15;
pub const AT_HWCAP: u64 = 16;
pub const AT_CLKTCK: u64 = 17;
pub const AT_SECURE: u64 = 23;
pub const AT_RANDOM: u64 = 25;
pub const AT_HWCAP2: u64 = 26;
pub const AT_EXECFN: u64 = 31;

/// Linux's arm64 `AT_HWCAP` and `AT_HWCAP2` bits for the features of `features`.
pub fn hwcaps(features: &FeatureSet) -> (u64, u64) {
    use Feature::*;
    const HWCAP: &[(Feature, u32)] = &[
        (FEAT_FP, 0),
        (FEAT_AdvSIMD, 1),
        (FEAT_AES, 3),
        (FEAT_PMULL, 4),
        (FEAT_SHA1, 5),
        (FEAT_SHA256, 6),
        (FEAT_CRC32, 7),
        (FEAT_LSE, 8),
        (FEAT_FP16, 9),
        (FEAT_FP16, 10),
        (FEAT_RDM, 12),
        (FEAT_JSCVT, 13),
        (FEAT_FCMA, 14),
        (FEAT_LRCPC, 15),
        (FEAT_SHA3, 17),
        (FEAT_SM3, 18),
        (FEAT_SM4, 19),
        (FEAT_DotProd, 20),
        (FEAT_SHA512, 21),
        (FEAT_SVE, 22),
        (FEAT_FHM, 23),
        (FEAT_DIT, 24),
        (FEAT_LRCPC2, 26),
        (FEAT_FlagM, 27),
        (FEAT_SSBS, 28),
        (FEAT_SB, 29),
        (FEAT_PAuth, 30),
        (FEAT_PAuth, 31),
    ];
    const HWCAP2: &[(Feature, u32)] = &[
        (FEAT_SVE2, 1),
        (FEAT_SVE_AES, 2),
        (FEAT_SVE_PMULL128, 3),
        (FEAT_SVE_BitPerm, 4),
        (FEAT_SVE_SHA3, 5),
        (FEAT_SVE_SM4, 6),
        (FEAT_FlagM2, 7),
        (FEAT_FRINTTS, 8),
        (FEAT_I8MM, 13),
        (FEAT_BF16, 14),
        (FEAT_DGH, 15),
        (FEAT_BTI, 17),
        (FEAT_MTE2, 18),
        (FEAT_SME, 23),
        (FEAT_SME_I16I64, 24),
        (FEAT_SME_F64F64, 25),
        (FEAT_WFxT, 31),
        (FEAT_CSSC, 34),
        (FEAT_RPRFM, 35),
        (FEAT_SVE2p1, 36),
        (FEAT_SME2, 37),
        (FEAT_SME2p1, 38),
        (FEAT_SME_F16F16, 42),
        (FEAT_MOPS, 43),
        (FEAT_HBC, 44),
    ];
    let bits = |table: &[(Feature, u32)]| {
        table
            .iter()
            .filter(|(f, _)| features.contains(*f))
            .fold(0u64, |acc, (_, bit)| acc | 1 << bit)
    };
    // CPUID: EL0 reads of the ID registers are emulated (see `sysregs.rs`); ECV: CNTVCTSS_EL0
    // is readable.
    let mut hwcap = bits(HWCAP) | 1 << 11;
    let mut hwcap2 = bits(HWCAP2) | 1 << 19;
    // SVE-dependent bits only make sense with SVE itself.
    if !features.contains(FEAT_SVE) {
        hwcap2 &= !0x7e;
    }
    if features.contains(FEAT_I8MM) && features.contains(FEAT_SVE) {
        hwcap2 |= 1 << 9; // SVEI8MM
    }
    if features.contains(FEAT_F32MM) && features.contains(FEAT_SVE) {
        hwcap2 |= 1 << 10;
    }
    if features.contains(FEAT_F64MM) && features.contains(FEAT_SVE) {
        hwcap2 |= 1 << 11;
    }
    if features.contains(FEAT_BF16) && features.contains(FEAT_SVE) {
        hwcap2 |= 1 << 12; // SVEBF16
    }
    // Linux only reports ASIMD with FP.
    if hwcap & 3 != 3 {
        hwcap &= !2;
    }
    (hwcap, hwcap2)
}

/// What the stack holds, for the caller to set registers and for tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackInfo {
    /// The initial stack pointer: it points at argc.
    pub sp: u64,
    pub argv: Vec<u64>,
    pub envp: Vec<u64>,
    /// The auxiliary vector, without the final AT_NULL.
    pub auxv: Vec<(u64, u64)>,
}

/// Parameters of [`build`] beyond the strings.
pub struct StackParams<'a> {
    pub load: &'a LoadInfo,
    /// AT_EXECFN: the program path as given.
    pub execfn: &'a str,
    pub random: [u8; 16],
    pub hwcap: (u64, u64),
    pub ids: Ids,
    /// AT_BASE: where the program interpreter is loaded (0 for a static program).
    pub interp_base: u64,
}

/// The user and group ids the program sees.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ids {
    pub uid: u64,
    pub euid: u64,
    pub gid: u64,
    pub egid: u64,
}

/// Maps the stack below [`STACK_TOP`] and writes the initial process state onto it.
pub fn build(
    mem: &mut Memory,
    args: &[String],
    env: &[String],
    p: &StackParams<'_>,
) -> Result<StackInfo, Fault> {
    mem.map(STACK_TOP - STACK_SIZE, STACK_SIZE, Perms::RW)
        .map_err(|e| Fault {
            addr: e.addr,
            kind: crate::mem::FaultKind::Unmapped,
            write: true,
        })?;
    let mut top = STACK_TOP - 16;
    let execfn = push_str(mem, &mut top, p.execfn)?;
    let mut envp = Vec::with_capacity(env.len());
    for e in env.iter().rev() {
        envp.push(push_str(mem, &mut top, e)?);
    }
    envp.reverse();
    let mut argv = Vec::with_capacity(args.len());
    for a in args.iter().rev() {
        argv.push(push_str(mem, &mut top, a)?);
    }
    argv.reverse();
    let platform = push_str(mem, &mut top, "aarch64")?;
    let random = push_bytes(mem, &mut top, &p.random, 16)?;

    let auxv = vec![
        (AT_HWCAP, p.hwcap.0),
        (AT_PAGESZ, PAGE_SIZE),
        (AT_CLKTCK, 100),
        (AT_PHDR, p.load.phdr),
        (AT_PHENT, p.load.phent),
        (AT_PHNUM, p.load.phnum),
        (AT_BASE, p.interp_base),
        (AT_FLAGS, 0),
        (AT_ENTRY, p.load.entry),
        (AT_UID, p.ids.uid),
        (AT_EUID, p.ids.euid),
        (AT_GID, p.ids.gid),
        (AT_EGID, p.ids.egid),
        (AT_SECURE, 0),
        (AT_RANDOM, random),
        (AT_HWCAP2, p.hwcap.1),
        (AT_EXECFN, execfn),
        (AT_PLATFORM, platform),
    ];
    let words = 1 + argv.len() + 1 + envp.len() + 1 + 2 * (auxv.len() + 1);
    let sp = (top - 8 * words as u64) & !15;
    let mut table = Vec::with_capacity(words);
    table.push(argv.len() as u64);
    table.extend(&argv);
    table.push(0);
    table.extend(&envp);
    table.push(0);
    for (k, v) in &auxv {
        table.extend([*k, *v]);
    }
    table.extend([AT_NULL, 0]);
    let bytes: Vec<u8> = table.iter().flat_map(|w| w.to_le_bytes()).collect();
    mem.write(sp, &bytes)?;
    Ok(StackInfo {
        sp,
        argv,
        envp,
        auxv,
    })
}

/// Writes `bytes` below `top` at an `align`ed address and moves `top` there.
fn push_bytes(mem: &mut Memory, top: &mut u64, bytes: &[u8], align: u64) -> Result<u64, Fault> {
    *top = (*top - bytes.len() as u64) & !(align - 1);
    mem.write(*top, bytes)?;
    Ok(*top)
}

/// Writes `s` and a NUL below `top`.
fn push_str(mem: &mut Memory, top: &mut u64, s: &str) -> Result<u64, Fault> {
    let mut bytes = s.as_bytes().to_vec();
    bytes.push(0);
    push_bytes(mem, top, &bytes, 1)
}
