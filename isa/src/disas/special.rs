//! Printers for the operands the XML describes only in prose: bitmask and floating-point
//! immediates, MOV (wide immediate), labels, conditions, System registers, barrier and
//! prefetch options, the operands of the BFM aliases and the SME tile mask.

use super::form::{Special, Val};
use super::{Cx, Piece, Style};
use crate::isa::{names, pseudo};

fn piece(text: impl Into<String>) -> Option<Piece> {
    Some(Piece {
        text: text.into(),
        default: false,
    })
}

/// Drops the `#` that the template writes itself.
fn bare(s: &str) -> String {
    s.strip_prefix('#').unwrap_or(s).to_string()
}

pub(super) fn render(cx: &Cx, s: Special, v: &Val, n: i64) -> Option<Piece> {
    let raw = cx.bits(v.src).0;
    match s {
        Special::BitMask(size) => {
            // Read by name: the XML lists the fields as "N:imms:immr" in some places.
            let (n, immr, imms) = (cx.field("N"), cx.field("immr"), cx.field("imms"));
            let text = pseudo::logical_imm_text(n, immr, imms, u32::from(size))?;
            piece(bare(&text))
        }
        Special::SveBitMask => {
            let esize = pseudo::sve_logical_imm_esize(raw)?;
            let text = pseudo::logical_imm_text(raw >> 12, (raw >> 6) & 0x3f, raw & 0x3f, esize)?;
            piece(bare(&text))
        }
        Special::FpImm => piece(bare(&pseudo::fp_imm_text(raw))),
        Special::SimdImm64 => piece(bare(&pseudo::movi_imm64_text(raw))),
        Special::MoveWide(inverted, size) => {
            let imm16 = cx.field("imm16");
            let hw = cx.field("hw");
            let mut value = imm16 << (hw * 16);
            if inverted {
                value = !value;
            }
            let value = if size == 32 {
                i64::from(value as u32 as i32)
            } else {
                value as i64
            };
            piece(value.to_string())
        }
        Special::Label { scale, page } => {
            let offset = n.wrapping_mul(i64::from(scale));
            match cx.style {
                Style::Relative => piece(format!("#{offset}")),
                Style::Absolute => {
                    let base = if page { cx.pc & !0xfff } else { cx.pc };
                    piece(format!("{:#x}", base.wrapping_add(offset as u64)))
                }
            }
        }
        Special::Cond(inverted) => {
            let c = if inverted {
                names::inverted_cond(raw)
            } else {
                raw
            };
            piece(names::cond_name(c))
        }
        Special::SysReg => {
            let w = u64::from(cx.w);
            let (op0, op1, crn, crm, op2) = (
                2 | ((w >> 19) & 1),
                (w >> 16) & 7,
                (w >> 12) & 0xf,
                (w >> 8) & 0xf,
                (w >> 5) & 7,
            );
            let read = (w >> 21) & 1 == 1;
            let name = if read {
                names::sysreg_name(op0, op1, crn, crm, op2)
            } else {
                names::msr_sysreg_name(op0, op1, crn, crm, op2)
            };
            piece(name)
        }
        Special::Barrier => {
            let name = names::barrier_option_name(raw);
            if name.starts_with('#') {
                return None;
            }
            piece(name)
        }
        Special::BarrierNxs => piece(names::dsb_nxs_option_name(raw)),
        Special::Isb => {
            if raw == 15 {
                Some(Piece {
                    text: "sy".into(),
                    default: true,
                })
            } else {
                None
            }
        }
        Special::Prfop => {
            let name = names::prefetch_op_name(raw);
            if name.starts_with('#') {
                return None;
            }
            piece(name)
        }
        Special::Rprfop => {
            let w = u64::from(cx.w);
            let op =
                (((w >> 15) & 1) << 5) | (((w >> 13) & 1) << 4) | (((w >> 12) & 1) << 3) | (w & 7);
            let name = names::rprfm_op_name(op);
            if name.starts_with('#') {
                return None;
            }
            piece(name)
        }
        Special::LsbDest(size) => {
            let size = u64::from(size);
            piece(((size - (cx.field("immr") % size)) % size).to_string())
        }
        Special::WidthDest => piece((cx.field("imms") + 1).to_string()),
        Special::WidthSrc => {
            piece((cx.field("imms") as i64 - cx.field("immr") as i64 + 1).to_string())
        }
        Special::ZaMask => piece(za_mask(raw)),
        Special::Targets => None,
    }
}

/// The tile list LLVM prints for SME ZERO: the largest tiles that cover the mask.
fn za_mask(mask: u64) -> String {
    let mask = mask & 0xff;
    if mask == 0xff {
        return "za".into();
    }
    let mut left = mask;
    let mut tiles = Vec::new();
    let groups: [(&str, &[(u64, u32)]); 3] = [
        ("h", &[(0x55, 0), (0xaa, 1)]),
        ("s", &[(0x11, 0), (0x22, 1), (0x44, 2), (0x88, 3)]),
        (
            "d",
            &[
                (0x01, 0),
                (0x02, 1),
                (0x04, 2),
                (0x08, 3),
                (0x10, 4),
                (0x20, 5),
                (0x40, 6),
                (0x80, 7),
            ],
        ),
    ];
    for (suffix, tiles_of) in groups {
        for &(m, i) in tiles_of {
            if left & m == m {
                tiles.push((m.trailing_zeros(), format!("za{i}.{suffix}")));
                left &= !m;
            }
        }
    }
    tiles.sort();
    tiles
        .into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join(", ")
}
