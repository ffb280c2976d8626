//! The interpreter: [`Sem`] over plain `u64` values, executed as the semantics run.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::cpu::{Cpu, Exclusive};
use crate::isa::{decode, Decoded, FeatureSet};
use crate::mem::{tbi, Fault, FaultKind, Memory};
use crate::sem::{AtomicOp, BinOp, Helper, Sem, SemFn, SemTable, Stop, SysReg, UnOp};

/// A CPU and its memory, executing instruction semantics directly.
pub struct Interp {
    pub cpu: Cpu,
    pub mem: Memory,
    /// Checked before each block of `run`: when set, `run` gives [`Stop::Interrupt`]. Whoever
    /// sets it (a host signal handler) also clears it; `run` only reads it.
    pub interrupt: &'static AtomicBool,
    /// Read with `interrupt`, with the same effect: set by another guest thread that queued a
    /// signal for this one or ended the process; whoever handles `Stop::Interrupt` clears it.
    pub kick: Arc<AtomicBool>,
    /// Where control goes after the current instruction, if its semantics branched.
    pub(crate) next_pc: Option<u64>,
    /// Decoded instructions by address, for `step`.
    cache: DecodeCache,
    /// Straight-line runs of decoded instructions by start address, for `run`.
    blocks: BlockCache,
    /// Instructions executed so far, counting each one whose semantics ran (an SVC or a
    /// faulting load counts once, even though it stops).
    pub instructions: u64,
    /// A faster engine for the same semantics (the JIT), which `run` lets execute what it
    /// translated; it hands single instructions back to the interpreter.
    pub accel: Option<Box<dyn Accelerator>>,
}

/// What an [`Accelerator`] did with the code at the PC.
#[derive(Debug, PartialEq, Eq)]
pub enum Accelerated {
    /// It ran some instructions; the machine's state and PC are where they left it.
    Ran,
    /// It ran instructions until this stop, with the state as [`Interp::step`] leaves it.
    Stopped(Stop),
    /// It does not run the code at the PC (not hot yet, or an instruction it leaves to the
    /// interpreter): the interpreter runs a block from there.
    Interpret,
}

/// An engine that runs the same semantics faster than the interpreter (a JIT), plugged into
/// [`Interp::run`] by a crate core does not depend on. It must leave the machine exactly as
/// the interpreter would after the same instructions.
pub trait Accelerator: Send {
    /// Runs code from `m.cpu.pc`.
    fn execute(&mut self, m: &mut Interp, features: &FeatureSet) -> Accelerated;
    /// The engine of a new guest thread of the same process.
    fn for_new_thread(&self) -> Box<dyn Accelerator>;
    /// A line on what it did so far, for `--stats`.
    fn stats(&self) -> String;
}

/// The interrupt flag of a machine nothing interrupts.
static NEVER: AtomicBool = AtomicBool::new(false);

impl Default for Interp {
    fn default() -> Self {
        Interp::with_memory(Memory::default())
    }
}

impl Interp {
    /// A machine with a fresh CPU state on `mem`.
    pub fn with_memory(mem: Memory) -> Interp {
        Interp {
            cpu: Cpu::default(),
            mem,
            interrupt: &NEVER,
            kick: Arc::new(AtomicBool::new(false)),
            next_pc: None,
            cache: DecodeCache::default(),
            blocks: BlockCache::default(),
            instructions: 0,
            accel: None,
        }
    }
}

/// Entries of the decoded-instruction cache (direct-mapped by `pc / 4`).
const CACHE_SIZE: usize = 8192;

/// The address an empty entry `k` of a direct-mapped table of `len` entries (by `pc / 4`)
/// holds: entry `k + 1`'s, so that no PC, not even a misaligned one from BR, finds it.
/// (`u64::MAX` did, after `br` to it: the empty entry ran, and the run never ended.)
pub fn empty_pc(k: usize, len: usize) -> u64 {
    ((k + 1) % len * 4) as u64
}

/// A decoded instruction: its address, word and semantics function.
#[derive(Clone, Copy)]
struct CacheEntry {
    /// The instruction's address; [`empty_pc`] marks an empty entry.
    pc: u64,
    word: u32,
    f: SemFn<Interp>,
}

/// The function of empty cache entries, which are never run (their `pc` is never looked up
/// there).
fn empty_entry(_: &mut Interp, _: u32) -> Result<(), Stop> {
    Err(Stop::Undefined)
}

/// Empties the decoded-instruction cache entries.
fn clear_entries(entries: &mut [CacheEntry; CACHE_SIZE]) {
    for (k, e) in entries.iter_mut().enumerate() {
        *e = CacheEntry {
            pc: empty_pc(k, CACHE_SIZE),
            word: 0,
            f: empty_entry,
        };
    }
}

/// What `step` decoded before, so that a hot loop is fetched and decoded once. It is valid for
/// one semantics table, one feature set and one `Memory::code_generation`; a change of any of
/// them empties it (self-modifying code, mprotect, munmap).
struct DecodeCache {
    entries: Box<[CacheEntry; CACHE_SIZE]>,
    table: usize,
    features: FeatureSet,
    generation: u64,
}

impl Default for DecodeCache {
    fn default() -> Self {
        DecodeCache {
            entries: {
                let mut entries = Box::new(
                    [CacheEntry {
                        pc: 0,
                        word: 0,
                        f: empty_entry,
                    }; CACHE_SIZE],
                );
                clear_entries(&mut entries);
                entries
            },
            table: 0,
            features: FeatureSet::base(),
            generation: u64::MAX,
        }
    }
}

/// Slots of the block cache (direct-mapped by `pc / 4`).
const BLOCK_SLOTS: usize = 4096;

/// The most instructions one block holds.
const BLOCK_MAX: usize = 64;

/// A run of instructions recorded as they first executed from `pc`: it ends at the first
/// instruction that branched or stopped, or at `BLOCK_MAX` instructions. Running it again
/// checks after each instruction whether it branched (a conditional branch not taken while
/// recording may be taken now), so a block is a prefix of the real path, never a guess.
struct Block {
    /// The first instruction's address; [`empty_pc`] marks an empty slot.
    pc: u64,
    insns: Vec<(SemFn<Interp>, u32)>,
}

/// The blocks `run` recorded, valid under the same conditions as [`DecodeCache`].
struct BlockCache {
    slots: Vec<Block>,
    table: usize,
    features: FeatureSet,
    generation: u64,
}

impl Default for BlockCache {
    fn default() -> Self {
        BlockCache {
            slots: (0..BLOCK_SLOTS)
                .map(|k| Block {
                    pc: empty_pc(k, BLOCK_SLOTS),
                    insns: Vec::new(),
                })
                .collect(),
            table: 0,
            features: FeatureSet::base(),
            generation: u64::MAX,
        }
    }
}

impl BlockCache {
    fn clear(&mut self) {
        for (k, b) in self.slots.iter_mut().enumerate() {
            b.pc = empty_pc(k, BLOCK_SLOTS);
            b.insns.clear();
        }
    }
}

impl Sem for Interp {
    type V = u64;

    #[inline]
    fn imm(&mut self, v: u64) -> u64 {
        v
    }

    #[inline]
    fn x(&mut self, n: u32) -> u64 {
        self.cpu.x.get(n as usize).copied().unwrap_or(0)
    }

    #[inline]
    fn set_x(&mut self, n: u32, v: u64) {
        if let Some(r) = self.cpu.x.get_mut(n as usize) {
            *r = v;
        }
    }

    #[inline]
    fn v(&mut self, n: u32, half: u32) -> u64 {
        let r = self.cpu.v[(n & 31) as usize];
        (r >> (64 * (half & 1))) as u64
    }

    #[inline]
    fn set_v(&mut self, n: u32, half: u32, v: u64) {
        let r = &mut self.cpu.v[(n & 31) as usize];
        let sh = 64 * (half & 1);
        *r = (*r & !(u128::from(u64::MAX) << sh)) | (u128::from(v) << sh);
    }

    fn sp(&mut self) -> u64 {
        self.cpu.sp
    }

    fn set_sp(&mut self, v: u64) {
        self.cpu.sp = v;
    }

    fn pc(&mut self) -> u64 {
        self.cpu.pc
    }

    fn nzcv(&mut self) -> u64 {
        self.cpu.nzcv
    }

    fn set_nzcv(&mut self, v: u64) {
        self.cpu.nzcv = v & 0xf000_0000;
    }

    #[inline(always)]
    fn add_with_carry(&mut self, x: u64, y: u64, carry_in: u64, bits: u32) -> (u64, u64) {
        eval_add_with_carry(x, y, carry_in, bits)
    }

    #[inline(always)]
    fn logical_flags(&mut self, result: u64, bits: u32) -> u64 {
        eval_logical_flags(result, bits)
    }

    #[inline]
    fn condition_holds(&mut self, cond: u32) -> u64 {
        u64::from(crate::sem::ops::condition_holds_on(cond, self.cpu.nzcv))
    }

    fn sysreg(&mut self, r: SysReg) -> u64 {
        match r {
            SysReg::TpidrEl0 => self.cpu.tpidr_el0,
            SysReg::Fpcr => self.cpu.fpcr,
            SysReg::Fpsr => self.cpu.fpsr,
            SysReg::IdReg(enc) => self
                .cpu
                .ext::<crate::linux::sysregs::IdRegisters>()
                .read(enc),
            SysReg::CntvctEl0 => crate::linux::sysregs::virtual_count(),
            SysReg::CntfrqEl0 => crate::linux::sysregs::CNTFRQ,
        }
    }

    fn set_sysreg(&mut self, r: SysReg, v: u64) {
        match r {
            SysReg::TpidrEl0 => self.cpu.tpidr_el0 = v,
            SysReg::Fpcr => self.cpu.fpcr = v,
            SysReg::Fpsr => self.cpu.fpsr = v,
            // Read-only: MSR to them is UNDEFINED before it gets here.
            SysReg::IdReg(_) | SysReg::CntvctEl0 | SysReg::CntfrqEl0 => {}
        }
    }

    #[inline(always)]
    fn bin(&mut self, op: BinOp, a: u64, b: u64) -> u64 {
        eval_bin(op, a, b)
    }

    #[inline(always)]
    fn un(&mut self, op: UnOp, a: u64) -> u64 {
        eval_un(op, a)
    }

    #[inline]
    fn select(&mut self, c: u64, a: u64, b: u64) -> u64 {
        if c != 0 {
            a
        } else {
            b
        }
    }

    #[inline]
    fn call(&mut self, f: Helper, args: &[u64]) -> u64 {
        debug_assert!(args.len() <= 4, "helpers take at most four arguments");
        f(&mut self.cpu, args)
    }

    fn branch(&mut self, target: u64) {
        self.next_pc = Some(target);
    }

    fn branch_if(&mut self, c: u64, target: u64) {
        if c != 0 {
            self.next_pc = Some(target);
        }
    }

    #[inline(always)]
    fn load(&mut self, addr: u64, size: u8) -> Result<u64, Stop> {
        Ok(self.mem.read_u64(tbi(addr), usize::from(size))?)
    }

    #[inline(always)]
    fn store(&mut self, addr: u64, size: u8, v: u64) -> Result<(), Stop> {
        // A write to a page without code leaves the code generation alone.
        if self.mem.write_u64_fast(tbi(addr), usize::from(size), v) {
            return Ok(());
        }
        self.store_slow(addr, size, v)
    }

    fn check_aligned(&mut self, addr: u64, size: u8, write: bool) -> Result<(), Stop> {
        aligned(addr, size, write)
    }

    fn load_exclusive(&mut self, addr: u64, size: u8) -> Result<u64, Stop> {
        aligned(addr, size, false)?;
        let v = self.load(addr, size)?;
        self.cpu.exclusive = Some(Exclusive {
            addr: tbi(addr),
            size,
            value: u128::from(v),
        });
        Ok(v)
    }

    fn store_exclusive(&mut self, addr: u64, size: u8, v: u64) -> Result<u64, Stop> {
        // Arm leaves it IMPLEMENTATION DEFINED whether `AArch64.ExclusiveMonitorsPass` checks
        // the monitor or the alignment first; armature checks the monitor first, as
        // qemu-aarch64 does. The load-exclusive that set it was aligned, so one that matches
        // is too.
        let Some(mark) = self.cpu.exclusive.take() else {
            return Ok(1);
        };
        if (mark.addr, mark.size) != (tbi(addr), size) {
            return Ok(1);
        }
        let expected = mark.value as u64;
        let generation = self.mem.code_generation();
        let old = self.mem.modify(mark.addr, usize::from(size), |old| {
            if old == expected {
                v
            } else {
                old
            }
        })?;
        self.after_write(generation);
        Ok(u64::from(old != expected))
    }

    fn load_exclusive_pair(&mut self, addr: u64) -> Result<(u64, u64), Stop> {
        aligned(addr, 16, false)?;
        let value = self.mem.read_u128(tbi(addr))?;
        self.cpu.exclusive = Some(Exclusive {
            addr: tbi(addr),
            size: 16,
            value,
        });
        Ok((value as u64, (value >> 64) as u64))
    }

    fn store_exclusive_pair(&mut self, addr: u64, low: u64, high: u64) -> Result<u64, Stop> {
        // The monitor first, as in `store_exclusive`.
        let Some(mark) = self.cpu.exclusive.take() else {
            return Ok(1);
        };
        if (mark.addr, mark.size) != (tbi(addr), 16) {
            return Ok(1);
        }
        let generation = self.mem.code_generation();
        let new = u128::from(low) | (u128::from(high) << 64);
        let old = self.mem.compare_swap_u128(mark.addr, mark.value, new)?;
        self.after_write(generation);
        Ok(u64::from(old != mark.value))
    }

    fn atomic(&mut self, op: AtomicOp, addr: u64, size: u8, v: u64) -> Result<u64, Stop> {
        aligned(addr, size, true)?;
        let generation = self.mem.code_generation();
        let old = self
            .mem
            .modify(tbi(addr), usize::from(size), |old| op.apply(old, v, size))?;
        self.after_write(generation);
        Ok(old)
    }

    fn compare_swap(&mut self, addr: u64, size: u8, expected: u64, new: u64) -> Result<u64, Stop> {
        aligned(addr, size, true)?;
        let mask = if size == 8 {
            u64::MAX
        } else {
            (1 << (8 * size)) - 1
        };
        let generation = self.mem.code_generation();
        let old = self.mem.modify(tbi(addr), usize::from(size), |old| {
            if old == expected & mask {
                new
            } else {
                old
            }
        })?;
        self.after_write(generation);
        Ok(old)
    }

    fn compare_swap_pair(
        &mut self,
        addr: u64,
        expected: (u64, u64),
        new: (u64, u64),
    ) -> Result<(u64, u64), Stop> {
        aligned(addr, 16, true)?;
        let pair = |(low, high): (u64, u64)| u128::from(low) | (u128::from(high) << 64);
        let generation = self.mem.code_generation();
        let old = self
            .mem
            .compare_swap_u128(tbi(addr), pair(expected), pair(new))?;
        self.after_write(generation);
        Ok((old as u64, (old >> 64) as u64))
    }

    fn barrier(&mut self) {
        Memory::fence();
    }

    fn clear_exclusive(&mut self) {
        self.cpu.exclusive = None;
    }
}

impl Interp {
    /// A machine for a new guest thread: a copy of `other`'s registers (without its exclusive
    /// monitor) on the same memory, with its own caches and kick flag.
    pub fn sharing(other: &Interp) -> Interp {
        let mut cpu = other.cpu.clone();
        cpu.exclusive = None;
        Interp {
            cpu,
            mem: other.mem.share(),
            interrupt: other.interrupt,
            accel: other.accel.as_ref().map(|a| a.for_new_thread()),
            ..Interp::default()
        }
    }

    /// Where the current instruction branched or, after a store that changed code, where it
    /// ends the block; cleared. For an [`Accelerator`] that runs semantics through `Interp`.
    pub fn take_next_pc(&mut self) -> Option<u64> {
        self.next_pc.take()
    }

    /// `Sem::store` once its inline fast path (a data page) did not apply: code pages,
    /// misaligned and faulting writes, kept out of line so that the fast path inlines into
    /// every semantics function.
    #[cold]
    #[inline(never)]
    pub(crate) fn store_slow(&mut self, addr: u64, size: u8, v: u64) -> Result<(), Stop> {
        let generation = self.mem.code_generation();
        self.mem.write_u64(tbi(addr), usize::from(size), v)?;
        self.after_write(generation);
        Ok(())
    }

    /// Ends the running block after this instruction when a write changed code (the code
    /// generation moved since `generation`); a `branch` of a later write still wins.
    #[inline]
    fn after_write(&mut self, generation: u64) {
        if self.mem.code_generation() != generation {
            self.next_pc.get_or_insert(self.cpu.pc.wrapping_add(4));
        }
    }
}

/// `HINT #imm`: `1101 0101 0000 0011 0010 xxxx xxx1 1111`.
const HINT_MASK: u32 = 0xffff_f01f;
const HINT_VALUE: u32 = 0xd503_201f;

/// Whether `word` is in the hint space, which executes as NOP where a hint's feature is
/// absent.
pub(crate) fn is_hint(word: u32) -> bool {
    word & HINT_MASK == HINT_VALUE
}

impl Interp {
    /// Fetches, decodes and executes one instruction at `cpu.pc`, advancing the PC. On a stop
    /// the PC still names the instruction that stopped (after a system call the caller
    /// advances it).
    #[inline]
    pub fn step(&mut self, table: &SemTable<Interp>, features: &FeatureSet) -> Result<(), Stop> {
        self.check_cache(table, features);
        self.step_cached(table, features)
    }

    /// Runs instructions until one stops; the stop is given as `step` gives it.
    ///
    /// It runs blocks: straight-line runs of decoded instructions, so that the address lookup,
    /// the cache checks and the PC bookkeeping happen once a block rather than once an
    /// instruction. Before each block it reads the interrupt flag (one relaxed load) and gives
    /// [`Stop::Interrupt`] when it is set, with the PC at the block's first instruction.
    pub fn run(&mut self, table: &SemTable<Interp>, features: &FeatureSet) -> Stop {
        let key = std::ptr::from_ref(table) as usize;
        if self.blocks.table != key || self.blocks.features != *features {
            self.reset_blocks(key, features);
        }
        // A stop may have left a branch target behind (a branch, then a fault); blocks take
        // `next_pc` as this instruction's own.
        self.next_pc = None;
        loop {
            if self.interrupt.load(Ordering::Relaxed) || self.kick.load(Ordering::Relaxed) {
                return Stop::Interrupt;
            }
            if let Some(mut accel) = self.accel.take() {
                let done = accel.execute(self, features);
                self.accel = Some(accel);
                match done {
                    Accelerated::Ran => continue,
                    Accelerated::Stopped(stop) => return stop,
                    // The interpreter runs the block at the PC.
                    Accelerated::Interpret => {}
                }
            }
            // Stores (of this thread or another) and system calls change code; system calls
            // end `run`.
            if self.blocks.generation != self.mem.code_generation() {
                self.reset_blocks(key, features);
            }
            let pc = self.cpu.pc;
            let slot = ((pc / 4) as usize) % BLOCK_SLOTS;
            let result = if self.blocks.slots[slot].pc == pc {
                self.run_block(slot)
            } else {
                self.record_block(slot, table, features)
            };
            if let Err(stop) = result {
                return stop;
            }
        }
    }

    /// Empties the block cache, now valid for `table`, `features` and the current code.
    #[cold]
    #[inline(never)]
    fn reset_blocks(&mut self, table: usize, features: &FeatureSet) {
        self.blocks.clear();
        self.blocks.generation = self.mem.code_generation();
        self.blocks.table = table;
        self.blocks.features = *features;
    }

    /// Runs the block in `slot`, which starts at `cpu.pc`, until it ends or an instruction
    /// branches or stops; leaves `cpu.pc` at the next instruction (or the stopping one). A
    /// block that branches back to its own start (a loop of one block) runs again at once, with
    /// the checks `run` makes before each block (the interrupt and kick flags, the code
    /// generation) and none of its lookup, unless an accelerator wants to see each block.
    #[inline(always)]
    fn run_block(&mut self, slot: usize) -> Result<(), Stop> {
        // The block is taken out of its slot while it runs, as its instructions borrow the
        // machine mutably; nothing they do reaches the block cache.
        let insns = std::mem::take(&mut self.blocks.slots[slot].insns);
        let start = self.cpu.pc;
        let generation = self.blocks.generation;
        // An accelerator is plugged in or not for the whole run.
        let may_loop = self.accel.is_none();
        let result = loop {
            let mut pc = start;
            let mut result = Ok(());
            let mut done = 0;
            for &(f, word) in &insns {
                self.cpu.pc = pc;
                done += 1;
                if let Err(stop) = f(self, word) {
                    result = Err(stop);
                    break;
                }
                // Read before taken: most instructions do not branch, and then nothing is
                // written.
                if self.next_pc.is_some() {
                    pc = self.next_pc.take().unwrap_or(pc);
                    break;
                }
                pc = pc.wrapping_add(4);
            }
            self.instructions += done;
            if result.is_err() {
                break result;
            }
            self.cpu.pc = pc;
            if pc != start
                || !may_loop
                || self.interrupt.load(Ordering::Relaxed)
                || self.kick.load(Ordering::Relaxed)
                || self.mem.code_generation() != generation
            {
                break result;
            }
        };
        self.blocks.slots[slot].insns = insns;
        result
    }

    /// Executes instructions one at a time from `cpu.pc`, as `step` does, and records them as
    /// the block of `slot` (replacing what it held) up to the first that branches or stops.
    #[cold]
    #[inline(never)]
    fn record_block(
        &mut self,
        slot: usize,
        table: &SemTable<Interp>,
        features: &FeatureSet,
    ) -> Result<(), Stop> {
        let start = self.cpu.pc;
        let mut insns = std::mem::take(&mut self.blocks.slots[slot].insns);
        insns.clear();
        self.blocks.slots[slot].pc = empty_pc(slot, BLOCK_SLOTS);
        let generation = self.mem.code_generation();
        let mut result = Ok(());
        while insns.len() < BLOCK_MAX {
            let pc = self.cpu.pc;
            let (f, word) = match self.fetch_decode(pc, table, features) {
                Ok(entry) => entry,
                Err(stop) => {
                    result = Err(stop);
                    break;
                }
            };
            insns.push((f, word));
            self.next_pc = None;
            self.instructions += 1;
            if let Err(stop) = f(self, word) {
                result = Err(stop);
                break;
            }
            if let Some(target) = self.next_pc.take() {
                self.cpu.pc = target;
                break;
            }
            self.cpu.pc = pc.wrapping_add(4);
        }
        // A block that changed code while it was recorded is not kept: it may hold stale words.
        if !insns.is_empty() && self.mem.code_generation() == generation {
            self.blocks.slots[slot].pc = start;
        }
        self.blocks.slots[slot].insns = insns;
        result
    }

    /// Empties the decode cache when it was filled for another table, feature set or code
    /// generation.
    #[inline]
    fn check_cache(&mut self, table: &SemTable<Interp>, features: &FeatureSet) {
        let key = std::ptr::from_ref(table) as usize;
        let c = &mut self.cache;
        if c.generation != self.mem.code_generation() || c.table != key || c.features != *features {
            clear_entries(&mut c.entries);
            c.generation = self.mem.code_generation();
            c.table = key;
            c.features = *features;
        }
    }

    /// `step` once the cache is known to be valid.
    #[inline(always)]
    fn step_cached(&mut self, table: &SemTable<Interp>, features: &FeatureSet) -> Result<(), Stop> {
        let pc = self.cpu.pc;
        let e = self.cache.entries[((pc / 4) as usize) % CACHE_SIZE];
        if e.pc != pc {
            return self.step_uncached(table, features);
        }
        self.next_pc = None;
        self.instructions += 1;
        (e.f)(self, e.word)?;
        self.cpu.pc = self.next_pc.take().unwrap_or(pc.wrapping_add(4));
        Ok(())
    }

    /// `step` for an instruction the cache does not hold; enters it when it has semantics.
    #[cold]
    fn step_uncached(
        &mut self,
        table: &SemTable<Interp>,
        features: &FeatureSet,
    ) -> Result<(), Stop> {
        let pc = self.cpu.pc;
        let (f, word) = self.fetch_decode(pc, table, features)?;
        self.cache.entries[((pc / 4) as usize) % CACHE_SIZE] = CacheEntry { pc, word, f };
        self.next_pc = None;
        self.instructions += 1;
        f(self, word)?;
        self.cpu.pc = self.next_pc.take().unwrap_or(self.cpu.pc.wrapping_add(4));
        Ok(())
    }

    /// Fetches and decodes the instruction at `pc`: its semantics function and word, or the
    /// stop it raises (a fetch fault, UNDEFINED, no semantics yet).
    fn fetch_decode(
        &mut self,
        pc: u64,
        table: &SemTable<Interp>,
        features: &FeatureSet,
    ) -> Result<(SemFn<Interp>, u32), Stop> {
        let word = self.mem.fetch(pc)?;
        let id = match decode(word, features) {
            Decoded::Insn(id) => id,
            // The hint space executes as NOP where a hint's feature is absent (BTI, PACIASP
            // and friends run on older cores): Arm's HINT "for allocation to other hints".
            Decoded::FeatureDisabled { .. } if is_hint(word) => return Ok((hint_nop, word)),
            Decoded::Unallocated | Decoded::Undefined { .. } | Decoded::FeatureDisabled { .. } => {
                return Err(Stop::Undefined)
            }
        };
        let f = table.get_for(id, word).ok_or(Stop::NotImplemented(id))?;
        Ok((f, word))
    }
}

/// The interpreter's `AddWithCarry` (host arithmetic; `add_with_carry_ops` is the reference):
/// the result and NZCV in bits 31..28.
#[inline(always)]
pub(crate) fn eval_add_with_carry(x: u64, y: u64, carry_in: u64, bits: u32) -> (u64, u64) {
    let (result, n, c, v) = if bits == 32 {
        let (x, y) = (x & 0xffff_ffff, y & 0xffff_ffff);
        let full = (x + y).wrapping_add(carry_in);
        let r = full & 0xffff_ffff;
        (r, r >> 31, (full >> 32) & 1, ((x ^ r) & (y ^ r)) >> 31 & 1)
    } else {
        let (sum, c1) = x.overflowing_add(y);
        let (r, c2) = sum.overflowing_add(carry_in);
        (r, r >> 63, u64::from(c1 | c2), ((x ^ r) & (y ^ r)) >> 63)
    };
    let z = u64::from(result == 0);
    (result, n << 31 | z << 30 | c << 29 | v << 28)
}

/// The interpreter's NZCV of a logical result (`logical_flags_ops` is the reference).
#[inline(always)]
pub(crate) fn eval_logical_flags(result: u64, bits: u32) -> u64 {
    let n = (result >> (bits - 1)) & 1;
    n << 31 | u64::from(result == 0) << 30
}

/// The interpreter's definition of the op table's two-operand operations.
#[inline(always)]
pub(crate) fn eval_bin(op: BinOp, a: u64, b: u64) -> u64 {
    match op {
        BinOp::Add => a.wrapping_add(b),
        BinOp::Sub => a.wrapping_sub(b),
        BinOp::And => a & b,
        BinOp::Or => a | b,
        BinOp::Xor => a ^ b,
        BinOp::Shl => a << (b & 63),
        BinOp::Lsr => a >> (b & 63),
        BinOp::Asr => ((a as i64) >> (b & 63)) as u64,
        BinOp::Ror => a.rotate_right((b & 63) as u32),
        BinOp::Mul => a.wrapping_mul(b),
        BinOp::UMulH => ((u128::from(a) * u128::from(b)) >> 64) as u64,
        BinOp::SMulH => ((i128::from(a as i64) * i128::from(b as i64)) >> 64) as u64,
        BinOp::UDiv => a.checked_div(b).unwrap_or(0),
        BinOp::SDiv => {
            if b == 0 {
                0
            } else {
                (a as i64).wrapping_div(b as i64) as u64
            }
        }
        BinOp::Eq => u64::from(a == b),
        BinOp::Ne => u64::from(a != b),
        BinOp::Ult => u64::from(a < b),
        BinOp::Ule => u64::from(a <= b),
        BinOp::Slt => u64::from((a as i64) < (b as i64)),
        BinOp::Sle => u64::from((a as i64) <= (b as i64)),
    }
}

/// The interpreter's definition of the op table's one-operand operations.
#[inline(always)]
pub(crate) fn eval_un(op: UnOp, a: u64) -> u64 {
    match op {
        UnOp::Not => !a,
        UnOp::Neg => a.wrapping_neg(),
        UnOp::Clz => u64::from(a.leading_zeros()),
        UnOp::Rbit => a.reverse_bits(),
        UnOp::Rev => a.swap_bytes(),
        UnOp::Sext8 => a as i8 as i64 as u64,
        UnOp::Sext16 => a as i16 as i64 as u64,
        UnOp::Sext32 => a as i32 as i64 as u64,
        UnOp::Zext8 => a & 0xff,
        UnOp::Zext16 => a & 0xffff,
        UnOp::Zext32 => a & 0xffff_ffff,
    }
}

/// `AArch64.CheckAlignment` of an access that must be aligned: an alignment fault (SIGBUS)
/// when `addr` (after top-byte-ignore) is not a multiple of `size`. armature implements no
/// FEAT_LSE2, which would let ordered and atomic accesses inside 16 bytes pass.
#[inline]
pub(crate) fn aligned(addr: u64, size: u8, write: bool) -> Result<(), Stop> {
    if addr & (u64::from(size) - 1) == 0 {
        return Ok(());
    }
    Err(Stop::Fault(Fault {
        addr: tbi(addr),
        kind: FaultKind::Alignment,
        write,
    }))
}

/// A hint whose feature is absent, which executes as NOP.
fn hint_nop(_: &mut Interp, _: u32) -> Result<(), Stop> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::{Perms, PAGE_SIZE};

    /// Runs one `word` at 0x1000 with no semantics registered; gives the stop and the next PC.
    fn check(word: u32, features: FeatureSet, expect: Result<(), Stop>, next_pc: u64) {
        let mut m = Interp::default();
        m.mem.map(0x1000, PAGE_SIZE, Perms::RX).expect("map");
        m.mem.poke(0x1000, &word.to_le_bytes()).expect("mapped");
        m.cpu.pc = 0x1000;
        assert_eq!(
            m.step(&SemTable::default(), &features),
            expect,
            "{word:#010x}"
        );
        assert_eq!(m.cpu.pc, next_pc, "{word:#010x}");
    }

    #[test]
    fn stops_and_hint_fallback() {
        let base = FeatureSet::base();
        // PACIASP and BTI c run as NOPs on a core without FEAT_PAuth / FEAT_BTI.
        check(0xd503_233f, base, Ok(()), 0x1004);
        check(0xd503_245f, base, Ok(()), 0x1004);
        // With the features, they are instructions whose semantics are not registered here.
        let paciasp = crate::isa::EncodingId::from_name("PACIASP_HI_hints").expect("PACIASP");
        check(
            0xd503_233f,
            FeatureSet::all(),
            Err(Stop::NotImplemented(paciasp)),
            0x1000,
        );
        // Unallocated and feature-disabled non-hint words are UNDEFINED.
        check(0xffff_ffff, FeatureSet::all(), Err(Stop::Undefined), 0x1000);
        check(0x0480_1000, base, Err(Stop::Undefined), 0x1000);
    }

    /// A semantics function for the test below: `MOVZ X0, #imm16`.
    fn movz_x0(s: &mut Interp, word: u32) -> Result<(), Stop> {
        s.cpu.x[0] = u64::from((word >> 5) & 0xffff);
        Ok(())
    }

    #[test]
    fn the_decode_cache_sees_code_writes() {
        let movz = crate::isa::EncodingId::from_name("MOVZ_64_movewide").expect("MOVZ");
        let mut table = SemTable::default();
        table.set(movz, movz_x0);
        let rwx = Perms {
            read: true,
            write: true,
            exec: true,
        };
        let mut m = Interp::default();
        m.mem.map(0x1000, PAGE_SIZE, rwx).expect("map");
        let features = FeatureSet::all();
        for imm in [1u32, 2, 3] {
            // MOVZ X0, #imm, written over the previous one, like a guest JIT patching code.
            let word = 0xd280_0000 | (imm << 5);
            m.mem.write_u64(0x1000, 4, u64::from(word)).expect("RWX");
            m.cpu.pc = 0x1000;
            m.step(&table, &features).expect("MOVZ");
            assert_eq!(m.cpu.x[0], u64::from(imm));
        }
        // mprotect of the code page: the cached instruction must fault on fetch now.
        m.mem
            .protect(0x1000, PAGE_SIZE, Perms::RW)
            .expect("protect");
        m.cpu.pc = 0x1000;
        assert!(matches!(m.step(&table, &features), Err(Stop::Fault(_))));
    }

    /// Test semantics, enough for small loops: ADD/SUB (immediate), MOVZ, CBNZ, B, STR
    /// (32-bit, unsigned offset) and BRK.
    fn add_sub(s: &mut Interp, word: u32) -> Result<(), Stop> {
        let f = crate::isa::fields::ADD_64_addsub_imm::from_word(word);
        let n = s.x(f.Rn);
        let imm = u64::from(f.imm12);
        let v = if f.op == 1 {
            n.wrapping_sub(imm)
        } else {
            n.wrapping_add(imm)
        };
        s.set_x(f.Rd, v);
        Ok(())
    }

    fn movz(s: &mut Interp, word: u32) -> Result<(), Stop> {
        let f = crate::isa::fields::MOVZ_64_movewide::from_word(word);
        s.set_x(f.Rd, u64::from(f.imm16));
        Ok(())
    }

    fn cbnz(s: &mut Interp, word: u32) -> Result<(), Stop> {
        let f = crate::isa::fields::CBNZ_64_compbranch::from_word(word);
        let offset = ((f.imm19 << 13) as i32 >> 11) as i64 as u64;
        let c = s.x(f.Rt);
        let target = s.pc().wrapping_add(offset);
        s.branch_if(c, target);
        Ok(())
    }

    fn b(s: &mut Interp, word: u32) -> Result<(), Stop> {
        let f = crate::isa::fields::B_only_branch_imm::from_word(word);
        let offset = ((f.imm26 << 6) as i32 >> 4) as i64 as u64;
        let target = s.pc().wrapping_add(offset);
        s.branch(target);
        Ok(())
    }

    fn str32(s: &mut Interp, word: u32) -> Result<(), Stop> {
        let f = crate::isa::fields::STR_32_ldst_pos::from_word(word);
        let addr = s.x(f.Rn).wrapping_add(u64::from(f.imm12) * 4);
        let v = s.x(f.Rt);
        s.store(addr, 4, v)
    }

    fn brk(_: &mut Interp, word: u32) -> Result<(), Stop> {
        Err(Stop::Breakpoint((word >> 5) as u16))
    }

    fn loop_table() -> SemTable<Interp> {
        let mut t = SemTable::default();
        let id = |name| crate::isa::EncodingId::from_name(name).expect(name);
        let fns: [(&str, SemFn<Interp>); 7] = [
            ("ADD_64_addsub_imm", add_sub),
            ("SUB_64_addsub_imm", add_sub),
            ("MOVZ_64_movewide", movz),
            ("CBNZ_64_compbranch", cbnz),
            ("B_only_branch_imm", b),
            ("STR_32_ldst_pos", str32),
            ("BRK_EX_exception", brk),
        ];
        for (name, f) in fns {
            t.set(id(name), f);
        }
        t
    }

    /// A machine with `code` at 0x1000 on an RWX page, a data page at 0x8000, X registers
    /// from `x`, at 0x1000.
    fn machine(code: &[u32], x: &[(usize, u64)]) -> Interp {
        let rwx = Perms {
            read: true,
            write: true,
            exec: true,
        };
        let mut m = Interp::default();
        m.mem.map(0x1000, PAGE_SIZE, rwx).expect("map");
        m.mem.map(0x8000, PAGE_SIZE, Perms::RW).expect("map");
        let bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
        m.mem.poke(0x1000, &bytes).expect("mapped");
        for &(i, v) in x {
            m.cpu.x[i] = v;
        }
        m.cpu.pc = 0x1000;
        m
    }

    /// Runs until a stop; checks the stop, the PC, X0..X1 and the instruction count.
    fn check_run(
        m: &mut Interp,
        table: &SemTable<Interp>,
        stop: Stop,
        pc: u64,
        x01: [u64; 2],
        count: u64,
    ) {
        let before = m.instructions;
        assert_eq!(m.run(table, &FeatureSet::all()), stop);
        assert_eq!(m.cpu.pc, pc, "pc");
        assert_eq!([m.cpu.x[0], m.cpu.x[1]], x01, "x0, x1");
        assert_eq!(m.instructions - before, count, "instructions");
    }

    const MOVZ_X0_1: u32 = 0xd280_0020;
    const MOVZ_X0_5: u32 = 0xd280_00a0;
    const MOVZ_X0_7: u32 = 0xd280_00e0;
    const BRK_0: u32 = 0xd420_0000;

    /// movz x0, #3; movz x1, #0; loop: add x1, x1, #2; sub x0, x0, #1; cbnz x0, loop; brk #0
    const COUNT_LOOP: [u32; 6] = [
        0xd280_0060,
        0xd280_0001,
        0x9100_0821,
        0xd100_0400,
        0xb5ff_ffc0,
        BRK_0,
    ];

    #[test]
    fn blocks_run_loops() {
        let table = loop_table();
        let mut m = machine(&COUNT_LOOP, &[]);
        check_run(
            &mut m,
            &table,
            Stop::Breakpoint(0),
            0x1014,
            [0, 6],
            2 + 3 * 3 + 1,
        );
        // Again from the start, now from the recorded blocks: the same result.
        m.cpu.pc = 0x1000;
        check_run(
            &mut m,
            &table,
            Stop::Breakpoint(0),
            0x1014,
            [0, 6],
            2 + 3 * 3 + 1,
        );
    }

    #[test]
    fn a_branch_not_taken_while_recording_leaves_the_block_when_taken() {
        // top: add x1, x1, #1; cbnz x0, out; movz x0, #1; b top; out: brk #0
        let code = [0x9100_0421, 0xb500_0060, MOVZ_X0_1, 0x17ff_fffd, BRK_0];
        let table = loop_table();
        let mut m = machine(&code, &[]);
        // The first pass records add, cbnz (not taken), movz, b; the second pass takes cbnz.
        check_run(
            &mut m,
            &table,
            Stop::Breakpoint(0),
            0x1010,
            [1, 2],
            4 + 2 + 1,
        );
    }

    #[test]
    fn a_store_into_the_running_block_is_seen() {
        // movz x0, #1; str w2, [x3]; movz x0, #5; brk #0
        let code = [MOVZ_X0_1, 0xb900_0062, MOVZ_X0_5, BRK_0];
        let table = loop_table();
        // First to a data page: the block is recorded with `movz x0, #5`.
        let mut m = machine(&code, &[(2, u64::from(MOVZ_X0_7)), (3, 0x8000)]);
        check_run(&mut m, &table, Stop::Breakpoint(0), 0x100c, [5, 0], 4);
        // Then over that `movz` itself, from inside the recorded block.
        m.cpu.pc = 0x1000;
        m.cpu.x[3] = 0x1008;
        check_run(&mut m, &table, Stop::Breakpoint(0), 0x100c, [7, 0], 4);
    }

    #[test]
    fn an_interrupt_stops_between_blocks_and_resumes_exactly() {
        static FLAG: AtomicBool = AtomicBool::new(true);
        let table = loop_table();
        let mut m = machine(&COUNT_LOOP, &[]);
        m.interrupt = &FLAG;
        // Set before the first block: nothing runs and the PC stays.
        check_run(&mut m, &table, Stop::Interrupt, 0x1000, [0, 0], 0);
        check_run(&mut m, &table, Stop::Interrupt, 0x1000, [0, 0], 0);
        // Cleared: the run goes on from there to the same end as without the interrupt.
        FLAG.store(false, Ordering::Relaxed);
        check_run(
            &mut m,
            &table,
            Stop::Breakpoint(0),
            0x1014,
            [0, 6],
            2 + 3 * 3 + 1,
        );
    }

    /// `b .`: a block that is a loop of its own.
    const B_SELF: u32 = 0x1400_0000;

    #[test]
    fn a_loop_of_one_block_sees_a_kick() {
        let table = loop_table();
        let mut m = machine(&[B_SELF], &[]);
        let kick = Arc::clone(&m.kick);
        let kicker = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            kick.store(true, Ordering::Relaxed);
        });
        assert_eq!(m.run(&table, &FeatureSet::all()), Stop::Interrupt);
        kicker.join().expect("kicker");
        assert_eq!(m.cpu.pc, 0x1000);
        assert!(m.instructions > 0);
    }

    #[test]
    fn a_loop_of_one_block_sees_another_threads_code_write() {
        let table = loop_table();
        let mut m = machine(&[B_SELF], &[]);
        let mem = m.mem.share();
        let writer = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            mem.write_u64(0x1000, 4, u64::from(BRK_0)).expect("mapped");
        });
        assert_eq!(m.run(&table, &FeatureSet::all()), Stop::Breakpoint(0));
        writer.join().expect("writer");
        assert_eq!(m.cpu.pc, 0x1000);
    }

    #[test]
    fn a_stop_inside_a_block_names_its_instruction() {
        // movz x0, #1; str w2, [x3]; movz x0, #5; brk #0, with x3 unmapped the second time.
        let code = [MOVZ_X0_1, 0xb900_0062, MOVZ_X0_5, BRK_0];
        let table = loop_table();
        let mut m = machine(&code, &[(3, 0x8000)]);
        check_run(&mut m, &table, Stop::Breakpoint(0), 0x100c, [5, 0], 4);
        m.cpu.pc = 0x1000;
        m.cpu.x[3] = 0x20_0000;
        let stop = m.run(&table, &FeatureSet::all());
        assert!(
            matches!(stop, Stop::Fault(f) if f.addr == 0x20_0000 && f.write),
            "{stop:?}"
        );
        assert_eq!((m.cpu.pc, m.cpu.x[0]), (0x1004, 1));
    }

    #[test]
    fn fetch_faults_name_the_address() {
        let mut m = Interp::default();
        m.cpu.pc = 0x4000;
        let got = m.step(&SemTable::default(), &FeatureSet::all());
        assert!(
            matches!(got, Err(Stop::Fault(f)) if f.addr == 0x4000),
            "{got:?}"
        );
    }
}
