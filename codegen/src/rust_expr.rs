//! Translates ASL expressions (decode guards, alias conditions) into Rust expressions.
//!
//! Bit strings become `u64` values whose width is tracked here, integers become `i64`.
//! Fields are read from local variables named after them (see [`crate::field_ident`]).

use armature_spec::asl::{BinOp, Expr, UnOp};
use armature_spec::bits::BitPat;

/// The static type of a translated expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Bits(u8),
    Int,
    Bool,
    Enum,
}

/// What the translation may read: fields, and calls the caller decides about.
pub trait Scope {
    /// The width of field `name`, if the encoding has it.
    fn field_width(&self, name: &str) -> Option<u8>;
    /// Rust code for a call the translator does not know (feature tests, Arm helpers).
    fn call(&self, name: &str, args: &[(String, Ty)]) -> Option<(String, Ty)>;
}

fn mask_of(width: u8) -> u64 {
    if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
}

/// Translates `e`, returning Rust code and its type.
pub fn translate(e: &Expr, scope: &dyn Scope) -> Result<(String, Ty), String> {
    Ok(match e {
        Expr::Ident(name) => match scope.field_width(name) {
            Some(w) => (crate::field_ident(name), Ty::Bits(w)),
            None if name.starts_with("Sys_") => {
                (format!("crate::isa::pseudo::SystemOp::{name}"), Ty::Enum)
            }
            None => return Err(format!("unknown name {name}")),
        },
        Expr::Bits(p) => {
            if p.mask != mask_of(p.width) {
                return Err(format!(
                    "pattern with don't-care digits outside a comparison: {p:?}"
                ));
            }
            (format!("{:#x}u64", p.value), Ty::Bits(p.width))
        }
        Expr::Int(i) => (format!("({i}i64)"), Ty::Int),
        Expr::Bool(b) => (b.to_string(), Ty::Bool),
        Expr::Slice(inner, hi, lo) => {
            let (code, ty) = translate(inner, scope)?;
            if !matches!(ty, Ty::Bits(w) if *hi < w && lo <= hi) {
                return Err(format!("bad slice <{hi}:{lo}> of {ty:?}"));
            }
            let w = hi - lo + 1;
            (
                format!("(({code} >> {lo}) & {:#x})", mask_of(w)),
                Ty::Bits(w),
            )
        }
        Expr::Concat(parts) => {
            let mut code = String::from("0u64");
            let mut width = 0u8;
            for p in parts {
                let (c, ty) = translate(p, scope)?;
                let Ty::Bits(w) = ty else {
                    return Err(format!("concatenation of {ty:?}"));
                };
                code = format!("(({code} << {w}) | {c})");
                width += w;
            }
            (code, Ty::Bits(width))
        }
        Expr::Call(name, args) => call(name, args, scope)?,
        Expr::Unary(UnOp::Not, inner) => {
            let (c, ty) = translate(inner, scope)?;
            if ty != Ty::Bool {
                return Err(format!("! of {ty:?}"));
            }
            (format!("!{c}"), Ty::Bool)
        }
        Expr::Unary(UnOp::Neg, inner) => {
            let (c, ty) = translate(inner, scope)?;
            if ty != Ty::Int {
                return Err(format!("- of {ty:?}"));
            }
            (format!("(-{c})"), Ty::Int)
        }
        Expr::In(inner, pats) => {
            let (c, ty) = translate(inner, scope)?;
            let Ty::Bits(w) = ty else {
                return Err(format!("IN on {ty:?}"));
            };
            let alts: Vec<String> = pats
                .iter()
                .map(|p| pattern_test(&c, w, p))
                .collect::<Result<_, _>>()?;
            (format!("({})", alts.join(" || ")), Ty::Bool)
        }
        Expr::Binary(op, a, b) => binary(*op, a, b, scope)?,
    })
}

/// `code == pattern`, honouring don't-care digits.
fn pattern_test(code: &str, width: u8, p: &BitPat) -> Result<String, String> {
    if p.width != width {
        return Err(format!(
            "comparing {width} bits with a {}-bit pattern",
            p.width
        ));
    }
    Ok(if p.mask == mask_of(width) {
        format!("({code} == {:#x})", p.value)
    } else {
        format!("(({code} & {:#x}) == {:#x})", p.mask, p.value)
    })
}

fn binary(op: BinOp, a: &Expr, b: &Expr, scope: &dyn Scope) -> Result<(String, Ty), String> {
    if matches!(op, BinOp::Eq | BinOp::Ne) {
        let test = match (a, b) {
            (x, Expr::Bits(p)) | (Expr::Bits(p), x) => {
                let (c, ty) = translate(x, scope)?;
                let Ty::Bits(w) = ty else {
                    return Err(format!("comparing {ty:?} with a bit pattern"));
                };
                pattern_test(&c, w, p)?
            }
            _ => {
                let (ca, ta) = translate(a, scope)?;
                let (cb, tb) = translate(b, scope)?;
                if ta != tb {
                    return Err(format!("comparing {ta:?} with {tb:?}"));
                }
                format!("({ca} == {cb})")
            }
        };
        return Ok(if op == BinOp::Eq {
            (test, Ty::Bool)
        } else {
            (format!("!{test}"), Ty::Bool)
        });
    }
    let (ca, ta) = translate(a, scope)?;
    let (cb, tb) = translate(b, scope)?;
    // ASL spells these operators as Rust does.
    let sym = op.symbol();
    Ok(match (op, ta, tb) {
        (BinOp::And | BinOp::Or, Ty::Bool, Ty::Bool) => (format!("({ca} {sym} {cb})"), Ty::Bool),
        (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge, Ty::Int, Ty::Int) => {
            (format!("({ca} {sym} {cb})"), Ty::Bool)
        }
        (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge, Ty::Bits(x), Ty::Bits(y)) if x == y => {
            (format!("({ca} {sym} {cb})"), Ty::Bool)
        }
        (BinOp::Add | BinOp::Sub | BinOp::Mul, Ty::Int, Ty::Int) => {
            (format!("({ca} {sym} {cb})"), Ty::Int)
        }
        (BinOp::Shl | BinOp::Shr, Ty::Int, Ty::Int) => (format!("({ca} {sym} {cb})"), Ty::Int),
        (BinOp::Add | BinOp::Sub, Ty::Bits(w), Ty::Int) => {
            let f = if op == BinOp::Add {
                "wrapping_add"
            } else {
                "wrapping_sub"
            };
            (
                format!("({ca}.{f}({cb} as u64) & {:#x})", mask_of(w)),
                Ty::Bits(w),
            )
        }
        (BinOp::Add | BinOp::Sub, Ty::Bits(x), Ty::Bits(y)) if x == y => {
            let f = if op == BinOp::Add {
                "wrapping_add"
            } else {
                "wrapping_sub"
            };
            (format!("({ca}.{f}({cb}) & {:#x})", mask_of(x)), Ty::Bits(x))
        }
        _ => return Err(format!("operator {op:?} on {ta:?} and {tb:?}")),
    })
}

fn call(name: &str, args: &[Expr], scope: &dyn Scope) -> Result<(String, Ty), String> {
    let args: Vec<(String, Ty)> = args
        .iter()
        .map(|a| translate(a, scope))
        .collect::<Result<_, _>>()?;
    let one_bits = || match args.as_slice() {
        [(c, Ty::Bits(w))] => Ok((c.clone(), *w)),
        _ => Err(format!("{name} takes one bit string")),
    };
    Ok(match name {
        "UInt" => (format!("({} as i64)", one_bits()?.0), Ty::Int),
        "SInt" => {
            let (c, w) = one_bits()?;
            (
                format!("((({c} << {s}) as i64) >> {s})", s = 64 - u32::from(w)),
                Ty::Int,
            )
        }
        "IsZero" => (format!("({} == 0)", one_bits()?.0), Ty::Bool),
        "IsOnes" => {
            let (c, w) = one_bits()?;
            (format!("({c} == {:#x})", mask_of(w)), Ty::Bool)
        }
        "BitCount" => (
            format!("(({}).count_ones() as i64)", one_bits()?.0),
            Ty::Int,
        ),
        _ => scope
            .call(name, &args)
            .ok_or_else(|| format!("unknown function {name}"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fields;
    impl Scope for Fields {
        fn field_width(&self, name: &str) -> Option<u8> {
            match name {
                "size" | "sh" => Some(2),
                "Q" => Some(1),
                "imms" | "immr" => Some(6),
                _ => None,
            }
        }
        fn call(&self, name: &str, _: &[(String, Ty)]) -> Option<(String, Ty)> {
            name.starts_with("Have")
                .then(|| (format!("f.has_{name}()"), Ty::Bool))
        }
    }

    fn check(src: &str, expect: &str) {
        let e = armature_spec::asl::parse_expr(src).expect("parses");
        let got = match translate(&e, &Fields) {
            Ok((code, ty)) => format!("{code} : {ty:?}"),
            Err(err) => format!("error: {err}"),
        };
        assert_eq!(got, expect, "for {src}");
    }

    #[test]
    fn translates() {
        check("size == '11'", "(size == 0x3) : Bool");
        check(
            "size:Q == '1x0'",
            "((((0u64 << 2) | size) << 1) | Q) & 0x5) == 0x4) : Bool"
                .replacen('(', "(((", 1)
                .as_str(),
        );
        check(
            "size IN {'0x', '11'}",
            "(((size & 0x2) == 0x0) || (size == 0x3)) : Bool",
        );
        check(
            "!HaveSVE() && size != '00'",
            "(!f.has_HaveSVE() && !(size == 0x0)) : Bool",
        );
        check(
            "UInt(imms) < UInt(immr)",
            "((imms as i64) < (immr as i64)) : Bool",
        );
        check(
            "imms + 1 == immr",
            "((imms.wrapping_add((1i64) as u64) & 0x3f) == immr) : Bool",
        );
        check("size<1> == '1'", "(((size >> 1) & 0x1) == 0x1) : Bool");
        check("nosuch == '1'", "error: unknown name nosuch");
        check(
            "size == '111'",
            "error: comparing 2 bits with a 3-bit pattern",
        );
    }
}
