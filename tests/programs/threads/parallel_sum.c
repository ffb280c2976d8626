/* Sums an array of pseudo-random numbers split across eight threads; each thread returns its
 * partial sum through pthread_join and the total must equal the sum computed by one thread. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { THREADS = 8, N = 1 << 18 };
static uint64_t data[N];

struct slice {
    size_t begin, end;
    uint64_t sum, xor_all;
};

static void *sum_slice(void *arg)
{
    struct slice *s = arg;
    uint64_t sum = 0, x = 0;
    for (size_t i = s->begin; i < s->end; i++) {
        sum += data[i];
        x ^= data[i] * (i | 1);
    }
    struct slice *result = malloc(sizeof *result);
    if (!result)
        return NULL;
    *result = *s;
    result->sum = sum;
    result->xor_all = x;
    return result;
}

int main(void)
{
    uint64_t state = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < N; i++) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        data[i] = state >> 20;
    }
    uint64_t want_sum = 0, want_xor = 0;
    for (size_t i = 0; i < N; i++) {
        want_sum += data[i];
        want_xor ^= data[i] * (i | 1);
    }

    pthread_t t[THREADS];
    struct slice s[THREADS];
    /* Uneven slices so that the boundaries matter. */
    size_t begin = 0;
    for (int i = 0; i < THREADS; i++) {
        size_t end = i == THREADS - 1 ? N : begin + N / THREADS + (i % 3) * 1001 - 1001;
        s[i] = (struct slice){ begin, end, 0, 0 };
        begin = end;
        if (pthread_create(&t[i], NULL, sum_slice, &s[i]) != 0) {
            printf("FAIL pthread_create %d\n", i);
            return 1;
        }
    }
    uint64_t sum = 0, x = 0;
    size_t covered = 0;
    int failures = 0;
    for (int i = 0; i < THREADS; i++) {
        void *ret;
        if (pthread_join(t[i], &ret) != 0 || ret == NULL) {
            printf("FAIL join %d\n", i);
            return 1;
        }
        struct slice *r = ret;
        if (r->begin != s[i].begin || r->end != s[i].end) {
            printf("FAIL slice %d returned [%zu, %zu)\n", i, r->begin, r->end);
            failures++;
        }
        covered += r->end - r->begin;
        sum += r->sum;
        x ^= r->xor_all;
        free(r);
    }
    if (covered != N) {
        printf("FAIL covered %zu of %d\n", covered, N);
        failures++;
    }
    if (sum != want_sum || x != want_xor) {
        printf("FAIL sum %llu xor %llx, want %llu %llx\n", (unsigned long long)sum,
               (unsigned long long)x, (unsigned long long)want_sum, (unsigned long long)want_xor);
        failures++;
    }
    printf("sum %llu xor %016llx over %d threads\n", (unsigned long long)sum,
           (unsigned long long)x, THREADS);
    printf(failures ? "FAIL\n" : "ok\n");
    return failures ? 1 : 0;
}
