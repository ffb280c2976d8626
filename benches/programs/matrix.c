/* Integer matrix multiplication with a transposed operand. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 160;
    int32_t *a = malloc(sizeof(int32_t) * n * n), *b = malloc(sizeof(int32_t) * n * n);
    int64_t *c = malloc(sizeof(int64_t) * n * n);
    for (int i = 0; i < n * n; i++) {
        a[i] = (i * 7 + 3) % 101 - 50;
        b[i] = (i * 13 + 5) % 97 - 48;
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            int64_t s = 0;
            for (int k = 0; k < n; k++) s += (int64_t)a[i * n + k] * b[j * n + k];
            c[i * n + j] = s;
        }
    int64_t trace = 0, sum = 0;
    for (int i = 0; i < n; i++) trace += c[i * n + i];
    for (int i = 0; i < n * n; i++) sum ^= c[i] * (i + 1);
    printf("%d %lld %lld\n", n, (long long)trace, (long long)sum);
    return 0;
}
