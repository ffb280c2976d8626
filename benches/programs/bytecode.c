/* A small stack bytecode interpreter running an iterative Fibonacci and a prime sieve. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { PUSH, LOAD, STORE, ADD, SUB, LT, JZ, JMP, MOD, HALT };

static int64_t run(const int64_t *code, int64_t *vars) {
    int64_t stack[64];
    int sp = 0, pc = 0;
    for (;;) {
        switch (code[pc++]) {
        case PUSH: stack[sp++] = code[pc++]; break;
        case LOAD: stack[sp++] = vars[code[pc++]]; break;
        case STORE: vars[code[pc++]] = stack[--sp]; break;
        case ADD: sp--; stack[sp - 1] += stack[sp]; break;
        case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
        case LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
        case MOD: sp--; stack[sp - 1] %= stack[sp]; break;
        case JZ: { int64_t t = code[pc++]; if (!stack[--sp]) pc = (int)t; } break;
        case JMP: pc = (int)code[pc]; break;
        case HALT: return stack[sp - 1];
        }
    }
}

int main(int argc, char **argv) {
    int64_t n = argc > 1 ? atol(argv[1]) : 3000000;
    /* v0 = a, v1 = b, v2 = i, v3 = n: for (i = 0; i < n; i++) { t = a + b; a = b; b = t % 1000000007 } */
    const int64_t fib[] = {
        PUSH, 0, STORE, 0, PUSH, 1, STORE, 1, PUSH, 0, STORE, 2,
        /* 12 */ LOAD, 2, LOAD, 3, LT, JZ, 44,
        LOAD, 0, LOAD, 1, ADD, PUSH, 1000000007, MOD, LOAD, 1, STORE, 0, STORE, 1,
        LOAD, 2, PUSH, 1, ADD, STORE, 2, JMP, 12, HALT, HALT,
        /* 44 */ LOAD, 0, HALT,
    };
    int64_t vars[8] = {0, 0, 0, n};
    int64_t r = run(fib, vars);
    printf("fib(%lld) mod p = %lld\n", (long long)n, (long long)r);
    return 0;
}
