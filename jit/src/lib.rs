//! armature's JIT: the semantics the interpreter runs, recorded once per block through the
//! `Sem` interface ([`ir::Recorder`]) and lowered to native code with Cranelift
//! ([`lower`]). It plugs into the interpreter as an [`Accelerator`]: `Interp::run` lets it run
//! the blocks it translated and runs the instructions it leaves (system calls, encodings
//! without semantics, undefined words) itself.
//!
//! A block is the straight run of instructions from an address up to the first that branches
//! (or [`BLOCK_MAX`] instructions, or one it leaves to the interpreter). Blocks are cached by
//! address and dropped when `Memory::code_generation` changes (self-modifying code,
//! `mprotect`, `munmap`); each guest thread has its own cache for now.

pub mod ir;
pub mod lower;
mod runtime;

use std::collections::HashMap;
use std::sync::Arc;

use armature_core::cpu::Cpu;
use armature_core::interp::{Accelerated, Accelerator, Interp};
use armature_core::isa::{decode, Decoded, FeatureSet};
use armature_core::sem::SemTable;
use cranelift_codegen::ir::{types, AbiParam, UserFuncName};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, Module};

use ir::Recorder;
use lower::Guest;
use runtime::Ctx;

/// The most instructions one block holds.
pub const BLOCK_MAX: usize = 64;

/// How many times the interpreter runs a block before it is compiled: cold code (start-up,
/// error paths) is not worth Cranelift's time.
pub const HOT: u32 = 32;

/// A compiled block: `fn(ctx, cpu) -> 0 (ran) or 1 (stopped)`.
type BlockFn = unsafe extern "C" fn(*mut Ctx, *mut Cpu) -> u64;

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
    blocks: HashMap<u64, (BlockFn, usize)>,
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
        Ok(Jit {
            table,
            module: Module_(new_module()?),
            blocks: HashMap::new(),
            heat: HashMap::new(),
            generation: u64::MAX,
            features: None,
            guest: Guest { base: 0, table: 0 },
            fctx: FunctionBuilderContext::new(),
            compiled: (0, 0),
            compile_time: std::time::Duration::ZERO,
            hot: HOT,
            block_max: BLOCK_MAX,
        })
    }

    /// Drops every block (their code too).
    fn flush(&mut self) {
        self.blocks.clear();
        self.heat.clear();
        if let Ok(fresh) = new_module() {
            let old = std::mem::replace(&mut self.module.0, fresh);
            // SAFETY: no block of the old module runs now and none is referenced any more.
            unsafe { old.free_memory() };
        }
    }

    /// Records the block at the PC; `None` when its first instruction is left to the
    /// interpreter.
    fn record(&self, m: &Interp, features: &FeatureSet) -> Option<Recorder> {
        let mut rec = Recorder::default();
        let mut pc = m.cpu.pc;
        while rec.insns.len() < self.block_max.max(1) {
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
            if rec.insns.last().is_some_and(|i| i.branches) {
                break;
            }
            pc = pc.wrapping_add(4);
        }
        (!rec.insns.is_empty()).then_some(rec)
    }

    fn compile(&mut self, rec: &Recorder) -> Option<BlockFn> {
        let module = &mut self.module.0;
        let mut ctx = module.make_context();
        let ptr = types::I64;
        ctx.func.signature.params.push(AbiParam::new(ptr));
        ctx.func.signature.params.push(AbiParam::new(ptr));
        ctx.func.signature.returns.push(AbiParam::new(ptr));
        ctx.func.name = UserFuncName::user(0, self.compiled.0 as u32);
        let conv = module.isa().default_call_conv();
        let config = module.isa().frontend_config();
        let sig = ctx.func.signature.clone();
        lower::lower(
            FunctionBuilder::new(&mut ctx.func, &mut self.fctx),
            conv,
            config,
            self.guest,
            rec,
        );
        let id = module.declare_anonymous_function(&sig).ok()?;
        module.define_function(id, &mut ctx).ok()?;
        module.clear_context(&mut ctx);
        module.finalize_definitions().ok()?;
        let code = module.get_finalized_function(id);
        self.compiled.0 += 1;
        self.compiled.1 += rec.insns.len() as u64;
        // SAFETY: the function was compiled with the block signature.
        Some(unsafe { std::mem::transmute::<*const u8, BlockFn>(code) })
    }
}

impl Accelerator for Jit {
    fn execute(&mut self, m: &mut Interp, features: &FeatureSet) -> Accelerated {
        let generation = m.mem.code_generation();
        // Blocks have the memory's host addresses built in: another address space (which
        // only a test gives the same JIT) needs new ones.
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
        let pc = m.cpu.pc;
        let (f, _) = match self.blocks.get(&pc) {
            Some(b) => *b,
            None => {
                let heat = self.heat.entry(pc).or_insert(0);
                if *heat < self.hot {
                    *heat += 1;
                    return Accelerated::Interpret;
                }
                if *heat == u32::MAX {
                    return Accelerated::Interpret;
                }
                let start = std::time::Instant::now();
                let rec = self.record(m, features);
                let compiled = rec.as_ref().and_then(|r| self.compile(r));
                self.compile_time += start.elapsed();
                let (Some(rec), Some(f)) = (rec, compiled) else {
                    self.heat.insert(pc, u32::MAX);
                    return Accelerated::Interpret;
                };
                self.heat.remove(&pc);
                self.blocks.insert(pc, (f, rec.insns.len()));
                (f, rec.insns.len())
            }
        };
        let mut ctx = Ctx {
            interp: std::ptr::from_mut(m),
            status: 0,
            second: 0,
            count: 0,
            stop: None,
        };
        let cpu = std::ptr::from_mut(&mut m.cpu);
        // SAFETY: a block of this module, translated for this code generation and features;
        // it reaches the machine only through `ctx` and `cpu` while it runs.
        let code = unsafe { f(&mut ctx, cpu) };
        m.instructions += ctx.count;
        match (code, ctx.stop) {
            (1, Some(stop)) => Accelerated::Stopped(stop),
            _ => Accelerated::Ran,
        }
    }

    fn stats(&self) -> String {
        format!(
            "JIT: {} blocks of {} instructions compiled in {:.3} s",
            self.compiled.0,
            self.compiled.1,
            self.compile_time.as_secs_f64()
        )
    }

    fn for_new_thread(&self) -> Box<dyn Accelerator> {
        match Jit::new(Arc::clone(&self.table)) {
            Ok(mut j) => {
                j.hot = self.hot;
                j.block_max = self.block_max;
                Box::new(j)
            }
            // The host ran this one: a second cannot fail to set up.
            Err(e) => panic!("armature: {e}"),
        }
    }
}
