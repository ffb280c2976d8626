//! The semantics interface: how an instruction's meaning is written, once, for every backend.
//!
//! A semantics function is generic over [`Sem`]: it reads registers, combines values with the
//! operations of one op table ([`BinOp`], [`UnOp`]), touches memory and redirects control, all
//! through the trait. The interpreter ([`crate::interp::Interp`]) implements `Sem` over `u64`
//! values and executes at once; a JIT implements it over IR values and emits code. Adding an op
//! to the table does not compile until every backend handles it (Dynarmic's `opcodes.inc` idea).
//!
//! Extensions register their functions in a [`SemTable`] per backend, keyed by encoding id;
//! core never depends on them.

pub mod ops;
pub mod record;

use crate::isa::EncodingId;
use crate::mem::Fault;

/// Why an instruction did not complete as straight-line code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// A guest memory access failed (SIGSEGV in user mode).
    Fault(Fault),
    /// `SVC #imm`: the run loop performs the system call, then continues after the instruction.
    Syscall(u16),
    /// `BRK #imm` (SIGTRAP).
    Breakpoint(u16),
    /// The instruction is UNDEFINED here (SIGILL).
    Undefined,
    /// The encoding has no semantics yet (SIGILL, logged with the encoding id).
    NotImplemented(EncodingId),
    /// The interrupt flag was set (a host signal arrived, see `Interp::interrupt`). No
    /// instruction stopped: the PC names the next instruction to run, so running again resumes
    /// exactly.
    Interrupt,
}

impl From<Fault> for Stop {
    fn from(f: Fault) -> Self {
        Stop::Fault(f)
    }
}

/// Two-operand operations on 64-bit values. Comparisons give 1 or 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    And,
    Or,
    Xor,
    /// Shifts and rotates take the amount modulo 64.
    Shl,
    Lsr,
    Asr,
    Ror,
    Mul,
    /// The high 64 bits of the 128-bit unsigned / signed product.
    UMulH,
    SMulH,
    /// Division by zero gives 0, as Arm's UDIV/SDIV do; `i64::MIN / -1` gives `i64::MIN`.
    UDiv,
    SDiv,
    Eq,
    Ne,
    Ult,
    Ule,
    Slt,
    Sle,
}

/// One-operand operations on 64-bit values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnOp {
    Not,
    Neg,
    /// Count leading zeros of the 64-bit value.
    Clz,
    /// Reverse the bits of the 64-bit value.
    Rbit,
    /// Reverse the bytes of the 64-bit value.
    Rev,
    /// Sign-extend from 8, 16 or 32 bits.
    Sext8,
    Sext16,
    Sext32,
    /// Keep the low 8, 16 or 32 bits.
    Zext8,
    Zext16,
    Zext32,
}

/// System registers EL0 code reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SysReg {
    TpidrEl0,
    Fpcr,
    Fpsr,
    /// A read-only ID register that Linux lets EL0 read (MIDR_EL1, MPIDR_EL1, REVIDR_EL1,
    /// ID_AA64*_EL1), by its `op0:op1:CRn:CRm:op2` encoding.
    IdReg(u16),
    /// CNTVCT_EL0 (and CNTVCTSS_EL0): the virtual count of the generic timer, read-only.
    CntvctEl0,
    /// CNTFRQ_EL0: the generic timer's frequency, read-only at EL0.
    CntfrqEl0,
}

/// A Rust function that semantics call for an operation too complex for the op table
/// (soft-float arithmetic, AES rounds, CRC). It sees the CPU state, so it can read FPCR and
/// accumulate FPSR flags, and gets up to four 64-bit arguments. A JIT calls it through a
/// trampoline with a pointer to the CPU state, so a helper must not touch guest memory.
pub type Helper = fn(&mut crate::cpu::Cpu, &[u64]) -> u64;

/// An operation applied to each pair of elements of vector halves ([`Sem::lanes`]), as the
/// AdvSIMD instructions that use it define it (`CMEQ`, `UMAXP`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum LaneOp {
    Add,
    Sub,
    /// `element1 == element2`, as all ones or zero.
    Cmeq,
    /// `(element1 AND element2) != 0`.
    Cmtst,
    /// Unsigned `element1 >= element2`.
    Cmhs,
    /// Unsigned `element1 > element2`.
    Cmhi,
    /// Signed `element1 >= element2`.
    Cmge,
    /// Signed `element1 > element2`.
    Cmgt,
    Umax,
    Umin,
}

impl LaneOp {
    pub const ALL: [LaneOp; 10] = [
        LaneOp::Add,
        LaneOp::Sub,
        LaneOp::Cmeq,
        LaneOp::Cmtst,
        LaneOp::Cmhs,
        LaneOp::Cmhi,
        LaneOp::Cmge,
        LaneOp::Cmgt,
        LaneOp::Umax,
        LaneOp::Umin,
    ];

    /// The operation and element size packed into one helper argument.
    pub fn code(self, esize: u32) -> u64 {
        u64::from(self as u8) | u64::from(esize) << 8
    }

    /// The operation and element size of a [`LaneOp::code`].
    pub fn from_code(code: u64) -> (LaneOp, u32) {
        (Self::ALL[(code & 0xff) as usize], (code >> 8) as u32)
    }
}

/// The operations semantics are written with. `V` is a 64-bit value of the backend.
pub trait Sem {
    type V: Copy;

    fn imm(&mut self, v: u64) -> Self::V;
    /// X[n]; n = 31 reads zero (XZR).
    fn x(&mut self, n: u32) -> Self::V;
    /// X[n] = v; n = 31 discards the value.
    fn set_x(&mut self, n: u32, v: Self::V);
    /// Half `half` (0: bits 63..0, 1: bits 127..64) of the SIMD&FP register V[n].
    fn v(&mut self, n: u32, half: u32) -> Self::V;
    /// Writes half `half` of V[n]. Arm's `V[n] = value` of a narrower value also zeroes the
    /// upper half: semantics write `imm(0)` to half 1 for that.
    fn set_v(&mut self, n: u32, half: u32, v: Self::V);
    fn sp(&mut self) -> Self::V;
    fn set_sp(&mut self, v: Self::V);
    /// The address of the current instruction.
    fn pc(&mut self) -> Self::V;
    /// PSTATE.NZCV in bits 31..28.
    fn nzcv(&mut self) -> Self::V;
    fn set_nzcv(&mut self, v: Self::V);
    /// `AddWithCarry(x, y, carry_in)` ([`ops::add_with_carry`]). The flag primitives below are
    /// defined over the op table ([`ops::add_with_carry_ops`] and friends); a backend may
    /// give them an equal faster definition (host arithmetic in the interpreter, flags kept
    /// in a cheaper form in the JIT), tested against that one.
    fn add_with_carry(
        &mut self,
        x: Self::V,
        y: Self::V,
        carry_in: Self::V,
        bits: u32,
    ) -> (Self::V, Self::V) {
        ops::add_with_carry_ops(self, x, y, carry_in, bits)
    }
    /// NZCV of a logical result ([`ops::logical_flags`]).
    fn logical_flags(&mut self, result: Self::V, bits: u32) -> Self::V {
        ops::logical_flags_ops(self, result, bits)
    }
    /// `ConditionHolds(cond)` on PSTATE.NZCV ([`ops::condition_holds`]).
    fn condition_holds(&mut self, cond: u32) -> Self::V {
        ops::condition_holds_ops(self, cond)
    }
    fn sysreg(&mut self, r: SysReg) -> Self::V;
    fn set_sysreg(&mut self, r: SysReg, v: Self::V);

    fn bin(&mut self, op: BinOp, a: Self::V, b: Self::V) -> Self::V;
    fn un(&mut self, op: UnOp, a: Self::V) -> Self::V;
    /// `c != 0 ? a : b`.
    fn select(&mut self, c: Self::V, a: Self::V, b: Self::V) -> Self::V;
    /// Calls `f` with the CPU state and `args` (at most four).
    fn call(&mut self, f: Helper, args: &[Self::V]) -> Self::V;
    /// [`Sem::call`] of a helper that neither reads nor writes the CPU state (it ignores its
    /// `Cpu` argument), such as an element-wise vector operation or an AES round: a JIT keeps
    /// the guest registers in host registers around it.
    fn call_pure(&mut self, f: Helper, args: &[Self::V]) -> Self::V {
        self.call(f, args)
    }
    /// `op` on each pair of `esize`-bit elements of the 64-bit halves `a` and `b`, or, when
    /// `pairwise`, on the neighbouring elements of the 128 bits `b:a` (element `e` of the
    /// result is `op(concat[2e], concat[2e+1])`, ADDP, UMAXP). `helper` computes it from
    /// `[a, b, op.code(esize)]` as a pure helper, which is what a backend does unless it has
    /// an equal definition of its own (the JIT's host vector instructions).
    #[allow(clippy::too_many_arguments)]
    fn lanes(
        &mut self,
        helper: Helper,
        op: LaneOp,
        esize: u32,
        pairwise: bool,
        a: Self::V,
        b: Self::V,
    ) -> Self::V {
        let _ = pairwise;
        let code = self.imm(op.code(esize));
        self.call_pure(helper, &[a, b, code])
    }

    /// Continues at `target` after this instruction.
    fn branch(&mut self, target: Self::V);
    /// Continues at `target` when `c != 0`, else after this instruction.
    fn branch_if(&mut self, c: Self::V, target: Self::V);

    /// Reads `size` (1, 2, 4, 8) bytes, zero-extended; top-byte-ignore applies.
    fn load(&mut self, addr: Self::V, size: u8) -> Result<Self::V, Stop>;
    /// Writes the low `size` bytes of `v`.
    fn store(&mut self, addr: Self::V, size: u8, v: Self::V) -> Result<(), Stop>;

    /// Stops with an alignment fault when `addr` is not a multiple of `size`
    /// (`AArch64.CheckAlignment` of an ordered access: LDAR, STLR, LDAPR, LDAPUR, STLUR and
    /// friends, without FEAT_LSE2). The exclusive and atomic operations below check their own
    /// alignment.
    fn check_aligned(&mut self, addr: Self::V, size: u8, write: bool) -> Result<(), Stop>;

    /// A load that also marks `[addr, addr + size)` in the local exclusive monitor
    /// (`AArch64.SetExclusiveMonitors`); a misaligned address is an alignment fault.
    fn load_exclusive(&mut self, addr: Self::V, size: u8) -> Result<Self::V, Stop>;
    /// Writes the low `size` bytes of `v` only when the monitor holds `addr` and `size`
    /// (`AArch64.ExclusiveMonitorsPass`), then clears the monitor. Gives the status: 0 when
    /// the store happened, 1 when it did not.
    fn store_exclusive(&mut self, addr: Self::V, size: u8, v: Self::V) -> Result<Self::V, Stop>;
    /// Clears the local exclusive monitor (`ClearExclusiveLocal`, CLREX).
    fn clear_exclusive(&mut self);
    /// LDXP/LDAXP of two doublewords: reads 16 bytes (single-copy atomic when aligned) as
    /// `(low, high)` and marks them in the monitor.
    fn load_exclusive_pair(&mut self, addr: Self::V) -> Result<(Self::V, Self::V), Stop>;
    /// STXP/STLXP of two doublewords: writes `high:low` when the monitor holds the 16 bytes
    /// at `addr`, as one access; the status as [`Sem::store_exclusive`] gives it.
    fn store_exclusive_pair(
        &mut self,
        addr: Self::V,
        low: Self::V,
        high: Self::V,
    ) -> Result<Self::V, Stop>;

    /// `MemAtomic(address, op, value)`: replaces the `size`-byte value at `addr` with
    /// `op(old, v)` as one single-copy atomic read-modify-write and gives `old`
    /// (zero-extended). The LSE atomics (LDADD, SWP, ...) and their ST aliases.
    fn atomic(
        &mut self,
        op: AtomicOp,
        addr: Self::V,
        size: u8,
        v: Self::V,
    ) -> Result<Self::V, Stop>;
    /// `MemAtomic` with `MemAtomicOp_CAS`: writes `new` when the `size`-byte value at `addr`
    /// equals `expected` (both taken at that width), atomically; gives the old value.
    fn compare_swap(
        &mut self,
        addr: Self::V,
        size: u8,
        expected: Self::V,
        new: Self::V,
    ) -> Result<Self::V, Stop>;
    /// CASP of two doublewords: the 16 bytes at `addr` compared with `expected` and replaced
    /// by `new` (each `(low, high)`) in one atomic step; gives the old `(low, high)`.
    fn compare_swap_pair(
        &mut self,
        addr: Self::V,
        expected: (Self::V, Self::V),
        new: (Self::V, Self::V),
    ) -> Result<(Self::V, Self::V), Stop>;
    /// A full memory barrier: every access of this PE before it is observed by other threads
    /// before every access after it (DMB, DSB, and the store-load order a release such as
    /// STLR owes a later acquire such as LDAR).
    fn barrier(&mut self);
}

/// The operations of `MemAtomic` (Arm's `MemAtomicOp`), applied at the access's width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AtomicOp {
    /// LDADD: `old + v`.
    Add,
    /// LDCLR: `old AND NOT v`.
    Bic,
    /// LDEOR: `old EOR v`.
    Eor,
    /// LDSET: `old OR v`.
    Orr,
    /// LDSMAX, LDSMIN: signed at the access's width.
    Smax,
    Smin,
    /// LDUMAX, LDUMIN.
    Umax,
    Umin,
    /// SWP: `v`.
    Swp,
}

impl AtomicOp {
    /// Every operation, the LD<op> ones in the order of their `opc` field, then SWP.
    pub const ALL: [AtomicOp; 9] = [
        AtomicOp::Add,
        AtomicOp::Bic,
        AtomicOp::Eor,
        AtomicOp::Orr,
        AtomicOp::Smax,
        AtomicOp::Smin,
        AtomicOp::Umax,
        AtomicOp::Umin,
        AtomicOp::Swp,
    ];

    /// `op(old, v)` at `size` bytes; the result's bits above the width are garbage.
    pub fn apply(self, old: u64, v: u64, size: u8) -> u64 {
        let bits = 8 * u32::from(size);
        let sext = |x: u64| ((x << (64 - bits)) as i64) >> (64 - bits);
        let zext = |x: u64| if bits == 64 { x } else { x & ((1 << bits) - 1) };
        match self {
            AtomicOp::Add => old.wrapping_add(v),
            AtomicOp::Bic => old & !v,
            AtomicOp::Eor => old ^ v,
            AtomicOp::Orr => old | v,
            AtomicOp::Smax => {
                if sext(old) >= sext(v) {
                    old
                } else {
                    v
                }
            }
            AtomicOp::Smin => {
                if sext(old) <= sext(v) {
                    old
                } else {
                    v
                }
            }
            AtomicOp::Umax => zext(old).max(zext(v)),
            AtomicOp::Umin => zext(old).min(zext(v)),
            AtomicOp::Swp => v,
        }
    }
}

/// The semantics function of one encoding for backend `S`: it gets the instruction word.
pub type SemFn<S> = fn(&mut S, u32) -> Result<(), Stop>;

/// `index`'s bits, lowest first, placed at the set bits of `mask`, lowest first (PDEP).
pub const fn deposit(index: u32, mask: u32) -> u32 {
    let (mut out, mut mask, mut bit) = (0, mask, 0);
    while mask != 0 {
        let low = mask & mask.wrapping_neg();
        if index >> bit & 1 == 1 {
            out |= low;
        }
        mask &= !low;
        bit += 1;
    }
    out
}

/// The bits of `word` at the set bits of `mask`, packed from bit 0 (PEXT).
pub const fn extract(word: u32, mask: u32) -> u32 {
    let (mut out, mut mask, mut bit) = (0, mask, 0);
    while mask != 0 {
        let low = mask & mask.wrapping_neg();
        if word & low != 0 {
            out |= 1 << bit;
        }
        mask &= !low;
        bit += 1;
    }
    out
}

/// The [`Pick`] of semantics function `$f` (generic over the backend) specialised on the
/// `$bits` (2 to 6) instruction bits set in `$mask`: one instance per value of those bits,
/// each of which calls `$f` with them constant, so that the compiler folds the decisions
/// they make (datasize, which operation, flags or not, addressing mode). `$f` should be
/// `#[inline(always)]` for that. The semantics stay written once; this only changes how
/// often a backend pays for their decode-time branches.
#[macro_export]
macro_rules! specialised {
    ($f:path, $mask:expr, $bits:tt) => {{
        fn pick<B: $crate::sem::Sem>(word: u32) -> $crate::sem::SemFn<B> {
            const MASK: u32 = $mask;
            const _: () = assert!(MASK.count_ones() == $bits);
            fn one<B: $crate::sem::Sem, const I: u32>(
                s: &mut B,
                word: u32,
            ) -> Result<(), $crate::sem::Stop> {
                $f(s, (word & !MASK) | $crate::sem::deposit(I, MASK))
            }
            let table: &[$crate::sem::SemFn<B>] = &$crate::specialised!(@table one, $bits);
            table[$crate::sem::extract(word, MASK) as usize]
        }
        pick
    }};
    (@table $one:ident, 2) => { [$one::<B, 0>, $one::<B, 1>, $one::<B, 2>, $one::<B, 3>] };
    (@table $one:ident, 3) => {
        [$one::<B, 0>, $one::<B, 1>, $one::<B, 2>, $one::<B, 3>,
         $one::<B, 4>, $one::<B, 5>, $one::<B, 6>, $one::<B, 7>]
    };
    (@table $one:ident, 4) => {
        [$one::<B, 0>, $one::<B, 1>, $one::<B, 2>, $one::<B, 3>,
         $one::<B, 4>, $one::<B, 5>, $one::<B, 6>, $one::<B, 7>,
         $one::<B, 8>, $one::<B, 9>, $one::<B, 10>, $one::<B, 11>,
         $one::<B, 12>, $one::<B, 13>, $one::<B, 14>, $one::<B, 15>]
    };
    (@table $one:ident, 5) => {
        [$one::<B, 0>, $one::<B, 1>, $one::<B, 2>, $one::<B, 3>,
         $one::<B, 4>, $one::<B, 5>, $one::<B, 6>, $one::<B, 7>,
         $one::<B, 8>, $one::<B, 9>, $one::<B, 10>, $one::<B, 11>,
         $one::<B, 12>, $one::<B, 13>, $one::<B, 14>, $one::<B, 15>,
         $one::<B, 16>, $one::<B, 17>, $one::<B, 18>, $one::<B, 19>,
         $one::<B, 20>, $one::<B, 21>, $one::<B, 22>, $one::<B, 23>,
         $one::<B, 24>, $one::<B, 25>, $one::<B, 26>, $one::<B, 27>,
         $one::<B, 28>, $one::<B, 29>, $one::<B, 30>, $one::<B, 31>]
    };
    (@table $one:ident, 6) => {
        [$one::<B, 0>, $one::<B, 1>, $one::<B, 2>, $one::<B, 3>,
         $one::<B, 4>, $one::<B, 5>, $one::<B, 6>, $one::<B, 7>,
         $one::<B, 8>, $one::<B, 9>, $one::<B, 10>, $one::<B, 11>,
         $one::<B, 12>, $one::<B, 13>, $one::<B, 14>, $one::<B, 15>,
         $one::<B, 16>, $one::<B, 17>, $one::<B, 18>, $one::<B, 19>,
         $one::<B, 20>, $one::<B, 21>, $one::<B, 22>, $one::<B, 23>,
         $one::<B, 24>, $one::<B, 25>, $one::<B, 26>, $one::<B, 27>,
         $one::<B, 28>, $one::<B, 29>, $one::<B, 30>, $one::<B, 31>,
         $one::<B, 32>, $one::<B, 33>, $one::<B, 34>, $one::<B, 35>,
         $one::<B, 36>, $one::<B, 37>, $one::<B, 38>, $one::<B, 39>,
         $one::<B, 40>, $one::<B, 41>, $one::<B, 42>, $one::<B, 43>,
         $one::<B, 44>, $one::<B, 45>, $one::<B, 46>, $one::<B, 47>,
         $one::<B, 48>, $one::<B, 49>, $one::<B, 50>, $one::<B, 51>,
         $one::<B, 52>, $one::<B, 53>, $one::<B, 54>, $one::<B, 55>,
         $one::<B, 56>, $one::<B, 57>, $one::<B, 58>, $one::<B, 59>,
         $one::<B, 60>, $one::<B, 61>, $one::<B, 62>, $one::<B, 63>]
    };
}

/// Semantics functions by encoding id, as the extensions register them.
pub struct SemTable<S> {
    fns: Vec<Option<SemFn<S>>>,
    /// For an encoding registered with [`SemTable::set_specialised`], the function that
    /// picks its instance for a given word.
    picks: Vec<Option<Pick<S>>>,
}

/// Picks the instance of a specialised semantics function for an instruction word
/// ([`specialised!`](crate::specialised)).
pub type Pick<S> = fn(u32) -> SemFn<S>;

impl<S> Clone for SemTable<S> {
    fn clone(&self) -> Self {
        SemTable {
            fns: self.fns.clone(),
            picks: self.picks.clone(),
        }
    }
}

impl<S> Default for SemTable<S> {
    fn default() -> Self {
        SemTable {
            fns: vec![None; crate::isa::ENCODINGS.len()],
            picks: vec![None; crate::isa::ENCODINGS.len()],
        }
    }
}

impl<S> SemTable<S> {
    /// Registers `f` as the semantics of `id`, replacing an earlier one.
    pub fn set(&mut self, id: EncodingId, f: SemFn<S>) {
        self.fns[id as usize] = Some(f);
        self.picks[id as usize] = None;
    }

    /// Registers `f` as the semantics of `id`, with `pick` giving the instance of `f` made for
    /// a word ([`specialised!`](crate::specialised)), which a backend that runs a decoded
    /// word many times (the interpreter) calls instead of `f`.
    pub fn set_specialised(&mut self, id: EncodingId, f: SemFn<S>, pick: Pick<S>) {
        self.fns[id as usize] = Some(f);
        self.picks[id as usize] = Some(pick);
    }

    /// Whether `id` was registered with specialised instances.
    pub fn is_specialised(&self, id: EncodingId) -> bool {
        self.picks[id as usize].is_some()
    }

    /// The semantics of `id`, for any word.
    pub fn get(&self, id: EncodingId) -> Option<SemFn<S>> {
        self.fns[id as usize]
    }

    /// The semantics of `id` for `word`: its specialised instance when it has them.
    pub fn get_for(&self, id: EncodingId, word: u32) -> Option<SemFn<S>> {
        match self.picks[id as usize] {
            Some(pick) => Some(pick(word)),
            None => self.fns[id as usize],
        }
    }

    /// The encodings that have semantics.
    pub fn implemented(&self) -> impl Iterator<Item = EncodingId> + '_ {
        crate::isa::EncodingId::ALL
            .iter()
            .copied()
            .filter(|&id| self.fns[id as usize].is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::AtomicOp;

    #[test]
    fn deposit_and_extract_are_inverse_on_the_mask() {
        for (mask, index, word) in [
            (0xE0C0_0000, 0b10110, 0xABC0_0000),
            (0x0000_000F, 0b1001, 0x5400_0009),
            (0xC0C0_0C00, 0b111111, 0xF8C0_0C00),
            (0x8100_0000, 0b10, 0x3500_0000),
        ] {
            let d = super::deposit(index, mask);
            assert_eq!(d & !mask, 0, "{mask:#x}");
            assert_eq!(super::extract(d, mask), index, "{mask:#x}");
            assert_eq!(
                super::deposit(super::extract(word, mask), mask),
                word & mask
            );
        }
        assert_eq!(super::deposit(0b101, 0b1_0100_0010), 0b1_0000_0010);
        assert_eq!(super::extract(0b1_0000_0010, 0b1_0100_0010), 0b101);
    }

    #[test]
    fn atomic_ops_work_at_the_access_width() {
        // (op, old, value, size, result at that width)
        let cases = [
            (AtomicOp::Add, 0xff, 1, 1, 0x00),
            (AtomicOp::Bic, 0b1111, 0b0101, 1, 0b1010),
            (AtomicOp::Eor, 0xf0, 0xff, 1, 0x0f),
            (AtomicOp::Orr, 0xf0, 0x0f, 1, 0xff),
            (AtomicOp::Smax, 0x80, 0x7f, 1, 0x7f),
            (AtomicOp::Smin, 0x80, 0x7f, 1, 0x80),
            (AtomicOp::Umax, 0x80, 0x7f, 1, 0x80),
            (AtomicOp::Umin, 0x80, 0x7f, 1, 0x7f),
            (AtomicOp::Smax, 0xffff_ffff, 0, 4, 0),
            (
                AtomicOp::Smin,
                0x8000_0000_0000_0000,
                1,
                8,
                0x8000_0000_0000_0000,
            ),
            (AtomicOp::Umax, u64::MAX, 1, 8, u64::MAX),
            (AtomicOp::Swp, 5, 9, 8, 9),
        ];
        for (op, old, v, size, want) in cases {
            let mask = if size == 8 {
                u64::MAX
            } else {
                (1 << (8 * size)) - 1
            };
            assert_eq!(
                op.apply(old, v, size) & mask,
                want,
                "{op:?} {old:#x} {v:#x} at {size}"
            );
        }
    }
}
