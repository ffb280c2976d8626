//! Floating-point semantics: the soft-float core ([`softfloat`]), the scalar FP instructions
//! ([`scalar`]) and the Advanced SIMD floating-point vector operations ([`vector`]).
//!
//! Semantics never compute FP values themselves: each arithmetic operation is a
//! `Sem::call` of one of the helpers below, which read FPCR, run the pseudocode in
//! [`softfloat::Fpu`] and OR the raised flags into FPSR. Decode-time choices (format,
//! operation, rounding, fixed-point bits) travel to the helper packed in one `ctl` argument.

pub mod scalar;
pub mod softfloat;
pub mod vector;

#[cfg(test)]
mod host_check;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

use armature_core::cpu::Cpu;
use armature_core::sem::{Sem, SemTable};
use softfloat::{CmpCond, Fmt, Fpu, Rounding};

/// Registers every FP encoding armature implements.
pub fn register<S: Sem>(t: &mut SemTable<S>) {
    scalar::register(t);
    vector::register(t);
}

/// Binary operations of [`h_binary`].
pub mod op {
    pub const ADD: u64 = 0;
    pub const SUB: u64 = 1;
    pub const MUL: u64 = 2;
    pub const DIV: u64 = 3;
    pub const MAX: u64 = 4;
    pub const MIN: u64 = 5;
    pub const MAXNM: u64 = 6;
    pub const MINNM: u64 = 7;
    /// FNMUL: `FPNeg(FPMul(op1, op2))`.
    pub const NMUL: u64 = 8;
    pub const MULX: u64 = 9;
    /// FABD: `FPAbs(FPSub(op1, op2))`.
    pub const ABD: u64 = 10;
    pub const RECPS: u64 = 11;
    pub const RSQRTS: u64 = 12;
    /// FPCompareEQ, FPCompareGE, FPCompareGT: all ones or zero.
    pub const CMEQ: u64 = 13;
    pub const CMGE: u64 = 14;
    pub const CMGT: u64 = 15;
}

/// The decode-time parameters of a helper call, packed into one 64-bit argument.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ctl {
    /// Bits 1..0: the format (of the source for conversions).
    pub fmt: u64,
    /// Bits 7..2: the operation.
    pub op: u64,
    /// Bits 10..8: the rounding mode, or 7 for FPCR.RMode.
    pub rounding: u64,
    /// Bit 11: unsigned (conversions) or exact (FRINTX).
    pub flag: bool,
    /// Bits 19..12: fixed-point fraction bits.
    pub fbits: u64,
    /// Bits 27..20: integer width; for FPConvert the destination format.
    pub width: u64,
}

/// `Ctl::rounding` value that selects FPRoundingMode(FPCR).
pub const FPCR_ROUNDING: u64 = 7;

impl Ctl {
    pub fn new(fmt: Fmt) -> Ctl {
        Ctl {
            fmt: fmt.code(),
            rounding: FPCR_ROUNDING,
            ..Ctl::default()
        }
    }

    pub fn op(mut self, op: u64) -> Ctl {
        self.op = op;
        self
    }

    pub fn rounding(mut self, r: Option<Rounding>) -> Ctl {
        self.rounding = r.map_or(FPCR_ROUNDING, Rounding::code);
        self
    }

    pub fn flag(mut self, flag: bool) -> Ctl {
        self.flag = flag;
        self
    }

    pub fn fbits(mut self, fbits: u32) -> Ctl {
        self.fbits = fbits.into();
        self
    }

    pub fn width(mut self, width: u64) -> Ctl {
        self.width = width;
        self
    }

    pub fn pack(self) -> u64 {
        self.fmt
            | self.op << 2
            | self.rounding << 8
            | u64::from(self.flag) << 11
            | self.fbits << 12
            | self.width << 20
    }

    pub fn unpack(c: u64) -> Ctl {
        Ctl {
            fmt: c & 3,
            op: c >> 2 & 0x3f,
            rounding: c >> 8 & 7,
            flag: c >> 11 & 1 == 1,
            fbits: c >> 12 & 0xff,
            width: c >> 20 & 0xff,
        }
    }

    fn format(&self) -> Fmt {
        Fmt::from_code(self.fmt)
    }

    fn rounding_mode(&self, fpu: &Fpu) -> Rounding {
        if self.rounding == FPCR_ROUNDING {
            fpu.rounding()
        } else {
            Rounding::from_code(self.rounding)
        }
    }
}

/// Runs `f` on an [`Fpu`] made from FPCR and ORs the flags it raised into FPSR.
fn with_fpu(cpu: &mut Cpu, f: impl FnOnce(&mut Fpu) -> u64) -> u64 {
    let mut fpu = Fpu::new(cpu.fpcr);
    let r = f(&mut fpu);
    cpu.fpsr |= fpu.flags;
    r
}

/// `[op1, op2, ctl]`: the binary operation `ctl.op` of [`op`].
pub fn h_binary(cpu: &mut Cpu, a: &[u64]) -> u64 {
    let c = Ctl::unpack(a[2]);
    let fmt = c.format();
    let sign = 1u64 << (fmt.bits() - 1);
    with_fpu(cpu, |f| match c.op {
        op::ADD => f.add(fmt, a[0], a[1]),
        op::SUB => f.sub(fmt, a[0], a[1]),
        op::MUL => f.mul(fmt, a[0], a[1], false),
        op::DIV => f.div(fmt, a[0], a[1]),
        op::MAX => f.max_min(fmt, a[0], a[1], true),
        op::MIN => f.max_min(fmt, a[0], a[1], false),
        op::MAXNM => f.max_min_num(fmt, a[0], a[1], true),
        op::MINNM => f.max_min_num(fmt, a[0], a[1], false),
        op::NMUL => f.mul(fmt, a[0], a[1], false) ^ sign,
        op::MULX => f.mul(fmt, a[0], a[1], true),
        op::ABD => f.sub(fmt, a[0], a[1]) & !sign,
        op::RECPS => f.step_fused(fmt, a[0], a[1], 2),
        op::RSQRTS => f.step_fused(fmt, a[0], a[1], 3),
        op::CMEQ => f.compare_cond(fmt, a[0], a[1], CmpCond::Eq),
        op::CMGE => f.compare_cond(fmt, a[0], a[1], CmpCond::Ge),
        _ => f.compare_cond(fmt, a[0], a[1], CmpCond::Gt),
    })
}

/// `[addend, op1, op2, ctl]`: FPMulAdd.
pub fn h_mul_add(cpu: &mut Cpu, a: &[u64]) -> u64 {
    let fmt = Ctl::unpack(a[3]).format();
    with_fpu(cpu, |f| f.mul_add(fmt, a[0], a[1], a[2]))
}

/// Unary operations of [`h_unary`].
pub mod unop {
    pub const SQRT: u64 = 0;
    /// FPRoundInt with `ctl.rounding`, `ctl.flag` = exact.
    pub const ROUND_INT: u64 = 1;
    /// FPConvert to the format `ctl.width` with `ctl.rounding`.
    pub const CONVERT: u64 = 2;
}

/// `[op, ctl]`: the unary operation `ctl.op` of [`unop`].
pub fn h_unary(cpu: &mut Cpu, a: &[u64]) -> u64 {
    let c = Ctl::unpack(a[1]);
    let fmt = c.format();
    with_fpu(cpu, |f| {
        let rounding = c.rounding_mode(f);
        match c.op {
            unop::SQRT => f.sqrt(fmt, a[0]),
            unop::ROUND_INT => f.round_int(fmt, a[0], rounding, c.flag),
            _ => f.convert(fmt, Fmt::from_code(c.width), a[0], rounding),
        }
    })
}

/// `[op1, op2, ctl]`: FPCompare, NZCV in bits 31..28; `ctl.flag` signals quiet NaNs (FCMPE).
pub fn h_compare(cpu: &mut Cpu, a: &[u64]) -> u64 {
    let c = Ctl::unpack(a[2]);
    with_fpu(cpu, |f| f.compare(c.format(), a[0], a[1], c.flag) << 28)
}

/// `[op1, op2, cond, ctl]`: FCCMP/FCCMPE: FPCompare when `cond` is nonzero, else the
/// immediate NZCV in `ctl.fbits`; NZCV in bits 31..28.
pub fn h_cond_compare(cpu: &mut Cpu, a: &[u64]) -> u64 {
    let c = Ctl::unpack(a[3]);
    if a[2] == 0 {
        return c.fbits << 28;
    }
    with_fpu(cpu, |f| f.compare(c.format(), a[0], a[1], c.flag) << 28)
}

/// `[op, ctl]`: FPToFixed of `ctl.width` bits (`ctl.flag` unsigned).
pub fn h_to_fixed(cpu: &mut Cpu, a: &[u64]) -> u64 {
    let c = Ctl::unpack(a[1]);
    with_fpu(cpu, |f| {
        let rounding = c.rounding_mode(f);
        f.to_fixed(
            c.format(),
            a[0],
            c.fbits as u32,
            c.flag,
            rounding,
            c.width as u32,
        )
    })
}

/// `[op, ctl]`: FixedToFP from `ctl.width` bits (`ctl.flag` unsigned) to `ctl.fmt`.
pub fn h_from_fixed(cpu: &mut Cpu, a: &[u64]) -> u64 {
    let c = Ctl::unpack(a[1]);
    with_fpu(cpu, |f| {
        let rounding = c.rounding_mode(f);
        f.from_fixed(
            c.format(),
            a[0],
            c.fbits as u32,
            c.flag,
            rounding,
            c.width as u32,
        )
    })
}
