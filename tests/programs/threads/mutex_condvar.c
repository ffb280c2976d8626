/* Mutex contention, a producer/consumer queue with condition variables, barrier rounds and a
 * reader/writer lock, each between four or more threads. Prints one line per part with the
 * final counts (never interleavings) and exits 1 when a check fails. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static int failures;

static void check(int ok, const char *what, long got, long want)
{
    if (ok)
        return;
    printf("FAIL %s: got %ld, want %ld\n", what, got, want);
    failures++;
}

static void start(pthread_t *t, void *(*fn)(void *), void *arg)
{
    if (pthread_create(t, NULL, fn, arg) != 0) {
        printf("FAIL pthread_create\n");
        exit(1);
    }
}

/* Four threads increment one counter under a mutex. */
enum { MUTEX_THREADS = 4, MUTEX_ITERS = 10000 };
static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *mutex_worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < MUTEX_ITERS; i++) {
        pthread_mutex_lock(&counter_lock);
        long v = counter;
        __asm__ volatile("" ::: "memory");
        counter = v + 1;
        pthread_mutex_unlock(&counter_lock);
    }
    return NULL;
}

static void mutex_part(void)
{
    pthread_t t[MUTEX_THREADS];
    for (int i = 0; i < MUTEX_THREADS; i++)
        start(&t[i], mutex_worker, NULL);
    for (int i = 0; i < MUTEX_THREADS; i++)
        pthread_join(t[i], NULL);
    check(counter == MUTEX_THREADS * MUTEX_ITERS, "mutex counter", counter,
          MUTEX_THREADS * MUTEX_ITERS);
    printf("mutex: counter %ld\n", counter);
}

/* Two producers put the numbers 1..ITEMS into a bounded queue; two consumers take them out. */
enum { QUEUE_SIZE = 8, PRODUCERS = 2, CONSUMERS = 2, ITEMS = 2000 };
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static long queue[QUEUE_SIZE];
static int queue_head, queue_len, consumed_total;
static long consumed_sum[CONSUMERS], consumed_count[CONSUMERS];

static void *producer(void *arg)
{
    long base = (long)arg * 1000000;
    for (long i = 1; i <= ITEMS; i++) {
        pthread_mutex_lock(&queue_lock);
        while (queue_len == QUEUE_SIZE)
            pthread_cond_wait(&not_full, &queue_lock);
        queue[(queue_head + queue_len) % QUEUE_SIZE] = base + i;
        queue_len++;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&queue_lock);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    long id = (long)arg;
    for (;;) {
        pthread_mutex_lock(&queue_lock);
        while (queue_len == 0 && consumed_total < PRODUCERS * ITEMS)
            pthread_cond_wait(&not_empty, &queue_lock);
        if (queue_len == 0) {
            pthread_mutex_unlock(&queue_lock);
            return NULL;
        }
        long v = queue[queue_head];
        queue_head = (queue_head + 1) % QUEUE_SIZE;
        queue_len--;
        consumed_total++;
        if (consumed_total == PRODUCERS * ITEMS)
            pthread_cond_broadcast(&not_empty);
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&queue_lock);
        consumed_sum[id] += v;
        consumed_count[id]++;
    }
}

static void queue_part(void)
{
    pthread_t p[PRODUCERS], c[CONSUMERS];
    for (long i = 0; i < CONSUMERS; i++)
        start(&c[i], consumer, (void *)i);
    for (long i = 0; i < PRODUCERS; i++)
        start(&p[i], producer, (void *)i);
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(p[i], NULL);
    for (int i = 0; i < CONSUMERS; i++)
        pthread_join(c[i], NULL);
    long sum = 0, count = 0, want = 0;
    for (int i = 0; i < CONSUMERS; i++) {
        sum += consumed_sum[i];
        count += consumed_count[i];
    }
    for (long p = 0; p < PRODUCERS; p++)
        want += p * 1000000 * ITEMS + (long)ITEMS * (ITEMS + 1) / 2;
    check(count == PRODUCERS * ITEMS, "queue count", count, PRODUCERS * ITEMS);
    check(sum == want, "queue sum", sum, want);
    check(queue_len == 0, "queue left", queue_len, 0);
    printf("queue: %ld items, sum %ld\n", count, sum);
}

/* Each round every thread writes its slot, meets the others at a barrier, checks all slots
 * and meets them again before the next round. */
enum { BARRIER_THREADS = 4, ROUNDS = 200 };
static pthread_barrier_t barrier;
static int slots[BARRIER_THREADS];
static int serial_count[BARRIER_THREADS], barrier_errors[BARRIER_THREADS];

static void *barrier_worker(void *arg)
{
    long id = (long)arg;
    for (int r = 0; r < ROUNDS; r++) {
        slots[id] = r * 16 + (int)id;
        int s = pthread_barrier_wait(&barrier);
        if (s == PTHREAD_BARRIER_SERIAL_THREAD)
            serial_count[id]++;
        else if (s != 0)
            barrier_errors[id]++;
        for (int j = 0; j < BARRIER_THREADS; j++)
            if (slots[j] != r * 16 + j)
                barrier_errors[id]++;
        pthread_barrier_wait(&barrier);
    }
    return NULL;
}

static void barrier_part(void)
{
    pthread_t t[BARRIER_THREADS];
    pthread_barrier_init(&barrier, NULL, BARRIER_THREADS);
    for (long i = 0; i < BARRIER_THREADS; i++)
        start(&t[i], barrier_worker, (void *)i);
    for (int i = 0; i < BARRIER_THREADS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&barrier);
    int serial = 0, errors = 0;
    for (int i = 0; i < BARRIER_THREADS; i++) {
        serial += serial_count[i];
        errors += barrier_errors[i];
    }
    check(serial == ROUNDS, "barrier serial threads", serial, ROUNDS);
    check(errors == 0, "barrier slot errors", errors, 0);
    printf("barrier: %d rounds, %d serial, %d errors\n", ROUNDS, serial, errors);
}

/* Writers move a pair of values together under the write lock; readers check under the read
 * lock that they are always equal. */
enum { READERS = 3, WRITERS = 2, WRITES = 2000, READS = 2000 };
static pthread_rwlock_t rwlock = PTHREAD_RWLOCK_INITIALIZER;
static long pair_a, pair_b;
static long torn[READERS];

static void *rw_writer(void *arg)
{
    (void)arg;
    for (int i = 0; i < WRITES; i++) {
        pthread_rwlock_wrlock(&rwlock);
        pair_a++;
        __asm__ volatile("" ::: "memory");
        pair_b++;
        pthread_rwlock_unlock(&rwlock);
    }
    return NULL;
}

static void *rw_reader(void *arg)
{
    long id = (long)arg;
    for (int i = 0; i < READS; i++) {
        pthread_rwlock_rdlock(&rwlock);
        long a = pair_a;
        __asm__ volatile("" ::: "memory");
        long b = pair_b;
        pthread_rwlock_unlock(&rwlock);
        if (a != b)
            torn[id]++;
    }
    return NULL;
}

static void rwlock_part(void)
{
    pthread_t r[READERS], w[WRITERS];
    for (long i = 0; i < READERS; i++)
        start(&r[i], rw_reader, (void *)i);
    for (long i = 0; i < WRITERS; i++)
        start(&w[i], rw_writer, NULL);
    for (int i = 0; i < READERS; i++)
        pthread_join(r[i], NULL);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(w[i], NULL);
    long bad = 0;
    for (int i = 0; i < READERS; i++)
        bad += torn[i];
    check(pair_a == WRITERS * WRITES, "rwlock writes", pair_a, WRITERS * WRITES);
    check(pair_b == pair_a, "rwlock pair", pair_b, pair_a);
    check(bad == 0, "rwlock torn reads", bad, 0);
    printf("rwlock: %ld writes, %ld torn reads\n", pair_a, bad);
}

int main(void)
{
    mutex_part();
    queue_part();
    barrier_part();
    rwlock_part();
    printf(failures ? "FAIL\n" : "ok\n");
    return failures ? 1 : 0;
}
