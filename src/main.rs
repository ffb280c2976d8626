//! The `armature` command line tool.

use std::io::{self, BufRead, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

mod cmd_conform;
mod cmd_decode;
mod cmd_disas;
mod cmd_run;
mod cmd_stats;

/// AArch64 architecture-extension research platform.
#[derive(Parser)]
#[command(name = "armature", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Disassemble an aarch64 ELF file, or hex words with --words.
    Disas {
        /// Read whitespace-separated 32-bit hex words (with or without 0x) instead of an ELF file.
        #[arg(long)]
        words: bool,
        /// The ELF file, or with --words the file of words ('-' or nothing: standard input).
        input: Option<PathBuf>,
    },
    /// Explain one instruction word: encoding, feature, fields, alias choice and pseudocode.
    Decode {
        /// The word in hex, with or without 0x.
        word: String,
        /// Decode as a CPU without this feature (repeatable), e.g. --without FEAT_SVE.
        #[arg(long, value_name = "FEAT")]
        without: Vec<String>,
    },
    /// Run a static aarch64 Linux program: armature run [--strace] -- PROG ARGS...
    Run(cmd_run::RunArgs),
    /// Random instruction tests against qemu-aarch64: armature conform [--filter GLOB] ...
    Conform(cmd_conform::ConformArgs),
    /// Facts about the A64 ISA XML the build was generated from.
    Spec {
        #[command(subcommand)]
        command: SpecCommand,
    },
}

#[derive(Subcommand)]
enum SpecCommand {
    /// Count files, encodings and aliases, per feature and per instr-class.
    Stats {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = match cli.command {
        Command::Disas { words: true, input } => cmd_disas::words(input.as_deref(), &mut out),
        Command::Disas {
            words: false,
            input: Some(path),
        } => cmd_disas::elf(&path, &mut out),
        Command::Disas {
            words: false,
            input: None,
        } => Err(anyhow::anyhow!(
            "disas needs an ELF file, or --words to read hex words"
        )),
        Command::Decode { word, without } => cmd_decode::run(&word, &without, &mut out),
        Command::Run(args) => match cmd_run::run(args) {
            Ok(code) => return code,
            Err(e) => Err(e),
        },
        Command::Conform(args) => match cmd_conform::run(args, &mut out) {
            Ok(code) => {
                return match out.flush() {
                    Ok(()) => code,
                    Err(_) => ExitCode::from(2),
                }
            }
            Err(e) => Err(e),
        },
        Command::Spec {
            command: SpecCommand::Stats { json },
        } => cmd_stats::run(json, &mut out),
    };
    let result = result.and_then(|()| out.flush().context("cannot write to standard output"));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("armature: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Parses one instruction word written in hex, with or without `0x`.
fn parse_word(token: &str) -> Result<u32> {
    let digits = token
        .strip_prefix("0x")
        .or_else(|| token.strip_prefix("0X"))
        .unwrap_or(token);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!(
            "{token:?} is not a 32-bit hex word (expected up to 8 hex digits, optionally after 0x)"
        );
    }
    Ok(u32::from_str_radix(digits, 16)?)
}

/// Opens `path` for reading, or standard input for `-` and `None`.
fn open_input(path: Option<&Path>) -> Result<Box<dyn BufRead>> {
    Ok(match path {
        None => Box::new(io::BufReader::new(io::stdin())),
        Some(p) if p == Path::new("-") => Box::new(io::BufReader::new(io::stdin())),
        Some(p) => Box::new(io::BufReader::new(
            std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))?,
        )),
    })
}

/// Reads all of `path`.
fn read_file(path: &Path) -> Result<Vec<u8>> {
    let mut data = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut data))
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(data)
}
