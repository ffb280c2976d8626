//! Advanced SIMD floating-point vector operations.

use armature_core::sem::{Sem, SemTable};

/// Registers the vector FP encodings.
pub fn register<S: Sem>(_t: &mut SemTable<S>) {}
