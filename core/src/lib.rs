//! armature's engine.
//!
//! - [`isa`]: the A64 decoder, field structs, metadata and semantic traits generated from Arm's
//!   XML at build time, plus the Arm pseudocode helpers they call;
//! - [`disas`]: the disassembler, printing LLVM's syntax.

pub mod disas;
pub mod isa;
