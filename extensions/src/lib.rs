//! Hand-written instruction semantics, one folder per architecture extension.
//!
//! Each extension registers its semantics functions, written once over
//! [`armature_core::sem::Sem`], in a [`SemTable`]; core never depends on this crate.

use armature_core::sem::{Sem, SemTable};

pub mod advsimd;
pub mod base;
pub mod fp;

/// Registers the semantics of every extension in `t`.
pub fn register_all<S: Sem>(t: &mut SemTable<S>) {
    base::register(t);
    advsimd::register(t);
    fp::register(t);
}
