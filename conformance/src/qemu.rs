//! The reference: runs a program under `qemu-aarch64 -singlestep -d cpu,fpu,nochain` and reads
//! the state it logs before each instruction.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;

use crate::program::{Program, State, Sve};

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
    run_elf_cpu(elf_bytes, ranges, dir, "max")
}

/// Runs `elf` as [`run_elf`] does with `-cpu CPU`, e.g. `max,sve-default-vector-length=32` for
/// SVE registers of 32 bytes.
pub fn run_elf_cpu(
    elf_bytes: &[u8],
    ranges: &[(u64, u64)],
    dir: &Path,
    cpu: &str,
) -> Result<Trace, QemuError> {
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
        .args(["-cpu", cpu, "-singlestep", "-d", "cpu,fpu,nochain"])
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

/// The SVE registers of one logged state while its lines are read: limbs by index, as they come.
#[derive(Default)]
struct SveLines {
    z: Vec<Vec<u64>>,
    p: Vec<Vec<u64>>,
    ffr: Vec<u64>,
    /// The Z register whose `[h-l]=` continuation lines follow.
    current: Option<usize>,
    seen: bool,
}

impl SveLines {
    fn new() -> SveLines {
        SveLines {
            z: vec![Vec::new(); 32],
            p: vec![Vec::new(); 16],
            ..SveLines::default()
        }
    }

    /// Limbs `lo` and up of Z register `n`, from `vals` (least significant first).
    fn put_z(&mut self, n: usize, lo: usize, vals: &[u64]) -> Result<(), QemuError> {
        let z = self
            .z
            .get_mut(n)
            .ok_or_else(|| QemuError(format!("no Z register {n}")))?;
        if z.len() < lo + vals.len() {
            z.resize(lo + vals.len(), 0);
        }
        z[lo..lo + vals.len()].copy_from_slice(vals);
        self.current = Some(n);
        self.seen = true;
        Ok(())
    }

    /// Puts the registers in `s.sve` and their low 128 bits in the V registers, when the state
    /// had SVE lines.
    fn finish(self, s: &mut State) -> Result<(), QemuError> {
        if !self.seen {
            return Ok(());
        }
        let limbs = self.z[0].len();
        if limbs < 2 || self.z.iter().any(|z| z.len() != limbs) {
            return Err(QemuError(format!(
                "the Z registers of the state at {:#x} have different lengths",
                s.pc
            )));
        }
        for (v, z) in s.v.iter_mut().zip(&self.z) {
            *v = (z[1] as u128) << 64 | z[0] as u128;
        }
        let p_limbs = limbs.div_ceil(8);
        if self.p.iter().chain([&self.ffr]).any(|p| p.len() != p_limbs) {
            return Err(QemuError(format!(
                "the P registers or FFR of the state at {:#x} do not have {p_limbs} limbs",
                s.pc
            )));
        }
        s.sve = Some(Box::new(Sve {
            vl: limbs * 8,
            z: self.z,
            p: self.p,
            ffr: self.ffr,
        }));
        Ok(())
    }
}

/// `a:b:c` (most significant first) as limbs, least significant first.
fn limbs(val: &str) -> Result<Vec<u64>, QemuError> {
    val.split(':').rev().map(hex).collect()
}

/// `[h-l]` (hex quadword indices) at the end of a register name: the name, `h` and `l`.
fn limb_range(name: &str) -> Option<(&str, usize, usize)> {
    let (reg, range) = name.strip_suffix(']')?.split_once('[')?;
    let (h, l) = range.split_once('-')?;
    let h = usize::from_str_radix(h, 16).ok()?;
    let l = usize::from_str_radix(l, 16).ok()?;
    (h >= l).then_some((reg, h, l))
}

/// Parses the states of a `-d cpu,fpu` log. Each starts at a line ` PC=...`; X registers,
/// `SP=`, `PSTATE=` (NZCV in bits 31..28), `FPCR=`, `FPSR=` follow as `NAME=hex` tokens. V
/// registers appear as `Qnn=hi:lo` without SVE. With SVE (qemu's `-cpu max`) the state has
/// `Pnn=` and `FFR=` (hex, `:` between 64-bit limbs when longer) and the Z registers, either
/// as `Znn=` tokens with all limbs (vector lengths up to 32 bytes) or as a `Znn[h-l]=` line
/// followed by `[h-l]=` lines (128-bit quadwords `h` down to `l`, in hex, two limbs each);
/// each line lists limbs most significant first. They go to [`State::sve`], and their low 128 bits to the V registers.
pub fn parse_log(text: &str) -> Result<Vec<State>, QemuError> {
    let mut states = Vec::new();
    let mut cur: Option<(State, SveLines)> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("PC=") {
            if let Some((mut s, sve)) = cur.take() {
                sve.finish(&mut s)?;
                states.push(s);
            }
            cur = Some((State::default(), SveLines::new()));
        }
        let Some((s, sve)) = cur.as_mut() else {
            continue;
        };
        for tok in trimmed.split_whitespace() {
            let Some((name, val)) = tok.split_once('=') else {
                continue;
            };
            let reg = |prefix: &str, count: usize| {
                name.strip_prefix(prefix)
                    .filter(|n| n.len() == 2)
                    .and_then(|n| n.parse::<usize>().ok())
                    .filter(|&n| n < count)
            };
            if let Some((zname, hi, lo)) = limb_range(name) {
                // `Znn[h-l]=` starts a register; `[h-l]=` continues the last one.
                let n = match zname {
                    "" => sve.current,
                    z => z
                        .strip_prefix('Z')
                        .and_then(|n| n.parse::<usize>().ok())
                        .filter(|&n| n < 32),
                };
                let Some(n) = n else {
                    return Err(QemuError(format!("cannot read the line {line:?}")));
                };
                // The indices count 128-bit quadwords, each written as two limbs.
                let vals = limbs(val)?;
                if vals.len() != 2 * (hi + 1 - lo) {
                    return Err(QemuError(format!("cannot read the line {line:?}")));
                }
                sve.put_z(n, 2 * lo, &vals)?;
                continue;
            }
            match name {
                "PC" => s.pc = hex(val)?,
                "SP" => s.sp = hex(val)?,
                "PSTATE" => s.nzcv = hex(val)? & 0xf000_0000,
                "FPCR" => s.fpcr = hex(val)?,
                "FPSR" => s.fpsr = hex(val)?,
                "FFR" => {
                    sve.ffr = limbs(val)?;
                    sve.seen = true;
                }
                _ => {
                    if let Some(n) = reg("X", 31) {
                        s.x[n] = hex(val)?;
                    } else if let Some(n) = reg("Q", 32) {
                        let (hi, lo) = val
                            .split_once(':')
                            .ok_or_else(|| QemuError(format!("cannot read {tok:?}")))?;
                        s.v[n] = (hex(hi)? as u128) << 64 | hex(lo)? as u128;
                    } else if let Some(n) = reg("P", 16) {
                        sve.p[n] = limbs(val)?;
                        sve.seen = true;
                    } else if let Some(n) = reg("Z", 32) {
                        sve.put_z(n, 0, &limbs(val)?)?;
                    }
                }
            }
        }
    }
    if let Some((mut s, sve)) = cur {
        sve.finish(&mut s)?;
        states.push(s);
    }
    Ok(states)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_states_without_sve() {
        let mut log =
            String::from(" PC=0000000000400010 X00=0000000000000005 X01=ffffffffffffffff\n");
        log.push_str("X29=0000000000000001 X30=0000000000000002  SP=0000005500800860\n");
        log.push_str("PSTATE=60000000 -ZC- EL0t  BTYPE=0     FPCR=00c00000 FPSR=00000010\n");
        log.push_str(
            "Q00=0000000000000001:0000000000000002 Q31=ffffffffffffffff:0000000000000000\n",
        );
        log.push_str(" PC=0000000000400014 X00=0000000000000006 X01=0000000000000000\n");
        log.push_str("PSTATE=80000000 N--- EL0t  BTYPE=0     FPCR=00000000 FPSR=00000000\n");
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
        assert!(s[0].sve.is_none());
        assert_eq!(s[1].x[0], 6);
        assert_eq!(s[1].nzcv, 0x8000_0000);
    }

    #[test]
    fn incomplete_sve_states_are_errors() {
        let head = " PC=0000000000400010 X00=0000000000000005\n";
        let z = |n: usize| format!("Z{n:02}=0000000000000000:0000000000000001\n");
        let all_z: String = (0..32).map(z).collect();
        let all_p: String = (0..16).map(|n| format!("P{n:02}=0000 ")).collect();
        // Complete: 16-byte vectors.
        let good = format!("{head}{all_p}FFR=ffff\n{all_z}");
        let s = parse_log(&good).unwrap();
        let sve = s[0].sve.as_ref().unwrap();
        assert_eq!((sve.vl, sve.ffr.as_slice()), (16, &[0xffff][..]));
        assert_eq!(s[0].v[7], 1);
        for bad in [
            format!("{head}{all_p}FFR=ffff\n{}", z(0)),
            format!("{head}FFR=ffff\n{all_z}"),
            format!("{head}{all_p}FFR=ffff\n{all_z}   [1-0]=0000000000000000\n"),
            format!("{head}{all_p}FFR=ffff\n[1-0]=0000000000000000:0000000000000000\n"),
        ] {
            assert!(parse_log(&bad).is_err(), "{bad}");
        }
    }
}
