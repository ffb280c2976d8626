//! armature's engine.
//!
//! - [`isa`], [`disas`]: the generated A64 decoder, field structs, metadata and disassembler,
//!   re-exported from `armature-isa` (a crate of its own so they compile once);
//! - [`sem`]: the semantics interface every backend implements, and [`interp`], the interpreter;
//! - [`cpu`], [`mem`]: architectural state and guest memory.

pub mod cpu;
pub mod interp;
pub mod linux;
pub mod mem;
pub mod sem;
pub mod uop;

pub use armature_isa::{disas, isa};
