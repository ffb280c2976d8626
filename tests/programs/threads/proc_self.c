/* /proc/self as the emulated process sees it: in /proc/self/maps the mapping holding main is
 * r-xp and names the program file, a large malloc block (an mmap) and a thread's stack are in
 * rw-p mappings, a [stack] mapping holds main's locals; /proc/self/exe links to the program,
 * /proc/self/cmdline holds the arguments, /proc/self/fd/N links to an open file,
 * /proc/self/auxv agrees with getauxval (AT_PAGESZ 4096, AT_ENTRY is _start) and
 * /proc/self/stat starts with the pid. Prints only the checks' results; exits 1 on failure.
 * args: alpha "beta gamma" "" */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

extern char _start[];
static int failures;
int main(int argc, char **argv);
static long initialised_data = 42;

static void check(int ok, const char *what)
{
    if (!ok) {
        printf("FAIL %s\n", what);
        failures++;
    }
}

/* The line of /proc/self/maps whose range holds `addr`, copied into `line`; 0 if none. */
static int maps_line(uintptr_t addr, char *line, size_t size)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return 0;
    int found = 0;
    while (!found && fgets(line, (int)size, f)) {
        unsigned long start, end;
        if (sscanf(line, "%lx-%lx", &start, &end) == 2 && start <= addr && addr < end)
            found = 1;
    }
    fclose(f);
    line[strcspn(line, "\n")] = 0;
    return found;
}

/* The permissions field ("r-xp") of the mapping holding `addr`, or "none". */
static const char *perms(uintptr_t addr, char *line, size_t size)
{
    static char p[5];
    if (!maps_line(addr, line, size))
        return "none";
    char *space = strchr(line, ' ');
    if (!space || strlen(space) < 5)
        return "none";
    memcpy(p, space + 1, 4);
    p[4] = 0;
    return p;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static char thread_perms[5];

static void *thread_fn(void *arg)
{
    (void)arg;
    volatile int local = 1;
    char line[512];
    strcpy(thread_perms, perms((uintptr_t)&local, line, sizeof line));
    return NULL;
}

static void maps_part(const char *exe)
{
    char line[512];
    const char *p = perms((uintptr_t)main, line, sizeof line);
    check(strcmp(p, "r-xp") == 0, "main is in an r-xp mapping");
    size_t n = strlen(line), e = strlen(exe);
    check(n >= e && strcmp(line + n - e, exe) == 0, "main's mapping names the program");
    printf("maps: main %s, names the program %d\n", p, n >= e && strcmp(line + n - e, exe) == 0);

    p = perms((uintptr_t)&initialised_data, line, sizeof line);
    check(strcmp(p, "rw-p") == 0, "data is rw-p");
    printf("maps: data %s\n", p);

    size_t big = 16 << 20;
    char *block = malloc(big);
    check(block != NULL, "malloc");
    block[0] = 1;
    block[big - 1] = 2;
    char p1[5], p2[5];
    strcpy(p1, perms((uintptr_t)block, line, sizeof line));
    strcpy(p2, perms((uintptr_t)block + big - 1, line, sizeof line));
    check(strcmp(p1, "rw-p") == 0 && strcmp(p2, "rw-p") == 0, "malloc block is rw-p");
    printf("maps: 16 MiB malloc block %s %s\n", p1, p2);
    free(block);

    volatile int local = 0;
    int in_stack = maps_line((uintptr_t)&local, line, sizeof line);
    n = strlen(line);
    in_stack = in_stack && n >= 7 && strcmp(line + n - 7, "[stack]") == 0;
    check(in_stack, "main's locals are in [stack]");
    printf("maps: main's locals in [stack] %d\n", in_stack);

    pthread_t t;
    check(pthread_create(&t, NULL, thread_fn, NULL) == 0, "pthread_create");
    pthread_join(t, NULL);
    check(strcmp(thread_perms, "rw-p") == 0, "thread stack is rw-p");
    printf("maps: thread stack %s\n", thread_perms);
}

static void exe_part(const char *argv0)
{
    char link[PATH_MAX], real[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", link, sizeof link - 1);
    check(n > 0, "readlink /proc/self/exe");
    link[n > 0 ? n : 0] = 0;
    check(realpath(argv0, real) != NULL, "realpath argv[0]");
    check(strcmp(link, real) == 0, "/proc/self/exe is the program");
    printf("exe: ends with %s, is argv[0] %d\n", base_name(link), strcmp(link, real) == 0);
}

static void cmdline_part(int argc, char **argv)
{
    char want[4096], got[4096];
    size_t wn = 0;
    for (int i = 0; i < argc; i++) {
        size_t l = strlen(argv[i]) + 1;
        memcpy(want + wn, argv[i], l);
        wn += l;
    }
    int fd = open("/proc/self/cmdline", O_RDONLY);
    size_t gn = 0;
    ssize_t n;
    while (fd >= 0 && (n = read(fd, got + gn, sizeof got - gn)) > 0)
        gn += (size_t)n;
    if (fd >= 0)
        close(fd);
    check(gn == wn && memcmp(got, want, wn) == 0, "cmdline holds the arguments");
    printf("cmdline: %d arguments, matches %d\n", argc, gn == wn && memcmp(got, want, wn) == 0);
}

static void fd_part(void)
{
    const char *name = "proc_self_fd_test.txt";
    int fd = open(name, O_CREAT | O_RDWR | O_TRUNC, 0644);
    check(fd >= 0, "create a file");
    char path[64], link[PATH_MAX], real[PATH_MAX];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    int same = realpath(name, real) != NULL && strcmp(link, real) == 0;
    check(same, "/proc/self/fd/N links to the file");
    close(fd);
    unlink(name);
    printf("fd: links to the file %d\n", same);
}

static void auxv_part(void)
{
    int fd = open("/proc/self/auxv", O_RDONLY);
    check(fd >= 0, "open /proc/self/auxv");
    Elf64_auxv_t v[128];
    size_t len = 0;
    ssize_t n;
    while (fd >= 0 && len < sizeof v && (n = read(fd, (char *)v + len, sizeof v - len)) > 0)
        len += (size_t)n;
    if (fd >= 0)
        close(fd);
    size_t count = len / sizeof v[0];
    int terminated = 0, pagesz = 0, entry = 0, phdr = 0, hwcap = 0, random = 0;
    for (size_t i = 0; i < count; i++) {
        uint64_t type = v[i].a_type, val = v[i].a_un.a_val;
        if (type == AT_NULL) {
            terminated = 1;
            break;
        }
        if (type == AT_PAGESZ)
            pagesz = val == 4096;
        if (type == AT_ENTRY)
            entry = val == getauxval(AT_ENTRY) && val == (uintptr_t)_start;
        if (type == AT_PHDR)
            phdr = val == getauxval(AT_PHDR);
        if (type == AT_HWCAP)
            hwcap = val == getauxval(AT_HWCAP);
        if (type == AT_RANDOM)
            random = val == getauxval(AT_RANDOM) && val != 0;
    }
    check(terminated, "auxv ends with AT_NULL");
    check(pagesz, "AT_PAGESZ is 4096");
    check(entry, "AT_ENTRY is getauxval(AT_ENTRY) and _start");
    check(phdr, "AT_PHDR is getauxval(AT_PHDR)");
    check(hwcap, "AT_HWCAP is getauxval(AT_HWCAP)");
    check(random, "AT_RANDOM is getauxval(AT_RANDOM)");
    printf("auxv: null %d pagesz %d entry %d phdr %d hwcap %d random %d\n", terminated, pagesz,
           entry, phdr, hwcap, random);
}

static void stat_part(void)
{
    FILE *f = fopen("/proc/self/stat", "r");
    long pid = -1;
    check(f != NULL && fscanf(f, "%ld", &pid) == 1, "read /proc/self/stat");
    if (f)
        fclose(f);
    check(pid == getpid(), "stat starts with the pid");
    printf("stat: pid matches %d\n", pid == getpid());
}

int main(int argc, char **argv)
{
    maps_part(base_name(argv[0]));
    exe_part(argv[0]);
    cmdline_part(argc, argv);
    fd_part();
    auxv_part();
    stat_part();
    printf(failures ? "FAIL\n" : "ok\n");
    return failures ? 1 : 0;
}
