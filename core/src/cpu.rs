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
    /// The exclusive monitor: address and size of the last load-exclusive.
    pub exclusive: Option<(u64, u8)>,
    /// State that extensions own (SVE registers, MTE tags, PAuth keys), by type.
    ext: HashMap<TypeId, Box<dyn Any + Send>>,
}

impl Cpu {
    /// The state of type `T` that an extension keeps, created on first use.
    pub fn ext<T: Default + Send + 'static>(&mut self) -> &mut T {
        self.ext
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(T::default()))
            .downcast_mut::<T>()
            .expect("the map is keyed by the type it holds")
    }
}
