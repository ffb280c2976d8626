//! Cryptographic extensions: AESE, AESD, AESMC, AESIMC (FEAT_AES), PMULL, PMULL2 (FEAT_PMULL
//! for 64-bit elements), SHA1* (FEAT_SHA1), SHA256* (FEAT_SHA256), SHA512* (FEAT_SHA512) and
//! EOR3, BCAX, RAX1, XAR (FEAT_SHA3).
//!
//! The AES byte substitutions and the carry-less products go through `Sem::call` helpers that
//! take the 128-bit state as two halves and give one half of the result; the SHA rounds are
//! 32- and 64-bit additions, rotations and logic, written with the op table.

use armature_core::cpu::Cpu;
use armature_core::isa::fields;
use armature_core::isa::EncodingId as E;
use armature_core::sem::{BinOp, Sem, SemTable, Stop, UnOp};

use super::{write_halves, Lanes};

pub(super) fn register<S: Sem>(t: &mut SemTable<S>) {
    for id in [
        E::AESE_B_cryptoaes,
        E::AESD_B_cryptoaes,
        E::AESMC_B_cryptoaes,
        E::AESIMC_B_cryptoaes,
    ] {
        t.set(id, aes::<S>);
    }
    t.set(E::PMULL_asimddiff_L, pmull::<S>);
    for id in [
        E::SHA1C_QSV_cryptosha3,
        E::SHA1P_QSV_cryptosha3,
        E::SHA1M_QSV_cryptosha3,
    ] {
        t.set(id, sha1_hash::<S>);
    }
    t.set(E::SHA1H_SS_cryptosha2, sha1h::<S>);
    t.set(E::SHA1SU0_VVV_cryptosha3, sha1su0::<S>);
    t.set(E::SHA1SU1_VV_cryptosha2, sha1su1::<S>);
    t.set(E::SHA256H_QQV_cryptosha3, sha256h::<S>);
    t.set(E::SHA256H2_QQV_cryptosha3, sha256h::<S>);
    t.set(E::SHA256SU0_VV_cryptosha2, sha256su0::<S>);
    t.set(E::SHA256SU1_VVV_cryptosha3, sha256su1::<S>);
    t.set(E::SHA512H_QQV_cryptosha512_3, sha512h::<S>);
    t.set(E::SHA512H2_QQV_cryptosha512_3, sha512h2::<S>);
    t.set(E::SHA512SU0_VV2_cryptosha512_2, sha512su0::<S>);
    t.set(E::SHA512SU1_VVV2_cryptosha512_3, sha512su1::<S>);
    t.set(E::EOR3_VVV16_crypto4, eor3_bcax::<S>);
    t.set(E::BCAX_VVV16_crypto4, eor3_bcax::<S>);
    t.set(E::RAX1_VVV2_cryptosha512_3, rax1::<S>);
    t.set(E::XAR_VVV2_crypto3_imm6, xar::<S>);
    t.set(E::SM3PARTW1_VVV4_cryptosha512_3, sm3partw::<S>);
    t.set(E::SM3PARTW2_VVV4_cryptosha512_3, sm3partw::<S>);
    t.set(E::SM3SS1_VVV4_crypto4, sm3ss1::<S>);
    for id in [
        E::SM3TT1A_VVV4_crypto3_imm2,
        E::SM3TT1B_VVV4_crypto3_imm2,
        E::SM3TT2A_VVV4_crypto3_imm2,
        E::SM3TT2B_VVV_crypto3_imm2,
    ] {
        t.set(id, sm3tt::<S>);
    }
    t.set(E::SM4E_VV4_cryptosha512_2, sm4::<S>);
    t.set(E::SM4EKEY_VVV4_cryptosha512_3, sm4::<S>);
}

/// Multiplication by x in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1.
const fn xtime(b: u8) -> u8 {
    (b << 1) ^ if b & 0x80 != 0 { 0x1b } else { 0 }
}

/// Multiplication in GF(2^8) (`FFmul`).
const fn gf_mul(mut a: u8, mut b: u8) -> u8 {
    let mut r = 0;
    while b != 0 {
        if b & 1 != 0 {
            r ^= a;
        }
        a = xtime(a);
        b >>= 1;
    }
    r
}

/// The AES S-box (FIPS-197 5.1.1): the multiplicative inverse followed by the affine map.
const SBOX: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut x = 0;
    while x < 256 {
        // x^254 is the inverse of x (and 0 for 0).
        let mut inv = 1u8;
        let mut i = 0;
        while i < 254 {
            inv = gf_mul(inv, x as u8);
            i += 1;
        }
        if x == 0 {
            inv = 0;
        }
        let b = inv;
        t[x] = b ^ b.rotate_left(1) ^ b.rotate_left(2) ^ b.rotate_left(3) ^ b.rotate_left(4) ^ 0x63;
        x += 1;
    }
    t
};

/// The inverse S-box.
const INV_SBOX: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut x = 0;
    while x < 256 {
        t[SBOX[x] as usize] = x as u8;
        x += 1;
    }
    t
};

/// The AES operations of [`aes_helper`], by the `opcode<4:1>:D` bits of the encoding less 8.
#[derive(Clone, Copy)]
enum AesOp {
    /// AESE: `AESSubBytes(AESShiftRows(state))`.
    Encrypt = 0,
    /// AESD: `AESInvSubBytes(AESInvShiftRows(state))`.
    Decrypt = 1,
    /// AESMC: `AESMixColumns(state)`.
    MixColumns = 2,
    /// AESIMC: `AESInvMixColumns(state)`.
    InvMixColumns = 3,
}

/// One AES step on the state `args[1]:args[0]` (byte 0 lowest, FIPS-197 column-major order);
/// `args[2]` is the [`AesOp`] and `args[3]` the half of the result to give.
fn aes_helper(_: &mut Cpu, args: &[u64]) -> u64 {
    let state = (u128::from(args[1]) << 64) | u128::from(args[0]);
    let b = state.to_le_bytes();
    let mut out = [0u8; 16];
    match args[2] {
        0 | 1 => {
            // ShiftRows moves byte (row r, column c) to column c - r; InvShiftRows back.
            for c in 0..4 {
                for r in 0..4 {
                    if args[2] == 0 {
                        out[r + 4 * c] = SBOX[b[r + 4 * ((c + r) % 4)] as usize];
                    } else {
                        out[r + 4 * ((c + r) % 4)] = INV_SBOX[b[r + 4 * c] as usize];
                    }
                }
            }
        }
        op => {
            let m: [u8; 4] = if op == 2 {
                [2, 3, 1, 1]
            } else {
                [14, 11, 13, 9]
            };
            for c in 0..4 {
                let col = &b[4 * c..4 * c + 4];
                for r in 0..4 {
                    out[4 * c + r] =
                        (0..4).fold(0, |acc, k| acc ^ gf_mul(m[(k + 4 - r) % 4], col[k]));
                }
            }
        }
    }
    let r = u128::from_le_bytes(out);
    (r >> (64 * (args[3] & 1))) as u64
}

/// AESE, AESD (`state = V[d] EOR V[n]` first), AESMC, AESIMC (`state = V[n]`).
pub fn aes<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::AESE_B_cryptoaes::from_word(word);
    if f.size != 0 {
        return Err(Stop::Undefined);
    }
    let op = match (f.opcode_4_1_, f.D) {
        (0b0010, 0) => AesOp::Encrypt,
        (0b0010, _) => AesOp::Decrypt,
        (0b0011, 0) => AesOp::MixColumns,
        (0b0011, _) => AesOp::InvMixColumns,
        _ => return Err(Stop::Undefined),
    };
    let mut state = [s.v(f.Rn, 0), s.v(f.Rn, 1)];
    if matches!(op, AesOp::Encrypt | AesOp::Decrypt) {
        for (h, st) in state.iter_mut().enumerate() {
            let d = s.v(f.Rd, h as u32);
            *st = s.bin(BinOp::Xor, *st, d);
        }
    }
    let op = s.imm(op as u64);
    let out: Lanes<S::V> = (0..2)
        .map(|h| {
            let half = s.imm(h);
            s.call_pure(aes_helper, &[state[0], state[1], op, half])
        })
        .collect();
    write_halves(s, f.Rd, &out);
    Ok(())
}

/// `PolynomialMult(a, b)` of `esize`-bit lanes of two 64-bit halves into `2 * esize`-bit
/// lanes; `args[2]` is esize (8 or 64) and `args[3]` the half of the 128-bit result to give.
fn pmull_helper(_: &mut Cpu, args: &[u64]) -> u64 {
    let (a, b, esize) = (args[0], args[1], args[2] as u32);
    let clmul = |x: u64, y: u64| -> u128 {
        (0..64).fold(0u128, |acc, i| {
            if (y >> i) & 1 == 1 {
                acc ^ (u128::from(x) << i)
            } else {
                acc
            }
        })
    };
    let r = if esize == 64 {
        clmul(a, b)
    } else {
        (0..8).fold(0u128, |acc, i| {
            let p = clmul((a >> (8 * i)) & 0xff, (b >> (8 * i)) & 0xff);
            acc | (p << (16 * i))
        })
    };
    (r >> (64 * (args[3] & 1))) as u64
}

/// PMULL, PMULL2: the carry-less products of the bytes (`size` 00) or the doubleword
/// (`size` 11) of half `Q` of `V[n]` and `V[m]`.
pub fn pmull<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::PMULL_asimddiff_L::from_word(word);
    let esize = match f.size {
        0 => 8,
        3 => 64,
        _ => return Err(Stop::Undefined),
    };
    let a = s.v(f.Rn, f.Q);
    let b = s.v(f.Rm, f.Q);
    let es = s.imm(esize);
    let out: Lanes<S::V> = (0..2)
        .map(|h| {
            let half = s.imm(h);
            s.call_pure(pmull_helper, &[a, b, es, half])
        })
        .collect();
    write_halves(s, f.Rd, &out);
    Ok(())
}

/// The four 32-bit words of `V[n]`, zero-extended, word 0 first.
fn words32<S: Sem>(s: &mut S, n: u32) -> [S::V; 4] {
    let lo = s.v(n, 0);
    let hi = s.v(n, 1);
    let sh = s.imm(32);
    let w0 = s.un(UnOp::Zext32, lo);
    let w1 = s.bin(BinOp::Lsr, lo, sh);
    let w2 = s.un(UnOp::Zext32, hi);
    let w3 = s.bin(BinOp::Lsr, hi, sh);
    [w0, w1, w2, w3]
}

/// `V[d] = w3:w2:w1:w0` from zero-extended 32-bit words.
fn set_words32<S: Sem>(s: &mut S, d: u32, w: [S::V; 4]) {
    let sh = s.imm(32);
    let hi1 = s.bin(BinOp::Shl, w[1], sh);
    let lo = s.bin(BinOp::Or, w[0], hi1);
    let hi3 = s.bin(BinOp::Shl, w[3], sh);
    let hi = s.bin(BinOp::Or, w[2], hi3);
    write_halves(s, d, &[lo, hi]);
}

/// `ROR(x, n)` of a zero-extended 32-bit value.
fn ror32<S: Sem>(s: &mut S, x: S::V, n: u32) -> S::V {
    let a = s.imm(u64::from(n));
    let b = s.imm(u64::from(32 - n));
    let r = s.bin(BinOp::Lsr, x, a);
    let l = s.bin(BinOp::Shl, x, b);
    let v = s.bin(BinOp::Or, r, l);
    s.un(UnOp::Zext32, v)
}

/// `ROL(x, n)` of a zero-extended 32-bit value.
fn rol32<S: Sem>(s: &mut S, x: S::V, n: u32) -> S::V {
    ror32(s, x, 32 - n)
}

/// A 32-bit sum of zero-extended values.
fn add32<S: Sem>(s: &mut S, xs: &[S::V]) -> S::V {
    let mut acc = xs[0];
    for &x in &xs[1..] {
        acc = s.bin(BinOp::Add, acc, x);
    }
    s.un(UnOp::Zext32, acc)
}

/// `SHAchoose(x, y, z) = ((y EOR z) AND x) EOR z`.
fn sha_choose<S: Sem>(s: &mut S, x: S::V, y: S::V, z: S::V) -> S::V {
    let t = s.bin(BinOp::Xor, y, z);
    let t = s.bin(BinOp::And, t, x);
    s.bin(BinOp::Xor, t, z)
}

/// `SHAmajority(x, y, z) = (x AND y) OR ((x OR y) AND z)`.
fn sha_majority<S: Sem>(s: &mut S, x: S::V, y: S::V, z: S::V) -> S::V {
    let a = s.bin(BinOp::And, x, y);
    let o = s.bin(BinOp::Or, x, y);
    let b = s.bin(BinOp::And, o, z);
    s.bin(BinOp::Or, a, b)
}

/// `SHAparity(x, y, z) = x EOR y EOR z`.
fn sha_parity<S: Sem>(s: &mut S, x: S::V, y: S::V, z: S::V) -> S::V {
    let t = s.bin(BinOp::Xor, x, y);
    s.bin(BinOp::Xor, t, z)
}

/// SHA1C, SHA1P, SHA1M (`opcode` 000, 001, 010): four rounds on `x = Q[d]`, `y = S[n]` with
/// the schedule words of `V[m]` and SHAchoose, SHAparity or SHAmajority.
pub fn sha1_hash<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SHA1C_QSV_cryptosha3::from_word(word);
    let mut x = words32(s, f.Rd);
    let yv = s.v(f.Rn, 0);
    let mut y = s.un(UnOp::Zext32, yv);
    let w = words32(s, f.Rm);
    for &we in &w {
        let t = match f.opcode {
            0 => sha_choose(s, x[1], x[2], x[3]),
            1 => sha_parity(s, x[1], x[2], x[3]),
            _ => sha_majority(s, x[1], x[2], x[3]),
        };
        let r = rol32(s, x[0], 5);
        y = add32(s, &[y, r, t, we]);
        x[1] = rol32(s, x[1], 30);
        // <y, x> = ROL(y : x, 32) on 160 bits: x<127:96> moves into y.
        let top = x[3];
        x = [y, x[0], x[1], x[2]];
        y = top;
    }
    set_words32(s, f.Rd, x);
    Ok(())
}

/// SHA1H: `S[d] = ROL(S[n], 30)`.
pub fn sha1h<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SHA1H_SS_cryptosha2::from_word(word);
    let v = s.v(f.Rn, 0);
    let v = s.un(UnOp::Zext32, v);
    let r = rol32(s, v, 30);
    write_halves(s, f.Rd, &[r]);
    Ok(())
}

/// SHA1SU0: `(V[n]<63:0> : V[d]<127:64>) EOR V[d] EOR V[m]`.
pub fn sha1su0<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SHA1C_QSV_cryptosha3::from_word(word);
    let (d0, d1) = (s.v(f.Rd, 0), s.v(f.Rd, 1));
    let n0 = s.v(f.Rn, 0);
    let (m0, m1) = (s.v(f.Rm, 0), s.v(f.Rm, 1));
    let lo = s.bin(BinOp::Xor, d1, d0);
    let lo = s.bin(BinOp::Xor, lo, m0);
    let hi = s.bin(BinOp::Xor, n0, d1);
    let hi = s.bin(BinOp::Xor, hi, m1);
    write_halves(s, f.Rd, &[lo, hi]);
    Ok(())
}

/// SHA1SU1: `T = V[d] EOR LSR(V[n], 32)`; each word rotated left by 1, and the top one also
/// EORed with `ROL(T<31:0>, 2)`.
pub fn sha1su1<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SHA1H_SS_cryptosha2::from_word(word);
    let x = words32(s, f.Rd);
    let y = words32(s, f.Rn);
    let zero = s.imm(0);
    let shifted = [y[1], y[2], y[3], zero];
    let t: Lanes<S::V> = (0..4)
        .map(|i| s.bin(BinOp::Xor, x[i], shifted[i]))
        .collect();
    let w0 = rol32(s, t[0], 1);
    let w1 = rol32(s, t[1], 1);
    let w2 = rol32(s, t[2], 1);
    let w3 = rol32(s, t[3], 1);
    let t02 = rol32(s, t[0], 2);
    let w3 = s.bin(BinOp::Xor, w3, t02);
    set_words32(s, f.Rd, [w0, w1, w2, w3]);
    Ok(())
}

/// `SHA256hash(x, y, w, part1)`: four rounds; gives x (`part1`) or y.
fn sha256_hash<S: Sem>(
    s: &mut S,
    mut x: [S::V; 4],
    mut y: [S::V; 4],
    w: [S::V; 4],
    part1: bool,
) -> [S::V; 4] {
    for &we in &w {
        let chs = sha_choose(s, y[0], y[1], y[2]);
        let maj = sha_majority(s, x[0], x[1], x[2]);
        // SHAhashSIGMA1(y<31:0>) = ROR(y, 6) EOR ROR(y, 11) EOR ROR(y, 25).
        let a = ror32(s, y[0], 6);
        let b = ror32(s, y[0], 11);
        let c = ror32(s, y[0], 25);
        let sigma1 = sha_parity(s, a, b, c);
        let t = add32(s, &[y[3], sigma1, chs, we]);
        x[3] = add32(s, &[t, x[3]]);
        // SHAhashSIGMA0(x<31:0>) = ROR(x, 2) EOR ROR(x, 13) EOR ROR(x, 22).
        let a = ror32(s, x[0], 2);
        let b = ror32(s, x[0], 13);
        let c = ror32(s, x[0], 22);
        let sigma0 = sha_parity(s, a, b, c);
        y[3] = add32(s, &[t, sigma0, maj]);
        // <y, x> = ROL(y : x, 32) on 256 bits.
        let (x3, y3) = (x[3], y[3]);
        x = [y3, x[0], x[1], x[2]];
        y = [x3, y[0], y[1], y[2]];
    }
    if part1 {
        x
    } else {
        y
    }
}

/// SHA256H (`P` 0): `SHA256hash(V[d], V[n], V[m], TRUE)`; SHA256H2 (`P` 1):
/// `SHA256hash(V[n], V[d], V[m], FALSE)`.
pub fn sha256h<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SHA256H_QQV_cryptosha3::from_word(word);
    let d = words32(s, f.Rd);
    let n = words32(s, f.Rn);
    let w = words32(s, f.Rm);
    let r = if f.P == 0 {
        sha256_hash(s, d, n, w, true)
    } else {
        sha256_hash(s, n, d, w, false)
    };
    set_words32(s, f.Rd, r);
    Ok(())
}

/// SHA256SU0: `T = V[n]<31:0> : V[d]<127:32>`; each word is
/// `ROR(T, 7) EOR ROR(T, 18) EOR LSR(T, 3)` plus the word of `V[d]`.
pub fn sha256su0<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SHA1H_SS_cryptosha2::from_word(word);
    let d = words32(s, f.Rd);
    let n = words32(s, f.Rn);
    let t = [d[1], d[2], d[3], n[0]];
    let mut out = d;
    for e in 0..4 {
        let a = ror32(s, t[e], 7);
        let b = ror32(s, t[e], 18);
        let three = s.imm(3);
        let c = s.bin(BinOp::Lsr, t[e], three);
        let elt = sha_parity(s, a, b, c);
        out[e] = add32(s, &[elt, d[e]]);
    }
    set_words32(s, f.Rd, out);
    Ok(())
}

/// `ROR(x, 17) EOR ROR(x, 19) EOR LSR(x, 10)` of SHA256SU1.
fn sha256_sigma1_small<S: Sem>(s: &mut S, x: S::V) -> S::V {
    let a = ror32(s, x, 17);
    let b = ror32(s, x, 19);
    let ten = s.imm(10);
    let c = s.bin(BinOp::Lsr, x, ten);
    sha_parity(s, a, b, c)
}

/// SHA256SU1: the second part of the SHA-256 schedule update, after Arm's pseudocode.
pub fn sha256su1<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SHA1C_QSV_cryptosha3::from_word(word);
    let d = words32(s, f.Rd);
    let n = words32(s, f.Rn);
    let m = words32(s, f.Rm);
    let t0 = [n[1], n[2], n[3], m[0]];
    let mut out = d;
    for e in 0..2 {
        let sig = sha256_sigma1_small(s, m[2 + e]);
        out[e] = add32(s, &[sig, d[e], t0[e]]);
    }
    for e in 2..4 {
        let sig = sha256_sigma1_small(s, out[e - 2]);
        out[e] = add32(s, &[sig, d[e], t0[e]]);
    }
    set_words32(s, f.Rd, out);
    Ok(())
}

/// `ROR(x, a) EOR ROR(x, b) EOR ROR(x, c)` on 64 bits.
fn ror3_64<S: Sem>(s: &mut S, x: S::V, a: u64, b: u64, c: u64) -> S::V {
    let (ia, ib, ic) = (s.imm(a), s.imm(b), s.imm(c));
    let ra = s.bin(BinOp::Ror, x, ia);
    let rb = s.bin(BinOp::Ror, x, ib);
    let rc = s.bin(BinOp::Ror, x, ic);
    sha_parity(s, ra, rb, rc)
}

/// `ROR(x, a) EOR ROR(x, b) EOR LSR(x, c)` on 64 bits.
fn ror2_lsr_64<S: Sem>(s: &mut S, x: S::V, a: u64, b: u64, c: u64) -> S::V {
    let (ia, ib, ic) = (s.imm(a), s.imm(b), s.imm(c));
    let ra = s.bin(BinOp::Ror, x, ia);
    let rb = s.bin(BinOp::Ror, x, ib);
    let rc = s.bin(BinOp::Lsr, x, ic);
    sha_parity(s, ra, rb, rc)
}

/// SHA512H: `x = V[n]`, `y = V[m]`, `w = V[d]`, after Arm's pseudocode.
pub fn sha512h<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SHA512H_QQV_cryptosha512_3::from_word(word);
    let (x0, x1) = (s.v(f.Rn, 0), s.v(f.Rn, 1));
    let (y0, y1) = (s.v(f.Rm, 0), s.v(f.Rm, 1));
    let (w0, w1) = (s.v(f.Rd, 0), s.v(f.Rd, 1));
    let sigma = ror3_64(s, y1, 14, 18, 41);
    let ny1 = s.un(UnOp::Not, y1);
    let ch = {
        let a = s.bin(BinOp::And, y1, x0);
        let b = s.bin(BinOp::And, ny1, x1);
        s.bin(BinOp::Xor, a, b)
    };
    let hi = s.bin(BinOp::Add, ch, sigma);
    let hi = s.bin(BinOp::Add, hi, w1);
    let tmp = s.bin(BinOp::Add, hi, y0);
    let sigma = ror3_64(s, tmp, 14, 18, 41);
    let ntmp = s.un(UnOp::Not, tmp);
    let ch = {
        let a = s.bin(BinOp::And, tmp, y1);
        let b = s.bin(BinOp::And, ntmp, x0);
        s.bin(BinOp::Xor, a, b)
    };
    let lo = s.bin(BinOp::Add, ch, sigma);
    let lo = s.bin(BinOp::Add, lo, w0);
    write_halves(s, f.Rd, &[lo, hi]);
    Ok(())
}

/// SHA512H2: `x = V[n]`, `y = V[m]`, `w = V[d]`, after Arm's pseudocode.
pub fn sha512h2<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SHA512H_QQV_cryptosha512_3::from_word(word);
    let x0 = s.v(f.Rn, 0);
    let (y0, y1) = (s.v(f.Rm, 0), s.v(f.Rm, 1));
    let (w0, w1) = (s.v(f.Rd, 0), s.v(f.Rd, 1));
    let sigma = ror3_64(s, y0, 28, 34, 39);
    let maj = |s: &mut S, a: S::V, b: S::V, c: S::V| {
        let ab = s.bin(BinOp::And, a, b);
        let ac = s.bin(BinOp::And, a, c);
        let bc = s.bin(BinOp::And, b, c);
        sha_parity(s, ab, ac, bc)
    };
    let m = maj(s, x0, y1, y0);
    let hi = s.bin(BinOp::Add, m, sigma);
    let hi = s.bin(BinOp::Add, hi, w1);
    let sigma = ror3_64(s, hi, 28, 34, 39);
    let m = maj(s, hi, y0, y1);
    let lo = s.bin(BinOp::Add, m, sigma);
    let lo = s.bin(BinOp::Add, lo, w0);
    write_halves(s, f.Rd, &[lo, hi]);
    Ok(())
}

/// SHA512SU0: `x = V[n]`, `w = V[d]`: each doubleword of `w` plus sigma0 of the next one.
pub fn sha512su0<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SHA512SU0_VV2_cryptosha512_2::from_word(word);
    let x0 = s.v(f.Rn, 0);
    let (w0, w1) = (s.v(f.Rd, 0), s.v(f.Rd, 1));
    let sig = ror2_lsr_64(s, w1, 1, 8, 7);
    let lo = s.bin(BinOp::Add, w0, sig);
    let sig = ror2_lsr_64(s, x0, 1, 8, 7);
    let hi = s.bin(BinOp::Add, w1, sig);
    write_halves(s, f.Rd, &[lo, hi]);
    Ok(())
}

/// SHA512SU1: `x = V[n]`, `y = V[m]`, `w = V[d]`: `w + sigma1(x) + y` per doubleword.
pub fn sha512su1<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SHA512H_QQV_cryptosha512_3::from_word(word);
    let (x0, x1) = (s.v(f.Rn, 0), s.v(f.Rn, 1));
    let (y0, y1) = (s.v(f.Rm, 0), s.v(f.Rm, 1));
    let (w0, w1) = (s.v(f.Rd, 0), s.v(f.Rd, 1));
    let sig = ror2_lsr_64(s, x1, 19, 61, 6);
    let hi = s.bin(BinOp::Add, w1, sig);
    let hi = s.bin(BinOp::Add, hi, y1);
    let sig = ror2_lsr_64(s, x0, 19, 61, 6);
    let lo = s.bin(BinOp::Add, w0, sig);
    let lo = s.bin(BinOp::Add, lo, y0);
    write_halves(s, f.Rd, &[lo, hi]);
    Ok(())
}

/// EOR3 (`Op0` 00): `Vn EOR Vm EOR Va`; BCAX (`Op0` 01): `Vn EOR (Vm AND NOT(Va))`.
pub fn eor3_bcax<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::EOR3_VVV16_crypto4::from_word(word);
    let mut out = Lanes::new();
    for h in 0..2 {
        let n = s.v(f.Rn, h);
        let m = s.v(f.Rm, h);
        let a = s.v(f.Ra, h);
        let r = if f.Op0 == 0 {
            let t = s.bin(BinOp::Xor, n, m);
            s.bin(BinOp::Xor, t, a)
        } else {
            let na = s.un(UnOp::Not, a);
            let t = s.bin(BinOp::And, m, na);
            s.bin(BinOp::Xor, n, t)
        };
        out.push(r);
    }
    write_halves(s, f.Rd, &out);
    Ok(())
}

/// RAX1: `Vn EOR (ROL(Vm<127:64>, 1) : ROL(Vm<63:0>, 1))`.
pub fn rax1<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::RAX1_VVV2_cryptosha512_3::from_word(word);
    let mut out = Lanes::new();
    for h in 0..2 {
        let n = s.v(f.Rn, h);
        let m = s.v(f.Rm, h);
        let sh = s.imm(63);
        let r = s.bin(BinOp::Ror, m, sh);
        out.push(s.bin(BinOp::Xor, n, r));
    }
    write_halves(s, f.Rd, &out);
    Ok(())
}

/// XAR: `ROR(Vn EOR Vm, imm6)` per doubleword.
pub fn xar<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::XAR_VVV2_crypto3_imm6::from_word(word);
    let mut out = Lanes::new();
    for h in 0..2 {
        let n = s.v(f.Rn, h);
        let m = s.v(f.Rm, h);
        let t = s.bin(BinOp::Xor, n, m);
        let sh = s.imm(u64::from(f.imm6));
        out.push(s.bin(BinOp::Ror, t, sh));
    }
    write_halves(s, f.Rd, &out);
    Ok(())
}

/// Multiplication in GF(2^8) modulo x^8 + x^7 + x^6 + x^5 + x^4 + x^2 + 1 (SM4's field).
const fn sm4_gf_mul(mut a: u16, mut b: u16) -> u16 {
    let mut r = 0;
    while b != 0 {
        if b & 1 != 0 {
            r ^= a;
        }
        a <<= 1;
        if a & 0x100 != 0 {
            a ^= 0x1f5;
        }
        b >>= 1;
    }
    r
}

/// SM4's affine map: the circulant matrix of 0xA7 (bit i of the result from the bits of
/// `x` under 0xA7 rotated left by i), then EOR 0xD3.
const fn sm4_affine(x: u8) -> u8 {
    let mut out = 0u8;
    let mut i = 0;
    while i < 8 {
        let row = 0xa7u8.rotate_left(i);
        out |= (((row & x).count_ones() & 1) as u8) << i;
        i += 1;
    }
    out ^ 0xd3
}

/// The SM4 S-box (GB/T 32907-2016), `Sbox()` of Arm's pseudocode: affine map, inverse in
/// SM4's field, affine map.
const SM4_SBOX: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut x = 0;
    while x < 256 {
        let a = sm4_affine(x as u8) as u16;
        let mut inv = 1u16;
        let mut i = 0;
        while i < 254 {
            inv = sm4_gf_mul(inv, a);
            i += 1;
        }
        if a == 0 {
            inv = 0;
        }
        t[x] = sm4_affine(inv as u8);
        x += 1;
    }
    t
};

/// `Sbox()` on each byte of the 32-bit `args[0]`.
fn sm4_sbox_helper(_: &mut Cpu, args: &[u64]) -> u64 {
    let b = (args[0] as u32).to_le_bytes().map(|x| SM4_SBOX[x as usize]);
    u64::from(u32::from_le_bytes(b))
}

/// SM3PARTW1 (`opcode` 00) and SM3PARTW2 (01), after Arm's pseudocode.
pub fn sm3partw<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SM3PARTW1_VVV4_cryptosha512_3::from_word(word);
    let d = words32(s, f.Rd);
    let n = words32(s, f.Rn);
    let m = words32(s, f.Rm);
    let p = |s: &mut S, x: S::V| {
        let a = rol32(s, x, 15);
        let b = rol32(s, x, 23);
        sha_parity(s, x, a, b)
    };
    let mut r = d;
    if f.opcode == 0 {
        for i in 0..3 {
            let dn = s.bin(BinOp::Xor, d[i], n[i]);
            let rm = rol32(s, m[i + 1], 15);
            r[i] = s.bin(BinOp::Xor, dn, rm);
        }
        for i in 0..4 {
            if i == 3 {
                let dn = s.bin(BinOp::Xor, d[3], n[3]);
                let r0 = rol32(s, r[0], 15);
                r[3] = s.bin(BinOp::Xor, dn, r0);
            }
            r[i] = p(s, r[i]);
        }
    } else {
        let mut tmp = n;
        for i in 0..4 {
            let rm = rol32(s, m[i], 7);
            tmp[i] = s.bin(BinOp::Xor, n[i], rm);
            r[i] = s.bin(BinOp::Xor, d[i], tmp[i]);
        }
        let t2 = rol32(s, tmp[0], 15);
        let t2 = p(s, t2);
        r[3] = s.bin(BinOp::Xor, r[3], t2);
    }
    set_words32(s, f.Rd, r);
    Ok(())
}

/// SM3SS1: `ROL(ROL(Vn<127:96>, 12) + Vm<127:96> + Va<127:96>, 7)` in the top word, zeros
/// elsewhere.
pub fn sm3ss1<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SM3SS1_VVV4_crypto4::from_word(word);
    let n = words32(s, f.Rn);
    let m = words32(s, f.Rm);
    let a = words32(s, f.Ra);
    let r = rol32(s, n[3], 12);
    let sum = add32(s, &[r, m[3], a[3]]);
    let top = rol32(s, sum, 7);
    let z = s.imm(0);
    set_words32(s, f.Rd, [z, z, z, top]);
    Ok(())
}

/// SM3TT1A, SM3TT1B, SM3TT2A, SM3TT2B (`opcode` 00 to 11) with `Wj = Elem[Vm, imm2, 32]`.
pub fn sm3tt<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SM3TT1A_VVV4_crypto3_imm2::from_word(word);
    let d = words32(s, f.Rd);
    let n = words32(s, f.Rn);
    let m = words32(s, f.Rm);
    let wj = m[f.imm2 as usize];
    let tt1 = f.opcode < 2;
    let boolean = match f.opcode {
        0 | 2 => sha_parity(s, d[1], d[3], d[2]),
        1 => {
            let a = s.bin(BinOp::And, d[3], d[1]);
            let b = s.bin(BinOp::And, d[3], d[2]);
            let c = s.bin(BinOp::And, d[1], d[2]);
            let ab = s.bin(BinOp::Or, a, b);
            s.bin(BinOp::Or, ab, c)
        }
        _ => sha_choose(s, d[3], d[2], d[1]),
    };
    let top = if tt1 {
        let r = rol32(s, d[3], 12);
        let ss2 = s.bin(BinOp::Xor, n[3], r);
        add32(s, &[boolean, d[0], ss2, wj])
    } else {
        let tt2 = add32(s, &[boolean, d[0], n[3], wj]);
        let a = rol32(s, tt2, 9);
        let b = rol32(s, tt2, 17);
        sha_parity(s, tt2, a, b)
    };
    let r1 = rol32(s, d[2], if tt1 { 9 } else { 19 });
    set_words32(s, f.Rd, [d[1], r1, d[3], top]);
    Ok(())
}

/// SM4E (`V[d]` rounds with the keys of `V[n]`) and SM4EKEY (`V[n]` rounds with the
/// constants of `V[m]`, into `V[d]`): four rounds of `Sbox` and the linear map.
pub fn sm4<S: Sem>(s: &mut S, word: u32) -> Result<(), Stop> {
    let f = fields::SM4EKEY_VVV4_cryptosha512_3::from_word(word);
    // SM4EKEY has a third register and bit 21 set; SM4E has bits 21:16 fixed to 000000.
    let key = (word >> 21) & 1 == 1;
    let (mut r, k) = if key {
        (words32(s, f.Rn), words32(s, f.Rm))
    } else {
        (words32(s, f.Rd), words32(s, f.Rn))
    };
    for &ki in &k {
        let t = sha_parity(s, r[3], r[2], r[1]);
        let t = s.bin(BinOp::Xor, t, ki);
        let t = s.call_pure(sm4_sbox_helper, &[t]);
        let t = if key {
            let a = rol32(s, t, 13);
            let b = rol32(s, t, 23);
            sha_parity(s, t, a, b)
        } else {
            let a = rol32(s, t, 2);
            let b = rol32(s, t, 10);
            let c = rol32(s, t, 18);
            let d = rol32(s, t, 24);
            let x = sha_parity(s, t, a, b);
            sha_parity(s, x, c, d)
        };
        let t = s.bin(BinOp::Xor, t, r[0]);
        r = [r[1], r[2], r[3], t];
    }
    set_words32(s, f.Rd, r);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FIPS-197 Appendix B, round 1: the state after AddRoundKey, after SubBytes and
    /// ShiftRows (the AESE step), after MixColumns (AESMC), and back (AESIMC, AESD).
    #[test]
    fn fips_197_round_one() {
        let hex = |s: &str| -> (u64, u64) {
            let b: Vec<u8> = (0..16)
                .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
                .collect();
            let v = u128::from_le_bytes(b.try_into().expect("16 bytes"));
            (v as u64, (v >> 64) as u64)
        };
        let mut cpu = Cpu::default();
        let start = hex("193de3bea0f4e22b9ac68d2ae9f84808");
        let after_shift_rows = hex("d4bf5d30e0b452aeb84111f11e2798e5");
        let after_mix_columns = hex("046681e5e0cb199a48f8d37a2806264c");
        let run = |cpu: &mut Cpu, (lo, hi): (u64, u64), op: u64| {
            (
                aes_helper(cpu, &[lo, hi, op, 0]),
                aes_helper(cpu, &[lo, hi, op, 1]),
            )
        };
        assert_eq!(run(&mut cpu, start, 0), after_shift_rows);
        assert_eq!(run(&mut cpu, after_shift_rows, 2), after_mix_columns);
        assert_eq!(run(&mut cpu, after_mix_columns, 3), after_shift_rows);
        assert_eq!(run(&mut cpu, after_shift_rows, 1), start);
    }
}
