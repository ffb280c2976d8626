//! The reference: runs a program under `qemu-aarch64 -singlestep -d cpu,fpu,nochain` and reads
//! the state it logs before each instruction.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;

use crate::program::{Program, State};

/// The reference emulator.
pub const QEMU: &str = "qemu-aarch64";

/// What one reference run gave.
#[derive(Debug)]
pub struct Trace {
    /// The state before each logged instruction, in execution order.
    pub states: Vec<State>,
    /// Standard output (the scratch memory, when the program ran to its end).
    pub stdout: Vec<u8>,
    /// The guest signal that ended the run, if any.
    pub signal: Option<i32>,
}

/// Why the reference could not be run.
#[derive(Debug)]
pub struct QemuError(pub String);

impl std::fmt::Display for QemuError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for QemuError {}

/// The address ranges logged: each case's backward landing pads, instructions under test,
/// landing NOPs, and the instruction after them.
pub fn log_ranges(p: &Program) -> Vec<(u64, u64)> {
    p.case_pc
        .iter()
        .zip(&p.test_end)
        .map(|(&pc, &end)| (pc, end + 4 - pc))
        .collect()
}

/// Runs `p` under qemu-aarch64, logging the state before the instructions in `ranges`
/// (`-dfilter`), in the scratch directory `dir`.
pub fn run(p: &Program, ranges: &[(u64, u64)], dir: &Path) -> Result<Trace, QemuError> {
    run_elf(&p.to_elf(), ranges, dir)
}

/// Runs the static ELF executable `elf` under qemu-aarch64 as [`run`] does.
pub fn run_elf(elf_bytes: &[u8], ranges: &[(u64, u64)], dir: &Path) -> Result<Trace, QemuError> {
    std::fs::create_dir_all(dir).map_err(|e| QemuError(format!("{}: {e}", dir.display())))?;
    let elf = dir.join("case.elf");
    let log = dir.join("qemu.log");
    let write = |path: &Path, data: &[u8]| {
        std::fs::write(path, data).map_err(|e| QemuError(format!("{}: {e}", path.display())))
    };
    write(&elf, elf_bytes)?;
    let mut perms = std::fs::metadata(&elf)
        .map_err(|e| QemuError(e.to_string()))?
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&elf, perms).map_err(|e| QemuError(e.to_string()))?;
    let filter: Vec<String> = ranges
        .iter()
        .map(|(a, n)| format!("{a:#x}+{n:#x}"))
        .collect();
    let _ = std::fs::remove_file(&log);
    let out = Command::new(QEMU)
        .args(["-cpu", "max", "-singlestep", "-d", "cpu,fpu,nochain"])
        .arg("-dfilter")
        .arg(filter.join(","))
        .arg("-D")
        .arg(&log)
        .arg(&elf)
        .output()
        .map_err(|e| {
            QemuError(format!(
                "{QEMU} could not be run ({e}). Install qemu-user (e.g. `apt-get install \
                 qemu-user`) so that `{QEMU}` is on PATH; the semantic checks need it as the \
                 reference."
            ))
        })?;
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let states = parse_log(&text)?;
    let signal = out.status.signal().or_else(|| {
        // qemu-user reports a guest signal as "uncaught target signal N" and exits with 128+N
        // when it cannot re-raise it.
        let code = out.status.code()?;
        (code > 128).then_some(code - 128)
    });
    if signal.is_none() && !out.status.success() {
        return Err(QemuError(format!(
            "{QEMU} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(Trace {
        states,
        stdout: out.stdout,
        signal,
    })
}

fn hex(s: &str) -> Result<u64, QemuError> {
    u64::from_str_radix(s, 16).map_err(|_| QemuError(format!("bad hex {s:?} in the qemu log")))
}

/// Parses the states of a `-d cpu,fpu` log. Each starts at a line ` PC=...`; X registers,
/// `SP=`, `PSTATE=` (NZCV in bits 31..28), `FPCR=`, `FPSR=` follow as `NAME=hex` tokens. V
/// registers appear as `Qnn=hi:lo` without SVE, or as `Znn[..]` lines whose last line
/// (`[1-0]=...`) ends with the low 128 bits `hi:lo` when SVE is enabled.
pub fn parse_log(text: &str) -> Result<Vec<State>, QemuError> {
    let mut states = Vec::new();
    let mut cur: Option<State> = None;
    let mut zreg: Option<usize> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("PC=") {
            if let Some(s) = cur.take() {
                states.push(s);
            }
            cur = Some(State::default());
        }
        let Some(s) = cur.as_mut() else { continue };
        if let Some(rest) = trimmed.strip_prefix('Z') {
            // `Z05[3-2]=...`: remember the register; the `[1-0]` line carries the low 128 bits.
            if let Some(n) = rest.get(..2).and_then(|n| n.parse::<usize>().ok()) {
                zreg = Some(n);
            }
        }
        if let Some((_, vals)) = trimmed.split_once("[1-0]=") {
            let vals: Vec<&str> = vals.trim().split(':').collect();
            match (zreg, vals.len()) {
                (Some(n), len) if n < 32 && len >= 2 => {
                    let hi = hex(vals[len - 2])?;
                    let lo = hex(vals[len - 1])?;
                    s.v[n] = (hi as u128) << 64 | lo as u128;
                }
                _ => return Err(QemuError(format!("cannot read the line {line:?}"))),
            }
            continue;
        }
        for tok in trimmed.split_whitespace() {
            let Some((name, val)) = tok.split_once('=') else {
                continue;
            };
            match name {
                "PC" => s.pc = hex(val)?,
                "SP" => s.sp = hex(val)?,
                "PSTATE" => s.nzcv = hex(val)? & 0xf000_0000,
                "FPCR" => s.fpcr = hex(val)?,
                "FPSR" => s.fpsr = hex(val)?,
                _ if name.len() == 3 && name.starts_with('X') => {
                    if let Ok(n) = name[1..].parse::<usize>() {
                        if n < 31 {
                            s.x[n] = hex(val)?;
                        }
                    }
                }
                _ if name.len() == 3 && name.starts_with('Q') => {
                    if let (Ok(n), Some((hi, lo))) =
                        (name[1..].parse::<usize>(), val.split_once(':'))
                    {
                        if n < 32 {
                            s.v[n] = (hex(hi)? as u128) << 64 | hex(lo)? as u128;
                        }
                    }
                }
                _ => {}
            }
        }
    }
    if let Some(s) = cur {
        states.push(s);
    }
    Ok(states)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_vector_formats() {
        let mut log =
            String::from(" PC=0000000000400010 X00=0000000000000005 X01=ffffffffffffffff\n");
        log.push_str("X29=0000000000000001 X30=0000000000000002  SP=0000005500800860\n");
        log.push_str("PSTATE=60000000 -ZC- EL0t  BTYPE=0     FPCR=00c00000 FPSR=00000010\n");
        log.push_str(
            "Q00=0000000000000001:0000000000000002 Q31=ffffffffffffffff:0000000000000000\n",
        );
        log.push_str(" PC=0000000000400014 X00=0000000000000006 X01=0000000000000000\n");
        log.push_str("PSTATE=80000000 N--- EL0t  SVCR=00000000 --  BTYPE=0     FPCR=00000000 FPSR=00000000\n");
        log.push_str(
            "Z00[3-2]=0000000000000000:0000000000000000:0000000000000000:0000000000000000\n",
        );
        log.push_str(
            "   [1-0]=0000000000000000:0000000000000000:0000000000000003:3ff8000000000000\n",
        );
        log.push_str(
            "Z31[3-2]=0000000000000000:0000000000000000:0000000000000000:0000000000000000\n",
        );
        log.push_str(
            "   [1-0]=0000000000000000:0000000000000000:0000000000000000:0000000000000007\n",
        );
        let s = parse_log(&log).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].pc, 0x400010);
        assert_eq!(s[0].x[1], u64::MAX);
        assert_eq!(s[0].x[30], 2);
        assert_eq!(s[0].sp, 0x55_0080_0860);
        assert_eq!(s[0].nzcv, 0x6000_0000);
        assert_eq!((s[0].fpcr, s[0].fpsr), (0xc0_0000, 0x10));
        assert_eq!(s[0].v[0], 1 << 64 | 2);
        assert_eq!(s[0].v[31], (u64::MAX as u128) << 64);
        assert_eq!(s[1].x[0], 6);
        assert_eq!(s[1].nzcv, 0x8000_0000);
        assert_eq!(s[1].v[0], 3 << 64 | 0x3ff8_0000_0000_0000);
        assert_eq!(s[1].v[31], 7);
    }
}
