//! The recorder: a [`Sem`] backend whose values are indices of recorded operations, so that
//! running an instruction's semantics once gives the operations the JIT lowers. It is how the
//! semantics written for the interpreter reach Cranelift without being written again
//! (Dynarmic's IR, with `Sem` as its emitter).

use crate::sem::{AtomicOp, BinOp, Helper, LaneOp, Sem, Stop, SysReg, UnOp};

/// A recorded value: the index of the operation that made it.
pub type Val = u32;

/// One recorded operation. Every operation has a value (0 when it makes none).
#[derive(Clone, Copy, Debug)]
pub enum Op {
    Imm(u64),
    X(u32),
    SetX(u32, Val),
    V(u32, u32),
    SetV(u32, u32, Val),
    Sp,
    SetSp(Val),
    Nzcv,
    SetNzcv(Val),
    /// `AddWithCarry(x, y, carry_in)` at a width of 32 or 64: the result; `CarryFlags` of it
    /// gives the NZCV.
    AddWithCarry(Val, Val, Val, u8),
    /// The NZCV of an `AddWithCarry`.
    CarryFlags(Val),
    /// The NZCV of a logical result at a width of 32 or 64.
    LogicalFlags(Val, u8),
    /// `ConditionHolds(cond)` on the current NZCV: 1 or 0.
    Cond(u8),
    Sys(SysReg),
    SetSys(SysReg, Val),
    Bin(BinOp, Val, Val),
    Un(UnOp, Val),
    Select(Val, Val, Val),
    Call(Helper, [Val; 4], u8),
    /// A call of a helper that does not touch the CPU state (`Sem::call_pure`).
    CallPure(Helper, [Val; 4], u8),
    /// `Sem::lanes`: the helper, the operation, the element size, whether pairwise, and the
    /// helper's arguments (the two halves and the operation's code).
    Lanes(Helper, LaneOp, u8, bool, [Val; 3]),
    Branch(Val),
    BranchIf(Val, Val),
    Load(Val, u8),
    Store(Val, u8, Val),
    /// `Sem::check_aligned`: address, size, whether a write.
    CheckAligned(Val, u8, bool),
    LoadExclusive(Val, u8),
    StoreExclusive(Val, u8, Val),
    ClearExclusive,
    /// The low doubleword; `Second` of it is the high one.
    LoadExclusivePair(Val),
    StoreExclusivePair(Val, Val, Val),
    Atomic(AtomicOp, Val, u8, Val),
    CompareSwap(Val, u8, Val, Val),
    /// Address, expected low and high, new low and high; the old low doubleword, `Second`
    /// gives the high one.
    CompareSwapPair(Val, Val, Val, Val, Val),
    /// The second result of the pair operation that made the value.
    Second(Val),
    Barrier,
}

impl Op {
    /// Whether the operation reaches guest memory through the interpreter (and may fault or
    /// change code).
    pub fn touches_memory(&self) -> bool {
        matches!(
            self,
            Op::Load(..)
                | Op::Store(..)
                | Op::LoadExclusive(..)
                | Op::StoreExclusive(..)
                | Op::LoadExclusivePair(..)
                | Op::StoreExclusivePair(..)
                | Op::Atomic(..)
                | Op::CompareSwap(..)
                | Op::CompareSwapPair(..)
        )
    }

    /// Whether the operation may write guest memory (and so change code).
    pub fn writes_memory(&self) -> bool {
        matches!(
            self,
            Op::Store(..)
                | Op::StoreExclusive(..)
                | Op::StoreExclusivePair(..)
                | Op::Atomic(..)
                | Op::CompareSwap(..)
                | Op::CompareSwapPair(..)
        )
    }
}

/// One recorded instruction: its address, word and where its operations start.
#[derive(Clone, Copy, Debug)]
pub struct Insn {
    pub pc: u64,
    pub word: u32,
    pub start: usize,
    /// Whether it called `branch` or `branch_if` (it ends the block).
    pub branches: bool,
    /// For a call or return the region's recording followed (BL, BLR, RET), the address it
    /// went on to: after a computed branch (BLR, RET) the compiled code goes on there when
    /// the branch does, else it leaves.
    pub guess: Option<u64>,
}

/// Records the operations of a run of instructions.
#[derive(Default)]
pub struct Recorder {
    pub ops: Vec<Op>,
    pub insns: Vec<Insn>,
    pc: u64,
}

impl Recorder {
    /// Starts recording the instruction `word` at `pc`.
    pub fn begin(&mut self, pc: u64, word: u32) {
        self.pc = pc;
        self.insns.push(Insn {
            pc,
            word,
            start: self.ops.len(),
            branches: false,
            guess: None,
        });
    }

    /// Forgets the instruction being recorded (its semantics stopped at translation time).
    pub fn discard_last(&mut self) {
        if let Some(i) = self.insns.pop() {
            self.ops.truncate(i.start);
        }
    }

    /// Forgets every instruction from the `n`th on.
    pub fn truncate(&mut self, n: usize) {
        if let Some(i) = self.insns.get(n) {
            self.ops.truncate(i.start);
            self.insns.truncate(n);
        }
    }

    fn push(&mut self, op: Op) -> Val {
        self.ops.push(op);
        (self.ops.len() - 1) as Val
    }

    fn mark_branch(&mut self) {
        if let Some(i) = self.insns.last_mut() {
            i.branches = true;
        }
    }
}

impl Sem for Recorder {
    type V = Val;

    fn imm(&mut self, v: u64) -> Val {
        self.push(Op::Imm(v))
    }
    fn x(&mut self, n: u32) -> Val {
        self.push(Op::X(n))
    }
    fn set_x(&mut self, n: u32, v: Val) {
        self.push(Op::SetX(n, v));
    }
    fn v(&mut self, n: u32, half: u32) -> Val {
        self.push(Op::V(n & 31, half & 1))
    }
    fn set_v(&mut self, n: u32, half: u32, v: Val) {
        self.push(Op::SetV(n & 31, half & 1, v));
    }
    fn sp(&mut self) -> Val {
        self.push(Op::Sp)
    }
    fn set_sp(&mut self, v: Val) {
        self.push(Op::SetSp(v));
    }
    fn pc(&mut self) -> Val {
        let pc = self.pc;
        self.push(Op::Imm(pc))
    }
    fn nzcv(&mut self) -> Val {
        self.push(Op::Nzcv)
    }
    fn set_nzcv(&mut self, v: Val) {
        self.push(Op::SetNzcv(v));
    }
    fn add_with_carry(&mut self, x: Val, y: Val, carry_in: Val, bits: u32) -> (Val, Val) {
        let r = self.push(Op::AddWithCarry(x, y, carry_in, bits as u8));
        (r, self.push(Op::CarryFlags(r)))
    }
    fn logical_flags(&mut self, result: Val, bits: u32) -> Val {
        self.push(Op::LogicalFlags(result, bits as u8))
    }
    fn condition_holds(&mut self, cond: u32) -> Val {
        self.push(Op::Cond(cond as u8))
    }
    fn sysreg(&mut self, r: SysReg) -> Val {
        self.push(Op::Sys(r))
    }
    fn set_sysreg(&mut self, r: SysReg, v: Val) {
        self.push(Op::SetSys(r, v));
    }
    fn bin(&mut self, op: BinOp, a: Val, b: Val) -> Val {
        self.push(Op::Bin(op, a, b))
    }
    fn un(&mut self, op: UnOp, a: Val) -> Val {
        self.push(Op::Un(op, a))
    }
    fn select(&mut self, c: Val, a: Val, b: Val) -> Val {
        self.push(Op::Select(c, a, b))
    }
    fn call(&mut self, f: Helper, args: &[Val]) -> Val {
        let mut a = [0; 4];
        a[..args.len()].copy_from_slice(args);
        self.push(Op::Call(f, a, args.len() as u8))
    }
    fn call_pure(&mut self, f: Helper, args: &[Val]) -> Val {
        let mut a = [0; 4];
        a[..args.len()].copy_from_slice(args);
        self.push(Op::CallPure(f, a, args.len() as u8))
    }
    fn lanes(
        &mut self,
        helper: Helper,
        op: LaneOp,
        esize: u32,
        pairwise: bool,
        a: Val,
        b: Val,
    ) -> Val {
        let code = self.imm(op.code(esize));
        self.push(Op::Lanes(helper, op, esize as u8, pairwise, [a, b, code]))
    }
    fn branch(&mut self, target: Val) {
        self.mark_branch();
        self.push(Op::Branch(target));
    }
    fn branch_if(&mut self, c: Val, target: Val) {
        self.mark_branch();
        self.push(Op::BranchIf(c, target));
    }
    fn load(&mut self, addr: Val, size: u8) -> Result<Val, Stop> {
        Ok(self.push(Op::Load(addr, size)))
    }
    fn store(&mut self, addr: Val, size: u8, v: Val) -> Result<(), Stop> {
        self.push(Op::Store(addr, size, v));
        Ok(())
    }
    fn check_aligned(&mut self, addr: Val, size: u8, write: bool) -> Result<(), Stop> {
        self.push(Op::CheckAligned(addr, size, write));
        Ok(())
    }
    fn load_exclusive(&mut self, addr: Val, size: u8) -> Result<Val, Stop> {
        Ok(self.push(Op::LoadExclusive(addr, size)))
    }
    fn store_exclusive(&mut self, addr: Val, size: u8, v: Val) -> Result<Val, Stop> {
        Ok(self.push(Op::StoreExclusive(addr, size, v)))
    }
    fn clear_exclusive(&mut self) {
        self.push(Op::ClearExclusive);
    }
    fn load_exclusive_pair(&mut self, addr: Val) -> Result<(Val, Val), Stop> {
        let low = self.push(Op::LoadExclusivePair(addr));
        Ok((low, self.push(Op::Second(low))))
    }
    fn store_exclusive_pair(&mut self, addr: Val, low: Val, high: Val) -> Result<Val, Stop> {
        Ok(self.push(Op::StoreExclusivePair(addr, low, high)))
    }
    fn atomic(&mut self, op: AtomicOp, addr: Val, size: u8, v: Val) -> Result<Val, Stop> {
        Ok(self.push(Op::Atomic(op, addr, size, v)))
    }
    fn compare_swap(&mut self, addr: Val, size: u8, expected: Val, new: Val) -> Result<Val, Stop> {
        Ok(self.push(Op::CompareSwap(addr, size, expected, new)))
    }
    fn compare_swap_pair(
        &mut self,
        addr: Val,
        expected: (Val, Val),
        new: (Val, Val),
    ) -> Result<(Val, Val), Stop> {
        let low = self.push(Op::CompareSwapPair(
            addr, expected.0, expected.1, new.0, new.1,
        ));
        Ok((low, self.push(Op::Second(low))))
    }
    fn barrier(&mut self) {
        self.push(Op::Barrier);
    }
}
