/* File I/O in the current directory (the test makes it a fresh temporary directory): stdio
 * (fopen, fprintf, fread, fseek, ftell, fgets), POSIX calls (open, read, write, lseek, pread,
 * pwrite, ftruncate, dup), rename, unlink, mkdir, opendir/readdir with sorted names, stat,
 * utimensat/futimens. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmp_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) {
        printf("opendir %s failed\n", dir);
        return;
    }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64)
        names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_name);
    printf("%s:", dir);
    for (int i = 0; i < n; i++) {
        struct stat st;
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (stat(path, &st) == 0)
            printf(" %s(%s,%lld)", names[i], S_ISDIR(st.st_mode) ? "dir" : "file",
                   S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size);
        free(names[i]);
    }
    printf("\n");
}

int main(void) {
    FILE *f = fopen("numbers.txt", "w");
    for (int i = 0; i < 1000; i++)
        fprintf(f, "%d %x %.2f\n", i, i * 31, i / 7.0);
    printf("ftell after write %ld\n", ftell(f));
    fclose(f);

    f = fopen("numbers.txt", "r");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, size / 2, SEEK_SET);
    char line[64];
    fgets(line, sizeof line, f);
    fgets(line, sizeof line, f);
    printf("size %ld middle line %s", size, line);
    rewind(f);
    char *all = malloc(size + 1);
    size_t got = fread(all, 1, size + 100, f);
    all[got] = 0;
    printf("fread %zu eof %d\n", got, feof(f));
    unsigned sum = 0;
    for (size_t i = 0; i < got; i++)
        sum = sum * 33 + (unsigned char)all[i];
    printf("content hash %08x\n", sum);
    fclose(f);

    int fd = open("raw.bin", O_CREAT | O_RDWR | O_TRUNC, 0644);
    unsigned char block[4096];
    for (int i = 0; i < 4096; i++)
        block[i] = (unsigned char)(i ^ (i >> 8));
    for (int k = 0; k < 5; k++)
        printf("write %zd\n", write(fd, block, sizeof block - k * 1000));
    printf("lseek end %lld\n", (long long)lseek(fd, 0, SEEK_END));
    printf("lseek set %lld\n", (long long)lseek(fd, 100, SEEK_SET));
    unsigned char rb[300];
    printf("read %zd first %u last %u\n", read(fd, rb, sizeof rb), rb[0], rb[299]);
    printf("lseek cur %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
    printf("pwrite %zd\n", pwrite(fd, "HELLO", 5, 5000));
    memset(rb, 0, sizeof rb);
    printf("pread %zd %.5s\n", pread(fd, rb, 10, 4998), rb + 2);
    printf("lseek cur after pread %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
    printf("ftruncate %d\n", ftruncate(fd, 7777));
    int fd2 = dup(fd);
    printf("dup lseek %lld\n", (long long)lseek(fd2, 0, SEEK_END));
    close(fd2);
    close(fd);
    lseek(fd, 0, SEEK_SET);
    printf("closed fd errno %s\n", errno == EBADF ? "EBADF" : "other");

    printf("mkdir %d\n", mkdir("sub", 0755));
    printf("mkdir again %d %s\n", mkdir("sub", 0755), errno == EEXIST ? "EEXIST" : "other");
    mkdir("sub/deeper", 0700);
    f = fopen("sub/a.txt", "w");
    fputs("alpha\n", f);
    fclose(f);
    f = fopen("sub/b.txt", "a");
    fputs("beta beta\n", f);
    fclose(f);
    f = fopen("sub/b.txt", "a+");
    fputs("more\n", f);
    fseek(f, 0, SEEK_SET);
    fgets(line, sizeof line, f);
    printf("a+ reads from start: %s", line);
    fclose(f);
    list(".");
    list("sub");
    printf("rename %d\n", rename("sub/a.txt", "sub/c.txt"));
    printf("unlink %d\n", unlink("sub/b.txt"));
    printf("unlink missing %d %s\n", unlink("sub/b.txt"), errno == ENOENT ? "ENOENT" : "other");
    printf("open missing %d %s\n", open("nope/x", O_RDONLY), errno == ENOENT ? "ENOENT" : "other");
    list("sub");
    struct stat st;
    printf("stat raw.bin %d size %lld reg %d\n", stat("raw.bin", &st), (long long)st.st_size,
           S_ISREG(st.st_mode));
    printf("access %d %d\n", access("raw.bin", R_OK), access("missing", F_OK));
    struct timespec times[2] = {{1000000000, 5}, {1234567890, 123456789}};
    printf("utimensat %d\n", utimensat(AT_FDCWD, "raw.bin", times, 0));
    stat("raw.bin", &st);
    printf("mtime %lld.%09ld atime %lld\n", (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
           (long long)st.st_atim.tv_sec);
    fd = open("raw.bin", O_RDONLY);
    struct timespec omit[2] = {{0, UTIME_OMIT}, {42, 0}};
    printf("futimens %d\n", futimens(fd, omit));
    fstat(fd, &st);
    printf("mtime %lld atime %lld\n", (long long)st.st_mtim.tv_sec, (long long)st.st_atim.tv_sec);
    close(fd);
    printf("utimensat missing %d %s\n", utimensat(AT_FDCWD, "missing", NULL, 0),
           errno == ENOENT ? "ENOENT" : "other");
    printf("rmdir nonempty %d\n", rmdir("sub"));
    printf("rmdir %d\n", rmdir("sub/deeper"));
    char cwd[4096];
    printf("getcwd ok %d\n", getcwd(cwd, sizeof cwd) != NULL);
    printf("chdir %d\n", chdir("sub"));
    printf("relative open %d\n", open("c.txt", O_RDONLY) >= 0);
    free(all);
    return 0;
}
