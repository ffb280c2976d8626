/* Signals between threads. A process-directed POSIX timer signal (SIGEV_SIGNAL) is blocked in
 * every thread and taken by a dedicated thread with sigwaitinfo; a thread-directed timer
 * (SIGEV_THREAD_ID) must reach its thread even though main has the signal unblocked;
 * pthread_kill and tgkill reach the named thread; kill and sigqueue to the process reach the
 * sigwait thread, real-time signals queue in order, and sigtimedwait times out. Handlers record
 * gettid() and the siginfo; main checks them. Exits 1 when a check fails. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SIG_PROC (SIGRTMIN + 1)
#define SIG_TID (SIGRTMIN + 2)
#define SIG_QUEUE (SIGRTMIN + 3)
#define SIG_NEVER (SIGRTMIN + 4)

static int failures;

static void check(int ok, const char *what)
{
    if (!ok) {
        printf("FAIL %s\n", what);
        failures++;
    }
}

static pid_t tid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

/* What the handler saw, per signal number. */
static volatile sig_atomic_t got_count[65];
static volatile pid_t got_tid[65], got_pid[65];
static volatile int got_value[65], got_code[65];

static void handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    got_tid[sig] = tid();
    got_code[sig] = si->si_code;
    got_pid[sig] = si->si_pid;
    got_value[sig] = si->si_value.sival_int;
    got_count[sig]++;
}

/* Waits with the signals `sigs` unblocked until each of them was handled, at most five
 * seconds. Returns 1 when they all arrived. */
static int await_signals(const int *sigs, int n)
{
    sigset_t mask;
    pthread_sigmask(SIG_SETMASK, NULL, &mask);
    for (int i = 0; i < n; i++)
        sigdelset(&mask, sigs[i]);
    for (int round = 0; round < 1000; round++) {
        int all = 1;
        for (int i = 0; i < n; i++)
            all = all && got_count[sigs[i]] > 0;
        if (all)
            return 1;
        struct timespec slice = { 0, 5000000 };
        ppoll(NULL, 0, &slice, &mask);
    }
    return 0;
}

static void wait_sem(sem_t *s)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 5;
    for (;;) {
        if (sem_timedwait(s, &deadline) == 0)
            return;
        if (errno != EINTR) {
            printf("FAIL semaphore wait timed out\n");
            exit(1);
        }
    }
}

static pid_t main_tid, target_tid, waiter_tid;
static sem_t target_ready, target_done, waiter_ready, waiter_timer, waiter_go, waiter_done;

/* The target thread: takes SIG_TID from its timer and SIGUSR1 from pthread_kill in handlers,
 * then sends SIGUSR2 to main with tgkill. */
static int target_ok;

static void *target(void *arg)
{
    (void)arg;
    target_tid = tid();
    sem_post(&target_ready);
    int want[2] = { SIGUSR1, SIG_TID };
    target_ok = await_signals(want, 2);
    syscall(SYS_tgkill, getpid(), main_tid, SIGUSR2);
    sem_post(&target_done);
    return NULL;
}

/* The waiter thread: every test signal stays blocked; it takes them with the sigwait calls. */
static siginfo_t timer_info, queued[3];
static int kill_sig, kill_status, timed_result, timed_errno, timer_status, queue_status;

static void *waiter(void *arg)
{
    (void)arg;
    waiter_tid = tid();
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIG_PROC);
    sem_post(&waiter_ready);
    struct timespec limit = { 5, 0 };
    timer_status = sigtimedwait(&set, &timer_info, &limit);
    sem_post(&waiter_timer);

    wait_sem(&waiter_go);
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    kill_status = sigwait(&set, &kill_sig);

    sigemptyset(&set);
    sigaddset(&set, SIG_QUEUE);
    queue_status = 0;
    for (int i = 0; i < 3; i++)
        if (sigtimedwait(&set, &queued[i], &limit) != SIG_QUEUE)
            queue_status = -1;

    sigemptyset(&set);
    sigaddset(&set, SIG_NEVER);
    struct timespec short_limit = { 0, 20000000 };
    timed_result = sigtimedwait(&set, NULL, &short_limit);
    timed_errno = errno;
    sem_post(&waiter_done);
    return NULL;
}

static timer_t arm_timer(struct sigevent *sev)
{
    timer_t t;
    if (timer_create(CLOCK_MONOTONIC, sev, &t) != 0) {
        printf("FAIL timer_create: errno %d\n", errno);
        exit(1);
    }
    struct itimerspec its = { { 0, 0 }, { 0, 10000000 } };
    if (timer_settime(t, 0, &its, NULL) != 0) {
        printf("FAIL timer_settime: errno %d\n", errno);
        exit(1);
    }
    return t;
}

int main(void)
{
    main_tid = tid();
    struct sigaction sa = { 0 };
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    sigaction(SIG_TID, &sa, NULL);

    /* Threads start with every test signal blocked. */
    sigset_t all;
    sigemptyset(&all);
    int test_sigs[] = { SIGUSR1, SIGUSR2, SIGHUP, SIG_PROC, SIG_TID, SIG_QUEUE, SIG_NEVER };
    for (unsigned i = 0; i < sizeof test_sigs / sizeof test_sigs[0]; i++)
        sigaddset(&all, test_sigs[i]);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    sem_init(&target_ready, 0, 0);
    sem_init(&target_done, 0, 0);
    sem_init(&waiter_ready, 0, 0);
    sem_init(&waiter_timer, 0, 0);
    sem_init(&waiter_go, 0, 0);
    sem_init(&waiter_done, 0, 0);
    pthread_t tt, wt;
    if (pthread_create(&wt, NULL, waiter, NULL) || pthread_create(&tt, NULL, target, NULL)) {
        printf("FAIL pthread_create\n");
        return 1;
    }
    wait_sem(&waiter_ready);
    wait_sem(&target_ready);
    /* Main takes SIGUSR1, SIGUSR2 and SIG_TID in its handler too, so a signal meant for the
     * target that went to the wrong thread would be seen here. */
    sigset_t mine;
    sigemptyset(&mine);
    sigaddset(&mine, SIGUSR1);
    sigaddset(&mine, SIGUSR2);
    sigaddset(&mine, SIG_TID);
    pthread_sigmask(SIG_UNBLOCK, &mine, NULL);

    /* A process-directed timer signal: only the waiter can take it. */
    struct sigevent sev = { 0 };
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIG_PROC;
    sev.sigev_value.sival_int = 111;
    timer_t process_timer = arm_timer(&sev);

    /* A timer aimed at the target thread, and pthread_kill to it. */
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIG_TID;
    sev.sigev_value.sival_int = 222;
    sev._sigev_un._tid = target_tid;
    timer_t thread_timer = arm_timer(&sev);
    check(pthread_kill(tt, SIGUSR1) == 0, "pthread_kill");
    wait_sem(&target_done);
    int usr2[] = { SIGUSR2 };
    check(await_signals(usr2, 1), "tgkill to main arrives");

    wait_sem(&waiter_timer);
    check(timer_status == SIG_PROC, "process timer taken by sigtimedwait");
    check(timer_info.si_code == SI_TIMER, "process timer si_code SI_TIMER");
    check(timer_info.si_value.sival_int == 111, "process timer value");
    printf("process timer: sigtimedwait in the waiter got it, value %d\n",
           timer_info.si_value.sival_int);

    check(target_ok, "target got its signals");
    check(got_count[SIG_TID] == 1 && got_tid[SIG_TID] == target_tid, "thread timer tid");
    check(got_code[SIG_TID] == SI_TIMER, "thread timer si_code SI_TIMER");
    check(got_value[SIG_TID] == 222, "thread timer value");
    printf("thread timer: handled by the target %d, value %d\n",
           got_tid[SIG_TID] == target_tid, got_value[SIG_TID]);

    check(got_count[SIGUSR1] == 1 && got_tid[SIGUSR1] == target_tid, "pthread_kill tid");
    check(got_code[SIGUSR1] == SI_TKILL, "pthread_kill si_code SI_TKILL");
    check(got_pid[SIGUSR1] == getpid(), "pthread_kill si_pid");
    printf("pthread_kill: handled by the target %d\n", got_tid[SIGUSR1] == target_tid);

    check(got_count[SIGUSR2] == 1 && got_tid[SIGUSR2] == main_tid, "tgkill tid");
    check(got_code[SIGUSR2] == SI_TKILL, "tgkill si_code SI_TKILL");
    printf("tgkill: handled by main %d\n", got_tid[SIGUSR2] == main_tid);

    /* Process-directed kill and sigqueue, blocked everywhere, go to the sigwait thread; three
     * queued real-time signals arrive in the order sent. */
    kill(getpid(), SIGHUP);
    for (int i = 1; i <= 3; i++) {
        union sigval v = { .sival_int = i * 10 };
        check(sigqueue(getpid(), SIG_QUEUE, v) == 0, "sigqueue");
    }
    sem_post(&waiter_go);
    wait_sem(&waiter_done);
    check(kill_status == 0 && kill_sig == SIGHUP, "sigwait got SIGHUP");
    check(queue_status == 0, "three queued signals");
    for (int i = 0; i < 3; i++) {
        check(queued[i].si_value.sival_int == (i + 1) * 10, "queued value order");
        check(queued[i].si_code == SI_QUEUE, "queued si_code SI_QUEUE");
        check(queued[i].si_pid == getpid(), "queued si_pid");
    }
    printf("sigwait: SIGHUP %d, queued values %d %d %d\n", kill_sig == SIGHUP,
           queued[0].si_value.sival_int, queued[1].si_value.sival_int,
           queued[2].si_value.sival_int);
    check(timed_result == -1 && timed_errno == EAGAIN, "sigtimedwait times out");
    printf("sigtimedwait: timed out %d\n", timed_result == -1 && timed_errno == EAGAIN);

    /* Nothing reached a thread it was not meant for. */
    check(got_count[SIGUSR1] == 1 && got_count[SIGUSR2] == 1 && got_count[SIG_TID] == 1,
          "each handled signal arrived once");
    timer_delete(process_timer);
    timer_delete(thread_timer);
    pthread_join(tt, NULL);
    pthread_join(wt, NULL);
    printf(failures ? "FAIL\n" : "ok\n");
    return failures ? 1 : 0;
}
