/* BR to 0xffffffffffffffff after a loop hot enough for the JIT to compile: the fetch there
 * is a SIGSEGV (as under qemu-aarch64), which the handler reports. The empty entries of
 * armature's lookup tables once held that address: the interpreters ran an empty or the
 * first block again forever, and the JIT would have entered host address 0. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static void on_segv(int sig) {
    static const char msg[] = "SIGSEGV from the branch\n";
    (void)sig;
    write(1, msg, sizeof msg - 1);
    _exit(0);
}

int main(void) {
    unsigned long s = 0;
    for (int i = 0; i < 200000; i++) s += (unsigned long)i ^ (s >> 3);
    printf("%lu\n", s);
    fflush(stdout);
    signal(SIGSEGV, on_segv);
    __asm__ volatile("mov x1, #-1\n\tbr x1" ::: "x1", "memory");
    return 1;
}
