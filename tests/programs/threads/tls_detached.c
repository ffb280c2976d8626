/* Thread-local storage (__thread with and without initialisers, thread-specific data with a
 * destructor), detached threads that report completion through a semaphore, pthread_cancel of
 * threads blocked in pthread_cond_wait and in pause with cleanup handlers, and pthread_exit
 * return values. main returns while one thread is still blocked in pause: the process must end
 * anyway. Prints final results only; exits 1 when a check fails. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what)
{
    if (!ok) {
        printf("FAIL %s\n", what);
        failures++;
    }
}

static void start(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    if (pthread_create(t, attr, fn, arg) != 0) {
        printf("FAIL pthread_create\n");
        exit(1);
    }
}

/* Part 1: __thread variables (.tdata and .tbss) are distinct per thread. */
enum { TLS_THREADS = 4 };
static __thread long tls_value = 7;
static __thread char tls_text[16] = "initial";
static __thread long tls_zero[8];
static uintptr_t tls_addresses[TLS_THREADS];
static long tls_seen[TLS_THREADS];
static pthread_barrier_t tls_barrier;

static void *tls_worker(void *arg)
{
    long id = (long)arg;
    long ok = tls_value == 7 && strcmp(tls_text, "initial") == 0;
    for (int i = 0; i < 8; i++)
        ok = ok && tls_zero[i] == 0;
    tls_value = id * 100;
    snprintf(tls_text, sizeof tls_text, "thread %ld", id);
    tls_zero[id] = id + 1;
    tls_addresses[id] = (uintptr_t)&tls_value;
    /* Every thread has written its copy before any thread checks its own. */
    pthread_barrier_wait(&tls_barrier);
    char want[16];
    snprintf(want, sizeof want, "thread %ld", id);
    ok = ok && tls_value == id * 100 && strcmp(tls_text, want) == 0;
    for (int i = 0; i < 8; i++)
        ok = ok && tls_zero[i] == (i == id ? id + 1 : 0);
    tls_seen[id] = ok;
    return NULL;
}

static void tls_part(void)
{
    pthread_t t[TLS_THREADS];
    pthread_barrier_init(&tls_barrier, NULL, TLS_THREADS);
    for (long i = 0; i < TLS_THREADS; i++)
        start(&t[i], NULL, tls_worker, (void *)i);
    for (int i = 0; i < TLS_THREADS; i++)
        pthread_join(t[i], NULL);
    int good = 0, distinct = 1;
    for (int i = 0; i < TLS_THREADS; i++) {
        good += tls_seen[i] != 0;
        for (int j = 0; j < i; j++)
            distinct = distinct && tls_addresses[i] != tls_addresses[j];
        distinct = distinct && tls_addresses[i] != (uintptr_t)&tls_value;
    }
    check(good == TLS_THREADS, "tls values");
    check(distinct, "tls addresses distinct");
    check(tls_value == 7 && strcmp(tls_text, "initial") == 0, "main thread tls untouched");
    printf("tls: %d of %d threads saw their own copies, addresses distinct %d\n", good,
           TLS_THREADS, distinct);
}

/* Part 2: thread-specific data destructors run at thread exit with the thread's value. */
static pthread_key_t key;
static long destructor_sum;
static pthread_mutex_t destructor_lock = PTHREAD_MUTEX_INITIALIZER;

static void destructor(void *value)
{
    pthread_mutex_lock(&destructor_lock);
    destructor_sum += *(long *)value;
    pthread_mutex_unlock(&destructor_lock);
    free(value);
}

static void *key_worker(void *arg)
{
    long *v = malloc(sizeof *v);
    if (!v)
        return NULL;
    *v = (long)arg;
    pthread_setspecific(key, v);
    return pthread_getspecific(key) == v ? arg : NULL;
}

static void key_part(void)
{
    pthread_t t[4];
    pthread_key_create(&key, destructor);
    for (long i = 0; i < 4; i++)
        start(&t[i], NULL, key_worker, (void *)(i + 10));
    long returned = 0;
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        returned += (long)r;
    }
    check(returned == 46, "specific values");
    check(destructor_sum == 46, "destructor sum");
    printf("keys: returned %ld, destructors saw %ld\n", returned, destructor_sum);
}

/* Part 3: detached threads post a semaphore when done; main waits for all of them. */
enum { DETACHED = 6 };
static sem_t done;
static long detached_result[DETACHED];

static void *detached_worker(void *arg)
{
    long id = (long)arg;
    long acc = 0;
    for (long i = 0; i <= 1000 * (id + 1); i++)
        acc += i;
    detached_result[id] = acc;
    sem_post(&done);
    return NULL;
}

static void detached_part(void)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sem_init(&done, 0, 0);
    pthread_t t;
    for (long i = 0; i < DETACHED - 1; i++)
        start(&t, &attr, detached_worker, (void *)i);
    /* One more, created joinable and detached afterwards. */
    start(&t, NULL, detached_worker, (void *)(long)(DETACHED - 1));
    check(pthread_detach(t) == 0, "pthread_detach");
    pthread_attr_destroy(&attr);
    for (int i = 0; i < DETACHED; i++)
        while (sem_wait(&done) != 0 && errno == EINTR)
            ;
    long total = 0, want = 0;
    for (long i = 0; i < DETACHED; i++) {
        long n = 1000 * (i + 1);
        want += n * (n + 1) / 2;
        total += detached_result[i];
    }
    int v = -1;
    sem_getvalue(&done, &v);
    check(total == want, "detached results");
    check(v == 0, "semaphore drained");
    printf("detached: %d threads, total %ld\n", DETACHED, total);
}

/* Part 4: cancellation of a thread blocked in pthread_cond_wait (deferred cancellation; the
 * cleanup handler unlocks the mutex that cond_wait re-acquired) and of one blocked in pause. */
static pthread_mutex_t cancel_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cancel_cond = PTHREAD_COND_INITIALIZER;
static int cancel_waiting, cancel_cleanups, pause_started;
static sem_t pause_ready;

static void unlock_cleanup(void *arg)
{
    cancel_cleanups += 1;
    pthread_mutex_unlock(arg);
}

static void count_cleanup(void *arg)
{
    *(int *)arg += 10;
}

static void *cond_waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&cancel_lock);
    pthread_cleanup_push(unlock_cleanup, &cancel_lock);
    cancel_waiting = 1;
    for (;;)
        pthread_cond_wait(&cancel_cond, &cancel_lock);
    pthread_cleanup_pop(1);
    return NULL;
}

static void *pauser(void *arg)
{
    (void)arg;
    pthread_cleanup_push(count_cleanup, &cancel_cleanups);
    pause_started = 1;
    sem_post(&pause_ready);
    for (;;)
        pause();
    pthread_cleanup_pop(0);
    return NULL;
}

static void cancel_part(void)
{
    pthread_t t;
    void *ret = NULL;
    start(&t, NULL, cond_waiter, NULL);
    /* Once the waiter has set the flag and released the mutex in cond_wait, it is waiting. */
    for (;;) {
        pthread_mutex_lock(&cancel_lock);
        int w = cancel_waiting;
        pthread_mutex_unlock(&cancel_lock);
        if (w)
            break;
        sched_yield();
    }
    check(pthread_cancel(t) == 0, "cancel cond waiter");
    check(pthread_join(t, &ret) == 0, "join cond waiter");
    check(ret == PTHREAD_CANCELED, "cond waiter returns PTHREAD_CANCELED");
    /* The cleanup handler released the mutex. */
    check(pthread_mutex_trylock(&cancel_lock) == 0, "mutex free after cancel");
    pthread_mutex_unlock(&cancel_lock);

    sem_init(&pause_ready, 0, 0);
    start(&t, NULL, pauser, NULL);
    while (sem_wait(&pause_ready) != 0 && errno == EINTR)
        ;
    /* Most likely the thread is blocked in pause by now, so the request interrupts the
     * system call; if it is not there yet, pause acts on the pending request. */
    usleep(20000);
    check(pthread_cancel(t) == 0, "cancel pauser");
    ret = NULL;
    check(pthread_join(t, &ret) == 0, "join pauser");
    check(ret == PTHREAD_CANCELED, "pauser returns PTHREAD_CANCELED");
    check(pause_started == 1, "pauser started");
    check(cancel_cleanups == 11, "both cleanup handlers ran");
    printf("cancel: both joined as canceled, cleanups %d\n", cancel_cleanups);
}

/* Part 5: pthread_exit from a nested call, and a plain return, give the joiner the value. */
static void leave(long v)
{
    pthread_exit((void *)(v * 11));
}

static void *exit_worker(void *arg)
{
    long id = (long)arg;
    if (id % 2)
        leave(id);
    return (void *)(id * 11);
}

static void exit_part(void)
{
    pthread_t t[6];
    for (long i = 0; i < 6; i++)
        start(&t[i], NULL, exit_worker, (void *)i);
    long total = 0;
    int right = 1;
    for (long i = 0; i < 6; i++) {
        void *r;
        pthread_join(t[i], &r);
        right = right && (long)r == i * 11;
        total += (long)r;
    }
    check(right, "exit values");
    printf("exit: values total %ld\n", total);
}

/* Part 6: a thread that never ends on its own. */
static sem_t blocker_ready;

static void *blocker(void *arg)
{
    (void)arg;
    sem_post(&blocker_ready);
    for (;;)
        pause();
    return NULL;
}

static void leave_blocked_thread(void)
{
    pthread_t t;
    sem_init(&blocker_ready, 0, 0);
    start(&t, NULL, blocker, NULL);
    while (sem_wait(&blocker_ready) != 0 && errno == EINTR)
        ;
    printf("blocker: left in pause while main returns\n");
}

int main(void)
{
    tls_part();
    key_part();
    detached_part();
    cancel_part();
    exit_part();
    leave_blocked_thread();
    printf(failures ? "FAIL\n" : "ok\n");
    return failures ? 1 : 0;
}
