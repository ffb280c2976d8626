//! Cases where qemu-aarch64 7.2 differs from Arm's pseudocode, so they cannot be recorded
//! from it (see `scripts/qemu_fp_expect.py`): the expected values follow the pseudocode, and
//! each group says where the rule comes from.

use super::test_support::{check_all, Case, Loc::*};

/// FJCVTZS of a positive denormal flushed to zero by FPCR.FZ: the result is 0 with IDC, and Z
/// is 0 because the input was not an exact zero. Arm's FPToFixedJS ends its flag checks with
/// `elsif sign == '0' && value == 0.0 && !IsZero(op<51:0>) then z = '0';`. qemu-aarch64 7.2
/// sets Z here; qemu fixed it in "target/arm: Fix FJCVTZS vs flush-to-zero" (Richard
/// Henderson, July 2024, qemu issue #2375, test `tests/tcg/aarch64/test-2375.c`, whose input
/// is the first case below), and `conformance/src/known.rs` declares the difference.
const FJCVTZS_FLUSHED_DENORMAL: &[Case] = &[
    ("fjcvtzs w2, d0", 0x1e7e0002, &[(Fpcr, 0x1000000), (V(0), 0x5555_0000_0000_00fc_ff00), (X(2), 0x5)], &[(X(2), 0x0), (Fpsr, 0x80), (Nzcv, 0x0)]),
    ("fjcvtzs w2, d0", 0x1e7e0002, &[(Fpcr, 0x1000000), (V(0), 0x5555_000f_ffff_ffff_ffff), (X(2), 0x5), (Nzcv, 0x40000000)], &[(X(2), 0x0), (Fpsr, 0x80), (Nzcv, 0x0)]),
    ("fjcvtzs w2, d0", 0x1e7e0002, &[(Fpcr, 0x3c00000), (V(0), 0x0000_0000_0000_0001), (X(2), 0x5)], &[(X(2), 0x0), (Fpsr, 0x80), (Nzcv, 0x0)]),
];

#[test]
fn fjcvtzs_flushed_denormal() {
    check_all(FJCVTZS_FLUSHED_DENORMAL);
}
