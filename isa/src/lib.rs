//! The A64 instruction set, generated from Arm's machine-readable XML at build time.
//!
//! - [`isa`]: the decoder, field structs, metadata and semantic traits, plus the Arm
//!   pseudocode helpers they call;
//! - [`disas`]: the disassembler, printing LLVM's syntax.
//!
//! It is a crate of its own so that the 22 MB of generated Rust compile once: changes to the
//! engine (`armature-core`) do not rebuild them.

pub mod disas;
pub mod isa;
