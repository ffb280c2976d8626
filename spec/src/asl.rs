//! Expressions of Arm's ASL as used in decode guards and alias conditions.
//!
//! The parser is built from nom combinators and never panics: every failure is a `String`
//! naming the byte offset and what was expected there. The evaluator works on [`Value`]s and
//! asks an [`Env`] for fields, constants and the functions it does not implement itself.

use std::fmt;

use nom::{
    branch::alt,
    bytes::complete::{tag, tag_no_case, take_till},
    character::complete::{anychar, char, digit1, hex_digit1, multispace0, multispace1, satisfy},
    combinator::{all_consuming, cut, eof, map, map_res, not, opt, peek, recognize, rest, value},
    error::{ContextError, ErrorKind, FromExternalError, ParseError},
    multi::{many0, many0_count, many_till, separated_list1},
    sequence::{delimited, pair, preceded, terminated, tuple},
    IResult,
};

use crate::bits::{ones, parse_bitpat, BitPat, MAX_WIDTH};

/// An ASL expression.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub enum Expr {
    /// A field name, or a constant such as `Sys_AT`, or a dotted name such as `PSTATE.EL`.
    Ident(String),
    /// A bit literal such as `'0x1'`; don't-care digits only make sense in comparisons.
    Bits(BitPat),
    /// An integer literal, decimal or `0x` hexadecimal.
    Int(i64),
    /// `TRUE` or `FALSE`.
    Bool(bool),
    /// A bit slice `e<hi:lo>`; `e<n>` is `e<n:n>`.
    Slice(Box<Expr>, u8, u8),
    /// A concatenation `a:b:c`, most significant part first.
    Concat(Vec<Expr>),
    /// A function call such as `UInt(imms)` or `HaveSVE()`.
    Call(String, Vec<Expr>),
    /// A prefix operator.
    Unary(UnOp, Box<Expr>),
    /// An infix operator.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// A set membership test `e IN {'0x', '11'}`.
    In(Box<Expr>, Vec<BitPat>),
}

/// A prefix operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum UnOp {
    /// Boolean negation `!`.
    Not,
    /// Integer negation `-`.
    Neg,
}

/// An infix operator; `And` and `Or` are the short-circuit `&&` and `||`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum BinOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Shl,
    Shr,
    And,
    Or,
}

impl BinOp {
    /// The ASL spelling of the operator.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
            BinOp::And => "&&",
            BinOp::Or => "||",
        }
    }

    /// The binding strength of the operator; a higher number binds tighter.
    fn precedence(self) -> u8 {
        match self {
            BinOp::Or => PREC_OR,
            BinOp::And => PREC_AND,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => PREC_CMP,
            BinOp::Shl | BinOp::Shr => PREC_SHIFT,
            BinOp::Add | BinOp::Sub => PREC_ADD,
            BinOp::Mul => PREC_MUL,
        }
    }
}

impl UnOp {
    /// The ASL spelling of the operator.
    pub fn symbol(self) -> &'static str {
        match self {
            UnOp::Not => "!",
            UnOp::Neg => "-",
        }
    }
}

// Binding strengths, loosest first; they drive both the parser and `Display`.
const PREC_OR: u8 = 0;
const PREC_AND: u8 = 1;
const PREC_CMP: u8 = 2;
const PREC_SHIFT: u8 = 3;
const PREC_ADD: u8 = 4;
const PREC_MUL: u8 = 5;
const PREC_CONCAT: u8 = 6;
const PREC_UNARY: u8 = 7;
const PREC_ATOM: u8 = 8;

/// The longest expression text the parser accepts, in bytes.
pub const MAX_EXPR_LEN: usize = 4096;

/// How deeply parentheses, calls and prefix operators may nest in parsed text.
const MAX_NESTING: usize = 32;

/// How deep an expression tree may be, for parsing and evaluation alike.
pub const MAX_DEPTH: usize = 256;

impl Expr {
    /// Every identifier the expression reads (fields and constants), in order of first use, without repeats.
    pub fn idents(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Ident(name) = e {
                if !out.contains(&name.as_str()) {
                    out.push(name.as_str());
                }
            }
        });
        out
    }

    /// Every function the expression calls, in order of first use, without repeats.
    pub fn calls(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Call(name, _) = e {
                if !out.contains(&name.as_str()) {
                    out.push(name.as_str());
                }
            }
        });
        out
    }

    /// Visits every node, parents before children, left to right.
    fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            f(e);
            match e {
                Expr::Ident(_) | Expr::Bits(_) | Expr::Int(_) | Expr::Bool(_) => {}
                Expr::Slice(inner, _, _) | Expr::Unary(_, inner) | Expr::In(inner, _) => {
                    stack.push(inner)
                }
                Expr::Concat(parts) | Expr::Call(_, parts) => stack.extend(parts.iter().rev()),
                Expr::Binary(_, a, b) => {
                    stack.push(b);
                    stack.push(a);
                }
            }
        }
    }

    /// The depth of the tree, counted without recursion.
    fn depth(&self) -> usize {
        let mut deepest = 0;
        let mut stack = vec![(self, 1)];
        while let Some((e, d)) = stack.pop() {
            deepest = deepest.max(d);
            match e {
                Expr::Ident(_) | Expr::Bits(_) | Expr::Int(_) | Expr::Bool(_) => {}
                Expr::Slice(inner, _, _) | Expr::Unary(_, inner) | Expr::In(inner, _) => {
                    stack.push((inner, d + 1))
                }
                Expr::Concat(parts) | Expr::Call(_, parts) => {
                    stack.extend(parts.iter().map(|p| (p, d + 1)))
                }
                Expr::Binary(_, a, b) => {
                    stack.push((a, d + 1));
                    stack.push((b, d + 1));
                }
            }
        }
        deepest
    }

    /// The binding strength of the expression's outermost construct.
    fn precedence(&self) -> u8 {
        match self {
            Expr::Ident(_)
            | Expr::Bits(_)
            | Expr::Int(_)
            | Expr::Bool(_)
            | Expr::Slice(..)
            | Expr::Call(..) => PREC_ATOM,
            Expr::Unary(..) => PREC_UNARY,
            Expr::Concat(_) => PREC_CONCAT,
            Expr::Binary(op, _, _) => op.precedence(),
            Expr::In(..) => PREC_CMP,
        }
    }
}

/// Writes `e`, in parentheses when it binds looser than `min`.
fn write_operand(f: &mut fmt::Formatter<'_>, e: &Expr, min: u8) -> fmt::Result {
    if e.precedence() < min {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

impl fmt::Display for Expr {
    /// Writes the expression as ASL, with only the parentheses its structure needs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Ident(name) => write!(f, "{name}"),
            Expr::Bits(pat) => write!(f, "'{pat}'"),
            Expr::Int(n) => write!(f, "{n}"),
            Expr::Bool(true) => write!(f, "TRUE"),
            Expr::Bool(false) => write!(f, "FALSE"),
            Expr::Slice(inner, hi, lo) => {
                write_operand(f, inner, PREC_ATOM)?;
                if hi == lo {
                    write!(f, "<{hi}>")
                } else {
                    write!(f, "<{hi}:{lo}>")
                }
            }
            Expr::Concat(parts) => {
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        write!(f, ":")?;
                    }
                    write_operand(f, part, PREC_UNARY)?;
                }
                Ok(())
            }
            Expr::Call(name, args) => {
                write!(f, "{name}(")?;
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{arg}")?;
                }
                write!(f, ")")
            }
            Expr::Unary(op, inner) => {
                write!(f, "{}", op.symbol())?;
                write_operand(f, inner, PREC_UNARY)
            }
            Expr::Binary(op, a, b) => {
                let p = op.precedence();
                // Comparisons do not chain, so both of their operands must bind tighter.
                let left_min = if p == PREC_CMP { p + 1 } else { p };
                write_operand(f, a, left_min)?;
                write!(f, " {} ", op.symbol())?;
                write_operand(f, b, p + 1)
            }
            Expr::In(inner, pats) => {
                write_operand(f, inner, PREC_CMP + 1)?;
                write!(f, " IN {{")?;
                for (i, pat) in pats.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "'{pat}'")?;
                }
                write!(f, "}}")
            }
        }
    }
}

/// A parse error: where it happened and, when known, what went wrong there.
#[derive(Debug)]
struct SyntaxError<'a> {
    at: &'a str,
    msg: Option<String>,
}

impl<'a> SyntaxError<'a> {
    /// An unrecoverable error with a message.
    fn failure(at: &'a str, msg: String) -> nom::Err<Self> {
        nom::Err::Failure(SyntaxError { at, msg: Some(msg) })
    }
}

impl<'a> ParseError<&'a str> for SyntaxError<'a> {
    fn from_error_kind(at: &'a str, _kind: ErrorKind) -> Self {
        SyntaxError { at, msg: None }
    }

    fn append(_input: &'a str, _kind: ErrorKind, other: Self) -> Self {
        other
    }

    /// Keeps the alternative that got further, which usually explains the problem best.
    fn or(self, other: Self) -> Self {
        let other_is_better = other.at.len() < self.at.len()
            || (other.at.len() == self.at.len() && self.msg.is_none() && other.msg.is_some());
        if other_is_better {
            other
        } else {
            self
        }
    }
}

impl<'a> ContextError<&'a str> for SyntaxError<'a> {
    fn add_context(_input: &'a str, ctx: &'static str, mut other: Self) -> Self {
        if other.msg.is_none() {
            other.msg = Some(format!("expected {ctx}"));
        }
        other
    }
}

impl<'a, E: fmt::Display> FromExternalError<&'a str, E> for SyntaxError<'a> {
    fn from_external_error(at: &'a str, _kind: ErrorKind, e: E) -> Self {
        SyntaxError {
            at,
            msg: Some(e.to_string()),
        }
    }
}

/// The nom result type of the expression parsers.
type PResult<'a, T> = IResult<&'a str, T, SyntaxError<'a>>;

/// Labels errors of `parser` with what it expected, unless they already say more.
fn expecting<'a, O>(
    what: &'static str,
    parser: impl FnMut(&'a str) -> PResult<'a, O>,
) -> impl FnMut(&'a str) -> PResult<'a, O> {
    nom::error::context(what, parser)
}

/// Parses `parser` after optional whitespace.
fn token<'a, O>(
    parser: impl FnMut(&'a str) -> PResult<'a, O>,
) -> impl FnMut(&'a str) -> PResult<'a, O> {
    preceded(multispace0, parser)
}

/// Fails with a clear message when nesting goes beyond the limit.
fn check_nesting(i: &str, depth: usize) -> Result<(), nom::Err<SyntaxError<'_>>> {
    if depth > MAX_NESTING {
        Err(SyntaxError::failure(
            i,
            format!("expression nested more than {MAX_NESTING} levels deep"),
        ))
    } else {
        Ok(())
    }
}

/// Tells whether `c` may continue an identifier.
fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

/// Words that cannot be identifiers.
const RESERVED: &[&str] = &[
    "IN",
    "if",
    "then",
    "else",
    "case",
    "of",
    "when",
    "otherwise",
    "DIV",
    "MOD",
    "AND",
    "OR",
    "EOR",
];

/// Parses an identifier `[A-Za-z_][A-Za-z0-9_.]*` that is not a reserved word.
fn identifier(i: &str) -> PResult<'_, &str> {
    let (rest, name) = recognize(pair(
        satisfy(|c| c.is_ascii_alphabetic() || c == '_'),
        many0_count(satisfy(is_ident_char)),
    ))(i)?;
    if RESERVED.contains(&name) {
        return Err(nom::Err::Error(SyntaxError {
            at: i,
            msg: Some(format!("'{name}' is a reserved word, not an operand")),
        }));
    }
    Ok((rest, name))
}

/// Parses a quoted bit literal such as `'0x1'` or `'11 01'`.
fn bit_literal(i: &str) -> PResult<'_, BitPat> {
    preceded(
        char('\''),
        cut(terminated(
            map_res(take_till(|c| c == '\''), parse_bitpat),
            expecting("a closing quote", char('\'')),
        )),
    )(i)
}

/// Parses a decimal or `0x` hexadecimal integer literal.
fn int_literal(i: &str) -> PResult<'_, i64> {
    alt((
        preceded(
            tag_no_case("0x"),
            cut(expecting(
                "hexadecimal digits",
                map_res(hex_digit1, |d: &str| {
                    i64::from_str_radix(d, 16)
                        .map_err(|_| format!("integer literal 0x{d} is out of range"))
                }),
            )),
        ),
        decimal,
    ))(i)
}

/// Parses a decimal integer literal; digits that do not fit are an unrecoverable error.
fn decimal(i: &str) -> PResult<'_, i64> {
    let (rest, digits) = digit1(i)?;
    match digits.parse::<i64>() {
        Ok(n) => Ok((rest, n)),
        Err(_) => Err(SyntaxError::failure(
            i,
            format!("integer literal {digits} is out of range"),
        )),
    }
}

/// Parses the arguments of a call after its opening parenthesis, and the closing one.
fn call_args(i: &str, depth: usize) -> PResult<'_, Vec<Expr>> {
    check_nesting(i, depth)?;
    let arg = move |i| or_expr(i, depth + 1);
    let (i, first) = opt(arg)(i)?;
    let (i, args) = match first {
        None => (i, Vec::new()),
        Some(first) => {
            let (i, more) = many0(preceded(token(char(',')), cut(arg)))(i)?;
            let mut args = vec![first];
            args.extend(more);
            (i, args)
        }
    };
    let (i, _) = cut(token(expecting(
        "',' or ')' in the argument list",
        char(')'),
    )))(i)?;
    Ok((i, args))
}

/// Parses an identifier, a call, `TRUE` or `FALSE`.
fn name_or_call(i: &str, depth: usize) -> PResult<'_, Expr> {
    let (i, name) = identifier(i)?;
    let (i, open) = opt(token(char('(')))(i)?;
    if open.is_some() {
        let (i, args) = call_args(i, depth)?;
        return Ok((i, Expr::Call(name.to_string(), args)));
    }
    let e = match name {
        "TRUE" => Expr::Bool(true),
        "FALSE" => Expr::Bool(false),
        _ => Expr::Ident(name.to_string()),
    };
    Ok((i, e))
}

/// Parses a parenthesised expression after its opening parenthesis, and the closing one.
fn paren_rest(i: &str, depth: usize) -> PResult<'_, Expr> {
    check_nesting(i, depth)?;
    cut(terminated(
        |i| or_expr(i, depth + 1),
        token(expecting("')'", char(')'))),
    ))(i)
}

/// Parses an operand: a literal, a name, a call or a parenthesised expression.
fn primary(i: &str, depth: usize) -> PResult<'_, Expr> {
    token(expecting(
        "an operand",
        alt((
            preceded(char('('), |i| paren_rest(i, depth)),
            map(bit_literal, Expr::Bits),
            map(int_literal, Expr::Int),
            |i| name_or_call(i, depth),
        )),
    ))(i)
}

/// Parses a slice suffix `<hi>` or `<hi:lo>` written right after its operand.
fn slice_suffix(i: &str) -> PResult<'_, (u8, u8)> {
    let index = || token(map_res(digit1, |d: &str| d.parse::<u8>()));
    let (rest, (hi, lo)) = delimited(
        char('<'),
        pair(index(), opt(preceded(token(char(':')), index()))),
        token(char('>')),
    )(i)?;
    let lo = lo.unwrap_or(hi);
    if hi < lo {
        return Err(SyntaxError::failure(
            i,
            format!("slice <{hi}:{lo}> has its high bit below its low bit"),
        ));
    }
    Ok((rest, (hi, lo)))
}

/// Parses an operand followed by any number of slices.
fn postfix(i: &str, depth: usize) -> PResult<'_, Expr> {
    let (i, base) = primary(i, depth)?;
    let (i, slices) = many0(slice_suffix)(i)?;
    let e = slices
        .into_iter()
        .fold(base, |e, (hi, lo)| Expr::Slice(Box::new(e), hi, lo));
    Ok((i, e))
}

/// Parses prefix operators `!` and `-` applied to a postfix expression.
fn unary(i: &str, depth: usize) -> PResult<'_, Expr> {
    check_nesting(i, depth)?;
    let op = token(alt((
        value(UnOp::Not, terminated(char('!'), not(char('=')))),
        value(UnOp::Neg, char('-')),
    )));
    let operand = |i| unary(i, depth + 1);
    alt((
        map(pair(op, cut(operand)), |(op, e)| {
            Expr::Unary(op, Box::new(e))
        }),
        |i| postfix(i, depth),
    ))(i)
}

/// Parses a concatenation `a:b:c`.
fn concat(i: &str, depth: usize) -> PResult<'_, Expr> {
    let (i, first) = unary(i, depth)?;
    let (i, more) = many0(preceded(token(char(':')), cut(|i| unary(i, depth))))(i)?;
    if more.is_empty() {
        return Ok((i, first));
    }
    let mut parts = vec![first];
    parts.extend(more);
    Ok((i, Expr::Concat(parts)))
}

/// Parses a left-associative chain of `next` operands joined by the operators `op` accepts.
fn left_assoc<'a>(
    i: &'a str,
    depth: usize,
    op: impl FnMut(&'a str) -> PResult<'a, BinOp>,
    next: fn(&'a str, usize) -> PResult<'a, Expr>,
) -> PResult<'a, Expr> {
    let (i, first) = next(i, depth)?;
    let (i, more) = many0(pair(token(op), cut(|i| next(i, depth))))(i)?;
    let e = more.into_iter().fold(first, |a, (op, b)| {
        Expr::Binary(op, Box::new(a), Box::new(b))
    });
    Ok((i, e))
}

/// Parses `*` chains.
fn mul_expr(i: &str, depth: usize) -> PResult<'_, Expr> {
    left_assoc(i, depth, value(BinOp::Mul, char('*')), concat)
}

/// Parses `+` and `-` chains.
fn add_expr(i: &str, depth: usize) -> PResult<'_, Expr> {
    let op = alt((value(BinOp::Add, char('+')), value(BinOp::Sub, char('-'))));
    left_assoc(i, depth, op, mul_expr)
}

/// Parses `<<` and `>>` chains.
fn shift_expr(i: &str, depth: usize) -> PResult<'_, Expr> {
    let op = alt((value(BinOp::Shl, tag("<<")), value(BinOp::Shr, tag(">>"))));
    left_assoc(i, depth, op, add_expr)
}

/// Parses `IN {'pat', ...}` after the tested operand.
fn in_set(i: &str) -> PResult<'_, Vec<BitPat>> {
    preceded(
        terminated(tag("IN"), not(satisfy(is_ident_char))),
        cut(delimited(
            token(expecting("'{' after IN", char('{'))),
            separated_list1(
                token(char(',')),
                token(expecting("a bit literal in the IN set", bit_literal)),
            ),
            token(expecting("',' or '}' in the IN set", char('}'))),
        )),
    )(i)
}

/// Parses one comparison or `IN` test; comparisons do not chain.
fn cmp_expr(i: &str, depth: usize) -> PResult<'_, Expr> {
    let (i, a) = shift_expr(i, depth)?;
    let op = alt((
        value(BinOp::Eq, tag("==")),
        value(BinOp::Ne, tag("!=")),
        value(BinOp::Le, tag("<=")),
        value(BinOp::Ge, tag(">=")),
        value(BinOp::Lt, char('<')),
        value(BinOp::Gt, char('>')),
    ));
    enum Tail {
        Cmp(BinOp, Expr),
        In(Vec<BitPat>),
    }
    let (i, tail) = opt(token(alt((
        map(pair(op, cut(|i| shift_expr(i, depth))), |(op, b)| {
            Tail::Cmp(op, b)
        }),
        map(in_set, Tail::In),
    ))))(i)?;
    let e = match tail {
        None => a,
        Some(Tail::Cmp(op, b)) => Expr::Binary(op, Box::new(a), Box::new(b)),
        Some(Tail::In(pats)) => Expr::In(Box::new(a), pats),
    };
    Ok((i, e))
}

/// Parses `&&` chains.
fn and_expr(i: &str, depth: usize) -> PResult<'_, Expr> {
    left_assoc(i, depth, value(BinOp::And, tag("&&")), cmp_expr)
}

/// Parses `||` chains, the loosest level.
fn or_expr(i: &str, depth: usize) -> PResult<'_, Expr> {
    left_assoc(i, depth, value(BinOp::Or, tag("||")), and_expr)
}

/// Describes the text at `at` for an error message.
fn near(at: &str) -> String {
    if at.trim().is_empty() {
        "the end of the input".to_string()
    } else {
        let snippet: String = at.trim_start().chars().take(24).collect();
        format!("'{snippet}'")
    }
}

/// Parses a whole ASL expression; trailing whitespace is allowed, anything else is an error.
///
/// Texts longer than [`MAX_EXPR_LEN`] bytes, or nesting deeper than the parser's limits, are
/// rejected with an error rather than risking the stack.
pub fn parse_expr(s: &str) -> Result<Expr, String> {
    if s.len() > MAX_EXPR_LEN {
        return Err(format!(
            "expression of {} bytes is longer than the limit of {MAX_EXPR_LEN}",
            s.len()
        ));
    }
    let parsed = all_consuming(terminated(|i| or_expr(i, 0), multispace0))(s);
    let e = match parsed {
        Ok((_, e)) => e,
        Err(nom::Err::Error(err) | nom::Err::Failure(err)) => {
            let at = s.len() - err.at.len();
            let what = match err.msg {
                Some(msg) => msg,
                None if at > 0 && !err.at.trim().is_empty() => "unexpected input".to_string(),
                None => "expected an expression".to_string(),
            };
            return Err(format!(
                "invalid expression '{s}' at byte {at}, near {}: {what}",
                near(err.at)
            ));
        }
        Err(nom::Err::Incomplete(_)) => {
            return Err(format!("invalid expression '{s}': incomplete input"))
        }
    };
    if e.depth() > MAX_DEPTH {
        return Err(format!(
            "expression '{s}' is nested more than {MAX_DEPTH} levels deep"
        ));
    }
    Ok(e)
}

/// Parses the end of an `if COND then UNDEFINED;` line, after the condition.
fn guard_tail(i: &str) -> IResult<&str, ()> {
    value(
        (),
        tuple((
            multispace1,
            tag("then"),
            multispace1,
            tag("UNDEFINED"),
            multispace0,
            char(';'),
            multispace0,
            opt(preceded(tag("//"), rest)),
            eof,
        )),
    )(i)
}

/// For one line of decode pseudocode: Some(parsed condition) when the line is `if COND then UNDEFINED;` (any spacing, an optional trailing `// comment`), None for any other line.
///
/// Byte offsets in an error message count from the start of the condition text.
pub fn parse_undefined_guard(line: &str) -> Option<Result<Expr, String>> {
    let mut shape = preceded(
        tuple((multispace0, tag("if"), peek(alt((multispace1, tag("(")))))),
        terminated(recognize(many_till(anychar, peek(guard_tail))), guard_tail),
    );
    let (_, cond) = shape(line).ok()?;
    Some(parse_expr(cond))
}

/// A value computed by [`eval`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A bit string of `width` bits (at most 64); bits above the width are zero.
    Bits { width: u8, value: u64 },
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// An enumeration constant such as `Sys_AT` or `EL0`.
    Enum(String),
}

impl Value {
    /// Describes the value's type for error messages.
    fn type_name(&self) -> String {
        match self {
            Value::Bits { width, .. } => format!("bits({width})"),
            Value::Int(_) => "integer".to_string(),
            Value::Bool(_) => "boolean".to_string(),
            Value::Enum(name) => format!("enumeration constant {name}"),
        }
    }
}

/// What an expression can read while it is evaluated.
pub trait Env {
    /// A field of the encoding (as `Value::Bits`) or a named constant (often `Value::Enum`).
    fn field(&self, name: &str) -> Option<Value>;
    /// A function that is not built into [`eval`]; `None` means the function is unknown.
    fn call(&self, name: &str, args: &[Value]) -> Option<Value>;
}

/// Why an expression could not be evaluated; each variant names the culprit.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EvalError {
    /// The environment has no field or constant of this name.
    #[error("unknown identifier `{0}`")]
    UnknownIdent(String),
    /// The function is neither built in nor known to the environment.
    #[error("unknown function `{0}`")]
    UnknownFunction(String),
    /// An operand has the wrong type for the construct in `context`.
    #[error("type mismatch in `{context}`: expected {expected}, found {found}")]
    TypeMismatch {
        context: String,
        expected: String,
        found: String,
    },
    /// Two bit strings of different widths meet in `context`.
    #[error("width mismatch in `{context}`: {left} bits against {right} bits")]
    WidthMismatch {
        context: String,
        left: u8,
        right: u8,
    },
    /// The operation in `context` cannot be done for the stated reason.
    #[error("cannot evaluate `{context}`: {reason}")]
    Invalid { context: String, reason: String },
    /// The expression tree is deeper than [`MAX_DEPTH`].
    #[error("expression nested more than {0} levels deep")]
    TooDeep(usize),
}

/// Builds a type mismatch error for expression `e`.
fn mismatch(e: &Expr, expected: &str, found: String) -> EvalError {
    EvalError::TypeMismatch {
        context: e.to_string(),
        expected: expected.to_string(),
        found,
    }
}

/// Builds an invalid-operation error for expression `e`.
fn invalid(e: &Expr, reason: impl Into<String>) -> EvalError {
    EvalError::Invalid {
        context: e.to_string(),
        reason: reason.into(),
    }
}

/// Evaluates `e`, reading fields and calling functions through `env`.
///
/// The built-ins UInt, SInt, IsZero, IsOnes, BitCount, Zeros(n) and Ones(n) are implemented
/// here; every other call goes to [`Env::call`]. Bit strings compared, ordered, added or
/// subtracted must have equal widths; a bit literal with don't-care digits may only appear as
/// an operand of `==` or `!=`.
pub fn eval(e: &Expr, env: &dyn Env) -> Result<Value, EvalError> {
    Evaluator { env }.eval(e, 0)
}

/// The state of one evaluation.
///
/// Only `eval` and the few methods that evaluate operands recurse; the work on computed
/// values is done by free functions, which keeps the recursive stack frames small.
struct Evaluator<'e> {
    env: &'e dyn Env,
}

impl Evaluator<'_> {
    fn eval(&self, e: &Expr, depth: usize) -> Result<Value, EvalError> {
        if depth > MAX_DEPTH {
            return Err(EvalError::TooDeep(MAX_DEPTH));
        }
        let d = depth + 1;
        match e {
            Expr::Ident(name) => self.ident(e, name),
            Expr::Bits(pat) => literal(e, pat),
            Expr::Int(n) => Ok(Value::Int(*n)),
            Expr::Bool(b) => Ok(Value::Bool(*b)),
            Expr::Slice(inner, hi, lo) => slice(e, self.eval(inner, d)?, *hi, *lo),
            Expr::Concat(parts) => self.concat(e, parts, d),
            Expr::Call(name, args) => self.call(e, name, args, d),
            Expr::Unary(op, inner) => apply_unary(e, *op, self.eval(inner, d)?),
            Expr::Binary(op, a, b) => self.binary(e, *op, a, b, d),
            Expr::In(inner, pats) => in_set_value(e, self.bits(e, inner, d)?, pats),
        }
    }

    /// Reads a field or constant from the environment.
    fn ident(&self, e: &Expr, name: &str) -> Result<Value, EvalError> {
        match self.env.field(name) {
            Some(Value::Bits { width, value }) if width <= MAX_WIDTH => Ok(Value::Bits {
                width,
                value: value & ones(width),
            }),
            Some(Value::Bits { width, .. }) => Err(invalid(
                e,
                format!("the environment gave a {width}-bit value, wider than {MAX_WIDTH}"),
            )),
            Some(v) => Ok(v),
            None => Err(EvalError::UnknownIdent(name.to_string())),
        }
    }

    /// Evaluates `operand` of `e`, which must give bits.
    fn bits(&self, e: &Expr, operand: &Expr, depth: usize) -> Result<(u8, u64), EvalError> {
        match self.eval(operand, depth)? {
            Value::Bits { width, value } => Ok((width, value)),
            v => Err(mismatch(e, "bits", v.type_name())),
        }
    }

    /// Evaluates `operand` of `e`, which must give a boolean.
    fn boolean(&self, e: &Expr, operand: &Expr, depth: usize) -> Result<bool, EvalError> {
        match self.eval(operand, depth)? {
            Value::Bool(b) => Ok(b),
            v => Err(mismatch(e, "boolean", v.type_name())),
        }
    }

    /// Concatenates the bit strings `parts` of `e`, most significant first.
    fn concat(&self, e: &Expr, parts: &[Expr], depth: usize) -> Result<Value, EvalError> {
        let (mut width, mut value) = (0u8, 0u64);
        for part in parts {
            let (w, v) = self.bits(e, part, depth)?;
            if u32::from(width) + u32::from(w) > u32::from(MAX_WIDTH) {
                return Err(invalid(e, format!("result wider than {MAX_WIDTH} bits")));
            }
            // A shift by 64 would overflow, and only happens while `value` is still empty.
            value = value.checked_shl(u32::from(w)).unwrap_or(0) | v;
            width += w;
        }
        Ok(Value::Bits { width, value })
    }

    /// Evaluates the arguments of call `e`, then calls a built-in or the environment.
    fn call(&self, e: &Expr, name: &str, args: &[Expr], depth: usize) -> Result<Value, EvalError> {
        let args = args
            .iter()
            .map(|a| self.eval(a, depth))
            .collect::<Result<Vec<_>, _>>()?;
        match builtin(e, name, &args) {
            Some(result) => result,
            None => self
                .env
                .call(name, &args)
                .ok_or_else(|| EvalError::UnknownFunction(name.to_string())),
        }
    }

    /// Evaluates the infix operation `e`, which is `a op b`.
    fn binary(
        &self,
        e: &Expr,
        op: BinOp,
        a: &Expr,
        b: &Expr,
        depth: usize,
    ) -> Result<Value, EvalError> {
        match op {
            BinOp::Eq => self.equal(e, a, b, depth).map(Value::Bool),
            BinOp::Ne => self.equal(e, a, b, depth).map(|eq| Value::Bool(!eq)),
            BinOp::And => {
                let result = self.boolean(e, a, depth)? && self.boolean(e, b, depth)?;
                Ok(Value::Bool(result))
            }
            BinOp::Or => {
                let result = self.boolean(e, a, depth)? || self.boolean(e, b, depth)?;
                Ok(Value::Bool(result))
            }
            _ => {
                let x = self.eval(a, depth)?;
                let y = self.eval(b, depth)?;
                arithmetic(e, op, x, y)
            }
        }
    }

    /// Tests `a == b`, comparing by mask when either side is a bit literal.
    fn equal(&self, e: &Expr, a: &Expr, b: &Expr, depth: usize) -> Result<bool, EvalError> {
        let (other, pat) = match (a, b) {
            (_, Expr::Bits(pat)) => (a, pat),
            (Expr::Bits(pat), _) => (b, pat),
            _ => {
                let x = self.eval(a, depth)?;
                let y = self.eval(b, depth)?;
                return values_equal(e, x, y);
            }
        };
        let (width, value) = self.bits(e, other, depth)?;
        if width != pat.width {
            return Err(width_mismatch(e, width, pat.width));
        }
        Ok(pat.matches(value))
    }
}

/// Builds a width mismatch error for expression `e`.
fn width_mismatch(e: &Expr, left: u8, right: u8) -> EvalError {
    EvalError::WidthMismatch {
        context: e.to_string(),
        left,
        right,
    }
}

/// The value of a bit literal, which must have no don't-care digits.
fn literal(e: &Expr, pat: &BitPat) -> Result<Value, EvalError> {
    if pat.is_exact() {
        Ok(Value::Bits {
            width: pat.width,
            value: pat.value,
        })
    } else {
        Err(invalid(
            e,
            "a pattern with don't-care digits can only be compared",
        ))
    }
}

/// Extracts bits `hi` down to `lo` of `v`; integers are sliced in two's complement.
fn slice(e: &Expr, v: Value, hi: u8, lo: u8) -> Result<Value, EvalError> {
    let (width, bits) = match v {
        Value::Bits { width, value } => (width, value),
        Value::Int(n) => (64, n as u64),
        v => return Err(mismatch(e, "bits or integer", v.type_name())),
    };
    if hi >= width || lo > hi {
        return Err(invalid(
            e,
            format!("slice <{hi}:{lo}> is outside a {width}-bit value"),
        ));
    }
    let width = hi - lo + 1;
    Ok(Value::Bits {
        width,
        value: (bits >> lo) & ones(width),
    })
}

/// Applies a prefix operator.
fn apply_unary(e: &Expr, op: UnOp, v: Value) -> Result<Value, EvalError> {
    match (op, v) {
        (UnOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
        (UnOp::Neg, Value::Int(n)) => n
            .checked_neg()
            .map(Value::Int)
            .ok_or_else(|| invalid(e, "integer overflow")),
        (UnOp::Not, v) => Err(mismatch(e, "boolean", v.type_name())),
        (UnOp::Neg, v) => Err(mismatch(e, "integer", v.type_name())),
    }
}

/// Tests a bit string against the patterns of an `IN` set.
fn in_set_value(e: &Expr, (width, value): (u8, u64), pats: &[BitPat]) -> Result<Value, EvalError> {
    if let Some(pat) = pats.iter().find(|p| p.width != width) {
        return Err(width_mismatch(e, width, pat.width));
    }
    Ok(Value::Bool(pats.iter().any(|p| p.matches(value))))
}

/// Compares two computed values of the same type for equality.
fn values_equal(e: &Expr, x: Value, y: Value) -> Result<bool, EvalError> {
    match (x, y) {
        (
            Value::Bits {
                width: wa,
                value: va,
            },
            Value::Bits {
                width: wb,
                value: vb,
            },
        ) => {
            if wa == wb {
                Ok(va == vb)
            } else {
                Err(width_mismatch(e, wa, wb))
            }
        }
        (Value::Int(x), Value::Int(y)) => Ok(x == y),
        (Value::Bool(x), Value::Bool(y)) => Ok(x == y),
        (Value::Enum(x), Value::Enum(y)) => Ok(x == y),
        (x, y) => Err(mismatch(
            e,
            "operands of the same type",
            format!("{} and {}", x.type_name(), y.type_name()),
        )),
    }
}

/// Applies an arithmetic, shift or ordering operator to computed operands.
fn arithmetic(e: &Expr, op: BinOp, x: Value, y: Value) -> Result<Value, EvalError> {
    let overflow = || invalid(e, "integer overflow");
    let found = format!("{} and {}", x.type_name(), y.type_name());
    match (op, x, y) {
        (BinOp::Add, Value::Int(x), Value::Int(y)) => {
            x.checked_add(y).map(Value::Int).ok_or_else(overflow)
        }
        (BinOp::Sub, Value::Int(x), Value::Int(y)) => {
            x.checked_sub(y).map(Value::Int).ok_or_else(overflow)
        }
        (BinOp::Mul, Value::Int(x), Value::Int(y)) => {
            x.checked_mul(y).map(Value::Int).ok_or_else(overflow)
        }
        (BinOp::Add | BinOp::Sub, Value::Bits { width, value }, Value::Int(n)) => {
            // Adding an integer wraps modulo 2^width, as ASL's bits + integer does.
            let n = n as u64;
            let value = if op == BinOp::Add {
                value.wrapping_add(n)
            } else {
                value.wrapping_sub(n)
            };
            Ok(Value::Bits {
                width,
                value: value & ones(width),
            })
        }
        (
            BinOp::Add | BinOp::Sub,
            Value::Bits { width, value },
            Value::Bits {
                width: w2,
                value: v2,
            },
        ) => {
            if width != w2 {
                return Err(width_mismatch(e, width, w2));
            }
            let value = if op == BinOp::Add {
                value.wrapping_add(v2)
            } else {
                value.wrapping_sub(v2)
            };
            Ok(Value::Bits {
                width,
                value: value & ones(width),
            })
        }
        (BinOp::Shl | BinOp::Shr, Value::Int(_), Value::Int(n)) if n < 0 => {
            Err(invalid(e, format!("negative shift amount {n}")))
        }
        (BinOp::Shl, Value::Int(x), Value::Int(n)) => {
            let shifted = match u32::try_from(n) {
                Ok(n) if n < 64 => x.checked_shl(n).filter(|r| r >> n == x),
                _ if x == 0 => Some(0),
                _ => None,
            };
            shifted.map(Value::Int).ok_or_else(overflow)
        }
        (BinOp::Shr, Value::Int(x), Value::Int(n)) => {
            // Shifting right is division by a power of two, rounding down.
            let n = u32::try_from(n).unwrap_or(u32::MAX).min(63);
            Ok(Value::Int(x >> n))
        }
        (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge, Value::Int(x), Value::Int(y)) => {
            Ok(Value::Bool(compare(op, x.cmp(&y))))
        }
        (
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge,
            Value::Bits { width, value },
            Value::Bits {
                width: w2,
                value: v2,
            },
        ) => {
            if width != w2 {
                return Err(width_mismatch(e, width, w2));
            }
            Ok(Value::Bool(compare(op, value.cmp(&v2))))
        }
        (BinOp::Add | BinOp::Sub, ..) => Err(mismatch(
            e,
            "integers, or bits and an integer or bits",
            found,
        )),
        (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge, ..) => {
            Err(mismatch(e, "two integers or two bit strings", found))
        }
        _ => Err(mismatch(e, "two integers", found)),
    }
}

/// Computes a built-in function, or returns `None` when `name` is not one.
fn builtin(e: &Expr, name: &str, args: &[Value]) -> Option<Result<Value, EvalError>> {
    if !matches!(
        name,
        "UInt" | "SInt" | "IsZero" | "IsOnes" | "BitCount" | "Zeros" | "Ones"
    ) {
        return None;
    }
    let [arg] = args else {
        return Some(Err(invalid(
            e,
            format!("{name} takes 1 argument, not {}", args.len()),
        )));
    };
    let result = match (name, arg) {
        ("UInt", Value::Bits { value, .. }) => i64::try_from(*value)
            .map(Value::Int)
            .map_err(|_| invalid(e, "the value does not fit in a 64-bit integer")),
        ("SInt", Value::Bits { width, value }) => {
            let n = if *width == 0 {
                0
            } else {
                let unused = 64 - u32::from(*width);
                ((value << unused) as i64) >> unused
            };
            Ok(Value::Int(n))
        }
        ("IsZero", Value::Bits { value, .. }) => Ok(Value::Bool(*value == 0)),
        ("IsOnes", Value::Bits { width, value }) => Ok(Value::Bool(*value == ones(*width))),
        ("BitCount", Value::Bits { value, .. }) => Ok(Value::Int(i64::from(value.count_ones()))),
        ("Zeros" | "Ones", Value::Int(n)) => match u8::try_from(*n) {
            Ok(width) if width <= MAX_WIDTH => Ok(Value::Bits {
                width,
                value: if name == "Ones" { ones(width) } else { 0 },
            }),
            _ => Err(invalid(e, format!("width {n} is outside 0 to {MAX_WIDTH}"))),
        },
        ("Zeros" | "Ones", v) => Err(mismatch(e, "integer", v.type_name())),
        (_, v) => Err(mismatch(e, "bits", v.type_name())),
    };
    Some(result)
}

/// Applies an ordering comparison operator to the ordering of its operands.
fn compare(op: BinOp, ord: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match op {
        BinOp::Lt => ord == Less,
        BinOp::Le => ord != Greater,
        BinOp::Gt => ord == Greater,
        BinOp::Ge => ord != Less,
        _ => ord == Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::path::PathBuf;

    /// Renders an expression as a fully bracketed S-expression, so tests can state structure.
    fn sexpr(e: &Expr) -> String {
        let list = |head: &str, items: Vec<String>| format!("({head} {})", items.join(" "));
        match e {
            Expr::Ident(name) => name.clone(),
            Expr::Bits(pat) => format!("'{pat}'"),
            Expr::Int(n) => n.to_string(),
            Expr::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
            Expr::Slice(inner, hi, lo) => format!("(<> {} {hi} {lo})", sexpr(inner)),
            Expr::Concat(parts) => list(":", parts.iter().map(sexpr).collect()),
            Expr::Call(name, args) => {
                let mut items = vec![name.clone()];
                items.extend(args.iter().map(sexpr));
                list("call", items)
            }
            Expr::Unary(op, inner) => list(op.symbol(), vec![sexpr(inner)]),
            Expr::Binary(op, a, b) => list(op.symbol(), vec![sexpr(a), sexpr(b)]),
            Expr::In(inner, pats) => {
                let mut items = vec![sexpr(inner)];
                items.extend(pats.iter().map(|p| format!("'{p}'")));
                list("IN", items)
            }
        }
    }

    /// Checks `parse_expr` against (input, Ok(S-expression) or Err(message part)), and that
    /// every success prints back as ASL that parses to the same tree.
    fn check_parse(cases: &[(&str, Result<&str, &str>)]) {
        for (input, want) in cases {
            let got = parse_expr(input);
            match (want, &got) {
                (Ok(tree), Ok(e)) => {
                    assert_eq!(sexpr(e), *tree, "input {input:?}");
                    let printed = e.to_string();
                    assert_eq!(parse_expr(&printed).as_ref(), Ok(e), "printed {printed:?}");
                }
                (Err(part), Err(msg)) => {
                    assert!(msg.contains(part), "input {input:?}: message {msg:?}")
                }
                _ => panic!("input {input:?}: wanted {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn parse_constructs() {
        check_parse(&[
            ("Rd", Ok("Rd")),
            ("PSTATE.EL", Ok("PSTATE.EL")),
            ("_x1", Ok("_x1")),
            ("'0x1'", Ok("'0x1'")),
            ("'11 01'", Ok("'1101'")),
            ("64", Ok("64")),
            ("0x1f", Ok("31")),
            ("0X1F", Ok("31")),
            ("TRUE", Ok("TRUE")),
            ("FALSE", Ok("FALSE")),
            ("opc<1>", Ok("(<> opc 1 1)")),
            ("opcode<2:1>", Ok("(<> opcode 2 1)")),
            ("imm13< 5 : 0 >", Ok("(<> imm13 5 0)")),
            ("x<3:1><0>", Ok("(<> (<> x 3 1) 0 0)")),
            ("sz:L", Ok("(: sz L)")),
            ("a : b : c", Ok("(: a b c)")),
            ("HaveSVE()", Ok("(call HaveSVE)")),
            ("UInt(imms)", Ok("(call UInt imms)")),
            (
                "BFXPreferred(sf, opc<1>, imms, immr)",
                Ok("(call BFXPreferred sf (<> opc 1 1) imms immr)"),
            ),
            ("Zeros (12)", Ok("(call Zeros 12)")),
            ("!HaveSVE()", Ok("(! (call HaveSVE))")),
            ("-1", Ok("(- 1)")),
            ("!!a", Ok("(! (! a))")),
            ("size IN {'0x', '11'}", Ok("(IN size '0x' '11')")),
            ("size IN{'1x'}", Ok("(IN size '1x')")),
            ("INx == '1'", Ok("(== INx '1')")),
            ("Q=='0'", Ok("(== Q '0')")),
            ("size!= '10'", Ok("(!= size '10')")),
            ("(a)", Ok("a")),
            ("  a  ", Ok("a")),
            (
                "SysOp('001','0111','0010',op2) == Sys_BRB",
                Ok("(== (call SysOp '001' '0111' '0010' op2) Sys_BRB)"),
            ),
        ]);
    }

    #[test]
    fn parse_precedence() {
        check_parse(&[
            ("sz:Q == '10'", Ok("(== (: sz Q) '10')")),
            ("immh<3>:Q == '10'", Ok("(== (: (<> immh 3 3) Q) '10')")),
            (
                "opcode<2:1>:rmode != '11 01'",
                Ok("(!= (: (<> opcode 2 1) rmode) '1101')"),
            ),
            ("a || b && c", Ok("(|| a (&& b c))")),
            ("a && b || c", Ok("(|| (&& a b) c)")),
            ("a && b && c", Ok("(&& (&& a b) c)")),
            ("a == b && c != d", Ok("(&& (== a b) (!= c d))")),
            ("a + b * c", Ok("(+ a (* b c))")),
            ("a * b + c", Ok("(+ (* a b) c)")),
            ("a - b - c", Ok("(- (- a b) c)")),
            ("a - -1", Ok("(- a (- 1))")),
            ("a << 1 + 2", Ok("(<< a (+ 1 2))")),
            ("a + 1 << 2 < b", Ok("(< (<< (+ a 1) 2) b)")),
            ("a * b:c", Ok("(* a (: b c))")),
            ("!a:b", Ok("(: (! a) b)")),
            ("-x<1>", Ok("(- (<> x 1 1))")),
            ("!(a && b)", Ok("(! (&& a b))")),
            (
                "UInt(op)+UInt(size) >= 3",
                Ok("(>= (+ (call UInt op) (call UInt size)) 3)"),
            ),
            ("VL < esize * 2", Ok("(< VL (* esize 2))")),
            ("VL<256", Ok("(< VL 256)")),
            ("VL<=256", Ok("(<= VL 256)")),
            ("a<1> > 0", Ok("(> (<> a 1 1) 0)")),
            ("imms + 1 == immr", Ok("(== (+ imms 1) immr)")),
            ("a >> 2 >= b", Ok("(>= (>> a 2) b)")),
            (
                "immh IN {'000x'} || (immh IN {'001x'} && !HaveFP16Ext())",
                Ok("(|| (IN immh '000x') (&& (IN immh '001x') (! (call HaveFP16Ext))))"),
            ),
            ("a:b IN {'01'}", Ok("(IN (: a b) '01')")),
            ("(a == b) == c", Ok("(== (== a b) c)")),
        ]);
    }

    #[test]
    fn parse_errors() {
        let deep = format!("{}a{}", "(".repeat(100), ")".repeat(100));
        let long_chain = vec!["a"; 400].join(" + ");
        let huge = "a".repeat(MAX_EXPR_LEN + 1);
        check_parse(&[
            ("", Err("at byte 0")),
            ("   ", Err("expected an operand")),
            ("a ==", Err("at byte 4")),
            ("a == b == c", Err("at byte 7")),
            ("(a", Err("expected ')'")),
            ("a)", Err("unexpected input")),
            ("f(a,", Err("at byte 4")),
            ("f(a b)", Err("expected ',' or ')'")),
            ("'01", Err("expected a closing quote")),
            ("'012'", Err("only the digits 0, 1, x")),
            ("''", Err("empty bit pattern")),
            ("x IN '01'", Err("expected '{' after IN")),
            ("x IN {}", Err("a bit literal in the IN set")),
            ("x IN {'01' '10'}", Err("',' or '}'")),
            ("x IN {1}", Err("a bit literal in the IN set")),
            ("a<1:2>", Err("high bit below its low bit")),
            ("99999999999999999999", Err("out of range")),
            ("0x", Err("hexadecimal digits")),
            ("0xffffffffffffffffff", Err("out of range")),
            ("a = b", Err("unexpected input")),
            ("a & b", Err("unexpected input")),
            ("IN", Err("reserved word")),
            ("a &&", Err("expected an operand")),
            ("!", Err("expected an operand")),
            ("a:", Err("expected an operand")),
            ("3abc", Err("at byte 1")),
            ("a DIV b", Err("unexpected input")),
            ("a[1]", Err("unexpected input")),
            ("\"str\"", Err("expected an operand")),
            (&deep, Err("nested more than 32 levels")),
            (&long_chain, Err("nested more than 256 levels")),
            (&huge, Err("longer than the limit")),
            ("ü", Err("expected an operand")),
        ]);
    }

    #[test]
    fn parse_never_panics_on_prefixes() {
        // Every prefix of a rich expression (cut at char boundaries) must give Ok or Err.
        let text = "!(IsZero(imm16) && hw != '00') || size:Q IN {'1x', '01'} && UInt(a<3:1>) + 0x1f * -2 >= 4 << 1";
        for (i, _) in text.char_indices() {
            let _ = parse_expr(&text[..i]);
            let _ = parse_expr(&text[i..]);
        }
        let bracket_soup = "<<<>>>::''{{}}((,,))!!--==&&||".repeat(8);
        let _ = parse_expr(&bracket_soup);
        let unary_soup = "!-".repeat(2000);
        assert!(parse_expr(&unary_soup).is_err());
    }

    #[test]
    fn nesting_limit_fits_a_small_stack() {
        // Parsing at the nesting limit must fit well inside the 2 MiB of a test thread.
        let worker = std::thread::Builder::new().stack_size(1024 * 1024);
        let joined = worker
            .spawn(|| {
                let n = MAX_NESTING;
                let cases = [
                    format!("{}a{}", "(".repeat(n), ")".repeat(n)),
                    format!("{}a{}", "f(".repeat(n), ")".repeat(n)),
                    format!("{}a", "!".repeat(n)),
                    format!("{}a{}", "(!f(-".repeat(n / 4), "))".repeat(n / 4)),
                ];
                for text in &cases {
                    assert!(parse_expr(text).is_ok(), "{text}");
                    let deeper = format!("({text})");
                    assert!(parse_expr(&deeper).is_err(), "{deeper}");
                }
                // The deepest tree the parser allows must also evaluate and print.
                let chain = vec!["1"; MAX_DEPTH].join(" + ");
                let e = parse_expr(&chain).expect("a chain at the depth limit parses");
                let want = Value::Int(MAX_DEPTH as i64);
                assert_eq!(eval(&e, &TestEnv::new()), Ok(want));
                assert_eq!(e.to_string(), chain);
            })
            .expect("spawn a thread")
            .join();
        assert!(joined.is_ok(), "parsing at the nesting limit failed");
    }

    /// Checks `parse_undefined_guard` against (line, None, or Some(Ok(S-expression) or Err(message part))).
    fn check_guard(cases: &[(&str, Option<Result<&str, &str>>)]) {
        for (line, want) in cases {
            let got = parse_undefined_guard(line);
            match (want, &got) {
                (None, None) => {}
                (Some(Ok(tree)), Some(Ok(e))) => assert_eq!(sexpr(e), *tree, "line {line:?}"),
                (Some(Err(part)), Some(Err(msg))) => {
                    assert!(msg.contains(part), "line {line:?}: message {msg:?}")
                }
                _ => panic!("line {line:?}: wanted {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn undefined_guard() {
        check_guard(&[
            (
                "if size == '11' then UNDEFINED;",
                Some(Ok("(== size '11')")),
            ),
            (
                "    if  size  ==  '11'   then\tUNDEFINED ;  ",
                Some(Ok("(== size '11')")),
            ),
            (
                "if option<1> == '0' then UNDEFINED;             // sub-word index",
                Some(Ok("(== (<> option 1 1) '0')")),
            ),
            (
                "if sz:Q != '01' then UNDEFINED;    // .4S only",
                Some(Ok("(!= (: sz Q) '01')")),
            ),
            (
                "if !HaveSVE() && !HaveSME() then UNDEFINED;",
                Some(Ok("(&& (! (call HaveSVE)) (! (call HaveSME)))")),
            ),
            ("if(a) then UNDEFINED;", Some(Ok("a"))),
            ("if a == 1 then UNDEFINED;//x", Some(Ok("(== a 1)"))),
            ("if size == [1] then UNDEFINED;", Some(Err("at byte 9"))),
            ("if then UNDEFINED;", Some(Err("expected an operand"))),
            ("if  then UNDEFINED;", Some(Err("expected an operand"))),
            ("if size == '11' then UNDEFINED; x = 1;", None),
            ("if size == '11' then UNDEFINED", None),
            ("if size == '11' then ReservedValue();", None),
            ("ifsize == '11' then UNDEFINED;", None),
            ("if size == '11'then UNDEFINED;", None),
            ("integer d = UInt(Rd);", None),
            ("    when '10' UNDEFINED;", None),
            ("// if a then UNDEFINED;", None),
            ("", None),
        ]);
    }

    #[test]
    fn idents_and_calls() {
        let cases: &[(&str, &[&str], &[&str])] = &[
            ("Rd == '11111'", &["Rd"], &[]),
            (
                "SysOp(op1,'0111',CRm,op2) == Sys_AT && CRm != op1",
                &["op1", "CRm", "op2", "Sys_AT"],
                &["SysOp"],
            ),
            ("UInt(imms) < UInt(immr)", &["imms", "immr"], &["UInt"]),
            (
                "!HaveSVE() || PSTATE.EL == EL0",
                &["PSTATE.EL", "EL0"],
                &["HaveSVE"],
            ),
            ("x<1>:y IN {'01'} && -z < 1", &["x", "y", "z"], &[]),
            ("TRUE", &[], &[]),
        ];
        for (input, idents, calls) in cases {
            let e = parse_expr(input).unwrap();
            assert_eq!(e.idents(), *idents, "idents of {input:?}");
            assert_eq!(e.calls(), *calls, "calls of {input:?}");
        }
    }

    /// A test environment with fixed fields and a few functions.
    struct TestEnv {
        fields: HashMap<&'static str, Value>,
    }

    fn bits(width: u8, value: u64) -> Value {
        Value::Bits { width, value }
    }

    impl TestEnv {
        fn new() -> Self {
            let fields = HashMap::from([
                ("sz", bits(1, 1)),
                ("Q", bits(1, 0)),
                ("size", bits(2, 0b10)),
                ("opc", bits(3, 0b011)),
                ("imms", bits(6, 0b011111)),
                ("immr", bits(6, 0b100000)),
                ("Rn", bits(5, 0b11111)),
                ("Rm", bits(5, 0b00011)),
                ("imm16", bits(16, 0)),
                ("wide", bits(64, u64::MAX)),
                ("hw", bits(2, 0b01)),
                ("n", Value::Int(31)),
                ("flag", Value::Bool(true)),
                ("PSTATE.EL", Value::Enum("EL1".into())),
                ("EL0", Value::Enum("EL0".into())),
                ("EL1", Value::Enum("EL1".into())),
                ("Sys_AT", Value::Enum("Sys_AT".into())),
            ]);
            TestEnv { fields }
        }
    }

    impl Env for TestEnv {
        fn field(&self, name: &str) -> Option<Value> {
            self.fields.get(name).cloned()
        }

        fn call(&self, name: &str, args: &[Value]) -> Option<Value> {
            match (name, args) {
                ("HaveSVE", []) => Some(Value::Bool(true)),
                ("HaveSME", []) => Some(Value::Bool(false)),
                ("SysOp", [_, _, _, _]) => Some(Value::Enum("Sys_AT".into())),
                // Panics if short-circuiting fails to skip it.
                ("Boom", []) => panic!("Boom() must not be evaluated"),
                _ => None,
            }
        }
    }

    /// Checks `eval` against (expression, Ok(value) or Err(message part)).
    fn check_eval(cases: &[(&str, Result<Value, &str>)]) {
        let env = TestEnv::new();
        for (input, want) in cases {
            let e = parse_expr(input).unwrap_or_else(|msg| panic!("{msg}"));
            let got = eval(&e, &env);
            match (want, &got) {
                (Ok(v), Ok(g)) => assert_eq!(g, v, "input {input:?}"),
                (Err(part), Err(err)) => {
                    let msg = err.to_string();
                    assert!(msg.contains(part), "input {input:?}: message {msg:?}")
                }
                _ => panic!("input {input:?}: wanted {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn eval_values() {
        use Value::{Bool, Int};
        check_eval(&[
            ("sz", Ok(bits(1, 1))),
            ("'0101'", Ok(bits(4, 5))),
            ("0x10", Ok(Int(16))),
            ("TRUE", Ok(Bool(true))),
            ("sz:Q", Ok(bits(2, 0b10))),
            ("sz:Q == '10'", Ok(Bool(true))),
            ("sz:Q != '10'", Ok(Bool(false))),
            ("size == '1x'", Ok(Bool(true))),
            ("'1x' == size", Ok(Bool(true))),
            ("size == 'x1'", Ok(Bool(false))),
            ("size != 'x1'", Ok(Bool(true))),
            ("Rn == Rm", Ok(Bool(false))),
            ("Rn == Rn", Ok(Bool(true))),
            ("opc<1>", Ok(bits(1, 1))),
            ("opc<2:1>", Ok(bits(2, 0b01))),
            ("imms<5>:opc", Ok(bits(4, 0b0011))),
            ("size IN {'0x', '11'}", Ok(Bool(false))),
            ("size IN {'0x', '1x'}", Ok(Bool(true))),
            ("UInt(imms)", Ok(Int(31))),
            ("SInt(immr)", Ok(Int(-32))),
            ("SInt(imms)", Ok(Int(31))),
            ("IsZero(imm16)", Ok(Bool(true))),
            ("IsOnes(Rn)", Ok(Bool(true))),
            ("IsOnes(Rm)", Ok(Bool(false))),
            ("BitCount(Rm)", Ok(Int(2))),
            ("Zeros(3)", Ok(bits(3, 0))),
            ("Ones(4)", Ok(bits(4, 0b1111))),
            ("Ones(64)", Ok(bits(64, u64::MAX))),
            ("Zeros(0):sz", Ok(bits(1, 1))),
            ("imms + 1 == immr", Ok(Bool(true))),
            ("Rn + 1", Ok(bits(5, 0))),
            ("Rm - 4", Ok(bits(5, 0b11111))),
            ("Rn - Rm", Ok(bits(5, 0b11100))),
            ("UInt(imms) < UInt(immr)", Ok(Bool(true))),
            ("UInt(imms) >= UInt(immr)", Ok(Bool(false))),
            ("imms < immr", Ok(Bool(true))),
            ("imms > immr", Ok(Bool(false))),
            ("imms <= imms", Ok(Bool(true))),
            ("n != 31", Ok(Bool(false))),
            ("n * 2 + 1", Ok(Int(63))),
            ("n - 32", Ok(Int(-1))),
            ("-n", Ok(Int(-31))),
            ("1 << 4", Ok(Int(16))),
            ("-17 >> 2", Ok(Int(-5))),
            ("1 >> 100", Ok(Int(0))),
            ("0 << 100", Ok(Int(0))),
            ("n<4:0>", Ok(bits(5, 31))),
            ("(0 - 1)<63:62>", Ok(bits(2, 3))),
            ("!flag", Ok(Bool(false))),
            ("!HaveSVE() && !HaveSME()", Ok(Bool(false))),
            ("HaveSVE() || Boom()", Ok(Bool(true))),
            ("HaveSME() && Boom()", Ok(Bool(false))),
            ("SysOp('000','0111',Rm<3:0>,opc) == Sys_AT", Ok(Bool(true))),
            ("PSTATE.EL == EL0", Ok(Bool(false))),
            ("PSTATE.EL != EL0", Ok(Bool(true))),
            (
                "! (IsZero(imm16) && hw != '00') && ! IsOnes(imm16)",
                Ok(Bool(false)),
            ),
            ("wide == Ones(64)", Ok(Bool(true))),
        ]);
    }

    #[test]
    fn eval_errors() {
        check_eval(&[
            ("nosuch", Err("unknown identifier `nosuch`")),
            ("Nope(sz)", Err("unknown function `Nope`")),
            ("HaveSVE(sz)", Err("unknown function `HaveSVE`")),
            ("size == 3", Err("type mismatch in `size == 3`")),
            (
                "size == '101'",
                Err("width mismatch in `size == '101'`: 2 bits against 3 bits"),
            ),
            ("size == sz", Err("width mismatch")),
            ("size IN {'1'}", Err("width mismatch")),
            ("'1x'", Err("don't-care digits")),
            ("'1x':sz", Err("don't-care digits")),
            ("sz && flag", Err("expected boolean, found bits(1)")),
            ("!flag || n", Err("expected boolean, found integer")),
            ("flag || n", Ok(Value::Bool(true))),
            ("!n", Err("type mismatch in `!n`")),
            ("-sz", Err("type mismatch in `-sz`")),
            ("size<2>", Err("outside a 2-bit value")),
            ("n<64>", Err("outside a 64-bit value")),
            ("flag<0>", Err("expected bits or integer, found boolean")),
            ("wide:sz", Err("wider than 64 bits")),
            ("UInt(wide)", Err("does not fit")),
            ("UInt(n)", Err("expected bits, found integer")),
            ("UInt(sz, Q)", Err("takes 1 argument, not 2")),
            ("Zeros(65)", Err("outside 0 to 64")),
            ("Zeros(-1)", Err("outside 0 to 64")),
            ("Ones(sz)", Err("expected integer")),
            ("n * sz", Err("expected two integers")),
            ("n + sz", Err("found integer and bits(1)")),
            ("size + sz", Err("width mismatch")),
            ("size < sz", Err("width mismatch")),
            ("flag < flag", Err("two integers or two bit strings")),
            ("1 << -1", Err("negative shift amount")),
            ("1 << 64", Err("integer overflow")),
            ("0x4000000000000000 * 2", Err("integer overflow")),
            ("-(0 - 9223372036854775807 - 1)", Err("integer overflow")),
            (
                "PSTATE.EL == 1",
                Err("found enumeration constant EL1 and integer"),
            ),
        ]);
    }

    #[test]
    fn eval_too_deep() {
        let mut e = Expr::Bool(true);
        for _ in 0..(MAX_DEPTH + 10) {
            e = Expr::Unary(UnOp::Not, Box::new(e));
        }
        assert_eq!(
            eval(&e, &TestEnv::new()),
            Err(EvalError::TooDeep(MAX_DEPTH))
        );
    }

    /// The directory of the A64 ISA XML: `ARMATURE_SPEC_DIR`, else the shared checkout.
    fn spec_dir() -> PathBuf {
        let dir = std::env::var_os("ARMATURE_SPEC_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../shared/arm-a64-xml"
                ))
            });
        assert!(
            dir.is_dir(),
            "the A64 ISA XML directory {} is missing; set ARMATURE_SPEC_DIR",
            dir.display()
        );
        dir
    }

    /// Removes every `<...>` tag from XML text.
    fn strip_tags(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(start) = rest.find('<') {
            out.push_str(&rest[..start]);
            match rest[start..].find('>') {
                Some(end) => rest = &rest[start + end + 1..],
                None => {
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// Replaces the XML entities the spec uses.
    fn unescape(s: &str) -> String {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&")
    }

    /// The raw contents of every `<tag ...>...</tag>` element whose opening tag contains `attr`.
    fn elements<'a>(text: &'a str, tag: &str, attr: &str) -> Vec<&'a str> {
        let open = format!("<{tag}");
        let close = format!("</{tag}>");
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find(&open) {
            rest = &rest[start + open.len()..];
            let Some(head_end) = rest.find('>') else {
                break;
            };
            let head = &rest[..head_end];
            let boundary = head.is_empty() || head.starts_with(char::is_whitespace);
            if !boundary || head.ends_with('/') {
                continue;
            }
            let body = &rest[head_end + 1..];
            let Some(body_end) = body.find(&close) else {
                break;
            };
            if head.contains(attr) {
                out.push(&body[..body_end]);
            }
            rest = &body[body_end..];
        }
        out
    }

    /// Every value of attribute `name` in XML text, still escaped.
    fn attr_values<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
        let key = format!(" {name}=\"");
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find(&key) {
            rest = &rest[start + key.len()..];
            let Some(end) = rest.find('"') else { break };
            out.push(&rest[..end]);
            rest = &rest[end..];
        }
        out
    }

    #[test]
    fn whole_spec() {
        let dir = spec_dir();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .map(|entry| entry.expect("directory entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "xml"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no *.xml files in {}", dir.display());

        let (mut encodedins, mut conditions, mut guards, mut guard_lines) = (0, 0, 0, 0);
        let mut failures = Vec::new();
        let mut guard_failures = Vec::new();
        for path in &files {
            let text = std::fs::read_to_string(path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let file = path.file_name().unwrap_or_default().to_string_lossy();

            for raw in attr_values(&text, "encodedin") {
                encodedins += 1;
                let value = unescape(raw);
                if let Err(msg) = crate::bits::parse_encodedin(&value) {
                    failures.push(format!("{file}: encodedin {value:?}: {msg}"));
                }
            }

            for tag in ["aliascond", "aliaspref"] {
                for raw in elements(&text, tag, "") {
                    let cond = unescape(&strip_tags(raw));
                    let cond = cond.trim();
                    if cond == "Unconditionally" || cond == "Never" {
                        continue;
                    }
                    conditions += 1;
                    match parse_expr(cond) {
                        Ok(e) => {
                            let printed = e.to_string();
                            if parse_expr(&printed).as_ref() != Ok(&e) {
                                failures.push(format!("{file}: {tag} {cond:?} prints as {printed:?}, which does not parse back"));
                            }
                        }
                        Err(msg) => failures.push(format!("{file}: {tag} {cond:?}: {msg}")),
                    }
                }
            }

            for raw in elements(&text, "pstext", "section=\"Decode\"") {
                for line in unescape(&strip_tags(raw)).lines() {
                    if line.contains("then UNDEFINED;") {
                        guard_lines += 1;
                    }
                    match parse_undefined_guard(line) {
                        None => {}
                        Some(Ok(_)) => guards += 1,
                        Some(Err(msg)) => {
                            guards += 1;
                            guard_failures.push(format!("{file}: {:?}: {msg}", line.trim()));
                        }
                    }
                }
            }
        }

        println!(
            "{} files: {encodedins} encodedin values, {conditions} alias conditions, {guards} guards",
            files.len()
        );
        for failure in failures.iter().chain(&guard_failures) {
            println!("FAILED {failure}");
        }
        assert!(encodedins > 0, "no encodedin attributes found");
        assert!(conditions > 0, "no alias conditions found");
        assert!(guards > 0, "no `if ... then UNDEFINED;` lines found");
        assert!(
            failures.is_empty(),
            "{} encodedin values or alias conditions failed",
            failures.len()
        );
        assert_eq!(
            guards, guard_lines,
            "some `then UNDEFINED;` lines were not recognised as guards"
        );
        let parsed = guards - guard_failures.len();
        assert!(
            parsed * 100 >= guards * 99,
            "only {parsed} of {guards} guards parse, below 99%"
        );
    }
}
