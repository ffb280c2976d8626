/* Prints the constant fields of sysinfo(2) (total memory and swap, the memory unit), which the
 * host provides under both armature and qemu-aarch64, and checks that the others are sane. */
#include <stdio.h>
#include <sys/sysinfo.h>

int main(void) {
    struct sysinfo info;
    int r = sysinfo(&info);
    printf("sysinfo %d size %zu\n", r, sizeof info);
    printf("totalram %llu totalswap %llu mem_unit %u\n",
           (unsigned long long)info.totalram * info.mem_unit,
           (unsigned long long)info.totalswap * info.mem_unit, info.mem_unit);
    printf("freeram <= totalram: %d procs > 0: %d uptime > 0: %d\n",
           info.freeram <= info.totalram, info.procs > 0, info.uptime > 0);
    printf("get_nprocs_conf > 0: %d\n", get_nprocs_conf() > 0);
    return 0;
}
