//! The pre-decoded interpreter: blocks of guest code translated once into micro-operations
//! (uops) over a frame of 64-bit slots, then interpreted. It is what `armature run --engine
//! interp` runs; [`Interp`] itself, which calls each instruction's semantics function on every
//! execution, stays the reference (`--engine ref`, `--trace`, single steps).
//!
//! The uops come from the same semantics as every other engine: an instruction's semantics are
//! recorded once ([`Recorder`]) and each recorded operation is selected into a uop whose body
//! is the interpreter's own definition of that operation (`eval_bin`, `Sem::load`, ...). What
//! the selection decides once, the reference interpreter decides on every execution: the
//! fields of the word, whether a register operand is XZR or SP, constant operands folded,
//! which flags are computed at all (a non-flag-setting `AddWithCarry` is an add), a register
//! write given straight to the operation that computes it, a base-plus-offset address folded
//! into its load or store, a `ConditionHolds` folded into its branch. An instruction with an
//! operation this selection does not take (exclusives, atomics, compare-and-swap, barriers)
//! runs its interpreter semantics function as one uop, so every instruction the interpreter
//! runs runs here too.
//!
//! The frame holds X0-X30, a zero for XZR, SP, NZCV (packed, or lazy: the operands of the last
//! CMP or SUBS) and one instruction's temporaries; it is
//! copied from the CPU state when the engine starts and back when it returns or a uop runs
//! semantics that see the CPU state. A fault stops at the faulting instruction with the state
//! the reference leaves: uops run in the order of the recorded operations and a register is
//! written where the semantics write it.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::interp::{
    aligned, eval_add_with_carry, eval_bin, eval_logical_flags, eval_un, is_hint, Accelerated,
    Accelerator, Interp,
};
use crate::isa::{decode, Decoded, FeatureSet};
use crate::mem::tbi;
use crate::sem::ops::condition_holds_on;
use crate::sem::record::{Op, Recorder, Val};
use crate::sem::{BinOp, Helper, Sem, SemFn, SemTable, Stop, SysReg, UnOp};

/// A frame slot.
type Slot = u8;
/// X0-X30 are slots 0-30; slot 31 always holds 0 (XZR).
const ZERO: Slot = 31;
const SP: Slot = 32;
/// NZCV: bits 31..28 (packed), or [`LAZY`] (with bit 0 set for 64 bits) when it is the flags
/// of the subtraction `FA - FB` (CMP, SUBS), computed only when something reads them.
const NZCV: Slot = 33;
const FA: Slot = 34;
const FB: Slot = 35;
/// The first of an instruction's temporaries.
const FIRST_TEMP: Slot = 36;
/// Whether slot `s` is one of an instruction's temporaries.
fn temp(s: Slot) -> bool {
    (FIRST_TEMP..SCRATCH).contains(&s)
}

/// The mark of lazy flags in the NZCV slot (packed flags never have this bit).
const LAZY: u64 = 1 << 63;
/// Where a result nothing reads goes.
const SCRATCH: Slot = 255;
const FRAME: usize = 256;

/// The most instructions in one block.
pub const BLOCK_MAX: usize = 128;
/// How many blocks run between two checks of the interrupt and kick flags and the code
/// generation.
const CHECK_EVERY: u32 = 32;
/// Entries of the direct-mapped table in front of the block map.
const LOOKUP: usize = 4096;
/// The most unconditional direct branches a block's translation goes on through.
const FOLLOW_MAX: usize = 8;

macro_rules! uops {
    (
        bin { $($rr:ident $ri:ident $rr32:ident $ri32:ident = $bop:ident),* $(,)? }
        un { $($u:ident = $uop:ident),* $(,)? }
        sized { $($size:literal: $ld:ident $st:ident $ldi:ident $sti:ident $ldw:ident $stw:ident),* $(,)? }
    ) => {
        /// One micro-operation. Slots name frame entries; `insn` is the index of the
        /// instruction in its block, for the PC of a stop.
        #[derive(Clone, Copy, Debug)]
        enum Uop {
            $(
                $rr { d: Slot, a: Slot, b: Slot },
                $ri { d: Slot, a: Slot, imm: u64 },
                /// The operation with its result's low 32 bits (a W register's write).
                $rr32 { d: Slot, a: Slot, b: Slot },
                $ri32 { d: Slot, a: Slot, imm: u64 },
            )*
            $($u { d: Slot, a: Slot },)*
            $(
                /// `Load`, `Store`, `LoadIdx` and `StoreIdx` of one size, so that the access
                /// is not dispatched on its size again ([`specialize`] makes them).
                $ld { d: Slot, a: Slot, insn: u16, off: u64 },
                $st { v: Slot, a: Slot, insn: u16, off: u64 },
                $ldi { d: Slot, a: Slot, b: Slot, ext: u8, shift: u8, insn: u16 },
                $sti { v: Slot, a: Slot, b: Slot, ext: u8, shift: u8, insn: u16 },
                $ldw { d: Slot, a: Slot, insn: u16, pre: bool, imm: u64 },
                $stw { v: Slot, a: Slot, insn: u16, pre: bool, imm: u64 },
            )*
            Mov { d: Slot, a: Slot },
            MovI { d: Slot, imm: u64 },
            Select { d: Slot, c: Slot, a: Slot, b: Slot },
            /// `AddWithCarry(a, b, c)`: the result to `d`, NZCV to `f`.
            Awc { d: Slot, f: Slot, a: Slot, b: Slot, c: Slot, bits64: bool },
            /// `AddWithCarry(a, imm, carry)`.
            AwcI { d: Slot, f: Slot, a: Slot, carry: bool, bits64: bool, imm: u64 },
            LogicalFlags { d: Slot, a: Slot, bits64: bool },
            Cond { d: Slot, cond: u8 },
            GetV { d: Slot, n: u8, half: u8 },
            SetV { n: u8, half: u8, a: Slot },
            Sys { d: Slot, r: SysReg },
            SetSys { r: SysReg, a: Slot },
            CallPure { d: Slot, n: u8, args: [Slot; 4], f: Helper },
            /// A helper that sees the CPU state: the frame's registers are written back
            /// around it, as the JIT stores them around such a call.
            Call { d: Slot, n: u8, args: [Slot; 4], f: Helper },
            /// A load of `size` bytes at `a + off`.
            Load { d: Slot, a: Slot, size: u8, insn: u16, off: u64 },
            Store { v: Slot, a: Slot, size: u8, insn: u16, off: u64 },
            /// A load at `a + imm` (`pre`) or `a`, then `a += imm`.
            LoadWb { d: Slot, a: Slot, size: u8, insn: u16, pre: bool, imm: u64 },
            StoreWb { v: Slot, a: Slot, size: u8, insn: u16, pre: bool, imm: u64 },
            /// `AddWithCarry(a, NOT(b), 1)`: the result to `d`, NZCV to `f`.
            Subs { d: Slot, f: Slot, a: Slot, b: Slot, bits64: bool },
            Aligned { a: Slot, size: u8, write: bool, insn: u16 },
            /// A load at `a + (Extend(b) << shift)`, `ext` an [`Ext`] (the register-offset
            /// forms).
            LoadIdx { d: Slot, a: Slot, b: Slot, size: u8, ext: u8, shift: u8, insn: u16 },
            StoreIdx { v: Slot, a: Slot, b: Slot, size: u8, ext: u8, shift: u8, insn: u16 },
            /// `(a << l) >> r`, arithmetic (SBFM's sign-extensions and SBFX).
            ShlAsr { d: Slot, a: Slot, l: u8, r: u8 },
            /// `(a << l) >> r`, logical (UBFM's UBFX).
            ShlLsr { d: Slot, a: Slot, l: u8, r: u8 },
            /// LDP: `size` bytes at `a + off` to `d1` and the next to `d2`, then `a += wb`
            /// when `writeback`.
            LoadPair { d1: Slot, d2: Slot, a: Slot, size: u8, writeback: bool, insn: u16, off: i32, wb: i32 },
            /// STP: `v1` and `v2` to `a + off` and the `size` bytes after, then `a += wb` when
            /// `writeback`.
            StorePair { v1: Slot, v2: Slot, a: Slot, size: u8, writeback: bool, insn: u16, off: i32, wb: i32 },
            /// `a + (b << s)` and `a - (b << s)` (ADD and SUB with a shifted register).
            AddLsl { d: Slot, a: Slot, b: Slot, s: u8 },
            SubLsl { d: Slot, a: Slot, b: Slot, s: u8 },
            /// `ROR(a<31:0>, s)`, zero-extended (a 32-bit ROR and EXTR of one register).
            Ror32 { d: Slot, a: Slot, s: u8 },
            /// `a EOR ROR(b<31:0>, s)`, zero-extended (a 32-bit EOR with a rotated register).
            XorRor32 { d: Slot, a: Slot, b: Slot, s: u8 },
            /// `a AND NOT(b)` (BIC); `Bic32` zero-extends it.
            Bic { d: Slot, a: Slot, b: Slot },
            Bic32 { d: Slot, a: Slot, b: Slot },
            /// `a + ((b << l) >> r)`, logical and arithmetic: ADD with an extended register
            /// (`ExtendReg`'s UXTB/UXTH/UXTW and SXTB/SXTH/SXTW, then the shift).
            AddUxt { d: Slot, a: Slot, b: Slot, l: u8, r: u8 },
            AddSxt { d: Slot, a: Slot, b: Slot, l: u8, r: u8 },
            /// CSEL: `a` when `ConditionHolds(cond)`, else `b`; `CSel32` zero-extends it.
            CSel { d: Slot, a: Slot, b: Slot, cond: u8 },
            CSel32 { d: Slot, a: Slot, b: Slot, cond: u8 },
            /// CBZ and CBNZ of a W register.
            Cbz32 { a: Slot, target: u64 },
            Cbnz32 { a: Slot, target: u64 },
            /// `AddWithCarry(a, NOT(b), 1)` (SUBS, CMP) with its flags left lazy: the result to
            /// `d`, and NZCV to be computed from `a` and `b` when read.
            SubsL { d: Slot, a: Slot, b: Slot, bits64: bool },
            /// The same with `b` an immediate.
            SubsLI { d: Slot, a: Slot, bits64: bool, b: u64 },
            /// Side exits: a conditional branch inside a block (instruction `insn`), which
            /// leaves the block for `target` when taken and else goes on with the block.
            ExitCond { cond: u8, insn: u16, target: u64 },
            ExitIf { c: Slot, insn: u16, target: u64 },
            ExitCbz { a: Slot, insn: u16, target: u64 },
            ExitCbnz { a: Slot, insn: u16, target: u64 },
            ExitCbz32 { a: Slot, insn: u16, target: u64 },
            ExitCbnz32 { a: Slot, insn: u16, target: u64 },
            /// `CmpBranch` as a side exit to `block pc + off`.
            CmpExit { a: Slot, b: Slot, mode: u8, insn: u16, off: i32 },
            /// CMP with an immediate (`a - b`, flags lazy) and a side exit on `mode & 15`; bit
            /// 5 of `mode` is set for 64 bits.
            CmpExitI { a: Slot, mode: u8, insn: u16, off: i32, b: u32 },
            /// `CmpExitI` and a second side exit on the same flags (instruction `insn + 1`,
            /// condition `mode2`, to `block pc + off2`): a compare tree's `cmp; b.eq; b.gt`.
            CmpExitI2 { a: Slot, mode: u8, mode2: u8, insn: u16, b: u16, off: i32, off2: i32 },
            /// Two register-offset loads of 4 (8) bytes, instructions `insn` and `insn + 1`, one
            /// after the other: `d1` from `a1 + (Extend(b1) << s1)`, then `d2` likewise; `e1`
            /// and `e2` are the [`Ext`]s.
            LoadIdxPair4 { d1: Slot, a1: Slot, b1: Slot, e1: u8, s1: u8, d2: Slot, a2: Slot, b2: Slot, e2: u8, s2: u8, insn: u16 },
            LoadIdxPair8 { d1: Slot, a1: Slot, b1: Slot, e1: u8, s1: u8, d2: Slot, a2: Slot, b2: Slot, e2: u8, s2: u8, insn: u16 },
            /// NZCV computed into its slot when it is lazy, for an operation that reads it.
            Flags,
            /// A branch when `a` is zero (CBZ), or not zero (CBNZ).
            Cbz { a: Slot, target: u64 },
            Cbnz { a: Slot, target: u64 },
            /// `c + a * b` (MADD), and `c - a * b` (MSUB).
            MAdd { d: Slot, a: Slot, b: Slot, c: Slot },
            MSub { d: Slot, a: Slot, b: Slot, c: Slot },
            MAdd32 { d: Slot, a: Slot, b: Slot, c: Slot },
            MSub32 { d: Slot, a: Slot, b: Slot, c: Slot },
            /// `c + SignExtend(a<31:0>) * SignExtend(b<31:0>)` (SMADDL).
            SMAddL { d: Slot, a: Slot, b: Slot, c: Slot },
            /// `c + ZeroExtend(a<31:0>) * ZeroExtend(b<31:0>)` (UMADDL).
            UMAddL { d: Slot, a: Slot, b: Slot, c: Slot },
            Branch { target: u64 },
            BranchR { a: Slot },
            BranchIf { c: Slot, target: u64 },
            /// A branch when `ConditionHolds(cond)`.
            BranchCond { cond: u8, target: u64 },
            /// `Subs` into NZCV alone (CMP), then `BranchCond` to `b.pc + off`; `mode` is the
            /// condition, and bit 5 set for 64 bits.
            CmpBranch { a: Slot, b: Slot, mode: u8, off: i32 },
            /// `AwcI` into NZCV alone (CMP, CMN with an immediate), then `BranchCond`; `mode`
            /// is the condition, bit 4 the carry and bit 5 set for 64 bits.
            CmpBranchI { a: Slot, mode: u8, off: i32, imm: u64 },
            /// The instruction's interpreter semantics, on the CPU state.
            Interp { f: SemFn<Interp>, word: u32, insn: u16 },
            /// The end of a block's uops (the last of each block, so that the dispatch loop
            /// needs no bounds test).
            End,
            /// The end of a block that an instruction ended early (a write that changed code),
            /// after the rest of its uops: `done` instructions ran and the run returns `next`.
            EndEarly { done: u32, next: u64 },
        }

        fn bin_rr(op: BinOp, d: Slot, a: Slot, b: Slot) -> Uop {
            match op {
                $(BinOp::$bop => Uop::$rr { d, a, b },)*
            }
        }

        fn bin_ri(op: BinOp, d: Slot, a: Slot, imm: u64) -> Uop {
            match op {
                $(BinOp::$bop => Uop::$ri { d, a, imm },)*
            }
        }

        /// `u` (a two-operand uop) with its result zero-extended from 32 bits, into `d`.
        fn narrowed(u: Uop, d: Slot) -> Option<Uop> {
            match u {
                $(
                    Uop::$rr { a, b, .. } => Some(Uop::$rr32 { d, a, b }),
                    Uop::$ri { a, imm, .. } => Some(Uop::$ri32 { d, a, imm }),
                )*
                // Already 32 bits wide.
                $(
                    Uop::$rr32 { a, b, .. } => Some(Uop::$rr32 { d, a, b }),
                    Uop::$ri32 { a, imm, .. } => Some(Uop::$ri32 { d, a, imm }),
                )*
                Uop::Zext32 { a, .. } => Some(Uop::Zext32 { d, a }),
                // 0 or 1.
                Uop::Cond { cond, .. } => Some(Uop::Cond { d, cond }),
                Uop::CSel { a, b, cond, .. } | Uop::CSel32 { a, b, cond, .. } => {
                    Some(Uop::CSel32 { d, a, b, cond })
                }
                Uop::Load { a, size, insn, off, .. } if size <= 4 => {
                    Some(Uop::Load { d, a, size, insn, off })
                }
                _ => None,
            }
        }

        fn un_r(op: UnOp, d: Slot, a: Slot) -> Uop {
            match op {
                $(UnOp::$uop => Uop::$u { d, a },)*
            }
        }

        impl Uop {
            /// Whether it reads slot `s`: `true` for the uops that see the whole CPU state.
            fn reads(&self, s: Slot) -> bool {
                let x = |slots: &[Slot]| slots.contains(&s);
                match *self {
                    $(
                        Uop::$rr { a, b, .. } | Uop::$rr32 { a, b, .. } => x(&[a, b]),
                        Uop::$ri { a, .. } | Uop::$ri32 { a, .. } => x(&[a]),
                    )*
                    $(Uop::$u { a, .. } => x(&[a]),)*
                    $(
                        Uop::$ld { a, .. } => x(&[a]),
                        Uop::$st { v, a, .. } => x(&[v, a]),
                        Uop::$ldi { a, b, .. } => x(&[a, b]),
                        Uop::$sti { v, a, b, .. } => x(&[v, a, b]),
                        Uop::$ldw { a, .. } => x(&[a]),
                        Uop::$stw { v, a, .. } => x(&[v, a]),
                    )*
                    Uop::Mov { a, .. }
                    | Uop::AwcI { a, .. }
                    | Uop::LogicalFlags { a, .. }
                    | Uop::SetV { a, .. }
                    | Uop::SetSys { a, .. }
                    | Uop::Load { a, .. }
                    | Uop::LoadWb { a, .. }
                    | Uop::Aligned { a, .. }
                    | Uop::LoadPair { a, .. }
                    | Uop::ShlAsr { a, .. }
                    | Uop::ShlLsr { a, .. }
                    | Uop::Ror32 { a, .. }
                    | Uop::BranchR { a }
                    | Uop::CmpBranchI { a, .. }
                    | Uop::Cbz { a, .. }
                    | Uop::Cbnz { a, .. }
                    | Uop::Cbz32 { a, .. }
                    | Uop::Cbnz32 { a, .. } => x(&[a]),
                    Uop::MovI { .. } | Uop::GetV { .. } | Uop::Sys { .. } | Uop::Branch { .. } => false,
                    Uop::SubsL { a, b, .. } => x(&[a, b]),
                    Uop::SubsLI { a, .. } => x(&[a]),
                    Uop::Flags => x(&[NZCV, FA, FB]),
                    Uop::ExitCond { .. } => x(&[NZCV, FA, FB]),
                    Uop::ExitIf { c: a, .. }
                    | Uop::ExitCbz { a, .. }
                    | Uop::ExitCbnz { a, .. }
                    | Uop::ExitCbz32 { a, .. }
                    | Uop::ExitCbnz32 { a, .. }
                    | Uop::CmpExitI { a, .. }
                    | Uop::CmpExitI2 { a, .. } => x(&[a]),
                    Uop::LoadIdxPair4 { a1, b1, a2, b2, .. }
                    | Uop::LoadIdxPair8 { a1, b1, a2, b2, .. } => x(&[a1, b1, a2, b2]),
                    Uop::CmpExit { a, b, .. } => x(&[a, b]),
                    Uop::Select { c, a, b, .. } => x(&[c, a, b]),
                    Uop::Awc { a, b, c, .. } => x(&[a, b, c]),
                    Uop::Subs { a, b, .. }
                    | Uop::LoadIdx { a, b, .. }
                    | Uop::AddLsl { a, b, .. }
                    | Uop::SubLsl { a, b, .. }
                    | Uop::XorRor32 { a, b, .. }
                    | Uop::Bic { a, b, .. }
                    | Uop::Bic32 { a, b, .. }
                    | Uop::AddUxt { a, b, .. }
                    | Uop::AddSxt { a, b, .. }
                    | Uop::CmpBranch { a, b, .. } => x(&[a, b]),
                    Uop::CSel { a, b, .. } | Uop::CSel32 { a, b, .. } => x(&[a, b, NZCV, FA, FB]),
                    Uop::Cond { .. } | Uop::BranchCond { .. } => x(&[NZCV, FA, FB]),
                    Uop::BranchIf { c, .. } => x(&[c]),
                    Uop::CallPure { n, args, .. } => x(&args[..usize::from(n)]),
                    Uop::Store { v, a, .. } | Uop::StoreWb { v, a, .. } => x(&[v, a]),
                    Uop::StoreIdx { v, a, b, .. } => x(&[v, a, b]),
                    Uop::StorePair { v1, v2, a, .. } => x(&[v1, v2, a]),
                    Uop::MAdd { a, b, c, .. }
                    | Uop::MSub { a, b, c, .. }
                    | Uop::MAdd32 { a, b, c, .. }
                    | Uop::MSub32 { a, b, c, .. }
                    | Uop::SMAddL { a, b, c, .. }
                    | Uop::UMAddL { a, b, c, .. } => x(&[a, b, c]),
                    Uop::Call { .. } | Uop::Interp { .. } => true,
                    Uop::End | Uop::EndEarly { .. } => false,
                }
            }

            /// The slot a two-operand 32-bit form writes.
            fn narrow_result(&self) -> Option<Slot> {
                match *self {
                    $(Uop::$rr32 { d, .. } | Uop::$ri32 { d, .. } => Some(d),)*
                    _ => None,
                }
            }

            /// The slots it writes.
            fn dests(&mut self) -> [Option<&mut Slot>; 3] {
                match self {
                    $(
                        Uop::$rr { d, .. }
                        | Uop::$ri { d, .. }
                        | Uop::$rr32 { d, .. }
                        | Uop::$ri32 { d, .. } => [Some(d), None, None],
                    )*
                    $(Uop::$u { d, .. } => [Some(d), None, None],)*
                    Uop::Mov { d, .. }
                    | Uop::MovI { d, .. }
                    | Uop::Select { d, .. }
                    | Uop::LogicalFlags { d, .. }
                    | Uop::Cond { d, .. }
                    | Uop::GetV { d, .. }
                    | Uop::Sys { d, .. }
                    | Uop::CallPure { d, .. }
                    | Uop::Call { d, .. }
                    | Uop::Load { d, .. }
                    | Uop::LoadIdx { d, .. }
                    | Uop::ShlAsr { d, .. }
                    | Uop::ShlLsr { d, .. }
                    | Uop::MAdd { d, .. }
                    | Uop::MSub { d, .. }
                    | Uop::MAdd32 { d, .. }
                    | Uop::MSub32 { d, .. }
                    | Uop::SMAddL { d, .. }
                    | Uop::UMAddL { d, .. } => [Some(d), None, None],
                    $(Uop::$ld { d, .. } | Uop::$ldi { d, .. } => [Some(d), None, None],)*
                    $(Uop::$st { .. } | Uop::$sti { .. } => [None, None, None],)*
                    $(Uop::$ldw { d, a, .. } => [Some(d), Some(a), None],)*
                    $(Uop::$stw { a, .. } => [Some(a), None, None],)*
                    Uop::Awc { d, f, .. } | Uop::AwcI { d, f, .. } | Uop::Subs { d, f, .. } => {
                        [Some(d), Some(f), None]
                    }
                    Uop::LoadWb { d, a, .. } => [Some(d), Some(a), None],
                    Uop::LoadIdxPair4 { d1, d2, .. } | Uop::LoadIdxPair8 { d1, d2, .. } => {
                        [Some(d1), Some(d2), None]
                    }
                    Uop::StoreWb { a, .. } => [Some(a), None, None],
                    Uop::LoadPair { d1, d2, a, .. } => [Some(d1), Some(d2), Some(a)],
                    Uop::StorePair { a, .. } => [Some(a), None, None],
                    Uop::AddLsl { d, .. }
                    | Uop::SubLsl { d, .. }
                    | Uop::Ror32 { d, .. }
                    | Uop::XorRor32 { d, .. }
                    | Uop::Bic { d, .. }
                    | Uop::Bic32 { d, .. }
                    | Uop::AddUxt { d, .. }
                    | Uop::AddSxt { d, .. }
                    | Uop::CSel { d, .. }
                    | Uop::CSel32 { d, .. }
                    | Uop::SubsL { d, .. }
                    | Uop::SubsLI { d, .. } => [Some(d), None, None],
                    Uop::Flags => [None, None, None],
                    Uop::SetV { .. }
                    | Uop::SetSys { .. }
                    | Uop::Store { .. }
                    | Uop::StoreIdx { .. }
                    | Uop::Aligned { .. }
                    | Uop::Branch { .. }
                    | Uop::BranchR { .. }
                    | Uop::BranchIf { .. }
                    | Uop::BranchCond { .. }
                    | Uop::CmpBranch { .. }
                    | Uop::CmpBranchI { .. }
                    | Uop::Cbz { .. }
                    | Uop::Cbnz { .. }
                    | Uop::Cbz32 { .. }
                    | Uop::Cbnz32 { .. }
                    | Uop::ExitCond { .. }
                    | Uop::ExitIf { .. }
                    | Uop::ExitCbz { .. }
                    | Uop::ExitCbnz { .. }
                    | Uop::ExitCbz32 { .. }
                    | Uop::ExitCbnz32 { .. }
                    | Uop::CmpExit { .. }
                    | Uop::CmpExitI { .. }
                    | Uop::CmpExitI2 { .. }
                    | Uop::Interp { .. }
                    | Uop::End
                    | Uop::EndEarly { .. } => [None, None, None],
                }
            }
        }

        /// The block's loads and stores of 1, 2, 4 and 8 bytes as the uops of their size.
        fn specialize(uops: &mut [Uop]) {
            for u in uops {
                *u = match *u {
                    $(
                        Uop::Load { d, a, size: $size, insn, off } => Uop::$ld { d, a, insn, off },
                        Uop::Store { v, a, size: $size, insn, off } => Uop::$st { v, a, insn, off },
                        Uop::LoadIdx { d, a, b, size: $size, ext, shift, insn } => {
                            Uop::$ldi { d, a, b, ext, shift, insn }
                        }
                        Uop::StoreIdx { v, a, b, size: $size, ext, shift, insn } => {
                            Uop::$sti { v, a, b, ext, shift, insn }
                        }
                        Uop::LoadWb { d, a, size: $size, insn, pre, imm } => Uop::$ldw { d, a, insn, pre, imm },
                        Uop::StoreWb { v, a, size: $size, insn, pre, imm } => Uop::$stw { v, a, insn, pre, imm },
                    )*
                    u => u,
                };
            }
        }

        /// Runs block `first` on the frame `f`, and on into the blocks after it that `lookup`
        /// holds while `chain` and nothing asks to stop (a block that branches to its own
        /// start runs again at once), counting the instructions in `m`: the next PC, or the
        /// PC and block index of the instruction that stopped and its stop (not counted yet).
        // `tail` is the caller's, so that nothing here has a destructor (its landing pad had
        // the frame pointer on the stack in most arms).
        #[allow(clippy::too_many_arguments)]
        #[inline(never)]
        fn run_block(
            f: &mut [u64; FRAME],
            m: &mut Interp,
            blocks: &[Block],
            lookup: &[Link],
            first: u32,
            generation: u64,
            chain: bool,
            tail: &mut Vec<Uop>,
        ) -> Result<u64, (u64, u32, Stop)> {
            let mut b = &blocks[first as usize];
            // The first uop of `b`, which the link to it holds: entering a block does not wait
            // on a load of the block.
            let mut start = b.uops.as_ptr();
            // Instructions run, added to `m.instructions` when this returns.
            let mut count = 0u64;
            let interrupt = m.interrupt;
            // Without `chain`, 0: `again!` never runs a block again.
            let mut checks = if chain { CHECK_EVERY } else { 0 };
            // Whether `tail` holds the rest of an instruction that ended its block early, then
            // `Uop::EndEarly` (a `Vec` of the caller's, so that this function drops nothing).
            let mut early = false;
            'blocks: loop {
            let mut next = b.next;
            // The next uop: `b.uops` (or `tail`) ends in `Uop::End` (`Uop::EndEarly`), whose
            // arm leaves the loop below, so `p` never passes the end.
            let mut p = start;
            // A stop at instruction `insn` of the block.
            macro_rules! stop {
                ($insn:expr, $stop:expr) => {{
                    m.instructions += count;
                    return Err((b.insn_pc($insn), u32::from($insn), $stop));
                }};
            }
            // A compare and branch back to the block's start (offset `off`) after `n`
            // instructions: a loop of one block runs again at once, without the block's end,
            // while no flag check is due. (It is never in a `tail`: the instruction a write to
            // code ends the block after does not branch.)
            macro_rules! again {
                ($off:expr, $n:expr) => {{
                    if $off == 0 && checks > 1 {
                        checks -= 1;
                        count += u64::from($n);
                        continue 'blocks;
                    }
                }};
            }
            // Instruction `insn` ended the block early, going to `t` (a write that changed
            // code): what is left of its uops runs, then the block returns to `t`.
            // (A second write to code by the same instruction, in the tail, changes nothing.)
            macro_rules! end_after {
                ($insn:expr, $t:expr) => {{
                    if !early {
                        early = true;
                        b.end_after($insn, $t, p, tail);
                        p = tail.as_ptr();
                    }
                }};
            }
            // A side exit taken at instruction `insn`, to `t`.
            macro_rules! exit {
                ($insn:expr, $t:expr) => {{
                    next = $t;
                    count += u64::from($insn) + 1;
                    break;
                }};
            }

            loop {
                // SAFETY: `p` is at a uop of `b.uops` or `tail` (see above).
                let u = unsafe { &*p };
                // SAFETY: `p` is at most one past the `End` or `EndEarly` that ends them.
                p = unsafe { p.add(1) };
                // Matched in place, so that each arm loads only its own fields.
                match *u {
                    $(
                        Uop::$rr { d, a, b } => {
                            f[d as usize] = eval_bin(BinOp::$bop, f[a as usize], f[b as usize])
                        }
                        Uop::$ri { d, a, imm } => {
                            f[d as usize] = eval_bin(BinOp::$bop, f[a as usize], imm)
                        }
                        Uop::$rr32 { d, a, b } => {
                            f[d as usize] =
                                eval_bin(BinOp::$bop, f[a as usize], f[b as usize]) & 0xffff_ffff
                        }
                        Uop::$ri32 { d, a, imm } => {
                            f[d as usize] = eval_bin(BinOp::$bop, f[a as usize], imm) & 0xffff_ffff
                        }
                    )*
                    $(Uop::$u { d, a } => f[d as usize] = eval_un(UnOp::$uop, f[a as usize]),)*
                    Uop::Mov { d, a } => f[d as usize] = f[a as usize],
                    Uop::MovI { d, imm } => f[d as usize] = imm,
                    Uop::Select { d, c, a, b } => {
                        f[d as usize] = if f[c as usize] != 0 { f[a as usize] } else { f[b as usize] }
                    }
                    Uop::Awc { d, f: fl, a, b, c, bits64 } => {
                        let bits = if bits64 { 64 } else { 32 };
                        let (r, nzcv) =
                            eval_add_with_carry(f[a as usize], f[b as usize], f[c as usize], bits);
                        f[d as usize] = r;
                        f[fl as usize] = nzcv;
                    }
                    Uop::AwcI { d, f: fl, a, carry, bits64, imm } => {
                        let bits = if bits64 { 64 } else { 32 };
                        let (r, nzcv) =
                            eval_add_with_carry(f[a as usize], imm, u64::from(carry), bits);
                        f[d as usize] = r;
                        f[fl as usize] = nzcv;
                    }
                    Uop::Subs { d, f: fl, a, b, bits64 } => {
                        let bits = if bits64 { 64 } else { 32 };
                        let (r, nzcv) =
                            eval_add_with_carry(f[a as usize], !f[b as usize], 1, bits);
                        f[d as usize] = r;
                        f[fl as usize] = nzcv;
                    }
                    Uop::LogicalFlags { d, a, bits64 } => {
                        f[d as usize] = eval_logical_flags(f[a as usize], if bits64 { 64 } else { 32 })
                    }
                    Uop::Cond { d, cond } => f[d as usize] = u64::from(flags_hold(f, cond)),
                    Uop::Flags => f[NZCV as usize] = nzcv(f),
                    Uop::SubsL { d, a, b: y, bits64 } => {
                        let (x, y) = (f[a as usize], f[y as usize]);
                        f[d as usize] = eval_add_with_carry(x, !y, 1, if bits64 { 64 } else { 32 }).0;
                        lazy(f, x, y, bits64);
                    }
                    Uop::SubsLI { d, a, bits64, b: y } => {
                        let x = f[a as usize];
                        f[d as usize] = eval_add_with_carry(x, !y, 1, if bits64 { 64 } else { 32 }).0;
                        lazy(f, x, y, bits64);
                    }
                    Uop::GetV { d, n, half } => f[d as usize] = m.v(u32::from(n), u32::from(half)),
                    Uop::SetV { n, half, a } => m.set_v(u32::from(n), u32::from(half), f[a as usize]),
                    Uop::Sys { d, r } => f[d as usize] = m.sysreg(r),
                    Uop::SetSys { r, a } => m.set_sysreg(r, f[a as usize]),
                    Uop::CallPure { d, n, args, f: h } => {
                        let v = args.map(|s| f[s as usize]);
                        f[d as usize] = h(&mut m.cpu, &v[..usize::from(n)]);
                    }
                    Uop::Call { d, n, args, f: h } => f[d as usize] = call(m, f, h, args, n),
                    Uop::Load { d, a, size, insn, off } => {
                        match load_sized(m, f[a as usize].wrapping_add(off), size) {
                            Ok(v) => f[d as usize] = v,
                            Err(e) => stop!(insn, e),
                        }
                    }
                    $(
                        Uop::$ld { d, a, insn, off } => {
                            match load_sized(m, f[a as usize].wrapping_add(off), $size) {
                                Ok(v) => f[d as usize] = v,
                                Err(e) => stop!(insn, e),
                            }
                        }
                        Uop::$ldi { d, a, b: x, ext, shift, insn } => {
                            let addr = f[a as usize].wrapping_add(extend(f[x as usize], ext) << shift);
                            match load_sized(m, addr, $size) {
                                Ok(v) => f[d as usize] = v,
                                Err(e) => stop!(insn, e),
                            }
                        }
                        Uop::$st { v, a, insn, off } => {
                            let addr = f[a as usize].wrapping_add(off);
                            match store(m, b, insn, addr, $size, f[v as usize]) {
                                Ok(None) => {}
                                Ok(Some(t)) => end_after!(insn, t),
                                Err(e) => stop!(insn, e),
                            }
                        }
                        Uop::$sti { v, a, b: x, ext, shift, insn } => {
                            let addr = f[a as usize].wrapping_add(extend(f[x as usize], ext) << shift);
                            match store(m, b, insn, addr, $size, f[v as usize]) {
                                Ok(None) => {}
                                Ok(Some(t)) => end_after!(insn, t),
                                Err(e) => stop!(insn, e),
                            }
                        }
                        Uop::$ldw { d, a, insn, pre, imm } => {
                            let wb = f[a as usize].wrapping_add(imm);
                            let addr = if pre { wb } else { f[a as usize] };
                            match load_sized(m, addr, $size) {
                                Ok(v) => {
                                    f[d as usize] = v;
                                    f[a as usize] = wb;
                                }
                                Err(e) => stop!(insn, e),
                            }
                        }
                        Uop::$stw { v, a, insn, pre, imm } => {
                            let wb = f[a as usize].wrapping_add(imm);
                            let addr = if pre { wb } else { f[a as usize] };
                            match store(m, b, insn, addr, $size, f[v as usize]) {
                                Ok(None) => {}
                                Ok(Some(t)) => end_after!(insn, t),
                                Err(e) => stop!(insn, e),
                            }
                            f[a as usize] = wb;
                        }
                    )*
                    Uop::LoadIdx { d, a, b: x, size, ext, shift, insn } => {
                        let addr = f[a as usize].wrapping_add(extend(f[x as usize], ext) << shift);
                        match load_sized(m, addr, size) {
                            Ok(v) => f[d as usize] = v,
                            Err(e) => stop!(insn, e),
                        }
                    }
                    Uop::Store { v, a, size, insn, off } => {
                        let addr = f[a as usize].wrapping_add(off);
                        match store(m, b, insn, addr, size, f[v as usize]) {
                            Ok(None) => {}
                            Ok(Some(t)) => end_after!(insn, t),
                            Err(e) => stop!(insn, e),
                        }
                    }
                    Uop::StoreIdx { v, a, b: x, size, ext, shift, insn } => {
                        let addr = f[a as usize].wrapping_add(extend(f[x as usize], ext) << shift);
                        match store(m, b, insn, addr, size, f[v as usize]) {
                            Ok(None) => {}
                            Ok(Some(t)) => end_after!(insn, t),
                            Err(e) => stop!(insn, e),
                        }
                    }
                    Uop::LoadWb { d, a, size, insn, pre, imm } => {
                        let wb = f[a as usize].wrapping_add(imm);
                        let addr = if pre { wb } else { f[a as usize] };
                        match load_sized(m, addr, size) {
                            Ok(v) => {
                                f[d as usize] = v;
                                f[a as usize] = wb;
                            }
                            Err(e) => stop!(insn, e),
                        }
                    }
                    Uop::StoreWb { v, a, size, insn, pre, imm } => {
                        let wb = f[a as usize].wrapping_add(imm);
                        let addr = if pre { wb } else { f[a as usize] };
                        match store(m, b, insn, addr, size, f[v as usize]) {
                            Ok(None) => {}
                            Ok(Some(t)) => end_after!(insn, t),
                            Err(e) => stop!(insn, e),
                        }
                        f[a as usize] = wb;
                    }
                    Uop::Aligned { a, size, write, insn } => {
                        if let Err(e) = aligned(f[a as usize], size, write) {
                            stop!(insn, e);
                        }
                    }
                    Uop::LoadPair { d1, d2, a, size, writeback, insn, off, wb } => {
                        let base = f[a as usize];
                        let addr = base.wrapping_add_signed(i64::from(off));
                        let v1 = match load_sized(m, addr, size) {
                            Ok(v) => v,
                            Err(e) => stop!(insn, e),
                        };
                        let v2 = match load_sized(m, addr.wrapping_add(u64::from(size)), size) {
                            Ok(v) => v,
                            Err(e) => stop!(insn, e),
                        };
                        f[d1 as usize] = v1;
                        f[d2 as usize] = v2;
                        if writeback {
                            f[a as usize] = base.wrapping_add_signed(i64::from(wb));
                        }
                    }
                    Uop::StorePair { v1, v2, a, size, writeback, insn, off, wb } => {
                        let base = f[a as usize];
                        let addr = base.wrapping_add_signed(i64::from(off));
                        let (v1, v2) = (f[v1 as usize], f[v2 as usize]);
                        let first = match store(m, b, insn, addr, size, v1) {
                            Ok(t) => t,
                            Err(e) => stop!(insn, e),
                        };
                        match store(m, b, insn, addr.wrapping_add(u64::from(size)), size, v2) {
                            Ok(t) => {
                                if let Some(t) = t.or(first) {
                                    end_after!(insn, t);
                                }
                            }
                            Err(e) => stop!(insn, e),
                        }
                        if writeback {
                            f[a as usize] = base.wrapping_add_signed(i64::from(wb));
                        }
                    }
                    Uop::AddLsl { d, a, b: x, s } => {
                        f[d as usize] = eval_bin(BinOp::Add, f[a as usize], eval_bin(BinOp::Shl, f[x as usize], u64::from(s)))
                    }
                    Uop::SubLsl { d, a, b: x, s } => {
                        f[d as usize] = eval_bin(BinOp::Sub, f[a as usize], eval_bin(BinOp::Shl, f[x as usize], u64::from(s)))
                    }
                    Uop::Ror32 { d, a, s } => {
                        let x = eval_un(UnOp::Zext32, f[a as usize]);
                        let r = eval_bin(BinOp::Or, eval_bin(BinOp::Lsr, x, u64::from(s)), eval_bin(BinOp::Shl, x, u64::from(32 - s)));
                        f[d as usize] = eval_un(UnOp::Zext32, r);
                    }
                    Uop::XorRor32 { d, a, b: x, s } => {
                        let x = eval_un(UnOp::Zext32, f[x as usize]);
                        let r = eval_bin(BinOp::Or, eval_bin(BinOp::Lsr, x, u64::from(s)), eval_bin(BinOp::Shl, x, u64::from(32 - s)));
                        f[d as usize] = eval_un(UnOp::Zext32, eval_bin(BinOp::Xor, f[a as usize], r));
                    }
                    Uop::Bic { d, a, b: x } => {
                        f[d as usize] = eval_bin(BinOp::And, f[a as usize], eval_un(UnOp::Not, f[x as usize]))
                    }
                    Uop::Bic32 { d, a, b: x } => {
                        f[d as usize] = eval_bin(BinOp::And, f[a as usize], eval_un(UnOp::Not, f[x as usize])) & 0xffff_ffff
                    }
                    Uop::AddUxt { d, a, b: x, l, r } => {
                        let e = eval_bin(BinOp::Lsr, eval_bin(BinOp::Shl, f[x as usize], u64::from(l)), u64::from(r));
                        f[d as usize] = eval_bin(BinOp::Add, f[a as usize], e)
                    }
                    Uop::AddSxt { d, a, b: x, l, r } => {
                        let e = eval_bin(BinOp::Asr, eval_bin(BinOp::Shl, f[x as usize], u64::from(l)), u64::from(r));
                        f[d as usize] = eval_bin(BinOp::Add, f[a as usize], e)
                    }
                    Uop::CSel { d, a, b: x, cond } => {
                        f[d as usize] = if flags_hold(f, cond) { f[a as usize] } else { f[x as usize] }
                    }
                    Uop::CSel32 { d, a, b: x, cond } => {
                        let v = if flags_hold(f, cond) { f[a as usize] } else { f[x as usize] };
                        f[d as usize] = eval_un(UnOp::Zext32, v);
                    }
                    Uop::ExitCond { cond, insn, target } => {
                        if flags_hold(f, cond) {
                            exit!(insn, target);
                        }
                    }
                    Uop::ExitIf { c, insn, target } => {
                        if f[c as usize] != 0 {
                            exit!(insn, target);
                        }
                    }
                    Uop::ExitCbz { a, insn, target } => {
                        if f[a as usize] == 0 {
                            exit!(insn, target);
                        }
                    }
                    Uop::ExitCbnz { a, insn, target } => {
                        if f[a as usize] != 0 {
                            exit!(insn, target);
                        }
                    }
                    Uop::ExitCbz32 { a, insn, target } => {
                        if eval_un(UnOp::Zext32, f[a as usize]) == 0 {
                            exit!(insn, target);
                        }
                    }
                    Uop::ExitCbnz32 { a, insn, target } => {
                        if eval_un(UnOp::Zext32, f[a as usize]) != 0 {
                            exit!(insn, target);
                        }
                    }
                    Uop::CmpExit { a, b: rb, mode, insn, off } => {
                        let (x, y) = (f[a as usize], f[rb as usize]);
                        lazy(f, x, y, mode & 32 != 0);
                        if sub_holds(mode & 15, x, y, mode & 32 != 0) {
                            again!(off, u32::from(insn) + 1);
                            exit!(insn, b.pc.wrapping_add_signed(i64::from(off)));
                        }
                    }
                    Uop::CmpExitI { a, mode, insn, off, b: y } => {
                        let x = f[a as usize];
                        lazy(f, x, u64::from(y), mode & 32 != 0);
                        if sub_holds(mode & 15, x, u64::from(y), mode & 32 != 0) {
                            again!(off, u32::from(insn) + 1);
                            exit!(insn, b.pc.wrapping_add_signed(i64::from(off)));
                        }
                    }
                    Uop::CmpExitI2 { a, mode, mode2, insn, b: y, off, off2 } => {
                        let (x, y, bits64) = (f[a as usize], u64::from(y), mode & 32 != 0);
                        lazy(f, x, y, bits64);
                        if sub_holds(mode & 15, x, y, bits64) {
                            again!(off, u32::from(insn) + 1);
                            exit!(insn, b.pc.wrapping_add_signed(i64::from(off)));
                        }
                        if sub_holds(mode2, x, y, bits64) {
                            again!(off2, u32::from(insn) + 2);
                            exit!(insn + 1, b.pc.wrapping_add_signed(i64::from(off2)));
                        }
                    }
                    Uop::LoadIdxPair4 { d1, a1, b1, e1, s1, d2, a2, b2, e2, s2, insn } => {
                        let addr = f[a1 as usize].wrapping_add(extend(f[b1 as usize], e1) << s1);
                        match load_sized(m, addr, 4) {
                            Ok(v) => f[d1 as usize] = v,
                            Err(e) => stop!(insn, e),
                        }
                        let addr = f[a2 as usize].wrapping_add(extend(f[b2 as usize], e2) << s2);
                        match load_sized(m, addr, 4) {
                            Ok(v) => f[d2 as usize] = v,
                            Err(e) => stop!(insn + 1, e),
                        }
                    }
                    Uop::LoadIdxPair8 { d1, a1, b1, e1, s1, d2, a2, b2, e2, s2, insn } => {
                        let addr = f[a1 as usize].wrapping_add(extend(f[b1 as usize], e1) << s1);
                        match load_sized(m, addr, 8) {
                            Ok(v) => f[d1 as usize] = v,
                            Err(e) => stop!(insn, e),
                        }
                        let addr = f[a2 as usize].wrapping_add(extend(f[b2 as usize], e2) << s2);
                        match load_sized(m, addr, 8) {
                            Ok(v) => f[d2 as usize] = v,
                            Err(e) => stop!(insn + 1, e),
                        }
                    }
                    Uop::Cbz32 { a, target } => {
                        if eval_un(UnOp::Zext32, f[a as usize]) == 0 {
                            next = target;
                        }
                    }
                    Uop::Cbnz32 { a, target } => {
                        if eval_un(UnOp::Zext32, f[a as usize]) != 0 {
                            next = target;
                        }
                    }
                    Uop::Cbz { a, target } => {
                        if f[a as usize] == 0 {
                            next = target;
                        }
                    }
                    Uop::Cbnz { a, target } => {
                        if f[a as usize] != 0 {
                            next = target;
                        }
                    }
                    Uop::ShlAsr { d, a, l, r } => {
                        f[d as usize] = eval_bin(BinOp::Asr, eval_bin(BinOp::Shl, f[a as usize], u64::from(l)), u64::from(r))
                    }
                    Uop::ShlLsr { d, a, l, r } => {
                        f[d as usize] = eval_bin(BinOp::Lsr, eval_bin(BinOp::Shl, f[a as usize], u64::from(l)), u64::from(r))
                    }
                    Uop::MAdd { d, a, b: x, c } => {
                        f[d as usize] = eval_bin(BinOp::Add, f[c as usize], eval_bin(BinOp::Mul, f[a as usize], f[x as usize]))
                    }
                    Uop::MSub { d, a, b: x, c } => {
                        f[d as usize] = eval_bin(BinOp::Sub, f[c as usize], eval_bin(BinOp::Mul, f[a as usize], f[x as usize]))
                    }
                    Uop::MAdd32 { d, a, b: x, c } => {
                        f[d as usize] = eval_bin(BinOp::Add, f[c as usize], eval_bin(BinOp::Mul, f[a as usize], f[x as usize])) & 0xffff_ffff
                    }
                    Uop::MSub32 { d, a, b: x, c } => {
                        f[d as usize] = eval_bin(BinOp::Sub, f[c as usize], eval_bin(BinOp::Mul, f[a as usize], f[x as usize])) & 0xffff_ffff
                    }
                    Uop::SMAddL { d, a, b: x, c } => {
                        let p = eval_bin(BinOp::Mul, eval_un(UnOp::Sext32, f[a as usize]), eval_un(UnOp::Sext32, f[x as usize]));
                        f[d as usize] = eval_bin(BinOp::Add, f[c as usize], p)
                    }
                    Uop::UMAddL { d, a, b: x, c } => {
                        let p = eval_bin(BinOp::Mul, eval_un(UnOp::Zext32, f[a as usize]), eval_un(UnOp::Zext32, f[x as usize]));
                        f[d as usize] = eval_bin(BinOp::Add, f[c as usize], p)
                    }
                    Uop::Branch { target } => next = target,
                    Uop::BranchR { a } => next = f[a as usize],
                    Uop::BranchIf { c, target } => {
                        if f[c as usize] != 0 {
                            next = target;
                        }
                    }
                    Uop::BranchCond { cond, target } => {
                        if flags_hold(f, cond) {
                            next = target;
                        }
                    }
                    Uop::CmpBranch { a, b: rb, mode, off } => {
                        let (x, y) = (f[a as usize], f[rb as usize]);
                        lazy(f, x, y, mode & 32 != 0);
                        if sub_holds(mode & 15, x, y, mode & 32 != 0) {
                            again!(off, b.n);
                            next = b.pc.wrapping_add_signed(i64::from(off));
                        }
                    }
                    Uop::CmpBranchI { a, mode, off, imm } => {
                        let x = f[a as usize];
                        let bits64 = mode & 32 != 0;
                        let taken = if mode & 16 != 0 {
                            // CMP: `x + NOT(y) + 1`, with the flags left lazy.
                            lazy(f, x, !imm, bits64);
                            sub_holds(mode & 15, x, !imm, bits64)
                        } else {
                            let bits = if bits64 { 64 } else { 32 };
                            let (_, nzcv) = eval_add_with_carry(x, imm, 0, bits);
                            f[NZCV as usize] = nzcv;
                            holds(mode & 15, nzcv)
                        };
                        if taken {
                            again!(off, b.n);
                            next = b.pc.wrapping_add_signed(i64::from(off));
                        }
                    }
                    Uop::Interp { f: sem, word, insn } => {
                        if let Err(e) = whole(m, f, sem, word, b.insn_pc(insn)) {
                            stop!(insn, e);
                        }
                        if let Some(t) = m.next_pc.take() {
                            end_after!(insn, t);
                        }
                    }
                    Uop::End => {
                        count += u64::from(b.n);
                        break;
                    }
                    Uop::EndEarly { done, next } => {
                        m.instructions += count + u64::from(done);
                        return Ok(next);
                    }
                }
            }
            if !chain {
                m.instructions += count;
                return Ok(next);
            }
            // The interrupt and kick flags and the code generation (which only another
            // thread can have moved here: this one's own writes to code end the block
            // above) are checked every `CHECK_EVERY` blocks.
            checks -= 1;
            if checks == 0 {
                if interrupt.load(Ordering::Relaxed)
                    || m.kick.load(Ordering::Relaxed)
                    || m.mem.code_generation() != generation
                {
                    m.instructions += count;
                    return Ok(next);
                }
                checks = CHECK_EVERY;
            }
            // The next block, when the table in front of the block map has it (a block
            // that loops to itself is its own next).
            if next != b.pc {
                match lookup[(next / 4) as usize % LOOKUP] {
                    Link { pc, uops, block } if pc == next => {
                        b = &blocks[block as usize];
                        start = std::ptr::with_exposed_provenance(uops);
                    }
                    _ => {
                        m.instructions += count;
                        return Ok(next);
                    }
                }
            }
            }
        }
    };
}

uops! {
    bin {
        AddRR AddRI AddRR32 AddRI32 = Add,
        SubRR SubRI SubRR32 SubRI32 = Sub,
        AndRR AndRI AndRR32 AndRI32 = And,
        OrRR OrRI OrRR32 OrRI32 = Or,
        XorRR XorRI XorRR32 XorRI32 = Xor,
        ShlRR ShlRI ShlRR32 ShlRI32 = Shl,
        LsrRR LsrRI LsrRR32 LsrRI32 = Lsr,
        AsrRR AsrRI AsrRR32 AsrRI32 = Asr,
        RorRR RorRI RorRR32 RorRI32 = Ror,
        MulRR MulRI MulRR32 MulRI32 = Mul,
        UMulHRR UMulHRI UMulHRR32 UMulHRI32 = UMulH,
        SMulHRR SMulHRI SMulHRR32 SMulHRI32 = SMulH,
        UDivRR UDivRI UDivRR32 UDivRI32 = UDiv,
        SDivRR SDivRI SDivRR32 SDivRI32 = SDiv,
        EqRR EqRI EqRR32 EqRI32 = Eq,
        NeRR NeRI NeRR32 NeRI32 = Ne,
        UltRR UltRI UltRR32 UltRI32 = Ult,
        UleRR UleRI UleRR32 UleRI32 = Ule,
        SltRR SltRI SltRR32 SltRI32 = Slt,
        SleRR SleRI SleRR32 SleRI32 = Sle,
    }
    un {
        Not = Not, Neg = Neg, Clz = Clz, Rbit = Rbit, Rev = Rev, Sext8 = Sext8,
        Sext16 = Sext16, Sext32 = Sext32, Zext8 = Zext8, Zext16 = Zext16, Zext32 = Zext32,
    }
    sized {
        1: Load1 Store1 LoadIdx1 StoreIdx1 LoadWb1 StoreWb1,
        2: Load2 Store2 LoadIdx2 StoreIdx2 LoadWb2 StoreWb2,
        4: Load4 Store4 LoadIdx4 StoreIdx4 LoadWb4 StoreWb4,
        8: Load8 Store8 LoadIdx8 StoreIdx8 LoadWb8 StoreWb8,
    }
}

/// `ConditionHolds(cond)` on NZCV `nzcv` (bits 31..28), by table: bit `n` of entry `cond`
/// is whether the condition holds when NZCV is `n`.
#[inline(always)]
fn holds(cond: u8, nzcv: u64) -> bool {
    const TABLE: [u16; 16] = {
        let mut t = [0u16; 16];
        let mut cond = 0;
        while cond < 16 {
            let mut n = 0;
            while n < 16 {
                if condition_holds_on(cond as u32, (n as u64) << 28) {
                    t[cond] |= 1 << n;
                }
                n += 1;
            }
            cond += 1;
        }
        t
    };
    TABLE[usize::from(cond & 15)] >> (nzcv >> 28 & 15) & 1 != 0
}

/// NZCV in bits 31..28: the slot's packed flags, or the lazy subtraction's computed by the
/// interpreter's `AddWithCarry`.
#[inline(always)]
fn nzcv(f: &[u64; FRAME]) -> u64 {
    let v = f[NZCV as usize];
    if v & LAZY == 0 {
        return v;
    }
    lazy_nzcv(f)
}

/// `ConditionHolds(cond)` on the frame's NZCV: on lazy flags, straight from the operands of
/// their subtraction (a compare tree's second branch, CSET after CMP), without packing them.
#[inline(always)]
fn flags_hold(f: &[u64; FRAME], cond: u8) -> bool {
    let v = f[NZCV as usize];
    if v & LAZY == 0 {
        return holds(cond, v);
    }
    sub_holds(cond, f[FA as usize], f[FB as usize], v & 1 != 0)
}

#[cold]
#[inline(never)]
fn lazy_nzcv(f: &[u64; FRAME]) -> u64 {
    let bits = if f[NZCV as usize] & 1 != 0 { 64 } else { 32 };
    eval_add_with_carry(f[FA as usize], !f[FB as usize], 1, bits).1
}

/// Leaves NZCV lazy: the flags of `x - y` (`AddWithCarry(x, NOT(y), 1)`).
#[inline(always)]
fn lazy(f: &mut [u64; FRAME], x: u64, y: u64, bits64: bool) {
    f[FA as usize] = x;
    f[FB as usize] = y;
    f[NZCV as usize] = LAZY | u64::from(bits64);
}

/// `ConditionHolds(cond)` on the flags of `x - y`, without packing them: the 32-bit operands
/// are moved to the top of the word, where the 64-bit subtraction gives the same N, Z, C and
/// V. The table is [`holds`]'s.
#[inline(always)]
fn sub_holds(cond: u8, x: u64, y: u64, bits64: bool) -> bool {
    let sh = if bits64 { 0 } else { 32 };
    let (x, y) = (x << sh, y << sh);
    // EQ and NE, most branches' conditions, read Z alone.
    if cond >> 1 == 0 {
        return (x == y) != (cond & 1 != 0);
    }
    let r = x.wrapping_sub(y);
    let (n, z, c, v) = (
        r >> 63,
        u64::from(x == y),
        u64::from(x >= y),
        ((x ^ y) & (x ^ r)) >> 63,
    );
    let nzcv = n << 31 | z << 30 | c << 29 | v << 28;
    debug_assert_eq!(
        nzcv,
        eval_add_with_carry(x >> sh, !(y >> sh), 1, if bits64 { 64 } else { 32 }).1
    );
    holds(cond, nzcv)
}

/// How a register-offset access extends its index register (`ExtendReg`'s UXTW and SXTW;
/// UXTX and SXTX leave it alone).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
enum Ext {
    None = 0,
    Uxtw = 1,
    Sxtw = 2,
}

/// The index `x` extended as `ext` (an [`Ext`]) says.
#[inline(always)]
fn extend(x: u64, ext: u8) -> u64 {
    // Without a branch: both extensions from 32 bits are a shift left by 32 and back.
    let sh = if ext == Ext::None as u8 { 0 } else { 32 };
    let up = x << sh;
    let r = if ext == Ext::Sxtw as u8 {
        ((up as i64) >> sh) as u64
    } else {
        up >> sh
    };
    debug_assert_eq!(
        r,
        match ext {
            1 => eval_un(UnOp::Zext32, x),
            2 => eval_un(UnOp::Sext32, x),
            _ => x,
        }
    );
    r
}

/// A store of `size` bytes of `v` at `addr` by instruction `insn` of block `b`: `Some(next)`
/// when it changed code and the block ends after the instruction.
#[inline(always)]
fn store(
    m: &mut Interp,
    b: &Block,
    insn: u16,
    addr: u64,
    size: u8,
    v: u64,
) -> Result<Option<u64>, Stop> {
    if store_fast_sized(m, addr, size, v) {
        return Ok(None);
    }
    // A code page, a fault or a misaligned write: the interpreter's slow path, which ends
    // the block after a write that changed code.
    m.cpu.pc = b.insn_pc(insn);
    m.next_pc = None;
    m.store_slow(addr, size, v)?;
    Ok(m.next_pc.take())
}

/// A load of 1, 2, 4 or 8 bytes, each size with its own inlined fast path.
#[inline(always)]
fn load_sized(m: &mut Interp, addr: u64, size: u8) -> Result<u64, Stop> {
    match size {
        1 => m.load(addr, 1),
        2 => m.load(addr, 2),
        4 => m.load(addr, 4),
        8 => m.load(addr, 8),
        _ => m.load(addr, size),
    }
}

/// `Memory::write_u64_fast` at 1, 2, 4 or 8 bytes, each size inlined.
#[inline(always)]
fn store_fast_sized(m: &Interp, addr: u64, size: u8, v: u64) -> bool {
    let addr = tbi(addr);
    match size {
        1 => m.mem.write_u64_fast(addr, 1, v),
        2 => m.mem.write_u64_fast(addr, 2, v),
        4 => m.mem.write_u64_fast(addr, 4, v),
        8 => m.mem.write_u64_fast(addr, 8, v),
        _ => false,
    }
}

/// A helper that sees the CPU state, with the frame's registers written back around it.
#[cold]
#[inline(never)]
fn call(m: &mut Interp, f: &mut [u64; FRAME], h: Helper, args: [Slot; 4], n: u8) -> u64 {
    let v = args.map(|s| f[s as usize]);
    store_frame(f, m);
    let r = h(&mut m.cpu, &v[..usize::from(n)]);
    load_frame(f, m);
    r
}

/// An instruction's interpreter semantics at `pc`, on the CPU state.
#[cold]
#[inline(never)]
fn whole(
    m: &mut Interp,
    f: &mut [u64; FRAME],
    sem: SemFn<Interp>,
    word: u32,
    pc: u64,
) -> Result<(), Stop> {
    store_frame(f, m);
    m.cpu.pc = pc;
    m.next_pc = None;
    let result = sem(m, word);
    load_frame(f, m);
    result
}

// A uop is two words: the block's uops stay dense in the cache.
const _: () = assert!(std::mem::size_of::<Uop>() == 16);

/// Copies the frame's registers to the CPU state.
fn store_frame(f: &[u64; FRAME], m: &mut Interp) {
    m.cpu.x.copy_from_slice(&f[..31]);
    m.cpu.sp = f[SP as usize];
    m.cpu.nzcv = nzcv(f);
}

/// Copies the CPU state's registers to the frame.
fn load_frame(f: &mut [u64; FRAME], m: &Interp) {
    f[..31].copy_from_slice(&m.cpu.x);
    f[ZERO as usize] = 0;
    f[SP as usize] = m.cpu.sp;
    f[NZCV as usize] = m.cpu.nzcv;
}

/// A translated block: a run of instructions up to the first that branches indirectly (or
/// stops); a conditional branch inside it is a side exit, and the translation goes on at the
/// target of an unconditional direct branch (B, BL) a few times ([`FOLLOW_MAX`]), so that the
/// block is a trace, not always a run of consecutive words.
struct Block {
    /// `pcs[0]`; it, `next` and `n` are kept apart from `pcs` so that the loop in
    /// `run_block` reads each with one load.
    pc: u64,
    /// The PC after its last instruction.
    next: u64,
    /// Instructions (`pcs.len()`).
    n: u32,
    /// The PC of each instruction.
    pcs: Vec<u64>,
    /// Its uops, then `Uop::End`.
    uops: Vec<Uop>,
    /// For each instruction, the index of the uop after its last.
    ends: Vec<u32>,
}

impl Block {
    /// The PC of instruction `insn` (for a stop, a slow store, a whole instruction).
    #[inline]
    fn insn_pc(&self, insn: u16) -> u64 {
        self.pcs[usize::from(insn)]
    }

    /// What `run_block` goes on with when instruction `insn` ends the block early, going to
    /// `next` (a write that changed code), the uop after the one that wrote at `p`: the rest
    /// of the instruction's uops, then `Uop::EndEarly`.
    #[cold]
    fn end_after(&self, insn: u16, next: u64, p: *const Uop, tail: &mut Vec<Uop>) {
        let k = usize::from(insn);
        // SAFETY: `p` is at a uop of `self.uops` after the one that ran.
        let at =
            usize::try_from(unsafe { p.offset_from(self.uops.as_ptr()) }).expect("in the block");
        tail.clear();
        tail.extend_from_slice(&self.uops[at..self.ends[k] as usize]);
        tail.push(Uop::EndEarly {
            done: u32::from(insn) + 1,
            next,
        });
    }
}

/// The fields of a register-offset load: `(d, a, b, ext, shift, insn)`.
type IndexedLoad = (Slot, Slot, Slot, u8, u8, u16);

/// A register-offset load of 4 or 8 bytes: its size and fields.
fn indexed_load(u: Uop) -> Option<(u8, IndexedLoad)> {
    let size = match u {
        Uop::LoadIdx4 { .. } => 4,
        Uop::LoadIdx8 { .. } => 8,
        _ => return None,
    };
    let (Uop::LoadIdx4 {
        d,
        a,
        b,
        ext,
        shift,
        insn,
    }
    | Uop::LoadIdx8 {
        d,
        a,
        b,
        ext,
        shift,
        insn,
    }) = u
    else {
        return None;
    };
    Some((size, (d, a, b, ext, shift, insn)))
}

/// The `LoadIdxPair` uop `$pair` of the [`indexed_load`]s `$p` and `$q`.
macro_rules! load_pair {
    ($pair:ident, $p:expr, $q:expr) => {{
        let ((d1, a1, b1, e1, s1, insn), (d2, a2, b2, e2, s2, _)) = ($p, $q);
        Uop::$pair {
            d1,
            a1,
            b1,
            e1,
            s1,
            d2,
            a2,
            b2,
            e2,
            s2,
            insn,
        }
    }};
}

/// Joins neighbouring instructions of one uop each where one dispatch can do the work of two:
/// a compare tree's second conditional branch on the same flags (`CmpExitI` then `ExitCond`
/// into `CmpExitI2`) and two register-offset loads of 4 or 8 bytes (`LoadIdxPair4`/`8`); the
/// second instruction is left with no uops. Also writes SXTW and UXTW (`ShlAsr`, `ShlLsr` by 32
/// and 32, made before the SBFIZ rule could see them) as `Sext32` and `Zext32`.
fn join(pc: u64, uops: &mut Vec<Uop>, ends: &mut [u32]) {
    for u in uops.iter_mut() {
        *u = match *u {
            Uop::ShlAsr { d, a, l: 32, r: 32 } => Uop::Sext32 { d, a },
            Uop::ShlLsr { d, a, l: 32, r: 32 } => Uop::Zext32 { d, a },
            u => u,
        };
    }
    let mut k = 1;
    while k < ends.len() {
        let i = insn_start(ends, k - 1);
        if ends[k - 1] as usize != i + 1 || ends[k] as usize != i + 2 {
            k += 1;
            continue;
        }
        let second = k as u16;
        let joined = match (uops[i], uops[i + 1]) {
            (
                Uop::CmpExitI {
                    a,
                    mode,
                    insn,
                    off,
                    b,
                },
                Uop::ExitCond {
                    cond,
                    insn: insn2,
                    target,
                },
            ) if insn2 == second && insn + 1 == second => {
                match (
                    u16::try_from(b),
                    i32::try_from(target.wrapping_sub(pc) as i64),
                ) {
                    (Ok(b), Ok(off2)) => Some(Uop::CmpExitI2 {
                        a,
                        mode,
                        mode2: cond,
                        insn,
                        b,
                        off,
                        off2,
                    }),
                    _ => None,
                }
            }
            (x, y) => match (indexed_load(x), indexed_load(y)) {
                (Some((4, p)), Some((4, q))) if p.5 + 1 == second && q.5 == second => {
                    Some(load_pair!(LoadIdxPair4, p, q))
                }
                (Some((8, p)), Some((8, q))) if p.5 + 1 == second && q.5 == second => {
                    Some(load_pair!(LoadIdxPair8, p, q))
                }
                _ => None,
            },
        };
        match joined {
            Some(u) => {
                uops[i] = u;
                uops.remove(i + 1);
                for e in &mut ends[k..] {
                    *e -= 1;
                }
                k += 2;
            }
            None => k += 1,
        }
    }
}

/// The index of the first uop of instruction `k`, whose uops end at `ends[k]`.
fn insn_start(ends: &[u32], k: usize) -> usize {
    if k == 0 {
        0
    } else {
        ends[k - 1] as usize
    }
}

/// A block that ends in a compare (into NZCV alone, as the last uop of the instruction before
/// the branch) and a conditional branch on it: one uop for both. Neither can stop, so the
/// two instructions run as one.
fn fuse_compare_branch(pc: u64, uops: &mut Vec<Uop>, ends: &mut [u32]) {
    fuse_compare(pc, uops, ends, None);
}

/// The same for the last two instructions translated so far, the branch (instruction `exit`)
/// a side exit when `exit` is given: whether they fused.
fn fuse_compare(pc: u64, uops: &mut Vec<Uop>, ends: &mut [u32], exit: Option<u16>) -> bool {
    let k = ends.len();
    if k < 2 {
        return false;
    }
    // The compare must be the instruction before's own (not that of an instruction before a
    // branch without uops, B, or a hint).
    let start = insn_start(ends, k - 2);
    let [.., before, last] = ends else {
        return false;
    };
    let n = uops.len();
    if n < 2 || *before as usize != n - 1 || *last as usize != n || start > n - 2 {
        return false;
    }
    let Uop::BranchCond { cond, target } = uops[n - 1] else {
        return false;
    };
    let Ok(off) = i32::try_from(target.wrapping_sub(pc) as i64) else {
        return false;
    };
    let fused = match uops[n - 2] {
        Uop::Subs {
            d: SCRATCH,
            f: NZCV,
            a,
            b,
            bits64,
        } => {
            let mode = cond | u8::from(bits64) << 5;
            match exit {
                Some(insn) => Uop::CmpExit {
                    a,
                    b,
                    mode,
                    insn,
                    off,
                },
                None => Uop::CmpBranch { a, b, mode, off },
            }
        }
        Uop::AwcI {
            d: SCRATCH,
            f: NZCV,
            a,
            carry,
            bits64,
            imm,
        } => match exit {
            // A side exit takes a compare (CMP, carry in 1) with a 32-bit subtrahend; a
            // 32-bit compare reads its low half only.
            Some(insn) => {
                let b = if bits64 { !imm } else { !imm & 0xffff_ffff };
                let (true, Ok(b)) = (carry, u32::try_from(b)) else {
                    return false;
                };
                Uop::CmpExitI {
                    a,
                    mode: cond | u8::from(bits64) << 5,
                    insn,
                    off,
                    b,
                }
            }
            None => Uop::CmpBranchI {
                a,
                mode: cond | u8::from(carry) << 4 | u8::from(bits64) << 5,
                off,
                imm,
            },
        },
        _ => return false,
    };
    uops.truncate(n - 2);
    uops.push(fused);
    *before = (n - 2) as u32;
    *last = (n - 1) as u32;
    true
}

/// The last instruction translated, a conditional branch, as a side exit: whether it is one
/// (its only branch is its last uop, a conditional one), so that the block goes on after it.
fn side_exit(pc: u64, uops: &mut Vec<Uop>, ends: &mut [u32]) -> bool {
    let insn = (ends.len() - 1) as u16;
    let start = insn_start(ends, ends.len() - 1);
    let body = &uops[start..];
    let branches = |u: &Uop| {
        matches!(
            u,
            Uop::Branch { .. }
                | Uop::BranchR { .. }
                | Uop::BranchIf { .. }
                | Uop::BranchCond { .. }
                | Uop::Cbz { .. }
                | Uop::Cbnz { .. }
                | Uop::Cbz32 { .. }
                | Uop::Cbnz32 { .. }
                | Uop::Interp { .. }
        )
    };
    let Some((&last, rest)) = body.split_last() else {
        return false;
    };
    if rest.iter().any(branches) {
        return false;
    }
    if fuse_compare(pc, uops, ends, Some(insn)) {
        return true;
    }
    let exit = match last {
        Uop::BranchCond { cond, target } => Uop::ExitCond { cond, insn, target },
        Uop::BranchIf { c, target } => Uop::ExitIf { c, insn, target },
        Uop::Cbz { a, target } => Uop::ExitCbz { a, insn, target },
        Uop::Cbnz { a, target } => Uop::ExitCbnz { a, insn, target },
        Uop::Cbz32 { a, target } => Uop::ExitCbz32 { a, insn, target },
        Uop::Cbnz32 { a, target } => Uop::ExitCbnz32 { a, insn, target },
        _ => return false,
    };
    *uops.last_mut().expect("a uop") = exit;
    true
}

/// An instruction that is one subtraction into NZCV (CMP, SUBS) leaves the flags lazy: the
/// next reader computes them, and most are never read. Nothing else in the instruction can
/// read the slot meanwhile.
fn lazy_flags(uops: &mut [Uop], ends: &[u32]) {
    let mut start = 0;
    for &end in ends {
        let end = end as usize;
        if end == start + 1 {
            uops[start] = match uops[start] {
                Uop::Subs {
                    d,
                    f: NZCV,
                    a,
                    b,
                    bits64,
                } if d != NZCV => Uop::SubsL { d, a, b, bits64 },
                Uop::AwcI {
                    d,
                    f: NZCV,
                    a,
                    carry: true,
                    bits64,
                    imm,
                } if d != NZCV => Uop::SubsLI {
                    d,
                    a,
                    bits64,
                    b: !imm,
                },
                u => u,
            };
        }
        start = end;
    }
}

/// Where a recorded value is during selection.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Loc {
    None,
    Const(u64),
    Slot(Slot),
}

/// Selects the uops of one instruction from its recorded operations.
struct Select<'a> {
    ops: &'a [Op],
    uops: &'a mut Vec<Uop>,
    /// The first uop of this instruction.
    first: usize,
    insn: u16,
    loc: Vec<Loc>,
    /// The last operation that reads each value (0 when none does: nothing reads the first).
    last_use: Vec<usize>,
    /// Values in the packed NZCV form (bits 31..28 only).
    packed: Vec<bool>,
    /// How many operations read each value.
    readers: Vec<u32>,
    next_temp: u16,
}

/// Calls `f` with every value `op` reads.
fn uses(op: &Op, mut f: impl FnMut(Val)) {
    match *op {
        Op::Imm(_)
        | Op::X(_)
        | Op::V(..)
        | Op::Sp
        | Op::Nzcv
        | Op::Cond(_)
        | Op::Sys(_)
        | Op::ClearExclusive
        | Op::Barrier
        // Made by the same uop as its `AddWithCarry`.
        | Op::CarryFlags(_) => {}
        // A write to XZR is dropped.
        Op::SetX(31, _) => {}
        Op::SetX(_, v)
        | Op::SetV(_, _, v)
        | Op::SetSp(v)
        | Op::SetNzcv(v)
        | Op::LogicalFlags(v, _)
        | Op::SetSys(_, v)
        | Op::Un(_, v)
        | Op::Branch(v)
        | Op::Load(v, _)
        | Op::CheckAligned(v, _, _)
        | Op::LoadExclusive(v, _)
        | Op::LoadExclusivePair(v)
        | Op::Second(v) => f(v),
        Op::Bin(_, a, b)
        | Op::BranchIf(a, b)
        | Op::Store(a, _, b)
        | Op::StoreExclusive(a, _, b)
        | Op::Atomic(_, a, _, b) => {
            f(a);
            f(b);
        }
        Op::AddWithCarry(a, b, c, _)
        | Op::Select(a, b, c)
        | Op::StoreExclusivePair(a, b, c)
        | Op::CompareSwap(a, _, b, c) => {
            f(a);
            f(b);
            f(c);
        }
        Op::Call(_, args, n) | Op::CallPure(_, args, n) => {
            args[..usize::from(n)].iter().for_each(|&v| f(v))
        }
        Op::Lanes(_, _, _, _, args) => args.iter().for_each(|&v| f(v)),
        Op::CompareSwapPair(a, b, c, d, e) => [a, b, c, d, e].into_iter().for_each(f),
    }
}

impl Select<'_> {
    fn push(&mut self, u: Uop) {
        self.uops.push(u);
    }

    fn temp(&mut self) -> Option<Slot> {
        let t = self.next_temp;
        if t >= u16::from(SCRATCH) {
            return None;
        }
        self.next_temp += 1;
        Some(t as Slot)
    }

    /// A slot holding `v`: a constant is moved into a temporary (0 is XZR's slot).
    fn slot(&mut self, v: Val) -> Option<Slot> {
        match self.loc[v as usize] {
            Loc::Slot(s) => Some(s),
            Loc::Const(0) => Some(ZERO),
            Loc::Const(c) => {
                let t = self.temp()?;
                self.push(Uop::MovI { d: t, imm: c });
                self.loc[v as usize] = Loc::Slot(t);
                Some(t)
            }
            Loc::None => None,
        }
    }

    /// A temporary for the value of operation `j`, or the scratch slot when nothing reads it.
    fn dest(&mut self, j: usize) -> Option<Slot> {
        if self.last_use[j] == 0 {
            return Some(SCRATCH);
        }
        let t = self.temp()?;
        self.loc[j] = Loc::Slot(t);
        Some(t)
    }

    /// Whether the last uop is this instruction's and writes `t`.
    fn last_writes(&mut self, t: Slot) -> bool {
        self.uops.len() > self.first
            && self
                .uops
                .last_mut()
                .is_some_and(|u| u.dests().into_iter().flatten().any(|d| *d == t))
    }

    /// Before operation `j` writes slot `s`: values read later that are in `s` move to a
    /// temporary. Whether it moved any.
    fn keep_readers_of(&mut self, s: Slot, j: usize) -> Option<bool> {
        let mut moved = None;
        for i in 0..j {
            if self.loc[i] == Loc::Slot(s) && self.last_use[i] > j {
                let t = match moved {
                    Some(t) => t,
                    None => {
                        let t = self.temp()?;
                        self.push(Uop::Mov { d: t, a: s });
                        moved = Some(t);
                        t
                    }
                };
                self.loc[i] = Loc::Slot(t);
            }
        }
        Some(moved.is_some())
    }

    /// Operation `j` writes `v` to slot `d`.
    fn write(&mut self, d: Slot, v: Val, j: usize) -> Option<()> {
        let moved = self.keep_readers_of(d, j)?;
        let at = self.loc[v as usize];
        match at {
            // The operation that computed it writes the register itself.
            Loc::Slot(t)
                if t >= FIRST_TEMP
                    && t != SCRATCH
                    && !moved
                    && self.last_use[v as usize] == j
                    && self.last_writes(t) =>
            {
                for slot in self.uops.last_mut()?.dests().into_iter().flatten() {
                    if *slot == t {
                        *slot = d;
                    }
                }
                self.loc[v as usize] = Loc::Slot(d);
            }
            Loc::Slot(s) if s == d => {}
            Loc::Slot(s) => self.push(Uop::Mov { d, a: s }),
            Loc::Const(c) => self.push(Uop::MovI { d, imm: c }),
            Loc::None => return None,
        }
        Some(())
    }

    /// `ZeroExtend(v<31:0>)` as operation `j`: when `v` is the last uop's two-operand result
    /// and only this reads it, that uop becomes its 32-bit form (W register arithmetic is
    /// one uop, not two).
    fn narrows(&mut self, v: Val, j: usize) -> bool {
        let Loc::Slot(t) = self.loc[v as usize] else {
            return false;
        };
        if t < FIRST_TEMP || self.last_use[v as usize] != j || self.uops.len() <= self.first {
            return false;
        }
        let last = *self.uops.last().expect("a uop");
        if !self.last_writes(t) {
            return false;
        }
        let Some(d) = self.dest(j) else { return false };
        match narrowed(last, d) {
            Some(u) => {
                *self.uops.last_mut().expect("a uop") = u;
                true
            }
            None => {
                self.loc[j] = Loc::None;
                false
            }
        }
    }

    /// `(b, s)` when `v` is `b << s`, computed by the last uop and read only by operation `j`:
    /// that uop is dropped, for the reader to shift as it adds.
    fn shifted(&mut self, v: Val, j: usize) -> Option<(Slot, u8)> {
        let Loc::Slot(t) = self.loc[v as usize] else {
            return None;
        };
        if self.last_use[v as usize] != j || self.readers[v as usize] != 1 {
            return None;
        }
        self.pop_shift(t)
    }

    /// `(b, s)` when slot `z` holds `b << s` computed by the last uop, and the `NOT` value
    /// `not` (whose uop was dropped) was its only reader.
    fn shifted_slot(&mut self, z: Slot, not: Val) -> Option<(Slot, u8)> {
        let Op::Un(UnOp::Not, v) = self.ops[not as usize] else {
            return None;
        };
        if self.readers[v as usize] != 1 || self.loc[v as usize] != Loc::Slot(z) {
            return None;
        }
        self.pop_shift(z)
    }

    /// Drops the last uop when it is this instruction's `t = b << s`, for `(b, s)`.
    fn pop_shift(&mut self, t: Slot) -> Option<(Slot, u8)> {
        if t < FIRST_TEMP || t == SCRATCH || self.uops.len() <= self.first {
            return None;
        }
        match *self.uops.last()? {
            Uop::ShlRI { d, a, imm } if d == t && imm < 64 => {
                self.uops.pop();
                Some((a, imm as u8))
            }
            _ => None,
        }
    }

    /// Whether value `j` is read once, by a 32-bit `AddWithCarry`, or by an operation whose
    /// result's low 32 bits are all that is read (a `NOT`, an add, a logical operation whose
    /// result is zero-extended from 32 bits): those read only its low 32 bits.
    fn read_at_32_bits(&self, j: usize) -> bool {
        if self.readers[j] != 1 {
            return false;
        }
        let r = self.last_use[j];
        match self.ops[r] {
            Op::AddWithCarry(_, _, _, 32) => true,
            Op::Un(UnOp::Not, _) => self.read_at_32_bits(r),
            // Their result's low 32 bits depend only on their operands' low 32 bits.
            Op::Bin(
                BinOp::Add | BinOp::Sub | BinOp::And | BinOp::Or | BinOp::Xor | BinOp::Mul,
                ..,
            ) => {
                self.read_at_32_bits(r)
                    || self.readers[r] == 1
                        && matches!(self.ops[self.last_use[r]], Op::Un(UnOp::Zext32, _))
            }
            _ => false,
        }
    }

    /// Zero-extends the last uop's result `d` from 32 bits, in that uop when it can.
    fn narrow_last(&mut self, d: Slot) {
        if let Some(u) = self.uops.last().and_then(|&u| narrowed(u, d)) {
            *self.uops.last_mut().expect("a uop") = u;
        } else {
            self.push(Uop::Zext32 { d, a: d });
        }
    }

    /// The bits that slot `s` is known to hold as zero: the high bits of the result of this
    /// instruction's last uop when it is a shift right or a 32-bit result.
    fn high_zeros(&self, s: Slot) -> u64 {
        if s < FIRST_TEMP || self.uops.len() <= self.first {
            return 0;
        }
        let zeros = |n: u64| !(u64::MAX >> n);
        match *self.uops.last().expect("a uop") {
            Uop::LsrRI { d, imm, .. } if d == s => zeros(imm & 63),
            Uop::ShlLsr { d, r, .. } if d == s => zeros(u64::from(r & 63)),
            Uop::Zext32 { d, .. } if d == s => zeros(32),
            Uop::Load { d, size, .. } if d == s && size < 8 => zeros(64 - 8 * u64::from(size)),
            u if u.narrow_result() == Some(s) => zeros(32),
            _ => 0,
        }
    }

    /// `z` when `v` is `NOT(z)` of a slot, computed by the last uop and read only by operation
    /// `j`: that uop is dropped.
    fn negated(&mut self, v: Val, j: usize) -> Option<Slot> {
        let Loc::Slot(t) = self.loc[v as usize] else {
            return None;
        };
        if t < FIRST_TEMP || self.last_use[v as usize] != j || self.uops.len() <= self.first {
            return None;
        }
        match self.uops.last() {
            Some(&Uop::Not { d, a }) if d == t => {
                self.uops.pop();
                Some(a)
            }
            _ => None,
        }
    }

    /// Folds the writeback of a pre- or post-indexed load or store (the address computed
    /// into a temporary, the access, the base register set to it) into one uop.
    fn fold_writeback(&mut self) {
        let u = &mut self.uops[self.first..];
        let [Uop::AddRI { d: t, a: s, imm }, access, Uop::Mov { d: s2, a: t2 }] = *u else {
            return;
        };
        if s != s2 || t != t2 || t < FIRST_TEMP {
            return;
        }
        let folded = match access {
            Uop::Load {
                d,
                a,
                size,
                insn,
                off: 0,
            } if d != s && (a == s || a == t) => Uop::LoadWb {
                d,
                a: s,
                size,
                insn,
                pre: a == t,
                imm,
            },
            Uop::Store {
                v,
                a,
                size,
                insn,
                off: 0,
            } if v != t && (a == s || a == t) => Uop::StoreWb {
                v,
                a: s,
                size,
                insn,
                pre: a == t,
                imm,
            },
            _ => return,
        };
        self.uops.truncate(self.first);
        self.uops.push(folded);
    }

    /// The address of an access: a base slot and an offset, folding in the `AddRI` that just
    /// computed it when nothing else reads its result.
    fn address(&mut self, a: Val, j: usize) -> Option<(Slot, u64)> {
        if let Loc::Const(c) = self.loc[a as usize] {
            return Some((ZERO, c));
        }
        let s = self.slot(a)?;
        if s >= FIRST_TEMP && self.last_use[a as usize] == j && self.uops.len() > self.first {
            if let Some(&Uop::AddRI { d, a: base, imm }) = self.uops.last() {
                if d == s {
                    self.uops.pop();
                    return Some((base, imm));
                }
            }
        }
        Some((s, 0))
    }

    /// Selects every operation; `None` when one is not taken (the instruction then runs its
    /// interpreter semantics).
    fn run(&mut self) -> Option<()> {
        for j in 0..self.ops.len() {
            self.select(j)?;
        }
        self.fold_writeback();
        self.fuse();
        self.windows();
        Some(())
    }

    /// Fuses runs of uops inside the instruction whose temporaries nothing else in it
    /// reads: a 32-bit rotate (`ROR`, the shifted operand of a logical operation:
    /// zero-extend, shift right, shift left, or) into `Ror32`, the pairs of [`paired_uops`], a
    /// zero-extension and a shift right into `ShlLsr`, and the zero-extension before CBZ or
    /// CBNZ of a W register.
    fn windows(&mut self) {
        let mut i = self.first;
        while i < self.uops.len() {
            let u = &self.uops[i..];
            // Whether only uops `i..i + n` of the instruction read the temporaries `ts`.
            let only_inside = |n: usize, ts: &[Slot]| {
                ts.iter().all(|&t| temp(t))
                    && self.uops[self.first..]
                        .iter()
                        .enumerate()
                        .filter(|&(k, _)| k + self.first < i || k + self.first >= i + n)
                        .all(|(_, u)| ts.iter().all(|&t| !u.reads(t)))
            };
            let pair = match *u {
                [x, y, ..] => paired_uops(x, y),
                _ => None,
            };
            let (n, fused) = match *u {
                [Uop::Zext32 { d: t1, a }, Uop::LsrRI {
                    d: t2,
                    a: x1,
                    imm: s,
                }, Uop::ShlRI {
                    d: t3,
                    a: x2,
                    imm: l,
                }, Uop::OrRR32 { d, a: p, b: q }, ..]
                    if x1 == t1
                        && (x2 == a || x2 == t1)
                        && (1..32).contains(&s)
                        && l == 32 - s
                        && ((p, q) == (t2, t3) || (p, q) == (t3, t2))
                        && a != t1
                        && only_inside(4, &[t1, t2, t3]) =>
                {
                    (4, Uop::Ror32 { d, a, s: s as u8 })
                }
                // EOR with a ROR, BIC, ADD with an extended register.
                [..] if pair.is_some_and(|(t, _)| only_inside(2, &[t])) => {
                    (2, pair.expect("matched above").1)
                }
                [Uop::Zext32 { d: t, a }, Uop::LsrRI { d, a: x, imm: s }, ..]
                    if x == t && s < 32 && a != t && only_inside(2, &[t]) =>
                {
                    (
                        2,
                        Uop::ShlLsr {
                            d,
                            a,
                            l: 32,
                            r: 32 + s as u8,
                        },
                    )
                }
                [Uop::Zext32 { d: t, a }, Uop::Cbz { a: x, target }, ..]
                    if x == t && only_inside(2, &[t]) =>
                {
                    (2, Uop::Cbz32 { a, target })
                }
                [Uop::Zext32 { d: t, a }, Uop::Cbnz { a: x, target }, ..]
                    if x == t && only_inside(2, &[t]) =>
                {
                    (2, Uop::Cbnz32 { a, target })
                }
                _ => {
                    i += 1;
                    continue;
                }
            };
            // The fused uop may fuse again with the next.
            self.uops.splice(i..i + n, [fused]);
        }
    }

    /// Fuses the uops of a few common instructions into one: a register-offset load or
    /// store (`ExtendReg` of the index, the shift, the add, the access), SBFM and UBFM as two
    /// shifts, and the multiply-adds. Each pattern is the instruction's whole list of uops,
    /// so no other uop reads the temporaries it removes.
    fn fuse(&mut self) {
        let u = &self.uops[self.first..];
        let fused = match *u {
            [Uop::ShlRI { d: t, a, imm: l }, Uop::AsrRI { d, a: t2, imm: r }]
                if temp(t) && t == t2 && l < 64 && r < 64 =>
            {
                Uop::ShlAsr {
                    d,
                    a,
                    l: l as u8,
                    r: r as u8,
                }
            }
            [Uop::ShlRI { d: t, a, imm: l }, Uop::LsrRI { d, a: t2, imm: r }]
                if temp(t) && t == t2 && l < 64 && r < 64 =>
            {
                Uop::ShlLsr {
                    d,
                    a,
                    l: l as u8,
                    r: r as u8,
                }
            }
            // UBFIZ: the low `w` bits, shifted left by `sh`, are two shifts.
            [Uop::AndRI { d: t, a, imm: mask }, Uop::ShlRI { d, a: t2, imm: sh }]
                if temp(t)
                    && t == t2
                    && mask != 0
                    && mask & mask.wrapping_add(1) == 0
                    && u64::from(mask.trailing_ones()) + sh <= 64 =>
            {
                let w = u64::from(mask.trailing_ones());
                Uop::ShlLsr {
                    d,
                    a,
                    l: (64 - w) as u8,
                    r: (64 - w - sh) as u8,
                }
            }
            [Uop::MulRR { d: t, a, b }, add] if temp(t) => match add {
                Uop::AddRR { d, a: c, b: t2 } | Uop::AddRR { d, a: t2, b: c }
                    if t2 == t && c != t =>
                {
                    Uop::MAdd { d, a, b, c }
                }
                Uop::AddRR32 { d, a: c, b: t2 } | Uop::AddRR32 { d, a: t2, b: c }
                    if t2 == t && c != t =>
                {
                    Uop::MAdd32 { d, a, b, c }
                }
                Uop::SubRR { d, a: c, b: t2 } if t2 == t && c != t => Uop::MSub { d, a, b, c },
                Uop::SubRR32 { d, a: c, b: t2 } if t2 == t && c != t => Uop::MSub32 { d, a, b, c },
                _ => return,
            },
            [x, y, Uop::MulRR { d: t, a: tx, b: ty }, ref rest @ ..] if rest.len() <= 1 => {
                let (a, b, signed) = match (x, y) {
                    (Uop::Sext32 { d: dx, a }, Uop::Sext32 { d: dy, a: b }) => {
                        (a, b, (dx, dy, true))
                    }
                    (Uop::Zext32 { d: dx, a }, Uop::Zext32 { d: dy, a: b }) => {
                        (a, b, (dx, dy, false))
                    }
                    _ => return,
                };
                let (dx, dy, signed) = signed;
                if !(temp(dx) && temp(dy) && dx != dy && tx == dx && ty == dy) {
                    return;
                }
                // SMULL and UMULL are the multiply-add with XZR: the product is the result.
                let (d, c) = match *rest {
                    [] if !temp(t) => (t, ZERO),
                    [Uop::AddRR { d, a: c, b: t2 } | Uop::AddRR { d, a: t2, b: c }]
                        if temp(t) && t2 == t && c != t =>
                    {
                        (d, c)
                    }
                    _ => return,
                };
                if signed {
                    Uop::SMAddL { d, a, b, c }
                } else {
                    Uop::UMAddL { d, a, b, c }
                }
            }
            _ => match self.indexed().or_else(|| self.paired()) {
                Some(u) => u,
                None => return,
            },
        };
        self.uops.truncate(self.first);
        self.uops.push(fused);
    }

    /// The instruction's uops as one LDP or STP: two accesses of `size` bytes at
    /// `base + off` and `base + off + size` (the addresses computed by `AddRI`s into
    /// temporaries), the loaded values moved to their registers, and the base maybe written
    /// back. The loads' registers and the base are distinct, as the pair then writes them in
    /// the recorded order.
    fn paired(&self) -> Option<Uop> {
        // What each temporary holds: `(slot, offset)`, a register plus a constant.
        let mut sum: Vec<(Slot, Slot, u64)> = Vec::new();
        let at = |sum: &[(Slot, Slot, u64)], a: Slot, off: u64| -> Option<(Slot, u64)> {
            if !temp(a) {
                return (a != ZERO).then_some((a, off));
            }
            let &(_, s, o) = sum.iter().find(|e| e.0 == a)?;
            Some((s, o.wrapping_add(off)))
        };
        // (loaded temporary or stored register, base, offset, size, insn)
        let mut access: Vec<(Slot, Slot, u64, u8, u16)> = Vec::new();
        let mut load = None;
        let mut moves: Vec<(Slot, Slot)> = Vec::new();
        // A writeback given to an `AddRI` of the base itself, the last uop.
        let mut added = None;
        for &u in &self.uops[self.first..] {
            if added.is_some() {
                return None;
            }
            match u {
                Uop::AddRI { d, a, imm } if d == a && !temp(d) && !access.is_empty() => {
                    added = Some((d, imm));
                }
                Uop::AddRI { d, a, imm } if temp(d) && moves.is_empty() => {
                    let (s, o) = at(&sum, a, imm)?;
                    sum.push((d, s, o));
                }
                Uop::Load {
                    d,
                    a,
                    size,
                    insn,
                    off,
                } if temp(d) && moves.is_empty() && load != Some(false) => {
                    let (s, o) = at(&sum, a, off)?;
                    access.push((d, s, o, size, insn));
                    load = Some(true);
                }
                Uop::Store {
                    v,
                    a,
                    size,
                    insn,
                    off,
                } if !temp(v) && moves.is_empty() && load != Some(true) => {
                    let (s, o) = at(&sum, a, off)?;
                    access.push((v, s, o, size, insn));
                    load = Some(false);
                }
                Uop::Mov { d, a } if !temp(d) && temp(a) => moves.push((d, a)),
                _ => return None,
            }
        }
        let [(x1, base, off, size, insn), (x2, base2, off2, size2, _)] = access[..] else {
            return None;
        };
        if base != base2 || size != size2 || off2 != off.wrapping_add(u64::from(size)) {
            return None;
        }
        let off = i32::try_from(off as i64).ok()?;
        // The writeback: the base set to `base + wb`.
        let writeback = |m: &[(Slot, Slot)]| -> Option<Option<i32>> {
            if let Some((d, imm)) = added {
                return (m.is_empty() && d == base)
                    .then(|| i32::try_from(imm as i64).ok().map(Some))?;
            }
            match *m {
                [] => Some(None),
                [(d, t)] if d == base => {
                    let (s, o) = at(&sum, t, 0)?;
                    (s == base)
                        .then(|| i32::try_from(o as i64).ok())
                        .flatten()
                        .map(Some)
                }
                _ => None,
            }
        };
        if load == Some(true) {
            let [(d1, t1), (d2, t2), ref rest @ ..] = moves[..] else {
                return None;
            };
            if t1 != x1 || t2 != x2 || d1 == d2 || d1 == base || d2 == base {
                return None;
            }
            let wb = writeback(rest)?;
            Some(Uop::LoadPair {
                d1,
                d2,
                a: base,
                size,
                writeback: wb.is_some(),
                insn,
                off,
                wb: wb.unwrap_or(0),
            })
        } else {
            let wb = writeback(&moves)?;
            Some(Uop::StorePair {
                v1: x1,
                v2: x2,
                a: base,
                size,
                writeback: wb.is_some(),
                insn,
                off,
                wb: wb.unwrap_or(0),
            })
        }
    }

    /// The instruction's uops as one register-offset access: `[ext] [shift] add access`.
    fn indexed(&self) -> Option<Uop> {
        let mut u = &self.uops[self.first..];
        let (mut ext, mut idx) = (Ext::None, None);
        match *u.first()? {
            Uop::Sext32 { d, a } if temp(d) => (ext, idx) = (Ext::Sxtw, Some((d, a))),
            Uop::Zext32 { d, a } if temp(d) => (ext, idx) = (Ext::Uxtw, Some((d, a))),
            _ => {}
        }
        if idx.is_some() {
            u = &u[1..];
        }
        let mut shift = 0;
        if let Some(&Uop::ShlRI { d, a, imm }) = u.first() {
            let a = match idx {
                Some((t, x)) if t == a => x,
                Some(_) => return None,
                None => a,
            };
            if !temp(d) || imm > 4 {
                return None;
            }
            idx = Some((d, a));
            shift = imm as u8;
            u = &u[1..];
        }
        let [Uop::AddRR { d: t, a, b }, access] = *u else {
            return None;
        };
        if !temp(t) {
            return None;
        }
        // The base and the index: the index is the temporary made above, else either.
        let (base, index) = match idx {
            Some((i, x)) if b == i && a != i => (a, x),
            Some((i, x)) if a == i && b != i => (b, x),
            Some(_) => return None,
            None => (a, b),
        };
        let ext = ext as u8;
        match access {
            Uop::Load {
                d,
                a: at,
                size,
                insn,
                off: 0,
            } if at == t => Some(Uop::LoadIdx {
                d,
                a: base,
                b: index,
                size,
                ext,
                shift,
                insn,
            }),
            Uop::Store {
                v,
                a: at,
                size,
                insn,
                off: 0,
            } if at == t && !temp(v) => Some(Uop::StoreIdx {
                v,
                a: base,
                b: index,
                size,
                ext,
                shift,
                insn,
            }),
            _ => None,
        }
    }

    fn select(&mut self, j: usize) -> Option<()> {
        let loc = |s: &Self, v: Val| s.loc[v as usize];
        match self.ops[j] {
            Op::Imm(c) => self.loc[j] = Loc::Const(c),
            Op::X(n) if n >= 31 => self.loc[j] = Loc::Const(0),
            Op::X(n) => self.loc[j] = Loc::Slot(n as Slot),
            Op::Sp => self.loc[j] = Loc::Slot(SP),
            Op::Nzcv => {
                // The flags may be lazy.
                self.push(Uop::Flags);
                self.loc[j] = Loc::Slot(NZCV);
                self.packed[j] = true;
            }
            Op::SetX(n, v) => {
                if n < 31 {
                    self.write(n as Slot, v, j)?;
                }
            }
            Op::SetSp(v) => self.write(SP, v, j)?,
            Op::SetNzcv(v) => match loc(self, v) {
                Loc::Const(c) => {
                    self.keep_readers_of(NZCV, j)?;
                    self.push(Uop::MovI {
                        d: NZCV,
                        imm: c & 0xf000_0000,
                    });
                }
                _ if self.packed[v as usize] => self.write(NZCV, v, j)?,
                _ => {
                    let s = self.slot(v)?;
                    self.keep_readers_of(NZCV, j)?;
                    self.push(Uop::AndRI {
                        d: NZCV,
                        a: s,
                        imm: 0xf000_0000,
                    });
                }
            },
            Op::AddWithCarry(x, y, c, bits) => {
                let bits64 = bits == 64;
                let flags_read = self.last_use.get(j + 1).is_some_and(|&u| u != 0);
                // `x + NOT(z) + 1` (SUB, SUBS, CMP, NEG): a subtraction of z.
                if loc(self, c) == Loc::Const(1) {
                    if let Some(z) = self.negated(y, j) {
                        let a = self.slot(x)?;
                        let d = self.dest(j)?;
                        if flags_read {
                            let f = self.dest(j + 1)?;
                            self.push(Uop::Subs {
                                d,
                                f,
                                a,
                                b: z,
                                bits64,
                            });
                        } else {
                            match self.shifted_slot(z, y) {
                                Some((b, s)) => self.push(Uop::SubLsl { d, a, b, s }),
                                None => self.push(Uop::SubRR { d, a, b: z }),
                            }
                            if !bits64 {
                                self.narrow_last(d);
                            }
                        }
                        return Some(());
                    }
                }
                match (loc(self, x), loc(self, y), loc(self, c)) {
                    (Loc::Const(x), Loc::Const(y), Loc::Const(c)) => {
                        let (r, nzcv) = eval_add_with_carry(x, y, c, u32::from(bits));
                        self.loc[j] = Loc::Const(r);
                        self.loc[j + 1] = Loc::Const(nzcv);
                    }
                    // Flags nobody reads: an add (ADD, SUB, and the address arithmetic).
                    (_, Loc::Const(y), Loc::Const(c)) if !flags_read => {
                        let a = self.slot(x)?;
                        let d = self.dest(j)?;
                        self.push(Uop::AddRI {
                            d,
                            a,
                            imm: y.wrapping_add(c),
                        });
                        if !bits64 {
                            self.narrow_last(d);
                        }
                    }
                    (Loc::Const(xc), _, Loc::Const(c)) if !flags_read => {
                        let a = self.slot(y)?;
                        let d = self.dest(j)?;
                        self.push(Uop::AddRI {
                            d,
                            a,
                            imm: xc.wrapping_add(c),
                        });
                        if !bits64 {
                            self.narrow_last(d);
                        }
                    }
                    (_, Loc::Const(imm), Loc::Const(c)) | (Loc::Const(imm), _, Loc::Const(c)) => {
                        let other = if matches!(loc(self, y), Loc::Const(_)) {
                            x
                        } else {
                            y
                        };
                        let a = self.slot(other)?;
                        let d = self.dest(j)?;
                        let f = self.dest(j + 1)?;
                        self.push(Uop::AwcI {
                            d,
                            f,
                            a,
                            carry: c != 0,
                            bits64,
                            imm,
                        });
                    }
                    // ADD (shifted register): `x + y + 0`.
                    (_, _, Loc::Const(c)) if !flags_read => {
                        let d = if let Some((b, s)) = self.shifted(y, j) {
                            let a = self.slot(x)?;
                            let d = self.dest(j)?;
                            self.push(Uop::AddLsl { d, a, b, s });
                            d
                        } else {
                            let (a, b) = (self.slot(x)?, self.slot(y)?);
                            let d = self.dest(j)?;
                            self.push(Uop::AddRR { d, a, b });
                            d
                        };
                        if c != 0 {
                            self.push(Uop::AddRI { d, a: d, imm: c });
                        }
                        if !bits64 {
                            self.narrow_last(d);
                        }
                    }
                    _ => {
                        let (a, b, c) = (self.slot(x)?, self.slot(y)?, self.slot(c)?);
                        if !flags_read {
                            let d = self.dest(j)?;
                            let t = self.temp()?;
                            self.push(Uop::AddRR { d: t, a, b });
                            self.push(Uop::AddRR { d, a: t, b: c });
                            if !bits64 {
                                self.narrow_last(d);
                            }
                        } else {
                            let d = self.dest(j)?;
                            let f = self.dest(j + 1)?;
                            self.push(Uop::Awc {
                                d,
                                f,
                                a,
                                b,
                                c,
                                bits64,
                            });
                        }
                    }
                }
            }
            // Made with its `AddWithCarry`.
            Op::CarryFlags(_) => self.packed[j] = true,
            Op::LogicalFlags(r, bits) => {
                if let Loc::Const(c) = loc(self, r) {
                    self.loc[j] = Loc::Const(eval_logical_flags(c, u32::from(bits)));
                } else {
                    let a = self.slot(r)?;
                    let d = self.dest(j)?;
                    self.push(Uop::LogicalFlags {
                        d,
                        a,
                        bits64: bits == 64,
                    });
                }
                self.packed[j] = true;
            }
            Op::Cond(cond) => {
                let d = self.dest(j)?;
                self.push(Uop::Cond { d, cond });
            }
            Op::Sys(r) => {
                let d = self.dest(j)?;
                self.push(Uop::Sys { d, r });
            }
            Op::SetSys(r, v) => {
                let a = self.slot(v)?;
                self.push(Uop::SetSys { r, a });
            }
            Op::V(n, half) => {
                let d = self.dest(j)?;
                self.push(Uop::GetV {
                    d,
                    n: n as u8,
                    half: half as u8,
                });
            }
            Op::SetV(n, half, v) => {
                let a = self.slot(v)?;
                self.push(Uop::SetV {
                    n: n as u8,
                    half: half as u8,
                    a,
                });
            }
            Op::Bin(op, a, b) => match (loc(self, a), loc(self, b)) {
                (Loc::Const(x), Loc::Const(y)) => self.loc[j] = Loc::Const(eval_bin(op, x, y)),
                // UBFM's mask after a shift right that left those bits zero.
                (Loc::Slot(s), Loc::Const(y))
                    if op == BinOp::And && !self.high_zeros(s) & !y == 0 =>
                {
                    self.loc[j] = self.loc[a as usize];
                }
                // `x op identity` is `x` (a shifted operand's LSL #0, MADD's XZR addend).
                (_, Loc::Const(y)) if identity(op, y) => {
                    self.loc[j] = self.loc[a as usize];
                    self.packed[j] = self.packed[a as usize];
                }
                (Loc::Const(x), _) if commutes(op) && identity(op, x) => {
                    self.loc[j] = self.loc[b as usize];
                    self.packed[j] = self.packed[b as usize];
                }
                // SBFM and UBFM: a shift left, then right.
                (Loc::Slot(_), Loc::Const(r))
                    if matches!(op, BinOp::Asr | BinOp::Lsr)
                        && r < 64
                        && self.last_use[a as usize] == j
                        && self.readers[a as usize] == 1
                        && matches!(self.uops.last(), Some(Uop::ShlRI { .. })) =>
                {
                    let Loc::Slot(t) = loc(self, a) else {
                        return None;
                    };
                    match self.pop_shift(t) {
                        Some((x, l)) => {
                            let d = self.dest(j)?;
                            let r = r as u8;
                            self.push(if op == BinOp::Asr {
                                Uop::ShlAsr { d, a: x, l, r }
                            } else {
                                Uop::ShlLsr { d, a: x, l, r }
                            });
                        }
                        None => {
                            let d = self.dest(j)?;
                            self.push(bin_ri(op, d, t, r));
                        }
                    }
                }
                // SBFIZ and UBFIZ of 32 bits: `((x << l) >> r) << s` is `(x << l) >> (r - s)`
                // when `s <= r <= l`, as the low `l` bits of `x << l` are zero.
                (Loc::Slot(t), Loc::Const(s))
                    if op == BinOp::Shl
                        && self.last_use[a as usize] == j
                        && self.readers[a as usize] == 1
                        && temp(t)
                        && self.uops.len() > self.first
                        && matches!(
                            self.uops.last(),
                            Some(&(Uop::ShlAsr { d, l, r, .. } | Uop::ShlLsr { d, l, r, .. }))
                                if d == t && s <= u64::from(r) && r <= l
                        ) =>
                {
                    let last = self.uops.pop().expect("a uop");
                    let d = self.dest(j)?;
                    let r = |r: u8| r - s as u8;
                    self.push(match last {
                        Uop::ShlAsr { a, l, r: rs, .. } => Uop::ShlAsr { d, a, l, r: r(rs) },
                        Uop::ShlLsr { a, l, r: rs, .. } => Uop::ShlLsr { d, a, l, r: r(rs) },
                        _ => unreachable!("matched above"),
                    });
                }
                (_, Loc::Const(imm)) => {
                    let a = self.slot(a)?;
                    let d = self.dest(j)?;
                    self.push(bin_ri(op, d, a, imm));
                }
                (Loc::Const(imm), _) if commutes(op) => {
                    let b = self.slot(b)?;
                    let d = self.dest(j)?;
                    self.push(bin_ri(op, d, b, imm));
                }
                _ => {
                    let (a, b) = (self.slot(a)?, self.slot(b)?);
                    let d = self.dest(j)?;
                    self.push(bin_rr(op, d, a, b));
                }
            },
            Op::Un(op, a) => {
                if let Loc::Const(x) = loc(self, a) {
                    self.loc[j] = Loc::Const(eval_un(op, x));
                } else if op == UnOp::Zext32 && self.narrows(a, j) {
                } else if op == UnOp::Zext32 && self.read_at_32_bits(j) {
                    // Only a 32-bit `AddWithCarry` reads it, which reads 32 bits.
                    self.loc[j] = self.loc[a as usize];
                } else {
                    let a = self.slot(a)?;
                    let d = self.dest(j)?;
                    self.push(un_r(op, d, a));
                }
            }
            Op::Select(c, a, b) => {
                if let Loc::Const(c) = loc(self, c) {
                    let v = if c != 0 { a } else { b };
                    self.loc[j] = self.loc[v as usize];
                    self.packed[j] = self.packed[v as usize];
                } else {
                    let only_here = self.last_use[c as usize] == j && self.readers[c as usize] == 1;
                    // CSET (CSINC of XZR and XZR): a `ConditionHolds` selecting 1 or 0 is that
                    // condition, or its inverse, itself.
                    if let (Loc::Slot(t), Loc::Const(x @ (0 | 1)), Loc::Const(y @ (0 | 1))) =
                        (loc(self, c), loc(self, a), loc(self, b))
                    {
                        match self.uops.last() {
                            Some(&Uop::Cond { d: t2, cond })
                                if t2 == t
                                    && x != y
                                    && cond < 14
                                    && only_here
                                    && self.uops.len() > self.first =>
                            {
                                self.uops.pop();
                                let d = self.dest(j)?;
                                let cond = if x == 1 { cond } else { cond ^ 1 };
                                self.push(Uop::Cond { d, cond });
                                return Some(());
                            }
                            _ => {}
                        }
                    }
                    let (c, a2, b2) = (self.slot(c)?, self.slot(a)?, self.slot(b)?);
                    let d = self.dest(j)?;
                    match self.uops.last() {
                        // CSEL: `ConditionHolds` folded into the select.
                        Some(&Uop::Cond { d: t, cond })
                            if t == c && only_here && self.uops.len() > self.first =>
                        {
                            self.uops.pop();
                            self.push(Uop::CSel {
                                d,
                                a: a2,
                                b: b2,
                                cond,
                            });
                        }
                        _ => self.push(Uop::Select { d, c, a: a2, b: b2 }),
                    }
                    self.packed[j] = self.packed[a as usize] && self.packed[b as usize];
                }
            }
            Op::CallPure(h, args, n) => self.call(j, h, &args[..usize::from(n)], true)?,
            Op::Lanes(h, _, _, _, args) => self.call(j, h, &args, true)?,
            Op::Call(h, args, n) => self.call(j, h, &args[..usize::from(n)], false)?,
            Op::Branch(t) => match loc(self, t) {
                Loc::Const(target) => self.push(Uop::Branch { target }),
                _ => {
                    let a = self.slot(t)?;
                    self.push(Uop::BranchR { a });
                }
            },
            Op::BranchIf(c, t) => {
                let Loc::Const(target) = loc(self, t) else {
                    return None;
                };
                match loc(self, c) {
                    Loc::Const(0) => {}
                    Loc::Const(_) => self.push(Uop::Branch { target }),
                    _ => {
                        let only_here = self.last_use[c as usize] == j;
                        let c = self.slot(c)?;
                        match self.uops.last() {
                            Some(&Uop::Cond { d, cond })
                                if d == c && only_here && self.uops.len() > self.first =>
                            {
                                self.uops.pop();
                                self.push(Uop::BranchCond { cond, target });
                            }
                            Some(&Uop::EqRI { d, a, imm: 0 })
                                if d == c && only_here && self.uops.len() > self.first =>
                            {
                                self.uops.pop();
                                self.push(Uop::Cbz { a, target });
                            }
                            Some(&Uop::NeRI { d, a, imm: 0 })
                                if d == c && only_here && self.uops.len() > self.first =>
                            {
                                self.uops.pop();
                                self.push(Uop::Cbnz { a, target });
                            }
                            _ => self.push(Uop::BranchIf { c, target }),
                        }
                    }
                }
            }
            Op::Load(a, size) => {
                let (a, off) = self.address(a, j)?;
                let d = self.dest(j)?;
                let insn = self.insn;
                self.push(Uop::Load {
                    d,
                    a,
                    size,
                    insn,
                    off,
                });
            }
            Op::Store(a, size, v) => {
                let (a, off) = self.address(a, j)?;
                let v = self.slot(v)?;
                let insn = self.insn;
                self.push(Uop::Store {
                    v,
                    a,
                    size,
                    insn,
                    off,
                });
            }
            Op::CheckAligned(a, size, write) => {
                let a = self.slot(a)?;
                let insn = self.insn;
                self.push(Uop::Aligned {
                    a,
                    size,
                    write,
                    insn,
                });
            }
            // Exclusives, atomics, barriers: the instruction runs its interpreter semantics.
            Op::LoadExclusive(..)
            | Op::StoreExclusive(..)
            | Op::ClearExclusive
            | Op::LoadExclusivePair(_)
            | Op::StoreExclusivePair(..)
            | Op::Atomic(..)
            | Op::CompareSwap(..)
            | Op::CompareSwapPair(..)
            | Op::Second(_)
            | Op::Barrier => return None,
        }
        Some(())
    }

    fn call(&mut self, j: usize, h: Helper, args: &[Val], pure: bool) -> Option<()> {
        let mut slots = [ZERO; 4];
        for (s, &v) in slots.iter_mut().zip(args) {
            *s = self.slot(v)?;
        }
        let d = self.dest(j)?;
        let n = args.len() as u8;
        self.push(if pure {
            Uop::CallPure {
                d,
                n,
                args: slots,
                f: h,
            }
        } else {
            Uop::Call {
                d,
                n,
                args: slots,
                f: h,
            }
        });
        Some(())
    }
}

/// Whether `a op c == a` for every `a`.
fn identity(op: BinOp, c: u64) -> bool {
    match op {
        BinOp::Add
        | BinOp::Sub
        | BinOp::Or
        | BinOp::Xor
        | BinOp::Shl
        | BinOp::Lsr
        | BinOp::Asr
        | BinOp::Ror => c == 0,
        BinOp::And => c == u64::MAX,
        BinOp::Mul | BinOp::UDiv | BinOp::SDiv => c == 1,
        _ => false,
    }
}

/// Two uops as one, when the first computes a temporary `t` that the second reads: a 32-bit
/// ROR and an EOR with it (`XorRor32`, SHA-256's rounds), a NOT and an AND with it (BIC), or
/// an extension and an ADD of it ([`extended`]); with `t`.
fn paired_uops(x: Uop, y: Uop) -> Option<(Slot, Uop)> {
    // The operand of `y` that is not `t`, when exactly one is.
    let other = |t: Slot, p: Slot, q: Slot| match (p == t, q == t) {
        (true, false) => Some(q),
        (false, true) => Some(p),
        _ => None,
    };
    let fused = match (x, y) {
        (Uop::Ror32 { d: t, a: b, s }, Uop::XorRR32 { d, a: p, b: q }) => (
            t,
            Uop::XorRor32 {
                d,
                a: other(t, p, q)?,
                b,
                s,
            },
        ),
        (Uop::Not { d: t, a: b }, Uop::AndRR { d, a: p, b: q }) => (
            t,
            Uop::Bic {
                d,
                a: other(t, p, q)?,
                b,
            },
        ),
        (Uop::Not { d: t, a: b }, Uop::AndRR32 { d, a: p, b: q }) => (
            t,
            Uop::Bic32 {
                d,
                a: other(t, p, q)?,
                b,
            },
        ),
        _ => return extended(x, y),
    };
    Some(fused)
}

/// The extension `ext` of a register into a temporary, then `add` (an `AddRR` or `AddLsl` of
/// it to another register), as one `AddUxt` or `AddSxt`; with the temporary.
fn extended(ext: Uop, add: Uop) -> Option<(Slot, Uop)> {
    let (t, x, bits, signed) = match ext {
        Uop::Zext8 { d, a } => (d, a, 8, false),
        Uop::Zext16 { d, a } => (d, a, 16, false),
        Uop::Zext32 { d, a } => (d, a, 32, false),
        Uop::Sext8 { d, a } => (d, a, 8, true),
        Uop::Sext16 { d, a } => (d, a, 16, true),
        Uop::Sext32 { d, a } => (d, a, 32, true),
        _ => return None,
    };
    let (d, a, s) = match add {
        Uop::AddRR { d, a, b } if b == t && a != t => (d, a, 0),
        Uop::AddRR { d, a, b } if a == t && b != t => (d, b, 0),
        Uop::AddLsl { d, a, b, s } if b == t && a != t && s < 8 => (d, a, s),
        _ => return None,
    };
    // `Extend(x) << s` is `(x << l) >> (l - s)`: the low `l` bits of `x << l` are zero.
    let l = 64 - bits;
    let r = l - s;
    Some((
        t,
        if signed {
            Uop::AddSxt { d, a, b: x, l, r }
        } else {
            Uop::AddUxt { d, a, b: x, l, r }
        },
    ))
}

/// Whether `a op b == b op a`.
fn commutes(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Add
            | BinOp::And
            | BinOp::Or
            | BinOp::Xor
            | BinOp::Mul
            | BinOp::UMulH
            | BinOp::SMulH
            | BinOp::Eq
            | BinOp::Ne
    )
}

/// Selects the uops of the instruction recorded in `rec` onto `uops`; false (with `uops` as
/// it was) when an operation is not taken.
fn select(rec: &Recorder, uops: &mut Vec<Uop>, insn: u16) -> bool {
    let ops = &rec.ops[..];
    let mut last_use = vec![0; ops.len()];
    let mut readers = vec![0; ops.len()];
    for (j, op) in ops.iter().enumerate() {
        uses(op, |v| {
            last_use[v as usize] = j;
            readers[v as usize] += 1;
        });
    }
    let first = uops.len();
    let mut s = Select {
        ops,
        uops,
        first,
        insn,
        loc: vec![Loc::None; ops.len()],
        last_use,
        packed: vec![false; ops.len()],
        readers,
        next_temp: u16::from(FIRST_TEMP),
    };
    if s.run().is_some() {
        return true;
    }
    uops.truncate(first);
    false
}

/// An entry of the direct-mapped table in front of the block map: a block's PC, its index,
/// and the address of its first uop (exposed, so that the table stays `Send`), valid while
/// the block is (the table is cleared with the blocks; a block's uops never move).
#[derive(Clone, Copy)]
struct Link {
    pc: u64,
    uops: usize,
    block: u32,
}

impl Link {
    /// No block, for entry `k` ([`crate::interp::empty_pc`]).
    fn none(k: usize) -> Link {
        Link {
            pc: crate::interp::empty_pc(k, LOOKUP),
            uops: 0,
            block: 0,
        }
    }

    /// A table of no blocks.
    fn clear(table: &mut [Link]) {
        for (k, e) in table.iter_mut().enumerate() {
            *e = Link::none(k);
        }
    }

    fn new(blocks: &[Block], i: u32) -> Link {
        let b = &blocks[i as usize];
        Link {
            pc: b.pc,
            uops: b.uops.as_ptr().expose_provenance(),
            block: i,
        }
    }
}

/// The pre-decoded interpreter, plugged into [`Interp::run`] as an [`Accelerator`].
pub struct Predecoded {
    interp: Arc<SemTable<Interp>>,
    recorded: Arc<SemTable<Recorder>>,
    blocks: Vec<Block>,
    by_pc: HashMap<u64, u32>,
    /// Links to blocks by `pc / 4`, in front of `by_pc`.
    lookup: Vec<Link>,
    generation: u64,
    features: Option<FeatureSet>,
    frame: Box<[u64; FRAME]>,
    /// Where `run_block` copies the rest of an instruction that ended its block early.
    tail: Vec<Uop>,
    /// Instructions translated, and of them those that run their interpreter semantics.
    translated: u64,
    whole: u64,
    /// `ARMATURE_UOP_DUMP=1`: print each translated block's uops to stderr.
    dump: bool,
    /// The most instructions in a block (at most [`BLOCK_MAX`]; 1 single-steps).
    pub block_max: usize,
    /// Whether `execute` goes on from block to block (else it returns after each block, and
    /// a block that loops to itself runs once), as the conformance test compares states.
    pub chain: bool,
}

impl Predecoded {
    /// An engine over the semantics of `interp` (for the instructions it runs whole) and
    /// `recorded` (the same registrations, for selection).
    pub fn new(interp: Arc<SemTable<Interp>>, recorded: Arc<SemTable<Recorder>>) -> Predecoded {
        Predecoded {
            interp,
            recorded,
            blocks: Vec::new(),
            by_pc: HashMap::new(),
            lookup: (0..LOOKUP).map(Link::none).collect(),
            generation: u64::MAX,
            features: None,
            frame: Box::new([0; FRAME]),
            tail: Vec::new(),
            translated: 0,
            whole: 0,
            dump: std::env::var_os("ARMATURE_UOP_DUMP").is_some_and(|v| v == "1"),
            block_max: BLOCK_MAX,
            chain: true,
        }
    }

    fn clear(&mut self) {
        self.blocks.clear();
        self.by_pc.clear();
        Link::clear(&mut self.lookup);
    }

    fn find(&mut self, pc: u64) -> Option<u32> {
        let e = &mut self.lookup[(pc / 4) as usize % LOOKUP];
        if e.pc == pc {
            return Some(e.block);
        }
        let i = *self.by_pc.get(&pc)?;
        *e = Link::new(&self.blocks, i);
        Some(i)
    }

    /// Translates the block at `pc`; `None` when its first instruction is left to the
    /// interpreter (a fetch fault, an undefined word, an encoding without semantics).
    fn translate(&mut self, m: &Interp, pc: u64, features: &FeatureSet) -> Option<u32> {
        let mut uops = Vec::new();
        let mut ends = Vec::new();
        let mut pcs = Vec::new();
        let max = self.block_max.clamp(1, BLOCK_MAX);
        let mut p = pc;
        // The target of the unconditional branch the translation went on through, whose
        // `Uop::Branch` is put back when the instruction there is not translated.
        let mut followed = None;
        let mut follows = 0;
        while ends.len() < max {
            let insn = ends.len() as u16;
            let Ok(word) = m.mem.fetch(p) else { break };
            let id = match decode(word, features) {
                Decoded::Insn(id) => id,
                // The hint space executes as NOP where a hint's feature is absent, as in
                // `Interp`.
                Decoded::FeatureDisabled { .. } if is_hint(word) => {
                    ends.push(uops.len() as u32);
                    pcs.push(p);
                    followed = None;
                    p = p.wrapping_add(4);
                    continue;
                }
                _ => break,
            };
            let (Some(f), Some(r)) = (self.interp.get_for(id, word), self.recorded.get(id)) else {
                break;
            };
            let mut rec = Recorder::default();
            rec.begin(p, word);
            self.translated += 1;
            if r(&mut rec, word).is_err() {
                // It stops whenever it runs (SVC, UDF, BRK): the interpreter's semantics
                // raise the stop with the state before it.
                uops.push(Uop::Interp { f, word, insn });
                ends.push(uops.len() as u32);
                pcs.push(p);
                followed = None;
                self.whole += 1;
                break;
            }
            if !select(&rec, &mut uops, insn) {
                uops.push(Uop::Interp { f, word, insn });
                self.whole += 1;
            }
            ends.push(uops.len() as u32);
            pcs.push(p);
            followed = None;
            if rec.insns[0].branches {
                if ends.len() >= max {
                    break;
                }
                if !side_exit(pc, &mut uops, &mut ends) {
                    // B and BL (a branch, after BL's write of the link register): on at the
                    // target, unless the block holds it already (a loop, which the block's end
                    // or a fused compare runs again).
                    match uops[insn_start(&ends, ends.len() - 1)..] {
                        [Uop::Branch { target }] | [Uop::MovI { .. }, Uop::Branch { target }]
                            if follows < FOLLOW_MAX && !pcs.contains(&target) =>
                        {
                            uops.pop();
                            *ends.last_mut().expect("an instruction") = uops.len() as u32;
                            followed = Some(target);
                            follows += 1;
                            p = target;
                            continue;
                        }
                        _ => break,
                    }
                }
            }
            p = p.wrapping_add(4);
        }
        if ends.is_empty() {
            return None;
        }
        if let Some(target) = followed {
            // The instruction at the target is not translated (a fetch fault, an undefined
            // word, the block full): the branch ends the block.
            uops.push(Uop::Branch { target });
            *ends.last_mut().expect("an instruction") = uops.len() as u32;
        }
        fuse_compare_branch(pc, &mut uops, &mut ends);
        lazy_flags(&mut uops, &ends);
        specialize(&mut uops);
        join(pc, &mut uops, &mut ends);
        if self.dump {
            eprintln!("uops of the block at {pc:#x}:");
            let mut start = 0;
            for (&end, &a) in ends.iter().zip(&pcs) {
                for u in &uops[start..end as usize] {
                    eprintln!("  {a:#x}: {u:?}");
                }
                start = end as usize;
            }
        }
        uops.push(Uop::End);
        let i = self.blocks.len() as u32;
        let n = ends.len() as u32;
        self.blocks.push(Block {
            pc,
            next: pcs.last().expect("an instruction").wrapping_add(4),
            n,
            pcs,
            uops,
            ends,
        });
        self.by_pc.insert(pc, i);
        self.lookup[(pc / 4) as usize % LOOKUP] = Link::new(&self.blocks, i);
        Some(i)
    }
}

/// Whether the instruction `word` (of encoding `id`, with semantics in `table`) selects into
/// uops, rather than running its interpreter semantics whole; `None` when its semantics stop
/// whenever they run.
pub fn selects(table: &SemTable<Recorder>, id: crate::isa::EncodingId, word: u32) -> Option<bool> {
    let f = table.get(id)?;
    let mut rec = Recorder::default();
    rec.begin(0x40_0000, word);
    f(&mut rec, word).ok()?;
    Some(select(&rec, &mut Vec::new(), 0))
}

impl Accelerator for Predecoded {
    fn execute(&mut self, m: &mut Interp, features: &FeatureSet) -> Accelerated {
        if self.features.as_ref() != Some(features) || self.generation != m.mem.code_generation() {
            self.clear();
            self.features = Some(*features);
            self.generation = m.mem.code_generation();
        }
        load_frame(&mut self.frame, m);
        let mut pc = m.cpu.pc;
        let mut ran = false;
        let done = loop {
            let i = match self.find(pc) {
                Some(i) => i,
                None => match self.translate(m, pc, features) {
                    Some(i) => i,
                    None if ran => break Accelerated::Ran,
                    None => break Accelerated::Interpret,
                },
            };
            match run_block(
                &mut self.frame,
                m,
                &self.blocks,
                &self.lookup,
                i,
                self.generation,
                self.chain,
                &mut self.tail,
            ) {
                Ok(next) => {
                    pc = next;
                    ran = true;
                    if !self.chain
                        || m.interrupt.load(Ordering::Relaxed)
                        || m.kick.load(Ordering::Relaxed)
                        || m.mem.code_generation() != self.generation
                    {
                        break Accelerated::Ran;
                    }
                }
                Err((at, insn, stop)) => {
                    m.instructions += u64::from(insn) + 1;
                    pc = at;
                    break Accelerated::Stopped(stop);
                }
            }
        };
        store_frame(&self.frame, m);
        m.cpu.pc = pc;
        done
    }

    fn for_new_thread(&self) -> Box<dyn Accelerator> {
        Box::new(Predecoded::new(self.interp.clone(), self.recorded.clone()))
    }

    fn stats(&self) -> String {
        format!(
            "pre-decoded interpreter: {} blocks, {} instructions translated, {} of them run whole",
            self.blocks.len(),
            self.translated,
            self.whole
        )
    }
}
