/* Shared mappings, in the current directory (the test makes it a fresh temporary directory):
 * a file's MAP_SHARED pages, whose writes reach the file (after msync and without it) and
 * which see the file's writes; a private mapping of the same file, whose writes stay its own;
 * two mappings of one memfd, which alias; MAP_SHARED|MAP_ANONYMOUS memory that a forked child
 * writes for its parent (and private memory that it does not); and the read-only and
 * write-only descriptors: EACCES for a writable shared mapping and for mprotect to write,
 * PROT_NONE and back, and a pipe, which does not map. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *how(void *p) {
    return p == MAP_FAILED ? strerrorname_np(errno) : "mapped";
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int fd = open("f", O_CREAT | O_RDWR | O_TRUNC, 0644);
    ftruncate(fd, 8192);
    pwrite(fd, "file text", 9, 0);
    char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("shared: %s \"%.9s\"\n", how(m), m);
    memcpy(m + 5, "TEXT", 4);
    printf("msync %d\n", msync(m, 4096, MS_SYNC));
    char buf[16] = {0};
    pread(fd, buf, 9, 0);
    printf("the file reads \"%s\"\n", buf);
    memcpy(m + 4100, "no msync", 8);
    memset(buf, 0, sizeof buf);
    pread(fd, buf, 8, 4100);
    printf("without msync too: \"%s\"\n", buf);
    pwrite(fd, "new", 3, 4096);
    printf("the mapping sees \"%.3s\"\n", m + 4096);
    char *priv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    priv[0] = 'P';
    pread(fd, buf, 1, 0);
    printf("a private write stays private: %c %c %c\n", buf[0], m[0], priv[0]);
    munmap(priv, 4096);
    munmap(m, 8192);

    int mfd = memfd_create("shm", 0);
    ftruncate(mfd, 4096);
    char *a = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    char *b = mmap(NULL, 4096, PROT_READ, MAP_SHARED, mfd, 0);
    strcpy(a, "through a");
    printf("b reads \"%s\"\n", b);

    int *counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int *own = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    *counter = 1;
    *own = 1;
    pid_t p = fork();
    if (p == 0) {
        *counter += 41;
        *own += 41;
        _exit(0);
    }
    waitpid(p, NULL, 0);
    printf("after the child: shared %d, private %d\n", *counter, *own);

    int ro = open("f", O_RDONLY);
    printf("writable shared of a read-only fd: %s\n",
           how(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0)));
    char *r = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ro, 0);
    printf("read-only shared: %s \"%.9s\"\n", how(r), r);
    int w = mprotect(r, 4096, PROT_READ | PROT_WRITE);
    printf("mprotect to write: %d %s\n", w, w ? strerrorname_np(errno) : "-");
    int none = mprotect(r, 4096, PROT_NONE);
    int back = mprotect(r, 4096, PROT_READ);
    printf("mprotect none and back: %d %d \"%.4s\"\n", none, back, r);
    char *pw = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
    pw[0] = 'x';
    printf("private writable of a read-only fd: %s %c\n", how(pw), pw[0]);
    int wo = open("f", O_WRONLY);
    printf("shared of a write-only fd: %s\n", how(mmap(NULL, 4096, PROT_READ, MAP_SHARED, wo, 0)));
    int pp[2];
    pipe(pp);
    printf("shared of a pipe: %s\n", how(mmap(NULL, 4096, PROT_READ, MAP_SHARED, pp[0], 0)));
    return 0;
}
