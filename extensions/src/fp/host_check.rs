//! Cross-check of the soft-float core against the host's IEEE 754 arithmetic at
//! round-to-nearest-even with FZ = 0 and DN = 0, on random non-NaN operands (random bit
//! patterns, so denormals, infinities and huge exponent gaps all occur). Host floats only give
//! the expected values here; the core never uses them.

use super::softfloat::{Fmt, Fpu};

/// A small deterministic generator (SplitMix64), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A random double, biased towards values near each other and special exponents.
    fn f64(&mut self) -> f64 {
        loop {
            let r = self.next();
            let v = match r % 4 {
                0 => f64::from_bits(self.next()),
                1 => f64::from_bits(self.next() & 0x800f_ffff_ffff_ffff),
                2 => f64::from_bits((self.next() & 0x803f_ffff_ffff_ffff) | 0x3fc0_0000_0000_0000),
                _ => f64::from_bits(self.next() | 0x7fe0_0000_0000_0000),
            };
            if !v.is_nan() {
                return v;
            }
        }
    }

    fn f32(&mut self) -> f32 {
        loop {
            let r = self.next();
            let v = match r % 4 {
                0 => f32::from_bits(self.next() as u32),
                1 => f32::from_bits(self.next() as u32 & 0x807f_ffff),
                2 => f32::from_bits((self.next() as u32 & 0x81ff_ffff) | 0x3e00_0000),
                _ => f32::from_bits(self.next() as u32 | 0x7f00_0000),
            };
            if !v.is_nan() {
                return v;
            }
        }
    }
}

/// The host result, unless it is a NaN (whose payload the host chooses differently).
fn same(ours: u64, host: u64, is_nan: bool, what: &str) {
    if is_nan {
        return;
    }
    assert_eq!(ours, host, "{what}: ours {ours:#x}, host {host:#x}");
}

#[test]
fn f64_matches_host() {
    let mut rng = Rng(1);
    for _ in 0..200_000 {
        let (a, b, c) = (rng.f64(), rng.f64(), rng.f64());
        let (x, y, z) = (a.to_bits(), b.to_bits(), c.to_bits());
        let mut f = Fpu::new(0);
        let cases = [
            ("add", f.add(Fmt::D, x, y), a + b),
            ("mul", f.mul(Fmt::D, x, y, false), a * b),
            ("div", f.div(Fmt::D, x, y), a / b),
            ("sqrt", f.sqrt(Fmt::D, x), a.sqrt()),
            ("fma", f.mul_add(Fmt::D, z, x, y), a.mul_add(b, c)),
        ];
        for (what, ours, host) in cases {
            same(
                ours,
                host.to_bits(),
                host.is_nan(),
                &format!("{what} {a:e} {b:e} {c:e}"),
            );
        }
    }
}

#[test]
fn f32_matches_host() {
    let mut rng = Rng(2);
    for _ in 0..200_000 {
        let (a, b, c) = (rng.f32(), rng.f32(), rng.f32());
        let (x, y, z) = (a.to_bits().into(), b.to_bits().into(), c.to_bits().into());
        let mut f = Fpu::new(0);
        let cases = [
            ("add", f.add(Fmt::S, x, y), a + b),
            ("mul", f.mul(Fmt::S, x, y, false), a * b),
            ("div", f.div(Fmt::S, x, y), a / b),
            ("sqrt", f.sqrt(Fmt::S, x), a.sqrt()),
            ("fma", f.mul_add(Fmt::S, z, x, y), a.mul_add(b, c)),
        ];
        for (what, ours, host) in cases {
            same(
                ours,
                host.to_bits().into(),
                host.is_nan(),
                &format!("{what} {a:e} {b:e} {c:e}"),
            );
        }
    }
}
