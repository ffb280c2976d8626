/* A tiny JIT inside the guest: it writes instructions, makes them executable, calls them often
 * enough that armature's JIT compiles them, then rewrites them and calls them again. The new
 * code must run, never a stale translation of the old: with W^X (mmap RW, mprotect RX),
 * rewriting in place on an RWX mapping, and a function that patches an instruction of its own
 * body ahead of itself (with the cache maintenance and ISB Arm asks for). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

typedef uint64_t (*fn_t)(uint64_t);

enum { PAGE = 4096, CALLS = 200 };

static const uint32_t RET = 0xd65f03c0;

/* patch(x0, word, at): stores word at `at` (the movz below, in the copy that runs), makes it
 * visible to instruction fetch, and runs it. */
extern char patch_template[], patch_template_end[];
__asm__(".text\n"
        ".global patch_template, patch_template_end\n"
        "patch_template:\n"
        "    str w1, [x2]\n"
        "    dc cvau, x2\n"
        "    dsb ish\n"
        "    ic ivau, x2\n"
        "    dsb ish\n"
        "    isb\n"
        "    movz x0, #1\n"
        "    ret\n"
        "patch_template_end:\n");

/* add x0, x0, #imm; ret */
static void emit_add(uint32_t *code, unsigned imm) {
    code[0] = 0x91000000u | (imm << 10);
    code[1] = RET;
    __builtin___clear_cache((char *)code, (char *)(code + 2));
}

/* Calls f CALLS times, threading its result through. */
static uint64_t run(uint32_t *code) {
    fn_t f = (fn_t)(uintptr_t)code;
    uint64_t x = 0;
    for (int i = 0; i < CALLS; i++)
        x = f(x);
    return x;
}

int main(void) {
    uint32_t *wx = mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint32_t *rwx = mmap(0, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (wx == MAP_FAILED || rwx == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    for (unsigned v = 1; v <= 4; v++) {
        mprotect(wx, PAGE, PROT_READ | PROT_WRITE);
        emit_add(wx, v);
        mprotect(wx, PAGE, PROT_READ | PROT_EXEC);
        printf("w^x %u: %llu\n", v, (unsigned long long)run(wx));
    }
    for (unsigned v = 1; v <= 4; v++) {
        emit_add(rwx, 10 * v);
        printf("rwx %u: %llu\n", v, (unsigned long long)run(rwx));
    }
    /* Two functions on one page, the second rewritten while the first stays hot. */
    emit_add(rwx, 1);
    emit_add(rwx + 16, 2);
    for (unsigned v = 3; v <= 5; v++) {
        uint64_t a = run(rwx);
        emit_add(rwx + 16, v);
        printf("pair %u: %llu %llu\n", v, (unsigned long long)a, (unsigned long long)run(rwx + 16));
    }
    /* A function that patches an instruction of its own ahead of itself, with the cache
     * maintenance and ISB that make the new instruction the one that runs. */
    uint32_t *self = rwx + 64;
    memcpy(self, patch_template, (size_t)(patch_template_end - patch_template));
    __builtin___clear_cache((char *)self, (char *)self + (patch_template_end - patch_template));
    typedef uint64_t (*patch_t)(uint64_t, uint64_t, uint32_t *);
    patch_t patch = (patch_t)(uintptr_t)self;
    uint64_t sum = 0;
    for (unsigned i = 0; i < CALLS; i++) {
        uint32_t movz = 0xd2800000u | ((i % 7) << 5); /* movz x0, #(i % 7) */
        sum += patch(0, movz, self + 6);
    }
    printf("self: %llu\n", (unsigned long long)sum);
    return 0;
}
