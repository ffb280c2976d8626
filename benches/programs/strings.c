/* String processing: building, searching, copying and comparing text with libc functions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 300;
    static char text[1 << 16], copy[1 << 16];
    const char *words[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"};
    size_t len = 0;
    for (unsigned i = 0; len + 16 < sizeof text; i = i * 1103515245u + 12345u) {
        const char *w = words[(i >> 16) % 8];
        memcpy(text + len, w, strlen(w));
        len += strlen(w);
        text[len++] = ' ';
    }
    text[len] = 0;
    unsigned long hits = 0, total = 0;
    for (int r = 0; r < rounds; r++) {
        memcpy(copy, text, len + 1);
        copy[(r * 7919) % len] = 'X';
        for (const char *p = copy; (p = strstr(p, words[r % 8])); p++) hits++;
        total += strlen(copy) + (strcmp(copy, text) != 0) + (size_t)(strchr(copy, 'X') - copy);
        char *tok = copy, *save;
        while ((tok = strtok_r(tok, " ", &save))) { total += tok[0]; tok = NULL; }
    }
    printf("%lu %lu\n", hits, total);
    return 0;
}
