//! armature's JIT: the semantics the interpreter runs, recorded once per block through the
//! `Sem` interface ([`ir::Recorder`]) and lowered to native code with Cranelift
//! ([`lower`]). It plugs into the interpreter as an [`Accelerator`]: `Interp::run` lets it run
//! the blocks it translated and runs the instructions it leaves (system calls, encodings
//! without semantics, undefined words) itself.
//!
//! A compiled block is a region (see `Jit::record`): runs of instructions from an address,
//! through branches known at compile time (but not into a callee) and past conditional
//! branches, up to
//! [`BLOCK_MAX`] instructions, with the branches between them as jumps inside its code.
//! Regions are cached by address and dropped when `Memory::code_generation` changes
//! (self-modifying code, `mprotect`, `munmap`); each guest thread has its own cache for now.

mod fault;
pub use armature_core::sem::record as ir;
pub mod lower;
mod runtime;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use armature_core::cpu::Cpu;
use armature_core::interp::{Accelerated, Accelerator, Interp};
use armature_core::isa::{decode, Decoded, EncodingId, FeatureSet};
use armature_core::sem::SemTable;
use cranelift_codegen::ir::{types, AbiParam, InstBuilder, UserFuncName};
use cranelift_codegen::isa::CallConv;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, Module};

use ir::Recorder;
use lower::{Guest, Slots, Target, CHAIN_LIMIT, LOOKUP_SIZE};
use runtime::Ctx;

/// The most instructions one block holds. At 64, a switch-based interpreter loop (the
/// bytecode workload) spilled into several regions and ran 1.3x slower; other workloads
/// moved less than 3% either way up to 192.
pub const BLOCK_MAX: usize = 128;

/// How many times the interpreter runs a block before it is compiled: cold code (start-up,
/// error paths) is not worth Cranelift's time.
pub const HOT: u32 = 32;

/// The most instructions of a callee that a region takes in, from its entry to its return
/// (`Jit::record`): enough for comparison functions and small accessors, while larger
/// callees stay regions of their own.
pub const INLINE_MAX: usize = 32;

/// How deep calls nest inside one region.
pub const INLINE_DEPTH: usize = 2;

/// Compiled code enters blocks through a trampoline: `enter(ctx, cpu, block)` calls the block
/// (in the tail-call convention, with no instructions counted yet) and gives what it
/// returns: 0 when it ran (the PC is where it left), 1 when it stopped (`Ctx::stop`). On
/// x86-64 Linux the trampoline of [`fault`] is used instead, which also returns
/// [`fault::EXIT_FAULT`].
pub(crate) type Enter = unsafe extern "C" fn(*mut Ctx, *mut Cpu, usize) -> u64;

/// An entry of the lookup table: a block's address and its code; `pc` is
/// [`armature_core::interp::empty_pc`] when empty. `#[repr(C)]` because compiled code reads
/// it.
#[derive(Clone, Copy)]
#[repr(C)]
struct Entry {
    pc: u64,
    code: usize,
}

// Compiled code finds entry `i` at `16 * i`, its code at offset 8.
const _: () = assert!(std::mem::size_of::<Entry>() == 16);

/// Empties the lookup table: no PC finds an entry (`u64::MAX`, from BR, once found code 0).
fn clear_lookup(lookup: &mut [Entry]) {
    for (k, e) in lookup.iter_mut().enumerate() {
        *e = Entry {
            pc: armature_core::interp::empty_pc(k, LOOKUP_SIZE),
            code: 0,
        };
    }
}

/// Why the JIT could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum JitError {
    #[error("Cranelift does not support this host: {0}")]
    Host(String),
}

/// The JIT of one guest thread.
pub struct Jit {
    /// The semantics, registered for the recorder.
    table: Arc<SemTable<Recorder>>,
    module: Module_,
    /// The code of every compiled block by address.
    blocks: HashMap<u64, usize>,
    /// The recently run blocks by address, the dispatcher's first look.
    lookup: Box<[Entry]>,
    /// The exit slots of the compiled blocks.
    slots: Slots,
    /// The trampoline of this module, compiled with its first block.
    enter: Option<Enter>,
    /// How often the interpreter ran the code at each address not compiled yet; `u32::MAX`
    /// marks an address whose block cannot be compiled.
    heat: HashMap<u64, u32>,
    /// What the cached blocks were translated under.
    generation: u64,
    features: Option<FeatureSet>,
    guest: Guest,
    fctx: FunctionBuilderContext,
    /// Blocks compiled so far and the guest instructions in them (for `--stats`).
    pub compiled: (u64, u64),
    /// The time spent recording and compiling.
    pub compile_time: std::time::Duration,
    /// How many times the interpreter runs a block before it is compiled ([`HOT`]).
    pub hot: u32,
    /// The most instructions a block holds ([`BLOCK_MAX`]; 1 single-steps).
    pub block_max: usize,
    /// Whether blocks continue into each other (and loop) without returning from
    /// [`Accelerator::execute`]; off, every block returns, so that a test sees the state
    /// after each.
    pub chain: bool,
    /// The modules a flush replaced, kept while `perf` records ([`profiling`]): cranelift-jit
    /// names each function in `/tmp/perf-PID.map`, and a new module in the freed memory of
    /// an old one would put two names on one address, of which perf shows the first.
    retired: Vec<Module_>,
    /// The host code ranges of the blocks, sorted, for the fault handler ([`fault`]).
    code_ranges: Vec<(usize, usize)>,
    /// Whether loads leave faults to the host ([`fault`]): where the host supports it, unless
    /// `ARMATURE_JIT_CHECKED_LOADS` is set (every load tests the permission table then).
    host_faults: bool,
    /// After a chain was abandoned at a host fault: the interpreter runs until the machine
    /// counted this many instructions, so that it passes the faulting instruction (it runs at
    /// most a chain's worth from the resume point).
    interpret_until: u64,
    /// How many chains were abandoned at a host fault.
    faults: u64,
    /// How many regions Cranelift rejected (its verifier, or an instruction the host lacks),
    /// which the interpreter runs instead: a lowering defect shows here, not as a wrong
    /// result.
    failed: u64,
    /// How many calls (BL, BLR) the compiled regions follow into their callee.
    pub calls_followed: u64,
}

/// Whether `perf record` runs this process: it sets `PERF_BUILDID_DIR`, which is also what
/// makes cranelift-jit write the perf map.
fn profiling() -> bool {
    std::env::var_os("PERF_BUILDID_DIR").is_some()
}

/// The Cranelift module, which holds raw pointers to its code memory.
struct Module_(JITModule);

// SAFETY: a module is used by the one guest thread whose `Jit` owns it; moving it to that
// thread's host thread before it runs is all that happens.
unsafe impl Send for Module_ {}

fn new_module() -> Result<JITModule, JitError> {
    let mut flags = settings::builder();
    let host = |e: &dyn std::fmt::Display| JitError::Host(e.to_string());
    flags.set("opt_level", "speed").map_err(|e| host(&e))?;
    // Cranelift's tail calls (block to block) need frame pointers.
    flags
        .set("preserve_frame_pointers", "true")
        .map_err(|e| host(&e))?;
    // Compile time counts: the IR verifier only in debug builds, and no unwind tables (no
    // Rust panic unwinds through compiled code).
    let verify = if cfg!(debug_assertions) {
        "true"
    } else {
        "false"
    };
    flags.set("enable_verifier", verify).map_err(|e| host(&e))?;
    flags.set("unwind_info", "false").map_err(|e| host(&e))?;
    let isa = cranelift_native::builder()
        .map_err(|e| host(&e))?
        .finish(settings::Flags::new(flags))
        .map_err(|e| host(&e))?;
    Ok(JITModule::new(JITBuilder::with_isa(
        isa,
        default_libcall_names(),
    )))
}

impl Jit {
    /// A JIT for the semantics in `table` (the extensions' `register_all` for [`Recorder`]).
    pub fn new(table: Arc<SemTable<Recorder>>) -> Result<Jit, JitError> {
        fault::install();
        Ok(Jit {
            table,
            module: Module_(new_module()?),
            blocks: HashMap::new(),
            lookup: {
                let mut lookup = vec![Entry { pc: 0, code: 0 }; LOOKUP_SIZE].into_boxed_slice();
                clear_lookup(&mut lookup);
                lookup
            },
            slots: Slots::default(),
            enter: None,
            heat: HashMap::new(),
            generation: u64::MAX,
            features: None,
            guest: Guest { base: 0, table: 0 },
            fctx: FunctionBuilderContext::new(),
            compiled: (0, 0),
            compile_time: std::time::Duration::ZERO,
            hot: HOT,
            block_max: BLOCK_MAX,
            chain: true,
            retired: Vec::new(),
            code_ranges: Vec::new(),
            host_faults: fault::SUPPORTED
                && std::env::var_os("ARMATURE_JIT_CHECKED_LOADS").is_none(),
            interpret_until: 0,
            faults: 0,
            failed: 0,
            calls_followed: 0,
        })
    }

    /// Drops every block (their code and exit slots too).
    fn flush(&mut self) {
        self.blocks.clear();
        clear_lookup(&mut self.lookup);
        self.slots.clear();
        self.enter = None;
        self.heat.clear();
        self.code_ranges.clear();
        if let Ok(fresh) = new_module() {
            let old = std::mem::replace(&mut self.module.0, fresh);
            if profiling() {
                self.retired.push(Module_(old));
            } else {
                // SAFETY: no block of the old module runs now and none is referenced any more.
                unsafe { old.free_memory() };
            }
        }
    }

    /// Records the region at the PC; `None` when its first instruction is left to the
    /// interpreter. A region is a run of instructions from the PC, through branches known at
    /// compile time (B) and past conditional branches, up to a computed branch, a conditional
    /// branch back into it (a loop), an instruction it already holds, one compiled already or
    /// one left to the interpreter; then, with chaining, the runs from the taken ways of its
    /// conditional branches that the interpreter has run, most recent first, until it holds
    /// `block_max` instructions. Branches between its instructions stay inside its code.
    ///
    /// A call (BL, or BLR to the address its register holds now, which the interpreter has
    /// run) goes on into the callee when the callee returns (RET) within [`INLINE_MAX`]
    /// instructions, and then on at the return address: a small function's code is copied
    /// into its callers' regions, so that a comparison function that qsort calls through a
    /// pointer runs in qsort's loop rather than as two more regions each time. The BLR and
    /// the RET go on inside the region only when their target at run time is the one
    /// recorded ([`ir::Insn::guess`]). A callee that does not return so soon ends the run
    /// at the call, the callee being a region of its own, compiled once for all its callers.
    fn record(&self, m: &Interp, features: &FeatureSet) -> Option<Recorder> {
        let mut rec = Recorder::default();
        let mut held = std::collections::HashSet::new();
        let entry = m.cpu.pc;
        // Each run's start and the return addresses of the calls it is inside of.
        let mut later: Vec<(u64, Vec<u64>)> = vec![(entry, Vec::new())];
        let limit = self.block_max.max(1);
        // Code compiled already is chained to, not compiled again: an inner loop keeps its
        // own, tight code.
        let compiled = |pc: u64| pc != entry && self.blocks.contains_key(&pc);
        while let Some((mut pc, mut returns)) = later.pop() {
            // The calls this run followed and has not returned from: the call's index in
            // `rec` and how many runs were waiting then.
            let mut calls: Vec<(usize, usize)> = Vec::new();
            let mut callee_entry = false;
            while rec.insns.len() < limit
                && !held.contains(&pc)
                && (callee_entry || !compiled(pc))
                && calls
                    .first()
                    .is_none_or(|&(at, _)| rec.insns.len() - at <= INLINE_MAX)
            {
                callee_entry = false;
                let Ok(word) = m.mem.fetch(pc) else { break };
                let Decoded::Insn(id) = decode(word, features) else {
                    break;
                };
                let Some(f) = self.table.get(id) else { break };
                rec.begin(pc, word);
                if f(&mut rec, word).is_err() {
                    // It stops whenever it runs (SVC, UDF, BRK, an UNDEFINED form).
                    rec.discard_last();
                    break;
                }
                held.insert(pc);
                if rec.insns.last().is_some_and(|i| i.branches) {
                    let last = rec.insns.len() - 1;
                    let is_call = matches!(
                        id,
                        EncodingId::BL_only_branch_imm | EncodingId::BLR_64_branch_reg
                    );
                    if is_call {
                        let target = if id == EncodingId::BL_only_branch_imm {
                            lower::successors(&rec).0
                        } else {
                            // BLR XZR (Rn 31) goes to 0; a BLR is followed to where its
                            // register points now, if the interpreter ran code there.
                            m.cpu.x.get((word >> 5 & 31) as usize).copied().filter(|t| {
                                self.heat.contains_key(t) || self.blocks.contains_key(t)
                            })
                        };
                        match target {
                            Some(t)
                                if self.chain
                                    && returns.len() < INLINE_DEPTH
                                    && !held.contains(&t) =>
                            {
                                rec.insns[last].guess = Some(t);
                                returns.push(pc.wrapping_add(4));
                                calls.push((last, later.len()));
                                callee_entry = true;
                                pc = t;
                                continue;
                            }
                            // The callee is a region of its own, and its return leaves the
                            // region anyway (a computed branch).
                            _ => break,
                        }
                    }
                    if id == EncodingId::RET_64R_branch_reg {
                        let Some(back) = returns.pop() else { break };
                        calls.pop();
                        rec.insns[last].guess = Some(back);
                    }
                    let (next, taken) = lower::successors(&rec);
                    if taken.is_some_and(|t| held.contains(&t)) {
                        // A loop's last branch: the loop stays as tight as its body, and the
                        // code after it is another region.
                        break;
                    }
                    // Only a taken way the interpreter has run is worth compiling.
                    if self.chain {
                        later.extend(
                            taken
                                .filter(|t| self.heat.contains_key(t))
                                .map(|t| (t, returns.clone())),
                        );
                    }
                    match next {
                        Some(next) => pc = next,
                        None => break,
                    }
                } else {
                    pc = pc.wrapping_add(4);
                }
            }
            // A callee that did not return: the run ends at the first such call.
            if let Some(&(at, waiting)) = calls.first() {
                rec.truncate(at + 1);
                rec.insns[at].guess = None;
                later.truncate(waiting);
                held = rec.insns.iter().map(|i| i.pc).collect();
            }
            if rec.insns.len() >= limit {
                break;
            }
        }
        (!rec.insns.is_empty()).then_some(rec)
    }

    /// Compiles the trampoline of this module.
    fn compile_enter(&mut self) -> Option<Enter> {
        let module = &mut self.module.0;
        let config = module.isa().frontend_config();
        let mut ctx = module.make_context();
        let ptr = types::I64;
        ctx.func.signature.params.extend([AbiParam::new(ptr); 3]);
        ctx.func.signature.returns.push(AbiParam::new(ptr));
        let sig = ctx.func.signature.clone();
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut self.fctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let p = b.block_params(entry).to_vec();
        let block_sig = b.import_signature(lower::block_signature(CallConv::Tail));
        let zero = b.ins().iconst(ptr, 0);
        let call = b.ins().call_indirect(block_sig, p[2], &[p[0], p[1], zero]);
        let r = b.inst_results(call)[0];
        b.ins().return_(&[r]);
        b.finalize(config);
        let id = module.declare_anonymous_function(&sig).ok()?;
        module.define_function(id, &mut ctx).ok()?;
        module.clear_context(&mut ctx);
        module.finalize_definitions().ok()?;
        let code = module.get_finalized_function(id);
        // SAFETY: the function was compiled with the `Enter` signature.
        Some(unsafe { std::mem::transmute::<*const u8, Enter>(code) })
    }

    /// Compiles the block of `rec`; gives its code.
    fn compile(&mut self, rec: &Recorder) -> Option<usize> {
        if self.enter.is_none() {
            self.enter = Some(self.compile_enter()?);
        }
        let module = &mut self.module.0;
        let mut ctx = module.make_context();
        ctx.func.signature = lower::block_signature(CallConv::Tail);
        ctx.func.name = UserFuncName::user(0, self.compiled.0 as u32);
        let target = Target {
            conv: module.isa().default_call_conv(),
            block_conv: CallConv::Tail,
            config: module.isa().frontend_config(),
            slots: &mut self.slots,
            chain: self.chain,
            lookup: self.lookup.as_ptr() as u64,
            host_faults: self.host_faults,
        };
        let sig = ctx.func.signature.clone();
        lower::lower(
            FunctionBuilder::new(&mut ctx.func, &mut self.fctx),
            target,
            rec,
        );
        let dump = std::env::var_os("ARMATURE_JIT_DUMP").is_some();
        ctx.set_disasm(dump);
        // Named by its guest address, which is what `perf` shows for it (cranelift-jit writes
        // /tmp/perf-PID.map when perf records).
        let name = format!("guest_{:x}_{}", rec.insns[0].pc, self.compiled.0);
        let id = module
            .declare_function(&name, cranelift_module::Linkage::Local, &sig)
            .ok()?;
        if let Err(e) = module.define_function(id, &mut ctx) {
            self.failed += 1;
            if dump {
                eprintln!(
                    "armature: JIT block at {:#x} failed: {e:?}",
                    rec.insns[0].pc
                );
            }
            module.clear_context(&mut ctx);
            return None;
        }
        if dump {
            if let Some(text) = ctx.compiled_code().and_then(|c| c.vcode.as_deref()) {
                eprintln!("armature: JIT block at {:#x}:\n{text}", rec.insns[0].pc);
            }
        }
        // For profiling: the machine code of each region as a file named as `perf` names it,
        // to disassemble with `objdump -D -b binary -m i386:x86-64`.
        if let Some(dir) = std::env::var_os("ARMATURE_JIT_DUMP_DIR") {
            if let Some(code) = ctx.compiled_code() {
                let path = std::path::Path::new(&dir).join(format!("{name}.bin"));
                if let Err(e) = std::fs::write(&path, code.code_buffer()) {
                    eprintln!("armature: cannot write {}: {e}", path.display());
                }
            }
        }
        let size = ctx.compiled_code()?.code_info().total_size as usize;
        module.clear_context(&mut ctx);
        module.finalize_definitions().ok()?;
        let code = module.get_finalized_function(id);
        let start = code as usize;
        let at = self.code_ranges.partition_point(|&(s, _)| s < start);
        self.code_ranges.insert(at, (start, start + size));
        self.compiled.0 += 1;
        self.compiled.1 += rec.insns.len() as u64;
        Some(code as usize)
    }

    /// The code of the block at the PC: from the lookup table, the cache, or compiled now
    /// when it is hot; `None` leaves it to the interpreter.
    fn block_at(&mut self, m: &Interp, features: &FeatureSet) -> Option<usize> {
        let pc = m.cpu.pc;
        let slot = ((pc / 4) as usize) % LOOKUP_SIZE;
        if self.lookup[slot].pc == pc {
            return Some(self.lookup[slot].code);
        }
        let code = match self.blocks.get(&pc) {
            Some(&code) => code,
            None => {
                let heat = self.heat.entry(pc).or_insert(0);
                if *heat < self.hot {
                    *heat += 1;
                    return None;
                }
                if *heat == u32::MAX {
                    return None;
                }
                let start = std::time::Instant::now();
                let rec = self.record(m, features);
                if let Some(r) = &rec {
                    // The followed calls: the instructions with a guess but the returns.
                    let ret = |w: u32| {
                        decode(w, features).encoding() == Some(EncodingId::RET_64R_branch_reg)
                    };
                    self.calls_followed += r
                        .insns
                        .iter()
                        .filter(|i| i.guess.is_some() && !ret(i.word))
                        .count() as u64;
                }
                let compiled = rec.as_ref().and_then(|r| self.compile(r));
                self.compile_time += start.elapsed();
                let Some(code) = compiled else {
                    self.heat.insert(pc, u32::MAX);
                    return None;
                };
                self.heat.remove(&pc);
                self.blocks.insert(pc, code);
                code
            }
        };
        self.lookup[slot] = Entry { pc, code };
        Some(code)
    }
}

impl Accelerator for Jit {
    fn execute(&mut self, m: &mut Interp, features: &FeatureSet) -> Accelerated {
        let generation = m.mem.code_generation();
        // Blocks were translated from one address space's code: another one (which only a
        // test gives the same JIT) starts afresh, and the context gets its host addresses.
        let guest = Guest {
            base: m.mem.host_base() as u64,
            table: m.mem.page_table() as u64,
        };
        if generation != self.generation
            || self.features.as_ref() != Some(features)
            || guest != self.guest
        {
            self.flush();
            self.generation = generation;
            self.features = Some(*features);
            self.guest = guest;
        }
        // The exit slot through which the last chain left, to be filled with the next block.
        let mut link = 0u64;
        let mut total = 0;
        if m.instructions < self.interpret_until {
            return Accelerated::Interpret;
        }
        loop {
            let Some(code) = self.block_at(m, features) else {
                return Accelerated::Interpret;
            };
            let Some(enter) = self.enter else {
                return Accelerated::Interpret;
            };
            if link != 0 {
                // SAFETY: `link` is an exit slot of this module's blocks (the chain that
                // set it ran since the last flush), which compiled code only reads.
                unsafe { *(link as *mut u64) = code as u64 };
            }
            let mut fresh = Ctx::new(std::ptr::from_mut(m));
            fresh.code = self.code_ranges.as_ptr();
            fresh.code_len = self.code_ranges.len();
            fresh.guest_base = self.guest.base as usize;
            fresh.page_table = self.guest.table as usize;
            let cpu = std::ptr::from_mut(&mut m.cpu);
            // The context lives in the CPU state's scratch area, where compiled code finds it
            // from the CPU pointer.
            let at = runtime::ctx_in(cpu);
            // SAFETY: `at` is the scratch area of `m.cpu`, sized and aligned for a `Ctx`.
            unsafe { at.write(fresh) };
            // SAFETY: a block of this module, translated for this code generation, features
            // and memory; it reaches the machine only through `ctx` and `cpu` while it runs.
            let done = unsafe { fault::enter(at, cpu, code, enter) };
            // SAFETY: written above; compiled code and the runtime left a valid context.
            let mut ctx = unsafe { at.read() };
            if done == fault::EXIT_FAULT {
                // A load faulted in the host: the state of the resume point is exact, and
                // the interpreter runs from there into the fault.
                ctx.resume(m);
                m.instructions += ctx.count;
                self.faults += 1;
                self.interpret_until = m.instructions + CHAIN_LIMIT + BLOCK_MAX as u64;
                return Accelerated::Interpret;
            }
            ctx.settle_flags(m);
            m.instructions += ctx.count;
            if let (1, Some(stop)) = (done, ctx.stop) {
                return Accelerated::Stopped(stop);
            }
            total += ctx.count;
            if !self.chain
                || total >= CHAIN_LIMIT
                || m.interrupt.load(Ordering::Relaxed)
                || m.kick.load(Ordering::Relaxed)
                || m.mem.code_generation() != self.generation
            {
                return Accelerated::Ran;
            }
            link = ctx.link;
        }
    }

    fn stats(&self) -> String {
        format!(
            "JIT: {} blocks of {} instructions compiled in {:.3} s, {} calls followed into the callee, {} failed; {} loads left to the interpreter",
            self.compiled.0,
            self.compiled.1,
            self.compile_time.as_secs_f64(),
            self.calls_followed,
            self.failed,
            self.faults
        )
    }

    fn for_new_thread(&self) -> Box<dyn Accelerator> {
        match Jit::new(Arc::clone(&self.table)) {
            Ok(mut j) => {
                j.hot = self.hot;
                j.block_max = self.block_max;
                j.chain = self.chain;
                Box::new(j)
            }
            // The host ran this one: a second cannot fail to set up.
            Err(e) => panic!("armature: {e}"),
        }
    }
}
