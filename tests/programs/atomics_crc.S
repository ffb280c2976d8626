/* Hand-written AArch64: exclusive load/store loops (LDXR/STXR, LDAXR/STLXR), LSE atomics
 * (LDADD, SWP, CAS), and CRC32/CRC32C over a buffer; main prints the results with printf. */
        .arch armv8.2-a+crc+lse
        .text

/* uint64_t xadd(uint64_t *p, uint64_t v): adds with an LDXR/STXR loop, returns the old value. */
        .type xadd, %function
xadd:
1:      ldxr    x2, [x0]
        add     x3, x2, x1
        stxr    w4, x3, [x0]
        cbnz    w4, 1b
        mov     x0, x2
        ret
        .size xadd, .-xadd

/* uint32_t xchg32(uint32_t *p, uint32_t v): swaps with acquire/release exclusives. */
        .type xchg32, %function
xchg32:
1:      ldaxr   w2, [x0]
        stlxr   w3, w1, [x0]
        cbnz    w3, 1b
        mov     w0, w2
        ret
        .size xchg32, .-xchg32

/* uint64_t lse(uint64_t *p): LDADD, SWP and CAS on *p; returns a mix of the old values. */
        .type lse, %function
lse:
        mov     x1, #5
        ldaddal x1, x2, [x0]
        mov     x1, #1000
        swpal   x1, x3, [x0]
        mov     x4, #1000
        mov     x5, #77
        casal   x4, x5, [x0]
        mov     x6, #1
        mov     x7, #2
        cas     x6, x7, [x0]
        add     x0, x2, x3, lsl #8
        add     x0, x0, x4, lsl #20
        add     x0, x0, x6, lsl #40
        ret
        .size lse, .-lse

/* uint32_t crc(const uint8_t *p, uint64_t n, int castagnoli): CRC32 or CRC32C, in 8-byte
 * steps and then byte by byte, with the usual inversion. */
        .type crc, %function
crc:
        mov     w3, #-1
        cbnz    w2, 3f
1:      cmp     x1, #8
        b.lo    2f
        ldr     x4, [x0], #8
        crc32x  w3, w3, x4
        sub     x1, x1, #8
        b       1b
2:      cbz     x1, 6f
        ldrb    w4, [x0], #1
        crc32b  w3, w3, w4
        sub     x1, x1, #1
        b       2b
3:      cmp     x1, #4
        b.lo    4f
        ldr     w4, [x0], #4
        crc32cw w3, w3, w4
        sub     x1, x1, #4
        b       3b
4:      cmp     x1, #2
        b.lo    5f
        ldrh    w4, [x0], #2
        crc32ch w3, w3, w4
        sub     x1, x1, #2
        b       4b
5:      cbz     x1, 6f
        ldrb    w4, [x0], #1
        crc32cb w3, w3, w4
        sub     x1, x1, #1
        b       5b
6:      mvn     w0, w3
        ret
        .size crc, .-crc

        .globl main
        .type main, %function
main:
        stp     x29, x30, [sp, #-48]!
        mov     x29, sp
        stp     x19, x20, [sp, #16]
        stp     x21, x22, [sp, #32]
        adrp    x19, counter
        add     x19, x19, :lo12:counter
        mov     x20, #0
        mov     x21, #0
1:      mov     x0, x19
        add     x1, x20, #3
        bl      xadd
        add     x21, x21, x0
        add     x20, x20, #1
        cmp     x20, #100
        b.ne    1b
        adrp    x0, fmt_xadd
        add     x0, x0, :lo12:fmt_xadd
        ldr     x1, [x19]
        mov     x2, x21
        bl      printf

        adrp    x0, word
        add     x0, x0, :lo12:word
        mov     w1, #0x1234
        bl      xchg32
        mov     w1, w0
        adrp    x2, word
        ldr     w2, [x2, :lo12:word]
        adrp    x0, fmt_xchg
        add     x0, x0, :lo12:fmt_xchg
        bl      printf

        mov     x0, x19
        bl      lse
        mov     x1, x0
        ldr     x2, [x19]
        adrp    x0, fmt_lse
        add     x0, x0, :lo12:fmt_lse
        bl      printf

        adrp    x0, text
        add     x0, x0, :lo12:text
        mov     x1, #43
        mov     w2, #0
        bl      crc
        mov     w20, w0
        adrp    x0, text
        add     x0, x0, :lo12:text
        mov     x1, #43
        mov     w2, #1
        bl      crc
        mov     w2, w0
        mov     w1, w20
        adrp    x0, fmt_crc
        add     x0, x0, :lo12:fmt_crc
        bl      printf

        mov     w0, #0
        ldp     x21, x22, [sp, #32]
        ldp     x19, x20, [sp, #16]
        ldp     x29, x30, [sp], #48
        ret
        .size main, .-main

        .data
        .balign 8
counter: .quad  10
word:   .word   0xcafe
        .section .rodata
fmt_xadd: .asciz "xadd: counter %lu, sum of old values %lu\n"
fmt_xchg: .asciz "xchg: old %#x, now %#x\n"
fmt_lse:  .asciz "lse: mix %#lx, now %lu\n"
fmt_crc:  .asciz "crc32 %08x crc32c %08x\n"
text:     .ascii "The quick brown fox jumps over the lazy dog"
        .section .note.GNU-stack,"",%progbits
