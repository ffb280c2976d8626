//! The system registers EL0 code reads under Linux beyond the plain ones: the ID registers,
//! which Linux's MRS emulation (`emulate_mrs` in `arch/arm64/kernel/cpufeature.c`) answers
//! with the user-visible fields only, and the generic timer's virtual counter.
//!
//! The ID register values follow the features the decoder enables, so that a program probing
//! `ID_AA64ISAR0_EL1` sees the same machine as one reading `AT_HWCAP`. The fields exported are
//! the ones Linux documents as visible (`Documentation/arch/arm64/cpu-feature-registers.rst`),
//! which qemu-user also exports; the fixed values (EL0 and EL1 AArch64-only, TGran4 and TGran64
//! reading 0xf, DebugVer 6) are the same as qemu-aarch64's.

use std::collections::HashMap;

use crate::isa::{Feature, FeatureSet};

/// `sys_reg(op0, op1, CRn, CRm, op2)` as the 16 bits 20:5 of MRS and MSR.
pub const fn sys_reg(op0: u32, op1: u32, crn: u32, crm: u32, op2: u32) -> u16 {
    ((op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2) as u16
}

pub const MIDR_EL1: u16 = sys_reg(3, 0, 0, 0, 0);
pub const MPIDR_EL1: u16 = sys_reg(3, 0, 0, 0, 5);
pub const REVIDR_EL1: u16 = sys_reg(3, 0, 0, 0, 6);
pub const ID_AA64PFR0_EL1: u16 = sys_reg(3, 0, 0, 4, 0);
pub const ID_AA64PFR1_EL1: u16 = sys_reg(3, 0, 0, 4, 1);
pub const ID_AA64ZFR0_EL1: u16 = sys_reg(3, 0, 0, 4, 4);
pub const ID_AA64SMFR0_EL1: u16 = sys_reg(3, 0, 0, 4, 5);
pub const ID_AA64DFR0_EL1: u16 = sys_reg(3, 0, 0, 5, 0);
pub const ID_AA64ISAR0_EL1: u16 = sys_reg(3, 0, 0, 6, 0);
pub const ID_AA64ISAR1_EL1: u16 = sys_reg(3, 0, 0, 6, 1);
pub const ID_AA64ISAR2_EL1: u16 = sys_reg(3, 0, 0, 6, 2);
pub const ID_AA64MMFR0_EL1: u16 = sys_reg(3, 0, 0, 7, 0);

/// MIDR_EL1 as qemu's `max` CPU reports it: implementer 0 ("reserved for software use"),
/// architecture 0xf (see the ID registers), part number 'Q', variant and revision 0.
pub const MIDR: u64 = 0x000f_0510;
/// MPIDR_EL1 as Linux emulates it (`SYS_MPIDR_SAFE_VAL`): only bit 31 (RES1).
pub const MPIDR: u64 = 1 << 31;

/// CNTFRQ_EL0: 62.5 MHz, qemu's generic timer frequency (a 16 ns tick).
pub const CNTFRQ: u64 = 62_500_000;

/// Whether EL0 can read the register `enc` through Linux's MRS emulation (`is_emulated`): the
/// three CRm = 0 registers and the whole ID space with CRm 2-7 (reserved ones read as zero).
pub fn is_emulated_id_reg(enc: u16) -> bool {
    let enc = u32::from(enc);
    let (op0, op1, crn, crm, op2) = (
        enc >> 14,
        (enc >> 11) & 7,
        (enc >> 7) & 15,
        (enc >> 3) & 15,
        enc & 7,
    );
    op0 == 3
        && op1 == 0
        && crn == 0
        && ((crm == 0 && matches!(op2, 0 | 5 | 6)) || (2..=7).contains(&crm))
}

/// The EL0 view of the ID registers, kept in the CPU state (`Cpu::ext`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdRegisters {
    values: HashMap<u16, u64>,
}

impl Default for IdRegisters {
    /// The registers of a CPU with the base instruction set only.
    fn default() -> Self {
        IdRegisters::new(&FeatureSet::base())
    }
}

/// One field of an ID register: its shift and the value for each feature, highest first.
struct Field {
    reg: u16,
    shift: u32,
    values: &'static [(Feature, u64)],
}

const fn field(reg: u16, shift: u32, values: &'static [(Feature, u64)]) -> Field {
    Field { reg, shift, values }
}

/// The user-visible fields that depend on features (Arm ARM D19.2, ID_AA64*_EL1).
const FIELDS: &[Field] = {
    use Feature::*;
    &[
        field(ID_AA64ISAR0_EL1, 4, &[(FEAT_PMULL, 2), (FEAT_AES, 1)]),
        field(ID_AA64ISAR0_EL1, 8, &[(FEAT_SHA1, 1)]),
        field(ID_AA64ISAR0_EL1, 12, &[(FEAT_SHA512, 2), (FEAT_SHA256, 1)]),
        field(ID_AA64ISAR0_EL1, 16, &[(FEAT_CRC32, 1)]),
        field(ID_AA64ISAR0_EL1, 20, &[(FEAT_LSE128, 3), (FEAT_LSE, 2)]),
        field(ID_AA64ISAR0_EL1, 28, &[(FEAT_RDM, 1)]),
        field(ID_AA64ISAR0_EL1, 32, &[(FEAT_SHA3, 1)]),
        field(ID_AA64ISAR0_EL1, 36, &[(FEAT_SM3, 1)]),
        field(ID_AA64ISAR0_EL1, 40, &[(FEAT_SM4, 1)]),
        field(ID_AA64ISAR0_EL1, 44, &[(FEAT_DotProd, 1)]),
        field(ID_AA64ISAR0_EL1, 48, &[(FEAT_FHM, 1)]),
        field(ID_AA64ISAR0_EL1, 52, &[(FEAT_FlagM2, 2), (FEAT_FlagM, 1)]),
        // APA and GPA: the architected QARMA5 algorithm.
        field(ID_AA64ISAR1_EL1, 4, &[(FEAT_PAuth, 1)]),
        field(ID_AA64ISAR1_EL1, 12, &[(FEAT_JSCVT, 1)]),
        field(ID_AA64ISAR1_EL1, 16, &[(FEAT_FCMA, 1)]),
        field(
            ID_AA64ISAR1_EL1,
            20,
            &[(FEAT_LRCPC3, 3), (FEAT_LRCPC2, 2), (FEAT_LRCPC, 1)],
        ),
        field(ID_AA64ISAR1_EL1, 24, &[(FEAT_PAuth, 1)]),
        field(ID_AA64ISAR1_EL1, 32, &[(FEAT_FRINTTS, 1)]),
        field(ID_AA64ISAR1_EL1, 36, &[(FEAT_SB, 1)]),
        field(ID_AA64ISAR1_EL1, 44, &[(FEAT_BF16, 1)]),
        field(ID_AA64ISAR1_EL1, 48, &[(FEAT_DGH, 1)]),
        field(ID_AA64ISAR1_EL1, 52, &[(FEAT_I8MM, 1)]),
        field(ID_AA64ISAR2_EL1, 0, &[(FEAT_WFxT, 2)]),
        field(ID_AA64ISAR2_EL1, 16, &[(FEAT_MOPS, 1)]),
        field(ID_AA64ISAR2_EL1, 20, &[(FEAT_HBC, 1)]),
        field(ID_AA64ISAR2_EL1, 28, &[(FEAT_CLRBHB, 1)]),
        field(ID_AA64ISAR2_EL1, 48, &[(FEAT_RPRFM, 1)]),
        field(ID_AA64ISAR2_EL1, 52, &[(FEAT_CSSC, 1)]),
        field(ID_AA64PFR0_EL1, 32, &[(FEAT_SVE, 1)]),
        field(ID_AA64PFR0_EL1, 48, &[(FEAT_DIT, 1)]),
        field(ID_AA64PFR1_EL1, 0, &[(FEAT_BTI, 1)]),
        // SSBS 2 (with MSR/MRS SSBS) is what Linux's HWCAP_SSBS requires.
        field(ID_AA64PFR1_EL1, 4, &[(FEAT_SSBS, 2)]),
        field(ID_AA64PFR1_EL1, 8, &[(FEAT_MTE2, 2), (FEAT_MTE, 1)]),
        field(ID_AA64PFR1_EL1, 24, &[(FEAT_SME2, 2), (FEAT_SME, 1)]),
        field(ID_AA64ZFR0_EL1, 0, &[(FEAT_SVE2p1, 2), (FEAT_SVE2, 1)]),
        field(
            ID_AA64ZFR0_EL1,
            4,
            &[(FEAT_SVE_PMULL128, 2), (FEAT_SVE_AES, 1)],
        ),
        field(ID_AA64ZFR0_EL1, 16, &[(FEAT_SVE_BitPerm, 1)]),
        field(ID_AA64ZFR0_EL1, 20, &[(FEAT_BF16, 1)]),
        field(ID_AA64ZFR0_EL1, 32, &[(FEAT_SVE_SHA3, 1)]),
        field(ID_AA64ZFR0_EL1, 40, &[(FEAT_SVE_SM4, 1)]),
        field(ID_AA64ZFR0_EL1, 44, &[(FEAT_I8MM, 1)]),
        field(ID_AA64ZFR0_EL1, 52, &[(FEAT_F32MM, 1)]),
        field(ID_AA64ZFR0_EL1, 56, &[(FEAT_F64MM, 1)]),
        // SMEver, then the single-bit and 4-bit ones of SME's FEAT_SME_* options.
        field(ID_AA64SMFR0_EL1, 56, &[(FEAT_SME2p1, 2), (FEAT_SME2, 1)]),
        field(ID_AA64SMFR0_EL1, 42, &[(FEAT_SME_F16F16, 1)]),
        field(ID_AA64SMFR0_EL1, 48, &[(FEAT_SME_F64F64, 1)]),
        field(ID_AA64SMFR0_EL1, 52, &[(FEAT_SME_I16I64, 0xf)]),
    ]
};

impl IdRegisters {
    /// The registers of a CPU with `features`.
    pub fn new(features: &FeatureSet) -> Self {
        use Feature::*;
        let mut values: HashMap<u16, u64> = HashMap::new();
        for f in FIELDS {
            if let Some((_, v)) = f.values.iter().find(|(feat, _)| features.contains(*feat)) {
                *values.entry(f.reg).or_default() |= v << f.shift;
            }
        }
        // FP and AdvSIMD: 0 implemented, 1 with half precision, 0xf absent.
        let fp = |feature| match (features.contains(feature), features.contains(FEAT_FP16)) {
            (false, _) => 0xf,
            (true, true) => 1,
            (true, false) => 0,
        };
        *values.entry(ID_AA64PFR0_EL1).or_default() |=
            fp(FEAT_FP) << 16 | fp(FEAT_AdvSIMD) << 20 | 1 << 4 | 1;
        // SVE's and SME's registers read as zero without the extension.
        if !features.contains(FEAT_SVE) {
            values.remove(&ID_AA64ZFR0_EL1);
        }
        if features.contains(FEAT_SME) {
            // F32F32, B16F32, F16F32 and I8I32 come with SME itself.
            *values.entry(ID_AA64SMFR0_EL1).or_default() |= 1 << 32 | 1 << 34 | 1 << 35 | 0xf << 36;
        } else {
            values.remove(&ID_AA64SMFR0_EL1);
        }
        // ECV: CNTVCTSS_EL0 is readable (see `system.rs` of the base extension).
        values.insert(ID_AA64MMFR0_EL1, 1 << 60 | 0xf << 28 | 0xf << 24);
        values.insert(ID_AA64DFR0_EL1, 6);
        values.insert(MIDR_EL1, MIDR);
        values.insert(MPIDR_EL1, MPIDR);
        IdRegisters { values }
    }

    /// The value EL0 reads from the ID register `enc` (reserved ones read as zero).
    pub fn read(&self, enc: u16) -> u64 {
        self.values.get(&enc).copied().unwrap_or(0)
    }
}

/// CNTVCT_EL0: the host's monotonic clock in ticks of [`CNTFRQ`].
pub fn virtual_count() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    let ns = u128::from(ts.tv_sec as u64) * 1_000_000_000 + u128::from(ts.tv_nsec as u64);
    (ns * u128::from(CNTFRQ) / 1_000_000_000) as u64
}
