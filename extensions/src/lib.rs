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

#[cfg(test)]
mod tests {
    use armature_core::interp::Interp;
    use armature_core::isa::{decode, Decoded, EncodingId, Feature};
    use armature_core::linux::implemented_features;
    use armature_core::sem::SemTable;

    #[test]
    fn guard_only_features_are_enabled() {
        let mut t = SemTable::<Interp>::default();
        super::register_all(&mut t);
        let features = implemented_features(&t);
        // FEAT_PMULL appears only in PMULL's decode guard (HaveBit128PMULLExt).
        assert!(features.contains(Feature::FEAT_PMULL));
        // pmull v0.1q, v1.1d, v2.1d
        assert_eq!(
            decode(0x0ee2_e020, &features),
            Decoded::Insn(EncodingId::PMULL_asimddiff_L)
        );
    }
}
