/* Sums an array of pseudo-random numbers split across eight threads; each thread returns its
 * partial sum through pthread_join and the total must equal the sum computed by one thread.
 * Then creates and joins 96 short threads in batches (thread ids and stacks are reused), some
 * with a small stack size and some on stacks the program allocates itself. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

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

/* A short thread: returns its argument squared if it runs on the stack it was given. */
struct short_arg {
    long n;
    char *stack_lo, *stack_hi;
    long tid;
};

static void *short_thread(void *arg)
{
    struct short_arg *a = arg;
    char here;
    a->tid = syscall(SYS_gettid);
    if (a->stack_lo && (&here < a->stack_lo || &here >= a->stack_hi))
        return (void *)-1L;
    return (void *)(a->n * a->n);
}

enum { BATCH = 8, BATCHES = 12, STACK = 256 * 1024 };

/* Returns the number of failures. */
static int churn(void)
{
    static char stacks[BATCH][STACK] __attribute__((aligned(16)));
    long total = 0, want = 0;
    int failures = 0, distinct_fail = 0;
    for (int b = 0; b < BATCHES; b++) {
        pthread_t t[BATCH];
        struct short_arg a[BATCH];
        for (int i = 0; i < BATCH; i++) {
            pthread_attr_t attr;
            pthread_attr_init(&attr);
            a[i] = (struct short_arg){ b * BATCH + i, NULL, NULL, 0 };
            /* PTHREAD_STACK_MIN is 128 KiB on AArch64; smaller sizes are refused. */
            int bad = 0;
            if (i % 4 == 1)
                bad = pthread_attr_setstacksize(&attr, STACK);
            if (i % 4 == 2) {
                bad = pthread_attr_setstack(&attr, stacks[i], sizeof stacks[i]);
                a[i].stack_lo = stacks[i];
                a[i].stack_hi = stacks[i] + sizeof stacks[i];
            }
            if (bad) {
                printf("FAIL stack attribute: error %d\n", bad);
                failures++;
            }
            if (pthread_create(&t[i], &attr, short_thread, &a[i]) != 0) {
                printf("FAIL pthread_create in batch %d\n", b);
                return failures + 1;
            }
            pthread_attr_destroy(&attr);
        }
        for (int i = 0; i < BATCH; i++) {
            void *r;
            if (pthread_join(t[i], &r) != 0) {
                printf("FAIL join in batch %d\n", b);
                failures++;
                continue;
            }
            total += (long)r;
            want += (long)(b * BATCH + i) * (b * BATCH + i);
        }
        /* Threads alive at the same time have distinct ids, none the process's. */
        for (int i = 0; i < BATCH; i++) {
            distinct_fail += a[i].tid <= 0 || a[i].tid == getpid();
            for (int j = 0; j < i; j++)
                distinct_fail += a[i].tid == a[j].tid;
        }
    }
    if (total != want) {
        printf("FAIL churn total %ld, want %ld\n", total, want);
        failures++;
    }
    if (distinct_fail) {
        printf("FAIL %d thread ids repeated within a batch\n", distinct_fail);
        failures++;
    }
    printf("churn: %d threads, total %ld\n", BATCH * BATCHES, total);
    return failures;
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
    failures += churn();
    printf(failures ? "FAIL\n" : "ok\n");
    return failures ? 1 : 0;
}
