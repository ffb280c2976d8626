/* Exclusive, atomic and ordered accesses must be aligned (`AArch64.CheckAlignment` without
 * FEAT_LSE2): a misaligned one raises SIGBUS with BUS_ADRALN and the fault address, while a
 * plain load at the same address works. Each instruction is given as its encoding (.inst), so
 * that every build assembles it whatever its -march: X0 is the data register, X1 the address
 * and X2 the status or compare register. A store-exclusive without a monitor fails before it
 * looks at the alignment (IMPLEMENTATION DEFINED; qemu-aarch64 and armature do so). LDAPR is
 * left out: qemu-aarch64 7.2 does not check its alignment (extensions/src/base/tests.rs does). */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static sigjmp_buf back;
static volatile int got_signo, got_code;
static volatile uintptr_t got_addr;

static void on_bus(int signo, siginfo_t *info, void *uc) {
    (void)uc;
    got_signo = signo;
    got_code = info->si_code;
    got_addr = (uintptr_t)info->si_addr;
    siglongjmp(back, 1);
}

#define INSN(name, word)                                                                       \
    static uint64_t name(uint64_t *addr) {                                                     \
        register uint64_t x0 asm("x0") = 5;                                                    \
        register uint64_t *x1 asm("x1") = addr;                                                \
        register uint64_t x2 asm("x2") = 0;                                                    \
        asm volatile(".inst " #word : "+r"(x0), "+r"(x1), "+r"(x2) : : "x3", "memory");        \
        return x0;                                                                             \
    }

INSN(ldxr_x, 0xc85f7c20)    /* LDXR X0, [X1] */
INSN(ldaxr_w, 0x885ffc20)   /* LDAXR W0, [X1] */
INSN(stxr_x, 0xc8027c20)    /* STXR W2, X0, [X1] */
INSN(ldxp_x, 0xc87f0c20)    /* LDXP X0, X3, [X1] */
INSN(ldar_x, 0xc8dffc20)    /* LDAR X0, [X1] */
INSN(ldar_w, 0x88dffc20)    /* LDAR W0, [X1] */
INSN(stlr_x, 0xc89ffc20)    /* STLR X0, [X1] */
INSN(ldapur_x, 0xd9400020)  /* LDAPUR X0, [X1] */
INSN(ldadd_x, 0xf8220020)   /* LDADD X2, X0, [X1] */
INSN(swp_w, 0xb8228020)     /* SWP W2, W0, [X1] */
INSN(casal_x, 0xc8e2fc20)   /* CASAL X2, X0, [X1] */
INSN(ldr_x, 0xf9400020)     /* LDR X0, [X1] */

static const struct {
    const char *name;
    uint64_t (*run)(uint64_t *);
} insns[] = {
    {"ldxr x", ldxr_x},     {"ldaxr w", ldaxr_w}, {"stxr x", stxr_x}, {"ldxp x", ldxp_x},
    {"ldar x", ldar_x},     {"ldar w", ldar_w},   {"stlr x", stlr_x}, {"ldapur x", ldapur_x}, {"ldadd x", ldadd_x}, {"swp w", swp_w},   {"casal x", casal_x},
    {"ldr x", ldr_x},
};

static _Alignas(16) unsigned char buf[64];

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_bus;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGBUS, &sa, NULL);
    for (unsigned i = 0; i < sizeof insns / sizeof insns[0]; i++) {
        static const unsigned offsets[] = {0, 1, 4, 8, 9};
        for (unsigned k = 0; k < sizeof offsets / sizeof offsets[0]; k++) {
            unsigned off = offsets[k];
            got_signo = 0;
            uint64_t *at = (uint64_t *)(buf + 16 + off);
            if (sigsetjmp(back, 1) == 0) {
                insns[i].run(at);
                printf("%-9s +%-2u ok\n", insns[i].name, off);
            } else {
                printf("%-9s +%-2u signal %d code %d at +%ld\n", insns[i].name, off, got_signo,
                       got_code, (long)(got_addr - (uintptr_t)buf));
            }
        }
    }
    return 0;
}
