/* A pseudo-terminal opened by the program itself (a descriptor above 2): the terminal ioctls
 * (TIOCGPTN and TIOCSPTLCK through ptsname and unlockpt, TCGETS and TCSETS through
 * tcgetattr and tcsetattr, TIOCSWINSZ and TIOCGWINSZ, TIOCGPGRP) and data from the master
 * side read on the other side in raw mode. A machine without /dev/ptmx prints one line. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

int main(void) {
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0) {
        printf("no pty: %s\n", strerrorname_np(errno));
        return 0;
    }
    printf("master above 2: %d\n", m > 2);
    printf("grantpt %d unlockpt %d\n", grantpt(m), unlockpt(m));
    const char *name = ptsname(m);
    printf("ptsname under /dev/pts: %d\n", name && strncmp(name, "/dev/pts/", 9) == 0);
    int s = open(name, O_RDWR | O_NOCTTY);
    printf("slave open: %d isatty %d isatty(master) %d\n", s > 2, isatty(s), isatty(m));

    struct termios t;
    printf("tcgetattr %d icanon %d echo %d\n", tcgetattr(s, &t), !!(t.c_lflag & ICANON),
           !!(t.c_lflag & ECHO));
    cfmakeraw(&t);
    printf("tcsetattr %d\n", tcsetattr(s, TCSANOW, &t));
    struct termios u;
    tcgetattr(s, &u);
    printf("raw: icanon %d echo %d opost %d cs8 %d\n", !!(u.c_lflag & ICANON),
           !!(u.c_lflag & ECHO), !!(u.c_oflag & OPOST), (u.c_cflag & CSIZE) == CS8);

    struct winsize w = {.ws_row = 42, .ws_col = 133}, v;
    memset(&v, 0, sizeof v);
    printf("TIOCSWINSZ %d TIOCGWINSZ %d rows %d cols %d\n", ioctl(m, TIOCSWINSZ, &w),
           ioctl(s, TIOCGWINSZ, &v), v.ws_row, v.ws_col);
    pid_t pgrp;
    errno = 0;
    int r = ioctl(s, TIOCGPGRP, &pgrp);
    printf("TIOCGPGRP without a controlling terminal %d %s\n", r, strerrorname_np(errno));

    const char msg[] = "hello\n";
    printf("write %zd\n", write(m, msg, sizeof msg - 1));
    char buf[16] = {0};
    ssize_t n = read(s, buf, sizeof buf - 1);
    printf("read %zd %s", n, buf);
    errno = 0;
    r = tcgetattr(-1, &t);
    printf("tcgetattr(-1) %d %s\n", r, strerrorname_np(errno));
    return 0;
}
