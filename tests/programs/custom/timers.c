/* Timers and host signals, selected by argv[1]; tests/run.rs compares stdout and the exit status
 * with qemu-aarch64's. Only deterministic facts are printed.
 *   busy:     setitimer(ITIMER_REAL) one-shot; the SIGALRM handler interrupts a busy loop.
 *   periodic: a periodic ITIMER_REAL counts ticks until 5, then getitimer and a disarm.
 *   sleep:    nanosleep interrupted by SIGALRM gives -1/EINTR and a remaining time; a blocked
 *             SIGALRM does not interrupt clock_nanosleep, which sleeps to its end; TIMER_ABSTIME.
 *   restart:  a pipe read interrupted by SIGALRM: EINTR without SA_RESTART; with it, the read
 *             is made again after the handler, which wrote a byte for it.
 *   posix:    a periodic POSIX timer (timer_create) with SIGRTMIN and a value, to 3 ticks.
 *   sigwait:  sigtimedwait takes a blocked SIGALRM when the timer fires, then times out.
 *   poll:     poll on a pipe ready at once, then interrupted by SIGALRM (EINTR); a ppoll with a
 *             mask times out.
 *   alarm:    a SIGALRM without a handler kills the program.
 *   wait:     prints "ready" and loops until SIGTERM or SIGINT (sent by the test) runs its
 *             handler, which exits with 40 + the signal. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t ticks;
static volatile sig_atomic_t stop;

static void on_alarm(int sig) {
    (void)sig;
    ticks++;
    stop = 1;
}

static int pipe_fds[2];

static void on_alarm_feed(int sig) {
    (void)sig;
    ticks++;
    write(pipe_fds[1], "x", 1);
}

static volatile sig_atomic_t timer_ok = 1;

static void on_timer(int sig, siginfo_t *info, void *ctx) {
    (void)ctx;
    if (sig != SIGRTMIN || info->si_code != SI_TIMER || info->si_value.sival_int != 7)
        timer_ok = 0;
    ticks++;
}

static void on_term(int sig) {
    char msg[32];
    int n = snprintf(msg, sizeof msg, "handler %d\n", sig);
    write(1, msg, n);
    _exit(40 + sig);
}

static void arm(long sec, long usec, long isec, long iusec) {
    struct itimerval it = {{isec, iusec}, {sec, usec}};
    if (setitimer(ITIMER_REAL, &it, 0) != 0)
        perror("setitimer");
}

int main(int argc, char **argv) {
    setvbuf(stdout, 0, _IONBF, 0);
    const char *mode = argc > 1 ? argv[1] : "";
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    if (!strcmp(mode, "busy")) {
        sigaction(SIGALRM, &sa, 0);
        arm(0, 100000, 0, 0);
        volatile unsigned long n = 0;
        while (!stop)
            n++; /* No system call: only an asynchronous interruption ends this loop. */
        printf("busy: interrupted after counting %s, ticks %d\n", n > 0 ? "some" : "none",
               (int)ticks);
        return 0;
    } else if (!strcmp(mode, "periodic")) {
        sigaction(SIGALRM, &sa, 0);
        arm(0, 20000, 0, 20000);
        volatile unsigned long n = 0;
        while (ticks < 5)
            n++;
        struct itimerval cur;
        getitimer(ITIMER_REAL, &cur);
        printf("periodic: ticks %d, interval %ld us\n", (int)ticks, cur.it_interval.tv_usec);
        arm(0, 0, 0, 0);
        getitimer(ITIMER_REAL, &cur);
        printf("periodic: disarmed %d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0);
        return 0;
    } else if (!strcmp(mode, "sleep")) {
        sigaction(SIGALRM, &sa, 0);
        arm(0, 50000, 0, 0);
        struct timespec req = {5, 0}, rem = {0, 0};
        int r = nanosleep(&req, &rem);
        int e = errno;
        printf("sleep: nanosleep %d %s, rem > 0 %d, rem < 5 s %d, ticks %d\n", r,
               e == EINTR ? "EINTR" : strerror(e), rem.tv_sec > 0 || rem.tv_nsec > 0,
               rem.tv_sec < 5, (int)ticks);
        /* Blocked, the alarm does not end the sleep; it is delivered once unblocked. */
        sigset_t set, old;
        sigemptyset(&set);
        sigaddset(&set, SIGALRM);
        sigprocmask(SIG_BLOCK, &set, &old);
        arm(0, 20000, 0, 0);
        struct timespec shortreq = {0, 100000000};
        r = clock_nanosleep(CLOCK_MONOTONIC, 0, &shortreq, 0);
        sigset_t pend;
        sigpending(&pend);
        printf("sleep: blocked clock_nanosleep %d, alarm pending %d\n", r,
               sigismember(&pend, SIGALRM));
        sigprocmask(SIG_SETMASK, &old, 0);
        printf("sleep: after unblocking ticks %d\n", (int)ticks);
        struct timespec now, until;
        clock_gettime(CLOCK_MONOTONIC, &now);
        until = now;
        until.tv_nsec += 30000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, 0);
        clock_gettime(CLOCK_MONOTONIC, &now);
        printf("sleep: abstime %d, reached %d\n", r,
               now.tv_sec > until.tv_sec ||
                   (now.tv_sec == until.tv_sec && now.tv_nsec >= until.tv_nsec));
        struct timespec bad = {0, 1000000000};
        r = nanosleep(&bad, 0);
        printf("sleep: bad nsec %d %s\n", r, errno == EINVAL ? "EINVAL" : strerror(errno));
        return 0;
    } else if (!strcmp(mode, "restart")) {
        pipe(pipe_fds);
        char c = 0;
        sigaction(SIGALRM, &sa, 0);
        arm(0, 30000, 0, 0);
        int r = read(pipe_fds[0], &c, 1);
        printf("restart: without SA_RESTART read %d %s, ticks %d\n", r,
               r < 0 && errno == EINTR ? "EINTR" : "?", (int)ticks);
        sa.sa_handler = on_alarm_feed;
        sa.sa_flags = SA_RESTART;
        sigaction(SIGALRM, &sa, 0);
        arm(0, 30000, 0, 0);
        r = read(pipe_fds[0], &c, 1);
        printf("restart: with SA_RESTART read %d '%c', ticks %d\n", r, r == 1 ? c : '?',
               (int)ticks);
        return 0;
    } else if (!strcmp(mode, "posix")) {
        sa.sa_sigaction = on_timer;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGRTMIN, &sa, 0);
        struct sigevent ev;
        memset(&ev, 0, sizeof ev);
        ev.sigev_notify = SIGEV_SIGNAL;
        ev.sigev_signo = SIGRTMIN;
        ev.sigev_value.sival_int = 7;
        timer_t t;
        if (timer_create(CLOCK_MONOTONIC, &ev, &t) != 0) {
            perror("timer_create");
            return 1;
        }
        struct itimerspec its = {{0, 10000000}, {0, 10000000}}, cur;
        timer_settime(t, 0, &its, 0);
        volatile unsigned long n = 0;
        while (ticks < 3)
            n++;
        timer_gettime(t, &cur);
        printf("posix: ticks %d, siginfo ok %d, interval %ld ns, overrun >= 0 %d\n", (int)ticks,
               (int)timer_ok, cur.it_interval.tv_nsec, timer_getoverrun(t) >= 0);
        printf("posix: delete %d\n", timer_delete(t));
        return 0;
    } else if (!strcmp(mode, "sigwait")) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGALRM);
        sigprocmask(SIG_BLOCK, &set, 0);
        arm(0, 30000, 0, 0);
        struct timespec longwait = {5, 0}, shortwait = {0, 20000000};
        siginfo_t info;
        int r = sigtimedwait(&set, &info, &longwait);
        printf("sigwait: got %d, si_code SI_KERNEL %d\n", r, info.si_code == SI_KERNEL);
        r = sigtimedwait(&set, &info, &shortwait);
        printf("sigwait: then %d %s\n", r, r < 0 && errno == EAGAIN ? "EAGAIN" : "?");
        return 0;
    } else if (!strcmp(mode, "poll")) {
        sigaction(SIGALRM, &sa, 0);
        pipe(pipe_fds);
        write(pipe_fds[1], "x", 1);
        struct pollfd p = {pipe_fds[0], POLLIN, 0};
        int r = poll(&p, 1, 5000);
        printf("poll: ready %d revents POLLIN %d\n", r, p.revents == POLLIN);
        char c;
        read(pipe_fds[0], &c, 1);
        arm(0, 30000, 0, 0);
        r = poll(&p, 1, 5000);
        printf("poll: %d %s, ticks %d\n", r, r < 0 && errno == EINTR ? "EINTR" : "?",
               (int)ticks);
        /* A ppoll with a mask and no signal times out. A signal its mask blocks is delivered
         * as it returns by Linux and armature but not by qemu 7.2: not compared here. */
        struct timespec t = {0, 20000000};
        sigset_t none;
        sigemptyset(&none);
        r = ppoll(&p, 1, &t, &none);
        printf("poll: ppoll timeout %d, ticks %d\n", r, (int)ticks);
        return 0;
    } else if (!strcmp(mode, "alarm")) {
        puts("alarm");
        alarm(1); /* glibc's alarm is setitimer on aarch64. */
        for (;;)
            ;
    } else if (!strcmp(mode, "wait")) {
        sa.sa_handler = on_term;
        sigaction(SIGTERM, &sa, 0);
        sigaction(SIGINT, &sa, 0);
        puts("ready");
        volatile unsigned long n = 0;
        for (;;)
            n++;
    }
    puts("usage: timers busy|periodic|sleep|restart|posix|sigwait|poll|alarm|wait");
    return 2;
}
