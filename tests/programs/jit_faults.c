/* Faults inside hot code, which armature's JIT runs compiled (a loop that branches to itself,
 * two blocks that continue into each other, a loop around an if/else with an inner loop,
 * whose branches stay inside one compiled region, and LDP/STP pairs whose first or second
 * access faults, or that straddle a page): the SIGSEGV handler must see the faulting
 * instruction's PC and the registers and flags as they were before it, however many passes
 * the compiled code made. The handler skips the instruction (PC + 4, for a load with a
 * replacement value), so execution resumes in the middle of compiled code. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

enum { N = 1000 };

/* walk(ptrs, n): sums *ptrs[i]; x2 is i, x3 the sum, x5 counts by 3 in the first of two
 * blocks (the unconditional branch splits them). */
uint64_t walk(uint64_t **ptrs, uint64_t n);
/* fill(ptrs, n): stores i + 7 to *ptrs[i], in a loop that is one block. */
void fill(uint64_t **ptrs, uint64_t n);
/* diamond(ptrs, n): for each i, even ones subtract i from the sum (x3) and count three passes
 * of an inner loop (x5); odd ones add *ptrs[i], after a SUBS that sets the flags (N). */
uint64_t diamond(uint64_t **ptrs, uint64_t n);
/* pairs(ptrs, n): loads the two doublewords at ptrs[i] with LDP (x10, x11), adds both to the
 * sum (x3) and writes them back swapped with STP. */
uint64_t pairs(uint64_t **ptrs, uint64_t n);
extern char walk_fault[], fill_fault[], diamond_fault[], pairs_load_fault[], pairs_store_fault[];

__asm__(".text\n"
        ".global walk\n"
        ".type walk, %function\n"
        "walk:\n"
        "    mov x2, #0\n"
        "    mov x3, #0\n"
        "    mov x5, #0\n"
        "1:  ldr x9, [x0, x2, lsl #3]\n"
        "    add x5, x5, #3\n"
        "    cmp x2, x1\n"
        "    b 2f\n"
        "2:\n"
        ".global walk_fault\n"
        "walk_fault:\n"
        "    ldr x10, [x9]\n"
        "    add x3, x3, x10\n"
        "    add x2, x2, #1\n"
        "    cmp x2, x1\n"
        "    b.ne 1b\n"
        "    mov x0, x3\n"
        "    ret\n"
        ".size walk, .-walk\n"
        ".global fill\n"
        ".type fill, %function\n"
        "fill:\n"
        "    mov x2, #0\n"
        "1:  ldr x9, [x0, x2, lsl #3]\n"
        "    add x4, x2, #7\n"
        "    adds x6, x2, x1\n"
        ".global fill_fault\n"
        "fill_fault:\n"
        "    str x4, [x9]\n"
        "    add x2, x2, #1\n"
        "    cmp x2, x1\n"
        "    b.ne 1b\n"
        "    ret\n"
        ".size fill, .-fill\n"
        ".global diamond\n"
        ".type diamond, %function\n"
        "diamond:\n"
        "    mov x2, #0\n"
        "    mov x3, #0\n"
        "    mov x5, #0\n"
        "1:  tst x2, #1\n"
        "    b.ne 3f\n"
        "    sub x3, x3, x2\n"
        "    mov x7, #3\n"
        "2:  add x5, x5, #1\n"
        "    subs x7, x7, #1\n"
        "    b.ne 2b\n"
        "    b 4f\n"
        "3:  ldr x9, [x0, x2, lsl #3]\n"
        "    subs x6, x2, x1\n"
        ".global diamond_fault\n"
        "diamond_fault:\n"
        "    ldr x10, [x9]\n"
        "    add x3, x3, x10\n"
        "4:  add x2, x2, #1\n"
        "    cmp x2, x1\n"
        "    b.ne 1b\n"
        "    mov x0, x3\n"
        "    ret\n"
        ".size diamond, .-diamond\n"
        ".global pairs\n"
        ".type pairs, %function\n"
        "pairs:\n"
        "    mov x2, #0\n"
        "    mov x3, #0\n"
        "1:  ldr x9, [x0, x2, lsl #3]\n"
        "    mov x10, #0\n"
        "    mov x11, #5\n"
        ".global pairs_load_fault\n"
        "pairs_load_fault:\n"
        "    ldp x10, x11, [x9]\n"
        "    add x3, x3, x10\n"
        "    add x3, x3, x11\n"
        ".global pairs_store_fault\n"
        "pairs_store_fault:\n"
        "    stp x11, x10, [x9]\n"
        "    add x2, x2, #1\n"
        "    cmp x2, x1\n"
        "    b.ne 1b\n"
        "    mov x0, x3\n"
        "    ret\n"
        ".size pairs, .-pairs\n");

static void on_segv(int sig, siginfo_t *si, void *v) {
    ucontext_t *uc = v;
    unsigned long long *r = (unsigned long long *)uc->uc_mcontext.regs;
    uintptr_t pc = uc->uc_mcontext.pc;
    unsigned long long nzcv = uc->uc_mcontext.pstate & 0xf0000000u;
    int at_x9 = (uintptr_t)si->si_addr == r[9];
    /* Only the registers the loops set: the others hold what the C code left there. */
    if (pc == (uintptr_t)walk_fault)
        printf("sig %d code %d in walk: addr==x9 %d x2 %llu x3 %llu x5 %llu nzcv %#llx\n", sig,
               si->si_code, at_x9, r[2], r[3], r[5], nzcv);
    else if (pc == (uintptr_t)fill_fault)
        printf("sig %d code %d in fill: addr==x9 %d x2 %llu x4 %llu x6 %llu nzcv %#llx\n", sig,
               si->si_code, at_x9, r[2], r[4], r[6], nzcv);
    else if (pc == (uintptr_t)diamond_fault)
        printf("sig %d code %d in diamond: addr==x9 %d x2 %llu x3 %lld x5 %llu x6 %llu nzcv %#llx\n",
               sig, si->si_code, at_x9, r[2], (long long)r[3], r[5], r[6], nzcv);
    else if (pc == (uintptr_t)pairs_load_fault || pc == (uintptr_t)pairs_store_fault)
        printf("sig %d code %d in pairs %s: addr-x9 %lld x2 %llu x3 %llu x10 %llu x11 %llu\n",
               sig, si->si_code, pc == (uintptr_t)pairs_load_fault ? "ldp" : "stp",
               (long long)((uintptr_t)si->si_addr - r[9]), r[2], r[3], r[10], r[11]);
    else
        printf("sig %d code %d elsewhere\n", sig, si->si_code);
    r[10] = 100;
    uc->uc_mcontext.pc = pc + 4;
}

static uint64_t *ptrs[N];
static uint64_t cells[N];
static uint64_t pair_cells[N][2] __attribute__((aligned(16)));

int main(void) {
    setvbuf(stdout, 0, _IONBF, 0);
    uint64_t *none = mmap(0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint64_t *ro = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, 0);
    for (int i = 0; i < N; i++) {
        cells[i] = 1;
        ptrs[i] = &cells[i];
    }
    /* A fault while the code is cold, then ones in compiled code. */
    ptrs[3] = none;
    ptrs[600] = none;
    ptrs[601] = (uint64_t *)0x10;
    ptrs[900] = none;
    printf("walk: %llu\n", (unsigned long long)walk(ptrs, N));
    printf("walk again: %llu\n", (unsigned long long)walk(ptrs, N));
    for (int i = 0; i < N; i++)
        ptrs[i] = &cells[i];
    ptrs[5] = ro;
    ptrs[700] = ro;
    ptrs[701] = (uint64_t *)((uintptr_t)ro + 8);
    fill(ptrs, N);
    uint64_t sum = 0;
    for (int i = 0; i < N; i++)
        sum += cells[i];
    printf("fill: %llu\n", (unsigned long long)sum);
    for (int i = 0; i < N; i++)
        ptrs[i] = &cells[i];
    ptrs[3] = none;
    ptrs[601] = none;
    ptrs[603] = (uint64_t *)0x10;
    ptrs[901] = none;
    printf("diamond: %lld\n", (long long)diamond(ptrs, N));
    printf("diamond again: %lld\n", (long long)diamond(ptrs, N));
    /* Pairs: aligned ones (one check for both accesses), a misaligned one, ones that fault on
     * the first access (unmapped, read-only for the store) and ones that straddle into an
     * unmapped page, where the first access happens and the second faults. */
    uint64_t *two = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect((char *)two + 4096, 4096, PROT_NONE);
    uint64_t *edge = (uint64_t *)((char *)two + 4096 - 8);
    *edge = 9;
    for (int i = 0; i < N; i++) {
        pair_cells[i][0] = i;
        pair_cells[i][1] = 1;
        ptrs[i] = pair_cells[i];
    }
    ptrs[3] = none;
    ptrs[600] = edge;
    ptrs[601] = ro;
    ptrs[602] = &pair_cells[602][1];
    ptrs[900] = edge;
    printf("pairs: %llu\n", (unsigned long long)pairs(ptrs, N));
    printf("pairs again: %llu\n", (unsigned long long)pairs(ptrs, N - 1));
    sum = 0;
    for (int i = 0; i < N; i++)
        sum += pair_cells[i][0] * 3 + pair_cells[i][1];
    printf("pair cells: %llu edge %llu\n", (unsigned long long)sum, (unsigned long long)*edge);
    return 0;
}
