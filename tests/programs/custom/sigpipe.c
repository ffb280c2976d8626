/* Writing to a pipe without a reader: with SIGPIPE ignored write fails with EPIPE, by default
 * the writer dies of SIGPIPE. An unknown system call fails with ENOSYS. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>

int main(void) {
    setvbuf(stdout, 0, _IONBF, 0);
    long r = syscall(4000);
    printf("syscall 4000: %ld errno %d\n", r, errno);
    r = syscall(4000);
    printf("syscall 4000 again: %ld errno %d\n", r, errno);
    int p[2];
    pipe(p);
    close(p[0]);
    signal(SIGPIPE, SIG_IGN);
    errno = 0;
    r = write(p[1], "x", 1);
    printf("ignored: write %ld errno %d\n", r, errno);
    signal(SIGPIPE, SIG_DFL);
    write(p[1], "x", 1);
    puts("not reached");
    return 0;
}
