/* Programs that die of a signal, selected by argv[1]; tests/run.rs compares armature's exit
 * status (128 + signal) with qemu-aarch64's. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_segv(int sig) {
    printf("handler %d\n", sig);
}

int main(int argc, char **argv) {
    setvbuf(stdout, 0, _IONBF, 0);
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "abort")) {
        puts("abort");
        abort();
    } else if (!strcmp(mode, "blocked-segv")) {
        /* A fault while SIGSEGV is blocked kills even with a handler installed. */
        signal(SIGSEGV, on_segv);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGSEGV);
        sigprocmask(SIG_BLOCK, &set, 0);
        puts("blocked-segv");
        *(volatile int *)16 = 1;
    } else if (!strcmp(mode, "usr1")) {
        puts("usr1");
        raise(SIGUSR1);
    } else if (!strcmp(mode, "resethand")) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_segv;
        sa.sa_flags = SA_RESETHAND;
        sigaction(SIGTERM, &sa, 0);
        raise(SIGTERM);
        puts("once");
        raise(SIGTERM);
    } else if (!strcmp(mode, "pending")) {
        /* Blocked while sent, delivered with the default action when unblocked. */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigprocmask(SIG_BLOCK, &set, 0);
        kill(getpid(), SIGINT);
        puts("still alive");
        sigprocmask(SIG_UNBLOCK, &set, 0);
    }
    puts("not reached");
    return 0;
}
