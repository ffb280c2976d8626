// A tiny static aarch64 Linux program: prints a greeting, sums 1..10 in a loop and exits
// with the sum's low bits (55). Rebuild hello.elf with examples/build.sh.
        .text
        .globl  _start
_start:
        mov     x0, #1                  // fd = stdout
        adr     x1, message
        mov     x2, #(message_end - message)
        bl      write
        mov     x3, #0                  // sum
        mov     x4, #1                  // i
loop:
        add     x3, x3, x4
        add     x4, x4, #1
        cmp     x4, #10
        b.le    loop
        and     w0, w3, #0xff
        mov     x8, #93                 // exit
        svc     #0

        .globl  write
write:
        mov     x8, #64                 // write(fd, buf, len)
        svc     #0
        ret

        .section .rodata
message:
        .ascii  "Hello from aarch64!\n"
message_end:
