//! Lowers a recorded region to a Cranelift function `fn(ctx, cpu, count) -> exit`; branches
//! between the region's instructions are jumps inside it.
//!
//! Guest registers live in Cranelift variables within the region: each is loaded from the CPU
//! state at its first use (at the entry, when the region has inner jumps) and written back at
//! every exit (and before a helper call that sees the CPU state; the variables are reloaded
//! after it). NZCV goes where the chain keeps it (`runtime::Ctx::flags`): after a compare,
//! as its two operands. Loads and stores of 1-8 bytes in one page are inline; where the
//! region has a resume point (`Ctx::resume_pc`), a load tests only that its address is in
//! the guest space and leaves a fault to the host ([`crate::fault`]). Other memory operations
//! call the runtime ([`crate::runtime`]), which performs them through the interpreter; a stop
//! they report leaves the block at once with the state as the interpreter would leave it
//! (the registers written so far, the PC at the instruction, the instruction counted). A
//! write that changed code ends the block after its instruction.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::mem::offset_of;

use armature_core::cpu::Cpu;
use armature_core::mem::{GUEST_SPACE, PAGE_SIZE, P_DATA_WRITE, P_READ};
use armature_core::sem::{AtomicOp, BinOp, Helper, LaneOp, SysReg, UnOp};
use cranelift_codegen::flowgraph::ControlFlowGraph;
use cranelift_codegen::ir::condcodes::{CondCode, IntCC};
use cranelift_codegen::ir::{
    types, AbiParam, Block, ConstantData, Endianness, Function, Inst, InstBuilder, MemFlagsData,
    SigRef, Signature, StackSlotData, StackSlotKind, Value,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, Variable};

use crate::ir::{Op, Recorder, Val};
use crate::runtime::{
    self, FLAGS_CPU, FLAGS_SUB, OFFSET_ARGS, OFFSET_COUNT, OFFSET_FLAGS, OFFSET_LINK,
    OFFSET_RESUME_COUNT, OFFSET_RESUME_FLAGS, OFFSET_RESUME_PC, OFFSET_SECOND, OFFSET_STATUS,
};

const I64: types::Type = types::I64;

/// A piece of the CPU state the block keeps in a variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Reg {
    X(u32),
    Sp,
    Nzcv,
    V(u32, u32),
    Fpcr,
    Fpsr,
    Tpidr,
}

impl Reg {
    /// Its offset in [`Cpu`].
    fn offset(self) -> i32 {
        let at = match self {
            Reg::X(n) => offset_of!(Cpu, x) + 8 * n as usize,
            Reg::Sp => offset_of!(Cpu, sp),
            Reg::Nzcv => offset_of!(Cpu, nzcv),
            Reg::V(n, half) => offset_of!(Cpu, v) + 16 * n as usize + 8 * half as usize,
            Reg::Fpcr => offset_of!(Cpu, fpcr),
            Reg::Fpsr => offset_of!(Cpu, fpsr),
            Reg::Tpidr => offset_of!(Cpu, tpidr_el0),
        };
        at as i32
    }

    fn of_sysreg(r: SysReg) -> Option<Reg> {
        match r {
            SysReg::TpidrEl0 => Some(Reg::Tpidr),
            SysReg::Fpcr => Some(Reg::Fpcr),
            SysReg::Fpsr => Some(Reg::Fpsr),
            SysReg::IdReg(_) | SysReg::CntvctEl0 | SysReg::CntfrqEl0 => None,
        }
    }
}

/// The code `rt_sysreg` decodes.
fn sysreg_code(r: SysReg) -> u64 {
    match r {
        SysReg::IdReg(e) => u64::from(e),
        SysReg::CntvctEl0 => 1 << 32,
        _ => 2 << 32,
    }
}

/// Where the guest's memory is in the host: guest address `a` is host address `base + a`
/// below `GUEST_SPACE`, and its page's permission byte is at `table + a / PAGE_SIZE`
/// (`Memory::host_base`, `Memory::page_table`). Blocks load both from the context
/// (`runtime::Ctx::guest_base`, `page_table`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Guest {
    pub base: u64,
    pub table: u64,
}

/// The bits of a data address that must be clear for the inline path: bits 63..40, so that it
/// is inside the guest space as it is (a tagged address, whose top byte top-byte-ignore drops,
/// takes the slow path).
const OUTSIDE: u64 = !(GUEST_SPACE - 1);

/// The flags of an inline guest access: it cannot trap (the checks before it passed), and it
/// may be misaligned.
fn guest_access() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

/// The most instructions a chain of blocks runs (blocks that continue into the next one
/// without returning to the dispatcher, and turns of a block that loops to itself): then it
/// returns, and the dispatcher reads the interrupt and kick flags and the code generation.
pub const CHAIN_LIMIT: u64 = 1 << 16;

/// Slots of one chunk of [`Slots`].
const SLOT_CHUNK: usize = 512;

/// The exit slots of compiled blocks: every exit to an address known when the block was
/// compiled reads one, which holds the code of the block there once the dispatcher filled it
/// (0 before). A slot's address is built into its block's code, so chunks never move; they
/// are dropped with the code.
#[derive(Default)]
pub struct Slots {
    chunks: Vec<Box<[Cell<u64>]>>,
    used: usize,
}

impl Slots {
    /// A new empty slot's host address.
    fn alloc(&mut self) -> u64 {
        if self.used == self.chunks.len() * SLOT_CHUNK {
            self.chunks
                .push((0..SLOT_CHUNK).map(|_| Cell::new(0)).collect());
        }
        let slot = &self.chunks[self.used / SLOT_CHUNK][self.used % SLOT_CHUNK];
        self.used += 1;
        slot.as_ptr() as u64
    }

    /// Forgets every slot (their blocks are gone).
    pub fn clear(&mut self) {
        self.chunks.clear();
        self.used = 0;
    }
}

/// Where a block goes after its last instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exits {
    /// Always to this address.
    To(u64),
    /// To the first address when the value is non-zero, else to the second.
    If(Val, u64, u64),
    /// To an address computed at run time (BR, BLR, RET).
    Computed,
    /// To an address computed at run time, which the region goes on to when it is this one
    /// (a call or return its recording followed, [`crate::ir::Insn::guess`]).
    Guess(u64),
}

impl Exits {
    /// The addresses known at compile time.
    fn ways(self) -> impl Iterator<Item = u64> {
        let ways = match self {
            Exits::To(a) | Exits::Guess(a) => [Some(a), None],
            Exits::If(_, a, b) => [Some(a), Some(b)],
            Exits::Computed => [None, None],
        };
        ways.into_iter().flatten()
    }
}

/// Whether the flags are set again, from the start of recorded instruction `j`, before
/// anything could see them: only computations come first, in straight-line instructions of one
/// Cranelift block (no memory access, call, system register, flag read, or branch but one on
/// to the next recorded instruction, which a B or BL followed into its callee is), and with
/// `loads_resume` (a region whose loads all leave faults to the host) loads of 1-8 bytes,
/// whose way out goes back to the resume point, whose flags the context keeps. A way into
/// `j` then need not store flags that it set ([`Lower::flags_pending`]); the CPU state's stale
/// flags are seen by nothing.
fn flags_set_before_seen(
    rec: &Recorder,
    succ: &[Exits],
    targets: &[bool],
    loads_resume: bool,
    j: usize,
) -> bool {
    for i in j..rec.insns.len() {
        if i > j && targets[i] {
            return false;
        }
        let end = rec.insns.get(i + 1).map_or(rec.ops.len(), |x| x.start);
        for op in &rec.ops[rec.insns[i].start..end] {
            match op {
                Op::SetNzcv(_) => return true,
                Op::Imm(_)
                | Op::X(_)
                | Op::SetX(..)
                | Op::V(..)
                | Op::SetV(..)
                | Op::Sp
                | Op::SetSp(_)
                | Op::AddWithCarry(..)
                | Op::CarryFlags(_)
                | Op::LogicalFlags(..)
                | Op::Bin(..)
                | Op::Un(..)
                | Op::Select(..)
                // A branch on to the next recorded instruction (checked below).
                | Op::Branch(_) => {}
                Op::Load(_, size) if loads_resume && size.is_power_of_two() && *size <= 8 => {}
                _ => return false,
            }
        }
        let next = rec.insns.get(i + 1).map(|x| x.pc);
        if !matches!(succ[i], Exits::To(to) if Some(to) == next) {
            return false;
        }
    }
    false
}

/// Marks cold every block that only cold blocks reach (a slow path going on after its stop
/// check, an exit's parts). Cranelift lays blocks out in reverse postorder with the cold ones
/// last; a hot block between two halves of the fast path would make it jump over that block.
fn spread_cold(func: &mut Function) {
    let cfg = ControlFlowGraph::with_function(func);
    let blocks: Vec<Block> = func.layout.blocks().collect();
    let mut changed = true;
    while changed {
        changed = false;
        for &block in &blocks {
            if func.layout.is_cold(block) || Some(block) == func.layout.entry_block() {
                continue;
            }
            let mut preds = cfg.pred_iter(block).peekable();
            if preds.peek().is_some() && preds.all(|p| func.layout.is_cold(p.block)) {
                func.layout.set_cold(block);
                changed = true;
            }
        }
    }
}

/// The values of `rec`'s operations that are constants when the block is compiled: immediates
/// and their sums, which is how the semantics compute a PC-relative branch target.
fn constants(rec: &Recorder) -> Vec<Option<u64>> {
    let mut k: Vec<Option<u64>> = Vec::with_capacity(rec.ops.len());
    for op in &rec.ops {
        let c = match *op {
            Op::Imm(x) => Some(x),
            Op::Bin(BinOp::Add, a, b) => match (k[a as usize], k[b as usize]) {
                (Some(a), Some(b)) => Some(a.wrapping_add(b)),
                _ => None,
            },
            Op::Bin(BinOp::Sub, a, b) => match (k[a as usize], k[b as usize]) {
                (Some(a), Some(b)) => Some(a.wrapping_sub(b)),
                _ => None,
            },
            _ => None,
        };
        k.push(c);
    }
    k
}

/// Where instruction `i` of `rec` goes.
fn insn_exits(rec: &Recorder, k: &[Option<u64>], i: usize) -> Exits {
    let insn = rec.insns[i];
    let end = rec.insns.get(i + 1).map_or(rec.ops.len(), |n| n.start);
    let fall = insn.pc.wrapping_add(4);
    let branches: Vec<&Op> = rec.ops[insn.start..end]
        .iter()
        .filter(|op| matches!(op, Op::Branch(_) | Op::BranchIf(..)))
        .collect();
    match branches[..] {
        [] => Exits::To(fall),
        [Op::Branch(t)] => match (k[*t as usize], insn.guess) {
            (Some(t), _) => Exits::To(t),
            (None, Some(g)) => Exits::Guess(g),
            (None, None) => Exits::Computed,
        },
        [Op::BranchIf(c, t)] => k[*t as usize].map_or(Exits::Computed, |t| Exits::If(*c, t, fall)),
        _ => Exits::Computed,
    }
}

/// The address and (for a store) the data of the access that makes op `i` of `rec` the first
/// of a pair: op `i + 1` (below `end`) is a load after a load, or a store after a store, of
/// the same size (4 or 8), at op `i`'s address plus that size, as LDP and STP record them.
fn pair_second(rec: &Recorder, k: &[Option<u64>], i: usize, end: usize) -> Option<(Val, Val)> {
    if i + 1 >= end {
        return None;
    }
    let (a, size, a2, size2, data) = match (rec.ops[i], rec.ops[i + 1]) {
        (Op::Load(a, s), Op::Load(a2, s2)) => (a, s, a2, s2, 0),
        (Op::Store(a, s, _), Op::Store(a2, s2, y)) => (a, s, a2, s2, y),
        _ => return None,
    };
    let next = matches!(rec.ops[a2 as usize], Op::Bin(BinOp::Add, x, c)
        if x == a && k[c as usize] == Some(u64::from(size)));
    (matches!(size, 4 | 8) && size2 == size && next).then_some((a2, data))
}

/// Where the recording of a region goes on after its last instruction, which branched, and
/// the other addresses to record later: the target of a branch known at compile time (B, BL),
/// or, after a conditional branch, the next instruction now and the taken way later. A
/// computed branch ends the run (`None`, nothing later).
pub fn successors(rec: &Recorder) -> (Option<u64>, Option<u64>) {
    let k = constants(rec);
    match rec.insns.len() {
        0 => (None, None),
        n => match insn_exits(rec, &k, n - 1) {
            Exits::To(t) | Exits::Guess(t) => (Some(t), None),
            Exits::If(_, t, fall) => (Some(fall), Some(t)),
            Exits::Computed => (None, None),
        },
    }
}

/// A 32-bit rotate right by a constant, as the semantics write it (`ROR` of a shifted
/// register, `base::ror_imm`, and EXTR with `Rn == Rm`, which is the ROR alias):
/// `(x >> a) | (y << (32 - a))`, zero-extended by the operation whose operand is `r`, where
/// `x` is the zero extension of `y` or of another read of the same register. Gives `x` and
/// `a`, for one host rotate instead of two shifts and an OR.
fn rotate32(rec: &Recorder, k: &[Option<u64>], r: Val) -> Option<(Val, u64)> {
    let Op::Bin(BinOp::Or, p, q) = rec.ops[r as usize] else {
        return None;
    };
    let (Op::Bin(BinOp::Lsr, x, a), Op::Bin(BinOp::Shl, y, b)) =
        (rec.ops[p as usize], rec.ops[q as usize])
    else {
        return None;
    };
    let (a, b) = (k[a as usize]?, k[b as usize]?);
    if !(1..32).contains(&a) || a + b != 32 {
        return None;
    }
    let Op::Un(UnOp::Zext32, inner) = rec.ops[x as usize] else {
        return None;
    };
    // The bits of `y` above 32 - a are shifted out by the zero extension of the result.
    let same = y == x || y == inner || same_register_read(rec, inner, y);
    same.then_some((x, a))
}

/// Whether the operations `u` and `v` read the same general-purpose register with no write
/// of it between them.
fn same_register_read(rec: &Recorder, u: Val, v: Val) -> bool {
    let (Op::X(n), Op::X(m)) = (rec.ops[u as usize], rec.ops[v as usize]) else {
        return false;
    };
    let (lo, hi) = (u.min(v) as usize, u.max(v) as usize);
    n == m
        && !rec.ops[lo..hi]
            .iter()
            .any(|op| matches!(op, Op::SetX(w, _) if *w == n))
}

/// The registers the operations of `rec` read and write.
fn registers(rec: &Recorder) -> (Vec<Reg>, Vec<Reg>) {
    let (mut read, mut written) = (Vec::new(), Vec::new());
    for op in &rec.ops {
        let (r, w) = op_registers(op);
        read.extend(r);
        written.extend(w);
    }
    for v in [&mut read, &mut written] {
        v.sort();
        v.dedup();
    }
    (read, written)
}

/// The register op `op` reads, and the one it writes.
fn op_registers(op: &Op) -> (Option<Reg>, Option<Reg>) {
    match *op {
        Op::X(n) if n < 31 => (Some(Reg::X(n)), None),
        Op::SetX(n, _) if n < 31 => (None, Some(Reg::X(n))),
        Op::V(n, h) => (Some(Reg::V(n, h)), None),
        Op::SetV(n, h, _) => (None, Some(Reg::V(n, h))),
        Op::Sp => (Some(Reg::Sp), None),
        Op::SetSp(_) => (None, Some(Reg::Sp)),
        Op::Nzcv => (Some(Reg::Nzcv), None),
        Op::SetNzcv(_) => (None, Some(Reg::Nzcv)),
        Op::Cond(_) => (Some(Reg::Nzcv), None),
        Op::Sys(r) => (Reg::of_sysreg(r), None),
        Op::SetSys(r, _) => (None, Reg::of_sysreg(r)),
        _ => (None, None),
    }
}

/// Where the registers of a region with inner jumps live, from a data-flow pass over its
/// instructions and the jumps between them (`edges[i]`: the instructions that instruction
/// `i` goes on to inside the region).
struct Residence {
    /// The registers loaded at the entry: those some way reads before writing them (live
    /// there), and those written on some but not every way to a join (the join's variable
    /// needs a value on each). A register the region only writes, on every way to each join
    /// where it is written at all, is not loaded: on a way that has not written it, the CPU
    /// state holds it.
    entry: BTreeSet<Reg>,
    /// For each instruction: the registers written on some way from the entry to it (which
    /// may differ from the CPU state there); what counts as written where a block starts.
    written_before: Vec<BTreeSet<Reg>>,
}

fn residence(rec: &Recorder, edges: &[Vec<usize>]) -> Residence {
    let n = rec.insns.len();
    // Each instruction's registers read before it writes them, and written.
    let mut uses = vec![BTreeSet::new(); n];
    let mut defs = vec![BTreeSet::new(); n];
    for (i, insn) in rec.insns.iter().enumerate() {
        let end = rec.insns.get(i + 1).map_or(rec.ops.len(), |x| x.start);
        for op in &rec.ops[insn.start..end] {
            let (r, w) = op_registers(op);
            if let Some(r) = r {
                if !defs[i].contains(&r) {
                    uses[i].insert(r);
                }
            }
            if let Some(w) = w {
                defs[i].insert(w);
            }
        }
    }
    // Live registers at each instruction, to a fixed point (backwards).
    let mut live: Vec<BTreeSet<Reg>> = uses.clone();
    loop {
        let mut changed = false;
        for i in (0..n).rev() {
            let mut l = uses[i].clone();
            for &j in &edges[i] {
                l.extend(live[j].iter().filter(|r| !defs[i].contains(r)));
            }
            if l != live[i] {
                live[i] = l;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // Registers written on some way (may) and on every way (must) to each instruction,
    // forwards; the entry comes to the first instruction with nothing written.
    let all: BTreeSet<Reg> = defs.iter().flatten().copied().collect();
    let mut may = vec![BTreeSet::new(); n];
    let mut must = vec![all.clone(); n];
    must[0] = BTreeSet::new();
    loop {
        let mut changed = false;
        for i in 0..n {
            let after_may: BTreeSet<Reg> = may[i].union(&defs[i]).copied().collect();
            let after_must: BTreeSet<Reg> = must[i].union(&defs[i]).copied().collect();
            for &j in &edges[i] {
                let m: BTreeSet<Reg> = may[j].union(&after_may).copied().collect();
                let mu: BTreeSet<Reg> = if j == 0 {
                    BTreeSet::new()
                } else {
                    must[j].intersection(&after_must).copied().collect()
                };
                if m != may[j] || mu != must[j] {
                    may[j] = m;
                    must[j] = mu;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let mut entry = live.first().cloned().unwrap_or_default();
    for i in 0..n {
        entry.extend(may[i].difference(&must[i]));
    }
    Residence {
        entry,
        written_before: may,
    }
}

/// What the lowering knows about a recorded value beyond its Cranelift value, to see through
/// the packing and unpacking of NZCV (`sem::ops::pack_nzcv`, `condition_holds`).
#[derive(Clone, Copy, Debug)]
enum Known {
    Nothing,
    /// 0 or 1.
    Bool,
    /// NZCV bits 31..28 holding these 0/1 values (`None`: 0), nothing else.
    Flags([Option<Value>; 4]),
    /// Such a value shifted right by this amount (28..=31).
    Shifted([Option<Value>; 4], u64),
    /// NZCV made from flags in the forms of [`Lower::nzcv`].
    Forms(Forms),
    /// Such flags that are a choice between a subtraction's and an immediate's (CCMP).
    Choice(Forms, Choice),
}

/// Flags that are those of the subtraction `sub` where the `i8` truth `use_sub` holds, else
/// the NZCV immediate `word` (CCMP: `ConditionHolds(cond)` chooses).
#[derive(Clone, Copy, Debug)]
struct Choice {
    use_sub: Value,
    sub: Sub,
    word: u64,
}

/// The state of the lowering of one block.
struct Lower<'a> {
    b: FunctionBuilder<'a>,
    conv: CallConv,
    ctx: Value,
    cpu: Value,
    /// The value of each recorded operation.
    vals: Vec<Value>,
    /// The variable of each register used so far, and whether it was written since it was
    /// last stored.
    vars: BTreeMap<Reg, (Variable, bool)>,
    /// Where the current instruction goes next.
    next: Variable,
    /// Signatures of runtime calls by argument count (all arguments and results are i64).
    sigs: BTreeMap<(usize, bool, bool), SigRef>,
    flags: MemFlagsData,
    /// The host addresses of guest address 0 and of the permission table, loaded from the
    /// context in the entry block, so that an access adds a register rather than a 64-bit
    /// constant that Cranelift builds again at each use; read through [`Lower::guest_base`]
    /// and [`Lower::page_table`], which note the use (an unused load is removed at the end).
    host_base: Value,
    host_table: Value,
    host_used: [bool; 2],
    /// Whether a write of the current instruction changed code (`STATUS_CODE`, or 0).
    changed: Variable,
    /// The instructions the chain ran before this pass through the block.
    count: Variable,
    /// The signature of blocks, for tail calls to the next one.
    block_sig: SigRef,
    slots: &'a mut Slots,
    /// Whether exits may continue into the next block or loop.
    chain: bool,
    /// The recorded instructions by address, and the Cranelift block of each one that an
    /// edge inside the region reaches (the others follow their predecessor in one block).
    index: std::collections::HashMap<u64, usize>,
    blocks: Vec<Option<Block>>,
    lookup: u64,
    /// What is known about each recorded value.
    known: Vec<Known>,
    /// N, Z, C and V in variables, once used, and whether written since last stored: they go
    /// back only where the chain keeps them ([`runtime::Ctx::flags`]). They hold the forms that cost least
    /// to compute (qemu's): N and V as the sign bit of a value, Z as a value that is zero
    /// exactly when Z is set, C as 0 or 1 ([`Forms`]).
    nzcv: Option<[Variable; 4]>,
    nzcv_dirty: bool,
    /// The region's one exit for a runtime call that stopped, once used; only in a region
    /// with inner jumps, whose registers are loaded at the entry where a way may not define
    /// them (the others come as its parameters).
    stop_exit: Option<Block>,
    /// The registers of a region with inner jumps that are not loaded at its entry
    /// ([`Residence`]): a way to the stop exit may not define their variables, so each way
    /// passes their values to it (the CPU state's, where unchanged).
    lazy: Vec<Reg>,
    /// The flags of each `AddWithCarry` recorded so far, by its result, with the operands
    /// `x` and `b` of a subtraction `x - b` at its width.
    carry_flags: BTreeMap<Val, (Forms, Option<Sub>)>,
    /// What the flag variables hold: `kind_forms` (0, the forms) or `kind_sub` (1, a
    /// subtraction, [`Lower::set_sub`]); both constants are made in the entry block, so
    /// that where all ways agree the variable is the constant itself.
    kind: Variable,
    kind_forms: Value,
    kind_sub: Value,
    /// The `i8` truth of each `Cond` recorded so far, for branches and selects on it.
    truths: BTreeMap<Val, Value>,
    /// The value each register had where the region first loaded it, and the flag
    /// variables' values and kind as first loaded, for [`Lower::drop_unchanged_write_backs`].
    loaded: BTreeMap<Reg, Value>,
    loaded_flags: Option<(Forms, Value)>,
    /// The flag variables' values and kind as [`Lower::set_choice`] defined them, with the
    /// choice they hold: while the variables still hold those values, a condition is the
    /// chosen side's and a store of the flags packs nothing.
    choice: Option<([Value; 4], Value, Choice)>,
    /// The 32-bit operands of subtractions as [`Lower::sub_operands`] shifted them up, by the
    /// shifted value: a condition on the shifted values themselves (not on a join's merge
    /// of them) compares the low 32 bits instead (one `cmp` of 32-bit registers, not two
    /// shifts and a `cmp`).
    unshifted: BTreeMap<Value, Value>,
    /// Whether flags an instruction sets are stored where the chain keeps them as soon as
    /// something could see them ([`Lower::flags_pending`]), rather than carried to the exits:
    /// in a region with inner jumps, so that its loops do not carry the flags to their exits,
    /// only to where they are read.
    eager_flags: bool,
    /// Whether the flag variables hold flags set on the way lowered now that are not yet
    /// stored where the chain keeps them (in a region that stores the flags eagerly): the
    /// store waits for the next place that can see them (an exit, a call, a jump to a join),
    /// so that flags a later instruction on the same way sets again are never stored, and
    /// those that only an exit sees are stored in the exit's cold block.
    flags_pending: bool,
    /// For each recorded instruction, whether [`flags_set_before_seen`] holds there.
    flags_dead: Vec<bool>,
    /// The stores of [`Lower::flush`]: each with the values it stores (one register or the
    /// flag variables and their kind) and those they had where first loaded.
    write_backs: Vec<(Inst, Vec<Value>, Vec<Value>)>,
    /// Whether loads leave faults to the host ([`crate::fault`]), and whether the context's
    /// resume point holds right now: the CPU state is the state before that instruction, and
    /// neither it nor guest memory was written since (a store would make the interpreter,
    /// resuming there, run it twice).
    host_faults: bool,
    synced: bool,
    /// Whether the resume point made at the entry holds everywhere in the region: it has
    /// loads, and no stores or helper calls that change the CPU state.
    synced_everywhere: bool,
    /// Whether the resume point's flags survive the region's eager flag stores: a copy at
    /// the entry, or no flags in use; after [`Lower::sync`], setting the flags ends the resume
    /// point (their store may come on any way from there).
    resume_flags_kept: bool,
    /// The current instruction's address and the instructions of this pass before it, and
    /// whether it changed a variable or the CPU state yet (then the state before it is gone
    /// from the variables, and its loads test the permission table).
    insn_pc: u64,
    insn_before: u64,
    insn_wrote: bool,
}

/// N, Z, C and V in the forms of [`Lower::nzcv`].
type Forms = [Value; 4];

/// Whether `x` is an NZCV value: bits 31..28, nothing else (CCMP's `nzcv` immediate, or 0).
fn is_nzcv(x: u64) -> bool {
    x & !0xf000_0000 == 0
}

/// The operands `x` and `b` of a subtraction `x - b` and its width.
type Sub = (Value, Value, u8);

impl Lower<'_> {
    fn iconst(&mut self, v: u64) -> Value {
        self.b.ins().iconst(I64, v as i64)
    }

    fn get(&mut self, r: Reg) -> Value {
        if let Some(&(var, _)) = self.vars.get(&r) {
            return self.b.use_var(var);
        }
        let var = self.b.declare_var(I64);
        let v = self.b.ins().load(I64, self.flags, self.cpu, r.offset());
        self.b.def_var(var, v);
        self.vars.insert(r, (var, false));
        self.loaded.insert(r, v);
        v
    }

    fn set(&mut self, r: Reg, v: Value) {
        self.insn_wrote = true;
        let var = match self.vars.get(&r) {
            Some(&(var, _)) => var,
            None => self.b.declare_var(I64),
        };
        self.b.def_var(var, v);
        self.vars.insert(r, (var, true));
    }

    /// Stores the written registers into the CPU state, and written flags where the chain
    /// keeps them; with `clean`, they count as stored.
    fn flush(&mut self, clean: bool) {
        if clean {
            // The registers are ahead of the resume point (an exit does not go on).
            self.synced = false;
        }
        let dirty: Vec<(Reg, Variable)> = self
            .vars
            .iter()
            .filter(|(_, (_, d))| *d)
            .map(|(r, (v, _))| (*r, *v))
            .collect();
        for (r, var) in dirty {
            let v = self.b.use_var(var);
            let store = self.b.ins().store(self.flags, v, self.cpu, r.offset());
            if let Some(&at_load) = self.loaded.get(&r) {
                self.write_backs.push((store, vec![v], vec![at_load]));
            }
            if clean {
                self.vars.insert(r, (var, false));
            }
        }
        if self.nzcv_dirty {
            self.store_flags(true);
            if clean {
                self.nzcv_dirty = false;
            }
        }
        self.store_pending_flags();
        if clean {
            self.flags_pending = false;
        }
    }

    /// Stores pending flags before a memory access, whose slow path sees them: stored in the
    /// slow path, they would keep their values live across the fast path as well.
    fn settle_pending_flags(&mut self) {
        self.store_pending_flags();
        self.flags_pending = false;
    }

    /// Stores flags set on this way and not stored yet ([`Lower::flags_pending`]), for a place
    /// that sees them where the chain keeps them. It leaves them pending: the caller clears
    /// that where every way on from here has the store.
    fn store_pending_flags(&mut self) {
        if self.flags_pending {
            self.store_flags(false);
        }
    }

    /// Stores the flags where the chain keeps them ([`runtime::Ctx::flags`]): a
    /// subtraction's two operands as they are, flags in their forms packed into the CPU
    /// state's NZCV. Where the kind is only known at run time, both: the packed word is
    /// meaningless, and unused, when the variables hold operands. With `droppable`, the
    /// stores are write-backs that [`Lower::drop_unchanged_write_backs`] may remove.
    fn store_flags(&mut self, droppable: bool) {
        let (raw, kind) = self.raw_flags();
        let [_, _, c, v] = raw;
        let mut stores = Vec::new();
        if kind != self.kind_forms {
            stores.push(
                self.b
                    .ins()
                    .store(self.flags, c, self.ctx, OFFSET_FLAGS + 8),
            );
            stores.push(
                self.b
                    .ins()
                    .store(self.flags, v, self.ctx, OFFSET_FLAGS + 16),
            );
        }
        if kind != self.kind_sub {
            // Where the variables hold a choice, the word only counts when the immediate
            // was chosen.
            let word = match self.choice_held(raw, kind) {
                Some(ch) => self.iconst(ch.word),
                None => self.pack_forms(raw),
            };
            let at = Reg::Nzcv.offset();
            stores.push(self.b.ins().store(self.flags, word, self.cpu, at));
        }
        stores.push(self.b.ins().store(self.flags, kind, self.ctx, OFFSET_FLAGS));
        if let (true, Some((at_load, kind_at_load))) = (droppable, self.loaded_flags) {
            let mut now = raw.to_vec();
            now.push(kind);
            let mut then = at_load.to_vec();
            then.push(kind_at_load);
            for store in stores {
                self.write_backs.push((store, now.clone(), then.clone()));
            }
        }
    }

    /// Loads every register variable again (after a helper saw the CPU state).
    fn reload(&mut self) {
        let regs: Vec<(Reg, Variable)> = self.vars.iter().map(|(r, (v, _))| (*r, *v)).collect();
        for (r, var) in regs {
            let v = self.b.ins().load(I64, self.flags, self.cpu, r.offset());
            self.b.def_var(var, v);
        }
        self.load_flags();
    }

    /// The four flag variables, defined from the CPU state at their first use.
    fn flag_vars(&mut self) -> [Variable; 4] {
        if let Some(v) = self.nzcv {
            return v;
        }
        let vars = [(); 4].map(|()| self.b.declare_var(I64));
        self.nzcv = Some(vars);
        self.load_flags();
        vars
    }

    /// The flag variables' values as they are held, and what they hold: `kind_forms` (the
    /// forms) or `kind_sub` (a subtraction's operands), a value only known at run time where
    /// ways that hold different kinds join.
    fn raw_flags(&mut self) -> ([Value; 4], Value) {
        let raw = self.flag_vars().map(|v| self.b.use_var(v));
        (raw, self.b.use_var(self.kind))
    }

    /// Defines the flag variables from where the chain keeps the flags
    /// ([`runtime::Ctx::flags`]): their kind, known at run time, and the variables of C and V
    /// holding a subtraction's operands or, like N and Z, the forms of the CPU state's NZCV
    /// (bits 31..28, nothing else).
    fn load_flags(&mut self) {
        let Some(vars) = self.nzcv else { return };
        let word = self
            .b
            .ins()
            .load(I64, self.flags, self.cpu, Reg::Nzcv.offset());
        let kind = self.b.ins().load(I64, self.flags, self.ctx, OFFSET_FLAGS);
        let x = self
            .b
            .ins()
            .load(I64, self.flags, self.ctx, OFFSET_FLAGS + 8);
        let b = self
            .b
            .ins()
            .load(I64, self.flags, self.ctx, OFFSET_FLAGS + 16);
        let n = self.b.ins().ishl_imm_u(word, 32);
        let z = self.b.ins().bnot(word);
        let z = self.b.ins().band_imm_u(z, 1 << 30);
        let c = self.b.ins().ushr_imm_u(word, 29);
        let c = self.b.ins().band_imm_u(c, 1);
        let v = self.b.ins().ishl_imm_u(word, 35);
        let c = self.b.ins().select(kind, x, c);
        let v = self.b.ins().select(kind, b, v);
        for (var, f) in vars.into_iter().zip([n, z, c, v]) {
            self.b.def_var(var, f);
        }
        self.b.def_var(self.kind, kind);
        self.loaded_flags.get_or_insert(([n, z, c, v], kind));
    }

    /// The four flag variables, for an instruction that defines the flags whatever they
    /// held: defined from the state only where they were in use already (a region with inner
    /// jumps loads them at its entry), as no way reads what it replaces.
    fn flag_vars_to_write(&mut self) -> [Variable; 4] {
        if let Some(v) = self.nzcv {
            return v;
        }
        let vars = [(); 4].map(|()| self.b.declare_var(I64));
        let zero = self.iconst(0);
        for var in vars {
            self.b.def_var(var, zero);
        }
        self.nzcv = Some(vars);
        vars
    }

    /// The flags' current values in their forms.
    fn forms(&mut self) -> Forms {
        let (raw, kind) = self.raw_flags();
        self.forms_of_raw(raw, kind)
    }

    /// The forms of flags held as `raw_flags` gives them.
    fn forms_of_raw(&mut self, [n, z, c, v]: [Value; 4], kind: Value) -> Forms {
        if kind == self.kind_forms {
            return [n, z, c, v];
        }
        let diff = self.b.ins().isub(c, v);
        let sub = self.sub_forms(diff, c, v);
        if kind == self.kind_sub {
            return sub;
        }
        let [sn, sz, sc, sv] = sub;
        [(sn, n), (sz, z), (sc, c), (sv, v)].map(|(s, f)| self.b.ins().select(kind, s, f))
    }

    /// The forms of the flags of `x - b` held as a subtraction (`n = z = x - b`, at 64 bits
    /// or with both operands shifted up by 32, [`Lower::set_sub`]).
    fn sub_forms(&mut self, n: Value, x: Value, b: Value) -> Forms {
        let c = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, x, b);
        let c = self.bool_to_i64(c);
        // Overflow: the operands' signs differ and the result's differs from x's.
        let xb = self.b.ins().bxor(x, b);
        let xn = self.b.ins().bxor(x, n);
        let v = self.b.ins().band(xb, xn);
        [n, n, c, v]
    }

    /// The operands of a subtraction at `bits` as the flags hold them: at 32 bits shifted up
    /// by 32, so that the 64-bit difference, comparisons and overflow are the 32-bit ones.
    fn sub_operands(&mut self, x: Value, b: Value, bits: u8) -> (Value, Value) {
        if bits == 32 {
            let shifted = (
                self.b.ins().ishl_imm_u(x, 32),
                self.b.ins().ishl_imm_u(b, 32),
            );
            self.unshifted.insert(shifted.0, x);
            self.unshifted.insert(shifted.1, b);
            shifted
        } else {
            (x, b)
        }
    }

    /// Sets the flags to those of `x - b` at `bits` (qemu's `CC_OP_SUB`): the flag variables
    /// of C and V hold the operands, N, Z, C and V are computed only where they are read,
    /// and the conditions but MI, PL, VS and VC compare the operands directly. The variables
    /// of N and Z keep what they held, so that a loop whose flags come from subtractions
    /// only carries two values for them. At 32 bits the operands are shifted up by 32,
    /// which keeps every condition and flag.
    fn set_sub(&mut self, x: Value, b: Value, bits: u8) {
        let (x, b) = self.sub_operands(x, b, bits);
        let [_, _, c, v] = self.flag_vars_to_write();
        self.b.def_var(c, x);
        self.b.def_var(v, b);
        self.b.def_var(self.kind, self.kind_sub);
        self.flags_written();
    }

    /// Sets the flags to a choice between a subtraction's and an immediate's (CCMP): the
    /// variables hold the subtraction's operands as [`Lower::set_sub`] does, or the
    /// immediate's forms, and the kind says which, chosen at run time (two selects rather
    /// than one per flag and the packing of all four where they are stored).
    fn set_choice(&mut self, ch: Choice) {
        let (x, b, bits) = ch.sub;
        let (x, b) = self.sub_operands(x, b, bits);
        let bit = |k: u32| ch.word >> k & 1 == 1;
        let n = self.iconst(if bit(31) { u64::MAX } else { 0 });
        let z = self.iconst(u64::from(!bit(30)));
        let c = self.iconst(u64::from(bit(29)));
        let v = self.iconst(if bit(28) { u64::MAX } else { 0 });
        let c = self.b.ins().select(ch.use_sub, x, c);
        let v = self.b.ins().select(ch.use_sub, b, v);
        let kind = self
            .b
            .ins()
            .select(ch.use_sub, self.kind_sub, self.kind_forms);
        let raw = [n, z, c, v];
        for (var, f) in self.flag_vars_to_write().into_iter().zip(raw) {
            self.b.def_var(var, f);
        }
        self.b.def_var(self.kind, kind);
        self.choice = Some((
            raw,
            kind,
            Choice {
                sub: (x, b, 64),
                ..ch
            },
        ));
        self.flags_written();
    }

    /// The subtraction whose flags the recorded value `x` is, if it is one
    /// (`CarryFlags` of an `AddWithCarry` that subtracts).
    fn sub_flags(&self, rec: &Recorder, x: Val) -> Option<Sub> {
        match rec.ops[x as usize] {
            Op::CarryFlags(r) => self.carry_flags[&r].1,
            _ => None,
        }
    }

    /// The choice the flag variables hold, when they hold `raw` and `kind` as
    /// [`Lower::set_choice`] defined them (its operands are shifted to 64 bits).
    fn choice_held(&self, raw: [Value; 4], kind: Value) -> Option<Choice> {
        self.choice
            .filter(|(r, k, _)| *r == raw && *k == kind)
            .map(|(_, _, ch)| ch)
    }

    /// After the flag variables were set: the flags are pending (stored where something could
    /// first see them), or count as written.
    fn flags_written(&mut self) {
        self.insn_wrote = true;
        if self.eager_flags {
            if !self.resume_flags_kept {
                self.synced = false;
            }
            // The store waits for whatever sees them ([`Lower::flags_pending`]); it is not a
            // write-back, as the CPU state may have changed since the flags were loaded.
            self.flags_pending = true;
        } else {
            self.nzcv_dirty = true;
        }
    }

    /// The flags' current 0/1 values.
    fn get_flags(&mut self) -> [Value; 4] {
        let [n, z, c, v] = self.forms();
        let n = self.b.ins().ushr_imm_u(n, 63);
        let z = self.b.ins().icmp_imm_u(IntCC::Equal, z, 0);
        let z = self.bool_to_i64(z);
        let v = self.b.ins().ushr_imm_u(v, 63);
        [n, z, c, v]
    }

    /// Sets the flags from 0/1 values.
    fn set_flags(&mut self, f: [Value; 4]) {
        let f = self.flags_to_forms(f);
        self.set_forms(f);
    }

    /// Flags in their forms from 0/1 values.
    fn flags_to_forms(&mut self, [n, z, c, v]: [Value; 4]) -> Forms {
        let n = self.b.ins().ineg(n);
        let z = self.b.ins().bxor_imm_u(z, 1);
        let v = self.b.ins().ineg(v);
        [n, z, c, v]
    }

    fn set_forms(&mut self, f: Forms) {
        for (var, f) in self.flag_vars_to_write().into_iter().zip(f) {
            self.b.def_var(var, f);
        }
        self.b.def_var(self.kind, self.kind_forms);
        self.flags_written();
    }

    /// The flags in their forms of an NZCV value known as flags.
    fn forms_of(&mut self, k: Known) -> Option<Forms> {
        match k {
            Known::Forms(f) | Known::Choice(f, _) => Some(f),
            Known::Flags(f) => {
                let f = f.map(|f| f.unwrap_or_else(|| self.iconst(0)));
                Some(self.flags_to_forms(f))
            }
            _ => None,
        }
    }

    /// NZCV bits 31..28 of flags in their forms.
    fn pack_forms(&mut self, f: Forms) -> Value {
        let [n, z, c, v] = f;
        let n = self.b.ins().ushr_imm_u(n, 32);
        let n = self.b.ins().band_imm_u(n, 1 << 31);
        let z = self.b.ins().icmp_imm_u(IntCC::Equal, z, 0);
        let z = self.bool_to_i64(z);
        let z = self.b.ins().ishl_imm_u(z, 30);
        let c = self.b.ins().ishl_imm_u(c, 29);
        let v = self.b.ins().ushr_imm_u(v, 35);
        let v = self.b.ins().band_imm_u(v, 1 << 28);
        let nz = self.b.ins().bor(n, z);
        let cv = self.b.ins().bor(c, v);
        self.b.ins().bor(nz, cv)
    }

    /// `AddWithCarry(x, y, carry_in)` at `bits`: the result and its flags. A subtraction
    /// (`y = NOT(b)`, `carry_in = 1`; `sub` gives `b`) has the carry `x >= b`, an addition
    /// without carry in `result < x`.
    fn add_with_carry(
        &mut self,
        x: Value,
        y: Value,
        carry_in: (Value, Option<u64>),
        sub: Option<Value>,
        bits: u8,
    ) -> (Value, Forms) {
        if let (Some(1), Some(b)) = (carry_in.1, sub) {
            let diff = self.b.ins().isub(x, b);
            let (x, b) = self.sub_operands(x, b, bits);
            if bits == 32 {
                let n = self.b.ins().isub(x, b);
                let r = self.un(UnOp::Zext32, diff);
                return (r, self.sub_forms(n, x, b));
            }
            return (diff, self.sub_forms(diff, x, b));
        }
        if bits == 32 {
            let x = self.un(UnOp::Zext32, x);
            let y = self.un(UnOp::Zext32, y);
            let sum = self.b.ins().iadd(x, y);
            let full = match carry_in.1 {
                Some(0) => sum,
                _ => self.b.ins().iadd(sum, carry_in.0),
            };
            let r = self.un(UnOp::Zext32, full);
            let c = self.b.ins().ushr_imm_u(full, 32);
            let n = self.b.ins().ishl_imm_u(r, 32);
            let xr = self.b.ins().bxor(x, r);
            let yr = self.b.ins().bxor(y, r);
            let v = self.b.ins().band(xr, yr);
            let v = self.b.ins().ishl_imm_u(v, 32);
            return (r, [n, r, c, v]);
        }
        let (r, c) = match carry_in.1 {
            Some(0) => {
                let r = self.b.ins().iadd(x, y);
                let c = self.b.ins().icmp(IntCC::UnsignedLessThan, r, x);
                (r, c)
            }
            _ => {
                let sum = self.b.ins().iadd(x, y);
                let full = self.b.ins().iadd(sum, carry_in.0);
                let c1 = self.b.ins().icmp(IntCC::UnsignedLessThan, sum, x);
                let c2 = self.b.ins().icmp(IntCC::UnsignedLessThan, full, sum);
                (full, self.b.ins().bor(c1, c2))
            }
        };
        let c = self.bool_to_i64(c);
        let xr = self.b.ins().bxor(x, r);
        let yr = self.b.ins().bxor(y, r);
        let v = self.b.ins().band(xr, yr);
        (r, [r, r, c, v])
    }

    /// `ConditionHolds(cond)` as one comparison of the operands `x` and `b` of the
    /// subtraction the flags hold ([`Lower::set_sub`]), for the conditions that have one
    /// (EQ, NE, CS, CC, HI, LS, GE, LT, GT, LE).
    fn compared(&mut self, cond: u8, x: Value, b: Value) -> Option<Value> {
        let cc = match cond >> 1 {
            0 => IntCC::Equal,
            1 => IntCC::UnsignedGreaterThanOrEqual,
            4 => IntCC::UnsignedGreaterThan,
            5 => IntCC::SignedGreaterThanOrEqual,
            6 => IntCC::SignedGreaterThan,
            _ => return None,
        };
        let cc = if cond & 1 == 1 { cc.complement() } else { cc };
        // The same comparison of the low halves, where these are 32-bit operands shifted up.
        if let (Some(&x), Some(&b)) = (self.unshifted.get(&x), self.unshifted.get(&b)) {
            let x = self.b.ins().ireduce(types::I32, x);
            let b = self.b.ins().ireduce(types::I32, b);
            return Some(self.b.ins().icmp(cc, x, b));
        }
        Some(self.b.ins().icmp(cc, x, b))
    }

    /// `ConditionHolds(cond)` on the flags, as an `i8` truth.
    fn condition_holds(&mut self, cond: u8) -> Value {
        let ([n, z, c, v], kind) = self.raw_flags();
        if let Some(ch) = self.choice_held([n, z, c, v], kind) {
            let (x, b, _) = ch.sub;
            let sub = self.sub_condition(cond, x, b);
            return if armature_core::sem::ops::condition_holds_on(u32::from(cond), ch.word) {
                let one = self.b.ins().iconst(types::I8, 1);
                self.b.ins().select(ch.use_sub, sub, one)
            } else {
                self.b.ins().band(ch.use_sub, sub)
            };
        }
        if kind == self.kind_forms {
            return self.condition_on_forms(cond, [n, z, c, v]);
        }
        let sub = self.sub_condition(cond, c, v);
        if kind == self.kind_sub {
            return sub;
        }
        let forms = self.condition_on_forms(cond, [n, z, c, v]);
        self.b.ins().select(kind, sub, forms)
    }

    /// `ConditionHolds(cond)` on the flags of the subtraction `x - b` (at 64 bits, as the
    /// flags hold it), as an `i8` truth.
    fn sub_condition(&mut self, cond: u8, x: Value, b: Value) -> Value {
        match self.compared(cond, x, b) {
            Some(truth) => truth,
            None => {
                let diff = self.b.ins().isub(x, b);
                let f = self.sub_forms(diff, x, b);
                self.condition_on_forms(cond, f)
            }
        }
    }

    /// `ConditionHolds(cond)` on flags in their forms, as an `i8` truth.
    fn condition_on_forms(&mut self, cond: u8, [n, z, c, v]: Forms) -> Value {
        // The condition and its inverse, one comparison or two combined.
        let invert = cond & 1 == 1 && cond != 0b1111;
        let cmp = |l: &mut Self, x: Value, cc: IntCC| {
            let cc = if invert { cc.complement() } else { cc };
            l.b.ins().icmp_imm_u(cc, x, 0)
        };
        // Both hold (HI, GT), or, by De Morgan's law, either inverse does (LS, LE).
        let both = |l: &mut Self, x: Value, y: Value| {
            if invert {
                l.b.ins().bor(x, y)
            } else {
                l.b.ins().band(x, y)
            }
        };
        match cond >> 1 {
            0 => cmp(self, z, IntCC::Equal),
            1 => cmp(self, c, IntCC::NotEqual),
            2 => cmp(self, n, IntCC::SignedLessThan),
            3 => cmp(self, v, IntCC::SignedLessThan),
            // HI: C set and Z clear.
            4 => {
                let c = cmp(self, c, IntCC::NotEqual);
                let z = cmp(self, z, IntCC::NotEqual);
                both(self, c, z)
            }
            // GE: N = V.
            5 => {
                let nv = self.b.ins().bxor(n, v);
                cmp(self, nv, IntCC::SignedGreaterThanOrEqual)
            }
            // GT: N = V and Z clear.
            6 => {
                let nv = self.b.ins().bxor(n, v);
                let ge = cmp(self, nv, IntCC::SignedGreaterThanOrEqual);
                let z = cmp(self, z, IntCC::NotEqual);
                both(self, ge, z)
            }
            _ => self.b.ins().iconst(types::I8, 1),
        }
    }

    /// The signature of a runtime function, or of an entry point of
    /// [`runtime::preserving`] (which returns nothing in Cranelift's `preserve_all`
    /// convention: its result is in `Ctx::args`).
    fn sig(&mut self, params: usize, ret: bool, preserving: bool) -> SigRef {
        let conv = match runtime::preserving::CALL_CONV {
            Some(conv) if preserving => conv,
            _ => self.conv,
        };
        let ret = ret && conv == self.conv;
        if let Some(s) = self.sigs.get(&(params, ret, preserving)) {
            return *s;
        }
        let mut sig = Signature::new(conv);
        sig.params.extend((0..params).map(|_| AbiParam::new(I64)));
        if ret {
            sig.returns.push(AbiParam::new(I64));
        }
        let s = self.b.import_signature(sig);
        self.sigs.insert((params, ret, preserving), s);
        s
    }

    /// Calls the runtime function at `f` with `args`; gives its result (or 0).
    fn call(&mut self, f: usize, args: &[Value], ret: bool) -> Value {
        // The runtime may see the flags, and a stop it reports leaves through the region's
        // stop exit, which stores none (some ways to it did not set them).
        self.store_pending_flags();
        let sig = self.sig(args.len(), ret, false);
        self.call_with(sig, f, args, ret)
    }

    /// Calls the entry point at `f` of [`runtime::preserving`], for a slow path, with `args`
    /// in `Ctx::args` and the context as its one argument: the values the block keeps in
    /// registers stay there. Gives its result, which it also leaves in `Ctx::args[0]`.
    fn call_slow_path(&mut self, f: usize, args: &[Value]) -> Value {
        self.store_pending_flags();
        for (k, &a) in args.iter().enumerate() {
            self.b
                .ins()
                .store(self.flags, a, self.ctx, OFFSET_ARGS + 8 * k as i32);
        }
        let preserving = runtime::preserving::CALL_CONV.is_some();
        let sig = self.sig(1, !preserving, true);
        let r = self.call_with(sig, f, &[self.ctx], !preserving);
        if preserving {
            self.b.ins().load(I64, self.flags, self.ctx, OFFSET_ARGS)
        } else {
            r
        }
    }

    fn call_with(&mut self, sig: SigRef, f: usize, args: &[Value], ret: bool) -> Value {
        let callee = self.iconst(f as u64);
        let call = self.b.ins().call_indirect(sig, callee, args);
        if ret {
            self.b.inst_results(call)[0]
        } else {
            self.iconst(0)
        }
    }

    /// Calls the helper `f` with `args` through `runtime::rt_call`. A helper that sees the
    /// CPU state gets the registers there, and may change them; a `pure` one leaves them in
    /// their variables.
    fn call_helper(&mut self, f: Helper, args: &[Value], pure: bool) -> Value {
        let slot =
            self.b
                .create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 32, 3));
        for (k, &a) in args.iter().enumerate() {
            self.b.ins().stack_store(I64, a, slot, 8 * k as i32);
        }
        let at = self.b.ins().stack_addr(I64, slot, 0);
        let f = self.iconst(f as *const () as usize as u64);
        let count = self.iconst(args.len() as u64);
        if !pure {
            // The helper may change the CPU state as part of this instruction.
            self.insn_wrote = true;
            self.flush(true);
        }
        let (ctx, cpu) = (self.ctx, self.cpu);
        // A pure helper sees no flags; the others had them stored by the flush.
        let sig = self.sig(5, true, false);
        let r = self.call_with(
            sig,
            runtime::rt_call as *const () as usize,
            &[ctx, cpu, f, at, count],
            true,
        );
        if !pure {
            self.reload();
        }
        r
    }

    /// `Sem::lanes` in host vector instructions, for elements of 8, 16 and 32 bits (SSE
    /// lacks some 64-bit element operations); `None` leaves it to the helper.
    fn lanes(
        &mut self,
        op: LaneOp,
        esize: u8,
        pairwise: bool,
        a: Value,
        b: Value,
    ) -> Option<Value> {
        let ty = match esize {
            8 => types::I8X16,
            16 => types::I16X8,
            32 => types::I32X4,
            _ => return None,
        };
        let little = MemFlagsData::new().with_endianness(Endianness::Little);
        let (x, y) = if pairwise {
            // `b:a` as one vector, then its even and its odd elements, each packed into the
            // low half of a vector.
            let v = self.b.ins().scalar_to_vector(types::I64X2, a);
            let v = self.b.ins().insertlane(v, b, 1);
            let v = self.b.ins().bitcast(types::I8X16, little, v);
            let bytes = u32::from(esize / 8);
            let [even, odd] = [0, 1].map(|odd| {
                let mask: Vec<u8> = (0..16u32)
                    .map(|k| (((2 * (k / bytes) + odd) * bytes + k % bytes) % 16) as u8)
                    .collect();
                let mask = self.b.func.dfg.immediates.push(ConstantData::from(mask));
                let picked = self.b.ins().shuffle(v, v, mask);
                self.b.ins().bitcast(ty, little, picked)
            });
            (even, odd)
        } else {
            let [x, y] = [a, b].map(|h| {
                let v = self.b.ins().scalar_to_vector(types::I64X2, h);
                self.b.ins().bitcast(ty, little, v)
            });
            (x, y)
        };
        let ins = self.b.ins();
        let r = match op {
            LaneOp::Add => ins.iadd(x, y),
            LaneOp::Sub => ins.isub(x, y),
            LaneOp::Cmeq => ins.icmp(IntCC::Equal, x, y),
            LaneOp::Cmtst => {
                let both = ins.band(x, y);
                let zero = self.b.ins().iconst(ty.lane_type(), 0);
                let zero = self.b.ins().splat(ty, zero);
                self.b.ins().icmp(IntCC::NotEqual, both, zero)
            }
            LaneOp::Cmhs => ins.icmp(IntCC::UnsignedGreaterThanOrEqual, x, y),
            LaneOp::Cmhi => ins.icmp(IntCC::UnsignedGreaterThan, x, y),
            LaneOp::Cmge => ins.icmp(IntCC::SignedGreaterThanOrEqual, x, y),
            LaneOp::Cmgt => ins.icmp(IntCC::SignedGreaterThan, x, y),
            LaneOp::Umax => ins.umax(x, y),
            LaneOp::Umin => ins.umin(x, y),
        };
        let r = self.b.ins().bitcast(types::I64X2, little, r);
        Some(self.b.ins().extractlane(r, 0))
    }

    /// Leaves the block: the registers go back to the CPU state, `count` instructions are
    /// counted, and the function returns `code`. With `pc`, it is the PC to continue at.
    fn exit(&mut self, pc: Option<Value>, count: u64, code: u64) {
        let n = self.counted(count);
        self.leave(pc, n, None, code);
    }

    /// The instructions of the chain so far: `done` of this pass and those before it.
    fn counted(&mut self, done: u64) -> Value {
        let before = self.b.use_var(self.count);
        self.b.ins().iadd_imm_u(before, done as i64)
    }

    /// Returns to the dispatcher: the registers go back to the CPU state, the PC (when given)
    /// and the count `n` are stored, and `link`, the exit slot taken, for the dispatcher to
    /// fill.
    fn leave(&mut self, pc: Option<Value>, n: Value, link: Option<u64>, code: u64) {
        self.flush(false);
        self.leave_flushed(pc, n, link, code);
    }

    /// [`Lower::leave`] once the registers are back in the CPU state.
    fn leave_flushed(&mut self, pc: Option<Value>, n: Value, link: Option<u64>, code: u64) {
        if let Some(pc) = pc {
            self.b
                .ins()
                .store(self.flags, pc, self.cpu, offset_of!(Cpu, pc) as i32);
        }
        self.b.ins().store(self.flags, n, self.ctx, OFFSET_COUNT);
        if let Some(slot) = link {
            let slot = self.iconst(slot);
            self.b.ins().store(self.flags, slot, self.ctx, OFFSET_LINK);
        }
        let code = self.iconst(code);
        self.b.ins().return_(&[code]);
    }

    /// Leaves the block for `next`, computed at run time (BR, BLR, RET), after `done`
    /// instructions of this pass: on to the block there when the lookup table has it and the
    /// chain is not long enough yet, else to the dispatcher. The registers go back to the CPU
    /// state once, before either way.
    fn exit_computed(&mut self, next: Value, done: u64) {
        let n = self.counted(done);
        if !self.chain {
            self.leave(Some(next), n, None, 0);
            return;
        }
        self.flush(false);
        let more = self.below_chain_limit(n);
        // The entry of `(next / 4) % LOOKUP_SIZE`, 16 bytes each.
        let offset = self.b.ins().ishl_imm_u(next, 2);
        let offset = self
            .b
            .ins()
            .band_imm_u(offset, ((LOOKUP_SIZE - 1) << 4) as i64);
        let entry = self.b.ins().iadd_imm_u(offset, self.lookup as i64);
        let pc = self.b.ins().load(I64, self.flags, entry, 0);
        let hit = self.b.ins().icmp(IntCC::Equal, pc, next);
        let go = self.b.ins().band(more, hit);
        self.chain_or_return(
            go,
            |l| l.b.ins().load(I64, l.flags, entry, 8),
            n,
            next,
            None,
        );
    }

    /// Whether the chain's count `n` leaves room for more instructions before it returns.
    fn below_chain_limit(&mut self, n: Value) -> Value {
        self.b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThan, n, CHAIN_LIMIT as i64)
    }

    /// Ends an exit whose registers are back in the CPU state: where `go` is non-zero, a tail
    /// call of the block whose code `code` gives there, with the count `n`; else a return to
    /// the dispatcher at `pc`, naming the exit slot `link` when there is one.
    fn chain_or_return(
        &mut self,
        go: Value,
        code: impl FnOnce(&mut Self) -> Value,
        n: Value,
        pc: Value,
        link: Option<u64>,
    ) {
        let (tail, out) = (self.b.create_block(), self.b.create_block());
        // Once the dispatcher filled the slot or table entry, only a long chain returns.
        self.b.set_cold_block(out);
        self.b.ins().brif(go, tail, &[], out, &[]);
        self.b.seal_block(tail);
        self.b.seal_block(out);
        self.b.switch_to_block(tail);
        let code = code(self);
        let (ctx, cpu) = (self.ctx, self.cpu);
        self.b
            .ins()
            .return_call_indirect(self.block_sig, code, &[ctx, cpu, n]);
        self.b.switch_to_block(out);
        self.leave_flushed(Some(pc), n, link, 0);
    }

    /// Leaves the block for `target`, known at compile time, after `done` instructions of
    /// this pass: on to the next block through an exit slot, unless the chain is long enough
    /// or the slot is empty. The registers go back to the CPU state once, before either way.
    fn exit_to(&mut self, target: u64, done: u64) {
        let n = self.counted(done);
        if !self.chain {
            let pc = self.iconst(target);
            self.leave(Some(pc), n, None, 0);
            return;
        }
        self.flush(false);
        let more = self.below_chain_limit(n);
        let slot = self.slots.alloc();
        let at = self.iconst(slot);
        let code = self.b.ins().load(I64, self.flags, at, 0);
        let linked = self.b.ins().icmp_imm_u(IntCC::NotEqual, code, 0);
        let go = self.b.ins().band(more, linked);
        let pc = self.iconst(target);
        self.chain_or_return(go, |_| code, n, pc, Some(slot));
    }

    /// Goes from instruction `from` (its index in the recording) to `target` after `done`
    /// instructions of this pass: within the region when it holds `target` (a jump to its
    /// Cranelift block; a jump back to the same or an earlier instruction of the recording
    /// first checks that the chain is not long enough, as every loop in the region has such
    /// a jump: the recording goes on to the next instruction only forwards), else out
    /// through [`Lower::exit_to`].
    fn goto(&mut self, from: usize, target: u64, done: u64) {
        let Some((j, to)) = self.inside(target) else {
            self.exit_to(target, done);
            return;
        };
        // Every way into a join has the flags stored, unless the join sets them again before
        // anything sees them: the join starts with none pending.
        if !self.flags_dead[j] {
            self.store_pending_flags();
        }
        let n = self.counted(done);
        if j > from {
            self.b.def_var(self.count, n);
            self.b.ins().jump(to, &[]);
            return;
        }
        let more = self.below_chain_limit(n);
        let (back, out) = (self.b.create_block(), self.b.create_block());
        self.b.set_cold_block(out);
        self.b.ins().brif(more, back, &[], out, &[]);
        self.b.seal_block(back);
        self.b.seal_block(out);
        self.b.switch_to_block(back);
        self.b.def_var(self.count, n);
        self.b.ins().jump(to, &[]);
        self.b.switch_to_block(out);
        let pc = self.iconst(target);
        self.leave(Some(pc), n, None, 0);
    }

    /// Where a branch to `target` goes inside the region: the instruction's index in the
    /// recording and its Cranelift block; `None` when the branch leaves the region.
    fn inside(&self, target: u64) -> Option<(usize, Block)> {
        let &j = self.index.get(&target)?;
        Some((j, self.blocks[j]?))
    }

    /// Whether a branch at recorded instruction `from` to `target` goes back inside the region
    /// (a loop), as [`Lower::goto`] tells a jump back.
    fn loops_back(&self, from: usize, target: u64) -> bool {
        self.inside(target).is_some_and(|(j, _)| j <= from)
    }

    /// Whether a branch to `target` leaves the region.
    fn leaves(&self, target: u64) -> bool {
        self.inside(target).is_none()
    }

    /// Whether a branch inside the region reaches one of its instructions (then every
    /// register is loaded at the entry).
    fn has_inner_jumps(&self) -> bool {
        self.blocks.iter().any(Option::is_some)
    }

    /// [`Lower::host_base`], noted as used.
    fn guest_base(&mut self) -> Value {
        self.host_used[0] = true;
        self.host_base
    }

    /// [`Lower::host_table`], noted as used.
    fn page_table(&mut self) -> Value {
        self.host_used[1] = true;
        self.host_table
    }

    /// Removes the entry block's loads of the host addresses that no access used (a region
    /// whose loads leave their faults to the host and that stores nothing needs no table).
    fn drop_unused_host_addresses(&mut self) {
        for (v, used) in [self.host_base, self.host_table]
            .into_iter()
            .zip(self.host_used)
        {
            if !used {
                let load = self.b.func.dfg.value_def(v).unwrap_inst();
                self.b.func.layout.remove_inst(load);
            }
        }
    }

    /// Removes each write-back that stores what the CPU state holds already: a register (or
    /// the flags) that no way from where the region loaded it to the store changed. The SSA
    /// values tell, once every block is sealed: the value stored is then the one loaded. The
    /// CPU state changes only at these stores, and those before a helper call are followed
    /// by a reload (new values), so memory still holds the loaded value. A register that
    /// the region writes on some ways but not this one then no longer lives on only to be
    /// stored back unchanged (fewer spills in loops).
    fn drop_unchanged_write_backs(&mut self) {
        let func = &mut *self.b.func;
        for (store, now, at_load) in std::mem::take(&mut self.write_backs) {
            let same = now
                .iter()
                .zip(&at_load)
                .all(|(&a, &b)| func.dfg.resolve_aliases(a) == func.dfg.resolve_aliases(b));
            if same {
                func.layout.remove_inst(store);
            }
        }
    }

    /// After a runtime call that can stop: leaves the region when it did. The runtime left
    /// the PC at the instruction; the registers written so far go back (through the region's
    /// one stop exit, which takes the instructions counted, when it has one).
    fn check_stop(&mut self, count: u64) {
        let status = self.b.ins().load(I64, self.flags, self.ctx, OFFSET_STATUS);
        let stopped = self
            .b
            .ins()
            .icmp_imm_s(IntCC::Equal, status, runtime::STATUS_STOP as i64);
        if !self.has_inner_jumps() {
            let go_on = self.branch_out(stopped, true);
            self.exit(None, count, 1);
            self.b.switch_to_block(go_on);
            return;
        }
        let n = self.counted(count);
        let stop = match self.stop_exit {
            Some(b) => b,
            None => {
                let b = self.b.create_block();
                for _ in 0..=self.lazy.len() {
                    self.b.append_block_param(b, I64);
                }
                self.b.set_cold_block(b);
                self.stop_exit = Some(b);
                b
            }
        };
        let go_on = self.b.create_block();
        if self.lazy.is_empty() {
            self.b.ins().brif(stopped, stop, &[n.into()], go_on, &[]);
        } else {
            let site = self.b.create_block();
            self.b.set_cold_block(site);
            self.b.ins().brif(stopped, site, &[], go_on, &[]);
            self.b.seal_block(site);
            self.b.switch_to_block(site);
            let mut args = vec![n.into()];
            for r in self.lazy.clone() {
                let v = match self.vars.get(&r) {
                    Some(&(var, true)) => self.b.use_var(var),
                    _ => self.b.ins().load(I64, self.flags, self.cpu, r.offset()),
                };
                args.push(v.into());
            }
            self.b.ins().jump(stop, &args);
        }
        self.b.seal_block(go_on);
        self.b.switch_to_block(go_on);
    }

    /// Fills the stop exit, if an instruction needs it: every register the region writes
    /// goes back to the CPU state (one loaded at the region's entry and not written yet on
    /// the way taken goes back unchanged; the others come as the block's parameters).
    fn finish_stop_exit(&mut self, written: &[Reg]) {
        let Some(b) = self.stop_exit else { return };
        self.b.switch_to_block(b);
        for r in written {
            if let Some(e) = self.vars.get_mut(r) {
                e.1 = !self.lazy.contains(r);
            }
        }
        let params = self.b.block_params(b).to_vec();
        for (r, &v) in self.lazy.clone().iter().zip(&params[1..]) {
            self.b.ins().store(self.flags, v, self.cpu, r.offset());
        }
        self.nzcv_dirty = !self.eager_flags && written.contains(&Reg::Nzcv);
        self.flags_pending = false;
        let n = self.b.block_params(b)[0];
        self.leave(None, n, None, 1);
    }

    /// Branches on `c`: continues in a new block where `c` is non-zero (cold when `cold`) and
    /// gives the new block where it is zero, for the caller to switch to once it has written
    /// the first.
    fn branch_out(&mut self, c: Value, cold: bool) -> Block {
        let (out, go_on) = (self.b.create_block(), self.b.create_block());
        if cold {
            self.b.set_cold_block(out);
        }
        self.b.ins().brif(c, out, &[], go_on, &[]);
        self.b.seal_block(out);
        self.b.seal_block(go_on);
        self.b.switch_to_block(out);
        go_on
    }

    /// Branches to a new block when `c` is non-zero, else to `slow`; continues in the new block.
    fn guard(&mut self, c: Value, slow: Block) {
        let go_on = self.b.create_block();
        self.b.ins().brif(c, go_on, &[], slow, &[]);
        self.b.seal_block(go_on);
        self.b.switch_to_block(go_on);
    }

    /// The host address of the `size` bytes at guest address `a` when the access can be done
    /// inline: untagged, inside the guest space and in one page, at any alignment (x86-64
    /// and AArch64 hosts load misaligned data in one instruction: memcpy of unaligned data,
    /// packed structures), and on a page whose permission byte has the bit `need` (`P_READ`,
    /// or `P_DATA_WRITE` for a store, which a page holding code lacks), as `Memory::read_u64`
    /// and `write_u64_fast` check. Else it branches to `slow`, which then has two
    /// predecessors to seal.
    fn fast_address(&mut self, a: Value, size: u8, need: u8, slow: Block) -> Value {
        let ok = if size == 1 {
            // A byte is in one page: only the bits outside the guest space count.
            self.in_guest_space(a)
        } else {
            // Bits outside the guest space make the masked value too large as well.
            let within = self
                .b
                .ins()
                .band_imm_u(a, (OUTSIDE | (PAGE_SIZE - 1)) as i64);
            self.b.ins().icmp_imm_u(
                IntCC::UnsignedLessThanOrEqual,
                within,
                (PAGE_SIZE - u64::from(size)) as i64,
            )
        };
        self.guard(ok, slow);
        self.permitted_address(a, need, slow)
    }

    /// Before a load: makes its instruction the resume point where that is cheap, and gives
    /// whether the resume point holds, so that the load leaves its faults to the host and
    /// anything else unusual (an address outside the guest space: tagged, or wild) to the
    /// interpreter from the resume point ([`Lower::abandon`]), and needs no flags stored.
    fn load_resumes(&mut self) -> bool {
        if self.host_faults && !self.synced && !self.insn_wrote && self.sync_is_cheap() {
            self.sync();
        }
        self.synced
    }

    /// Leaves the chain as a load's fault in the host does ([`crate::fault::EXIT_FAULT`]):
    /// the dispatcher puts back the resume point's state and the interpreter runs from there.
    fn abandon(&mut self) {
        let code = self.iconst(crate::fault::EXIT_FAULT);
        self.b.ins().return_(&[code]);
    }

    /// The host address of the `size` bytes at guest address `a` for a load: where the
    /// resume point holds ([`Lower::load_resumes`]), only the test that `a` is inside the
    /// guest space (untagged; the guard after it covers `size`), as a load the guest may not
    /// make faults in the host ([`crate::fault`]); else [`Lower::fast_address`]'s tests.
    fn readable_address(&mut self, a: Value, size: u8, slow: Block) -> Value {
        if !self.synced {
            return self.fast_address(a, size, P_READ, slow);
        }
        let inside = self.in_guest_space(a);
        self.guard(inside, slow);
        let base = self.guest_base();
        self.b.ins().iadd(a, base)
    }

    /// Whether guest address `a` is below `GUEST_SPACE` as it is (bits 63..40 clear).
    fn in_guest_space(&mut self, a: Value) -> Value {
        let bad = self.b.ins().band_imm_u(a, OUTSIDE as i64);
        self.b.ins().icmp_imm_u(IntCC::Equal, bad, 0)
    }

    /// Whether [`Lower::sync`] would store a few registers only, and not flags to pack. (After
    /// a join every register the region writes counts as written, so the first load there
    /// seldom makes a resume point.)
    fn sync_is_cheap(&self) -> bool {
        const MOST: usize = 6;
        !self.nzcv_dirty && self.vars.values().filter(|(_, dirty)| *dirty).count() <= MOST
    }

    /// Makes the region's entry the resume point: the CPU state is exact there. In a region
    /// that stores the flags eagerly, the flags as they are at the entry are copied to the
    /// context as well, since those stores go to where the resume point's flags are; else a
    /// marker says that the flags where the chain keeps them are the resume point's.
    fn enter_resume_point(&mut self, pc: u64, count: Value) {
        self.store_resume_point(pc, count);
        self.resume_flags_kept = true;
        if self.eager_flags && self.nzcv.is_some() {
            let word = self
                .b
                .ins()
                .load(I64, self.flags, self.cpu, Reg::Nzcv.offset());
            self.b
                .ins()
                .store(self.flags, word, self.ctx, OFFSET_RESUME_FLAGS + 24);
            for k in 0..3 {
                let w = self
                    .b
                    .ins()
                    .load(I64, self.flags, self.ctx, OFFSET_FLAGS + 8 * k);
                self.b
                    .ins()
                    .store(self.flags, w, self.ctx, OFFSET_RESUME_FLAGS + 8 * k);
            }
        } else {
            self.store_no_flags_copy();
        }
    }

    /// Marks the flags where the chain keeps them as the resume point's ([`runtime::NO_SNAPSHOT`]).
    fn store_no_flags_copy(&mut self) {
        let none = self.iconst(runtime::NO_SNAPSHOT);
        self.b
            .ins()
            .store(self.flags, none, self.ctx, OFFSET_RESUME_FLAGS);
    }

    /// Stores the resume point's PC and the instructions counted before it.
    fn store_resume_point(&mut self, pc: u64, count: Value) {
        let pc = self.iconst(pc);
        self.b
            .ins()
            .store(self.flags, pc, self.ctx, OFFSET_RESUME_PC);
        self.b
            .ins()
            .store(self.flags, count, self.ctx, OFFSET_RESUME_COUNT);
        self.synced = true;
    }

    /// Makes the current instruction the resume point: the written registers (and flags) go
    /// back to the CPU state, and its address and the instructions before it to the context.
    fn sync(&mut self) {
        self.flush(true);
        let n = self.counted(self.insn_before);
        self.store_resume_point(self.insn_pc, n);
        // The flags where the chain keeps them are this point's (the flush stored any that
        // were pending), until the flags are next set.
        self.store_no_flags_copy();
        self.resume_flags_kept = false;
    }

    /// The host address of guest address `a` when its page's permission byte has the bit
    /// `need`, else a branch to `slow`.
    fn permitted_address(&mut self, a: Value, need: u8, slow: Block) -> Value {
        let page = self
            .b
            .ins()
            .ushr_imm_u(a, PAGE_SIZE.trailing_zeros() as i64);
        let table = self.page_table();
        let entry = self.b.ins().iadd(page, table);
        let perms = self.b.ins().uload8(I64, self.flags, entry, 0);
        let ok = self.b.ins().band_imm_u(perms, i64::from(need));
        self.guard(ok, slow);
        let base = self.guest_base();
        self.b.ins().iadd(a, base)
    }

    /// A guest load: inline on the fast path, else through the runtime (which may stop).
    fn load(&mut self, a: Value, size: u8, pc: Value, done: u64) -> Value {
        let inline = size.is_power_of_two() && size <= 8;
        let resumes = inline && self.load_resumes();
        if !resumes {
            self.settle_pending_flags();
        }
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        let join = self.b.create_block();
        let value = self.b.append_block_param(join, I64);
        if inline {
            let host = self.readable_address(a, size, slow);
            let v = self.host_load(host, size);
            self.b.ins().jump(join, &[v.into()]);
        } else {
            self.b.ins().jump(slow, &[]);
        }
        self.b.seal_block(slow);
        self.b.switch_to_block(slow);
        if resumes {
            self.abandon();
        } else {
            let r = self.runtime_load(a, size, pc, done);
            self.b.ins().jump(join, &[r.into()]);
        }
        self.b.seal_block(join);
        self.b.switch_to_block(join);
        value
    }

    /// A guest load through the runtime, which may stop.
    fn runtime_load(&mut self, a: Value, size: u8, pc: Value, done: u64) -> Value {
        let size = self.iconst(u64::from(size));
        let r = self.call_slow_path(
            runtime::preserving::rt_load as *const () as usize,
            &[pc, a, size],
        );
        self.check_stop(done);
        r
    }

    /// A guest store: inline on the fast path (never to an executable page: a write there
    /// changes code, which the runtime records), else through the runtime.
    fn store(&mut self, a: Value, size: u8, x: Value, pc: Value, done: u64) {
        self.settle_pending_flags();
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        let join = self.b.create_block();
        if size.is_power_of_two() && size <= 8 {
            let host = self.fast_address(a, size, P_DATA_WRITE, slow);
            self.host_store(host, size, x);
            self.b.ins().jump(join, &[]);
        } else {
            self.b.ins().jump(slow, &[]);
        }
        self.b.seal_block(slow);
        self.b.switch_to_block(slow);
        self.runtime_store(a, size, x, pc, done);
        self.b.ins().jump(join, &[]);
        self.b.seal_block(join);
        self.b.switch_to_block(join);
    }

    /// A guest store through the runtime, which may stop or change code.
    fn runtime_store(&mut self, a: Value, size: u8, x: Value, pc: Value, done: u64) {
        let size = self.iconst(u64::from(size));
        self.call_slow_path(
            runtime::preserving::rt_store as *const () as usize,
            &[pc, a, size, x],
        );
        self.check_stop(done);
        self.note_code_change();
    }

    /// `size` bytes (1, 2, 4 or 8) at host address `host`, at any alignment, zero-extended:
    /// one host load, which where aligned is a relaxed atomic load as `Memory::read_u64`
    /// makes (x86-64 and AArch64 hosts do not split an aligned access).
    fn host_load(&mut self, host: Value, size: u8) -> Value {
        let f = guest_access();
        match size {
            1 => self.b.ins().uload8(I64, f, host, 0),
            2 => self.b.ins().uload16(I64, f, host, 0),
            4 => self.b.ins().uload32(f, host, 0),
            _ => self.b.ins().load(I64, f, host, 0),
        }
    }

    /// Writes the low `size` bytes of `x` at host address `host`, as [`Lower::host_load`].
    fn host_store(&mut self, host: Value, size: u8, x: Value) {
        let f = guest_access();
        match size {
            1 => self.b.ins().istore8(f, x, host, 0),
            2 => self.b.ins().istore16(f, x, host, 0),
            4 => self.b.ins().istore32(f, x, host, 0),
            _ => self.b.ins().store(f, x, host, 0),
        };
    }

    /// The two accesses of a pair (LDP, STP: `size` bytes at `a`, then at `a2`, which is
    /// `a + size`): when both are in one page, one check covers them; else (across a page,
    /// or a fault) each goes through the runtime in turn. Gives the loaded values (0 for
    /// stores).
    fn pair(
        &mut self,
        a: Value,
        a2: Value,
        size: u8,
        store: Option<[Value; 2]>,
        pc: Value,
        done: u64,
    ) -> [Value; 2] {
        let resumes = store.is_none() && self.load_resumes();
        if !resumes {
            self.settle_pending_flags();
        }
        let apart = self.b.create_block();
        self.b.set_cold_block(apart);
        let join = self.b.create_block();
        let v = [(); 2].map(|()| self.b.append_block_param(join, I64));
        let need = if store.is_some() {
            P_DATA_WRITE
        } else {
            P_READ
        };
        let host = match store {
            Some(_) => self.fast_address(a, 2 * size, need, apart),
            None => self.readable_address(a, 2 * size, apart),
        };
        let host2 = self.b.ins().iadd_imm_u(host, i64::from(size));
        let got = match store {
            Some([x, y]) => {
                self.host_store(host, size, x);
                self.host_store(host2, size, y);
                [self.iconst(0); 2]
            }
            None => [self.host_load(host, size), self.host_load(host2, size)],
        };
        self.b.ins().jump(join, &got.map(Into::into));
        self.b.seal_block(apart);
        self.b.switch_to_block(apart);
        if resumes {
            self.abandon();
            self.b.seal_block(join);
            self.b.switch_to_block(join);
            return v;
        }
        let got = match store {
            Some([x, y]) => {
                self.runtime_store(a, size, x, pc, done);
                self.runtime_store(a2, size, y, pc, done);
                [self.iconst(0); 2]
            }
            None => [
                self.runtime_load(a, size, pc, done),
                self.runtime_load(a2, size, pc, done),
            ],
        };
        self.b.ins().jump(join, &got.map(Into::into));
        self.b.seal_block(join);
        self.b.switch_to_block(join);
        v
    }

    /// After a runtime write that did not stop: notes whether it changed code.
    fn note_code_change(&mut self) {
        let status = self.b.ins().load(I64, self.flags, self.ctx, OFFSET_STATUS);
        let before = self.b.use_var(self.changed);
        let now = self.b.ins().bor(before, status);
        self.b.def_var(self.changed, now);
    }

    /// Whether the recorded value `c` is non-zero, as an `i8` truth: a condition's own
    /// comparison, so that a branch on it is a compare and jump.
    fn truth(&mut self, c: Val) -> Value {
        match self.truths.get(&c) {
            Some(&t) => t,
            None => {
                let c = self.vals[c as usize];
                self.b.ins().icmp_imm_s(IntCC::NotEqual, c, 0)
            }
        }
    }

    fn bool_to_i64(&mut self, c: Value) -> Value {
        self.b.ins().uextend(I64, c)
    }

    fn bin(&mut self, op: BinOp, a: Value, b: Value) -> Value {
        match op {
            BinOp::Add => self.b.ins().iadd(a, b),
            BinOp::Sub => self.b.ins().isub(a, b),
            BinOp::And => self.b.ins().band(a, b),
            BinOp::Or => self.b.ins().bor(a, b),
            BinOp::Xor => self.b.ins().bxor(a, b),
            // Cranelift takes shift amounts modulo the width, as the op table does.
            BinOp::Shl => self.b.ins().ishl(a, b),
            BinOp::Lsr => self.b.ins().ushr(a, b),
            BinOp::Asr => self.b.ins().sshr(a, b),
            BinOp::Ror => self.b.ins().rotr(a, b),
            BinOp::Mul => self.b.ins().imul(a, b),
            BinOp::UMulH => self.b.ins().umulhi(a, b),
            BinOp::SMulH => self.b.ins().smulhi(a, b),
            BinOp::UDiv | BinOp::SDiv => {
                // Division by zero gives 0 and `MIN / -1` gives MIN, where Cranelift traps.
                let zero = self.iconst(0);
                let one = self.iconst(1);
                let by_zero = self.b.ins().icmp_imm_s(IntCC::Equal, b, 0);
                let mut d = self.b.ins().select(by_zero, one, b);
                let q = if op == BinOp::UDiv {
                    self.b.ins().udiv(a, d)
                } else {
                    let min = self.b.ins().icmp_imm_s(IntCC::Equal, a, i64::MIN);
                    let minus_one = self.b.ins().icmp_imm_s(IntCC::Equal, b, -1);
                    let overflow = self.b.ins().band(min, minus_one);
                    d = self.b.ins().select(overflow, one, d);
                    self.b.ins().sdiv(a, d)
                };
                self.b.ins().select(by_zero, zero, q)
            }
            BinOp::Eq | BinOp::Ne | BinOp::Ult | BinOp::Ule | BinOp::Slt | BinOp::Sle => {
                let cc = match op {
                    BinOp::Eq => IntCC::Equal,
                    BinOp::Ne => IntCC::NotEqual,
                    BinOp::Ult => IntCC::UnsignedLessThan,
                    BinOp::Ule => IntCC::UnsignedLessThanOrEqual,
                    BinOp::Slt => IntCC::SignedLessThan,
                    _ => IntCC::SignedLessThanOrEqual,
                };
                let c = self.b.ins().icmp(cc, a, b);
                self.bool_to_i64(c)
            }
        }
    }

    fn un(&mut self, op: UnOp, a: Value) -> Value {
        let ext = |l: &mut Self, ty: types::Type, signed: bool| {
            let narrow = l.b.ins().ireduce(ty, a);
            if signed {
                l.b.ins().sextend(I64, narrow)
            } else {
                l.b.ins().uextend(I64, narrow)
            }
        };
        match op {
            UnOp::Not => self.b.ins().bnot(a),
            UnOp::Neg => self.b.ins().ineg(a),
            UnOp::Clz => self.b.ins().clz(a),
            UnOp::Rbit => self.b.ins().bitrev(a),
            UnOp::Rev => self.b.ins().bswap(a),
            UnOp::Sext8 => ext(self, types::I8, true),
            UnOp::Sext16 => ext(self, types::I16, true),
            UnOp::Sext32 => ext(self, types::I32, true),
            UnOp::Zext8 => ext(self, types::I8, false),
            UnOp::Zext16 => ext(self, types::I16, false),
            UnOp::Zext32 => ext(self, types::I32, false),
        }
    }
}

/// What [`lower`] builds into: the function, the calling conventions of the host (runtime
/// calls) and of blocks (tail calls), and where exit slots come from.
pub struct Target<'a> {
    pub conv: CallConv,
    pub block_conv: CallConv,
    pub config: cranelift_codegen::isa::TargetFrontendConfig,
    pub slots: &'a mut Slots,
    /// Whether exits may continue into the next block without the dispatcher, and a block
    /// that branches to its own start may loop (off when single-stepping).
    pub chain: bool,
    /// The host address of the dispatcher's lookup table ([`LOOKUP_SIZE`] entries of a guest
    /// address and the code of its block, `pc` `empty_pc` when empty), which computed exits
    /// look into.
    pub lookup: u64,
    /// Whether loads leave faults to the host ([`crate::fault`]).
    pub host_faults: bool,
}

/// Entries of the lookup table from guest addresses to compiled blocks (direct-mapped by
/// `pc / 4`).
pub const LOOKUP_SIZE: usize = 4096;

/// The signature of a compiled block: `fn(ctx, cpu, count) -> code` in `conv` (the tail-call
/// convention), where `count` is the instructions the chain ran before it.
pub fn block_signature(conv: CallConv) -> Signature {
    let mut sig = Signature::new(conv);
    sig.params.extend([AbiParam::new(I64); 3]);
    sig.returns.push(AbiParam::new(I64));
    sig
}

/// Builds the function of `rec` into `b` (an empty function with [`block_signature`]).
pub fn lower(b: FunctionBuilder<'_>, t: Target<'_>, rec: &Recorder) {
    let mut b = b;
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let params = b.block_params(entry);
    let (cpu, count0) = (params[1], params[2]);
    // The context is in the CPU state (`runtime::ctx_in`), so no register holds it apart.
    let ctx = b.ins().iadd_imm_u(cpu, runtime::CTX_IN_CPU);
    let fixed = MemFlagsData::trusted().with_readonly();
    let host_base = b.ins().load(I64, fixed, ctx, runtime::OFFSET_GUEST_BASE);
    let host_table = b.ins().load(I64, fixed, ctx, runtime::OFFSET_PAGE_TABLE);
    let next = b.declare_var(I64);
    let changed = b.declare_var(I64);
    let count = b.declare_var(I64);
    b.def_var(count, count0);
    let kind = b.declare_var(I64);
    let kind_forms = b.ins().iconst(I64, FLAGS_CPU as i64);
    let kind_sub = b.ins().iconst(I64, FLAGS_SUB as i64);
    b.def_var(kind, kind_forms);
    let block_sig = b.import_signature(block_signature(t.block_conv));
    let k = constants(rec);
    let n = rec.insns.len();
    let index: std::collections::HashMap<u64, usize> = rec
        .insns
        .iter()
        .enumerate()
        .map(|(i, x)| (x.pc, i))
        .collect();
    // Where each instruction goes, and which instructions an edge inside the region reaches
    // other than from the instruction before them (those start a Cranelift block). Without
    // chaining, no edge stays inside: every way out of an instruction but the next leaves.
    let succ: Vec<Exits> = (0..n).map(|i| insn_exits(rec, &k, i)).collect();
    let mut targets = vec![false; n];
    if t.chain {
        for (i, e) in succ.iter().enumerate() {
            for way in e.ways() {
                if let Some(&j) = index.get(&way) {
                    let linear = j == i + 1 && !matches!(*e, Exits::If(_, a, _) if a == way);
                    targets[j] |= !linear;
                }
            }
        }
    }
    let mut l = Lower {
        b,
        conv: t.conv,
        ctx,
        cpu,
        vals: Vec::with_capacity(rec.ops.len()),
        vars: BTreeMap::new(),
        next,
        sigs: BTreeMap::new(),
        flags: MemFlagsData::trusted(),
        host_base,
        host_table,
        host_used: [false; 2],
        changed,
        count,
        block_sig,
        slots: t.slots,
        chain: t.chain,
        index,
        blocks: Vec::new(),
        lookup: t.lookup,
        known: Vec::with_capacity(rec.ops.len()),
        nzcv: None,
        nzcv_dirty: false,
        stop_exit: None,
        lazy: Vec::new(),
        carry_flags: BTreeMap::new(),
        kind,
        kind_forms,
        kind_sub,
        truths: BTreeMap::new(),
        loaded: BTreeMap::new(),
        loaded_flags: None,
        choice: None,
        unshifted: BTreeMap::new(),
        write_backs: Vec::new(),
        eager_flags: false,
        flags_pending: false,
        flags_dead: Vec::new(),
        host_faults: t.host_faults,
        synced: false,
        synced_everywhere: false,
        resume_flags_kept: false,
        insn_pc: 0,
        insn_before: 0,
        insn_wrote: false,
    };
    l.blocks = targets
        .iter()
        .map(|&x| x.then(|| l.b.create_block()))
        .collect();
    let (read, written) = registers(rec);
    l.eager_flags = l.has_inner_jumps();
    // Loads may leave faults to the host from the entry on, up to a store or a helper that
    // changes the CPU state (everywhere when the region has neither).
    let loads = rec.ops.iter().any(|o| matches!(o, Op::Load(..)));
    let resume_at_entry = l.host_faults && loads;
    l.synced_everywhere = resume_at_entry
        && !rec
            .ops
            .iter()
            .any(|o| o.writes_memory() || matches!(o, Op::Call(..)));
    let loads_resume = l.synced_everywhere;
    l.flags_dead = (0..n)
        .map(|j| targets[j] && flags_set_before_seen(rec, &succ, &targets, loads_resume, j))
        .collect();
    let mut written_before = Vec::new();
    if l.has_inner_jumps() {
        // The registers live in their variables across the region's blocks: those a way
        // needs from the entry are loaded there ([`Residence`]); at the start of each block,
        // those written on some way to it count as written (an exit stores them).
        // The instructions each one goes on to inside the region.
        let edges: Vec<Vec<usize>> = succ
            .iter()
            .enumerate()
            .map(|(i, e)| {
                e.ways()
                    .filter_map(|w| l.index.get(&w).copied())
                    .filter(|&j| j == i + 1 || targets[j])
                    .collect()
            })
            .collect();
        let res = residence(rec, &edges);
        for r in read.iter().chain(&written) {
            if *r == Reg::Nzcv {
                // Where every way sets the flags before it reads them, nothing is loaded.
                if res.entry.contains(r) {
                    l.flag_vars();
                } else {
                    l.flag_vars_to_write();
                }
            } else if res.entry.contains(r) {
                l.get(*r);
            } else {
                l.lazy.push(*r);
            }
        }
        written_before = res.written_before;
    }
    if resume_at_entry {
        l.enter_resume_point(rec.insns[0].pc, count0);
    }
    // Whether the current Cranelift block still goes on (no jump or exit ended it), and the
    // instruction that started it.
    let mut open = true;
    let mut first = 0;
    for (i, insn) in rec.insns.iter().enumerate() {
        if let Some(block) = l.blocks[i] {
            if open && !l.flags_dead[i] {
                l.store_pending_flags();
            }
            if open {
                let n = l.counted((i - first) as u64);
                l.b.def_var(l.count, n);
                l.b.ins().jump(block, &[]);
            }
            l.b.switch_to_block(block);
            for r in &written {
                if let Some(e) = l.vars.get_mut(r) {
                    e.1 = written_before[i].contains(r);
                }
                if *r == Reg::Nzcv && !l.eager_flags {
                    l.nzcv_dirty = true;
                }
            }
            first = i;
            open = true;
            l.flags_pending = false;
            // Another way may come here with stores since its resume point.
            l.synced = l.synced_everywhere;
        }
        let end = rec
            .insns
            .get(i + 1)
            .map_or(rec.ops.len(), |next| next.start);
        let pc = insn.pc;
        let fall = l.iconst(pc.wrapping_add(4));
        l.b.def_var(l.next, fall);
        let done = (i - first) as u64 + 1;
        l.insn_pc = pc;
        l.insn_before = done - 1;
        l.insn_wrote = false;
        let writes = rec.ops[insn.start..end].iter().any(Op::writes_memory);
        if writes {
            let zero = l.iconst(0);
            l.b.def_var(l.changed, zero);
        }
        let pc_v = l.iconst(pc);
        // The value of the second access of a pair done with the first one.
        let mut paired: Option<Value> = None;
        for op in &rec.ops[insn.start..end] {
            let op_index = l.vals.len() as Val;
            macro_rules! v {
                ($i:expr) => {
                    l.vals[$i as usize]
                };
            }
            let mut known = Known::Nothing;
            let value = match *op {
                Op::Imm(x) => {
                    known = match x {
                        1 => Known::Bool,
                        // An NZCV immediate (CCMP's `nzcv`, or 0).
                        _ if is_nzcv(x) => Known::Flags(
                            [31, 30, 29, 28].map(|bit| (x >> bit & 1 == 1).then(|| l.iconst(1))),
                        ),
                        _ => Known::Nothing,
                    };
                    l.iconst(x)
                }
                Op::X(n) if n < 31 => l.get(Reg::X(n)),
                Op::X(_) => l.iconst(0),
                Op::SetX(n, x) => {
                    if n < 31 {
                        let x = v!(x);
                        l.set(Reg::X(n), x);
                    }
                    l.iconst(0)
                }
                Op::V(n, h) => l.get(Reg::V(n, h)),
                Op::SetV(n, h, x) => {
                    let x = v!(x);
                    l.set(Reg::V(n, h), x);
                    l.iconst(0)
                }
                Op::Sp => l.get(Reg::Sp),
                Op::SetSp(x) => {
                    let x = v!(x);
                    l.set(Reg::Sp, x);
                    l.iconst(0)
                }
                Op::Nzcv => {
                    // The 0/1 flags for whatever takes them out; unused ones cost nothing.
                    known = Known::Flags(l.get_flags().map(Some));
                    let f = l.forms();
                    l.pack_forms(f)
                }
                Op::SetNzcv(x) => {
                    match l.known[x as usize] {
                        Known::Choice(_, ch) => l.set_choice(ch),
                        Known::Forms(f) => {
                            // The flags of a subtraction stay its operands.
                            match l.sub_flags(rec, x) {
                                Some((a, b, bits)) => l.set_sub(a, b, bits),
                                None => l.set_forms(f),
                            }
                        }
                        Known::Flags(f) => {
                            let f = f.map(|f| f.unwrap_or_else(|| l.iconst(0)));
                            l.set_flags(f);
                        }
                        _ => {
                            let x = v!(x);
                            let f = [31, 30, 29, 28].map(|bit| {
                                let f = l.b.ins().ushr_imm_u(x, bit);
                                l.b.ins().band_imm_u(f, 1)
                            });
                            l.set_flags(f);
                        }
                    }
                    l.iconst(0)
                }
                Op::AddWithCarry(x, y, c, bits) => {
                    // A subtraction's `b`: what `y` is NOT of, an immediate's NOT included.
                    let sub = match (rec.ops[y as usize], k[c as usize]) {
                        (Op::Un(UnOp::Not, b), Some(1)) => Some(v!(b)),
                        (_, Some(1)) => k[y as usize].map(|y| l.iconst(!y)),
                        _ => None,
                    };
                    let (xv, yv, cv) = (v!(x), v!(y), v!(c));
                    let (r, f) = l.add_with_carry(xv, yv, (cv, k[c as usize]), sub, bits);
                    l.carry_flags
                        .insert(op_index, (f, sub.map(|b| (xv, b, bits))));
                    r
                }
                Op::CarryFlags(r) => {
                    let f = l.carry_flags[&r].0;
                    known = Known::Forms(f);
                    l.pack_forms(f)
                }
                Op::LogicalFlags(r, bits) => {
                    let r = v!(r);
                    let n = if bits == 32 {
                        l.b.ins().ishl_imm_u(r, 32)
                    } else {
                        r
                    };
                    let zero = l.iconst(0);
                    let f = [n, r, zero, zero];
                    known = Known::Forms(f);
                    l.pack_forms(f)
                }
                Op::Cond(cond) => {
                    let truth = l.condition_holds(cond);
                    l.truths.insert(op_index, truth);
                    known = Known::Bool;
                    l.bool_to_i64(truth)
                }
                Op::Sys(r) => match Reg::of_sysreg(r) {
                    Some(reg) => l.get(reg),
                    None => {
                        let code = l.iconst(sysreg_code(r));
                        l.call(
                            runtime::rt_sysreg as *const () as usize,
                            &[ctx, pc_v, code],
                            true,
                        )
                    }
                },
                Op::SetSys(r, x) => {
                    if let Some(reg) = Reg::of_sysreg(r) {
                        let x = v!(x);
                        l.set(reg, x);
                    }
                    l.iconst(0)
                }
                Op::Bin(op, a, b2) => {
                    let (ka, kb) = (l.known[a as usize], l.known[b2 as usize]);
                    let (ca, cb) = (k[a as usize], k[b2 as usize]);
                    known = match (op, ka, kb, ca, cb) {
                        (BinOp::Shl, Known::Bool, _, _, Some(sh @ 28..=31)) => {
                            let mut f = [None; 4];
                            f[31 - sh as usize] = Some(v!(a));
                            Known::Flags(f)
                        }
                        (BinOp::Shl, Known::Flags([None, None, None, None]), ..) => {
                            Known::Flags([None; 4])
                        }
                        (BinOp::Or, Known::Flags(x), Known::Flags(y), _, _)
                            if x.iter().zip(&y).all(|(x, y)| x.is_none() || y.is_none()) =>
                        {
                            Known::Flags([0, 1, 2, 3].map(|i| x[i].or(y[i])))
                        }
                        (BinOp::Lsr, Known::Flags(f), _, _, Some(sh @ 28..=31)) => {
                            Known::Shifted(f, sh)
                        }
                        (BinOp::And, Known::Shifted(f, sh), _, _, Some(1)) => {
                            Known::Flags([f[31 - sh as usize], None, None, None])
                        }
                        (BinOp::Eq | BinOp::Ne | BinOp::Ult | BinOp::Ule, ..)
                        | (BinOp::Slt | BinOp::Sle, ..)
                        | (BinOp::And, _, _, _, Some(1))
                        | (BinOp::And | BinOp::Or | BinOp::Xor, Known::Bool, Known::Bool, ..)
                        | (BinOp::And, Known::Bool, ..)
                        | (BinOp::Lsr, _, _, _, Some(63)) => Known::Bool,
                        _ => Known::Nothing,
                    };
                    match known {
                        // A flag taken out of packed NZCV: the flag itself.
                        Known::Flags([f, None, None, None]) if op == BinOp::And => {
                            known = Known::Bool;
                            f.unwrap_or_else(|| l.iconst(0))
                        }
                        _ => {
                            let (a, b2) = (v!(a), v!(b2));
                            l.bin(op, a, b2)
                        }
                    }
                }
                Op::Un(op, a) => match (op, rotate32(rec, &k, a)) {
                    (UnOp::Zext32, Some((x, amount))) => {
                        let narrow = l.b.ins().ireduce(types::I32, v!(x));
                        let r = l.b.ins().rotr_imm_u(narrow, amount as i64);
                        l.b.ins().uextend(I64, r)
                    }
                    _ => {
                        let a = v!(a);
                        l.un(op, a)
                    }
                },
                Op::Select(c, a, b2) => {
                    let c = l.truth(c);
                    let (ka, kb) = (l.known[a as usize], l.known[b2 as usize]);
                    match (l.forms_of(ka), l.forms_of(kb)) {
                        // A choice of flags (CCMP): each flag chosen in its form.
                        (Some(fa), Some(fb)) => {
                            let f = [0, 1, 2, 3].map(|i| l.b.ins().select(c, fa[i], fb[i]));
                            // A subtraction's flags or an immediate's (CCMP), in either order.
                            let word_of = |x: Val| k[x as usize].filter(|&w| is_nzcv(w));
                            let (sub_a, sub_b) = (l.sub_flags(rec, a), l.sub_flags(rec, b2));
                            let choice = match (sub_a, word_of(b2), sub_b, word_of(a)) {
                                (Some(sub), Some(word), ..) => Some((c, sub, word)),
                                (_, _, Some(sub), Some(word)) => {
                                    let not_c = l.b.ins().icmp_imm_u(IntCC::Equal, c, 0);
                                    Some((not_c, sub, word))
                                }
                                _ => None,
                            };
                            known = match choice {
                                Some((use_sub, sub, word)) => {
                                    Known::Choice(f, Choice { use_sub, sub, word })
                                }
                                None => Known::Forms(f),
                            };
                            l.pack_forms(f)
                        }
                        _ => {
                            let (a, b2) = (v!(a), v!(b2));
                            l.b.ins().select(c, a, b2)
                        }
                    }
                }
                Op::Call(f, args, count) | Op::CallPure(f, args, count) => {
                    let args: Vec<Value> =
                        args[..usize::from(count)].iter().map(|&a| v!(a)).collect();
                    l.call_helper(f, &args, matches!(op, Op::CallPure(..)))
                }
                Op::Lanes(f, lane_op, esize, pairwise, args) => {
                    let (a, b) = (v!(args[0]), v!(args[1]));
                    match l.lanes(lane_op, esize, pairwise, a, b) {
                        Some(r) => r,
                        None => l.call_helper(f, &[a, b, v!(args[2])], true),
                    }
                }
                Op::Branch(t) => {
                    let t = v!(t);
                    l.b.def_var(l.next, t);
                    l.iconst(0)
                }
                Op::BranchIf(c, t) => {
                    let c = l.truth(c);
                    let t = v!(t);
                    let cur = l.b.use_var(l.next);
                    let target = l.b.ins().select(c, t, cur);
                    l.b.def_var(l.next, target);
                    l.iconst(0)
                }
                // The second access of a pair was done with the first.
                Op::Load(..) | Op::Store(..) if paired.is_some() => {
                    paired.take().unwrap_or_else(|| l.iconst(0))
                }
                Op::Load(a, size) => match pair_second(rec, &k, op_index as usize, end) {
                    Some((a2, _)) => {
                        let [x, y] = l.pair(v!(a), v!(a2), size, None, pc_v, done);
                        paired = Some(y);
                        x
                    }
                    None => {
                        let a = v!(a);
                        l.load(a, size, pc_v, done)
                    }
                },
                Op::Store(a, size, x) => {
                    match pair_second(rec, &k, op_index as usize, end) {
                        Some((a2, y)) => {
                            let data = [v!(x), v!(y)];
                            l.pair(v!(a), v!(a2), size, Some(data), pc_v, done);
                            paired = Some(l.iconst(0));
                        }
                        None => {
                            let (a, x) = (v!(a), v!(x));
                            l.store(a, size, x, pc_v, done);
                        }
                    }
                    l.iconst(0)
                }
                Op::CheckAligned(a, size, write) => {
                    // Inline, as LDAR and STLR are frequent in locks; the runtime makes the
                    // fault in a cold block.
                    let a = v!(a);
                    let low = l.b.ins().band_imm_u(a, i64::from(size) - 1);
                    let (fault, go_on) = (l.b.create_block(), l.b.create_block());
                    l.b.set_cold_block(fault);
                    l.b.ins().brif(low, fault, &[], go_on, &[]);
                    l.b.seal_block(fault);
                    l.b.switch_to_block(fault);
                    let (size, write) = (l.iconst(u64::from(size)), l.iconst(u64::from(write)));
                    l.call(
                        runtime::rt_check_aligned as *const () as usize,
                        &[ctx, pc_v, a, size, write],
                        false,
                    );
                    l.check_stop(done);
                    l.b.ins().jump(go_on, &[]);
                    l.b.seal_block(go_on);
                    l.b.switch_to_block(go_on);
                    l.iconst(0)
                }
                Op::LoadExclusive(a, size) => {
                    let (a, size) = (v!(a), l.iconst(u64::from(size)));
                    let r = l.call(
                        runtime::rt_load_exclusive as *const () as usize,
                        &[ctx, pc_v, a, size],
                        true,
                    );
                    l.check_stop(done);
                    r
                }
                Op::StoreExclusive(a, size, x) => {
                    let (a, x, size) = (v!(a), v!(x), l.iconst(u64::from(size)));
                    let r = l.call(
                        runtime::rt_store_exclusive as *const () as usize,
                        &[ctx, pc_v, a, size, x],
                        true,
                    );
                    l.check_stop(done);
                    l.note_code_change();
                    r
                }
                Op::ClearExclusive => l.call(
                    runtime::rt_clear_exclusive as *const () as usize,
                    &[ctx, pc_v],
                    false,
                ),
                Op::LoadExclusivePair(a) => {
                    let a = v!(a);
                    let r = l.call(
                        runtime::rt_load_exclusive_pair as *const () as usize,
                        &[ctx, pc_v, a],
                        true,
                    );
                    l.check_stop(done);
                    r
                }
                Op::StoreExclusivePair(a, lo, hi) => {
                    let (a, lo, hi) = (v!(a), v!(lo), v!(hi));
                    let r = l.call(
                        runtime::rt_store_exclusive_pair as *const () as usize,
                        &[ctx, pc_v, a, lo, hi],
                        true,
                    );
                    l.check_stop(done);
                    l.note_code_change();
                    r
                }
                Op::Atomic(op, a, size, x) => {
                    let code = AtomicOp::ALL.iter().position(|o| *o == op).unwrap_or(0);
                    let (a, x) = (v!(a), v!(x));
                    let (code, size) = (l.iconst(code as u64), l.iconst(u64::from(size)));
                    let r = l.call(
                        runtime::rt_atomic as *const () as usize,
                        &[ctx, pc_v, code, a, size, x],
                        true,
                    );
                    l.check_stop(done);
                    l.note_code_change();
                    r
                }
                Op::CompareSwap(a, size, e, x) => {
                    let (a, e, x) = (v!(a), v!(e), v!(x));
                    let size = l.iconst(u64::from(size));
                    let r = l.call(
                        runtime::rt_compare_swap as *const () as usize,
                        &[ctx, pc_v, a, size, e, x],
                        true,
                    );
                    l.check_stop(done);
                    l.note_code_change();
                    r
                }
                Op::CompareSwapPair(a, elo, ehi, nlo, nhi) => {
                    let slot = l.b.create_sized_stack_slot(StackSlotData::new(
                        StackSlotKind::ExplicitSlot,
                        40,
                        3,
                    ));
                    for (k, x) in [a, elo, ehi, nlo, nhi].into_iter().enumerate() {
                        let x = v!(x);
                        l.b.ins().stack_store(I64, x, slot, 8 * k as i32);
                    }
                    let at = l.b.ins().stack_addr(I64, slot, 0);
                    let r = l.call(
                        runtime::rt_compare_swap_pair as *const () as usize,
                        &[ctx, pc_v, at],
                        true,
                    );
                    l.check_stop(done);
                    l.note_code_change();
                    r
                }
                Op::Second(_) => l.b.ins().load(I64, l.flags, ctx, OFFSET_SECOND),
                Op::Barrier => {
                    l.b.ins().fence();
                    l.iconst(0)
                }
            };
            if op.writes_memory() {
                l.synced = false;
            }
            l.vals.push(value);
            l.known.push(known);
        }
        if writes {
            // A write that changed code ends the block after this instruction, through the
            // dispatcher (which drops the blocks).
            let changed = l.b.use_var(l.changed);
            let go_on = l.branch_out(changed, true);
            let next = l.b.use_var(l.next);
            l.exit(Some(next), done, 0);
            l.b.switch_to_block(go_on);
        }
        // Then on to the next instruction in this block, a jump inside the region, or out.
        let next_pc = rec.insns.get(i + 1).map(|x| x.pc);
        let linear = |to: u64| Some(to) == next_pc && !targets[i + 1];
        match succ[i] {
            Exits::To(to) if linear(to) => {}
            Exits::To(to) => {
                l.goto(i, to, done);
                open = false;
            }
            Exits::If(c, taken, fall) => {
                let c = l.truth(c);
                // A loop's exit is laid out with the cold code, so that going round the loop
                // takes one host branch (back to its start), not one over the exit as well.
                let no = l.branch_out(c, l.loops_back(i, fall) && l.leaves(taken));
                if l.loops_back(i, taken) && l.leaves(fall) {
                    l.b.set_cold_block(no);
                }
                l.goto(i, taken, done);
                l.b.switch_to_block(no);
                if !linear(fall) {
                    l.goto(i, fall, done);
                    open = false;
                }
            }
            Exits::Computed => {
                let next = l.b.use_var(l.next);
                l.exit_computed(next, done);
                open = false;
            }
            Exits::Guess(to) => {
                // Where the branch goes elsewhere, it leaves as a computed branch does.
                let next = l.b.use_var(l.next);
                let miss = l.b.ins().icmp_imm_u(IntCC::NotEqual, next, to as i64);
                let hit = l.branch_out(miss, true);
                l.exit_computed(next, done);
                l.b.switch_to_block(hit);
                if !linear(to) {
                    l.goto(i, to, done);
                    open = false;
                }
            }
        }
    }
    if open {
        // The region ends after an instruction that goes on to one not recorded.
        let pc = rec.insns.last().map_or(0, |x| x.pc.wrapping_add(4));
        let done = (n - first) as u64;
        l.exit_to(pc, done);
    }
    l.finish_stop_exit(&written);
    l.b.seal_all_blocks();
    l.drop_unchanged_write_backs();
    l.drop_unused_host_addresses();
    spread_cold(l.b.func);
    l.b.finalize(t.config);
}
