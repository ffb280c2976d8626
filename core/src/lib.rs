//! armature's engine.
//!
//! - [`isa`]: the A64 decoder, field structs, metadata and semantic traits generated from Arm's
//!   XML at build time, plus the Arm pseudocode helpers they call;
//! - [`disas`]: the disassembler, printing LLVM's syntax;
//! - [`sem`]: the semantics interface every backend implements, and [`interp`], the interpreter;
//! - [`cpu`], [`mem`]: architectural state and guest memory.

pub mod cpu;
pub mod disas;
pub mod interp;
pub mod isa;
pub mod linux;
pub mod mem;
pub mod sem;
