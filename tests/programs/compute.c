/* Integer computation: 64-bit multiply, divide and remainder (signed and unsigned), 128-bit
 * integers, bit operations through builtins, a switch that compiles to a jump table, and a sieve. */
#include <stdint.h>
#include <stdio.h>

static void print_u128(unsigned __int128 v) {
    char buf[48];
    int i = 47;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    printf("%s", buf + i);
}

__attribute__((noinline)) static const char *classify(unsigned v) {
    switch (v % 12) {
    case 0: return "zero";
    case 1: return "one";
    case 2: return "two";
    case 3: return "three";
    case 4: return "four";
    case 5: return "five";
    case 6: return "six";
    case 7: return "seven";
    case 8: return "eight";
    case 9: return "nine";
    case 10: return "ten";
    default: return "eleven";
    }
}

__attribute__((noinline)) static int dense(int op, int a, int b) {
    switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    case 3: return b ? a / b : 0;
    case 4: return b ? a % b : 0;
    case 5: return a & b;
    case 6: return a | b;
    case 7: return a ^ b;
    case 8: return a << (b & 31);
    case 9: return a >> (b & 31);
    default: return -1;
    }
}

int main(void) {
    static const int64_t sv[] = {0, 1, -1, 3, -7, 1000000007, -999999999999LL, INT64_MAX,
                                 INT64_MIN, 0x123456789abcdefLL};
    enum { NS = sizeof sv / sizeof sv[0] };
    uint64_t h = 0;
    for (int i = 0; i < NS; i++) {
        for (int j = 0; j < NS; j++) {
            int64_t a = sv[i], b = sv[j];
            uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
            h = h * 1000003 + ua * ub;
            if (b != 0 && !(a == INT64_MIN && b == -1))
                h = h * 1000003 + (uint64_t)(a / b) + (uint64_t)(a % b);
            if (ub != 0)
                h = h * 1000003 + ua / ub + ua % ub;
            __int128 p = (__int128)a * b;
            unsigned __int128 up = (unsigned __int128)ua * ub;
            h = h * 1000003 + (uint64_t)(p >> 64) + (uint64_t)(up >> 64);
        }
        printf("%lld: mulh=%lld umulh=%llu\n", (long long)sv[i],
               (long long)(((__int128)sv[i] * sv[(i + 3) % NS]) >> 64),
               (unsigned long long)(((unsigned __int128)(uint64_t)sv[i] * 0xfedcba9876543210ULL) >>
                                    64));
    }
    printf("mixed hash %016llx\n", (unsigned long long)h);

    unsigned __int128 f = 1;
    for (int i = 1; i <= 33; i++) {
        f *= (unsigned)i;
        if (i % 8 == 1 || i == 33) {
            printf("%d! = ", i);
            print_u128(f);
            printf("\n");
        }
    }
    unsigned __int128 q = f / 1000000007u;
    printf("33!/1e9+7 = ");
    print_u128(q);
    printf(" rem %llu\n", (unsigned long long)(f % 1000000007u));
    __int128 neg = -(__int128)f / 12345;
    printf("signed 128 div: %lld %llu\n", (long long)(neg >> 64), (unsigned long long)neg);

    uint64_t x = 0x0123456789abcdefULL;
    for (int i = 0; i < 8; i++) {
        printf("%016llx pop %d clz %d ctz %d clrsb %d parity %d bswap %016llx rev32 %08x\n",
               (unsigned long long)x, __builtin_popcountll(x), x ? __builtin_clzll(x) : 64,
               x ? __builtin_ctzll(x) : 64, __builtin_clrsbll((long long)x),
               __builtin_parityll(x), (unsigned long long)__builtin_bswap64(x),
               __builtin_bswap32((uint32_t)x));
        printf("  32-bit pop %d clz %d ctz %d rotl %08x\n", __builtin_popcount((unsigned)x),
               (unsigned)x ? __builtin_clz((unsigned)x) : 32,
               (unsigned)x ? __builtin_ctz((unsigned)x) : 32,
               ((unsigned)x << 7) | ((unsigned)x >> 25));
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        x >>= i * 7;
    }

    int counts[12] = {0};
    for (unsigned v = 0; v < 1000; v++)
        counts[v % 12] += classify(v * 7)[0];
    for (int i = 0; i < 12; i++)
        printf("%s=%d ", classify((unsigned)i), counts[i]);
    printf("\n");
    int64_t acc = 0;
    for (int op = 0; op < 12; op++)
        for (int a = -20; a < 20; a += 3)
            for (int b = -5; b < 6; b += 2)
                acc = acc * 3 + dense(op, a * 1000003, b);
    printf("dense %lld\n", (long long)acc);

    enum { LIMIT = 200000 };
    static unsigned char composite[LIMIT];
    unsigned primes = 0;
    uint64_t psum = 0;
    for (unsigned i = 2; i < LIMIT; i++) {
        if (composite[i])
            continue;
        primes++;
        psum += i;
        for (unsigned j = i * 2; j < LIMIT; j += i)
            composite[j] = 1;
    }
    printf("primes below %d: %u sum %llu\n", LIMIT, primes, (unsigned long long)psum);
    return 0;
}
