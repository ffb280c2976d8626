/* Prints a line, flushes through atexit handlers and exits with status 3.
 * exit: 3 */
#include <stdio.h>
#include <stdlib.h>

static void bye(void) { printf("atexit handler ran\n"); }

int main(void) {
    atexit(bye);
    printf("exiting with 3\n");
    exit(3);
}
