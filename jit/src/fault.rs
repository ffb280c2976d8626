//! Guest faults of compiled loads, taken by the host: a compiled load reads guest memory
//! without testing the permission table, and a load the guest may not make hits a host page
//! that is inaccessible (`armature_core::mem`, `View::set_pages`). The host's SIGSEGV comes
//! here; when it came from compiled code and from an address of the guest space, the chain
//! is abandoned as qemu-user abandons a translation block: the handler makes the entry
//! trampoline return [`EXIT_FAULT`], and the dispatcher resumes at the chain's last resume
//! point (`Ctx::resume_pc`), where the CPU state is exact, in the interpreter, which then
//! takes the guest fault itself.
//!
//! This needs the trampoline to save and restore the host registers the dispatcher keeps, so
//! it is x86-64 assembly; on other hosts [`SUPPORTED`] is false and compiled loads test the
//! permission table as stores do.

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod imp {
    use std::cell::Cell;
    use std::sync::OnceLock;

    use armature_core::cpu::Cpu;
    use armature_core::mem::{GUEST_GUARD, GUEST_SPACE};

    use crate::runtime::{Ctx, OFFSET_RESUME_SP};

    /// Whether compiled loads may leave faults to the host.
    pub const SUPPORTED: bool = true;

    /// What the trampoline returns when a chain was abandoned at a host fault.
    pub const EXIT_FAULT: u64 = 2;

    thread_local! {
        /// The context of the chain this thread runs, or null: what the handler looks at.
        static CURRENT: Cell<*mut Ctx> = const { Cell::new(std::ptr::null_mut()) };
    }

    /// `enter(ctx, cpu, code)`: calls the block `code` (tail-call convention, no
    /// instructions counted yet) and gives what it returns. It saves the host registers the
    /// System V convention keeps and records its stack pointer in `ctx.resume_sp`, so that
    /// the fault handler can make it return [`EXIT_FAULT`] from anywhere in the chain.
    #[unsafe(naked)]
    unsafe extern "C" fn enter_raw(_ctx: *mut Ctx, _cpu: *mut Cpu, _code: usize) -> u64 {
        core::arch::naked_asm!(
            "push rbp",
            "mov rbp, rsp",
            "push rbx",
            "push r12",
            "push r13",
            "push r14",
            "push r15",
            // Six pushes and the return address: 16-byte aligned after this.
            "sub rsp, 8",
            "mov [rdi + {sp}], rsp",
            "mov rax, rdx",
            "xor edx, edx",
            "call rax",
            "jmp {leave}",
            sp = const OFFSET_RESUME_SP,
            leave = sym leave,
        );
    }

    /// The trampoline's return, with the stack pointer it recorded and the result in `rax`.
    #[unsafe(naked)]
    unsafe extern "C" fn leave() {
        core::arch::naked_asm!(
            "add rsp, 8",
            "pop r15",
            "pop r14",
            "pop r13",
            "pop r12",
            "pop rbx",
            "pop rbp",
            "ret",
        );
    }

    /// Runs the block `code` of a chain with context `ctx`; see [`enter_raw`] (the module's
    /// own trampoline is not needed).
    ///
    /// # Safety
    /// `code` is a compiled block whose code ranges `ctx` names, `ctx` and `cpu` are live.
    pub unsafe fn enter(ctx: *mut Ctx, cpu: *mut Cpu, code: usize, _: crate::Enter) -> u64 {
        let before = CURRENT.replace(ctx);
        // SAFETY: the caller's contract.
        let r = unsafe { enter_raw(ctx, cpu, code) };
        CURRENT.set(before);
        r
    }

    /// The actions that were installed before [`on_fault`], for faults that are not ours.
    static PREVIOUS: OnceLock<[libc::sigaction; 2]> = OnceLock::new();

    const SIGNALS: [libc::c_int; 2] = [libc::SIGSEGV, libc::SIGBUS];

    /// Installs the handler (once per process).
    pub fn install() {
        PREVIOUS.get_or_init(|| {
            SIGNALS.map(|sig| {
                // SAFETY: plain sigaction calls with fully initialised actions.
                unsafe {
                    let mut act: libc::sigaction = std::mem::zeroed();
                    let handler: extern "C" fn(
                        libc::c_int,
                        *mut libc::siginfo_t,
                        *mut libc::c_void,
                    ) = on_fault;
                    act.sa_sigaction = handler as usize;
                    act.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                    libc::sigemptyset(&mut act.sa_mask);
                    let mut old: libc::sigaction = std::mem::zeroed();
                    libc::sigaction(sig, &act, &mut old);
                    old
                }
            })
        });
    }

    /// Whether the host address `rip` is in the compiled code that `ctx` names.
    fn in_code(ctx: &Ctx, rip: usize) -> bool {
        if ctx.code.is_null() {
            return false;
        }
        // SAFETY: the JIT keeps the ranges alive and unchanged while a chain runs.
        let ranges = unsafe { std::slice::from_raw_parts(ctx.code, ctx.code_len) };
        let i = ranges.partition_point(|&(start, _)| start <= rip);
        i > 0 && rip < ranges[i - 1].1
    }

    extern "C" fn on_fault(sig: libc::c_int, info: *mut libc::siginfo_t, uc: *mut libc::c_void) {
        let ctx = CURRENT.get();
        if !ctx.is_null() {
            // SAFETY: the kernel passes a valid siginfo and ucontext; `ctx` is the running
            // chain's context, set by `enter` on this thread.
            unsafe {
                let uc = &mut *uc.cast::<libc::ucontext_t>();
                let regs = &mut uc.uc_mcontext.gregs;
                let rip = regs[libc::REG_RIP as usize] as usize;
                let addr = (*info).si_addr() as usize;
                let c = &*ctx;
                let base = c.guest_base;
                let in_guest = addr.wrapping_sub(base) < (GUEST_SPACE + GUEST_GUARD) as usize;
                if in_guest && in_code(c, rip) {
                    regs[libc::REG_RSP as usize] = c.resume_sp as i64;
                    regs[libc::REG_RIP as usize] = leave as *const () as usize as i64;
                    regs[libc::REG_RAX as usize] = EXIT_FAULT as i64;
                    return;
                }
            }
        }
        chain(sig, info, uc);
    }

    /// Passes a fault that is not a compiled load's to the action installed before.
    fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, uc: *mut libc::c_void) {
        let Some(previous) = PREVIOUS.get() else {
            return;
        };
        let old = &previous[usize::from(sig != libc::SIGSEGV)];
        let handler = old.sa_sigaction;
        // SAFETY: calling the handler the process had installed, as the kernel would have.
        unsafe {
            if handler == libc::SIG_DFL || handler == libc::SIG_IGN {
                // Back to the default action: the faulting instruction runs again and
                // the kernel kills the process with the signal.
                libc::sigaction(sig, old, std::ptr::null_mut());
            } else if old.sa_flags & libc::SA_SIGINFO != 0 {
                let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    std::mem::transmute(handler);
                f(sig, info, uc);
            } else {
                let f: extern "C" fn(libc::c_int) = std::mem::transmute(handler);
                f(sig);
            }
        }
    }
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
mod imp {
    use armature_core::cpu::Cpu;

    use crate::runtime::Ctx;

    /// Whether compiled loads may leave faults to the host.
    pub const SUPPORTED: bool = false;

    /// Never returned here.
    pub const EXIT_FAULT: u64 = 2;

    pub fn install() {}

    /// Runs the block `code` through the module's own trampoline `enter`.
    ///
    /// # Safety
    /// As [`crate::Enter`].
    pub unsafe fn enter(ctx: *mut Ctx, cpu: *mut Cpu, code: usize, enter: crate::Enter) -> u64 {
        // SAFETY: the caller's contract.
        unsafe { enter(ctx, cpu, code) }
    }
}

pub use imp::*;
