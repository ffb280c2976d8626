//! Architectural state of one AArch64 PE at EL0.

use std::any::{Any, TypeId};
use std::collections::HashMap;

/// The registers armature models for user mode, plus state that extensions add.
#[derive(Debug, Default)]
pub struct Cpu {
    /// X0-X30.
    pub x: [u64; 31],
    /// SP_EL0.
    pub sp: u64,
    /// The address of the instruction being executed.
    pub pc: u64,
    /// PSTATE.{N,Z,C,V} in bits 31..28, as NZCV reads them.
    pub nzcv: u64,
    /// V0-V31 (the low 128 bits of Z0-Z31).
    pub v: [u128; 32],
    pub fpcr: u64,
    pub fpsr: u64,
    pub tpidr_el0: u64,
    /// The local exclusive monitor: what the last load-exclusive read.
    pub exclusive: Option<Exclusive>,
    /// State that extensions own (SVE registers, MTE tags, PAuth keys), by type.
    ext: HashMap<TypeId, Box<dyn ExtState>>,
    /// Scratch memory of an [`crate::interp::Accelerator`] while it runs code (the JIT's
    /// context), beside the registers so that compiled code reaches both through one pointer.
    /// It holds nothing between runs: a clone gets a zeroed one.
    pub accel: AccelScratch,
}

/// The [`Cpu::accel`] area: 320 bytes, 16-byte aligned.
#[derive(Clone, Copy)]
#[repr(C, align(16))]
pub struct AccelScratch(pub [u64; 40]);

/// Nothing architectural: a state's debug form leaves the bytes out.
impl std::fmt::Debug for AccelScratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccelScratch")
    }
}

impl Default for AccelScratch {
    fn default() -> Self {
        AccelScratch([0; 40])
    }
}

/// The state an extension keeps in a [`Cpu`]: any `Clone` type, so that a new guest thread
/// starts with a copy of its creator's.
pub trait ExtState: Any + Send + std::fmt::Debug {
    fn clone_box(&self) -> Box<dyn ExtState>;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: Any + Send + Clone + std::fmt::Debug> ExtState for T {
    fn clone_box(&self) -> Box<dyn ExtState> {
        Box::new(self.clone())
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

impl Clone for Cpu {
    fn clone(&self) -> Self {
        Cpu {
            x: self.x,
            sp: self.sp,
            pc: self.pc,
            nzcv: self.nzcv,
            v: self.v,
            fpcr: self.fpcr,
            fpsr: self.fpsr,
            tpidr_el0: self.tpidr_el0,
            exclusive: self.exclusive,
            ext: self.ext.iter().map(|(k, v)| (*k, v.clone_box())).collect(),
            accel: AccelScratch::default(),
        }
    }
}

/// What a load-exclusive marked: the store-exclusive that follows succeeds when it has the same
/// address and size and memory still holds `value` (checked and written in one host
/// compare-and-swap, as qemu does; a store of the same value in between goes unnoticed, which
/// Arm's global monitor would catch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exclusive {
    pub addr: u64,
    /// 1, 2, 4, 8 or 16 bytes.
    pub size: u8,
    pub value: u128,
}

impl Cpu {
    /// The state of type `T` that an extension keeps, created on first use.
    pub fn ext<T: Default + Send + Clone + std::fmt::Debug + 'static>(&mut self) -> &mut T {
        self.ext
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(T::default()))
            .as_any_mut()
            .downcast_mut::<T>()
            .expect("the map is keyed by the type it holds")
    }
}
