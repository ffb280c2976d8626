/* Prints integers of every width through printf's integer conversions (d, i, u, x, X, o, c, with
 * flags, widths, precisions and length modifiers) and parses them back with strtol/strtoull. */
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static const long long values[] = {
    0, 1, -1, 7, -7, 42, 127, -128, 255, 32767, -32768, 65535, 2147483647, -2147483647 - 1,
    4294967295LL, 1234567890123LL, -987654321098LL, LLONG_MAX, LLONG_MIN,
};

int main(void) {
    unsigned long long sum = 0;
    for (unsigned i = 0; i < sizeof values / sizeof values[0]; i++) {
        long long v = values[i];
        printf("[%d] [%5d] [%-5d] [%05d] [%+d] [% d] [%.3d]\n", (int)v, (int)v, (int)v, (int)v,
               (int)v, (int)v, (int)v);
        printf("[%hhd] [%hd] [%ld] [%lld] [%jd] [%zd]\n", (signed char)v, (short)v, (long)v, v,
               (intmax_t)v, (ssize_t)v);
        printf("[%u] [%x] [%X] [%o] [%#x] [%#o] [%08x]\n", (unsigned)v, (unsigned)v, (unsigned)v,
               (unsigned)v, (unsigned)v, (unsigned)v, (unsigned)v);
        printf("[%llu] [%llx] [%#llX] [%llo] [%20llu] [%-20llx|]\n", (unsigned long long)v,
               (unsigned long long)v, (unsigned long long)v, (unsigned long long)v,
               (unsigned long long)v, (unsigned long long)v);
        printf("[%" PRId8 "] [%" PRIu16 "] [%" PRIx32 "] [%" PRIo64 "] [%*d] [%.*lld]\n",
               (int8_t)v, (uint16_t)v, (uint32_t)v, (uint64_t)v, 12, (int)v, 22, v);
        char buf[64];
        snprintf(buf, sizeof buf, "%lld", v);
        long long back = strtoll(buf, NULL, 10);
        snprintf(buf, sizeof buf, "%llx", (unsigned long long)v);
        unsigned long long hex = strtoull(buf, NULL, 16);
        printf("back %lld %llu %s\n", back, hex, back == v ? "same" : "DIFFERENT");
        sum = sum * 31 + (unsigned long long)back + hex;
    }
    printf("[%c%c%c] [%5c] [%-3c|] [%%] [%s] [%.3s] [%8s] [%-8s|]\n", 'a', 'B', '0', 'x', 'y',
           "str", "truncate", "right", "left");
    printf("strtol: %ld %ld %ld %lu\n", strtol("  -0x1f", NULL, 16), strtol("0777", NULL, 0),
           strtol("z", NULL, 36), strtoul("18446744073709551615", NULL, 10));
    printf("checksum %llu\n", sum);
    return 0;
}
