/* Signal delivery and return, printed so that armature's output can be compared with
 * qemu-aarch64's (tests/run.rs). Every line is deterministic. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static sigjmp_buf env;
static volatile int last_code;
static volatile uintptr_t last_addr;
static volatile int count;

static void on_segv(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    last_code = si->si_code;
    last_addr = (uintptr_t)si->si_addr;
    siglongjmp(env, sig);
}

static void segv(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, 0);
    sigaction(SIGBUS, &sa, 0);
    if (sigsetjmp(env, 1) == 0) {
        (void)*(volatile int *)0x1000;
        puts("segv: not reached");
    }
    printf("segv read: code %d addr %#lx\n", last_code, (unsigned long)last_addr);
    char *ro = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int sig = sigsetjmp(env, 1);
    if (sig == 0) {
        ro[8] = 1;
        puts("segv: not reached");
    }
    printf("segv write: sig %d code %d at ro+8 %d\n", sig, last_code,
           last_addr == (uintptr_t)(ro + 8));
    /* The mask was restored by siglongjmp: SIGSEGV is deliverable again. */
    sig = sigsetjmp(env, 1);
    if (sig == 0)
        (void)*(volatile long *)0x2008;
    printf("segv again: code %d addr %#lx\n", last_code, (unsigned long)last_addr);
    signal(SIGSEGV, SIG_DFL);
}

/* The handler skips the faulting instruction and sets X0 through the ucontext. */
static void on_ill(int sig, siginfo_t *si, void *p) {
    ucontext_t *uc = p;
    printf("ill: sig %d code %d addr==pc %d\n", sig, si->si_code,
           (uintptr_t)si->si_addr == uc->uc_mcontext.pc);
    uc->uc_mcontext.regs[0] = 42;
    uc->uc_mcontext.pc += 4;
}

static void ill(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_ill;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGILL, &sa, 0);
    long x;
    __asm__ volatile("mov x0, #1\n\t.inst 0x00000000\n\tmov %0, x0" : "=r"(x) : : "x0");
    printf("ill: x0 after %ld\n", x);
}

/* BRK: SIGTRAP; the handler changes V0 in the FP/SIMD record and skips the BRK. */
static void on_trap(int sig, siginfo_t *si, void *p) {
    ucontext_t *uc = p;
    printf("trap: sig %d code %d\n", sig, si->si_code);
    struct fpsimd_context *fp = (struct fpsimd_context *)uc->uc_mcontext.__reserved;
    printf("trap: fpsimd magic %#x size %u\n", fp->head.magic, fp->head.size);
    double three = 3.0;
    memcpy(&fp->vregs[0], &three, sizeof three);
    /* Clobber the live registers: rt_sigreturn restores them from the frame. */
    __asm__ volatile("fmov d0, #2.0\n\tfmov d1, #2.0" ::: "v0", "v1");
    uc->uc_mcontext.pc += 4;
}

static void trap(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_trap;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGTRAP, &sa, 0);
    /* The bits of the doubles, so that printing needs no floating-point instruction. */
    unsigned long d0, d1;
    __asm__ volatile("fmov d0, #1.0\n\tfmov d1, #1.0\n\tbrk #0\n\tfmov %0, d0\n\tfmov %1, d1"
                     : "=r"(d0), "=r"(d1)
                     :
                     : "v0", "v1");
    printf("trap: d0 %#lx d1 %#lx\n", d0, d1);
}

static void on_usr1(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    count++;
    printf("usr1: sig %d code %d pid ok %d uid ok %d\n", sig, si->si_code,
           si->si_pid == getpid(), si->si_uid == getuid());
    sigset_t now;
    sigprocmask(SIG_SETMASK, 0, &now);
    printf("usr1: blocked in handler %d\n", sigismember(&now, SIGUSR1));
}

static void info(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, 0);
    raise(SIGUSR1);
    kill(getpid(), SIGUSR1);
    printf("usr1: count %d\n", count);
}

static void on_usr2(int sig);

static void on_queued(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    printf("queued: sig %d code %d value %d pid ok %d\n", sig, si->si_code, si->si_value.sival_int,
           si->si_pid == getpid());
}

static void queued(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_queued;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGRTMIN + 1, &sa, 0);
    union sigval v = {.sival_int = 1234};
    printf("queued: sigqueue %d\n", sigqueue(getpid(), SIGRTMIN + 1, v));
    /* Real-time signals queue while blocked; standard ones merge. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN + 1);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, 0);
    for (int i = 0; i < 3; i++) {
        v.sival_int = i;
        sigqueue(getpid(), SIGRTMIN + 1, v);
    }
    count = 0;
    signal(SIGUSR2, on_usr2);
    raise(SIGUSR2);
    raise(SIGUSR2);
    sigprocmask(SIG_UNBLOCK, &set, 0);
    printf("queued: usr2 count %d\n", count);
}

static void on_usr2(int sig) {
    count++;
    printf("usr2: sig %d\n", sig);
}

static void mask(void) {
    count = 0;
    signal(SIGUSR2, on_usr2);
    sigset_t set, pend;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, 0);
    raise(SIGUSR2);
    raise(SIGUSR2);
    sigpending(&pend);
    printf("mask: count %d pending %d\n", count, sigismember(&pend, SIGUSR2));
    sigprocmask(SIG_UNBLOCK, &set, 0);
    printf("mask: count %d after unblock\n", count);
    /* Ignored signals are discarded. */
    signal(SIGUSR2, SIG_IGN);
    raise(SIGUSR2);
    raise(SIGCHLD);
    raise(SIGWINCH);
    raise(SIGURG);
    printf("mask: ignored ones did nothing\n");
}

static char altstack[65536];

static void on_alt(int sig) {
    char here;
    stack_t ss;
    sigaltstack(0, &ss);
    printf("alt: sig %d on the alternate stack %d flags %d\n", sig,
           &here >= altstack && &here < altstack + sizeof altstack, ss.ss_flags);
}

static void alt(void) {
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    printf("alt: sigaltstack %d\n", sigaltstack(&ss, 0));
    stack_t small = {.ss_sp = altstack, .ss_size = 100, .ss_flags = 0};
    printf("alt: too small %d\n", sigaltstack(&small, 0));
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alt;
    sa.sa_flags = SA_ONSTACK | SA_RESETHAND | SA_NODEFER;
    sigaction(SIGHUP, &sa, 0);
    raise(SIGHUP);
    struct sigaction old;
    sigaction(SIGHUP, 0, &old);
    printf("alt: reset to default %d\n", old.sa_handler == SIG_DFL);
    sigaltstack(0, &ss);
    printf("alt: flags outside %d\n", ss.ss_flags);
}

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31) /* linux/signal.h */
#endif

static void on_autodisarm(int sig, siginfo_t *si, void *p) {
    ucontext_t *uc = p;
    char here;
    stack_t now;
    sigaltstack(0, &now);
    printf("autodisarm: sig %d on it %d uc_stack flags %#x now flags %#x size %d\n", sig,
           &here >= altstack && &here < altstack + sizeof altstack, uc->uc_stack.ss_flags,
           now.ss_flags, (int)now.ss_size);
    (void)si;
}

static void autodisarm(void) {
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = SS_AUTODISARM};
    printf("autodisarm: sigaltstack %d\n", sigaltstack(&ss, 0));
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_autodisarm;
    sa.sa_flags = SA_ONSTACK | SA_SIGINFO;
    sigaction(SIGHUP, &sa, 0);
    raise(SIGHUP);
    sigaltstack(0, &ss);
    printf("autodisarm: after flags %#x size %d\n", ss.ss_flags, (int)ss.ss_size);
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, 0);
}

/* The kernel's struct sigaction, set without SA_RESTORER: the handler returns through the
 * kernel's (vDSO) trampoline. */
struct ksigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    unsigned long mask;
};

static void no_restorer(void) {
    count = 0;
    struct ksigaction ka = {.handler = on_usr2, .flags = 0, .restorer = 0, .mask = 0};
    long r = syscall(SYS_rt_sigaction, SIGUSR2, &ka, 0, 8);
    printf("restorer: rt_sigaction %ld\n", r);
    syscall(SYS_tgkill, getpid(), gettid(), SIGUSR2);
    printf("restorer: back, count %d\n", count);
}

static void suspend(void) {
    count = 0;
    signal(SIGUSR1, on_usr2);
    sigset_t set, empty, now;
    sigemptyset(&set);
    sigemptyset(&empty);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, 0);
    raise(SIGUSR1);
    int r = sigsuspend(&empty);
    sigprocmask(SIG_SETMASK, 0, &now);
    printf("suspend: %d errno EINTR %d count %d still blocked %d\n", r, errno == EINTR, count,
           sigismember(&now, SIGUSR1));
    /* sigtimedwait takes a pending signal without running the handler. */
    raise(SIGUSR1);
    siginfo_t si;
    struct timespec zero = {0, 0};
    r = sigtimedwait(&set, &si, &zero);
    printf("timedwait: %d code %d count %d\n", r, si.si_code, count);
    r = sigtimedwait(&set, &si, &zero);
    printf("timedwait: %d errno EAGAIN %d\n", r, errno == EAGAIN);
    sigprocmask(SIG_UNBLOCK, &set, 0);
}

int main(void) {
    setvbuf(stdout, 0, _IONBF, 0);
    segv();
    ill();
    trap();
    info();
    mask();
    alt();
    no_restorer();
    suspend();
    autodisarm();
    queued();
    puts("done");
    return 0;
}
