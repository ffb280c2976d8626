//! Parser for Arm's A64 ISA XML (release 2022-12 and later) into a model of encodings.
//!
//! The XML is parsed with quick-xml; the small languages embedded in it (bit patterns,
//! `encodedin` attributes, ASL decode guards and alias conditions) are parsed with nom.
//! Errors are collected across all files, each naming its file and line.

pub mod asl;
pub mod bits;
mod error;
mod model;
mod parse;

pub use error::{Error, Errors};
pub use model::*;
pub use parse::{load, load_files, parse_file, spec_dir};
