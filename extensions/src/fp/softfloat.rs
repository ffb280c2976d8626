//! A soft-float core that follows Arm's shared pseudocode (`shared/functions/float/...`) bit for
//! bit, FPSR cumulative flags included. Exact values are kept as integers (`sig * 2^exp` with a
//! `u128` significand); a value that had to be shortened keeps a sticky bit in its lowest bit,
//! as Berkeley SoftFloat does, and always keeps more than `F + 2` significant bits so that the
//! sticky bit never reaches the rounding position. Host floating point is never used.
//!
//! FPCR.AHP = 1 selects the alternative half-precision format for conversions (FPUnpackCV,
//! FPRoundCV, FPConvert): exponent 31 holds normal numbers, there are no infinities or NaNs;
//! half-precision arithmetic ignores it (FPUnpack and FPRound take AHP as 0).
//!
//! Out of scope: FPCR.AH = 1 (FEAT_AFP) and FPCR.EBF = 1 (FEAT_EBF16): both are treated as 0.
//! Trap enables (FPCR.IOE ...) are ignored: exceptions are never trapped (most implementations
//! make those bits RAZ/WI, and qemu does not trap either) and only accumulate FPSR flags.

use std::cmp::Ordering;

/// FPSR.IOC: Invalid Operation.
pub const IOC: u64 = 1 << 0;
/// FPSR.DZC: Divide by Zero.
pub const DZC: u64 = 1 << 1;
/// FPSR.OFC: Overflow.
pub const OFC: u64 = 1 << 2;
/// FPSR.UFC: Underflow.
pub const UFC: u64 = 1 << 3;
/// FPSR.IXC: Inexact.
pub const IXC: u64 = 1 << 4;
/// FPSR.IDC: Input Denormal.
pub const IDC: u64 = 1 << 7;

/// FPCR.DN: default NaN.
pub const FPCR_DN: u64 = 1 << 25;
/// FPCR.FZ: flush single and double denormals to zero.
pub const FPCR_FZ: u64 = 1 << 24;
/// FPCR.FZ16: flush half-precision denormals to zero.
pub const FPCR_FZ16: u64 = 1 << 19;
/// FPCR.AHP: alternative half-precision format for conversions.
pub const FPCR_AHP: u64 = 1 << 26;

/// A floating-point format: half, single or double precision, or BFloat16 (the top half of
/// a single, only a conversion target).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fmt {
    H,
    S,
    D,
    BF16,
}

impl Fmt {
    /// The format of a scalar `ftype` field (00 S, 01 D, 11 H; 10 is not a format).
    pub fn from_ftype(ftype: u32) -> Option<Fmt> {
        match ftype {
            0 => Some(Fmt::S),
            1 => Some(Fmt::D),
            3 => Some(Fmt::H),
            _ => None,
        }
    }

    /// The format of `esize` bits.
    pub fn from_esize(esize: u32) -> Fmt {
        match esize {
            16 => Fmt::H,
            32 => Fmt::S,
            _ => Fmt::D,
        }
    }

    /// The code helpers get as an argument (see [`Fmt::from_code`]).
    pub fn code(self) -> u64 {
        match self {
            Fmt::H => 0,
            Fmt::S => 1,
            Fmt::D => 2,
            Fmt::BF16 => 3,
        }
    }

    pub fn from_code(c: u64) -> Fmt {
        match c & 3 {
            0 => Fmt::H,
            1 => Fmt::S,
            2 => Fmt::D,
            _ => Fmt::BF16,
        }
    }

    /// N.
    pub fn bits(self) -> u32 {
        match self {
            Fmt::H | Fmt::BF16 => 16,
            Fmt::S => 32,
            Fmt::D => 64,
        }
    }

    /// E.
    fn e(self) -> u32 {
        match self {
            Fmt::H => 5,
            Fmt::S | Fmt::BF16 => 8,
            Fmt::D => 11,
        }
    }

    /// F.
    fn f(self) -> u32 {
        self.bits() - self.e() - 1
    }

    fn mask(self) -> u64 {
        u64::MAX >> (64 - self.bits())
    }

    fn exp_max(self) -> u64 {
        (1 << self.e()) - 1
    }

    fn bias(self) -> i32 {
        (1 << (self.e() - 1)) - 1
    }

    /// `minimum_exp` of FPRound: `1 - bias`.
    fn min_exp(self) -> i32 {
        1 - self.bias()
    }

    fn sign_bit(self) -> u64 {
        1 << (self.bits() - 1)
    }

    /// FPZero.
    pub fn zero(self, sign: bool) -> u64 {
        if sign {
            self.sign_bit()
        } else {
            0
        }
    }

    /// FPInfinity.
    pub fn infinity(self, sign: bool) -> u64 {
        self.zero(sign) | self.exp_max() << self.f()
    }

    /// FPMaxNormal.
    pub fn max_normal(self, sign: bool) -> u64 {
        self.zero(sign) | (self.exp_max() - 1) << self.f() | ((1 << self.f()) - 1)
    }

    /// `sign : Ones(N-1)`: the largest magnitude of the alternative half format.
    fn sign_ones(self, sign: bool) -> u64 {
        self.zero(sign) | self.mask() >> 1
    }

    /// FPDefaultNaN: positive, quiet, zero payload.
    pub fn default_nan(self) -> u64 {
        self.infinity(false) | 1 << (self.f() - 1)
    }

    /// FPTwo, FPThree, FPOnePointFive and 1.0: `sign : exp : frac` of small constants.
    fn constant(self, sign: bool, unbiased_exp: i32, frac_top: u64) -> u64 {
        let exp = (self.bias() + unbiased_exp) as u64;
        self.zero(sign) | exp << self.f() | frac_top << (self.f() - 1)
    }
}

/// FPRounding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    TieEven,
    PosInf,
    NegInf,
    Zero,
    TieAway,
    Odd,
}

impl Rounding {
    /// FPDecodeRounding of a 2-bit RMode.
    pub fn decode(rmode: u64) -> Rounding {
        match rmode & 3 {
            0 => Rounding::TieEven,
            1 => Rounding::PosInf,
            2 => Rounding::NegInf,
            _ => Rounding::Zero,
        }
    }

    /// The code helpers get as an argument.
    pub fn code(self) -> u64 {
        match self {
            Rounding::TieEven => 0,
            Rounding::PosInf => 1,
            Rounding::NegInf => 2,
            Rounding::Zero => 3,
            Rounding::TieAway => 4,
            Rounding::Odd => 5,
        }
    }

    pub fn from_code(c: u64) -> Rounding {
        match c & 7 {
            0 => Rounding::TieEven,
            1 => Rounding::PosInf,
            2 => Rounding::NegInf,
            3 => Rounding::Zero,
            4 => Rounding::TieAway,
            _ => Rounding::Odd,
        }
    }
}

/// FPType.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FpType {
    Zero,
    Denormal,
    Nonzero,
    Infinity,
    QNaN,
    SNaN,
}

/// The result of FPUnpack: the type, the sign and, for finite values, the magnitude
/// `sig * 2^exp` (zero for zeros).
#[derive(Clone, Copy, Debug)]
pub struct Unpacked {
    pub t: FpType,
    pub sign: bool,
    pub sig: u128,
    pub exp: i32,
}

impl Unpacked {
    fn is_nan(&self) -> bool {
        matches!(self.t, FpType::QNaN | FpType::SNaN)
    }
    fn is_inf(&self) -> bool {
        self.t == FpType::Infinity
    }
    fn is_zero(&self) -> bool {
        self.t == FpType::Zero
    }
}

/// How far a value is above the integer below it (the `error` of FPRound and FPRoundInt) as
/// compared with one half.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Err {
    Zero,
    Below,
    Half,
    Above,
}

impl Err {
    /// `1 - error` (for the floor of a negative value).
    fn complement(self) -> Err {
        match self {
            Err::Zero => Err::Zero,
            Err::Below => Err::Above,
            Err::Half => Err::Half,
            Err::Above => Err::Below,
        }
    }
}

/// `sig / 2^shift` split into its integer part and how the dropped part compares with a half.
fn shift_classify(sig: u128, shift: u32) -> (u128, Err) {
    let (int, rem, half) = match shift {
        0 => return (sig, Err::Zero),
        1..=127 => (sig >> shift, sig & ((1 << shift) - 1), 1u128 << (shift - 1)),
        128 => (0, sig, 1 << 127),
        _ => return (0, if sig == 0 { Err::Zero } else { Err::Below }),
    };
    let err = match rem.cmp(&half) {
        _ if rem == 0 => Err::Zero,
        Ordering::Less => Err::Below,
        Ordering::Equal => Err::Half,
        Ordering::Greater => Err::Above,
    };
    (int, err)
}

/// Shifts right, ORing the dropped bits into the lowest bit.
fn shift_right_jam(sig: u128, shift: u32) -> u128 {
    if shift == 0 {
        sig
    } else if shift >= 128 {
        u128::from(sig != 0)
    } else {
        sig >> shift | u128::from(sig & ((1 << shift) - 1) != 0)
    }
}

/// Moves the highest set bit of a nonzero `sig` to bit 120, keeping the value.
fn normalize(sig: u128, exp: i32) -> (u128, i32) {
    let msb = 127 - sig.leading_zeros() as i32;
    if msb <= 120 {
        (sig << (120 - msb), exp - (120 - msb))
    } else {
        (shift_right_jam(sig, (msb - 120) as u32), exp + (msb - 120))
    }
}

/// The exact sum of two signed values `±sig * 2^exp` (sigs at most 118 bits wide); `None` when
/// it is zero.
fn add_values(a: (bool, u128, i32), b: (bool, u128, i32)) -> Option<(bool, u128, i32)> {
    if a.1 == 0 && b.1 == 0 {
        return None;
    }
    if b.1 == 0 {
        return Some(a);
    }
    if a.1 == 0 {
        return Some(b);
    }
    let (sa, ma, ea) = a;
    let (sb, mb, eb) = b;
    let (ma, ea) = normalize(ma, ea);
    let (mb, eb) = normalize(mb, eb);
    let ((sa, ma, ea), (sb, mb, eb)) = if ea >= eb {
        ((sa, ma, ea), (sb, mb, eb))
    } else {
        ((sb, mb, eb), (sa, ma, ea))
    };
    let mb = shift_right_jam(mb, (ea - eb).min(200) as u32);
    if sa == sb {
        Some((sa, ma + mb, ea))
    } else if ma > mb {
        Some((sa, ma - mb, ea))
    } else if mb > ma {
        Some((sb, mb - ma, ea))
    } else {
        None
    }
}

/// Arm's floating-point state for one operation: FPCR and the FPSR flags it raises.
pub struct Fpu {
    pub fpcr: u64,
    /// Cumulative flags to OR into FPSR.
    pub flags: u64,
}

impl Fpu {
    pub fn new(fpcr: u64) -> Fpu {
        Fpu { fpcr, flags: 0 }
    }

    /// FPRoundingMode: FPDecodeRounding(FPCR.RMode).
    pub fn rounding(&self) -> Rounding {
        Rounding::decode(self.fpcr >> 22)
    }

    fn dn(&self) -> bool {
        self.fpcr & FPCR_DN != 0
    }

    /// Whether a conversion's half-precision side uses the alternative format (FPCR.AHP).
    fn alt_hp(&self, fmt: Fmt) -> bool {
        fmt == Fmt::H && self.fpcr & FPCR_AHP != 0
    }

    /// FPUnpack (FPUnpackBase with `fpexc` TRUE and FPCR.AHP taken as 0): FPCR.FZ flushes
    /// single and double denormal inputs to zero and sets IDC; FPCR.FZ16 flushes
    /// half-precision ones without a flag.
    pub fn unpack(&mut self, fmt: Fmt, op: u64) -> Unpacked {
        self.unpack_base(fmt, op, false)
    }

    /// FPUnpackCV (conversions): FPUnpackBase with FPCR.FZ16 taken as 0 and FPCR.AHP
    /// observed: an alternative half with exponent 31 is a normal number.
    pub fn unpack_cv(&mut self, fmt: Fmt, op: u64) -> Unpacked {
        self.unpack_base(fmt, op, true)
    }

    /// FPUnpackBase; `cv` selects FPUnpackCV's view of FPCR (FZ16 as 0, AHP as set).
    fn unpack_base(&mut self, fmt: Fmt, op: u64, cv: bool) -> Unpacked {
        let f = fmt.f();
        let sign = op & fmt.sign_bit() != 0;
        let exp = (op >> f) & fmt.exp_max();
        let frac = op & ((1 << f) - 1);
        let mut u = Unpacked {
            t: FpType::Zero,
            sign,
            sig: 0,
            exp: 0,
        };
        if exp == 0 {
            if frac == 0 {
                return u;
            }
            let flush = if fmt == Fmt::H {
                !cv && self.fpcr & FPCR_FZ16 != 0
            } else {
                self.fpcr & FPCR_FZ != 0
            };
            if flush {
                if fmt != Fmt::H {
                    self.flags |= IDC;
                }
                return u;
            }
            u.t = FpType::Denormal;
            u.sig = frac.into();
            u.exp = fmt.min_exp() - f as i32;
        } else if exp == fmt.exp_max() && !(cv && self.alt_hp(fmt)) {
            u.t = if frac == 0 {
                FpType::Infinity
            } else if frac >> (f - 1) & 1 == 1 {
                FpType::QNaN
            } else {
                FpType::SNaN
            };
        } else {
            u.t = FpType::Nonzero;
            u.sig = (frac | 1 << f).into();
            u.exp = exp as i32 - fmt.bias() - f as i32;
        }
        u
    }

    /// FPRound(value, fpcr, rounding) of a nonzero `±sig * 2^exp` (FPCR.AHP taken as 0).
    pub fn round(&mut self, fmt: Fmt, sign: bool, sig: u128, exp: i32, rounding: Rounding) -> u64 {
        self.round_base(fmt, sign, sig, exp, rounding, false)
    }

    /// FPRoundBase. `cv` TRUE is FPRoundCV: FPCR.FZ16 taken as 0, FPCR.AHP observed.
    fn round_base(
        &mut self,
        fmt: Fmt,
        sign: bool,
        sig: u128,
        exp: i32,
        rounding: Rounding,
        cv: bool,
    ) -> u64 {
        debug_assert!(sig != 0);
        let f = fmt.f() as i32;
        let min_exp = fmt.min_exp();
        let msb = 127 - sig.leading_zeros() as i32;
        // The value is mantissa * 2^exponent with 1.0 <= mantissa < 2.0.
        let exponent = exp + msb;
        let flush = if fmt == Fmt::H {
            !cv && self.fpcr & FPCR_FZ16 != 0
        } else {
            self.fpcr & FPCR_FZ != 0
        };
        if flush && exponent < min_exp {
            // Flush-to-zero sets UFC and never IXC.
            self.flags |= UFC;
            return fmt.zero(sign);
        }
        let mut biased_exp = (exponent - min_exp + 1).max(0);
        // The value of the last place of int_mant; the shift from `sig`'s last place to it.
        let q = exponent.max(min_exp) - f;
        let shift = q - exp;
        let (mut int_mant, err) = if shift <= 0 {
            (sig << (-shift) as u32, Err::Zero)
        } else {
            shift_classify(sig, shift as u32)
        };
        // Tininess is detected before rounding.
        if biased_exp == 0 && err != Err::Zero {
            self.flags |= UFC;
        }
        let (round_up, overflow_to_inf) = match rounding {
            Rounding::TieEven => (
                err == Err::Above || (err == Err::Half && int_mant & 1 == 1),
                true,
            ),
            Rounding::PosInf => (err != Err::Zero && !sign, !sign),
            Rounding::NegInf => (err != Err::Zero && sign, sign),
            Rounding::Zero | Rounding::Odd => (false, false),
            Rounding::TieAway => (err == Err::Above || err == Err::Half, true),
        };
        if round_up {
            int_mant += 1;
            if int_mant == 1 << f {
                // Rounded up from denormalized to normalized.
                biased_exp = 1;
            }
            if int_mant == 1 << (f + 1) {
                // Rounded up to the next exponent.
                biased_exp += 1;
                int_mant >>= 1;
            }
        }
        if err != Err::Zero && rounding == Rounding::Odd {
            int_mant |= 1;
        }
        let mut inexact = err != Err::Zero;
        // The alternative half format has no infinity: exponent 31 holds normal numbers, and
        // a larger value saturates to the largest magnitude with Invalid Operation and without
        // Inexact.
        let alt_hp = cv && self.alt_hp(fmt);
        let result = if alt_hp && biased_exp as u64 > fmt.exp_max() {
            self.flags |= IOC;
            inexact = false;
            fmt.sign_ones(sign)
        } else if !alt_hp && biased_exp as u64 >= fmt.exp_max() {
            self.flags |= OFC;
            inexact = true;
            if overflow_to_inf {
                fmt.infinity(sign)
            } else {
                fmt.max_normal(sign)
            }
        } else {
            fmt.zero(sign) | (biased_exp as u64) << f | (int_mant as u64 & ((1 << f) - 1))
        };
        if inexact {
            self.flags |= IXC;
        }
        result
    }

    /// FPProcessNaN: quiets a signalling NaN (setting IOC); FPCR.DN gives the default NaN.
    pub fn process_nan(&mut self, fmt: Fmt, t: FpType, op: u64) -> u64 {
        let mut result = op & fmt.mask();
        if t == FpType::SNaN {
            result |= 1 << (fmt.f() - 1);
            self.flags |= IOC;
        }
        if self.dn() {
            fmt.default_nan()
        } else {
            result
        }
    }

    /// FPProcessNaNs: a signalling NaN first, then a quiet one, in operand order.
    fn process_nans(&mut self, fmt: Fmt, ops: &[(Unpacked, u64)]) -> Option<u64> {
        for want in [FpType::SNaN, FpType::QNaN] {
            if let Some(&(u, op)) = ops.iter().find(|(u, _)| u.t == want) {
                return Some(self.process_nan(fmt, u.t, op));
            }
        }
        None
    }

    fn invalid(&mut self, fmt: Fmt) -> u64 {
        self.flags |= IOC;
        fmt.default_nan()
    }

    /// The exact zero of a sum: -0 when rounding towards minus infinity, else +0.
    fn exact_zero(&self, fmt: Fmt) -> u64 {
        fmt.zero(self.rounding() == Rounding::NegInf)
    }

    /// FPAdd.
    pub fn add(&mut self, fmt: Fmt, op1: u64, op2: u64) -> u64 {
        let a = self.unpack(fmt, op1);
        let b = self.unpack(fmt, op2);
        if let Some(r) = self.process_nans(fmt, &[(a, op1), (b, op2)]) {
            return r;
        }
        if a.is_inf() && b.is_inf() && a.sign != b.sign {
            self.invalid(fmt)
        } else if (a.is_inf() && !a.sign) || (b.is_inf() && !b.sign) {
            fmt.infinity(false)
        } else if a.is_inf() || b.is_inf() {
            fmt.infinity(true)
        } else if a.is_zero() && b.is_zero() && a.sign == b.sign {
            fmt.zero(a.sign)
        } else {
            match add_values((a.sign, a.sig, a.exp), (b.sign, b.sig, b.exp)) {
                None => self.exact_zero(fmt),
                Some((s, m, e)) => self.round(fmt, s, m, e, self.rounding()),
            }
        }
    }

    /// FPSub: FPAdd with the second operand's sign inverted (also for NaN selection, which
    /// sees the original operands).
    pub fn sub(&mut self, fmt: Fmt, op1: u64, op2: u64) -> u64 {
        let a = self.unpack(fmt, op1);
        let b = self.unpack(fmt, op2);
        if let Some(r) = self.process_nans(fmt, &[(a, op1), (b, op2)]) {
            return r;
        }
        let nb = op2 ^ fmt.sign_bit();
        self.add(fmt, op1, nb)
    }

    /// FPMul, or FPMulX (`mulx`: infinity times zero is 2.0).
    pub fn mul(&mut self, fmt: Fmt, op1: u64, op2: u64, mulx: bool) -> u64 {
        let a = self.unpack(fmt, op1);
        let b = self.unpack(fmt, op2);
        if let Some(r) = self.process_nans(fmt, &[(a, op1), (b, op2)]) {
            return r;
        }
        let sign = a.sign != b.sign;
        if (a.is_inf() && b.is_zero()) || (a.is_zero() && b.is_inf()) {
            if mulx {
                fmt.constant(sign, 1, 0)
            } else {
                self.invalid(fmt)
            }
        } else if a.is_inf() || b.is_inf() {
            fmt.infinity(sign)
        } else if a.is_zero() || b.is_zero() {
            fmt.zero(sign)
        } else {
            self.round(fmt, sign, a.sig * b.sig, a.exp + b.exp, self.rounding())
        }
    }

    /// FPDiv.
    pub fn div(&mut self, fmt: Fmt, op1: u64, op2: u64) -> u64 {
        let a = self.unpack(fmt, op1);
        let b = self.unpack(fmt, op2);
        if let Some(r) = self.process_nans(fmt, &[(a, op1), (b, op2)]) {
            return r;
        }
        let sign = a.sign != b.sign;
        if (a.is_inf() && b.is_inf()) || (a.is_zero() && b.is_zero()) {
            self.invalid(fmt)
        } else if a.is_inf() || b.is_zero() {
            if !a.is_inf() {
                self.flags |= DZC;
            }
            fmt.infinity(sign)
        } else if a.is_zero() || b.is_inf() {
            fmt.zero(sign)
        } else {
            let (na, ea) = normalize(a.sig, a.exp);
            let q = na / b.sig;
            let q = q | u128::from(na % b.sig != 0);
            self.round(fmt, sign, q, ea - b.exp, self.rounding())
        }
    }

    /// FPMulAdd: `addend + op1 * op2` with a single rounding.
    pub fn mul_add(&mut self, fmt: Fmt, addend: u64, op1: u64, op2: u64) -> u64 {
        self.mul_add_mixed(fmt, fmt, addend, op1, op2)
    }

    /// FPMulAdd, or FPMulAddH when the multiplicands have the narrower format `mfmt` (half
    /// precision into single for FMLAL): their NaNs are processed in `mfmt`, then converted
    /// (FPProcessNaNs3H).
    pub fn mul_add_mixed(&mut self, fmt: Fmt, mfmt: Fmt, addend: u64, op1: u64, op2: u64) -> u64 {
        let c = self.unpack(fmt, addend);
        let a = self.unpack(mfmt, op1);
        let b = self.unpack(mfmt, op2);
        let inf_zero = (a.is_inf() && b.is_zero()) || (a.is_zero() && b.is_inf());
        let mut nan = None;
        for want in [FpType::SNaN, FpType::QNaN] {
            if c.t == want {
                nan = Some(self.process_nan(fmt, c.t, addend));
            } else if let Some(&(u, op)) = [(a, op1), (b, op2)].iter().find(|(u, _)| u.t == want) {
                let r = self.process_nan(mfmt, u.t, op);
                nan = Some(if mfmt == fmt {
                    r
                } else {
                    // FPConvertNaN of the quiet result.
                    Fpu::new(0).convert(mfmt, fmt, r, Rounding::TieEven)
                });
            }
            if nan.is_some() {
                break;
            }
        }
        if c.t == FpType::QNaN && inf_zero {
            return self.invalid(fmt);
        }
        if let Some(r) = nan {
            return r;
        }
        let sign_p = a.sign != b.sign;
        let inf_p = a.is_inf() || b.is_inf();
        let zero_p = a.is_zero() || b.is_zero();
        if inf_zero || (c.is_inf() && inf_p && c.sign != sign_p) {
            self.invalid(fmt)
        } else if (c.is_inf() && !c.sign) || (inf_p && !sign_p) {
            fmt.infinity(false)
        } else if (c.is_inf() && c.sign) || (inf_p && sign_p) {
            fmt.infinity(true)
        } else if c.is_zero() && zero_p && c.sign == sign_p {
            fmt.zero(c.sign)
        } else {
            let p = (sign_p, a.sig * b.sig, a.exp + b.exp);
            match add_values((c.sign, c.sig, c.exp), p) {
                None => self.exact_zero(fmt),
                Some((s, m, e)) => self.round(fmt, s, m, e, self.rounding()),
            }
        }
    }

    /// FPRecipStepFused (`k` = 2, FRECPS) and FPRSqrtStepFused (`k` = 3, FRSQRTS):
    /// `(k - op1 * op2) / (k - 1)` with a single rounding.
    pub fn step_fused(&mut self, fmt: Fmt, op1: u64, op2: u64, k: u32) -> u64 {
        let op1 = op1 ^ fmt.sign_bit();
        let a = self.unpack(fmt, op1);
        let b = self.unpack(fmt, op2);
        if let Some(r) = self.process_nans(fmt, &[(a, op1), (b, op2)]) {
            return r;
        }
        let sign = a.sign != b.sign;
        if (a.is_inf() && b.is_zero()) || (a.is_zero() && b.is_inf()) {
            // FPTwo('0') or FPOnePointFive('0').
            if k == 2 {
                fmt.constant(false, 1, 0)
            } else {
                fmt.constant(false, 0, 1)
            }
        } else if a.is_inf() || b.is_inf() {
            fmt.infinity(sign)
        } else {
            let p = (sign, a.sig * b.sig, a.exp + b.exp);
            match add_values((false, k.into(), 0), p) {
                None => self.exact_zero(fmt),
                Some((s, m, e)) => {
                    let e = if k == 3 { e - 1 } else { e };
                    self.round(fmt, s, m, e, self.rounding())
                }
            }
        }
    }

    /// FPSqrt.
    pub fn sqrt(&mut self, fmt: Fmt, op: u64) -> u64 {
        let a = self.unpack(fmt, op);
        if a.is_nan() {
            self.process_nan(fmt, a.t, op)
        } else if a.is_zero() {
            fmt.zero(a.sign)
        } else if a.is_inf() && !a.sign {
            fmt.infinity(false)
        } else if a.sign {
            self.invalid(fmt)
        } else {
            let (mut m, mut e) = normalize(a.sig, a.exp);
            if e & 1 != 0 {
                m <<= 1;
                e -= 1;
            }
            let root = m.isqrt();
            let root = root | u128::from(root * root != m);
            self.round(fmt, false, root, e / 2, self.rounding())
        }
    }

    /// The order of two non-NaN unpacked values of one format.
    fn compare_values(fmt: Fmt, a: (Unpacked, u64), b: (Unpacked, u64)) -> Ordering {
        let key = |(u, op): (Unpacked, u64)| -> i128 {
            let mag = if u.is_zero() {
                0
            } else {
                i128::from(op & (fmt.mask() >> 1))
            };
            if u.sign {
                -mag
            } else {
                mag
            }
        };
        key(a).cmp(&key(b))
    }

    /// FPMax (`max`) or FPMin.
    pub fn max_min(&mut self, fmt: Fmt, op1: u64, op2: u64, max: bool) -> u64 {
        let a = self.unpack(fmt, op1);
        let b = self.unpack(fmt, op2);
        if let Some(r) = self.process_nans(fmt, &[(a, op1), (b, op2)]) {
            return r;
        }
        let ord = Self::compare_values(fmt, (a, op1), (b, op2));
        let first = if max {
            ord == Ordering::Greater
        } else {
            ord == Ordering::Less
        };
        let (u, op) = if first { (a, op1) } else { (b, op2) };
        match u.t {
            FpType::Infinity => fmt.infinity(u.sign),
            // FPMax gives +0 unless both are -0; FPMin gives -0 if either is.
            FpType::Zero => fmt.zero(if max {
                a.sign && b.sign
            } else {
                a.sign || b.sign
            }),
            // FPRound of the value of an unflushed operand is exact: the operand itself.
            _ => op & fmt.mask(),
        }
    }

    /// FPMaxNum (`max`) or FPMinNum: a single quiet NaN loses against a number.
    pub fn max_min_num(&mut self, fmt: Fmt, op1: u64, op2: u64, max: bool) -> u64 {
        let a = self.unpack(fmt, op1);
        let b = self.unpack(fmt, op2);
        let (mut op1, mut op2) = (op1, op2);
        if a.t == FpType::QNaN && b.t != FpType::QNaN {
            op1 = fmt.infinity(max);
        } else if a.t != FpType::QNaN && b.t == FpType::QNaN {
            op2 = fmt.infinity(max);
        }
        self.max_min(fmt, op1, op2, max)
    }

    /// FPCompare: NZCV in bits 3..0 (`0011` unordered, `0110` equal, `1000` less, `0010`
    /// greater). `signal_nans` (FCMPE) makes quiet NaNs raise Invalid Operation too.
    pub fn compare(&mut self, fmt: Fmt, op1: u64, op2: u64, signal_nans: bool) -> u64 {
        let a = self.unpack(fmt, op1);
        let b = self.unpack(fmt, op2);
        if a.is_nan() || b.is_nan() {
            if a.t == FpType::SNaN || b.t == FpType::SNaN || signal_nans {
                self.flags |= IOC;
            }
            return 0b0011;
        }
        match Self::compare_values(fmt, (a, op1), (b, op2)) {
            Ordering::Equal => 0b0110,
            Ordering::Less => 0b1000,
            Ordering::Greater => 0b0010,
        }
    }

    /// FPCompareEQ (`Eq`), FPCompareGE (`Ge`) and FPCompareGT (`Gt`): all ones or zero.
    pub fn compare_cond(&mut self, fmt: Fmt, op1: u64, op2: u64, cond: CmpCond) -> u64 {
        let a = self.unpack(fmt, op1);
        let b = self.unpack(fmt, op2);
        if a.is_nan() || b.is_nan() {
            if a.t == FpType::SNaN || b.t == FpType::SNaN || cond != CmpCond::Eq {
                self.flags |= IOC;
            }
            return 0;
        }
        let ord = Self::compare_values(fmt, (a, op1), (b, op2));
        let holds = match cond {
            CmpCond::Eq => ord == Ordering::Equal,
            CmpCond::Ge => ord != Ordering::Less,
            CmpCond::Gt => ord == Ordering::Greater,
        };
        if holds {
            fmt.mask()
        } else {
            0
        }
    }

    /// FPRoundInt: rounds to an integral value in the same format; `exact` (FRINTX) raises
    /// Inexact when the value changes, the other FRINT<r> never do.
    pub fn round_int(&mut self, fmt: Fmt, op: u64, rounding: Rounding, exact: bool) -> u64 {
        let a = self.unpack(fmt, op);
        match a.t {
            FpType::SNaN | FpType::QNaN => return self.process_nan(fmt, a.t, op),
            FpType::Infinity => return fmt.infinity(a.sign),
            FpType::Zero => return fmt.zero(a.sign),
            // A value with no fraction bits is integral: FPRound gives it back unchanged.
            _ if a.exp >= 0 => return op & fmt.mask(),
            _ => {}
        }
        let (int_result, err, negative) = Self::floor(&a, 0);
        let round_up = Self::round_up(rounding, int_result, err, negative);
        let mag = Self::magnitude(int_result, round_up, negative);
        let result = if mag == 0 {
            fmt.zero(a.sign)
        } else {
            self.round(fmt, a.sign, mag, 0, Rounding::Zero)
        };
        if err != Err::Zero && exact {
            self.flags |= IXC;
        }
        result
    }

    /// `RoundDown(value * 2^fbits)` of a finite value as (|int_result|, error, int_result < 0
    /// or value < 0); the magnitude saturates far beyond 64 bits.
    fn floor(a: &Unpacked, fbits: u32) -> (u128, Err, bool) {
        let e = a.exp + fbits as i32;
        let (mag, frac) = if a.sig == 0 {
            (0, Err::Zero)
        } else if e >= 0 {
            let msb = 127 - a.sig.leading_zeros() as i32;
            if msb + e >= 100 {
                (1u128 << 100, Err::Zero)
            } else {
                (a.sig << e, Err::Zero)
            }
        } else {
            shift_classify(a.sig, (-e) as u32)
        };
        if a.sign && frac != Err::Zero {
            // The floor of a negative non-integer is -(|value| rounded up).
            (mag + 1, frac.complement(), true)
        } else {
            (mag, frac, a.sign)
        }
    }

    /// The `round_up` decision of FPRoundInt and FPToFixed for `int_result` = ±`mag`
    /// (negative when `negative` and `mag` != 0).
    fn round_up(rounding: Rounding, mag: u128, err: Err, negative: bool) -> bool {
        let int_negative = negative && mag != 0;
        match rounding {
            Rounding::TieEven | Rounding::Odd => {
                err == Err::Above || (err == Err::Half && mag & 1 == 1)
            }
            Rounding::PosInf => err != Err::Zero,
            Rounding::NegInf => false,
            Rounding::Zero => err != Err::Zero && int_negative,
            Rounding::TieAway => err == Err::Above || (err == Err::Half && !int_negative),
        }
    }

    /// |int_result + 1| or |int_result|.
    fn magnitude(mag: u128, round_up: bool, negative: bool) -> u128 {
        match (round_up, negative && mag != 0) {
            (false, _) => mag,
            (true, true) => mag - 1,
            (true, false) => mag + 1,
        }
    }

    /// FPToFixed: `op * 2^fbits` rounded to an `m`-bit (signed or `unsigned`) integer,
    /// saturating with Invalid Operation. The result is zero-extended from `m` bits.
    pub fn to_fixed(
        &mut self,
        fmt: Fmt,
        op: u64,
        fbits: u32,
        unsigned: bool,
        rounding: Rounding,
        m: u32,
    ) -> u64 {
        let mut a = self.unpack(fmt, op);
        match a.t {
            FpType::SNaN | FpType::QNaN => {
                // A NaN converts as 0.0 and raises Invalid Operation.
                self.flags |= IOC;
                a.sig = 0;
            }
            FpType::Infinity => {
                a.sig = 1;
                a.exp = 1000;
            }
            _ => {}
        }
        let (mag, err, negative) = Self::floor(&a, fbits);
        let round_up = Self::round_up(rounding, mag, err, negative);
        let mag = Self::magnitude(mag, round_up, negative);
        let negative = negative && mag != 0;
        // SatQ(int_result, m, unsigned).
        let (result, overflow): (u128, bool) = if unsigned {
            let max = (1u128 << m) - 1;
            if negative {
                (0, true)
            } else if mag > max {
                (max, true)
            } else {
                (mag, false)
            }
        } else {
            let max = (1u128 << (m - 1)) - 1;
            if negative {
                if mag > max + 1 {
                    ((max + 1).wrapping_neg(), true)
                } else {
                    (mag.wrapping_neg(), false)
                }
            } else if mag > max {
                (max, true)
            } else {
                (mag, false)
            }
        };
        if overflow {
            self.flags |= IOC;
        } else if err != Err::Zero {
            self.flags |= IXC;
        }
        result as u64 & (u64::MAX >> (64 - m))
    }

    /// FixedToFP: the `m`-bit integer `op` (signed or `unsigned`) divided by 2^fbits, rounded.
    pub fn from_fixed(
        &mut self,
        fmt: Fmt,
        op: u64,
        fbits: u32,
        unsigned: bool,
        rounding: Rounding,
        m: u32,
    ) -> u64 {
        let op = op & (u64::MAX >> (64 - m));
        let negative = !unsigned && op >> (m - 1) & 1 == 1;
        let mag = if negative {
            (op | !(u64::MAX >> (64 - m))).wrapping_neg()
        } else {
            op
        };
        if mag == 0 {
            return fmt.zero(false);
        }
        self.round(fmt, negative, mag.into(), -(fbits as i32), rounding)
    }

    /// FPConvert from `from` to `to` (FCVT and the vector conversions): FPUnpackCV, NaNs
    /// converted keeping the top of their payload (FPConvertNaN) or the default NaN, then
    /// FPRoundCV. An alternative half result (FPCR.AHP) has no NaN or infinity: a NaN gives
    /// zero and an infinity the largest magnitude, both with Invalid Operation.
    pub fn convert(&mut self, from: Fmt, to: Fmt, op: u64, rounding: Rounding) -> u64 {
        let a = self.unpack_cv(from, op);
        let alt_hp = self.alt_hp(to);
        match a.t {
            FpType::SNaN | FpType::QNaN => {
                if a.t == FpType::SNaN || alt_hp {
                    self.flags |= IOC;
                }
                if alt_hp {
                    return to.zero(a.sign);
                }
                if self.dn() {
                    return to.default_nan();
                }
                // FPConvertNaN: sign, the quiet bit set, the payload's top bits kept.
                let payload = op & ((1 << (from.f() - 1)) - 1);
                let (ff, tf) = (from.f() - 1, to.f() - 1);
                let payload = if tf >= ff {
                    payload << (tf - ff)
                } else {
                    payload >> (ff - tf)
                };
                to.infinity(a.sign) | 1 << tf | payload
            }
            FpType::Infinity if alt_hp => {
                self.flags |= IOC;
                to.sign_ones(a.sign)
            }
            FpType::Infinity => to.infinity(a.sign),
            FpType::Zero => to.zero(a.sign),
            _ => self.round_base(to, a.sign, a.sig, a.exp, rounding, true),
        }
    }
}

impl Fpu {
    /// FPRoundIntN (FRINT32X/Z, FRINT64X/Z): FPRoundInt into the range of an `intsize`-bit
    /// integer; NaNs, infinities and out-of-range values give -2^(intsize-1) with Invalid
    /// Operation. Inexact is always signalled.
    pub fn round_int_n(&mut self, fmt: Fmt, op: u64, rounding: Rounding, intsize: u32) -> u64 {
        let a = self.unpack(fmt, op);
        // '1' : exp : Zeros(F), the value -2^(intsize-1).
        let int_min = fmt.constant(true, intsize as i32 - 1, 0);
        match a.t {
            FpType::SNaN | FpType::QNaN | FpType::Infinity => {
                self.flags |= IOC;
                return int_min;
            }
            FpType::Zero => return fmt.zero(a.sign),
            _ => {}
        }
        let (mag, err, negative) = Self::floor(&a, 0);
        let round_up = Self::round_up(rounding, mag, err, negative);
        let mag = Self::magnitude(mag, round_up, negative);
        let negative = negative && mag != 0;
        let limit = 1u128 << (intsize - 1);
        if (negative && mag > limit) || (!negative && mag >= limit) {
            self.flags |= IOC;
            return int_min;
        }
        let result = if mag == 0 {
            fmt.zero(a.sign)
        } else {
            self.round(fmt, a.sign, mag, 0, Rounding::Zero)
        };
        if err != Err::Zero {
            self.flags |= IXC;
        }
        result
    }

    /// FPToFixedJS (FJCVTZS): the double `op` truncated, modulo 2^32; bit 32 of the result is
    /// Z, set when the conversion was exact and in range.
    pub fn to_fixed_js(&mut self, op: u64) -> u64 {
        let mut a = self.unpack(Fmt::D, op);
        let mut z = true;
        match a.t {
            FpType::SNaN | FpType::QNaN => {
                self.flags |= IOC;
                z = false;
                a.sig = 0;
            }
            FpType::Infinity => {
                a.sig = 1;
                a.exp = 1000;
            }
            _ => {}
        }
        let (mag, err, negative) = Self::floor(&a, 0);
        let round_up = err != Err::Zero && negative && mag != 0;
        let mag = Self::magnitude(mag, round_up, negative);
        let negative = negative && mag != 0;
        // The low 32 bits of the exact integer: a magnitude that `floor` saturated is a
        // multiple of 2^47, so its low bits are zero as the saturated value's are.
        let low = mag as u64 & 0xffff_ffff;
        let mut result = if negative {
            low.wrapping_neg() & 0xffff_ffff
        } else {
            low
        };
        let limit = 1u128 << 31;
        if (negative && mag > limit) || (!negative && mag >= limit) {
            self.flags |= IOC;
            z = false;
        } else if err != Err::Zero {
            self.flags |= IXC;
            z = false;
        } else if a.sig == 0 && (a.sign || op & ((1 << 52) - 1) != 0) {
            z = false;
        }
        if a.t == FpType::Infinity {
            result = 0;
        }
        result | u64::from(z) << 32
    }

    /// FPRecipEstimate (FRECPE): an 8-bit estimate of 1/op.
    pub fn recip_estimate(&mut self, fmt: Fmt, op: u64) -> u64 {
        let a = self.unpack(fmt, op);
        let f = fmt.f();
        match a.t {
            FpType::SNaN | FpType::QNaN => return self.process_nan(fmt, a.t, op),
            FpType::Infinity => return fmt.zero(a.sign),
            FpType::Zero => {
                self.flags |= DZC;
                return fmt.infinity(a.sign);
            }
            _ => {}
        }
        // |value| < 2^-(bias + 1) (2^-16, 2^-128, 2^-1024): the estimate overflows.
        let tiny_exp = -(fmt.bias() + 1);
        let msb = 127 - a.sig.leading_zeros() as i32;
        if a.exp + msb < tiny_exp {
            let overflow_to_inf = match self.rounding() {
                Rounding::PosInf => !a.sign,
                Rounding::NegInf => a.sign,
                Rounding::Zero => false,
                _ => true,
            };
            self.flags |= OFC | IXC;
            return if overflow_to_inf {
                fmt.infinity(a.sign)
            } else {
                fmt.max_normal(a.sign)
            };
        }
        let flush = if fmt == Fmt::H {
            self.fpcr & FPCR_FZ16 != 0
        } else {
            self.fpcr & FPCR_FZ != 0
        };
        // |value| >= 2^(bias - 1) (2^14, 2^126, 2^1022): the estimate would be denormal.
        if flush && a.exp + msb >= fmt.bias() - 1 {
            self.flags |= UFC;
            return fmt.zero(a.sign);
        }
        // The fraction as 52 bits and the biased exponent, as the pseudocode has them.
        let mut fraction = (op & ((1 << f) - 1)) << (52 - f);
        let mut exp = ((op >> f) & fmt.exp_max()) as i64;
        if exp == 0 {
            if fraction >> 51 & 1 == 0 {
                exp = -1;
                fraction = (fraction << 2) & ((1 << 52) - 1);
            } else {
                fraction = (fraction << 1) & ((1 << 52) - 1);
            }
        }
        let scaled = 256 | (fraction >> 44);
        // 29, 253 or 2045 minus exp.
        let mut result_exp = 2 * i64::from(fmt.bias()) - 1 - exp;
        // RecipEstimate: rounded to nearest twice.
        let b = (1u64 << 19) / (scaled * 2 + 1);
        // `(b + 1) DIV 2`: rounded to nearest.
        let estimate = b.div_ceil(2);
        let mut fraction = (estimate & 0xff) << 44;
        if result_exp == 0 {
            fraction = 1 << 51 | fraction >> 1;
        } else if result_exp == -1 {
            fraction = 1 << 50 | fraction >> 2;
            result_exp = 0;
        }
        fmt.zero(a.sign) | (result_exp as u64) << f | fraction >> (52 - f)
    }

    /// FPRSqrtEstimate (FRSQRTE): an 8-bit estimate of 1/sqrt(op).
    pub fn rsqrt_estimate(&mut self, fmt: Fmt, op: u64) -> u64 {
        let a = self.unpack(fmt, op);
        let f = fmt.f();
        match a.t {
            FpType::SNaN | FpType::QNaN => return self.process_nan(fmt, a.t, op),
            FpType::Zero => {
                self.flags |= DZC;
                return fmt.infinity(a.sign);
            }
            _ if a.sign => return self.invalid(fmt),
            FpType::Infinity => return fmt.zero(false),
            _ => {}
        }
        let mut fraction = (op & ((1 << f) - 1)) << (52 - f);
        let mut exp = ((op >> f) & fmt.exp_max()) as i64;
        if exp == 0 {
            while fraction >> 51 & 1 == 0 {
                fraction = (fraction << 1) & ((1 << 52) - 1);
                exp -= 1;
            }
            fraction = (fraction << 1) & ((1 << 52) - 1);
        }
        let scaled = if exp & 1 == 0 {
            0x100 | fraction >> 44
        } else {
            0x80 | fraction >> 45
        };
        // (44, 380 or 3068 minus exp) DIV 2.
        let result_exp = (3 * i64::from(fmt.bias()) - 1 - exp) / 2;
        // RecipSqrtEstimate: `a` in units of 1/512 (0.25 .. 0.5) or 1/256 (0.5 .. 1.0),
        // rounded to nearest.
        let a = if scaled < 256 {
            scaled * 2 + 1
        } else {
            (((scaled >> 1) << 1) + 1) * 2
        };
        let mut b = 512u64;
        while a * (b + 1) * (b + 1) < 1 << 28 {
            b += 1;
        }
        // `(b + 1) DIV 2`: rounded to nearest.
        let estimate = b.div_ceil(2);
        (result_exp as u64) << f | (estimate & 0xff) << (f - 8)
    }

    /// FPRecpX (FRECPX): the exponent inverted, the fraction cleared.
    pub fn recp_x(&mut self, fmt: Fmt, op: u64) -> u64 {
        let a = self.unpack(fmt, op);
        if a.is_nan() {
            return self.process_nan(fmt, a.t, op);
        }
        let f = fmt.f();
        let exp = (op >> f) & fmt.exp_max();
        let new_exp = if exp == 0 {
            fmt.exp_max() - 1
        } else {
            !exp & fmt.exp_max()
        };
        fmt.zero(a.sign) | new_exp << f
    }
}

/// BFUnpack: a BFloat16 widened to single (or a single) with every denormal flushed to zero
/// and every NaN quiet, without flags.
fn bf_unpack(op: u32) -> Unpacked {
    let sign = op >> 31 == 1;
    let exp = (op >> 23) & 0xff;
    let frac = op & 0x7f_ffff;
    let (t, sig, e) = match exp {
        0 => (FpType::Zero, 0, 0),
        0xff if frac == 0 => (FpType::Infinity, 0, 0),
        0xff => (FpType::QNaN, 0, 0),
        _ => (
            FpType::Nonzero,
            u128::from(frac | 1 << 23),
            exp as i32 - 150,
        ),
    };
    Unpacked {
        t,
        sign,
        sig,
        exp: e,
    }
}

/// BFRound: a nonzero `±sig * 2^exp` to single precision, rounding to odd; values below
/// the smallest normal flush to zero and overflows give infinity, without flags.
fn bf_round(sign: bool, sig: u128, exp: i32) -> u32 {
    let s = u32::from(sign) << 31;
    let msb = 127 - sig.leading_zeros() as i32;
    let exponent = exp + msb;
    if exponent < -126 {
        return s;
    }
    let shift = msb - 23;
    let (mut int_mant, err) = if shift <= 0 {
        (sig << (-shift) as u32, Err::Zero)
    } else {
        shift_classify(sig, shift as u32)
    };
    if err != Err::Zero {
        int_mant |= 1;
    }
    let biased_exp = exponent + 127;
    if biased_exp >= 0xff {
        s | 0x7f80_0000
    } else {
        s | (biased_exp as u32) << 23 | (int_mant as u32 & 0x7f_ffff)
    }
}

/// BFMulH: the product of two BFloat16 values as a single (BFloat16 computation behaviours).
fn bf_mul(op1: u32, op2: u32) -> u32 {
    let a = bf_unpack(op1 << 16);
    let b = bf_unpack(op2 << 16);
    let sign = a.sign != b.sign;
    let inf_zero = (a.is_inf() && b.is_zero()) || (a.is_zero() && b.is_inf());
    if a.t == FpType::QNaN || b.t == FpType::QNaN || inf_zero {
        Fmt::S.default_nan() as u32
    } else if a.is_inf() || b.is_inf() {
        Fmt::S.infinity(sign) as u32
    } else if a.is_zero() || b.is_zero() {
        Fmt::S.zero(sign) as u32
    } else {
        bf_round(sign, a.sig * b.sig, a.exp + b.exp)
    }
}

/// FPAdd_BF16: the sum of two singles with BFloat16 computation behaviours.
fn bf_add(op1: u32, op2: u32) -> u32 {
    let a = bf_unpack(op1);
    let b = bf_unpack(op2);
    let opposite_infs = a.is_inf() && b.is_inf() && a.sign != b.sign;
    if a.t == FpType::QNaN || b.t == FpType::QNaN || opposite_infs {
        Fmt::S.default_nan() as u32
    } else if (a.is_inf() && !a.sign) || (b.is_inf() && !b.sign) {
        Fmt::S.infinity(false) as u32
    } else if a.is_inf() || b.is_inf() {
        Fmt::S.infinity(true) as u32
    } else if a.is_zero() && b.is_zero() && a.sign == b.sign {
        Fmt::S.zero(a.sign) as u32
    } else {
        match add_values((a.sign, a.sig, a.exp), (b.sign, b.sig, b.exp)) {
            // An exact zero is positive when rounding to odd.
            None => 0,
            Some((s, m, e)) => bf_round(s, m, e),
        }
    }
}

/// BFDotAdd without FEAT_EBF16: `addend + (op1_a * op2_a + op1_b * op2_b)`; `op1` and `op2`
/// hold the pairs as `b:a`. FPCR is not used and no flags are raised.
pub fn bf_dot_add(addend: u32, op1: u32, op2: u32) -> u32 {
    let prod = bf_add(
        bf_mul(op1 & 0xffff, op2 & 0xffff),
        bf_mul(op1 >> 16, op2 >> 16),
    );
    bf_add(addend, prod)
}

/// The condition of FPCompareEQ, FPCompareGE and FPCompareGT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpCond {
    Eq,
    Ge,
    Gt,
}
