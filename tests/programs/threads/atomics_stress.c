/* Lock-free code hammered by four threads: fetch-and-add counters of 8, 16 and 64 bits, a
 * compare-and-swap loop, fetch-or/and/xor on owned bit fields, an exchange spinlock, a Treiber
 * stack whose head is a 16-byte (index, tag) pair swapped with a 128-bit compare-and-swap, and
 * a bounded multi-producer multi-consumer ring. Checks exact final counts and contents.
 * Built twice: with load/store-exclusive loops and with the LSE instructions.
 * build llsc: -march=armv8-a -mno-outline-atomics
 * insns llsc: ldaxr stlxr ldxp stlxp ldaxrb ldxrh !cas !ldadd !swp !ldset !ldclr !ldeor
 * build lse: -march=armv8.1-a
 * insns lse: cas casp ldadd swp ldset ldclr ldeor !ldxr !ldaxr !stxr !stlxr */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { THREADS = 4 };
static int failures;

static void check(int ok, const char *what, unsigned long long got, unsigned long long want)
{
    if (ok)
        return;
    printf("FAIL %s: got %llu, want %llu\n", what, got, want);
    failures++;
}

static void run_threads(void *(*fn)(void *), int n)
{
    pthread_t t[8];
    for (long i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, fn, (void *)i) != 0) {
            printf("FAIL pthread_create\n");
            exit(1);
        }
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
}

/* Part 1: fetch-and-add of three widths and a compare-and-swap loop. */
enum { ADDS = 20000 };
static uint64_t count64;
static uint16_t count16;
static uint8_t count8;
static uint32_t cas32;
static uint64_t cas64;

static void *adder(void *arg)
{
    long id = (long)arg;
    for (int i = 0; i < ADDS; i++) {
        __atomic_fetch_add(&count64, 1, __ATOMIC_SEQ_CST);
        __atomic_fetch_add(&count16, 3, __ATOMIC_RELAXED);
        __atomic_fetch_add(&count8, 1, __ATOMIC_ACQ_REL);
        uint64_t old = __atomic_load_n(&cas64, __ATOMIC_RELAXED);
        while (!__atomic_compare_exchange_n(&cas64, &old, old + (uint64_t)(i % 7 + id),
                                            1, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
            ;
        uint32_t o32 = __atomic_load_n(&cas32, __ATOMIC_RELAXED);
        while (!__atomic_compare_exchange_n(&cas32, &o32, o32 * 3 + 1, 0, __ATOMIC_SEQ_CST,
                                            __ATOMIC_RELAXED))
            ;
    }
    return NULL;
}

static void add_part(void)
{
    run_threads(adder, THREADS);
    uint64_t want64 = 0;
    for (long id = 0; id < THREADS; id++)
        for (int i = 0; i < ADDS; i++)
            want64 += (uint64_t)(i % 7 + id);
    /* x -> 3x + 1 applied THREADS * ADDS times from 0, in whatever order. */
    uint32_t want32 = 0;
    for (long i = 0; i < (long)THREADS * ADDS; i++)
        want32 = want32 * 3 + 1;
    check(count64 == (uint64_t)THREADS * ADDS, "fetch_add 64", count64, THREADS * ADDS);
    check(count16 == (uint16_t)(THREADS * ADDS * 3), "fetch_add 16", count16,
          (uint16_t)(THREADS * ADDS * 3));
    check(count8 == (uint8_t)(THREADS * ADDS), "fetch_add 8", count8, (uint8_t)(THREADS * ADDS));
    check(cas64 == want64, "cas loop 64", cas64, want64);
    check(cas32 == want32, "cas loop 32", cas32, want32);
    printf("add: %llu %u %u, cas %llu %u\n", (unsigned long long)count64, count16, count8,
           (unsigned long long)cas64, cas32);
}

/* Part 2: each thread sets, flips and clears its own byte of a shared word; the old values
 * returned must show that no other thread's operation was lost. */
enum { BIT_ROUNDS = 10000 };
static uint64_t bits;
static long bit_errors[THREADS];

static void *bitter(void *arg)
{
    long id = (long)arg;
    for (int i = 0; i < BIT_ROUNDS; i++) {
        uint64_t mine = (uint64_t)((i & 0xff) | 1) << (id * 8);
        uint64_t byte = (uint64_t)0xff << (id * 8);
        uint64_t old = __atomic_fetch_or(&bits, mine, __ATOMIC_ACQ_REL);
        if (old & byte)
            bit_errors[id]++;
        old = __atomic_fetch_xor(&bits, byte, __ATOMIC_RELAXED);
        if ((old & byte) != mine)
            bit_errors[id]++;
        old = __atomic_fetch_and(&bits, ~byte, __ATOMIC_RELEASE);
        if ((old & byte) != (~mine & byte))
            bit_errors[id]++;
    }
    return NULL;
}

static void bit_part(void)
{
    run_threads(bitter, THREADS);
    long errors = 0;
    for (int i = 0; i < THREADS; i++)
        errors += bit_errors[i];
    check(errors == 0, "bit errors", errors, 0);
    check(bits == 0, "bits left", bits, 0);
    printf("bits: %ld errors, word %llx\n", errors, (unsigned long long)bits);
}

/* Part 3: a spinlock taken with an atomic exchange protects a plain counter. */
enum { LOCKS = 10000 };
static int spin;
static long plain;

static void *locker(void *arg)
{
    (void)arg;
    for (int i = 0; i < LOCKS; i++) {
        while (__atomic_exchange_n(&spin, 1, __ATOMIC_ACQUIRE))
            while (__atomic_load_n(&spin, __ATOMIC_RELAXED))
                sched_yield();
        long v = plain;
        __asm__ volatile("" ::: "memory");
        plain = v + 1;
        __atomic_store_n(&spin, 0, __ATOMIC_RELEASE);
    }
    return NULL;
}

static void spin_part(void)
{
    run_threads(locker, THREADS);
    check(plain == THREADS * LOCKS, "spinlock counter", plain, THREADS * LOCKS);
    printf("spinlock: counter %ld\n", plain);
}

/* Part 4: a Treiber stack of pool indices. The head is (tag << 64 | index); every change
 * increments the tag, so a pop that read a stale head fails its 16-byte compare-and-swap. */
enum { POOL = 64, NIL = 0xffffffff, STACK_OPS = 10000 };
struct node {
    uint32_t next;
    uint64_t value;
};
static struct node pool[POOL];
static union {
    unsigned __int128 whole;
    uint64_t half[2];
} head __attribute__((aligned(16)));
static uint64_t added[THREADS];
static long empty_pops[THREADS];

static unsigned __int128 read_head(void)
{
    /* Two single-copy-atomic halves; a torn pair only makes the compare-and-swap fail. */
    uint64_t tag = __atomic_load_n(&head.half[1], __ATOMIC_ACQUIRE);
    uint64_t low = __atomic_load_n(&head.half[0], __ATOMIC_ACQUIRE);
    return (unsigned __int128)tag << 64 | low;
}

static uint32_t pop(void)
{
    for (;;) {
        unsigned __int128 old = read_head();
        uint32_t idx = (uint32_t)old;
        if (idx == NIL)
            return NIL;
        uint32_t next = __atomic_load_n(&pool[idx].next, __ATOMIC_ACQUIRE);
        unsigned __int128 tag = old >> 64;
        if (__sync_bool_compare_and_swap(&head.whole, old, (tag + 1) << 64 | next))
            return idx;
    }
}

static void push(uint32_t idx)
{
    for (;;) {
        unsigned __int128 old = read_head();
        __atomic_store_n(&pool[idx].next, (uint32_t)old, __ATOMIC_RELEASE);
        unsigned __int128 tag = old >> 64;
        if (__sync_bool_compare_and_swap(&head.whole, old, (tag + 1) << 64 | idx))
            return;
    }
}

static void *stacker(void *arg)
{
    long id = (long)arg;
    for (int i = 0; i < STACK_OPS; i++) {
        uint32_t idx = pop();
        if (idx == NIL) {
            empty_pops[id]++;
            continue;
        }
        /* The popped node belongs to this thread until it is pushed back. */
        pool[idx].value += (uint64_t)id + 1;
        added[id] += (uint64_t)id + 1;
        push(idx);
    }
    return NULL;
}

static void stack_part(void)
{
    head.whole = (unsigned __int128)NIL;
    for (uint32_t i = 0; i < POOL; i++)
        push(i);
    run_threads(stacker, THREADS);
    int seen[POOL] = { 0 };
    int count = 0, dups = 0;
    uint64_t sum = 0, want = 0;
    /* At most POOL + 1 pops, so that a cycle made by a broken swap cannot hang the check. */
    for (uint32_t idx; count <= POOL && (idx = pop()) != NIL; count++) {
        if (idx >= POOL || seen[idx]++)
            dups++;
        else
            sum += pool[idx].value;
    }
    for (int i = 0; i < THREADS; i++)
        want += added[i];
    check(count == POOL, "stack nodes", count, POOL);
    check(dups == 0, "stack duplicates", dups, 0);
    check(sum == want, "stack values", sum, want);
    /* Each thread does STACK_OPS pops; those that found the stack empty added nothing. */
    uint64_t ops = 0, moves = 0;
    for (long i = 0; i < THREADS; i++) {
        moves += added[i] / (uint64_t)(i + 1);
        ops += added[i] / (uint64_t)(i + 1) + (uint64_t)empty_pops[i];
    }
    check(ops == (uint64_t)THREADS * STACK_OPS, "stack operations", ops, THREADS * STACK_OPS);
    /* Every successful swap of the head incremented the tag once: POOL pushes at the start,
     * a pop and a push per move, POOL pops at the end. */
    uint64_t tag = head.half[1];
    check(tag == 2 * POOL + 2 * moves, "stack tag", tag, 2 * POOL + 2 * moves);
    printf("stack: %d nodes, %d duplicates, values consistent %d\n", count, dups, sum == want);
}

/* Part 5: a bounded MPMC ring (cells with sequence numbers). Two producers enqueue their
 * numbers in order; two consumers must see each producer's numbers in increasing order. */
enum { RING = 16, PER_PRODUCER = 5000, PRODUCERS = 2, CONSUMERS = 2 };
struct cell {
    uint64_t seq;
    uint64_t data;
};
static struct cell ring[RING];
static uint64_t enqueue_pos, dequeue_pos, consumed;
static uint64_t consumer_sum[CONSUMERS];
static long order_errors[CONSUMERS];

static int enqueue(uint64_t v)
{
    uint64_t pos = __atomic_load_n(&enqueue_pos, __ATOMIC_RELAXED);
    for (;;) {
        struct cell *c = &ring[pos % RING];
        uint64_t seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
        int64_t dif = (int64_t)(seq - pos);
        if (dif == 0) {
            if (__atomic_compare_exchange_n(&enqueue_pos, &pos, pos + 1, 1, __ATOMIC_RELAXED,
                                            __ATOMIC_RELAXED)) {
                c->data = v;
                __atomic_store_n(&c->seq, pos + 1, __ATOMIC_RELEASE);
                return 1;
            }
        } else if (dif < 0) {
            return 0;
        } else {
            pos = __atomic_load_n(&enqueue_pos, __ATOMIC_RELAXED);
        }
    }
}

static int dequeue(uint64_t *v)
{
    uint64_t pos = __atomic_load_n(&dequeue_pos, __ATOMIC_RELAXED);
    for (;;) {
        struct cell *c = &ring[pos % RING];
        uint64_t seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
        int64_t dif = (int64_t)(seq - (pos + 1));
        if (dif == 0) {
            if (__atomic_compare_exchange_n(&dequeue_pos, &pos, pos + 1, 1, __ATOMIC_RELAXED,
                                            __ATOMIC_RELAXED)) {
                *v = c->data;
                __atomic_store_n(&c->seq, pos + RING, __ATOMIC_RELEASE);
                return 1;
            }
        } else if (dif < 0) {
            return 0;
        } else {
            pos = __atomic_load_n(&dequeue_pos, __ATOMIC_RELAXED);
        }
    }
}

static void *ring_worker(void *arg)
{
    long id = (long)arg;
    if (id < PRODUCERS) {
        for (uint64_t i = 1; i <= PER_PRODUCER; i++)
            while (!enqueue((uint64_t)id << 32 | i))
                sched_yield();
        return NULL;
    }
    long c = id - PRODUCERS;
    uint64_t last[PRODUCERS] = { 0 };
    while (__atomic_load_n(&consumed, __ATOMIC_ACQUIRE) < PRODUCERS * PER_PRODUCER) {
        uint64_t v;
        if (!dequeue(&v)) {
            sched_yield();
            continue;
        }
        __atomic_fetch_add(&consumed, 1, __ATOMIC_ACQ_REL);
        uint64_t p = v >> 32, n = v & 0xffffffff;
        if (p >= PRODUCERS || n <= last[p])
            order_errors[c]++;
        else
            last[p] = n;
        consumer_sum[c] += v;
    }
    return NULL;
}

static void ring_part(void)
{
    for (uint64_t i = 0; i < RING; i++)
        ring[i].seq = i;
    run_threads(ring_worker, PRODUCERS + CONSUMERS);
    uint64_t sum = 0, want = 0;
    long errors = 0;
    for (int c = 0; c < CONSUMERS; c++) {
        sum += consumer_sum[c];
        errors += order_errors[c];
    }
    for (uint64_t p = 0; p < PRODUCERS; p++)
        for (uint64_t i = 1; i <= PER_PRODUCER; i++)
            want += p << 32 | i;
    check(consumed == PRODUCERS * PER_PRODUCER, "ring count", consumed,
          PRODUCERS * PER_PRODUCER);
    check(sum == want, "ring sum", sum, want);
    check(errors == 0, "ring order", errors, 0);
    check(enqueue_pos == dequeue_pos, "ring empty", dequeue_pos, enqueue_pos);
    printf("ring: %llu items, sum %llu, order errors %ld\n", (unsigned long long)consumed,
           (unsigned long long)sum, errors);
}

int main(void)
{
    add_part();
    bit_part();
    spin_part();
    stack_part();
    ring_part();
    printf(failures ? "FAIL\n" : "ok\n");
    return failures ? 1 : 0;
}
