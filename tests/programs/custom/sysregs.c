/* EL0 reads of system registers that Linux allows or emulates; tests/run.rs compares the
 * deterministic ones with qemu-aarch64 -cpu max. */
#include <stdio.h>
#include <sys/auxv.h>

#define MRS(name)                                                                              \
    ({                                                                                         \
        unsigned long v_;                                                                      \
        __asm__ volatile("mrs %0, " name : "=r"(v_));                                          \
        v_;                                                                                    \
    })

int main(void) {
    printf("hwcap cpuid %lu\n", (getauxval(AT_HWCAP) >> 11) & 1);
    printf("midr_el1 %#lx\n", MRS("midr_el1"));
    printf("mpidr_el1 %#lx\n", MRS("mpidr_el1"));
    printf("revidr_el1 %#lx\n", MRS("revidr_el1"));
    printf("id_aa64dfr0_el1 %#lx\n", MRS("id_aa64dfr0_el1"));
    printf("id_aa64afr0_el1 %#lx\n", MRS("id_aa64afr0_el1"));
    /* EL0 and EL1 read as AArch64-only in both. */
    printf("id_aa64pfr0_el1 el0/el1 %#lx\n", MRS("id_aa64pfr0_el1") & 0xff);
    printf("cntfrq_el0 %lu\n", MRS("cntfrq_el0"));
    /* The ID registers agree with AT_HWCAP (HWCAP_FP, ASIMD, AES, PMULL, SHA1, SHA2, CRC32,
     * ATOMICS). */
    unsigned long hw = getauxval(AT_HWCAP), pfr0 = MRS("id_aa64pfr0_el1");
    unsigned long isar0 = MRS("id_aa64isar0_el1");
    int ok = ((pfr0 >> 16 & 0xf) != 0xf) == !!(hw & 1) &&
             ((pfr0 >> 20 & 0xf) != 0xf) == !!(hw & 2) &&
             ((isar0 >> 4 & 0xf) >= 1) == !!(hw & 8) && ((isar0 >> 4 & 0xf) >= 2) == !!(hw & 16) &&
             ((isar0 >> 8 & 0xf) >= 1) == !!(hw & 32) && ((isar0 >> 12 & 0xf) >= 1) == !!(hw & 64) &&
             ((isar0 >> 16 & 0xf) >= 1) == !!(hw & 128) &&
             ((isar0 >> 20 & 0xf) >= 2) == !!(hw & 256);
    printf("id registers agree with hwcap %d\n", ok);
    unsigned long a = MRS("cntvct_el0");
    for (volatile int i = 0; i < 100000; i++) {
    }
    unsigned long b = MRS("cntvct_el0");
    printf("cntvct_el0 advances %d\n", b > a);
    return 0;
}
