/* Exercises setjmp/longjmp: a jump out of deep recursion, nested jump buffers, values 0 and
 * non-zero, volatile locals kept across the jump, and sigsetjmp/siglongjmp without signals. */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

static jmp_buf outer, inner;
static int calls;

static long recurse(int depth, int limit) {
    char pad[64];
    memset(pad, depth & 0xff, sizeof pad);
    calls++;
    if (depth == limit)
        longjmp(outer, depth);
    return recurse(depth + 1, limit) + pad[depth % 64];
}

static void level2(int v) {
    if (v % 2)
        longjmp(inner, v);
    longjmp(outer, 100 + v);
}

static void level1(int v) {
    volatile int local = v * 10;
    int r = setjmp(inner);
    if (r == 0) {
        level2(v);
    }
    printf("  inner caught %d local %d\n", r, local);
    if (r < 5)
        level2(r + 1);
    longjmp(outer, 0);
}

int main(void) {
    for (int limit = 1; limit <= 10000; limit *= 10) {
        calls = 0;
        int r = setjmp(outer);
        if (r == 0)
            recurse(0, limit);
        else
            printf("recursion to %d returned %d after %d calls\n", limit, r, calls);
    }
    volatile int round = 0;
    int r = setjmp(outer);
    printf("outer got %d in round %d\n", r, round);
    round++;
    if (round < 4)
        level1(round);

    sigjmp_buf sj;
    volatile int count = 0;
    if (sigsetjmp(sj, 1) < 3) {
        count++;
        siglongjmp(sj, count);
    }
    printf("siglongjmp looped %d times\n", count);

    /* Floating-point callee-saved registers survive the jump. */
    volatile double d = 1.5;
    jmp_buf fb;
    if (setjmp(fb) == 0) {
        d *= 3;
        longjmp(fb, 1);
    }
    printf("double %.3f\n", d);
    return 0;
}
