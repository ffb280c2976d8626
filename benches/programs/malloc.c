/* Allocation-heavy data structures: a binary search tree and linked lists, built and freed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct node { uint64_t key; struct node *l, *r; };

static struct node *insert(struct node *t, uint64_t k) {
    struct node **p = &t;
    while (*p) p = k < (*p)->key ? &(*p)->l : &(*p)->r;
    *p = calloc(1, sizeof **p);
    (*p)->key = k;
    return t;
}

static uint64_t sum_free(struct node *t, int depth, int *maxd) {
    if (!t) return 0;
    if (depth > *maxd) *maxd = depth;
    uint64_t s = t->key ^ (uint64_t)depth;
    s += sum_free(t->l, depth + 1, maxd) + sum_free(t->r, depth + 1, maxd);
    free(t);
    return s;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 20;
    uint64_t x = 88172645463325252ull, total = 0;
    int maxd = 0;
    for (int r = 0; r < rounds; r++) {
        struct node *t = NULL;
        for (int i = 0; i < 20000; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            t = insert(t, x % 1000003);
            char *s = malloc(16 + (x & 255));
            s[0] = (char)x;
            total += (unsigned char)s[0];
            free(s);
        }
        total += sum_free(t, 0, &maxd);
    }
    printf("%llu %d\n", (unsigned long long)total, maxd);
    return 0;
}
