//! The print forms the generator writes for every encoding: a small language of ops that the
//! interpreter in [`super`] runs over an instruction word.

/// One step of a print form.
#[derive(Debug)]
pub enum Op {
    /// Literal text, already in LLVM's case.
    Lit(&'static str),
    /// The tab between the mnemonic and the operands.
    Tab,
    /// An optional part (`{...}` in Arm's template), printed when a value in it is not its default.
    Opt(&'static [Op]),
    /// Alternatives (`(a|b)`): the first that can be printed.
    Alt(&'static [Op], &'static [Op]),
    /// A symbol's value.
    Val(&'static Val),
}

/// A piece of a value's bits, most significant piece first.
#[derive(Clone, Copy, Debug)]
pub enum Part {
    /// `width` bits of the word from bit `lo` up.
    F(u8, u8),
    /// A constant: value and width.
    K(u32, u8),
}

/// A template symbol: where its bits are, how they become a number, and how it prints.
#[derive(Debug)]
pub struct Val {
    /// The `encodedin` bits, concatenated; empty for values computed by a [`Special`] printer.
    pub src: &'static [Part],
    /// The bits are a two's complement number.
    pub signed: bool,
    /// The value is `add - bits` ("encoded as 64 minus imm6") instead of `bits * mul + add`.
    pub neg: bool,
    pub mul: i64,
    pub add: i64,
    /// When non-zero, the value is taken modulo this ("Rt plus 1 modulo 32").
    pub modulo: i64,
    /// The value that lets an optional part be left out.
    pub default: Option<i64>,
    /// The value applies only when these bits hold this value ("When option<0> is set to 1").
    pub when: Option<(&'static [Part], u32)>,
    pub fmt: Fmt,
}

/// How a value prints.
#[derive(Debug)]
pub enum Fmt {
    /// A general-purpose register; 31 is the stack pointer when `sp`, else the zero register.
    Gp { x: bool, sp: bool },
    /// The number part of `<R><m>`: the number, or `zr` / `sp` for 31.
    GpNum { sp: bool },
    /// A register printed as a prefix and a number (`v`, `z`, `p`, `pn`, `za`, `c`, ...).
    Reg(&'static str),
    /// A signed decimal number.
    Dec,
    /// A hexadecimal number (`0x1f`).
    Hex,
    /// A value chosen by a definition table.
    Table(&'static [Row]),
    /// A hand-written printer for what the XML gives only in prose.
    Special(Special),
}

/// One row of a definition table.
#[derive(Debug)]
pub struct Row {
    pub mask: u32,
    pub value: u32,
    pub out: Out,
    /// The row is the symbol's stated default ("defaulting to LSL #0").
    pub default: bool,
}

/// What a definition-table row gives.
#[derive(Debug)]
pub enum Out {
    Text(&'static str),
    /// RESERVED, or a pointer to another instruction ("SEE ..."): the word is not valid.
    Reserved,
    /// A number: `add + bits` or `add - bits` (when the flag is set) of the given bits.
    Num(&'static [Part], i64, bool),
    /// A register: the prefix and the number in the given bits.
    Reg(&'static str, &'static [Part]),
    /// `#<number>` of the given bits (`#uimm5` of the SVE pattern table).
    Imm(&'static [Part]),
    /// The `<extend>` rows `LSL|UXTW` / `LSL|UXTX`: LSL when Rd or Rn is the stack pointer.
    LslOr(&'static str),
}

/// Printers for operands the XML describes in prose only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Special {
    /// A bitmask immediate (`N:immr:imms`) of a 32- or 64-bit register: DecodeBitMasks.
    BitMask(u8),
    /// An SVE bitmask immediate (`imm13`), printed for its element size.
    SveBitMask,
    /// An 8-bit floating-point immediate: VFPExpandImm.
    FpImm,
    /// The 64-bit AdvSIMD modified immediate `aaaaaaaabbbbbbbb...`.
    SimdImm64,
    /// The immediate of MOV (wide immediate) of MOVZ (`false`) or MOVN (`true`), of a register width.
    MoveWide(bool, u8),
    /// A PC-relative label: offset bits times `scale`; `page` for ADRP.
    Label { scale: u32, page: bool },
    /// A condition code; `true` when encoded with its least significant bit inverted.
    Cond(bool),
    /// A System register name from `op0:op1:CRn:CRm:op2`.
    SysReg,
    /// A DMB/DSB barrier option from CRm.
    Barrier,
    /// A DSB nXS barrier option from imm2.
    BarrierNxs,
    /// The ISB option (only SY has a name).
    Isb,
    /// A PRFM prefetch operation from Rt.
    Prfop,
    /// An RPRFM range prefetch operation.
    Rprfop,
    /// The lsb of a BFM alias's destination bitfield: `-immr MOD datasize`.
    LsbDest(u8),
    /// The width of a BFM alias's bitfield whose lsb is in the destination: `imms + 1`.
    WidthDest,
    /// The width of a BFM alias's bitfield whose lsb is in the source: `imms - immr + 1`.
    WidthSrc,
    /// The tile list of SME ZERO: one bit per 64-bit tile.
    ZaMask,
    /// The BTI targets.
    Targets,
}
