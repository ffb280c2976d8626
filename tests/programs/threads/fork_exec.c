/* Processes: fork and waitpid with an exit status, fork and execve of this program (through
 * /proc/self/exe and through argv[0]) in its "echo" mode, a pipe from a child to the parent,
 * a two-child pipeline (a writer | this program in its "filter" mode, joined with dup2),
 * vfork with _exit and with execve, children killed by signals (WIFSIGNALED, WTERMSIG through
 * wait4), waitpid with WNOHANG and waiting for any child, fork while other threads run (the
 * child has one thread) and exit called by a second thread of a child. Every child's result reaches stdout
 * in a fixed order; exits 1 when a check fails.
 * execs: yes */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static int failures;
static const char *self;

static void check(int ok, const char *what)
{
    if (!ok) {
        printf("FAIL %s\n", what);
        failures++;
    }
}

static pid_t fork_or_die(void)
{
    fflush(stdout);
    pid_t p = fork();
    if (p < 0) {
        printf("FAIL fork: errno %d\n", errno);
        exit(1);
    }
    return p;
}

static int wait_for(pid_t pid)
{
    int status = -1;
    pid_t got;
    while ((got = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
        ;
    check(got == pid, "waitpid returns the child");
    return status;
}

static void exec_self(const char *path, const char *mode, const char *arg)
{
    char *argv[] = { (char *)"fork_exec", (char *)mode, (char *)arg, NULL };
    execve(path, argv, environ);
    /* Only reached when execve failed. */
    dprintf(1, "FAIL execve %s: errno %d\n", path, errno);
    _exit(127);
}

/* The "echo" mode: prints its argument and exits 7. */
static int echo_mode(int argc, char **argv)
{
    printf("echo: %s (argc %d)\n", argc > 2 ? argv[2] : "-", argc);
    return 7;
}

/* The "filter" mode: sums the numbers on stdin, one per line. */
static int filter_mode(void)
{
    long sum = 0, lines = 0, v;
    while (scanf("%ld", &v) == 1) {
        sum += v;
        lines++;
    }
    printf("filter: %ld lines, sum %ld\n", lines, sum);
    return 0;
}

static void exit_status_part(void)
{
    pid_t parent = getpid();
    pid_t p = fork_or_die();
    if (p == 0)
        _exit(getppid() == parent && getpid() != parent ? 42 : 43);
    int s = wait_for(p);
    check(WIFEXITED(s) && WEXITSTATUS(s) == 42, "child exit status 42");
    printf("fork: exited %d, status %d\n", WIFEXITED(s), WEXITSTATUS(s));
}

static void exec_part(void)
{
    pid_t p = fork_or_die();
    if (p == 0)
        exec_self("/proc/self/exe", "echo", "through /proc/self/exe");
    int s = wait_for(p);
    check(WIFEXITED(s) && WEXITSTATUS(s) == 7, "exec through /proc/self/exe exits 7");
    p = fork_or_die();
    if (p == 0)
        exec_self(self, "echo", "through argv[0]");
    s = wait_for(p);
    check(WIFEXITED(s) && WEXITSTATUS(s) == 7, "exec through argv[0] exits 7");
    printf("exec: both exited %d\n", WEXITSTATUS(s));
}

static void pipe_part(void)
{
    enum { BYTES = 200000 };
    int fd[2];
    check(pipe(fd) == 0, "pipe");
    pid_t p = fork_or_die();
    if (p == 0) {
        close(fd[0]);
        static unsigned char buf[BYTES];
        for (int i = 0; i < BYTES; i++)
            buf[i] = (unsigned char)(i * 7 + i / 256);
        size_t off = 0;
        while (off < BYTES) {
            ssize_t n = write(fd[1], buf + off, BYTES - off > 5000 ? 5000 : BYTES - off);
            if (n <= 0)
                _exit(1);
            off += (size_t)n;
        }
        _exit(0);
    }
    close(fd[1]);
    unsigned char buf[4096];
    long total = 0, bad = 0;
    ssize_t n;
    while ((n = read(fd[0], buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (ssize_t i = 0; i < n; i++, total++)
            if (buf[i] != (unsigned char)(total * 7 + total / 256))
                bad++;
    }
    close(fd[0]);
    int s = wait_for(p);
    check(total == BYTES && bad == 0, "pipe contents");
    check(WIFEXITED(s) && WEXITSTATUS(s) == 0, "pipe writer exit");
    printf("pipe: %ld bytes, %ld wrong\n", total, bad);
}

static void pipeline_part(void)
{
    int a[2], b[2];
    check(pipe(a) == 0 && pipe(b) == 0, "pipes");
    pid_t writer = fork_or_die();
    if (writer == 0) {
        dup2(a[1], 1);
        close(a[0]);
        close(a[1]);
        close(b[0]);
        close(b[1]);
        for (int i = 1; i <= 1000; i++)
            printf("%d\n", i);
        fflush(stdout);
        _exit(0);
    }
    pid_t filter = fork_or_die();
    if (filter == 0) {
        dup2(a[0], 0);
        dup2(b[1], 1);
        close(a[0]);
        close(a[1]);
        close(b[0]);
        close(b[1]);
        exec_self(self, "filter", NULL);
    }
    close(a[0]);
    close(a[1]);
    close(b[1]);
    char out[256];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof out - 1 && (n = read(b[0], out + len, sizeof out - 1 - len)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        len += (size_t)n;
    }
    out[len] = 0;
    close(b[0]);
    int s1 = wait_for(writer), s2 = wait_for(filter);
    check(strcmp(out, "filter: 1000 lines, sum 500500\n") == 0, "pipeline output");
    check(WIFEXITED(s1) && WEXITSTATUS(s1) == 0 && WIFEXITED(s2) && WEXITSTATUS(s2) == 0,
          "pipeline exits");
    printf("pipeline: %s", out);
}

static void vfork_part(void)
{
    fflush(stdout);
    pid_t p = vfork();
    if (p == 0)
        _exit(5);
    int s = wait_for(p);
    check(WIFEXITED(s) && WEXITSTATUS(s) == 5, "vfork _exit 5");
    fflush(stdout);
    p = vfork();
    if (p == 0) {
        char *argv[] = { (char *)"fork_exec", (char *)"echo", (char *)"after vfork", NULL };
        execve("/proc/self/exe", argv, environ);
        _exit(127);
    }
    int s2 = wait_for(p);
    check(WIFEXITED(s2) && WEXITSTATUS(s2) == 7, "vfork execve exits 7");
    printf("vfork: statuses %d %d\n", WEXITSTATUS(s), WEXITSTATUS(s2));
}

static void signal_part(void)
{
    static const int sigs[] = { SIGTERM, SIGKILL, SIGUSR1 };
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        int ready[2];
        check(pipe(ready) == 0, "pipe");
        pid_t p = fork_or_die();
        if (p == 0) {
            close(ready[0]);
            write(ready[1], "r", 1);
            for (;;)
                pause();
        }
        close(ready[1]);
        char c;
        check(read(ready[0], &c, 1) == 1, "child ready");
        close(ready[0]);
        kill(p, sigs[i]);
        int s = -1;
        struct rusage ru;
        pid_t got;
        while ((got = wait4(p, &s, 0, &ru)) < 0 && errno == EINTR)
            ;
        check(got == p, "wait4 returns the child");
        check(WIFSIGNALED(s) && WTERMSIG(s) == sigs[i], "killed by the signal");
        printf("wait4: signaled %d, signal %s\n", WIFSIGNALED(s), strsignal(WTERMSIG(s)));
    }
}

static void nohang_part(void)
{
    int go[2];
    check(pipe(go) == 0, "pipe");
    pid_t p = fork_or_die();
    if (p == 0) {
        close(go[1]);
        char c = 0;
        ssize_t n = read(go[0], &c, 1);
        _exit(n == 1 ? c : 99);
    }
    close(go[0]);
    int s = 0;
    pid_t early = waitpid(p, &s, WNOHANG);
    check(early == 0, "WNOHANG while the child waits");
    write(go[1], "\x11", 1);
    close(go[1]);
    s = wait_for(p);
    check(WIFEXITED(s) && WEXITSTATUS(s) == 0x11, "child exit after go");
    printf("nohang: early %d, then status %d\n", (int)early, WEXITSTATUS(s));

    /* Three children; waitpid(-1) collects each once, in any order. */
    pid_t kids[3];
    for (int i = 0; i < 3; i++) {
        kids[i] = fork_or_die();
        if (kids[i] == 0)
            _exit(20 + i);
    }
    int seen = 0;
    for (int i = 0; i < 3; i++) {
        pid_t got;
        while ((got = waitpid(-1, &s, 0)) < 0 && errno == EINTR)
            ;
        for (int k = 0; k < 3; k++)
            if (got == kids[k] && WIFEXITED(s) && WEXITSTATUS(s) == 20 + k)
                seen |= 1 << k;
    }
    errno = 0;
    pid_t none = waitpid(-1, &s, 0);
    check(seen == 7, "each child collected once");
    check(none == -1 && errno == ECHILD, "ECHILD when no children are left");
    printf("any: collected mask %d, then ECHILD %d\n", seen, none == -1 && errno == ECHILD);
}

/* Threads that keep running while the main thread forks. */
static volatile int stop_spinning;
static long spins[3];

static void *spinner(void *arg)
{
    long id = (long)arg;
    while (!stop_spinning)
        spins[id]++;
    return NULL;
}

static void *exiter(void *arg)
{
    (void)arg;
    exit(9);
}

static void threads_part(void)
{
    pthread_t t[3];
    for (long i = 0; i < 3; i++)
        check(pthread_create(&t[i], NULL, spinner, (void *)i) == 0, "pthread_create");
    pid_t p = fork_or_die();
    if (p == 0) {
        /* Only the forking thread exists in the child: its thread id is the process id, and
         * the C library still works. */
        char *m = malloc(1000);
        int ok = syscall(SYS_gettid) == getpid() && m != NULL;
        free(m);
        _exit(ok ? 12 : 13);
    }
    int s = wait_for(p);
    stop_spinning = 1;
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    check(WIFEXITED(s) && WEXITSTATUS(s) == 12, "fork from a threaded process");

    /* In a child, a second thread calls exit while the main thread waits to join it. */
    p = fork_or_die();
    if (p == 0) {
        pthread_t e;
        if (pthread_create(&e, NULL, exiter, NULL) != 0)
            _exit(14);
        pthread_join(e, NULL);
        _exit(15);
    }
    int s2 = wait_for(p);
    check(WIFEXITED(s2) && WEXITSTATUS(s2) == 9, "exit from a second thread");
    printf("threads: forked child status %d, exit from a thread status %d\n", WEXITSTATUS(s),
           WEXITSTATUS(s2));
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "echo") == 0)
        return echo_mode(argc, argv);
    if (argc > 1 && strcmp(argv[1], "filter") == 0)
        return filter_mode();
    self = argv[0];
    if (strchr(self, '/') == NULL) {
        printf("FAIL argv[0] %s is not a path\n", self);
        return 1;
    }
    exit_status_part();
    exec_part();
    pipe_part();
    pipeline_part();
    vfork_part();
    signal_part();
    nohang_part();
    threads_part();
    printf(failures ? "FAIL\n" : "ok\n");
    return failures ? 1 : 0;
}
