//! Bit patterns and `encodedin` field references as written in Arm's A64 ISA XML.
//!
//! Both small languages are parsed with nom; every parser returns a `Result` with a
//! message naming the offending input instead of panicking.

use std::fmt;

use nom::{
    branch::alt,
    character::complete::{char, digit1, one_of, satisfy, space0},
    combinator::{all_consuming, cut, map, map_res, opt, recognize, verify},
    multi::{many0, many0_count, many1},
    sequence::{delimited, pair, preceded, separated_pair, terminated},
    IResult,
};

/// The widest bit pattern or value the crate handles, in bits.
pub const MAX_WIDTH: u8 = 64;

/// A bit pattern as written in the XML, most significant digit first: '0', '1', 'x' (don't care); spaces are ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct BitPat {
    /// The number of digits, from 1 to 64.
    pub width: u8,
    /// A bit is 1 where the digit is '0' or '1', and 0 where it is 'x'.
    pub mask: u64,
    /// The fixed digits; bits outside `mask` are always 0.
    pub value: u64,
}

impl BitPat {
    /// Tells whether `v` agrees with every fixed digit of the pattern.
    pub fn matches(&self, v: u64) -> bool {
        (v & self.mask) == self.value
    }

    /// Tells whether the pattern has no don't-care digit.
    pub fn is_exact(&self) -> bool {
        self.mask == ones(self.width)
    }
}

impl fmt::Display for BitPat {
    /// Writes the digits most significant first, without quotes or spaces.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for i in (0..u32::from(self.width)).rev() {
            let digit = if self.mask >> i & 1 == 0 {
                'x'
            } else if self.value >> i & 1 == 1 {
                '1'
            } else {
                '0'
            };
            write!(f, "{digit}")?;
        }
        Ok(())
    }
}

/// Returns a value with the low `width` bits set (all 64 when `width` is 64 or more).
pub(crate) fn ones(width: u8) -> u64 {
    if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
}

/// Parses a bit pattern such as "x11x", "11 01" or "0".
///
/// Spaces may appear anywhere. An empty pattern, a pattern of more than 64 digits and any
/// character other than '0', '1', 'x' or a space are errors.
pub fn parse_bitpat(s: &str) -> Result<BitPat, String> {
    let spaces = || many0_count(char(' '));
    let digits: PResult<'_, Vec<char>> = all_consuming(terminated(
        many1(preceded(spaces(), one_of("01x"))),
        spaces(),
    ))(s);
    let digits = match digits {
        Ok((_, digits)) => digits,
        Err(_) if s.trim().is_empty() => return Err(format!("empty bit pattern '{s}'")),
        Err(_) => {
            return Err(format!(
                "invalid bit pattern '{s}': only the digits 0, 1, x and spaces are allowed"
            ))
        }
    };
    if digits.len() > usize::from(MAX_WIDTH) {
        return Err(format!(
            "bit pattern '{s}' has {} digits, more than the limit of {MAX_WIDTH}",
            digits.len()
        ));
    }
    let mut pat = BitPat {
        width: 0,
        mask: 0,
        value: 0,
    };
    for digit in digits {
        pat.width += 1;
        pat.mask <<= 1;
        pat.value <<= 1;
        if digit != 'x' {
            pat.mask |= 1;
        }
        if digit == '1' {
            pat.value |= 1;
        }
    }
    Ok(pat)
}

/// One piece of an `encodedin` attribute or a field reference: a field name with an optional bit slice.
///
/// A piece made only of the digits 0 and 1 (as in "1:T:Zt") is a constant bit string; its
/// digits are kept in `name` and `is_literal` tells it apart from a field.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FieldRef {
    /// The field name, or the digits of a constant bit string.
    pub name: String,
    /// The most significant bit of the slice, if there is one.
    pub hi: Option<u8>,
    /// The least significant bit of the slice, if there is one.
    pub lo: Option<u8>,
}

impl FieldRef {
    /// Tells whether the piece is a constant bit string rather than a field name.
    pub fn is_literal(&self) -> bool {
        !self.name.is_empty() && self.name.bytes().all(|b| b == b'0' || b == b'1')
    }
}

/// The nom result type used by the parsers of this module.
type PResult<'a, T> = IResult<&'a str, T>;

/// Parses a bit index, which must fit in the 64-bit limit.
fn bit_index(i: &str) -> PResult<'_, u8> {
    verify(map_res(digit1, str::parse::<u8>), |n| *n < MAX_WIDTH)(i)
}

/// Parses a slice suffix `<hi>` or `<hi:lo>`, returning (hi, lo) with hi >= lo.
fn slice_suffix(i: &str) -> PResult<'_, (u8, u8)> {
    verify(
        delimited(
            pair(char('<'), space0),
            alt((
                separated_pair(bit_index, delimited(space0, char(':'), space0), bit_index),
                map(bit_index, |n| (n, n)),
            )),
            pair(space0, char('>')),
        ),
        |(hi, lo)| hi >= lo,
    )(i)
}

/// Parses a field name: a letter or underscore, then letters, digits and underscores.
fn field_name(i: &str) -> PResult<'_, &str> {
    recognize(pair(
        satisfy(|c| c.is_ascii_alphabetic() || c == '_'),
        many0_count(satisfy(|c| c.is_ascii_alphanumeric() || c == '_')),
    ))(i)
}

/// Parses one piece of an `encodedin` attribute.
fn field_ref(i: &str) -> PResult<'_, FieldRef> {
    alt((
        map(recognize(many1(one_of("01"))), |digits: &str| FieldRef {
            name: digits.to_string(),
            hi: None,
            lo: None,
        }),
        map(pair(field_name, opt(slice_suffix)), |(name, slice)| {
            FieldRef {
                name: name.to_string(),
                hi: slice.map(|(hi, _)| hi),
                lo: slice.map(|(_, lo)| lo),
            }
        }),
    ))(i)
}

/// Parses an `encodedin` attribute such as "Rd", "imm5:Q", "size<0>:Q", "i3h:i3l", "b5:b40", "opc<1>" (concatenation, MSB part first).
///
/// The attribute must already be unescaped ("size<0>", not "size&lt;0&gt;"). Spaces around
/// pieces are allowed. An empty or all-space attribute names no field and gives `Ok(vec![])`.
pub fn parse_encodedin(s: &str) -> Result<Vec<FieldRef>, String> {
    if s.trim().is_empty() {
        return Ok(Vec::new());
    }
    let piece = || delimited(space0, field_ref, space0);
    let pieces = pair(piece(), many0(preceded(char(':'), cut(piece()))));
    match all_consuming(pieces)(s) {
        Ok((_, (first, more))) => {
            let mut refs = vec![first];
            refs.extend(more);
            Ok(refs)
        }
        Err(e) => {
            let rest = match &e {
                nom::Err::Error(e) | nom::Err::Failure(e) => e.input,
                nom::Err::Incomplete(_) => "",
            };
            let at = s.len() - rest.len();
            Err(format!(
                "invalid encodedin '{s}' at byte {at}: expected a field name, an optional \
                 slice <hi> or <hi:lo> with hi >= lo, or 0/1 digits, separated by ':'"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expected outcome of parsing a bit pattern: (width, mask, value) or a message part.
    type Outcome = Result<(u8, u64, u64), &'static str>;

    /// Checks `parse_bitpat` against (input, Ok((width, mask, value)) or Err(message part)).
    fn check_bitpat(cases: &[(&str, Outcome)]) {
        for (input, want) in cases {
            let got = parse_bitpat(input);
            match (want, &got) {
                (Ok((width, mask, value)), Ok(pat)) => assert_eq!(
                    (pat.width, pat.mask, pat.value),
                    (*width, *mask, *value),
                    "input {input:?}"
                ),
                (Err(part), Err(msg)) => {
                    assert!(msg.contains(part), "input {input:?}: message {msg:?}")
                }
                _ => panic!("input {input:?}: wanted {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn bitpat() {
        check_bitpat(&[
            ("0", Ok((1, 1, 0))),
            ("1", Ok((1, 1, 1))),
            ("x", Ok((1, 0, 0))),
            ("x11x", Ok((4, 0b0110, 0b0110))),
            ("11 01", Ok((4, 0b1111, 0b1101))),
            (" 1 0 ", Ok((2, 0b11, 0b10))),
            ("0x1", Ok((3, 0b101, 0b001))),
            (&"1".repeat(64), Ok((64, u64::MAX, u64::MAX))),
            (&"x".repeat(64), Ok((64, 0, 0))),
            (&"0".repeat(65), Err("more than the limit of 64")),
            ("", Err("empty")),
            ("   ", Err("empty")),
            ("12", Err("only the digits 0, 1, x")),
            ("1X", Err("only the digits 0, 1, x")),
            ("'01'", Err("only the digits 0, 1, x")),
            ("(0)", Err("only the digits 0, 1, x")),
            ("0\t1", Err("only the digits 0, 1, x")),
        ]);
    }

    #[test]
    fn bitpat_matches_and_display() {
        let pat = parse_bitpat("1x0").unwrap();
        let cases = [(0b100, true), (0b110, true), (0b101, false), (0b000, false)];
        for (v, want) in cases {
            assert_eq!(pat.matches(v), want, "value {v:#b}");
        }
        assert_eq!(pat.to_string(), "1x0");
        assert!(!pat.is_exact());
        assert!(parse_bitpat("10 1").unwrap().is_exact());
        assert!(parse_bitpat(&"0".repeat(64)).unwrap().is_exact());
    }

    /// Renders field references back as "name<hi:lo>" pieces joined by ':'.
    fn render(refs: &[FieldRef]) -> String {
        let pieces: Vec<String> = refs
            .iter()
            .map(|r| match (r.hi, r.lo) {
                (Some(hi), Some(lo)) if hi == lo => format!("{}<{hi}>", r.name),
                (Some(hi), Some(lo)) => format!("{}<{hi}:{lo}>", r.name),
                _ => r.name.clone(),
            })
            .collect();
        pieces.join(":")
    }

    /// Checks `parse_encodedin` against (input, Ok(rendering) or Err(message part)).
    fn check_encodedin(cases: &[(&str, Result<&str, &str>)]) {
        for (input, want) in cases {
            let got = parse_encodedin(input);
            match (want, &got) {
                (Ok(rendering), Ok(refs)) => {
                    assert_eq!(render(refs), *rendering, "input {input:?}")
                }
                (Err(part), Err(msg)) => {
                    assert!(msg.contains(part), "input {input:?}: message {msg:?}")
                }
                _ => panic!("input {input:?}: wanted {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn encodedin() {
        check_encodedin(&[
            ("Rd", Ok("Rd")),
            ("imm5:Q", Ok("imm5:Q")),
            ("size<0>:Q", Ok("size<0>:Q")),
            ("i3h:i3l", Ok("i3h:i3l")),
            ("b5:b40", Ok("b5:b40")),
            ("opc<1>", Ok("opc<1>")),
            ("cmode<2:1>", Ok("cmode<2:1>")),
            ("imm13<12>:imm13<5:0>", Ok("imm13<12>:imm13<5:0>")),
            ("op1:CRm<0>:op2", Ok("op1:CRm<0>:op2")),
            ("11:T:Zt", Ok("11:T:Zt")),
            ("0:D:Zd", Ok("0:D:Zd")),
            (" sz : Q ", Ok("sz:Q")),
            (
                "CRm:Encoding:Hints:Index:by:op2",
                Ok("CRm:Encoding:Hints:Index:by:op2"),
            ),
            ("", Ok("")),
            ("  ", Ok("")),
            ("Rd:", Err("at byte 3")),
            (":Rd", Err("at byte 0")),
            ("opc<1", Err("invalid encodedin")),
            ("opc<1:2>", Err("hi >= lo")),
            ("opc<64>", Err("invalid encodedin")),
            ("opc<999>", Err("invalid encodedin")),
            ("12", Err("invalid encodedin")),
            ("size&lt;0&gt;", Err("invalid encodedin")),
            ("a b", Err("invalid encodedin")),
        ]);
    }

    #[test]
    fn encodedin_fields() {
        let refs = parse_encodedin("1:size<2:1>:Q").unwrap();
        let want = [
            ("1", None, None, true),
            ("size", Some(2), Some(1), false),
            ("Q", None, None, false),
        ];
        assert_eq!(refs.len(), want.len());
        for (r, (name, hi, lo, literal)) in refs.iter().zip(want) {
            assert_eq!(
                (r.name.as_str(), r.hi, r.lo, r.is_literal()),
                (name, hi, lo, literal)
            );
        }
    }
}
