/* Integer hashing: FNV-1a and xorshift over a buffer, many rounds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t xorshift(uint64_t *s) {
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 200;
    static uint8_t buf[1 << 16];
    uint64_t s = 0x9e3779b97f4a7c15ull, h = 0;
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)xorshift(&s);
    for (int r = 0; r < rounds; r++) {
        uint64_t f = 0xcbf29ce484222325ull;
        for (size_t i = 0; i < sizeof buf; i++) {
            f ^= buf[i];
            f *= 0x100000001b3ull;
        }
        h ^= f + (h << 6) + (h >> 2);
        buf[r & 0xffff] ^= (uint8_t)h;
    }
    printf("%016llx\n", (unsigned long long)h);
    return 0;
}
