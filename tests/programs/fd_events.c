/* Descriptors that report events (timerfd, inotify, epoll) and the file and scheduler calls around
 * them (posix_fadvise, sync_file_range, readahead, getcpu, sched_setscheduler,
 * sched_setparam, sched_rr_get_interval, personality): each result, and what a read of the
 * event descriptors gives, printed the same under armature and qemu-aarch64. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static void show(const char *what, long r) {
    printf("%-22s %ld %s\n", what, r, r < 0 ? strerrorname_np(errno) : "");
}

/* epoll: a pipe's ends added, changed and removed; waits with nothing ready, with data, with a
 * signal mask, and the errors of each call. */
static void epoll(void) {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    show("epoll_create1", ep >= 0 ? 0 : -1);
    show("epoll cloexec", fcntl(ep, F_GETFD));
    show("epoll_create1 bad", epoll_create1(12345));
    int p[2];
    pipe(p);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0x1122334455667788ull};
    show("epoll_ctl add", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    show("epoll_ctl add again", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    show("epoll_ctl not epoll", epoll_ctl(p[0], EPOLL_CTL_ADD, p[1], &ev));
    show("epoll_ctl bad event", epoll_ctl(ep, EPOLL_CTL_ADD, p[1], (void *)8));
    struct epoll_event out[4];
    memset(out, 0, sizeof out);
    show("epoll_wait empty", epoll_wait(ep, out, 4, 0));
    show("epoll_wait 5 ms", epoll_wait(ep, out, 4, 5));
    write(p[1], "x", 1);
    show("epoll_wait ready", epoll_wait(ep, out, 4, -1));
    printf("  events %#x data %#llx\n", out[0].events, (unsigned long long)out[0].data.u64);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    show("epoll_pwait", epoll_pwait(ep, out, 4, 0, &mask));
    ev.events = EPOLLOUT;
    ev.data.u64 = 7;
    show("epoll_ctl add out", epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev));
    ev.events = EPOLLIN | EPOLLET;
    ev.data.u64 = 9;
    show("epoll_ctl mod", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
    memset(out, 0, sizeof out);
    int n = epoll_wait(ep, out, 4, 0);
    show("epoll_wait two", n);
    unsigned long long sum = 0;
    for (int i = 0; i < n; i++) sum += out[i].data.u64 * 100 + (out[i].events & 0xff);
    printf("  datas and events %llu\n", sum);
    show("epoll_wait edge again", epoll_wait(ep, out, 1, 0) + (out[0].data.u64 == 7) * 10);
    show("epoll_ctl del", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL));
    show("epoll_ctl del again", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL));
    show("epoll_wait max 0", epoll_wait(ep, out, 0, 0));
    show("epoll_wait bad events", syscall(SYS_epoll_pwait, ep, 8L, 4, 0, NULL, 8));
    show("epoll_wait bad fd", epoll_wait(p[0], out, 4, 0));
    close(p[0]);
    close(p[1]);
    close(ep);
}

int main(void) {
    epoll();
    /* A one-shot timer of 1 ms: a blocking read gives one expiry, then it is disarmed. */
    int t = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    show("timerfd_create", t >= 0 ? 0 : -1);
    struct itimerspec on = {{0, 0}, {0, 1000000}}, old;
    memset(&old, 0x55, sizeof old);
    show("timerfd_settime", timerfd_settime(t, 0, &on, &old));
    printf("old disarmed %d\n", old.it_value.tv_sec == 0 && old.it_value.tv_nsec == 0);
    uint64_t count = 0;
    show("read timerfd", read(t, &count, sizeof count));
    printf("expirations %llu\n", (unsigned long long)count);
    struct itimerspec now;
    show("timerfd_gettime", timerfd_gettime(t, &now));
    printf("disarmed %d\n", now.it_value.tv_sec == 0 && now.it_value.tv_nsec == 0);
    show("timerfd_settime bad", timerfd_settime(t, 0, (void *)8, NULL));
    /* A non-blocking timerfd with nothing expired. */
    int tn = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    show("read idle timerfd", read(tn, &count, sizeof count));

    /* inotify sees a file made in the working directory. */
    unlink("made.txt");
    int in = inotify_init1(IN_CLOEXEC);
    show("inotify_init1", in >= 0 ? 0 : -1);
    int w = inotify_add_watch(in, ".", IN_CREATE);
    show("inotify_add_watch", w >= 0 ? 0 : -1);
    show("inotify_add_watch bad", inotify_add_watch(in, "no/such/dir", IN_CREATE));
    int f = open("made.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
    char buf[sizeof(struct inotify_event) + NAME_MAX + 1];
    long n = read(in, buf, sizeof buf);
    struct inotify_event *ev = (struct inotify_event *)buf;
    printf("inotify read %d mask %#x name %s\n", n > 0, n > 0 ? ev->mask : 0,
           n > 0 ? ev->name : "-");
    show("inotify_rm_watch", inotify_rm_watch(in, w));

    /* Advice and write-back on a file with data. */
    write(f, "0123456789", 10);
    errno = posix_fadvise(f, 0, 10, POSIX_FADV_SEQUENTIAL);
    show("posix_fadvise", errno ? -1 : 0);
    errno = posix_fadvise(f, 0, 10, 99);
    show("posix_fadvise bad", errno ? -1 : 0);
    show("sync_file_range", sync_file_range(f, 0, 10, SYNC_FILE_RANGE_WRITE));
    show("readahead", readahead(f, 0, 10));
    show("readahead bad fd", readahead(-1, 0, 10));

    unsigned cpu = UINT_MAX, node = UINT_MAX;
    show("getcpu", syscall(SYS_getcpu, &cpu, &node, NULL));
    printf("cpu known %d\n", cpu < 4096);
    show("getcpu bad", syscall(SYS_getcpu, (void *)8, NULL, NULL));

    struct sched_param p = {0};
    show("sched_setscheduler", sched_setscheduler(0, SCHED_OTHER, &p));
    show("sched_setparam", sched_setparam(0, &p));
    show("sched_setparam bad", syscall(SYS_sched_setparam, 0, (void *)8));
    struct timespec rr;
    show("sched_rr_get_interval", sched_rr_get_interval(0, &rr));
    show("personality query", personality(0xffffffff) & 0xff);
    return 0;
}
