//! Hand-written instruction semantics, one folder per architecture extension.
//!
//! The semantics interface and the first extension (base A64) arrive with the execution core;
//! this crate implements the traits that `armature-core` generates from the XML
//! (`armature_core::isa::semantics`), and core never depends on it.
