//! Loading a static aarch64 ELF executable into guest memory, as Linux's `binfmt_elf` does.
//!
//! `ET_EXEC` programs load at their link addresses; `ET_DYN` programs (static-pie, PIE) at
//! [`PIE_BASE`], and a dynamic program's interpreter (`PT_INTERP`, the dynamic linker) at
//! [`INTERP_BASE`].

use object::elf;
use object::read::elf::{FileHeader, ProgramHeader};
use object::LittleEndian as LE;

use crate::mem::{Memory, Perms, PAGE_SIZE};

/// Where a static-pie (`ET_DYN`) program's lowest segment is placed.
pub const PIE_BASE: u64 = 0x55_0000_0000;

/// Where the program interpreter's lowest segment is placed.
pub const INTERP_BASE: u64 = 0x7f_0000_0000;

/// The highest guest address a program segment may reach (a 48-bit user address space).
pub const ADDR_LIMIT: u64 = crate::mem::GUEST_SPACE;

/// The most memory the segments of one program may span.
const MAX_SEGMENT_SIZE: u64 = 1 << 32;

/// Why a program cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("not an ELF file")]
    NotElf,
    #[error("not a 64-bit ELF file (aarch64 programs are ELFCLASS64)")]
    WrongClass,
    #[error("not a little-endian ELF file")]
    WrongEndian,
    #[error("not an aarch64 program (e_machine {0}, expected EM_AARCH64 = 183)")]
    WrongMachine(u16),
    #[error("not an executable (e_type {0}, expected ET_EXEC or ET_DYN)")]
    WrongType(u16),
    #[error("malformed ELF file: {0}")]
    Malformed(String),
    #[error("cannot load the program interpreter {path} (the dynamic linker; -L DIR gives the guest's root directory)")]
    Interpreter {
        path: String,
        #[source]
        source: Box<LoadError>,
    },
    #[error("the program interpreter {0} has an interpreter itself")]
    NestedInterpreter(String),
    #[error("no loadable segment (PT_LOAD)")]
    NoSegments,
    #[error(
        "cannot reserve host address space for the 1 TiB guest address space (is `ulimit -v` set?)"
    )]
    AddressSpace(#[source] std::io::Error),
    #[error(
        "segment {index} at {vaddr:#x} with size {memsz:#x} is outside the user address space"
    )]
    BadSegment {
        index: usize,
        vaddr: u64,
        memsz: u64,
    },
    #[error("segment {index}: file size {filesz:#x} is larger than memory size {memsz:#x}")]
    FileSizeTooLarge {
        index: usize,
        filesz: u64,
        memsz: u64,
    },
    #[error("segment {index}: virtual address {vaddr:#x} and file offset {offset:#x} differ modulo the page size")]
    Misaligned {
        index: usize,
        vaddr: u64,
        offset: u64,
    },
    #[error("segments overlap: [{a_start:#x}, {a_end:#x}) and [{b_start:#x}, {b_end:#x})")]
    Overlap {
        a_start: u64,
        a_end: u64,
        b_start: u64,
        b_end: u64,
    },
    #[error("entry point {0:#x} is outside every loadable segment")]
    EntryOutside(u64),
}

fn malformed(e: object::read::Error) -> LoadError {
    LoadError::Malformed(e.to_string())
}

/// What the loader tells the stack builder and the brk emulation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadInfo {
    /// The entry point (after relocation for static-pie).
    pub entry: u64,
    /// Where the program headers are in guest memory (AT_PHDR).
    pub phdr: u64,
    pub phent: u64,
    pub phnum: u64,
    /// What was added to every link address (0 for `ET_EXEC`).
    pub load_bias: u64,
    /// The first byte after the highest segment, page aligned: the program break starts here.
    pub brk: u64,
    /// The first page of the lowest segment: the image spans `start..brk`.
    pub start: u64,
    /// The `PT_INTERP` path of a dynamically linked program.
    pub interp: Option<String>,
}

/// One checked `PT_LOAD` segment.
struct Segment {
    vaddr: u64,
    memsz: u64,
    offset: u64,
    filesz: u64,
    perms: Perms,
}

fn page_down(a: u64) -> u64 {
    a & !(PAGE_SIZE - 1)
}

fn page_up(a: u64) -> u64 {
    a.div_ceil(PAGE_SIZE) * PAGE_SIZE
}

/// Loads the ELF image `data` into `mem`; an `ET_DYN` image goes at [`PIE_BASE`].
pub fn load(data: &[u8], mem: &mut Memory) -> Result<LoadInfo, LoadError> {
    load_at(data, mem, PIE_BASE)
}

/// Loads the ELF image `data` into `mem`; an `ET_DYN` image's lowest segment goes at `base`.
pub fn load_at(data: &[u8], mem: &mut Memory, base: u64) -> Result<LoadInfo, LoadError> {
    // Check the identification bytes ourselves to give a precise message.
    if data.len() < 16 || data[..4] != elf::ELFMAG {
        return Err(LoadError::NotElf);
    }
    if data[4] != elf::ELFCLASS64 {
        return Err(LoadError::WrongClass);
    }
    if data[5] != elf::ELFDATA2LSB {
        return Err(LoadError::WrongEndian);
    }
    let header = elf::FileHeader64::<LE>::parse(data).map_err(malformed)?;
    let e = LE;
    let machine = header.e_machine(e);
    if machine != elf::EM_AARCH64 {
        return Err(LoadError::WrongMachine(machine));
    }
    let etype = header.e_type(e);
    if etype != elf::ET_EXEC && etype != elf::ET_DYN {
        return Err(LoadError::WrongType(etype));
    }
    let phdrs = header.program_headers(e, data).map_err(malformed)?;

    let mut segments = Vec::new();
    let mut phdr_vaddr = None;
    let mut interp_path = None;
    for (index, ph) in phdrs.iter().enumerate() {
        match ph.p_type(e) {
            elf::PT_INTERP => {
                let interp = ph
                    .data(e, data)
                    .map_err(|_| LoadError::Malformed("PT_INTERP is outside the file".into()))?;
                let name = String::from_utf8_lossy(interp)
                    .trim_end_matches('\0')
                    .to_string();
                interp_path = Some(name);
            }
            elf::PT_PHDR => phdr_vaddr = Some(ph.p_vaddr(e)),
            elf::PT_LOAD => {
                let (vaddr, memsz) = (ph.p_vaddr(e), ph.p_memsz(e));
                let (offset, filesz) = (ph.p_offset(e), ph.p_filesz(e));
                if memsz > MAX_SEGMENT_SIZE
                    || vaddr.checked_add(memsz).is_none_or(|end| end > ADDR_LIMIT)
                {
                    return Err(LoadError::BadSegment {
                        index,
                        vaddr,
                        memsz,
                    });
                }
                if filesz > memsz {
                    return Err(LoadError::FileSizeTooLarge {
                        index,
                        filesz,
                        memsz,
                    });
                }
                if offset
                    .checked_add(filesz)
                    .is_none_or(|end| end > data.len() as u64)
                {
                    return Err(LoadError::Malformed(format!(
                        "segment {index}: file range {offset:#x}+{filesz:#x} is beyond the end of the file ({:#x} bytes)",
                        data.len()
                    )));
                }
                if vaddr % PAGE_SIZE != offset % PAGE_SIZE {
                    return Err(LoadError::Misaligned {
                        index,
                        vaddr,
                        offset,
                    });
                }
                let flags = ph.p_flags(e);
                let perms = Perms {
                    read: flags & elf::PF_R != 0,
                    write: flags & elf::PF_W != 0,
                    exec: flags & elf::PF_X != 0,
                };
                if memsz > 0 {
                    segments.push(Segment {
                        vaddr,
                        memsz,
                        offset,
                        filesz,
                        perms,
                    });
                }
            }
            _ => {}
        }
    }
    if segments.is_empty() {
        return Err(LoadError::NoSegments);
    }
    segments.sort_by_key(|s| s.vaddr);
    for pair in segments.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if a.vaddr + a.memsz > b.vaddr {
            return Err(LoadError::Overlap {
                a_start: a.vaddr,
                a_end: a.vaddr + a.memsz,
                b_start: b.vaddr,
                b_end: b.vaddr + b.memsz,
            });
        }
    }
    let low = page_down(segments[0].vaddr);
    let high = page_up(
        segments
            .iter()
            .map(|s| s.vaddr + s.memsz)
            .max()
            .unwrap_or(low),
    );
    if high - low > MAX_SEGMENT_SIZE {
        return Err(LoadError::Malformed(format!(
            "segments span {:#x} bytes",
            high - low
        )));
    }
    let load_bias = if etype == elf::ET_DYN { base - low } else { 0 };
    let entry = header.e_entry(e);
    if !segments
        .iter()
        .any(|s| (s.vaddr..s.vaddr + s.memsz).contains(&entry))
    {
        return Err(LoadError::EntryOutside(entry));
    }

    // Map page by page range; a page two segments share gets the union of their permissions.
    let mut mapped_end = 0u64;
    let mut last_perms = Perms::default();
    for s in &segments {
        let start = page_down(s.vaddr) + load_bias;
        let end = page_up(s.vaddr + s.memsz) + load_bias;
        let mut from = start;
        if start < mapped_end {
            // The first page belongs to the previous segment too.
            from = mapped_end;
            let shared = mapped_end - start;
            let joined = union(last_perms, s.perms);
            mem.protect(start, shared, joined)
                .expect("the shared page was mapped just before");
        }
        if from < end {
            mem.map(from, end - from, s.perms)
                .map_err(|e| LoadError::Malformed(e.to_string()))?;
        }
        // Like Linux, the file's bytes from the start of the first page are mapped too (this is
        // how the program headers become visible when the first segment has offset 0).
        let head = if from == start {
            s.vaddr % PAGE_SIZE
        } else {
            0
        };
        let file_from = (s.offset - head) as usize;
        let file_to = (s.offset + s.filesz) as usize;
        mem.poke(s.vaddr + load_bias - head, &data[file_from..file_to])
            .expect("the segment was mapped just before");
        // The pages holding file bytes are a private file mapping in Linux: MADV_DONTNEED
        // does not turn them into zeroes. (Past them, bss is anonymous.)
        let file_end = page_up(s.vaddr + s.filesz) + load_bias;
        mem.keep_contents(start, file_end.min(end) - start);
        mapped_end = end;
        last_perms = if end - start > PAGE_SIZE || from == start {
            s.perms
        } else {
            union(last_perms, s.perms)
        };
    }

    let phoff = header.e_phoff(e);
    let phdr = match phdr_vaddr {
        Some(v) => v + load_bias,
        None => segments
            .iter()
            .find(|s| (s.offset..s.offset + s.filesz).contains(&phoff))
            .map_or(0, |s| s.vaddr + (phoff - s.offset) + load_bias),
    };
    Ok(LoadInfo {
        entry: entry + load_bias,
        phdr,
        phent: u64::from(header.e_phentsize(e)),
        phnum: phdrs.len() as u64,
        load_bias,
        brk: high + load_bias,
        start: segments
            .iter()
            .map(|s| page_down(s.vaddr) + load_bias)
            .min()
            .unwrap_or(load_bias),
        interp: interp_path,
    })
}

fn union(a: Perms, b: Perms) -> Perms {
    Perms {
        read: a.read || b.read,
        write: a.write || b.write,
        exec: a.exec || b.exec,
    }
}
