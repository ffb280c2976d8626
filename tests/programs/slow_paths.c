/* Hot loops whose memory accesses take the JIT's slow path (misaligned loads and stores,
 * tagged pointers that top-byte-ignore strips) while many integer and floating-point values
 * stay live in registers across them: armature calls its runtime there in a convention that
 * must keep every register, and the sums show whether it did. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { N = 4096, PASSES = 64 };

static unsigned char bytes[8 * N + 64];

static uint64_t load64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static uint32_t load32(const unsigned char *p) {
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static void store64(unsigned char *p, uint64_t v) { memcpy(p, &v, sizeof v); }

/* Eight integer and four double accumulators across misaligned loads. */
__attribute__((noinline)) static void misaligned(const unsigned char *p, uint64_t s[8], double d[4]) {
    uint64_t a = 1, b = 2, c = 3, e = 4, f = 5, g = 6, h = 7, k = 8;
    double x = 0.5, y = 1.5, z = 2.5, w = 3.5;
    for (int pass = 0; pass < PASSES; pass++) {
        for (int i = 0; i < N; i++) {
            uint64_t v = load64(p + 8 * i + 1);
            uint32_t u = load32(p + 8 * i + 3);
            a += v;
            b ^= (v >> 3) + pass;
            c += u * 3;
            e = (e << 1 | e >> 63) + u;
            f += a ^ c;
            g -= b;
            h += (v & 0xff) * i;
            k ^= f + g;
            x += (double)(u & 0xffff) * 0.25;
            y = y * 0.999 + (double)(v & 0xff);
            z -= (double)(u >> 24) * 0.125;
            w += x - y;
        }
    }
    uint64_t r[8] = {a, b, c, e, f, g, h, k};
    memcpy(s, r, sizeof r);
    d[0] = x, d[1] = y, d[2] = z, d[3] = w;
}

/* Misaligned stores, each followed by the accumulators' use. */
__attribute__((noinline)) static uint64_t scatter(unsigned char *p, double *out) {
    uint64_t a = 11, b = 13, c = 17, e = 19;
    double x = 0.25, y = 4.0;
    for (int pass = 0; pass < PASSES; pass++) {
        for (int i = 0; i < N - 1; i++) {
            store64(p + 8 * i + 5, a + i);
            a = a * 6364136223846793005u + 1442695040888963407u;
            b += a >> 7;
            c ^= b + i;
            e += c >> 3;
            x += (double)(a >> 40) * 0.5;
            y = y * 0.5 + (double)(b & 0xfff);
        }
    }
    *out = x + y;
    return a ^ b ^ c ^ e ^ load64(p + 77);
}

/* Loads through pointers with a tag in the top byte. */
__attribute__((noinline)) static uint64_t tagged(const uint64_t *base, double *out) {
    uint64_t a = 0, b = 1, c = 2;
    double x = 1.0;
    for (int pass = 0; pass < PASSES; pass++) {
        for (int i = 0; i < N; i++) {
            const uint64_t *q =
                (const uint64_t *)((uintptr_t)(base + i) | ((uintptr_t)(i & 0x7f) << 56));
            uint64_t v = *q;
            a += v;
            b = b * 31 + (v >> 11);
            c ^= a + b;
            x += (double)(v & 0x3ff) / 1024.0;
        }
    }
    *out = x;
    return a ^ b ^ c;
}

int main(void) {
    uint64_t seed = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < sizeof bytes; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        bytes[i] = (unsigned char)seed;
    }
    uint64_t s[8];
    double d[4];
    misaligned(bytes, s, d);
    for (int i = 0; i < 8; i++) printf("s%d %016llx\n", i, (unsigned long long)s[i]);
    for (int i = 0; i < 4; i++) printf("d%d %.6f\n", i, d[i]);
    double out;
    uint64_t r = scatter(bytes, &out);
    printf("scatter %016llx %.6f\n", (unsigned long long)r, out);
    static uint64_t words[N];
    memcpy(words, bytes, sizeof words);
    r = tagged(words, &out);
    printf("tagged %016llx %.6f\n", (unsigned long long)r, out);
    return 0;
}
