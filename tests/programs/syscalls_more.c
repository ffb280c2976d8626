/* System calls beyond plain file I/O, in the current directory (the test makes it a fresh
 * temporary directory): umask, sync calls, flock, fchmod/fchmodat, fchown/fchownat, fchdir,
 * truncate, fallocate, symlinkat, linkat, mknodat (FIFO, regular file), statfs/fstatfs, statx,
 * getrusage, times, process groups and sessions, priorities, groups and ids, clock_getres,
 * the scheduler queries, close_range, preadv/pwritev and preadv2/pwritev2, sendfile,
 * copy_file_range, eventfd, memfd_create, msync, mlock and mlock2, mincore, the FIO* ioctls,
 * errno order (pipe2, prlimit64), and
 * sockets: an AF_UNIX socketpair (stream with SCM_RIGHTS, datagram, sendmmsg/recvmmsg batches
 * with MSG_WAITFORONE and a timeout), an AF_UNIX listener on a
 * path and an AF_INET one on 127.0.0.1 port 0, connected and accepted in one process. Only
 * results that do not depend on the machine or the time are printed. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/times.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* Prints a call's result and errno name. */
#define CHK(name, expr)                                                                  \
    do {                                                                                 \
        errno = 0;                                                                       \
        long r_ = (long)(expr);                                                          \
        printf("%-22s %ld %s\n", name, r_, r_ < 0 ? strerrorname_np(errno) : "-");       \
    } while (0)

static void show_file(const char *path) {
    char buf[64] = {0};
    int fd = open(path, O_RDONLY);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    printf("  %s: %zd \"%s\"\n", path, n, buf);
}

static void files(void) {
    printf("umask %03o\n", (unsigned)umask(022));
    printf("umask %03o\n", (unsigned)umask(027));
    umask(022);
    int fd = open("f", O_CREAT | O_RDWR | O_TRUNC, 0666);
    write(fd, "hello world", 11);
    struct stat st;
    fstat(fd, &st);
    printf("created mode %o\n", st.st_mode & 07777);
    CHK("fsync", fsync(fd));
    CHK("fdatasync", fdatasync(fd));
    CHK("syncfs", syncfs(fd));
    sync();
    CHK("fsync bad fd", fsync(-1));

    CHK("flock ex", flock(fd, LOCK_EX));
    int fd2 = open("f", O_RDONLY);
    CHK("flock other nb", flock(fd2, LOCK_EX | LOCK_NB));
    CHK("flock un", flock(fd, LOCK_UN));
    CHK("flock other", flock(fd2, LOCK_SH | LOCK_NB));
    CHK("flock bad op", flock(fd2, 0));
    close(fd2);

    CHK("fchmod", fchmod(fd, 0600));
    fstat(fd, &st);
    printf("  mode %o\n", st.st_mode & 07777);
    CHK("fchmodat", fchmodat(AT_FDCWD, "f", 0640, 0));
    stat("f", &st);
    printf("  mode %o\n", st.st_mode & 07777);
    CHK("fchmodat missing", fchmodat(AT_FDCWD, "missing", 0640, 0));
    CHK("fchmodat efault", syscall(53, AT_FDCWD, (void *)8, 0640));
    CHK("fchown", fchown(fd, -1, -1));
    CHK("fchown same", fchown(fd, getuid(), getgid()));
    CHK("fchown bad fd", fchown(-1, -1, -1));
    CHK("fchownat", fchownat(AT_FDCWD, "f", -1, -1, 0));
    CHK("fchownat missing", fchownat(AT_FDCWD, "missing", -1, -1, 0));

    CHK("truncate", truncate("f", 5));
    stat("f", &st);
    printf("  size %lld\n", (long long)st.st_size);
    CHK("truncate missing", truncate("missing", 5));
    CHK("truncate efault", syscall(45, (void *)8, 5));
    CHK("fallocate", fallocate(fd, 0, 0, 100));
    fstat(fd, &st);
    printf("  size %lld\n", (long long)st.st_size);
    CHK("fallocate keep", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 200));
    fstat(fd, &st);
    printf("  size %lld\n", (long long)st.st_size);
    CHK("fallocate bad len", fallocate(fd, 0, 0, 0));
    CHK("ftruncate", ftruncate(fd, 11));
    pwrite(fd, "hello world", 11, 0);

    CHK("symlinkat", symlinkat("f", AT_FDCWD, "l"));
    char link[64] = {0};
    CHK("readlink", readlink("l", link, sizeof link));
    printf("  -> %s\n", link);
    CHK("symlinkat exists", symlinkat("f", AT_FDCWD, "l"));
    CHK("linkat", linkat(AT_FDCWD, "f", AT_FDCWD, "h", 0));
    stat("f", &st);
    printf("  nlink %ld\n", (long)st.st_nlink);
    CHK("linkat follow", linkat(AT_FDCWD, "l", AT_FDCWD, "h2", AT_SYMLINK_FOLLOW));
    lstat("h2", &st);
    printf("  h2 regular %d nlink %ld\n", S_ISREG(st.st_mode), (long)st.st_nlink);
    CHK("linkat missing", linkat(AT_FDCWD, "missing", AT_FDCWD, "h3", 0));
    CHK("mkfifo", mkfifo("p", 0600));
    stat("p", &st);
    printf("  fifo %d mode %o\n", S_ISFIFO(st.st_mode), st.st_mode & 07777);
    CHK("mknod reg", mknod("r", S_IFREG | 0644, 0));
    stat("r", &st);
    printf("  regular %d size %lld\n", S_ISREG(st.st_mode), (long long)st.st_size);
    CHK("mknod exists", mknod("r", S_IFREG | 0644, 0));
    CHK("mknodat bad type", mknodat(AT_FDCWD, "bad", 0170000 | 0644, 0));

    mkdir("d", 0755);
    int dfd = open("d", O_RDONLY | O_DIRECTORY);
    CHK("fchdir", fchdir(dfd));
    int in = open("inside", O_CREAT | O_WRONLY, 0644);
    close(in);
    chdir("..");
    CHK("access d/inside", access("d/inside", F_OK));
    CHK("fchdir file", fchdir(fd));
    CHK("fchdir bad fd", fchdir(-1));
    close(dfd);

    struct statfs sf1, sf2;
    CHK("statfs", statfs(".", &sf1));
    CHK("fstatfs", fstatfs(fd, &sf2));
    printf("  same type %d bsize>0 %d namelen %ld\n", sf1.f_type == sf2.f_type,
           sf1.f_bsize > 0, (long)sf1.f_namelen);
    CHK("statfs missing", statfs("missing", &sf1));
    CHK("statfs efault", statfs(".", (struct statfs *)8));
    CHK("fstatfs bad fd", fstatfs(-1, &sf1));

    struct statx sx;
    CHK("statx", statx(AT_FDCWD, "f", 0, STATX_BASIC_STATS, &sx));
    printf("  size %llu mode %o nlink %u basic %d\n", (unsigned long long)sx.stx_size,
           sx.stx_mode, sx.stx_nlink, (sx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS);
    CHK("statx nofollow", statx(AT_FDCWD, "l", AT_SYMLINK_NOFOLLOW, STATX_TYPE, &sx));
    printf("  link %d\n", S_ISLNK(sx.stx_mode));
    CHK("statx empty path", statx(fd, "", AT_EMPTY_PATH, STATX_SIZE, &sx));
    printf("  size %llu\n", (unsigned long long)sx.stx_size);
    CHK("statx missing", statx(AT_FDCWD, "missing", 0, STATX_SIZE, &sx));
    CHK("statx efault", statx(AT_FDCWD, "f", 0, STATX_SIZE, (struct statx *)8));

    /* Vectored I/O at an offset. */
    struct iovec iov[2] = {{"AB", 2}, {"CDE", 3}};
    CHK("pwritev", pwritev(fd, iov, 2, 2));
    char b1[3] = {0}, b2[5] = {0};
    struct iovec rio[2] = {{b1, 2}, {b2, 4}};
    CHK("preadv", preadv(fd, rio, 2, 1));
    printf("  \"%s\" \"%s\" at %ld\n", b1, b2, (long)lseek(fd, 0, SEEK_CUR));
    CHK("preadv negative", preadv(fd, rio, 2, -1));
    CHK("preadv efault", syscall(SYS_preadv, fd, 8L, 2, 0L, 0L));
    show_file("f");
    struct iovec iov2[2] = {{"xy", 2}, {"z", 1}};
    /* (qemu-aarch64 refuses every RWF_* flag and MLOCK_ONFAULT, so flags are not compared.) */
    CHK("pwritev2", pwritev2(fd, iov2, 2, 1, 0));
    lseek(fd, 3, SEEK_SET);
    CHK("pwritev2 at the position", pwritev2(fd, iov2, 1, -1, 0));
    printf("  at %ld\n", (long)lseek(fd, 0, SEEK_CUR));
    memset(b1, 0, sizeof b1);
    memset(b2, 0, sizeof b2);
    CHK("preadv2", preadv2(fd, rio, 2, 0, 0));
    printf("  \"%s\" \"%s\"\n", b1, b2);
    show_file("f");

    /* Copies in the kernel. */
    int out = open("g", O_CREAT | O_RDWR | O_TRUNC, 0644);
    off_t off = 6;
    CHK("sendfile", sendfile(out, fd, &off, 5));
    printf("  off %ld\n", (long)off);
    lseek(fd, 0, SEEK_SET);
    CHK("sendfile no off", sendfile(out, fd, NULL, 3));
    CHK("sendfile efault", sendfile(out, fd, (off_t *)8, 3));
    show_file("g");
    loff_t oin = 0, oout = 8;
    CHK("copy_file_range", copy_file_range(fd, &oin, out, &oout, 4, 0));
    printf("  in %ld out %ld\n", (long)oin, (long)oout);
    CHK("copy_file_range flags", copy_file_range(fd, &oin, out, &oout, 4, 1));
    show_file("g");
    close(out);
    close(fd);
}

static void processes(void) {
    CHK("getpgid self", getpgid(0) == getpgid(getpid()));
    CHK("getpgrp", getpgrp() == getpgid(0));
    CHK("getsid", getsid(0) > 0);
    CHK("getpgid missing", getpgid(0x3fffffff));
    CHK("setpgid", setpgid(0, 0));
    CHK("leader", getpgid(0) == getpid());
    CHK("setsid leader", setsid());
    CHK("setpgid bad", setpgid(0, -1));
    errno = 0;
    int prio = getpriority(PRIO_PROCESS, 0);
    printf("getpriority %d %s\n", prio, errno ? strerrorname_np(errno) : "-");
    CHK("setpriority", setpriority(PRIO_PROCESS, 0, prio));
    CHK("setpriority bad", setpriority(99, 0, 0));
    CHK("getpriority again", getpriority(PRIO_PROCESS, 0) == prio);

    gid_t groups[256];
    int n = getgroups(0, NULL);
    CHK("getgroups count", n >= 0);
    CHK("getgroups", getgroups(256, groups) == n);
    if (n > 0)
        CHK("getgroups small", getgroups(n - 1 > 0 ? n - 1 : 0, groups) >= 0 || n == 1);
    CHK("getgroups efault", n > 0 ? syscall(SYS_getgroups, 256, 8L) : -1);
    uid_t r, e, s;
    CHK("getresuid", getresuid(&r, &e, &s));
    printf("  match %d\n", r == getuid() && e == geteuid() && s == geteuid());
    gid_t gr, ge, gs;
    CHK("getresgid", getresgid(&gr, &ge, &gs));
    printf("  match %d\n", gr == getgid() && ge == getegid() && gs == getegid());
    CHK("getresuid efault", getresuid((uid_t *)8, &e, &s));
    CHK("setuid same", setuid(getuid()));
    CHK("setgid same", setgid(getgid()));
    CHK("setreuid keep", setreuid(-1, -1));
    CHK("setregid keep", setregid(-1, -1));
    CHK("setresuid keep", setresuid(-1, -1, -1));
    CHK("setresgid keep", setresgid(-1, -1, -1));

    struct rusage ru;
    CHK("getrusage", getrusage(RUSAGE_SELF, &ru));
    printf("  sane %d\n", ru.ru_utime.tv_usec < 1000000 && ru.ru_stime.tv_usec < 1000000);
    CHK("getrusage thread", getrusage(RUSAGE_THREAD, &ru));
    CHK("getrusage bad", getrusage(5, &ru));
    CHK("getrusage efault", getrusage(RUSAGE_SELF, (struct rusage *)8));
    struct tms t;
    CHK("times", times(&t) != (clock_t)-1);
    CHK("times null", times(NULL) != (clock_t)-1);

    struct timespec res;
    CHK("clock_getres", clock_getres(CLOCK_MONOTONIC, &res));
    printf("  %ld.%09ld\n", (long)res.tv_sec, res.tv_nsec);
    CHK("clock_getres null", clock_getres(CLOCK_REALTIME, NULL));
    CHK("clock_getres bad", clock_getres(99, &res));

    CHK("sched_getscheduler", sched_getscheduler(0));
    struct sched_param sp = {.sched_priority = -1};
    CHK("sched_getparam", sched_getparam(0, &sp));
    printf("  priority %d\n", sp.sched_priority);
    CHK("sched_getparam efault", syscall(121, 0, (void *)8));
    CHK("sched_get_priority_max", sched_get_priority_max(SCHED_FIFO));
    CHK("sched_get_priority_min", sched_get_priority_min(SCHED_FIFO));
    CHK("sched_get_priority_max bad", sched_get_priority_max(99));
    cpu_set_t set;
    CPU_ZERO(&set);
    sched_getaffinity(0, sizeof set, &set);
    CHK("sched_setaffinity", sched_setaffinity(0, sizeof set, &set));
    CHK("sched_setaffinity efault", sched_setaffinity(0, sizeof set, (cpu_set_t *)8));

    CHK("dup2 100", dup2(1, 100));
    CHK("dup2 101", dup2(1, 101));
    CHK("close_range", close_range(100, 101, 0));
    CHK("closed", fcntl(100, F_GETFD));
    dup2(1, 100);
    CHK("close_range cloexec", close_range(100, 100, CLOSE_RANGE_CLOEXEC));
    CHK("cloexec", fcntl(100, F_GETFD));
    close(100);
    CHK("close_range bad", close_range(5, 4, 0));
}

static void descriptors(void) {
    int efd = eventfd(3, EFD_CLOEXEC);
    CHK("eventfd", efd >= 0);
    CHK("eventfd cloexec", fcntl(efd, F_GETFD));
    unsigned long long v = 4;
    CHK("eventfd write", write(efd, &v, 8));
    CHK("eventfd read", read(efd, &v, 8));
    printf("  value %llu\n", v);
    close(efd);
    efd = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
    read(efd, &v, 8);
    printf("semaphore %llu\n", v);
    read(efd, &v, 8);
    CHK("semaphore empty", read(efd, &v, 8));
    close(efd);
    CHK("eventfd bad flags", eventfd(0, 0x10));

    int mfd = memfd_create("armature-test", MFD_CLOEXEC);
    CHK("memfd_create", mfd >= 0);
    CHK("memfd cloexec", fcntl(mfd, F_GETFD));
    write(mfd, "memory file", 11);
    char buf[32] = {0};
    pread(mfd, buf, sizeof buf - 1, 7);
    printf("  \"%s\"\n", buf);
    struct stat st;
    fstat(mfd, &st);
    printf("  size %lld\n", (long long)st.st_size);
    close(mfd);
    char name[300];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = 0;
    CHK("memfd_create long", memfd_create(name, 0));
    CHK("memfd_create flags", memfd_create("x", 0x100));
    CHK("memfd_create efault", memfd_create((char *)8, 0));

    /* ioctl. */
    int pp[2];
    pipe(pp);
    write(pp[1], "hello", 5);
    int avail = -1;
    CHK("FIONREAD", ioctl(pp[0], FIONREAD, &avail));
    printf("  avail %d\n", avail);
    CHK("FIONREAD efault", ioctl(pp[0], FIONREAD, (int *)8));
    int on = 1;
    CHK("FIONBIO", ioctl(pp[0], FIONBIO, &on));
    printf("  nonblock %d\n", !!(fcntl(pp[0], F_GETFL) & O_NONBLOCK));
    on = 0;
    CHK("FIONBIO off", ioctl(pp[0], FIONBIO, &on));
    printf("  nonblock %d\n", !!(fcntl(pp[0], F_GETFL) & O_NONBLOCK));
    CHK("FIONBIO efault", ioctl(pp[0], FIONBIO, (int *)8));
    CHK("FIOCLEX", ioctl(pp[0], FIOCLEX));
    printf("  cloexec %d\n", fcntl(pp[0], F_GETFD) & FD_CLOEXEC);
    CHK("FIONCLEX", ioctl(pp[0], FIONCLEX));
    printf("  cloexec %d\n", fcntl(pp[0], F_GETFD) & FD_CLOEXEC);
    struct termios tio;
    CHK("TCGETS bad fd", ioctl(-1, TCGETS, &tio));
    CHK("FIONREAD bad fd", ioctl(99, FIONREAD, &avail));
    CHK("TCGETS pipe", ioctl(pp[0], TCGETS, &tio));
    close(pp[0]);
    close(pp[1]);

    /* Errno order: flags before the pointer, the pointer before the work. */
    CHK("pipe2 bad flags", syscall(59, (void *)8, 1));
    CHK("pipe2 efault", syscall(59, (void *)8, O_CLOEXEC));
    CHK("prlimit64 efault", syscall(261, 0, RLIMIT_NOFILE, (void *)8, NULL));
    CHK("prlimit64 old efault", syscall(261, 0, RLIMIT_NOFILE, NULL, (void *)8));
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    struct rlimit lower = {64, rl.rlim_max};
    CHK("setrlimit", setrlimit(RLIMIT_NOFILE, &lower));
    CHK("dup2 above", dup2(1, 70));
    CHK("setrlimit back", setrlimit(RLIMIT_NOFILE, &rl));
    CHK("dup2 now", dup2(1, 70));
    close(70);
}

static void memory(void) {
    long page = sysconf(_SC_PAGESIZE);
    char *p = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(p, 1, 3 * page);
    CHK("msync", msync(p, page, MS_SYNC));
    CHK("msync async", msync(p, 3 * page, MS_ASYNC | MS_INVALIDATE));
    CHK("msync unaligned", msync(p + 1, page, MS_SYNC));
    CHK("msync both", msync(p, page, MS_SYNC | MS_ASYNC));
    CHK("msync zero", msync(p, 0, MS_SYNC));
    CHK("mlock", mlock(p, page));
    CHK("mlock unaligned", mlock(p + 10, 100));
    CHK("munlock", munlock(p, page));
    CHK("mlock2", mlock2(p, page, 0));
    CHK("mlock2 bad flag", mlock2(p, page, 2));
    CHK("munlock again", munlock(p, page));
    CHK("mlockall bad", mlockall(0));
    CHK("mlockall onfault", mlockall(MCL_ONFAULT));
    CHK("munlockall", munlockall());
    unsigned char vec[4] = {9, 9, 9, 9};
    CHK("mincore", mincore(p, 3 * page, vec));
    printf("  %d %d %d %d\n", vec[0] & 1, vec[1] & 1, vec[2] & 1, vec[3]);
    CHK("mincore unaligned", mincore(p + 1, page, vec));
    CHK("mincore efault", mincore(p, page, (unsigned char *)8));
    munmap(p + page, page);
    CHK("msync hole", msync(p, 3 * page, MS_SYNC));
    CHK("mlock hole", mlock(p, 3 * page));
    CHK("munlock hole", munlock(p + page, page));
    CHK("mincore hole", mincore(p, 3 * page, vec));
    munmap(p, 3 * page);
}

static void unix_sockets(void) {
    int sv[2];
    CHK("socketpair", socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
    CHK("socket cloexec", fcntl(sv[0], F_GETFD));
    CHK("send", send(sv[0], "ping", 4, 0));
    char buf[64] = {0};
    CHK("recv", recv(sv[1], buf, sizeof buf, 0));
    printf("  \"%s\"\n", buf);
    CHK("send efault", send(sv[0], (void *)8, 4, 0));
    CHK("socketpair efault", syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, 8L));
    CHK("socketpair inet", socketpair(AF_INET, SOCK_STREAM, 0, sv));

    /* A descriptor and data through sendmsg/recvmsg. */
    int fd = open("f", O_RDONLY);
    char cbuf[CMSG_SPACE(sizeof(int))];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iov[2] = {{"fd", 2}, {"-msg", 4}};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2, .msg_control = cbuf,
                         .msg_controllen = sizeof cbuf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    CHK("sendmsg", sendmsg(sv[0], &msg, 0));
    close(fd);
    char d1[3] = {0}, d2[8] = {0};
    char rbuf[CMSG_SPACE(sizeof(int))];
    struct iovec riov[2] = {{d1, 2}, {d2, 7}};
    struct msghdr rmsg = {.msg_iov = riov, .msg_iovlen = 2, .msg_control = rbuf,
                          .msg_controllen = sizeof rbuf};
    CHK("recvmsg", recvmsg(sv[1], &rmsg, MSG_CMSG_CLOEXEC));
    printf("  \"%s\" \"%s\" controllen %d flags %d\n", d1, d2,
           rmsg.msg_controllen == CMSG_SPACE(sizeof(int)), rmsg.msg_flags);
    struct cmsghdr *rc = CMSG_FIRSTHDR(&rmsg);
    if (rc && rc->cmsg_level == SOL_SOCKET && rc->cmsg_type == SCM_RIGHTS) {
        int got;
        memcpy(&got, CMSG_DATA(rc), sizeof got);
        char text[8] = {0};
        pread(got, text, 5, 0);
        printf("  passed fd reads \"%s\" cloexec %d\n", text, fcntl(got, F_GETFD));
        close(got);
    } else {
        printf("  no descriptor\n");
    }
    CHK("recvmsg efault", recvmsg(sv[1], (struct msghdr *)8, 0));
    CHK("shutdown", shutdown(sv[0], SHUT_WR));
    CHK("recv eof", recv(sv[1], buf, sizeof buf, 0));
    CHK("send after shutdown", send(sv[0], "x", 1, MSG_NOSIGNAL));
    close(sv[0]);
    close(sv[1]);

    /* Datagrams keep their boundaries. */
    CHK("socketpair dgram", socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    sendto(sv[0], "one", 3, 0, NULL, 0);
    sendto(sv[0], "three", 5, 0, NULL, 0);
    memset(buf, 0, sizeof buf);
    CHK("recvfrom", recvfrom(sv[1], buf, 2, 0, NULL, NULL));
    printf("  \"%s\"\n", buf);
    struct iovec one = {buf, sizeof buf};
    struct msghdr m2 = {.msg_iov = &one, .msg_iovlen = 1};
    memset(buf, 0, sizeof buf);
    CHK("recvmsg dgram", recvmsg(sv[1], &m2, 0));
    printf("  \"%s\"\n", buf);
    CHK("recv dontwait", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));

    /* Batches of datagrams, as glibc's resolver sends its A and AAAA queries. */
    struct iovec out[3] = {{"alpha", 5}, {"be", 2}, {"gamma!", 6}};
    struct mmsghdr sm[3];
    memset(sm, 0, sizeof sm);
    for (int i = 0; i < 3; i++) {
        sm[i].msg_hdr.msg_iov = &out[i];
        sm[i].msg_hdr.msg_iovlen = 1;
    }
    CHK("sendmmsg", sendmmsg(sv[0], sm, 3, 0));
    printf("  lengths %u %u %u\n", sm[0].msg_len, sm[1].msg_len, sm[2].msg_len);
    char in[4][8];
    memset(in, 0, sizeof in);
    struct iovec inv[4];
    struct mmsghdr rm[4];
    memset(rm, 0, sizeof rm);
    for (int i = 0; i < 4; i++) {
        inv[i] = (struct iovec){in[i], 7};
        rm[i].msg_hdr.msg_iov = &inv[i];
        rm[i].msg_hdr.msg_iovlen = 1;
    }
    CHK("recvmmsg waitforone", recvmmsg(sv[1], rm, 4, MSG_WAITFORONE, NULL));
    printf("  \"%s\" %u \"%s\" %u \"%s\" %u, fourth %u\n", in[0], rm[0].msg_len, in[1],
           rm[1].msg_len, in[2], rm[2].msg_len, rm[3].msg_len);
    CHK("recvmmsg dontwait", recvmmsg(sv[1], rm, 4, MSG_DONTWAIT, NULL));
    sendto(sv[0], "late", 4, 0, NULL, 0);
    struct timespec ts = {5, 0};
    CHK("recvmmsg timeout", recvmmsg(sv[1], rm, 1, 0, &ts));
    printf("  \"%.4s\" time left %d\n", in[0], ts.tv_sec >= 4 && ts.tv_sec <= 5);
    /* (qemu-aarch64 ignores the timeout, so an invalid one is not compared.) */
    CHK("sendmmsg efault", sendmmsg(sv[0], (struct mmsghdr *)8, 1, 0));
    CHK("sendmmsg second bad", ({
        struct mmsghdr two[2];
        memset(two, 0, sizeof two);
        two[0].msg_hdr.msg_iov = &out[0];
        two[0].msg_hdr.msg_iovlen = 1;
        two[1].msg_hdr.msg_iov = (struct iovec *)8;
        two[1].msg_hdr.msg_iovlen = 1;
        sendmmsg(sv[0], two, 2, 0);
    }));
    close(sv[0]);
    close(sv[1]);

    /* A listener on a path. */
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, "sock");
    CHK("bind unix", bind(l, (struct sockaddr *)&sa, sizeof sa));
    CHK("bind again", bind(l, (struct sockaddr *)&sa, sizeof sa));
    CHK("listen", listen(l, 4));
    int cl = socket(AF_UNIX, SOCK_STREAM, 0);
    CHK("connect unix", connect(cl, (struct sockaddr *)&sa, sizeof sa));
    struct sockaddr_un peer;
    socklen_t len = sizeof peer;
    int a = accept(l, (struct sockaddr *)&peer, &len);
    CHK("accept", a >= 0);
    printf("  peer len %d\n", (int)len);
    len = sizeof peer;
    CHK("getsockname", getsockname(l, (struct sockaddr *)&peer, &len));
    printf("  \"%s\" len %d\n", peer.sun_path, (int)len);
    len = 4;
    CHK("getsockname short", getsockname(l, (struct sockaddr *)&peer, &len));
    printf("  len %d\n", (int)len);
    len = sizeof peer;
    CHK("getpeername", getpeername(cl, (struct sockaddr *)&peer, &len));
    printf("  \"%s\"\n", peer.sun_path);
    CHK("getpeername listener", getpeername(l, (struct sockaddr *)&peer, &len));
    CHK("getsockname efault", getsockname(l, (struct sockaddr *)&peer, (socklen_t *)8));
    write(cl, "over unix", 9);
    memset(buf, 0, sizeof buf);
    read(a, buf, sizeof buf);
    printf("  \"%s\"\n", buf);
    close(a);
    close(cl);
    close(l);
    CHK("socket bad", socket(12345, SOCK_STREAM, 0));
    CHK("bind bad fd", bind(-1, (struct sockaddr *)&sa, sizeof sa));
    CHK("listen not socket", listen(0, 1));
}

static void inet_sockets(void) {
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    CHK("setsockopt", setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
    int val = 0;
    socklen_t vlen = sizeof val;
    CHK("getsockopt", getsockopt(l, SOL_SOCKET, SO_REUSEADDR, &val, &vlen));
    printf("  value %d len %d\n", val != 0, (int)vlen);
    vlen = sizeof val;
    CHK("getsockopt type", getsockopt(l, SOL_SOCKET, SO_TYPE, &val, &vlen));
    printf("  type %d\n", val);
    CHK("getsockopt efault", getsockopt(l, SOL_SOCKET, SO_TYPE, &val, (socklen_t *)8));
    CHK("setsockopt bad", setsockopt(l, SOL_SOCKET, 9999, &one, sizeof one));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHK("bind inet", bind(l, (struct sockaddr *)&sa, sizeof sa));
    socklen_t len = sizeof sa;
    CHK("getsockname", getsockname(l, (struct sockaddr *)&sa, &len));
    printf("  family %d port>0 %d addr %s\n", sa.sin_family, ntohs(sa.sin_port) > 0,
           inet_ntoa(sa.sin_addr));
    CHK("listen", listen(l, 4));
    int c = socket(AF_INET, SOCK_STREAM, 0);
    CHK("connect", connect(c, (struct sockaddr *)&sa, sizeof sa));
    struct sockaddr_in peer;
    len = sizeof peer;
    int a = accept4(l, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
    CHK("accept4", a >= 0);
    printf("  cloexec %d nonblock %d len %d\n", fcntl(a, F_GETFD),
           !!(fcntl(a, F_GETFL) & O_NONBLOCK), (int)len);
    struct sockaddr_in mine;
    len = sizeof mine;
    getsockname(c, (struct sockaddr *)&mine, &len);
    printf("  peer is the client %d\n", peer.sin_port == mine.sin_port);
    CHK("recv nothing", recv(a, &val, sizeof val, 0));
    CHK("sendto", sendto(c, "over tcp", 8, 0, NULL, 0));
    char buf[32] = {0};
    struct sockaddr_in from;
    len = sizeof from;
    CHK("recvfrom", recvfrom(a, buf, sizeof buf, MSG_WAITALL, (struct sockaddr *)&from, &len));
    printf("  \"%s\"\n", buf);
    CHK("shutdown", shutdown(c, SHUT_WR));
    usleep(10000);
    CHK("recv eof", recv(a, buf, sizeof buf, 0));
    CHK("accept4 bad flags", accept4(l, NULL, NULL, 1));
    fcntl(l, F_SETFL, O_NONBLOCK);
    CHK("accept nonblocking", accept(l, NULL, NULL));
    CHK("bind bad len", bind(c, (struct sockaddr *)&sa, 3));
    CHK("connect efault", connect(c, (struct sockaddr *)8, sizeof sa));
    close(a);
    close(c);
    close(l);

    /* UDP. */
    int u1 = socket(AF_INET, SOCK_DGRAM, 0), u2 = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in ua = {.sin_family = AF_INET};
    ua.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(u1, (struct sockaddr *)&ua, sizeof ua);
    len = sizeof ua;
    getsockname(u1, (struct sockaddr *)&ua, &len);
    CHK("sendto udp", sendto(u2, "datagram", 8, 0, (struct sockaddr *)&ua, sizeof ua));
    memset(buf, 0, sizeof buf);
    len = sizeof from;
    CHK("recvfrom udp", recvfrom(u1, buf, sizeof buf, 0, (struct sockaddr *)&from, &len));
    struct sockaddr_in u2a;
    socklen_t l2 = sizeof u2a;
    getsockname(u2, (struct sockaddr *)&u2a, &l2);
    printf("  \"%s\" from the sender %d len %d\n", buf, from.sin_port == u2a.sin_port, (int)len);
    close(u1);
    close(u2);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    files();
    processes();
    descriptors();
    memory();
    unix_sockets();
    inet_sockets();
    return 0;
}
