//! What compiled blocks call: guest memory, the exclusive monitor, helpers and system
//! registers, each through the interpreter's own `Sem` implementation, so the JIT's memory
//! semantics (permissions, faults, top-byte-ignore, host atomics, code changes) are the
//! interpreter's by construction.
//!
//! Every function takes the block's [`Ctx`]; the ones that can stop record the stop in it and
//! set `status`, which the block tests after the call.

use armature_core::cpu::{AccelScratch, Cpu};
use armature_core::interp::Interp;
use armature_core::sem::{AtomicOp, Helper, Sem, Stop, SysReg};

/// The state a running block shares with its runtime calls; `#[repr(C)]` because compiled
/// code reads `status` and `second` at fixed offsets.
#[repr(C)]
pub struct Ctx {
    /// The machine the block runs on.
    pub interp: *mut Interp,
    /// 0, or [`STATUS_STOP`] (a stop is in `stop`), or [`STATUS_CODE`] (a write changed code:
    /// the block ends after the instruction).
    pub status: u64,
    /// The second result of a pair operation.
    pub second: u64,
    /// How many instructions the chain of blocks completed (written at its exit).
    pub count: u64,
    /// The host address of the exit slot through which the chain left for a block it had
    /// no code for yet, for the dispatcher to fill; 0 when it left otherwise.
    pub link: u64,
    /// The arguments of a slow-path load or store ([`rt_load`], [`rt_store`]): its PC,
    /// address, size and value. They come through memory so that the call's only argument is
    /// the context, which the block already holds in the first argument register: values
    /// the block keeps in the others stay where they are. A load's value comes back in the
    /// first.
    pub args: [u64; 4],
    /// Where the chain keeps NZCV between its blocks: [`FLAGS_CPU`] when the CPU state's
    /// `nzcv` holds it, or [`FLAGS_SUB`] when it is the flags of the subtraction
    /// `flags[1] - flags[2]` at 64 bits (a compare at 32 bits has both operands shifted up by
    /// 32). A block that leaves after a compare stores the two operands rather than packing
    /// NZCV, and the next one computes what it reads from them. [`Ctx::settle_flags`] puts
    /// them into the CPU state before anything else sees it.
    pub flags: [u64; 3],
    /// The chain's last resume point (where compiled loads leave faults to the host,
    /// [`crate::fault`]): the PC of an instruction and the instructions counted before it,
    /// stored where the CPU state (and `flags`) is exactly the state before that instruction
    /// and no guest memory was written since.
    pub resume_pc: u64,
    pub resume_count: u64,
    /// The stack pointer of the entry trampoline, which the fault handler returns through.
    pub resume_sp: u64,
    /// The flags of the resume point when compiled code copied them here (`flags`, then the
    /// CPU state's `nzcv`): a region that stores the flags eagerly changes `flags` after its
    /// resume point. [`NO_SNAPSHOT`] first when `flags` and `nzcv` are the resume point's.
    pub resume_flags: [u64; 4],
    /// The host code ranges of the compiled blocks, sorted (the fault handler's test that a
    /// fault came from compiled code).
    pub code: *const (usize, usize),
    pub code_len: usize,
    /// The host address of guest address 0 and of the permission table
    /// (`Memory::host_base`, `Memory::page_table`), which compiled code loads once per
    /// region rather than building them as constants at every access.
    pub guest_base: usize,
    pub page_table: usize,
    pub stop: Option<Stop>,
}

/// Where the context of a chain running on `cpu` lives: in its scratch area.
pub fn ctx_in(cpu: *mut Cpu) -> *mut Ctx {
    const {
        assert!(size_of::<Ctx>() <= size_of::<AccelScratch>());
        assert!(align_of::<Ctx>() <= align_of::<AccelScratch>());
    }
    // SAFETY: only an address is computed.
    unsafe { std::ptr::addr_of_mut!((*cpu).accel).cast() }
}

/// The offset of the context from the CPU state ([`ctx_in`]).
pub const CTX_IN_CPU: i64 = std::mem::offset_of!(Cpu, accel) as i64;

pub const STATUS_STOP: u64 = 1;
pub const STATUS_CODE: u64 = 2;
pub const OFFSET_STATUS: i32 = 8;
pub const OFFSET_SECOND: i32 = 16;
pub const OFFSET_COUNT: i32 = 24;
pub const OFFSET_LINK: i32 = 32;
pub const OFFSET_ARGS: i32 = 40;
pub const OFFSET_FLAGS: i32 = 72;
pub const OFFSET_RESUME_PC: i32 = 96;
pub const OFFSET_RESUME_COUNT: i32 = 104;
pub const OFFSET_RESUME_SP: usize = 112;
pub const OFFSET_RESUME_FLAGS: i32 = 120;
pub const OFFSET_GUEST_BASE: i32 = std::mem::offset_of!(Ctx, guest_base) as i32;
pub const OFFSET_PAGE_TABLE: i32 = std::mem::offset_of!(Ctx, page_table) as i32;
pub const NO_SNAPSHOT: u64 = u64::MAX;
pub const FLAGS_CPU: u64 = 0;
pub const FLAGS_SUB: u64 = 1;

const _: () = {
    assert!(std::mem::offset_of!(Ctx, status) == OFFSET_STATUS as usize);
    assert!(std::mem::offset_of!(Ctx, second) == OFFSET_SECOND as usize);
    assert!(std::mem::offset_of!(Ctx, count) == OFFSET_COUNT as usize);
    assert!(std::mem::offset_of!(Ctx, link) == OFFSET_LINK as usize);
    assert!(std::mem::offset_of!(Ctx, args) == OFFSET_ARGS as usize);
    assert!(std::mem::offset_of!(Ctx, flags) == OFFSET_FLAGS as usize);
    assert!(std::mem::offset_of!(Ctx, resume_pc) == OFFSET_RESUME_PC as usize);
    assert!(std::mem::offset_of!(Ctx, resume_count) == OFFSET_RESUME_COUNT as usize);
    assert!(std::mem::offset_of!(Ctx, resume_sp) == OFFSET_RESUME_SP);
    assert!(std::mem::offset_of!(Ctx, resume_flags) == OFFSET_RESUME_FLAGS as usize);
};

impl Ctx {
    /// A context for a chain on `interp`, with NZCV in the CPU state.
    pub fn new(interp: *mut Interp) -> Ctx {
        Ctx {
            interp,
            status: 0,
            second: 0,
            count: 0,
            link: 0,
            args: [0; 4],
            flags: [FLAGS_CPU, 0, 0],
            resume_pc: 0,
            resume_count: 0,
            resume_sp: 0,
            resume_flags: [NO_SNAPSHOT; 4],
            code: std::ptr::null(),
            code_len: 0,
            guest_base: 0,
            page_table: 0,
            stop: None,
        }
    }

    /// After a chain was abandoned at a host fault: the CPU state and `flags` as they were at
    /// the resume point, and the instructions counted up to it.
    pub fn resume(&mut self, m: &mut Interp) {
        self.count = self.resume_count;
        m.cpu.pc = self.resume_pc;
        if self.resume_flags[0] != NO_SNAPSHOT {
            let [kind, x, b, nzcv] = self.resume_flags;
            self.flags = [kind, x, b];
            m.cpu.nzcv = nzcv as _;
        }
        self.settle_flags(m);
    }

    /// Puts NZCV into `m.cpu.nzcv` when the chain left it as a subtraction's operands: the
    /// flags of `AddWithCarry(x, NOT(b), 1)`, the interpreter's own.
    pub fn settle_flags(&mut self, m: &mut Interp) {
        if settle(self.flags, m) {
            self.flags[0] = FLAGS_CPU;
        }
    }
}

/// Puts the flags a chain keeps as `flags` into `m`'s CPU state; whether it had to (they
/// were a subtraction's, and now the CPU state holds them).
fn settle(flags: [u64; 3], m: &mut Interp) -> bool {
    let [kind, x, b] = flags;
    if kind == FLAGS_SUB {
        m.cpu.nzcv = m.add_with_carry(x, !b, 1, 64).1;
    }
    kind == FLAGS_SUB
}

/// The interpreter of `ctx` with its PC at the instruction `pc`, as its memory operations
/// expect (a store that changes code ends the block after `pc`).
///
/// # Safety
/// `ctx` is the live context of the running block, whose `interp` is not otherwise borrowed.
unsafe fn machine<'a>(ctx: *mut Ctx, pc: u64) -> &'a mut Interp {
    // SAFETY: the caller's contract.
    let m = unsafe { &mut *(*ctx).interp };
    m.cpu.pc = pc;
    m
}

/// Turns a result into the block's value, recording a stop or a code change.
///
/// # Safety
/// As [`machine`].
unsafe fn finish(ctx: *mut Ctx, r: Result<u64, Stop>) -> u64 {
    // The context lives in the machine's CPU state (`ctx_in`): it is written through `ctx`
    // only after the last use of the machine.
    match r {
        Ok(v) => {
            // SAFETY: the caller's contract.
            unsafe {
                if (*(*ctx).interp).take_next_pc().is_some() {
                    (*ctx).status = STATUS_CODE;
                }
            }
            v
        }
        Err(stop) => {
            // SAFETY: as above.
            unsafe {
                (*ctx).stop = Some(stop);
                (*ctx).status = STATUS_STOP;
            }
            0
        }
    }
}

/// A load the inline path did not do; its PC, address and size are in `ctx.args`. Gives the
/// value, and leaves it in `ctx.args[0]` for a block that calls it in `preserve_all`, which
/// has no result.
pub extern "C" fn rt_load(ctx: *mut Ctx) -> u64 {
    // SAFETY: called by a block with its context.
    unsafe {
        let [pc, addr, size, _] = (*ctx).args;
        let r = machine(ctx, pc).load(addr, size as u8);
        let v = finish(ctx, r);
        (*ctx).args[0] = v;
        v
    }
}

/// A store the inline path did not do; its PC, address, size and value are in `ctx.args`.
pub extern "C" fn rt_store(ctx: *mut Ctx) -> u64 {
    // SAFETY: called by a block with its context.
    unsafe {
        let [pc, addr, size, v] = (*ctx).args;
        let r = machine(ctx, pc).store(addr, size as u8, v).map(|()| 0);
        finish(ctx, r)
    }
}

pub extern "C" fn rt_check_aligned(ctx: *mut Ctx, pc: u64, addr: u64, size: u64, write: u64) {
    // SAFETY: called by a block with its context.
    unsafe {
        let r = machine(ctx, pc).check_aligned(addr, size as u8, write != 0);
        finish(ctx, r.map(|()| 0));
    }
}

pub extern "C" fn rt_load_exclusive(ctx: *mut Ctx, pc: u64, addr: u64, size: u64) -> u64 {
    // SAFETY: called by a block with its context.
    unsafe {
        let r = machine(ctx, pc).load_exclusive(addr, size as u8);
        finish(ctx, r)
    }
}

pub extern "C" fn rt_store_exclusive(ctx: *mut Ctx, pc: u64, addr: u64, size: u64, v: u64) -> u64 {
    // SAFETY: called by a block with its context.
    unsafe {
        let r = machine(ctx, pc).store_exclusive(addr, size as u8, v);
        finish(ctx, r)
    }
}

pub extern "C" fn rt_clear_exclusive(ctx: *mut Ctx, pc: u64) {
    // SAFETY: called by a block with its context.
    unsafe { machine(ctx, pc).clear_exclusive() }
}

pub extern "C" fn rt_load_exclusive_pair(ctx: *mut Ctx, pc: u64, addr: u64) -> u64 {
    // SAFETY: called by a block with its context.
    unsafe {
        let r = machine(ctx, pc).load_exclusive_pair(addr).map(|(lo, hi)| {
            (*ctx).second = hi;
            lo
        });
        finish(ctx, r)
    }
}

pub extern "C" fn rt_store_exclusive_pair(
    ctx: *mut Ctx,
    pc: u64,
    addr: u64,
    low: u64,
    high: u64,
) -> u64 {
    // SAFETY: called by a block with its context.
    unsafe {
        let r = machine(ctx, pc).store_exclusive_pair(addr, low, high);
        finish(ctx, r)
    }
}

pub extern "C" fn rt_atomic(ctx: *mut Ctx, pc: u64, op: u64, addr: u64, size: u64, v: u64) -> u64 {
    let op = AtomicOp::ALL[op as usize % AtomicOp::ALL.len()];
    // SAFETY: called by a block with its context.
    unsafe {
        let r = machine(ctx, pc).atomic(op, addr, size as u8, v);
        finish(ctx, r)
    }
}

pub extern "C" fn rt_compare_swap(
    ctx: *mut Ctx,
    pc: u64,
    addr: u64,
    size: u64,
    expected: u64,
    new: u64,
) -> u64 {
    // SAFETY: called by a block with its context.
    unsafe {
        let r = machine(ctx, pc).compare_swap(addr, size as u8, expected, new);
        finish(ctx, r)
    }
}

/// The pair's values come through memory (`args`: address, expected low and high, new low
/// and high), which keeps the call within six arguments.
pub extern "C" fn rt_compare_swap_pair(ctx: *mut Ctx, pc: u64, args: *const u64) -> u64 {
    // SAFETY: the block passes five values on its stack.
    let a = unsafe { std::slice::from_raw_parts(args, 5) };
    // SAFETY: called by a block with its context.
    unsafe {
        let r = machine(ctx, pc)
            .compare_swap_pair(a[0], (a[1], a[2]), (a[3], a[4]))
            .map(|(lo, hi)| {
                (*ctx).second = hi;
                lo
            });
        finish(ctx, r)
    }
}

/// `Sem::call`: the helper gets the CPU state, which the block wrote back before the call
/// (NZCV settled into it) and reloads after it.
pub extern "C" fn rt_call(
    ctx: *mut Ctx,
    cpu: *mut Cpu,
    helper: usize,
    args: *const u64,
    n: u64,
) -> u64 {
    // SAFETY: `helper` is a `Helper` the recorder stored as an address.
    let f: Helper = unsafe { std::mem::transmute::<usize, Helper>(helper) };
    // SAFETY: the block passes its context, its CPU state and `n` (at most four) values on
    // its stack.
    unsafe {
        // The context is in the CPU state: written after the machine's last use here.
        if settle((*ctx).flags, &mut *(*ctx).interp) {
            (*ctx).flags[0] = FLAGS_CPU;
        }
        f(&mut *cpu, std::slice::from_raw_parts(args, n as usize))
    }
}

/// A system register the block does not keep in a variable (ID registers, the timer).
pub extern "C" fn rt_sysreg(ctx: *mut Ctx, pc: u64, code: u64) -> u64 {
    let r = match code >> 32 {
        0 => SysReg::IdReg(code as u16),
        1 => SysReg::CntvctEl0,
        _ => SysReg::CntfrqEl0,
    };
    // SAFETY: called by a block with its context.
    unsafe { machine(ctx, pc).sysreg(r) }
}

/// The entry points of the slow paths of compiled loads and stores. On x86-64 each saves every
/// host register that the System V convention lets a callee change, `rax` too (a
/// `preserve_all` signature has no result: the load's value is in `Ctx::args`), so that a
/// block calls it in Cranelift's `preserve_all` convention and keeps its
/// values in registers across the call: a slow path rarely runs, and values live across one
/// would otherwise be spilled on the fast path too. Helpers and atomics, which run every
/// time, keep the host convention.
#[cfg(target_arch = "x86_64")]
pub mod preserving {
    use cranelift_codegen::isa::CallConv;

    /// The convention in which blocks call these entry points.
    pub const CALL_CONV: Option<CallConv> = Some(CallConv::PreserveAll);

    macro_rules! preserving {
        ($($name:ident),* $(,)?) => {$(
            #[doc = concat!("[`super::", stringify!($name), "`], keeping every register.")]
            #[unsafe(naked)]
            pub extern "C" fn $name() {
                // Nine pushes leave the stack 16-byte aligned (the caller left it 8 past a
                // boundary); so does the 272-byte save area, for the call.
                core::arch::naked_asm!(
                    "push rax", "push rcx", "push rdx", "push rsi", "push rdi",
                    "push r8", "push r9", "push r10", "push r11",
                    "sub rsp, 272",
                    "movdqu [rsp], xmm0", "movdqu [rsp + 16], xmm1",
                    "movdqu [rsp + 32], xmm2", "movdqu [rsp + 48], xmm3",
                    "movdqu [rsp + 64], xmm4", "movdqu [rsp + 80], xmm5",
                    "movdqu [rsp + 96], xmm6", "movdqu [rsp + 112], xmm7",
                    "movdqu [rsp + 128], xmm8", "movdqu [rsp + 144], xmm9",
                    "movdqu [rsp + 160], xmm10", "movdqu [rsp + 176], xmm11",
                    "movdqu [rsp + 192], xmm12", "movdqu [rsp + 208], xmm13",
                    "movdqu [rsp + 224], xmm14", "movdqu [rsp + 240], xmm15",
                    "call {f}",
                    "movdqu xmm0, [rsp]", "movdqu xmm1, [rsp + 16]",
                    "movdqu xmm2, [rsp + 32]", "movdqu xmm3, [rsp + 48]",
                    "movdqu xmm4, [rsp + 64]", "movdqu xmm5, [rsp + 80]",
                    "movdqu xmm6, [rsp + 96]", "movdqu xmm7, [rsp + 112]",
                    "movdqu xmm8, [rsp + 128]", "movdqu xmm9, [rsp + 144]",
                    "movdqu xmm10, [rsp + 160]", "movdqu xmm11, [rsp + 176]",
                    "movdqu xmm12, [rsp + 192]", "movdqu xmm13, [rsp + 208]",
                    "movdqu xmm14, [rsp + 224]", "movdqu xmm15, [rsp + 240]",
                    "add rsp, 272",
                    "pop r11", "pop r10", "pop r9", "pop r8",
                    "pop rdi", "pop rsi", "pop rdx", "pop rcx", "pop rax",
                    "ret",
                    f = sym super::$name,
                );
            }
        )*};
    }

    preserving!(rt_load, rt_store);
}

/// Elsewhere blocks call the runtime functions themselves, in the host's convention.
#[cfg(not(target_arch = "x86_64"))]
pub mod preserving {
    pub use super::{rt_load, rt_store};

    /// `None`: the host's default convention.
    pub const CALL_CONV: Option<cranelift_codegen::isa::CallConv> = None;
}
